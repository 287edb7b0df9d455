"""A standard stream the shell closed (`sorter sort DIR >&-`, `sorter sort DIR -n 2>&- > plan.txt`):
what would go there is dropped, everything else is written, and the command ends with its own
status. Python met a closed stdout or stderr as None, and sorter did its work, then ended in
`AttributeError: 'NoneType' object has no attribute 'flush'` with status 1 (a usage error's 2
lost), and with stderr closed the dry run's plan never reached stdout.

Each sorter runs as the console script starts it, in a process of its own, with the stream
closed before it starts, as the shell closes it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SAMPLES, tree
from test_start_up import CONSOLE_SCRIPT

FD = {"stdout": 1, "stderr": 2}
ENTRY = f"import sys\n{CONSOLE_SCRIPT}"


def sorter(*args: str, closed: str, cwd: Path) -> subprocess.CompletedProcess:
    """`sorter ARGS` with `closed` (stdout or stderr) closed, the other one captured."""
    fd = FD[closed]
    return subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"},
                          preexec_fn=lambda: os.close(fd))


@pytest.fixture
def pets(tmp_path: Path) -> Path:
    folder = tmp_path / "pets"
    shutil.copytree(SAMPLES, folder)
    return folder


def sorted_as_usual(folder: Path, tmp_path: Path) -> dict[str, bytes]:
    """The folder's files as a sort with every stream open leaves them."""
    usual = tmp_path / "usual"
    shutil.copytree(SAMPLES, usual)
    subprocess.run([sys.executable, "-c", ENTRY, "sort", str(usual)], cwd=tmp_path, capture_output=True,
                   check=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    return tree(usual)


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_a_sort_and_its_undo_with_a_closed_stream_finish_with_status_0(pets: Path, tmp_path: Path, closed: str) -> None:
    before = tree(pets)
    sort = sorter("sort", str(pets), closed=closed, cwd=tmp_path)
    assert (sort.returncode, sort.stderr if closed == "stdout" else "") == (0, "")
    if closed == "stderr":
        assert sort.stdout.startswith(f"Sorted {pets}\n"), sort.stdout
    assert tree(pets) == sorted_as_usual(pets, tmp_path) != before
    undo = sorter("undo", str(pets), closed=closed, cwd=tmp_path)
    said = f"Restored 7 files from 1 run in {pets}.\n"
    assert (undo.returncode, undo.stdout, undo.stderr) == (0, "" if closed == "stdout" else said, "")
    assert tree(pets) == before


def test_a_dry_run_with_stderr_closed_still_writes_its_plan(pets: Path, tmp_path: Path) -> None:
    plan = sorter("sort", str(pets), "--dry-run", closed="stderr", cwd=tmp_path)
    assert plan.returncode == 0
    assert plan.stdout.startswith(f"Plan for {pets}\n") and "would move to cats/" in plan.stdout, plan.stdout


def test_a_usage_error_with_stdout_closed_says_its_line_and_exits_2(tmp_path: Path) -> None:
    missing = sorter("sort", str(tmp_path / "nothere"), closed="stdout", cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (2, f"Error: folder not found: {tmp_path / 'nothere'}\n")


def test_version_with_stdout_closed_exits_0(tmp_path: Path) -> None:
    version = sorter("--version", closed="stdout", cwd=tmp_path)
    assert (version.returncode, version.stderr) == (0, "")
