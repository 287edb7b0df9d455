"""Whether the file at a place the journal speaks of is the one a sort judged there: the photo it
filed (`still_filed`), or the one it left in place (`is_the_file`). Another file at that name,
renamed or copied over it since (a sync client's `x.part` renamed into place), or a new photo
saved there after it was deleted and given its freed inode number, was judged by no one: the
review page shows it as "not sorted yet", and `learn` reads it so too, neither a photo kept as
sorted nor a correction. One judgement, here, so that the two never disagree about a file.
A `touch` (a photo viewer setting the time) leaves a photo the one judged, filed or left in place:
its device, inode and size tell it where inode numbers last, and its birth tells it from a new file
given its freed inode number (no later than the move that filed it; than its ctime when judged, for
one left in place).

Costs an `lstat` of the file (the review page's, made anyway for its card; `learn`'s, only for a
photo it would count at its own place), and a `statx` where a file is told by its inode.
"""

from __future__ import annotations

import os
from pathlib import Path


def told_here(ids, run: str | None, record: tuple[int, ...] | None,
              st: os.stat_result | None) -> tuple[int, ...] | None:
    """The journal's `record` (`identities.SameFile` or `Identity`, taken by `run`) as it tells the
    file `st` here (`Identities.of`, `ids` an `Identities`): a record on another device than the
    file, a photo filed across filesystems by a copy (which keeps its size and time), tells it by its
    size and time. None where nothing tells (no record: an older journal; no file): the path tells it."""
    from sorter.files.identities import elsewhere

    if record is None or run is None or st is None:
        return None
    record = ids.of(run, tuple(record))
    return record if record[0] == st.st_dev else elsewhere(record)


def is_the_file(ids, run: str | None, record: tuple[int, ...] | None, ctime_ns: int | None, path: Path,
                st: os.stat_result | None) -> bool:
    """The file at `path` (`st`) is the photo `run` left in place there (`record`, as `told_here`
    tells it), not another renamed over its name since (a cat photo over car0.jpg, left as
    neither): the very file (`Identities.match`), or that file touched since, as `still_filed` tells
    a filed photo (`Identities.is_back`: its device, inode and size, where inodes last), born no
    later than its ctime when it was judged (`ctime_ns`, the "seen" record's: a file's ctime is
    never before its birth), so that a new file of its size given its freed inode number, born
    after that, is not the photo (`identities.born_by`, to the nanosecond: a photo's birth is its
    first ctime). Where no birth time can be read, or the record keeps no ctime (an older journal,
    an unreadable photo), its time tells, as it did: a touched photo left in place is "not sorted
    yet", the safe failure of a new file taken for the photo."""
    from sorter.files.identities import born_by

    record = told_here(ids, run, record, st)
    return record is None or ids.match(record, st) or (
        ids.last(record) and ids.is_back(record, st) and born_by(path, ctime_ns))


def still_filed(ids, run: str | None, same: tuple[int, ...] | None, when: float | None, path: Path,
                st: os.stat_result | None) -> bool:
    """The file at `path` (`st`) is the photo that `run` filed there (`same`, its `SameFile` as
    `as_seen` gives it; `when`, the move's time), touched since or not, as `sort`, `watch` and `undo`
    tell it: its device, inode and size where inodes last (`Identities.is_back`: a `touch` or a
    viewer setting the time leaves it the photo), and not born after the move
    (`identities.born_after`: a new photo of its size saved after the photo was deleted, given its
    freed inode number, is a new photo); else its size and time."""
    from sorter.files.identities import born_after

    record = told_here(ids, run, same, st)
    return record is None or (ids.is_back(record, st) and not (ids.last(record) and born_after(path, when)))


def as_seen(same: tuple[int, ...] | None, when: float | None, seen) -> tuple[tuple[int, ...], float | None]:
    """What tells the photo a move filed (`same`, the file before the move; `when`, the move's time)
    once the move's "seen" record (`journal.Seen`, written right after it) follows: the record's
    identity and time, and the move's time, unless the record's inode is another than the move's
    (a copy across filesystems: that file was born in the move, so its birth says nothing)."""
    after = same_of(seen)
    moved = same is None or tuple(same[:2]) == tuple(seen.identity[:2])
    return after, when if moved else None


def same_of(seen) -> tuple[int, ...]:
    """The file a "seen" record (`journal.Seen`) was written of: its `SameFile`, or its `Identity`
    alone in journals older than its time."""
    return seen.identity if seen.mtime_ns is None else (*seen.identity, seen.mtime_ns)
