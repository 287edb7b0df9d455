"""Filing a photo with its companions, journaled: intents first (one fsync a batch), then
the moves, then the marks (one fsync). Shared by `sort` and `watch` (a batch of photos the
model judged) and the review server (one photo a person corrected), so a correction is
journaled, no-replace and undoable exactly like a sort.

A group never ends split: a companion that vanished meanwhile is left out, any other
failure puts back the members already moved, and a crash in between is settled by
`recovery.recover`. A destination name taken since it was chosen is chosen again, for the
whole group (see `file_groups`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: (source, destination) of each member of a group: the photo first, then its companions.
Pairs = list[tuple[Path, Path]]
#: Picks free names in a folder for a group's names (the photo's first); called again, and
#: must answer differently, when a name it gave was taken before the move.
Reserve = Callable[[Path, list[str]], list[str]]


@dataclass(frozen=True)
class Filed:
    """What became of one group: each member's source and where it is now (None: it stayed,
    a companion that vanished), the journal's sequence numbers of the members moved, or, when
    nothing moved, why: ("vanished" | "failed", reason)."""

    members: tuple[tuple[Path, Path | None], ...]
    seqs: tuple[int, ...] = ()
    failure: tuple[str, str] | None = None


def move_group(root: Path, pairs: Pairs, same_as=None) -> list[bool]:
    """Move a photo, then its companions; which members moved. A companion that vanished
    meanwhile is left out (False); any other failure puts back the members already moved
    and is raised, so a group is never left split. `same_as`: the photo as it was judged
    (`moves.move_no_replace`)."""
    from sorter.files.moves import move_no_replace

    moved: list[bool] = []
    for src, dst in pairs:
        try:
            move_no_replace(src, dst, root, same_as if not moved else None)
        except FileNotFoundError:
            if not moved:
                raise  # the photo itself is gone
            moved.append(False)
            continue
        except OSError:
            for (back_to, now_at), done in zip(pairs, moved, strict=False):
                if done:
                    move_no_replace(now_at, back_to, root)
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


def file_groups(
    root: Path, journal, groups: list[Pairs], reserve: Reserve,
    labels: list[tuple[str | None, float | None]] | None = None, judged: list | None = None,
) -> list[Filed]:
    """Move each group, journaled; one `Filed` per group, in order. Destination folders
    that do not exist yet (cats/Luna/ and cats/ above it) are created, and journaled so undo
    may remove them (and, with each one's identity once made, where renamed since). `judged`:
    each group's photo as it was judged (`moves.judged_as`, or None), moved only while it is
    still that file."""
    from sorter.files import made_folders
    from sorter.files.moves import sync_dirs
    from sorter.files.verdicts import same_file_of

    made = []
    for folder in sorted({pairs[0][1].parent for pairs in groups}):
        # cats/, or cats/ then cats/Luna/ for a named pet (the parent first).
        for created in _missing_folders(root, folder):
            # Journaled first: a crash right after mkdir must not leave an empty cats/ that
            # undo does not know it may remove.
            journal.append("mkdir", path=str(created.relative_to(root)))
            created.mkdir(exist_ok=True)
            made.append(created)
    # Then what each is (device, inode, generation: `made_folders`), which a rename keeps: undo
    # follows a folder renamed or moved since (cats/Luna to cats/Lunette) by it, to remove it too
    # once empty. (One removed at once by someone else has nothing to follow.)
    journal.append_many("mkdir", [{"path": str(p.relative_to(root)), "id": ids} for p in made
                                  if (ids := made_folders.identity(p)) is not None])
    filed: dict[int, Filed] = {}
    pending = list(enumerate(groups))
    while pending:
        seqs = journal.intents(
            [pairs for _, pairs in pending], None if labels is None else [labels[i] for i, _ in pending],
            # What each file is before it moves, which the move keeps: undo finds it by this if moved on since.
            [[same_file_of(src) for src, _ in pairs] for _, pairs in pending],
        )
        done, abandoned, retry, touched = [], [], [], []
        for (i, pairs), group in zip(pending, seqs, strict=True):
            touched += [p.parent for pair in pairs for p in pair]
            failure = None
            try:
                moved = move_group(root, pairs, None if judged is None else judged[i])
            except FileExistsError:
                # Someone created one of those names since they were chosen: pick names that
                # are all free again, for the whole group.
                abandoned += group
                folder = pairs[0][1].parent
                names = reserve(folder, [src.name for src, _ in pairs])
                retry.append((i, [(src, folder / n) for (src, _), n in zip(pairs, names, strict=True)]))
                continue
            except FileNotFoundError:
                failure = ("vanished", "file disappeared before it could be moved")
            except OSError as exc:
                failure = ("failed", f"cannot move: {exc.strerror or exc}")
            if failure is not None:
                abandoned += group
                filed[i] = Filed(tuple((src, None) for src, _ in pairs), failure=failure)
                continue
            done += [seq for seq, ok in zip(group, moved, strict=True) if ok]
            abandoned += [seq for seq, ok in zip(group, moved, strict=True) if not ok]
            filed[i] = Filed(
                tuple((src, dst if ok else None) for (src, dst), ok in zip(pairs, moved, strict=True)),
                tuple(seq for seq, ok in zip(group, moved, strict=True) if ok),
            )
        sync_dirs(touched)
        journal.mark("done", done)
        journal.mark("abandon", abandoned)
        pending = retry
    return [filed[i] for i in range(len(groups))]
