"""`sorter learn`: learn from the photos a user put right, and their named pets.

1. Find what the user placed in the folder (`corrections.find`): mistakes put right, photos
   they filed themselves, photos in named sub-folders (cats/Luna/).
2. Run the model's int8 features over the photos not seen before (only those: learning twice
   costs a listing), and add them to the user's examples (`personal.Examples`), which
   accumulate over folders and runs.
3. Fit a new softmax head on the model's pooled features (`heads.fit_softmax`): the examples
   pull it, half of the model's reference set holds it to the bundled head's decisions, and
   how hard the examples pull is chosen from `PULLS` by cross-validation (each example held
   out once) among the heads that keep the other half of the reference pets where they were
   (`sorter.learning.head_choice`).
4. Fit a head per species with named pets (cats/Luna/ with enough photos, `sorter.learning.pets`):
   Luna, Milo and any other cat, on the features of a second look at the pet.
5. Keep the bundled head where every head the corrections pull puts more than `MAX_WORSE` more
   of the reference pets in the wrong place (the corrections kept for the next learn), and write
   the personal model, named pets included (`personal.write_model`). Steps 3-5 are skipped where
   everything they read is what the personal model was fitted from (`same_fit`): its heads and
   report are taken again, the same.

All in numpy on features: no TensorFlow, and seconds for a few hundred examples.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sorter.errors import ModelError, SorterError
from sorter.learning.as_sorted import decided, held_out, where_now
from sorter.learning.copies import as_one
from sorter.learning.examples import Progress, here, learnt_elsewhere, undone
from sorter.learning.folder_names import shown
from sorter.learning.head_choice import Problem, choose_head, wrong
from sorter.learning.pets import PetReport, fit_pets, homes, removed_homes, staying
from sorter.learning.same_fit import Fit, KindReport, ReferenceReport, fit_key, reused
from sorter.model.heads import Head
from sorter.model.personal import Examples, PersonalModel, homes_recorded, placed_name, said
from sorter.model.pet_heads import PetHead
from sorter.model.second_look import MARGIN

if TYPE_CHECKING:
    from sorter.learning.corrections import PassedOver

#: Seconds `learn` waits for the folder (a watcher's batch, a review's click); a sort that holds
#: it longer is said to be running, and learn is run again after it.
FOLDER_WAIT = 10.0
#: Times `learning_lock` locks its file before it gives up: each try after the first is a lock file
#: deleted by the learn that held it, once a learn ends, so a handful is already many.
LOCK_TRIES = 100


@dataclass(frozen=True)
class Undone:
    """What a learn of a folder whose sort was undone since forgot of what was learnt there (`examples.undone`)."""
    pets: dict[str, int]  # named pet -> her photos learnt there
    corrections: int  # of the photos placed there, those whose cat, dog or neither the user gave (`corrected`)
    kept: int  # photos sorter filed there that the user kept so


@dataclass(frozen=True)
class LearnResult:
    folder: Path
    found: int  # photos the user placed in this folder
    new: int  # of which not learnt before (or placed elsewhere since)
    examples: int  # photos the user placed that the personal model learns from, every folder together
    kept: int  # photos sorter filed that the user kept so: held to sorter's decision (anchors), every folder together
    #: Of `examples`, those whose cat, dog or neither the user gave against sorter's (`corrected`):
    #: not a photo sorter filed as a cat that the user put into cats/Fred/, which names a pet only.
    corrections: int
    kinds: list[KindReport]
    pets: list[PetReport]
    reference: ReferenceReport | None
    pull: tuple[float, float] | None  # see `choose_head`
    model_path: Path | None  # written; None when nothing to learn
    #: Why the corrections were not learnt, where every head that learnt them put more of the reference pets in the
    #: wrong place than MAX_WORSE (`choose_head`): the bundled head is kept, the named pets learnt all the same.
    unsafe: str | None = None
    description: str = ""
    unreadable: list[str] = field(default_factory=list)
    unread: int = 0  # of the photos found placed, those that could not be read: not learnt from
    dropped: int = 0  # examples learnt on another model, dropped
    #: Nothing placed was left: the personal model there was is deleted.
    forgotten: bool = False
    unchanged: bool = False  # nothing placed here, forgotten or dropped: the personal model there is stays as it is
    #: What was wrong with the personal model there was (`personal.spoilt`: changed since learnt, damaged):
    #: fitted again from the examples, or, with nothing placed here (`unchanged` False), left for a learn that fits.
    spoilt: str | None = None
    #: Photos the user placed in this folder, learnt before, that are not in it now: forgotten (`examples.gather`).
    forgot: int = 0
    #: Of `found`, those learnt before in a pet's folder the user renamed since: ("cats/Luna", "cats/Lulu") -> how
    #: many (`examples.gather`), not `new`.
    renamed_photos: dict[tuple[str, str], int] = field(default_factory=dict)
    #: Pet -> why her photos left in cats/ go into no folder here (`pets.staying`): no `--name-pets` for her.
    staying: dict[str, str] = field(default_factory=dict)
    #: Pet -> still named from another folder, for each pet whose folder this learn found gone from
    #: this one, where she was learnt (`pets.removed_homes`): not named here any more.
    removed: dict[str, bool] = field(default_factory=dict)
    #: A named pet's folder renamed here ("cats/Fred" -> "cats/Lulu"): where another folder learnt still holds
    #: photos of her old name (`pets` says how many), too few leave that name no named pet, and 5 or more keep
    #: it one beside the new name.
    renamed_away: dict[str, str] = field(default_factory=dict)
    #: Videos sorter judged that the user placed elsewhere: not learnt from (photos are).
    videos: int = 0
    journaled: bool = True  # the folder has a sort's journal; else only what was filed by hand is a correction
    #: Sub-folders of cats/ and dogs/ with photos, whose name looks like a pet's but is none.
    passed_over: list[PassedOver] = field(default_factory=list)
    #: A pet learnt in another folder with the same photos as one here (a copy, renamed): "cats/Luna" -> "cats/Lulu".
    renamed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    kept_here: int = 0  # of `kept`, this folder's own (`examples.here`): not a copy's, learnt elsewhere
    #: Of `examples` and `kept`, other folders' photos not where they were learnt now (`as_sorted.where_now`):
    #: put back by an undo, or moved since.
    moved_away: int = 0
    #: Pet -> the pet's folders of other folders learnt before that her photos come from too, and how many
    #: (`examples.learnt_elsewhere`): a cats/Luna in two folders is one pet, which her line says.
    elsewhere: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    #: What was learnt from this folder while it was sorted, forgotten now that its sort is undone (no journal).
    undone: Undone | None = None


def learn(
    folder: Path, *, model: Path | None = None, classifier=None, progress: Progress = lambda what, done, total: None,
) -> LearnResult:
    """Find the corrections in `folder`, add them to the user's examples, fit and check the
    personal model, and write it. Changes nothing in `folder` but sorter's own: its lock in
    `.sorter/`, and a write probe a killed command left (`.sorter.probe`)."""
    from sorter.files.folder import check_folder, remove_probe_left
    from sorter.model import lite

    started = time.monotonic()
    # Not a sort's own cats/ (its photos are that sort's); the real path, whatever link led here:
    # what was learnt from the folder before is found again by it. Its lock is taken in .sorter/.
    root = check_folder(folder, filing=True, command="learn", journaling=True).resolve()
    # Learn tries only .sorter/ (whose probe its own try removes), never the folder: a probe a
    # killed sort left beside the photos stayed through every learn, as sort and undo remove it.
    remove_probe_left(root)
    model_path = lite.resolve_model_path(model)
    # Locked before the model loads (seconds): a `--forget` meanwhile waits for this learn, and
    # deletes what it saves, where it deleted first and this learn saved after it.
    with learning_lock(progress):
        from sorter.model.personal import refuse_newer

        refuse_newer()  # before a minute of work: a newer sorter's model is never fitted over
        base = classifier if classifier is not None else lite.load_classifier(model)
        if getattr(base, "head", None) is None:
            raise ModelError(f"{model_path}: this model's .tflite ends at its probabilities, so there are no features "
                             "to learn from; `sorter learn` needs a model trained by this version of `sorter train`")
        bundled = Head(*base.head, evidence=getattr(base, "evidence", None))  # decisions as sort makes them
        return _learn(root, model, model_path, base, bundled, tuple(base.class_names), progress, started)


def _learn(root: Path, model: Path | None, model_path: Path, base, bundled: Head, names: tuple[str, ...],
           progress: Progress, started: float) -> LearnResult:
    from sorter.files.journal import journal_path
    from sorter.learning.corrections import find_settled, passed_over
    from sorter.learning.examples import gather
    from sorter.model import personal
    from sorter.training.reference import read_reference

    found = find_settled(root, FOLDER_WAIT)
    videos = sum(f.video for f in found)  # placed, but not learnt from: said so in the report
    found = [f for f in found if not f.video]
    reference = read_reference(model_path)
    # The features that name a pet are cut as the reference set's cats were: a pet's head
    # tells her from those, and is shown them at sort time cut the same way (`PetHead.margin`).
    margin = reference.pet_margin if reference is not None else MARGIN
    gathered = gather(root, found, base, progress, margin)
    # Learnt here in a sort undone since (no journal now, or another one begun by a sort since): replaced with
    # nothing, as any learn of a folder replaces what it learnt there, whatever is placed here now (it said
    # "Nothing to learn", the model unchanged). The photos found here now are this journal's rows already.
    gone = undone(gathered.examples, root)
    forgotten_here = None
    if gone.any():
        forgotten_here = _undone(gathered.examples.subset(gone))
        gathered = replace(gathered, examples=gathered.examples.subset(~gone), settled=False)
    if gathered.settled:  # the examples as they were: fitted again (a minute), the same; not `not found`, as
        # `found` holds the photos kept as sorted too: a sorted folder where nothing was placed was fitted each time
        spoilt = personal.spoilt()
        return LearnResult(root, 0, 0, 0, 0, 0, [], [], None, None, None, videos=videos, spoilt=spoilt,
                           unchanged=personal.model_file().exists() and not spoilt,
                           journaled=journal_path(root).is_file(), passed_over=passed_over(root),
                           seconds=time.monotonic() - started)
    learnt, new, unreadable, dropped, forgot = (_learnable(gathered.examples, names), gathered.new,
                                                gathered.unreadable, gathered.dropped, gathered.forgot)
    # One photo and one pet once, where the folder was copied and learnt in both places (`copies`).
    examples, renamed = as_one(learnt, root)
    anchor, check = reference.halves() if reference is not None else (None, None)
    kept, ours = examples.kept(), here(examples, root)
    # Other folders' photos, placed or kept as sorted, not where they were learnt now (`sorter undo --all`
    # there put them back): still learnt as they were, which "N kept as sorted" alone said they still are.
    moved = sum(path is None for path in where_now(examples.subset(~ours), found))
    result = {"folder": root, "found": int(sum(not f.kept for f in found)), "new": new, "moved_away": moved,
              "examples": int((~kept).sum()), "kept": int(kept.sum()), "kept_here": int((kept & ours).sum()),
              "corrections": int(corrected(examples).sum()), "dropped": dropped, "renamed_photos": gathered.renamed,
              "videos": videos, "forgot": forgot, "journaled": journal_path(root).is_file(),
              "unreadable": [f"{path}: {why}" for path, why in unreadable.items()],
              "unread": sum(not f.kept and f.path in unreadable for f in found), "passed_over": passed_over(root),
              "renamed": {placed_name(*was): placed_name(was[0], now) for was, now in renamed.items()},
              "elsewhere": learnt_elsewhere(examples, root), "undone": forgotten_here}
    if kept.all():
        # Nothing placed otherwise, here or in any folder learnt before (every correction put back,
        # a pet's folder emptied): the examples say so, and no personal model applies what is gone.
        if len(learnt) or personal.read_examples() is not None:
            personal.write_examples(learnt)
        forgotten = personal.model_file().exists()
        personal.model_file().unlink(missing_ok=True)
        return LearnResult(**result, kinds=[], pets=[], reference=None, pull=None, model_path=None,
                           seconds=time.monotonic() - started, forgotten=forgotten)
    # The same examples (learnt again with nothing new) fit the same heads: those written last, not fitted again.
    key = fit_key(base, bundled, names, examples, reference, margin, found)
    spoilt = personal.spoilt()  # never reused (`reused` reads it as damaged): said, and fitted again
    fit = reused(key) or _fit(base, bundled, names, examples, anchor, check, found, margin, progress)
    if _nothing_to_write(fit, result["corrections"], spoilt, dropped):
        return LearnResult(**result | {"dropped": 0, "forgot": 0}, kinds=fit.kinds, pets=fit.pets, pull=fit.pull,
                           reference=fit.reference, model_path=None, description=personal.base_name(model),
                           unchanged=personal.model_file().exists(), seconds=time.monotonic() - started)
    learnt_from = result["corrections"] if any(fit.pull) else 0  # else its head is the bundled one
    now = homes(learnt, fit.pet_heads, renamed)
    gone, removed = removed_homes(root, now)
    fitted = PersonalModel(base.fingerprint, names, fit.head, learnt_from, tuple(fit.pet_heads), now + gone)
    stay = staying(root, fitted.homes, fit.pets)
    moved_on = {was for was, _ in gathered.renamed} | {placed_name(*was) for was in renamed}  # renamed, not removed
    removed = {pet: any(home.pet == pet for home in now) for pet in removed - moved_on}
    # Her folder renamed here while another folder learnt still holds photos of her old name: learnt as
    # two, the old one named from those (5 or more) or left with too few, and neither said a word.
    named_before = {home.pet for home in homes_recorded()}
    renamed_away = {was: is_now for was, is_now in gathered.renamed if was in named_before}
    personal.write_examples(learnt)  # the corrections not learnt too: the next learn fits them again, with more
    written = personal.write_model(fitted, fit=(key, fit.report()))
    return LearnResult(
        **result, kinds=fit.kinds, pets=fit.pets, reference=fit.reference, pull=fit.pull, model_path=written,
        unsafe=fit.unsafe, description=fitted.describe(personal.base_name(model)),
        seconds=time.monotonic() - started, staying=stay, removed=removed, spoilt=spoilt, renamed_away=renamed_away,
    )


def _undone(gone: Examples) -> Undone:
    placed = ~gone.kept()
    pets: dict[str, int] = {}
    for pet in gone.pets[placed]:
        if pet:
            pets[str(pet)] = pets.get(str(pet), 0) + 1
    return Undone(pets, int(corrected(gone).sum()), int((~placed).sum()))


def _nothing_to_write(fit: Fit, corrections: int, spoilt: str | None, dropped: int) -> bool:
    """None of the reasons to write a personal model below: nothing learnt (a named pet alone: no reference set,
    too few photos), and no personal model of this model to update (none, or one on another model: its examples
    dropped). Nothing is written then, nothing dropped or forgotten: writing said "Saved" of a model that decides
    as this model alone, written over one learnt on another."""
    from sorter.model import personal

    pulled = any(fit.pull)  # the corrections learnt: a head other than the bundled one
    named = bool(fit.pet_heads)  # a named pet learnt
    # Photos corrected, learnt or not (no pull safe, or none gained yet): kept, for the next learn to fit again.
    corrected_photos = bool(corrections)
    refitted = bool(spoilt)  # the personal model there was is changed or damaged: fitted again, it replaces it
    updated = personal.model_file().exists() and not dropped  # one learnt on this model (none dropped): updated
    return not (pulled or named or corrected_photos or refitted or updated)


def _fit(base, bundled: Head, names: tuple[str, ...], examples: Examples, anchor, check, found, margin: float,
         progress: Progress) -> Fit:
    """The personal head (`choose_head`) and the named pets' (`fit_pets`) from `examples`, with
    what the report says of them: the reference pets before and after, and per kind of
    correction how sort files the photos with the model alone and with each held out."""
    kept = examples.kept()
    labels = np.array([names.index(label) for label in examples.labels])
    reference_rows = anchor.features if anchor is not None else np.zeros((0, examples.features.shape[1]))
    problem = Problem.make(bundled, names, examples.features[~kept], labels[~kept], examples.features[kept],
                           reference_rows)
    choice = choose_head(problem, check, progress)
    pet_heads, pet_reports = fit_pets(examples, anchor, check, progress, margin)
    report = reference_report(check, bundled, choice.head, pet_heads) if check is not None else None
    placed = examples.subset(~kept)
    alone = decided(base, bundled.probabilities(problem.features), placed, found, progress)
    # The bundled head (no pull: none gained, or none was safe) decides as the model alone: not looked at twice.
    held = held_out(base, choice.folds, problem.features, placed, found, progress) if any(choice.pull) else alone
    kinds = kind_reports(placed, problem.labels, alone, held)
    return Fit(choice.head, choice.pull, choice.unsafe, tuple(pet_heads), pet_reports, report, kinds)


@contextmanager
def learning_lock(progress: Progress = lambda what, done, total: None) -> Iterator[None]:
    """One `sorter learn` (or `--forget`) at a time (the terminal's, the review page's button):
    each reads the examples, adds a folder's and writes them back, so two at once kept only the
    last one's. A second waits, and says so once. Its folder made here: one that cannot be is a
    one-line error at once, not after a fit of half a minute. The holder deletes the lock file
    when nothing else is left beside it, so a waiter that then gets its lock checks that the
    file is still the one there (else two would run: it on the deleted file, a third on a new one),
    LOCK_TRIES times at most."""
    import fcntl

    from sorter.model.personal import LEARNING_LOCK, personal_dir

    folder, said = personal_dir(), False
    where = "the folder of the personal model: $XDG_DATA_HOME/sorter, or ~/.local/share/sorter"
    if not os.path.isabs(os.environ.get("XDG_DATA_HOME", "")) and not Path.home().is_dir():
        # A home folder that is not there (HOME mistyped, a service's HOME=/nonexistent) is not made
        # for the personal model: learn made /nonexistent/x/.local/share/sorter and saved there.
        raise SorterError(f"{folder}: {os.strerror(errno.ENOENT)} ({where}; the home folder {Path.home()} is not "
                          "there, and sorter does not make it)")
    for attempt in range(LOCK_TRIES):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder / LEARNING_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            if isinstance(exc, (FileExistsError, FileNotFoundError)) and attempt < 3:
                continue  # the folder deleted by the learn that held the lock, as it was made or opened here
            raise SorterError(f"{folder}: {exc.strerror or exc} ({where})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # said, where a progress bar can say it
            if not said:
                progress("waiting for another `sorter learn` to finish", 0, 0)
                said = True
            fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(fd, folder / LEARNING_LOCK):
            break
        os.close(fd)  # deleted by the learn that held it: lock the one there now
    else:
        raise SorterError(f"{folder / LEARNING_LOCK}: deleted each of the {LOCK_TRIES} times it was locked (by other "
                          "`sorter learn`s ending?); run it again")
    try:
        yield
    finally:
        try:
            if os.listdir(folder) == [LEARNING_LOCK]:  # nothing was saved (nothing to learn, forgot)
                os.unlink(folder / LEARNING_LOCK)
                folder.rmdir()
        except OSError:
            pass
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def corrected(examples: Examples) -> np.ndarray:
    """Mask of the photos whose cat, dog or neither the user gave against sorter's decision:
    moved to another kind, filed from unsure, or filed into cats/ or dogs/ by hand ("added ->
    cat"). A photo in a pet's folder that sorter had as that kind ("cat -> cats/Fred") or that the
    user added there names the pet, not its kind; so does a "not Luna" ("cats/Luna -> cat")."""
    from sorter.learning.corrections import SPECIES_OF_FOLDER

    if not len(examples):
        return np.zeros(0, bool)
    # What sorter had, as a kind: cats/Luna -> cat; cat, dog, neither, unsure and "" (added) as they are.
    had = np.array([SPECIES_OF_FOLDER.get(str(was).partition("/")[0], was) if "/" in was else was
                    for was in examples.was], dtype=str)
    kinds = np.array([said(str(label)) for label in examples.labels], dtype=str)
    return ~examples.kept() & (had != kinds) & ((examples.was != "") | (examples.pets == ""))


def _learnable(examples: Examples, names: tuple[str, ...]) -> Examples:
    """Rows whose label this model has (a cat/dog model cannot learn "neither")."""
    return examples.subset(np.isin(examples.labels, names))


def reference_report(check, bundled: Head, head: Head, pet_heads: list[PetHead]) -> ReferenceReport:
    pets_before, others_before = wrong(bundled, check)
    pets_after, others_after = wrong(head, check)
    # Sort asks a named pet's head about every photo, whatever it is filed as (`PersonalClassifier`).
    into_named = 0
    for pets in pet_heads:
        into_named += sum(name is not None for name in pets.recognise(check.pet_features[check.pets]))
    return ReferenceReport(int(check.pets.sum()), pets_before, pets_after, into_named,
                           int((~check.pets).sum()), others_before, others_after)


def kind_reports(examples: Examples, labels: np.ndarray, alone: np.ndarray, held: np.ndarray) -> list[KindReport]:
    """Per kind ("dog -> cat", "added -> cat"), how many of the examples (`labels`) sort files
    right (`as_sorted`) with the model alone (`alone`) and with the personal head fitted without
    each (`held`)."""
    tally: dict[str, list[int]] = {}
    for i, (was, placed) in enumerate(zip(examples.was, examples.placed(), strict=True)):
        entry = tally.setdefault(f"{shown(was or 'added')} -> {shown(placed)}", [0, 0, 0])  # cats/'Luna ' too
        entry[0] += 1
        entry[1] += int(alone[i] == labels[i])
        entry[2] += int(held[i] == labels[i])
    return [KindReport(kind, *counts) for kind, counts in sorted(tally.items(), key=lambda kv: (-kv[1][0], kv[0]))]


def forget(progress: Progress = lambda what, done, total: None) -> list[Path]:
    """`sorter learn --forget`: delete the personal model and the examples it learnt from, under
    learn's lock: a learn running meanwhile would save them again once it is done (it is waited
    for). Returns what was deleted."""
    from sorter.model import personal

    if not personal.personal_dir().is_dir():  # nothing to forget, and no learn running (it makes the folder)
        return []
    with learning_lock(progress):
        return personal.forget()
