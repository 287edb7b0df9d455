"""`DIR/.sorter/watching`, held by `sorter watch` for as long as it runs (`Watching`): its pid,
then the journal runs of each watch cut short before it (killed, a crash, a power cut) and of its
own, so the next watch or sort says their undo; and `DIR/.sorter/watching.said` (`SAID`) beside it,
where a stop could not clear it. A watch takes the folder's lock (`lock.FolderLock`) only while it
sorts a batch; `working_on` tells a dry run whether either is held."""

from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path

from sorter.config import STATE_DIR, still_open_there
from sorter.files.lock import PID_WIDTH, above_at_work, held_by, holder_pid, let_go, open_lock_file, refusal
from sorter.files.state_links import unshared

#: A watch's journal run as `.sorter/watching` lists it: named as `Journal` names a run
#: (`20250301T201402-3fa2c1`), of a fixed length, so one a hand edit glued text to is still read.
RUN_ID = re.compile(rb"\d{8}T\d{6}-[0-9a-f]{6}")
#: Beside `.sorter/watching`: the runs it lists whose undo a stop said, where that stop could not
#: clear it (`Watching.uncleared`): not taken for cut short (`_cut_short`) by the next sort or watch.
SAID = "watching.said"


def _whole(fd: int) -> bytes:
    """The whole file `fd` holds: `.sorter/watching` is a pid and a line of runs a watch, a few
    hundred bytes, but a line a person added may be any length, and a run id past the first read
    (64 KiB, as it was read) was lost, the killed watch's moves left out of the next one's undo."""
    data = b""
    while chunk := os.pread(fd, 1 << 16, len(data)):
        data += chunk
    return data


def _said(root: Path) -> frozenset[str]:
    """The runs `SAID` lists (none where it is not there, or cannot be read)."""
    from sorter.files.folder import open_own

    try:
        fd = open_own(root / STATE_DIR / SAID)
    except OSError:
        return frozenset()
    try:
        return frozenset(run.decode() for run in RUN_ID.findall(_whole(fd)))
    except OSError:
        return frozenset()
    finally:
        os.close(fd)


def _cut_short(data: bytes, said: frozenset[str] = frozenset()) -> tuple[tuple[str, ...], ...]:
    """The watches a `.sorter/watching` lists as cut short, each as its runs: none where its pid
    is blank (the watch stopped: `Watching.release`). A pid with no runs is taken for none too:
    a killed watch that moved nothing, or the file of a sorter from before runs were listed,
    whose pid may be there after a clean stop (the first watch after an upgrade would otherwise
    take the clean watch before it for killed). A line is read for the run ids in it alone: one
    added by hand is no watch, and text glued to a run id (appended to a file of an older
    sorter, which wrote no newline at its end: `echo checked >> .sorter/watching`) loses it none.
    A watch whose runs are all `said` (`SAID`) stopped and said its undo: none."""
    first, _, rest = data.partition(b"\n")
    if not first.strip():
        return ()
    return tuple(runs for line in rest.splitlines()
                 if (runs := tuple(run.decode() for run in RUN_ID.findall(line))) and not said.issuperset(runs))


