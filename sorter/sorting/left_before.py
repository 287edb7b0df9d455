"""Photos an earlier sort or watch of the folder judged and left in place (neither, unsure,
unreadable), unchanged since, and judged by the same, and those a watch found put back by the user
(`PUT_BACK`), unchanged since: what a watch started again does not judge, nor say, again. A
service restarted daily on a camera roll of hundreds of non-pet photos ran the network on all
of them at each start, and said each "neither" again.

The journal's "seen" record of such a photo keeps, besides its identity and modification time,
what judged it (`judge_of`: the network, the personal head, `--min-confidence`), its mode and
owner, and its ctime (`mark`): a photo is skipped only where the latest record of
its path says it was left in place by that same judge, and the file there is as it was then
(`watching.settling.stamp`: inode, size, time, mode, owner and ctime; where inode numbers do not
last, on FAT, exFAT and FUSE, whose ctime is its mtime or made up, size and time, and for one left
unreadable its mode and owner too, so a `chmod` brings it back). The ctime, which a running watch
does not compare, tells a photo rewritten in place, or replaced by one given its freed inode, of its
size and with its time put back (`touch -r`, `cp -p`): a hard link or a backup tool setting it
costs one more look at the photo, where leaving it out left a cat unsorted. Anything else
(another `--model` or `--min-confidence`, a personal model `sorter learn` wrote since, the photo
rewritten or touched, a record older than this) is judged again, as before. So is one left
unreadable for a read that failed (`_passing`), or one left "cannot open" that this watch can
open (`_opens`): what made it unreadable is not the file's, and may be gone without a change to
it. `sorter sort` judges every photo it finds: a sort is asked for.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from sorter.files.journal import Move
from sorter.media.folders import is_video_name
from sorter.wording import counted

#: What a photo was left in place for and is not judged again unchanged: not "failed" (a move the
#: disk refused, tried again) nor "vanished".
KEPT = frozenset({"neither", "unsure", "unreadable"})
#: A photo sorter moved that the user put back, as a watch said it ("skipped: you put it back from
#: cats/0.jpg"): a record of its own op ("back"), shaped as a "seen" one, which `learn`, the review
#: and `sort` (which tell put-backs from the moves) never read. The user's word: by no judge.
PUT_BACK = "put back"


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
    """A "seen" record (`Sorter._note_seen`) of a photo left in place, given what judged it, the
    mode and owner it had and its ctime (`settling.stamp`): about 70 bytes. Only
    where the file it records (`st`, after the batch) is the one judged (`judged`: `moves.judged_as`
    of it as it went to be judged): one written to meanwhile is judged again by the next watch."""
    if record["status"] in KEPT and judged == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
        record["by"] = judge
        record["perm"] = [st.st_mode, st.st_uid, st.st_gid]
        record["ctime"] = st.st_ctime_ns


class Left(NamedTuple):
    """A photo left in place before, as the watcher skips it (`Watcher.left_before`)."""

    signature: tuple[int, ...]  # what its first scan compares (`settling.stamp`, from the record)
    #: How much of it the running watch compares from then on (`Watcher.settle`'s): 3, or 6 for one
    #: left unreadable. Not the ctime: a hard link made meanwhile said a damaged photo again.
    running: int
    back: bool = False  # put back by the user (`PUT_BACK`): the first line counts them apart


class LeftBefore:
    """The photos of the folder whose latest "seen" record left them in place, judged by `judge`,
    or that the user put back (`PUT_BACK`): fed the journal's "seen" and "back" records in
    journal order by the pass a watch's start makes anyway (`Latecomers.load`), so the journal
    is read once, not twice (1.5 s a pass at 200,000 moves). It holds only those photos, each as
    the watcher would once it had judged it."""

    def __init__(self, judge: str, inodes_last: bool) -> None:
        self.judge = judge
        self.inodes_last = inodes_last
        self._found: dict[str, Left] = {}
        self._shut: set[str] = set()  # left "cannot open": skipped only where it still cannot be opened
        #: Photos put back, as a watch said it ("back" records): path -> (what it said, device, inode, size).
        self._said: dict[str, tuple[str, int, int, int]] = {}
        #: Videos judged on their own and left in place, by any judge: path -> `moves.Judged` (`videos`).
        self._videos: dict[str, tuple[int, int, int, int]] = {}

    def take(self, item) -> None:
        """A "seen" or "back" record (`journal.Seen`), or a standing move (`journal.Move`) of the pass."""
        if isinstance(item, Move):
            self._said.pop(item.src, None)  # moved from there since: a put-back after it is another
            self._videos.pop(item.src, None)
            return
        seen = item
        if seen.status in KEPT and seen.mtime_ns is not None and is_video_name(seen.path):
            self._videos[seen.path] = (*seen.identity, seen.mtime_ns)
        else:
            self._videos.pop(seen.path, None)
        found = self._found
        self._shut.discard(seen.path)
        back = seen.status == PUT_BACK
        if back and seen.reason:
            self._said[seen.path] = (seen.reason, *seen.identity)
        else:
            self._said.pop(seen.path, None)  # judged there since
        if not back and (seen.status not in KEPT or seen.judge != self.judge) or seen.mtime_ns is None \
                or _passing(seen.reason):
            found.pop(seen.path, None)  # moved since, judged by another, an older record, or not for good
            return
        signature = (seen.identity[1] if self.inodes_last else 0, seen.identity[2], seen.mtime_ns)
        unreadable = seen.status == "unreadable"
        if unreadable or self.inodes_last:
            if seen.perm is None or (self.inodes_last and seen.ctime_ns is None):
                found.pop(seen.path, None)  # a record older than this
                return
            signature += seen.perm + ((seen.ctime_ns,) if self.inodes_last else ())
        if unreadable and (seen.reason or "").startswith("cannot open"):
            self._shut.add(seen.path)
        found[seen.path] = Left(signature, 6 if unreadable else 3, back)

    def videos(self, root: Path) -> dict[Path, tuple[int, int, int, int]]:
        """The videos judged on their own and left in place, by whatever judge, as they were then:
        no photo of their stem come since takes one unchanged along (`alone.LeftAlone.judged_before`)."""
        return {root / path: judged for path, judged in self._videos.items()}

    def found(self, root: Path) -> dict[Path, Left]:
        """path -> what the watcher skips a file by (`Left`); the watcher's first scan drops those no longer there."""
        return {root / path: left for path, left in self._found.items()
                if path not in self._shut or not _opens(root / path)}

    def said(self, root: Path) -> dict[Path, str]:
        """The photos put back that a watch said ("skipped: you put it back from dogs/bo.jpg"),
        still the same file (device, inode and size; a `touch` keeps them): path -> what it said,
        which a watch started again does not say again. A touched one is no longer skipped as left
        before (its time changed), and was said again at each start after a touch. Where inode
        numbers do not last (FAT, exFAT, FUSE) nothing tells it is the same: said again, as before.
        One `lstat` a photo put back."""
        if not self.inodes_last:
            return {}
        said = {}
        for path, (reason, dev, ino, size) in self._said.items():
            try:
                st = os.lstat(root / path)
            except OSError:
                continue
            if (st.st_dev, st.st_ino, st.st_size) == (dev, ino, size):
                said[root / path] = reason
        return said


    @staticmethod
    def touched(said: dict[Path, str], put_back: Callable[[Path, os.stat_result], Path | None]) -> dict[Path, Left]:
        """Of the photos put back that a watch said (`said`), those still put back (`put_back`:
        `Latecomers.put_back`, by device, inode and size, whatever their time), as they are now:
        touched since, they are skipped as left before (`Left`, counted among those put back),
        where the first line counted them "to sort" and the watch then left them there unsaid.
        One `lstat` each (`said` holds none where inode numbers do not last)."""
        found = {}
        for path in said:
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if put_back(path, st) is not None:
                found[path] = Left((st.st_ino, st.st_size, st.st_mtime_ns), 3, back=True)
        return found


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


