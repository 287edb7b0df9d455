"""How sort and watch show a file's result and a run's summary: one line per file (on the
terminal with `--verbose`, and in `--log-file`), and the summary table."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import typer

from sorter.cli.console import as_error, err, escape, fail, lost
from sorter.config import AS_BYTES, CONTROLS_SHOWN
from sorter.errors import SorterError, UsageError
from sorter.sorting.results import JOINS
from sorter.wording import counted, percent

#: Why a --log-file cannot be opened that is the path as given (exit 2); a disk error is exit 1.
_NOT_A_LOG_FILE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM, errno.EROFS,
                             errno.ENAMETOOLONG, errno.ELOOP})
STATUS_STYLE = {
    "moved": "green", "planned": "cyan", "neither": "blue", "unsure": "yellow", "unreadable": "red",
    "skipped": "dim", "vanished": "yellow", "failed": "red", "joined": "green", "to join": "cyan",
}
#: Rows of reasons for files left in place in the summary table, so it fits on a screen
#: whatever the folder: the most frequent, then one row for the rest.
MAX_REASON_ROWS = 8
def _detail(result) -> str:
    """What the model said about a file it left in place: (dog) when unsure (its reason says
    how sure, in as many decimals as it takes: "(dog, 97%): confidence 96.9% below 97%" read as a
    contradiction), (97%) when neither."""
    if result.status == "unsure":
        return f" ({_video(result)}{result.label})"
    if result.status == "neither":
        return f" ({_video(result)}{percent(result.confidence)})"
    return " (video)" if result.is_video else ""


def _with_companions(result) -> str:
    """ (+ IMG_1.MOV, IMG_1.AAE) for a photo that moves with its companions."""
    names = [path.name for path, dst in result.companions if dst is not None]
    return f" (+ {', '.join(names)})" if names else ""


def _staying(result) -> str:
    """"; IMG_1.MOV stays with it" for a photo left in place with its companions (an unreadable
    photo's Live Photo video): every file a sort looked at is said."""
    names = [path.name for path, dst in result.companions if dst is None]
    if not names:
        return ""
    return f"; {', '.join(names)} {'stays' if len(names) == 1 else 'stay'} with it"


def _video(result) -> str:
    """"video, 8 frames, " before a video's label and confidence."""
    if not result.is_video or not result.frames:
        return ""
    return f"video, {counted(result.frames, 'frame')}, "


def videos_line(videos: dict[str, int], dry_run: bool) -> str:
    """Videos: 3 moved, 2 left in place (neither: 1, unreadable: 1)."""
    moved = videos.get("planned" if dry_run else "moved", 0)
    left = {status: n for status, n in videos.items() if status not in ("moved", "planned")}
    split = ", ".join(f"{status}: {n}" for status, n in sorted(left.items()))
    return (f"Videos: {moved} {'would move' if dry_run else 'moved'}, {sum(left.values())} left in place"
            + (f" ({split})" if split else ""))


class FileLog:
    """One line per file: rich on a terminal, plain on a pipe (journald adds its own
    timestamps), and plain timestamped lines appended to --log-file. `echo=False` writes the
    file alone (sort without --verbose); `clock` puts the time before terminal lines (watch);
    `dry_run`: a photo a sort would fail is one that "would not move" (`sorting.foreseen`)."""

    def __init__(self, root: Path, log_file: Path | None, *, echo: bool = True, clock: bool = True,
                 dry_run: bool = False) -> None:
        self.root = root
        self.dry_run = dry_run
        self.log_path = log_file
        self.file = None
        self.torn = True  # the file may end in a line cut short: the next starts a line of its own
        try:
            if log_file is not None:
                self._open()
        except OSError as exc:  # exit 2 for a path no log file can be at, as given (a folder, none there)
            error = UsageError if exc.errno in _NOT_A_LOG_FILE else SorterError
            raise fail(error(f"cannot open log file {log_file}: {exc.strerror or exc}")) from None
        self.paused = False  # the log file could not be written (a full disk): said once
        self.lost, self.why = 0, ""  # lines that could not be written to it since, and why: noted in it once it can be
        self.echo = echo
        self.clock = clock
        self.rich = err.is_terminal

    def __enter__(self) -> FileLog:
        return self

    def __exit__(self, *exc_info) -> None:
        self._drop_file()

    def fail(self, exc: SorterError | OSError, directory: Path) -> typer.Exit:
        """`fail()` for an error that ends the command, after noting it in the log file (the
        terminal or journal gets it from `fail`)."""
        error = as_error(exc, directory)
        self.to_file(f"Error: {error}")
        return fail(error)

    def line(self, plain: str, styled: str | None = None) -> None:
        """A line, its control characters escaped: no file's or folder's name (`a\\nb.jpg`, a
        watched `nl\\ndir`) starts a line of its own (bytes that are not UTF-8 stay bytes in the log)."""
        plain, styled = plain.translate(CONTROLS_SHOWN), styled and styled.translate(CONTROLS_SHOWN)
        if self.echo:
            try:
                self._echo(plain, styled)
                if err.gone is not None:  # rich's pipe closed, by this line or one before (`console._Console`)
                    self._console_gone(err.gone)
            except OSError as exc:  # EPIPE: a pipe its reader closed (`| head`); EIO: a terminal hung up
                self._console_gone(exc)
        self.to_file(plain)

    def _echo(self, plain: str, styled: str | None) -> None:
        if self.rich:
            from datetime import datetime

            clock = f"[dim]{datetime.now():%H:%M:%S}[/] " if self.clock else ""
            err.print(f"{clock}{styled or escape(plain)}".translate(AS_BYTES), soft_wrap=True)
        else:
            sys.stderr.write(plain.translate(AS_BYTES) + "\n")
            sys.stderr.flush()

    def _console_gone(self, exc: OSError) -> None:
        """The terminal or pipe stderr went to is gone. A watcher's job is moving photos, and
        a sort's is to finish what it began: losing the console stops neither. Its lines go on
        to --log-file alone (this one included), and stderr to /dev/null (`console.lost`)."""
        self.echo = False
        lost(sys.stderr)
        self.to_file(f"the console is gone ({exc.strerror or exc}): lines go on to this file alone")

    def _open(self) -> None:
        """--log-file opened for appending, and opened again where it was renamed or deleted
        since (`logrotate` without `copytruncate`): a stat of the path, a few microseconds a line.
        After a line cut short (a full disk, a crash), the next starts a line of its own."""
        import os
        import stat

        if self.file is not None:
            try:
                here, mine = os.stat(self.log_path), os.fstat(self.file.fileno())
            except FileNotFoundError:
                here = mine = None
            except OSError:
                return  # cannot tell: written on where it is
            if here is not None and (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino):
                return
            self._drop_file()  # rotated: the lines from here on go to a file made anew at its path
        # surrogateescape: a file name that is not UTF-8 is logged as its bytes, not a crash.
        self.file = open(self.log_path, "a", encoding="utf-8", errors="surrogateescape")
        if self.torn:
            st = os.fstat(self.file.fileno())
            self.torn = False
            if stat.S_ISREG(st.st_mode) and st.st_size:  # not /dev/full, a FIFO, a terminal
                try:
                    with open(self.log_path, "rb") as tail:
                        tail.seek(-1, os.SEEK_END)
                        self.torn = tail.read(1) != b"\n"
                except OSError:
                    pass  # not readable to us: written on as it is

    def to_file(self, plain: str) -> None:
        """A line appended to --log-file. A disk that fills up (or goes read-only) under it is a
        warning, said once, not the end of a watcher that runs for months: the lines meanwhile
        are lost from the file (never from the terminal or the journal), and it is written to
        again once it can be, with how many were lost, on a line of its own."""
        from datetime import datetime

        if self.log_path is None:
            return
        now = datetime.now().isoformat(sep=" ", timespec="seconds")
        text = f"{now} {plain.translate(CONTROLS_SHOWN)}\n"
        if self.lost:
            text = f"{now} ({counted(self.lost, 'line')} could not be written here: {self.why})\n{text}"
        try:
            self._open()
            self.file.write(("\n" if self.torn else "") + text)
            self.file.flush()
        except OSError as exc:
            self._drop_file()
            self.lost += 1
            self.torn = True  # part of it may have been written
            self.why = exc.strerror or str(exc)
            if not self.paused:
                self.paused = True
                err.print(f"warning: cannot write the log file {escape(str(self.log_path))}: {exc.strerror or exc}; "
                          "its lines are skipped until it can be written again", soft_wrap=True)
            return
        self.lost, self.torn = 0, False
        if self.paused:
            self.paused = False
            err.print(f"the log file {escape(str(self.log_path))} is written to again", soft_wrap=True)

    def _drop_file(self) -> None:
        file, self.file = self.file, None
        if file is not None:
            try:
                file.close()  # what it still buffers is lost with it: the next line reopens the file
            except OSError:
                pass

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def result(self, result) -> None:
        if not self.echo and self.log_path is None:
            return
        line = self.line
        name = self._rel(result.path)
        if result.status in JOINS:  # a companion that came after its photo was sorted
            verb, where = "joined" if result.status == "joined" else "would join", self._rel(result.destination)
            line(f"{verb} {name} -> {where} (its photo went there before it came)",
                 f"[{STATUS_STYLE[result.status]}]{verb}[/] {escape(name)} -> {escape(where)} "
                 "[dim](its photo went there before it came)[/]")
        elif result.status in ("moved", "planned"):
            verb = "moved" if result.status == "moved" else "would move"
            where = self._rel(result.destination)
            detail = f"({_video(result)}{result.label}, {percent(result.confidence)})"
            group = name + _with_companions(result)
            line(f"{verb} {group} -> {where} {detail}",
                 f"[{STATUS_STYLE[result.status]}]{verb}[/] {escape(group)} -> {escape(where)} [dim]{detail}[/]")
        else:
            said = "would not move" if self.dry_run and result.status == "failed" else result.status
            plain = f"{said}: {name}{_detail(result)}: {result.reason}{_staying(result)}"
            line(plain, f"[{STATUS_STYLE.get(result.status, '')}]{said}[/]: {escape(plain.split(': ', 1)[1])}")
        # What the decoder printed about the file ("Corrupt JPEG data: ..."), under its line.
        for warning in result.warnings:
            line(f"warning: {name}: {warning}", f"[yellow]warning[/]: {escape(name)}: {escape(warning)}")

    def notice(self, notice) -> None:
        self.line(notice.message, f"[yellow]{escape(notice.message)}[/]" if notice.warning else None)


def not_entered_line(passed, then: str = "--recursive sorts them too.") -> str | None:
    """"Not looked into: 2 sub-folders (trip/, 2019/); --recursive sorts them too.", of the
    sub-folders a sort without --recursive passed by (`folders.NotEntered`); None when none.
    `then`: what to do about them (review: sort them with --recursive)."""
    if passed is None or not passed.count:
        return None
    names = ", ".join(f"{name}/" for name in sorted(passed.names)) + (", …" if passed.count > len(passed.names) else "")
    return f"Not looked into: {counted(passed.count, 'sub-folder')} ({names}); {then}"


def moved_line(moved_to: dict[str, int], verb: str = "moved") -> str:
    split = ", ".join(f"{folder}: {n}" for folder, n in sorted(moved_to.items()))
    return f"{verb} {counted(sum(moved_to.values()), 'file')}{f' ({split})' if split else ''}"


def _reason_rows(reasons: dict[tuple[str, str], int]) -> list[tuple[str, str, int]]:
    """(status, reason, files) rows for what was left in place: the MAX_REASON_ROWS most
    frequent reasons in status order, then "N other reasons" with the files of the rest."""
    from sorter.files.planning import LEFT_IN_PLACE

    order = {status: i for i, status in enumerate(LEFT_IN_PLACE)}
    by_count = sorted(reasons.items(), key=lambda item: (-item[1], order.get(item[0][0], len(order)), item[0]))
    shown, rest = by_count[:MAX_REASON_ROWS], by_count[MAX_REASON_ROWS:]
    if len(rest) == 1:  # a row saying "1 other reason" is no shorter than the reason itself
        shown, rest = by_count, []
    shown.sort(key=lambda item: (order.get(item[0][0], len(order)), -item[1], item[0]))
    rows = [(status, kind, files) for (status, kind), files in shown]
    if rest:
        rows.append(("", f"{len(rest)} other reasons", sum(files for _, files in rest)))
    return rows


def summary_table(summary):
    from rich.table import Table

    table = Table()
    table.add_column("result")
    table.add_column("reason")
    table.add_column("files", justify="right")
    verb = "would move to" if summary.dry_run else "moved to"
    for folder in ("cats", "dogs"):  # a row of 0 says nothing (`moved to dogs/ | 0`): only what moved
        if summary.moved_to.get(folder, 0):
            table.add_row(f"{verb} {folder}/", "", str(summary.moved_to[folder]))
        for named in sorted(f for f in summary.moved_to if f.startswith(folder + "/")):
            table.add_row(f"{verb} {escape(named)}/", "named pet", str(summary.moved_to[named]))
    joined = sum(summary.counts.get(status, 0) for status in JOINS)
    if summary.companions > joined:
        moved = "would move with their photos" if summary.dry_run else "moved with their photos"
        table.add_row(moved, "companions", str(summary.companions - joined))
    if joined:  # came after their photos were sorted
        table.add_row("would join their photos" if summary.dry_run else "joined their photos",
                      "companions that came later", str(joined))
    for status, reason, files in _reason_rows(summary.reasons):
        table.add_row(f"left in place: {status}" if status else "left in place", escape(reason), str(files),
                      style=STATUS_STYLE.get(status, ""))
    if summary.companions_left:  # an unreadable photo's video: in no row above
        table.add_row("left with their photos", "companions", str(summary.companions_left))
    # Folders not entered are no files: their count says so ("7 folders"), in the files column,
    # where a bare 7 read as seven photos left. Few reasons (a library, software, sorted on its own).
    for reason, folders in sorted(summary.folders_skipped.items()):
        table.add_row("left in place: skipped", escape(reason), counted(folders, "folder"),
                      style=STATUS_STYLE["skipped"])
    return table

