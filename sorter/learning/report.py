"""What `sorter learn` says: the lines it prints, which the review page's **Learn** button
shows too (`report_lines`), from the `LearnResult` that `learning.learn` returns."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sorter.config import as_shown, as_typed
from sorter.learning.folder_names import name_twins, passed_over_lines, shown
from sorter.learning.pets import MIN_PET_PHOTOS
from sorter.wording import counted

if TYPE_CHECKING:
    from sorter.learning.learn import LearnResult
    from sorter.learning.pets import PetReport


def report_lines(result: LearnResult) -> list[str]:
    """What `sorter learn` prints, and the review page's **Learn** button shows: one string a line."""
    # The personal model learns from every folder learnt so far: say so when that is more than this one.
    if result.examples > result.found:
        tail = f"; with the folders learnt before, {result.examples} placed and {result.kept} kept as sorted"
        if result.moved_away:  # `sorter undo --all` of a folder learnt: its photos sorted and placed are not now
            # Of both (placed ones too): "14 kept as sorted when learnt, 18 of them" counted more than it said.
            tail += (f" when learnt, {result.moved_away} of these {result.examples + result.kept} no longer where "
                     "they were learnt (undone or moved since), still learnt as they were")
    else:
        # This folder's own: a copy of it learnt elsewhere adds the photos kept as sorted there.
        tail = f"; {result.kept_here} kept as sorted, held as they are" if result.kept_here else ""
    # Unread ones said here too: else the table counts fewer than were found, with no word why.
    unread = f", {result.unread} could not be read" if result.unread else ""
    # A pet's folder renamed (`mv cats/Luna cats/Lulu`): her photos, the same, under a new name; not new ones.
    unread = "".join(f", {n} renamed with {shown(was)} → {shown(now)}"
                     for (was, now), n in sorted(result.renamed_photos.items())) + unread
    nothing = not result.kinds and not result.pets
    lines = []
    if result.spoilt and result.model_path is not None:  # truncated, say, or edited: the examples make it again
        lines.append(f"The saved personal model {result.model_path} was {result.spoilt}; learnt it again from "
                     "your examples.")
    if result.found or result.unread or not nothing:  # else "Nothing to learn" below says why, alone
        lines.append(f"Found {counted(result.found, 'photo')} you placed in {result.folder} "
                     f"({result.new} new{unread}){tail}")
    if result.forgot:  # what learn forgets is this folder's own, and it says so
        lines.append(f"Forgot {counted(result.forgot, 'photo')} you placed in {result.folder}, learnt before: not in it now "
                     "(deleted, edited or moved out since).")
    if result.undone is not None:
        lines.append(_undone(result))
    for pet, elsewhere in sorted(result.removed.items()):  # her folder deleted here since she was learnt
        kind, _, name = pet.partition("/")
        lines.append(f"{pet}/ is no longer in {result.folder}: " + (
            f"{name} is not named here any more, and her photos stay in {kind}/ (she is still named from another "
            f"folder; mkdir {as_typed(result.folder / pet)} for them to go there)." if elsewhere else
            # Not "learnt from it alone": her folder in another folder, deleted and learnt first, was hers too.
            f"{name} is no longer a named pet ({_left(result, pet)})."))
    lines += [_renamed_away(result, was, now, report) for was, now in sorted(result.renamed_away.items())
              if (report := _pet(result, was)) is not None]
    if result.dropped:
        lines.append(f"Dropped {counted(result.dropped, 'example')} learnt on another model.")
    if result.videos:  # else a correction made on a video seems lost: "Found 0 photos", "Nothing to learn"
        lines.append(f"Not learnt from: {counted(result.videos, 'video')} you placed (sorter learns from photos; it "
                     "judges a video by its frames as it judges photos, so what it learns applies to videos too).")
    lines += passed_over_lines(result.passed_over)
    if nothing:
        # Where it forgot or dropped examples, the lines above say what was done, and "nothing to
        # learn: sort it, then learn again" would say that nothing was.
        if not (result.forgot or result.dropped or result.forgotten or result.undone):
            what = "move a wrongly sorted photo where it belongs" if result.journaled else (  # not sorted, or undone
                f"{result.folder} has no sorter journal: sort it and put right what the sort gets wrong")
            same = " Your personal model is unchanged." if result.unchanged else ""
            lines.append(f"Nothing to learn: {what} (or file your own into cats/ or dogs/), then learn again.{same}")
        if result.spoilt and not result.forgotten:  # a folder with nothing placed fits nothing to replace it
            lines.append(f"The saved personal model was {result.spoilt}: learn again a folder where you placed "
                         "photos, or delete it with `sorter learn --forget`.")
        if result.forgotten:
            lines.append("Deleted the personal model: nothing you placed is left to learn from (sort, watch and "
                         "evaluate use the model's own decisions again).")
        return lines
    wide = max([24, *(len(k.kind) for k in result.kinds)])  # a pet's long name widens the column, never breaks it
    lines.append(f"{'kind':<{wide}} {'photos':>6} {'model':>8} {'personal (held out)':>20}")  # right by each
    for k in result.kinds:
        lines.append(f"{k.kind:<{wide}} {k.photos:>6} {k.bundled_right:>8} {k.personal_right:>20}")
    if any(k.kind.endswith(f" -> {shown(pet.name)}") for pet in result.pets if pet.learnt for k in result.kinds):
        # The columns count the right kind (cats/ or dogs/); a named pet's own folder is her line's.
        lines.append("(a named pet's photos: right as a cat or a dog above; into her own folder below)")
    lines += [pet.line(_learnt_before(result.elsewhere.get(pet.name, ()), pet.photos)) for pet in result.pets]
    lines += [_one_pet(result, pet.name) for pet in result.pets
              if 0 < sum(n for _, n in result.elsewhere.get(pet.name, ())) < pet.photos]
    lines += [f"{shown(was)}, learnt in another folder, holds the same photos as {shown(now)}: learnt as one pet, "
              f"{shown(now)}" for was, now in sorted(result.renamed.items())]
    lines += name_twins([pet.name for pet in result.pets])
    if result.reference is not None:
        r = result.reference
        lines.append(f"Reference pets ({r.pets}): {r.wrong_before} in the wrong place before, {r.wrong_after} after"
                     # A pet with too few photos is in `pets` but has no head, so nothing could go into her folder.
                     + (f"; {r.into_named} into a named pet's folder" if any(p.learnt for p in result.pets) else ""))
    elif not any(pet.no_reference for pet in result.pets):
        lines.append("This model has no reference set (MODEL.reference.npz): its pets could not be checked.")
    elif result.corrections:  # a named pet's line has said it has none: said once
        lines.append(f"Your {counted(result.corrections, 'correction')} could not be checked against reference pets.")
    if result.model_path is None:  # nothing learnt, and no personal model of this model to bring up to date
        lines.append("Nothing learnt, so nothing was saved: " + ("your personal model is unchanged." if result.unchanged
                     else f"sort, watch and evaluate go on with {result.description} alone."))
    else:
        uses = result.description
        if result.corrections and not any(result.pull or ()):
            # Of the cat/dog/neither corrections only: a named pet is learnt all the same (her line above).
            many = result.corrections != 1
            # Where no change was safe for the reference pets, that is why (`choose_head`), said here, as
            # the reference line above shows the bundled head's, the one kept.
            why = result.unsafe or f"held out, no change to the model put more of {'them' if many else 'it'} right"
            lines.append(f"Your {counted(result.corrections, 'correction')} (cat/dog/neither) {'are' if many else 'is'} "
                         f"not learnt yet: {why}, so the model's decisions stay as they are.")
            # The head saved is the bundled one (`choose_head`), its corrections none (`describe`): the
            # examples are kept (`personal.write_examples`) for the next learn to fit again with more.
            uses = (uses if any(pet.learnt for pet in result.pets) else f"the {uses}'s decisions") + (
                f"; your {counted(result.corrections, 'correction')} {'are' if many else 'is'} kept, not learnt from "
                "yet: each learn tries again with those you add")
        lines.append(f"Saved {result.model_path}: sort, watch and evaluate now use {uses} "
                     "(--no-personal ignores it; `sorter learn --forget` deletes it).")
        # Where her photos go into no folder here, `--name-pets` would leave them: why, and what would.
        lines += [result.staying[pet.name] for pet in result.pets if pet.name in result.staying]
        if any(pet.unnamed_like and pet.name not in result.staying for pet in result.pets):
            lines.append(f"To move your named pets' photos already in cats/ or dogs/ into their folders: "
                         f"sorter sort {as_typed(result.folder)} --name-pets")
    return lines


