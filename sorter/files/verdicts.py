"""What sorter last said of each photo it left in place, for the review server: read from the
journal's "seen" records (see `journal.py`), the one record of what a sort decided about a
photo, which `sorter learn` reads too.

Moved photos are found through their move records; photos left in place leave only their
"seen" record, which carries why they stayed (neither, unsure at 61%, unreadable), so the
review server can group them by it and order them by confidence. A later record for the same
path wins: a photo judged again by a later sort or watch shows its newest verdict.

Which photos sorter moved are back where it found them is `put_backs.py`'s; what tells a file
by what it is, `identities.py`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sorter.files.judged import same_of

#: Results that leave a photo where it was and say why.
LEFT = frozenset({"neither", "unsure", "unreadable", "failed", "vanished"})


@dataclass(frozen=True)
class Verdict:
    status: str
    label: str | None
    confidence: float | None
    reason: str | None
    #: The run that said it, and the file it said it of (`identities.SameFile`, or an `Identity` in
    #: older journals): the review page tells a file renamed over the photo since by them.
    run: str | None = field(default=None, compare=False)
    same: tuple[int, ...] | None = field(default=None, compare=False)
    #: The file's ctime when it was judged (None: not recorded): a `touch` since leaves it the photo.
    ctime_ns: int | None = field(default=None, compare=False)


def read_verdicts(root: Path) -> dict[str, Verdict]:
    """The latest verdict for each path (relative to the folder) whose latest record left it
    in place; torn or foreign lines are skipped (`journal.seen_of`)."""
    from sorter.files.journal import seen_of

    verdicts: dict[str, Verdict] = {}
    for seen in seen_of(root):
        note(verdicts, seen)
    return verdicts


def standing_seen(root: Path, state) -> Iterator:
    """`journal.seen_of`, less the records of a move that was undone (or never done) by the
    journal's `state` (`journal.scan`): that photo went back where it was, and the record no
    longer says where it is. What `sorter learn` and `sort --name-pets` read."""
    from sorter.files.journal import seen_of

    return (seen for seen in seen_of(root) if stands(seen, state))


def stands(seen, state) -> bool:
    """The "seen" record still says where the photo is: not the record of a move that was
    undone (or never done) by the journal's `state`."""
    if seen.seq is None:
        return True
    run = state.runs.get(seen.run)
    return run is not None and run.undoable(seen.seq)


def note(verdicts: dict[str, Verdict], seen) -> None:
    """Take one "seen" record (`journal.Seen`, oldest first) into `verdicts`."""
    if seen.status in LEFT:
        verdicts[seen.path] = Verdict(seen.status, seen.label, seen.confidence, seen.reason, seen.run, same_of(seen),
                                     seen.ctime_ns)
    else:
        verdicts.pop(seen.path, None)  # moved since: what was said of it in place is history
