"""Ctrl-C and SIGTERM while `sorter` starts (importing typer, rich and its commands, about 70 ms):
`Interrupted.` and status 130 (143), as later, where it printed a traceback ending in
KeyboardInterrupt (and SIGTERM ended it without a word).

Each sorter runs in a process of its own, started as the console script starts it
(`from sorter.__main__ import main`) or as `python -m sorter` does (runpy), with Ctrl-C's
default handling whatever the shell that ran the suite gave pytest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

#: Sends `SIG` to the process itself as `MODULE` starts being imported (a Ctrl-C landing right
#: there), or writes a line to stdout then (`READY`), for the test to signal it after a delay.
HOOK = """
import os, signal, sys
class Hook:
    def find_spec(self, name, path=None, target=None):
        if name == MODULE:
            sys.meta_path.remove(self)
            if SIG:
                os.kill(os.getpid(), SIG)
            else:
                os.write(1, b"READY\\n")
        return None
sys.meta_path.insert(0, Hook())
"""
CONSOLE_SCRIPT = "sys.argv[0] = 'sorter'\nfrom sorter.__main__ import main\nsys.exit(main())"
PYTHON_M = "import runpy\nrunpy.run_module('sorter', run_name='__main__', alter_sys=True)"
STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}


def start(tmp_path: Path, module: str, sig: int, entry: str) -> subprocess.Popen:
    code = f"MODULE = {module!r}\nSIG = {int(sig)}\n{HOOK}\n{entry}"
    # A sort of a folder that is not there: quick, and changes nothing, if nothing stops it.
    return subprocess.Popen([sys.executable, "-c", code, "sort", str(tmp_path / "nowhere")], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("module", ["sorter.signals", "typer", "rich.console", "sorter.cli.sorting", "sorter.cli.results",
                                    "typer._adapters"])
def test_a_signal_while_sorter_imports_its_commands_says_interrupted(tmp_path: Path, module: str, sig: int) -> None:
    # typer (0.29) imports typer._adapters, and pydantic, as it reads the options: a Ctrl-C there
    # ended with status 130 and an empty line, typer's way.
    sorter = start(tmp_path, module, sig, CONSOLE_SCRIPT)
    out, err = sorter.communicate(timeout=60)
    assert (sorter.returncode, out, err) == (STATUS[sig], "", "Interrupted.\n")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_python_m_sorter_stopped_as_it_starts_says_the_same(tmp_path: Path, sig: int) -> None:
    sorter = start(tmp_path, "typer", sig, PYTHON_M)
    out, err = sorter.communicate(timeout=60)
    assert (sorter.returncode, out, err) == (STATUS[sig], "", "Interrupted.\n")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("delay_ms", [0, 5, 10, 20, 40, 80])
def test_a_signal_at_any_moment_of_start_up_never_prints_a_traceback(tmp_path: Path, delay_ms: int, sig: int) -> None:
    """Signalled `delay_ms` after the entry point set its handlers (as it imports sorter.signals):
    a sorter the signal reached says so; one that had already finished says why it stopped."""
    sorter = start(tmp_path, "sorter.signals", 0, CONSOLE_SCRIPT)
    assert sorter.stdout.readline() == "READY\n"
    time.sleep(delay_ms / 1000)
    sorter.send_signal(sig)
    out, err = sorter.communicate(timeout=60)
    assert "Traceback" not in err
    finished = f"Error: folder not found: {tmp_path / 'nowhere'}\n"
    # Interrupted as it starts, inside the sort (nothing moved, and it says so), or after it ended.
    stopped = ((STATUS[sig], "Interrupted.\n"), (STATUS[sig], "Interrupted: nothing was moved.\n"))
    assert (sorter.returncode, err) in (*stopped, (2, finished))


#: Sends `SIG` to the process itself once its error line is written to stderr, and lets the
#: handler run (a few instructions) before the write returns: a signal just after the line.
AFTER_THE_ERROR = """
import os, sys
class Stderr:
    def __init__(self, stream):
        self.stream = stream
    def write(self, text):
        written = self.stream.write(text)
        if "Error:" in text:
            self.stream.flush()
            os.kill(os.getpid(), SIG)
            for _ in range(1000):
                pass
        return written
    def __getattr__(self, name):
        return getattr(self.stream, name)
sys.stderr = Stderr(sys.stderr)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("argv", [["sort", "nowhere"], ["sort", "--bogus", "."], ["undo", "nowhere"]],
                         ids=["folder-not-found", "unknown-option", "undo-nothing"])
