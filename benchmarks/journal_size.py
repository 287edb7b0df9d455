"""Does the journal's JSON-lines format strain at a million moves, and would a SQLite catalog
do better? (Issue 26: "choose by measurement at 1,000,000 moves".)

    python benchmarks/journal_size.py                 # 1,000,000 moves (about 10 min on 2 shared cores)
    python benchmarks/journal_size.py --moves 100000  # a quick look (about 1 min)

It says which step it is on as it goes, and its temporary folder (about 500 MB at a million
moves) is removed however it ends, Ctrl-C and SIGTERM included.

Builds, in a temporary folder, the journal a sort of N photos writes (a "move" intent, a "done"
mark and a "seen" record per photo, in batches of 64, the format `sorter.files.journal`
writes), then times what commands do with it:

- `scan` (the one pass every command starts with: `recover` settles pending intents from it),
  `recover`, `read_verdicts` (the review server), `put_back` (which photos sorter moved are
  back where it found them: `sort` and `watch` skip them), a watcher's memory of the moves as it
  starts (`Latecomers.load`), its look in the journal when a photo arrives where one it no longer
  remembers in full was (`older_put_backs`), and the per-batch append with its fsync;
- the same N moves as rows of a SQLite table in WAL mode with an index on the pending state,
  one transaction per batch: the insert per batch (synchronous=FULL, so as durable as the
  journal's fsync), finding the pending intents (what recovery needs), and reading every row
  (what an undo of everything needs).

Prints both side by side, measured in one run; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from arg_types import description, positive_int  # this folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from machine import CPU_FEATURES, cpu_features, cpu_model  # noqa: E402  (this folder is on sys.path)
from running import as_script  # noqa: E402

from sorter.files import journal, journal_writer, recovery  # noqa: E402
from sorter.files.journal_records import encode  # noqa: E402
from sorter.files.put_backs import put_back  # noqa: E402
from sorter.files.verdicts import read_verdicts
from sorter.sorting.latecomers import LIMIT, Latecomers  # noqa: E402

BATCH = 64
LABEL = 40  # the widest row label, "  a photo arrives where an old one was", and a gap


def step(what: str) -> None:
    print(f"{what} ...", flush=True)


def build_journal(root: Path, moves: int) -> float:
    """Write the journal of a sort of `moves` photos; returns its size in MB."""
    (root / ".sorter").mkdir()
    run, now = "20261204T030000-abcdef", 1796352000.0
    with open(journal.journal_path(root), "wb") as f:
        for first in range(1, moves + 1, BATCH):
            seqs = range(first, min(first + BATCH, moves + 1))
            f.write(b"".join(encode({"op": "move", "run": run, "time": now, **journal_writer._record(journal.Move(
                run, n, f"IMG_{n:07d}.jpg", f"{'cats' if n % 2 else 'dogs'}/IMG_{n:07d}.jpg", n, 1, "cat", 0.9731,
                same=(64769, 1000000 + n, 2048123, 1796352000123456789)))})
                for n in seqs))
            f.write(b"".join(encode({"op": "done", "run": run, "time": now, "seq": n}) for n in seqs))
            f.write(b"".join(encode({"op": "seen", "run": run, "time": now, **(
                {"path": f"cats/IMG_{n:07d}.jpg", "label": "cat", "status": "moved", "seq": n} if n % 10 else
                {"path": f"IMG_{n:07d}.jpg", "label": "other", "status": "neither", "reason": "not a cat or a dog"}),
                "id": [64769, 1000000 + n, 2048], "confidence": 0.9731}) for n in seqs))
    return journal.journal_path(root).stat().st_size / 2**20


def timed(fn) -> tuple[float, object, float]:
    """(seconds, result, peak MB of Python allocations): timed first, then run again under
    tracemalloc, which slows allocation-heavy code several times over."""
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, result, peak


def append_cost(root: Path, batches: int = 100) -> float:
    """Seconds per batch of 64 intents + marks + seen records, each write fsync'd, as a sort does."""
    with journal_writer.Journal(root) as j:
        started = time.perf_counter()
        for _ in range(batches):
            seqs = j.intents([[(root / "a.jpg", root / "cats" / "a.jpg")] for _ in range(BATCH)])
            j.mark("done", [group[0].seq for group in seqs])
            j.append_many("seen", [{"path": "cats/a.jpg", "label": "cat", "status": "moved", "id": [1, 2, 3]}] * BATCH)
        return (time.perf_counter() - started) / batches


