"""sorter's reader gone (`sorter sort DIR | head -1`, `| true`, `sorter --help | head -1`): the
command finishes what it began (a sort its moves, journaled as they go), writes nothing more
to that pipe, and ends with its own status, without a word. It ended with status 1, as click
ends on a broken pipe, after all its work, and a `--jsonl` sort stopped at the next photo.

Each sorter runs as the console script starts it, in a process of its own, writing to a pipe
whose reader is closed before it starts: its every write meets the broken pipe. And a pipe whose
reader is there but slow: a signal as it reads loses nothing of what a finished sort says."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
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


F_SETPIPE_SZ = 1031  # Linux's fcntl for a pipe's size, which Python 3.11's fcntl module does not name


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pipe's size is set on Linux alone")
@pytest.mark.parametrize("sent", ["SIGINT", "SIGTERM"])
def test_a_signal_as_a_slow_reader_reads_the_json_of_a_finished_sort_leaves_it_whole(
        tmp_path: Path, sent: str) -> None:
    # QA 42: `sorter sort DIR --json` into a 4 KiB pipe read 64 bytes at a time, a Ctrl-C (or
    # SIGTERM) sent as its first bytes were read: status 0, and 4,097 bytes of its JSON, cut in a
    # file's record, then a newline. The write the signal cut short was not written on.
    pets = tmp_path / ("pets, with a name long enough for the JSON to be more than the pipe holds " * 2).strip()
    shutil.copytree(SAMPLES, pets)
    reader, writer = os.pipe()
    fcntl.fcntl(writer, F_SETPIPE_SZ, 4096)
    sort = subprocess.Popen([sys.executable, "-c", ENTRY, "sort", str(pets), "--json"], cwd=tmp_path,
                            stdout=writer, stderr=subprocess.PIPE, env=ENV)
    os.close(writer)
    read, sent_at = b"", None
    while chunk := os.read(reader, 64):
        read += chunk
        if sent_at is None:  # the sort is done: its JSON is its only output, more than the pipe holds
            sort.send_signal(getattr(signal, sent))
            sent_at = len(read)
        time.sleep(0.01)
    os.close(reader)
    stderr = sort.communicate(timeout=120)[1].decode()

    assert (sort.returncode, stderr) == (0, "")
    assert len(read) > 4096 + sent_at  # still being written when the signal came
    said = json.loads(read)
    assert len(said["files"]) == 10 and said["undos"] == 1
