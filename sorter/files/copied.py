"""A photo copied by hand, the original deleted: where `undo` finds it once the very file sorter
moved (its device and inode) is nowhere (`Whereabouts.find`).

`mv cats/c0.jpg cats/Luna/` with a disk mounted at cats/Luna copies, then deletes; so does
`cp -p dogs/d0.jpg dogs/2019/ && rm dogs/d0.jpg`. The photo is right there, under another inode,
and undo used to say it missing and journal it gone. A copy that kept the file's name, size and
modification time to the nanosecond, in the places undo already looks (the top of the folder,
cats/ and dogs/, then the folder's other trees), is taken for it and put back as any photo found
(or left in a folder of the user's own); one copied back to its first place counts as back.

Never a guess: the file is taken only where it alone has all three, and is no other journaled
move's photo of that size and time (`Whereabouts._names`); two such files keep the move
(`Unsure`: "2 files have its name, size and time"). A copy under another name, or of another
time (`cp` without `-p`), is not it.

A copy under another name in the folder it came from (`cp -p cats/x.jpg x-copy.jpg`, a file
manager's copy that keeps the time, then the original deleted: the photo put back by hand) is
not moved, but it is no longer said missing either: where it alone there has the photo's size and
time, undo says a file of its size and time is there (a copy?: its content is not compared, the
journal keeping no hash of it) and leaves it (`back_as`), and the move is undone as a missing one is;
in `undo --all`, so does an older run's move of that photo, which put it where the copy was taken from.

Cost: one more listing of the same places, keyed by size and time, made only in an undo where a
photo is missing; nothing where every photo is found by its inode.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from sorter.files.identities import SameFile, elsewhere

#: `Whereabouts.look`: (move, file, lasting, name) -> the listed files of it, path -> (device, inode).
Look = Callable[..., dict[str, tuple[int, int]]]


def copies(look: Look, move, same: SameFile) -> dict[str, tuple[int, int]]:
    """The files of the name `move` put its photo at and `same`'s size and time, where the very
    file on record is nowhere: each path -> its device and inode (`look`: `Whereabouts.look`,
    passed in so that this module needs nothing of whereabouts')."""
    # Told by size and time, as in a copy of the folder: the listing keyed so, not by inode.
    return look(move, elsewhere(same), False, os.path.basename(move.dst))


def back_as(look: Look, move, same: SameFile) -> dict[str, tuple[int, int]]:
    """The one file of `same`'s size and time, under another name, in the folder `move` took its
    photo from, where no copy of its name is (`copies`): the photo copied back by hand; said, not
    moved (another name is the user's choice). None where several are: a guess."""
    home = os.path.dirname(move.src)
    names = {path: ids for path, ids in look(move, elsewhere(same), False).items() if os.path.dirname(path) == home}
    return names if len(set(names.values())) == 1 else {}
