"""Where a named pet's photos go in a folder being sorted, when her folder is no longer where
she was learnt: the one place sort, watch and the review page's "might be" groups ask.

A pet is known by her folder's name: the personal model's head says "Luna", and her photos go
into cats/Luna/. `sorter learn` records the folder each pet was learnt from, with its identity
(device, inode: `model.pet_homes`). In that folder the user may since have renamed hers
(cats/Luna -> cats/Lulu: the same cat), and a sort that filed her photos by name made cats/Luna/
again beside cats/Lulu/, her photos split. So, in the folder she was learnt from:

- her folder is there (cats/Luna, as anything): her photos go there, as always;
- it is not, and a sub-folder of cats/ has its identity (a rename keeps it): that folder is hers,
  and her photos go there (cats/Lulu), said once;
- it is not, and none has: her folder is gone (deleted, moved out of cats/), and her photos stay
  in cats/ unnamed until `sorter learn` reads the folder again, said once. So where identities
  do not last (FAT, exFAT and every FUSE driver number a folder anew at each mount,
  `verdicts.inodes_last`): another folder may carry her old number there, so none is taken for hers.

In any other folder (Luna learnt in DIR, OTHER sorted), cats/Luna is made as it always was: that
is what naming a pet is for; and so it is for a pet learnt before her folder was recorded. The
cost: one `lstat` per named pet, and a listing of cats/ only where her folder is missing from
the folder she was learnt from (in a watcher, at each batch until `learn` runs again).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sorter.config import entered, names_a_pet
from sorter.files.verdicts import inodes_last


@dataclass(frozen=True)
class PetFolders:
    """The named pets ("cats/Luna") and, for those whose folder in `root` is not her name's,
    where it is now ("cats/Lulu") or None (gone)."""

    root: Path
    pets: frozenset[str] = frozenset()
    moved: dict[str, str | None] = field(default_factory=dict)

    def folder(self, pet: str) -> str | None:
        """Where the photos of `pet` ("cats/Luna") go here: her folder, or None (into none: cats/)."""
        return self.moved.get(pet, pet)

    def folders(self) -> set[str]:
        """The folders the named pets' photos go into here (the review page's "might be" groups)."""
        return {folder for pet in self.pets if (folder := self.folder(pet)) is not None}

    def lines(self) -> list[str]:
        """What sort and watch say of each pet whose folder moved, once."""
        where = shlex.quote(str(self.root))
        lines = []
        for pet, now in sorted(self.moved.items()):
            kind, _, name = pet.partition("/")
            if now is None:
                lines.append(f"{pet}/ is no longer in {where}: {name}'s photos stay in {kind}/ "
                             f"(sorter learn {where} to learn the folder as it is now)")
            else:
                lines.append(f"{pet}/ is now {now}/: {name}'s photos go there "
                             f"(sorter learn {where} to learn her as {now.partition('/')[2]})")
        return lines


def find(root: Path, pets: Iterable[str], homes: Iterable[tuple[str, str, int, int]]) -> PetFolders:
    """The named pets' folders in `root`: `pets` as the personal model names them ("cats/Luna"),
    `homes` the folders they were learnt from ((pet, path, device, inode): `pet_homes.Home`)."""
    pets = frozenset(pets)
    if not pets:
        return PetFolders(root)
    resolved = root.resolve()  # as `learn` recorded it: the real path, whatever link led here
    learnt_here = {pet: (device, inode) for pet, path, device, inode in homes
                   if pet in pets and path == str(resolved / pet)}
    moved = {pet: _renamed(root, pet, identity) for pet, identity in sorted(learnt_here.items())
             if not os.path.lexists(root / pet)}
    return PetFolders(root, pets, moved)


def _renamed(root: Path, pet: str, identity: tuple[int, int]) -> str | None:
    """The sub-folder of `pet`'s kind's folder with her folder's `identity` ("cats/Lulu"), or None."""
    kind = pet.partition("/")[0]
    if not inodes_last(root / kind):
        return None
    try:
        with os.scandir(root / kind) as listing:
            for entry in listing:  # its photos cost no `stat`: the listing says what is a folder
                if entry.is_dir(follow_symlinks=False) and entered(entry.name) and names_a_pet(entry.name):
                    st = entry.stat(follow_symlinks=False)
                    if (st.st_dev, st.st_ino) == identity:
                        return f"{kind}/{entry.name}"
    except OSError:
        pass
    return None
