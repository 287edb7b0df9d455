"""Where a named pet's photos go in a folder being sorted, when her folder is no longer where
she was learnt: the one place sort, watch and the review page's "might be" groups ask.

A pet is known by her folder's name: the personal model's head says "Luna", and her photos go
into cats/Luna/. `sorter learn` records the folder each pet was learnt from, with its identity
(device, inode) and a few of her photos in it, with their identity, size and modification time
(`model.pet_homes`). The user may since have renamed hers (cats/Luna -> cats/Lulu: the same
cat), and a sort that filed her photos by name made cats/Luna/ again beside cats/Lulu/, her
photos split. So her folder is the one that holds her photos, whatever it is called now:

- where she was learnt (the folder at the path she was learnt at, whose journal began with the
  run recorded with her, `folder.first_run`: a folder made since at that path, `mv DIR DIR3; mkdir
  DIR`, or one whose journal `undo --all` removed, is any other folder, below), the folder with
  her folder's identity at its path is still hers, as always (one `lstat`);
- else, there, a sub-folder of cats/ (dogs/ for a dog) that proves to be hers: it has her
  folder's identity and still holds one of the photos she was learnt from, as the very file (a
  folder made after hers was deleted gets its number on ext4, almost always: the number alone
  proves nothing); or it holds most of those photos by name, size and time (a disk mounted
  again with another device number). The folder of her name is asked first (a few `lstat`).
  That folder is hers, even where a folder of her name is there too (two pets' folders
  swapped: each pet's photos follow her folder), said once. A name that sorter takes for a date
  (cats/2019, `config.names_a_pet`) names no pet: her photos stay in cats/. None is: her
  folder is gone (deleted, moved out of cats/), and her photos go into a folder of her name if
  there is one, else stay in cats/ until `sorter learn` reads the folder again (and after it,
  while she is named from another folder: her folder kept as gone, `Home.gone`, said by learn);
- in any other folder (Luna learnt in DIR, OTHER sorted), a folder of her name is hers, whatever
  another holds (a copy of all the cats in cats/Everyone), and where there is none, cats/Luna is
  made as it always was: that is what naming a pet is for. Only then, and only once a photo of
  hers is to be filed or noted here (`PetFolders.looked_for`, once a sort or a watch's batch),
  is her folder looked for: a folder named as she is but for case (cats/luna, compared as the
  review page compares names) is hers, unless two pets' names are it but for case (cats/Luna and
  cats/luna learnt, cats/LUNA here: neither's by its name, never a guess); else, by her photos
  as above: the folder moved (`mv DIR DIR2`: identities kept, path not), copied to another disk
  (`cp -a`: every identity new) and renamed there. Never
  in a folder named for a named pet (cats/Milo holding copies of her photos stays Milo's), and
  in none where several prove it alike (said why, rather than the last by name). One copy of
  one of her photos in another folder's cats/Best/ is not most of them. A personal model that
  recorded her photos without their sizes and times does not look: no copy keeps an identity.
  Where none holds them and OTHER is the folder she was learnt in, moved or copied (its journal
  began with the run `learn` recorded with her folder, `folder.first_run`), and nothing is at her
  folder's path there, the user deleted it, or copied the folder before she was named: her
  photos stay in cats/, as where she was learnt, and sort says what makes them go into hers
  (learning OTHER would not: she was learnt in the other).

A folder that is another pet's (cats/Milo, Luna's renamed) is never taken for its name's pet:
Milo's photos stay in cats/, said once, rather than mix with hers. Where identities do not last
(FAT, exFAT and every FUSE driver number a folder anew at each mount, `identities.inodes_last`),
none is compared: her photos' names, sizes and times are. A pet learnt before her folder was
recorded is filed by name, and one learnt before her photos' sizes and times were, by identity
alone. The cost: one `lstat` per named pet (in her folder, or her name's folder elsewhere), and
where one was learnt at this folder's path, its journal's first record read once (17 µs). Where
she is looked for by her photos, `pet_homes.PROOF_PHOTOS` `lstat` in her name's folder and a
listing of cats/ and dogs/ (one a lookup, for her name's folder too) with as many per sub-folder
and folder she was learnt from (half, mostly: a folder that cannot hold most of them is left):
13-15 ms for one pet with 300 sub-folders of cats/ and 5,000 photos at its top, 62 ms with 1,500
(`benchmarks/pet_folders_cost.py`);
`find` alone there, 0.06 ms, where looking for every pet at every sort and batch took 30 ms and
138 ms. The review page, which looks for every pet, does so again only once cats/ or dogs/
changed (`Looked`).
"""

