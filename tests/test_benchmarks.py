"""The benchmarks keep running as sorter's API changes.

README promises targets "shown in benchmarks, runnable by anyone"; a benchmark that crashes
shows nothing, and two did so unnoticed (`profile_sort.py` after `images._check` gained
an argument; `heic_speed.py`'s sort rows, counting only `.jpg` names as photos left in place).
So every script in benchmarks/ runs here as a subprocess, as a user runs it: those that finish
in a few seconds with their smallest arguments do so, the rest answer `--help` (which imports
them, so a name they import that has gone is caught). Each must exit 0 without a traceback.
The whole file takes about 40 s on 2 cores. None of the quick runs needs ../shared/datasets.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"
SAMPLES = REPO / "sample_images"


#: The benchmarks that run in under about 10 s here, with the arguments that make them so
#: (`{tmp}`: a fresh folder). Every other one answers --help: its smallest run takes longer
#: (sorts at N and 2N, a model loaded per subprocess, encoding HEIC or video), or needs
#: ../shared/datasets. large_folder.py runs in a test of its own below, which reads its output.
QUICK_RUNS: dict[str, list[str]] = {
    "undo_whereabouts.py": ["--photos", "20", "--own", "20", "--moves", "40"],
    "pet_folders_cost.py": ["--folders", "3", "--photos", "20", "--pets", "1", "--rounds", "1"],
    "journal_size.py": ["--moves", "1000"],
    "make_text_graphics.py": ["{tmp}/graphics", "--count", "3"],
    "review_server.py": ["--photos", "20", "--clicks", "1"],
}


def missing(script: str) -> str | None:
    """Why a quick run cannot happen on this machine, or None."""
    if script == "review_server.py" and (importlib.util.find_spec("playwright") is None
                                         or shutil.which("chromium") is None):
        return "review_server.py drives chromium through playwright; one of them is not installed"
    return None


def run(script: str, args: list[str]) -> subprocess.CompletedProcess:
    """`python benchmarks/SCRIPT ARGS` from the repository, importing this checkout's sorter."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    try:
        return subprocess.run([sys.executable, str(BENCHMARKS / script), *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script} {' '.join(args)} still running after {exc.timeout:.0f} s (it should take seconds)")


@pytest.mark.parametrize("script", sorted(p.name for p in BENCHMARKS.glob("*.py")))
def test_every_benchmark_runs_without_a_traceback(script: str, tmp_path: Path) -> None:
    if script in QUICK_RUNS and (reason := missing(script)):
        pytest.skip(reason)
    args = [a.replace("{tmp}", str(tmp_path)) for a in QUICK_RUNS.get(script, ["--help"])]
    done = run(script, args)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 0, f"{script} {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}"


def test_large_folder_moves_every_pet_photo_and_puts_every_one_back(tmp_path: Path) -> None:
    """README's claim: "every file really moved", and after undo --all "every file back"."""
    done = run("large_folder.py", ["--sizes", "20,40", "--workdir", str(tmp_path)])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "20 moved into cats/ and dogs/" in done.stdout
    assert "40 moved into cats/ and dogs/" in done.stdout
    assert "every file back: True" in done.stdout
    # A target is met only with the check it rests on: never "met" beside a failed one.
    assert "False" not in done.stdout
    # 0.4 s for 40 files is start-up: not held to 120 s per 400,000 (it said MISSED, all being well).
    assert "(the target, 120 s per 400k, applies from 100,000 files: below, start-up is most of the time)" in done.stdout
    assert "MISSED" not in done.stdout.splitlines()[-1]


def test_profile_sort_times_each_stage_of_real_photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stages are timed through sorter's own functions (the header checks included), so a
    change to their signatures shows here, not half-way through a two-minute run."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import profile_sort

    from sorter.model import lite

    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("photo-03.jpg", "photo-04.jpg"):
        shutil.copyfile(SAMPLES / name, folder / name)
    parts = profile_sort.stages(folder, lite.load_classifier(profile_sort.BUNDLED_MODEL))
    assert {"read the file", "header checks", "int8 network", "filing: journal + fsync + move"} <= parts.keys()
    assert all(ms >= 0 for ms in parts.values())
    assert sorted(p.name for p in folder.iterdir()) == ["photo-03.jpg", "photo-04.jpg"]  # the stages move copies


def test_the_90th_percentile_is_never_below_the_median(monkeypatch: pytest.MonkeyPatch) -> None:
    """watch_latency.py printed "median 169 ms, p90 157 ms" of two files: it took the element at
    int(0.9 * (n - 1)), the smallest of two."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import running

    assert running.p90([0.181, 0.157]) == 0.181
    assert running.p90([5.0]) == 5.0
    assert running.p90([float(i) for i in range(1, 11)]) == 9.0
    assert running.p90([float(i) for i in range(1, 101)]) == 90.0


def test_a_timed_sort_counts_photos_left_in_place_whatever_their_extension(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """heic_speed.py's sort rows sort HEICs the model calls neither: they stay, and count as
    classified, as a JPEG left in place does (here: the two sample PNGs of neither)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import running

    source = tmp_path / "source"
    source.mkdir()
    for name in ("photo-08.png", "photo-09.png", "photo-03.jpg"):
        shutil.copyfile(SAMPLES / name, source / name)
    result = running.sort_run(source, 3, tmp_path, running.BUNDLED_MODEL)
    assert (result["files"], result["neither"]) == (3, 2)



def processes_naming(folder: Path) -> dict[int, str]:
    """The processes still running whose command line names `folder` (Linux's /proc): pid -> it."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        if str(folder) in command:
            found[int(entry.name)] = command
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").is_file(), reason="finds the watcher by its command line in /proc")
@pytest.mark.parametrize("ending", ["the watcher fails", "Ctrl-C"])
def test_watch_latency_leaves_no_folder_and_no_watcher_behind(ending: str, tmp_path: Path) -> None:
    """However its run ends, watch_latency.py removes its temporary folder (once ~3.4 MB left in
    /tmp a run) and stops the `sorter watch` it started: here when that watcher cannot load its
    model, and when the user presses Ctrl-C while it watches, which it answers with one line,
    `interrupted`, and status 130 (it once ended in a traceback, status -2)."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    model = REPO / "sorter" / "models" / "default.keras"
    if ending == "the watcher fails":
        (tmp_path / "broken.keras").symlink_to(model)
        shutil.copyfile(model.with_suffix(".json"), tmp_path / "broken.json")
        (tmp_path / "broken.tflite").write_text("not a model")
        model = tmp_path / "broken.keras"
    # Output to a file, not a pipe: a watcher left running would hold a pipe open.
    with open(tmp_path / "stderr", "w") as stderr:
        benchmark = subprocess.Popen([sys.executable, str(BENCHMARKS / "watch_latency.py"), "--model", str(model),
                                      "--files", "1000"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        if ending == "Ctrl-C":
            deadline = time.monotonic() + 60
            while not any(b"watching " in log.read_bytes() for log in temp.glob("watch-latency-*/stderr")):
                assert benchmark.poll() is None and time.monotonic() < deadline, "the watcher never started"
                time.sleep(0.05)
            assert processes_naming(temp)  # the watcher, watching a folder in there
            benchmark.send_signal(signal.SIGINT)
        benchmark.wait(60)
    finally:
        if benchmark.poll() is None:
            benchmark.kill()
            benchmark.wait()
        left = processes_naming(temp)
        for pid in left:  # a watcher left running fails the test below, and stops here
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if ending == "Ctrl-C":  # one line, as a shell reports a command Ctrl-C ended: 128 + SIGINT
        assert (tmp_path / "stderr").read_text() == "interrupted\n"
        assert benchmark.returncode == 130
    else:
        assert benchmark.returncode == 1
        assert "broken.tflite: cannot load model" in (tmp_path / "stderr").read_text()
    assert list(temp.iterdir()) == []
    assert left == {}


def test_every_benchmark_runs_its_main_through_as_script() -> None:
    """Ctrl-C in any benchmark says `interrupted` and exits 130 (`running.as_script`), as the
    test above pins for watch_latency.py: never a KeyboardInterrupt traceback."""
    scripts = [p for p in BENCHMARKS.glob("*.py") if 'if __name__ == "__main__":' in p.read_text()]
    assert scripts
    assert [p.name for p in scripts if not p.read_text().endswith('if __name__ == "__main__":\n    as_script(main)\n')] == []


def test_watch_latency_times_the_bundled_model_on_real_pet_photos(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """With the bundled three-way model, each photo counts once the watch has judged it: moved
    into cats/ or dogs/, or left in place (neither, unsure) as its log says. The photos are the
    dataset's pets, scaled down. It once wrote noise alone, which that model rightly leaves in
    place, and stopped after 30 s: "photo-000.jpg not sorted"."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import running

    if not (running.DATASET / "Cat").is_dir():
        pytest.skip(running.not_found("dogs-vs-cats-200"))
    done = run("watch_latency.py", ["--model", str(running.BUNDLED_MODEL), "--files", "4", "--gap", "0.1"])
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"4 files (pets of {running.DATASET.name}, 85x64 JPEG, model default.keras): " in done.stdout
    moved, left = re.search(r": (\d+) moved, (\d+) left in place; median \d+ ms", done.stdout).groups()
    assert int(moved) + int(left) == 4 and int(moved) >= 2  # pets, scaled to 85x64: most still moved


@pytest.mark.parametrize(("script", "said"), [
    ("named_pets_cost.py", "the named-cats photos are not found at {d}/named-cats (set SORTER_DATASETS=/path/to/datasets)"),
    ("review_page.py", "the dogs-vs-cats-200 photos are not found at {d}/dogs-vs-cats-200 "
                       "(set SORTER_DATASETS=/path/to/datasets or SORTER_DATASET=/path/to/dogs-vs-cats-200)"),
    ("named_cats_cells.py", "the named-cats photos are not found at {d}/named-cats "
                            "(give --photos DIR, or set SORTER_DATASETS=/path/to/datasets)"),
])
def test_a_benchmark_without_its_shared_photos_says_where_it_looked_and_how_to_point_it_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, said: str) -> None:
    """The shared sets are looked for in ../shared/datasets beside the checkout, or where
    SORTER_DATASETS says: a checkout elsewhere (a git worktree in /tmp) once had each benchmark
    look beside itself, whatever was set, and say `needs /tmp/shared/datasets/named-cats`, or
    `dataset not found: ...`, with no word of how to point it at them. Now one line, status 1."""
    nowhere = tmp_path / "nowhere"
    monkeypatch.setenv("SORTER_DATASETS", str(nowhere))
    for own in ("SORTER_DATASET", "SORTER_OTHER"):
        monkeypatch.delenv(own, raising=False)

    done = run(script, [])

    assert done.returncode == 1 and done.stderr == said.format(d=nowhere) + "\n", done.stderr[-3000:]


def test_a_benchmark_stopped_by_sigterm_removes_its_folders_as_after_ctrl_c(tmp_path: Path) -> None:
    """`timeout 60 python benchmarks/undo_whereabouts.py` once left its temporary folder behind
    (232 MB): Python's default for SIGTERM ends it where it is. Now `running.as_script` turns
    SIGTERM into what Ctrl-C raises, for every benchmark: the folders go, one line, `interrupted`,
    and status 143, as a shell reports a command SIGTERM ended."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    benchmark = subprocess.Popen([sys.executable, str(BENCHMARKS / "undo_whereabouts.py"), "--photos", "100000"],
                                 cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not any(temp.glob("whereabouts-*/journal/.sorter/*")):
            assert benchmark.poll() is None and time.monotonic() < deadline, "the benchmark never started its journal"
            time.sleep(0.05)
        benchmark.send_signal(signal.SIGTERM)
        _, stderr = benchmark.communicate(timeout=60)
    finally:
        if benchmark.poll() is None:
            benchmark.kill()
            benchmark.wait()
    assert (benchmark.returncode, stderr) == (143, "interrupted\n")
    assert list(temp.iterdir()) == []


def test_the_models_recorded_non_pet_folders_are_found_where_the_shared_sets_are(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """The bundled model records its non-pets as typed in the repository, `../shared/datasets/...`
    and `build/...`. first_look.py looked for them beside the checkout alone: in a worktree with
    SORTER_DATASETS set it found none, dropped them without a word, judged an empty table and
    crashed (`ValueError: need at least one array to concatenate`). Now a shared set is looked for
    where SORTER_DATASETS says, and a folder not here is named in one line, with how to draw it."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import running

    datasets = tmp_path / "datasets"
    (datasets / "everyday-not-pets").mkdir(parents=True)
    monkeypatch.setenv("SORTER_DATASETS", str(datasets))  # read by sorter's own `evaluate.found_from`
    monkeypatch.delenv("SORTER_OTHER", raising=False)
    training = {"other_dirs": ["../shared/datasets/everyday-not-pets", "../shared/datasets/caltech101-not-pets",
                               "build/text-graphics"]}

    assert running.recorded_others(training) == (datasets / "everyday-not-pets",)
    assert capsys.readouterr().err == (
        f"the model's non-pets from {datasets / 'caltech101-not-pets'}, {REPO / 'build' / 'text-graphics'} are "
        f"not found here, and are left out (python benchmarks/make_text_graphics.py {REPO / 'build' / 'text-graphics'}"
        "; set SORTER_DATASETS=/path/to/datasets)\n")
