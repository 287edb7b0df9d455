"""A benchmark given a bad option says so in argparse's one line and exits 2, before it generates
or runs anything: no traceback minutes in, and no silent default in place of what was typed
(`sort_speed.py --small 0` once ran 5000, `heic_speed.py --files 0` ran 40)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"
NOT_A_MODEL = "not a sorter model (expected MODEL.keras from `sorter train`, or its MODEL.tflite)"


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
    # One size was compared with itself: "peak RSS 200 / 200: 1.000x (target <= 1.2x) met".
    *(("large_folder.py", ["--sizes", sizes], f"argument --sizes: {sizes} is not two sizes or more, smallest "
       "first, e.g. 5000,20000 (the ratios compare the largest with the smallest)") for sizes in ("200", "400,200")),
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
    # A file that is there but no model: each of these once ran (8 s, or minutes) into a traceback.
    *((script, ["--model", "README.md"], f"argument --model: README.md: {NOT_A_MODEL}")
      for script in ("first_look.py", "input_sizes.py", "enlarged_photos.py", "sort_speed.py", "profile_sort.py")),
    ("review_page.py", ["--min-confidence", "2"], "argument --min-confidence: 2 is above 1"),
    ("review_page.py", ["--min-confidence", "-0.5"], "argument --min-confidence: -0.5 is below 0"),
    ("distribute_speed.py", ["--epochs", "1"], "argument --epochs: 1 is below 2"),  # the first is not timed
])
def test_a_bad_option_is_one_usage_line_and_exit_2(script: str, options: list[str], message: str) -> None:
    result = run(script, *options)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == f"{script}: error: {message}"
    assert result.stdout == ""


def test_a_folder_without_photos_is_one_usage_line_before_the_model_loads(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no photo here")
    result = run("review_thumbnails.py", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1] == (f"review_thumbnails.py: error: argument folders: {tmp_path}: "
                                              "no photos (.jpeg, .jpg, .png) in it")
    assert result.stdout == ""


@pytest.mark.parametrize("script", ["camera_roll.py", "named_cats_draws.py", "refit_evidence.py"])
def test_help_says_the_whole_first_paragraph_of_the_docstring(script: str) -> None:
    """--help once showed the docstring's first line, cut mid-sentence."""
    result = run(script, "--help")
    assert result.returncode == 0, result.stderr
    first_paragraph = " ".join(result.stdout.split("\n\n")[1].split())
    assert first_paragraph.endswith((".", "?", ")", ":")), first_paragraph


def test_journal_size_says_where_it_is_and_removes_its_folder_on_sigterm(tmp_path: Path) -> None:
    """Killed as `timeout` kills it, the journal benchmark leaves no temporary folder behind
    (at a million moves it holds about 500 MB), and it has said which CPU and step it was on."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, str(BENCHMARKS / "journal_size.py"), "--moves", "2000000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env)
    deadline = time.monotonic() + 60
    while not any(tmp_path.glob("*/folder/.sorter/*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any(tmp_path.iterdir()), "the benchmark never started its journal"
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143  # as a shell reports a command SIGTERM ended: 128 + 15
    assert err.splitlines()[-1] == "interrupted"  # as every benchmark says it (`running.as_script`)
    assert list(tmp_path.iterdir()) == []
    assert out.startswith("CPU: ")
    assert "writing the journal of 2,000,000 moves" in out


def test_make_photo_screens_takes_the_folder_that_holds_the_shared_datasets(tmp_path: Path) -> None:
    """README's `make_photo_screens.py build/photo-screens --count 1200 --shared /work/shared`
    once said `no photo found under /work/shared`: it wanted /work/shared/datasets itself. Either
    is taken now."""
    import cv2
    import numpy as np

    people = tmp_path / "shared" / "datasets" / "everyday-not-pets" / "people"
    people.mkdir(parents=True)
    photo = np.random.default_rng(0).integers(0, 256, (96, 64, 3), dtype=np.uint8)
    assert cv2.imwrite(str(people / "ccp_0001.jpg"), photo)

    for shared in (tmp_path / "shared", tmp_path / "shared" / "datasets"):
        out = tmp_path / "screens"
        result = run("make_photo_screens.py", str(out), "--count", "4", "--shared", str(shared))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("4 pictures from ") and result.stdout.endswith(f" in {out}\n")
        assert len(list(out.glob("*/*.jpg"))) == 4
        shutil.rmtree(out)
