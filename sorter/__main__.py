"""The `sorter` command's entry point (the console script's and `python -m sorter`'s): Ctrl-C and
SIGTERM are handled before anything heavy is imported.

Importing typer, rich and `sorter.cli` takes about 70 ms (more on a busy machine), and a Ctrl-C
in it printed a traceback ending in KeyboardInterrupt (a SIGTERM ended it without a word, killed
by the signal). Here both are noted from the first line `main` runs, with nothing imported but
`signal`, and said once the imports are done; then the handlers `cli.main` keeps
(`signals.sigterm_as_ctrl_c`) take over: a signal at any moment after that line says
`Interrupted.` and exits 130 (143 for SIGTERM), as it does later. (Raised inside the imports, a
KeyboardInterrupt could land in importlib's module-lock callback, which printed "Exception
ignored ... Traceback" and dropped it: a CI run saw it once.) Out of reach: Python's own start-up (the interpreter
and `site`), before it runs any of sorter's code, where a Ctrl-C prints Python's own traceback
and a SIGTERM kills silently: typically 10-20 ms, longer on a loaded machine (up to ~40 ms
measured on a busy 2-core one: a traceback up to 33-35 ms, a silent SIGTERM up to 43 ms).

Nothing else here: `python -m sorter` and the console script import this module before any
handler is set.
"""

from __future__ import annotations

import signal

_RECEIVED: list[int] = []  # signals received while the command's modules were imported


def _early(signum: int, frame: object) -> None:
    # Noted, not raised: a KeyboardInterrupt raised inside an import lands anywhere in it, and
    # some places print their own traceback for it and drop it ("Exception ignored in ... cb",
    # importlib's module-lock callback; an extension's import turns it into an ImportError).
    # `main` says it once the imports are done, 0.1-0.3 s later.
    _RECEIVED.append(signum)


def main() -> None:
    # An ignored SIGINT or SIGTERM (a job started with `&` by a script) stays ignored.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _early)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _early)
    try:
        from sorter.cli import main as run
        from sorter.signals import sigterm_as_ctrl_c

        if _RECEIVED:
            _interrupted()
        sigterm_as_ctrl_c(over=(_early,))
        if _RECEIVED:  # between the look above and the handlers that raise
            _interrupted()
        run()  # ends the process itself (os._exit), with its own "Interrupted." for a signal inside
    except KeyboardInterrupt:
        _interrupted()


def _interrupted() -> None:
    import os
    import sys

    # A second Ctrl-C now would raise in the line that says the first.
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, signal.SIG_IGN)
    signals = sys.modules.get("sorter.signals")
    terminated = signal.SIGTERM in _RECEIVED or (signals is not None and signals.terminated())
    for stream, line in ((sys.stdout, ""), (sys.stderr, "Interrupted.\n")):
        try:
            stream.write(line)
            stream.flush()
        except (OSError, ValueError, AttributeError):  # a closed pipe, a closed stream (None): the status still says it
            pass
    # No interpreter teardown: half-imported modules have nothing to finish.
    os._exit(143 if terminated else 130)


if __name__ == "__main__":
    main()
