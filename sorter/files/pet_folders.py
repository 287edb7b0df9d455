"""Where a named pet's photos go in a folder being sorted, when her folder is no longer where
she was learnt: the one place sort, watch and the review page's "might be" groups ask.

A pet is known by her folder's name: the personal model's head says "Luna", and her photos go
into cats/Luna/. `sorter learn` records the folder each pet was learnt from, with its identity
(device, inode) and a few of her photos in it (`model.pet_homes`). In that folder the user may
since have renamed hers (cats/Luna -> cats/Lulu: the same cat), and a sort that filed her photos
by name made cats/Luna/ again beside cats/Lulu/, her photos split. So, in the folder she was
learnt from, her folder is the one with its identity, whatever it is called now:

- cats/Luna is still hers (its identity): her photos go there, as always (one `lstat`);
- a sub-folder of cats/ (dogs/ for a dog) has it, and still holds one of the photos she was
  learnt from (a folder made after hers was deleted gets its number on ext4, almost always: the
  number alone proves nothing): that folder is hers, even where a folder of her name is there
  too (two pets' folders swapped: each pet's photos follow her folder), said once. A name that
  sorter takes for a date (cats/2019, `config.names_a_pet`) names no pet: her photos stay in cats/;
- none has: her folder is gone (deleted, moved out of cats/), and her photos go into a folder of
  her name if there is one, else stay in cats/ until `sorter learn` reads the folder again.

A folder that is another pet's by identity (cats/Milo, Luna's renamed) is never taken for its
name's pet: Milo's photos stay in cats/, said once, rather than mix with hers. Where identities
do not last (FAT, exFAT and every FUSE driver number a folder anew at each mount,
`verdicts.inodes_last`), none is compared: her folder is the one of her name, or none.

In any other folder (Luna learnt in DIR, OTHER sorted), cats/Luna is made as it always was: that
is what naming a pet is for; and so it is for a pet learnt before her folder was recorded. The
cost: one `lstat` per named pet; where one is not in her folder, a listing of cats/ and up to
`pet_homes.PROOF_PHOTOS` `lstat` per folder of her identity (in a watcher, at each batch until
`learn` runs again).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sorter.config import CLASS_FOLDERS, entered, names_a_pet
from sorter.files.verdicts import inodes_last

#: A pet's folder as `learn` recorded it: (pet, path, device, inode, her photos in it as
#: (path in the folder, device, inode)): `model.pet_homes.Home`.
Home = tuple[str, str, int, int, tuple[tuple[str, int, int], ...]]


@dataclass(frozen=True)
class PetFolders:
    """The named pets ("cats/Luna") and, for those whose photos do not go into a folder of their
    name in `root`, where they go ("cats/Lulu") or None (into none: cats/), and why none."""

    root: Path
    pets: frozenset[str] = frozenset()
    moved: dict[str, str | None] = field(default_factory=dict)
    #: Pet -> her folder renamed to a name sorter takes for a date ("cats/2019").
    dated: dict[str, str] = field(default_factory=dict)
    #: Pet -> the pet whose folder the folder of her name is by identity ("cats/Milo" -> "cats/Luna").
    taken: dict[str, str] = field(default_factory=dict)
    #: Pet -> her folder's identity where she was learnt here (`files.suggestions` follows her by it).
    learnt: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Pet -> her folder moved among the other kind's ("cats/Fred" -> "dogs/Fred").
    crossed: dict[str, str] = field(default_factory=dict)

    def folder(self, pet: str) -> str | None:
        """Where the photos of `pet` ("cats/Luna") go here: her folder, or None (into none: cats/)."""
        return self.moved.get(pet, pet)

    def folders(self) -> set[str]:
        """The folders the named pets' photos go into here (the review page's "might be" groups)."""
        return {folder for pet in self.pets if (folder := self.folder(pet)) is not None}

    def lines(self) -> list[str]:
        """What sort and watch say of each pet whose photos do not go into her name's folder, once."""
        where = shlex.quote(str(self.root))
        lines = []
        for pet, now in sorted(self.moved.items()):
            kind, _, name = pet.partition("/")
            stay = f"{name}'s photos stay in {kind}/"
            if pet in self.taken:
                owner = self.taken[pet]
                whose = owner.partition("/")[2] if owner.partition("/")[0] == kind else owner
                lines.append(f"{pet}/ is {whose}'s folder now: {stay} "
                             f"(sorter learn {where} to learn them as they are)")
            elif pet in self.crossed:
                lines.append(f"{pet}/ is now {self.crossed[pet]}/: {stay} "
                             f"(sorter learn {where} to learn the folders as they are now)")
            elif pet in self.dated:
                lines.append(f"{pet}/ is now {self.dated[pet]}/, a name sorter takes for a folder by date, not a "
                             f"pet's: {stay} (give it a name with a letter and no year for them to go there)")
            elif now is None:
                lines.append(f"{pet}/ is no longer in {where}: {stay} "
                             f"(sorter learn {where} to learn the folder as it is now)")
            else:
                lines.append(f"{pet}/ is now {now}/: {name}'s photos go there "
                             f"(sorter learn {where} to learn her as {now.partition('/')[2]})")
        return lines


