"""`sorter undo`: put sorted files back where the journal says they came from, newest run
first, never overwriting, a photo's group (its companions) together.

Streams the journal: each run's moves are read back from its own stretch of the file and
put back `putting_back.CHUNK` at a time (journaled as "unmove" intents before, "undo" after),
so undoing a million moves holds a few thousand in memory, not a million. Here: which runs go
back and what is left once they have; how each file goes back: `putting_back`."""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sorter.config import REVIEW_RUN_PREFIX
from sorter.errors import UsageError
from sorter.files import tidying
from sorter.files.putting_back import Undoer

# Named as undo's own: tests stop an undo at them, as a Ctrl-C would.
from sorter.files.tidying import forget as _forget
from sorter.files.tidying import remove_if_empty as _remove_if_empty
from sorter.files.tidying import tidy


@dataclass(frozen=True)
class UndoPlan:
    """What an undo sets out to do, known before it moves anything: for the line a Ctrl-C then
    ends it with (`recovery.put_back_since`)."""

    runs: frozenset[str]  # the runs it takes back
    files: int  # the files they moved that stand (not undone, not gone): what it puts back
    #: Every run undo could take back (no other, nor a review's answers, nor an unread move):
    #: once they are, nothing is left to undo, and the next undo removes what this one left.
    whole: bool = False
    #: The journal's size once recovered, where this undo's own records begin: what a recovery
    #: settled before it (an earlier undo killed part way) is that undo's, not counted as its.
    offset: int = 0


@dataclass(frozen=True)
class UndoResult:
    folder: Path
    runs: int
    restored: int  # files moved back
    conflicts: list[str]  # kept where they are: something else occupies the old path
    missing: list[str]  # no longer where sorter put them
    #: The photos beyond those the lines listed say (a line a move, a photo moved by two runs two lines)
    more_conflicts: int = 0
    more_missing: int = 0
    #: Per named pet ("cats/Luna"), the review's "not her" answers taken back (`files.suggestions`).
    answers: dict[str, int] = field(default_factory=dict)
    left: str | None = None  # everything undone, but sorter's own folder could not be removed: why
    already_back: int = 0  # files found where they came from already (put back by hand): nothing to move
    #: Moves of the runs undone whose record is damaged: not undone, and the journal is kept.
    unread: int = 0
    #: Files put back from where they were moved since sorter put them (`files.whereabouts`).
    found: list[str] = field(default_factory=list)
    more_found: int = 0
    #: Nothing was left to undo, but an earlier undo stopped as it finished had left sorter's own
    #: folders: those removed now (".sorter/", "cats/"); None for any other undo.
    tidied: list[str] | None = None
    #: Of those: every file was put back by a review page's take-back (`u`), no undo; the review
    #: stopped after, leaving its .sorter/.
    by_page: bool = False
    #: Of `runs`, those a file was moved back for: a run whose every file was kept or missing
    #: is undone, yet nothing was restored from it.
    runs_restored: int = 0
    #: Found taken into a folder of the user's own and left there, said so ("found: ...; left
    #: there"): not put back, not missing, and no undo looks for them again.
    yours: int = 0
    copies: int = 0  # found as a copy under another name, said so ("(a copy?); left there"): as `yours`
    #: The files still sorted by the run the next plain undo takes back, where that run was cut short
    #: (`RunState.cut_short`: killed, a crash): it said no undo line, and a user who undid the run after
    #: it took their photos for all back. 0 where the next run is any other, or none is left.
    cut_short_left: int = 0
    cut_short_by: str = "sort"  # what that run was: "sort", or "watch" (`Watching.killed` lists it)
    #: The photos of `conflicts` and of `missing`: a line a move, each photo counted once (a photo
    #: the sort and a review's correction moved, kept, has a line of each move and counts once).
    kept: int = 0
    missing_photos: int = 0
    #: Folders a photo was put back into that were gone (removed or renamed since the sort), made
    #: again and holding it now: the top one of each made ("2018/05" where 2018/ was there).
    remade: list[str] = field(default_factory=list)


def stopped_undo(root: Path, offset: int) -> int:
    """After an undo stopped by its disk (full, or turned read-only), where `offset` is the
    journal's size before it: the files it put back, told without writing a record (there is no
    room for one): a move whose "unmove" intent it journaled and marked "undo", or whose intent
    alone it journaled and whose photo is at its first place again. An intent alone is no move:
    a full disk cuts the journal as it writes a chunk's intents, before any photo of it goes
    back (it said "what it put back before is journaled" of an undo that put back none). A mark
    with no intent of this undo's is recovery's, settling an earlier undo's."""
    from sorter.files.journal import journal_path
    from sorter.files.journal_records import records

    intents: dict[tuple[str, int], str] = {}  # (run, seq) -> where its photo goes back to
    marked: set[tuple[str, int]] = set()
    for _, _, rec in records(journal_path(root), offset, ops=("unmove", "undo")):
        key = (rec.get("run", ""), rec.get("seq"))
        if rec.get("op") == "unmove" and isinstance(rec.get("src"), str) and not rec.get("again"):
            intents[key] = rec["src"]  # "again": its photo, put back by a newer move of it, is counted there
        elif rec.get("op") == "undo":
            marked.add(key)
    return sum(key in marked or os.path.lexists(root / src) for key, src in intents.items())


