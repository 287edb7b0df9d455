"""What a sort notes for the review page's "might be Luna" groups (`files.suggestions`): per
named pet, the photos it leaves unnamed (at the top of cats/ or dogs/, or in place as neither
or unsure) that her head came closest to naming. A photo looked at again and not close (or
named) is forgotten; what the user said is not her stays refused."""

from __future__ import annotations

import os
from pathlib import Path

from sorter.config import CLASS_FOLDERS, as_typed
from sorter.files import pet_folders, suggestions
from sorter.files.identities import identity_of
from sorter.files.pet_folders import PetFolders
from sorter.sorting.results import FileResult
from sorter.wording import counted


class Noting:
    """Takes a sort's results (`add`), then writes the folder's suggestions (`write`, under the
    folder's lock). `here`: the named pets and their folders (`files.pet_folders`): what was
    noted of a pet goes with her folder, renamed since she was learnt here. `looked`: `here`, with
    the pets of the groups noted looked for (`PetFolders.looked_for`), which the sort goes on with;
    a watch's next batches too, while cats/ and dogs/ stay as they were (`still_looked`)."""

    def __init__(self, root: Path, here: PetFolders) -> None:
        self.root = root
        self.here = here  # as found, not looked for: what a watch compares its next batch's with
        self.noted = suggestions.read(root)
        self._stamp = pet_folders.stamp(root)  # before they are looked for: a change meanwhile is a change
        self.looked = here.looked_for(self.noted.whose(here))
        self.noted.follow(self.looked)
        self.noted.keep_only(self.looked.folders())
        self.noted.prune(root)
        self._paths = self.noted.paths()  # asked of every result: kept, not rebuilt each time
        self.changed = False  # since the last `write`: what `watch` writes after a batch

    def still_looked(self) -> bool:
        """cats/ and dogs/ are as they were when its pets were looked for (`pet_folders.stamp`): no
        folder made, renamed or removed there since (nor a photo filed at their top), so `looked`
        still says where their photos go, and a watch's batch does not look for them again."""
        return self._stamp is not None and pet_folders.stamp(self.root) == self._stamp

    def add(self, result: FileResult, here: PetFolders | None = None) -> None:
        """Note `result`'s photo for the pet her head came close to, in her folder as the sort filed
        it (`here`: the sorter's pets' folders, those learnt elsewhere looked for as their photos
        came; else `looked`), saying whose group it is where that is not its name's pet."""
        if result.status == "moved" and result.destination is not None:
            where = result.destination
        elif result.status in ("kept", "neither", "unsure"):  # looked at where it is (kept: by --name-pets)
            where = result.path
        else:
            return
        rel = os.path.relpath(where, self.root).replace(os.sep, "/")
        folder, _, name = rel.partition("/")
        in_a_pets_folder = folder in CLASS_FOLDERS.values() and "/" in name
        close = result.nearly is not None and not in_a_pets_folder
        if not close and rel not in self._paths:
            return  # nothing to forget: a photo named since was noted elsewhere (pruned next time)
        try:
            identity = identity_of(os.lstat(where))
        except OSError:
            return
        if close:
            self.noted.add(result.nearly.pet, rel, identity, result.nearly.chance)
            self.noted.noted_in(result.nearly.pet, here or self.looked)
        else:
            self.noted.drop(identity)  # looked at again, and not close this time
        self._paths = self.noted.paths()
        self.changed = True

    def write(self) -> dict[str, int]:
        """Written; per named pet, the photos in her "might be" group. Raises OSError: advice
        for the review page, which callers report (`not_noted`) rather than fail the sort for."""
        suggestions.write(self.root, self.noted)
        self.changed = False
        return {pet: len(shown) for pet, shown in sorted(self.noted.pets.items()) if shown}

    def standing(self) -> dict[str, tuple[str, float]]:
        """Path -> (pet, chance) of the photos noted (`files.suggestions.Suggestions.standing`)."""
        return self.noted.standing(self.root)


def asks_about(counts: dict[str, int], folder: Path) -> list[str]:
    """What `sort` and `watch` say of the groups noted: "Might be cats/Luna (9 photos): sorter
    review DIR asks about them"; and, a line of its own, of a pet whose folder's name is taken by
    a file or a link, what is wrong ("Might be cats/Fred (2 photos), but cats/Fred is a file, not
    a folder: ..."), as a sort says it of a photo it would file there (`filing.not_a_folder`):
    the line pointed at a folder that is not there, whose review answer "it is Fred" is refused.
    One `lstat` a pet with a group."""
    def group(pet: str) -> str:
        return f"{pet} ({counted(counts[pet], 'photo')})"

    def about(pets: list[str]) -> str:  # "asks about it" of one photo, as "(1 photo)" says
        return "it" if sum(counts[pet] for pet in pets) == 1 else "them"

    review = f"sorter review {as_typed(folder)}"
    wrong = not_folders(counts, folder)
    asked = [pet for pet in counts if pet not in wrong]
    lines = [f"Might be {', '.join(map(group, asked))}: {review} asks about {about(asked)}"] if asked else []
    return lines + [f"Might be {group(pet)}, but {why}: rename it, then {review} asks about {about([pet])}"
                    for pet, why in wrong.items()]


def not_folders(counts: dict[str, int], folder: Path) -> dict[str, str]:
    """Of the pets with a group (`counts`), those whose folder's name a file or a link has taken
    -> what is wrong, as a sort says it of a photo it would file there (`filing.not_a_folder`):
    a review's "it is Fred" is refused until it is renamed. One `lstat` a pet."""
    from sorter.files.filing import not_a_folder

    return {pet: why for pet in counts if (why := not_a_folder(folder, folder / pet)) is not None}


def not_noted(exc: OSError) -> str:
    """What `sort` and `watch` say when the suggestions cannot be written."""
    return f"could not note the photos your named pets might be: {exc.strerror or exc}"
