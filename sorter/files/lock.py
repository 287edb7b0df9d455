"""One sorter per folder: an exclusive `flock` on `DIR/.sorter/lock`. The kernel drops it
when the holder dies (even on kill -9), so a stale lock is taken over automatically.

`sorter watch` runs for days, so it holds the lock only while it sorts a batch, and holds
`DIR/.sorter/watching` (`watching_note.Watching`) for as long as it runs: `sorter sort`, `undo`
and a second watcher are refused while a watcher runs, and `sorter review` (`beside_watcher`)
takes the lock between two batches, so a person can put a watched folder right without stopping
the watcher.

Between two batches of a burst the watcher lets go of the lock for microseconds: a review
polling for it would seldom see it free. So a person's lock holds a shared `flock` on
`DIR/.sorter/turn` while it waits and while it is held, and the watcher, before it takes the
lock for its next batch, waits while anyone holds that (up to `TURN_WAIT`): the review's click
goes next. The kernel drops it with its holder, as it does the lock.

A holder working on the sub-folders too (`sort --recursive`, a `watch --recursive` batch, `undo`,
which puts photos back wherever they came from) says so on the line after its pid (`RECURSIVE`),
and every lock on a folder below it is refused meanwhile (`above_at_work`): a sort of
`t13/2018` started while `sort t13 -r` ran judged the photos that one was moving (`vanished`)
and journaled moves of the same photos. The other way round, the parent's walk passes by a
sub-folder with a journal of its own (`folders.SORTED_ON_ITS_OWN`)."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from sorter.config import STATE_DIR, still_open_there
from sorter.errors import FolderLocked
from sorter.files.state_links import unshared

#: Seconds a watcher waits for a person's turn (a review's click takes milliseconds): a review
#: server that hangs holding its turn slows the watcher, never stops it.
TURN_WAIT = 10.0
#: A pid as the lock file holds it, padded with spaces (Linux's largest is 7 digits).
PID_WIDTH = 12
#: The line after the pid of a holder that works on the sub-folders too; blank (spaces) of the same
#: width otherwise, so that one write over the last holder's never leaves its word a moment.
RECURSIVE = b"recursive"
#: Seconds a sorter refused waits for a new lock file's pid (written microseconds after it is locked).
HOLDER_WAIT = 0.1


def open_lock_file(path: Path) -> int:
    """A lock file, made if new (truncated and written with a pid: `open_own`)."""
    from sorter.files.folder import open_own

    return open_own(path, os.O_RDWR | os.O_CREAT)


def holder_pid(fd: int) -> str:
    """The pid a lock file holds. One just made holds none until its maker, holding the lock,
    writes its pid (`_claim`): a `.sorter/` a click's lock removed is made anew at the next
    lock, so a sorter refused meanwhile looks again for up to `HOLDER_WAIT`."""
    deadline = time.monotonic() + HOLDER_WAIT
    while not (pid := _pid_in(os.pread(fd, 64, 0))) and time.monotonic() < deadline:
        time.sleep(0.002)
    return pid or "unknown"


def _pid_in(data: bytes) -> str:
    """The pid on a lock file's first line: `.sorter/watching` lists runs on the lines after it."""
    return data.split(b"\n", 1)[0].decode(errors="replace").strip()


def _works_below(data: bytes) -> bool:
    """Whether a lock file's holder works on the sub-folders too (`RECURSIVE` after its pid)."""
    lines = data.split(b"\n", 2)
    return len(lines) > 1 and lines[1].strip() == RECURSIVE


def _claim(fd: int, recursive: bool = False) -> int:
    """The lock taken on `fd`: it holds our pid, for the message another sorter gets, and whether
    we work on the sub-folders too. Written over the last holder's in one write of a fixed width,
    never truncated first: a sorter refused meanwhile read an empty file ("pid unknown")."""
    data = f"{os.getpid():<{PID_WIDTH}}\n".encode() + (RECURSIVE if recursive else b" " * len(RECURSIVE))
    os.pwrite(fd, data, 0)
    if os.fstat(fd).st_size > len(data):  # a lock file of an older sorter, which wrote only its pid
        os.ftruncate(fd, len(data))
    return fd


def let_go(fd: int | None) -> None:
    """`fd`'s lock let go and `fd` closed, a Ctrl-C in between or not. The caller forgets `fd`
    first (`fd, self._fd = self._fd, None`): forgotten after, a Ctrl-C that landed as the close
    returned left it to be let go again at the end of a watch (`FolderHold.release`),
    "Bad file descriptor" in place of the interrupt."""
    if fd is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _take_turn(state: Path) -> int:
    """A shared hold on `.sorter/turn`, kept while a person's lock is waited for and held."""
    try:
        fd = open_lock_file(state / "turn")
    except PermissionError:  # another user's, made 0644 by an older sorter or a umask of 022: held, not written
        from sorter.files.folder import open_own

        fd = open_own(state / "turn")
    fcntl.flock(fd, fcntl.LOCK_SH)  # a watcher holds it exclusively only for a look (`_give_way`)
    return fd


