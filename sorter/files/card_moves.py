"""Photos whose names the user swapped or shifted on a card (exFAT, FAT, FUSE), then edited or
touched one of: where `undo` tells a photo by its size and time alone (`identities.Identities`), an
edit changes the very things that tell it, so the file at a photo's place, of another size and
time, was taken for the photo edited, and another photo went back under its name. These are the
rules `whereabouts.Whereabouts` asks before it takes such a file for the photo (`CardMoves`): the
photo that kept its size and time goes back from where it is (`swapped_in`); a file that may be
another photo edited keeps both moves, with the journal, never guessed (`Unsure`: `edited_away`,
`no_shift_into`, `no_shift_from`), and the line says how to settle it. So is a photo nowhere at the
open end of a chain of names shifted (`mv a x; mv b a; mv c b`, then one edited): c's, where b's
place holds a file no sorted photo and b's photo is at a's place; a's, where its place held
another sorted photo, and a file of its folder no sorted photo may be it renamed and edited.

Asked only on a card, where the file at a photo's place is not it (or the photo is nowhere); each
reads the journal's moves done and not undone (`sorted_now`), `_shift` once, keeping two moves of
each kind.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from sorter.files.found import Unsure, named
from sorter.files.identities import is_a_file, lstat_of, same_file
from sorter.files.twins import same_photo


class CardMoves:
    """The card rules of an undo of `runs` in the folder at `base` (a path ending in "/"); the rest
    are undo's (`Whereabouts`): how it tells a file (`ids`), a move's record as told here (`same_of`),
    the listed files of a record (`look`), the journal's moves done and not undone (`sorted_now`),
    whether a file is another journaled move's photo (`anothers`) or sorter put one at a place
    (`sorted_at`), whether a place holds a file (`holds`), the moves it settled (`settled`), and the move it
    took a file for, by its path (`claimed`)."""

    def __init__(self, base: str, runs: set[str], ids, settled: set[tuple[str, int]], same_of: Callable,
                 look: Callable, sorted_now: Callable, anothers: Callable, sorted_at: Callable,
                 holds: Callable, claimed: Callable) -> None:
        self._base, self._runs, self._ids, self._settled = base, runs, ids, settled
        self._same, self._look, self._sorted_now = same_of, look, sorted_now
        self._anothers, self._sorted_at, self._holds, self._claimed = anothers, sorted_at, holds, claimed
        self._shifts: tuple[list, list, list] | None = None  # for `_shift`, read at its first need

    def swapped_in(self, move, same) -> bool:
        """On a card, the file at `move`'s place no journaled photo: the photo, by its size and time, is
        at the place sorter put another (`sorted_at`): names swapped, the other edited or touched since
        (it went back under this one's name). Elsewhere (`cp -p`, then edited here) the file here is it."""
        return any(path != move.dst and self._sorted_at(path) for path in self._look(move, same, False))

    def edited_away(self, move, there: os.stat_result) -> None:
        """On a card, `there`, at `move`'s place, is another journaled photo, and the photo is nowhere
        by its size and time: raises Unsure where that one's place holds a file no journaled photo,
        which may be this one, swapped, then edited or touched (taken for that photo edited, it went
        back under its name). The user, who can look, is told how to settle it. Followed from place to
        place where that one's place holds a third journaled photo, and so on (names shifted round
        among three or more, one edited: `mv b c; mv a b; mv c a` with a temporary name): the file
        at the end of the chain may be this one. A read of the journal's moves, kept by size and
        time while the rule runs."""
        by_key: dict[tuple, list] = {}  # size and time -> the moves of such photos, with their records
        for other in self._sorted_now():
            if other.dst != move.dst and (known := self._same(other)) is not None:
                by_key.setdefault(known[2:], []).append((other, known))
        first, key, seen = None, same_file(there)[2:], {move.dst}
        while True:  # each step to a place not seen yet: ends within as many steps as moves
            step = [(other, st) for other, known in by_key.get(key, ()) if other.dst not in seen and is_a_file(
                st := lstat_of(self._base + other.dst)) and not self._ids.match(known, st)]
            if not step:  # nothing at that photo's place, or that photo there: `there` is not it moved
                return
            end = next((o for o, st in step if not self._anothers(o, st, o.dst)), None)
            first = first or (end or step[0][0]).dst
            if end is not None:
                break  # a file no journaled photo: this one, edited, may be it
            other, st = step[0]
            key = same_file(st)[2:]
            seen.add(other.dst)
        self._settled.discard((move.run, move.seq))
        raise Unsure(f"not the photo sorter put there but {first}'s, and {end.dst} holds another file, "
                     f"which may be this one edited since: which cannot be told (move it back to {move.dst} "
                     "if it is, and undo again)", whole=True, at=end.dst)

    def no_shift_into(self, move, same) -> None:
        """On a card, the file at `move`'s place is not its photo nor any journaled one: raises Unsure
        where the photo's size and time are elsewhere too and another photo of this undo is nowhere
        (`_shift`): the file may be that one, shifted there and edited."""
        if (away := sorted(set(self._look(move, same, False)) - {move.dst})) and (lost := self._shift(move, False)):
            raise Unsure(f"not the photo sorter put there, its size and time are at {away[0]}, and {lost[0]}'s "
                         f"photo is nowhere: this file may be that one edited since, which cannot be told (move "
                         f"it to {lost[0]} if it is, and undo again)", whole=True)

    def no_shift_from(self, move) -> None:
        """On a card, `move`'s photo is nowhere: raises Unsure where another photo's place holds a
        file that may be it, shifted there and edited (`_shift`); where its own place is empty, one
        whose photo is at the place sorter put a third too (the open end of a chain of names shifted,
        `mv a x; mv b a; mv c b`, then cats/b.jpg edited: c's photo, said missing). Else where its
        place held another sorted photo, this undo's (`claimed`), or holds one, a file of its folder
        no sorted photo may be it renamed, then edited (`_renamed_away`: the chain's other end)."""
        here = lstat_of(self._base + move.dst)
        if (shift := self._shift(move, True, not is_a_file(here))) is not None:
            raise Unsure(f"{shift[0]} holds another file, which may be this one edited since ({shift[0]}'s photo "
                         f"may be at {shift[1]}): which cannot be told (move it back to {move.dst} if it is, and "
                         "undo again)")
        if self._claimed(move.dst) is not None or (is_a_file(here) and self._anothers(move, here)):
            self._renamed_away(move)

    def _renamed_away(self, move) -> None:
        """Raises Unsure where a file of the folder `move` put its photo in, at no place sorter put a
        photo, is no sorted photo nor one this undo took for one: the photo, nowhere by its size and
        time, its place given to another photo, may be it, renamed and edited (`mv a x; mv b a`, x
        edited); the user, who can look, is told how to settle it. None there: deleted, said missing
        as before. A listing of that one folder, only for such a photo."""
        folder = os.path.dirname(move.dst)
        try:
            with os.scandir(self._base + folder) as entries:
                names = sorted(entry.name for entry in entries if not entry.name.startswith("."))
        except OSError:
            return
        files = [path for name in names if is_a_file(st := lstat_of(self._base + (path := os.path.join(folder, name))))
                 and not self._sorted_at(path) and self._claimed(path) is None and not self._anothers(move, st, path)]
        if files:
            held = f"{files[0]} holds another file, which" if len(files) == 1 else \
                f"{named(files)} hold other files, one of which"
            raise Unsure(f"{held} may be this one renamed and edited since: which cannot be told (move it back "
                         f"to {move.dst} if it is, and undo again)")

    def _shift(self, move, lost: bool, open_end: bool = False) -> tuple[str, str | None] | None:
        """On a card, a file at a photo's place, not it nor any journaled photo, its size and time elsewhere
        too (moved on, or a `cp -p` backup), another photo of this undo nowhere, may be that one shifted
        there, then edited (`mv a x; mv b a`, a edited): both are kept. The other's place (and where its size
        and time are): `lost` (`move`'s photo nowhere), one whose place holds such a file; else one nowhere.
        `open_end` (`move`'s place empty): one whose photo is at another's place too (`swapped_in`)."""
        if self._shifts is None:
            self._shifts = ([], [], [])  # moves of this undo whose photo is nowhere; whose place holds such a file;
            # of those, the ones whose photo is at the place sorter put another's (`edited_away`'s, but at an open end)
            for m in self._sorted_now():
                if m.run not in self._runs or (known := self._same(m)) is None or self._ids.last(known):
                    continue
                if not (found := self._look(m, known, False)) and not self._holds(m.src, known):
                    self._shifts[0].append((m, None))
                elif is_a_file(st := lstat_of(self._base + m.dst)) and not self._ids.match(known, st) \
                        and not self._anothers(m, st) and (away := sorted(set(found) - {m.dst})):
                    self._shifts[2 if self.swapped_in(m, known) else 1].append((m, away[0]))
                del self._shifts[0][2:], self._shifts[1][2:], self._shifts[2][2:]
        kinds = self._shifts[lost] + (self._shifts[2] if lost and open_end else [])
        return next(((m.dst, at) for m, at in kinds if not same_photo(m, move)), None)
