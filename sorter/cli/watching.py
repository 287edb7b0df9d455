"""`sorter watch`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from sorter.cli.console import err, fail, shown
from sorter.cli.interrupts import interrupted, journal_size
from sorter.cli.options import MinConfidenceOption, ModelOption, NoPersonalOption, folder_argument, path_option
from sorter.cli.results import FileLog, moved_line, videos_line
from sorter.config import as_typed
from sorter.errors import SorterError
from sorter.sorting.results import JOINS, moved_anything
from sorter.wording import counted

if TYPE_CHECKING:
    from sorter.files.undo import UndoCount
    from sorter.watching.watch import WatchInterrupted, WatchSummary


def watch_command(
    directory: Annotated[Path, folder_argument("The folder to watch.", show_default=False)],
    model: ModelOption = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Also sort images in (and arriving in) subfolders.")
    ] = False,
    min_confidence: MinConfidenceOption = 0.0,
    log_file: Annotated[
        Optional[Path], path_option("--log-file", help="Also append each decision, timestamped, to this file.")
    ] = None,
    polling: Annotated[
        bool,
        typer.Option("--polling", help="List the folder every second instead of using file events (network shares)."),
    ] = False,
    print_unit: Annotated[
        bool, typer.Option("--print-systemd-unit", help="Print a systemd user unit running this command, and exit.")
    ] = False,
    no_personal: NoPersonalOption = False,
) -> None:
    """Sort the photos already in DIRECTORY, then every photo that arrives, until stopped
    with Ctrl-C or SIGTERM. A file is moved only once it is complete: closed by its writer
    or unchanged for a moment; downloads (.part, .crdownload) wait for their final name.
    Photos of neither (with a three-class model) stay where they are, and so does a photo you
    put back. `sorter review DIRECTORY` puts it right while it runs.

    Examples:

      sorter watch ~/Pictures/inbox

      sorter watch /mnt/camera-share --polling --log-file ~/sorter-watch.log

      mkdir -p ~/.config/systemd/user
      cd ~/.config/systemd/user
      sorter watch ~/Pictures/inbox --print-systemd-unit > sorter-watch.service
    """
    from sorter.files.folder import check_folder, named, unwritable
    from sorter.watching import watch

    if print_unit:
        try:
            # A folder not there now is a share not mounted yet, say: the unit waits for it. Its
            # `..` and `.` go (the unit said w4/../nonexist), a link named stays (`named`).
            folder = check_folder(directory, moving_in=True, filing=True, command="watch", missing_ok=True)
            from sorter.model.lite import resolve_model_path

            args = ["--model", os.path.abspath(resolve_model_path(model))] if model is not None else []
        except SorterError as exc:
            raise fail(exc) from None
        args += ["--recursive"] * recursive + ["--polling"] * polling + ["--no-personal"] * no_personal
        if min_confidence:
            args += ["--min-confidence", f"{min_confidence:g}"]
        if log_file is not None:
            args += ["--log-file", os.path.abspath(log_file)]
        from sorter.watching.systemd import systemd_unit

        try:
            unit = systemd_unit(folder, args)
        except SorterError as exc:
            raise fail(exc) from None
        print(unit, end="")  # not rich: no markup, emoji codes or wrapping
        # Printed with a note, as for a folder missing: a share's mount point is often not the
        # user's to write in until the share is mounted on it.
        refused = unwritable(folder) if folder.exists() else None
        if not folder.exists():
            err.print(f"note: {shown(str(folder))} is not there now; the unit waits for it (while it is missing, "
                      "sorter watch exits with status 2 and systemd starts it again 10 s later)", soft_wrap=True)
        elif refused is not None:
            err.print(f"note: cannot write in {shown(str(refused[0]))} now ({refused[1]}); the unit waits for it "
                      "(until it can, sorter watch exits with status 2 and systemd starts it again 10 s later)",
                      soft_wrap=True)
        return

    folder = named(directory)  # as `check_folder` returns it, `summary.folder`: one path in every line
    journaled = journal_size(folder)
    from sorter.signals import result_said, signals_held

    def on_summary(summary: WatchSummary) -> None:
        # Stopped: a second Ctrl-C as its line is said stops nothing, nor one as its note is
        # cleared and it returns. Set before the line, so that no signal falls between the two.
        done()
        with signals_held(dropped=True):  # a caller's own handlers (a test's in-process Ctrl-C)
            log.line(_stopped_line(summary))

    said: list[typer.Exit] = []

    def on_interrupted(stopped: WatchInterrupted) -> None:
        # Said before `.sorter/watching` is cleared, its undo as the stop line's (the watches and
        # sorts cut short before it): killed before it, the watch is one cut short.
        done()
        with signals_held(dropped=True):
            said.append(interrupted(folder, journaled, log, lambda moved: watch_undo(
                stopped.undo_in, bool(moved), stopped.undos), moved=stopped.moved))

    with FileLog(folder, log_file) as log, result_said() as done:
        try:
            watch.watch_folder(
                directory, model=model, recursive=recursive, min_confidence=min_confidence, polling=polling,
                on_result=log.result, on_notice=log.notice, personal=not no_personal, on_summary=on_summary,
                on_interrupted=on_interrupted,
            )
        except watch.WatchFailed as exc:  # its folder gone, say: what it did (said), then why it stopped
            raise log.fail(exc.error, folder) from None
        except (SorterError, OSError) as exc:
            raise log.fail(exc, folder) from None
        except KeyboardInterrupt:  # a second Ctrl-C: the batch in hand abandoned, and no summary
            done()  # a third, as its lines are said, stops nothing: it added `Interrupted.` under them
            raise (said[0] if said else interrupted(folder, journaled, log)) from None


def _stopped_line(summary: WatchSummary) -> str:
    from sorter.files.planning import NEITHER_REASON

    neither, joined = summary.counts.get("neither", 0), summary.counts.get("joined", 0)
    # The rest left in place, by why (each file's line says more): unsure, skipped (put back), ...
    others = {status: summary.counts[status] for status in ("unsure", "unreadable", "skipped", "failed")
              if summary.counts.get(status)}
    # Those that moved with their photos, as `sort`'s table says them: the undo restores them too.
    with_photos = summary.companions - sum(summary.counts.get(status, 0) for status in JOINS)
    return (f"stopped watching {summary.folder}: {moved_line(summary.moved_to)}"
            + (f" and {counted(with_photos, 'companion')} with {'its photo' if with_photos == 1 else 'their photos'}"
               if with_photos > 0 else "")
            + (f"; left {neither} in place: {NEITHER_REASON}" if neither else "")
            + (f"; {sum(others.values())} {'more ' if neither else ''}left in place ("
               + ", ".join(f"{status}: {n}" for status, n in others.items()) + ")" if others else "")
            + (f"; {counted(summary.companions_left, 'companion')} left in place with "
               f"{'its photo' if summary.companions_left == 1 else 'their photos'}" if summary.companions_left else "")
            + (f"; {counted(joined, 'companion')} joined {'its photo' if joined == 1 else 'their photos'}" if joined else "")
            + (f"; {videos_line(summary.videos, False).lower()}" if summary.videos else "")
            + (f"; {summary.waiting} not sorted yet" + (f" ({summary.writing} being written)" if summary.writing else "")
               + ": a watch started again sorts them" if summary.waiting else "")
            + _undo_hint(summary))


def _undo_hint(summary: WatchSummary) -> str:
    """The stop line's "; undo with: ..." (`watch_undo`), or "" where nothing is to undo."""
    undo = watch_undo(summary.undo_in or summary.folder, moved_anything(summary), summary.undos)
    return "" if undo is None else f"; undo with: {undo}"


