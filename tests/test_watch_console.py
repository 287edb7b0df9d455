"""`sorter watch` outlives its console: a real watcher process whose stderr goes to a pipe the
reader closes (`sorter watch DIR 2>&1 | head -3`) or to a terminal that hangs up (a window
closed under a watch run with `nohup`, an ssh session gone). It ended at its next line
(`Error: ...: Broken pipe`, exit status 1); it goes on sorting, with its lines in --log-file.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import REPO, wait_until


def jpeg(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", pixels)[1].tobytes()


def sorted_to(root: Path, name: str) -> Path | None:
    return next((root / folder / name for folder in ("cats", "dogs") if (root / folder / name).is_file()), None)



def read_until(fd: int, text: bytes, timeout: float) -> bytes:
    """What the watcher wrote to its console, up to `text`."""
    seen, deadline = b"", time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # a terminal whose other end exited
                break
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.parametrize("console", ["pipe", "pipe with FORCE_COLOR", "terminal"])
def test_a_watch_goes_on_sorting_when_its_console_is_gone(tmp_path: Path, tiny_model: Path, console: str) -> None:
    inbox, log = tmp_path / "inbox", tmp_path / "watch.log"
    inbox.mkdir()
    reader, writer = pty.openpty() if console == "terminal" else os.pipe()
    # FORCE_COLOR: rich writes to the pipe as to a terminal, and met its end by exiting.
    colour = {"FORCE_COLOR": "1"} if "FORCE_COLOR" in console else {}
    process = subprocess.Popen(
        [sys.executable, "-m", "sorter", "watch", str(inbox), "--model", str(tiny_model), "--log-file", str(log)],
        stdin=subprocess.DEVNULL, stdout=writer, stderr=writer, cwd=REPO,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **colour},
    )
    os.close(writer)
    try:
        shown = read_until(reader, b"watching ", 60)
        assert b"watching " in shown, shown.decode(errors="replace")
        os.close(reader)  # `head` has its lines; the terminal is closed
        photos = {"first.jpg": jpeg(1), "second.jpg": jpeg(2)}
        for name, data in photos.items():  # the first line after it fails; the second must not matter either
            (inbox / name).write_bytes(data)
            assert wait_until(lambda name=name: sorted_to(inbox, name) is not None, 15), log.read_text()
            assert sorted_to(inbox, name).read_bytes() == data  # type: ignore[union-attr]
        assert process.poll() is None, log.read_text()
        process.send_signal(signal.SIGTERM)  # and it still stops as asked, with its summary
        assert process.wait(15) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = [line.split(" ", 2)[2] for line in log.read_text().splitlines()]
    gone = "Input/output error" if console == "terminal" else "Broken pipe"
    assert lines[1] == f"the console is gone ({gone}): lines go on to this file alone"
    assert [line.split(" -> ")[0] for line in lines[2:4]] == ["moved first.jpg", "moved second.jpg"]
    assert lines[-1].startswith(f"stopped watching {inbox}: moved 2 files")
    assert not any("Error" in line or "Traceback" in line for line in lines)
