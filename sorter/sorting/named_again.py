"""`sorter sort --name-pets`: the photos already in cats/ and dogs/, looked at again for the
user's named pets.

A user sorts a folder, names a few of Luna's photos (cats/Luna/) and runs `sorter learn`; the
rest of Luna's photos sit in cats/ beside hers, and a plain sort leaves cats/ alone. With
`--name-pets`, sort also runs the photos at the top of cats/ and dogs/ (never a pet's own
folder) through the model, and moves those recognised as a named pet of that kind into the
pet's folder, journaled and undone like any move. Nothing else about them changes: a photo in
cats/ is never refiled as a dog, and one not recognised stays where it is ("kept").

A photo that sorter once put into a pet's folder and the user took out again is not looked at:
it is not hers, whatever the model thinks (`taken_out`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from sorter.config import CLASS_FOLDERS
from sorter.files.verdicts import Identity, identity_of


def kept_reason(species: str) -> str:
    """Why a photo looked at again stays: "already in cats/: not a named pet"."""
    return f"already in {CLASS_FOLDERS[species]}/: not a named pet"


def taken_out(root: Path) -> set[Identity]:
    """Photos whose latest move by sorter that still stands put them into a named pet's
    folder (cats/Luna/x.jpg): wherever such a photo is now, if it is no longer there, the user
    took it out. One pass over the journal."""
    from sorter.files.journal import scan
    from sorter.files.verdicts import standing_seen

    latest = {seen.identity: seen.path for seen in standing_seen(root, scan(root)) if seen.status == "moved"}
    return {identity for identity, path in latest.items() if len(Path(path).parts) > 2}


def entries(root: Path, species: str, skip: set[Identity] = frozenset()) -> Iterator[Path]:
    """The photos (and videos) at the top of the species' folder, as `scan_folder` yields
    them, less those the user took out of a pet's folder (`skip`: one `lstat` a photo, only
    when there are some). What a scan would skip there (a link) is already filed, and not
    reported again."""
    from sorter.media.images import Skipped, scan_folder

    for entry in scan_folder(root / CLASS_FOLDERS[species], videos=True):
        if isinstance(entry, Skipped):
            continue
        if skip:
            try:
                st = os.lstat(entry)
            except OSError:
                continue  # gone meanwhile
            if identity_of(st) in skip:
                continue
        yield entry
