"""Photos an earlier sort or watch of the folder judged and left in place (neither, unsure,
unreadable), unchanged since, and judged by the same: what a watch started again does not judge
again. A service restarted daily on a camera roll of hundreds of non-pet photos ran the network
on all of them at each start, and said each "neither" again.

The journal's "seen" record of such a photo keeps, besides its identity and modification time,
what judged it (`judge_of`: the network, the personal head, `--min-confidence`) and, for one
left unreadable, its mode and owner (`mark`): a photo is skipped only where the latest record of
its path says it was left in place by that same judge, and the file there is as it was then
(`watching.watcher.stamp`: inode, size and time; where inode numbers do not last, size and time;
for one left unreadable, its mode and owner too, so a `chmod` brings it back). Anything else
(another `--model` or `--min-confidence`, a personal model `sorter learn` wrote since, the photo
rewritten or touched, a record older than this) is judged again, as before. So is one left
unreadable for a read that failed (`_passing`), or one left "cannot open" that this watch can
open (`_opens`): what made it unreadable is not the file's, and may be gone without a change to it. `sorter sort` judges
every photo it finds: a sort is asked for.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

#: What a photo was left in place for and is not judged again unchanged: not "failed" (a move the
#: disk refused, tried again) nor "vanished".
KEPT = frozenset({"neither", "unsure", "unreadable"})


def judge_of(classifier, min_confidence: float) -> str:
    """What decides a photo's fate, as 12 hex digits: the network (its fingerprint), its head or
    the personal one (its weights and what it names: `describe`), and `--min-confidence`. A fake
    of the tests', with none of these, is its class."""
    digest = hashlib.sha256(f"{getattr(classifier, 'fingerprint', None) or type(classifier).__qualname__}|"
                            f"{getattr(classifier, 'description', '')}|{float(min_confidence)!r}".encode())
    for part in getattr(classifier, "head", None) or ():
        digest.update(np.asarray(part).tobytes())
    return digest.hexdigest()[:12]


def mark(record: dict, st: os.stat_result, judge: str, judged: tuple[int, ...] | None) -> None:
    """A "seen" record (`Sorter._note_seen`) of a photo left in place, given what judged it and,
    left unreadable, the mode and owner it had: about 20 bytes, 40 for an unreadable one. Only
    where the file it records (`st`, after the batch) is the one judged (`judged`: `moves.judged_as`
    of it as it went to be judged): one written to meanwhile is judged again by the next watch."""
    if record["status"] in KEPT and judged == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
        record["by"] = judge
        if record["status"] == "unreadable":
            record["perm"] = [st.st_mode, st.st_uid, st.st_gid]


def left_before(root: Path, judge: str, inodes_last: bool) -> dict[Path, tuple[int, ...]]:
    """The photos of `root` whose latest "seen" record left them in place, judged by `judge`:
    path -> the signature the watcher skips a file by (`Watcher.settle`'s, from the record). One
    pass over the journal, streamed: it holds only those photos, each as the watcher would
    once it had judged it, and the watcher's first scan drops those no longer there."""
    from sorter.files.journal import seen_of

    found: dict[str, tuple[int, ...]] = {}
    shut: set[str] = set()  # left "cannot open": skipped only where it still cannot be opened
    for seen in seen_of(root):
        shut.discard(seen.path)
        if seen.status not in KEPT or seen.judge != judge or seen.mtime_ns is None or _passing(seen.reason):
            found.pop(seen.path, None)  # moved since, judged by another, an older record, or not for good
            continue
        signature = (seen.identity[1] if inodes_last else 0, seen.identity[2], seen.mtime_ns)
        if seen.status == "unreadable":
            if seen.perm is None:
                found.pop(seen.path, None)
                continue
            signature += seen.perm
            if (seen.reason or "").startswith("cannot open"):
                shut.add(seen.path)
        found[seen.path] = signature
    return {root / path: signature for path, signature in found.items()
            if path not in shut or not _opens(root / path)}


def _passing(reason: str | None) -> bool:
    """Left unreadable for a read that failed ("cannot read: Input/output error": a flaky disk or
    share): judged again at each start, as no change to the file is needed to read it next time."""
    return (reason or "").startswith("cannot read")


def _opens(path: Path) -> bool:
    """This process can open `path` to read it now: one left "cannot open: Permission denied" that
    can is judged again, though nothing about the file changed (the watch runs as another user,
    in another group, as root; an ACL, `usermod -aG`). One `open` a photo left so, at the start."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        os.close(os.open(path, flags))
    except OSError:
        return False
    return True
