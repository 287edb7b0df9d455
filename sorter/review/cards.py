"""A photo (or a video) as the review page draws it: its card's fields, names as sorter shows them."""

from __future__ import annotations

import os
from pathlib import Path

from sorter.config import name_shown
from sorter.review.catalog import Catalog, Photo
from sorter.review.page import folder_shown
from sorter.wording import clock, percent


def shown(text: str | None) -> str | None:
    """`config.name_shown`, of a name that may be none."""
    return None if text is None else name_shown(text)


def card(root: Path, catalog: Catalog, photo: Photo) -> dict:
    """A photo (or a video) as the page draws it. Its companions are looked up now (a few
    `lstat`s): the page shows what would move with it."""
    from sorter.review import posters

    companions = posters.companions(root, photo) if photo.path else ()
    seconds = posters.seconds(root, photo.path) if photo.video else None
    return {
        # Names as sorter shows them (`config.name_shown`: a new line as `\n`, not a space, and a
        # backslash as `\\`, so the two differ); `path`
        # as it is, which a click sends back to say where the page showed it.
        "id": photo.id, "name": name_shown(os.path.basename(photo.path)), "path": photo.path,
        "where": name_shown(photo.path), "group": photo.group,
        "folder": name_shown(folder_shown(photo.path, catalog.groups[photo.group].title)),  # "a/b/c/", or ""
        "current": photo.current, "label": photo.label, "confidence": photo.confidence,
        # as every command shows it (cut, never rounded up: 0.99996 is 99.9%), not again in JS
        "shown": None if photo.confidence is None else percent(photo.confidence, 1),
        # A pet's name too: the name's field sends it back as shown, which is her folder (`pet_names`).
        "reason": photo.reason, "origin": shown(photo.origin), "choice": photo.choice, "pet": shown(photo.pet),
        "might_be": shown(photo.might_be), "likeness": photo.likeness,  # "Luna? 89%" for 0.8995, cut as `shown`
        "likeness_shown": None if photo.might_be is None else percent(photo.likeness),
        "with": [name_shown(c.name) for c in companions],
        "video": photo.video, "seconds": seconds, "length": None if seconds is None else clock(seconds),
        # Why sorter left it in place ("unreadable", "skipped"...): shown, where no confidence is, as the sort's page does.
        "status": photo.status,
    }