def _undone(result: LearnResult) -> str:
    """"Forgot what was learnt from DIR (its sort undone, or its journal gone): 1 named pet (Fred: 6 photos),
    0 corrections, 3 kept as sorted." The lines below say what the personal model is now."""
    gone = result.undone
    pets = ", ".join(f"{shown(name)}: {counted(n, 'photo')}" for name, n in sorted(gone.pets.items()))
    named = f"{counted(len(gone.pets), 'named pet')} ({pets}), " if gone.pets else ""
    return (f"Forgot what was learnt from {result.folder} (its sort undone, or its journal gone): {named}"
            f"{counted(gone.corrections, 'correction')}, {gone.kept} kept as sorted.")


def _learnt_before(folders: tuple[tuple[str, int], ...], photos: int) -> str:
    """"8 learnt before from /home/ann/A/cats/Luna", "learnt before from …" where all of them
    were, "11 learnt before: 8 from …, 3 from …" where several folders hold them."""
    if not folders:
        return ""
    folders = tuple((as_shown(folder), n) for folder, n in folders)  # a new line in a name breaks no line
    total = sum(n for _, n in folders)
    every = "" if total < photos else "all "  # none of them here: this folder has no photo of hers
    if len(folders) == 1:
        return f"{'' if every else f'{total} '}learnt before from {folders[0][0]}"
    listed = [f"{n} from {folder}" for folder, n in folders[:2]]
    if len(folders) > 2:
        listed.append(f"{sum(n for _, n in folders[2:])} from {counted(len(folders) - 2, 'more folder')}")
    return f"{every or f'{total} '}learnt before: {', '.join(listed)}"