def sqlite_catalog(path: Path, moves: int) -> dict[str, float]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE moves (run TEXT, seq INTEGER, src TEXT, dst TEXT, grp INTEGER, size INTEGER, label TEXT,"
               " confidence REAL, state INTEGER, PRIMARY KEY (run, seq))")
    db.execute("CREATE INDEX pending ON moves(state) WHERE state = 1")
    db.execute("CREATE TABLE seen (path TEXT PRIMARY KEY, run TEXT, label TEXT, status TEXT, dev INTEGER, ino INTEGER,"
               " size INTEGER, seq INTEGER, confidence REAL, reason TEXT)")
    run = "20261204T030000-abcdef"
    started = time.perf_counter()
    durable_batches = 0
    for first in range(1, moves + 1, BATCH):
        seqs = range(first, min(first + BATCH, moves + 1))
        rows = [(run, n, f"IMG_{n:07d}.jpg", f"cats/IMG_{n:07d}.jpg", n, 1, "cat", 0.9731, 1) for n in seqs]
        # A sort's three writes per batch: intents before the renames, marks after, then the seen records.
        if durable_batches < 100:  # the first 100 batches as a sort makes them, each commit synced
            db.execute("BEGIN"); db.executemany("INSERT INTO moves VALUES (?,?,?,?,?,?,?,?,?)", rows); db.execute("COMMIT")  # noqa: E702
            db.execute("BEGIN"); db.executemany("UPDATE moves SET state = 2 WHERE run = ? AND seq = ?", [(run, n) for n in seqs]); db.execute("COMMIT")  # noqa: E501, E702
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO seen VALUES (?,?,?,?,?,?,?,?,?,?)",
                           [(f"cats/IMG_{n:07d}.jpg", run, "cat", "moved", 64769, n, 2048, n, 0.9731, None) for n in seqs])
            db.execute("COMMIT")
            durable_batches += 1
            if durable_batches == 100:
                per_batch = (time.perf_counter() - started) / 100
                db.execute("PRAGMA synchronous=OFF")  # the rest only fills the table, quickly
                db.execute("BEGIN")
        else:
            db.executemany("INSERT INTO moves VALUES (?,?,?,?,?,?,?,?,?)", [(*r[:-1], 2) for r in rows])
            db.executemany("INSERT OR REPLACE INTO seen VALUES (?,?,?,?,?,?,?,?,?,?)",
                           [(f"cats/IMG_{n:07d}.jpg", run, "cat", "moved", 64769, n, 2048, n, 0.9731, None) for n in seqs])
    if durable_batches < 100:  # fewer moves than 100 batches: all of them synced
        per_batch = (time.perf_counter() - started) / max(1, durable_batches)
    if db.in_transaction:
        db.execute("COMMIT")
    db.close()
    db = sqlite3.connect(path, isolation_level=None)
    pending_s, _, _ = timed(lambda: db.execute("SELECT * FROM moves WHERE state = 1").fetchall())
    all_s, rows, peak = timed(lambda: sum(1 for _ in db.execute("SELECT src, dst, grp, size FROM moves WHERE run = ?"
                                                                   " ORDER BY seq DESC", (run,))))
    left_s, _, _ = timed(lambda: db.execute("SELECT path, label, confidence, reason FROM seen WHERE status != 'moved'")
                         .fetchall())
    db.close()
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
    return {"per_batch": per_batch, "pending": pending_s, "all": all_s, "all_peak": peak, "left": left_s, "mb": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--moves", type=positive_int, default=1_000_000,
                        help="moves in the journal (default 1,000,000: about 10 min on 2 cores)")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; features: {', '.join(cpu_features()) or 'none of ' + '/'.join(CPU_FEATURES)}; "
          f"{os.cpu_count()} logical CPUs", flush=True)
    run(args.moves)  # Ctrl-C or SIGTERM: `as_script` says so once the folder is removed


