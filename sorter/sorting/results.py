"""What a sort says of each file (`FileResult`), of a whole run (`SortSummary`), and the
counts both `sort` and `watch` keep (`Tally`). Plain data: the CLI renders it, the review
page and the verdicts record it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sorter.files.planning import reason_kind
from sorter.wording import at_most

if TYPE_CHECKING:  # numpy is loaded by then; importing this module must not load it
    import numpy as np

    from sorter.files.pet_folders import PetFolders
    from sorter.media.folders import NotEntered

# "moved" | "planned" | "neither" | "unsure" | "unreadable" | "skipped" | "vanished" | "failed",
# and "joined" (a companion that arrived after its photo was sorted, moved to it; "to join" in a dry run)
FileStatus = str
#: What a file is, in `--json` and the counts: a companion is one that joined its photo late (`JOINS`),
#: or was left where it is, the name that pairs it with its photo taken (`Sorter.join`);
#: a folder, one a recursive sort did not enter (a library, software), counted apart from files.
Kind = Literal["photo", "video", "companion", "folder"]


@dataclass(frozen=True)
class FileResult:
    path: Path
    status: FileStatus
    label: str | None = None
    confidence: float | None = None
    destination: Path | None = None
    reason: str | None = None
    #: The photo's companions: (where each was, where it is now, or None if it stayed).
    companions: tuple[tuple[Path, Path | None], ...] = ()
    #: What the decoder printed about the photo ("Corrupt JPEG data: ..."): it may still be sorted.
    warnings: tuple[str, ...] = ()
    #: A video's frames the decision was made from (0: a photo, or a video not looked at).
    frames: int = 0
    #: The photo for people (small, BGR), decoded with it, for the review page; not in `to_json`.
    thumbnail: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: Where the pet is in it (top, bottom, left, right: shares of the photo), for a photo filed
    #: as a cat or dog: the review page's thumbnail is cut around it. Not in `to_json`.
    pet_box: tuple[float, float, float, float] | None = None
    #: A photo a named pet's head looked at and did not name: how close it came (`pet_heads.Nearly`),
    #: for the review page's "might be" group (`files.suggestions`). Not in `to_json`.
    nearly: object | None = None
    #: A moved photo where it is now, as its "seen" record has it (device, inode, size, mtime):
    #: a watcher tells it by this if it is put back (`latecomers`). Not in `to_json`.
    same: tuple[int, int, int, int] | None = None
    #: What the file is where its name does not say it: a HEIC photo named .MOV is a "photo"
    #: (`Sorter.sort_entries` asks `container.photo_inside`, as the decode did). None: by its name,
    #: a "companion" for one that joined its photo late (`JOINS`).
    found_kind: Kind | None = None

    @property
    def kind(self) -> Kind:
        from sorter.config import VIDEO_EXTENSIONS  # not sorter.media.videos: that loads OpenCV

        if self.found_kind is not None:
            return self.found_kind
        if self.status in JOINS:
            return "companion"
        return "video" if self.path.suffix.lower() in VIDEO_EXTENSIONS else "photo"

    @property
    def is_video(self) -> bool:
        return self.kind == "video"

    def to_json(self) -> dict:
        return {
            "path": str(self.path),
            "kind": self.kind,
            "frames": self.frames if self.is_video else None,
            "status": self.status,
            "label": self.label,
            "confidence": None if self.confidence is None else at_most(self.confidence),
            "destination": None if self.destination is None else str(self.destination),
            "reason": self.reason,
            "companions": [
                {"path": str(path), "destination": None if dst is None else str(dst)} for path, dst in self.companions
            ],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class SortSummary:
    folder: Path
    dry_run: bool
    counts: dict[str, int]  # status -> files
    moved_to: dict[str, int]  # "cats"/"dogs" -> files moved (or planned, in a dry run)
    recovered: int = 0
    seconds: float = 0.0
    companions: int = 0  # companion files moved (or planned) with their photos
    #: Companion files left in place with their photos (neither, unsure, unreadable): in no other count.
    companions_left: int = 0
    reasons: dict[tuple[str, str], int] = field(default_factory=dict)  # (status, reason kind) -> files
    review_page: Path | None = None  # DIR/.sorter/review.html, when the run wrote one
    review_error: str | None = None  # why it could not
    model: str = ""  # what sorted: "bundled model", or "bundled model + 37 corrections"
    videos: dict[str, int] = field(default_factory=dict)  # status -> videos (counted in `counts` too)
    #: Named pet ("cats/Luna") -> photos in her "might be" group for the review page (`files.suggestions`).
    might_be: dict[str, int] = field(default_factory=dict)
    #: The named pets' folders renamed or gone since they were learnt here (`files.pet_folders`).
    pet_folders: PetFolders | None = None
    #: The sub-folders a sort without --recursive did not look into (None: --recursive).
    not_entered: NotEntered | None = None
    #: A dry run's: what a sort would be refused, the folder, its .sorter/ or its journal, and why
    #: ("Permission denied"); `folder.unwritable`.
    unwritable: tuple[Path, str] | None = None
    #: A dry run's: what a sort would be refused of its plan, and the photos it would keep in place
    #: (("cats/ cannot be written: Operation not permitted", 3),), and of the folders they would
    #: leave (("cannot move out of card/: Read-only file system", 2),): `foreseen.Foreseen`, which
    #: makes each such photo's result "failed", as the sort would.
    refused_into: tuple[tuple[str, int], ...] = ()
    #: Sub-folders a recursive sort did not enter, per reason kind ("software, not photos, not
    #: entered": 7): folders, not files, so in none of the counts of files above.
    folders_skipped: dict[str, int] = field(default_factory=dict)
    #: A recursive sort that found no file and passed folders by (`folders_skipped`) entered none:
    #: a link to a folder alone was said "no photos in it or the sub-folders it entered".
    entered_none: bool = False
    #: The personal model's file, where one was there but learnt on another model: not used.
    personal_set_aside: Path | None = None
    #: Files of other kinds (notes, PDFs) were passed by: a sort that found no photo says they are left alone.
    other_files: bool = False
    #: Its journal run (None: it journaled nothing, a dry run), whose "end" is written once the
    #: summary is said (`sort_folder`'s `on_summary`): till then it is no run cut short of its own.
    run: str | None = None


#: A companion that came after its photo was sorted, joined to it (or, in a dry run, to be).
JOINS = ("joined", "to join")


def moved_anything(summary) -> bool:
    """The run (a `SortSummary`, a watch's, or their `Tally`) moved a file, a late companion joined to its photo
    included: `sorter undo` has something to take back, though no photo moved (`moved_to`)."""
    return bool(summary.moved_to) or summary.counts.get("joined", 0) > 0
#: Distinct (status, reason kind) pairs a Tally counts apart.
MAX_REASONS = 256


@dataclass
class Tally:
    """Counts per status, per destination folder and per reason a file was left in place
    (its kind: see `planning.reason_kind`), shared by `sort` and `watch`.

    `per_file`: a file judged again counts once, as it ended (the watcher looks again at a
    photo left in place once it changes: a download written in pieces is "unreadable" at
    each look, then moved). The files left in place are remembered for that, as the
    watcher itself remembers them."""

    root: Path | None = None  # destinations are counted by their folder relative to it: cats, cats/Luna
    counts: dict[str, int] = field(default_factory=dict)
    moved_to: dict[str, int] = field(default_factory=dict)
    companions: int = 0
    #: Companions left in place with their photos (an unreadable photo's video): `SortSummary.companions_left`.
    companions_left: int = 0
    reasons: dict[tuple[str, str], int] = field(default_factory=dict)
    videos: dict[str, int] = field(default_factory=dict)
    per_file: bool = False
    #: Sub-folders not entered, per reason kind: apart from the files' counts (`SortSummary.folders_skipped`).
    folders: dict[str, int] = field(default_factory=dict)
    #: `per_file`: each file left in place -> what it was counted under (status, reason key, video,
    #: its companions left with it).
    _left: dict[Path, tuple[str, tuple[str, str] | None, bool, int]] = field(default_factory=dict, repr=False)
    _kinds: dict[tuple, tuple] = field(default_factory=dict, repr=False)

    def add(self, result: FileResult) -> None:
        if result.kind == "folder":  # said once as it is passed by; never judged again, so never taken back
            kind = reason_kind(result.reason or "")
            self.folders[kind] = self.folders.get(kind, 0) + 1
            return
        if self.per_file:  # this file, and a companion left in place before (a video judged alone) that went with it
            for path in (result.path, *(path for path, dst in result.companions if dst is not None)):
                earlier = self._left.pop(path, None)
                if earlier is not None:
                    status, key, video, left_with = earlier
                    self._count(status, key, video, -1, left_with)
        joins = result.status in JOINS
        key, video = None, result.is_video and not joins  # a companion is counted apart
        if result.reason is not None and not joins:
            key = (result.status, reason_kind(result.reason))
            if key not in self.reasons and len(self.reasons) >= MAX_REASONS:
                key = (result.status, "other reasons")  # bounded, should a new reason not follow the convention
        left_with = 0 if result.destination is not None else sum(dst is None for _, dst in result.companions)
        self._count(result.status, key, video, 1, left_with)
        if joins:  # a companion that came after its photo: counted as one
            self.companions += 1
            return
        if result.destination is not None:
            parent = result.destination.parent
            folder = parent.relative_to(self.root).as_posix() if self.root else parent.name
            self.moved_to[folder] = self.moved_to.get(folder, 0) + 1
            self.companions += sum(dst is not None for _, dst in result.companions)
        elif self.per_file:  # one tuple of each kind, shared: a slot of the dict a file (the watcher holds the path)
            counted = (result.status, key, video, left_with)
            self._left[result.path] = self._kinds.setdefault(counted, counted)

    def forget(self, gone: Callable[[Path], bool]) -> None:
        """`per_file`: the files left in place that are `gone` forgotten, their counts kept: a
        file come back later is a new one, counted again."""
        for path in [path for path in self._left if gone(path)]:
            del self._left[path]

    def _count(self, status: str, key: tuple[str, str] | None, video: bool, n: int, left_with: int = 0) -> None:
        self.counts[status] = self.counts.get(status, 0) + n
        self.companions_left += n * left_with
        if video:
            self.videos[status] = self.videos.get(status, 0) + n
        if key is not None:
            self.reasons[key] = self.reasons.get(key, 0) + n
        if n < 0:  # a count taken back to 0 is not shown
            for counted in (self.counts, self.videos, self.reasons):
                for k in [k for k, v in counted.items() if v == 0]:
                    del counted[k]