from __future__ import annotations

import os
import stat
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from sorter.config import CLASS_FOLDERS, as_typed, entered, names_a_pet
from sorter.files.folder import first_run
from sorter.files.identities import inodes_last, lstat_of

#: A pet's folder as `learn` recorded it: (pet, path, device, inode, her photos in it as
#: (path in the folder, device, inode, size, modification time in ns; -1: not recorded), the run
#: that began the journal of the folder she was learnt in, `folder.first_run`; "": none; and
#: whether `learn` found it gone there, `gone`): `model.pet_homes.Home`.
Home = tuple[str, str, int, int, tuple[tuple[str, int, int, int, int], ...], str, bool]


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
    #: Pet -> her folder here as it was named when it was learnt ("cats/Luna": of a pet named Best since,
    #: her folder copied and renamed elsewhere and learnt there, `learning.copies`): its groups are hers.
    learnt_as: dict[str, str] = field(default_factory=dict)
    #: Pet -> her folder moved among the other kind's ("cats/Fred" -> "dogs/Fred").
    crossed: dict[str, str] = field(default_factory=dict)
    #: Pet -> the folders that hold her photos alike, none more than the others: none is taken for hers.
    unsure: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: The pets learnt elsewhere whose name's folder is not here: hers is looked for by her photos
    #: once one of them is to be filed or noted here (`looked_for`); until then, her name's.
    pending: frozenset[str] = frozenset()
    #: Pet -> the folders she was learnt from, to look for hers by (the pending pets').
    homes: dict[str, list[Home]] = field(default_factory=dict, compare=False, repr=False)
    #: Pet -> the folder she was learnt in, of which this one is a move or a copy without her folder
    #: (`_deleted_here`: its journal began with the same run; deleted here, or copied before she had one).
    copied: dict[str, str] = field(default_factory=dict)
    #: The pets whose folder here `learn` found gone from it (`Home.gone`): her photos stay in cats/,
    #: as the user left it and learnt it, and nothing is said of it at each sort.
    gone: frozenset[str] = frozenset()

    def folder(self, pet: str) -> str | None:
        """Where the photos of `pet` ("cats/Luna") go here: her folder, or None (into none: cats/)."""
        return self.moved.get(pet, pet)

    def folders(self) -> set[str]:
        """The folders the named pets' photos go into here (the review page's "might be" groups)."""
        return {folder for pet in self.pets if (folder := self.folder(pet)) is not None}

    def looked_for(self, pets: Iterable[str | None]) -> PetFolders:
        """These folders, with the pending pets among `pets` looked for (`_by_her_photos`): each
        in the sub-folder of cats/ or dogs/ that holds her photos best, if one does, but never in
        one named for a named pet, nor in another's folder; in none where several hold them alike.
        One listing of cats/ and dogs/ a call, where one is pending; else nothing at all."""
        wanted = self.pending.intersection(pets)
        if not wanted:
            return self
        claimed = set(self.pets) | self.folders()
        listed = cache(_folders_in)  # cats/ (dogs/) listed once, for her name's folder and her photos alike
        named = _by_her_name(self.root, wanted, claimed, listed)
        found, unsure = _by_her_photos(self.root, {pet: self.homes[pet] for pet in sorted(wanted - named.keys())},
                                       claimed | set(named.values()), listed)
        found |= named
        moved, dated, crossed, copied = dict(self.moved), dict(self.dated), dict(self.crossed), dict(self.copied)
        began = cache(lambda: first_run(self.root))
        for pet in wanted:
            if pet in found:
                _place(pet, found[pet], moved, dated, crossed)
            elif pet in unsure:
                moved[pet] = None
            elif learnt_in := next((home for home in self.homes[pet] if self._deleted_here(home, began)), None):
                moved[pet], copied[pet] = None, str(Path(learnt_in[1]).parent.parent)
        return replace(self, moved=moved, dated=dated, crossed=crossed, unsure={**self.unsure, **unsure},
                       copied=copied, pending=self.pending - wanted)

    def _deleted_here(self, home: Home, began) -> bool:
        """Her folder was deleted from this folder, a move or a copy of the one she was learnt in
        (`home`: its journal began with the same run, `began()`; `mv DIR DIR2`, `cp -a`, a
        backup restored): no folder holds her photos (asked first), and none is at her folder's
        path in it. As where she was learnt, her photos stay in cats/ rather than make hers again.
        A copy made before she was named never had her folder, and cannot be told from it: what
        sort says of both is what it knows (`said`), and a folder of her name made there is hers."""
        return bool(home[5]) and home[5] == began() and not os.path.lexists(
            self.root / _kind(home[0]) / Path(home[1]).name)

    def said(self) -> dict[str, str]:
        """Pet -> what sort and watch say of her, once, where her photos do not go into her name's folder."""
        where = as_typed(self.root)
        lines = {}
        for pet, now in sorted(self.moved.items()):
            kind, _, name = pet.partition("/")
            stay = f"{name}'s photos stay in {kind}/"
            if pet in self.taken:
                owner = self.taken[pet]
                whose = owner.partition("/")[2] if owner.partition("/")[0] == kind else owner
                lines[pet] = f"{pet}/ is {whose}'s folder now: {stay} (sorter learn {where} to learn them as they are)"
            elif pet in self.crossed:
                lines[pet] = (f"{pet}/ is now {self.crossed[pet]}/: {stay} "
                              f"(sorter learn {where} to learn the folders as they are now)")
            elif pet in self.dated:
                lines[pet] = (f"{pet}/ is now {self.dated[pet]}/, a name sorter takes for a folder by date, not a "
                              f"pet's: {stay} (give it a name with a letter and no year for them to go there)")
            elif pet in self.unsure:
                alike = [f"{folder}/" for folder in self.unsure[pet]]
                lines[pet] = (f"{', '.join(alike[:-1])} and {alike[-1]} hold {name}'s photos alike: {stay} "
                              f"(rename hers {pet} for them to go there)")
            elif pet in self.copied:  # learning this folder would change nothing: she was learnt in the other
                lines[pet] = (f"{pet}/ is not in {where}, a move or a copy of {as_typed(self.copied[pet])}, where "
                              f"{name} was learnt: {stay} (mkdir {as_typed(self.root / pet)} for them to go "
                              "there)")
            elif now is None and pet in self.gone:
                continue  # deleted here and learnt so: `learn` said it once
            elif now is None:
                lines[pet] = (f"{pet}/ is no longer in {where}: {stay} "
                              f"(sorter learn {where} to learn the folder as it is now)")
            else:
                lines[pet] = (f"{pet}/ is now {now}/: {name}'s photos go there "
                              f"(sorter learn {where} to learn her as {now.partition('/')[2]})")
        return lines

    def lines(self) -> list[str]:
        """What sort says of each pet whose photos do not go into her name's folder (`said`)."""
        return list(self.said().values())


