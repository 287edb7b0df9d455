"""The photos a named pet might be: what a sort noted for the review page to ask about.

A pet head names a photo only when it is clearly her (`learning.pets`), so on real photos of
campus cats it names about 6 in 10 of a cat's other photos; the rest stay unnamed. Most of
those are among the few it almost named: ranked by her head's chance, a named cat's 10 likeliest
photos left unnamed held 27 of her 32 left (benchmarks/named_cats.py's rotations, 10 examples a
cat, about 100 photos of other cats beside them). So a sort keeps, per named pet, the SHOWN
photos it left unnamed (at the top of cats/ or dogs/, or in place) that came closest
(`sorting.suggesting`), and the review server shows them as a group of their own, "might be
Luna", where one key names each that is her. A photo the user says is not her ("Not Luna") is
never suggested for her again, and `learn` takes it for another cat.

The file (`.sorter/suggestions.json`) is advice, not a record of moves: written whole,
atomically, under the folder's lock; a torn or foreign one reads as empty. A suggestion names
its photo by path and identity, and counts only while that photo is still there. A "not her"
answer says which review session gave it, so `sorter undo` takes it back with that session.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.config import CLASS_FOLDERS, STATE_DIR
from sorter.files import made_folders
from sorter.files.folder import open_own
from sorter.files.identities import Identities, Identity, elsewhere, identity_of, lstat_of
from sorter.wording import at_most

if TYPE_CHECKING:
    from sorter.files.pet_folders import PetFolders

FILE = "suggestions.json"
#: Photos suggested per named pet: her 10 likeliest left unnamed held 27 of the 32 of her photos
#: a sort left unnamed, her 5 likeliest 22 (cached features, rotations, 10 examples); through
#: sort itself, 12 held 26 of the 32 (benchmarks/named_cats.py).
SHOWN = 12


def pet_folders(named: dict[str, tuple[str, ...]]) -> set[str]:
    """The named pets' folders ("cats/Luna"), as suggestions name their pet, from the named
    pets by species ({"cat": ("Luna",)})."""
    return {f"{CLASS_FOLDERS[species]}/{name}" for species, names in named.items() for name in names}


@dataclass(frozen=True)
class Suggestion:
    path: str  # relative to the folder, where the photo was when it was suggested
    identity: Identity
    chance: float  # how close the pet head came to naming it


@dataclass(frozen=True)
class Refusal:
    """A "not her": where the photo was and how close she came (to ask again, once taken back),
    and the review session ("review-…" run) that said it, when."""

    path: str = ""
    chance: float = 0.0
    run: str = ""
    at: float = 0.0


@dataclass
class Suggestions:
    """Per named pet ("cats/Luna"), its likeliest photos left unnamed, and the photos the user
    said are not her (identity -> `Refusal`)."""

    pets: dict[str, list[Suggestion]] = field(default_factory=dict)
    refused: dict[str, dict[Identity, Refusal]] = field(default_factory=dict)
    #: Folder -> the named pet (and her folder's identity as learnt) whose group it holds, where
    #: that is not its own name's pet ("cats/Lulu" -> ("cats/Luna", device, inode)): `follow`.
    of: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    #: Pet -> her answers while no folder is hers here (`follow`).
    parked: dict[str, dict[Identity, Refusal]] = field(default_factory=dict)
    #: How a photo is told in the folder (`Identities`: its devices probed once, for `prune` at a
    #: sort's start and `standing` at its end).
    _ids: Identities | None = field(default=None, compare=False, repr=False)

    def add(self, pet: str, path: str, identity: Identity, chance: float) -> None:
        """Note a photo a sort left unnamed that `pet` came `chance` close to: kept when it is
        among her SHOWN likeliest, in place of what was noted of that photo before."""
        if identity in self.refused.get(pet, ()):
            return
        self.drop(identity)
        shown = self.pets.setdefault(pet, [])
        shown.append(Suggestion(path, identity, chance))
        shown.sort(key=lambda s: -s.chance)
        del shown[SHOWN:]

    def paths(self) -> set[str]:
        return {s.path for shown in self.pets.values() for s in shown}

    def drop(self, identity: Identity) -> None:
        """What was noted of a photo, forgotten (it is looked at again, or named)."""
        for pet, shown in self.pets.items():
            self.pets[pet] = [s for s in shown if s.identity != identity]

    def refuse(self, pet: str, identity: Identity, path: str = "", chance: float = 0.0, run: str = "") -> None:
        """The user said this photo (at `path`, `chance` close) is not `pet`, in review session
        `run`: never suggested for her again, until taken back. Her suggestion of it goes, by its
        identity or by its `path` (noted before the folder was copied here, told by its size: it
        stood, and the next page asked about the photo again)."""
        self.pets[pet] = [s for s in self.pets.get(pet, []) if s.identity != identity and not (path and s.path == path)]
        self.refused.setdefault(pet, {})[identity] = Refusal(path, chance, run, time.time())

    def unrefuse(self, pet: str, path: str, identity: Identity, chance: float) -> None:
        """A "not her" taken back: the photo is suggested for her again."""
        self.refused.get(pet, {}).pop(identity, None)
        self.add(pet, path, identity, chance)

    def answered(self) -> dict[str, float]:
        """Review session -> when it first said "not her", for the answers it gave that stand:
        for `sorter undo`, a session that moved nothing is a run too."""
        first: dict[str, float] = {}
        for refusals in [*self.refused.values(), *self.parked.values()]:
            for r in refusals.values():
                if r.run:
                    first[r.run] = min(first.get(r.run, r.at), r.at)
        return first

    def take_back(self, runs: set[str]) -> dict[str, int]:
        """The "not her" answers of these review sessions taken back (`sorter undo`): each photo
        is asked about again where it was. How many, per pet."""
        taken = [(pet, identity, r) for pet, refusals in self.refused.items()
                 for identity, r in refusals.items() if r.run in runs]
        counts: dict[str, int] = {}
        for pet, identity, r in taken:
            self.unrefuse(pet, r.path, identity, r.chance)
            counts[pet] = counts.get(pet, 0) + 1
        for pet, refusals in self.parked.items():  # no folder of hers to ask in: simply taken back
            for identity in [i for i, r in refusals.items() if r.run in runs]:
                del refusals[identity]
                counts[pet] = counts.get(pet, 0) + 1
        return counts

    def follow(self, here: PetFolders) -> None:
        """What was noted of each pet, and what the user said is not her, under the folder her
        photos go into now (`pet_folders`): cats/Lulu once cats/Luna is renamed so, cats/Luna again
        once it is renamed back, each pet's under her own when two pets' folders are swapped.
        A group under another folder than its pet's name says whose it is (`of`, with her folder's
        identity as learnt: `sorter learn` since, which names her by her folder, ends it). A pet
        whose name's folder is another's now (`PetFolders.taken`), or a pet no longer named whose
        folder another pet's photos go into, keeps her answers aside (`parked`) until hers is back."""
        groups = [(self._pet_of(key, here), key, self.pets.get(key, []), self.refused.get(key, {}))
                  for key in sorted(set(self.pets) | set(self.refused))]
        groups += [(pet, pet, [], refused) for pet, refused in sorted(self.parked.items())]
        owners = {folder: pet for pet in here.pets if (folder := here.folder(pet)) is not None}
        self.pets, self.refused, self.of, self.parked = {}, {}, {}, {}
        for pet, key, shown, refused in groups:
            folder = (here.folder(pet) if pet in here.pets else key) or key  # gone: kept where they were
            if owners.get(folder, pet) != pet:
                self.parked.setdefault(pet, {}).update(refused)  # her suggestions go: sorted again, noted again
                continue
            for identity, refusal in refused.items():
                self.refused.setdefault(folder, {}).setdefault(identity, refusal)
            for s in shown:
                self.add(folder, s.path, s.identity, s.chance)
            if pet in here.pets:
                self._say_whose(folder, pet, here)

    def noted_in(self, folder: str, here: PetFolders) -> None:
        """A group a sort noted in `folder` ("cats/Lulu", `here.folder` of the pet her head came
        close to) says whose it is, where that is not its name's pet (`of`): read back, a group
        in cats/Lulu was taken for a pet named Lulu, none, and one in cats/luna (Luna's folder
        renamed so) for the pet named luna, whose folder it is not; `follow` put both aside and
        the page showed neither group that sort said it asks about."""
        pet = next((pet for pet in sorted(here.pets) if here.folder(pet) == folder), folder)
        self._say_whose(folder, pet, here)

    def _say_whose(self, folder: str, pet: str, here: PetFolders) -> None:
        if folder != pet:
            self.of[folder] = (pet, *here.learnt.get(pet, (-1, -1)))  # not learnt here (a copy): no identity

    def whose(self, here: PetFolders) -> set[str]:
        """The pets of the groups and answers noted (`_pet_of`): whose folders `follow` asks for."""
        return {self._pet_of(key, here) for key in set(self.pets) | set(self.refused)} | set(self.parked)

    def _pet_of(self, key: str, here: PetFolders) -> str:
        """The named pet a group is of: its folder's, unless it says another pet's, learnt as it says
        (or named, where she was not learnt in this folder: a copy of it on another disk). A group of
        a pet no longer named is the pet's learnt here from the folder of its name: she is named
        for her folder copied and renamed elsewhere now (`learning.copies`: Luna learnt as Best)."""
        pet, *identity = self.of.get(key, (key,))
        if pet in here.learnt:
            return pet if tuple(identity) == here.learnt[pet] else key
        if pet in here.pets:
            return pet
        return next((named for named, folder in sorted(here.learnt_as.items()) if folder == key), key)

    def keep_only(self, pets: set[str]) -> None:
        """Forget the pets no longer named (their folder gone, or `learn --forget`)."""
        self.pets = {pet: shown for pet, shown in self.pets.items() if pet in pets}

    def prune(self, root: Path) -> None:
        """Forget the suggestions whose photo is no longer where it was noted (named since,
        moved, deleted): they would hold a place among her SHOWN. One told by its size (noted
        before the folder was copied) takes its photo's identity here, as a sort notes it again."""
        ids = self._identities(root)
        self.pets = {pet: [now for s in shown if (now := _now(root, s, ids)) is not None]
                     for pet, shown in self.pets.items()}

    def _identities(self, root: Path) -> Identities:
        if self._ids is None:
            self._ids = Identities(root)
        return self._ids

    def standing(self, root: Path) -> dict[str, tuple[str, float]]:
        """Path -> (pet, chance) of each suggestion whose photo is still where it was noted (the
        likeliest pet, where two are): what the review server groups."""
        found: dict[str, tuple[str, float]] = {}
        ids = self._identities(root)
        for pet, shown in self.pets.items():
            for s in shown:
                if (s.path not in found or found[s.path][1] < s.chance) and _now(root, s, ids) is not None:
                    found[s.path] = (pet, s.chance)
        return found


