"""The photos the review server shows: every image and video of the folder that sorter lists
(a Live Photo's video aside: it goes with its photo, `posters.listed`), where it is now,
grouped as the review page groups them (cats/, dogs/, each named pet's folder such as
cats/Luna/, each reason photos were left in place for), least confident first; first of all,
the photos a sort noted a named pet might be ("might be cats/Luna/", `files.suggestions`),
the likeliest first. A video is a photo here in all but its picture (`posters`).

Where each photo's label and confidence come from:
- in `cats/` or `dogs/`: the journal, which records every move with what the photo was filed
  as; a photo moved again by a review keeps the model's words and gains the person's
  (`choice`); a photo put there by hand has no confidence;
- left in place: the last sort's verdict (the journal's "seen" record: neither, unsure at 61%,
  unreadable ...); a photo put back where sorter found it, on the page or by hand, is "you
  said neither", renamed since too (`put_backs.put_back`: what sort leaves); a photo with none
  (it arrived after the sort) is "not sorted yet".

Memory: one `Photo` (slots, about 280 bytes with its path and `identity`) per image, plus, while it is
built, one entry per journaled move: 100,000 photos cost about 40 MB. Pure bookkeeping after
`load_catalog`: moving a photo here changes nothing on disk (that is `session.py`).
"""

from __future__ import annotations

import bisect
import os
import stat
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.config import CLASS_FOLDERS, OTHER, REVIEW_RUN_PREFIX, STATE_DIR, entered, names_a_pet
from sorter.files.pet_folders import Looked, folded
from sorter.files.planning import LEFT_IN_PLACE, reason_kind
from sorter.review.page import MAX_REASON_GROUPS, MIGHT_BE

if TYPE_CHECKING:
    from sorter.files.pet_folders import PetFolders

#: Photos sent per group at a time: the page's "show 100 more".
PAGE = 100
#: What a card's buttons say, by where its photo is.
CURRENT = {"cats": "cat", "dogs": "dog"}
#: The species whose named pets a folder holds: cats/ -> "cat".
SPECIES = {folder: label for label, folder in CLASS_FOLDERS.items()}
#: The group of photos a person put back in place.
PUT_BACK = "you said neither"
#: The group of photos in place that no sort has judged (they arrived after it).
UNSORTED = ("unsorted", "not sorted yet")


@dataclass(slots=True)
class Photo:
    id: int
    path: str  # relative to the folder, where it is now
    status: str  # "moved" (in cats/ or dogs/), or why it is in place: "neither", "unsure", ...
    label: str | None = None  # what the model said
    confidence: float | None = None
    reason: str | None = None
    origin: str | None = None  # where sorter first found it, for a photo it moved
    choice: str | None = None  # "cat", "dog" or "other", once a person said so
    group: str = ""  # its Group's key
    #: Where the pet is in a photo sorter moved (its "seen" record): its thumbnail is cut around it.
    box: tuple[float, float, float, float] | None = None
    #: The named pet ("cats/Luna") a sort noted it might be, and how close her head came
    #: (`files.suggestions`): it is shown in her "might be" group until named or refused.
    might_be: str | None = None
    likeness: float = 0.0
    #: A video's card (`posters.is_video`: not a HEIC photo named .MOV), which learn does not learn from.
    video: bool = False
    #: The file as listed (`identity`): a click or a thumbnail reaches this file only, not another
    #: put at its name since (`Session.listed`); None: nothing could be looked at there.
    kept: int | None = None

    @property
    def folder(self) -> str:
        return self.path.split("/", 1)[0] if "/" in self.path else ""

    @property
    def pet(self) -> str | None:
        """The named pet whose folder it is in (cats/Luna/x.jpg: "Luna"), as `sorter learn` reads it."""
        parts = self.path.split("/")
        return parts[1] if len(parts) > 2 and parts[0] in CLASS_FOLDERS.values() and names_a_pet(parts[1]) else None

    @property
    def current(self) -> str:
        """Which button is pressed: "cat", "dog", or "neither" for a photo in place."""
        return CURRENT.get(self.folder, "neither")

    def sort_key(self) -> tuple[float, int]:
        # A photo without a confidence (unreadable, put there by hand) counts as 0, as on the review
        # page; one that might be a named pet, the likeliest first.
        if self.might_be is not None:
            return (-self.likeness, self.id)
        return (self.confidence or 0.0, self.id)


