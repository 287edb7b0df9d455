"""Use-cases: sort and watch (undo is `sorter.restore`, train `sorter.trainer`, evaluate `sorter.evaluation`).
Each returns typed results (or reports progress through a callback); none of them prints.
Heavy modules are imported inside the functions that need them so `undo` and `--help`
never load TensorFlow."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.errors import UsageError
from sorter.planning import reason_kind

# --------------------------------------------------------------------------- sort

# "moved" | "planned" | "neither" | "unsure" | "unreadable" | "skipped" | "vanished" | "failed",
# and in watch "joined" (a companion that arrived after its photo, moved to it)
FileStatus = str


@dataclass(frozen=True)
class FileResult:
    path: Path
    status: FileStatus
    label: str | None = None
    confidence: float | None = None
    destination: Path | None = None
    reason: str | None = None
    #: The photo's companions: (where each was, where it is now, or None if it stayed).
    companions: tuple[tuple[Path, Path | None], ...] = ()
    #: What the decoder printed about the photo ("Corrupt JPEG data: ..."): it may still be sorted.
    warnings: tuple[str, ...] = ()
    #: A video's frames the decision was made from (0: a photo, or a video not looked at).
    frames: int = 0

    @property
    def is_video(self) -> bool:
        from sorter.config import VIDEO_EXTENSIONS  # not sorter.videos: that loads OpenCV

        return self.path.suffix.lower() in VIDEO_EXTENSIONS

    def to_json(self) -> dict:
        return {
            "path": str(self.path),
            "kind": "video" if self.is_video else "photo",
            "frames": self.frames if self.is_video else None,
            "status": self.status,
            "label": self.label,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "destination": None if self.destination is None else str(self.destination),
            "reason": self.reason,
            "companions": [
                {"path": str(path), "destination": None if dst is None else str(dst)} for path, dst in self.companions
            ],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class SortSummary:
    folder: Path
    dry_run: bool
    counts: dict[str, int]  # status -> files
    moved_to: dict[str, int]  # "cats"/"dogs" -> files moved (or planned, in a dry run)
    recovered: int = 0
    seconds: float = 0.0
    companions: int = 0  # companion files moved (or planned) with their photos
    reasons: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, reason kind) -> files
    review_page: Path | None = None  # DIR/.sorter/review.html, when the run wrote one
    review_error: str | None = None  # why it could not
    model: str = ""  # what sorted: "bundled model", or "bundled model + 37 corrections"
    videos: dict[str, int] = field(default_factory=dict)  # status -> videos (counted in `counts` too)


#: Distinct (status, reason kind) pairs a Tally counts apart.
MAX_REASONS = 256


@dataclass
class Tally:
    """Counts per status, per destination folder and per reason a file was left in place
    (its kind: see `planning.reason_kind`), shared by `sort` and `watch`."""

    root: Path | None = None  # destinations are counted by their folder relative to it: cats, cats/Luna
    counts: dict[str, int] = field(default_factory=dict)
    moved_to: dict[str, int] = field(default_factory=dict)
    companions: int = 0
    reasons: dict[tuple[str, str], int] = field(default_factory=dict)
    videos: dict[str, int] = field(default_factory=dict)

    def add(self, result: FileResult) -> None:
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        if result.status == "joined":  # a companion that came after its photo: counted as one
            self.companions += 1
            return
        if result.is_video:
            self.videos[result.status] = self.videos.get(result.status, 0) + 1
        if result.destination is not None:
            parent = result.destination.parent
            folder = parent.relative_to(self.root).as_posix() if self.root else parent.name
            self.moved_to[folder] = self.moved_to.get(folder, 0) + 1
            self.companions += sum(dst is not None for _, dst in result.companions)
        if result.reason is not None:
            key = (result.status, reason_kind(result.reason))
            if key not in self.reasons and len(self.reasons) >= MAX_REASONS:
                key = (result.status, "other reasons")  # bounded, should a new reason not follow the convention
            self.reasons[key] = self.reasons.get(key, 0) + 1


def output_folders() -> frozenset[str]:
    from sorter.config import CLASS_FOLDERS, STATE_DIR

    return frozenset({*CLASS_FOLDERS.values(), STATE_DIR})


def _names_in(folder: Path):
    """The names in `folder`, streamed (a million-file cats/ is never listed into memory)."""

    try:
        with os.scandir(folder) as listing:
            for entry in listing:
                yield entry.name
    except (FileNotFoundError, NotADirectoryError):
        return


def judged(entries):
    """The entries to judge: all but a Live Photo's video, which goes with its photo and is
    never judged itself (and, gone by the time it is reached, went with its photo already).
    Checked as each entry is reached, so a photo moved meanwhile is seen gone."""
    from sorter.companions import beside_a_photo
    from sorter.images import Skipped
    from sorter.videos import is_video_name

    for entry in entries:
        if isinstance(entry, Skipped) or not is_video_name(entry.name):
            yield entry
        elif not beside_a_photo(entry) and os.path.lexists(entry):
            yield entry


def check_folder(root: Path) -> Path:
    if not root.exists():
        raise UsageError(f"folder not found: {root}")
    if not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    from sorter.config import CLASS_FOLDERS

    for folder in CLASS_FOLDERS.values():
        target = root / folder
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            raise UsageError(f"{target} exists and is not a folder; rename it so sorter can use it")
    return root.absolute()


class Sorter:
    """Sorts files of one folder through one loaded classifier. Used by `sort_folder` once
    and by the watcher for every batch that arrives; the caller holds the folder lock."""

    def __init__(self, root: Path, classifier, *, min_confidence: float = 0.0, dry_run: bool = False) -> None:
        self.root = root
        self.classifier = classifier
        self.min_confidence = min_confidence
        self.dry_run = dry_run
        self._journal = None
        self._planner = None

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self._planner = None  # the folder may have changed under us (emptied, say): list it again

    def journal(self):
        from sorter.journal import Journal

        if self._journal is None:
            self._journal = Journal(self.root)
        return self._journal

    def planner(self):
        """One planner for the Sorter's life: the watcher does not list cats/ and dogs/
        again for every batch. Names taken behind its back are still safe: the move is
        no-replace, and a collision re-plans (see `_apply`)."""
        from sorter.config import CLASS_FOLDERS
        from sorter.planning import Planner

        if self._planner is None:
            existing = {folder: _names_in(self.root / folder) for folder in CLASS_FOLDERS.values()}
            self._planner = Planner(self.root, existing, self.min_confidence, lambda folder: _names_in(self.root / folder))
        return self._planner

    def sort_entries(self, entries, batch_size: int | None = None):
        """Classify, plan and move image paths batch by batch as `entries` yields them;
        yield one FileResult per entry. Memory does not grow with the number of entries.
        Entries the scan skipped (`images.Skipped`) are reported as such as they come."""
        from collections import deque

        from sorter.companions import find_companions
        from sorter.config import DEFAULT_BATCH_SIZE
        from sorter.images import Skipped
        from sorter.inference import classify

        batch_size = batch_size or DEFAULT_BATCH_SIZE
        skipped: deque[Skipped] = deque()

        def photos():
            for entry in judged(entries):
                if isinstance(entry, Skipped):
                    skipped.append(entry)
                else:
                    yield entry

        def reported():
            while skipped:
                entry = skipped.popleft()
                yield FileResult(entry.path, "skipped", reason=entry.reason)

        def with_warnings(results):
            for result in results:
                extra = extras.pop(result.path, None)
                yield replace(result, **extra) if extra else result

        planner = self.planner()
        chunk = []
        # Of this chunk's files, what planning has no use for: warnings, a video's frames.
        extras: dict[Path, dict] = {}
        for prediction in classify(self.classifier, photos(), batch_size=batch_size):
            yield from reported()
            extra = {"warnings": prediction.warnings} if prediction.warnings else {}
            if prediction.video is not None:
                extra["frames"] = prediction.video.frames
            if extra:
                extras[prediction.path] = extra
            # Looked up now, right before the move, so they are the companions of this moment.
            companions = find_companions(prediction.path) if prediction.label is not None else ()
            chunk.append(planner.decide(
                prediction.path, prediction.label, prediction.confidence, prediction.error, companions, prediction.pet
            ))
            if len(chunk) >= batch_size:
                yield from with_warnings(self._apply(chunk, planner))
                chunk = []
        yield from with_warnings(self._apply(chunk, planner))
        yield from reported()

    def join(self, late) -> list[FileResult]:
        """Move companions that arrived after their photo (`latecomers`) to it: (path, the
        photo's `Filed`, destination) each, journaled as a one-file group of this run."""
        from sorter.filing import file_groups

        if not late:
            return []
        planner = self.planner()
        filed = file_groups(
            self.root, self.journal(), [[(path, destination)] for path, _, destination in late],
            lambda folder, names: planner.reserve(folder.relative_to(self.root).as_posix(), names),
            [(photo.label, photo.confidence) for _, photo, _ in late],
        )
        results = []
        for (path, photo, _), outcome in zip(late, filed, strict=True):
            if outcome.failure is not None:
                results.append(FileResult(path, outcome.failure[0], reason=outcome.failure[1]))
            else:
                results.append(FileResult(path, "joined", photo.label, photo.confidence, outcome.members[0][1],
                                          reason=f"companion of {photo.destination.name}, which went there before"))
        return results

    def _note_seen(self, decisions, results: dict[Path, FileResult], first_seq: dict[Path, int]) -> None:
        """One "seen" record per photo sorter decided about (moved, or left as neither or
        unsure), with its identity where it now is: what `sorter learn` compares the folder
        with later. A batch costs one more write and fsync; a photo that cannot be stat'ed
        (gone meanwhile) is simply not recorded."""
        records = []
        for d in decisions:
            result = results.get(d.source)
            if result is not None and result.status != "moved":
                continue  # vanished or failed: nothing was decided that a user could correct
            if result is None and d.status not in ("neither", "unsure"):
                continue
            where = result.destination if result is not None else d.source
            try:
                st = os.lstat(where)
            except OSError:
                continue
            record = {"path": os.path.relpath(where, self.root), "label": d.label,
                      "status": "moved" if result is not None else d.status, "id": [st.st_dev, st.st_ino, st.st_size]}
            if d.source in first_seq:
                record["seq"] = first_seq[d.source]
            records.append(record)
        if records:
            self.journal().append_many("seen", records)

    def _apply(self, decisions, planner):
        """Move a batch's photos with their companions, journaled (see `filing.file_groups`)."""
        from sorter.filing import file_groups

        moves = [d for d in decisions if d.status == "move"]
        results: dict[Path, FileResult] = {}
        first_seq: dict[Path, int] = {}  # each moved photo's sequence number, for its "seen" record
        if moves and not self.dry_run:
            filed = file_groups(
                self.root, self.journal(), [[(d.source, d.destination), *d.companions] for d in moves],
                # By the folder's path: a named pet's is "cats/Luna", not "Luna".
                lambda folder, names: planner.reserve(folder.relative_to(self.root).as_posix(), names),
                [(d.label, d.confidence) for d in moves],
            )
            for d, outcome in zip(moves, filed, strict=True):
                if outcome.failure is not None:
                    status, reason = outcome.failure
                    results[d.source] = FileResult(
                        d.source, status, d.label, d.confidence, reason=reason, companions=outcome.members[1:]
                    )
                else:
                    results[d.source] = FileResult(
                        d.source, "moved", d.label, d.confidence, outcome.members[0][1], companions=outcome.members[1:]
                    )
                    first_seq[d.source] = outcome.seqs[0]
        if not self.dry_run:
            self._note_seen(decisions, results, first_seq)
        for d in decisions:
            if d.source in results:
                yield results[d.source]
            elif d.status == "move":
                yield FileResult(d.source, "planned", d.label, d.confidence, d.destination, companions=d.companions)
            else:
                yield FileResult(d.source, d.status, d.label, d.confidence, None, d.reason, companions=d.companions)


def sort_folder(
    root: Path,
    *,
    model: Path | None = None,
    recursive: bool = False,
    dry_run: bool = False,
    min_confidence: float = 0.0,
    classifier=None,
    on_start: Callable[[int], None] = lambda total: None,
    on_result: Callable[[FileResult], None] = lambda result: None,
    lock_wait: float = 0.0,
    personal: bool = True,
) -> SortSummary:
    """Sort the images of `root` into `root/cats` and `root/dogs`, streaming: the folder is
    listed, classified and moved a batch at a time, so a million files cost no more memory
    than a thousand. `on_start` gets the number of entries from a cheap first pass (names
    only, no file opened). `personal`: with the user's personal model, when there is one
    for this model (`sorter.personal`)."""
    from sorter import lite
    from sorter import personal as personal_model
    from sorter.images import scan_folder
    from sorter.journal import recover
    from sorter.lock import FolderLock
    from sorter.review import ReviewPage
    from sorter.verdicts import VerdictLog

    started = time.monotonic()
    root = check_folder(root)
    if not 0.0 <= min_confidence <= 1.0:
        raise UsageError("--min-confidence must be between 0 and 1")
    if classifier is None:
        lite.resolve_model_path(model)  # a wrong --model fails before anything else happens
    tally = Tally(root)
    lock = FolderLock(root, wait=lock_wait)
    recovered = 0
    review = None if dry_run else ReviewPage(root)  # a dry run changes nothing, .sorter/ included
    review_page = review_error = None
    if not dry_run:
        lock.acquire()  # before the (slow) model load: a second sorter is refused at once
    try:
        if classifier is None:
            classifier = lite.load_classifier(model)
        classifier = personal_model.personalise(classifier, model, personal)
        if review is not None:
            review.model = personal_model.describe(classifier, model)
        if not dry_run:
            recovered_info = recover(root)
            recovered = recovered_info.completed
        on_start(sum(1 for _ in judged(scan_folder(root, recursive=recursive, exclude=output_folders(), videos=True))))
        entries = scan_folder(root, recursive=recursive, exclude=output_folders(), videos=True)
        sorter = Sorter(root, classifier, min_confidence=min_confidence, dry_run=dry_run)
        verdicts = VerdictLog(root, fresh=True)
        try:
            for result in sorter.sort_entries(entries):
                tally.add(result)
                if review is not None:
                    review.add(result)
                    verdicts.add(result)
                on_result(result)
        finally:
            sorter.close()
            verdicts.close()
        if review is not None and review.count:
            try:  # the photos are sorted and journaled by now: a page that cannot be written is no failure
                review_page = review.write()
            except OSError as exc:
                review_error = f"could not write the review page: {exc.strerror or exc}"
    finally:
        lock.release()
    return SortSummary(
        root, dry_run, tally.counts, tally.moved_to, recovered, time.monotonic() - started,
        companions=tally.companions, reasons=tally.reasons, review_page=review_page, review_error=review_error,
        model=personal_model.describe(classifier, model), videos=tally.videos,
    )


# --------------------------------------------------------------------------- watch

if TYPE_CHECKING:  # watchdog is imported only when a watch starts
    from sorter.watch import WatchSettings


@dataclass(frozen=True)
class WatchNotice:
    """Something the watcher wants the user to know that is not about one file."""

    message: str
    warning: bool = False


@dataclass(frozen=True)
class WatchSummary:
    folder: Path
    counts: dict[str, int]  # status -> files
    moved_to: dict[str, int]  # "cats"/"dogs" -> files moved
    mode: str  # how changes were noticed: "inotify", "polling every 1 s", ...
    seconds: float
    videos: dict[str, int] = field(default_factory=dict)  # status -> videos (counted in `counts` too)


def _latecomers(batch: list, latecomers, watcher) -> tuple[list, list]:
    """Split what the watcher found ready: companions whose photo went before them (to join
    it), and the photos and videos to sort. A sidecar of no moved photo is left alone: its
    photo, when it comes, takes it along."""
    from sorter.images import Skipped, is_image_name
    from sorter.videos import is_video_name

    late, rest = [], []
    for entry in batch:
        if isinstance(entry, Skipped) or is_image_name(entry.name):
            rest.append(entry)
            continue
        found = latecomers.destination(entry)
        if found is not None:
            late.append((entry, *found))
        elif is_video_name(entry.name):
            rest.append(entry)
        else:
            watcher.settle(entry)
    return late, rest


@contextmanager
def stop_on_signals(stop: threading.Event):
    """SIGINT/SIGTERM set `stop`; the loop finishes the batch in hand and returns. A second
    signal abandons the batch (KeyboardInterrupt): the journal makes that safe too.

    The handler only calls `stop.set()`, and the main thread never waits on `stop` (it
    polls `is_set()`), so the handler cannot block on a lock the main thread holds."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield  # signals are delivered to the main thread only; the caller owns `stop`
        return

    def handler(signum, frame) -> None:
        if stop.is_set():
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _State:
    """Keeps the lock and journal real while the folder is watched for days: if someone
    empties the folder (`rm -rf DIR/*` takes `.sorter/` too), the lock and journal would
    live on as deleted files, and a concurrent `sorter sort` or a later `undo` would not
    see them."""

    def __init__(self, root: Path, lock) -> None:
        self.root = root
        self.lock = lock
        self._lock_inode = self._inode(lock.path)

    @staticmethod
    def _inode(path: Path) -> int | None:
        try:
            return path.stat().st_ino
        except OSError:
            return None

    def check(self, sorter: Sorter) -> None:
        from sorter.journal import journal_path
        from sorter.lock import FolderLock

        if self._inode(self.lock.path) != self._lock_inode:
            fresh = FolderLock(self.root)
            fresh.acquire()  # FolderLocked if another sorter got in meanwhile: we stop
            self.lock.release()
            self.lock, self._lock_inode = fresh, self._inode(fresh.path)
        if not journal_path(self.root).exists():
            sorter.close()  # the next move opens a new journal (and a new run)


def watch_folder(
    root: Path,
    *,
    model: Path | None = None,
    recursive: bool = False,
    min_confidence: float = 0.0,
    polling: bool = False,
    classifier=None,
    on_result: Callable[[FileResult], None] = lambda result: None,
    on_notice: Callable[[WatchNotice], None] = lambda notice: None,
    stop: threading.Event | None = None,
    settings: WatchSettings | None = None,
    batch_size: int | None = None,
    personal: bool = True,
) -> WatchSummary:
    """Sort the images of `root`, then every image that arrives, until `stop` is set (or
    SIGINT/SIGTERM, when called from the main thread without `stop`).

    Holds the folder lock throughout, so `sorter sort`/`undo` on the same folder are
    refused while it runs. Files already there go through the same completeness check as
    new ones: a download in progress when the watcher starts is not moved half-written.
    A personal model written by `sorter learn` meanwhile is used from the next batch on.
    """
    from sorter import lite
    from sorter.config import DEFAULT_BATCH_SIZE
    from sorter.journal import recover
    from sorter.latecomers import Filed, Latecomers
    from sorter.lock import FolderLock
    from sorter.personal import Follower, describe
    from sorter.verdicts import VerdictLog
    from sorter.watch import Watcher, WatchSettings

    started = time.monotonic()
    root = check_folder(root)
    if not 0.0 <= min_confidence <= 1.0:
        raise UsageError("--min-confidence must be between 0 and 1")
    batch_size = batch_size or DEFAULT_BATCH_SIZE
    tally = Tally(root)
    mode = ""
    verdicts = VerdictLog(root)

    latecomers = Latecomers()

    def report(result: FileResult, watcher: Watcher) -> None:
        tally.add(result)  # watch never plans without moving: a destination means moved
        verdicts.add(result)
        if result.status == "moved" and result.destination is not None:
            latecomers.remember(Filed(result.path, result.destination, result.label, result.confidence))
        if result.status in ("neither", "unsure", "unreadable", "skipped", "failed"):
            watcher.settle(result.path)  # left in place: look again only once it changes
        on_result(result)

    own_stop = stop is None
    stop = threading.Event() if stop is None else stop
    with stop_on_signals(stop) if own_stop else nullcontext():
        # The lock before the model: a second watcher on this folder fails in milliseconds.
        lock = FolderLock(root)
        lock.acquire()
        state = _State(root, lock)
        try:
            recovered = recover(root)
            if recovered.completed or recovered.rolled_back:
                on_notice(WatchNotice(
                    f"settled {recovered.completed + recovered.rolled_back} move(s) "
                    "interrupted by an earlier crash"
                ))
            latecomers.load(root)  # where the photos sorted before went, for their late companions
            if classifier is None:
                classifier = lite.load_classifier(model)
            follower = Follower(classifier, model, personal)
            classifier = follower.classifier
            import numpy as np

            # Trace the model's graph now rather than on the first file to arrive (~0.5 s).
            size = classifier.image_size
            classifier.predict(np.zeros((1, size, size, 3), np.uint8))
            sorter = Sorter(root, classifier, min_confidence=min_confidence)
            if describe(classifier, model) != describe(follower.base, model):
                on_notice(WatchNotice(f"sorting with {describe(classifier, model)}"))

            def notify(message: str) -> None:
                on_notice(WatchNotice(message, warning=True))

            try:
                with Watcher(
                    root, recursive=recursive, polling=polling,
                    settings=settings or WatchSettings(), on_notice=notify,
                ) as watcher:
                    first_scan = True
                    while not stop.is_set():
                        found = watcher.scan_if_due()
                        if first_scan and found is not None:
                            first_scan = False
                            on_notice(WatchNotice(
                                f"watching {root} ({watcher.mode}); {found} image(s) already there"
                            ))
                        batch = watcher.take_ready(batch_size)
                        if not batch:
                            watcher.wait()
                            continue
                        state.check(sorter)
                        changed = follower.check()  # one stat: a new personal model from `sorter learn`?
                        if changed is not None:
                            sorter.classifier = follower.classifier
                            on_notice(WatchNotice(changed))
                        late, batch = _latecomers(batch, latecomers, watcher)
                        try:
                            for result in [*sorter.join(late), *sorter.sort_entries(batch, batch_size=batch_size)]:
                                report(result, watcher)
                        except OSError as exc:
                            # Disk full, permissions on cats/, ...: not fatal to a service; the
                            # files are still in place and the next scan offers them again.
                            notify(f"could not sort {len(batch)} file(s): {exc}; retrying at the next scan")
                    mode = watcher.mode  # after the loop: the observer may have fallen back to polling
            finally:
                sorter.close()
                verdicts.close()
        finally:
            state.lock.release()
    return WatchSummary(root, tally.counts, tally.moved_to, mode, time.monotonic() - started, tally.videos)

