"""A labelled folder, class folder or folder of non-pets that `train` or `evaluate` cannot read
is one `Error: cannot read FOLDER: Permission denied` line (exit 2), as `sort` says it: it was a
PermissionError's traceback, or (a kind in Other/ that could not be read) left out without a word."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, make_dataset, without_root_powers, write_image


def sorter(unreadable: Path, *args: str) -> subprocess.CompletedProcess:
    command = [*without_root_powers(unreadable), sys.executable, "-m", "sorter", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=120)


@pytest.fixture
def data(tmp_path: Path):
    folder = make_dataset(tmp_path / "data", per_class=2)
    yield folder
    for path in (folder, folder / "Cat", folder / "Other" / "cars"):  # for tmp_path's clean-up
        if path.exists():
            path.chmod(0o755)


TRAIN = ["train", "--backbone", "none", "--epochs", "1"]


@pytest.mark.parametrize("command, unreadable", [
    ("evaluate", "data"), ("evaluate", "data/Cat"), ("evaluate", "data/Other/cars"), (TRAIN, "data"),
    (TRAIN, "data/Cat"),
], ids=["evaluate-data", "evaluate-class", "evaluate-other-kind", "train-data", "train-class"])
def test_a_folder_that_cannot_be_read_is_named_in_one_line(tmp_path: Path, data: Path, command: str | list[str],
                                                           unreadable: str) -> None:
    write_image(data / "Other" / "cars" / "car.png", (0, 255, 0))
    write_image(data / "Other" / "food" / "cake.png", (0, 255, 0))
    folder = tmp_path / unreadable
    if command == "evaluate":
        args = ["evaluate", str(data), "--no-personal"]
    else:
        (data / "Other").rename(tmp_path / "Other")  # the small network trains cats and dogs only
        args = [*command, str(data), "--out", str(tmp_path / "m.keras")]
    folder.chmod(0)  # after the rename, which a user (not root) may not make out of a folder of mode 0

    result = sorter(folder, *args)

    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"Error: cannot read {folder}: Permission denied\n")
