"""Loading the review server's catalog (`catalog`): the folder listed, and where each photo's
label and confidence come from:
- in `cats/` or `dogs/`: the journal, which records every move with what the photo was filed
  as; a photo moved again by a review keeps the model's words and gains the person's
  (`choice`); a photo put there by hand has no confidence, its folder's label; another file
  put at the name of one sorter moved there is "not sorted yet", not the user's label
  (`files.judged`, which `sorter learn` asks too);
- left in place: the last sort's verdict (the journal's "seen" record: neither, unsure at 61%,
  unreadable ...; a sorter's from before those records: its `.sorter/left.jsonl`, `files.before_seen`);
  a photo put back where sorter found it, on the page or by hand, is "you said neither", renamed
  since too (`put_backs.put_back`: what sort leaves); a photo with none (it arrived after the sort)
  is "not sorted yet";
- the named pets the personal model knows now, and where their folders are (`KnownPets`).

Listed: the folder's top, cats/, dogs/ and the folders in them, and the sub-folders a --recursive
sort entered (`entered_folders`), where a photo saved since is "not sorted yet" as at the top; a
sub-folder of these it never entered is counted for the start line (`Unshown`), not looked into.
One pass over the journal, streamed (`journal.moves_and_seen`); the folder's whole tree is never walked.
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.config import CLASS_FOLDERS, REVIEW_RUN_PREFIX, STATE_DIR, entered, names_a_pet
from sorter.files.pet_folders import Looked
from sorter.media.folders import NotEntered
from sorter.review.catalog import PUT_BACK, UNSORTED, Catalog, Photo

if TYPE_CHECKING:
    from sorter.files.pet_folders import PetFolders


@dataclass(frozen=True)
class Filed:
    """What the journal says of a photo sorter moved and that is still where it put it."""

    origin: str
    label: str | None
    confidence: float | None
    choice: str | None
    box: tuple[float, float, float, float] | None = None  # from its "seen" record
    #: The run that moved it there, and the file it moved (`identities.SameFile`, as its "seen"
    #: record tells it after the move where there is one): a file renamed over it since is another.
    run: str | None = None
    same: tuple[int, ...] | None = None
    #: When that move was made (seconds; None: not known): a file at its place born after it is a
    #: new one given the photo's inode number (`identities.born_after`), not the photo touched since.
    time: float | None = None



def _is_real_file(root: Path, rel: str) -> bool:
    """`rel` is a regular file below `root` reached through real folders only (no link on the way)."""
    path = root
    parts = rel.split("/")
    for n, part in enumerate(parts):
        if part in ("", ".", "..") or (n == 0 and part == STATE_DIR):
            return False
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return False
        if not (stat.S_ISREG(mode) if n == len(parts) - 1 else stat.S_ISDIR(mode)):
            return False
    return True


def _named(catalog: Catalog, pet: str) -> bool:
    """`pet` ("cats/Luna") is offered here (`Catalog.offer_known`): her folder is there, or is
    to be made; a suggestion for a pet whose folder is gone, or a file holds its place, is moot."""
    folder, _, name = pet.partition("/")
    return any(name in catalog.pets[label] for label, f in CLASS_FOLDERS.items() if f == folder)


class LastRead:
    """The personal model as `KnownPets` last read it, read again only when its file changed:
    its `personal.stamp` (mtime in ns, size, inode; `learn` writes it whole and renames it into
    place), taken before the read, so a model replaced meanwhile is read again the next time
    rather than kept under the new stamp. A review asks at each reload and each Name…, where
    numpy read the whole file each time (1.3 MB a species with named pets: 2.3 ms on a 2-core
    machine, against 2 µs for the `stat`). Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read: tuple | None = None  # (path, stamp, model)

    def model(self):
        """The personal model, or None (none, or one that cannot be read)."""
        from sorter.errors import SorterError
        from sorter.model.personal import model_file, read_model, stamp

        path = model_file()
        now = stamp(path)
        with self._lock:
            if self._read is None or self._read[:2] != (path, now):
                try:
                    model = read_model(path)
                except SorterError:
                    model = None
                self._read = (path, now, model)
            return self._read[2]


