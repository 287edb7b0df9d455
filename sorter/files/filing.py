"""Filing a photo with its companions, journaled: intents first (one fsync a batch), then
the moves, then the marks (one fsync). Shared by `sort` and `watch` (a batch of photos the
model judged) and the review server (one photo a person corrected), so a correction is
journaled, no-replace and undoable exactly like a sort.

A group never ends split: a companion that vanished meanwhile is left out, any other
failure puts back the members already moved, and a crash in between is settled by
`recovery.recover`. A destination name taken since it was chosen is chosen again, for the
whole group (see `file_groups`)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.errors import VANISHED
from sorter.files.folder import REFUSED
from sorter.files.identities import same_file_of  # os and stat only: nothing heavy
from sorter.files.leaving import folder_marked, folder_refuses, kept_in

if TYPE_CHECKING:
    from sorter.files.journal import Move

#: Why a move fails for want of room where it goes (a copy across disks, a folder's new entry):
#: a full disk, a user's quota spent, a file larger than the disk takes (FAT32's 4 GiB).
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: (source, destination) of each member of a group: the photo first, then its companions.
Pairs = list[tuple[Path, Path]]
#: Picks free names in a folder for a group's names (the photo's first); called again, and
#: must answer differently, when a name it gave was taken before the move.
Reserve = Callable[[Path, list[str]], list[str]]


@dataclass(frozen=True)
class Filed:
    """What became of one group: each member's source and where it is now (None: it stayed,
    a companion that vanished), the members moved as journaled (`journal.Move`, with what each
    file was before: undo follows it by that), or, when nothing moved, why: ("vanished" |
    "failed", reason)."""

    members: tuple[tuple[Path, Path | None], ...]
    moves: tuple[Move, ...] = ()
    failure: tuple[str, str] | None = None


class Unmarked(OSError):
    """The moves were made, but the journal would not take their marks after them ("done",
    "abandon": a disk full right then). Its error is the journal's; `filed`: what became of each
    group, as `file_groups` returns it (one it had yet to try again under other names stayed,
    failed); `moved`: the groups moved whose marks are missing. They stand: the next command's
    recovery finds them done on disk and marks them so."""

    def __init__(self, error: OSError, filed: list[Filed], moved: int) -> None:
        super().__init__(*error.args)
        self.filename = error.filename
        self.filed = filed
        self.moved = moved


def move_group(root: Path, pairs: Pairs, same_as=None,
               claimed: Callable[[int, Path, tuple, tuple], None] | None = None,
               uncopied: Callable[[int, Path, tuple], None] | None = None) -> list[bool]:
    """Move a photo, then its companions; which members moved. A companion that vanished
    meanwhile is left out (False); any other failure puts back the members already moved
    and is raised, so a group is never left split. `same_as`: the photo as it was judged
    (`moves.move_no_replace`); `claimed`: told a member's index, and the place and identity of the
    empty file its move (or its move back, where the group is put back) made to hold the name, on
    a disk without hard links (`moves.move_no_replace`); `uncopied`: told a member's index, and the
    place and identity of the copy across filesystems its move takes back, its source refusing to go."""
    from sorter.files.moves import interrupt_behind, move_no_replace

    moved: list[bool] = []
    for src, dst in pairs:
        try:
            move_no_replace(src, dst, root, same_as if not moved else None,
                            None if claimed is None else partial(claimed, len(moved), dst),
                            None if uncopied is None else partial(uncopied, len(moved), dst))
        except OSError as exc:
            # A Ctrl-C whose clean-up failed: it ends the command, as any Ctrl-C in a move does
            # (the group is settled by the next command's recovery). Raised as the error, it was
            # this photo's "cannot move: Bad file descriptor" and the sort went on to its end.
            if (interrupt := interrupt_behind(exc)) is not None:
                raise interrupt from exc
            if isinstance(exc, FileNotFoundError) and moved:
                moved.append(False)  # a companion that vanished meanwhile; the photo's own is raised
                continue
            for n, ((back_to, now_at), done) in enumerate(zip(pairs, moved, strict=False)):
                if done:
                    move_no_replace(now_at, back_to, root, claimed=None if claimed is None else
                                    partial(claimed, n, back_to))
            raise
        moved.append(True)
    return moved


def _missing_folders(root: Path, folder: Path) -> list[Path]:
    """The folders from `root` down to `folder` that do not exist yet, outermost first."""
    missing = []
    while folder != root and not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


def _failed(exc: OSError, root: Path | None = None, pairs: Pairs = ()) -> tuple[str, str]:
    """A group's failure (`Filed.failure`) where its move, or the journal after it, failed. A
    move a folder refused names it (`cannot move into cats/: Permission denied`): the error is
    the same for the folder moved into and the one moved out of, so each is tried
    (`folder.cannot_write`), the destination first; only after a failure, never before a move.
    A move the destination has no room for names it too (`cannot move into cats/: No space left
    on device`), where it said `cannot move: No space left on device` beside a read-only cats/'s
    `cannot move into cats/: Read-only file system`. A photo (or companion) whose own flags refuse
    it says so (`cannot move: it is marked immutable (chattr -i to free it)`: `leaving.pinned`; a
    companion by its name, `IMG_0001.MOV is marked immutable (chattr -i IMG_0001.MOV ...)`), and
    so does one another user's in a sticky folder (`cannot move: it belongs to bob, in a sticky
    folder (only bob or the folder's owner, root, may move it out)`: `leaving.kept_in`), where a
    rename within one disk said `Operation not permitted`."""
    why = exc.strerror or exc
    if root is not None and pairs and exc.errno in NO_ROOM:  # only the folder moved into takes room
        return ("failed", f"cannot move into {_shown(root, pairs[0][1].parent)}: {why}")
    if root is not None and pairs and exc.errno in REFUSED:
        tried = [("into", pairs[0][1].parent), *(("out of", folder) for folder in dict.fromkeys(s.parent for s, _ in pairs))]
        for where, folder in tried:
            if (error := folder_refuses(folder, _typed(root, folder), where == "out of")) is not None:
                return ("failed", f"cannot move {where} {_shown(root, folder)}: {error}")
        if exc.errno == errno.EPERM and (kept := next(filter(None, (
                _kept(src, named=_typed(root, src) if n else None) for n, (src, _) in enumerate(pairs))), None)):
            return ("failed", f"cannot move: {kept}")
    return ("failed", f"cannot move: {why}")


def _not_made(root: Path, folder: Path, journal) -> str | None:
    """Make `folder` (journaled first: a crash right after mkdir must not leave an empty cats/
    that undo does not know it may remove), or say why it could not be: a file by its name
    (`cats/Fred is a file, not a folder`), a cats/ that may not be written in (`cannot move into
    cats/: Operation not permitted`). Raised, it stopped the whole sort, the dogs unmoved too."""
    if not os.path.lexists(folder):  # else no folder (`_missing_folders`): never journaled, never made
        journal.append("mkdir", path=str(folder.relative_to(root)))
        try:
            folder.mkdir()
            return None
        except FileExistsError:
            pass  # made meanwhile: by another sorter a folder, by anyone else maybe not
        except OSError as exc:
            refusing = folder.parent if exc.errno in REFUSED else folder  # cats/, where cats/Fred/ is refused
            marked = folder_marked(refusing, _typed(root, refusing), leaving=False) if exc.errno in REFUSED else None
            return f"cannot move into {_shown(root, refusing)}: {marked or exc.strerror or exc}"
    return not_a_folder(root, folder)


def not_a_folder(root: Path, folder: Path) -> str | None:
    """Why `folder` is no folder a photo can be filed into, where something else has its name
    (`cats/Fred is a file, not a folder`, or a link); None where it is a folder, or nothing is there."""
    if not os.path.lexists(folder) or (folder.is_dir() and not folder.is_symlink()):
        return None
    return f"{folder.relative_to(root).as_posix()} is a {'link' if folder.is_symlink() else 'file'}, not a folder"


def refusing_into(root: Path, folder: Path) -> tuple[str, str] | None:
    """Why a sort would be refused a move into `folder` (below `root`: cats/, cats/Luna/), asked by
    a dry run of each folder its plan moves photos into, or None where it would not be. A pair:
    what the sort says of each such photo (`cannot move into cats/: Operation not permitted`, as
    `_not_made` and `_failed` say it, of a cats/ it may not write in (`chattr +i`, its mode), a
    cats/Luna/ yet to be made in it too; `cats/Fred is a file, not a folder`), and what the dry
    run's summary says of the folder (`cats/ cannot be written: Operation not permitted`). Asked
    as the sort's moves meet them: a file opened unnamed in the folder (`folder.cannot_write`),
    never a listing. `root` itself is the caller's (`folder.unwritable`: a sort would move nothing)."""
    at = root
    for part in folder.relative_to(root).parts:
        if not os.path.lexists(at / part):  # the sort makes it, in the folder above
            break
        at = at / part
        if (why := not_a_folder(root, at)) is not None:
            return why, why
    if at != root and (error := folder_refuses(at, _typed(root, at), leaving=False)) is not None:
        return f"cannot move into {_shown(root, at)}: {error}", f"{_shown(root, at)} cannot be written: {error}"
    return None


def refusing_out_of(root: Path, folder: Path) -> str | None:
    """Why a sort would be refused a move out of `folder` (below `root`), as it says it of each
    photo there (`cannot move out of card/: Read-only file system`: `_failed`): a card mounted
    read-only, a folder of mode 555, one marked append-only or immutable (`chattr +a trip`: `cannot
    move out of trip/: it is marked append-only (chattr -a trip to free it)`). None where it would
    not be; of `root`, whose being written in is the caller's (`folder.unwritable`), its flags alone."""
    typed = _typed(root, folder)
    error = folder_marked(root, typed, leaving=True) if folder == root else folder_refuses(folder, typed, leaving=True)
    return None if error is None else f"cannot move out of {_shown(root, folder)}: {error}"


def _kept(src: Path, folder: os.stat_result | None = None, named: str | None = None) -> str | None:
    """Why `src` may not leave its folder (`folder`: its stat, asked here where not given) whatever
    the folder's mode allows (`leaving.kept_in`; `named`: a companion's name, said in place of
    "it"); None where it may, or it is gone."""
    try:
        return kept_in(src, os.stat(src.parent) if folder is None else folder, named=named)
    except OSError:
        return None


def refusing_photo(photo: Path, folder: os.stat_result | None = None, named: str | None = None) -> str | None:
    """Why a sort would be refused a move of `photo` whose folder lets it go, as the sort says it
    (`_failed`): a sticky folder's rule where it is another user's (`cannot move: it belongs to
    bob, in a sticky folder (...)`), its own flags (`cannot move: it is marked immutable
    (chattr -i to free it)`). `folder`: its folder's stat, asked once a folder by a dry run.
    `named`: of a companion, its name as `_failed` says it (`cannot move: IMG_0001.MOV is marked
    immutable (chattr -i IMG_0001.MOV to free it)`)."""
    kept = _kept(photo, folder, named)
    return None if kept is None else f"cannot move: {kept}"


def _typed(root: Path, path: Path) -> str:
    """`path` as the user would type it in `root`: `trip`, `IMG_0001.MOV` (`root` itself whole)."""
    return path.relative_to(root).as_posix() if path != root else str(root)


def _shown(root: Path, folder: Path) -> str:
    return f"{folder.relative_to(root).as_posix()}/" if folder != root else str(root)


def _before(pairs: Pairs, judged) -> list:
    """What each file of a group is before it moves (`journal.Move.same`), which the move keeps:
    undo finds it by this if moved on since. The photo's as it was judged, where it was: it moves
    only while it is that file still (`moves.move_no_replace`), so it is not looked at again."""
    return [judged if n == 0 and judged is not None else same_file_of(src) for n, (src, _) in enumerate(pairs)]


def file_groups(
    root: Path, journal, groups: list[Pairs], reserve: Reserve,
    labels: list[tuple[str | None, float | None]] | None = None, judged: list | None = None,
    taken: Callable[[Pairs], tuple[str, str]] | None = None,
) -> list[Filed]:
    """Move each group, journaled; one `Filed` per group, in order. Destination folders
    that do not exist yet (cats/Luna/ and cats/ above it) are created, and journaled so undo
    may remove them (and, with each one's identity once made, where renamed since). `judged`:
    each group's photo as it was judged (`moves.judged_as`, or None), moved only while it is
    still that file. A journal that takes the intents but not the marks after the moves raises
    `Unmarked`, which says what became of each group. `taken`: for groups that go under their
    names or not at all (a late companion pairs with its photo by its name alone), what became
    of a group one of whose names was taken before its move ("skipped", why), never renamed."""
    from sorter.files import made_folders
    from sorter.files.moves import sync_dirs

    made, unmade = [], {}
    for folder in sorted({pairs[0][1].parent for pairs in groups}):
        # cats/, or cats/ then cats/Luna/ for a named pet (the parent first).
        for created in _missing_folders(root, folder):
            if (why := _not_made(root, created, journal)) is not None:
                unmade[folder] = why  # its photos fail, saying why; the others are filed
                break
            made.append(created)
    # Then what each is (device, inode, generation: `made_folders`), which a rename keeps: undo
    # follows a folder renamed or moved since (cats/Luna to cats/Lunette) by it, to remove it too
    # once empty. (One removed at once by someone else has nothing to follow.)
    journal.append_many("mkdir", [{"path": str(p.relative_to(root)), "id": ids} for p in made
                                  if (ids := made_folders.identity(p)) is not None])
    filed = {i: Filed(tuple((src, None) for src, _ in pairs), failure=("failed", unmade[pairs[0][1].parent]))
             for i, pairs in enumerate(groups) if pairs[0][1].parent in unmade}
    pending = [(i, pairs) for i, pairs in enumerate(groups) if i not in filed]
    # Groups to try again under new names go one a round: a batch journaled at once and moved in
    # turn gave a program making files at the names the journal announced (a QA racer) time to
    # take all but the first, round after round: 6,180 intents for 60 photos, now some 200.
    waiting: list[tuple[int, Pairs]] = []
    while pending:
        journaled = journal.intents(
            [pairs for _, pairs in pending], None if labels is None else [labels[i] for i, _ in pending],
            [_before(pairs, None if judged is None else judged[i]) for i, pairs in pending],
        )
        done, abandoned, retry, touched = [], [], [], []
        for (i, pairs), group in zip(pending, journaled, strict=True):
            touched += [p.parent for pair in pairs for p in pair]
            failure = None
            try:
                moved = move_group(root, pairs, None if judged is None else judged[i],
                                   lambda n, at, ids, of, group=group: journal.claim(group[n].seq, ids, at, of),
                                   lambda n, at, ids, group=group: journal.uncopy(group[n].seq, ids, at))
            except FileExistsError:
                # Someone created one of those names since they were chosen: pick names that
                # are all free again, for the whole group.
                abandoned += [m.seq for m in group]
                if taken is not None:
                    filed[i] = Filed(tuple((src, None) for src, _ in pairs), failure=taken(pairs))
                    continue
                folder = pairs[0][1].parent
                names = reserve(folder, [src.name for src, _ in pairs])
                retry.append((i, [(src, folder / n) for (src, _), n in zip(pairs, names, strict=True)]))
                continue
            except FileNotFoundError:
                failure = ("vanished", VANISHED)
            except OSError as exc:
                failure = _failed(exc, root, pairs)
            if failure is not None:
                abandoned += [m.seq for m in group]
                filed[i] = Filed(tuple((src, None) for src, _ in pairs), failure=failure)
                continue
            done += [m for m, ok in zip(group, moved, strict=True) if ok]
            abandoned += [m.seq for m, ok in zip(group, moved, strict=True) if not ok]
            filed[i] = Filed(
                tuple((src, dst if ok else None) for (src, dst), ok in zip(pairs, moved, strict=True)),
                tuple(m for m, ok in zip(group, moved, strict=True) if ok),
            )
        sync_dirs(touched)
        try:
            journal.mark("done", [m.seq for m in done])
            journal.mark("abandon", abandoned)
        except OSError as exc:  # the moves stand: said with what became of each group
            failed = _failed(exc)
            for i, pairs in retry + waiting:  # not tried again under their new names: still where they were
                filed[i] = Filed(tuple((src, None) for src, _ in pairs), failure=failed)
            raise Unmarked(exc, [filed[i] for i in range(len(groups))], len({m.group for m in done})) from exc
        waiting += retry
        pending, waiting = waiting[:1], waiting[1:]
    return [filed[i] for i in range(len(groups))]
