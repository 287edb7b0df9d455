"""What a command that moves photos (`sort`, `watch`, `undo`) says when Ctrl-C, or a failure,
stops it part way: read from the journal, against its size before the command (`journal_size`),
once the moves it cut in two are settled as the next command would settle them. Each ends with
exit status 130, as any command Ctrl-C ends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sorter.cli.console import err
from sorter.cli.results import FileLog
from sorter.config import as_typed
from sorter.wording import counted

if TYPE_CHECKING:
    from sorter.files.undo import UndoPlan


def journal_size(root: Path) -> int:
    """The journal's size in bytes now (0 where there is none): where what a command is about to
    journal will begin."""
    from sorter.files.journal import journal_path

    try:
        return journal_path(root).lstat().st_size
    except OSError:
        return 0


def began_since(root: Path, offset: int, intent: bytes) -> bool:
    """Whether this command journaled an intent (`intent`: a sort's "move", an undo's
    "unmove") past `offset`, what the journal held before it: whether anything may have moved.
    Read only when a command stops part way, by the records, not by the files reported (a
    batch's moves are reported after its journal records, which a full disk may cut)."""
    from sorter.files.folder import open_own
    from sorter.files.journal import journal_path

    try:  # never through a link, never blocking on a FIFO planted as the journal
        with open(open_own(journal_path(root)), "rb") as journal:
            journal.seek(offset)
            return any(line.startswith(intent) for line in journal)
    except OSError:
        return False


def interrupted(directory: Path, journaled: int, log: FileLog, undo: Callable[[int], str | None] | None = None,
                moved: int | None = None) -> typer.Exit:
    """Ctrl-C ended a sort (or a watch, at its second Ctrl-C) part way, where `journaled` is the
    journal's size before it: what it moved (`moved`, where its caller settled and counted it),
    settled as the next command would settle it, and how to undo that (`undo(moved)`, what
    follows "Undo with: ", read once the journal is settled, None: no line; a sort's says the
    watches killed right before it too, `watching.sort_undo`). Said and flushed when it returns:
    the caller then marks the run's undo said (`recovery.said`, a watch's note cleared).
    `directory`: as `check_folder` returns it (`files.folder.named`), as the command's other
    lines name it."""
    from sorter.files.recovery import moved_since

    if moved is None:
        # A journal no longer than before holds no move of this command: nothing to read (nor a
        # lock to take, which would make a `.sorter/` in a folder the command had not written in yet).
        moved = moved_since(directory, journaled) if journal_size(directory) > journaled else 0
    lines = [f"Interrupted: moved {counted(moved, 'file')} before it stopped." if moved
             else "Interrupted: nothing was moved."]
    said = undo(moved) if undo else f"sorter undo {as_typed(directory)}" if moved else None
    if said is not None:
        lines.append(f"Undo with: {said}")
    for line in lines:
        log.to_file(line)
        err.print(line, markup=False, soft_wrap=True)
    return typer.Exit(130)


def set_apart(already_back: int, missing: int, yours: int, copies: int, kept: int = 0) -> str:
    """What an undo did not put back, each counted apart, in one set of words for a finished undo
    and one cut short, so the numbers add up: " (1 already back where it was, 1 missing, 1 left in
    a folder of yours, 1 found as a copy, 1 kept in place)"; "" where there is none."""
    where = "it was" if already_back == 1 else "they were"
    apart = [f"{already_back:,} already back where {where}" if already_back else "",
             f"{missing:,} missing" if missing else "",
             f"{yours:,} left in a folder of yours" if yours else "",
             f"{copies:,} found as a copy" if copies else "",
             f"{kept:,} kept in place" if kept else ""]
    return f" ({', '.join(filter(None, apart))})" if any(apart) else ""


_ALL_BACK = "Interrupted as it finished: everything was put back and .sorter/ removed; nothing is left to undo."


def undo_interrupted_done(directory: Path, missing: int = 0, yours: int = 0, copies: int = 0) -> typer.Exit:
    """Ctrl-C came as an undo that had finished said what it did, every line of which it said
    first: that it had finished (where it removed .sorter/, nothing is left to undo). `missing`,
    `yours`, `copies`: the photos it found gone, left in a folder of yours or found as a copy, said
    just above: "everything was put back" is not true of them, nor "every file still there" of
    the last two."""
    from sorter.files.journal import state_dir

    if state_dir(directory).exists():
        said = "Interrupted as it finished: it had done all it says above."
    elif missing or yours or copies:
        which = "still there" if not (yours or copies) else "it could put back"
        said = (f"Interrupted as it finished: every file {which} was put back"
                f"{set_apart(0, missing, yours, copies)[:-1]}, said above) and .sorter/ removed; nothing is left to undo.")
    else:
        said = _ALL_BACK
    err.print(said, markup=False, soft_wrap=True)
    return typer.Exit(130)


def undo_interrupted(directory: Path, journaled: int, plan: UndoPlan | None, all_runs: bool,
                     say: Callable[[Callable[[str, int], bool]], None]) -> typer.Exit:
    """Ctrl-C ended an undo part way, where `journaled` is the journal's size before it and `plan`
    what it set out to put back (`undo.UndoPlan`; None: it had not chosen yet): how many it put
    back, its chunk in flight settled (those found back already, or gone, counted apart: they
    add up to what it set out to put back), and that the same command puts back the rest, which it
    does: an undo takes back only what is not undone yet, and a run partly undone stays the
    latest (`--all`: the runs left are those it had not finished). With none left and no other
    run to undo, what the next undo removes (`tidying.tidy`). `say` says, before that line, the
    lines the undo told of the moves the journal settles (`recovery.PutBack.settled`): the others
    are the next undo's to say. `directory`: as `check_folder` returns it (`files.folder.named`)."""
    from sorter.files.recovery import put_back_since

    size = journal_size(directory)
    others_left = False  # finished, with other runs left: the next of them may be one cut short
    if journaled and not size:  # removed (`tidying.forget`) once every move was undone
        say(lambda run, seq: True)
        said = _ALL_BACK
    elif plan is None or size <= journaled:
        said = "Interrupted: nothing was put back."
    else:
        done = put_back_since(directory, plan.offset, plan.runs)
        say(done.settled)
        again = f"sorter undo {as_typed(directory)}"
        # The finished undo's words: each file it set out to put back is counted once.
        so_far = (f"put back {done.back:,} of {counted(plan.files, 'file')}"
                  + set_apart(done.already_back, done.missing, done.yours, done.copies))
        if not (done.back or done.already_back or done.missing or done.yours or done.copies):
            said = "Interrupted: nothing was put back."
        elif done.left:
            said = f"Interrupted: {so_far}; {again}{' --all' if all_runs else ''} puts back the rest."
        elif plan.whole and done.behind:  # the next undo removes them (`tidying.tidy`), and says so
            said = (f"Interrupted as it finished: {so_far}; none is left to put back, and {again} removes the "
                    f"{' and '.join(done.behind)} it left.")
        else:
            said = f"Interrupted as it finished: {so_far}; none is left to put back."
            others_left = True
    err.print(said, markup=False, soft_wrap=True)
    if others_left and plan is not None:
        # "none is left to put back" is of the runs it took back: the photos of a run cut short
        # behind them stay sorted, as the undo that finished says (`still_sorted_line`).
        from sorter.errors import SorterError
        from sorter.files.undo import cut_short_left

        try:
            left, by = cut_short_left(directory, plan.runs)
        except (SorterError, OSError):  # the journal unreadable now: the next undo says them
            left, by = 0, "sort"
        if left:
            err.print(still_sorted_line(directory, left, by), markup=False, soft_wrap=True)
    return typer.Exit(130)


def still_sorted_line(directory: Path, left: int, by: str) -> str:
    """An undo's note of the run it left next, cut short (`UndoResult.cut_short_left`): that run said
    no undo line (killed, a crash), and a user who undid the run after it took its photos for all back."""
    return (f"{counted(left, 'file')} moved by the {by} cut short before that run {'is' if left == 1 else 'are'} "
            f"still sorted; undo {'it' if left == 1 else 'them'} with: sorter undo {as_typed(directory)}")
