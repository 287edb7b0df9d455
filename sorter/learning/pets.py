"""Named pets: a user's own cat (cats/Luna/) or dog learnt from the photos in its folder, and
how well `sorter learn` knows it.

A head per species tells (any other cat, anything but a cat, Luna, Milo, ...) apart: a softmax
on unit-length `pet_features` (the photo's and a second look at the pet's,
`sorter.model.second_look`), fitted on the user's photos of each pet, on other cats (the anchor
half of the model's reference set, and the user's own cats outside named folders that do not
look like a named pet: `strangers_of`) and on everything else (the anchor half's dogs and
non-pets, and the user's), each class weighing the same in total. A photo goes into a pet's
folder only at `PET_THRESHOLD` or above: an unknown cat stays in cats/. Since the head knows what
is not a cat, sort asks it about every photo, not only those filed as cats: a user's own cat
that the model takes for a dog (a black-and-white cat lying on asphalt) is still hers.

Each pet's score is measured against the check half of the reference set's cats, which no fit
sees (`PetHead.against`): a photo is hers when it stands out from them as far for every pet.
How well it knows each pet is measured twice: each of its photos held out of a fit in turn
(would the head find it?), and the check half of the reference set's cats (other cats it has
never seen: how many would it take for her?). Where her held-out photos looked more like
another named pet, that is said too (`look_alike`): look-alikes are where named pets fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

import numpy as np

from sorter.config import CLASS_FOLDERS
from sorter.files.folder import first_run
from sorter.files.identities import lstat_of
from sorter.learning.folder_names import shown
from sorter.model.heads import Head, fit_softmax, folds, one_hot, principal_basis
from sorter.model.personal import Examples, homes_recorded
from sorter.model.pet_heads import MIN_STRANGERS, PetHead, cohort_of, normalised
from sorter.model.pet_homes import PROOF_PHOTOS, UNKNOWN, Home
from sorter.model.second_look import MARGIN
from sorter.wording import counted

#: Photos a named pet's folder needs before it is learnt.
MIN_PET_PHOTOS = 5
#: A photo goes into a named pet's folder only at this probability or above. Chosen on real
#: photos of ten campus cats (benchmarks/named_cats.py, 10 examples a cat): see README. With
#: the bundled v14, 0.7 / 0.75 / 0.8 found 55 / 54 / 51 of 83 of the cats' own photos and took
#: 3.5 / 2.5 / 2.3 % of the other cats (v13 at 0.7: 52 of 83 and 2.8 %).
PET_THRESHOLD = 0.75
#: The same, where a photo's likeness to the pet's own photos counts too (`pet_heads.named_chances`:
#: a model with a reference set, whose cats make the cohort). Chosen on the same photos, at 10 and
#: at 5 examples a cat (0.90 / 0.92 / 0.93: 57 / 55 / 52 of 83 at 2.8 / 1.5 / 1.3 % of the other
#: cats; 64 / 57 / 55 of 152 at 0.8 %): see README. Checked again with the closer crop
#: (`second_look.MARGIN` 0.05; its features cached, `named_cats.py`'s rotations): 0.90 / 0.92 /
#: 0.94 found 61 / 59 / 54 of 83 at 2.3 / 1.5 / 0.8 %, and 67 / 61 / 53 of 152 at 0.8 %: 0.90
#: would take more than 2 % of the other cats at 10 photos a cat, so 0.92 stays. Since a pet's
#: score is measured against strangers (`PetHead.against`), `pet_heads.STRANGER_Z` standard
#: deviations above them is where it lands.
LIKENESS_THRESHOLD = 0.92
#: Classes of a pet head before the named pets: other cats, and anything but a cat.
OTHERS = 2
#: Penalty on the named-pet heads' weights (unit-length features).
PET_L2 = 1e-4
#: Directions (of the pets' and the other cats' features) a pet head is fitted in.
BASIS = 128
#: Cross-validation folds (fewer photos: leave-one-out).
FOLDS = 10
#: A photo the user left in cats/ (no named folder) is learnt as another cat only where a head
#: fitted without such photos gives every named pet less than this (`strangers_of`). Measured
#: on the named-cats photos (`named_cats.py`'s rotations and first photos), a user's cats/
#: holding two thirds of her named cats' other photos: 10 examples a cat, 12 of 28 of the rest
#: found when all count as other cats, 18 / 19 / 19 when those from 0.92 / 0.5 / 0.2 do not
#: (19 when none count); 5 examples, 20 / 24 / 27 / 28 of 53 (28). Holding half of each other
#: campus cat's photos instead (strangers, not her): the rest of the other cats named 0.9 % when
#: all count, 0.9 / 1.4 / 1.4 % from 0.92 / 0.5 / 0.2, 2.3 % when none; 5 examples 0 / 0 / 0 /
#: 0.5 %, 1.1 % when none. 0.5 keeps most of both. Again with the closer crop (second_look.MARGIN
#: 0.05): her photos, 13 / 17 / 19 / 19 of 28 (all / 0.92 / 0.5 / 0.2; none 19) and 23 / 25 / 27
#: / 29 of 53 (none 28); strangers, 0.9 / 0.9 / 1.4 / 1.4 % (none 2.8 %) and 0 / 0 / 0 / 0.5 %.
#: The first head's score is its own, not measured against strangers: as measured.
UNNAMED_LIKE = 0.5
#: A pet whose held-out photos this share or more (and at least 2) looked more like one other
#: named pet is said to: two black cats, or three tabby-and-whites, are where named pets fail
#: (benchmarks/named_cats.py), and a user can do something about it (more photos of each).
LOOK_ALIKE_SHARE = 0.25
#: A pet of whose held-out photos fewer than this share were found, and not for a look-alike,
#: gets a word on what helps: kit of the named-cats photos (on asphalt, she looks like a dog)
#: reads "would find 0 of 10 held out" while a sort finds 3-4 of her next 10.
FEW_FOUND_SHARE = 0.3

#: A named pet is learnt only where the model's reference set holds this many animals of her
#: species or more: half of them (the check half, `Reference.halves`) are the strangers her score
#: is measured against, and `PetHead.against` needs MIN_STRANGERS of those (fewer, and her score
#: is not measured at all), which is also as few as "1 of 50 other cats taken" can say 2 %, the
#: share STRANGER_Z was chosen to take. A model trained on 20 photos has 2 cats there: her folder
#: was checked against 1 stranger ("1 of 1 other cats taken"), that is, not checked.
MIN_REFERENCE = 2 * MIN_STRANGERS

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class PetReport:
    name: str  # cats/Luna
    photos: int
    learnt: bool  # False: fewer than MIN_PET_PHOTOS photos
    recognised: int = 0  # held out of the fit, put into its own folder
    others: int = 0  # other cats (the reference set's check half) it was tried on
    taken: int = 0  # of which put into its folder
    #: The other named pet most of its missed held-out photos looked more like, and how many.
    looks_like: tuple[str, int] | None = None
    #: Photos left unnamed in cats/ that look like her, not learnt as other cats (`strangers_of`).
    unnamed_like: int = 0
    copies: int = 0  # photos in her folder that are copies of another there: not counted
    #: The other named pet whose folder holds the most of her photos (the same photos), and how many.
    shared: tuple[str, int] | None = None
    #: Not learnt though she has photos enough: the model has no reference set (`fit_pets`).
    no_reference: bool = False
    #: Not learnt though she has photos enough: the reference set's animals of her species, too few to
    #: tell her from (`MIN_REFERENCE`); None where there were enough.
    few_others: int | None = None

    def line(self, elsewhere: str = "") -> str:
        """"cats/Luna: 10 photos, would find 9 of 10 held out; 0 of 250 other cats taken for it",
        with "(5 looked more like Milo)" after "held out" when they did (else, when few were
        found, what helps), and "; 40 left in cats/ look like it, not learnt as other cats" when
        some did. `elsewhere`: where those of her photos learnt in other folders are, said after
        her count ("13 photos (8 learnt before from /home/ann/A/cats/Luna)")."""
        kind = self.name.split("/")[0]
        copies = f" ({elsewhere})" if elsewhere else ""
        copies += f" ({self.copies} more are copies of these, not counted)" if self.copies else ""
        if self.shared:  # a photo filed as Luna's and as Milo's: not two cats that look alike
            copies += (f" ({self.shared[1]} also in {shown(f'{kind}/{self.shared[0]}')}, the same photos: keep each "
                       "in one pet's folder)")
        if self.no_reference:
            return (f"{shown(self.name)}: {counted(self.photos, 'photo')}{copies}; not learnt: this model has no "
                    "reference set (MODEL.reference.npz, which `sorter train` makes of its validation photos: train it "
                    "again with a validation split (not --validation-split 0), or, from sorter's source, run `python "
                    f"benchmarks/make_reference_set.py MODEL.keras DATA_DIR`), so there are no other {kind} to tell it from")
        if self.few_others is not None:
            return (f"{shown(self.name)}: {counted(self.photos, 'photo')}{copies}; not learnt: this model's reference "
                    f"set has only {counted(self.few_others, kind[:-1])} to tell it from ({MIN_REFERENCE} or more: train "
                    "it with more photos, or a larger --validation-split)")
        if not self.learnt:
            return (f"{shown(self.name)}: {counted(self.photos, 'photo')}{copies}; too few to learn "
                    f"({MIN_PET_PHOTOS} or more)")
        alike = ""
        if self.looks_like and self.looks_like[0] != (self.shared or ("",))[0]:  # else said above
            alike = f" ({self.looks_like[1]} looked more like {shown(self.looks_like[0])})"
        if not self.looks_like and self.recognised < FEW_FOUND_SHARE * self.photos:
            alike = f" (few stand out from other {kind} yet: photos of it on other days and in other places help)"
        others = f"; {self.taken} of {self.others} other {kind} taken for it" if self.others else ""
        unnamed = (f"; {self.unnamed_like} left in {kind}/ {'looks' if self.unnamed_like == 1 else 'look'} like it, "
                   f"not learnt as other {kind}"
                   if self.unnamed_like else "")
        return (f"{shown(self.name)}: {counted(self.photos, 'photo')}{copies}, would find {self.recognised} of "
                f"{self.photos} held out"
                f"{alike}{others}{unnamed}")


def fit_pets(examples: Examples, anchor, check, progress: Progress, margin: float = MARGIN,
             ) -> tuple[list[PetHead], list[PetReport]]:
    """A head per species with named pets: (any other cat, Luna, Milo, ...). Pets with fewer
    than MIN_PET_PHOTOS photos are reported, not learnt. The other cats are the anchor half
    of the reference set's and the user's own cats outside named folders (`strangers_of`);
    the check half's cats measure how many other cats each pet's folder would take. `margin`:
    the crop margin of every features that name a pet here (`PetHead.margin`). A photo whose
    features that name a pet are unknown (learnt at another margin, not seen since) is left out."""
    heads, reports = [], []
    examples = examples.subset(~np.isnan(examples.pet_features).any(axis=1))
    # A photo sorter itself put into her folder and the user left there is no example of her:
    # the head chose it, so learning it back teaches nothing and makes the held-out count
    # read high (fred, 10 photos named by the user and 10 by `sort --name-pets`: "would find
    # 19 of 20"). Only the photos the user placed are her examples.
    placed = ~examples.kept()
    for species, folder in CLASS_FOLDERS.items():
        mine = examples.labels == species
        own_of = {name: _distinct(examples.pet_features[mine & placed & (examples.pets == name)])
                  for name in sorted(set(examples.pets[mine & placed]) - {""})}
        named = [name for name, (rows, _) in own_of.items() if len(rows) >= MIN_PET_PHOTOS]
        shared = _shared({name: rows for name, (rows, _) in own_of.items()})
        reports += [PetReport(f"{folder}/{name}", len(rows), False, copies=copies, shared=shared[name])
                    for name, (rows, copies) in own_of.items() if len(rows) < MIN_PET_PHOTOS]
        if not named:
            continue
        same = None if anchor is None or species not in anchor.class_names else (
            anchor.labels == anchor.class_names.index(species))
        if same is None or not same.any():
            # No other cats of the reference set to tell her from (a model `sorter train` made
            # before it wrote one, or without validation photos): a head fitted on her photos and the user's
            # few other cats, none of them held out to check it, would take most cats for her.
            # Said, not learnt; the corrections are learnt all the same.
            reports += [PetReport(f"{folder}/{name}", len(own_of[name][0]), False, copies=own_of[name][1],
                                  shared=shared[name], no_reference=True) for name in named]
            continue
        strangers = np.zeros((0, examples.pet_features.shape[1]))
        if check is not None and species in check.class_names:
            strangers = check.pet_features[check.labels == check.class_names.index(species)]
        if len(strangers) < MIN_STRANGERS:
            # Too few other cats to tell her from, or to say how many her folder would take: said, not learnt.
            reports += [PetReport(f"{folder}/{name}", len(own_of[name][0]), False, copies=own_of[name][1],
                                  shared=shared[name], few_others=int(same.sum() + len(strangers)))
                        for name in named]
            continue
        cohort = None if same is None else cohort_of(anchor.pet_features[same])
        anchor_cats = [] if same is None else [anchor.pet_features[same]]
        elsewhere = [examples.pet_features[~mine]] + ([] if same is None else [anchor.pet_features[~same]])
        own = [own_of[name][0] for name in named]
        first = partial(species_head, species, named, anchor_cats, elsewhere, own, cohort, margin)
        unnamed, like = strangers_of(examples, mine, folder, first, len(named))
        pets, groups, basis = species_head(species, named, [unnamed, *anchor_cats], elsewhere, own, cohort, margin)
        # Each pet's score measured against the check half's cats, which no fit saw (`PetHead.against`);
        # they also say how many other cats her folder would take: its mean and spread are all it learns of them.
        pets = pets.against(strangers)
        recognised, alike = pets_cross_validated(groups, basis, cohort, pets.threshold, strangers)
        taken = pets.recognise(strangers)
        heads.append(pets)
        reports += [PetReport(f"{folder}/{name}", len(groups[OTHERS + k]), True, recognised[k], len(strangers),
                              sum(t == name for t in taken), look_alike(named, k, alike[k], len(groups[OTHERS + k])),
                              int(like[k]), own_of[name][1], shared[name])
                    for k, name in enumerate(named)]
        progress("pets", len(heads), len(heads))
    return heads, reports


def _distinct(features: np.ndarray) -> tuple[np.ndarray, int]:
    """A pet's examples less copies of one photo (the same file twice gives the same features:
    six copies of one photo are one example, not a pet learnt from six), in their order, and
    how many copies were dropped."""
    _, first = np.unique(features, axis=0, return_index=True)
    return features[np.sort(first)], len(features) - len(first)


def _shared(photos: dict[str, np.ndarray]) -> dict[str, tuple[str, int] | None]:
    """Per pet, the other pet whose folder holds the most of her photos (the same features:
    a copy of the file, or the same photo), and how many; None where none does."""
    keys = {name: {row.tobytes() for row in rows} for name, rows in photos.items()}
    shared: dict[str, tuple[str, int] | None] = dict.fromkeys(photos)
    for name, mine in keys.items():
        counts = [(len(mine & theirs), other) for other, theirs in keys.items() if other != name]
        most, other = max(counts, default=(0, ""))
        shared[name] = (other, most) if most else None
    return shared


def species_head(species: str, named: list[str], others: list[np.ndarray], elsewhere: list[np.ndarray],
                 pets: list[np.ndarray], cohort: np.ndarray | None, margin: float = MARGIN,
                 ) -> tuple[PetHead, list[np.ndarray], np.ndarray]:
    """The head of one species' named pets, and what it was fitted on: its groups (other cats,
    anything but a cat, each pet; normalised) and its directions."""
    groups = [normalised(np.concatenate(g)) for g in (others, elsewhere)] + [normalised(g) for g in pets]
    # Directions from the species' photos, held-out ones too (it uses no label, so it leaks
    # none), but not from the dogs and non-pets: with them, half the directions went to
    # telling a cat from a dog, and fewer of a pet's photos were found (see README).
    basis = principal_basis(np.concatenate([groups[0], *groups[OTHERS:]]), BASIS)
    threshold = PET_THRESHOLD if cohort is None else LIKENESS_THRESHOLD
    likeness_of = () if cohort is None else (*pooled(groups[OTHERS:]), cohort)
    head = PetHead(species, tuple(named), fit_pet_head(groups, basis), threshold, OTHERS, *likeness_of, margin=margin)
    return head, groups, basis


def strangers_of(examples: Examples, mine: np.ndarray, folder: str, first: Callable[[], tuple[PetHead, list, np.ndarray]],
                 pets: int) -> tuple[np.ndarray, np.ndarray]:
    """The user's own photos of the species outside named folders that are learnt as other
    cats, and per named pet how many were not, because they look like her.

    A photo left in cats/ is not a photo of "not Luna": a user names ten of Luna's photos and
    leaves her other two hundred where sort put them. Learnt as other cats, those taught the
    head that Luna is someone else (named_cats photos, 10 examples a cat and two thirds of its
    other photos left in cats/: 12 of 28 of the rest found instead of 19). So a photo the user
    left there counts as another cat only where a head fitted without such photos (`first`,
    fitted only when there are some) gives every named pet less than UNNAMED_LIKE; one that
    sorter had named and the user took out of the pet's folder says "not her" outright, and
    always counts."""
    unnamed = mine & (examples.pets == "")
    refused = unnamed & np.char.startswith(examples.was.astype(str), f"{folder}/")
    sure, left = examples.pet_features[refused], examples.pet_features[unnamed & ~refused]
    if not len(left):
        return sure, np.zeros(pets, np.int64)
    p = first()[0].chances(left)
    alike = p.max(axis=1) >= UNNAMED_LIKE
    return np.concatenate([sure, left[~alike]]), np.bincount(p.argmax(axis=1)[alike], minlength=pets)


def fit_pet_head(groups: list[np.ndarray], basis: np.ndarray) -> Head:
    """Softmax over (other cats, not a cat, pet 1, pet 2, ...) on normalised features, each
    class weighing the same in total (an empty class: none)."""
    rows = np.concatenate(groups)
    labels = np.concatenate([np.full(len(g), k) for k, g in enumerate(groups)])
    weights = np.concatenate([np.full(len(g), 1.0 / max(len(g), 1)) for g in groups])
    start = Head(np.zeros((rows.shape[1], len(groups))), np.zeros(len(groups)))
    return fit_softmax(rows, one_hot(labels, len(groups)), weights, start, l2=PET_L2, basis=basis)


def pooled(pets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The named pets' photos in one array (float32), and whose each is (index into `pets`)."""
    return np.concatenate(pets).astype(np.float32), np.repeat(np.arange(len(pets)), [len(g) for g in pets])