class KnownPets:
    """The named pets ("cats/Luna") the personal model knows now, and where their folders are in
    `root` (`files.pet_folders`: cats/Luna renamed cats/Lulu since she was learnt there): a group
    a sort noted for a pet forgotten since (`sorter learn --forget`) is moot; and a page listed
    before a pet's folder was renamed, swapped or removed (no journal write says so) would make
    cats/Luna/ again beside the cats/Lulu/ she is now, so each reload and Name… asks. The model is
    read again only when its file changed (`LastRead`), the folders found again only when it or
    cats/ and dogs/ did (`pet_folders.Looked`): one `stat` of the model and two of the folders."""

    def __init__(self, root: Path) -> None:
        self._personal = LastRead()
        self._looked = Looked(root)

    def now(self) -> PetFolders:
        from sorter.files.suggestions import pet_folders as named_folders
        from sorter.model.personal import named_in

        model = self._personal.model()
        return self._looked.now(named_folders(named_in(model)), model.homes if model is not None else ())


@dataclass
class Unshown(NotEntered):
    """The sub-folders the page does not show a photo of, that a sort --recursive would enter:
    at the folder's top, and in the sub-folders a --recursive sort entered (`entered_folders`),
    those it never entered (a folder never sorted so, or made since). Those it entered are listed
    (`load_catalog`): not counted. Named by their path from the folder ("a/b/new")."""

    root: Path = Path()
    shown: set[str] = field(default_factory=set)

    def passed(self, folder: Path, videos: bool) -> None:
        rel = folder.relative_to(self.root).as_posix()
        if rel not in self.shown and self._holds_a_photo(folder, videos):
            self.add(rel)


def entered_folders(root: Path, paths) -> set[str]:
    """The sub-folders outside cats/ and dogs/ that a sort --recursive entered, as the journal
    tells them: the folder of each photo it judged, where the photo is and where it was found
    (trip/, its one photo filed in cats/), and each folder above one (a/ and a/b/ of a/b/c/x.jpg,
    which it went through). Only those a --recursive sort would enter now: real folders below
    real folders (no link on the way), not sorted on their own nor software's (`kept_apart`).
    Listed as the top is, a photo saved in one since is "not sorted yet": a few `lstat` calls and
    a listing a folder, where the journal's photos alone were an `lstat` of each folder on each
    one's path (3,000 photos in 310 folders on a 2-core machine: 131 ms a load, against 150 ms)."""
    from sorter.media.folders import kept_apart

    known: set[str] = set()
    for rel in paths:
        parts = rel.split("/")[:-1]
        if parts and parts[0] not in (*CLASS_FOLDERS.values(), STATE_DIR):
            known.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))
    found: set[str] = set()
    for rel in sorted(known, key=lambda rel: rel.count("/")):  # each after the folder it is in
        parent, _, name = rel.rpartition("/")
        if (parent and parent not in found) or name in ("", ".", ".."):
            continue
        try:
            real = stat.S_ISDIR(os.lstat(root / rel).st_mode)
        except OSError:
            real = False
        if real and kept_apart(root / rel) is None:
            found.add(rel)
    return found


