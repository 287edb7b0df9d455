"""The watch use-case: sort a folder, then every file that arrives, until stopped. Each batch
goes through the same `Sorter` as `sorter sort`; none of this prints."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.config import as_typed
from sorter.errors import OptionError, SorterError
from sorter.files.folder import REFUSED, check_folder
from sorter.files.moves import CHANGED_SINCE_JUDGED, NOT_A_FILE
from sorter.files.refused import advice, refused_start
from sorter.signals import stop_on_signals
from sorter.sorting.batches import Sorter
from sorter.sorting.results import FileResult, Tally
from sorter.watching.folder_hold import FolderHold
from sorter.wording import counted

if TYPE_CHECKING:  # watchdog is imported only when a watch starts
    from sorter.files.undo import UndoCount
    from sorter.watching.settling import WatchSettings


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
    #: Photos and videos not sorted yet when it stopped (found, being written, a video waiting for its
    #: photo; not companions, which go with theirs: `Watcher.pending`): the next start sorts them;
    #: `writing` of them were being written.
    waiting: int = 0
    #: The plain `sorter undo`s that take back its moves, with those of the watches cut short before
    #: it (killed, a crash: they said no undo line) and the reviews made meanwhile, each a run of
    #: its own, newer, so undone first (`undo.undo_count`). None: not known (the journal unreadable).
    undos: UndoCount | None = None
    #: Where `sorter undo` takes its moves back, when not `folder`: the folder was moved while watched.
    undo_in: Path | None = None
    writing: int = 0


class WatchFailed(SorterError):
    """A watch that had begun ended on an error, not as asked: its folder moved, deleted or
    replaced, another watcher in, a disk error outside a batch. `summary`: what it did till then."""

    def __init__(self, error: SorterError | OSError, summary: WatchSummary) -> None:
        super().__init__(str(error))
        self.error = error
        self.summary = summary


class _Trouble:
    """A batch the disk would not take (full, read-only, a folder's permissions), said once for
    its cause, not at each try: the scan every 30 s offers its files again, and a burst on a full
    disk made a line a batch. Said again only for another cause, or once it has been over."""

    def __init__(self, notify: Callable[[str], None], on_notice: Callable[[WatchNotice], None]) -> None:
        self.notify = notify
        self.on_notice = on_notice
        self.said: tuple[bool, bool, str] | None = None  # (files left unsorted, moves unmarked, the error) as last said
        self.why = ""

    def failed(self, exc: OSError, left: int) -> None:
        """`left`: the batch's files still where they were (those moved before the error are
        reported, as are those whose "done" marks it cut short: `Unmarked`)."""
        from sorter.files.filing import Unmarked

        unmarked = exc.moved if isinstance(exc, Unmarked) else 0
        cause = (left > 0, unmarked > 0, str(exc))
        if cause == self.said:
            return
        self.said, self.why = cause, exc.strerror or str(exc)
        # Said as sort's `Error:` line says it (`D/.sorter/journal.jsonl: No space left on device`),
        # never Python's `[Errno 28] ...: '/path'`.
        said = f"{exc.filename}: {self.why}" if exc.filename and exc.strerror else self.why
        if unmarked:  # each reported moved; the journal has its intent, which recovery completes
            also = f"; {counted(left, 'other file')} not sorted, retrying at each scan" if left else ""
            self.notify(f"could not note in the journal that {counted(unmarked, 'file')} moved: {said}; "
                        f"{'it stands' if unmarked == 1 else 'they stand'}, and the next sorter command notes it{also}")
        elif left:
            self.notify(f"could not sort {counted(left, 'file')}: {said}; retrying at each scan")
        else:  # the "seen" records after the moves: what sorter learn and the review page read of them
            self.notify(f"could not note the latest batch's decisions in the journal: {said}; its moves stand")

    def refused(self, reasons: dict[str, int]) -> None:
        """Moves refused file by file (a cats/ it may not write in, each photo's `cannot move
        into cats/: Permission denied`), by reason: said as a batch the disk would not take."""
        cause = (True, False, "\n".join(sorted(reasons)))
        if cause == self.said:
            return
        self.said, self.why = cause, "; ".join(sorted(reasons))
        why = self.why if len(reasons) == 1 else "; ".join(f"{r} ({n})" for r, n in sorted(reasons.items()))
        self.notify(f"could not sort {counted(sum(reasons.values()), 'file')}: {why}; retrying at each scan")

    def over(self) -> None:
        """A batch went through whole."""
        if self.said is not None:
            self.said = None
            self.on_notice(WatchNotice(f'sorting again: the latest batch was sorted and journaled, after "{self.why}"'))


def _refusal(result: FileResult) -> bool:
    """A move the disk or a folder refused, tried again at each scan: not one of a photo that
    changed since it was judged (judged again) or became a folder (no photo to move)."""
    return result.status == "failed" and not any(why in (result.reason or "") for why in (CHANGED_SINCE_JUDGED,
                                                                                         NOT_A_FILE))


def _said(here, before: dict[str, str], on_notice: Callable[[WatchNotice], None]) -> dict[str, str]:
    """Where the named pets' photos go, where not into their names' folders (`PetFolders.said`),
    said once: again only when it changes. A pet not looked for in this batch (`pending`) keeps
    what was said of her; one whose line is gone is said again once it comes back."""
    now = {pet: line for pet, line in before.items() if pet in here.pending} | here.said()
    for pet, line in now.items():
        if before.get(pet) != line:
            on_notice(WatchNotice(line))
    return now


def _latecomers(root: Path, batch: list, latecomers, watcher, alone) -> tuple[list, list, list]:
    """Split what the watcher found ready: companions whose photo went before them (to join
    it), the photos and videos to sort, and photos sorter moved that were put back where they
    were, or renamed since (left there: `Latecomers.put_back`, by place or by what each is as
    the watcher handed it out, and for photos sorted before those it remembers,
    one look at the journal for the batch: `older_put_backs`). A video that joins no photo for
    sure is judged on its own, as `sort` judges it, and one of a photo moved and of another
    beside it is held so (`alone`: `LeftAlone.hold`), which that photo does not take along; a
    sidecar of no moved photo is left alone: its photo, when it comes, takes it along."""
    from sorter.media.folders import Skipped, is_image_name, is_video_name

    put_back = {entry: latecomers.put_back(entry, watcher.handed.get(entry)) for entry in batch
                if not isinstance(entry, Skipped)}
    older = [entry for entry, was in put_back.items() if was is None and latecomers.might_be_back(entry)]
    if older:
        try:
            put_back.update(latecomers.older_put_backs(root, older))
        except OSError:
            pass  # the journal unreadable now: they are judged as new photos, as before
    late, rest, back = [], [], []
    for entry in batch:
        if (was := put_back.get(entry)) is not None:
            if isinstance(entry, Skipped) or is_image_name(entry.name) or is_video_name(entry.name):
                back.append((entry, was))
            else:
                watcher.settle(entry)  # a sidecar taken back out of dogs/: left there, in no line, as `sort` has it
            continue
        if isinstance(entry, Skipped) or is_image_name(entry.name):
            rest.append(entry)
            continue
        found = latecomers.destination(entry)
        if found is not None:
            late.append((entry, *found))
        elif is_video_name(entry.name):  # of no photo for sure (IMG_1.HEIC or IMG_1.JPG?), or over 5 s: judged alone
            if latecomers.of_a_photo_moved(entry):
                alone.hold(entry)  # and of the JPG beside it, still being copied when the HEIC went
            rest.append(entry)
        else:
            watcher.settle(entry)
    return late, rest, back


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

    `sorter sort`/`undo` on the same folder are refused while it runs; `sorter review` corrects
    it between two batches (`FolderHold`). Files already there go through the same completeness check as
    new ones: a download in progress when the watcher starts is not moved half-written.
    A personal model written by `sorter learn` meanwhile is used from the next batch on.
    """
    from sorter.config import DEFAULT_BATCH_SIZE
    from sorter.files.identities import inodes_last, lstat_of, same_file_of
    from sorter.files.put_backs import put_back_reason
    from sorter.files.recovery import recover
    from sorter.media.folders import Skipped
    from sorter.model import lite
    from sorter.model.personal_classifier import Follower, describe
    from sorter.sorting import suggesting
    from sorter.sorting.latecomers import Filed, Latecomers
    from sorter.sorting.left_before import LeftBefore, already_there, judge_of, note_put_back
    from sorter.watching.settling import WatchSettings
    from sorter.watching.unreadable import Unreadable
    from sorter.watching.watcher import Watcher

    started = time.monotonic()
    if not 0.0 <= min_confidence <= 1.0:
        raise OptionError(f"{min_confidence} is not a number from 0 to 1", "--min-confidence")
    typed, root = root, check_folder(root, moving_in=True, filing=True, command="watch", writing=True)
    batch_size = batch_size or DEFAULT_BATCH_SIZE
    settings = settings or WatchSettings()
    tally = Tally(root, per_file=True)  # a file judged again (written in pieces) counts once
    mode, waiting = "", (0, 0)
    runs: set[str] = set()  # the runs its moves are journaled under (a new one if the journal was removed)
    unnoted: list[str] = []  # a run `.sorter/watching` refused: said once, not at each run

    latecomers = Latecomers()

    refused: dict[Path, str | None] = {}  # moves the disk refused, retried at each scan: said once
    said_back: dict[Path, str] = {}  # photos put back, said: touched since (the same file), not said again

    #: When the batch being sorted began: its photos moved after it, and a file of a photo's stem
    #: last changed before it was beside the photo when its companions were looked up
    #: (`latecomers._there_before`). The time of the report came after the move: a Live Photo's
    #: .MOV copied in the moment its photo went was taken for one there before.
    batch_began = [time.time()]

    def report(result: FileResult, watcher: Watcher) -> None:
        if _refusal(result):
            if refused.get(result.path, "") == result.reason:
                return  # the same refusal again (a read-only cats/ all day): retried without a line
            refused[result.path] = result.reason
        else:
            refused.pop(result.path, None)
        if result.status != "skipped":
            said_back.pop(result.path, None)
        tally.add(result)  # watch never plans without moving: a destination means moved
        if result.status == "moved" and result.destination is not None:
            latecomers.remember(Filed(result.path, result.destination, result.label, result.confidence,
                                      result.same or same_file_of(result.destination), when=batch_began[0],
                                      companions=tuple((was, now, same_file_of(now)) for was, now in result.companions
                                                       if now is not None)))  # one taken back out: put back
        if result.status == "failed" and CHANGED_SINCE_JUDGED in (result.reason or ""):
            watcher.note(result.path)  # another file now, or still being written: judged again once complete
        elif result.status in ("neither", "unsure", "unreadable", "skipped"):
            watcher.settle(result.path, unreadable=result.status == "unreadable")  # looked at again once it changes
        # "failed": a move the disk refused (read-only, full, permissions): offered again at the next scan
        on_result(result)

    unreadable = Unreadable(settings.unreadable_wait)  # maybe still being written: said once it stays so

    def judged(result: FileResult, watcher: Watcher) -> None:
        if result.status == "unreadable" and (signature := watcher.settle(result.path, unreadable=True)) is not None:
            unreadable.hold(result, signature)
            return
        unreadable.drop(result.path)
        report(result, watcher)

    own_stop = stop is None
    stop = threading.Event() if stop is None else stop
    began = False  # the first scan is made: an error from here on comes after the watch's summary

    def noted(run: str) -> None:
        """A journal run of the watch's, as the Sorter opens it (`Sorter.on_journal`), before its
        first move's intent: listed in `.sorter/watching` (`Watching.note`), so that a watch killed
        during that move is known to the next, with the move it made."""
        if run not in runs:
            runs.add(run)
            try:
                state.watching.note(run)
            except OSError as exc:  # its moves go on, journaled: only a kill would leave them unsaid
                if not unnoted:
                    unnoted.append(run)
                    notify(f"cannot write {state.watching.path}: {exc.strerror or exc}; this watch's moves are "
                           "journaled and its last line says how to undo them, but were it killed, the next watch "
                           "could not say how")

    def run(watcher: Watcher, sorter: Sorter, follower: Follower) -> None:
        """Batch after batch, until `stop`."""
        nonlocal began
        noting = None
        told: dict[str, int] = {}  # the groups' sizes the log last said
        moved: dict[str, str] = {}  # pet -> what the log last said of her folder renamed or gone
        trouble = _Trouble(notify, on_notice)
        while not stop.is_set():
            found = watcher.scan_if_due()
            if not began and found is not None:
                began = True
                there = already_there(found, watcher.unchanged, watcher.unchanged_back, watcher.joining)
                on_notice(WatchNotice(f"watching {root} ({watcher.mode}); {there}"))
            for result in unreadable.due():  # unchanged since: damaged, not being written
                report(result, watcher)
            batch = watcher.take_ready(batch_size)
            if not batch:
                state.idle()  # `sorter review` may correct meanwhile
                watcher.wait()
                continue
            state.busy(sorter)
            changed = follower.check()  # one stat: a new personal model from `sorter learn`?
            if changed is not None:
                sorter.classifier = follower.classifier
                on_notice(WatchNotice(changed))
            # Where the named pets' photos go (a pet's folder renamed meanwhile), said once,
            # and what they came close to, for the review page (as `sort` notes it).
            here = sorter.pet_folders()
            if noting is None or noting.here != here:  # a folder renamed or swapped meanwhile
                noting = suggesting.Noting(root, here) if here.folders() else None
                sorter.here = noting.looked if noting is not None else here
            else:  # its pets looked for once while cats/ and dogs/ stay as they were; else as their photos come
                sorter.here = noting.looked if noting.still_looked() else here
            moved = _said(sorter.here, moved, on_notice)
            late, batch, back = _latecomers(root, batch, latecomers, watcher, sorter.left_alone)
            for entry, was in back:  # the user's word: left where it is, and not said again at the next start
                reason = put_back_reason(os.path.relpath(was, root))
                if said_back.get(entry) == reason:
                    watcher.settle(entry)  # touched since (a viewer set its time): still the photo put back
                    continue
                said_back[entry] = reason
                report(FileResult(entry, "skipped", reason=reason), watcher)
            if back:  # else the journal is not opened: a lone sidecar's watch made an empty one, kept at the stop
                note_put_back(sorter.journal(), root, back, watcher.handed)
            joins = {entry: photo for entry, photo, _ in late}
            unreported = {entry for entry, _, _ in late} | {e.path if isinstance(e, Skipped) else e for e in batch}
            refusals: dict[str, int] = {}  # the batch's moves refused file by file, by reason
            try:  # each result reported as it comes: those before a failure were moved
                batch_began[0] = time.time()
                for result in chain(sorter.join(late), sorter.sort_entries(batch, batch_size=batch_size,
                                                                           looked=watcher.handed)):
                    unreported.discard(result.path)
                    if result.status == "joined" and result.destination is not None:
                        latecomers.took(joins[result.path], result.path, result.destination)  # taken back out: put back
                    judged(result, watcher)
                    if _refusal(result):
                        refusals[result.reason] = refusals.get(result.reason, 0) + 1
                    if noting is not None:
                        noting.add(result)
            except OSError as exc:
                # Disk full, permissions on cats/, ...: not fatal to a service; the files
                # are still in place and the next scan offers them again.
                sorter.replan()  # the names it had planned for them are free again
                trouble.failed(exc, sum(os.path.lexists(path) for path in unreported))
            else:
                if refusals:
                    trouble.refused(refusals)
                elif (late or batch) and not any(map(os.path.lexists, refused)):  # those refused before moved too
                    trouble.over()
            moved = _said(sorter.here, moved, on_notice)  # of the pets looked for as their photos came
            if noting is not None and noting.changed:
                try:
                    counts = noting.write()
                except OSError as exc:  # advice for the review page: the sort stands
                    notify(suggesting.not_noted(exc))
                else:  # a line when a group grows, not after every batch
                    if any(n > told.get(pet, 0) for pet, n in counts.items()):
                        for line in suggesting.asks_about(counts, root):
                            on_notice(WatchNotice(line[0].lower() + line[1:]))
                    told = counts
            state.idle()  # between two batches of a burst too: a review's click gets its turn

    def notify(message: str) -> None:
        on_notice(WatchNotice(message, warning=True))

    stopped: SorterError | OSError | None = None  # what ended the watch, when not `stop`
    undo_in: Path | None = root  # where its moves are undone: where the folder is now
    with stop_on_signals(stop) if own_stop else nullcontext():
        # The lock before the model: a second watcher on this folder fails in milliseconds.
        try:
            state = FolderHold(root)
        except OSError as exc:  # `.sorter/watching` or its lock refused, made immutable: as `.sorter/` is
            if exc.errno not in REFUSED or exc.filename is None:
                raise
            # Named from the folder as typed, as `check_folder` names a refused `.sorter/`: `watch q1`
            # said "cannot write in q1/.sorter" but "cannot write in /tmp/q1/.sorter/watching".
            refusing = Path(exc.filename)
            if refusing.is_relative_to(root):
                refusing = typed / refusing.relative_to(root)
            raise refused_start(refusing, exc.strerror or str(exc)) from None
        # The watches killed before this one, whose undo this one says, even where it moves
        # nothing: they never said one. Read before a `.sorter/` emptied meanwhile makes it anew.
        cut_short = state.watching.cut_short
        try:
            recovered = recover(root)
            if recovered.completed or recovered.rolled_back:
                on_notice(WatchNotice(
                    f"settled {counted(recovered.completed + recovered.rolled_back, 'move')} "
                    "interrupted by an earlier crash"
                ))
            if classifier is None:
                classifier = lite.load_classifier(model)
            follower = Follower(classifier, model, personal)
            classifier = follower.classifier
            import numpy as np

            # Trace the model's graph now rather than on the first file to arrive (~0.5 s).
            size = classifier.image_size
            classifier.predict(np.zeros((1, size, size, 3), np.uint8))
            sorter = Sorter(root, classifier, min_confidence=min_confidence, looks=True, on_journal=noted)
            if describe(classifier, model) != describe(follower.base, model):
                on_notice(WatchNotice(f"sorting with {describe(classifier, model)}"))
            # One pass over the journal: where the photos sorted before went (for their late
            # companions), and what an earlier sort or watch left in place, by the same judge.
            left = LeftBefore(judge_of(sorter.classifier, min_confidence), inodes_last(root))
            latecomers.load(root, recovered.state, seen=left.take)
            sorter.left_alone.judged_before(left.videos(root))  # no photo of their stem come since takes them
            # Nor one the user put back (a video taken back out of dogs/): the user's word.
            sorter.left_alone.put_back = lambda path: latecomers.put_back(path, lstat_of(path)) is not None
            said = left.said(root)
            said_back.update(said)  # said by an earlier watch: not again, touched since or not

            try:
                with Watcher(
                    root, recursive=recursive, polling=polling, settings=settings, on_notice=notify,
                    joins=lambda path: latecomers.destination(path) is not None, alone=latecomers.of_a_photo_moved,
                    put_back=lambda path: latecomers.put_back(path, lstat_of(path)) is not None,
                ) as watcher:
                    watcher.left_before(left.found(root) | left.touched(said, latecomers.put_back))
                    try:
                        run(watcher, sorter, follower)
                    except (SorterError, OSError) as exc:
                        if not began:
                            raise
                        # The folder moved, deleted or replaced (under a batch too: its .sorter/ went with it).
                        gone = watcher.gone()
                        stopped = gone or exc
                        if gone is not None:
                            undo_in = watcher.moved_to()
                    mode = watcher.mode  # after the loop: the observer may have fallen back to polling
                    if stopped is None:
                        for result in unreadable.due(stopping=True):
                            report(result, watcher)
                        waiting = watcher.pending(also=unreadable.paths())
            finally:
                sorter.close()
        finally:
            state.release()
            if state.watching.uncleared is not None:  # before the stop line, which says this watch's undo
                path = state.watching.path
                notify(f"cannot clear {path}: {state.watching.uncleared}; {advice(path, state.watching.uncleared)}, "
                       f"then empty it (truncate -s 0 {as_typed(path)}): else the next watch takes this one for cut "
                       "short, and its undo line counts this one's moves again")
    from sorter.files.undo import UndoCount, undo_count

    undos: UndoCount | None = UndoCount(0, 0)  # nothing to undo, or the folder gone with its moves
    if (runs or cut_short) and undo_in is not None:
        try:  # one read of the journal, at the stop
            undos = undo_count(undo_in, runs, cut_short)
        except OSError:
            undos = None
    summary = WatchSummary(root, tally.counts, tally.moved_to, mode, time.monotonic() - started, tally.videos,
                           waiting[0], undos, None if undo_in == root else undo_in, waiting[1])
    if stopped is not None:
        raise WatchFailed(stopped, summary)
    return summary

