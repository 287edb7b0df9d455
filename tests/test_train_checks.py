"""What `sorter train` refuses before it saves a model that learnt from the wrong photos: a
class none of whose photos can be read, pets in DATA_DIR's Other/, an --out that is no model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import make_dataset, needs_weights, toy_photo
from test_evaluate import truncated
from typer.testing import CliRunner

from sorter.cli import app

runner = CliRunner()


def small_run(data: Path, out: Path, backbone: str = "none") -> list[str]:
    """One epoch of the smallest run each backbone makes (as tests/test_train.py trains)."""
    return ["train", str(data), "--out", str(out), "--backbone", backbone, "--image-size",
            "32" if backbone == "none" else "64", "--batch-size", "8", "--epochs", "1", "--seed", "7"]


@pytest.mark.parametrize("backbone", ["none", pytest.param("efficientnet-lite0", marks=needs_weights)])
def test_a_class_whose_every_photo_cannot_be_read_is_refused_and_no_model_saved(tmp_path: Path, backbone: str) -> None:
    """A Cat/ of broken copies trained a model that learnt no cats (exit 0, its metadata saying
    it found 3 cats): refused where the photos are decoded (the feature cache; the small
    network's first epoch), as an empty Cat/ is, and nothing is left beside the photos: the
    backbone's feature cache (m.checkpoints/cache-64px/) stayed, of photos no run could use."""
    data = make_dataset(tmp_path / "data", per_class=4)
    for photo in (data / "Cat").iterdir():
        photo.unlink()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        truncated(data / "Cat" / name)

    result = runner.invoke(app, small_run(data, tmp_path / "m.keras", backbone))

    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: no readable images in {data / 'Cat'} (its 3 files could not be read): "
                             "there must be photos of cats and of dogs\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data"]


def test_the_photos_a_balanced_split_tried_are_the_ones_counted(tmp_path: Path) -> None:
    """With fewer dogs than cats, only as many cats are read as there are dogs: the line says so."""
    data = make_dataset(tmp_path / "data", per_class=2)
    for photo in (data / "Cat").iterdir():
        photo.unlink()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        truncated(data / "Cat" / name)

    result = runner.invoke(app, small_run(data, tmp_path / "m.keras"))

    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: no readable images in {data / 'Cat'} (the 2 files tried, of its 3, could not "
                             "be read): there must be photos of cats and of dogs\n")


def test_an_other_folder_holding_cats_or_dogs_is_refused_as_an_other_option_is(tmp_path: Path) -> None:
    """DATA/Other/cats/ was trained on as non-pets where `--other` with the same folder is refused."""
    data = make_dataset(tmp_path / "data", per_class=2)
    toy_photo(data / "Other" / "food" / "0.jpg", "other", np.random.default_rng(0))
    toy_photo(data / "Other" / "Dogs" / "x.jpg", "dog", np.random.default_rng(0))

    result = runner.invoke(app, small_run(data, tmp_path / "m.keras", "efficientnet-lite0"))

    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: {data / 'Other'} holds Dogs/: every photo in it counts as neither a cat nor "
                             "a dog; give folders of non-pets only\n")
    assert not list(tmp_path.glob("m.*"))


def test_non_pets_that_would_all_be_validation_photos_are_refused_before_anything_is_read(tmp_path: Path) -> None:
    """A one-photo Other/ at --validation-split 0.6 went whole to validation, and the run trained a
    three-way model with no non-pet to learn from (exit 0): refused, naming the folder and how
    many photos keep one for training, before a photo is decoded; nothing is left behind."""
    data = make_dataset(tmp_path / "data", per_class=4)
    toy_photo(data / "Other" / "food" / "0.jpg", "other", np.random.default_rng(0))

    result = runner.invoke(app, [*small_run(data, tmp_path / "m.keras", "efficientnet-lite0"),
                                 "--validation-split", "0.6"])

    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: {data / 'Other'} has 1 photo of non-pets: with --validation-split 0.6 every "
                             "one would be a validation photo (each kind, a sub-folder, is split apart), and no "
                             "non-pet would be left to train on; give one kind at least 2 photos, or a smaller "
                             "--validation-split\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data"]


