"""What `undo`'s look for a photo no longer where sorter put it answers (`whereabouts.Whereabouts`):
where it is now (`Found`), or that where it is cannot be told (`Unsure`), so its move is kept."""

from __future__ import annotations

from dataclasses import dataclass

#: Files named where several may be the photo (`Unsure`): the rest are counted.
NAMED = 3


def named(files: list[str]) -> str:
    """`files` as an `Unsure` line names them: the first `NAMED`, the rest counted."""
    rest = len(files) - NAMED
    return ", ".join(files[:NAMED]) + (f" and {rest} more" if rest > 0 else "")


class Unsure(Exception):
    """Where the file is is not certain: it was not found, and a folder it may be in could not be
    listed; or, told by its size and time, several files may be it. `undo` keeps its move, to
    look again next time, as it does where it cannot look at the file's own place."""

    def __init__(self, why: str, whole: bool = False, at: str | None = None) -> None:
        super().__init__(why)
        self.whole = whole  # `why` says what is at the photo's place too (else undo's line says it first)
        self.at = at  # where the photo may be, the file at its place another's (`CardMoves.edited_away`)


@dataclass(frozen=True)
class Found:
    path: str  # where the photo is now, relative to the folder
    others: tuple[str, ...] = ()  # its other names (hard links), which stay where they are
    #: In a folder of the user's own, while the folder sorter put it in is still there: taken
    #: out of cats/ (dogs/) on purpose, so it stays where it is (undo says where it is).
    yours: bool = False
    back_as: bool = False  # a copy under another name where it came from (`copied.back_as`): said, left there
    #: The photo itself (its device, inode and size), touched since, under another name where it
    #: came from: put back by the user, as `sort` tells it (`Identities.is_back`); said, left there.
    put_back: bool = False