def pets_cross_validated(groups: list[np.ndarray], basis: np.ndarray, cohort: np.ndarray | None, threshold: float,
                         strangers: np.ndarray | None = None) -> tuple[list[int], list[np.ndarray]]:
    """Per pet, its photos that a head fitted without them (and their likeness to the pets'
    other photos, where there is a cohort; measured against `strangers` as sort measures them,
    `PetHead.against`) puts into its folder, and how many of the rest each named pet (in
    `groups`' order after the OTHERS, from 0) scored above it."""
    recognised, alike = [], []
    strangers = np.zeros((0, groups[0].shape[1])) if strangers is None else strangers
    likeness = cohort is not None
    for k in range(OTHERS, len(groups)):
        hits, like = 0, np.zeros(len(groups) - OTHERS, np.int64)
        for held in folds(len(groups[k]), FOLDS):
            rest = [g if j != k else np.delete(g, held, axis=0) for j, g in enumerate(groups)]
            names = tuple(map(str, range(len(rest) - OTHERS)))
            likeness_of = (*pooled(rest[OTHERS:]), cohort) if likeness else ()
            head = PetHead("", names, fit_pet_head(rest, basis), threshold, OTHERS, *likeness_of).against(strangers)
            p = head.chances(groups[k][held])
            nearest = p.argmax(axis=1)  # the named pet each photo is most like
            found = (nearest == k - OTHERS) & (p[:, k - OTHERS] >= threshold)
            hits += int(found.sum())
            missed = ~found & (nearest != k - OTHERS)
            like += np.bincount(nearest[missed], minlength=len(like))
        recognised.append(hits)
        alike.append(like)
    return recognised, alike


