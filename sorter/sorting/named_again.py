"""`sorter sort --name-pets`: the photos already in cats/ and dogs/, looked at again for the
user's named pets.

A user sorts a folder, names a few of Luna's photos (cats/Luna/) and runs `sorter learn`; the
rest of Luna's photos sit in cats/ beside hers, and a plain sort leaves cats/ alone. With
`--name-pets`, sort also runs the photos at the top of cats/ and dogs/ (never a pet's own
folder) through the model, and moves those recognised as a named pet of that kind into the
pet's folder, journaled and undone like any move. Nothing else about them changes: one not
recognised stays where it is ("kept"), and a photo in cats/ becomes a dog only as a named dog's,
where sorter filed it (below).

A photo that sorter itself put into the other kind's folder, and that is still where sorter put
it, is looked at for the named pets of both kinds (`Pass.refile`): a user's own cat the model took
for a dog (kit of the named-cats photos, black and white on asphalt) goes into cats/Kit/, as a
new photo of her would. Measured on the named-cats draws (`benchmarks/named_cats_draws.py`'s
photos, 10 examples a cat): the pet head names 21 of the 30 of their photos that the model
files as dogs, as many as of those it files as cats (214 of 335). A photo the user put into
dogs/ herself, by hand or on the review page (even there and back: she has looked at it), is
her word, and only named dogs are looked for in it.

A photo that sorter once put into a pet's folder and the user took out again is not looked at:
it is not hers, whatever the model thinks (`Placed.taken_out`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sorter.config import CLASS_FOLDERS, REVIEW_RUN_PREFIX
from sorter.files.identities import Identity, identity_of


def kept_reason(species: str) -> str:
    """Why a photo looked at again stays: "already in cats/: not a named pet"."""
    return f"already in {CLASS_FOLDERS[species]}/: not a named pet"


@dataclass(frozen=True)
class Placed:
    """What the journal says of the photos sorter moved: where its latest standing move put each
    (relative path, by identity), and which of them a `sorter review` correction has moved since."""

    where: dict[Identity, str]
    reviewed: frozenset[Identity] = frozenset()

    def taken_out(self) -> dict[Identity, str]:
        """Photos whose latest move by sorter put them into a named pet's folder (cats/Luna/x.jpg),
        and that folder: wherever such a photo is now, if it is no longer there, the user took it out."""
        return {identity: str(Path(path).parent) for identity, path in self.where.items() if len(Path(path).parts) > 2}

    def still_there(self, root: Path, path: Path) -> bool:
        """`path` is where sorter's latest move put it, and it is sorter's: no one has moved it
        since, not even on the review page and back (the user has looked at it: her word)."""
        try:
            identity = identity_of(os.lstat(path))
        except OSError:
            return False
        return identity not in self.reviewed and self.where.get(identity) == path.relative_to(root).as_posix()


def placed(root: Path) -> Placed:
    """One pass over the journal: the latest standing record of each photo sorter saw, kept
    where it says sorter moved it, unless a `sorter review` correction has moved it since."""
    from sorter.files.journal import Move, moves_and_seen, scan
    from sorter.files.verdicts import stands

    state = scan(root)
    # A path per photo, not its whole record: a large folder's journal holds a record for every
    # photo it ever sorted. `owner` finds a photo from a review move, which names paths only.
    where: dict[Identity, str] = {}
    owner: dict[str, Identity] = {}
    reviewed: set[Identity] = set()
    for item in moves_and_seen(root, state):
        if isinstance(item, Move):
            if item.run.startswith(REVIEW_RUN_PREFIX) and item.src in owner:
                moved = owner.pop(item.src)
                reviewed.add(moved)
                owner[item.dst] = moved  # moved back again later: still reviewed
            continue
        if not stands(item, state):
            continue
        before = where.pop(item.identity, None)
        if before is not None:
            owner.pop(before, None)
        reviewed.discard(item.identity)  # sorted again since: sorter's once more
        if item.status == "moved":
            where[item.identity] = item.path
            owner[item.path] = item.identity
    return Placed(where, frozenset(reviewed))


@dataclass(frozen=True)
class Pass:
    """The photos at the top of one kind's folder to look at again: `species` is the folder's
    kind; `refile(path)`: the photo may go to a named pet of the other kind too (sorter put it
    there, and it is still there); None where the other kind has no named pets."""

    species: str
    entries: Iterator[Path]
    refile: Callable[[Path], bool] | None


def passes(root: Path, named: dict[str, tuple[str, ...]], where: Placed | None, count: bool = False) -> list[Pass]:
    """The passes of `sort --name-pets` over cats/ and dogs/ for the named pets (`named`: by
    kind; `where`: the folder's `placed`). In a kind's folder with named pets every photo is
    looked at; in the other only those sorter filed there. `count`: for the progress bar's
    total only (what the user took out of a pet's folder is counted too)."""
    if not named or where is None:
        return []
    skip = {} if count else where.taken_out()
    result = []
    for species in CLASS_FOLDERS:
        other_kinds = any(kind != species for kind in named)
        if species not in named and not other_kinds:
            continue
        found = entries(root, species, skip)
        if species not in named:  # only the photos sorter filed there can be another kind's named pet
            found = (path for path in found if not isinstance(path, Path) or where.still_there(root, path))
        result.append(Pass(species, found, partial(where.still_there, root) if other_kinds else None))
    return result


def entries(root: Path, species: str, skip: dict[Identity, str] | None = None) -> Iterator:
    """The photos (and videos) at the top of the species' folder, as `scan_folder` yields
    them; those the user took out of a pet's folder (`skip`: one `lstat` a photo, only when
    there are some) as `Skipped`, counted and said why, never judged. What a scan would skip
    there (a link) is already filed, and not reported again."""
    from sorter.media.folders import Skipped, scan_folder

    for entry in scan_folder(root / CLASS_FOLDERS[species], videos=True):
        if isinstance(entry, Skipped):
            continue
        if skip:
            try:
                st = os.lstat(entry)
            except OSError:
                continue  # gone meanwhile
            if (pet := skip.get(identity_of(st))) is not None:
                yield Skipped(entry, f"you took it out of {pet}/; left where you put it")
                continue
        yield entry
