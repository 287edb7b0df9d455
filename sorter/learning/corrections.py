"""Finding what a user put right in a sorted folder: the journal's "seen" records (what sorter
decided about each photo, and the file's identity) against where each photo is now; in a folder
an older sorter sorted (no "seen" records), its move records and `.sorter/left.jsonl`
(`files.before_seen`), of the file now at the path they name, else of the only photo of that name.

- A photo sorter moved into cats/ that now sits in dogs/ is a correction "cat -> dog"; one
  that now sits outside cats/ and dogs/ is "cat -> neither"; one now in cats/Luna/ is a
  photo of Luna.
- A photo sorter left in place (neither, or unsure) that now sits in cats/ or dogs/ is
  "neither -> cat" (or "unsure -> cat"); one that is still outside them says nothing.
- A photo in cats/ or dogs/ that sorter never put there is a label the user gave.
- A photo in cats/ the review page asked about ("might be Luna?", `files.suggestions`) that
  the user said is not her is "cats/Luna -> cat", as if taken out of her folder.
- A photo that is gone (deleted, or moved out of the folder) says nothing: deleting is not
  labelling. A move that sorter's own `undo` reversed is no correction either. Nor is another
  file at the place of a photo sorter filed or left (renamed over it, or a new one given its
  freed inode number): no one judged it, and the review page shows it "not sorted yet"
  (`files.judged`, asked alike here). Nor is a new file saved elsewhere after a photo sorter
  moved was deleted, given its inode number at its size (cats/x.png deleted, dogs/y.png saved):
  born after the move (`identities.born_after`, as undo asks), it is not the photo, and counts as
  any other file the user saved does.
- A video sorter judged that the user placed elsewhere (on the review page, say), or one they
  put into cats/ or dogs/ themselves, is found too, marked `video`: `learn` learns from photos
  alone, and says how many videos it did not. A HEIC, HEIF or AVIF photo under a video's name
  (`container.photo_inside`: a few small reads of each video-named file) is the photo it is, as
  the review page counts it.
- A sub-folder of cats/ or dogs/ that holds photos but is no named pet's though a user may have
  meant one (hidden, or a year in its name), and one file in two pets' folders (a hard link: one
  identity, so one place: the first of its names in order, `_learnt`), are found too
  (`passed_over`), for `learn` to say so. A sub-folder sorted on its own (its own journal) is
  its own learn's, not entered.

A photo is found where it is now by its identity (device, inode, size), which a rename or a
plain `mv` within the filesystem keeps, and else by its name (the only file of that name and
size in the folder: a copy made by a file manager across filesystems). Costs one listing of
the folder and one pass over its journal; changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Literal

from sorter.config import CLASS_FOLDERS, OTHER, REVIEW_RUN_PREFIX, STATE_DIR, entered, names_a_pet
from sorter.files.before_seen import said_before_seen
from sorter.files.companions import regular_file
from sorter.files.identities import Identities, Identity, born_after, identity_of, inodes_last, lstat_of
from sorter.files.journal import Seen, moves_of, scan
from sorter.files.judged import as_seen, is_the_file, same_of, still_filed
from sorter.files.verdicts import standing_seen
from sorter.media.container import photo_inside
from sorter.media.folders import excluded_by_case, is_image_name, is_video_name, sorted_on_its_own
from sorter.model.personal import decision_name, placed_name, said

#: The folder each species' photos go to, and back.
SPECIES_OF_FOLDER = {folder: label for label, folder in CLASS_FOLDERS.items()}


@dataclass(frozen=True)
class Found:
    """One photo the user placed: where it is now and what that says, and what sorter had
    decided about it (None: sorter never decided; the user put it there)."""

    path: Path
    identity: Identity
    label: str  # "cat", "dog" or "other" (anywhere outside cats/ and dogs/)
    pet: str | None  # the sub-folder of cats/ or dogs/ it is in: a named pet
    was: str | None  # "cat", "dog", "neither", "unsure" (left in place), or None
    was_pet: str | None = None
    video: bool = False  # a video the user placed: counted, never learnt from

    @property
    def corrected(self) -> bool:
        """Sorter decided otherwise: a mistake put right (a photo of a named pet moved into its
        folder counts too). A photo left in place as unsure that the user filed is a label."""
        return self.was not in (None, "unsure") and (self.was, self.was_pet) != (said(self.label), self.pet)

    @property
    def kept(self) -> bool:
        """Sorter decided this, and the user left it so."""
        return self.was not in (None, "unsure") and not self.corrected

    @property
    def kind(self) -> str:
        """"dog -> cat", "cat -> neither", "neither -> dog", "unsure -> cat", "added -> cat",
        "cat -> cats/Luna" ..."""
        return f"{decision_name(self.was, self.was_pet) if self.was else 'added'} -> {placed_name(self.label, self.pet)}"


def place(root: Path, path: Path) -> tuple[str, str | None]:
    """(label, named pet) that a photo's place in the folder says: cats/x.jpg -> ("cat", None),
    cats/Luna/x.jpg (or deeper) -> ("cat", "Luna"), cats/2019/x.jpg -> ("cat", None)
    (`names_a_pet`), anywhere else -> ("other", None)."""
    parts = path.relative_to(root).parts
    label = SPECIES_OF_FOLDER.get(parts[0]) if len(parts) > 1 else None
    if label is None:
        return OTHER, None
    return label, parts[1] if len(parts) > 2 and names_a_pet(parts[1]) else None


def _listing(root: Path) -> tuple[dict[Identity, Path], dict[str, list[Path]], dict[Identity, Path]]:
    """Every photo below `root` (not .sorter/, hidden folders or another app's, no links followed), by
    identity (of a file's several names, `_learnt`) and by name; and every video, by identity."""
    by_identity: dict[Identity, Path] = {}
    by_name: dict[str, list[Path]] = {}
    videos: dict[Identity, Path] = {}
    # On a case-insensitive filesystem `Cats/` is sorter's cats/: its photos are placed there.
    try:
        top = os.listdir(root)
    except OSError:
        top = []
    spelled = {folder: own for own in CLASS_FOLDERS.values() for folder in top
               if excluded_by_case(root, folder, frozenset({own}))}
    for directory, subdirs, names in os.walk(root):
        # Not .sorter/, hidden or another app's, nor a sub-folder sorted on its own (its own learn's).
        subdirs[:] = [d for d in subdirs if entered(d) and not sorted_on_its_own(Path(directory, d))]
        relative = Path(directory).relative_to(root).parts
        if relative and relative[0] in spelled:
            directory = str(root.joinpath(spelled[relative[0]], *relative[1:]))
        for name in names:
            path = Path(directory) / name
            st = regular_file(path) if is_image_name(name) or is_video_name(name) else None
            if st is None:
                continue
            listed = by_identity if _a_photo(path, name) else videos
            listed[identity_of(st)] = _learnt([path, listed.get(identity_of(st), path)])
            if listed is by_identity:
                by_name.setdefault(name, []).append(path)
    return by_identity, by_name, videos


def _a_photo(path: Path, name: str) -> bool:
    """A photo's name, or a video's on a HEIC, HEIF or AVIF photo (a Live Photo's still saved as
    IMG_1234.MOV): the photo it is, learnt from as the review page counts it, where its video
    would be counted and not learnt (sort leaves it in place: "not a video: a HEIC photo named
    .MOV"). Only a video's name pays the check, a few small reads."""
    return is_image_name(name) or (is_video_name(name) and photo_inside(path) is not None)


def _learnt(names: Iterable[Path]) -> Path:
    """Of one file's several names (hard links: one identity, so one place), the one learnt:
    the first in order, so that `passed_over` can say which, whatever order a folder lists them in."""
    return min(names)


#: What sorter decided of a photo that a user may have put right: filed it, or left it in place.
DECIDED = ("moved", "neither", "unsure")

#: Photos per folder that sorter filed (or left as neither) and the user kept there, returned
#: too (`Found.kept`): the personal head is held to sorter's decisions on them, the user's own
#: kind of photo, so that fitting the mistakes does not move the rest. A sample beyond this
#: many, so that a folder of 100,000 sorted photos costs `learn` the features of ~1,000; chosen
#: by identity, so that learning again picks the same ones.
KEPT_PER_FOLDER = 1000


def _sampled(identity: Identity, every: int) -> bool:
    return hash(identity) % every == 0


def find(root: Path) -> list[Found]:
    """Every photo of `root` whose place says something sorter did not decide (see above),
    and a sample of those whose place confirms what it decided (`Found.kept`)."""
    state = scan(root)
    # Photos in cats/ or dogs/ with no "seen" record: the user's own, unless an older sorter
    # (before "seen" records) moved them there. A `sorter review` correction is the user's.
    sorted_before: set[Path] = set()
    # What tells each photo sorter filed (its "seen" record's move): the file before the move, and
    # when it moved; those two alone kept, not the moves, on a journal of a million.
    filed: dict[tuple[str, int], tuple[tuple[int, ...] | None, float | None]] = {}
    for run in state.undoable_runs():
        for m in moves_of(root, run):
            if run.undoable(m.seq):
                filed[m.run, m.seq] = (m.same, m.time)
                if not run.run.startswith(REVIEW_RUN_PREFIX):
                    sorted_before.add(root / m.dst)
    ids = Identities(root, state)
    latest: dict[Identity, Seen] = {}
    said_runs: set[str] = set()
    said_of: set[Identity] = set()  # the photos a "seen" record speaks of
    for seen in standing_seen(root, state):
        said_runs.add(seen.run)
        said_of.add(seen.identity)
        if seen.status in DECIDED:  # not unreadable, nor a move that failed: nothing a user could correct
            latest[seen.identity] = seen
    by_identity, by_name, videos = _listing(root)
    for seen in _before_seen(root, state, said_runs, by_name):
        if seen.status in DECIDED and seen.identity not in said_of:  # else a later sort's record speaks
            latest[seen.identity] = seen
    every = max(1, -(-len(latest) // KEPT_PER_FOLDER))
    refused = _refused(root)
    # Where inode numbers are made up at each mount (a FAT card) the journal's identity is the one
    # that lasts: a photo found by name keeps it there.
    lasting = cache(partial(inodes_last, root))
    accounted: set[Path] = set()
    found: list[Found] = []
    for identity, seen in latest.items():
        filed_as, when = as_seen(*filed.get((seen.run, seen.seq), (None, None)), seen)
        if identity in videos:  # counted, not learnt from: the examples are photos (`examples.gather`)
            if _born_since(root, seen, when, videos[identity]):
                continue  # a new video given its inode number: counted as any other (below)
            accounted.add(videos[identity])
            label, pet = place(root, videos[identity])
            was, was_pet = place(root, root / seen.path)
            if (label, pet) != (was, was_pet):
                found.append(Found(videos[identity], identity, label, pet, was if seen.status == "moved" else seen.status,
                                   was_pet, video=True))
            continue
        path, found_as = by_identity.get(identity), identity
        if path is None:
            same = [p for p in by_name.get(Path(seen.path).name, []) if _size(p) == identity[2]]
            path = same[0] if len(same) == 1 else None
            if path is not None and lasting():
                # Found by name: a copy of the folder (`cp -a`), whose journal names the first folder's
                # files. Keyed by that identity, its row replaced the first folder's row of the same
                # photo in the examples: Luna's photos, learnt there, became this copy's cats/ ones.
                found_as = _identity(path, identity)
        if path is None or (identity in by_identity and _born_since(root, seen, when, path)):
            # Deleted, or moved out of the folder; or so, and a new file has its inode number, counted
            # as any other file the user saved is (below): saved into dogs/, "added -> dog".
            continue
        accounted.add(path)
        label, pet = place(root, path)
        if seen.status == "moved":
            was, was_pet = place(root, root / seen.path)
            if (pet is not None and was_pet not in (None, pet) and label == was
                    and not (root / CLASS_FOLDERS[label] / was_pet).is_dir()):
                # Her folder renamed (cats/Fred -> cats/Lulu): what sorter put there is still
                # sorter's pick, not the user's example of her (it would inflate how well she is known).
                was_pet = pet
            if (label, pet, was_pet) == (was, None, None) and identity in refused.get(label, {}):
                # The review page asked "might be Luna?" and the user said it is not: as sure a
                # word as taking it out of her folder (`pets.strangers_of`: another cat).
                was_pet = refused[label][identity]
            if ((label, pet) != (was, was_pet) or _sampled(identity, every)) and (
                    path != root / seen.path or _still_filed(ids, seen, filed_as, when, path)):
                found.append(Found(path, found_as, label, pet, was, was_pet))
        elif (label != OTHER or (seen.status == "neither" and _sampled(identity, every))) and (
                path != root / seen.path or is_the_file(ids, seen.run, same_of(seen), seen.ctime_ns, path,
                                                              lstat_of(path))):
            found.append(Found(path, found_as, label, pet, seen.status))  # not another file at its name since
    # A video put into cats/Luna/ by hand is counted too, as one placed on the review page is.
    for video, listed in ((False, by_identity), (True, videos)):
        for identity, path in listed.items():
            if path in accounted or path in sorted_before:
                continue
            label, pet = place(root, path)
            if label != OTHER:
                found.append(Found(path, identity, label, pet, None, video=video))
    return found


#: Hidden folders an app or a system keeps (thumbnails, a Mac's resource forks, a trash, Picasa's
#: originals of edited photos): never a pet the user hid by mistake.
HIDDEN_NOT_PETS = (".appledouble", ".thumbnails", ".thumbs", ".trash", ".picasaoriginals", ".cache", ".@__thumb")


@dataclass(frozen=True)
class PassedOver:
    """Photos in a sub-folder of cats/ or dogs/ that no pet is learnt from there, though the
    user most likely meant one: a hidden folder's (cats/.Luna, never entered), a folder's taken
    for one by date (cats/Agent 2007, `names_a_pet`: its photos count as cats), or files in
    several pets' folders at once (hard links: one file, learnt as the pet's of `folder` only); and
    symbolic links below cats/ and dogs/, to a photo or to a folder, never followed, as sort follows
    none (`folder` is the link's: cats/Luna/x.jpg, or cats/Luna itself)."""

    folder: str  # cats/Agent 2007
    photos: int
    why: Literal["dated", "hidden", "linked", "link", "folder link"]
    others: tuple[str, ...] = ()  # linked: the other pets' folders (cats/Milo, dogs/Rex)


def passed_over(root: Path) -> list[PassedOver]:
    """The sub-folders of `root`'s cats/ and dogs/ whose photos are passed over though the user
    most likely meant them for a pet (`PassedOver`); a folder by date with no word in its name
    but a month's (cats/2019-06, cats/Sept 2019) is none, nor is one sorted on its own (its own
    learn's: `find` never enters it); and the symbolic links `find` passed by there (`_links`).
    Costs a listing of cats/, dogs/ and their sub-folders, and an `lstat` of each photo in those."""
    found = []
    linked: dict[tuple[int, int], dict[Path, str]] = {}  # a file with several names: in the pets' folders
    for folder in CLASS_FOLDERS.values():
        try:
            names = sorted(os.listdir(root / folder))
        except OSError:
            continue
        for name in names:
            inside = root / folder / name
            if os.path.islink(inside) or not inside.is_dir() or sorted_on_its_own(inside):
                continue
            hidden = name.startswith(".") and name != STATE_DIR and not name.casefold().startswith(HIDDEN_NOT_PETS)
            dated = entered(name) and not names_a_pet(name) and not _a_date(name)
            pet = entered(name) and names_a_pet(name)
            if not (hidden or dated or pet):
                continue
            photos = _photos_in(inside)
            if not pet and photos:
                found.append(PassedOver(f"{folder}/{name}", len(photos), "hidden" if hidden else "dated"))
            for path, st in photos:
                if pet and st.st_nlink > 1:
                    linked.setdefault((st.st_dev, st.st_ino), {})[path] = f"{folder}/{name}"
    shared: dict[tuple[str, tuple[str, ...]], int] = {}
    for pets in linked.values():
        learnt = pets[_learnt(pets)]
        others = tuple(sorted(set(pets.values()) - {learnt}))
        if others:
            shared[learnt, others] = shared.get((learnt, others), 0) + 1
    return (found + [PassedOver(learnt, count, "linked", others) for (learnt, others), count in shared.items()]
            + [link for folder in CLASS_FOLDERS.values() for link in _links(root, folder)])


def _links(root: Path, folder: str) -> list[PassedOver]:
    """The symbolic links below `root/folder` where `find` looks (no hidden or app's sub-folder, none
    sorted on its own), to a photo or video (by its name) or to a folder: `find` follows none, and
    a pet's photos linked into her folder were left out of her count without a word. A listing of
    each sub-folder, no `stat` but of a link (whether it leads to a folder), as sort's scan pays."""
    links, todo = [], [root / folder]
    while todo:
        directory = todo.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            where = Path(entry.path).relative_to(root).as_posix()
            try:
                if entry.is_symlink():
                    if is_image_name(entry.name) or is_video_name(entry.name):
                        links.append(PassedOver(where, 1, "link"))
                    elif entered(entry.name) and entry.is_dir():  # follows the link, opens nothing
                        links.append(PassedOver(where, 0, "folder link"))
                elif (entry.is_dir(follow_symlinks=False) and entered(entry.name)
                      and not sorted_on_its_own(Path(entry.path))):
                    todo.append(Path(entry.path))
            except OSError:  # gone while listed
                continue
    return links


#: Months as folders by date name them (English), beside `calendar`'s names and three-letter
#: abbreviations: cats/Sept 2019 is September's, as cats/Sep 2019 is.
MONTH_ABBREVIATIONS = ("sept",)


def _a_date(name: str) -> bool:
    """A name of a folder by date and nothing else: its words, if any, a month's (English), or
    the year, month and day of `2019年6月`."""
    import calendar
    import re

    months = {m.casefold() for m in (*calendar.month_name, *calendar.month_abbr, *MONTH_ABBREVIATIONS) if m}
    return all(word.casefold() in months for word in re.findall(r"[^\W\d_]+", re.sub("[年月日]", " ", name)))


def _photos_in(folder: Path) -> list[tuple[Path, os.stat_result]]:
    """The photos below `folder` as `find` takes them there (no hidden or app's sub-folder, none
    sorted on its own, no link; a HEIC photo named .MOV is one: `_a_photo`), with their `lstat`."""
    photos = []
    for directory, subdirs, names in os.walk(folder):
        subdirs[:] = [d for d in subdirs if entered(d) and not sorted_on_its_own(Path(directory, d))]
        for name in names:
            path = Path(directory, name)
            st = regular_file(path) if is_image_name(name) or is_video_name(name) else None
            if st is not None and _a_photo(path, name):
                photos.append((path, st))
    return photos


def find_settled(root: Path, wait: float) -> list[Found]:
    """`find` under the folder's lock (waiting up to `wait` seconds), after the crash of a sort
    (if any) is settled: a move made but not yet marked done is sorter's, which `learn` took for
    the user's while a sort ran or after one was killed. Beside a watcher, between its batches."""
    from sorter.files.journal import state_dir
    from sorter.files.lock import FolderLock
    from sorter.files.recovery import recover

    if not state_dir(root).is_dir():  # never sorted: a folder of the user's own cats/ and dogs/
        return find(root)
    # A `.sorter/` a review's click removed while this waited is made anew for the lock alone: it goes too.
    with FolderLock(root, wait=wait, beside_watcher=True, tidy=True):
        recover(root)
        return find(root)


def _refused(root: Path) -> dict[str, dict[Identity, str]]:
    """By species, the photos the user said are not the named pet the review page asked about
    (`files.suggestions`): identity -> the pet's name. Only a pet still learnt: her folder here, or
    learnt in another folder. One whose folder the user removed is learnt no more, and her "not her"
    answers are kept aside (in `suggestions`) until a folder of hers is back: learnt from, they were
    a "cats/Milo -> cat" row in learn's table for a pet it no longer knows."""
    from sorter.files import suggestions
    from sorter.model.personal import read_examples

    elsewhere: set[tuple[str, str]] = set()
    examples, inside = read_examples(), str(root) + os.sep
    if examples is not None:
        elsewhere = {(str(label), str(pet)) for label, pet, path
                     in zip(examples.labels, examples.pets, examples.paths, strict=True)
                     if pet and not str(path).startswith(inside)}
    refused: dict[str, dict[Identity, str]] = {}
    for pet, identities in suggestions.read(root).refused.items():
        folder, _, name = pet.partition("/")
        if folder in SPECIES_OF_FOLDER and name and (
                (root / folder / name).is_dir() or (SPECIES_OF_FOLDER[folder], name) in elsewhere):
            refused.setdefault(SPECIES_OF_FOLDER[folder], {}).update(dict.fromkeys(identities, name))
    return refused


def _before_seen(root: Path, state, said_runs: set[str], by_name: dict[str, list[Path]]) -> Iterable[Seen]:
    """What a sorter from before "seen" records said of the photos it filed and left
    (`files.before_seen`), as "seen" records of the files it said it of: the file at its path (as
    the review page tells it, where the journal keeps no identity), else the only photo of that name
    in the folder (moved by a plain `mv` or a review since). A photo found nowhere says nothing."""
    for old in said_before_seen(root, state, said_runs):
        st = regular_file(root / old.path)
        if st is None:
            named = by_name.get(Path(old.path).name, [])
            st = regular_file(named[0]) if len(named) == 1 else None
        if st is not None:
            yield Seen(old.run, old.path, old.label, old.status, identity_of(st), old.seq, old.confidence, old.reason)


def _still_filed(ids: Identities, seen: Seen, same: tuple[int, ...], when: float | None, path: Path) -> bool:
    """The file at `path`, where `seen`'s move filed a photo, is that photo, as the review page
    tells it (`judged.still_filed`): not another renamed over it at its size (found by name), nor a
    new one saved there after it was deleted and given its inode number (found by identity). Either
    is "not sorted yet" there: no one's word, neither kept as sorted nor a correction. `same`,
    `when`: what tells the photo the move filed, and when (`judged.as_seen`)."""
    return still_filed(ids, seen.run, same, when, path, lstat_of(path))


def _born_since(root: Path, seen: Seen, when: float | None, path: Path) -> bool:
    """The file at `path`, found by `seen`'s identity away from where its move filed the photo (at
    `when`, as `judged.as_seen` tells it), was born after the move (`identities.born_after`, as
    undo's `whereabouts` asks): not the photo, whose birth a rename keeps, but a new file saved
    after it was deleted and given its freed inode number at its size (ext4 and tmpfs give one
    again at once: cats/x.png deleted, dogs/y.png saved). Taken for the photo, it was a "cat ->
    dog" row for a picture no one judged. At the photo's own place `judged.still_filed` asks the
    same (`_still_filed`). Where no birth time can be read (no `statx`, a filesystem without one)
    or the move's time is not known (an older journal; a photo left in place, never moved; a move
    across filesystems by a copy, born in the move: `as_seen`), the identity alone tells, as
    before: most likely the photo, moved. A `statx` of a photo found moved."""
    return path != root / seen.path and born_after(path, when)


def _identity(path: Path, journaled: Identity) -> Identity:
    """The identity of the file at `path` now (`journaled`, where it cannot be read)."""
    try:
        return identity_of(os.lstat(path))
    except OSError:
        return journaled


def _size(path: Path) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return -1
