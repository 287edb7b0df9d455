"""`sorter learn` where there is nothing new to learn (found by a QA pass): a sorted folder
where the user placed nothing is neither fitted nor saved, and says so in one line; a learn
that forgot the only photo placed says what it did, not "nothing to learn". Photos and the
fake model as in test_learn."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from test_learn import invoke, luna, photo, plan, roll_with_goats, sorted_and_corrected

from sorter.model import lite, personal


def test_a_sorted_folder_where_nothing_was_placed_is_not_fitted_again(tmp_path: Path, fake_model) -> None:
    # Its photos kept as sorted are found too (anchors): it printed "Found 0 photo(s) you placed
    # in … (0 new)", the table, and saved the personal model again, at every learn.
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    assert invoke("learn", roll, "--model", fake_model).exit_code == 0
    saved = personal.model_file().stat().st_mtime_ns
    untouched = roll_with_goats(tmp_path / "untouched", seed=1000)
    assert invoke("sort", untouched, "--model", fake_model).exit_code == 0

    for _ in range(2):
        result = invoke("learn", untouched, "--model", fake_model)

        assert (result.exit_code, result.stdout) == (0, (
            "Nothing to learn: move a wrongly sorted photo where it belongs (or file your own into cats/ or dogs/), "
            "then learn again. Your personal model is unchanged.\n")), result.output
        assert personal.model_file().stat().st_mtime_ns == saved


def test_a_learn_that_forgot_the_only_photo_placed_says_what_it_did_and_no_advice(tmp_path: Path,
                                                                                   fake_model) -> None:
    # It said "Nothing to learn: N2 has no sorter journal: sort it …, then learn again." between
    # the photo it forgot and the model it deleted.
    never_sorted = tmp_path / "N2"
    filed = photo(never_sorted / "cats" / "cat.png", "cat", 7)
    assert invoke("learn", never_sorted, "--model", fake_model).exit_code == 0
    assert personal.model_file().exists()
    filed.unlink()

    result = invoke("learn", never_sorted, "--model", fake_model)

    assert (result.exit_code, result.stdout) == (0, (
        f"Forgot 1 photo you placed in {never_sorted}, learnt before: not in it now (deleted, edited or moved out "
        "since).\n"
        "Deleted the personal model: nothing you placed is left to learn from (sort, watch and evaluate use the "
        "model's own decisions again).\n")), result.output
    assert not personal.model_file().exists()


def test_a_folder_learnt_again_with_nothing_new_is_not_fitted_nor_looked_at_again(tmp_path: Path, fake_model,
                                                                                    monkeypatch) -> None:
    # QA: a 445-photo folder learnt again with nothing new took 26 s after 15 s the first time: every
    # head and fold fitted again, and the photos the model is unsure of run through the network again,
    # for the same answer. Learnt again, it says the same and sorts the same, the network never run.
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    for i in range(5):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 500 + i)
    unsure = np.full((32, 32, 3), (150, 30, 150), np.uint8)  # as red as blue: a cat or a dog, the model cannot say
    cv2.imwrite(str(roll / "cats" / "purple.png"), unsure)
    first = invoke("learn", roll, "--model", fake_model)
    assert first.exit_code == 0, first.output
    assert "(12 new)" in first.stdout and "added -> cat " in first.stdout
    test = roll_with_goats(tmp_path / "test", seed=2000)
    sorted_before = plan(test, fake_model, "--name-pets")
    network, runs = lite.load_classifier(fake_model), []
    for method in ("run", "predict"):
        monkeypatch.setattr(network, method, lambda batch, run=getattr(network, method): runs.append(1) or run(batch))

    again = invoke("learn", roll, "--model", fake_model)

    assert (again.exit_code, again.stdout) == (0, first.stdout.replace("(12 new)", "(0 new)")), again.output
    assert runs == []
    assert plan(test, fake_model, "--name-pets") == sorted_before


def test_a_fit_report_that_does_not_read_back_is_fitted_again_not_a_traceback(tmp_path: Path, fake_model) -> None:
    # QA: personal.npz's fit report edited by hand, its key kept ("garbage", "{}", a pet's field
    # too many): every learn ended in a JSONDecodeError, KeyError or TypeError until the key changed.
    from sorter.model import personal

    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    first = invoke("learn", roll, "--model", fake_model)
    assert first.exit_code == 0, first.output
    for damaged in ("garbage", "{}", "7"):
        with np.load(personal.model_file(), allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        arrays["fit_report"] = np.array(damaged)
        with open(personal.model_file(), "wb") as file:
            np.savez(file, **arrays)

        again = invoke("learn", roll, "--model", fake_model)

        assert (again.exit_code, again.stdout) == (0, first.stdout.replace("(6 new)", "(0 new)")), again.output
