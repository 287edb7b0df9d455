"""A model's .npz files (its head, its evidence, its reference set) that do not read, however
they fail to (emptied, random bytes, one array saved as .npy under the name), are one line
naming the file, never a traceback: each is read through `model.arrays.opened`. So are its
.json and .tflite when emptied or replaced by a folder."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLES, npy_bytes
from test_evaluate import labelled
from test_learn import invoke, sorted_and_corrected

from sorter.config import BUNDLED_MODEL

DAMAGED = pytest.mark.parametrize("content, why", [
    (b"", "EOFError: No data left in file"),
    (bytes(range(200)), "not a file sorter wrote"),
    (npy_bytes(), "not a file sorter wrote"),
], ids=["empty", "random", "npy"])


def bundled_copy(folder: Path) -> Path:
    """The bundled model's set, copied as folder/m.*."""
    folder.mkdir()
    for file in BUNDLED_MODEL.parent.glob(f"{BUNDLED_MODEL.stem}.*"):
        shutil.copy(file, folder / file.name.replace(BUNDLED_MODEL.stem, "m", 1))
    return folder / "m.keras"


def sort_and_evaluate_say(tmp_path: Path, model: Path, line: str) -> None:
    """`sorter sort` of a copy of sample_images/ and `sorter evaluate` of a labelled folder, each
    with `model`, end with the one `line` on stderr, exit 1, nothing on stdout and nothing moved."""
    folder = tmp_path / "pets"
    shutil.copytree(SAMPLES, folder)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))

    sorting = invoke("sort", folder, "--model", model)
    evaluating = invoke("evaluate", labelled(tmp_path / "data"), "--model", model)

    for result in (sorting, evaluating):
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", line)
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # nothing moved


@DAMAGED
@pytest.mark.parametrize("part, says", [("head", "unreadable model head"),
                                        ("evidence", "cannot read the model's evidence file")])
def test_sort_and_evaluate_with_a_damaged_head_or_evidence_file_say_one_line(
    tmp_path: Path, content: bytes, why: str, part: str, says: str
) -> None:
    model = bundled_copy(tmp_path / "model")
    damaged = model.with_suffix(f".{part}.npz")
    damaged.write_bytes(content)
    sort_and_evaluate_say(tmp_path, model, f"Error: {damaged}: {says} ({why})\n")


@DAMAGED
def test_learn_with_a_damaged_reference_set_says_one_line(tmp_path: Path, fake_model, content: bytes,
                                                          why: str) -> None:
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    reference = fake_model.with_suffix(".reference.npz")
    reference.write_bytes(content)

    result = invoke("learn", roll, "--model", fake_model)

    assert (result.exit_code, result.stderr) == (1, f"Error: {reference}: unreadable reference set ({why})\n")


@pytest.mark.parametrize("part, damage, says", [
    # A folder was taken for no .json (an early cat/dog model's), and the fine .tflite blamed.
    ("json", "folder", "{damaged}: unreadable model metadata (Is a directory)"),
    # LiteRT's own word was "`model_path` or `model_content` must be specified."
    ("tflite", "empty", "{damaged}: cannot load model (an empty file)"),
    # "default.tflite not found beside …": something is there.
    ("tflite", "folder", "{damaged}: a folder, not a model file; `sorter train` writes it"),
    # LiteRT's own words for both were "The model is not a valid Flatbuffer buffer".
    ("tflite", "random", "{damaged}: cannot load model (not a file sorter wrote)"),
    ("tflite", "cut short", "{damaged}: cannot load model (cut short or damaged)"),
])
def test_sort_and_evaluate_with_a_damaged_json_or_tflite_name_it_in_one_line(
    tmp_path: Path, part: str, damage: str, says: str
) -> None:
    model = bundled_copy(tmp_path / "model")
    damaged = model.with_suffix(f".{part}")
    whole = damaged.read_bytes()
    damaged.unlink()
    if damage == "folder":
        damaged.mkdir()
    elif damage == "random":
        damaged.write_bytes(random.Random(0).randbytes(4096))
    elif damage == "cut short":
        damaged.write_bytes(whole[: len(whole) // 2])
    else:
        damaged.write_bytes(b"")
    sort_and_evaluate_say(tmp_path, model, f"Error: {says.format(damaged=damaged)}\n")
