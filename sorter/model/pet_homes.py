"""Where each named pet was learnt: her folder (DIR/cats/Luna) and its identity (device, inode),
which `sorter learn` records in the personal model beside her head.

A pet is known by her folder's name: the head says "Luna", and sort files her photos into
cats/Luna/. A user who renames that folder (cats/Luna -> cats/Lulu) in the folder she was
learnt from means the same cat; a rename keeps the folder's identity, so sort, watch and the
review page find her folder by it there (`files.pet_folders`) instead of making cats/Luna
again beside cats/Lulu and splitting her photos. A personal model written before these were
recorded has none: its pets are filed by name, as they always were.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: The identity of a folder that could not be read when it was recorded: never matches one.
UNKNOWN = -1


class Home(NamedTuple):
    """A folder a named pet was learnt from."""

    pet: str  # "cats/Luna", as the personal model names her
    path: str  # the folder itself, absolute and resolved as `learn` reads it: /home/ann/pets/cats/Luna
    device: int
    inode: int


def to_arrays(homes: tuple[Home, ...]) -> dict[str, np.ndarray]:
    """The arrays `personal.write_model` saves them as."""
    return {"home_pets": np.array([h.pet for h in homes], dtype=str),
            "home_paths": np.array([h.path for h in homes], dtype=str),
            "home_ids": np.array([(h.device, h.inode) for h in homes], np.int64).reshape(-1, 2)}


def from_arrays(data) -> tuple[Home, ...]:
    """What `to_arrays` saved; none from a personal model written before (no such arrays). Raises
    ValueError when they do not fit together (`personal.read_model`: a damaged file)."""
    if "home_pets" not in data:
        return ()
    pets, paths, ids = data["home_pets"], data["home_paths"], data["home_ids"].astype(np.int64)
    if not len(pets) == len(paths) == len(ids) or ids.shape[1:] != (2,):
        raise ValueError("the named pets' folders do not fit together")
    return tuple(Home(str(pet), str(path), int(device), int(inode))
                 for pet, path, (device, inode) in zip(pets, paths, ids.tolist(), strict=True))


def homes_of(classifier) -> tuple[Home, ...]:
    """The folders a classifier's named pets were learnt from; none without a personal model."""
    return tuple(getattr(getattr(classifier, "model", None), "homes", ()))
