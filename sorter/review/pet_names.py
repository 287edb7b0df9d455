"""The one thing the review page sends that becomes a path: a pet's name, made one plain
folder's name (`pet_folder_name`) or refused with why."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sorter.config import name_shown, names_a_pet
from sorter.files.pet_folders import folded

#: A pet's name is a folder's: at most this many characters (and 255 bytes, any filesystem's limit).
MAX_PET_NAME = 64


def pet_folder_name(name: object, known: set[str] | frozenset[str] = frozenset(), kind: str = "cats") -> str:
    """The folder a pet's name typed on the page names: one plain folder name, or ValueError
    saying why not. Spaces around it are dropped and it is NFC-normalised (as macOS and a
    keyboard may give it either way); a name that differs from a pet in `known` (the names in
    `kind`/) only by case is that pet, so "luna" joins cats/Luna/ rather than making a second
    folder (`the_pet`). Refused: empty, a path (`/`, `\\`), `.` and `..`, a hidden name (learn
    and a file manager skip those), control characters, over `MAX_PET_NAME` characters, and a
    name that is several pets but for case ("LUNA" of cats/Luna and cats/luna: never guessed).
    A pet's folder whose name cannot be typed (a new line, a byte that is not UTF-8) is named as
    the page shows it (`as_shown_pet`: `Fo\\nx` is cats/Fo<new line>x/)."""
    if not isinstance(name, str):
        raise ValueError("a pet's name is text")
    typed = name.strip()
    if (pet := as_shown_pet(typed, known)) is not None:
        return pet
    name = unicodedata.normalize("NFC", typed)
    if not name:
        raise ValueError("type the pet's name")
    if "/" in name or "\\" in name:
        raise ValueError("a pet's name is one folder's name: no / or \\")
    if name.startswith("."):
        raise ValueError("a pet's name cannot start with a dot (a hidden folder)")
    # Format characters too (a right-to-left override makes "gpj.exe" read otherwise), but not
    # the joiners that emoji are made of ("🐈\u200d⬛", a black cat).
    # A lone UTF-16 half (Cs) is no character a folder's name can hold.
    if any("\udc80" <= c <= "\udcff" for c in name):  # a byte that is not UTF-8, as Python keeps it
        raise ValueError("a pet's name is text: it cannot hold bytes that are not UTF-8")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") and c not in "\u200c\u200d" for c in name):
        raise ValueError("a pet's name cannot hold control characters")
    if not names_a_pet(name):
        raise ValueError(f"a pet's name needs a letter and no year: cats/{name} would be a folder of yours by date")
    if len(name) > MAX_PET_NAME or len(name.encode()) > 255:
        raise ValueError(f"a pet's name is at most {MAX_PET_NAME} characters")
    # As typed first: "Zoe\u0308" beside a "Zoë" (two folders on Linux) is the decomposed one.
    return the_pet(typed, known, kind) or the_pet(name, known, kind) or name


def the_pet(name: str, known: Iterable[str], kind: str) -> str | None:
    """The one of `known` (names in `kind`/) that `name` is: itself where it is one, else the one
    that differs from it only by case or by how its accents are encoded (her folder made on a Mac,
    decomposed); None where none does. Where several do (cats/Luna and cats/luna, learnt as two
    pets, and "LUNA" typed) it is neither rather than the first in some order: ValueError."""
    known = set(known)
    if name in known:
        return name
    same = folded(name)
    alike = sorted(pet for pet in known if folded(pet) == same)
    if len(alike) > 1:
        folders = ", ".join(f"{kind}/{pet}" for pet in alike[:-1]) + f" and {kind}/{alike[-1]}"
        raise ValueError(f"{name} could be {folders}, which differ only in case: type the name as its folder spells it")
    return alike[0] if alike else None


def as_shown_pet(typed: str, known: Iterable[str]) -> str | None:
    """The one of `known` whose name cannot be typed that `typed` is, as the page shows it
    (`config.name_shown`: `Fo\\nx`, `\\xe9t\\xe9`, and `Fo\\\\nx` for a folder named with a
    backslash): the text field of the card's pet button, and a name offered as one is typed, hold
    it so. A text field drops a new line: "Fo\\nx" sent as "Fox" made cats/Fox/. The shown form
    first: `Fo\\nx` is cats/Fo<new line>x/ even beside a cats/Fo\\nx/ typed with a backslash,
    as the page shows that one otherwise. None where `typed` shows no such pet. Two folders never
    show alike: a backslash of the name is doubled, so each escape reads back one way."""
    return next((pet for pet in known if name_shown(pet) != pet and name_shown(pet) == typed), None)
