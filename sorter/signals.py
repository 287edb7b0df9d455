"""Stopping a long-running command (watch, the review server) cleanly on SIGINT/SIGTERM, and
on SIGHUP (the terminal it ran in closed: an ssh session ended), which otherwise ended it
without its summary; `sorter train`, and every other command, on SIGTERM as on Ctrl-C; and a few milliseconds that no
signal may cut in two (`signals_held`); and SIGTERM's handler taken back from C++ code that
set one of its own (`handler_kept`); and the interrupt its handlers raise inside a finalizer
noted, not printed (`_QuietDroppedInterrupts`)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn


@contextmanager
def stop_on_signals(stop: threading.Event):
    """SIGINT/SIGTERM/SIGHUP set `stop`; the loop finishes the batch in hand and returns. A second
    signal abandons the batch (KeyboardInterrupt): the journal makes that safe too.

    The handler only calls `stop.set()`, and the main thread never waits on `stop` (it
    polls `is_set()`), so the handler cannot block on a lock the main thread holds."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield  # signals are delivered to the main thread only; the caller owns `stop`
        return

    def handler(signum, frame) -> None:
        if _SAID:  # stopped, and said so (`result_said`): nothing is left to stop
            return
        if signum == signal.SIGTERM:  # the exit status says so (`terminated`): 143, not Ctrl-C's 130
            _TERMINATED.append(signum)
        if stop.is_set():
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
            _cut_short()
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        with _dropped_interrupts_noted():
            yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


_TERMINATED: list[int] = []  # SIGTERM received by `sigterm_as_ctrl_c`'s handler or `stop_on_signals`'
_INTERRUPTED: list[int] = []  # SIGINT and SIGTERM whose KeyboardInterrupt `sigterm_as_ctrl_c`'s handlers raised


def sigterm_as_ctrl_c(over: tuple[object, ...] = ()) -> None:
    """For the whole command (`cli.main`): SIGTERM (`kill`, `timeout`, a service manager's stop)
    raises KeyboardInterrupt, as Ctrl-C does, so that `sort` and `undo` stopped so say what they
    moved and how to take it back (`cli.interrupts`), where SIGTERM ended them at once without a
    word, their journal whole but the user unaware. `terminated` then says the exit status is
    143, not Ctrl-C's 130. Both are noted, for `interrupt_dropped`. A command that stops on
    signals its own way (`stop_on_signals`, `sigterm_interrupts`) sets its handler inside and
    gives this one back after. An ignored SIGTERM or SIGINT stays ignored. `over`: handlers it
    replaces as it replaces the defaults, the entry point's (`sorter.__main__`), set before
    this module was imported."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or signal.getsignal(signal.SIGTERM) in over:
        signal.signal(signal.SIGTERM, _terminate)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler or signal.getsignal(signal.SIGINT) in over:
        signal.signal(signal.SIGINT, _interrupt)
    _QuietDroppedInterrupts.install()  # for the whole command, as the handlers


def command_returned() -> None:
    """The command has returned (`cli._Command.invoke`), its result said: SIGINT and SIGTERM are
    ignored for the rest of the process, where one that came while Python unwound typer and
    removed the temporary folder printed `Interrupted.` and ended with 130 (143), a finished sort
    seeming cut short, or with typer's silent 130; SIGHUP too where the process ends with the
    command (`_whole_command`), whose default action ended it with 129. The process ends with
    the command's own status. Only the whole-command handlers (`sigterm_as_ctrl_c`) are swapped,
    so a command run in-process (a test's CliRunner, a Python caller) keeps its own Ctrl-C."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        return
    whole = _whole_command()
    for sig, ours in ((signal.SIGINT, _interrupt), (signal.SIGTERM, _terminate)):
        if signal.getsignal(sig) is ours:
            signal.signal(sig, signal.SIG_IGN)
    # SIGHUP too, where the process ends with this command: its default action ended it with
    # 129 as it removed its temporary folder, after its result (`result_said`'s `_dropped`).
    if whole and signal.getsignal(signal.SIGHUP) in (signal.SIG_DFL, _dropped):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _SAID.clear()  # after the handlers above are ignored: no signal between the two stops anything


def _whole_command() -> bool:
    """Whether the handlers the whole command sets (`sigterm_as_ctrl_c`) are in place: the
    process ends once the command returns (`cli.main`), where a command run in-process (a test's
    CliRunner) has its caller's."""
    import signal

    return signal.getsignal(signal.SIGINT) is _interrupt or signal.getsignal(signal.SIGTERM) is _terminate


_SAID: list[int] = []  # the command said its result (`result_said`): its handlers stop nothing


@contextmanager
def result_said() -> Iterator[Callable[[], None]]:
    """For a command that says its result inside the block (a finished sort's summary and undo
    line, a watch's stop line, a sort's `Interrupted: ...` or `Error: ...` lines): yields `said`,
    to call as it begins to say it. From then on, SIGINT, SIGTERM and SIGHUP stop nothing: the
    work is done or stopped, its lines, its journal's last record and the folder's lock are all
    that is left. A SIGTERM 0-10 ms after a finished sort's `Undo with:` line (QA 42: 5 of 10)
    said "Interrupted: moved 16 files before it stopped." and the undo line again, status 143; a
    watch's second Ctrl-C after its stop line said an undo line without the `--all` the stop
    line had given; a SIGHUP then ended the sort with status 129; a SIGTERM after a Ctrl-C, as
    the sort said "Interrupted: moved 3 files before it stopped.", added `Interrupted.` in place
    of its undo line, status 143. The handlers here drop them; a SIGHUP with its default action
    is dropped too.

    Where the process ends with the command (`_whole_command`), they stay dropped after the
    block, until `command_returned` ignores them for the rest of the process: between the two
    (the log file closed, Python unwinding), a SIGHUP ended a stopped watch with 129. A command
    run in-process gets its handlers back as the block ends."""
    import signal

    hangup = None

    def said() -> None:
        nonlocal hangup
        _SAID.append(1)
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGHUP) is signal.SIG_DFL:
            hangup = signal.signal(signal.SIGHUP, _dropped)

    try:
        yield said
    finally:
        if not (_SAID and threading.current_thread() is threading.main_thread() and _whole_command()):
            _SAID.clear()
            # Not where an error line inside the block has ignored it since (`command_returned`).
            if hangup is not None and signal.getsignal(signal.SIGHUP) is _dropped:
                signal.signal(signal.SIGHUP, hangup)


