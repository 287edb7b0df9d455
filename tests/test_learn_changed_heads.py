"""A `personal.npz` whose heads were changed since `sorter learn` wrote it, its key and report
kept (edited by hand, half rewritten by another tool): the next learn took its heads again as
its own fit, and sort and watch sorted with them. The file keeps a sha256 of what sort reads
now: sort refuses it in one line, watch keeps the heads it had, and learn says so and fits
them again. A file written before the digest is read as it was, and fitted again by the next
learn; one of the format written since, its digest removed with its heads edited, is changed
since learnt, not taken for an older file. Photos and the fake model as in test_learn."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import FeatureFake, tree
from test_learn import invoke, luna, new_photos, plan, roll_with_goats, sorted_and_corrected

from sorter.model import personal, personal_classifier


def changed() -> str:
    return (f"The saved personal model {personal.model_file()} was changed since it was learnt (its heads do not "
            "match their sha256); learnt it again from your examples.\n")


def refused(path: Path) -> str:
    return (f"Error: {path}: the personal model was changed since `sorter learn` saved it (its heads do not match "
            "their sha256); learn again (`sorter learn DIR`), or delete it with `sorter learn --forget`\n")


def edit(name: str, change: Callable[[np.ndarray], np.ndarray] | None) -> None:
    """personal.npz with the array `name` changed (None: left out), everything else, key and report
    included, as learn wrote it: as an editor or another tool would leave it."""
    with np.load(personal.model_file(), allow_pickle=False) as data:
        arrays = {n: data[n] for n in data.files}
    if change is None:
        del arrays[name]
    else:
        arrays[name] = change(arrays[name])
    with open(personal.model_file(), "wb") as file:
        np.savez(file, **arrays)


def nothing_new(stdout: str) -> str:
    return re.sub(r"\(\d+ new\)", "(0 new)", stdout, count=1)


def learnt_with_luna(tmp_path: Path, fake_model: Path):
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    for i in range(5):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 500 + i)
    first = invoke("learn", roll, "--model", fake_model)
    assert first.exit_code == 0 and "(11 new)" in first.stdout, first.output
    return roll, first


@pytest.mark.parametrize("name, change", [("kernel", lambda kernel: -kernel),  # cats for dogs
                                          ("pets_cat_threshold", lambda threshold: threshold + 1.0)])
def test_heads_changed_since_learnt_are_refused_by_sort_and_learnt_again(tmp_path: Path, fake_model, name,
                                                                         change) -> None:
    roll, first = learnt_with_luna(tmp_path, fake_model)
    later = new_photos(tmp_path / "later")
    sorted_before = plan(later, fake_model, "--name-pets")
    as_it_was = tree(later)
    edit(name, change)

    sort = invoke("sort", later, "--model", fake_model, "--name-pets")

    assert (sort.exit_code, sort.stdout, sort.stderr) == (1, "", refused(personal.model_file()))
    assert tree(later) == as_it_was  # nothing sorted with heads of unknown origin
    assert invoke("sort", later, "--model", fake_model, "--no-personal", "--dry-run").exit_code == 0

    again = invoke("learn", roll, "--model", fake_model)

    assert (again.exit_code, again.stdout) == (0, changed() + nothing_new(first.stdout)), again.output
    assert plan(later, fake_model, "--name-pets") == sorted_before
    settled = invoke("learn", roll, "--model", fake_model)  # its own fit now: taken again, said as the first
    assert (settled.exit_code, settled.stdout) == (0, nothing_new(first.stdout)), settled.output


def test_a_learn_with_nothing_placed_does_not_call_changed_heads_unchanged(tmp_path: Path, fake_model) -> None:
    learnt_with_luna(tmp_path, fake_model)
    untouched = roll_with_goats(tmp_path / "untouched", seed=1000)
    assert invoke("sort", untouched, "--model", fake_model, "--no-personal").exit_code == 0
    edit("bias", lambda bias: bias + 1.0)

    result = invoke("learn", untouched, "--model", fake_model)

    assert (result.exit_code, result.stdout) == (0, (
        "Nothing to learn: move a wrongly sorted photo where it belongs (or file your own into cats/ or dogs/), "
        "then learn again.\n"
        "The saved personal model was changed since it was learnt (its heads do not match their sha256): learn "
        "again a folder where you placed photos, or delete it with `sorter learn --forget`.\n")), result.output


def test_watch_keeps_the_heads_it_had_when_they_are_changed_under_it(tmp_path: Path, fake_model) -> None:
    learnt_with_luna(tmp_path, fake_model)
    follower = personal_classifier.Follower(FeatureFake(), fake_model, True)
    sorting_with = follower.classifier
    assert isinstance(sorting_with, personal_classifier.PersonalClassifier)
    edit("kernel", lambda kernel: -kernel)

    said = follower.check()

    assert said == (refused(personal.model_file())[len("Error: "):-1]
                    + f"; still sorting with model {fake_model} + 6 corrections + 1 named pet (Luna: 5 photos)")
    assert follower.classifier is sorting_with


def test_a_personal_model_written_before_the_digest_is_read_as_before_and_learnt_again_once(
        tmp_path: Path, fake_model) -> None:
    roll, first = learnt_with_luna(tmp_path, fake_model)
    later = new_photos(tmp_path / "later")
    sorted_before = plan(later, fake_model, "--name-pets")
    edit(personal.DIGEST, None)  # as learn wrote it before the digest: the first format, no sha256
    edit("format", lambda _: np.array(personal.FIRST_FORMAT))

    assert plan(later, fake_model, "--name-pets") == sorted_before
    again = invoke("learn", roll, "--model", fake_model)

    assert (again.exit_code, again.stdout) == (0, nothing_new(first.stdout)), again.output
    with np.load(personal.model_file(), allow_pickle=False) as data:
        assert str(data[personal.DIGEST]) == personal.heads_digest(data)
    assert plan(later, fake_model, "--name-pets") == sorted_before


def test_a_personal_model_of_this_format_with_its_digest_removed_is_changed_not_old(tmp_path: Path,
                                                                                    fake_model) -> None:
    roll, first = learnt_with_luna(tmp_path, fake_model)
    later = new_photos(tmp_path / "later")
    sorted_before = plan(later, fake_model, "--name-pets")
    as_it_was = tree(later)
    edit("kernel", lambda kernel: -kernel)  # cats for dogs, and the sha256 that would tell it removed
    edit(personal.DIGEST, None)

    sort = invoke("sort", later, "--model", fake_model, "--name-pets")

    assert (sort.exit_code, sort.stdout, sort.stderr) == (1, "", refused(personal.model_file()))
    assert tree(later) == as_it_was
    again = invoke("learn", roll, "--model", fake_model)
    assert (again.exit_code, again.stdout) == (0, changed() + nothing_new(first.stdout)), again.output
    assert plan(later, fake_model, "--name-pets") == sorted_before


def test_a_first_format_personal_model_with_a_digest_is_still_checked(tmp_path: Path, fake_model) -> None:
    learnt_with_luna(tmp_path, fake_model)
    later = new_photos(tmp_path / "later")
    with np.load(personal.model_file(), allow_pickle=False) as data:  # as learn wrote it with the first format
        arrays = {n: data[n] for n in data.files} | {"format": np.array(personal.FIRST_FORMAT)}
    arrays[personal.DIGEST] = np.array(personal.heads_digest(arrays))
    with open(personal.model_file(), "wb") as file:
        np.savez(file, **arrays)
    assert invoke("sort", later, "--model", fake_model, "--name-pets", "--dry-run").exit_code == 0
    edit("kernel", lambda kernel: -kernel)

    sort = invoke("sort", later, "--model", fake_model, "--name-pets")

    assert (sort.exit_code, sort.stdout, sort.stderr) == (1, "", refused(personal.model_file()))
