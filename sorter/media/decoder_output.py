"""What C image decoders print on stderr: kept off the terminal and handed back with the
call, and so the file, that printed it.

libjpeg, inside OpenCV, writes warnings such as "Corrupt JPEG data: 33 extraneous bytes
before marker 0xd9" with fprintf(stderr), as libpng writes its errors and OpenCV its TIFF
log: past Python, past `cv2.setLogLevel`, and OpenCV has no hook to catch them
(opencv/opencv-python#610). The photo decodes fine all the same. So while `captured()` is
open, file descriptor 2 points at an anonymous temporary file, and Python's own stderr
(rich, warnings, tracebacks) keeps writing to the real one through a duplicate of it.

fd 2 belongs to the whole process and files decode on several threads at once, so who wrote
a line is worked out, not seen. `attribute(fn, ...)` notes the file's size before and after
fn: unchanged, as for every sound photo, means fn printed nothing (two `fstat` calls). Grown,
the new bytes may be another thread's, so fn runs a second time alone, every other
`attribute` and `beside` call held at a gate, and what it prints then is its own (a decoder
says the same of the same bytes). Only the calls that made something print pay for a second
run. Whenever the gate is empty, whatever nobody claimed (the first copies of claimed lines
aside) goes to the real stderr unchanged: another library's message is delayed by a decode
or two, never lost, unless the process dies before that.
"""

from __future__ import annotations

import fcntl
import os
import re
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class _Capture:
    """fd 2 pointed at one temporary file, and the gate: calls run together, or a second
    run alone."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(buffering=0)
        self._fd = self._file.fileno()
        # Appends from several threads must land whole, one after the other.
        fcntl.fcntl(self._fd, fcntl.F_SETFL, fcntl.fcntl(self._fd, fcntl.F_GETFL) | os.O_APPEND)
        self._real = -1  # a duplicate of the real fd 2, kept for the process's life (see `_stream`)
        self._stream = None  # sys.stderr while fd 2 is captured: text on `_real`
        self._saved_stream = None
        self._gate = threading.Condition()
        self._together = 0
        self._alone = False
        self._waiting = 0  # calls whose first run saw the file grow, yet to run alone
        self._claimed: list[tuple[int, int]] = []  # byte ranges written by second runs
        self._copies: Counter[bytes] = Counter()  # their lines, which first runs printed too

    # ------------------------------------------------------------------ redirection

    def start(self) -> bool:
        """Point fd 2 at the file; False when there is no fd 2 to redirect (closed)."""
        try:
            real = os.fstat(2)
        except OSError:
            return False
        if self._real < 0 or not os.path.samestat(os.fstat(self._real), real):
            # Kept open, never closed: a thread may hold sys.stderr (our wrapper) and write
            # after `stop`, and a closed descriptor's number can be reused by any file.
            self._real = os.dup(2)
            encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
            # Line-buffered, as Python's own stderr is.
            self._stream = open(
                self._real, "w", buffering=1, encoding=encoding, errors="backslashreplace", closefd=False
            )
        self._saved_stream = None
        if _writes_to_fd2(sys.stderr):
            sys.stderr.flush()
            self._saved_stream, sys.stderr = sys.stderr, self._stream
        os.dup2(self._fd, 2)
        return True

    def stop(self) -> None:
        os.dup2(self._real, 2)
        if self._saved_stream is not None and sys.stderr is self._stream:
            sys.stderr = self._saved_stream
        self._saved_stream = None
        with self._gate:
            self._settle()

    # ------------------------------------------------------------------ attribution

    def _size(self) -> int:
        return os.fstat(self._fd).st_size

    def _enter(self) -> int:
        """Join the calls running together (once no second run is due); the file's size."""
        with self._gate:
            self._gate.wait_for(lambda: not self._alone and not self._waiting)
            self._together += 1
            return self._size()

    def attribute(self, fn: Callable[..., T], *args) -> tuple[T, tuple[str, ...]]:
        before = self._enter()
        try:
            value, error = _outcome(fn, args)
        except BaseException:  # Ctrl-C: leave the gate as it was
            self._leave(grew=False)
            raise
        if not self._leave(grew=self._size() != before):
            return _result(value, error, ())
        with self._gate:
            self._gate.wait_for(lambda: not self._alone and not self._together)
            self._alone = True
        start, printed = self._size(), b""
        try:
            value, error = _outcome(fn, args)
            printed = os.pread(self._fd, self._size() - start, start)
        finally:
            with self._gate:
                self._alone = False
                self._waiting -= 1
                self._claimed.append((start, start + len(printed)))
                self._copies.update(_shape(line) for line in printed.splitlines(keepends=True))
                self._settle_if_idle()
        return _result(value, error, said(printed.decode("utf-8", "replace").splitlines()))

    def beside(self, fn: Callable[..., T], *args) -> T:
        self._enter()
        try:
            return fn(*args)
        finally:
            self._leave(grew=False)

    def _leave(self, *, grew: bool) -> bool:
        with self._gate:
            self._together -= 1
            self._waiting += grew
            self._settle_if_idle()
            return grew

    def _settle_if_idle(self) -> None:
        if not (self._together or self._alone or self._waiting):
            self._settle()
        self._gate.notify_all()

    def _settle(self) -> None:
        """Pass on what nobody claimed, then empty the file. Called with the gate held and
        empty: no call that could still claim a line is running."""
        size = self._size()
        if not size:
            return
        data = os.pread(self._fd, size, 0)
        unclaimed, pos = [], 0
        for start, end in sorted(self._claimed):
            unclaimed.append(data[pos:start])
            pos = end
        unclaimed.append(data[pos:])
        passed = []
        for line in b"".join(unclaimed).splitlines(keepends=True):
            shape = _shape(line)
            if self._copies[shape] > 0:
                self._copies[shape] -= 1  # a first run's copy of a claimed line
            else:
                passed.append(line)
        _write_all(self._real, b"".join(passed))
        os.ftruncate(self._fd, 0)
        self._claimed.clear()
        self._copies.clear()