def _give_way(state: Path) -> None:
    """The watcher waits while a person waits for the lock or holds it (up to `TURN_WAIT`)."""
    from sorter.files.folder import open_own

    try:
        fd = open_own(state / "turn")
    except PermissionError as exc:  # another user's, unreadable: a review asking would go unseen
        from sorter.files.refused import refused_start

        raise refused_start(state / "turn", exc.strerror or str(exc)) from None
    except OSError:
        return  # no review has asked yet (or a planted file: the lock itself refuses those)
    try:
        deadline = time.monotonic() + TURN_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return  # nobody waiting; closing lets go at once
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.005)
    finally:
        os.close(fd)


def _looked_at(fd: int) -> bool:
    """Whether the lock `fd` could not take is held shared, by `watching_note.working_on` looking
    for a moment, not by a sorter (which holds it exclusively): the lock is taken once it has looked."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


def refusal(root: Path, holder: str) -> FolderLocked:
    return FolderLocked(f"another sorter (pid {holder}) is working on {root}; wait for it to finish or stop it")


def below_refusal(root: Path, above: tuple[str, Path]) -> FolderLocked:
    holder, folder = above
    return FolderLocked(f"another sorter (pid {holder}) is working on {folder}, which holds {root}; "
                        "wait for it to finish or stop it")


class FolderLock:
    """`beside_watcher`: a person's lock (the review server's corrections), taken also while
    `sorter watch` runs on the folder, with a turn before the watcher's next batch; `watcher`:
    the watcher's own, for a batch, after any person waiting. Without either, a running watcher
    refuses the lock. `recursive`: the holder works on the sub-folders too (`RECURSIVE`). Any
    lock is refused while a holder of a folder above works on it so (`above_at_work`)."""

    def __init__(self, root: Path, wait: float = 0.0, beside_watcher: bool = False, watcher: bool = False,
                 tidy: bool = False, recursive: bool = False) -> None:
        self.path = root / STATE_DIR / "lock"
        self.recursive = recursive
        self.wait = wait
        self.beside_watcher = beside_watcher or watcher
        self.watcher = watcher
        self._fd: int | None = None
        self._turn: int | None = None
        self._made = False  # this lock made .sorter/ (a folder sorter never wrote in before)
        #: On release, remove the .sorter/ this lock made if it holds nothing but its own lock
        #: files (`_tidy`); a watcher's, at the end of its watch, the .sorter/ it made or found
        #: holding nothing but lock files, its `watching` among them.
        self.tidy = tidy

    def acquire(self) -> None:
        if self.watcher:
            _give_way(self.path.parent)
        elif self.beside_watcher:
            while self._turn is None:
                self._make_state()
                try:
                    self._turn = _take_turn(self.path.parent)
                except FileNotFoundError:  # .sorter/ removed between the two lines (undo, `_tidy`)
                    pass
        try:
            self._acquire()
        except BaseException:
            turn, self._turn = self._turn, None
            let_go(turn)
            raise

    def _acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        while True:
            self._make_state()
            try:
                fd = open_lock_file(self.path)
            except FileNotFoundError:  # .sorter removed between the two lines (undo)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if _looked_at(fd):  # a dry run looking (`working_on`), for a moment: no sorter
                    os.close(fd)
                    time.sleep(0.001)
                    continue
                if time.monotonic() >= deadline:
                    holder = holder_pid(fd)
                    os.close(fd)
                    raise refusal(self.path.parent.parent, holder) from None
                os.close(fd)
                # Beside a watcher, often: it lets go for a moment between two batches of a burst.
                time.sleep(0.02 if self.beside_watcher else 0.1)
                continue
            if still_open_there(self.path, fd):
                # A sorter of a folder above, at work on this one too: refused as one of this
                # folder is, once `wait` is out (a watch's batch there ends in moments).
                above = above_at_work(self.path.parent.parent)
                if above is None:
                    break
                if time.monotonic() >= deadline:
                    if self._made:  # a sub-folder never sorted is left without a .sorter/
                        self._tidy()
                    os.close(fd)
                    raise below_refusal(self.path.parent.parent, above)
                os.close(fd)
                time.sleep(0.02 if self.beside_watcher else 0.1)
                continue
            # The previous holder removed .sorter/ (a complete undo does) while we waited: a
            # lock on an unlinked file excludes nobody, so lock the file that is there now.
            os.close(fd)
        # The running watcher's (`watching_note.Watching.holder`), asked here: that module builds on this one.
        watcher = None if self.beside_watcher else held_by(self.path.parent / "watching")
        if watcher is not None:  # between two of its batches: the folder is still its
            os.close(fd)
            raise refusal(self.path.parent.parent, watcher)
        try:
            mine = unshared(self.path, fd, os.O_RDWR, locked=True)  # a linked copy's lock is its own
            if mine != fd:  # the copy, locked already, taken before the old is closed (`unshared`)
                fd, old = mine, fd
                os.close(old)
            self._fd = _claim(fd, self.recursive)
        except BaseException:  # a full disk refused the copy: the lock held on `fd` goes with it
            if self._made:  # or its pid (no block left): the .sorter/ it made goes too, as never made
                self._tidy()
            os.close(fd)
            raise

    def _make_state(self) -> None:
        try:
            self.path.parent.mkdir()
            self._made = True
        except FileExistsError:
            pass

    def release(self) -> None:
        if self._fd is not None and (self._made or self.watcher) and self.tidy:
            self._tidy()
        # Removed under the lock (a full undo, `_tidy`): a FUSE driver (exfat-fuse on an SD card)
        # keeps a file removed while still open as a hidden one, so `.sorter/` goes once it is closed.
        removed = self._fd is not None and not os.path.lexists(self.path)
        fd, self._fd = self._fd, None
        let_go(fd)
        turn, self._turn = self._turn, None
        let_go(turn)  # after the lock: the watcher waiting for the turn finds it free
        if removed:
            try:
                self.path.parent.rmdir()  # only when empty: nothing else is ever removed here
            except OSError:
                pass

    def _tidy(self) -> None:
        """`.sorter/` made by this lock and holding nothing but lock files (`lock`, a person's
        `turn`: a sort of a folder without a photo, a review that moved nothing in a folder
        sorter never sorted) is removed, under the lock, as if never made. A sorter waiting
        meanwhile finds its lock file gone and makes `.sorter/` anew (`still_open_there`), its
        own to tidy; a person waiting keeps a turn on the file removed, which only means a
        watcher would not give way to it, and no watcher runs without a `watching` file. A
        watcher's lock removes its own `watching` too, as its watch ends: a second watcher
        waiting for it makes `.sorter/` anew (`watching_note.Watching.acquire`)."""
        own = {"lock", "turn", "watching"} if self.watcher else {"lock", "turn"}
        try:
            if not set(os.listdir(self.path.parent)) <= own:  # a journal, a running watcher's file: kept
                return
            for name in own - {"lock"}:
                (self.path.parent / name).unlink(missing_ok=True)
            os.unlink(self.path)
            self.path.parent.rmdir()  # only when empty: a file made since (`watching`) keeps it
        except OSError:
            pass  # the FUSE case: tried again once the lock is let go (`release`)

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def held_by(path: Path) -> str | None:
    """The pid of the holder of the lock file `path`, or None: looked at shared for a moment."""
    found = _held(path)
    return None if found is None else found[0]


def _held(path: Path) -> tuple[str, bool] | None:
    """The holder of the lock file `path` (its pid, and whether it works on the sub-folders too),
    or None: looked at shared for a moment."""
    from sorter.files.folder import open_own

    try:
        fd = open_own(path)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = holder_pid(fd)  # the pid and the line after it come in one write (`_claim`)
        return pid, _works_below(os.pread(fd, 64, 0))
    finally:
        os.close(fd)  # closing drops a shared lock taken just to look
    return None


def above_at_work(root: Path) -> tuple[str, Path] | None:
    """(its pid, the folder): a sorter holding the lock of a folder above `root` and working on
    its sub-folders too (`RECURSIVE`), or None. The folders above are walked up to the
    filesystem's root or a mount point (a recursive sort of a folder above one starts on the
    disk it is on): a `stat` and an `lstat` of its `.sorter` each, the lock file looked at only
    where there is one. The path resolved first: a folder reached by a link is below the folder
    it really is in."""
    folder = Path(os.path.realpath(root))
    try:
        device = os.stat(folder).st_dev
    except OSError:
        return None  # its own checks say why
    for above in folder.parents:
        try:
            if os.stat(above).st_dev != device:
                return None
            os.lstat(above / STATE_DIR)
        except OSError:
            continue  # no .sorter/ there (or not to be looked at): on up
        found = _held(above / STATE_DIR / "lock")
        if found is not None and found[1]:
            return found[0], above
    return None