def _dropped(signum, frame) -> None:
    pass


def _terminate(signum, frame) -> None:
    if _SAID:  # the command said its result (`result_said`): nothing is left to stop
        return
    _TERMINATED.append(signum)
    _interrupt(signum, frame)


def _interrupt(signum, frame) -> None:
    if _SAID:
        return
    _INTERRUPTED.append(signum)
    if _importing(frame):
        _DEFERRED.append(signum)
        _raise_later()
        return
    _cut_short()


_DEFERRED: list[int] = []  # interrupts noted inside an import, raised once it is done (`_raise_later`)
_RETRY_S = 0.02


def _importing(frame) -> bool:
    """Whether the main thread is inside an import (its module's code, a class it makes): a
    KeyboardInterrupt raised there can be printed as a traceback and dropped ("Exception ignored
    in ... cb", importlib's module-lock callback), or turned into another error (a RuntimeError
    from `__set_name__`, an ImportError from an extension module's import). A CI run saw it once
    in a Ctrl-C 40 ms after the start, as typer imported what it parses with."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _raise_later() -> None:
    # SIGALRM, which nothing else here uses: a look every 20 ms, raised once out of the import
    # (a lazy import of numpy takes about 0.1 s, TensorFlow's a few seconds).
    import signal

    if signal.getsignal(signal.SIGALRM) is not _deferred:
        signal.signal(signal.SIGALRM, _deferred)
    signal.setitimer(signal.ITIMER_REAL, _RETRY_S)


def interrupt_pending() -> None:
    """Raise the KeyboardInterrupt noted inside an import and not raised yet: before a command
    starts, where typer's own lazy imports as it reads the options took a Ctrl-C, and a command
    that fails at once (a folder not found) ended before the 20 ms look."""
    if _DEFERRED:
        _DEFERRED.clear()
        raise KeyboardInterrupt


def _deferred(signum, frame) -> None:
    if not _DEFERRED:  # raised meanwhile (`interrupt_dropped`)
        return
    if _importing(frame):
        _raise_later()
        return
    _DEFERRED.clear()
    _cut_short()


def interrupt_dropped() -> None:
    """Raise KeyboardInterrupt again where Ctrl-C or SIGTERM was received (`sigterm_as_ctrl_c`)
    and the command still goes on: its KeyboardInterrupt was raised inside a finalizer, which
    Python prints as "Exception ignored ... KeyboardInterrupt:" and drops, and a sort stopped
    with Ctrl-C sorted on to its end, status 0. Called where the command is sure to pass (each
    photo a sort files), as `interrupt_lost` is for training."""
    if _INTERRUPTED:
        _DEFERRED.clear()  # said here: the timer's look (`_deferred`) has nothing left to raise
        raise KeyboardInterrupt


_CUT_SHORT: list[int] = []  # a KeyboardInterrupt the handlers here raised, since the hook below was set


def _cut_short() -> NoReturn:
    """Every KeyboardInterrupt that a handler here raises is raised here, and noted: a finalizer
    that fails after it is of an object it cut in two (`_QuietDroppedInterrupts`)."""
    _CUT_SHORT.append(1)
    raise KeyboardInterrupt


@dataclass(frozen=True)
class _QuietDroppedInterrupts:
    """`sys.unraisablehook`: the KeyboardInterrupt that one of the handlers here raised inside a
    finalizer (`__del__`, a weakref callback: Keras's data pipeline closes a multiprocessing pool
    in one), which Python drops, is noted as pending (`_raise_later`, as one raised inside an
    import is) instead of printed: Ctrl-C showed "Exception ignored in: <function Pool.__del__>"
    and a traceback above the one line `Interrupted.`. Raised 20 ms later, or where the command
    looks first (`interrupt_dropped`, `interrupt_lost`), it stops the command as any other
    does.

    Once such an interrupt was raised, a finalizer's error is not printed either: the interrupt
    can land inside a constructor, and the half-made object fails as it is freed. A CI run saw
    Ctrl-C of `sorter train` land in TensorFlow's `_TensorCacheDeleter.__init__`, and
    "Exception ignored in ... AttributeError: ... no attribute '_context_id'" and a traceback
    under `Interrupted.`. Before an interrupt, every other unraisable exception, a
    KeyboardInterrupt from Python's own handler included, goes to the hook that was there
    before, unchanged."""

    previous: Callable[[Any], object]

    def __call__(self, unraisable: Any) -> None:
        if _raised_by_a_handler_here(unraisable) and threading.current_thread() is threading.main_thread():
            _DEFERRED.append(0)
            _raise_later()
        elif not _CUT_SHORT:
            self.previous(unraisable)

    @classmethod
    def install(cls) -> _QuietDroppedInterrupts | None:
        """Set as `sys.unraisablehook` unless it is already; returns the one it set, if it set one."""
        if isinstance(sys.unraisablehook, cls):
            return None
        _CUT_SHORT.clear()  # an interrupt before (a test's earlier in-process command) is not this one's
        hook = cls(sys.unraisablehook)
        sys.unraisablehook = hook
        return hook


def _raised_by_a_handler_here(unraisable: Any) -> bool:
    if not (isinstance(unraisable.exc_type, type) and issubclass(unraisable.exc_type, KeyboardInterrupt)):
        return False
    tb = unraisable.exc_traceback
    if tb is None:
        return False
    while tb.tb_next is not None:  # the innermost frame: where it was raised
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return code.co_filename == __file__ and code.co_name == _cut_short.__name__


@contextmanager
def _dropped_interrupts_noted() -> Iterator[None]:
    """`_QuietDroppedInterrupts` for a block whose handlers are set for it alone (a test's
    in-process command keeps the hook it had)."""
    hook = _QuietDroppedInterrupts.install()
    try:
        yield
    finally:
        if hook is not None and sys.unraisablehook is hook:
            sys.unraisablehook = hook.previous


def terminated() -> bool:
    """SIGTERM stopped this command (`sigterm_as_ctrl_c`): its status is 143, not 130."""
    return bool(_TERMINATED)


@contextmanager
def sigterm_interrupts() -> Iterator[list[int]]:
    """SIGTERM (`kill`, a job scheduler's or systemd's stop) raises KeyboardInterrupt, as Ctrl-C
    does, in a command that cannot poll a flag (`sorter train` is inside Keras's `fit`): its
    clean-up and its "Interrupted" line are then the same as for Ctrl-C, where SIGTERM ended it
    at once, with neither. Yields the list of signals received (SIGTERM, and Ctrl-C where
    Python's own handler had it), for the exit status (143 or 130), and so that the caller can
    raise again an interrupt that was lost (`interrupt_lost`).

    The handler runs in the main thread between two Python instructions, as Python's own
    SIGINT handler does, so the interrupt lands where Ctrl-C's would."""
    import signal

    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received  # signals are delivered to the main thread only
        return

    def handler(signum, frame) -> None:
        if _SAID:  # the command said its result (`result_said`): nothing is left to stop
            return
        received.append(signum)
        if _importing(frame):  # raised there, Python printed it ("Exception ignored in ... cb") and dropped it
            _DEFERRED.append(signum)
            _raise_later()
            return
        _cut_short()

    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, handler)}
    if signal.getsignal(signal.SIGINT) in (signal.default_int_handler, _interrupt):  # an ignored Ctrl-C stays so
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, handler)
    try:
        with _dropped_interrupts_noted():
            yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def interrupt_lost(received: list[int]) -> None:
    """Raise KeyboardInterrupt again where one of `sigterm_interrupts` was received and the run
    still goes on: raised while Python ran a finalizer (a multiprocessing pool's, in Keras's
    data pipeline), it was printed as "Exception ignored" and dropped, and a `kill` of the chief
    of a cluster trained on for 40 epochs. Called where the run is sure to pass (each batch)."""
    if received:
        _DEFERRED.clear()  # said here: the timer's look (`_deferred`) has nothing left to raise
        raise KeyboardInterrupt


