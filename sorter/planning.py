"""Pure planning: predictions -> where each file goes. No file is touched here, so the
plan can be printed (dry run), tested and journaled before anything moves."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sorter.config import CLASS_FOLDERS, OTHER

Status = Literal["move", "neither", "unsure", "unreadable", "skipped"]
#: Why a photo a three-class model calls "other" stays where it is.
NEITHER_REASON = "not a cat or a dog"
#: Statuses of files left in place (those of results the sort could not move included), in
#: the order summaries list them.
LEFT_IN_PLACE = ("neither", "unsure", "unreadable", "skipped", "vanished", "failed")


def reason_kind(reason: str | None) -> str:
    """A reason without what belongs to one file, for counting files by it in summaries:
    "confidence 61% below --min-confidence 90%" -> "confidence below --min-confidence 90%",
    "cannot open: Permission denied" -> "cannot open", "file too large (300 MiB)" -> "file too
    large". Reasons are "what: detail" or "what (detail)" by convention, so new ones group too."""
    if not reason:
        return "no reason given"
    kind = reason.split(": ", 1)[0]
    kind = re.sub(r" \([^()]*\d[^()]*\)", "", kind)  # per-file numbers: (300 MiB), (20000x20000 pixels)
    return re.sub(r"^confidence \d+% below", "confidence below", kind)


@dataclass(frozen=True)
class Decision:
    source: Path
    status: Status
    label: str | None = None
    confidence: float | None = None
    destination: Path | None = None
    reason: str | None = None


def free_name(name: str, taken: set[str]) -> str:
    """`name` if free, else `stem (1).ext`, `stem (2).ext`, ... `taken` holds casefolded
    names, so a case-only difference never clobbers on case-insensitive filesystems."""
    if name.casefold() not in taken:
        return name
    stem, ext = os.path.splitext(name)
    n = 1
    while f"{stem} ({n}){ext}".casefold() in taken:
        n += 1
    return f"{stem} ({n}){ext}"


class Planner:
    """Plans destinations for a stream of predictions, remembering every name it has
    handed out so two files of one run never get the same destination."""

    def __init__(self, root: Path, existing: dict[str, set[str]], min_confidence: float) -> None:
        self.root = root
        self.min_confidence = min_confidence
        # casefolded names per destination folder: those already on disk plus those planned
        self.taken = {folder: {n.casefold() for n in names} for folder, names in existing.items()}

    def reserve(self, folder: str, name: str) -> str:
        """Pick and remember a free name in `folder` (also used when a move must retry)."""
        taken = self.taken.setdefault(folder, set())
        chosen = free_name(name, taken)
        taken.add(chosen.casefold())
        return chosen

    def decide(self, source: Path, label: str | None, confidence: float | None, error: str | None) -> Decision:
        if label is None or confidence is None:
            return Decision(source, "unreadable", reason=error or "cannot decode")
        if label == OTHER:  # whatever its confidence: --min-confidence is about filing pets
            return Decision(source, "neither", label, confidence, reason=NEITHER_REASON)
        if confidence < self.min_confidence:
            return Decision(
                source, "unsure", label, confidence,
                reason=f"confidence {confidence:.0%} below --min-confidence {self.min_confidence:.0%}",
            )
        folder = CLASS_FOLDERS[label]
        name = self.reserve(folder, source.name)
        return Decision(source, "move", label, confidence, self.root / folder / name)
