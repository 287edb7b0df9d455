"""The one thing the review page sends that becomes a path: a pet's name, made one plain
folder's name (`pet_folder_name`) or refused with why."""

from __future__ import annotations

import unicodedata

from sorter.config import names_a_pet
from sorter.files.pet_folders import folded

#: A pet's name is a folder's: at most this many characters (and 255 bytes, any filesystem's limit).
MAX_PET_NAME = 64


def pet_folder_name(name: object, known: set[str] | frozenset[str] = frozenset()) -> str:
    """The folder a pet's name typed on the page names: one plain folder name, or ValueError
    saying why not. Spaces around it are dropped and it is NFC-normalised (as macOS and a
    keyboard may give it either way); a name that differs from a pet in `known` only by case is
    that pet, so "luna" joins cats/Luna/ rather than making a second folder. Refused: empty, a
    path (`/`, `\\`), `.` and `..`, a hidden name (learn and a file manager skip those),
    control characters, over `MAX_PET_NAME` characters."""
    if not isinstance(name, str):
        raise ValueError("a pet's name is text")
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise ValueError("type the pet's name")
    if "/" in name or "\\" in name:
        raise ValueError("a pet's name is one folder's name: no / or \\")
    if name.startswith("."):
        raise ValueError("a pet's name cannot start with a dot (a hidden folder)")
    # Format characters too (a right-to-left override makes "gpj.exe" read otherwise), but not
    # the joiners that emoji are made of ("🐈\u200d⬛", a black cat).
    # A lone UTF-16 half (Cs) is no character a folder's name can hold.
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") and c not in "\u200c\u200d" for c in name):
        raise ValueError("a pet's name cannot hold control characters")
    if not names_a_pet(name):
        raise ValueError(f"a pet's name needs a letter and no year: cats/{name} would be a folder of yours by date")
    if len(name) > MAX_PET_NAME or len(name.encode()) > 255:
        raise ValueError(f"a pet's name is at most {MAX_PET_NAME} characters")
    # A pet's folder may be spelled decomposed on disk (made on a Mac): "Zoë" is her either way.
    same = folded(name)
    return next((pet for pet in sorted(known) if folded(pet) == same), name)
