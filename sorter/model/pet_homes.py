"""Where each named pet was learnt: her folder (DIR/cats/Luna) and its identity (device, inode),
which `sorter learn` records in the personal model beside her head.

A pet is known by her folder's name: the head says "Luna", and sort files her photos into
cats/Luna/. A user who renames that folder (cats/Luna -> cats/Lulu) means the same cat; a rename
keeps the folder's identity, so sort, watch and the review page find her folder by it
(`files.pet_folders`) instead of making cats/Luna again beside cats/Lulu and splitting her
photos. A folder's number is no proof on its own: ext4 gives a folder made after one was
deleted the deleted one's number, almost always. So a few of the photos she was learnt from are
recorded too (`Home.photos`: name, identity, size and modification time), and a folder is taken
for hers by its identity only where it still holds one of them; or, in a copy of the folder on
another disk (`cp -a`: every identity new, every name, size and time kept) and on a disk mounted
again with another device number, where it holds most of them by name, size and time. A
personal model written before these were recorded has none: its pets are filed by name, as they
always were (and one written before her photos' sizes and times were, found by identity alone,
until `sorter learn` runs again).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: The identity of a folder (or a photo's size and time) that could not be read when it was
#: recorded: never matches one.
UNKNOWN = -1
#: Of her photos in each folder, how many are recorded: a folder is hers by its identity where
#: one of them is still in it (by name, with its identity), so a user may take out all but one
#: of these; by name, size and time where most of them are. Each costs an `lstat` only while her
#: folder is not where she was learnt.
PROOF_PHOTOS = 8


class Home(NamedTuple):
    """A folder a named pet was learnt from."""

    pet: str  # "cats/Luna", as the personal model names her
    path: str  # the folder itself, absolute and resolved as `learn` reads it: /home/ann/pets/cats/Luna
    device: int
    inode: int
    #: A few of the photos she was learnt from in it (`PROOF_PHOTOS`): (path in the folder, device,
    #: inode, size, modification time in ns).
    photos: tuple[tuple[str, int, int, int, int], ...] = ()
    #: The run that began the journal of the folder she was learnt in (`files.folder.first_run`):
    #: a move or a copy of that folder keeps it, so her folder deleted there is told from a folder
    #: she never had (`files.pet_folders`). "": none, or a personal model from before.
    began: str = ""
    #: Her folder was gone from the folder she was learnt in when `learn` read it again (deleted,
    #: or moved out of cats/), and she is still named from another folder: her photos stay in
    #: cats/ there, as they did before that learn, rather than go into her folder made again
    #: (`learning.pets.removed_homes`). Only `path` and `began` are kept: a folder of her name
    #: made there again by hand is hers (an unknown identity matches it by name).
    gone: bool = False


def to_arrays(homes: tuple[Home, ...]) -> dict[str, np.ndarray]:
    """The arrays `personal.write_model` saves them as (her photos padded with "" to PROOF_PHOTOS)."""
    padded = [(*h.photos, *[("", *[UNKNOWN] * 4)] * (PROOF_PHOTOS - len(h.photos)))[:PROOF_PHOTOS] for h in homes]
    return {"home_pets": np.array([h.pet for h in homes], dtype=str),
            "home_paths": np.array([h.path for h in homes], dtype=str),
            "home_ids": np.array([(h.device, h.inode) for h in homes], np.int64).reshape(-1, 2),
            "home_photos": np.array([[photo[0] for photo in photos] for photos in padded], dtype=str).reshape(
                -1, PROOF_PHOTOS),
            "home_photo_ids": np.array([[ids[:2] for _, *ids in photos] for photos in padded], np.int64).reshape(
                -1, PROOF_PHOTOS, 2),
            "home_photo_stats": np.array([[ids[2:] for _, *ids in photos] for photos in padded], np.int64).reshape(
                -1, PROOF_PHOTOS, 2),
            "home_began": np.array([h.began for h in homes], dtype=str),
            "home_gone": np.array([h.gone for h in homes], dtype=bool)}


def from_arrays(data) -> tuple[Home, ...]:
    """What `to_arrays` saved; none from a personal model written before (no such arrays). Raises
    ValueError when they do not fit together (`personal.read_model`: a damaged file)."""
    if "home_pets" not in data:
        return ()
    pets, paths, ids = data["home_pets"], data["home_paths"], data["home_ids"].astype(np.int64)
    if not len(pets) == len(paths) == len(ids) or ids.shape[1:] != (2,):
        raise ValueError("the named pets' folders do not fit together")
    names, photo_ids = (np.full((len(pets), 0), ""), np.zeros((len(pets), 0, 2), np.int64)) if "home_photos" not in data \
        else (data["home_photos"], data["home_photo_ids"].astype(np.int64))  # none recorded before
    # Their sizes and times, since a copy's photos are found by them (none before: by identity alone).
    stats = data["home_photo_stats"].astype(np.int64) if "home_photo_stats" in data else np.full(photo_ids.shape, UNKNOWN)
    began = data["home_began"] if "home_began" in data else np.full(len(pets), "")  # none recorded before
    gone = data["home_gone"] if "home_gone" in data else np.zeros(len(pets), bool)  # none recorded before
    if len(names) != len(pets) or photo_ids.shape != (*names.shape, 2) or stats.shape != photo_ids.shape \
            or len(began) != len(pets) or len(gone) != len(pets):
        raise ValueError("the named pets' photos do not fit their folders")
    photos = np.concatenate([photo_ids, stats], axis=-1).tolist()
    return tuple(Home(str(pet), str(path), int(device), int(inode),
                      tuple((str(name), *photo) for name, photo in zip(row, row_stats, strict=True) if name), str(run),
                      bool(away))
                 for pet, path, (device, inode), row, row_stats, run, away in zip(
                     pets, paths, ids.tolist(), names, photos, began, gone, strict=True))


def homes_of(classifier) -> tuple[Home, ...]:
    """The folders a classifier's named pets were learnt from; none without a personal model."""
    return tuple(getattr(getattr(classifier, "model", None), "homes", ()))
