"""A benchmark given a bad option says so in argparse's one line and exits 2, before it generates
or runs anything: no traceback minutes in, and no silent default in place of what was typed
(`sort_speed.py --small 0` once ran 5000, `heic_speed.py --files 0` ran 40)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"


def run(script: str, *options: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCHMARKS / script), *options], capture_output=True, text=True,
                          timeout=120, cwd=REPO, env=env)


@pytest.mark.parametrize(("script", "options", "message"), [
    ("sort_speed.py", ["--small", "-5"], "argument --small: -5 is not at least 1"),
    ("sort_speed.py", ["--small", "0"], "argument --small: 0 is not at least 1"),
    ("sort_speed.py", ["--repeat", "0"], "argument --repeat: 0 is not at least 1"),
    ("sort_speed.py", ["--model", "/nonexistent.keras"], "argument --model: /nonexistent.keras: no such file"),
    ("sort_speed.py", ["--json-out", "/nonexistent/r.json"],
     "argument --json-out: /nonexistent/r.json: no folder /nonexistent to write it in"),
    ("heic_speed.py", ["--files", "0"], "argument --files: 0 is not at least 1"),
    ("large_folder.py", ["--sizes", "abc"], "argument --sizes: 'abc' is not a whole number"),
    ("large_folder.py", ["--sizes", "1000,0"], "argument --sizes: 0 is not at least 1"),
    ("large_folder.py", ["--workdir", "/nonexistent"], "argument --workdir: /nonexistent: no such folder"),
    ("journal_size.py", ["--moves", "0"], "argument --moves: 0 is not at least 1"),
    ("journal_size.py", ["--moves", "-5"], "argument --moves: -5 is not at least 1"),
    ("network_batch.py", ["--photos", "0"], "argument --photos: 0 is not at least 1"),
    ("network_batch.py", ["--workers", "-1"], "argument --workers: -1 is not at least 1"),
    ("network_batch.py", ["--model", "/nonexistent.keras"], "argument --model: /nonexistent.keras: no such file"),
    ("profile_sort.py", ["--small", "-1"], "argument --small: -1 is not at least 1"),
    ("profile_sort.py", ["--model", "/nonexistent.keras"], "argument --model: /nonexistent.keras: no such file"),
    ("enlarged_photos.py", ["--size", "1600"], "argument --size: '1600' is not WIDTHxHEIGHT, e.g. 1600x1200"),
    ("watch_latency.py", ["--gap", "-1"], "argument --gap: -1 is below 0"),
    ("reexport.py", ["/nonexistent.keras", "."], "argument model: /nonexistent.keras: no such file"),
    ("video_speed.py", ["--files", "3"], "unrecognized arguments: --files 3"),  # it has no options
])
def test_a_bad_option_is_one_usage_line_and_exit_2(script: str, options: list[str], message: str) -> None:
    result = run(script, *options)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == f"{script}: error: {message}"
    assert result.stdout == ""