def look_alike(named: list[str], k: int, like: np.ndarray, photos: int) -> tuple[str, int] | None:
    """The named pet that `named[k]`'s missed photos looked more like, when that is worth
    saying (LOOK_ALIKE_SHARE of its photos, at least 2)."""
    j = int(like.argmax())
    return None if j == k or like[j] < max(2, LOOK_ALIKE_SHARE * photos) else (named[j], int(like[j]))


def homes(examples: Examples, heads: list[PetHead], renamed: dict[tuple[str, str], str] | None = None,
          ) -> tuple[Home, ...]:
    """The folders each learnt pet's photos were found in (DIR/cats/Luna, in every folder learnt),
    with each folder's identity now (`pet_homes`): where sort finds her folder again by it once
    it is renamed (`files.pet_folders`), and the first PROOF_PHOTOS of her photos in it by name,
    as they are now (identity, size, time), which prove a folder of that identity is still hers,
    and a copy of it on another disk hers too. `renamed`: (species, folder's name) -> the pet
    learnt from it under another name (`copies.as_one`: a copy of her folder, renamed in one
    place). A folder not there any more (renamed since it was learnt, another folder's learn
    reading her rows of it) is kept by its path alone, her photos by the identity learnt. And the
    run that began the journal of the folder each is in, as her photos were found there
    (`Examples.began`): a move or a copy of that folder is told by it, once her folder is deleted
    there; and a folder made since at its path (`mv L L3; mkdir L`: another journal) is not
    looked at, nor taken for hers."""
    renamed = renamed or {}
    found = []
    run = cache(first_run)
    for head in heads:
        kind = CLASS_FOLDERS[head.species]
        for name in head.names:
            named = {pet for (species, pet), now in renamed.items() if species == head.species and now == name}
            rows = np.flatnonzero((examples.labels == head.species) & np.isin(examples.pets, [name, *named]))
            photos: dict[tuple[Path, str], list[tuple[str, Path, int]]] = {}
            for row in rows:
                path = Path(str(examples.paths[row]))
                if folder := folder_of(path, kind, str(examples.pets[row])):
                    began = str(examples.began[row]) or run(folder.parent.parent)  # not recorded: by path
                    photos.setdefault((folder, began), []).append((path.relative_to(folder).as_posix(), path, row))
            for (folder, began), mine in sorted(photos.items()):
                there = began == run(folder.parent.parent)  # else another folder is at its path now
                # The first PROOF_PHOTOS by name are the proof: only those are looked at on disk.
                proof = tuple((name, *_now(path, row, examples, there)) for name, path, row in sorted(mine)[:PROOF_PHOTOS])
                st = lstat_of(folder) if there else None
                identity = (st.st_dev, st.st_ino) if st is not None else (UNKNOWN, UNKNOWN)
                found.append(Home(f"{kind}/{name}", str(folder), *identity, proof, began))
    return tuple(found)


