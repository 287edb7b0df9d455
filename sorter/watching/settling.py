"""When the watcher counts a file as complete, and what it hands out at a time: how long it
waits for a file to settle (`WatchSettings`: after a close, unchanged, a video's index, a Live
Photo's photo, an unreadable file's last piece), how much one batch takes (`VIDEOS_PER_BATCH`,
`BYTES_PER_BATCH`), and what tells that a file changed (`stamp`, `still`), which a file left in
place is compared by too. The `Watcher` applies them; `unreadable` compares by `stamp` as well.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