def find(root: Path, pets: Iterable[str], homes: Iterable[Home]) -> PetFolders:
    """The named pets' folders in `root`: `pets` as the personal model names them ("cats/Luna"),
    `homes` the folders they were learnt from (`pet_homes.Home`). A pet learnt elsewhere is looked
    for by her photos only when asked (`PetFolders.looked_for`)."""
    pets = frozenset(pets)
    if not pets:
        return PetFolders(root)
    resolved = root.resolve()  # as `learn` recorded it: the real path, whatever link led here
    homes_of: dict[str, list[Home]] = {}
    for home in homes:
        if home[0] in pets:
            homes_of.setdefault(home[0], []).append(home)
    # Her folder recorded in this one's cats/ (under her name, where two are), in the journal this
    # one has: a folder made since at the path of the one she was learnt in began another.
    learnt: dict[str, Home] = {}
    began = cache(lambda: first_run(root))  # read only where a pet was learnt at this path
    for pet, mine in homes_of.items():
        for home in mine:
            if Path(home[1]).parent == resolved / _kind(pet) and home[5] in ("", began()) and (
                    pet not in learnt or home[1] == str(resolved / pet)):
                learnt[pet] = home
    identities = {pet: (home[2], home[3]) for pet, home in learnt.items()}
    # Where she was learnt, her folder with its identity: hers, whatever its name (one `lstat` each).
    found = {pet: f"{_kind(pet)}/{Path(home[1]).name}" for pet, home in learnt.items()
             if _still(Path(home[1]), identities[pet])}
    # Else her folder renamed, swapped with another's, or gone: looked for now, as she was learnt here.
    sought = {pet: homes_of[pet] for pet in learnt if pet not in found and any(home[4] for home in homes_of[pet])}
    more, unsure = _by_her_photos(root, sought, set(found.values())) if sought else ({}, {})
    found |= more
    owner = {folder: pet for pet, folder in found.items()}
    moved: dict[str, str | None] = {}
    dated, taken, crossed, homes_by_photos = {}, {}, {}, {}
    for pet in sorted(pets):
        if pet in found:
            _place(pet, found[pet], moved, dated, crossed)
        elif owner.get(pet, pet) != pet:
            moved[pet], taken[pet] = None, owner[pet]
        elif pet in learnt:
            if pet in unsure or not os.path.lexists(root / pet):
                moved[pet] = None
        elif (timed := [home for home in homes_of.get(pet, ()) if _timed(home)]) and not os.path.lexists(root / pet):
            homes_by_photos[pet] = timed  # learnt elsewhere, her name's folder not here: looked for when asked
    learnt_as = {pet: f"{_kind(pet)}/{Path(home[1]).name}" for pet, home in learnt.items()}
    gone = frozenset(pet for pet, home in learnt.items() if len(home) > 6 and home[6])
    return PetFolders(root, pets, moved, dated, taken, identities, learnt_as, crossed, unsure,
                      frozenset(homes_by_photos), homes_by_photos, gone=gone)