def test_a_signal_after_the_error_line_changes_neither_the_line_nor_the_status(tmp_path: Path, argv: list[str],
                                                                                sig: int) -> None:
    """The error said, the command has ended: a signal then (a CI run's SIGTERM 80 ms after the
    start) added `Interrupted.` under `Error: folder not found` and ended with 143, not 2."""
    code = f"SIG = {int(sig)}\n{AFTER_THE_ERROR}\n{CONSOLE_SCRIPT}"
    sorter = subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert sorter.stderr.startswith("Error: ") and sorter.stderr.count("\n") == 1, sorter.stderr
    assert "Interrupted" not in sorter.stderr and sorter.returncode in (1, 2)


def test_the_console_script_is_the_entry_point_that_sets_the_handlers_first() -> None:
    """`pip install -e .` again after this changes: the installed script names its function."""
    assert '\nsorter = "sorter.__main__:main"\n' in (REPO / "pyproject.toml").read_text(encoding="utf-8")
    code = "import sys, sorter.__main__; print(sorted(m for m in sys.modules if m.startswith(('sorter', 'typer', 'rich'))))"
    imported = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert imported.stdout == "['sorter', 'sorter.__main__']\n"


def test_sorter_help_runs_through_the_entry_point(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", f"import sys\n{CONSOLE_SCRIPT}", "--help"], cwd=REPO,
                            capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"})
    assert result.returncode == 0 and "Usage: sorter [OPTIONS] COMMAND" in result.stdout


#: A module whose import makes a class, whose field's `__set_name__` receives a Ctrl-C: Python
#: 3.11 turns a KeyboardInterrupt raised there into "RuntimeError: Error calling __set_name__"
#: (a traceback, and no Ctrl-C), as it drops one raised in importlib's module-lock callback.
IMPORTED_SLOWLY = """
import os, signal

class Field:
    def __set_name__(self, owner, name):
        os.kill(os.getpid(), signal.SIGINT)
        total = 0
        for i in range(10000):  # the handler runs here, between two instructions
            total += i

class Made:
    field = Field()

print("imported", flush=True)
"""


def test_a_ctrl_c_inside_an_import_is_raised_once_the_import_is_done(tmp_path: Path) -> None:
    (tmp_path / "imported_slowly.py").write_text(IMPORTED_SLOWLY, encoding="utf-8")
    code = ("import sys, time\nfrom sorter.signals import sigterm_as_ctrl_c\nsigterm_as_ctrl_c()\n"
            "try:\n    import imported_slowly\n    time.sleep(5)\n    print('not stopped')\n"
            "except KeyboardInterrupt:\n    print('Interrupted.')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, restore_signals=True)
    assert (result.stdout, result.stderr) == ("imported\nInterrupted.\n", "")


#: Sends `SIG` to the process itself once the command has returned, its result printed: as typer
#: closes the command's context ("typer"), or as `cli.main` removes its temporary folder
#: ("cli.main"), the last thing it does before the process ends.
AFTER_THE_COMMAND = """
import os, shutil
import typer._click as click  # typer's own copy of click
def signalling(function):
    sent = []
    def at(*args, **kwargs):
        if not sent:
            sent.append(SIG)
            os.kill(os.getpid(), SIG)
        return function(*args, **kwargs)
    return at
if WHERE == "typer":
    click.Context.close = signalling(click.Context.close)
else:
    shutil.rmtree = signalling(shutil.rmtree)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("where", ["typer", "cli.main"])
def test_a_signal_after_the_command_has_finished_changes_neither_its_output_nor_its_status(
        tmp_path: Path, where: str, sig: int) -> None:
    """A Ctrl-C or SIGTERM that came once the command had said its result, while typer unwound or
    the temporary folder was removed, ended the process with 130 (143): `Interrupted.` under a
    finished dry run (or, inside typer, not a word), as if it had been cut short. Once the
    command has returned both are ignored: the process ends as the command did."""
    (tmp_path / "photos").mkdir()
    code = f"import sys\nWHERE = {where!r}\nSIG = {int(sig)}\n{AFTER_THE_COMMAND}\n{CONSOLE_SCRIPT}"
    sorter = subprocess.Popen([sys.executable, "-c", code, "sort", str(tmp_path / "photos"), "--dry-run"], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, restore_signals=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    out, err = sorter.communicate(timeout=60)
    assert (sorter.returncode, err) == (0, "")
    assert out.endswith("Dry run: nothing was changed. Every file's plan: --verbose.\n")