def test_cats_and_dogs_that_would_all_be_validation_photos_are_refused_naming_the_smaller_class(tmp_path: Path) -> None:
    """Classes are balanced to the smaller: 2 dogs at --validation-split 0.9 held out every cat and
    every dog, and the run went on to train on nothing."""
    data = make_dataset(tmp_path / "data", per_class=4)
    for photo in sorted((data / "Dog").iterdir())[2:]:
        photo.unlink()

    result = runner.invoke(app, [*small_run(data, tmp_path / "m.keras"), "--validation-split", "0.9"])

    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: {data / 'Dog'} has 2 photos: with --validation-split 0.9 every one would be a "
                             "validation photo, and no cat or dog would be left to train on; give it at least 5 "
                             "photos, or a smaller --validation-split\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data"]


def test_a_limit_that_leaves_no_photo_to_train_on_is_refused_naming_it(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=4)

    result = runner.invoke(app, [*small_run(data, tmp_path / "m.keras"), "--validation-split", "0.6", "--limit", "1"])

    assert result.exit_code == 2, result.output
    assert result.stderr == ("Error: --limit 1 with --validation-split 0.6 holds out every photo for validation: no "
                             "cat or dog would be left to train on; give --limit 2 or more, or a smaller "
                             "--validation-split\n")


@pytest.mark.parametrize("field, value, said", [
    ("epochs", 0, "'--epochs': must be a whole number from 1 to 10000 (got 0)"),
    ("epochs", 99999999999999999999, "'--epochs': must be a whole number from 1 to 10000 (got 99999999999999999999)"),
    ("epochs", 2.5, "'--epochs': must be a whole number from 1 to 10000 (got 2.5)"),
    ("image_size", 16, "'--image-size': must be a whole number from 32 to 512 (got 16)"),
    ("seed", 2**32, "'--seed': must be a whole number from 0 to 4294967295 (got 4294967296)"),
    ("batch_size", 0, "'--batch-size': must be a whole number from 1 to 65536 (got 0)"),
    ("patience", -2, "'--patience': must be a whole number from 1 to 10000 (got -2)"),
    ("limit", 0, "'--limit': must be a whole number from 1 to 1000000000 (got 0)"),
])
def test_a_python_caller_of_train_is_held_to_the_command_line_s_ranges_in_its_words(
        tmp_path: Path, field: str, value: object, said: str) -> None:
    """`train.train` checked only `epochs < 1` (`must be a whole number, at least 1`): a Python
    caller's epochs=10**20 reached TensorFlow, a traceback after MODEL.checkpoints/ was made, and
    batch_size=0 or image_size=16 went on too. Every whole number is held to the range
    `sorter train` holds it to (`training.limits`), said in the same words, before anything is
    read or written."""
    from sorter.errors import OptionError
    from sorter.training import train as trainer
    from sorter.training.loop import TrainConfig

    make_dataset(tmp_path / "data", 2)
    with pytest.raises(OptionError) as refused:
        trainer.train(TrainConfig(tmp_path / "data", tmp_path / "model.keras", **{field: value}))

    assert str(refused.value) == f"Invalid value for {said}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing written


@pytest.mark.parametrize("field, option, value", [
    ("learning_rate", "--learning-rate", 0.0),
    ("learning_rate", "--learning-rate", 2.0),
    ("learning_rate", "--learning-rate", float("nan")),
    ("learning_rate", "--learning-rate", float("inf")),
    ("distill", "--distill", -1.0),
    ("distill", "--distill", 101.0),
    ("distill", "--distill", float("nan")),
    ("distill", "--distill", float("-inf")),
])
def test_a_python_caller_s_learning_rate_and_distill_are_held_to_the_command_line_s_ranges(
        tmp_path: Path, field: str, option: str, value: float) -> None:
    """`sorter train --learning-rate nan` was refused as it was parsed, but a Python caller's
    learning_rate=nan or distill=-1 went on to train (a model of nan weights, or one pushed away
    from ImageNet's answers). `check_options` holds both to the command line's ranges, in the
    command line's own words, before anything is read or written."""
    from sorter.errors import OptionError
    from sorter.training import train as trainer
    from sorter.training.loop import TrainConfig

    make_dataset(tmp_path / "data", 2)
    with pytest.raises(OptionError) as refused:
        trainer.train(TrainConfig(tmp_path / "data", tmp_path / "model.keras", **{field: value}))

    cli = runner.invoke(app, [*small_run(tmp_path / "data", tmp_path / "cli.keras"), option, str(value)])
    assert cli.exit_code == 2
    low, high = {"learning_rate": ("1e-06", "1"), "distill": ("0", "100")}[field]
    said = f"Invalid value for '{option}': {value} is not a number from {low} to {high}"
    assert str(refused.value) == said and said in " ".join(cli.stderr.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing written
