"""`sorter watch --print-systemd-unit`: a systemd user unit that runs the same command, with
absolute paths. Pure text: no typer, no rich, nothing heavy."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sorter.errors import UsageError

#: What sorter reads from the environment that a user's shell may set and a systemd user
#: service does not get: where the personal model and named pets are (`personal.personal_dir`).
#: Without it the service sorted without them.
CARRIED = ("XDG_DATA_HOME",)


def _systemd_quote(arg: str, variables: bool = True) -> str:
    """One word of a unit's line: `%` is a specifier even inside quotes, and `$` a variable in
    ExecStart (`variables`); in Environment= it is itself."""
    arg = arg.replace("%", "%%")
    if variables:
        arg = arg.replace("$", "$$")
    if arg and not any(c in arg for c in " \t\n\"'\\;"):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _sorter_executable() -> list[str]:
    import shutil

    argv0 = sys.argv[0]
    if not argv0 or Path(argv0).name == "__main__.py":  # python -m sorter
        return [os.path.abspath(sys.executable), "-m", "sorter"]
    if os.sep not in argv0:
        argv0 = shutil.which(argv0) or argv0
    # abspath, not resolve(): a venv's bin/ entry must stay the venv's, not its symlink target.
    return [os.path.abspath(argv0)]


def _carried() -> str:
    """`CARRIED` as set now, one Environment= line each; a relative value is ignored, by sorter
    as by the XDG spec, and so left out."""
    lines = [f"Environment={_systemd_quote(f'{name}={os.environ[name]}', variables=False)}\n"
             for name in CARRIED if os.path.isabs(os.environ.get(name, ""))]
    if not lines:
        return ""
    return "# As set where the unit was printed: where your personal model and named pets are.\n" + "".join(lines)


def _refuse_unwritable(text: str) -> None:
    """A unit is UTF-8 text of one setting a line: systemd refuses the whole unit for a path that
    is not UTF-8 ("String is not UTF-8 clean"), and a newline in the folder's name split its
    Description= in two. Such a name cannot be written faithfully: refused, not written wrong."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{text}: cannot write a systemd unit for a path whose name is not UTF-8; rename it") from None
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise UsageError(f"{text}: cannot write a systemd unit for a path whose name has a newline or another "
                         "control character; rename it")


def systemd_unit(directory: Path, args: list[str]) -> str:
    """The unit (UsageError for a path that a unit cannot hold: `_refuse_unwritable`)."""
    carried = (os.environ[name] for name in CARRIED if os.path.isabs(os.environ.get(name, "")))  # as `_carried`
    for text in (str(directory), *args, *carried):
        _refuse_unwritable(text)
    command = " ".join(_systemd_quote(a) for a in [*_sorter_executable(), "watch", str(directory), *args])
    description = f"sorter: sort new photos in {directory} into cats/ and dogs/".replace("%", "%%")
    return f"""\
# A systemd user service that runs `sorter watch`. Save it as
# ~/.config/systemd/user/sorter-watch.service (mkdir -p ~/.config/systemd/user), then:
#   systemctl --user daemon-reload
#   systemctl --user enable --now sorter-watch.service
#   loginctl enable-linger "$USER"   # keep it running while you are logged out
# Logs: journalctl --user -u sorter-watch.service -f

[Unit]
Description={description}

[Service]
Type=simple
ExecStart={command}
# A failure is retried ten seconds later: exit 1 while a running `sorter sort` holds the
# folder, exit 2 while it is missing (a share not mounted yet). SIGTERM (systemctl stop)
# exits 0 and is not restarted.
Restart=on-failure
RestartSec=10
# Decisions go to stderr line by line, which the journal records.
Environment=PYTHONUNBUFFERED=1
{_carried()}# A background job: leave the CPU to whatever the user is doing.
Nice=10

[Install]
WantedBy=default.target
"""