def _say_beside(path: Path, data: bytes) -> bool:
    """Every run `data` (an uncleared `.sorter/watching`) lists, written to `path` (`SAID`): the
    stop said their undo, its own and that of the watches cut short before it. False where that
    is refused too (a disk turned read-only)."""
    from sorter.files.folder import open_own

    try:
        fd = open_own(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    except OSError:
        return False
    try:
        os.write(fd, b"".join(run + b"\n" for run in RUN_ID.findall(data)))
        os.fsync(fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


class Watching:
    """Held by `sorter watch` for as long as it runs (an exclusive `flock` on
    `DIR/.sorter/watching`, holding its pid): a second watcher is refused, and so is every
    `FolderLock` not taken `beside_watcher`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / STATE_DIR / "watching"
        self._fd: int | None = None
        #: The watches before this one that never let go (killed, a crash, a power cut), oldest
        #: first, each as the runs it journaled: their pid still in the file, which a watch that
        #: stops blanks (`release`), and their runs on the lines after it (`note`). Their moves are
        #: runs of their own, which a plain `sorter undo` of this watch's does not take back, and
        #: they said no undo line. Listed on in this watch's file, so a third watch after two
        #: killed in a row knows both.
        self.cut_short: tuple[tuple[str, ...], ...] = ()
        self._runs: list[str] = []  # this watch's own, as `note` lists them
        #: Why the stop could not clear the file ("Operation not permitted": made immutable while
        #: it ran, a disk turned read-only), where it lists runs: the next watch would take this
        #: one for cut short and count them again, though this one's stop said their undo. None
        #: where it was cleared, or lists none (a watch that moved nothing is taken for none).
        self.uncleared: str | None = None
        #: Uncleared, its runs were listed in `SAID` all the same: the next sort or watch does not
        #: count them again, and only a watch needs the file writable (it is refused till then).
        self.said_beside = False

    def acquire(self) -> None:
        deadline = time.monotonic() + 0.08  # `holder` looking, for a moment, is not a watcher
        while True:
            self.path.parent.mkdir(exist_ok=True)  # FileNotFoundError: the folder itself is gone
            try:
                fd = open_lock_file(self.path)
            except FileNotFoundError:  # .sorter/ removed between the two lines (a sort's `_tidy`)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = holder_pid(fd)
                    os.close(fd)
                    raise refusal(self.root, holder) from None
                os.close(fd)
                time.sleep(0.02)
                continue
            if still_open_there(self.path, fd):
                break
            os.close(fd)  # made the folder's own by the watcher that got it first (`own`): that one is there
        self.cut_short = _cut_short(_whole(fd), _said(self.root))  # before ours is written (`_write`)
        self._fd = fd
        try:
            self._own()  # before our pid is written: never into a linked copy's
            self._write()
        except BaseException:  # a full disk refused the copy: let go, not held for as long as the watch runs
            self.release()
            raise
        try:  # the watches it listed are left out of ours now (`cut_short`)
            (self.path.parent / SAID).unlink(missing_ok=True)
        except OSError:
            pass  # kept: its runs are those of watches that stopped, never cut short

    def own(self) -> bool:
        """Still the file at its path, made this folder's own (`_own`); False once `.sorter/` was
        emptied under it (`rm -rf DIR/*`): a file it no longer is, nothing done. One `stat` a batch."""
        if self._fd is None or not still_open_there(self.path, self._fd):
            return False
        self._own()
        return True

    def _own(self) -> None:
        """A file of this folder's own, where a hard-linked copy of the folder (`state_links`) has
        it too: the copy's sorters are not refused for our watch. At the start and at each batch,
        so a watch running as the copy was made lets go of the copy's at its next batch. The file
        is known to be the one at its path (`acquire` just saw it, `own` sees it)."""
        mine = unshared(self.path, self._fd, os.O_RDWR, locked=True)
        if mine != self._fd:  # the copy taken before the old is closed: `release` closes each once
            self._fd, old = mine, self._fd
            os.close(old)

    def note(self, run: str) -> None:
        """`run`, a journal run of this watch's, listed after its pid: were the watch killed, the
        next would know which moves no undo line was said for (`cut_short`). Listed as the run is
        opened, before its first move's intent is written (`Sorter.on_journal`). OSError where the
        file refuses it (made immutable, a disk turned read-only): the run is kept, written with
        the next one the file takes, and the moves are journaled all the same; were this watch
        killed meanwhile, the next would say only its own undo (the caller says so)."""
        if run in self._runs or self._fd is None:
            return
        self._runs.append(run)
        self._write()

    def _write(self) -> None:
        """Our pid, then a line for each watch cut short before us and one for our runs: one
        write over the last holder's, which held the same lines (a kill meanwhile loses none),
        the file then cut to it (a longer one of an older sorter's). Each line ends in a newline,
        so text a person appends (`echo checked >> .sorter/watching`) starts a line of its own,
        never glued to our last run."""
        lines = [*self.cut_short, tuple(self._runs)]
        data = f"{os.getpid():<{PID_WIDTH}}\n".encode() + b"".join(
            " ".join(runs).encode() + b"\n" for runs in lines if runs)
        os.pwrite(self._fd, data, 0)
        if os.fstat(self._fd).st_size > len(data):
            os.ftruncate(self._fd, len(data))

    def release(self) -> None:
        # Removed by the watcher's own lock (`FolderLock._tidy`): on a FUSE disk, `.sorter/` goes once it is closed.
        removed = self._fd is not None and not os.path.lexists(self.path)
        fd, self._fd = self._fd, None
        try:
            if fd is not None:  # stopped, not cut short: the next watch finds no pid, no runs (`cut_short`)
                os.pwrite(fd, b" " * PID_WIDTH + b"\n", 0)  # a line appended by hand stays off the pid's
                os.ftruncate(fd, PID_WIDTH + 1)
        except OSError as exc:  # the caller says so, with what to do: see `uncleared`
            try:
                data = _whole(fd)
                if _cut_short(data):
                    self.uncleared = exc.strerror or str(exc)
                    self.said_beside = _say_beside(self.path.parent / SAID, data)
            except OSError:
                pass
        finally:  # a Ctrl-C as it writes: let go all the same
            let_go(fd)
        if removed:
            try:
                self.path.parent.rmdir()  # only when empty
            except OSError:
                pass

    @staticmethod
    def killed(root: Path) -> tuple[tuple[str, ...], ...]:
        """The watches `.sorter/watching` lists as cut short (`_cut_short`), read without its lock:
        by `sorter sort`, whose undo line says theirs (a running watch refuses the sort anyway)."""
        from sorter.files.folder import open_own

        try:
            fd = open_own(root / STATE_DIR / "watching")
        except OSError:
            return ()
        try:
            return _cut_short(_whole(fd), _said(root))  # all of it, as the next watch reads it (`acquire`)
        except OSError:
            return ()
        finally:
            os.close(fd)

    @staticmethod
    def holder(root: Path) -> str | None:
        """The pid of the watcher running on `root`, or None when none is."""
        return held_by(root / STATE_DIR / "watching")


def working_on(root: Path) -> tuple[str, str] | None:
    """(its pid, "watch" or "sorter"): the sorter at work on `root` (a watch running; a sort, undo or
    review holding the lock; one holding the lock of a folder above, working on its sub-folders
    too: `lock.above_at_work`), or None. For a dry run, which takes no lock: a sort's run not ended, a
    watch's runs listed after its pid, are of a sorter at work, not one cut short. Writes nothing;
    the lock looked at shared for a moment, which a sorter taking it waits out (`lock._looked_at`)."""
    found = at_work_on(root)
    if found is None and (above := above_at_work(root)) is not None:
        found = above[0], "sorter"
    return found


def at_work_on(folder: Path) -> tuple[str, str] | None:
    """(its pid, "watch" or "sorter"): a sorter at work on `folder` itself (a watch running, or the
    lock held), or None; those above it left out. For a recursive sort's walk, whose own lock is
    the one above (`sort_folder`): a sub-folder a sort or watch of its own is at work on is passed
    by, journal or none yet (a sort loading its model, a watch that has moved nothing). An `lstat`
    of its `.sorter/`, the two files looked at only where there is one."""
    try:
        os.lstat(folder / STATE_DIR)
    except OSError:
        return None  # never sorted, watched nor reviewed: no sorter's lock there
    watcher = Watching.holder(folder)
    if watcher is not None:
        return watcher, "watch"
    sorter = held_by(folder / STATE_DIR / "lock")
    return None if sorter is None else (sorter, "sorter")
