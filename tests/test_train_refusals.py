"""What a QA round of `sorter train` found: the bundled model replaced by a one-epoch retrain and
its reference set deleted; a balanced draw refused as unreadable while readable photos were
never tried; every epoch of a fine-tune starred as best; --help's example pointing nowhere."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import make_dataset, needs_weights, toy_photo, tree
from test_evaluate import truncated
from typer.testing import CliRunner

import sorter.config
from sorter.cli import app
from sorter.media.images import begins_as_image
from sorter.training.datasets import ALL_CLASSES, Split, split

runner = CliRunner()


def small_run(data: Path, out: Path, *extra: str) -> list[str]:
    """One epoch of the small from-scratch network at 32 px: seconds a run."""
    return ["train", str(data), "--out", str(out), "--backbone", "none", "--image-size", "32", "--batch-size", "8",
            "--epochs", "1", *extra]


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch) -> Path:
    """A copy of the package's models folder (its small files; the .keras a stand-in), taken
    for the bundled one: a run that went wrong must never write into the package itself."""
    models = tmp_path / "package" / "models"
    models.mkdir(parents=True)
    for path in sorter.config.BUNDLED_MODEL.parent.iterdir():
        if path.suffix in (".json", ".npz", ".png"):
            shutil.copy(path, models / path.name)
    (models / "default.keras").write_bytes(b"the shipped network")
    monkeypatch.setattr(sorter.config, "BUNDLED_MODEL", models / "default.keras")
    return models / "default.keras"


def test_the_bundled_model_is_never_the_out_of_a_training_run(tmp_path: Path, bundled: Path) -> None:
    """`--out` naming the bundled model replaced it with a one-epoch cats/dogs model (exit 0) and
    deleted its reference set, which `learn` needs: refused in one line, by whatever path it is
    named, with what to do instead, and nothing written."""
    data = make_dataset(tmp_path / "data", per_class=4)
    (tmp_path / "link").symlink_to(bundled.parent)
    before = tree(bundled.parent)
    for out in (bundled, tmp_path / "package" / "x" / ".." / "models" / "default.keras",
                tmp_path / "link" / "default.keras", bundled.parent / "DEFAULT.keras"):
        result = runner.invoke(app, small_run(data, out))
        assert result.exit_code == 2, result.output
        assert result.stderr == (
            f"Error: --out {out} is the bundled model, which sort, watch and learn use, and train never replaces it: "
            "give another --out (README's is build/v14/default.keras), then copy its files over the bundled ones\n")
        assert tree(bundled.parent) == before and sorted(bundled.parent.iterdir()) == sorted(
            bundled.parent / name for name in before)
    # Beside it, under another name, a model is trained as anywhere else.
    result = runner.invoke(app, small_run(data, bundled.parent / "mine.keras"))
    assert result.exit_code == 0, result.output
    assert tree(bundled.parent).items() >= before.items()


def test_an_unreadable_draw_is_replaced_by_another_photo_of_its_class(tmp_path: Path) -> None:
    """2 cats, and 8 dogs of which 6 are text files named .jpg: the balanced draw took 2 dogs
    blind, both text, and the run was refused (`no readable images in b3/Dog`) while 2 readable
    dogs were never tried. A draw that is no photo is replaced by the next dog."""
    data = tmp_path / "b3"
    rng = np.random.default_rng(0)
    for i in range(2):
        toy_photo(data / "Cat" / f"c{i}.jpg", "cat", rng)
        toy_photo(data / "Dog" / f"good{i}.jpg", "dog", rng)
    for i in range(6):
        (data / "Dog" / f"note{i}.jpg").write_text("not a photo\n")

    for seed in ("1", "3"):
        result = runner.invoke(app, small_run(data, tmp_path / f"y{seed}" / "m.keras", "--seed", seed))
        assert result.exit_code == 0, result.output
        training = json.loads((tmp_path / f"y{seed}" / "m.json").read_text())["training"]
        assert training["files_per_class_found"] == {"cat": 2, "dog": 8} and training["broken_files"] == []


def test_a_class_whose_drawn_photos_all_fail_to_decode_says_how_many_of_its_photos_were_tried(tmp_path: Path) -> None:
    """Photos that begin as JPEGs but are cut short are found only when decoded: the line says
    how many were tried, of how many, so that it does not read as '2 of the 3 that were tried'."""
    data = make_dataset(tmp_path / "data", per_class=2)
    for photo in (data / "Cat").iterdir():
        photo.unlink()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        truncated(data / "Cat" / name)

    result = runner.invoke(app, small_run(data, tmp_path / "m.keras", "--seed", "7"))

    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: no readable images in {data / 'Cat'} (the 2 files tried, of its 3, could not "
                             "be read): there must be photos of cats and of dogs\n")


def pets_and_notes(root: Path, cats: int, cat_notes: int, dogs: int) -> Path:
    """A PetImages folder: `cats` photos and `cat_notes` text files named .jpg in Cat/, `dogs` photos in Dog/."""
    rng = np.random.default_rng(0)
    for i in range(cats):
        toy_photo(root / "Cat" / f"c{i}.jpg", "cat", rng)
    for i in range(cat_notes):
        (root / "Cat" / f"note{i}.jpg").write_text("not a photo\n")
    for i in range(dogs):
        toy_photo(root / "Dog" / f"d{i}.jpg", "dog", rng)
    return root


def drawn(parts: Split, label: str) -> list[Path]:
    index = ALL_CLASSES.index(label)
    return [path for path, of in parts.train + parts.validation if of == index]


def test_non_pets_drawn_by_limit_are_replaced_as_pets_are_when_they_are_no_photos(tmp_path: Path) -> None:
    """`--limit 3` drew 3 non-pets blind from a folder half of text files named .jpg: some seeds
    trained on fewer non-pets than asked (the others broken files), one with all 3 text was
    refused ("no readable images in ... non-pets that cannot be read teach and measure
    nothing"). A draw that is no photo is replaced by the next non-pet, as a pet's is. (The
    split is train's and evaluate's; the from-scratch network trains no non-pets.)"""
    data = pets_and_notes(tmp_path / "data", cats=4, cat_notes=0, dogs=4)
    objects = tmp_path / "objects"
    rng = np.random.default_rng(1)
    for i in range(4):
        toy_photo(objects / "cups" / f"cup{i}.jpg", "other", rng)
        (objects / "cups" / f"note{i}.jpg").write_text("not a photo\n")

    for seed in range(8):
        others = drawn(split(data, 0.0, seed, 3, other_dirs=(objects,)), "other")
        assert len(others) == 3 and all(begins_as_image(path) for path in others), (seed, others)



def test_pets_are_balanced_on_the_photos_each_class_has_not_on_its_files(tmp_path: Path) -> None:
    """Cat/ held 2 photos and 2 text files named .jpg, Dog/ 4 photos: the cats were taken whole
    unread and the dogs cut to their 4, so a model was trained on 2 cats and 4 dogs. The
    balance now counts files that begin as photos, on both sides: 2 and 2."""
    data = pets_and_notes(tmp_path / "data", cats=2, cat_notes=2, dogs=4)

    for seed in range(4):
        parts = split(data, 0.0, seed)
        cats, dogs = drawn(parts, "cat"), drawn(parts, "dog")
        assert len(cats) == len(dogs) == 2 and all(map(begins_as_image, cats + dogs)), (seed, cats, dogs)

    result = runner.invoke(app, small_run(data, tmp_path / "m.keras", "--seed", "7"))
    assert result.exit_code == 0, result.output
    training = json.loads((tmp_path / "m.json").read_text())["training"]
    assert training["files_per_class_found"] == {"cat": 4, "dog": 4} and training["broken_files"] == []


def test_a_balance_too_small_to_train_on_says_it_counts_the_photos_that_begin_as_images(tmp_path: Path) -> None:
    """With one cat photo beside two text files, --validation-split 0.6 would hold out the one
    cat: refused before training, saying that the balance counts the files that begin as images
    (neither folder has 1 file)."""
    data = pets_and_notes(tmp_path / "data", cats=1, cat_notes=2, dogs=3)

    result = runner.invoke(app, small_run(data, tmp_path / "m.keras", "--validation-split", "0.6"))

    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"Error: {data / 'Cat'} and {data / 'Dog'} each have 1 photo that begins as an image (the balance counts those): "
        "with --validation-split 0.6 every one would be a validation photo, and no cat or dog would be left to train "
        "on; give each at least 2 photos, or a smaller --validation-split\n")
    assert not (tmp_path / "m.keras").exists()


def test_model_json_counts_files_as_files_and_evaluate_still_reads_older_models(tmp_path: Path) -> None:
    """model.json's `images_per_class_found` counted every file named as a photo, text files
    too (22 where Cat/ held 16 photos). Recorded now as `files_per_class_found` (and
    `other_files_found`), what they are; `evaluate --split validation` checks the folder by them,
    and by the old names for a model trained before."""
    data = pets_and_notes(tmp_path / "data", cats=5, cat_notes=2, dogs=7)
    out = tmp_path / "m.keras"
    assert runner.invoke(app, small_run(data, out, "--seed", "7")).exit_code == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["training"]["files_per_class_found"] == {"cat": 7, "dog": 7}
    assert meta["training"]["other_files_found"] == 0
    assert "images_per_class_found" not in meta["training"] and "other_images_found" not in meta["training"]
    evaluate = ["evaluate", str(data), "--model", str(out), "--split", "validation"]
    assert runner.invoke(app, evaluate).exit_code == 0

    training = meta["training"]  # as a model trained before this version recorded them
    training["images_per_class_found"] = training.pop("files_per_class_found")
    training["other_images_found"] = training.pop("other_files_found")
    out.with_suffix(".json").write_text(json.dumps(meta))
    assert runner.invoke(app, evaluate).exit_code == 0, "an older model's split is checked as before"
    toy_photo(data / "Dog" / "new.jpg", "dog", np.random.default_rng(3))
    changed = runner.invoke(app, evaluate)
    assert changed.exit_code == 2 and "is not the folder this model trained on (here 7 cat, 8 dog; it trained on " \
        "7 cat, 7 dog)" in changed.stderr, changed.output


def test_an_epoch_without_validation_photos_says_so_not_nan(tmp_path: Path) -> None:
    """`--validation-split 0` printed `val_loss nan  val_acc nan` on every epoch line, and ended
    it with `*` (the lowest validation loss) though there is none; `evaluate --split validation`
    of that model said `no images to evaluate in D (split: validation)`, as of an empty folder."""
    data = make_dataset(tmp_path / "data", per_class=8)

    result = runner.invoke(app, small_run(data, tmp_path / "m.keras", "--validation-split", "0"))

    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert "  no validation photos  " in line and "nan" not in result.output and "val_" not in line, line
    assert not line.rstrip().endswith("*"), line
    evaluated = runner.invoke(app, ["evaluate", str(data), "--model", str(tmp_path / "m.keras"),
                                    "--split", "validation"])
    assert (evaluated.exit_code, evaluated.stderr) == (
        2, "Error: --split validation: this model kept no validation photos (it was trained with "
        "--validation-split 0); use --split all or --split training\n"), evaluated.output


def test_an_empty_validation_split_of_a_few_photos_says_why(tmp_path: Path) -> None:
    """3 photos a class at --validation-split 0.1 hold out round(0.3) = none: `evaluate --split
    validation` said `no images to evaluate in D (split: validation)`, as of an empty folder."""
    data = make_dataset(tmp_path / "data", per_class=3)
    (data / "Cat" / "broken.jpg").unlink()
    out = tmp_path / "m.keras"
    trained = runner.invoke(app, small_run(data, out, "--validation-split", "0.1"))
    assert trained.exit_code == 0, trained.output

    result = runner.invoke(app, ["evaluate", str(data), "--model", str(out), "--split", "validation"])

    assert (result.exit_code, result.stderr) == (
        2, f"Error: --split validation: the model's validation split of {data} holds no photos: it had 6 photos, "
        "and --validation-split 0.1 kept none; use --split all\n"), result.output


def test_photos_in_the_non_pet_and_hold_out_folders_that_are_not_read_are_said(tmp_path: Path) -> None:
    """A link, a hidden photo, a photo in a hidden sub-folder of --holdout were passed over
    without a word: the note covered Cat/ and Dog/ only."""
    data = make_dataset(tmp_path / "data", per_class=8)
    held = tmp_path / "held"
    rng = np.random.default_rng(1)
    for name in ("cars/0.jpg", "cars/.1.jpg", ".cache/2.jpg", "food/3.jpg"):
        toy_photo(held / name, "cat", rng)
    (held / "cars" / "link.jpg").symlink_to(held / "cars" / "0.jpg")

    result = runner.invoke(app, small_run(data, tmp_path / "m.keras", "--holdout", str(held)))

    assert result.exit_code == 0, result.output
    assert (f"note: {held} has 1 photo in sub-folders (.cache/), 1 symbolic link named as photos (never followed) "
            "and 1 hidden photo (.name), which are not read (only the photos at the top of Cat/ and Dog/ are read, "
            "and of the non-pets those in sub-folders too, but never a hidden one nor one behind a link)"
            ) in " ".join(result.stderr.split()), result.stderr


def test_photos_training_does_not_read_are_said_in_one_line(tmp_path: Path) -> None:
    """Photos in Cat/2019/ were left out of training without a word."""
    data = make_dataset(tmp_path / "data", per_class=8)
    for i in range(2):
        toy_photo(data / "Cat" / "2019" / f"{i}.jpg", "cat", np.random.default_rng(i))

    result = runner.invoke(app, small_run(data, tmp_path / "m.keras"))

    assert result.exit_code == 0, result.output
    assert (f"note: {data / 'Cat'} has 2 photos in sub-folders (2019/), which are not read (only the photos at the "
            "top of Cat/ and Dog/ are read)") in " ".join(result.stderr.split()), result.stderr


def starred(output: str) -> list[bool]:
    """Whether each epoch line ends in `*` (a line may be wrapped at the console's width)."""
    text = " ".join(output.split())
    return [star == " *" for star in re.findall(r"epoch +\d+/\d+ .*? \d+s( \*)?(?= epoch| skipped| note|$)", text)]


def test_only_an_epoch_of_lowest_validation_loss_is_starred(tmp_path: Path) -> None:
    """`*` marks the epoch of the lowest validation loss so far, and state.json's best_epoch is
    the epoch of its best_val_loss; the summary says which epoch's weights were kept."""
    data = make_dataset(tmp_path / "data", per_class=8)
    out = tmp_path / "m.keras"
    result = runner.invoke(app, [*small_run(data, out, "--seed", "7"), "--epochs", "5",
                                 "--learning-rate", "0.05"])  # a rate that makes the loss jump about
    assert result.exit_code == 0, result.output
    state = json.loads((tmp_path / "m.checkpoints" / "state.json").read_text())
    losses = [epoch["val_loss"] for epoch in state["history"]]
    lowest = [loss < min(losses[:i], default=np.inf) for i, loss in enumerate(losses)]
    assert starred(result.stderr) == lowest and not all(lowest)  # measured: 0.48 2.76 0.94 0.55 0.29
    assert state["best_val_loss"] == min(losses) and state["best_epoch"] == 1 + losses.index(min(losses))
    assert state["kept_epoch"] == state["best_epoch"]
    assert f"kept epoch {state['best_epoch']}," in result.stdout


@needs_weights
def test_a_fine_tune_keeps_its_last_epoch_but_stars_only_its_lowest_loss(tmp_path: Path) -> None:
    """A fine-tune keeps its last epoch: every line was starred, a growing loss too, and after a
    resume state.json paired best_epoch 3 with epoch 1's loss."""
    data = make_dataset(tmp_path / "data", per_class=8)
    out = tmp_path / "m.keras"
    args = ["train", str(data), "--out", str(out), "--image-size", "64", "--batch-size", "16", "--seed", "7",
            "--learning-rate", "0.05"]
    first = runner.invoke(app, [*args, "--epochs", "1"])
    assert first.exit_code == 0, first.output
    result = runner.invoke(app, [*args, "--epochs", "3", "--resume"])
    assert result.exit_code == 0, result.output
    state = json.loads((tmp_path / "m.checkpoints" / "state.json").read_text())
    losses = [epoch["val_loss"] for epoch in state["history"]]
    assert state["best_val_loss"] == min(losses) and state["best_epoch"] == 1 + losses.index(min(losses))
    assert state["kept_epoch"] == 3 and "kept epoch 3," in result.stdout
    lowest = [loss < min(losses[:i], default=np.inf) for i, loss in enumerate(losses)]
    assert starred(first.stderr + result.stderr) == lowest


def test_the_help_example_names_the_folder_readme_describes() -> None:
    """`train --help` named `datasets/dogs-vs-cats-200`, a path found nowhere; README's train
    section takes "a folder laid out like Microsoft's PetImages". The examples say `PetImages/`,
    short enough to stay one pasteable command at 40 columns (test_narrow_terminal)."""
    for command in ("train", "evaluate"):
        result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert f"sorter {command} PetImages/ " in result.stdout
        assert "datasets/" not in result.stdout
