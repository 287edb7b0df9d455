"""What sorter last said of each photo it left in place, for the review server: read from the
journal's "seen" records (see `journal.py`), the one record of what a sort decided about a
photo, which `sorter learn` reads too.

Moved photos are found through their move records; photos left in place leave only their
"seen" record, which carries why they stayed (neither, unsure at 61%, unreadable), so the
review server can group them by it and order them by confidence. A later record for the same
path wins: a photo judged again by a later sort or watch shows its newest verdict.

And which photos sorter moved are back where it found them (`put_back`): the user's word,
which `sort` and `watch` leave where it is.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: A file's identity as a "seen" record keeps it (`journal.Seen.identity`): a rename or a plain
#: `mv` within the filesystem keeps it, so sorter finds a photo the user moved.
Identity = tuple[int, int, int]  # st_dev, st_ino, st_size


def identity_of(st: os.stat_result) -> Identity:
    return (st.st_dev, st.st_ino, st.st_size)

#: Results that leave a photo where it was and say why.
LEFT = frozenset({"neither", "unsure", "unreadable", "failed", "vanished"})


@dataclass(frozen=True)
class Verdict:
    status: str
    label: str | None
    confidence: float | None
    reason: str | None


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
        verdicts[seen.path] = Verdict(seen.status, seen.label, seen.confidence, seen.reason)
    else:
        verdicts.pop(seen.path, None)  # moved since: what was said of it in place is history


#: Seconds after a review's move within which the photo it put back has its inode changed (the
#: rename sets its ctime): a file at that path changed later is a new photo, or one edited since.
PUT_BACK_SETTLE = 60.0


def put_back(root: Path, state) -> dict[str, str]:
    """Photos sorter moved that are back where it found them, as they were: path -> where
    from (both relative to the folder). The user's word, which `sort` and `watch` leave where
    it is: put back by a review ("Neither" on the review page) or by hand. A later correction
    of the photo takes it elsewhere, and so forgets it; a new photo of the same name, or the
    photo edited since, is judged again. `state`: the journal, scanned."""
    return {**by_hand(root, state), **by_review(root, state)}


def by_review(root: Path, state) -> dict[str, str]:
    """`put_back` by a review: a file at the place a review moved a photo back to, whose inode
    has not changed since (the photo, not a new one of its name or the photo edited)."""
    from sorter.config import CLASS_FOLDERS, REVIEW_RUN_PREFIX
    from sorter.files.journal import moves_of

    back: dict[str, tuple[str, float]] = {}
    for run in state.runs.values():  # oldest first; each run's moves in journal order, from its own stretch
        if not run.run.startswith(REVIEW_RUN_PREFIX):
            continue
        for move in moves_of(root, run):
            back.pop(move.src, None)
            if run.undoable(move.seq) and move.seq == move.group and move.dst.split("/", 1)[0] not in CLASS_FOLDERS.values():
                back[move.dst] = (move.src, float(move.time or 0.0))
    return {where: was for where, (was, when) in back.items() if _as_put_back(root / where, when)}


@dataclass
class _Left:
    """A photo a sort or watch moved from a place that holds a file again (`by_hand`)."""

    run: str
    seq: int
    now: str  # where the journal last put it


def by_hand(root: Path, state) -> dict[str, str]:
    """`put_back` by hand: a file where a sort or watch found a photo, that is the photo it
    moved (the identity and modification time its "seen" record gives), while the journal
    says it is still sorted. One pass over the journal: each standing move and an `lstat` of
    its first place, holding only the moves whose place holds a file again (flat memory at a
    million); "seen" records are parsed only while such a move's is still to come (it follows
    its batch's moves), so the pass costs about what reading the moves alone does."""
    from sorter.config import REVIEW_RUN_PREFIX
    from sorter.files.journal import Move, moves_and_seen

    base = os.path.join(root, "")  # joined as strings: a `Path` per move cost more than the lstat
    left: dict[str, _Left] = {}  # where the photo was -> what became of it
    now: dict[str, str] = {}  # where such a photo is, by the journal -> where it was
    pending: dict[tuple[str, int], str] = {}  # such moves whose "seen" record is to come -> where it was
    same: dict[str, tuple[int, ...]] = {}  # where it was -> the photo's identity and modification time
    for item in moves_and_seen(root, state, with_seen=lambda: bool(pending)):
        if not isinstance(item, Move):
            was = pending.pop((item.run, item.seq), None) if item.seq is not None else None
            if was is not None and item.mtime_ns is not None:
                same[was] = (*item.identity, item.mtime_ns)
            continue
        was = now.pop(item.src, None)
        if was in left and left[was].now == item.src:  # moved on by sorter (a review's correction): followed
            if item.dst == was:
                del left[was]  # a review put it back: `by_review`'s
            else:
                left[was].now, now[item.dst] = item.dst, was
        if item.seq == item.group and not item.run.startswith(REVIEW_RUN_PREFIX) and os.path.lexists(base + item.src):
            left[item.src] = _Left(item.run, item.seq, item.dst)
            now[item.dst] = item.src
            pending[(item.run, item.seq)] = item.src
            same.pop(item.src, None)  # an earlier move from that place: this one's record counts
    back = {}
    for was, identity in same.items():
        if was not in left:
            continue
        try:
            st = os.lstat(base + was)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and identity == (*identity_of(st), st.st_mtime_ns):
            back[was] = left[was].now
    return back


def _as_put_back(path: Path, when: float) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_ctime <= when + PUT_BACK_SETTLE


def put_back_reason(was: str) -> str:
    """Why `sort` and `watch` skip a photo put back from `was` (relative to the folder)."""
    return f"you put it back from {was}; left there"
