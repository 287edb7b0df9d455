"""The folder's lock as a review's click takes it, and how long each wait is: beside a running
`sorter watch` (between two of its batches), after another review's click, never while a
`sort` runs (busy, after `BUSY_WAIT`)."""

from __future__ import annotations

from pathlib import Path

#: Seconds a correction waits for a watcher's batch to end (a batch of 64 phone photos: ~1.5 s).
WATCH_BATCH_WAIT = 10.0
#: Seconds a click waits for the lock held by another review of the folder (a click: ~50 ms;
#: its listing on a reload: 0.9 s on 10,000 photos) before it says busy: a sort holds it for minutes.
BUSY_WAIT = 2.0
#: Seconds `sorter review` waits to list the folder while another review lists it (3.8 s on 100,000 photos).
START_WAIT = 10.0


def folder_lock(root: Path, wait: float = BUSY_WAIT):
    """The folder's lock for one correction. Taken beside a running `sorter watch`, between two
    of its batches (waiting out the one in hand); held by another review, once its click is
    done (up to `wait`); a `sort` running refuses it after that wait (busy).
    A `.sorter/` it made goes with it unless a correction wrote there: a look leaves no trace."""
    from sorter.files.lock import FolderLock
    from sorter.files.watching_note import Watching

    wait = max(wait, WATCH_BATCH_WAIT if Watching.holder(root) else 0.0)
    return FolderLock(root, wait=wait, beside_watcher=True, tidy=True)