def _photos(root: Path, chosen) -> int:
    """The photos the moves that stand of the runs `chosen` moved: one moved twice (sorted, then
    named on the review page: its move's place is where the other took it from) is one photo to
    put back, counted once, as the finished undo counts it (`putting_back.Undoer`): a Ctrl-C's
    "put back 3 of 4 files" of 3 photos all back. One pass over their moves, 16 bytes a move;
    none where one run moved one file."""
    from sorter.files.hashes import Hashes

    files = sum(run.sorted_files for run in chosen)
    if files < 2:
        return files
    froms: array[int] = array("q")
    tos = Hashes(_places(root, chosen, froms))
    return files - sum(place in tos for place in froms)


def _places(root: Path, chosen, froms: array) -> Iterator[int]:
    """Where each move that stands of the runs `chosen` put its photo, hashed; where each took it
    from into `froms`."""
    from sorter.files.journal import moves_of

    for run in chosen:
        for m in moves_of(root, run):
            if run.undoable(m.seq):
                froms.append(hash(m.src))
                yield hash(m.dst)


def _size(path: Path) -> int:
    """The size of the file at `path`, 0 where there is none."""
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def _empty(folder: Path) -> bool:
    """`folder` holds nothing (False where it cannot be listed)."""
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is None
    except OSError:
        return False


def _timeline(runs, noted) -> dict[str, float]:
    """Each run `undo` can take back -> when it began: the latest is undone first. One timeline:
    a review session that only said "not her" moved nothing, yet is a run."""
    when = noted.answered()
    for run in runs:
        when[run.run] = min(when.get(run.run, run.started), run.started)
    return when


@dataclass(frozen=True)
class UndoCount:
    """How a watch's moves are undone, told at its stop (`undo_count`)."""

    times: int  # plain `sorter undo`s that take them back; 0: nothing of them left to undo
    total: int  # the runs undo could take back in all: `--all` where as many as `times`
    watches: int = 0  # of those, watches cut short before this one (killed, a crash): they said no undo line
    reviews: int = 0  # of those, review sessions made since the first of them began: each a run, newer
    sorts: int = 0  # of those, sorts cut short (killed, a crash: `RunState.cut_short`)


def undo_count(root: Path, runs: set[str] | None, cut_short: tuple[tuple[str, ...], ...] = (),
               sorts: bool = False, own: str | None = None, unsettled: bool = False) -> UndoCount:
    """How many plain `sorter undo`s take back `runs` (a watch's), and the watches `cut_short`
    before it (each its runs, as `.sorter/watching` listed them: `Watching.cut_short`), which said
    no undo line. Each undo takes back the latest run, so a review session made since the first
    of them began (corrections, "not her" answers) is undone first, and counted in. A watch cut
    short counts while its runs are in the journal, not undone, and reachable by plain undos
    through this watch's runs and reviews alone: behind a sort made since, undoing it would take
    that sort back too, whose own line said how to undo it, so it is left out. `runs` None: a
    sort's, just made, the latest run (where it moved anything, else none): the watches cut short
    right behind it said no undo line, and the sort's says theirs. `sorts`: the sorts cut short
    (`RunState.cut_short`: killed mid-move or between batches; of no watch in `cut_short`), which
    said no undo line either, are counted as those watches are; never `own`, the sort's own run,
    counted before its "end" is written (`sort_folder`'s `on_summary`), moves or none. `unsettled`:
    a dry run's, which recovers nothing: a run killed mid-move, none of its moves marked done yet,
    counts as the next sort's recovery leaves it, undoable where a pending move's photo is at its
    destination (the group follows it there, `recovery._settle_group`). Reads the journal;
    recovers nothing."""
    from sorter.files import suggestions
    from sorter.files.journal import scan

    state = scan(root)
    undoable = state.undoable_runs()
    if unsettled:
        finished = {move.run for move in state.moving.values() if os.path.lexists(root / move.dst)}
        undoable += [run for name, run in state.runs.items() if name in finished and not run.sorted_files]
    when = _timeline(undoable, suggestions.read(root))
    # A sort's own run, just made: never one cut short (its "end" record lost to a full disk, say).
    own_latest = max(when, key=when.__getitem__, default=None) if runs is None else None
    if sorts:  # each a cut short "watch" of one run, after the watches: told apart by their index
        listed = {run for watch in cut_short for run in watch}
        killed = [run.run for run in undoable  # a review's click killed is a review still
                  if run.cut_short and run.run not in listed and not run.run.startswith(REVIEW_RUN_PREFIX)
                  and run.run not in (own_latest, own)]
        watches, cut_short = len(cut_short), (*cut_short, *((run,) for run in killed))
    else:
        watches = len(cut_short)
    if runs is None:
        latest = max(when, key=when.__getitem__, default=None)
        runs = {latest} if latest is not None and not any(latest in watch for watch in cut_short) else set()
    these = {run for run in runs if run in when}
    watch_of = {run: n for n, watch in enumerate(cut_short) for run in watch if run in when}
    first = min((when[run] for run in these), default=float("inf"))
    for run in sorted((run for run in when if when[run] < first), key=when.__getitem__, reverse=True):
        if run in watch_of:
            first = when[run]  # a watch cut short: it and the reviews made since it began are undone first
        elif not run.startswith(REVIEW_RUN_PREFIX):
            break  # a sort (or a watch that stopped and said its line): the watches cut short before it stay
    window = [run for run, began in when.items() if began >= first]
    cut = {watch_of[run] for run in window if run in watch_of}
    reviews = sum(run not in these and run not in watch_of for run in window)
    sorted_ = sum(n >= watches for n in cut)
    return UndoCount(len(window), len(when), len(cut) - sorted_, reviews, sorted_)


