"""`sorter train --distribute`: TF_CONFIG checked up front, MirroredStrategy over two logical
CPU devices, and two real worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy over
gRPC): one epoch, then a run where a worker is SIGKILLed mid-training and both are started
again with --resume.

TensorFlow fixes its devices and its cluster once per process, so every strategy runs in a
fresh interpreter (`python -m sorter`), never in the test process; TF_CONFIG is given to
those processes only, and every process is killed in a `finally` whatever happens."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO, make_dataset, needs_weights, tree, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.errors import UsageError
from sorter.training.distribute import Distribution, Task, read_tf_config

runner = CliRunner()
#: Generous: two TensorFlow processes share 2 slow cores with whatever else runs.
TIMEOUT = 300


def free_ports(n: int) -> list[int]:
    """Ports the kernel says are free now (all bound at once, so they differ)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def small_run(data: Path, out: Path, *extra: str, backbone: str = "none") -> list[str]:
    """Toy photos at 32 px (the from-scratch network) or 64 px (the backbone): seconds an epoch."""
    size = "32" if backbone == "none" else "64"
    return ["train", str(data), "--out", str(out), "--backbone", backbone, "--image-size", size, "--seed", "7", *extra]


def copied(terminal: int, log: Path) -> None:
    """What a pseudo-terminal shows, into `log`, until the process on it has ended."""
    with open(log, "wb") as out:
        while True:
            try:
                data = os.read(terminal, 4096)
            except OSError:  # EIO: no process holds the terminal any more
                break
            if not data:
                break
            out.write(data)
            out.flush()
    os.close(terminal)


