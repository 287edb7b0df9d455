"""The file-event observers watchdog offers, set up for the watcher: inotify (with its move
pairing shortened), polling that lists only what a scan enters, and what the inotify
observer logs turned into the watcher's notices."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.config import CLASS_FOLDERS, STATE_DIR, entered

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver

Notice = Callable[[str], None]

#: How long watchdog may hold an IN_MOVED_FROM to pair it with its IN_MOVED_TO (see below).
MOVE_PAIRING_DELAY = 0.05


def inotify_limit_message(exc: OSError, new_folders: bool = False) -> str:
    """`new_folders`: reached while watching, as new sub-folders came: those are not watched."""
    if exc.errno == errno.EMFILE:
        limit = "fs.inotify.max_user_instances=1024"
        what = "the inotify instance limit"
    else:
        limit = "fs.inotify.max_user_watches=524288"
        what = "the inotify watch limit"
    then = ("new sub-folders are not watched (the scan every 30 s finds what arrives in them)" if new_folders
            else "native file events are unavailable; falling back to polling (slower to notice new files)")
    return (
        f"{what} is reached, so {then}. To fix, run: sudo sysctl {limit} "
        f"(and add {limit} to /etc/sysctl.d/90-inotify.conf to keep it after a reboot)"
    )


class ObserverLog:
    """What watchdog's inotify observer logs while it runs, as the watcher's own notices: past
    the watch limit (`-r` on a tree that grows), one line per new folder, its path as bytes,
    and no advice. Said once, with the fix; any other message as one line."""

    def __init__(self, notify: Notice) -> None:
        import logging

        self.notify = notify
        self.told = False
        self.logger = logging.getLogger("watchdog.observers.inotify")
        self.handler = logging.Handler()
        self.handler.emit = self._emit
        self.logger.addHandler(self.handler)
        self.propagate, self.logger.propagate = self.logger.propagate, False

    def _emit(self, record) -> None:
        message = record.getMessage()
        if "Unable to watch" in message and any(str(code) in message for code in (errno.ENOSPC, errno.EMFILE)):
            if not self.told:
                self.told = True
                limit = OSError(errno.EMFILE if f"[Errno {errno.EMFILE}]" in message else errno.ENOSPC, "")
                self.notify(inotify_limit_message(limit, new_folders=True))
            return
        self.notify(f"file events: {message}")

    def close(self) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.propagate = self.propagate


def native_observer() -> BaseObserver:
    from watchdog.observers import Observer

    try:
        from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper
    except ImportError:  # not Linux, or another watchdog layout: only slower, still correct
        pass
    else:
        # watchdog holds every IN_MOVED_FROM for 0.5 s to pair it with an IN_MOVED_TO, in a
        # FIFO, so every later event waits behind it. Each of our own moves out of DIR is
        # such an unpaired move (cats/ is not watched), which made each file arriving after
        # a move wait up to half a second. The two halves of a rename come in one read, so
        # 50 ms still pairs them; and an unpaired move reads as deleted + created, which
        # this module treats exactly like a move anyway.
        InotifyMoveEventGrouper.delay = min(InotifyMoveEventGrouper.delay, MOVE_PAIRING_DELAY)
    return Observer()


def polling_observer(interval: float, root: Path) -> BaseObserver:
    """watchdog's polling observer, listing only the folders a scan enters: not the watched
    folder's cats/, dogs/ and .sorter/ (a cats/ of 20,000 photos listed every second took a third
    of a core while nothing arrived), nor hidden, system or other apps' folders anywhere."""
    from watchdog.observers.polling import PollingObserverVFS

    from sorter.media.folders import excluded_by_case

    top, own = os.fspath(root), frozenset({*CLASS_FOLDERS.values(), STATE_DIR})

    def ours(name: str) -> bool:  # cats/, or a Cats/ that is cats/ on an SD card
        return name in own or excluded_by_case(root, name, own)

    def listdir(path):
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and (not entered(entry.name) or (path == top and ours(entry.name))):
                    continue
                yield entry

    return PollingObserverVFS(os.stat, listdir, polling_interval=interval)