def watch_undo(folder: Path, moved: bool, undos: UndoCount | None) -> str | None:
    """How to undo a watch that `moved` anything or none (`undos`: `WatchSummary.undos`), as said
    after "undo with: ", or None. `sorter undo` takes back the latest run, and a review made while it
    ran is a newer run than the watch's own (its corrections, its "not her" answers): told plain
    `sorter undo`, the user took back the review, and not the watch. Watches killed before this
    one (mid-burst, a crash) said no line: their moves, runs of their own, are told with these, or
    alone where this one moved nothing."""
    from sorter.files.undo import UndoCount

    # The journal unreadable at the stop: the plain command for its own moves, none for others'.
    count = undos or UndoCount(1 if moved else 0, 1 if moved else 0)
    if count.times == 0 or not (moved or count.watches or count.sorts):
        return None  # nothing of it left to undo, nor of a watch or a sort cut short
    command = f"sorter undo {as_typed(folder)}"
    if count.watches or count.sorts:  # killed, they said no undo line; this one's alone left their moves in place
        cut = _cut_short(count, "one") + _reviews(count.reviews, " and", "since")
        too = " too" if moved else ""
        return _undo_line(command, count, cut + too, f"they take back {cut}{too}")
    # Every run newer than the watch's first is a review made meanwhile (nothing else runs beside a watch).
    reviews = _reviews(count.times - 1, "", "meanwhile").lstrip()
    first = "the first takes" if count.times == 2 else f"the first {count.times - 1} take"
    return _undo_line(command, count, reviews + " too", f"{first} back {reviews}")


def _cut_short(count: UndoCount, this: str) -> str:
    """The watches and sorts cut short before this `this` ("sort", "one": a watch) that
    `count` counts: "the watch and the 2 sorts cut short before this sort"."""
    runs = [f"the {what}" if n == 1 else f"the {n} {what}es" if what == "watch" else f"the {n} {what}s"
            for n, what in ((count.watches, "watch"), (count.sorts, "sort")) if n]
    return " and ".join(runs) + f" cut short before this {this}"