def removed_homes(root: Path, now: tuple[Home, ...]) -> tuple[tuple[Home, ...], set[str]]:
    """The folders of pets removed where they were learnt, to keep beside `now` (`homes`, as
    learnt now), and the pets whose folder this learn found gone from `root` (for its report),
    from the personal model this learn replaces (`personal.homes_recorded`).

    A pet whose folder the user deleted from `root` (or moved out of cats/) is forgotten there,
    her photos with it. Learnt in another folder too, she was then named in `root` as in any
    other folder: the next sort made her folder again, and the review page offered her, where
    until that learn her photos stayed in cats/. So her folder there is kept, marked gone
    (`Home.gone`), while she is named from another folder: her photos stay in cats/ in `root`
    (a folder of her name made there by hand is hers again). Gone homes of other folders are
    kept as they are while she is learnt; a pet forgotten everywhere keeps none."""
    pets = {home.pet for home in now}
    here = {home.pet for home in now if Path(home.path).parent.parent == root}
    began = first_run(root)
    kept, removed = [], set()
    for home in homes_recorded():
        folder = Path(home.path)
        if folder.parent.parent == root and home.began in ("", began):  # learnt here: read again now
            if home.pet not in here and lstat_of(folder) is None:
                if not home.gone:  # said once, by the learn that found it gone
                    removed.add(home.pet)
                if home.pet in pets:
                    kept.append(Home(home.pet, home.path, UNKNOWN, UNKNOWN, (), home.began or began, True))
        elif home.gone and home.pet in pets:
            kept.append(home)
    return tuple(dict.fromkeys(kept)), removed