def note_put_back(journal, root: Path, back: list[tuple[Path, Path]], handed: dict[Path, os.stat_result]) -> None:
    """Journal (`PUT_BACK`) the photos a watch found put back (where each is, where it was put back
    from) and said so, each as it was handed
    out (`handed`) and is still: a watch started again skips them unchanged, as it skips those
    left in place, where it said each again, and counted it "already there" to sort. A journal
    that cannot be written to now: they are said again at the next start, as before."""
    from sorter.files.put_backs import put_back_reason

    records = []
    for path, was in back:
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if (then := handed.get(path)) is None or (then.st_dev, then.st_ino, then.st_size, then.st_mtime_ns) != (
                st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
            continue  # written to since it was looked at: the next watch looks again
        records.append({"path": os.path.relpath(path, root), "label": None, "status": PUT_BACK,
                        "id": [st.st_dev, st.st_ino, st.st_size], "mtime": st.st_mtime_ns,
                        "reason": put_back_reason(os.path.relpath(was, root)),
                        "perm": [st.st_mode, st.st_uid, st.st_gid], "ctime": st.st_ctime_ns})
    try:
        journal.append_many("back", records)
    except OSError:
        pass


def already_there(found: int, unchanged: int, back: int = 0, joining: int = 0) -> str:
    """What a watch's first line says of the photos and videos it found: `found` to sort and
    `unchanged` left before, not judged again, `back` of them put back by the user. All of them
    first: "0 photos and videos already there; 7 left in place before" read as if the folder were
    empty. `joining`: companions of photos sorted before, which join them (no photo or video of
    the count's: `sort --json` says "to join")."""
    there = f"{counted(found + unchanged, 'photo or video', 'photos and videos')} already there"
    joins = f"; {counted(joining, 'companion')} to join {'its photo' if joining == 1 else 'their photos'}" if joining else ""
    if not unchanged:
        return there + joins
    left = f"left in place before{f' ({back:,} you put back)' if back else ''} and unchanged since"
    if not found:
        return f"{there}, {'all ' if unchanged > 1 else ''}{left}: not judged again{joins}"
    return f"{there}: {found:,} to sort, {unchanged:,} {left}, not judged again{joins}"
