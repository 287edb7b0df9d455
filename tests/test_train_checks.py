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
    assert result.stderr == (f"Error: no readable images in {data / 'Cat'} (the 2 files of its 3 tried could not "
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
