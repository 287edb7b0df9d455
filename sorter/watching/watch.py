"""The watch use-case: sort a folder, then every file that arrives, until stopped. Each batch
goes through the same `Sorter` as `sorter sort`; none of this prints."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.config import as_typed
from sorter.errors import OptionError, SorterError
from sorter.files.folder import REFUSED, check_folder
from sorter.files.refused import advice, refused_start
from sorter.signals import stop_on_signals
from sorter.sorting.batches import Sorter
from sorter.sorting.results import FileResult
from sorter.watching.batch_loop import WatchLoop, WatchNotice
from sorter.watching.folder_hold import FolderHold
from sorter.wording import counted

if TYPE_CHECKING:  # watchdog is imported only when a watch starts
    from sorter.files.recovery import Recovered
    from sorter.files.undo import UndoCount
    from sorter.model.personal_classifier import Follower
    from sorter.sorting.left_before import LeftBefore
    from sorter.watching.settling import WatchSettings


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
    #: Companions (a Live Photo's video, an edit's `.AAE`) that moved with their photos, not counted
    #: in `moved_to`, and those that joined their photos later (`counts["joined"]`): as `Tally.companions`.
    companions: int = 0
    #: Companions left in place with their photos (neither, unsure, unreadable): `Tally.companions_left`.
    companions_left: int = 0


@dataclass(frozen=True)
class WatchInterrupted:
    """A watch a second Ctrl-C stopped, its batch in hand abandoned (`watch_folder`'s `on_interrupted`)."""

    #: Files its runs moved that stand, the moves the Ctrl-C cut in two settled as the next command would.
    moved: int
    undos: UndoCount | None  # as `WatchSummary.undos`
    undo_in: Path  # where `sorter undo` takes them back


class WatchFailed(SorterError):
    """A watch that had begun ended on an error, not as asked: its folder moved, deleted or
    replaced, another watcher in, a disk error outside a batch. `summary`: what it did till then."""

    def __init__(self, error: SorterError | OSError, summary: WatchSummary) -> None:
        super().__init__(str(error))
        self.error = error
        self.summary = summary


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
    on_summary: Callable[[WatchSummary], None] = lambda summary: None,
    on_interrupted: Callable[[WatchInterrupted], None] = lambda stopped: None,
) -> WatchSummary:
    """Sort the images of `root`, then every image that arrives, until `stop` is set (or
    SIGINT/SIGTERM, when called from the main thread without `stop`). `on_summary`: the summary,
    its undo said, before `.sorter/watching` is cleared: a watch killed before it said its stop
    line is one cut short, whose undo the next sort or watch says (`Watching.cut_short`); a
    watch that stopped on an error too, before `WatchFailed` is raised. `on_interrupted`: what a
    second Ctrl-C (a KeyboardInterrupt) left, to be said before the note is cleared and the
    KeyboardInterrupt goes on; not called where the journal cannot be settled then.

    `sorter sort`/`undo` on the same folder are refused while it runs; `sorter review` corrects
    it between two batches (`FolderHold`). Files already there go through the same completeness check as
    new ones: a download in progress when the watcher starts is not moved half-written.
    A personal model written by `sorter learn` meanwhile is used from the next batch on.
    """
    from sorter.config import DEFAULT_BATCH_SIZE
    from sorter.watching.settling import WatchSettings
    from sorter.watching.unreadable import Unreadable

    started = time.monotonic()
    if not 0.0 <= min_confidence <= 1.0:
        raise OptionError(f"{min_confidence} is not a number from 0 to 1", "--min-confidence")
    typed, root = root, check_folder(root, moving_in=True, filing=True, command="watch", writing=True)
    batch_size = batch_size or DEFAULT_BATCH_SIZE
    settings = settings or WatchSettings()
    own_stop = stop is None
    stop = threading.Event() if stop is None else stop
    with stop_on_signals(stop) if own_stop else nullcontext():
        hold = _hold_folder(root, typed, recursive)
        # The watches killed before this one, whose undo this one says, even where it moves
        # nothing: they never said one. Read before a `.sorter/` emptied meanwhile makes it anew.
        cut_short = hold.watching.cut_short
        loop = WatchLoop(root, hold, batch_size=batch_size, stop=stop, unreadable=Unreadable(settings.unreadable_wait),
                         on_result=on_result, on_notice=on_notice)
        try:
            recovered = _recover(root, on_notice)
            sorter, follower = _load_sorter(loop, classifier, model, personal, min_confidence)
            try:  # the journal's pass too: a journal that fails it closes the sorter all the same
                left, said = _left_before(loop, sorter, recovered, min_confidence)
                ended = _watch(loop, sorter, follower, left, said, recursive=recursive, polling=polling,
                               settings=settings)
            finally:
                sorter.close()
            undos = _undos(ended.undo_in, loop.runs, cut_short)
            tally = loop.tally
            summary = WatchSummary(root, tally.counts, tally.moved_to, ended.mode, time.monotonic() - started,
                                   videos=tally.videos, waiting=ended.waiting[0], undos=undos,
                                   undo_in=None if ended.undo_in == root else ended.undo_in, writing=ended.waiting[1],
                                   companions=tally.companions, companions_left=tally.companions_left)
            # Said while `.sorter/watching` still lists its runs: cleared first, a watch killed
            # before its stop line (10-20 ms) was no watch cut short, and its undo went unsaid.
            on_summary(summary)
        except KeyboardInterrupt:  # a second Ctrl-C: said while `.sorter/watching` lists its runs too
            stopped = _interrupted(hold, loop.runs, cut_short)
            if stopped is not None:
                on_interrupted(stopped)
            raise
        finally:
            hold.release()
            _say_uncleared(hold, loop.notify)  # after the stop line: the note is cleared once it is said
    if (error := ended.error()) is not None:  # after the stop line: the folder may be back by now
        raise WatchFailed(error, summary)
    return summary


