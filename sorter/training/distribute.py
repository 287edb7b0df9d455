"""Training on several devices or machines with TensorFlow's own engine (`tf.distribute`):
which strategy a run uses, whether this process is the chief, how many workers and replicas
there are, where this process may write, and how workers agree with the chief.

- `none`: today's single-device training; no strategy at all.
- `mirrored`: `tf.distribute.MirroredStrategy` over every GPU of this machine (or the CPU, split
  into `SORTER_CPU_REPLICAS` logical devices, default 1: for tests and measurements).
- `multi-worker`: `tf.distribute.MultiWorkerMirroredStrategy`, one process per machine, the
  cluster described by the standard `TF_CONFIG` variable; the chief is the task "chief" if the
  cluster has one, else worker 0 (TensorFlow's rule).

Under a strategy, `--batch-size` is per replica: a step trains on batch × replicas photos and
the peak learning rate is multiplied by the number of replicas (the linear scaling rule; the
schedules warm up first, which the rule needs).

Workers never read a checkpoint: at start every process builds the same model, the chief loads
its checkpoint (on `--resume`), and `from_chief` hands the chief's weights, optimizer state and
epoch counters to every worker in one collective. So a restarted cluster resumes wherever the
chief's disk has the checkpoint, with no shared file system for the output. (Keras 3's
`BackupAndRestore` has every worker write, and restore from, its own copy: after a kill they
can disagree by an epoch and the collectives deadlock.)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sorter.errors import OptionError, SorterError, UsageError
from sorter.signals import ctrl_c_ends_at_once, handler_kept
from sorter.wording import counted

Mode = Literal["none", "mirrored", "multi-worker"]
MODES: tuple[str, ...] = ("none", "mirrored", "multi-worker")
#: Logical CPU devices `mirrored` splits a GPU-less machine into (replicas share its cores).
CPU_REPLICAS_ENV = "SORTER_CPU_REPLICAS"


@dataclass(frozen=True)
class Task:
    """This process's place in a TF_CONFIG cluster: `index` 0 is the chief; `addresses`, every
    worker's "host:port" in that order."""

    workers: int
    index: int
    addresses: tuple[str, ...] = ()


def read_tf_config(text: str | None) -> Task:
    """Check TF_CONFIG the way `MultiWorkerMirroredStrategy` will read it, with one-line errors
    instead of a hang or a traceback. Tasks are ordered chief first, then workers."""
    example = ('e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}')
    if not text or not text.strip():
        raise UsageError(f"--distribute multi-worker needs the TF_CONFIG environment variable, {example}")
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"TF_CONFIG is not valid JSON ({exc}); {example}") from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise UsageError(f'TF_CONFIG needs "cluster" and "task"; {example}')
    others = sorted(set(cluster) - {"chief", "worker"})
    if others:
        raise UsageError(f"TF_CONFIG: only chief and worker tasks take part in training, not {', '.join(others)}")
    chief, workers = cluster.get("chief", []), cluster.get("worker", [])
    if not all(isinstance(a, str) and _port(a) for a in [*chief, *workers]) or len(chief) > 1 or not chief + workers:
        raise UsageError(f'TF_CONFIG: "cluster" lists at most one chief and workers as "host:port" strings; {example}')
    kind, index = task.get("type"), task.get("index", 0)
    members = {"chief": chief, "worker": workers}.get(kind)
    if members is None or not isinstance(index, int) or not 0 <= index < len(members):
        raise UsageError(f"TF_CONFIG: task {json.dumps(task)} is not in the cluster "
                         f"({len(chief)} chief, {counted(len(workers), 'worker')})")
    return Task(workers=len(chief) + len(workers), index=index + len(chief) if kind == "worker" else 0,
                addresses=(*chief, *workers))


def _port(address: str) -> int | None:
    """The port of "host:port" (a number from 1 to 65535), or None."""
    host, _, port = address.rpartition(":")
    return int(port) if host and port.isdigit() and 0 < int(port) < 65536 else None


def process_index(mode: str) -> int:
    """This process's place among the workers (0: the chief), known from TF_CONFIG before the
    cluster starts: which folder the run locks (`Distribution.scratch`)."""
    return read_tf_config(os.environ.get("TF_CONFIG")).index if mode == "multi-worker" else 0


def scratch_folder(folder: Path, index: int) -> Path:
    """Where worker `index` writes what the chief writes to `folder` (`Distribution.scratch`)."""
    return folder if index == 0 else folder.with_name(f"{folder.name}.worker-{index}.tmp")


