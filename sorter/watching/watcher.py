"""Filesystem events -> image and video paths (and companions that may come late) that are
complete and ready to sort. Knows nothing of
models: `watching.watch.watch_folder` feeds what comes out of here to `sorting.batches.Sorter`.

Events are only hints. A path becomes a *candidate* when an event (or the periodic
reconciliation scan) mentions it, and is handed out only once it looks complete
(`settling.complete_at`: closed or unchanged, no writer holding it, a video's container
whole), a video that may be a Live Photo's once it has waited `pair_wait` for its photo
(unless that photo was sorted before it came, which it joins), and a photo once the
companions it takes along are complete too (`_members_complete_at`).

Temporary download names (`.part`, `.crdownload`, dot-files, ...) never become candidates;
their rename to the final name arrives as a move whose destination is new. Our own output
(`cats/`, `dogs/`, `.sorter/`) is never a candidate either, so our moves cannot loop.

How long each wait is, how much a batch takes and what tells a change are `settling`'s.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.config import CLASS_FOLDERS, STATE_DIR, entered
from sorter.errors import SorterError
from sorter.files.companions import could_be_companion, regular_file
from sorter.files.folder import HeldFolder
from sorter.watching import events, observers, settling
from sorter.watching.leases import open_for_writing
from sorter.watching.settling import BYTES_PER_BATCH, VIDEOS_PER_BATCH, Candidate, Signature, WatchSettings, stamp, still

if TYPE_CHECKING:
    from watchdog.observers.api import BaseObserver

    from sorter.media.folders import Skipped
    from sorter.sorting.left_before import Left

Notice = observers.Notice


class Watcher:
    """Candidates in (observer thread, scans), ready paths out (the caller's thread).

    Use as a context manager: it starts the observer on entry (falling back to polling when
    the inotify limits are hit) and stops it on exit. The first `scan_if_due` call scans
    the folder, so files already there go through the same checks as new arrivals.
    """

    def __init__(
        self,
        root: Path,
        *,
        recursive: bool = False,
        polling: bool = False,
        settings: WatchSettings = WatchSettings(),
        on_notice: Notice = lambda message: None,
        clock: Callable[[], float] = time.monotonic,
        joins: Callable[[Path], bool] = lambda path: False,
        alone: Callable[[Path], bool] = lambda path: False,
        put_back: Callable[[Path], bool] = lambda path: False,
    ) -> None:
        from sorter.files.identities import inodes_last
        from sorter.media.container import incomplete, may_be_live_photos
        from sorter.media.folders import excluded_by_case, is_image_name, is_video_name, kept_apart
        from sorter.sorting.alone import a_photos_video, companion_video
        from sorter.sorting.sort import sorter_at_work

        self.root = root
        self.recursive = recursive
        self.polling = polling
        self.settings = settings
        self.notify = on_notice
        self.clock = clock
        #: A photo of the video's stem was sorted before it came (`Latecomers.destination`): it
        #: joins that photo, so it waits for none (`pair_wait`). It had waited 10 s after its
        #: photo had gone, and a watch stopped meanwhile left it to be sorted alone.
        self.joins = joins
        #: A video beside one photo of its stem, judged on its own all the same: another photo of
        #: that stem moved (`Latecomers.of_a_photo_moved`, `LeftAlone.hold`). Counted as a video.
        self.alone = alone
        #: A file sorter moved, back where it was (`Latecomers.put_back`): of a photo sorted before
        #: or not, left there, so a video of the first line's count, none to join its photo.
        self.put_back = put_back
        self.mode = ""
        # Photos and videos to sort, and companions that may come after their photo.
        self._is_wanted = lambda name: is_image_name(name) or is_video_name(name) or could_be_companion(name)
        #: What the start's "N photos and videos already there" and the stop's "not sorted yet"
        #: count: not a companion (.AAE, .xmp, a Live Photo's .MOV beside its photo: `companion_video`),
        #: which goes with its photo, as "moved N files" counts it (the start said 70 of 67).
        self._counted = lambda path: ((is_image_name(path.name) or is_video_name(path.name))
                                      and not companion_video(path))
        self._is_video_name = is_video_name
        self._is_image_name = is_image_name
        self._a_photos_video = a_photos_video  # a Live Photo's (.MOV, .MP4): see `pair_wait`
        self._excluded_by_case = excluded_by_case
        self._kept_apart = kept_apart
        #: A sub-folder a sort or watch of its own is at work on, passed by as `sort -r` passes it
        #: (journal or none yet): both would judge, and move, the same photos.
        self._at_work = sorter_at_work
        self._incomplete = incomplete
        self._may_be_live_photos = may_be_live_photos
        self._excluded = frozenset({*CLASS_FOLDERS.values(), STATE_DIR})
        self.inodes_last = inodes_last(root)  # else a file is its size and time, as `sort` tells it
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._candidates: dict[Path, Candidate] = {}
        # Files we looked at and left in place (unsure, unreadable, ...): not again until they change.
        self._settled: dict[Path, Signature] = {}
        self._running: dict[Path, int] = {}  # those left before, till the first scan: `left_before`
        self._back: set[Path] = set()  # of them, those the user put back, till the first scan
        #: Of the photos and videos the latest scan found, those left in place unchanged (`_settled`):
        #: at the first, those an earlier sort or watch left (`left_before`), not judged again.
        self.unchanged = 0
        self.unchanged_back = 0  # of them, at the first scan, those the user put back
        #: Of those a scan added, the companions that join a photo sorted before (`joins`): no photo
        #: or video of the count's, as `sort --json` has them ("to join").
        self.joining = 0
        #: The latest batch's files as `lstat` saw them when handed out, complete: what they are
        #: judged as (`Sorter.sort_entries`), not looked at again.
        self.handed: dict[Path, os.stat_result] = {}
        #: Sub-folders not entered (a library, sorted on its own, another sorter at work there), as said:
        #: once, again only for another reason or once entered since.
        self._passed: dict[Path, str] = {}
        self._next_scan = 0.0
        self._next_due: float | None = None
        self._observer: BaseObserver | None = None
        self._held: HeldFolder | None = None  # the folder the watch began on, held open while it runs

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Watcher:
        self._held = HeldFolder(self.root)
        self._log = observers.ObserverLog(self.notify)
        self._observer = self._start_observer()
        return self

    def __exit__(self, *exc) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            events.stop_quietly(observer)
        self._log.close()
        if self._held is not None:
            self._held.close()

    def _start_observer(self) -> BaseObserver:
        observer, self.mode = events.start_observer(
            events.Events(self), self.root, recursive=self.recursive, polling=self.polling,
            poll_interval=self.settings.poll_interval, notify=self.notify)
        return observer

    def _check_observer(self) -> None:
        """Restart an observer whose thread died (the scan covered the gap meanwhile)."""
        observer = self._observer
        if observer is None or events.alive(observer):
            return
        self.notify("the file-event observer stopped; restarting it")
        events.stop_quietly(observer)
        self._observer = self._start_observer()

    # ------------------------------------------------------------------ events in

    def _relevant(self, path: Path) -> bool:
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            return False
        if not parts or parts[0] in self._excluded or self._excluded_by_case(self.root, parts[0], self._excluded):
            return False
        if len(parts) > 1 and (not self.recursive or not all(entered(p) for p in parts[:-1])):
            return False  # the same folders `folders.scan_folder` does not enter
        if any(self._kept_apart(folder := self.root.joinpath(*parts[:depth])) or self._at_work(folder)
               for depth in range(1, len(parts))):
            # Sorted (or watched) on its own (its cats/ and dogs/ are its journal's), software, or another
            # sorter at work there: a scan once it is free finds the file, unless it has a journal by then.
            return False
        return self._is_wanted(parts[-1])

    def note(self, path: str | Path, *, closed: bool = False) -> None:
        """Something happened to `path`: (re)start its wait for completeness."""
        path = Path(path)
        if not self._relevant(path):
            return
        with self._lock:
            # A fresh event supersedes what we saw before: compare signatures from here on.
            self._candidates[path] = Candidate(self.clock(), closed, written=not closed)
        self._wake.set()

    def forget(self, path: str | Path) -> None:
        with self._lock:
            self._candidates.pop(Path(path), None)

    def rescan_soon(self) -> None:
        self._next_scan = 0.0
        self._wake.set()

    def settle(self, path: Path, unreadable: bool = False) -> Signature | None:
        """`path` was looked at and left where it is: skip it until its content changes from
        what was judged (as it was handed out: a piece written meanwhile makes it a candidate
        again), or, `unreadable`, its content or its permissions (`stamp`): made readable, it is
        judged again at the next scan or file event, and only then. The signature skipped; None
        when it is gone."""
        try:
            st = os.lstat(path)
        except OSError:
            return None
        with self._lock:
            full = stamp(self.handed.get(path, st), self.inodes_last)
            signature = self._settled[path] = full[:6] if unreadable else full[:3]
        return signature

    def left_before(self, left: dict[Path, Left]) -> None:
        """Files an earlier sort or watch left in place (`sorting.left_before`), by the signature
        each had then: skipped, as if this watch had judged them (`settle`), until they change.
        Before the first scan, which drops those no longer there, and compares them by the
        running watch's signature from then on (`Left.running`)."""
        with self._lock:
            self._settled.update((path, each.signature) for path, each in left.items())
            self._running.update((path, each.running) for path, each in left.items())
            self._back = {path for path, each in left.items() if each.back}

    # ------------------------------------------------------------------ scanning

    def scan(self) -> int:
        """Reconciliation: make a candidate of every image the folder holds that is not one
        already. Returns how many photos and videos were added (companions come along, not
        counted). Raises SorterError if the folder is gone (`gone`)."""
        from sorter.media.folders import Skipped, scan_folder

        if (gone := self.gone()) is not None:
            raise gone
        found: dict[Path, None] = {}  # a set that keeps the scan's name order
        passed: dict[Path, str] = {}
        for entry in scan_folder(self.root, recursive=self.recursive, exclude=self._excluded, videos=True,
                                 also=could_be_companion, at_work=self._at_work):
            if isinstance(entry, Skipped) and entry.path == self.root:  # the folder itself is unlistable
                if not self.root.is_dir():
                    raise self.gone() or SorterError(f"the watched folder {self.root} no longer exists")
                self.notify(f"cannot list {self.root}: {entry.reason}; will retry")
                return 0
            if isinstance(entry, Skipped) and entry.folder:  # a library, sorted on its own, software: not entered
                passed[entry.path] = entry.reason
                self._say_passed(entry.path, entry.reason)  # a scan every 30 s: said once
                continue
            found[entry.path if isinstance(entry, Skipped) else entry] = None
        self._passed = {path: why for path, why in self._passed.items() if path in passed}
        with self._lock:
            self._settled = {p: s for p, s in self._settled.items() if p in found}
            settled = dict(self._settled)
        # Those left in place and unchanged are not made candidates (`take_ready` would drop them):
        # an `lstat` each, outside the lock, as `take_ready` made it.
        unchanged = [path for path, signature in settled.items() if still(path, signature, self.inodes_last)]
        for path in unchanged:
            del found[path]
        with self._lock:  # as this watch would have settled them, from now on (`Left.running`)
            for path in unchanged:
                if (running := self._running.get(path)) is not None and path in self._settled:
                    self._settled[path] = self._settled[path][:running]
            self._running = {}
            back, self._back = self._back, set()
        now = self.clock()
        added = []
        with self._lock:
            for path in found:
                if path not in self._candidates:
                    self._candidates[path] = Candidate(now)
                    added.append(path)
        # Left in place before, not put back: judged itself ("seen" records are of what was judged), so
        # a .MOV beside one photo of its stem that was judged on its own counts as the video it is.
        self.unchanged = sum(self._counted(path) or (path not in back and self._is_video_name(path.name))
                             for path in unchanged)
        self.unchanged_back = sum(self._counted(path) for path in unchanged if path in back)
        # Not under the lock: a .MOV costs a few lstat calls and a read.
        counted = [path for path in added if self._counted(path) or (self._is_video_name(path.name) and self.alone(path))]
        # Every kind of companion, not a .MOV alone: a late IMG_1.AAE or IMG_2.jpg.xmp joined its
        # photo, and the first line had said nothing of it ("1 photo or video already there").
        joining = {path for path in added if not self._is_image_name(path.name) and self.joins(path)
                   and not self.put_back(path)}
        self.joining = len(joining)
        return len(counted) - sum(path in joining for path in counted)

    def _say_passed(self, folder: Path, why: str) -> None:
        """`skipped: 2020: WHY` of a sub-folder not entered, where not said already for that reason."""
        if self._passed.get(folder) != why:
            self._passed[folder] = why
            self.notify(f"skipped: {folder.relative_to(self.root)}: {why}")

    def passed_by(self, batch: list[Path | Skipped]) -> list[Path | Skipped]:
        """`batch` less its files in a sub-folder a sort or watch of its own took up since the scan or
        event that found them (`sorter sort ROOT/2020` between two batches), said once. Asked under the
        folder's lock, marked recursive, which a sorter of the sub-folder starting now is refused by
        (`lock.above_at_work`): one of the two sees the other. The scan once it is free finds them
        again; one with a journal by then is sorted on its own. An `lstat` of the `.sorter/` of each
        sub-folder on their paths, once a batch."""
        from sorter.media.folders import Skipped

        at_work: dict[Path, str | None] = {}
        kept: list[Path | Skipped] = []
        for entry in batch:
            parts = (entry.path if isinstance(entry, Skipped) else entry).relative_to(self.root).parts[:-1]
            for folder in (self.root.joinpath(*parts[:depth]) for depth in range(1, len(parts) + 1)):
                if folder not in at_work:
                    at_work[folder] = self._at_work(folder)
                if (why := at_work[folder]) is not None:
                    self._say_passed(folder, why)
                    break
            else:
                kept.append(entry)
        return kept

    def scan_if_due(self) -> int | None:
        """Scan when the interval has passed (and at the first call); None otherwise."""
        if self.clock() < self._next_scan:
            return None
        self._next_scan = self.clock() + self.settings.rescan_interval
        if (gone := self.gone()) is not None:
            raise gone  # before the observer: one whose folder went stopped with it, and restarting it says nothing
        self._check_observer()
        return self.scan()

    def gone(self) -> SorterError | None:
        """Why the watch cannot go on, once its folder is no longer at its path: moved or deleted,
        or renamed away with another made in its place, or a disk mounted or unmounted there.
        In the last two, the file events still come from the old one: stopping (exit 1) lets a
        service manager start a watcher on what is there now."""
        from sorter.files.folder import identity

        if self._held is None or self._held.here():
            return None
        if identity(self.root) is None:
            return SorterError(f"the watched folder {self.root} no longer exists")
        return SorterError(f"the watched folder {self.root} was replaced (moved, or a disk mounted or unmounted "
                           "there); start sorter watch again to watch what is there now")

    def moved_to(self) -> Path | None:
        """The path that names the watched folder now (`HeldFolder.where`): another once it was
        moved; None once deleted, or where that cannot be told."""
        return None if self._held is None else self._held.where()

    # ------------------------------------------------------------------ ready paths out

    def wait(self) -> None:
        """Sleep until an event arrives, the next candidate may be complete, or `idle_wait`."""
        timeout = self.settings.idle_wait
        if self._next_due is not None:
            timeout = min(timeout, max(0.01, self._next_due - self.clock()))
        timeout = min(timeout, max(0.0, self._next_scan - self.clock()))
        self._wake.wait(timeout)
        self._wake.clear()

    def take_ready(self, limit: int) -> list[Path | Skipped]:
        """Up to `limit` complete candidates (removed from the set), `VIDEOS_PER_BATCH` videos
        and `BYTES_PER_BATCH` of photos of them at most. Non-regular files come out as
        `Skipped`, to be reported once; vanished ones are dropped."""
        from sorter.media.folders import Skipped

        ready: list[Path | Skipped] = []
        videos = size = 0
        next_due: float | None = None
        with self._lock:
            self.handed = {}
            now = self.clock()
            stems = settling.by_stem(self._candidates, could_be_companion)
            for path, cand in list(self._candidates.items()):
                if len(ready) >= limit:
                    next_due = now
                    break
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    del self._candidates[path]  # deleted or renamed away before it was complete
                    continue
                except OSError as exc:
                    del self._candidates[path]
                    ready.append(Skipped(path, f"cannot inspect: {exc.strerror or exc}"))
                    continue
                if not stat.S_ISREG(st.st_mode):
                    del self._candidates[path]
                    if self._settled.get(path) is None:
                        reason = "symbolic link, not followed" if stat.S_ISLNK(st.st_mode) else "not a regular file"
                        ready.append(Skipped(path, reason))
                    continue
                full = stamp(st, self.inodes_last)
                settled = self._settled.get(path)
                if settled is not None and full[: len(settled)] == settled:
                    del self._candidates[path]  # already decided, unchanged since
                    continue
                due = self._complete_at(path, cand, st, now)
                if now >= due and self._is_image_name(path.name):
                    due = max(due, self._members_complete_at(path, stems, now))
                if now >= due and self._a_photos_video(path.name) and self._waits_for_photo(path, cand, st):
                    due = max(due, cand.since + self.settings.pair_wait)
                if now < due:
                    next_due = due if next_due is None else min(next_due, due)
                    continue
                if self._is_video_name(path.name):
                    if videos >= VIDEOS_PER_BATCH:
                        next_due = now  # the next batch takes it
                        continue
                    videos += 1
                elif size and size + st.st_size > BYTES_PER_BATCH:
                    next_due = now  # the next batch takes it
                    continue
                else:
                    size += st.st_size
                del self._candidates[path]
                ready.append(path)
                self.handed[path] = st
        self._next_due = next_due
        return ready

    def _complete_at(self, path: Path, cand: Candidate, st: os.stat_result, now: float) -> float:
        return settling.complete_at(path, cand, st, now, self.settings, self.inodes_last, self._incomplete,
                                    self._is_video_name(path.name))

    def _members_complete_at(self, photo: Path, stems: dict, now: float) -> float:
        """When the candidates `photo` takes along (`members`) are complete, as each is on its own: a
        Live Photo's .MOV written after it, reopened for each piece, went with its first piece, and
        the rest made a new file in its place. One never whole holds it `video_index_wait` at most:
        the photo goes alone, the video is said truncated (`alone.apart_from_photos`)."""
        due = now
        for member in settling.members(photo, stems):
            if (cand := self._candidates.get(member)) is None or (st := regular_file(member)) is None:
                continue
            settled = self._settled.get(member)
            if settled is None or stamp(st, self.inodes_last)[:len(settled)] != settled:
                due = max(due, self._complete_at(member, cand, st, now))
        return due

    def _waits_for_photo(self, path: Path, cand: Candidate, st: os.stat_result) -> bool:
        """A Live Photo's video, for all its index says (`container.may_be_live_photos`: one over
        5 s is sorted once complete), whose photo has not been sorted before it (`joins`), and
        that came into the folder less than `pair_wait` ago (`_there_long`). Looked at once for
        the file as it is, not at each look while it waits: a photo that comes meanwhile takes it
        along."""
        if cand.live is None or cand.live[0] != cand.signature:
            cand.live = (cand.signature, not self._there_long(st) and self._may_be_live_photos(path)
                         and not self.joins(path))
        return cand.live[1]

    def _there_long(self, st: os.stat_result) -> bool:
        """The file's inode last changed (written, or renamed into the folder: `st_ctime`, which no
        copy tool sets back) more than `pair_wait` ago: a photo of its stem had that long to come,
        as a running watch gives it, and none is beside it. A short video moved in by hand before
        a watch started waited 10 s at each start. Where inode numbers do not last (FAT, exFAT,
        FUSE) the ctime is the mtime or made up: it waits, as before."""
        return self.inodes_last and st.st_ctime < time.time() - self.settings.pair_wait

    def pending(self, also: Iterable[Path] = ()) -> tuple[int, int]:
        """Photos and videos not sorted yet: the candidates, and `also` (the unreadable held, see
        `unreadable`); and of them those being written (`_being_written`). Not a companion (one
        of a 300-photo folder's made it "301 not sorted yet"), nor a candidate no longer there
        (moved along with its photo, renamed, deleted: its event not come yet, or lost), which
        `take_ready` drops only once it comes to it. Polling, the folder is listed once more
        first (`scan`, what each poll costs): the poller reports a file up to `poll_interval`
        late, and five photos copied in just before the stop were counted nowhere."""
        if self.mode.startswith("polling"):
            try:
                self.scan()
            except (SorterError, OSError):
                pass  # the folder gone as it stops: what was found before is counted
        with self._lock:
            candidates = dict.fromkeys(also) | {path: replace(cand) for path, cand in self._candidates.items()}
        now = self.clock()
        waiting = [path for path in candidates if self._counted(path) and os.path.lexists(path)]
        return len(waiting), sum(self._being_written(path, cand, now) for path in waiting
                                 if (cand := candidates[path]) is not None)

    def _being_written(self, path: Path, cand: Candidate, now: float) -> bool:
        """As it stops: a file whose size and time have not stood still for `settle` (a write
        seen that recently; polling sees one up to `poll_interval` late), or changed since
        `take_ready` last looked, or that a process holds open for writing. Not every file that
        came during the watch (`Candidate.written`): with --polling, where no close is seen, a
        burst waiting its turn, copied whole seconds before, was "169 being written"."""
        quiet = self.settings.settle + (self.settings.poll_interval if self.mode.startswith("polling") else 0.0)
        if cand.written and now - cand.since < quiet:
            return True
        try:
            st = os.lstat(path)
        except OSError:
            return False
        if cand.signature is not None and stamp(st, self.inodes_last)[:3] != cand.signature:
            return True
        return open_for_writing(path) is True
