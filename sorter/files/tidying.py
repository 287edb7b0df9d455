"""What is left of sorter in a folder once every move in it is undone: the folders it made (while
empty, and still the ones it made) and its own `.sorter/`, removed by the undo that finishes, or
by the next where one was stopped before it could (Ctrl-C as it finished); and what those are,
for the line a Ctrl-C ends such an undo with (`left_behind`)."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path

#: The journal of a folder whose every move is undone, renamed so in `.sorter/` as the undo that
#: finished removes it (`forget`): left there by a kill before `.sorter/` went, it tells the
#: next undo that photos were moved and put back.
UNDONE_JOURNAL = "journal.undone"


def remove_if_empty(root: Path, folders: Iterable[str]) -> None:
    """Remove folders sorter created (cats/, dogs/, cats/Luna/, where it made them while they are
    the folder it made, `Whereabouts.made_here`, or one of them renamed since, `renamed`) once
    empty: only then were they ours. Deepest first: cats/Luna/ must go before cats/ can."""
    for folder in sorted(dict.fromkeys(folders), key=lambda f: -len(Path(f).parts)):
        try:
            (root / folder).rmdir()
        except OSError:
            pass


def make_parents(root: Path, folder: str, journal=None) -> list[str]:
    """Make `folder` (relative to `root`) and those above it that are missing, as undo does to put
    a photo back into a subfolder removed since; the ones it made, top first, for undo to remove
    once empty (`remove_if_empty`): an undo leaves no folder it made on its way, and only those.
    Each journaled (`journal`, the run being undone) as a sort's are, before it is made and with
    its identity after (`made_folders`): the undo that empties it may be a later one (a plain
    `undo` of the run before, which took the photo on from there), and it left an empty
    cats/Milo/ that no run had made. An `lstat` a folder above it, while missing; OSError as
    `mkdir` raises it (a file there)."""
    from sorter.files import made_folders

    missing = []
    parts = Path(folder).parts
    while parts and not (root.joinpath(*parts)).is_dir():
        missing.append(parts)
        parts = parts[:-1]
    made = []
    for parts in reversed(missing):
        if journal is not None:
            journal.append("mkdir", path=str(Path(*parts)), undo=True)  # undo's: `RunState.unproven` until its identity
        try:
            root.joinpath(*parts).mkdir()
        except FileExistsError:
            if not root.joinpath(*parts).is_dir():
                raise
            continue  # made by someone else since the look: theirs
        made.append(str(Path(*parts)))
    if journal is not None:
        journal.append_many("mkdir", [{"path": rel, "id": ids} for rel in made
                                      if (ids := made_folders.identity(root / rel)) is not None])
    return made


def forget(root: Path, state, whereabouts) -> str | None:
    """Everything sorter did in `root` is reversed: remove the folders it created (when
    empty, whichever run created them, crashed runs included; while they are the ones it
    created: `Whereabouts.made_here`) and its state, so the folder is path-for-path as it was
    found. Why its state could not be removed (a read-only `.sorter/`), or None: every move is
    undone all the same, and the journal says so."""
    from sorter.files.journal import DONE, journal_path, state_dir

    remove_if_empty(root, whereabouts.made_here(whereabouts.made_by(state.runs.values())))
    # The journal goes first: a crash part-way leaves at most an empty-of-meaning .sorter/,
    # which the next undo removes. Renamed, not removed, where it says a move was made (every
    # one undone, as `forget` is called): the next undo then says an earlier undo put every file
    # back (`tidy`), not that no photo was moved (a SIGKILL there, 210 photos back, said so).
    try:
        if any(flag & DONE for run in state.runs.values() for flag in run.flags):
            os.replace(journal_path(root), state_dir(root) / UNDONE_JOURNAL)
        else:
            journal_path(root).unlink(missing_ok=True)
    except FileNotFoundError:
        pass
    except OSError as exc:
        return f"{state_dir(root)} is left: {exc.strerror or exc}"
    refused = _remove_state(state_dir(root))
    return f"{state_dir(root)} is left: {refused}" if refused else None


def _remove_state(state: Path) -> str | None:
    """`.sorter/` removed, `journal.undone` last of its files and the folder itself after, so that
    a kill at any step leaves `journal.undone` or an empty `.sorter/`, each of which the next undo
    reads as an undo stopped as it finished (`tidy`). `shutil.rmtree` removed `journal.undone`
    first (it lists in the disk's order), and a kill after that left a lock and the review page,
    or a lock alone, as a sort killed before its journal leaves it: the next undo said "no photo
    was moved" of 40 photos moved and put back. Whatever will not go stays (an immutable review
    page): every move is undone all the same, and why it stays is returned (else None) for the
    warning that says `.sorter/` is left; `journal.undone` stays with it, so the next undo says an
    earlier one put every file back, not "no photo was moved" (it did, unwarned, of both)."""
    try:
        entries = [entry for entry in os.scandir(state) if entry.name != UNDONE_JOURNAL]
    except OSError as exc:
        return exc.strerror or str(exc)
    refused: list[str] = []

    def keep(_function, _path, exc_info) -> None:
        refused.append(exc_info[1].strerror or str(exc_info[1]))

    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, onerror=keep)
            else:
                os.unlink(entry.path)  # the lock this undo holds too: a waiting sorter makes its own
        except FileNotFoundError:
            pass
        except OSError as exc:
            refused.append(exc.strerror or str(exc))
    if refused:
        return refused[0]
    try:
        (state / UNDONE_JOURNAL).unlink(missing_ok=True)
    except OSError as exc:
        return exc.strerror or str(exc)
    try:
        state.rmdir()  # on exfat-fuse the lock still open is a hidden file: `FolderLock.release` tries again
    except OSError:
        pass
    return None


def left_behind(root: Path, state, whereabouts=None) -> list[str]:
    """What `tidy` would remove now, where `state` (the journal, `journal.scan`) holds no move
    left to undo: ".sorter/" and the folders sorter made that are there, still the ones it
    made (".sorter/", "dogs/"). A few `lstat` calls, one a folder it made."""
    from sorter.files.journal import state_dir
    from sorter.files.whereabouts import Whereabouts

    whereabouts = whereabouts or Whereabouts(root, set(), state)
    made = sorted(whereabouts.made_here(whereabouts.made_by(state.runs.values())))
    there = [f"{folder}/" for folder in made if (root / folder).is_dir()]
    return [f"{state_dir(root).name}/", *there] if state_dir(root).is_dir() else there


def tidy(root: Path, state, emptied: bool = False) -> tuple[list[str], str | None, str | None]:
    """With no move left to undo: everything sorter did in `root` reversed (`forget`). What it
    set out to remove (".sorter/", "cats/"; `removed` tells which went, once the lock is let go),
    why its state could not be (`forget`), and whether an undo put files back before (moves of
    the journal undone or found gone: one stopped as it finished), not a run that moved nothing
    (a sort killed as its journal was made, which leaves its lock). `emptied`: `.sorter/` was
    found empty, before this undo took its lock: an undo killed at its last step, the removal of
    the folder (`_remove_state`). Which put them back: "undo", or "page" where every mark is a
    review page's take-back (`u`): a review of a folder never sorted, its one correction taken
    back and the review stopped, left a journal whose next undo said an earlier undo had put every
    file back and was stopped, of an undo that never ran."""
    from sorter.files.journal import GONE, UNDONE, journal_path, state_dir
    from sorter.files.journal_records import records
    from sorter.files.whereabouts import Whereabouts

    whereabouts = Whereabouts(root, set(), state)
    there = left_behind(root, state, whereabouts)
    # Or one killed as it removed .sorter/, its journal renamed already (`forget`).
    undone = emptied or os.path.lexists(state_dir(root) / UNDONE_JOURNAL) or any(
        flag & (UNDONE | GONE) for run in state.runs.values() for flag in run.flags)
    # Read only here, with nothing left to undo: a journal whose every move is put back.
    if undone and not emptied and not os.path.lexists(state_dir(root) / UNDONE_JOURNAL):
        pages = {rec.get("page") is True for _, _, rec in records(journal_path(root), ops=("undo", "gone"))
                 if rec.get("op") in ("undo", "gone")}
        undone = "page" if pages == {True} else undone
    left = forget(root, state, whereabouts)
    return there, left, "undo" if undone is True else undone or None


def removed(root: Path, there: list[str]) -> list[str]:
    """Of what `tidy` set out to remove (`there`), what is gone: asked once the lock is let go, as
    exfat-fuse keeps a lock file removed while open as a hidden one, and `.sorter/` goes only then
    (`FolderLock.release`). Asked before, the line said nothing of the .sorter/ it did remove."""
    return [name for name in there if not (root / name).is_dir()]


def not_a_folder(root: Path, path: str) -> str | None:
    """The first of the folders above `path` that is something else now (a file of the user's
    named cats/Milo, where the photo goes back into cats/Milo/), if any: said so, not "cannot
    move back (File exists)", which left the user to guess which file. A few `lstat` calls."""
    parts = Path(path).parent.parts
    for end in range(1, len(parts) + 1):
        try:
            there = os.lstat(root.joinpath(*parts[:end]))
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat.S_ISDIR(there.st_mode):
            return os.path.join(*parts[:end])
    return None