def stamp(root: Path) -> tuple | None:
    """cats/ and dogs/ of `root` as they are now, by identity and modification time: a folder made,
    renamed or removed in them, or a photo filed at their top, changes it. Two `stat`. None where
    one changed within SAME_TIME_NS (a FAT card keeps a folder's time to its 2 seconds: a second
    change then may leave it as it was), or has a time ahead of the clock: not to be trusted yet."""
    now, seen = time.time_ns(), []
    for kind in sorted(CLASS_FOLDERS.values()):
        try:
            st = os.stat(root / kind)
        except OSError:
            seen.append(None)
            continue
        if now - st.st_mtime_ns < SAME_TIME_NS:
            return None
        seen.append((st.st_dev, st.st_ino, st.st_mtime_ns))
    return tuple(seen)


class Looked:
    """Every named pet's folder in `root`, each looked for (`find`, then `looked_for` all of them:
    the review page offers each by her folder's name), found again only where the pets, their
    folders as learnt, or cats/ and dogs/ changed since (`stamp`): a review asks at each reload and
    each Name…, where looking for 3 pets takes 25 ms with 300 sub-folders of cats/ (123 ms with
    1,500), the stamp 0.01 ms. Photos moved by hand from one of their sub-folders to another, with
    no folder made, renamed or removed, are seen at cats/' or dogs/' next change. Safe to share
    between threads: two asking at once may both look."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._last: tuple | None = None  # (pets, homes, stamp taken before they were looked for, folders)

    def now(self, pets: Iterable[str], homes: Iterable[Home]) -> PetFolders:
        pets, homes = frozenset(pets), tuple(homes)
        seen, last = stamp(self.root), self._last
        if seen is not None and last is not None and last[:3] == (pets, homes, seen):
            return last[3]
        here = find(self.root, pets, homes)
        here = here.looked_for(here.pending)
        self._last = (pets, homes, seen, here)
        return here


def _place(pet: str, folder: str, moved: dict[str, str | None], dated: dict[str, str], crossed: dict[str, str]) -> None:
    """Her photos go into `folder`, hers, if it is a pet's folder of her kind; else into none, said why."""
    if _kind(folder) != _kind(pet):  # a cat's folder among the dogs'
        moved[pet], crossed[pet] = None, folder
    elif not names_a_pet(folder.partition("/")[2]):
        moved[pet], dated[pet] = None, folder
    elif folder != pet:
        moved[pet] = folder