def _reviews(n: int, before: str, when: str) -> str:
    return "" if not n else f"{before} the review made {when}" if n == 1 else f"{before} the {n} reviews made {when}"


def _times(n: int) -> str:
    return "twice" if n == 2 else f"{n} times"


def _undo_line(command: str, count: UndoCount, it_takes_back: str, several: str) -> str:
    """The one undo line: plain where one undo takes back the watch's alone; `--all` where the
    undos are every run in the journal (nothing older to keep); else `count.times` undos, `several`
    saying what they take back."""
    if count.times == 1:
        return command + (f" (it takes back {it_takes_back})" if count.watches or count.sorts else "")
    if count.times == count.total:
        return f"{command} --all (it takes back {it_takes_back})"
    return f"{command}, {_times(count.times)} ({several})"


def sort_undos(folder: Path, moved: bool, killed: tuple[tuple[str, ...], ...], sorts: bool = True,
               own: str | None = None, dry_run: bool = False) -> UndoCount:
    """How many plain `sorter undo`s take back a sort just made (where it `moved` anything) and
    the watches killed right before it (`Watching.killed`, read before the sort), which said no
    undo line, and a watch started after the sort says only its own (undoing theirs would take
    the sort back too): said by the sort, or never. Its undo line, the line of a sort stopped
    part way and `--json`'s `undos` are told from this one count. So are the sorts cut short right
    before it (`sorts`; killed, a crash: `RunState.cut_short`), mid-move or between batches: their
    undo line was never said either, and a user who undid this
    sort's alone took their photos for all back. A dry run counts them as a sort would (`moved`
    False), its moves a kill left pending as the sort's recovery would settle them: the sort it
    plans would say them. `own`: the sort's run, not ended yet as its line is said
    (`SortSummary.run`), no sort cut short."""
    from sorter.files.undo import UndoCount, undo_count

    try:  # a sort that moved nothing made no run: the latest in the journal is not its own
        count = undo_count(folder, None if moved else set(), killed, sorts, own=own,
                           unsettled=dry_run) if killed or sorts else None
    except (SorterError, OSError):  # the journal unreadable now: the sort's own undo alone
        count = None
    cut = count is not None and (count.watches or count.sorts)
    return count if cut else UndoCount(int(moved), int(moved))


def sort_undo(folder: Path, count: UndoCount, moved: bool) -> str | None:
    """What undoes a sort that `moved` anything, or none, and the watches cut short before it
    (`sort_undos`), as said after "undo with: ": `sorter undo DIR (then once more for the watch
    cut short before this sort)`, or a sort cut short. None where nothing of the sort's is to
    undo, nor of a watch or a sort cut short."""
    command = f"sorter undo {as_typed(folder)}"
    if not (count.watches or count.sorts):
        return command if count.times else None
    cut = _cut_short(count, "sort") + _reviews(count.reviews, " and", "since")
    if moved:
        more = count.times - 1
        return f"{command} (then {'once' if more == 1 else _times(more)} more for {cut})"
    if count.times == 1:
        return f"{command} (it takes back {cut})"
    return f"{command}, {_times(count.times)} (they take back {cut})"


def sort_undo_line(folder: Path, count: UndoCount, moved: bool) -> str | None:
    """`sorter sort`'s undo line (`sort_undo`)."""
    undo = sort_undo(folder, count, moved)
    return None if undo is None else f"Undo with: {undo}"


def dry_run_cut_short_line(folder: Path, count: UndoCount, working: tuple[str, str] | None = None) -> str | None:
    """A dry run's last line, of the watches and sorts cut short before it (`sort_undos` of a sort
    that moved nothing), or None where none was: the sort it plans says their undo in its own line,
    and a dry run, where a user checks what a sort would do, said nothing of them. `working`: the
    sorter at work on the folder now (`watching_note.working_on`), whose runs are not cut short
    (its own line says them), and whose lock a sort would be refused: said in their place, as the
    sort's refusal says it."""
    if working is not None:
        pid, what = working
        who, until = ("A watch", "the watch stops") if what == "watch" else ("Another sorter", "it finishes")
        return (f"{who} (pid {pid}) is working on {as_typed(folder)}: this plan is of the folder as it is now, and "
                f"a sort would be refused until {until}.")
    if not (count.watches or count.sorts):
        return None
    command = f"sorter undo {as_typed(folder)}" + ("" if count.times == 1 else f", {_times(count.times)}")
    runs = [f"a {what}" if n == 1 else f"{n} {what}es" if what == "watch" else f"{n} {what}s"
            for n, what in ((count.watches, "watch"), (count.sorts, "sort")) if n]
    one = count.watches + count.sorts == 1
    cut = " and ".join(runs)
    moves = ("its" if one else "their") + " moves" + _reviews(count.reviews, " and", "since")
    return (f"{cut[0].upper()}{cut[1:]} {'was' if one else 'were'} cut short before this dry run: {command} takes "
            f"back {moves}; a sort's undo line says them too.")
