"""An append-only, fsync'd journal of moves in `DIR/.sorter/journal.jsonl`.

Each move is written as an intent ("move") before the rename and confirmed ("done") after.
After a crash at any instant the file is at its source or at its destination (renames are
atomic; the link fallback can leave both names on one inode, which recovery resolves), so
the state on disk tells which side of the rename a pending intent is on. Undo is journaled
the same way ("undo"), which makes undo idempotent and itself crash-safe.

Names are stored as the filesystem gave them: a name that is not valid UTF-8 round-trips
through `surrogateescape`, so such a file can be journaled, moved and put back.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sorter.config import STATE_DIR

JOURNAL_NAME = "journal.jsonl"


@dataclass
class MoveRecord:
    run: str
    seq: int
    src: str  # relative to the sorted folder
    dst: str
    done: bool = False
    undone: bool = False
    abandoned: bool = False


def state_dir(root: Path) -> Path:
    return root / STATE_DIR


def journal_path(root: Path) -> Path:
    return state_dir(root) / JOURNAL_NAME


def _encode(record: dict) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")


def _read_lines(path: Path) -> Iterator[dict]:
    try:
        # surrogateescape: undecodable bytes (a non-UTF-8 file name, or a multi-byte
        # character cut by a crash) must never make the journal unreadable.
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # torn last line from a crash mid-append: the intent never happened
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a torn line that a later append completed (see Journal.__init__)
                if isinstance(record, dict):
                    yield record
    except FileNotFoundError:
        return


@dataclass
class Run:
    run: str
    started: float
    moves: list[MoveRecord]
    created_dirs: list[str]


def read_runs(root: Path) -> list[Run]:
    """All runs in the journal, oldest first, with each move's latest state."""
    runs: dict[str, Run] = {}
    moves: dict[tuple[str, int], MoveRecord] = {}
    for rec in _read_lines(journal_path(root)):
        op, run_id = rec.get("op"), rec.get("run", "")
        run = runs.setdefault(run_id, Run(run_id, rec.get("time", 0.0), [], []))
        if op == "move":
            move = MoveRecord(run_id, rec["seq"], rec["src"], rec["dst"])
            moves[(run_id, rec["seq"])] = move
            run.moves.append(move)
        elif op == "mkdir":
            run.created_dirs.append(rec["path"])
        elif op in ("done", "undo", "abandon") and (run_id, rec.get("seq")) in moves:
            move = moves[(run_id, rec["seq"])]
            if op == "done":
                move.done = True
            elif op == "undo":
                move.undone = True
            else:
                move.abandoned = True
    return [r for r in runs.values() if r.moves or r.created_dirs]


class Journal:
    """Appends records for one run. Every record is flushed and fsync'd before returning,
    so an intent is on disk before the move it announces."""

    def __init__(self, root: Path, run: str | None = None) -> None:
        self.root = root
        self.run = run or f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.seq = 0
        directory = state_dir(root)
        directory.mkdir(exist_ok=True)
        created = not journal_path(root).exists()
        self._fd = os.open(journal_path(root), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        if created:
            from sorter.moves import sync_dirs

            sync_dirs([directory, root])  # the journal's own name must survive a power cut too
        size = os.fstat(self._fd).st_size
        if size and os.pread(self._fd, 1, size - 1) != b"\n":
            # A crash cut the last record short. Without this newline our first record would
            # be glued onto the fragment and lost with it (an intent lost = a move undo cannot
            # see); with it, the fragment stays a line of its own that readers skip.
            self._write(b"\n")

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:  # os.write may write less than asked (signals, full disk)
            view = view[os.write(self._fd, view):]
        os.fsync(self._fd)

    def append(self, op: str, **fields) -> None:
        self._write(_encode({"op": op, "run": self.run, "time": round(time.time(), 3), **fields}))

    def append_many(self, op: str, items: list[dict]) -> None:
        """Several records, one write and one fsync (a batch of moves costs two fsyncs)."""
        if not items:
            return
        now = round(time.time(), 3)
        self._write(b"".join(_encode({"op": op, "run": self.run, "time": now, **fields}) for fields in items))

    def intents(self, pairs: list[tuple[Path, Path]]) -> list[int]:
        """Journal intended moves before making them; returns their sequence numbers."""
        seqs = list(range(self.seq + 1, self.seq + 1 + len(pairs)))
        self.seq += len(pairs)
        self.append_many(
            "move",
            [{"seq": n, "src": self._rel(s), "dst": self._rel(d)} for n, (s, d) in zip(seqs, pairs, strict=True)],
        )
        return seqs

    def mark(self, op: str, seqs: list[int]) -> None:
        self.append_many(op, [{"seq": n} for n in seqs])

    def _rel(self, path: Path) -> str:
        return os.path.relpath(path, self.root)


@dataclass(frozen=True)
class Recovered:
    completed: int  # interrupted moves found done and recorded
    rolled_back: int  # interrupted moves that never happened
    missing: list[str]  # files at neither place (removed by someone else)


def recover(root: Path) -> Recovered:
    """Settle every move whose outcome the journal does not record, from the state on disk.
    Runs under the folder lock, before any new work."""
    from sorter.moves import finish_link_move, sync_dirs

    completed, rolled_back, undone, missing = [], [], [], []
    for run in read_runs(root):
        for move in run.moves:
            if move.abandoned or move.undone:
                continue
            src, dst = root / move.src, root / move.dst
            if move.done:
                # Both names on one inode after a move that was done: an undo died inside the
                # link fallback. Finish it, or the next sort would file the photo twice.
                if os.path.lexists(src) and finish_link_move(dst, src):
                    undone.append(move)
                continue
            if os.path.lexists(dst) and os.path.lexists(src):
                (completed if finish_link_move(src, dst) else rolled_back).append(move)
            elif os.path.lexists(dst):
                completed.append(move)
            else:
                rolled_back.append(move)
                if not os.path.lexists(src):
                    missing.append(move.src)
    if completed or rolled_back or undone:
        settled = completed + undone
        sync_dirs([root, *{(root / m.dst).parent for m in settled}, *{(root / m.src).parent for m in settled}])
        with Journal(root, run="recovery") as journal:
            for op, moves in (("done", completed), ("abandon", rolled_back), ("undo", undone)):
                by_run: dict[str, list[int]] = {}
                for move in moves:
                    by_run.setdefault(move.run, []).append(move.seq)
                for run_id, seqs in by_run.items():
                    journal.run = run_id
                    journal.mark(op, seqs)
    return Recovered(len(completed), len(rolled_back), missing)
