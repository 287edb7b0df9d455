"""Where a photo undo finds no longer where a run put it went, when a sort of a sub-folder took it
on: a folder below the one undone, on the photo's path, with a `.sorter/` journal of its own.
`sort DIR -r`, the review page's Neither put cats/IMG_1.jpg back in 2020/, then `sort DIR/2020`
filed it in 2020/cats/. Undo never looks into such a folder (`whereabouts`: its files are its
own journal's), so `undo DIR` said the photo "missing", then, the next time, the sort's move of it
"missing" too, while it sat in 2020/cats/ all along and only `undo DIR/2020` brought it back.

Now that sub-folder's journal is asked for a move of that very file (its identity on record, as
`Whereabouts.same_as` tells it) from where the run put it, followed through the moves of it there
after that one, and undo keeps the move (tried again by the next undo), saying where the photo
is and which undo goes first: once `undo DIR/2020` put it back, the next `undo DIR` takes it on,
and the tree is as it was. Cost: an `lstat` a folder on the path of a photo found nowhere, and one
read of a sub-folder's journal, at its first such photo, keeping each of its moves done and not
undone (its places and identity: about 250 bytes a move) while the undo runs."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sorter.config import REVIEW_RUN_PREFIX, as_typed


@dataclass(frozen=True)
class _Move:
    src: str
    dst: str
    same: tuple[int, ...]
    review: bool


@dataclass(frozen=True)
class Below:
    """A photo a run of a sub-folder moved on: the sub-folder and where the photo is now (both
    relative to the folder undone), and whether that run was a review's."""

    folder: str
    at: str
    review: bool

    def why(self, root: Path) -> str:
        """What undo's "kept" line says of it, after the place the run being undone put it."""
        below = root / self.folder
        return (f"a {'review' if self.review else 'sort'} of {below} moved it on (to {self.at}); "
                f"sorter undo {as_typed(below)} first, then sorter undo {as_typed(root)} again")


class SortedBelow:
    """The journals of the sub-folders of `root` sorted on their own, read as undo needs them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        #: Each sub-folder looked at -> its moves done and not undone, in journal order, by the
        #: place each took its photo from (None: no journal of its own there)
        self._journals: dict[str, dict[str, list[tuple[int, _Move]]] | None] = {}

    def find(self, path: str, same_as: Callable[[tuple[int, ...]], bool]) -> Below | None:
        """Where the photo a run put at `path` (relative to `root`, nothing there now) is, where a
        sub-folder's own sort (or review) moved it on from there; `same_as`: a record there is of
        that very file. None where no such folder's journal has it."""
        parts = path.split("/")[:-1]
        for end in range(1, len(parts) + 1):
            folder = "/".join(parts[:end])
            moves = self._moves(folder)
            if not moves:
                continue
            at, last, by = path[len(folder) + 1:], -1, None
            while (step := next(((i, m) for i, m in moves.get(at, ()) if i > last and same_as(m.same)), None)):
                last, by = step
                at = by.dst
            if by is not None and at != path[len(folder) + 1:]:
                return Below(folder, f"{folder}/{at}", by.review)
        return None

    def _moves(self, folder: str) -> dict[str, list[tuple[int, _Move]]] | None:
        """`folder`'s moves (`_journals`), read at the first look; None where it has no journal."""
        if folder not in self._journals:
            from sorter.files.journal import journal_path, scan, sorted_moves

            below = self.root / folder
            moves: dict[str, list[tuple[int, _Move]]] | None = None
            try:
                if not os.path.islink(below) and journal_path(below).is_file():
                    moves = {}
                    for i, m in enumerate(sorted_moves(below, scan(below))):
                        if m.same:
                            moves.setdefault(m.src, []).append(
                                (i, _Move(m.src, m.dst, m.same, m.run.startswith(REVIEW_RUN_PREFIX))))
            except OSError:  # a journal it may not read: the photo is said missing, as before
                moves = None
            self._journals[folder] = moves
        return self._journals[folder]
