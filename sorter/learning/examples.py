"""The user's examples (`personal.Examples`) as a learn of one folder leaves them: the photos
found placed there added (their features run only where not learnt before), and that folder's
rows whose photo is not found any more taken out."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sorter.files.folder import first_run
from sorter.model.personal import UNKNOWN_MTIME, Examples, placed_name

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Gathered:
    examples: Examples
    placed: int = 0  # photos the user placed here, learnt before or not
    new: int = 0  # of which not learnt before (or placed elsewhere since)
    unreadable: dict[Path, str] = field(default_factory=dict)
    dropped: int = 0  # examples learnt on another model
    forgot: int = 0  # photos the user placed in this folder, learnt, not in it now
    #: Of the photos placed, those learnt before in a pet's folder now renamed: ("cats/Luna", "cats/Lulu") -> how
    #: many. The same photos under a new name, not new ones (`mv cats/Luna cats/Lulu` placed nothing).
    renamed: dict[tuple[str, str], int] = field(default_factory=dict)

    #: Nothing placed here, now or when it was learnt before (else something is new, put back or
    #: forgotten), nothing dropped: the examples a fit would learn from are those it learnt from
    #: before. (A folder learnt again with photos placed is fitted again: a pet learnt as one with
    #: a copy of her folder takes this folder's name for her.)
    settled: bool = False


def gather(root: Path, found, base, progress: Progress, margin: float) -> Gathered:
    """The user's examples with this folder's found photos added: features run only for the
    photos not learnt before, or whose features that name a pet were cut at another margin
    (`Examples.with_pet_margin`: those of other folders stay unknown until learnt there again).
    This folder's rows (`here`) whose photo is not found now go (deleted, edited since, its pet's
    folder gone): the examples say what the folder says now, and a row whose photo is found at
    another path (the folder moved: `mv DIR DIR2`) takes that path and that folder's journal, so
    that the next learn there forgets it once it is deleted. Where it is `settled` it returns the
    examples as they were, before any features are run: photos kept as sorted, new here, only hold
    a head where the examples put it, so they wait for a learn of the folder that has photos placed
    (a sorted folder where the user placed nothing was fitted and saved again at each learn)."""
    from sorter.model import personal
    from sorter.model.inference import features

    stored = personal.read_examples()
    dropped = 0
    if stored is None or stored.base != base.fingerprint:
        dropped = 0 if stored is None else len(stored)
        stored = Examples.empty(base.fingerprint, base.head[0].shape[0])
    stored = stored.with_pet_margin(margin)
    now = {f.identity: _mtime(f.path) for f in found}
    ours, run = _ours(root), first_run(root)
    mine = here(stored, root, run) & np.array([ours(path) for path in stored.paths], bool)
    placed = sum(not f.kept for f in found)
    if not (placed or dropped or (mine & ~stored.kept()).any()):  # nor placed here before (put back since, deleted)
        return Gathered(stored, settled=True)
    # Not found now, or found edited since (the same identity, another time: `_edited`).
    keys = [tuple(int(v) for v in identity) for identity in stored.identities]
    stale = mine & np.array([key not in now or _edited(int(mtime), now[key])
                             for key, mtime in zip(keys, stored.mtimes, strict=True)], bool)
    forgot = int((stale & ~stored.kept()).sum())  # of the photos the user placed: what learn says it forgot
    stored = stored.subset(~stale) if stale.any() else stored
    # Else cut at another margin, or learnt before times were recorded: computed again.
    known = ~np.isnan(stored.pet_features).any(axis=1) & (stored.mtimes != UNKNOWN_MTIME)
    index = stored.index()
    rows, need, unreadable, new, renamed = [], {}, {}, 0, {}
    fresh: set[Path] = set()  # those counted new: one that cannot be read is not, it is never learnt
    for f in found:
        at = index.get(f.identity)
        if at is not None and _edited(int(stored.mtimes[at]), now[f.identity]):
            at = None  # learnt in another folder and edited since: a new photo, as one put in its place is
        described = (f.label, f.pet or "", _was(f), str(f.path))
        same = at is not None and (stored.labels[at], stored.pets[at], stored.was[at]) == described[:3]
        if same and known[at] and (stored.paths[at], stored.began[at]) == (described[3], run):
            continue  # learnt before, and the photo has not moved since
        names = (placed_name(f.label, str(stored.pets[at])), placed_name(f.label, f.pet)) if at is not None else ()
        if (names and not f.kept and not same and f.pet and stored.pets[at] and not (root / names[0]).is_dir()
                and (stored.labels[at], stored.was[at]) == (f.label, described[2])):
            # Her folder renamed: the same photos under a new name. (Moved into another pet's folder
            # while hers is still there, a photo is a new word on it.)
            renamed[names] = renamed.get(names, 0) + 1
        elif not f.kept and not same:
            new += 1
            fresh.add(f.path)
        if at is not None and known[at]:
            rows.append((f.identity, stored.features[at], *described, stored.pet_features[at], run, stored.mtimes[at]))
        else:
            need[f.path] = (f, described)
    # With the features that name a pet (a second look at it): any photo may be a pet's, or another cat.
    for done, (path, result) in enumerate(features(base, list(need), pets=True, margin=margin), 1):
        progress("features", done, len(need))
        f, described = need[path]
        if isinstance(result, np.ndarray):
            rows.append((f.identity, result[0], *described, result[1], run, now[f.identity]))
        else:
            # Said apart ("1 could not be read"): counted new too, it was "new" at every learn.
            unreadable[path] = str(result)
            new -= path in fresh
    return Gathered(stored.merged(rows), placed, new, unreadable, dropped, forgot, renamed)


def here(examples: Examples, root: Path, run: str | None = None) -> np.ndarray:
    """Mask of the rows learnt from `root` itself: below it, and found there while its journal
    was the one it has now (`run`, `folder.first_run`; by path alone where the row does not say: one
    learnt before it was recorded, or in a folder with no journal then). A folder made since at
    the path of one learnt (`mv L L3; mkdir L`) began another journal, and so does one whose
    journal `undo --all` removed: what was learnt there is another folder's, which a learn of
    this one never forgets."""
    run = first_run(root) if run is None else run
    prefix = str(root) + os.sep
    return np.array([path.startswith(prefix) and began in ("", run)
                     for path, began in zip(examples.paths, examples.began, strict=True)], bool)


def undone(examples: Examples, root: Path) -> np.ndarray:
    """Mask of the rows learnt from `root` while it had a journal that `sorter undo --all` took away
    since: below it, learnt in a run (`began`) that is not the one `root`'s journal begins with now
    (none: undone; another: sorted again since), and their photo still in it (its identity: undo puts
    it back where it was before the sort, as it does the photos kept as sorted, and a sort since
    moves it on). A learn of `root` replaces them with nothing. A folder moved away (`mv DIR DIR3;
    mkdir DIR`) took its photos along: what was learnt there is kept for a learn of DIR3."""
    from sorter.config import STATE_DIR
    from sorter.files.identities import identity_of

    if not len(examples):
        return np.zeros(0, bool)
    prefix, ours, run = str(root) + os.sep, _ours(root), first_run(root)
    candidates = np.array([path.startswith(prefix) and began not in ("", run) and ours(path)
                           for path, began in zip(examples.paths, examples.began, strict=True)], bool)
    if not candidates.any():
        return candidates
    present: set[tuple[int, int, int]] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [name for name in dirs if not (folder == str(root) and name == STATE_DIR)]
        for name in files:
            try:
                present.add(identity_of(os.lstat(os.path.join(folder, name))))
            except OSError:
                pass
    return candidates & np.array([tuple(int(v) for v in identity) in present for identity in examples.identities],
                                 bool)


#: Said after a pet's folder that a folder at this one's path held before it (`learnt_elsewhere`):
#: not a path to act on.
BEFORE_THIS_ONE = ", a folder at this path before this one"
#: Said after a pet's folder learnt in another folder that is not there now (moved, renamed or deleted since).
NOT_THERE_NOW = ", no longer there"


def learnt_elsewhere(examples: Examples, root: Path) -> dict[str, tuple[tuple[str, int], ...]]:
    """Per named pet (cats/Luna), the pet's folders of other folders learnt before whose photos she
    is learnt from too, and how many each adds (its copies of photos here, or of another's there,
    once: as her count takes them, `pets._distinct`), most first. Two folders of one pet's name are
    one pet: `learn` says where her other photos came from, as two cats may share a name."""
    from sorter.config import CLASS_FOLDERS

    ours, placed = here(examples, root), ~examples.kept() & ~np.isnan(examples.pet_features).any(axis=1)
    # A folder moved away (`mv A A-2019; mkdir A`) leaves its rows at this folder's path: said so,
    # else "learnt before from A/cats/Luna" read as this folder's own photos. A sub-folder sorted on its
    # own (A/sub, its own journal) is another folder learnt, said by its path as any other's (`_ours`).
    prefix, below = str(root) + os.sep, _ours(root)
    elsewhere: dict[str, tuple[tuple[str, int], ...]] = {}
    for label, pet in sorted({(str(a), str(b)) for a, b in zip(examples.labels[placed], examples.pets[placed],
                                                                  strict=True) if b and a in CLASS_FOLDERS}):
        rows = placed & (examples.labels == label) & (examples.pets == pet)
        seen = {features.tobytes() for features in examples.pet_features[rows & ours]}
        counts: dict[str, int] = {}
        for i in np.flatnonzero(rows & ~ours):
            if (key := examples.pet_features[i].tobytes()) not in seen:
                seen.add(key)
                folder = _pet_folder(Path(str(examples.paths[i])), CLASS_FOLDERS[label], pet)
                if folder.startswith(prefix) and below(str(examples.paths[i])):  # learnt in the folder here before
                    folder += BEFORE_THIS_ONE
                elif not os.path.isdir(folder):  # `mv A A2` since: learnt there, and no longer there
                    folder += NOT_THERE_NOW
                counts[folder] = counts.get(folder, 0) + 1
        if counts:
            elsewhere[f"{CLASS_FOLDERS[label]}/{pet}"] = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return elsewhere


def _pet_folder(photo: Path, kind: str, pet: str) -> str:
    """The pet's folder a photo learnt as hers lies in (/home/ann/A/cats/Luna for .../cats/Luna/2019/x.jpg)."""
    for folder in photo.parents:
        if folder.name == pet and folder.parent.name == kind:
            return str(folder)
    return str(photo.parent)