def find(root: Path, pets: Iterable[str], homes: Iterable[Home]) -> PetFolders:
    """The named pets' folders in `root`: `pets` as the personal model names them ("cats/Luna"),
    `homes` the folders they were learnt from (`pet_homes.Home`)."""
    pets = frozenset(pets)
    if not pets:
        return PetFolders(root)
    resolved = root.resolve()  # as `learn` recorded it: the real path, whatever link led here
    learnt = {home[0]: home for home in homes if home[0] in pets and home[1] == str(resolved / home[0])}
    identities = {pet: (device, inode) for pet, _, device, inode, _ in learnt.values()}
    away = {pet: home for pet, home in learnt.items() if not _still(root / pet, identities[pet])}
    if not away:  # each in her folder: the one `lstat` each
        return PetFolders(root, pets, learnt=identities)
    found = _by_identity(root, away)
    owner = {folder: pet for pet, folder in found.items()}
    moved: dict[str, str | None] = {}
    dated, taken, crossed = {}, {}, {}
    for pet in sorted(pets):
        if pet in found:
            folder = found[pet]
            if folder.partition("/")[0] != pet.partition("/")[0]:  # a cat's folder among the dogs'
                moved[pet], crossed[pet] = None, folder
            elif not names_a_pet(folder.partition("/")[2]):
                moved[pet], dated[pet] = None, folder
            elif folder != pet:
                moved[pet] = folder
        elif owner.get(pet, pet) != pet:
            moved[pet], taken[pet] = None, owner[pet]
        elif pet in away and not os.path.lexists(root / pet):
            moved[pet] = None
    return PetFolders(root, pets, moved, dated, taken, identities, crossed)


def _still(folder: Path, identity: tuple[int, int]) -> bool:
    """`folder` is there with `identity`: hers, by name and number (one recorded as unknown: by name)."""
    try:
        st = os.lstat(folder)
    except OSError:
        return False
    return identity[1] < 0 or (st.st_dev, st.st_ino) == identity


def _by_identity(root: Path, away: dict[str, Home]) -> dict[str, str]:
    """Pet -> the sub-folder of cats/ or dogs/ with her folder's identity ("cats/Lulu"), where it
    still holds one of the photos she was learnt from. One listing of each: a cat's folder moved
    among the dogs' (or a dog's made a cat's) is another pet's to neither of them."""
    found = {}
    wanted = {(home[2], home[3]): home for home in away.values() if home[3] >= 0}
    for kind in sorted(CLASS_FOLDERS.values()):
        if not inodes_last(root / kind):
            continue
        try:
            with os.scandir(root / kind) as listing:
                for entry in listing:  # its photos cost no `stat`: the listing says what is a folder
                    if entry.is_dir(follow_symlinks=False) and entered(entry.name):
                        st = entry.stat(follow_symlinks=False)
                        home = wanted.get((st.st_dev, st.st_ino))
                        if home is not None and _holds_hers(Path(entry.path), home[4]):
                            found[home[0]] = f"{kind}/{entry.name}"
        except OSError:
            pass
    return found


def _holds_hers(folder: Path, photos: tuple[tuple[str, int, int], ...]) -> bool:
    """One of the photos she was learnt from is in `folder`, by its name and identity."""
    for name, device, inode in photos:
        try:
            st = os.lstat(folder / name)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (device, inode):
            return True
    return False
