"""Ctrl-C part way: what each command that moves photos says, and that nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO, tree
from test_watch import noise_jpeg


def test_ctrl_c_in_a_sort_says_what_moved_and_how_to_undo_it(tmp_path: Path, tiny_model: Path) -> None:
    folder = tmp_path / "w eird ü"
    folder.mkdir()
    for i in range(400):
        (folder / f"p{i:03}.jpg").write_bytes(noise_jpeg(i, 32))
    before = tree(folder)
    journal = folder / ".sorter" / "journal.jsonl"
    sort = subprocess.Popen([sys.executable, "-m", "sorter", "sort", str(folder), "--model", str(tiny_model)],
                            cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    deadline = time.monotonic() + 60
    while not (journal.is_file() and b'"op": "done"' in journal.read_bytes()) and time.monotonic() < deadline:
        time.sleep(0.005)
    sort.send_signal(signal.SIGINT)
    stdout, stderr = sort.communicate(timeout=60)
    moved = sum(1 for kind in ("cats", "dogs") if (folder / kind).is_dir() for _ in (folder / kind).iterdir())
    assert sort.returncode == 130, stderr
    assert 0 < moved < 400, "the sort ended before Ctrl-C: give it more photos"
    assert stderr.splitlines()[-2:] == [f"Interrupted: moved {moved} file(s) before it stopped.",
                                        f"Undo with: sorter undo '{folder}'"]
    assert "Traceback" not in stderr and stdout == ""
    undo = subprocess.run([sys.executable, "-m", "sorter", "undo", str(folder)], cwd=REPO, text=True,
                          capture_output=True, timeout=60)
    assert undo.returncode == 0, undo.stderr
    assert f"Restored {moved} file(s)" in undo.stdout
    assert tree(folder) == before
