"""When the watcher counts a file as complete, and what it hands out at a time: how long it
waits for a file to settle (`WatchSettings`: after a close, unchanged, a video's index, a Live
Photo's photo, an unreadable file's last piece), how much one batch takes (`VIDEOS_PER_BATCH`,
`BYTES_PER_BATCH`), and what tells that a file changed (`stamp`, `still`), which a file left in
place is compared by too. The `Watcher` applies them; `unreadable` compares by `stamp` as well.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sorter.watching.leases import open_for_writing

Signature = tuple[int, ...]  # the start of a `stamp`: (inode, size, mtime_ns), with the mode and owner, or all of it


def stamp(st: os.stat_result, inodes_last: bool = True) -> tuple[int, int, int, int, int, int, int]:
    """What the watcher tells a file's changes by. (inode, size, mtime_ns): its content; a file
    left in place for what it holds (unsure, neither) is looked at again only when they change.
    (mode, uid, gid) after them: what a chmod, chown or chgrp changes, how a file left unreadable
    ("Permission denied") becomes readable unwritten: such a file is compared by these six
    (`Watcher.settle`). The ctime last, which a running watch does not compare: a hard link, an
    xattr or a backup tool sets it too, and a damaged photo was said again at each. A watch
    started again does (`sorting.left_before`), where inodes last: a photo rewritten in place, or
    replaced by one given its freed inode, of its size and with its time put back (`touch -r`,
    `cp -p`), changes nothing else. Not the inode (0 in its place) where numbers do not last
    (`identities.inodes_last`): exfat-fuse numbers a file anew once the kernel forgets it, and a
    photo left there was judged again."""
    return (st.st_ino if inodes_last else 0, st.st_size, st.st_mtime_ns, st.st_mode, st.st_uid, st.st_gid,
            st.st_ctime_ns)


@dataclass(frozen=True)
class WatchSettings:
    #: Unchanged this long counts as complete, for writers we never see close the file.
    settle: float = 0.5
    #: After a close-after-write: a writer that reopens at once to append is still caught.
    closed_grace: float = 0.1
    #: Reconciliation scan: picks up whatever events were lost (queue overflow, a dead observer).
    rescan_interval: float = 30.0
    #: --polling (and the inotify-limit fallback): how often the folder is listed.
    poll_interval: float = 1.0
    #: Longest sleep of the consumer loop, which bounds how late a stop request is seen.
    idle_wait: float = 0.25
    #: A video whose container has no index yet (see `container.incomplete`) waits this long
    #: unchanged: a phone pausing while it records, a copy stalled on a slow network.
    video_index_wait: float = 60.0
    #: A video that may be a Live Photo's (`.MOV`, `.MP4`) waits this long once complete for a
    #: photo of its stem: phones and sync tools copy it before the photo as often as after, and
    #: judged alone it would go its own way (a cat's video into cats/, its photo into dogs/).
    #: A photo arriving meanwhile takes it along. One whose photo was sorted already waits for
    #: none (`Watcher.joins`): it joins that photo once complete.
    pair_wait: float = 10.0
    #: A file judged unreadable is reported once it has stood unchanged this long since it was
    #: taken: one written in closed pieces (`curl >>`, a sync tool appending) is judged, truncated,
    #: at each close, and was reported at each (9 lines in 5 s for one photo). See `unreadable`.
    unreadable_wait: float = 10.0


#: Videos in one batch at most: one takes about 0.4 s to judge (eight keyframes), a photo a few
#: milliseconds, and a batch holds the folder's lock, so a review's click waiting beside the
#: watcher waits seconds, not the half a minute of 64 videos (it gives up after 10).
VIDEOS_PER_BATCH = 4
#: Bytes of photos in one batch at most (one photo always goes, however large): a phone's JPEG
#: is decoded at an eighth of its size, a few milliseconds, but a PNG or TIFF is decoded whole,
#: and 64 scans of 50 MB each would hold the lock well past a click's 10 s.
BYTES_PER_BATCH = 256 * 2**20


def still(path: Path, signature: tuple, inodes_last: bool) -> bool:
    """`path` as `signature` (3 or 6 of `stamp`) says: a video handed out with an `lstat` of before
    its index was written found "changed since it was judged" at its move, and was judged twice."""
    try:
        return stamp(os.lstat(path), inodes_last)[:len(signature)] == signature
    except OSError:
        return False


@dataclass
class Candidate:
    """A file the watcher waits on (`Watcher.take_ready`)."""

    since: float  # last sign of activity: an event, or a change we saw ourselves
    closed: bool = False  # a close-after-write is the latest event
    signature: Signature | None = None  # what lstat said at the last check since `since`
    live: tuple[Signature | None, bool] | None = None  # `Watcher._waits_for_photo`, for the file as it was then
    written: bool = False  # being written: an event or a change seen since the watch began, no close since


def complete_at(path: Path, cand: Candidate, st: os.stat_result, now: float, settings: WatchSettings,
                inodes_last: bool, incomplete: Callable[[Path], str | None], is_video: bool) -> float:
    """When the candidate `path` (`st`, as `lstat` says it now) counts as complete, its wait for
    a Live Photo's photo aside (`pair_wait`): once unchanged for `closed_grace` after a close,
    else for `settle`; no writer holding it open (`leases`); a video's container whole (its
    index written, which comes last), for at most `video_index_wait` unchanged without one. A
    change seen since the last look (polling, network shares) starts its wait again."""
    signature = stamp(st, inodes_last)[:3]
    if cand.signature is not None and cand.signature != signature:
        cand.since, cand.closed, cand.written = now, False, True  # changed with no event: still being written
    cand.signature = signature
    due = cand.since + (settings.closed_grace if cand.closed else settings.settle)
    if now >= due and open_for_writing(path):
        cand.since, cand.closed, cand.written = now, False, True  # a writer is idle but not done
        due = now + settings.settle
    if now >= due and is_video and now < cand.since + settings.video_index_wait:
        # A camera or a copy writes an MP4's index last: without it, not done yet.
        # Unchanged that long without one, it goes to be reported as truncated.
        if incomplete(path):
            due = min(now + settings.settle, cand.since + settings.video_index_wait)
        elif not still(path, signature, inodes_last):  # its index written as it was read: `st` is before
            cand.since, cand.closed, cand.written = now, False, True
            due = now + settings.settle
    return due


def by_stem(paths: Iterable[Path], companion: Callable[[str], bool]) -> dict[tuple[Path, str], list[Path]]:
    """The `companion` names among `paths` (candidates), by their folder and each stem they pair
    by (`companions.pairing_stems`, casefolded): IMG_1.MOV under IMG_1, IMG_1.jpg.xmp under IMG_1.jpg."""
    from sorter.files.companions import pairing_stems

    found: dict[tuple[Path, str], list[Path]] = {}
    for path in paths:
        if companion(path.name):
            for stem in dict.fromkeys(s.casefold() for s in pairing_stems(path.name)):
                found.setdefault((path.parent, stem), []).append(path)
    return found


def members(photo: Path, stems: dict[tuple[Path, str], list[Path]]) -> list[Path]:
    """The candidates of `stems` (`by_stem`) a photo takes along once they are complete: by its
    stem (a Live Photo's `IMG_1.MOV`, `IMG_1.AAE`) or its whole name (`IMG_1.HEIC.xmp`)."""
    keys = dict.fromkeys((photo.parent, name.casefold()) for name in (os.path.splitext(photo.name)[0], photo.name))
    return [member for key in keys for member in stems.get(key, ()) if member != photo]
