"""What sorter last said of each photo it left in place: `DIR/.sorter/left.jsonl`, one JSON
line per photo (path, status, label, confidence, reason), appended as a run goes.

Moved photos need no line here: the journal records every move with its label and
confidence. Photos left in place leave no trace in the journal, yet the review server must
group them by why they stayed (neither, unsure at 61%, unreadable) and order them by
confidence. A sort starts the file afresh (it judges every photo in place again); a watch
appends. Not fsync'd: losing it after a power cut loses the confidence shown beside a
photo, never a photo, and a later line for the same path wins, so it is read as a stream
into one entry per photo.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from sorter.config import STATE_DIR

VERDICTS_NAME = "left.jsonl"
#: Results that leave a photo where it was and say why.
LEFT = frozenset({"neither", "unsure", "unreadable", "failed", "vanished"})


def verdicts_path(root: Path) -> Path:
    return root / STATE_DIR / VERDICTS_NAME


@dataclass(frozen=True)
class Verdict:
    status: str
    label: str | None
    confidence: float | None
    reason: str | None


class VerdictLog:
    """Appends a line for each result of a run that left its photo in place."""

    def __init__(self, root: Path, *, fresh: bool = False) -> None:
        self.root = root
        self.fresh = fresh
        self._file = None
        self._failed = False

    def add(self, result) -> None:
        """Take one `sorting.results.FileResult`; moved, planned and skipped ones are not written."""
        if result.status not in LEFT or self._failed:
            return
        if self._file is None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | (os.O_TRUNC if self.fresh else os.O_APPEND)
            try:
                verdicts_path(self.root).parent.mkdir(exist_ok=True)
                fd = os.open(verdicts_path(self.root), flags, 0o644)
            except OSError:
                self._failed = True  # a record for the review server, not worth failing a sort over
                return
            self._file = open(fd, "w", encoding="utf-8", errors="surrogateescape")
        confidence = None if result.confidence is None else round(result.confidence, 4)
        record = {
            "path": os.path.relpath(result.path, self.root), "status": result.status,
            "label": result.label, "confidence": confidence, "reason": result.reason,
        }
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_verdicts(root: Path) -> dict[str, Verdict]:
    """The latest verdict for each path (relative to the folder); torn or foreign lines are skipped."""
    verdicts: dict[str, Verdict] = {}
    try:
        f = open(verdicts_path(root), "rb")
    except OSError:
        return verdicts
    with f:
        for raw in f:
            try:
                record = json.loads(raw.decode("utf-8", "surrogateescape"))
                verdicts[record["path"]] = Verdict(record["status"], record["label"], record["confidence"], record["reason"])
            except (ValueError, KeyError, TypeError):
                continue
    return verdicts
