"""A watch's batches (`WatchLoop`): what one watch remembers from batch to batch (the runs its
moves are journaled under, its tally, where its photos went for their late companions, the
refusals and put-backs already said) and the loop that takes each batch the watcher hands out,
sorts it through the same `Sorter` as `sorter sort`, and reports it. None of this prints: what
the user should know goes to `on_result` and `on_notice`."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.files.identities import same_file_of
from sorter.files.moves import CHANGED_SINCE_JUDGED, NOT_A_FILE
from sorter.files.put_backs import put_back_reason
from sorter.media.folders import Skipped, is_image_name, is_video_name
from sorter.sorting.batches import Sorter
from sorter.sorting.left_before import already_there, note_put_back
from sorter.sorting.results import FileResult, Tally
from sorter.wording import counted

if TYPE_CHECKING:  # watchdog is imported only when a watch starts
    from sorter.model.personal_classifier import Follower
    from sorter.watching.folder_hold import FolderHold
    from sorter.watching.unreadable import Unreadable
    from sorter.watching.watcher import Watcher


@dataclass(frozen=True)
class WatchNotice:
    """Something the watcher wants the user to know that is not about one file."""

    message: str
    warning: bool = False


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


#: A move a folder refused (`filing._failed`): the folder, as the root's relative path, and why.
_REFUSED_INTO = re.compile(r"cannot move (?P<where>into|out of) (?P<folder>.+)/: (?P<why>.+)")


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


class WatchLoop:
    """One watch from the hold on its folder to its stop: what it remembers across batches, and
    the loop that sorts batch after batch until `stop`. Made once the folder is held, so that
    the runs it journals under are listed in the hold's `.sorter/watching` (`noted`)."""

    def __init__(self, root: Path, hold: FolderHold, *, batch_size: int, stop: threading.Event,
                 unreadable: Unreadable, on_result: Callable[[FileResult], None],
                 on_notice: Callable[[WatchNotice], None]) -> None:
        from sorter.sorting.latecomers import Latecomers

        self.root = root
        self.hold = hold
        self.batch_size = batch_size
        self.stop = stop
        self.unreadable = unreadable  # maybe still being written: said once it stays so
        self.on_result = on_result
        self.on_notice = on_notice
        self.tally = Tally(root, per_file=True)  # a file judged again (written in pieces) counts once
        self.runs: set[str] = set()  # the runs its moves are journaled under (a new one if the journal was removed)
        self.latecomers = Latecomers()
        self.said_back: dict[Path, str] = {}  # photos put back, said: touched since (the same file), not said again
        self.began = False  # the first scan is made: an error from here on comes after the watch's summary
        self._unnoted = False  # a run `.sorter/watching` refused was said: once, not at each run
        self._refused: dict[Path, str | None] = {}  # moves the disk refused, retried at each scan: said once
        #: When the batch being sorted began: its photos moved after it, and a file of a photo's stem
        #: last changed before it was beside the photo when its companions were looked up
        #: (`latecomers._there_before`). The time of the report came after the move: a Live Photo's
        #: .MOV copied in the moment its photo went was taken for one there before.
        self._batch_began = time.time()
        self._trouble = _Trouble(self.notify, on_notice)
        self._noting = None  # the named pets' near misses, for the review page (`suggesting.Noting`)
        self._told: dict[str, int] = {}  # the groups' sizes the log last said
        self._moved: dict[str, str] = {}  # pet -> what the log last said of her folder renamed or gone

    def notify(self, message: str) -> None:
        """A warning: something went wrong that the watch carries on past."""
        self.on_notice(WatchNotice(message, warning=True))

    def noted(self, run: str) -> None:
        """A journal run of the watch's, as the Sorter opens it (`Sorter.on_journal`), before its
        first move's intent: listed in `.sorter/watching` (`Watching.note`), so that a watch killed
        during that move is known to the next, with the move it made."""
        if run not in self.runs:
            self.runs.add(run)
            try:
                self.hold.watching.note(run)
            except OSError as exc:  # its moves go on, journaled: only a kill would leave them unsaid
                if not self._unnoted:
                    self._unnoted = True
                    self.notify(f"cannot write {self.hold.watching.path}: {exc.strerror or exc}; this watch's moves "
                                "are journaled and its last line says how to undo them, but were it killed, the next "
                                "watch could not say how")

    def report(self, result: FileResult, watcher: Watcher) -> None:
        """A file's result counted, remembered (a photo moved, for its late companions), handed
        back to the watcher to look at again when it should, and passed on to `on_result`; a
        refusal said again at each scan is passed on only when its reason changes."""
        from sorter.sorting.latecomers import Filed

        if _refusal(result):
            if self._refused.get(result.path, "") == result.reason:
                return  # the same refusal again (a read-only cats/ all day): retried without a line
            self._refused[result.path] = result.reason
        else:
            self._refused.pop(result.path, None)
        if result.status != "skipped":
            self.said_back.pop(result.path, None)
        self.tally.add(result)  # watch never plans without moving: a destination means moved
        if result.status == "moved" and result.destination is not None:
            self.latecomers.remember(Filed(result.path, result.destination, result.label, result.confidence,
                                           result.same or same_file_of(result.destination), when=self._batch_began,
                                           companions=tuple((was, now, same_file_of(now))
                                                            for was, now in result.companions
                                                            if now is not None)))  # one taken back out: put back
        if result.status == "failed" and CHANGED_SINCE_JUDGED in (result.reason or ""):
            watcher.note(result.path)  # another file now, or still being written: judged again once complete
        elif result.status in ("neither", "unsure", "unreadable", "skipped"):
            watcher.settle(result.path, unreadable=result.status == "unreadable")  # looked at again once it changes
        # "failed": a move the disk refused (read-only, full, permissions): offered again at the next scan
        self.on_result(result)

    def _judged(self, result: FileResult, watcher: Watcher) -> None:
        """A result of the batch: an unreadable file held back while it may still be written
        (`Unreadable`), any other reported."""
        if result.status == "unreadable" and (signature := watcher.settle(result.path, unreadable=True)) is not None:
            self.unreadable.hold(result, signature)
            return
        self.unreadable.drop(result.path)
        self.report(result, watcher)

    def run(self, watcher: Watcher, sorter: Sorter, follower: Follower) -> None:
        """Batch after batch, until `stop`; the folder's lock let go while there is none."""
        while not self.stop.is_set():
            self._scan(watcher)
            for result in self.unreadable.due():  # unchanged since: damaged, not being written
                self.report(result, watcher)
            batch = watcher.take_ready(self.batch_size)
            if not batch:
                self.hold.idle()  # `sorter review` may correct meanwhile
                watcher.wait()
                continue
            self._batch(batch, watcher, sorter, follower)
            self.hold.idle()  # between two batches of a burst too: a review's click gets its turn

    def _scan(self, watcher: Watcher) -> None:
        """A scan of the folder where one is due; the first says the watch has begun, and what
        it found there. Each forgets the files gone (`_forget_gone`)."""
        found = watcher.scan_if_due()
        if found is not None:
            self._forget_gone()
        if not self.began and found is not None:
            self.began = True
            there = already_there(found, watcher.unchanged, watcher.unchanged_back, watcher.joining)
            self.on_notice(WatchNotice(f"watching {self.root} ({watcher.mode}); {there}"))

    def _forget_gone(self) -> None:
        """The files left in place, refused or put back that are no longer there (deleted, moved
        away) forgotten, at each scan, as the watcher forgets them: kept, they grew without end
        over a long watch (a day of 50 photos arriving unsure and leaving an hour: 1,200 names a
        day, each with an `lstat` at every batch for those refused). Measured: 300 photos come
        and gone, 300 kept before, none after. Their counts stay as said: only the names go. A
        `lstat` per file still there, every `rescan_interval` (30 s)."""
        for record in (self._refused, self.said_back):
            for path in [path for path in record if not os.path.lexists(path)]:
                del record[path]
        self.tally.forget(lambda path: not os.path.lexists(path))

    def _batch(self, batch: list, watcher: Watcher, sorter: Sorter, follower: Follower) -> None:
        """One batch, under the folder's lock: by the latest personal model, with the named pets'
        folders as they are now; its put-backs left where they are, its late companions joined to
        their photos, the rest sorted."""
        self.hold.busy(sorter)
        batch = watcher.passed_by(batch)  # under the lock: a sort of a sub-folder begun since found them
        if not batch:
            return
        changed = follower.check()  # one stat: a new personal model from `sorter learn`?
        if changed is not None:
            sorter.classifier = follower.classifier
            self.on_notice(WatchNotice(changed))
        self._look_for_pets(sorter)
        late, batch, back = _latecomers(self.root, batch, self.latecomers, watcher, sorter.left_alone)
        self._leave_put_back(back, watcher, sorter)
        self._sort(late, batch, watcher, sorter)
        self._moved = _said(sorter.here, self._moved, self.on_notice)  # of the pets looked for as their photos came
        self._write_suggestions()

    def _look_for_pets(self, sorter: Sorter) -> None:
        """Where the named pets' photos go (a pet's folder renamed meanwhile), said once, and
        what they came close to noted for the review page (as `sort` notes it)."""
        from sorter.sorting import suggesting

        here = sorter.pet_folders()
        noting = self._noting
        if noting is None or noting.here != here:  # a folder renamed or swapped meanwhile
            noting = self._noting = suggesting.Noting(self.root, here) if here.folders() else None
            sorter.here = noting.looked if noting is not None else here
        else:  # its pets looked for once while cats/ and dogs/ stay as they were; else as their photos come
            sorter.here = noting.looked if noting.still_looked() else here
        self._moved = _said(sorter.here, self._moved, self.on_notice)

    def _leave_put_back(self, back: list[tuple[Path, Path]], watcher: Watcher, sorter: Sorter) -> None:
        """Photos the user put back where sorter found them (`back`: each with where it was): the
        user's word, so left where they are, said once, and noted in the journal so that the next
        start does not say them again."""
        for entry, was in back:
            reason = put_back_reason(os.path.relpath(was, self.root))
            if self.said_back.get(entry) == reason:
                watcher.settle(entry)  # touched since (a viewer set its time): still the photo put back
                continue
            self.said_back[entry] = reason
            self.report(FileResult(entry, "skipped", reason=reason), watcher)
        if back:  # else the journal is not opened: a lone sidecar's watch made an empty one, kept at the stop
            note_put_back(sorter.journal(), self.root, back, watcher.handed)

    def _sort(self, late: list, batch: list, watcher: Watcher, sorter: Sorter) -> None:
        """The late companions joined and the batch sorted, each result reported as it comes: those
        before a failure were moved. A disk that refuses them is said once (`_Trouble`), and once
        more when a batch goes through again."""
        batch = [entry for entry in batch if isinstance(entry, Skipped) or not self._still_refused(entry)]
        joins = {entry: photo for entry, photo, _ in late}
        unreported = {entry for entry, _, _ in late} | {e.path if isinstance(e, Skipped) else e for e in batch}
        refusals: dict[str, int] = {}  # the batch's moves refused file by file, by reason
        try:
            self._batch_began = time.time()
            for result in chain(sorter.join(late), sorter.sort_entries(batch, batch_size=self.batch_size,
                                                                       looked=watcher.handed)):
                unreported.discard(result.path)
                if result.status == "joined" and result.destination is not None:
                    self.latecomers.took(joins[result.path], result.path, result.destination)  # taken back out: put back
                self._judged(result, watcher)
                if _refusal(result):
                    refusals[result.reason] = refusals.get(result.reason, 0) + 1
                if self._noting is not None:
                    self._noting.add(result, sorter.here)
        except OSError as exc:
            # Disk full, permissions on cats/, ...: not fatal to a service; the files
            # are still in place and the next scan offers them again.
            sorter.replan()  # the names it had planned for them are free again
            self._trouble.failed(exc, sum(os.path.lexists(path) for path in unreported))
        else:
            if refusals:
                self._trouble.refused(refusals)
            elif (late or batch) and not any(map(os.path.lexists, self._refused)):  # those refused before moved too
                self._trouble.over()

    def _still_refused(self, path: Path) -> bool:
        """`path`'s move was refused by the folder it goes into (`cannot move into dogs/:
        Operation not permitted`), which still refuses a write for the same reason: not tried
        again at this scan. Each try journals the move's intent, its abandon and a "seen" line:
        one photo in an immutable dogs/ grew the journal by 1.6 MB a day (three lines every
        `rescan_interval`), a day of them without end. Asked as `sort --dry-run` asks
        (`cannot_write`: a file with no name opened in it), so a folder made writable again is
        tried at the next scan; its flags first (`chattr +i dogs`: `it is marked immutable (...)`),
        as the sort says it (`leaving.folder_refuses`). A refusal that names no folder (no room: an
        empty file is made all the same) is tried as before."""
        from sorter.files.leaving import folder_refuses

        reason = self._refused.get(path)
        if reason is None or not (match := _REFUSED_INTO.fullmatch(reason)):
            return False
        return folder_refuses(self.root / match["folder"], match["folder"], match["where"] == "out of") == match["why"]

    def _write_suggestions(self) -> None:
        """What the named pets' photos came close to, written for the review page where it grew;
        a line when a group grows, not after every batch."""
        from sorter.sorting import suggesting

        if self._noting is None or not self._noting.changed:
            return
        try:
            counts = self._noting.write()
        except OSError as exc:  # advice for the review page: the sort stands
            self.notify(suggesting.not_noted(exc))
        else:
            if any(n > self._told.get(pet, 0) for pet, n in counts.items()):
                for line in suggesting.asks_about(counts, self.root):
                    self.on_notice(WatchNotice(line[0].lower() + line[1:]))
            self._told = counts

    def finish(self, watcher: Watcher) -> tuple[int, int]:
        """As the watch stops (as asked): files still unreadable as judged are said to be damaged,
        not counted among those being written. Returns the photos and videos left to sort, and how
        many of them were being written (`Watcher.pending`)."""
        for result in self.unreadable.due(stopping=True):
            self.report(result, watcher)
        return watcher.pending(also=self.unreadable.paths())