def _timed(home: Home) -> bool:
    """Her photos' sizes and times were recorded: a copy of her folder elsewhere can be told by them
    (a personal model from before they were has only identities, which no copy keeps)."""
    return any(photo[4] != UNKNOWN for photo in home[4])


def _kind(pet: str) -> str:
    """cats (of cats/Luna)."""
    return pet.partition("/")[0]


def _still(folder: Path, identity: tuple[int, int]) -> bool:
    """`folder` is there with `identity`: hers, by name and number (one recorded as unknown: by name)."""
    try:
        st = os.lstat(folder)
    except OSError:
        return False
    return identity[1] < 0 or (st.st_dev, st.st_ino) == identity


def folded(name: str) -> str:
    """A name as the review page compares names: Fred, fred and FRED (and either form of an é) are one."""
    return unicodedata.normalize("NFC", name).casefold()


def _folders_in(folder: Path) -> tuple[os.DirEntry, ...] | None:
    """The folders in `folder` (cats/), links not followed; None where it cannot be listed. Its
    callers share one listing a lookup (`functools.cache`): cats/ holds the photos at its top too."""
    try:
        with os.scandir(folder) as listing:
            return tuple(entry for entry in listing if entry.is_dir(follow_symlinks=False))
    except OSError:
        return None


def _by_her_name(root: Path, wanted: Iterable[str], claimed: set[str], listed=_folders_in) -> dict[str, str]:
    """Pet -> the one sub-folder of her kind named as she is but for case ("cats/fred" for
    cats/Fred; `listed`: the listing of her kind's folder): hers, not a cats/Fred/ made beside it.
    Not one `claimed`, nor one named so for another named pet."""
    alike_names = [folded(pet) for pet in claimed]  # hers, and any other pet's of a name alike
    found = {}
    for pet in sorted(wanted):
        folders = listed(root / _kind(pet))
        if folders is None:
            continue
        alike = [f"{_kind(pet)}/{entry.name}" for entry in folders if folded(f"{_kind(pet)}/{entry.name}") == folded(pet)]
        if len(alike) == 1 and alike[0] not in claimed and alike_names.count(folded(pet)) == 1:
            found[pet] = alike[0]
    return found


