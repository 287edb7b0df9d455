"""Why undo could not move a file back where sorter found it, as a sort says why it could not move
one (`filing._failed`): the folder that refuses it, named (`cannot move back out of dogs/:
Permission denied`, of a `dogs/` another user made, mode 750; `cannot move back into trip/: ...`),
or the file itself (`cannot move back: it is marked immutable (chattr -i to free it)`, another
user's in a sticky folder: `leaving.kept_in`). Undo said `cannot move back (Permission denied)` of
each, naming no folder, so the user could not tell whose permission was wanting."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from sorter.files.folder import REFUSED
from sorter.files.leaving import folder_refuses, kept_in
from sorter.files.refused import advice


def kept_back(root: Path, at: str, back_to: str, exc: OSError) -> str:
    """What undo says of the file at `at` it could not move back to `back_to` (both below `root`)
    for `exc`: the folder moved out of, then the one moved back into, tried only after the failure
    (`leaving.folder_refuses`: its flags, then a file tried in it), where the error is a refusal
    (an append-only cats/, `chattr +a`, lets a sort in and no undo out: `cannot move back out of
    cats/: it is marked append-only (chattr -a cats to free it)`); then the file's own rule; else
    the error."""
    if exc.errno in REFUSED:
        for where, folder in (("out of", os.path.dirname(at)), ("into", os.path.dirname(back_to))):
            typed = Path(folder).as_posix() if folder else str(root)
            if (error := folder_refuses(root / folder, typed, where == "out of")) is not None:
                return f"cannot move back {where} {_shown(root, folder)}: {error}" + _owners(root / folder, error)
    try:
        why = kept_in(root / at, os.stat((root / at).parent))
    except OSError:
        why = None
    return f"cannot move back: {why}" if why else f"cannot move back ({exc.strerror or exc})"


def not_looked(root: Path, exc: OSError) -> str:
    """What undo says of a file it could not look for (`exc`: the error asking what is at a path
    below `root`): the folder that refuses it, named, the first below `root` it may not enter
    (`cannot look in dogs/: Permission denied`, of another user's `dogs/` of mode 700), as a move's
    refusal names its folder (`kept_back`). Undo said `cannot look (Permission denied)`, naming
    none. The error alone where no folder on the way refuses now (one stat each)."""
    if exc.filename is not None and (path := Path(exc.filename)).is_relative_to(root):
        for folder in reversed(path.relative_to(root).parents):
            try:
                os.stat(os.path.join(root / folder, "."))  # entered, as the look needs it
            except PermissionError as refused:
                return f"cannot look in {_shown(root, folder.as_posix() if folder.parts else '')}: {refused.strerror}"
            except OSError:
                break
    return f"cannot look ({exc.strerror or exc})"


def _owners(folder: Path, error: str) -> str:
    """Whose `folder` is and what chmod lets this user in, where its mode refused them: another
    user's dogs/ in a family's folder (2755, made under umask 022) said a bare `Permission denied`
    of each photo, after README's `chmod -R g+w .sorter` had let the undo start."""
    return f"; {advice(folder, error)}" if error == os.strerror(errno.EACCES) else ""


def _shown(root: Path, folder: str) -> str:
    return f"{Path(folder).as_posix()}/" if folder else str(root)