class Workers:
    """Sorter processes started with `python -m sorter`, their output in files (no pipe to
    fill and block), all killed on exit."""

    def __init__(self, logs: Path) -> None:
        self.logs, self.procs = logs, []
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, args: list[str], name: str, *, terminal: bool = False, **env: str) -> subprocess.Popen:
        """`terminal`: its output to a pseudo-terminal, as a user sees it (the progress bar
        drawn), copied to its log by a thread as it comes."""
        environ = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
        environ["PYTHONPATH"] = os.pathsep.join([str(REPO), environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        environ.update(env)
        command = [sys.executable, "-m", "sorter", *args]
        if terminal:
            main, side = pty.openpty()
            proc = subprocess.Popen(command, cwd=REPO, env=dict(environ, TERM="xterm"), stdin=side, stdout=side,
                                    stderr=side)
            os.close(side)
            (self.logs / f"{name}.log").touch()  # there from the start: the first look must not race the copier
            proc.copying = threading.Thread(target=copied, args=(main, self.logs / f"{name}.log"), daemon=True)
            proc.copying.start()
        else:
            with open(self.logs / f"{name}.log", "wb") as log:
                proc = subprocess.Popen(command, cwd=REPO, env=environ, stdout=log, stderr=subprocess.STDOUT)
        proc.name = name
        self.procs.append(proc)
        return proc

    def cluster(self, args: list[str], tag: str, n: int = 2) -> list[subprocess.Popen]:
        ports = free_ports(n)
        return [self.start(args, f"{tag}-{i}", TF_CONFIG=tf_config(ports, i)) for i in range(n)]

    def wait(self, procs: list[subprocess.Popen]) -> list[int]:
        deadline = time.monotonic() + TIMEOUT
        return [p.wait(timeout=max(1.0, deadline - time.monotonic())) for p in procs]

    def output(self, proc: subprocess.Popen) -> str:
        if proc.poll() is not None and hasattr(proc, "copying"):
            proc.copying.join(timeout=10)  # the terminal's last bytes
        return (self.logs / f"{proc.name}.log").read_text(errors="replace")

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


# ---------------------------------------------------------------------------- TF_CONFIG, no TensorFlow


@pytest.mark.parametrize(("text", "message"), [
    (None, "needs the TF_CONFIG environment variable"),
    ("{not json", "TF_CONFIG is not valid JSON"),
    ('{"cluster": {"worker": ["a:1"]}}', 'TF_CONFIG needs "cluster" and "task"'),
    ('{"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, "task": {"type": "worker", "index": 0}}',
     "only chief and worker tasks take part in training, not ps"),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
     'task {"type": "worker", "index": 2} is not in the cluster (0 chief, 2 workers)'),
    ('{"cluster": {"chief": ["c:3"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}',
     'task {"type": "worker", "index": 1} is not in the cluster (1 chief, 1 worker)'),
    ('{"cluster": {"worker": [7]}, "task": {"type": "worker", "index": 0}}', 'as "host:port" strings'),
    ('{"cluster": {"worker": ["a:1", "b"]}, "task": {"type": "worker", "index": 0}}', 'as "host:port" strings'),
])
def test_a_bad_tf_config_is_one_clear_line(text, message) -> None:
    with pytest.raises(UsageError) as caught:
        read_tf_config(text)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_the_chief_is_index_0_and_workers_follow_it() -> None:
    two = {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}
    assert read_tf_config(json.dumps(two)) == Task(workers=2, index=1, addresses=("a:1", "b:2"))
    with_chief = {"cluster": {"chief": ["c:3"], "worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}
    assert read_tf_config(json.dumps(with_chief)) == Task(workers=3, index=2, addresses=("c:3", "a:1", "b:2"))
    assert read_tf_config(json.dumps({**with_chief, "task": {"type": "chief", "index": 0}})).index == 0


def test_multi_worker_without_tf_config_exits_2_before_any_training(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TF_CONFIG", raising=False)
    data = make_dataset(tmp_path / "data", per_class=4)
    result = runner.invoke(app, small_run(data, tmp_path / "m.keras", "--distribute", "multi-worker"))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --distribute multi-worker needs the TF_CONFIG environment variable")
    assert result.stderr.count("\n") == 1  # one line: no blank line after it (a progress bar's last frame)
    assert not (tmp_path / "m.checkpoints").exists()


def test_an_unknown_strategy_is_refused(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=4)
    result = runner.invoke(app, small_run(data, tmp_path / "m.keras", "--distribute", "tpu"))
    assert result.exit_code == 2 and result.stderr.startswith(
        "Error: Invalid value for '--distribute': must be one of: none, mirrored, multi-worker (got tpu) (see ")


def test_help_explains_the_batch_and_learning_rate_rule() -> None:
    result = runner.invoke(app, ["train", "--help"])
    words = " ".join(result.stdout.replace("│", " ").split())  # as read, without rich's box and wrapping
    assert "--distribute" in words and "the peak learning rate is multiplied by the number of replicas" in words


def test_each_worker_takes_every_nth_photo_and_writes_beside_the_chief() -> None:
    chief, second = Distribution("multi-worker", 2, 0, 4), Distribution("multi-worker", 2, 1, 4)
    photos = list(range(7))
    assert chief.shard(photos) == [0, 2, 4, 6] and second.shard(photos) == [1, 3, 5]
    assert chief.global_batch(16) == 64 and chief.learning_rate(1e-3) == pytest.approx(4e-3)
    assert chief.steps(100, 16) == 2 and chief.fit_steps(0, 0, 16) == {}  # no strategy object: plain fit
    folder = Path("out/model.checkpoints")
    assert chief.scratch(folder) == folder and second.scratch(folder) == Path("out/model.checkpoints.worker-1.tmp")
    assert Distribution().from_chief([], [3.0]) == [3.0] and Distribution().total([1, 2]) == [1.0, 2.0]


# ---------------------------------------------------------------------------- real strategies


def test_mirrored_over_two_cpu_devices_trains_and_says_so(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=12)
    out = tmp_path / "mirrored.keras"
    with Workers(tmp_path / "logs") as workers:
        proc = workers.start(small_run(data, out, "--epochs", "1", "--batch-size", "4", "--learning-rate", "1e-3",
                                       "--distribute", "mirrored"), "mirrored", SORTER_CPU_REPLICAS="2")
        assert workers.wait([proc]) == [0], workers.output(proc)
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["training"]["distribute"] == {
        "strategy": "mirrored", "workers": 1, "replicas": 2, "global_batch_size": 8, "peak_learning_rate": 2e-3,
    }
    assert meta["training"]["epochs_run"] == 1 and "--distribute mirrored" in meta["training"]["command"]


@pytest.fixture(scope="module", params=["none", pytest.param("efficientnet-lite0", marks=needs_weights)])
def two_workers(request, tmp_path_factory):
    """One epoch on two workers, of the from-scratch network and of the backbone (each worker
    caches its own half of the photos; the chief's probe starts the head for both)."""
    root = tmp_path_factory.mktemp("two")
    data = make_dataset(root / "data", per_class=12)
    out = root / "out" / "model.keras"
    with Workers(root / "logs") as workers:
        procs = workers.cluster(small_run(data, out, "--epochs", "1", "--batch-size", "4",
                                          "--distribute", "multi-worker", backbone=request.param), "one-epoch")
        codes = workers.wait(procs)
        return out, codes, [workers.output(p) for p in procs]


def test_two_workers_finish_and_the_chief_saves_a_model_that_sorts(two_workers, tmp_path: Path) -> None:
    out, codes, logs = two_workers
    assert codes == [0, 0], "\n\n".join(logs)
    assert "Saved" in logs[0] and "Worker 1 of 2 done (1 epoch," in logs[1]
    # The wait to join is TensorFlow's, minutes of silence: said.
    assert "worker 1 of 2: waiting for the other 1 of TF_CONFIG to start" in " ".join(logs[1].split())
    meta = json.loads(out.with_suffix(".json").read_text())
    distribute = meta["training"]["distribute"]
    assert distribute == {"strategy": "multi-worker", "workers": 2, "replicas": 2, "global_batch_size": 8,
                          "peak_learning_rate": pytest.approx(2 * meta["training"]["learning_rate"])}
    # Only the chief wrote: the worker's scratch folder is gone.
    # (the backbone's float softmax head is a file of its own, and so is the reference set `sorter
    # learn` needs, its validation photos' pooled features; the from-scratch network has neither)
    pretrained = meta["backbone"]["name"] != "none"
    head = ["model.head.npz"] if pretrained else []
    reference = ["model.reference.npz"] if pretrained else []
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "model-curves.png", "model.checkpoints", *head, "model.json", "model.keras", *reference, "model.tflite",
    ]
    photos = tmp_path / "photos"
    write_image(photos / "a.jpg", (0, 0, 255))
    write_image(photos / "b.jpg", (255, 0, 0))
    result = runner.invoke(app, ["sort", str(photos), "--model", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.split("/")[0] for p in tree(photos)} <= {"cats", "dogs"} and len(tree(photos)) == 2


def wait_for_epoch(state: Path, procs: list[subprocess.Popen]) -> int:
    """The first epoch the chief has checkpointed: evidence that training is under way."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            return json.loads(state.read_text())["epoch"]
        assert all(p.poll() is None for p in procs), "a worker ended before its first checkpoint"
        time.sleep(0.05)
    raise AssertionError("no checkpoint within the timeout")


def test_a_killed_worker_and_a_restart_with_resume_finish_the_run(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=24)
    out = tmp_path / "out" / "model.keras"
    epochs = 10  # after the first, an epoch takes about a second here: time to kill one mid-run
    args = small_run(data, out, "--epochs", str(epochs), "--batch-size", "2", "--patience", "99",
                     "--distribute", "multi-worker")
    with Workers(tmp_path / "logs") as workers:
        chief, worker = workers.cluster(args, "first")
        done = wait_for_epoch(out.with_name("model.checkpoints") / "state.json", [chief, worker])
        os.kill(worker.pid, signal.SIGKILL)
        assert workers.wait([chief, worker]) == [1, -signal.SIGKILL], workers.output(chief)
        assert "Error: a worker left the cluster" in workers.output(chief)
        assert "start every worker again with --resume" in workers.output(chief)
        stopped_at = json.loads((out.with_name("model.checkpoints") / "state.json").read_text())["epoch"]
        assert done <= stopped_at < epochs, "killed after the run had finished"

        chief, worker = workers.cluster([*args, "--resume"], "again")  # new ports
        assert workers.wait([chief, worker]) == [0, 0], workers.output(chief) + workers.output(worker)
        resumed = workers.output(chief)
    # Both continued from the chief's checkpoint, not from the start.
    assert f"epoch {stopped_at + 1:>3}/{epochs}" in resumed and f"epoch {stopped_at:>3}/{epochs}" not in resumed
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["training"]["epochs_run"] == epochs and len(meta["training"]["history"]) == epochs
    assert meta["training"]["distribute"]["workers"] == 2
    assert not out.with_name("model.checkpoints.worker-1.tmp").exists()


def on_screen(shown: str) -> str:
    """A terminal's output as words: without its control sequences, and as one line."""
    return " ".join(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown).split())


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["Ctrl-C", "SIGTERM"])
def test_ctrl_c_or_sigterm_ends_the_wait_for_workers_that_never_start(tmp_path: Path, sent: int, code: int) -> None:
    """The wait to join was TensorFlow's, in C++, which holds the GIL and takes SIGTERM for a
    handler of its own: Ctrl-C was queued until every worker had started, then ended the process
    at once with nothing said, and `kill` did nothing at all. In a terminal, a kill left the
    cursor hidden by the progress bar, and the bar's last frame. Now both stop it as they stop a
    run anywhere: one line, the folders it made removed."""
    data = make_dataset(tmp_path / "data", per_class=4)
    with Workers(tmp_path / "logs") as workers:
        alone = workers.start(small_run(data, tmp_path / "out" / "model.keras", "--epochs", "1",
                                        "--distribute", "multi-worker"), "alone", terminal=True,
                              TF_CONFIG=tf_config(free_ports(2), 0))
        deadline = time.monotonic() + TIMEOUT
        while "waiting for the other 1 of TF_CONFIG" not in on_screen(workers.output(alone)):
            assert alone.poll() is None and time.monotonic() < deadline, workers.output(alone)
            time.sleep(0.05)
        time.sleep(1)  # inside the wait
        alone.send_signal(sent)
        assert alone.wait(timeout=10) == code
        shown = workers.output(alone)
    said = on_screen(shown)
    assert "worker 0 of 2: waiting for the other 1 of TF_CONFIG to start (start them, or Ctrl-C to stop this " \
           "worker; the same command starts it again)" in said and "Traceback" not in said
    assert said.endswith("Interrupted. No epoch had finished and nothing was kept: run the same command again "
                         "(without --resume) to start over."), said
    assert 0 <= shown.rfind("\x1b[?25l") < shown.rfind("\x1b[?25h")  # the bar was drawn, and the cursor shown again
    assert sorted(os.listdir(tmp_path)) == ["data", "logs"]  # out/ and out/model.checkpoints/, made for the run: gone


def test_sigterm_stops_a_worker_mid_training_as_ctrl_c_does(tmp_path: Path) -> None:
    """TensorFlow's wait to join set SIGTERM's handler to its own for the rest of the process
    (a preemption notifier, which notes the signal and goes on): a `kill` of the chief was
    ignored, and the cluster trained on."""
    data = make_dataset(tmp_path / "data", per_class=24)
    out = tmp_path / "out" / "model.keras"
    args = small_run(data, out, "--epochs", "40", "--batch-size", "2", "--patience", "99",
                     "--distribute", "multi-worker")
    with Workers(tmp_path / "logs") as workers:
        chief, worker = workers.cluster(args, "killed")
        wait_for_epoch(out.with_name("model.checkpoints") / "state.json", [chief, worker])
        chief.send_signal(signal.SIGTERM)
        assert workers.wait([chief, worker]) == [143, 1], workers.output(chief) + workers.output(worker)
        said = workers.output(chief)
    assert said.endswith(f"Interrupted. The epochs finished are kept in {out.with_suffix('.checkpoints')}/: the same "
                         "command with --resume goes on from there.\n"), said
    assert "Error: a worker left the cluster" in workers.output(worker) and not out.exists()


#: What the wait to join does with Ctrl-C, sent by the process to itself.
CTRL_C_IN_THE_WAIT = """
import os, signal, time
from sorter.signals import ctrl_c_ends_at_once
with ctrl_c_ends_at_once():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.5)
print("went on")
"""


def test_a_worker_started_with_ctrl_c_ignored_goes_on_ignoring_it() -> None:
    """A worker started with `&` by a script that is not interactive ignores SIGINT by design;
    the wait to join set it to end the process."""
    def ignoring_ctrl_c() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    ignored = subprocess.run([sys.executable, "-c", CTRL_C_IN_THE_WAIT], cwd=REPO, capture_output=True,
                             timeout=TIMEOUT, preexec_fn=ignoring_ctrl_c)
    assert (ignored.returncode, ignored.stdout) == (0, b"went on\n"), ignored.stderr
    heard = subprocess.run([sys.executable, "-c", CTRL_C_IN_THE_WAIT], cwd=REPO, capture_output=True, timeout=TIMEOUT)
    assert (heard.returncode, heard.stdout) == (-signal.SIGINT, b""), heard.stderr
