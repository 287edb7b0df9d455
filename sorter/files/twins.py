"""Photos of one size and time (two burst shots of one camera; JPEGs copied off a FAT card, whose
clock ticks in 2 s), where `undo` tells a photo by those alone (`identities.Identities`: a card, a
copy of the folder): the journal's moves of such photos, which `whereabouts` asks before it takes
a file of that size and time for one of them (`Twins`).

Read at the first need, in two passes over the journal's moves (sizes and times counted, then
the moves of those kept), so that memory holds only the twins' moves, not every move's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from sorter.files.found import Unsure, named
from sorter.files.identities import lstat_of


@dataclass
class Group:
    """The journal's moves of photos of one size and time."""

    moves: list
    at: dict[str, list]  # each place (where from, where to) -> the moves of it


class Twins:
    """The journal's moves (any run's, in any state) of photos of one size and time, where two or
    more are, each with its record as `same_of` tells it here (`Whereabouts._same`); `ids`, `settled`,
    `holds` and `paths` are undo's (`Whereabouts`): how it tells a file, the moves it found the photo
    of or gave up on, whether a place holds a file, the listed paths of a size and time."""

    def __init__(self, root: Path, state, same_of: Callable, ids, settled: set[tuple[str, int]], holds: Callable,
                 paths: Callable) -> None:
        from sorter.files.journal import moves_of

        def keyed():
            for run in list(state.runs.values()):
                for other in moves_of(root, run):
                    if (known := same_of(other)) is not None:
                        yield hash(known[2:]), other, known

        once: set[int] = set()
        twice: set[int] = set()
        for key, _, _ in keyed():
            (twice if key in once else once).add(key)
        del once
        self._groups: dict[int, Group] = {}
        for key, other, known in keyed():
            if key in twice:
                group = self._groups.setdefault(key, Group([], {}))
                group.moves.append(replace(other, same=known))
                for place in {other.src, other.dst}:
                    group.at.setdefault(place, []).append(group.moves[-1])
        self._state = state
        self._ids, self._settled, self._holds, self._paths = ids, settled, holds, paths
        self._base = os.path.join(root, "")

    def of(self, same) -> Group | None:
        """The moves of photos of `same`'s size and time, where two or more are."""
        return self._groups.get(hash(same[2:]))

    def at_anothers_place(self, move, same, path: str) -> bool:
        """The file at `path` (of `same`'s size and time) is at the place of another journaled move
        of a photo of that size and time, where sorter put it or found it (any run's, done, undone
        or not): that one's photo, not `move`'s (two burst shots, one deleted). A move of this very
        photo (`same_photo`) is not another's."""
        group = self.of(same)
        return group is not None and any(not same_photo(other, move, same) for other in group.at.get(path, ()))

    def others(self, move, same, settled: set[tuple[str, int]], ids) -> Iterator:
        """The moves of other photos of `same`'s size and time than `move`'s, still to undo (done
        and not undone as undo began), told by size and time here (`ids`, `identities.Identities`),
        which this undo has neither found the photo of nor given up on (`settled`)."""
        group = self.of(same)
        for other in group.moves if group is not None else ():
            if ((other.run, other.seq) not in settled and not same_photo(other, move) and not ids.last(other.same)
                    and self._state.runs[other.run].undoable(other.seq)):
                yield other

    def no_rival(self, move, same, path: str) -> None:
        """Raises Unsure where another move's photo of `same`'s size and time, still sorted, is
        not where sorter put it either (nor back where it was), and this undo has not found it nor
        given it up: the file at `path` is either (two burst shots of one size and time, one
        renamed, the other deleted), and which cannot be told. Not settled by a guess: under either
        name it may be another photo's. The user, who can look at it, is told how to settle it."""
        for other in self.others(move, same, self._settled, self._ids):
            if not any(self._holds(place, other.same) for place in (other.dst, other.src)):
                raise Unsure(f"{path} has its size and time, as had {other.dst}'s photo, gone from there too: it is "
                             f"one of the two, and which cannot be told (move it back to {move.dst} or {other.dst}, "
                             "whichever it is, and undo again)")

    def no_twin(self, move, same, path: str, whole: bool = False) -> None:
        """On a card, the file at `path` has `same`'s size and time, and not the photo's inode number
        (which a rename keeps while the card stays in; given anew once it is put in again, when two
        photos as sorted are kept too): raises Unsure where another photo of them (`others`), not
        back where it was, is to be undone too, and two files not where they were have them. Two
        swapped went back under each other's names with no word. The user, who can look, moves each
        back by hand; the next undo finds them back. `whole`: `path` is the photo's place, where
        all of them each at its own place, as sorted, go back so (`as_sorted`)."""
        others = [o for o in self.others(move, same, self._settled, self._ids) if not self._holds(o.src, o.same)]
        if not others or whole and as_sorted(move, same, others, self._holds, self._base):
            return
        firsts = {move.src, *(o.src for o in others)}
        files = sorted({p for p in self._paths(same, False) if p not in firsts and self._holds(p, same)})
        if len(files) > 1:
            raise Unsure(f"{len(files)} files have its size and time ({named(files)}), as had {others[0].dst}'s "
                         f"photo: which is it cannot be told (open them to see which was {move.src}, move that "
                         f"one back to {move.src} yourself, and undo again)", whole)


def as_sorted(move, same, others, holds: Callable, base: str) -> bool:
    """On a card, the photo `move` sorted (`same`, as told here) and the `others` of its size and
    time still to undo (`Twins.others`) are each at the place sorter put it, as sorted (`holds`),
    and the files there (under `base`) have not each one of their inode numbers, as a rename among
    them leaves them while the card stays in: they go back as sorted. Put in again, the card
    numbers its files anew, so a cycle of them among their own places cannot be told from none,
    and none is far likelier (sort, take the card out, put it in again, undo: all were kept)."""
    family = [(move.dst, same), *((other.dst, other.same) for other in others)]
    if not all(holds(place, record) for place, record in family):
        return False
    numbers = {tuple(record[:2]) for _, record in family}
    return not all((st := lstat_of(base + place)) is not None and (st.st_dev, st.st_ino) in numbers
                   for place, _ in family)


def same_photo(one, other, same=None) -> bool:
    """The moves `one` (a `Group` move) and `other` (of one size and time) are of one photo: the
    same move, one taking it on from where the other put it (a review's correction of a sort), or a
    sort undone and made again; or, `same` (`other`'s record as told here) `one`'s in full, inode
    too, under one name: a correction of the photo where it was filed by hand (cats/Luna/c3.jpg)."""
    names = {os.path.basename(p) for p in (one.src, one.dst)} & {os.path.basename(p) for p in (other.src, other.dst)}
    return ((one.run, one.seq) == (other.run, other.seq) or one.src == other.dst or one.dst == other.src
            or (one.src, one.dst) == (other.src, other.dst) or (same is not None and one.same == same and bool(names)))