def sub_folders(folder: Path) -> list[str]:
    """The folders in cats/ (or dogs/): real folders, not hidden or another app's (a NAS's @eaDir),
    as learn reads them. Those `names_a_pet` are named pets' (cats/Luna); the others the user's
    (cats/2019), whose photos are listed as cats/'s."""
    try:
        with os.scandir(folder) as listing:
            return sorted(e.name for e in listing if entered(e.name) and e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def follow(filed: dict[str, Filed], move, went_with: dict | None = None) -> None:
    """Take one move still in force (`journal.sorted_moves`, in order) into `filed`: where each
    photo sorter moved is now (relative path) -> what the journal says of it, following a photo
    through every move (a sort, then a review); and into `went_with`, where it is -> the
    companions moved with it by its last move (where they went)."""
    if went_with is not None:
        group = went_with.setdefault("", {})  # (run, group) -> where its photo went
        if move.seq != move.group:
            if (photo := group.get((move.run, move.group))) is not None:
                went_with.setdefault(photo, set()).add(move.dst)
        else:
            went_with.pop(move.src, None)
            went_with[move.dst] = set()
            group[(move.run, move.group)] = move.dst
    if move.seq != move.group:
        return  # a companion: it goes where its photo goes
    before = filed.pop(move.src, None)
    if move.run.startswith(REVIEW_RUN_PREFIX):  # the same picture, moved by a person: its pet stays where it was
        filed[move.dst] = Filed(
            before.origin if before else move.src, before and before.label, before and before.confidence, move.label,
            before and before.box, move.run, move.same, move.time,
        )
    else:
        filed[move.dst] = Filed(before.origin if before else move.src, move.label, move.confidence, None,
                                run=move.run, same=move.same, time=move.time)


def load_catalog(root: Path, state, here: PetFolders | None = None) -> Catalog:
    """Every image and video sorter lists in the folder (`state`: the journal, settled), grouped
    and ordered; `here`: the named pets' folders as the caller found them (`KnownPets`), else found now."""
    from sorter.files import suggestions
    from sorter.files.before_seen import left_in_place
    from sorter.files.folder import output_folders
    from sorter.files.identities import Identities, inodes_last, lstat_of
    from sorter.files.journal import Move, moves_and_seen
    from sorter.files.judged import as_seen, is_the_file, still_filed
    from sorter.files.put_backs import HandPutBacks, put_back
    from sorter.files.verdicts import Verdict, note
    from sorter.media.container import said_a_video
    from sorter.media.folders import Skipped, is_image_name, is_video_name, scan_folder
    from sorter.review.posters import Journaled, is_video
    from sorter.review.posters import listed as is_listed

    filed: dict[str, Filed] = {}
    went_with: dict = {}  # where a photo sorter moved is -> the companions moved with it (`follow`)
    # What a sorter from before "seen" records said of the photos it left (neither, unsure at 61%):
    # the journal's "seen" records, all later, speak after it.
    verdicts: dict[str, Verdict] = {path: Verdict(said.status, said.label, said.confidence, said.reason)
                                    for path, said in left_in_place(root).items()}
    hand = HandPutBacks(root, state=state, renamed=True)  # photos moved back by hand, renamed since too
    for item in moves_and_seen(root, state):  # one pass over the journal for all three, streamed
        if isinstance(item, Move):
            follow(filed, item, went_with)
            hand.move(item)
        else:
            note(verdicts, item)
            hand.seen(item)
            if (info := filed.get(item.path)) is not None and item.run == info.run:  # right after the batch's moves
                same, when = as_seen(info.same, info.time, item)  # as learn reads it
                filed[item.path] = replace(info, box=item.box if item.box is not None else info.box, same=same,
                                           time=when)
    catalog = Catalog(root)
    catalog.inodes_last = inodes_last(root)
    ids = Identities(root, state)
    noted = suggestions.read(root)
    catalog.here = here = here if here is not None else KnownPets(root).now()
    noted.follow(here)  # "might be cats/Lulu/" once her folder is renamed: named there, not in a new cats/Luna/
    noted.keep_only(here.folders())
    suggested = noted.standing(root)
    back = put_back(root, state, hand)  # what sort and watch leave, as they tell it
    went_with.pop("", None)
    journaled = Journaled(root, frozenset(filed), frozenset(c for moved in went_with.values() for c in moved))

    def add(rel: str) -> None:
        st = lstat_of(root / rel)
        info = filed.pop(rel, None)
        folder = rel.split("/", 1)[0] if "/" in rel else ""
        verdict = verdicts.get(rel)
        # A photo sorter filed or left, touched since, is still the photo it judged: its label stands.
        replaced = info is not None and not still_filed(ids, info.run, info.same, info.time, root / rel, st)
        if replaced:
            info = None  # another file at the photo's name: a new photo
        if verdict is not None and not is_the_file(ids, verdict.run, verdict.same, verdict.ctime_ns, root / rel, st):
            verdict = None
        if folder in CLASS_FOLDERS.values():
            label = next(k for k, v in CLASS_FOLDERS.items() if v == folder)
            if replaced:
                # Copied or renamed over the photo sorter put there (a sync client, `cp other.jpg
                # cats/x.jpg`): no one judged it, neither sorter nor the user, who put no photo there.
                photo = Photo(0, rel, UNSORTED[0], reason=UNSORTED[1])
            elif info is None:
                photo = Photo(0, rel, "moved", label)
            else:
                photo = Photo(0, rel, "moved", info.label or label, info.confidence, None, info.origin, info.choice,
                              box=info.box)
        elif info is not None and info.choice is not None and rel in back.at:
            # Put back by a review, and still the photo the click put there: touched or edited
            # since, sort judges it again, and the page says so (not sorted yet).
            photo = Photo(0, rel, "neither", info.label, info.confidence, PUT_BACK, info.origin, info.choice)
        elif verdict is not None:
            photo = Photo(0, rel, verdict.status, verdict.label, verdict.confidence, verdict.reason)
        elif (was := back.was(root / rel, st if back.moved else None)) is not None:
            # Moved back by hand, or put back and renamed since (by what it is): the user's "neither".
            said = filed.get(was)  # what the journal says of the photo where it was put
            photo = Photo(0, rel, "neither", said and said.label, said and said.confidence, PUT_BACK, rel)
        else:
            photo = Photo(0, rel, UNSORTED[0], reason=UNSORTED[1])
        if info is not None:  # sorter moved it: what went with it is what the journal moved with it
            photo.moved_with = frozenset(went_with.get(rel, ()))
        catalog.keep(photo, st)
        # A video the sort judged (it has a confidence) was read as one: only the others are looked into.
        # What the sort said of it settles it: a video named .heic is one, an MP4 of sound alone is not.
        said = said_a_video(photo.reason)
        photo.video = said if said is not None else (
            is_video_name(rel) and (photo.confidence is not None or is_video(root, rel)))
        # Counted where the sort counts it: an MP4 of sound alone among the videos, a HEIC photo named .MOV not.
        photo.counted_video = photo.video or said is False and is_video(root, rel)
        pet, likeness = suggested.get(rel, (None, 0.0))
        if pet is not None and photo.pet is None and _named(catalog, pet):
            photo.might_be, photo.likeness = pet, likeness
        catalog.add(photo)

    # The folder, cats/ and dogs/, and each folder in them: a named pet's (cats/Luna/: a few
    # dozen photos each, every one shown, those the user put there too) or the user's (cats/2019/).
    listed = [(root / f, frozenset()) for f in CLASS_FOLDERS.values()]
    for label, folder in CLASS_FOLDERS.items():
        inside = sub_folders(root / folder)
        catalog.pets[label].update(name for name in inside if names_a_pet(name))
        listed += [(root / folder / name, frozenset()) for name in inside]
    catalog.offer_known()
    # The sub-folders a --recursive sort entered are listed as the top is; those it did not,
    # at the top or in one of those, are counted (`NotEntered`, as `sort` counts them).
    gone_into = entered_folders(root, [*verdicts, *filed, *(info.origin for info in filed.values())])
    catalog.not_entered = not_entered = Unshown(root=root, shown=gone_into)
    listed += [(root / rel, frozenset()) for rel in sorted(gone_into)]
    for where, exclude in [*listed, (root, output_folders())]:
        counts = where == root or os.path.relpath(where, root) in gone_into
        for entry in scan_folder(where, exclude=exclude, videos=True, not_entered=not_entered if counts else None):
            # Symbolic links and FIFOs: never served, never moved.
            if not isinstance(entry, Skipped) and is_listed(entry, journaled):
                add(os.path.relpath(entry, root))
    # Photos the journal names in other folders (in cats/2019/trip/, or in a folder a sort
    # would no longer enter): only those sorter has a word about, the whole tree never walked.
    scanned = {os.path.relpath(where, root) for where, _ in listed}
    catalog.folders |= scanned  # a photo saved in one while the page is open shows at a reload
    deeper = {
        rel for rel in [*verdicts, *filed]
        if "/" in rel and (rel.split("/", 1)[0] not in CLASS_FOLDERS.values() or rel.count("/") > 1)
        and os.path.dirname(rel) not in scanned
    }
    for rel in sorted(deeper):
        name = os.path.basename(rel)
        if (is_image_name(name) or is_video_name(name)) and _is_real_file(root, rel) and is_listed(root / rel, journaled):
            add(rel)
    catalog.order()
    return catalog