def staying(root: Path, learnt: tuple[Home, ...], reports: list[PetReport]) -> dict[str, str]:
    """Pet -> what sort says of her in `root` (`PetFolders.said`), for each pet with photos left
    in cats/ that look like her (`PetReport.unnamed_like`) whose photos go into no folder there
    (a copy of the folder she was learnt in, without her folder): `sort --name-pets`, which learn
    suggests for the others, would leave them where they are."""
    from sorter.files import pet_folders

    like = [report.name for report in reports if report.unnamed_like]
    if not like:
        return {}
    here = pet_folders.find(root, [report.name for report in reports if report.learnt], learnt).looked_for(like)
    said = here.said()
    return {pet: said[pet] for pet in like if here.folder(pet) is None and pet in said}


def _now(path: Path, row: int, examples: Examples, there: bool = True) -> tuple[int, int, int, int]:
    """A photo's identity, size and modification time as it is now: a copy learnt on another disk
    is found by name, and the journal's identity from the first disk is no proof there (its
    row's identity, with no time, where it cannot be read, or another folder is at its path now:
    not `there`)."""
    st = lstat_of(path) if there else None
    if st is None:
        device, inode, size = (int(v) for v in examples.identities[row])
        return device, inode, size, UNKNOWN
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def folder_of(path: Path, kind: str, name: str) -> Path | None:
    """The pet's folder (.../cats/Luna) that holds `path` (cats/Luna/x.jpg, or deeper)."""
    return next((folder for folder in path.parents if folder.name == name and folder.parent.name == kind), None)