@contextmanager
def signals_held(dropped: bool = False) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP that come inside the block act as it ends, as they would
    have acted then: for a few renames (`training.publish`) that, cut in two, leave no model
    at all. An ignored signal stays ignored. `dropped`: they do not act at all, for the lines
    that say a command's result once its work is done (a sort's summary, a watch's stop line):
    there is nothing left to stop, as once they are said (`command_returned`); acted on after
    them, a Ctrl-C said "Interrupted: moved 6 files before it stopped." under a whole summary.

    Python-level handlers, not `pthread_sigmask`: a signal blocked in the main thread is
    delivered to another thread of the process (TensorFlow has dozens), whose C handler then
    queues the Python handler for the main thread all the same. A held signal whose handler
    is Python's (Ctrl-C's KeyboardInterrupt, `sigterm_interrupts`) is handed to it at the end
    of the block; one with the default action is raised again, and ends the process there. A
    block that raises ends with its own error, which says more than an interrupt would."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield  # handlers are set from the main thread only
        return
    received: list[int] = []

    def hold(signum, frame) -> None:
        received.append(signum)

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) not in (signal.SIG_IGN, None):  # None: a handler set outside Python, left be
            previous[sig] = signal.signal(sig, hold)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    for sig in dict.fromkeys([] if dropped else received):  # only after a block that ended well
        handler = previous[sig]
        if callable(handler):
            handler(sig, sys._getframe())
        else:
            signal.raise_signal(sig)


