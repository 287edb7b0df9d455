"""A named pet's photo sent to her folder as it is in this folder now: the model names her by
the folder she was learnt in (cats/Luna), and the user may have renamed it since (cats/Lulu) or
deleted it (her photos then stay in cats/). `files.pet_folders` finds where each folder is."""

from __future__ import annotations

from dataclasses import replace

from sorter.config import CLASS_FOLDERS


def pets_of(prediction) -> tuple[str | None, str | None]:
    """The named pet ("cats/Luna") `prediction` files its photo as, and the one it nearly was,
    whatever the label: a photo left as neither or unsure is noted for her too."""
    named = prediction.pet and prediction.label in CLASS_FOLDERS
    return (f"{CLASS_FOLDERS[prediction.label]}/{prediction.pet}" if named else None,
            prediction.nearly.pet if prediction.nearly else None)


def at_home(prediction, here):
    """`prediction` with its named pet, and the one it nearly was, as her folder is in this folder
    now (`files.pet_folders`, those pets looked for: `PetFolders.looked_for`): renamed (cats/Luna
    is cats/Lulu), or gone (no pet: it stays in cats/)."""
    if not here.moved or (prediction.pet or prediction.nearly) is None:
        return prediction
    pet, nearly = (here.folder(name) if name else None for name in pets_of(prediction))
    return replace(prediction, pet=pet.partition("/")[2] if pet else None,
                   nearly=replace(prediction.nearly, pet=nearly) if nearly else None)