def _cut_short_behind(root: Path, state, when: dict[str, float], names) -> tuple[int, str]:
    """(`UndoResult.cut_short_left`, `.cut_short_by`) once the runs `names` are undone: the files
    the run the next plain undo takes back still holds, where that run was cut short, and what it
    was ("sort", "watch")."""
    from sorter.files.watching_note import Watching

    left_next = max((run for run in when if run not in names), key=when.__getitem__, default=None)
    behind = state.runs.get(left_next) if left_next is not None else None
    cut_short = (behind.sorted_files if behind is not None and behind.cut_short
                 and not behind.run.startswith(REVIEW_RUN_PREFIX) else 0)
    return cut_short, "watch" if cut_short and any(left_next in watch for watch in Watching.killed(root)) else "sort"


def cut_short_left(root: Path, names) -> tuple[int, str]:
    """`_cut_short_behind`, read from the journal as it is: for an undo of `names` a Ctrl-C stopped
    as it finished, which says the same note as one that finished (`UndoResult.cut_short_left`)."""
    from sorter.files import suggestions
    from sorter.files.journal import scan

    state = scan(root)
    return _cut_short_behind(root, state, _timeline(state.undoable_runs(), suggestions.read(root)), names)


def undo(root: Path, *, all_runs: bool = False, lock_wait: float = 0.0,
         on_start: Callable[[UndoPlan], None] = lambda plan: None,
         on_missing: Callable[[str, str, int, bool], None] = lambda line, run, seq, photo: None,
         on_found: Callable[[str, str, int, bool], None] = lambda line, run, seq, photo: None) -> UndoResult:
    """Move files back where the journal says they came from, newest run first, never
    overwriting. Plain undo reverses the latest run; `all_runs` every run in the journal. A
    review session's "not her" answers are taken back with its moves (a session that only
    answered is a run of its own). `on_start`: told what it will put back, before it does;
    `on_missing`: each file found gone (`missing`), as it is journaled so, and `on_found` each
    "found" line, before its file is journaled (`found`), for a Ctrl-C to say; `photo`: the line's
    photo is said by no line before it (a photo two runs moved has a line of each move)."""
    from sorter.files import suggestions
    from sorter.files.folder import check_folder, remove_probe_left
    from sorter.files.journal import journal_path, state_dir
    from sorter.files.journal_writer import Journal
    from sorter.files.lock import FolderLock
    from sorter.files.recovery import recover

    # cats/ and dogs/ are looked at once there is a journal, whose moves (and recovery's) go
    # through them: a file named `Cats` (exFAT) refused an undo that had nothing to undo.
    given, root = root, check_folder(root, class_folders=False)
    remove_probe_left(root)
    if not state_dir(root).is_dir():
        # A sort's cats/ or a pet's folder: undo the folder above. Refused before any work, so
        # named as typed, as the refusals before it are (`DIR/Cats exists ...`, README).
        check_folder(given, filing=True, command="undo", class_folders=False)
        raise UsageError(f"nothing to undo: {given} has no sorter journal")
    check_folder(given, writing=True, command="undo")  # its photos go back into it, and its journal is written
    # Before the lock, which makes its file there: a sort leaves its lock, an empty .sorter/ is
    # an undo's, killed as it removed the folder (`tidying.tidy`).
    emptied = _empty(state_dir(root))
    lock = FolderLock(root, wait=lock_wait, recursive=True)  # it puts photos back into the sub-folders they left
    with lock:
        state = recover(root).state
        runs = state.undoable_runs()
        noted = suggestions.read(root)
        when = _timeline(runs, noted)
        if not when:
            if state.unread or state.outside:  # the journal is all that says a photo moved: kept
                raise UsageError(f"nothing to undo in {root}")
            # A run that moved nothing (an error: there never was anything to undo, exit 2), or an
            # undo stopped (Ctrl-C, a kill) once every file was back, before it removed .sorter/
            # and the folders sorter made (exit 0): what it left is removed now, and said. It
            # was removed unsaid, the user left to wonder where .sorter/ went.
            there, left, undone = tidy(root, state, emptied)
            lock.release()  # exfat-fuse: .sorter/ goes once its lock is closed, and is said gone only then
            removed = tidying.removed(root, there)
            if not undone:
                said = f"; removed the {' and '.join(removed)} it left" if removed else ""
                raise UsageError(f"nothing to undo in {root} (no photo was moved){said}" + (f"; {left}" if left else ""))
            return UndoResult(root, 0, 0, [], [], left=left, tidied=removed, by_page=undone == "page")
        names = set(when) if all_runs else {max(when, key=when.__getitem__)}
        chosen = [run for run in runs if run.run in names]
        plan = UndoPlan(frozenset(names), _photos(root, chosen),
                        len(names) == len(when) and not state.unread, _size(journal_path(root)))
        on_start(plan)
        answers = noted.take_back(names)
        if answers:  # before any move: a folder whose suggestions cannot be written is left as it was
            suggestions.write(root, noted)
        undoer = Undoer(root, None, names, state, on_missing, on_found)
        undoer.since = plan.offset
        remade: list[str] = []
        if chosen:
            # The folders of the runs undone before, left then (a photo of an older run in them, or
            # made by that undo to put one back: `make_parents`): the undo that empties one goes
            # on to remove it, as the folder's own run's would have, while it is the folder made.
            # Theirs by identity alone, never `held`: a cats/Luna/ the user made after that undo
            # removed the run's, then sorted into, is the user's.
            before = undoer.whereabouts.made_by(run for run in state.runs.values() if not run.sorted_files)
            with Journal(root, run="undo") as undoer.journal:
                for run in reversed(chosen):
                    undoer.run(run)
                    made = undoer.whereabouts.made_by([run])
                    where = undoer.whereabouts
                    _remove_if_empty(root, [*where.made_here(made, undoer.held), *where.made_here(before),
                                            *where.renamed(made, undoer.followed), *where.renamed(before, undoer.followed)])
                    for folder, records in made.items():
                        before.setdefault(folder, set()).update(records)
            _remove_if_empty(root, undoer.made)  # those its runs took the photos on from
            made = set(undoer.made)
            remade = [folder for folder in undoer.made if os.path.dirname(folder) not in made
                      and os.path.isdir(root / folder)]
        # What stays sorted: the runs not chosen, and the files kept where they are. A missing
        # file is reported and forgotten: nothing of it is left to undo.
        left = None
        unread = sum(run in names for run, _ in state.unread)
        if len(names) == len(when) and not undoer.conflicts.total and not unread:
            left = _forget(root, state, undoer.whereabouts)
        else:
            from sorter.files.journal_writer import unsaid_settled

            unsaid_settled(root)
            # Only where a photo went back: an undo every photo of which was kept (another user's
            # cats/ refusing it) left the sort as it was, and removed the page that showed it.
            if (undoer.restored or not undoer.kept) and not all(run.run.startswith(REVIEW_RUN_PREFIX) for run in chosen):
                from sorter.config import REVIEW_PAGE, STATE_DIR

                # It showed a sort that is now undone (a review's corrections undone leave that sort as it was).
                (root / STATE_DIR / REVIEW_PAGE).unlink(missing_ok=True)
        cut_short, by = _cut_short_behind(root, state, when, names)
    c, m, f = undoer.conflicts, undoer.missing, undoer.found
    return UndoResult(
        root, len(names), undoer.restored, c.shown, m.shown, c.more, m.more, answers,
        left, undoer.already_back, unread, f.shown, f.more, runs_restored=undoer.runs_restored,
        yours=undoer.yours, copies=undoer.copies, cut_short_left=cut_short, cut_short_by=by, kept=undoer.kept,
        missing_photos=undoer.missing_photos, remade=remade,
    )