def _ours(root: Path) -> Callable[[str], bool]:
    """Whether a row's photo is one a learn of `root` would find: below it, and not in a
    sub-folder sorted on its own (a learn of the folder above found none of those, and took the
    rows learnt there for photos gone)."""
    from sorter.media.folders import sorted_on_its_own

    here, sorted_apart = str(root) + os.sep, {}

    def ours(path: str) -> bool:
        if not path.startswith(here):
            return False
        folder = root
        for part in Path(path[len(here):]).parts[:-1]:
            folder = folder / part
            if folder not in sorted_apart:
                sorted_apart[folder] = sorted_on_its_own(folder)
            if sorted_apart[folder]:
                return False
        return True

    return ours


def _mtime(path: Path) -> int:
    """The photo's modification time now, as `Examples.mtimes` records it (UNKNOWN_MTIME: it could not be read,
    and its features will not be either)."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return UNKNOWN_MTIME


def _edited(learnt: int, now: int) -> bool:
    """A photo learnt at time `learnt` has been written since (edited in place, or another photo
    written over it at the same size); a time not recorded is no evidence of either."""
    return UNKNOWN_MTIME not in (learnt, now) and learnt != now


def _was(found) -> str:
    from sorter.model.personal import decision_name

    return decision_name(found.was, found.was_pet) if found.was is not None else ""
