"""The model that ships in the package: present, small, and as accurate as it says."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from conftest import SAMPLES, needs_dataset
from typer.testing import CliRunner

from sorter.cli import app
from sorter.config import BUNDLED_MODEL

runner = CliRunner()


def test_the_bundled_model_ships_with_its_metadata_and_is_small() -> None:
    assert BUNDLED_MODEL.is_file(), "run `sorter train` and copy the result to sorter/models/"
    assert BUNDLED_MODEL.stat().st_size < 8 * 2**20
    assert BUNDLED_MODEL.with_suffix(".tflite").stat().st_size < 2 * 2**20  # the int8 model sort runs
    meta = json.loads(BUNDLED_MODEL.with_suffix(".json").read_text())
    assert meta["class_names"] == ["cat", "dog"]
    assert meta["validation_accuracy"] >= 0.85 and meta["validation_n"] >= 1000
    # int8 costs at most a little accuracy against the float network it came from
    assert meta["validation_accuracy"] >= meta["validation_accuracy_float"] - 0.005
    assert meta["training"]["command"].startswith("sorter train ")


def test_sorting_the_sample_images_with_the_bundled_model(tmp_path: Path) -> None:
    folder = tmp_path / "pets"
    shutil.copytree(SAMPLES, folder)
    labels = {row["file"]: row["label"] for row in csv.DictReader((folder / "labels.csv").open())}
    result = runner.invoke(app, ["sort", str(folder)])
    assert result.exit_code == 0, result.output
    placed = {p.name: p.parent.name for p in folder.glob("*s/*")}
    assert set(placed) == set(labels)  # every photo moved, README and labels.csv untouched
    correct = sum(placed[name] == labels[name] + "s" for name in labels)
    assert correct >= len(labels) - 1, placed


@needs_dataset
def test_evaluate_reproduces_the_bundled_models_recorded_accuracy() -> None:
    from conftest import DATASET

    result = runner.invoke(app, ["evaluate", str(DATASET), "--split", "validation", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    meta = json.loads(BUNDLED_MODEL.with_suffix(".json").read_text())
    assert report["n"] == meta["validation_n"]
    assert abs(report["accuracy"] - meta["validation_accuracy"]) < 1e-9