@dataclass
class Group:
    key: str  # "g0", "g1", ...: what the page calls it
    status: str
    title: str  # "cats/", or the reason's kind
    rank: int  # its place on the page
    members: list[tuple[float, int]] = field(default_factory=list)  # sort keys, least confident first
    #: Of the members, how many are videos: "4 photos and 1 video of Luna", who is learnt from her photos.
    videos: int = 0

    def to_json(self) -> dict:
        return {"key": self.key, "status": self.status, "title": self.title, "count": len(self.members),
                "videos": self.videos, "rank": self.rank}


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


class Catalog:
    def __init__(self, root: Path) -> None:
        import secrets

        self.root = root
        #: Names this catalog's numbering: a page loaded from an older catalog (before another
        #: sorter changed the folder) must not move photo 17 of this one.
        self.generation = secrets.token_hex(4)
        self.photos: list[Photo] = []
        self.groups: dict[str, Group] = {}
        self._by_title: dict[tuple[str, str], str] = {}
        #: The named pets' folders by species ({"cat": {"Luna"}}): what the page offers to name a photo.
        self.pets: dict[str, set[str]] = {label: set() for label in CLASS_FOLDERS}
        #: Of the photos, how many are videos: the page's header says "12 photos and 3 videos".
        self.videos = 0
        #: Where the named pets' photos go (`files.pet_folders`), as this catalog was listed.
        self.here: PetFolders | None = None
        #: The folder's filesystem keeps inode numbers (`identities.inodes_last`): how `identity` tells a file.
        self.inodes_last = True
        #: The folders listed ("." the folder's top, cats/, dogs/ and each folder in them), and those a
        #: click filed into since: a file moved in or out of one by hand changes its time (`Session`).
        self.folders: set[str] = {"."}

    def pet_named(self, label: str, name: str) -> str:
        """The folder in cats/ (dogs/) a pet's name typed on the page files into: a folder of that
        name, else the one of the named pet of that name now (cats/Luna renamed cats/Lulu since
        she was learnt: "Luna" is Lulu, not a new cats/Luna/ beside hers), else that name."""
        if name in self.pets[label] or self.here is None:
            return name
        folder = CLASS_FOLDERS[label]
        same = folded(name)
        for pet, now in sorted(self.here.moved.items()):
            kind, _, old = pet.partition("/")
            if kind == folder and now is not None and folded(old) == same:
                return now.partition("/")[2]
        return name

    def offer_known(self) -> None:
        """Offer the pets the personal model knows whose folder is not made here yet: a pet learnt
        in one folder is named in every other (Fred learnt in DIR, OTHER sorted: "Might be
        cats/Fred/" is asked there, and naming one makes cats/Fred/, as a sort would). Not where
        something else holds her folder's place (a file cats/Fred: sort says to rename it first)."""
        for pet in self.here.folders() if self.here is not None else ():
            kind, _, name = pet.partition("/")
            if not os.path.lexists(self.root / pet):
                self.pets[SPECIES[kind]].add(name)

    def unmade(self, folders: tuple[Path, ...]) -> None:
        """Folders a naming made, taken back with it (`cats/Lnua/`): no longer offered to name a
        photo, unless the personal model knows the pet, offered here whether hers is made or not."""
        known = self.here.folders() if self.here is not None else set()
        for label, kind in CLASS_FOLDERS.items():
            self.pets[label] -= {f.name for f in folders if f.parent == self.root / kind and not os.path.lexists(f)
                                 and f"{kind}/{f.name}" not in known}

    def add(self, photo: Photo) -> None:
        photo.id = len(self.photos)
        self.photos.append(photo)
        self.videos += photo.video
        self._place(photo)

    def _group_of(self, photo: Photo) -> tuple[str, str]:
        if photo.might_be is not None:
            return (MIGHT_BE, f"{photo.might_be}/")
        if photo.folder in CLASS_FOLDERS.values():
            return ("moved", f"{photo.folder}/{photo.pet}/" if photo.pet else f"{photo.folder}/")
        if photo.choice == OTHER:
            return ("neither", PUT_BACK)
        if photo.status == UNSORTED[0]:
            return UNSORTED
        return (photo.status, reason_kind(photo.reason))

    def _place(self, photo: Photo) -> None:
        status, title = self._group_of(photo)
        key = self._by_title.get((status, title))
        if key is None:
            reasons = sum(g.status != "moved" for g in self.groups.values())
            if status != "moved" and title != PUT_BACK and reasons >= MAX_REASON_GROUPS:
                title = "other reasons"
                key = self._by_title.get((status, title))
        if key is None:
            key = f"g{len(self.groups)}"
            self.groups[key] = Group(key, status, title, rank=len(self.groups))
            self._by_title[(status, title)] = key
        photo.group = key
        bisect.insort(self.groups[key].members, photo.sort_key())
        self.groups[key].videos += photo.video

    def move(self, photo: Photo, path: str, choice: str | None, st: os.stat_result | None = None) -> None:
        """Bookkeeping after the file moved: `photo` is at `path` now (`st`: its `lstat` there, a
        new inode once copied to another filesystem), filed by a person as `choice`."""
        photo.kept = None if st is None else identity(st, self.inodes_last)
        self._unplace(photo)
        if photo.origin is None and photo.current == "neither":
            photo.origin = photo.path  # where "Neither" sends it back to later
        photo.path, photo.choice = path, choice
        photo.might_be = None  # a person has filed it: no longer a question
        self._place(photo)

    def is_listed(self, photo: Photo, st: os.stat_result | None) -> bool:
        """`st` (an `lstat` at the photo's path) is of the file listed (or moved) as `photo`: a
        file, not a link, and not another file put at its name since."""
        return st is not None and stat.S_ISREG(st.st_mode) and photo.kept == identity(st, self.inodes_last)

    def suggest(self, photo: Photo, pet: str | None, likeness: float = 0.0) -> None:
        """`photo` might be `pet` at `likeness`: into her group; None, the user said it is not:
        out of it, into its place's group."""
        self._unplace(photo)
        photo.might_be, photo.likeness = pet, likeness
        self._place(photo)

    def _unplace(self, photo: Photo) -> None:
        group = self.groups[photo.group]
        del group.members[bisect.bisect_left(group.members, photo.sort_key())]
        group.videos -= photo.video

    def order(self) -> None:
        """Rank the groups as the review page does: cats/ and dogs/, then what stayed by
        status and largest first; before them all, the photos that might be a named pet (the
        one question sorter asks). Done once, after loading: later groups go last, so the page
        a person is working on never reshuffles."""
        statuses = {s: i for i, s in enumerate((MIGHT_BE, "moved", *LEFT_IN_PLACE))}
        ranked = sorted(
            self.groups.values(),
            key=lambda g: (statuses.get(g.status, len(statuses)), g.status, -len(g.members), g.title),
        )
        for rank, group in enumerate(ranked):
            group.rank = rank

    def page(self, key: str, after: int | None = None, limit: int = PAGE) -> list[Photo]:
        """Up to `limit` photos of a group, least confident first, from just after photo
        `after` (a cursor, not an offset: photos moving in or out meanwhile shift nothing)."""
        members = self.groups[key].members
        start = 0 if after is None else bisect.bisect_right(members, self.photos[after].sort_key())
        return [self.photos[i] for _, i in members[start:start + limit]]