def _hold_folder(root: Path, typed: Path, recursive: bool = False) -> FolderHold:
    """The folder held for the watch (`FolderHold`), taken before the model loads: a second
    watcher on this folder fails in milliseconds. Where sorter's own files refuse it
    (`.sorter/watching` or its lock made immutable, as `.sorter/` can be), it stops with what to
    do (`refused_start`), naming them from the folder as typed (`typed`)."""
    try:
        return FolderHold(root, recursive=recursive)
    except OSError as exc:
        if exc.errno not in REFUSED or exc.filename is None:
            raise
        # Named from the folder as typed, as `check_folder` names a refused `.sorter/`: `watch q1`
        # said "cannot write in q1/.sorter" but "cannot write in /tmp/q1/.sorter/watching".
        refusing = Path(exc.filename)
        if refusing.is_relative_to(root):
            refusing = typed / refusing.relative_to(root)
        raise refused_start(refusing, exc.strerror or str(exc)) from None


def _recover(root: Path, on_notice: Callable[[WatchNotice], None]) -> Recovered:
    """The moves an earlier crash interrupted, settled before anything moves (`recover`), and
    said where there were any. Returns the journal as it reads now."""
    from sorter.files.recovery import recover

    recovered = recover(root)
    if recovered.completed or recovered.rolled_back:
        on_notice(WatchNotice(
            f"settled {counted(recovered.completed + recovered.rolled_back, 'move')} "
            "interrupted by an earlier crash"
        ))
    return recovered


def _load_sorter(loop: WatchLoop, classifier, model: Path | None, personal: bool,
                 min_confidence: float) -> tuple[Sorter, Follower]:
    """The `Sorter` every batch goes through, its journal runs listed as the watch's
    (`WatchLoop.noted`), with the classifier (`classifier`, or loaded from `model`) under the
    personal model `sorter learn` writes, followed from batch to batch (`Follower`); said where
    that is not the classifier alone."""
    from sorter.model import lite
    from sorter.model.personal_classifier import Follower, describe

    if classifier is None:
        classifier = lite.load_classifier(model)
    follower = Follower(classifier, model, personal)
    classifier = follower.classifier
    import numpy as np

    # Trace the model's graph now rather than on the first file to arrive (~0.5 s).
    size = classifier.image_size
    classifier.predict(np.zeros((1, size, size, 3), np.uint8))
    sorter = Sorter(loop.root, classifier, min_confidence=min_confidence, looks=True, on_journal=loop.noted)
    if describe(classifier, model) != describe(follower.base, model):
        loop.on_notice(WatchNotice(f"sorting with {describe(classifier, model)}"))
    return sorter, follower


def _left_before(loop: WatchLoop, sorter: Sorter, recovered: Recovered,
                 min_confidence: float) -> tuple[LeftBefore, dict[Path, str]]:
    """One pass over the journal: where the photos sorted before went (for their late
    companions: `loop.latecomers`), and what an earlier sort or watch left in place, by the same
    judge, which this watch skips while it stays as it was. Returns those, and the photos put
    back that an earlier watch said (not said again, touched since or not)."""
    from sorter.files.identities import inodes_last, lstat_of
    from sorter.sorting.left_before import LeftBefore, judge_of

    root, latecomers = loop.root, loop.latecomers
    left = LeftBefore(judge_of(sorter.classifier, min_confidence), inodes_last(root))
    latecomers.load(root, recovered.state, seen=left.take)
    sorter.left_alone.judged_before(left.videos(root))  # no photo of their stem come since takes them
    # Nor one the user put back (a video taken back out of dogs/): the user's word.
    sorter.left_alone.put_back = lambda path: latecomers.put_back(path, lstat_of(path)) is not None
    said = left.said(root)
    loop.said_back.update(said)
    return left, said


