"""`sorter train` writes the model's reference set (MODEL.reference.npz), which `sorter learn`
needs to learn a named pet and to check corrections on: made only by
benchmarks/make_reference_set.py before, which a pip-installed user does not have. Saved with
the rest of the set, so an old model's is replaced (or removed, where the run makes none), and
a run stopped while making it leaves the model before it as it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import ctrl_c_at, make_dataset, needs_weights, toy_photo, tree
from test_learn import invoke, luna
from typer.testing import CliRunner

import sorter.training.reference as reference_module
from sorter.cli import app
from sorter.training.reference import Reference, read_reference, write_reference

runner = CliRunner()


def small_run(data: Path, out: Path, backbone: str, *extra: str) -> list[str]:
    """One epoch of the smallest run each backbone makes (as tests/test_train_checks.py trains)."""
    return ["train", str(data), "--out", str(out), "--backbone", backbone, "--image-size",
            "32" if backbone == "none" else "64", "--batch-size", "8", "--epochs", "1", "--seed", "7", *extra]


def counts(path: Path) -> dict[str, int]:
    """A reference set's photos per class."""
    reference = read_reference(path)
    return {name: int((reference.labels == i).sum()) for i, name in enumerate(reference.class_names)}


@pytest.fixture(scope="module")
def with_reference(tmp_path_factory) -> tuple[Path, Path, object]:
    """A from-scratch model whose (made by hand) reference set a one-epoch run on the ImageNet
    backbone then replaces: that run's data, its --out and its result."""
    root = tmp_path_factory.mktemp("reference")
    data = make_dataset(root / "data")
    out = root / "models" / "m.keras"
    assert runner.invoke(app, small_run(data, out, "none")).exit_code == 0
    out.with_suffix(".reference.npz").write_bytes(b"the features of an older network")
    return data, out, runner.invoke(app, small_run(data, out, "efficientnet-lite0"))


def test_a_run_over_a_model_with_a_reference_set_replaces_the_whole_set(tmp_path: Path) -> None:
    """An --out whose model had a reference set was refused ("train does not make a reference
    set"); now the run's set supersedes it: a from-scratch model, which has no pooled features
    and so no reference set, removes the old one, which would be read with the new network."""
    data = make_dataset(tmp_path / "data", per_class=4)
    out = tmp_path / "models" / "m.keras"
    assert runner.invoke(app, small_run(data, out, "none")).exit_code == 0
    out.with_suffix(".reference.npz").write_bytes(b"the features of an older network")

    result = runner.invoke(app, small_run(data, out, "none"))

    assert result.exit_code == 0, result.output
    assert not out.with_suffix(".reference.npz").exists()
    assert "reference set" not in result.output  # learn refuses a model without pooled features anyway


@needs_weights
def test_train_writes_the_reference_set_of_its_validation_photos(with_reference) -> None:
    data, out, result = with_reference
    assert result.exit_code == 0, result.output
    meta = json.loads(out.with_suffix(".json").read_text())
    validated = {kind["kind"]: kind["n"] for kind in meta["validation"]["by_kind"]}
    assert counts(out) == validated == meta["reference"]["photos"] == {"cat": 5, "dog": 5}
    assert read_reference(out).features.shape[1] == 1280  # the pooled features the head reads
    assert (f"Reference set for sorter learn {out.with_suffix('.reference.npz')} (5 cats, 5 dogs of the validation "
            "photos)") in result.stdout.splitlines()
    assert not [name for name in tree(out.parent) if name.startswith(".")]  # no temporary file left


@needs_weights
def test_sorter_learn_learns_a_named_pet_on_a_model_sorter_train_made(with_reference, tmp_path: Path) -> None:
    """The model a user trains: `learn` with cats/Luna/ reads its reference set, instead of "not
    learnt: this model has no reference set". Of 24 photos a class it holds 5 cats, too few to
    tell her from (`pets.MIN_REFERENCE`, tests/test_learn_reference_size.py learns her at 100),
    which her line says."""
    data, out, trained = with_reference
    assert trained.exit_code == 0, trained.output
    roll = tmp_path / "roll"
    rng = np.random.default_rng(3)
    for i in range(4):
        toy_photo(roll / f"cat{i}.jpg", "cat", rng)
        toy_photo(roll / f"dog{i}.jpg", "dog", rng)
    assert invoke("sort", roll, "--model", out).exit_code == 0
    for i in range(6):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)

    result = invoke("learn", roll, "--model", out)

    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("cats/Luna")]
    assert line == ("cats/Luna: 6 photos; not learnt: this model's reference set has only 5 cats to tell it from "
                    "(100 or more: train it with more photos, or a larger --validation-split)"), line
    assert "no reference set" not in result.stdout


@needs_weights
def test_ctrl_c_while_making_the_reference_set_leaves_the_model_before_it_whole(
    with_reference, tmp_path: Path, monkeypatch
) -> None:
    """Made inside the set's save: stopped there, no model is left that looks complete without
    its reference set, no part of one, and the model before it is as it was."""
    data, trained, result = with_reference
    assert result.exit_code == 0, result.output
    folder = tmp_path / "models"
    shutil.copytree(trained.parent, folder, ignore=shutil.ignore_patterns("*.checkpoints"))
    before = tree(folder)
    out = folder / trained.name
    monkeypatch.setattr(reference_module, "reference_of", ctrl_c_at(reference_module.reference_of, 1))

    stopped = runner.invoke(app, small_run(data, out, "efficientnet-lite0"))

    assert stopped.exit_code == 130, stopped.output
    assert stopped.stderr.splitlines()[-1].startswith("Interrupted. The epochs finished are kept")
    assert {name: data for name, data in tree(folder).items() if ".checkpoints" not in name} == before


@needs_weights
def test_a_run_without_validation_photos_says_it_made_no_reference_set(with_reference, tmp_path: Path) -> None:
    """--validation-split 0: no photo to make it of. Said in one line, with what it means for
    named pets; and the old model's reference set, of another network, is not left beside it."""
    data, trained, result = with_reference
    assert result.exit_code == 0, result.output
    out = tmp_path / "m.keras"
    for path in trained.parent.glob("m.*"):
        if path.is_file():
            shutil.copy(path, tmp_path / path.name)

    result = runner.invoke(app, small_run(data, out, "efficientnet-lite0", "--validation-split", "0"))

    assert result.exit_code == 0, result.output
    assert ("note: no reference set made (no validation photos): sorter learn cannot learn named pets with this "
            "model, nor check corrections against reference pets") in result.stderr.splitlines()
    assert not out.with_suffix(".reference.npz").exists() and "reference" not in json.loads(
        out.with_suffix(".json").read_text())


def test_a_reference_set_written_again_and_stopped_leaves_the_one_before_and_no_part(tmp_path: Path,
                                                                                    monkeypatch) -> None:
    """benchmarks/make_reference_set.py writes beside a model trained before train made one:
    Ctrl-C once the data is written, before the rename, left `.npz.tmp.npz` beside it."""
    path = tmp_path / "m.reference.npz"
    old = Reference(np.ones((2, 4), np.float32), np.array([0, 1]), ("cat", "dog"))
    write_reference(path, old)
    before = tree(tmp_path)
    monkeypatch.setattr(np, "savez_compressed", ctrl_c_at(np.savez_compressed, 1, after=True))

    with pytest.raises(KeyboardInterrupt):
        write_reference(path, Reference(np.zeros((3, 4), np.float32), np.array([0, 0, 1]), ("cat", "dog")))

    assert tree(tmp_path) == before