def _now(root: Path, s: Suggestion, ids: Identities) -> Suggestion | None:
    """`s`, with its photo's identity here, while the photo at `s.path` is the one noted: by its
    identity, or, noted on another device (the folder copied since, `_noted`), by its size
    (`Identities`)."""
    st = lstat_of(root / s.path)
    if st is None:
        return None
    return (s if ids.last(s.identity) else replace(s, identity=identity_of(st))) if ids.match(s.identity, st) else None


def path_of(root: Path) -> Path:
    return root / STATE_DIR / FILE


def read(root: Path) -> Suggestions:
    """The folder's suggestions; none when there is no file or it cannot be read as one."""
    try:
        with open(open_own(path_of(root)), "rb") as f:  # a link or a FIFO there reads as none
            data = json.loads(f.read())
        copied = data.get("folder") is not None and not made_folders.is_folder(_identity(data["folder"]), root)
        pets = {str(pet): [Suggestion(str(s["path"]), _noted(s["id"], copied), float(s["chance"])) for s in shown]
                for pet, shown in data["pets"].items()}
        refused, parked = ({str(pet): dict(_refusal(row) for row in rows) for pet, rows in data.get(part, {}).items()}
                           for part in ("refused", "parked"))
        of = {str(folder): (str(pet), int(device), int(inode))
              for folder, (pet, device, inode) in data.get("of", {}).items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Suggestions()
    return Suggestions(pets, refused, of, parked)


def _refusal(row) -> tuple[Identity, Refusal]:
    if isinstance(row, list):  # as first written: the identity alone
        return _identity(row), Refusal()
    return _identity(row["id"]), Refusal(str(row["path"]), float(row["chance"]), str(row["run"]), float(row["at"]))


def _noted(row, copied: bool) -> Identity:
    """A suggestion's identity as read; `copied`: noted before the folder was copied on its disk
    (the file says in which folder it was written: another), on none of its devices
    (`identities.elsewhere`), so that the photo is told by its size there, as in a copy on another disk."""
    identity = _identity(row)
    return elsewhere(identity) if copied else identity  # type: ignore[return-value]


def _identity(row) -> Identity:
    identity = tuple(int(n) for n in row)
    if len(identity) != 3:
        raise ValueError("an identity is three numbers")
    return identity  # type: ignore[return-value]


def write(root: Path, suggestions: Suggestions) -> None:
    """Written whole under a temporary name, then renamed over the old: a reader sees the old
    file or the new one. The caller holds the folder's lock. Chances are cut to 4 places, never
    rounded up (0.89996 is 0.8999, shown 89%, not 0.9, 90%), as the journal keeps a confidence."""
    data = {
        "pets": {pet: [{"path": s.path, "id": list(s.identity), "chance": at_most(s.chance)} for s in shown]
                 for pet, shown in suggestions.pets.items() if shown},
        **{part: {pet: [{"id": list(i), "path": r.path, "chance": at_most(r.chance), "run": r.run, "at": r.at}
                        for i, r in sorted(refusals.items())]
                  for pet, refusals in answers.items() if refusals}
           for part, answers in (("refused", suggestions.refused), ("parked", suggestions.parked))},
        "of": suggestions.of,
        "folder": made_folders.of_folder(root),  # where its identities were taken (`_noted`)
    }
    path = path_of(root)
    path.parent.mkdir(exist_ok=True)
    temporary = path.with_name(f".{FILE}.tmp")
    temporary.unlink(missing_ok=True)
    # A new file, never one that is there already (a link put there would be written through).
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)  # the umask decides
    with open(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(data))
    os.replace(temporary, path)
