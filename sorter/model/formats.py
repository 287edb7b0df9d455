"""How a personal model file says which sorter wrote it (its `format` array: "sorter-personal/2"),
and a file of a newer sorter told from a damaged one: a downgrade (an older sorter installed
again, a backup's) reads the newer sorter's file as one it does not know, and must neither call it
damaged (`sorter learn --forget`, its advice for one, deletes every correction and named pet)
nor fit it again over it (`personal.refuse_newer`)."""

from __future__ import annotations

import re
from pathlib import Path

from sorter.errors import SorterError


class NewerModel(SorterError):
    """A personal model file a newer sorter wrote (its format's number above this one's): not
    damaged, and never written over (`personal.refuse_newer`), as a downgrade would destroy it."""

    def __init__(self, path: Path, written_as: str, reads: str, then: str) -> None:
        super().__init__(f"{path} was written by a newer sorter (format {written_as[:40]!r}; this one reads up "
                         f"to {reads!r}): {then}")


def newer(written_as: str, known: str) -> bool:
    """`written_as` is a format of `known`'s family ("sorter-personal/N") numbered above it."""
    family, _, number = known.rpartition("/")
    found = re.fullmatch(rf"{re.escape(family)}/(\d{{1,9}})", written_as)
    return found is not None and int(found[1]) > int(number)


#: What a newer file asks of the user where it is read to sort with, and where learn would write over it.
UPGRADE_TO_SORT = "upgrade sorter, or sort with --no-personal"
UPGRADE_TO_LEARN = "upgrade sorter to learn; this one does not write over it"
