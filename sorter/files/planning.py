"""Pure planning: predictions -> where each file goes. No file is touched here, so the
plan can be printed (dry run), tested and journaled before anything moves."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sorter.config import CLASS_FOLDERS, OTHER
from sorter.errors import VANISHED
from sorter.files.companions import NAME_SUFFIXES, pairing_stems, renamed, spellings, would_pair
from sorter.files.put_backs import PUT_BACK_KIND, is_put_back_reason
from sorter.wording import percent

#: "kept": a photo already in cats/ or dogs/ that `sort --name-pets` looked at again and leaves.
Status = Literal["move", "neither", "unsure", "unreadable", "skipped", "kept", "vanished"]
#: Why a photo a three-class model calls "other" stays where it is.
NEITHER_REASON = "not a cat or a dog"
#: Statuses of files left in place (those of results the sort could not move included), in
#: the order summaries list them.
LEFT_IN_PLACE = ("neither", "unsure", "unreadable", "skipped", "vanished", "failed")


LOOKS_LIKE = NEITHER_REASON + ": looks like "


def looks_like(reason: str | None) -> str | None:
    """What ImageNet saw in a photo left as neither ("ox"), from its reason; None if it said nothing."""
    return reason[len(LOOKS_LIKE):] if reason and reason.startswith(LOOKS_LIKE) else None


def reason_kind(reason: str | None) -> str:
    """A reason without what belongs to one file, for counting files by it in summaries:
    "confidence 61% below --min-confidence 90%" -> "confidence below --min-confidence 90%",
    "file too large (300 MiB)" -> "file too large", "you put it back from dogs/IMG_1.jpg; left
    there" -> "you put it back; left there". Reasons are "what: detail" or "what (detail)" by
    convention, so new ones group too. A file that could not be opened or moved keeps its error,
    which says what to do and of which there are few ("cannot open: Permission denied",
    "cannot move into cats/: Permission denied", "cannot move: Invalid cross-device link"), and
    so does a photo named as a video, or a video named as a photo, the same words for each of its
    format and suffix ("not a video: a HEIC photo named .MOV (rename it .heic to sort it)", "not a
    photo: a video named .heic (rename it .mp4 to sort it)"): a bare "not a photo" says neither
    what it is nor what to do."""
    if not reason:
        return "no reason given"
    if is_put_back_reason(reason):  # "what from where; ...": the one reason whose detail comes first
        return PUT_BACK_KIND
    kind, _, detail = reason.partition(": ")
    if (kind.startswith("cannot move") or kind == "cannot open") and detail:
        kind = f"{kind}: {detail.split(': ', 1)[0]}"
    elif kind in ("not a video", "not a photo") and detail:  # what it is and what to do, alike for each
        return reason
    kind = re.sub(r" \([^()]*\d[^()]*\)", "", kind)  # per-file numbers: (300 MiB), (20000x20000 pixels)
    return re.sub(r"^confidence [\d.]+% below", "confidence below", kind)


def below_threshold(confidence: float, threshold: float) -> str:
    """Why a photo is unsure, never "97% below 97%": the confidence is cut, never rounded up
    (`wording.percent`), and to a tenth where the threshold is within a percent of it (0.9698
    against 0.97 is 96.9%, not a bare 96%). The threshold is said as given (0.975 is 97.5%)."""
    shown = percent(confidence)
    if int(shown[:-1]) + 1 >= round(threshold * 100, 9):  # 0.55 * 100 is 55.00000000000001
        shown = percent(confidence, 1)
    return f"confidence {shown} below --min-confidence {threshold * 100:.6g}%"


@dataclass(frozen=True)
class Decision:
    source: Path
    status: Status
    label: str | None = None
    confidence: float | None = None
    destination: Path | None = None
    reason: str | None = None
    #: The photo's companions (see `companions.py`): (where each is, where it goes, or None
    #: when it stays with its photo).
    companions: tuple[tuple[Path, Path | None], ...] = ()


def _clashes(names: list[str], taken) -> bool:
    """One of `names` is taken, or a stranger in the folder would pair with them
    (`companions.would_pair`: a lone cat video IMG_1.MOV already in cats/ beside which the
    photo IMG_1.jpg would go, a sidecar IMG_1.jpg.xmp). Such a pair is one group to every later
    move: a correction on the review page would have taken the stranger's video along with the
    photo. Only a folder that holds a name of their stem is asked for those (`has_stem`)."""
    if any(name in taken for name in names):
        return True
    stem = os.path.splitext(names[0])[0]
    if not taken.looks and not any(taken.has_stem(key) for key in (stem, *names)):
        return False
    return bool(taken.taken_of(would_pair(names)))


def free_names(names: list[str], taken) -> list[str]:
    """`names` (a photo's first, then its companions') if all are free and no stranger would
    pair with them (`_clashes`), else all with the same `stem (n)`: IMG_1.HEIC + IMG_1.MOV ->
    IMG_1 (1).HEIC + IMG_1 (1).MOV. `taken` compares casefolded names (`NameIndex`), so a
    case-only difference never clobbers on case-insensitive filesystems."""
    stem = os.path.splitext(names[0])[0]
    group = tuple(names)
    n = 0
    while _clashes([renamed(name, stem, n, group) for name in names], taken):
        n += 1
    return [renamed(name, stem, n, group) for name in names]


def free_name(name: str, taken) -> str:
    """`name` if free (and no stranger would pair with it: `_clashes`), else `stem (1).ext`, `stem (2).ext`, ..."""
    return free_names([name], taken)[0]


#: The sidecars' suffixes that are more than an extension (`pairing_stems`).
_LONG_SUFFIXES = tuple(suffix for suffix in NAME_SUFFIXES if suffix.count(".") > 1)


class NameIndex:
    """The casefolded names in one destination folder, as 8-byte hashes: a folder of a
    million names costs 8 MB, not the ~100 MB of a set of strings. A hash collision can
    only make a free name look taken (the file then gets `name (1).jpg`); the move itself
    never replaces a file whatever the plan says. (A watcher keeps the places of the photos
    it moved long ago in one too: `sorting.latecomers`.)"""

    _MERGE_AT = 65_536
    #: Only what it holds is taken (a `Planner` that `looks` asks the disk too).
    looks = False

    def __init__(self, names: Iterable[str] = ()) -> None:
        from array import array

        import numpy as np  # here, not at the top: `undo` reads this module's reasons, without numpy

        self._np = np
        keys, stems = array("q"), array("q")  # 8 bytes a name, not a Python int's 36
        for name in names:  # `pairing_stems` inlined: a million names, 6 s -> 1 s
            folded = name.casefold()
            keys.append(hash(folded))
            dot = folded.rfind(".")
            stems.append(hash(folded[:dot] if dot > 0 else folded))
            if folded.endswith(_LONG_SUFFIXES):
                stems.extend(hash(folded[: -len(s)]) for s in _LONG_SUFFIXES if folded.endswith(s))
        self._sorted = np.unique(np.frombuffer(keys, dtype=np.int64))
        #: The stems its names pair by (`companions.pairing_stems`): a group whose stem and names
        #: are none of them needs no look for a stranger that would pair with it (`_clashes`).
        self._stems = np.unique(np.frombuffer(stems, dtype=np.int64))
        self._recent: set[int] = set()
        self._recent_stems: set[int] = set()

    def has_stem(self, stem: str) -> bool:
        """A name in the index pairs by `stem` (IMG_1.MOV and IMG_1.jpg.xmp by IMG_1 and IMG_1.jpg)."""
        key = hash(stem.casefold())
        i = int(self._np.searchsorted(self._stems, key))
        return key in self._recent_stems or (i < len(self._stems) and int(self._stems[i]) == key)

    def __contains__(self, name: str) -> bool:
        key = hash(name.casefold())
        if key in self._recent:
            return True
        i = int(self._np.searchsorted(self._sorted, key))
        return i < len(self._sorted) and int(self._sorted[i]) == key

    def taken_of(self, names: list[str]) -> list[str]:
        """Those of `names` in the index, looked up together: a photo's move asks for ~40."""
        np = self._np
        keys = np.fromiter((hash(n.casefold()) for n in names), dtype=np.int64, count=len(names))
        at = np.minimum(np.searchsorted(self._sorted, keys), max(len(self._sorted) - 1, 0))
        found = (self._sorted[at] == keys) if len(self._sorted) else np.zeros(len(names), dtype=bool)
        return [name for name, key, hit in zip(names, keys.tolist(), found.tolist(), strict=True)
                if hit or key in self._recent]

    def add(self, name: str) -> None:
        self._recent.add(hash(name.casefold()))
        self._recent_stems.update(hash(stem.casefold()) for stem in pairing_stems(name))
        if len(self._recent) >= self._MERGE_AT:  # a watcher runs for months: keep it compact
            np = self._np
            recent = np.fromiter(self._recent, dtype=np.int64, count=len(self._recent))
            self._sorted = np.union1d(self._sorted, recent)
            stems = np.fromiter(self._recent_stems, dtype=np.int64, count=len(self._recent_stems))
            self._stems = np.union1d(self._stems, stems)
            self._recent.clear()
            self._recent_stems.clear()


class _StillThere:
    """A folder's `NameIndex` whose taken names count only while `Planner.still_taken` says so."""

    def __init__(self, planner: Planner, folder: str, index: NameIndex) -> None:
        self.planner, self.folder, self.index = planner, folder, index

    def __contains__(self, name: str) -> bool:
        return bool(self.taken_of([name]))

    @property
    def looks(self) -> bool:
        return self.planner.looks

    def has_stem(self, stem: str) -> bool:
        return self.index.has_stem(stem)

    def taken_of(self, names: list[str]) -> list[str]:
        known = set(self.index.taken_of(names))
        if not self.planner.looks:
            return [name for name in names if name in known and self.planner.still_taken(self.folder, name)]
        return [name for name in names if (self.planner.still_taken(self.folder, name) if name in known
                                           else self.planner.on_disk_now(self.folder, name))]


class Planner:
    """Plans destinations for a stream of predictions, remembering every name it has
    handed out so two files of one run never get the same destination. `on_disk`: a real
    run, whose planned names are then moved (`moved`): a name known taken is looked up on
    disk before the file is given `name (1).jpg` (`_StillThere`). A dry run moves nothing,
    so its names stay taken."""

    def __init__(
        self, root: Path, existing: dict[str, Iterable[str]], min_confidence: float,
        list_names: Callable[[str], Iterable[str]] = lambda folder: (), on_disk: bool = False,
        looks: bool = False,
    ) -> None:
        self.root = root
        self.min_confidence = min_confidence
        # names per destination folder: those already on disk plus those planned
        self.taken = {folder: NameIndex(names) for folder, names in existing.items()}
        #: The names in a folder first planned into after the start (a named pet's, cats/Luna).
        self.list_names = list_names
        self.on_disk = on_disk
        #: A planner that lives for months (the watcher's): cats/ and dogs/ change behind its back
        #: (a review's correction, a photo dragged in), so a name it does not know is looked up on
        #: disk too, in each spelling a companion's is (`on_disk_now`): some 60 `lstat` calls a photo.
        self.looks = looks and on_disk
        self._unmoved: set[tuple[str, str]] = set()  # planned, not moved yet: taken whatever the disk says
        self._listed: dict[str, NameIndex] = {}  # folders listed again in this batch (`_StillThere`)

    def reserve(self, folder: str, names: list[str]) -> list[str]:
        """Pick and remember free names in `folder` for a photo and its companions (also
        used when a move must retry)."""
        taken = self.taken.get(folder)
        if taken is None:
            taken = self.taken[folder] = NameIndex(self.list_names(folder))
        chosen = free_names(names, _StillThere(self, folder, taken) if self.on_disk else taken)
        for name in chosen:
            taken.add(name)
            if self.on_disk:
                self._unmoved.add((folder, name.casefold()))
        return chosen

    def still_taken(self, folder: str, name: str) -> bool:
        """A name the planner knows taken is so while the file, or one whose name differs only
        in case, is still there (or it was planned and not yet moved): a watcher's planner
        lives for months, and a photo the user deleted from cats/ leaves its name free, as a
        fresh `sort` would find it. The folder is listed only when the name itself is gone,
        once a batch (`moved`)."""
        if (folder, name.casefold()) in self._unmoved or os.path.lexists(self.root / folder / name):
            return True
        listed = self._listed.get(folder)
        if listed is None:
            listed = self._listed[folder] = NameIndex(self.list_names(folder))
        return name in listed

    def on_disk_now(self, folder: str, name: str) -> bool:
        """`name`, its extension spelled in any case a companion's is looked up in, is in `folder` now."""
        stem, extension = os.path.splitext(name)
        return any(os.path.lexists(self.root / folder / (stem + spelling)) for spelling in spellings(extension))

    def moved(self) -> None:
        """The names planned so far are on disk now (or free again: a move that failed)."""
        self._unmoved.clear()
        self._listed.clear()

    def decide(
        self, source: Path, label: str | None, confidence: float | None, error: str | None,
        companions: tuple[Path, ...] = (), pet: str | None = None, looks_like: str | None = None,
    ) -> Decision:
        """`pet`: a named pet the personal model recognised (a sub-folder name: cats/Luna/);
        `looks_like`: what ImageNet sees in a photo left as neither ("ox"), said in its reason."""
        stay = tuple((c, None) for c in companions)
        if error == VANISHED:  # gone before it was read (deleted while the sort ran): as one gone before its move
            return Decision(source, "vanished", reason=error, companions=stay)
        if label is None or confidence is None:
            return Decision(source, "unreadable", reason=error or "cannot decode", companions=stay)
        if label == OTHER:  # whatever its confidence: --min-confidence is about filing pets
            reason = LOOKS_LIKE + looks_like if looks_like else NEITHER_REASON
            return Decision(source, "neither", label, confidence, reason=reason, companions=stay)
        if confidence < self.min_confidence:
            return Decision(
                source, "unsure", label, confidence,
                reason=below_threshold(confidence, self.min_confidence),
                companions=stay,
            )
        folder = CLASS_FOLDERS[label] + (f"/{pet}" if pet else "")
        name, *others = self.reserve(folder, [source.name, *(c.name for c in companions)])
        return Decision(
            source, "move", label, confidence, self.root / folder / name,
            companions=tuple((c, self.root / folder / n) for c, n in zip(companions, others, strict=True)),
        )
