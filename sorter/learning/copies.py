"""A sorted folder learnt in two places: copied to another disk (`cp -a`) and `sorter learn` run
in the copy too. Its photos there are the same photos under other identities (the examples
are keyed by a file's identity, `personal.Examples`), so the examples hold each one twice. What
`learn` fits on holds one of each, and one pet once:

- A copy: a row of another folder whose photo is the same as a row of the folder learnt now
  (the same file gives the same features, byte for byte), under the same file name, placed
  alike (label, pet) and decided alike (the journal is copied with it), is neither fitted on
  nor counted: the folder learnt now's row is. Copying a sorted folder and learning the copy
  counted her 10 photos as 20 ("added -> cats/Luna 20", "+ 20 corrections"). Two copies of a
  photo under two names in one folder are the user's own: a pet's are said to be
  (`pets.fit_pets`).
- A rename: a pet learnt in other folders only who shares nearly all her photos with a pet of
  the same species learnt in the folder learnt now, and that pet nearly all of hers with her
  (`SAME_SHARE` of each, of the photos the user placed: a sort files her new photos into one
  of the two only), is that pet, her folder copied and renamed in one of the two
  (L/cats/Luna renamed L/cats/Lulu, L2 a copy of L). She is learnt under her folder's name in
  the folder learnt now, and her folder in the other is recorded as hers (`pets.homes`), so a
  sort there files her photos into it. What sorter filed into her folder under her old name
  stays sorter's (was "cats/Luna", is "cats/Lulu": the same pet): counted as corrections, 13 of
  them inflated "placed" and her photos held out. Learnt as two pets, Luna and Lulu shared every photo
  ("would find 0 of 10 held out"), and a sort filed her photos into a new cats/Luna/ and into
  cats/Lulu/. Two such pets both learnt in other folders are one pet under the name the
  personal model gave her, else the first in order. Two pets named in one folder (rows of
  each under the same DIR), or whose folders are both there in a folder one of them was learnt
  in (DIR/cats/Luna beside DIR/cats/Lulu), are two pets whatever they share. Photos of one
  copied into the other's folder by mistake are no rename: 4 of Luna's 6 copied into Milo's 10
  are most of hers but a few of his, and merging them made her folder Milo's.

The examples as written (`personal.write_examples`) stay as each folder has them: only what is
fitted sees them as one, so that a learn of the other folder names her as her folder there does.
Costs a pass over the examples' features (a few thousand rows at most: `KEPT_PER_FOLDER`).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from sorter.config import CLASS_FOLDERS
from sorter.learning.examples import here
from sorter.learning.pets import folder_of
from sorter.model.personal import Examples, placed_name

#: A pet learnt elsewhere is a pet here renamed only where at least this share of each one's
#: photos (those the user placed) are the other's. A folder copied and renamed shares all of them
#: (1.0 both ways); a few placed or deleted on one side since keep it above (10 photos and 2 more:
#: 10 of 12, 0.83). Photos of one pet copied into another's folder by mistake are most of hers but
#: a small share of his: 4 of Luna's 6 in Milo's 10 are 0.67 of hers and 0.29 of his; all 6, 1.0
#: and 0.38. Half would keep those apart, but not all of hers copied among as many of his (6 and
#: 6: 0.5); at 0.8, only a pet with at most a quarter as many photos of his own as of hers copied
#: in is taken for her, and a fifth of either may differ.
SAME_SHARE = 0.8


def as_one(examples: Examples, root: Path) -> tuple[Examples, dict[tuple[str, str], str]]:
    """The examples to fit on, learning `root`: each pet once and each photo once (see above);
    and the pets learnt as another, (species, name) -> the name she is learnt under."""
    ours = here(examples, root)
    renamed = _renamed(examples, ours)
    if renamed:
        pets = np.array([renamed.get((str(label), str(pet)), pet) for label, pet in zip(
            examples.labels, examples.pets, strict=True)], dtype=str)
        # What sorter filed into her folder under her old name stays sorter's: not a correction.
        names = {placed_name(*pet): placed_name(pet[0], now) for pet, now in renamed.items()}
        was = np.array([names.get(str(decided), decided) for decided in examples.was], dtype=str)
        examples = replace(examples, pets=pets, was=was)
    keep, seen = ours.copy(), set()
    for row in np.argsort(~ours, kind="stable"):  # this folder's rows first: theirs are kept
        key = (examples.features[row].tobytes(), str(examples.labels[row]), str(examples.pets[row]),
               str(examples.was[row]), os.path.basename(str(examples.paths[row])))
        keep[row] |= key not in seen
        seen.add(key)
    return (examples if keep.all() else examples.subset(keep)), renamed


def _renamed(examples: Examples, here: np.ndarray) -> dict[tuple[str, str], str]:
    """(species, name) of each pet learnt in other folders only that is one pet of the same
    species learnt here (or of one learnt elsewhere too: see above) -> hers."""
    photos: dict[tuple[str, str], set[bytes]] = {}
    trees: dict[tuple[str, str], set[Path]] = {}  # the folders she was named in (DIR of DIR/cats/Luna)
    mine: set[tuple[str, str]] = set()
    # The photos the user placed: a sort files each new photo of hers into her folder, in one of
    # the two places, and those are hers in one only.
    placed = ~examples.kept()
    for row in np.flatnonzero(examples.pets != ""):
        pet = (str(examples.labels[row]), str(examples.pets[row]))
        photos.setdefault(pet, set())
        if placed[row]:
            photos[pet].add(examples.features[row].tobytes())
        if folder := folder_of(Path(str(examples.paths[row])), CLASS_FOLDERS[pet[0]], pet[1]):
            trees.setdefault(pet, set()).add(folder.parent.parent)
        if here[row]:
            mine.add(pet)
    named = _named_now() if photos.keys() - mine else set()
    # Here first, then the personal model's, then in order: the first of two such pets keeps her name.
    order = sorted(photos, key=lambda pet: (pet not in mine, pet not in named, pet))
    renamed: dict[tuple[str, str], str] = {}
    for i, pet in enumerate(order):
        if pet in mine or pet in renamed:
            continue
        shared = [(len(photos[pet] & photos[other]), other) for other in order[:i]
                  if other[0] == pet[0] and other not in renamed]
        same = [(n, other) for n, other in shared if n and n >= SAME_SHARE * max(len(photos[pet]), len(photos[other]))
                and _apart(pet, other, trees)]
        if same:
            renamed[pet] = max(same)[1][1]
    return renamed


def _apart(pet: tuple[str, str], other: tuple[str, str], trees: dict[tuple[str, str], set[Path]]) -> bool:
    """Neither is named in a folder the other is named in, nor has a folder of her name there:
    one pet's folder renamed leaves no folder of the old name where the new one is."""
    mine, theirs = trees.get(pet, set()), trees.get(other, set())
    kind = CLASS_FOLDERS[pet[0]]
    both_there = any(os.path.isdir(tree / kind / name) for where, name in ((mine, other[1]), (theirs, pet[1]))
                     for tree in where)
    return not (mine & theirs) and not both_there


def _named_now() -> set[tuple[str, str]]:
    """(species, name) of each pet the personal model names now; none from one that cannot be read
    (this learn writes it anew)."""
    from sorter.errors import SorterError
    from sorter.model.personal import read_model

    try:
        model = read_model()
    except SorterError:
        return set()
    return {(pets.species, name) for pets in (model.pets if model is not None else ()) for name in pets.names}
