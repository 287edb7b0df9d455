"""What a sorter from before the journal's "seen" records (7da573d, 2026-12-04) recorded of what it
decided about each photo, in the folders it sorted: `learn` and the review page read it where no
"seen" record speaks of a photo (`said_before_seen`, `left_in_place`).

- Its move records carry the label and confidence a photo was filed with (on a group's first
  member, `journal.Move`) and where it went: what a "seen" record of a moved photo says now.
- `.sorter/left.jsonl` (ea32108 and the sorters of its time; an older one kept no record of the
  photos it left) holds a line per photo it left in place, as it wrote them::

      {"path": "other_3.jpg", "status": "neither", "label": "other", "confidence": 0.9961, "reason": "not a cat or a dog"}

  A sort wrote it afresh, a watch appended: a later line for the same path wins.

Neither holds the file's identity: the file at the path is the photo, as the review page has always
told it where the journal keeps no identity (`judged.told_here`). A torn, damaged or foreign line is
skipped, never a traceback. Changes nothing; the file is never written again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sorter.config import REVIEW_RUN_PREFIX
from sorter.files.folder import open_own
from sorter.files.journal import JournalState, inside, moves_of, state_dir

LEFT_NAME = "left.jsonl"


@dataclass(frozen=True)
class Said:
    """What an older sorter decided about one photo: where it was after the run (relative to the
    folder), "moved" or why it stayed, the label and confidence, and the move's run and sequence
    number (a photo left in place: none)."""

    path: str
    status: str
    label: str | None
    confidence: float | None = None
    reason: str | None = None
    run: str = ""
    seq: int | None = None


def left_in_place(root: Path) -> dict[str, Said]:
    """The latest line of `.sorter/left.jsonl` for each path; none where the folder has no such file."""
    said: dict[str, Said] = {}
    try:
        f = open(open_own(state_dir(root) / LEFT_NAME), "rb")
    except OSError:
        return said
    with f:
        for raw in f:
            try:
                rec = json.loads(raw.decode("utf-8", "surrogateescape"))
                path, status, label, confidence, reason = (rec["path"], rec["status"], rec["label"],
                                                           rec["confidence"], rec["reason"])
            except (ValueError, KeyError, TypeError):
                continue
            if (inside(path) and isinstance(status, str) and isinstance(label, (str, type(None)))
                    and isinstance(reason, (str, type(None))) and type(confidence) in (int, float, type(None))):
                said[path] = Said(path, status, label, None if confidence is None else float(confidence), reason)
    return said


def said_before_seen(root: Path, state: JournalState, said_runs: set[str]) -> Iterator[Said]:
    """What the folder's older sorter said of its photos: those it left in place (`left_in_place`),
    then the photos filed by each run of `state` (`journal.scan`) not in `said_runs` (those that wrote
    "seen" records) and not a review's (a person's word, not sorter's), their moves not undone."""
    yield from left_in_place(root).values()
    for run in state.undoable_runs():
        if run.run in said_runs or run.run.startswith(REVIEW_RUN_PREFIX):
            continue
        for move in moves_of(root, run):
            if move.label is not None and move.seq == move.group and run.undoable(move.seq):
                yield Said(move.dst, "moved", move.label, move.confidence, None, move.run, move.seq)