def identity(st: os.stat_result, inodes_last: bool) -> int:
    """What tells a file listed from another put at its name since (a sync client writes
    `x.part`, then renames it over the name), as one int, not a tuple (100,000 photos: 3 MB, not
    20): its device and inode where its filesystem keeps them, so an edit in place is still the
    photo, else its size and modification time (FAT, exFAT, FUSE: `identities.inodes_last`). A hash
    collision, 1 in 2**64 a pair, is all that could take one for the other."""
    return hash((st.st_dev, st.st_ino) if inodes_last else (st.st_size, st.st_mtime_ns))


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


def sub_folders(folder: Path) -> list[str]:
    """The folders in cats/ (or dogs/): real folders, not hidden or another app's (a NAS's @eaDir),
    as learn reads them. Those `names_a_pet` are named pets' (cats/Luna); the others the user's
    (cats/2019), whose photos are listed as cats/'s."""
    try:
        with os.scandir(folder) as listing:
            return sorted(e.name for e in listing if entered(e.name) and e.is_dir(follow_symlinks=False))
    except OSError:
        return []


def follow(filed: dict[str, Filed], move) -> None:
    """Take one move still in force (`journal.sorted_moves`, in order) into `filed`: where each
    photo sorter moved is now (relative path) -> what the journal says of it, following a photo
    through every move (a sort, then a review)."""
    if move.seq != move.group:
        return  # a companion: it goes where its photo goes
    before = filed.pop(move.src, None)
    if move.run.startswith(REVIEW_RUN_PREFIX):  # the same picture, moved by a person: its pet stays where it was
        filed[move.dst] = Filed(
            before.origin if before else move.src, before and before.label, before and before.confidence, move.label,
            before and before.box, move.run, move.same,
        )
    else:
        filed[move.dst] = Filed(before.origin if before else move.src, move.label, move.confidence, None,
                                run=move.run, same=move.same)


