"""What does `sorter train --distribute` gain on this machine? Seconds per epoch, in one run.

    python benchmarks/distribute_speed.py                       # from-scratch net, 1,000 photos, 96 px
    python benchmarks/distribute_speed.py --limit 2000 --image-size 144 --epochs 4

Three settings train the from-scratch network on the same photos with the same global batch
(so the same steps per epoch), each in fresh processes (TensorFlow sets up its devices once):

- `none`: one replica, batch B x R;
- `mirrored`: R replicas of batch B: every GPU, or on a machine without one the CPU split into
  R logical devices (SORTER_CPU_REPLICAS) that share its cores: there it measures what the
  strategy costs, not a speed-up;
- `multi-worker`: 2 processes on 127.0.0.1 (TF_CONFIG, gRPC), batch B each, on this same
  machine: what the collectives cost, not what two machines gain.

Reported: the mean time of the epochs after the first (the first traces the step and fills
the decode cache), and training photos per second. Needs TensorFlow (`pip install
'sorter[train]'`) and ../shared/datasets (or SORTER_DATASETS).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from arg_types import at_least, description, existing_dir, positive_int  # this folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_line  # noqa: E402
from running import DATASET, REPO, as_script, not_found  # noqa: E402

from sorter.wording import counted  # noqa: E402

#: One training run in a fresh interpreter; prints the seconds of each epoch as JSON.
RUN = """
import json, sys
from pathlib import Path
from sorter.training.datasets import split
from sorter.training.distribute import start
from sorter.training.train import with_defaults
from sorter.training.loop import EpochDone, TrainConfig, run_training

a = json.loads(sys.argv[1])
config = with_defaults(TrainConfig(data_dir=Path(a["data"]), out=Path(a["out"]), backbone="none", epochs=a["epochs"],
                                   image_size=a["size"], batch_size=a["batch"], limit=a["limit"], distribute=a["mode"]))
parts = split(config.data_dir, config.validation_split, config.seed, config.limit)
dist = start(config.distribute)
seconds = []
run_training(config, parts.train, parts.validation, resume=False, dist=dist,
             on_event=lambda e: seconds.append(e.seconds) if isinstance(e, EpochDone) else None)
print(json.dumps({"epochs": seconds, "replicas": dist.replicas, "n_train": len(parts.train)}))
"""


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def run(mode: str, batch: int, args, out: Path, workers: int = 1, **env: str) -> dict:
    """Train in `workers` processes; the chief's report."""
    ports = free_ports(workers)
    procs = []
    for index in range(workers):
        environ = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
        environ["PYTHONPATH"] = os.pathsep.join([str(REPO), environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        environ.update(env)
        if mode == "multi-worker":
            environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                                               "task": {"type": "worker", "index": index}})
        spec = {"data": str(args.data), "out": str(out), "epochs": args.epochs, "size": args.image_size,
                "batch": batch, "limit": args.limit, "mode": mode}
        procs.append(subprocess.Popen([sys.executable, "-c", RUN, json.dumps(spec)], cwd=REPO, env=environ,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        results = [p.communicate(timeout=3600) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, stderr) in zip(procs, results, strict=True):
        if p.returncode != 0:
            raise SystemExit(f"{mode} failed:\n{stderr[-2000:]}")
    return json.loads(results[0][0].strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--data", type=existing_dir, default=DATASET)
    parser.add_argument("--limit", type=positive_int, default=500, help="photos per class (default 500: 800 train)")
    parser.add_argument("--image-size", type=positive_int, default=96)
    parser.add_argument("--epochs", type=at_least(2), default=3, help="at least 2: the first is not timed (default 3)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="per replica (default 32)")
    parser.add_argument("--replicas", type=positive_int, default=2, help="for mirrored on a CPU (default 2)")
    args = parser.parse_args()
    if not (args.data / "Cat").is_dir():
        raise SystemExit(not_found("dogs-vs-cats-200", args.data, "--data"))
    from sorter.model.network import import_keras

    import_keras()  # quietly
    import tensorflow as tf

    gpus = len(tf.config.list_physical_devices("GPU"))
    replicas = gpus or args.replicas
    print(cpu_line())
    print(f"{counted(gpus, 'GPU')}; {counted(args.limit, 'photo')} per class at {args.image_size} px, "
          f"{args.epochs} epochs (the first not timed), batch {args.batch_size} per replica")
    settings = [
        (f"none, batch {args.batch_size * replicas}", "none", args.batch_size * replicas, 1, {}),
        (f"mirrored, {replicas} {'GPUs' if gpus else 'CPU devices'} x {args.batch_size}", "mirrored",
         args.batch_size, 1, {"SORTER_CPU_REPLICAS": str(args.replicas)}),
        (f"multi-worker, 2 processes x {args.batch_size}", "multi-worker", args.batch_size, 2, {}),
    ]
    print(f"{'setting':<40} {'replicas':>8} {'s/epoch':>8} {'photos/s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, mode, batch, workers, env in settings:
            report = run(mode, batch, args, Path(tmp) / mode / "m.keras", workers, **env)
            later = report["epochs"][1:]
            per_epoch = sum(later) / len(later)
            print(f"{name:<40} {report['replicas']:>8} {per_epoch:>8.1f} {report['n_train'] / per_epoch:>9.0f}",
                  flush=True)


if __name__ == "__main__":
    as_script(main)