@dataclass(frozen=True)
class Distribution:
    """How this process trains; the default is one process on one device, no strategy."""

    mode: str = "none"
    workers: int = 1
    index: int = 0  # this process among the workers; 0 is the chief
    replicas: int = 1  # in the whole cluster (tf.distribute's num_replicas_in_sync)
    strategy: Any = None

    @property
    def is_chief(self) -> bool:
        return self.index == 0

    def to_json(self) -> dict[str, Any]:
        return {"strategy": self.mode, "workers": self.workers, "replicas": self.replicas}

    def scope(self):
        """Where models and optimizers must be built to be mirrored."""
        return self.strategy.scope() if self.strategy is not None else nullcontext()

    def global_batch(self, per_replica: int) -> int:
        return per_replica * self.replicas

    def learning_rate(self, base: float) -> float:
        """The linear scaling rule: a batch `replicas` times larger takes steps that much larger."""
        return base * self.replicas

    def shard(self, items: list) -> list:
        """This worker's share of the photos: every `workers`-th one from its index. By file,
        before decoding, so each worker decodes (or, on the backbone, caches) its own photos
        only; tf.data's DATA auto-shard would have every worker decode every photo and keep
        1/N, and FILE auto-shard needs a dataset read from files, not from a list of paths."""
        return items[self.index :: self.workers]

    def scratch(self, folder: Path) -> Path:
        """Where this process writes what the chief writes to `folder`: the chief writes there,
        any other worker to a folder of its own beside it, deleted after a successful run
        (`finish`). Every worker still saves: a save can read variables collectively."""
        return scratch_folder(folder, self.index)

    def finish(self, folder: Path) -> None:
        if not self.is_chief:
            shutil.rmtree(self.scratch(folder), ignore_errors=True)

    def dataset(self, make: Callable[[bool], Any]):
        """This worker's input pipeline. `make(repeat)` builds it over this worker's shard,
        batched per replica. Under a strategy it repeats forever and `fit_steps` says where
        an epoch ends: shards differ in length (and in broken files), and workers that ran
        out of data at different steps would leave the others waiting in a collective."""
        if self.strategy is None:
            return make(False)
        return self.strategy.distribute_datasets_from_function(lambda context: make(True))

    def steps(self, n: int, per_replica: int) -> int:
        """Steps in an epoch of `n` photos (the whole cluster's)."""
        return max(1, -(-n // self.global_batch(per_replica)))

    def fit_steps(self, n_train: int, n_validation: int, per_replica: int) -> dict[str, int]:
        if self.strategy is None:
            return {}
        steps = {"steps_per_epoch": self.steps(n_train, per_replica)}
        if n_validation:
            steps["validation_steps"] = self.steps(n_validation, per_replica)
        return steps

    @contextmanager
    def fitting(self) -> Iterator[None]:
        """Around `model.fit`: Keras's fixes for several workers (`_keras_multi_worker_fixes`)."""
        with _keras_multi_worker_fixes() if self.workers > 1 else nullcontext():
            yield

    @contextmanager
    def peers_watched(self) -> Iterator[None]:
        """Around everything a worker does with the others: a peer that died (killed, or
        stopped by an error of its own) becomes one line that says how to go on, instead of
        TensorFlow's traceback from whichever collective noticed."""
        if self.workers == 1:
            yield
            return
        import tensorflow as tf

        try:
            yield
        except (tf.errors.UnavailableError, tf.errors.CancelledError, tf.errors.InternalError,
                tf.errors.AbortedError, tf.errors.DeadlineExceededError) as exc:
            raise SorterError(f"a worker left the cluster ({_cause(exc)}); start every worker again "
                              "with --resume to continue from the chief's last checkpoint") from None

    def from_chief(self, variables: list, numbers: list[float]) -> list[float]:
        """Give every worker the chief's values of `variables` (assigned in place) and of
        `numbers` (returned): one all-reduce in which only the chief adds anything. A no-op on
        one worker."""
        if self.workers == 1:
            return list(numbers)
        import tensorflow as tf

        local = [tf.reshape(tf.cast(tf.convert_to_tensor(v), tf.float64), [-1]) for v in variables]
        summed = self._sum([*local, tf.constant(numbers, tf.float64)], self.is_chief)
        pieces = tf.split(summed, [int(t.shape[0]) for t in local] + [len(numbers)])
        for variable, piece in zip(variables, pieces, strict=False):
            variable.assign(tf.cast(tf.reshape(piece, variable.shape), variable.dtype))
        return [float(x) for x in pieces[-1].numpy()]

    def total(self, numbers: list[float]) -> list[float]:
        """Each of `numbers` summed over the workers (this worker's alone, on one)."""
        if self.workers == 1:
            return [float(x) for x in numbers]
        import tensorflow as tf

        return [float(x) for x in self._sum([tf.constant(numbers, tf.float64)], True).numpy()]

    def _sum(self, tensors: list, contributes: bool):
        """One all-reduce (SUM) over the workers of `tensors`, flattened, as float64 (exact for
        whole numbers below 2**53); a worker that does not contribute adds zeros. Only the
        first replica of each worker adds, so the result does not depend on the GPUs per machine."""
        import tensorflow as tf

        flat = tf.concat(tensors, axis=0)
        zeros = tf.zeros_like(flat)
        first = set(range(0, self.replicas, self.replicas // self.workers))

        def contribution(context):
            return flat if contributes and context.replica_id_in_sync_group in first else zeros

        values = self.strategy.experimental_distribute_values_from_function(contribution)
        return self.strategy.reduce(tf.distribute.ReduceOp.SUM, values, axis=None)

    def check_same_photos(self, items: list) -> None:
        """Every worker must split the same photos, or shards overlap and miss: compared
        with the chief's list (a digest) before anything is trained."""
        if self.workers == 1:
            return
        digest = hashlib.sha256("\n".join(f"{p}\t{y}" for p, y in items).encode("utf-8", "surrogateescape")).digest()
        ours = float(int.from_bytes(digest[:6], "big"))  # 48 bits: exact in a float64
        if self.from_chief([], [ours])[0] != ours:
            raise UsageError(f"worker {self.index} sees other photos than the chief: every worker needs the same "
                             "DATA_DIR (same path, same files) and the same --seed, --validation-split and --limit")


@dataclass(frozen=True)
class Joining:
    """A multi-worker run waits for the other workers of TF_CONFIG: said (TensorFlow's wait
    printed nothing for minutes), with what Ctrl-C does there: it stops the worker as anywhere
    in a run (`wait_for_the_others`), and the same command starts it again. What the run made
    before it (its --out's folders, MODEL.checkpoints/, a worker's scratch folder) is empty, or
    an earlier run's. Whoever shows it stops drawing before the wait: in the seconds of
    TensorFlow's own wait after it, Ctrl-C ends the process at once (`signals.ctrl_c_ends_at_once`),
    and a kill leaves a terminal as the process left it."""

    index: int
    workers: int

    def line(self) -> str:
        return (f"worker {self.index} of {self.workers}: waiting for the other {self.workers - 1} of TF_CONFIG to start "
                "(start them, or Ctrl-C to stop this worker; the same command starts it again)")


def check_mode(mode: str) -> None:
    """`--distribute MODE` is one of `MODES` (`OptionError`): by `train`'s option checks, before a
    folder is read, and by `start`."""
    if mode not in MODES:
        raise OptionError(f"must be one of: {', '.join(MODES)} (got {mode})", "--distribute")


def start(mode: str, on_event: Callable = lambda event: None) -> Distribution:
    """The distribution for `--distribute MODE`, its strategy created (for multi-worker this
    joins the cluster: it waits until every worker in TF_CONFIG has started, `Joining`)."""
    check_mode(mode)
    if mode == "none":
        return Distribution()
    task = read_tf_config(os.environ.get("TF_CONFIG")) if mode == "multi-worker" else Task(1, 0)
    from sorter.model.network import import_keras

    import_keras()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    try:
        if mode == "mirrored":
            devices = None if gpus else _cpu_devices(tf)
            strategy = tf.distribute.MirroredStrategy(devices)
        else:
            ring = tf.distribute.experimental.CommunicationImplementation.RING
            auto = tf.distribute.experimental.CommunicationImplementation.AUTO
            # RING (gRPC) is the collective implementation CPUs have; NCCL, under AUTO, is for GPUs.
            options = tf.distribute.experimental.CommunicationOptions(implementation=auto if gpus else ring)
            if task.workers > 1:
                on_event(Joining(task.index, task.workers))
                wait_for_the_others(task)
            # TensorFlow's wait is in C++, holding the GIL: no Python handler runs there. It sets
            # SIGTERM's handler for good (`handler_kept`), and Ctrl-C's is set to end the process.
            with handler_kept(signal.SIGTERM), ctrl_c_ends_at_once():
                strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    except (tf.errors.OpError, ValueError, RuntimeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise SorterError(f"--distribute {mode}: could not start ({reason})") from None
    return Distribution(mode, task.workers, task.index, int(strategy.num_replicas_in_sync), strategy)


#: How long the wait to join waits before it looks again for the workers not started yet.
LOOK_AGAIN_S = 0.2


def wait_for_the_others(task: Task) -> None:
    """Until every other worker of TF_CONFIG has started: the wait to join, in Python, before
    TensorFlow's own. TensorFlow's is in C++, holds the GIL and sets SIGTERM's handler to one of
    its own (its preemption notifier notes the signal and goes on), so neither Ctrl-C's nor
    `kill`'s Python handler ran there: Ctrl-C had to end the process at once, and `kill` did
    nothing (`kill -9` did). Here both stop the run as anywhere else (KeyboardInterrupt: the
    folders it made removed, one line, exit 130 or 143).

    Meanwhile each worker listens on its own address of TF_CONFIG (where TensorFlow will), and
    connects to each other worker's until it answers once (a connection closed at once: a look
    costs a round trip, every LOOK_AGAIN_S). Then it lets its address go to TensorFlow, whose wait
    lasts only as long as the others take to get there (seconds). A worker that dies just then
    leaves the others in TensorFlow's wait, as before: Ctrl-C ends it at once, `kill` does not.
    An address that is taken is left to TensorFlow to say so."""
    import socket
    import time

    own = _port(task.addresses[task.index])
    dual = socket.has_dualstack_ipv6()  # where TensorFlow listens, on IPv6 and IPv4 both
    try:
        # Never accepted: a worker connects once each time it starts, and the kernel holds that.
        listening = socket.create_server(("", own), family=socket.AF_INET6 if dual else socket.AF_INET,
                                         dualstack_ipv6=dual, backlog=64)
    except OSError:
        listening = nullcontext()
    others = [address for i, address in enumerate(task.addresses) if i != task.index]
    with listening:
        while others:
            others = [address for address in others if not _answers(address)]
            if others:
                time.sleep(LOOK_AGAIN_S)


def _answers(address: str) -> bool:
    """Something listens at "host:port" (a worker waiting to join, or TensorFlow there)."""
    import socket

    host = address.rpartition(":")[0].strip("[]")  # an IPv6 address is written [::1]:port
    try:
        socket.create_connection((host, _port(address)), timeout=1).close()
    except OSError:  # refused, unreachable, a name not known yet (a machine still starting)
        return False
    return True


def _cpu_devices(tf) -> list[str]:
    raw = os.environ.get(CPU_REPLICAS_ENV, "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise UsageError(f"{CPU_REPLICAS_ENV} must be a whole number from 1 to 64 (got {raw!r})")
    wanted = int(raw)
    cpu = tf.config.list_physical_devices("CPU")[0]
    if wanted > 1 and len(tf.config.get_logical_device_configuration(cpu) or []) != wanted:
        try:  # before anything lists the logical devices: that sets them up for good
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * wanted)
        except RuntimeError:
            raise SorterError(f"{CPU_REPLICAS_ENV}={wanted}: TensorFlow's devices were set up before this run "
                              "(start a new process)") from None
    return [device.name for device in tf.config.list_logical_devices("CPU")]


@contextmanager
def _keras_multi_worker_fixes() -> Iterator[None]:
    """Keras 3 (checked on 3.15) cannot `fit` under MultiWorkerMirroredStrategy as released,
    for two reasons fixed here for the length of a `fit`, nowhere else:

    1. Before the first step it averages a whole input batch over the workers just to learn
       its shapes, with `strategy.reduce` on a nested structure, which MultiWorkerMirrored
       cannot reduce (keras-team/keras#20585). This worker's own first batch has the shapes.
    2. It averages each step's metrics with `reduce(MEAN, axis=0)`, which fails on scalars
       (tensorflow/tensorflow#72388). The metrics are already the same on every replica (their
       variables are summed over replicas as they update), which is the case Keras's own
       "first" reduction is for.
    """
    try:
        from keras.src.backend.tensorflow import trainer
        from keras.src.backend.tensorflow.trainer import TensorFlowTrainer
        reduce_per_replica, symbolic_build = trainer.reduce_per_replica, TensorFlowTrainer._maybe_symbolic_build
    except (ImportError, AttributeError):
        raise SorterError("--distribute multi-worker: this Keras version is not one sorter knows how to run "
                          "on several workers (tested with Keras 3.15)") from None

    def reduce_first(values, strategy, reduction="auto"):
        return reduce_per_replica(values, strategy, "first" if reduction == "auto" else reduction)

    def build_from_local_batch(self, iterator=None, data_batch=None):
        if iterator is not None:
            strategy = self.distribute_strategy
            for _, _, batches in iterator:
                first = next(batches)
                data_batch = tuple(strategy.experimental_local_results(part)[0] for part in first)
                break
        return symbolic_build(self, data_batch=data_batch)

    trainer.reduce_per_replica = reduce_first
    TensorFlowTrainer._maybe_symbolic_build = build_from_local_batch
    try:
        yield
    finally:
        trainer.reduce_per_replica = reduce_per_replica
        TensorFlowTrainer._maybe_symbolic_build = symbolic_build



def _cause(exc: Exception) -> str:
    """The line of a TensorFlow error that says what happened (it comes after a graph
    traceback): e.g. "Collective ops is aborted by: Socket closed"."""
    import re

    lines = [re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", line) for line in str(exc).splitlines()]
    lines = [line for line in lines if line.strip()
             and not line.startswith((" ", "\t", "Graph execution error", "Detected at node"))]
    return (lines[0] if lines else type(exc).__name__)[:160]