@dataclass(frozen=True)
class _Ended:
    """How a watch that ran ended."""

    mode: str  # how changes were noticed, at the end: the observer may have fallen back to polling
    waiting: tuple[int, int]  # files left to sort, and of them being written (`Watcher.pending`)
    stopped: SorterError | OSError | None  # what ended the watch, when not `stop`
    undo_in: Path | None  # where its moves are undone: where the folder is now (None: gone)
    #: Why the folder is gone, asked again as the error is said (`Watcher.gone`): `mv wd wd.old;
    #: mkdir wd` stopped it on the move, before the mkdir, and it said "no longer exists" of a
    #: folder that was there again, replaced. None where the folder did not go.
    gone: Callable[[], SorterError | None] | None = None

    def error(self) -> SorterError | OSError | None:
        return (self.gone() if self.gone is not None else None) or self.stopped


def _watch(loop: WatchLoop, sorter: Sorter, follower: Follower, left: LeftBefore, said: dict[Path, str], *,
           recursive: bool, polling: bool, settings: WatchSettings) -> _Ended:
    """The watcher started, skipping what was left before (`left`, and the put-backs `said`,
    looked at once it watches), and batch after batch sorted until `stop`. An error after the
    first scan (the folder moved, deleted or replaced, another watcher in, a disk error outside a
    batch) ends it as `stopped`, with what it did till then; one before is raised as it is."""
    from sorter.files.identities import lstat_of
    from sorter.watching.watcher import Watcher

    root, latecomers = loop.root, loop.latecomers
    stopped: SorterError | OSError | None = None
    undo_in: Path | None = root
    again: Callable[[], SorterError | None] | None = None
    waiting = (0, 0)
    with Watcher(
        root, recursive=recursive, polling=polling, settings=settings, on_notice=loop.notify,
        joins=lambda path: latecomers.destination(path) is not None, alone=latecomers.of_a_photo_moved,
        put_back=lambda path: latecomers.put_back(path, lstat_of(path)) is not None,
    ) as watcher:
        watcher.left_before(left.found(root) | left.touched(said, latecomers.put_back))
        try:
            loop.run(watcher, sorter, follower)
        except (SorterError, OSError) as exc:
            if not loop.began:
                raise
            # The folder moved, deleted or replaced (under a batch too: its .sorter/ went with it).
            gone = watcher.gone()
            stopped = gone or exc
            if gone is not None:
                undo_in = watcher.moved_to()
                again = watcher.gone
        mode = watcher.mode  # after the loop: the observer may have fallen back to polling
        if stopped is None:
            waiting = loop.finish(watcher)
    return _Ended(mode, waiting, stopped, undo_in, again)


def _say_uncleared(hold: FolderHold, notify: Callable[[str], None]) -> None:
    """Where the stop could not empty `.sorter/watching` (`Watching.uncleared`), what to do. Its
    runs listed beside it (`Watching.said_beside`), the next watch only needs it writable; else
    that watch, and a sort before it, would take this one for cut short and count its moves again:
    it is to be emptied. Told to empty it, a user who did not saw a sort's `--json` count
    `"undos": 2, "watches_cut_short": 1` of a watch whose stop had said its undo."""
    watching = hold.watching
    if watching.uncleared is None:
        return
    path, why = watching.path, watching.uncleared
    if watching.said_beside:
        notify(f"cannot clear {path}: {why}; {advice(path, why)}, which the next watch needs")
        return
    notify(f"cannot clear {path}: {why}; {advice(path, why)}, "
           f"then empty it (truncate -s 0 {as_typed(path)}): else the next watch takes this one for cut "
           "short, and its undo line counts this one's moves again")


def _interrupted(hold: FolderHold, runs: set[str], cut_short) -> WatchInterrupted | None:
    """What a watch a second Ctrl-C stopped leaves: its moves cut in two settled under the folder's
    lock (`FolderHold.settled`), and counted with those of the watches and sorts cut short before
    it, as its stop line counts them (`_undos`). None where the journal cannot be settled now."""
    try:
        state = hold.settled()
    except (SorterError, OSError):
        return None
    moved = sum(state.runs[run].sorted_files for run in runs if run in state.runs)
    return WatchInterrupted(moved, _undos(hold.root, runs, cut_short), hold.root)


def _undos(undo_in: Path | None, runs: set[str], cut_short) -> UndoCount | None:
    """The plain `sorter undo`s that take back the watch's moves (its journal `runs`) and those
    of the watches and sorts cut short before it: one read of the journal, at the stop, even
    where it moved nothing (a sort killed before it said no undo line). None where the journal
    cannot be read."""
    from sorter.files.undo import UndoCount, undo_count

    if undo_in is None:
        return UndoCount(0, 0)  # nothing to undo, or the folder gone with its moves
    try:
        return undo_count(undo_in, runs, cut_short, sorts=True)  # a sort killed before it too
    except (OSError, SorterError):  # a journal it may not read now (a link put in its place, say)
        return None