def _one_pet(result: LearnResult, pet: str) -> str:
    """Her photos here and another folder's of her name learnt as one pet: said, with what to do
    where they are two animals (two cats named Luna became one, and her "Might be" group took
    photos each folder's sort had named)."""
    kind, _, name = pet.partition("/")
    return (f"{shown(pet)} here and {shown(pet)} of the folders learnt before are one pet to sorter, learnt from the "
            f"photos of both; if they are two different {kind}, rename one of the folders (mv "
            f"{as_typed(result.folder / pet)} {as_typed(result.folder / kind / (name + '2'))}) and learn its folder "
            "again")


def _pet(result: LearnResult, pet: str) -> PetReport | None:
    """Her line's report: where a learnt folder still holds photos of hers."""
    return next((report for report in result.pets if report.name == pet and report.photos), None)


def _left(result: LearnResult, pet: str) -> str:
    """Why a pet whose folder is gone here is no named pet: her photos left in the other folders
    learnt are too few (a named pet's folder deleted here said "no folder learnt has her photos
    any more" while another held one), or none are left."""
    report = _pet(result, pet)
    if report is None:
        return "no folder learnt has her photos any more"
    where = ", ".join(as_shown(folder) for folder, _ in result.elsewhere.get(pet, ()))
    where = f", in {where}" if where else ""
    if report.photos < MIN_PET_PHOTOS:
        return (f"{counted(report.photos, 'photo')} of hers {'is' if report.photos == 1 else 'are'} left{where}: "
                f"{MIN_PET_PHOTOS} or more are needed")
    return f"the {counted(report.photos, 'photo')} of hers left{where} are not learnt: her line below says why"


def _renamed_away(result: LearnResult, was: str, now: str, report: PetReport) -> str:
    """Her folder renamed here (cats/Fred -> cats/Lulu) while another folder learnt still holds photos
    of her old name. A few: she is learnt as Lulu, and Fred, too few, went from the named pets without a
    word, where the next `sort --name-pets` of that folder made a cats/Lulu beside its cats/Fred. Enough
    (5 or more): Fred stayed named from them beside Lulu, two pets for one cat, with no word why."""
    from sorter.learning.examples import BEFORE_THIS_ONE, NOT_THERE_NOW

    name, new_name = was.partition("/")[2], now.partition("/")[2]
    folders = [folder for folder, _ in result.elsewhere.get(was, ())]
    held = f"{', '.join(as_shown(f) for f in folders) or 'another folder learnt'} still "
    held += "holds" if len(folders) < 2 else "hold"
    if len(folders) == 1 and not folders[0].endswith((BEFORE_THIS_ONE, NOT_THERE_NOW)):  # else no path to type
        there = Path(folders[0])
        rename = (f"rename it as well (mv {as_typed(there)} {as_typed(there.parent / new_name)}) and learn it again "
                  f"(sorter learn {as_typed(there.parent.parent)})")
    else:
        each = "each" if len(folders) > 1 else "it"
        rename = f"rename {each} to {shown(now)} as well and learn {each} again"
    photos = f"{counted(report.photos, 'photo')} of {name}"
    if report.learnt:
        return (f"{shown(was)}/ is now {shown(now)}/ here, so one pet is two named pets now, {new_name} and {name}: "
                f"{held} {photos}, learnt as {name}; to keep them one pet, {rename}")
    why = (f"too few to learn as {name} ({MIN_PET_PHOTOS} or more)" if report.photos < MIN_PET_PHOTOS
           else "not learnt as her: her line below says why")
    return (f"{shown(was)}/ is now {shown(now)}/ here, so {name} is no longer a named pet: {held} {photos}, {why}; "
            f"to keep them one pet, {rename}")