def run(moves: int) -> None:
    with tempfile.TemporaryDirectory(prefix="sorter-journal-", dir=os.environ.get("TMPDIR")) as tmp:
        root = Path(tmp) / "folder"
        root.mkdir()
        step(f"writing the journal of {moves:,} moves in {tmp}")
        mb = build_journal(root, moves)
        step("scan, recover, photos left in place")
        scan_s, state, scan_peak = timed(lambda: journal.scan(root))
        recover_s, _, _ = timed(lambda: recovery.recover(root))
        verdicts_s, left, _ = timed(lambda: read_verdicts(root))
        step("photos put back, a watcher's start")
        for n in range(1, moves + 1, max(1, moves // 100)):  # 100 photos of those names back in place
            (root / f"IMG_{n:07d}.jpg").write_bytes(b"")
        back_s, _, back_peak = timed(lambda: put_back(root, state))
        # A journal shorter than what a watcher remembers has no photo long forgotten: remember half.
        latecomers = Latecomers(limit=min(LIMIT, moves // 2))
        load_s, _, load_peak = timed(lambda: latecomers.load(root, state))
        arrived = root / "IMG_0000001.jpg"  # the first photo sorted: long forgotten in full
        assert latecomers.might_be_back(arrived)
        older_s, _, _ = timed(lambda: latecomers.older_put_backs(root, [arrived]))
        step("appending batches")
        per_batch = append_cost(Path(tmp) / "small" if (Path(tmp) / "small").mkdir() is None else root)
        step("the same moves in SQLite")
        sq = sqlite_catalog(Path(tmp) / "catalog.db", moves)
    print()
    print(f"{moves:,} moves (a sort of as many photos), batches of {BATCH}")
    print(f"{'':{LABEL}}{'JSON lines (today)':>20}{'SQLite, WAL':>16}")
    print(f"{'size on disk':{LABEL}}{mb:>17.0f} MB{sq['mb']:>13.0f} MB")
    print(f"{'write one batch (durable)':{LABEL}}{per_batch * 1000:>17.1f} ms{sq['per_batch'] * 1000:>13.1f} ms")
    print(f"{'start of every command (recover)':{LABEL}}{recover_s:>18.2f} s{sq['pending']:>14.4f} s")
    print(f"{'photos left in place (review)':{LABEL}}{verdicts_s:>18.2f} s{sq['left']:>14.2f} s   "
          f"({len(left):,} photos)")
    print(f"{'photos put back (sort, watch)':{LABEL}}{back_s:>18.2f} s{'':>14}   "
          f"(peak Python memory {back_peak:.1f} MB)")
    print(f"{'a watcher starts (Latecomers.load)':{LABEL}}{load_s:>18.2f} s{'':>14}   "
          f"(peak Python memory {load_peak:.1f} MB)")
    print(f"{'  a photo arrives where an old one was':{LABEL}}{older_s:>18.2f} s{'':>14}   "
          "(the journal read: put back?)")
    print(f"{'every move of the run (undo)':{LABEL}}{scan_s:>18.2f} s{sq['all']:>14.2f} s   "
          "(JSON: the scan; then its moves)")
    print(f"{'  peak Python memory':{LABEL}}{scan_peak:>17.0f} MB{sq['all_peak']:>13.0f} MB")

if __name__ == "__main__":
    as_script(main)