def is_the_file(ids, run: str | None, record: tuple[int, ...] | None, st: os.stat_result | None) -> bool:
    """`st` is of the file the journal's `record` (`identities.SameFile` or `Identity`, taken by
    `run`) tells (`Identities.match`), not another renamed over its name since (a cat photo over a
    sorted dogs/dog3.jpg): that one is shown as a new photo, not with the photo's label. A record
    on another device than the file, a photo filed across filesystems by a copy (which keeps its
    size and time), tells it by its size and time. No record (an older journal): the path tells it."""
    from sorter.files.identities import elsewhere

    if record is None or run is None or st is None:
        return True
    record = ids.of(run, tuple(record))
    return ids.match(record if record[0] == st.st_dev else elsewhere(record), st)


def load_catalog(root: Path, state, here: PetFolders | None = None) -> Catalog:
    """Every image and video sorter lists in the folder (`state`: the journal, settled), grouped
    and ordered; `here`: the named pets' folders as the caller found them (`KnownPets`), else found now."""
    from sorter.files import suggestions
    from sorter.files.folder import output_folders
    from sorter.files.identities import Identities, inodes_last, lstat_of
    from sorter.files.journal import Move, moves_and_seen
    from sorter.files.put_backs import HandPutBacks, put_back
    from sorter.files.verdicts import Verdict, note
    from sorter.media.folders import Skipped, is_image_name, is_video_name, scan_folder
    from sorter.review.posters import is_video
    from sorter.review.posters import listed as is_listed

    filed: dict[str, Filed] = {}
    verdicts: dict[str, Verdict] = {}
    hand = HandPutBacks(root, state=state, renamed=True)  # photos moved back by hand, renamed since too
    for item in moves_and_seen(root, state):  # one pass over the journal for all three, streamed
        if isinstance(item, Move):
            follow(filed, item)
            hand.move(item)
        else:
            note(verdicts, item)
            hand.seen(item)
            if (info := filed.get(item.path)) is not None and item.run == info.run:  # right after the batch's moves
                same = item.identity if item.mtime_ns is None else (*item.identity, item.mtime_ns)
                filed[item.path] = replace(info, box=item.box if item.box is not None else info.box, same=same)
    catalog = Catalog(root)
    catalog.inodes_last = inodes_last(root)
    ids = Identities(root, state)
    noted = suggestions.read(root)
    catalog.here = here = here if here is not None else KnownPets(root).now()
    noted.follow(here)  # "might be cats/Lulu/" once her folder is renamed: named there, not in a new cats/Luna/
    noted.keep_only(here.folders())
    suggested = noted.standing(root)
    back = put_back(root, state, hand)  # what sort and watch leave, as they tell it

    def add(rel: str) -> None:
        st = lstat_of(root / rel)
        info = filed.pop(rel, None)
        folder = rel.split("/", 1)[0] if "/" in rel else ""
        verdict = verdicts.get(rel)
        if info is not None and not is_the_file(ids, info.run, info.same, st):
            info = None  # another file at the photo's name: a new photo
        if verdict is not None and not is_the_file(ids, verdict.run, verdict.same, st):
            verdict = None
        if folder in CLASS_FOLDERS.values():
            label = next(k for k, v in CLASS_FOLDERS.items() if v == folder)
            if info is None:
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
        photo.kept = None if st is None else identity(st, catalog.inodes_last)
        # A video the sort judged (it has a confidence) was read as one: only the others are looked into.
        photo.video = is_video_name(rel) and (photo.confidence is not None or is_video(root, rel))
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
    for where, exclude in [*listed, (root, output_folders())]:
        for entry in scan_folder(where, exclude=exclude, videos=True):
            # Symbolic links and FIFOs: never served, never moved.
            if not isinstance(entry, Skipped) and is_listed(entry):
                add(os.path.relpath(entry, root))
    # Photos in other subfolders (a --recursive sort, put back where they came from): only
    # those sorter has a word about, so the folder's whole tree is never walked.
    scanned = {os.path.relpath(where, root) for where, _ in listed}
    catalog.folders |= scanned
    deeper = {
        rel for rel in [*verdicts, *filed]
        if "/" in rel and (rel.split("/", 1)[0] not in CLASS_FOLDERS.values() or rel.count("/") > 1)
        and os.path.dirname(rel) not in scanned
    }
    for rel in sorted(deeper):
        name = os.path.basename(rel)
        if (is_image_name(name) or is_video_name(name)) and _is_real_file(root, rel) and is_listed(root / rel):
            add(rel)
    catalog.order()
    return catalog
