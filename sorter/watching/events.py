"""File events in: the handler that runs on the observer thread and turns watchdog's events
into the watcher's candidate updates, and the observer's start (falling back to polling when
the inotify limits are hit), health check and quiet stop. What counts as complete is the
watcher's (`watcher`); which observers there are, `observers`."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from sorter.watching import observers

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver


class Candidates(Protocol):
    """What the events feed: `watcher.Watcher`."""

    root: Path
    notify: observers.Notice

    def note(self, path: str | Path, *, closed: bool = False) -> None: ...
    def forget(self, path: str | Path) -> None: ...
    def rescan_soon(self) -> None: ...


class Events(FileSystemEventHandler):
    """Runs on the observer thread: turns events into candidate updates, never raises."""

    def __init__(self, watcher: Candidates) -> None:
        self.watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._handle(event)
        except Exception as exc:  # an exception here would kill the observer thread
            self.watcher.notify(f"ignored a file event ({type(exc).__name__}: {exc})")

    def _handle(self, event: FileSystemEvent) -> None:
        w = self.watcher
        kind = event.event_type
        src = os.fsdecode(event.src_path)
        if event.is_directory:
            if kind in ("created", "moved") or (kind == "deleted" and Path(src) == w.root):
                # A whole folder moved in arrives as one event: let the scan find its files.
                # (The scan is also what notices that the watched folder itself is gone.)
                w.rescan_soon()
            return
        if kind in ("created", "modified"):
            w.note(src)
        elif kind == "closed":
            w.note(src, closed=True)
        elif kind == "moved":
            w.forget(src)
            if event.dest_path:
                # Renaming to the final name is how downloaders and rsync say "done".
                w.note(os.fsdecode(event.dest_path), closed=True)
        elif kind == "deleted":
            w.forget(src)
        elif kind == "attrib":  # a chmod may make a file left unreadable readable (`settle`)
            w.note(src)
        # opened / closed_no_write: readers, us included; nothing new.


class Gone(FileSystemEventHandler):
    """Runs on the observer thread, on the events of the watched folder's parent: the folder
    itself deleted or renamed away. The watch holds the folder open (`HeldFolder`), so inotify
    says nothing of it to the folder's own watch (its delete-self comes once the last hold
    goes); `rm -rf` was noticed at the next scan, up to 30 s on. The scan says why it stops."""

    def __init__(self, watcher: Candidates) -> None:
        self.watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.event_type in ("deleted", "moved") and os.fsdecode(event.src_path) == str(self.watcher.root):
            self.watcher.rescan_soon()


def watch_parent(observer: BaseObserver, watcher: Candidates) -> None:
    """The native observer told of the watched folder's parent's deletions and renames alone
    (one inotify watch, the parent's other events never asked for). Where it cannot be (a parent
    that cannot be read, the inotify limits), the next scan notices, as before."""
    from watchdog.events import DirDeletedEvent, DirMovedEvent, FileDeletedEvent, FileMovedEvent

    parent = watcher.root.parent
    if parent == watcher.root:  # the root of the filesystem
        return
    try:
        observer.schedule(Gone(watcher), str(parent), recursive=False,
                          event_filter=[DirDeletedEvent, DirMovedEvent, FileDeletedEvent, FileMovedEvent])
    except OSError:
        pass


def start_observer(
    handler: Events, root: Path, *, recursive: bool, polling: bool, poll_interval: float, notify: observers.Notice
) -> tuple[BaseObserver, str]:
    """The observer delivering `root`'s events to `handler`, started, and the mode to say of it."""
    if not polling:
        observer = observers.native_observer()
        try:
            observer.schedule(handler, str(root), recursive=recursive)
            observer.start()
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EMFILE):
                raise
            stop_quietly(observer)
            notify(observers.inotify_limit_message(exc))
        else:
            watch_parent(observer, handler.watcher)
            return observer, "native events" if "Inotify" not in type(observer).__name__ else "inotify"
    observer = observers.polling_observer(poll_interval, root)
    observer.schedule(handler, str(root), recursive=recursive)
    observer.start()
    return observer, f"polling every {poll_interval:g} s"


def alive(observer: BaseObserver) -> bool:
    """Its thread and each emitter's still run: one that died is restarted (the scan covered the gap)."""
    return observer.is_alive() and all(e.is_alive() for e in observer.emitters)


def stop_quietly(observer: BaseObserver) -> None:
    import logging

    # watchdog 7's inotify emitter can log a harmless "called when the thread is
    # inactive" error while it stops, which would land in the user's log as an error.
    emitter_log = logging.getLogger("watchdog.observers.inotify")
    level = emitter_log.level
    emitter_log.setLevel(logging.CRITICAL)
    try:
        observer.stop()
        if observer.is_alive():
            observer.join(timeout=5)
    except Exception:  # half-started: nothing to save, only threads to end
        pass
    finally:
        emitter_log.setLevel(level)