def _by_her_photos(root: Path, sought: dict[str, list[Home]], claimed: set[str], listed=_folders_in,
                   ) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Pet -> the sub-folder of cats/ or dogs/ that holds her photos (`_proof`): the folder of her
    name first (a copy or a disk mounted again, not renamed: a few `lstat`), else the one of all
    that proves it best, one listing of each (`listed`, shared with `_by_her_name`): a cat's
    folder moved among the dogs' (or a dog's made a cat's) is another pet's to neither of them. A
    folder `claimed` already is another pet's. And pet -> the folders that prove it alike, where
    several do best: none is hers."""
    lasting = {kind: inodes_last(root / kind) for kind in sorted(CLASS_FOLDERS.values())}
    lstat = cache(lstat_of)  # a pet learnt in two folders (a copy learnt too) asks of the same names twice
    found = {}
    for pet, mine in sought.items():
        st = lstat(root / pet)
        if (pet not in claimed and st is not None and stat.S_ISDIR(st.st_mode)
                and _proof(root / pet, (st.st_dev, st.st_ino), mine, lasting[_kind(pet)], lstat)):
            found[pet] = pet
    scores = []
    for kind in sorted(lasting) if len(found) < len(sought) else ():
        folders = [entry for entry in listed(root / kind) or () if entered(entry.name)
                   and f"{kind}/{entry.name}" not in claimed]
        try:
            for entry in folders:  # its photos cost no `stat`: the listing says what is a folder
                st = entry.stat(follow_symlinks=False)
                for pet in sorted(sought.keys() - found.keys()):
                    if score := _proof(Path(entry.path), (st.st_dev, st.st_ino), sought[pet], lasting[kind], lstat):
                        scores.append((score, pet, f"{kind}/{entry.name}"))
        except OSError:
            pass
    claimed = claimed | set(found.values())
    unsure: dict[str, tuple[str, ...]] = {}
    for score, pet, folder in sorted(scores, reverse=True):  # the best proof first: one folder, one pet
        if pet in found or pet in unsure or folder in claimed:
            continue
        alike = sorted(f for s, p, f in scores if (s, p) == (score, pet) and f not in claimed)
        if len(alike) > 1:  # which is hers, only the user knows: none rather than the last by name
            unsure[pet] = tuple(alike)
        else:
            found[pet] = folder
            claimed.add(folder)
    return found, unsure


#: A photo's size and time not recorded (`model.pet_homes.UNKNOWN`: learnt before they were).
UNKNOWN = -1
#: Modification times this close are one: a copy onto a FAT card keeps a photo's time to its two
#: seconds (exFAT: to 10 ms), `cp -a` and `rsync -a` elsewhere to the nanosecond.
SAME_TIME_NS = 2_000_000_000


def _proof(folder: Path, identity: tuple[int, int], homes: list[Home], lasting: bool, lstat,
           ) -> tuple[bool, int] | None:
    """How well `folder` (of `identity`) proves to be her folder, or None where it does not: it
    has the identity of a folder she was learnt from and holds one of her photos recorded there
    as the very file (its identity: a rename keeps both), or it holds most of them by name, size
    and time (a copy of her folder on another disk, or a disk mounted again with another device
    number: every identity new). Identities count only where they last (`inodes_last`: not on
    FAT, exFAT or FUSE). Best: her folder's identity, then the most photos."""
    best = None
    for home in homes:
        ours = lasting and identity == (home[2], home[3])
        same = alike = 0
        for asked, (name, device, inode, size, mtime) in enumerate(home[4]):
            if not ours and 2 * (same + alike + len(home[4]) - asked) <= len(home[4]):
                break  # most of them can no longer be here: half the `lstat` of a folder that is not hers
            st = lstat(folder / name)
            if st is None:
                continue
            if lasting and (st.st_dev, st.st_ino) == (device, inode):
                same += 1
            elif mtime != UNKNOWN and st.st_size == size and abs(st.st_mtime_ns - mtime) < SAME_TIME_NS:
                alike += 1
        if (ours and same) or 2 * (same + alike) > len(home[4]):
            best = max(best or (ours, same + alike), (ours, same + alike))
    return best
