"""The photos the review server shows, as the review page groups them: every image and video of
the folder that sorter lists (a Live Photo's video aside: it goes with its photo,
`posters.listed`), where it is now, grouped (cats/, dogs/, each named pet's folder such as
cats/Luna/, each reason photos were left in place for), least confident first; first of all,
the photos a sort noted a named pet might be ("might be cats/Luna/", `files.suggestions`),
the likeliest first. A video is a photo here in all but its picture (`posters`). Where each
photo's label and confidence come from is `loading`'s.

Memory: one `Photo` (slots, about 320 bytes with its path, `identity` and ctime) per image, plus, while it is
built (`loading.load_catalog`), one entry per journaled move: 100,000 photos cost about 40 MB. Pure
bookkeeping: moving a photo here changes nothing on disk (that is `session.py`).
"""

from __future__ import annotations

import bisect
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.config import CLASS_FOLDERS, OTHER, as_shown, name_shown, names_a_pet
from sorter.files.planning import LEFT_IN_PLACE, reason_kind
from sorter.review.page import MAX_REASON_GROUPS, MIGHT_BE
from sorter.review.pet_names import the_pet

if TYPE_CHECKING:
    from sorter.files.pet_folders import PetFolders
    from sorter.media.folders import NotEntered

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
    #: Counted among the videos, as `sort` counts it (`FileResult.kind`): a video's card, and a file
    #: named as a video with no photo inside that is no readable video either (an MP4 of sound
    #: alone, "not a video (no video track)"), shown without the video mark.
    counted_video: bool = False
    #: The file as listed (`identity`): a click or a thumbnail reaches this file only, not another
    #: put at its name since (`Catalog.is_listed`); None: nothing could be looked at there.
    kept: int | None = None
    #: Its ctime as listed: a file born after it is a new one given the photo's freed inode number.
    ctime_ns: int | None = None
    #: The companions the journal moved with it (paths, where they went), of a photo sorter moved;
    #: None for one it did not (`posters.companions`: a video of its stem put beside it is not its).
    moved_with: frozenset[str] | None = None

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

    def shown(self) -> str:
        """Its title as the page shows it: a folder's as a name is (`cats/Fo\\\\nx/`, a backslash
        in its name; `cats/Fo\\nx/`, a new line), a reason as a line is."""
        return name_shown(self.title) if self.status in ("moved", MIGHT_BE) else as_shown(self.title)

    def to_json(self) -> dict:
        return {"key": self.key, "status": self.status, "title": self.title, "shown": self.shown(),
                "count": len(self.members),
                "videos": self.videos, "rank": self.rank}


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
        #: Of the photos, how many are videos (`Photo.counted_video`): the header says "12 photos and 3 videos".
        self.videos = 0
        #: Where the named pets' photos go (`files.pet_folders`), as this catalog was listed.
        self.here: PetFolders | None = None
        #: The folder's filesystem keeps inode numbers (`identities.inodes_last`): how `identity` tells a file.
        self.inodes_last = True
        #: The folders listed ("." the top, cats/, dogs/, each folder in them, those a --recursive sort
        #: entered), and those a click filed into since: a file moved in or out of one by hand
        #: changes its time (`Session`).
        self.folders: set[str] = {"."}
        #: The sub-folders it did not look into (`loading.Unshown`): the start line says so.
        self.not_entered: NotEntered | None = None

    def pet_named(self, label: str, name: str) -> str:
        """The folder in cats/ (dogs/) a pet's name typed on the page files into: a folder of that
        name, else the one of the named pet of that name now (cats/Luna renamed cats/Lulu since
        she was learnt: "Luna" is Lulu, not a new cats/Luna/ beside hers), else that name. Her
        old name matched as `the_pet` matches: ValueError where it is two pets' but for case."""
        if name in self.pets[label] or self.here is None:
            return name
        folder = CLASS_FOLDERS[label]
        now = {}
        for pet, there in self.here.moved.items():
            kind, _, old = pet.partition("/")
            if kind == folder and there is not None:
                now[old] = there.partition("/")[2]
        old = the_pet(name, now, folder)
        return name if old is None else now[old]

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
        self.videos += photo.counted_video
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
        self.groups[key].videos += photo.counted_video

    def move(self, photo: Photo, path: str, choice: str | None, st: os.stat_result | None = None) -> None:
        """Bookkeeping after the file moved: `photo` is at `path` now (`st`: its `lstat` there, a
        new inode once copied to another filesystem), filed by a person as `choice`."""
        self.keep(photo, st)
        self._unplace(photo)
        if photo.origin is None and photo.current == "neither":
            photo.origin = photo.path  # where "Neither" sends it back to later
        photo.path, photo.choice = path, choice
        photo.might_be = None  # a person has filed it: no longer a question
        self._place(photo)

    def keep(self, photo: Photo, st: os.stat_result | None) -> None:
        """`photo` is the file `st` (its `lstat` where it is listed, or moved to): what `is_listed` tells it by."""
        photo.kept = None if st is None else identity(st, self.inodes_last)
        photo.ctime_ns = None if st is None else st.st_ctime_ns

    def is_listed(self, photo: Photo, st: os.stat_result | None, at: Path | int) -> bool:
        """`st` (an `lstat` at the photo's path `at`, or an `fstat` of the descriptor `at` it was
        opened as) is of the file listed (or moved) as `photo`: a file, not a link, and not another
        file put at its name since, renamed over it (another inode) or saved there after it was
        deleted and given its freed inode number (ext4 and tmpfs do, at once), born after the photo's
        ctime as listed (`identities.born_by`, as `judged.is_the_file` tells a photo for `sort` and
        `learn`). A photo touched since is still the photo; where no birth time can be read, its
        ctime alone tells, and a photo touched since asks for a reload, the safe failure. A `statx`
        only where its ctime changed."""
        from sorter.files.identities import born_by

        if st is None or not stat.S_ISREG(st.st_mode) or photo.kept != identity(st, self.inodes_last):
            return False
        return not self.inodes_last or st.st_ctime_ns == photo.ctime_ns or born_by(at, photo.ctime_ns)

    def suggest(self, photo: Photo, pet: str | None, likeness: float = 0.0) -> None:
        """`photo` might be `pet` at `likeness`: into her group; None, the user said it is not:
        out of it, into its place's group."""
        self._unplace(photo)
        photo.might_be, photo.likeness = pet, likeness
        self._place(photo)

    def _unplace(self, photo: Photo) -> None:
        group = self.groups[photo.group]
        del group.members[bisect.bisect_left(group.members, photo.sort_key())]
        group.videos -= photo.counted_video

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