#: What differs between two runs' copies of one message: FFmpeg names its decoder's address
#: (`[h264 @ 0x7f42...]`), OpenCV's log its thread and time (`[ WARN:0@8.711]`).
_RUN_SPECIFIC = re.compile(rb"0x[0-9a-fA-F]+|\d+@\d+(?:\.\d+)?")


def _shape(line: bytes) -> bytes:
    """A printed line as two runs print it alike."""
    return _RUN_SPECIFIC.sub(b"#", line)


#: OpenCV's log around what it says: `[ERROR:0@0.140] global loadsave.cpp:1377 imdecode_
#: imdecode_(''): `, `OpenCV(5.1.0) /io/opencv/modules/.../bitstrm.cpp:59: error: (-2:Unspecified
#: error) ` and ` in function 'readBlock'` are for OpenCV's developers, not for a photo's owner.
_OPENCV_NOISE = (
    re.compile(r"^\[\s*[A-Z]+:\d+@[\d.]+\]\s+(?:global\s+)?\S+:\d+\s+\S+\s+(?:\w+\('[^']*'\):\s*)?"),
    re.compile(r"OpenCV\([\d.]+\) \S+:\d+: error: \([^)]*\) "),
    re.compile(r" in function '[^']*'$"),
)


def plain(line: str) -> str:
    """A decoder's line as its photo's report says it: OpenCV's log without its source files,
    thread and time; anything else (libjpeg's "Corrupt JPEG data: ...") as it was printed."""
    line = line.strip()
    for noise in _OPENCV_NOISE:
        line = noise.sub("", line)
    return line.strip() or "decoder message"


#: FFmpeg's decoder and its address in memory (`[h264 @ 0x7f0f98004100] `): the address differs
#: from run to run and tells a photo's owner nothing.
_FFMPEG_ADDRESS = re.compile(r"^\[([^\]@]+?) @ 0x[0-9a-fA-F]+\]")
#: A file's report keeps this many of its decoder's lines: a video whose frames are all damaged
#: printed 82 (`-v`'s warnings, `--json`'s), three kinds of line again and again.
SAID_AT_MOST = 5


def said(lines: list[str]) -> tuple[str, ...]:
    """What a decoder printed as the file's report says it: each line `plain`, FFmpeg's address
    dropped, a line said once, and at most `SAID_AT_MOST` lines, the last saying how many more."""
    kept = dict.fromkeys(_FFMPEG_ADDRESS.sub(r"[\1]", plain(line)) for line in lines if line.strip())
    if len(kept) <= SAID_AT_MOST:
        return tuple(kept)
    first = list(kept)[:SAID_AT_MOST - 1]
    return (*first, f"and {len(kept) - len(first)} more lines like these")


def _writes_to_fd2(stream) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # io.StringIO, a test runner's capture
        return False


def _outcome(fn: Callable[..., T], args) -> tuple[T | None, Exception | None]:
    try:
        return fn(*args), None
    except Exception as exc:  # raised again by `_result`, after the second run if there is one
        return None, exc


def _result(value, error: Exception | None, printed: tuple[str, ...]):
    if error is not None:
        raise error
    return value, printed


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


_lock = threading.Lock()
_capture: _Capture | None = None  # made on first use, reused: a temporary file per decode would cost more than it
_depth = 0
_redirected = False


@contextmanager
def captured() -> Iterator[None]:
    """fd 2 into the capture for the length of the block. Blocks nest and may open on
    several threads: fd 2 goes back when the last one closes. Open one around a loop of
    `attribute` calls so that each call does not redirect and restore fd 2 itself."""
    global _capture, _depth, _redirected
    with _lock:
        if _depth == 0:
            try:
                _capture = _capture or _Capture()
                _redirected = _capture.start()
            except OSError:  # no temporary file: decoders print as they always did
                _redirected = False
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _redirected:
                _capture.stop()
                _redirected = False


def attribute(fn: Callable[..., T], *args) -> tuple[T, tuple[str, ...]]:
    """fn(*args), and the lines it printed on fd 2 (stripped; () for nearly every call).
    fn may run twice, so it must only read; and it must not call `attribute` or `beside`
    itself (its second run would wait for itself). What a thread outside these calls writes
    to fd 2 at C level during a second run is taken for fn's: in sorter the other threads
    move files and draw through Python's stderr meanwhile, and the model runs `beside`."""
    with captured():
        if not _redirected:
            return fn(*args), ()
        return _capture.attribute(fn, *args)


def quietly(fn: Callable[..., T], *args) -> T:
    """fn(*args), what it prints on fd 2 dropped: for decoding where nobody reads a
    per-file report (training, thumbnails)."""
    return attribute(fn, *args)[0]


def beside(fn: Callable[..., T], *args) -> T:
    """fn(*args) among `attribute` calls, never during a second run, so that what it prints
    is never taken for a decoder's: it is passed on to the real stderr."""
    with captured():
        if not _redirected:
            return fn(*args)
        return _capture.beside(fn, *args)
