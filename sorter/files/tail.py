"""What other sorters appended to a folder's journal since `sorter review` listed the folder.

A watcher runs beside the review server and sorts new arrivals between two clicks. A click
still means what it meant when what was appended since is settled (every intent done or
abandoned, no crash to recover) and names none of the photos it moves: the review session
then goes on, and lists the new photos at the next reload (`review.session`)."""

from __future__ import annotations

from pathlib import Path

from sorter.files.journal import journal_path
from sorter.files.journal_records import OUTCOMES, records


def appended(root: Path, start: int, end: int) -> tuple[bool, set[str]]:
    """Of the journal's records from byte `start` to `end`: whether every intent among them is
    settled among them, and every path they name (relative to the folder)."""
    unsettled: set[tuple[object, object]] = set()
    named: set[str] = set()
    for _, _, rec in records(journal_path(root), start, end):
        op, key = rec.get("op"), (rec.get("run"), rec.get("seq"))
        if op in ("move", "unmove"):
            unsettled.add(key)
            named.update(str(rec.get(field)) for field in ("src", "dst"))
        elif op in OUTCOMES:
            unsettled.discard(key)
        elif op == "seen":  # a verdict on a photo left in place
            named.add(str(rec.get("path")))
    return not unsettled, named