@contextmanager
def ctrl_c_ends_at_once() -> Iterator[None]:
    """Ctrl-C (SIGINT) ends the process at once, as it ends any program (a shell reports 130),
    for a wait inside C++ code that holds the GIL: there no Python handler runs until the wait
    ends, so Ctrl-C was queued for as long as the wait lasted.

    Measured on TensorFlow's wait for the other workers of a cluster (`training.distribute`): a
    Python thread printing every second stopped for the whole wait, so neither a handler nor a
    thread woken by `signal.set_wakeup_fd` can say anything when Ctrl-C comes; the caller says
    beforehand what Ctrl-C does, and stops anything it draws (a kill leaves a terminal as the
    process left it). For a wait before anything but empty folders is written: no `finally`
    runs, and a lock held with `flock` is dropped by the kernel. (Not SIGTERM: set to its default
    action, it still did not end that wait, since TensorFlow sets a handler of its own inside it,
    `handler_kept`.) An ignored SIGINT stays ignored: a process started with `&` by a script that
    is not interactive ignores it by design."""
    import signal

    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield  # handlers are set from the main thread only; an ignored Ctrl-C stays ignored
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def handler_kept(signum: int) -> Iterator[None]:
    """The handler Python has for `signum` is in place again once the block ends, for a block in
    C++ that sets one of its own for the rest of the process: TensorFlow's wait to join a cluster
    (`training.distribute`) sets SIGTERM's, for its preemption notifier, which notes the signal
    and goes on, so a `kill` of a multi-worker `sorter train` was noted and ignored (measured:
    30 s of epochs after it, until killed). Python keeps its own record of the handler, which
    that does not change: set again from it, it holds. A signal that came inside the block went to
    TensorFlow's handler, and is lost."""
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield  # handlers are set from the main thread only
        return
    kept = signal.getsignal(signum)
    try:
        yield
    finally:
        if kept is not None:  # None: a handler set outside Python, which Python cannot set again
            signal.signal(signum, kept)
