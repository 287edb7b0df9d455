"""sorter's reader gone (`sorter sort DIR | head -1`, `| true`, `sorter --help | head -1`): the
command finishes what it began (a sort its moves, journaled as they go), writes nothing more
to that pipe, and ends with its own status, without a word. It ended with status 1, as click
ends on a broken pipe, after all its work, and a `--jsonl` sort stopped at the next photo.

Each sorter runs as the console script starts it, in a process of its own, writing to a pipe
whose reader is closed before it starts: its every write meets the broken pipe."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SAMPLES, tree
from test_start_up import CONSOLE_SCRIPT

ENTRY = f"import sys\n{CONSOLE_SCRIPT}"
ENV = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "100"}


def into_a_closed_pipe(*args: str, cwd: Path, stderr_too: bool = False) -> subprocess.CompletedProcess:
    """`sorter ARGS | true`, and with `stderr_too`, `sorter ARGS 2>&1 | true`: the exit status,
    and stderr where it goes elsewhere."""
    reader, writer = os.pipe()
    os.close(reader)  # the reader left before sorter wrote a line
    try:
        return subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=cwd, stdout=writer,
                              stderr=writer if stderr_too else subprocess.PIPE, text=True, timeout=120, env=ENV)
    finally:
        os.close(writer)


@pytest.fixture
def pets(tmp_path: Path) -> Path:
    folder = tmp_path / "pets"
    shutil.copytree(SAMPLES, folder)
    return folder


@pytest.fixture
def sorted_as_usual(tmp_path: Path) -> dict[str, bytes]:
    """The sample photos as a sort whose output is read to the end leaves them."""
    usual = tmp_path / "usual"
    shutil.copytree(SAMPLES, usual)
    subprocess.run([sys.executable, "-c", ENTRY, "sort", str(usual)], capture_output=True, check=True, timeout=120,
                   env=ENV)
    return tree(usual)


@pytest.mark.parametrize("options", [[], ["--jsonl"], ["--json"], ["--verbose"]])
def test_a_sort_whose_reader_left_moves_every_photo_and_exits_0(pets: Path, tmp_path: Path, options: list[str],
                                                                sorted_as_usual: dict[str, bytes]) -> None:
    before = tree(pets)
    sort = into_a_closed_pipe("sort", str(pets), *options, cwd=tmp_path)
    assert sort.returncode == 0 and "Traceback" not in sort.stderr and "Error" not in sort.stderr, sort.stderr
    assert sort.stderr.count("\n") == (10 if options == ["--verbose"] else 0)  # each photo's line, in its place
    assert tree(pets) == sorted_as_usual
    undo = into_a_closed_pipe("undo", str(pets), cwd=tmp_path)
    assert (undo.returncode, undo.stderr) == (0, "")
    assert tree(pets) == before


def test_a_verbose_sort_with_both_streams_in_the_closed_pipe_exits_0(pets: Path, tmp_path: Path,
                                                                     sorted_as_usual: dict[str, bytes]) -> None:
    sort = into_a_closed_pipe("sort", str(pets), "--verbose", cwd=tmp_path, stderr_too=True)
    assert sort.returncode == 0
    assert tree(pets) == sorted_as_usual
    assert into_a_closed_pipe("undo", str(pets), cwd=tmp_path, stderr_too=True).returncode == 0


@pytest.mark.parametrize("args", [["--help"], ["sort", "--help"], ["--version"]])
def test_help_and_version_into_a_closed_pipe_exit_0(tmp_path: Path, args: list[str]) -> None:
    shown = into_a_closed_pipe(*args, cwd=tmp_path)
    assert (shown.returncode, shown.stderr) == (0, "")


@pytest.mark.parametrize("args", [["--help"], ["sort", "--help"]])
def test_the_first_line_of_help_is_its_usage(tmp_path: Path, args: list[str]) -> None:
    """`sorter --help | head -1` shows the usage, not the blank line rich pads it with."""
    shown = subprocess.run([sys.executable, "-c", ENTRY, *args], cwd=tmp_path, capture_output=True, text=True,
                           timeout=120, env=ENV)
    assert shown.stdout.startswith(" Usage: sorter "), shown.stdout[:80]
