"""`sorter sort` and `sorter undo`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sorter.cli.console import err, escape, fail, out, printable, progress_bar, say, show_table, shown, stopped_part_way
from sorter.cli.interrupts import (
    began_since,
    interrupted,
    journal_size,
    set_apart,
    still_sorted_line,
    undo_interrupted,
    undo_interrupted_done,
)
from sorter.cli.options import LogFileOption, MinConfidenceOption, ModelOption, NoPersonalOption, folder_argument
from sorter.cli.results import FileLog, moved_line, not_entered_line, summary_table, videos_line
from sorter.cli.watching import dry_run_cut_short_line, sort_undo, sort_undo_line, sort_undos
from sorter.config import as_typed
from sorter.errors import SorterError
from sorter.sorting.results import moved_anything
from sorter.wording import counted

if TYPE_CHECKING:
    from sorter.files.undo import UndoCount


def sort_command(
    directory: Annotated[Path, folder_argument("The folder to sort.", show_default=False)],
    model: ModelOption = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also sort images in subfolders.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Show the plan; change nothing.")] = False,
    min_confidence: MinConfidenceOption = 0.0,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print a line for every file (on stderr), not just the summary.")
    ] = False,
    log_file: LogFileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout and nothing else.")] = False,
    as_jsonl: Annotated[
        bool,
        typer.Option("--jsonl", help="Print one JSON object per file as it is done, then a summary line (any folder size)."),
    ] = False,
    no_personal: NoPersonalOption = False,
    name_pets: Annotated[
        bool,
        typer.Option("--name-pets", help="Also look again at the photos already in cats/ and dogs/ (not in a pet's "
                     "folder), and move those it recognises as a pet you named (`sorter learn`) into its folder "
                     "(from the other kind's folder too, where sorter filed it and you did not move it)."),
    ] = False,
) -> None:
    """Move every cat photo in DIRECTORY into DIRECTORY/cats/ and every dog photo into
    DIRECTORY/dogs/; photos of neither (with a three-class model) stay where they are, and
    so does a photo sorter moved that you put back where it was. Nothing is ever
    overwritten; `sorter undo` reverses a run.

    Prints a progress bar and a summary, with the files left in place counted by reason;
    DIRECTORY/.sorter/review.html shows every group as thumbnails, least confident first.

    Examples:

      sorter sort ~/Pictures/pets

      sorter sort ~/Pictures/pets --dry-run --verbose --min-confidence 0.9

      sorter sort ~/Pictures/pets --recursive --json > report.json

      sorter sort /mnt/archive --recursive --jsonl > report.jsonl

      sorter sort ~/Pictures/pets --name-pets  # once learnt: cats/Luna/
    """
    from sorter.files.folder import named
    from sorter.files.recovery import said
    from sorter.signals import interrupt_dropped, result_said, signals_held
    from sorter.sorting.sort import sort_folder

    if as_json and as_jsonl:
        raise typer.BadParameter("choose one", param_hint=["--json", "--jsonl"])
    results = []
    # The folder as `check_folder` returns it, `summary.folder`: each line that names it says the
    # same path (an undo hint of `S1/sub/..` read "sorter undo /tmp/S1/sub/.." under "Sorted /tmp/S1").
    folder = named(directory)
    journaled = journal_size(folder)
    from sorter.files.watching_note import Watching, working_on

    # Their undo is the sort's to say (`sort_undo_line`), and a dry run's to tell (`dry_run_cut_short_line`).
    # A dry run takes no lock: beside a sorter at work, whose runs are not cut short, it says that one.
    working = working_on(folder) if dry_run else None
    killed = Watching.killed(folder) if working is None else ()
    run: list[str] = []  # its journal run, as it is opened: stopped part way, ended once its line is said
    with FileLog(folder, log_file, echo=verbose, clock=False, dry_run=dry_run) as log, result_said() as done:
        try:
            with progress_bar(not (as_json or as_jsonl), started=False) as (progress, task):

                def on_start(total: int) -> None:
                    progress.update(task, total=total)

                def on_result(result) -> None:
                    interrupt_dropped()  # a Ctrl-C a finalizer swallowed stops the sort here
                    progress.advance(task)
                    if as_jsonl:
                        print(json.dumps(result.to_json()), flush=True)
                    elif as_json:
                        results.append(result.to_json())
                    log.result(result)

                unfinished: list[SorterError | None] = []

                def on_summary(summary) -> None:
                    nonlocal working
                    progress.stop()  # gone from the terminal before the summary is drawn
                    if dry_run and working is None:  # one begun as this judged: its run is at work, not cut short
                        working = working_on(folder)
                    # The sort is done: a Ctrl-C as it is said stops nothing (it cut the summary
                    # after "Sorted DIR", with no count or undo line), nor one after it, as its
                    # "end" is written and the lock let go. Set before the summary, so that no
                    # signal falls between the two.
                    done()
                    with signals_held(dropped=True):  # a caller's own handlers (a test's in-process Ctrl-C)
                        unfinished.append(_said(summary, log, killed=killed, results=results, as_json=as_json,
                                                as_jsonl=as_jsonl, verbose=verbose, recursive=recursive,
                                                model=model, working=working))

                sort_folder(
                    directory, model=model, recursive=recursive, dry_run=dry_run,
                    min_confidence=min_confidence, on_start=on_start, on_result=on_result, personal=not no_personal,
                    name_pets=name_pets, on_checked=progress.start, on_summary=on_summary, on_run=run.append,
                )
        except (SorterError, OSError) as exc:
            done()  # stopped: a signal as it says so stops nothing (it added `Interrupted.` under it)
            if not dry_run:  # stopped part way: what moved before is journaled, and the user should know what to do
                import errno

                read_only = isinstance(exc, OSError) and exc.errno == errno.EROFS
                once = "it can be written (a card's write-protect switch?)" if read_only else "there is room"
                from sorter.files.recovery import stopped_sort

                # What moved, read from the journal and the disk: an intent journaled is no move.
                try:
                    moved: int | None = stopped_sort(folder, journaled).moved
                except (SorterError, OSError):  # a journal it cannot read now: what moved is in it all the same
                    moved = None
                if moved == 0:
                    then = f"nothing was moved: sort again once {once}"
                else:
                    so_far = f"moved {counted(moved, 'file')} before it stopped, journaled" if moved else (
                        "what moved before it is journaled")
                    # The watches killed before it too, as a finished sort's undo line says them.
                    undo = sort_undo(folder, sort_undos(folder, True, killed), True)
                    then = f"{so_far}: sort again once {once}, or undo with: {undo}"
                exc = stopped_part_way(exc, folder, then)
            stop = log.fail(exc, folder)
            said(folder, run[0] if run else None)  # its undo said: its run is no sort cut short
            raise stop from None
        except KeyboardInterrupt:
            if dry_run:
                raise
            # Stopped: a second signal as it settles and says what it moved stops nothing. A
            # SIGTERM after a Ctrl-C said `Interrupted.` in place of its undo line, status 143.
            done()
            # The watches killed before it too, as a finished sort's undo line says them.
            def undo(moved: int) -> str | None:
                return sort_undo(folder, sort_undos(folder, True, killed), True) if moved else None

            stop = interrupted(folder, journaled, log, undo)
            said(folder, run[0] if run else None)  # its undo said: its run is no sort cut short
            raise stop from None
    if unfinished[0] is not None:
        raise fail(unfinished[0])


def _said(summary, log: FileLog, *, killed: tuple[tuple[str, ...], ...], results: list[dict], as_json: bool,
          as_jsonl: bool, verbose: bool, recursive: bool, model: Path | None,
          working: tuple[str, str] | None = None) -> SorterError | None:
    """Say what the sort did, its undo line last (`sort_folder`'s `on_summary`: the folder still
    held, the run's "end" not yet written); returns the error the command ends with, if any."""
    from sorter.sorting.suggesting import not_folders

    dry_run = summary.dry_run
    left = sum(summary.reasons.values())
    verb = "would move" if dry_run else "moved"
    log.to_file(f"{'planned' if dry_run else 'sorted'} {summary.folder}: {moved_line(summary.moved_to, verb)}"
                + (f"; left {left} in place" if left else "")
                + (f" with {counted(summary.companions_left, 'companion')}" if left and summary.companions_left else "")
                + (f"; review: {summary.review_page}" if summary.review_page else ""))
    # Photos it meant to move and could not (a cats/ it may not write in): the rest moved,
    # and the summary says why these did not; the command could not finish (exit 1). "The
    # others were moved" only where some were: where every one failed it would be untrue. A dry
    # run's "failed" are those a sort would fail (`foreseen`): planned, as ever (exit 0).
    failed = 0 if dry_run else summary.counts.get("failed", 0)
    then = ("; the others were moved: put that right, then sort again" if summary.moved_to
            else ": put that right, then sort again")
    unfinished = (SorterError(f"{counted(failed, 'photo')} could not be moved, the summary says why{then}")
                  if failed else None)
    if unfinished is not None:
        log.to_file(f"Error: {unfinished}")
    if summary.review_error:
        err.print(f"[yellow]{escape(summary.review_error)}[/]", soft_wrap=True)
    if verbose and summary.personal_set_aside is not None:  # else a user wonders why their corrections do nothing
        again = "sorter learn DIR" + ("" if model is None else f" --model {as_typed(model)}")
        err.print(f"note: your personal model ({summary.personal_set_aside}) was learnt on another model; sorting "
                  f"with {summary.model} alone ({again} learns it again for this one)", markup=False, soft_wrap=True)
    totals = {
        "folder": str(summary.folder), "dry_run": dry_run, "counts": summary.counts,
        "moved_to": summary.moved_to, "companions": summary.companions, "videos": summary.videos,
        # Companions left in place with their photos (neither, unsure, unreadable), in no other count.
        "companions_left": summary.companions_left,
        "review_page": None if summary.review_page is None else str(summary.review_page), "model": summary.model,
        "might_be": summary.might_be,
        # Of those, the pets whose folder's name a file or a link has taken, which a review's
        # answer is refused until it is renamed: the terminal's "Might be cats/Fred (2 photos), but ...".
        "might_be_refused": [{"pet": pet, "reason": why, "photos": summary.might_be[pet]}
                             for pet, why in not_folders(summary.might_be, summary.folder).items()],
        # A named pet's folder renamed since she was learnt here ("cats/Luna": "cats/Lulu"), or gone (null).
        "pet_folders": summary.pet_folders.moved if summary.pet_folders is not None else {},
        # The sub-folders not looked into without --recursive (null with it): how many, the first 3 by name.
        "not_looked_into": None if summary.not_entered is None else {
            "sub_folders": summary.not_entered.count, "named": sorted(summary.not_entered.names)},
        # A dry run's: what a real sort would be refused, so a script sees that it would fail. The
        # folder, its .sorter/ or its journal (a sort would move nothing; null where none is), and
        # the folders of the plan a sort could not move photos into, with the photos each keeps.
        "unwritable": None if summary.unwritable is None else {
            "path": str(summary.unwritable[0]), "reason": summary.unwritable[1]},
        "refused_into": [{"reason": why, "photos": photos} for why, photos in summary.refused_into],
        # Sub-folders a recursive sort did not enter, per reason: folders, in none of `counts` (files).
        "folders_skipped": summary.folders_skipped,
        # The personal model left aside, learnt on another model (null where none was): `-v`'s note.
        "personal_set_aside": None if summary.personal_set_aside is None else str(summary.personal_set_aside),
    }
    # A dry run moves nothing: it counts the watches and sorts cut short, those a sort's line would say.
    undos = sort_undos(summary.folder, moved_anything(summary) and not dry_run, killed, working is None,
                       own=summary.run, dry_run=dry_run)
    # How many `sorter undo DIR` take back this sort and the watches killed right before it,
    # which said no undo line (0: nothing to undo): the terminal's "Undo with:" line. A dry run's
    # `undos` is 0, and its `watches_cut_short` the watches its last line says.
    totals["undos"], totals["watches_cut_short"] = 0 if dry_run else undos.times, undos.watches
    totals["sorts_cut_short"] = undos.sorts  # of those, sorts killed
    # A dry run's: the pid of the sorter at work on the folder, whose lock a sort would be refused (null: none).
    totals["another_sorter"] = None if working is None else working[0]
    if as_jsonl or as_json:
        # Flushed: its "end" is written once it returns, and a kill then must not lose it in a buffer.
        print(json.dumps({"summary": totals} if as_jsonl else {**totals, "files": results}), flush=True)
    else:
        _show(summary, recursive=recursive, verbose=verbose, undos=undos, working=working)
    return unfinished


def _show(summary, *, recursive: bool, verbose: bool, undos: UndoCount,
          working: tuple[str, str] | None = None) -> None:
    """The summary on a terminal: the table, and what to do next."""
    dry_run = summary.dry_run
    # The folder on its own line: as a table title, rich would wrap a long path to the table's width.
    out.print(f"{'Plan for' if dry_run else 'Sorted'} {printable(str(summary.folder))}", markup=False, soft_wrap=True)
    if " + " in summary.model:  # a personal model: say so (the bundled model alone goes without saying)
        out.print(f"With {summary.model}", markup=False, soft_wrap=True)
    table = summary_table(summary)
    if table.row_count:  # nothing moved or left (no photos): the lines below say why, an empty table nothing
        show_table(out, table)
    passed = not_entered_line(summary.not_entered)  # says --recursive, with the sub-folders it would look into
    if not summary.counts:  # only other files (notes, PDFs), or none: say why nothing moved
        # Without --recursive, `passed` names each sub-folder that holds a photo: none, none to say.
        # Beside rows of folders not entered (software, a library), "its sub-folders" read as if
        # those too held no photo: it says which it looked in.
        # A link to a folder alone, not followed, is no folder entered: "in it" (`entered_none`).
        where = "it" if not recursive or summary.entered_none else \
            "it or the sub-folders it entered" if summary.folders_skipped else "it or its sub-folders"
        others = ": files of other kinds are left alone" if summary.other_files else ""  # of an empty folder, none are
        out.print(f"No photos or videos in {where}{others}.", markup=False, soft_wrap=True)
    if passed:
        out.print(printable(passed), markup=False, soft_wrap=True)
    if summary.videos:
        say(out, videos_line(summary.videos, dry_run))
    if summary.recovered:
        say(out, f"Finished {counted(summary.recovered, 'move')} interrupted by an earlier crash.")
    if dry_run:
        say(out, "Dry run: nothing was changed." + ("" if verbose else " Every file's plan: --verbose."))
        if summary.unwritable is not None:
            where, why = summary.unwritable
            out.print(f"{where} cannot be written: {why}; a sort would move nothing",
                      markup=False, soft_wrap=True)
        for why, photos in summary.refused_into:  # a cats/ it may not write in: those photos alone stay
            out.print(printable(f"{why}; {counted(photos, 'photo')} would not move"),
                      markup=False, soft_wrap=True)
    if summary.review_page is not None:
        out.print(f"Review: {as_typed(summary.review_page)}", markup=False, soft_wrap=True)
    for line in summary.pet_folders.lines() if summary.pet_folders is not None else []:
        out.print(line, markup=False, soft_wrap=True)
    if summary.might_be:
        from sorter.sorting.suggesting import asks_about

        for line in asks_about(summary.might_be, summary.folder):
            out.print(line, markup=False, soft_wrap=True)
    # Late companions joined, though no photo moved, and the watches killed before it.
    undo = (dry_run_cut_short_line(summary.folder, undos, working) if dry_run
            else sort_undo_line(summary.folder, undos, moved_anything(summary)))
    if undo is not None:
        out.print(undo, markup=False, soft_wrap=True)


# --------------------------------------------------------------------------- undo


def undo(
    directory: Annotated[Path, folder_argument("A folder sorted by `sorter sort` or `sorter watch`.")],
    all_runs: Annotated[bool, typer.Option("--all", help="Undo every run in the journal, not just the latest.")] = False,
) -> None:
    """Put files back where they were before the latest run (or every run, with --all).
    Never overwrites: a file that now occupies an old path is reported and kept. A photo
    moved on since (its pet's folder renamed) is found and put back from there. A review's
    "not her" answers are taken back with it.

    Examples:

      sorter undo ~/Pictures/pets

      sorter undo ~/Pictures/pets --all
    """
    from sorter.files import undo as restore
    from sorter.files.folder import named
    from sorter.files.recovery import Told
    from sorter.signals import signals_held

    folder = named(directory)  # as `check_folder` returns it, `result.folder`: one path in every line
    journaled = journal_size(folder)
    plan: list[restore.UndoPlan] = []
    gone, found = Told(), Told()
    result, said = None, False
    try:
        result = restore.undo(directory, all_runs=all_runs, on_start=plan.append, on_missing=gone, on_found=found)
        # Done: a Ctrl-C now waits for every line to be said. Cut in two, it lost the lines of
        # photos found gone or found elsewhere, journaled so, which no undo says again: the user
        # read "Interrupted." alone, never told that 6 photos were gone.
        with signals_held():
            _say_undone(result)
            said = True
    except KeyboardInterrupt:
        if result is not None:  # as it said what it did, or just before
            if not said:
                with signals_held():
                    _say_undone(result)
            raise undo_interrupted_done(folder, result.missing_photos, result.yours,
                                        result.copies) from None

        def say(settled) -> None:
            # Files found gone, or found elsewhere and put back from there, are journaled so, and no
            # undo looks for them again: now or never. The others the next undo looks at, and says.
            lines, more = gone.said(settled)
            for line in lines:
                err.print(f"[yellow]missing[/]: {shown(line)}", soft_wrap=True)
            if more:
                err.print(f"[yellow]missing[/]: {counted(more, 'more file', 'more files')}", soft_wrap=True)
            _say_found(*found.said(settled))

        raise undo_interrupted(folder, journaled, plan[0] if plan else None, all_runs, say) from None
    except (SorterError, OSError) as exc:
        if result is not None:  # as it said what it did (a closed pipe): it had finished
            raise
        # What went back, read from the journal and the disk: an intent journaled is no move.
        try:
            back: int | None = restore.stopped_undo(folder, journaled)
        except (SorterError, OSError):  # a journal it cannot read now: what went back is in it all the same
            back = None if began_since(folder, journaled, b'{"op": "unmove"') else 0
        if back == 0:
            then = "nothing was put back"
        elif back is None:
            then = "what it put back before is journaled, and the next sorter command settles it once there is room"
        else:
            then = (f"put back {counted(back, 'file')} before it stopped, journaled: the next sorter command "
                    "settles it once there is room")
        raise fail(stopped_part_way(exc, folder, then)) from None
    if result.unread:  # a photo still sorted that the undo meant to put back: not done
        raise typer.Exit(1)


def _say_undone(result) -> None:
    """What an undo that finished did (`undo.UndoResult`)."""
    # File names are escaped: "[b].jpg" is a fine photo name and not rich markup.
    for line in result.conflicts:
        err.print(f"[yellow]kept[/]: {shown(line)}", soft_wrap=True)
    for line in result.missing:
        err.print(f"[yellow]missing[/]: {shown(line)}", soft_wrap=True)
    for more, what in ((result.more_conflicts, "kept"), (result.more_missing, "missing")):
        if more:
            err.print(f"[yellow]{what}[/]: {counted(more, 'more file', 'more files')}", soft_wrap=True)
    _say_found(result.found, result.more_found)
    # What it found back already, found gone, left in a folder of yours and kept (the lines above),
    # each counted apart as an interrupted undo counts them (`interrupts`): "Restored 0 files"
    # alone read as if nothing was left for a later undo, and said nothing of the photos gone.
    back = set_apart(result.already_back, result.missing_photos, result.yours, result.copies, result.kept)
    if result.tidied is not None:  # an undo stopped as it finished: what it had yet to remove
        removed = f"; removed the {' and '.join(result.tidied)} it left" if result.tidied else ""
        # Or one that could not remove .sorter/ (an immutable file in it): the warning below says why.
        stopped = "" if result.left else " and was stopped before it finished"
        how = ("the review's corrections were taken back on its page" if result.by_page
               else f"an earlier undo put every file back{stopped}")
        out.print(f"Nothing left to undo in {printable(str(result.folder))}: {how}{removed}.",
                  soft_wrap=True, markup=False)
    else:
        # Counted: the runs files came back from, not those undone (all kept, say: "from 1 run" of none).
        runs = f" from {counted(result.runs_restored, 'run')}" if result.restored else ""
        out.print(f"Restored {counted(result.restored, 'file')}{runs} in {printable(str(result.folder))}{back}.",
                  soft_wrap=True, markup=False)
    for folder in result.remade:  # a user who renamed 2018/05 to May finds the photos in 05/ again: told where
        out.print(f"made again: {printable(folder)}/ (gone since sorter moved its photos out; they are back in it)",
                  soft_wrap=True, markup=False)
    if result.cut_short_left:
        # Their run said no undo line as it was cut short (killed, a crash): the user took their
        # photos for all back, and left them in cats/ and dogs/.
        out.print(still_sorted_line(result.folder, result.cut_short_left, result.cut_short_by),
                  soft_wrap=True, markup=False)
    if result.answers:
        said = ", ".join(f'"not {pet.partition("/")[2]}" on {counted(n, "photo")}'
                         for pet, n in sorted(result.answers.items()))
        them = "it" if sum(result.answers.values()) == 1 else "them"
        out.print(f"Took back {said}: sorter review asks about {them} again.", soft_wrap=True, markup=False)
    if result.left:
        err.print(f"[yellow]warning[/]: {shown(result.left)} (every move is undone; remove it by hand)", soft_wrap=True)
    if result.unread:
        one = result.unread == 1
        err.print(f"[yellow]warning[/]: {counted(result.unread, 'move')} of what was undone could not be read back "
                  f"from the damaged journal and {'is' if one else 'are'} not undone: "
                  f"{'its photo is' if one else 'their photos are'} still in cats/ or dogs/; "
                  f"{shown(str(result.folder))}/.sorter is kept", soft_wrap=True)


def _say_found(lines: list[str], more: int) -> None:
    """An undo's "found: ..." lines (`undo.UndoResult.found`), and how many more it did not list."""
    for line in lines:
        out.print(f"found: {printable(line)}", soft_wrap=True, markup=False)
    if more:
        out.print(f"found: {counted(more, 'more file', 'more files')}", soft_wrap=True, markup=False)
