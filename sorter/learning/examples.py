"""The user's examples (`personal.Examples`) as a learn of one folder leaves them: the photos
found placed there added (their features run only where not learnt before), and that folder's
rows whose photo is not found any more taken out."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sorter.model.personal import Examples

Progress = Callable[[str, int, int], None]


def gather(root: Path, found, base, progress: Progress, margin: float) -> tuple[Examples, int, dict[Path, str], int]:
    """The user's examples with this folder's found photos added: features run only for the
    photos not learnt before, or whose features that name a pet were cut at another margin
    (`Examples.with_pet_margin`: those of other folders stay unknown until learnt there again).
    This folder's rows whose photo is not found now go (deleted, edited since, put back where
    sorter put it, its pet's folder gone): the examples say what the folder says now, and a row
    whose photo is found at another path (the folder moved: `mv DIR DIR2`) takes that path, so
    that the next learn there forgets it once it is deleted. Returns
    (examples, photos new or changed, unreadable ones and why, examples dropped because they
    were learnt on another model)."""
    from sorter.model import personal
    from sorter.model.inference import features

    stored = personal.read_examples()
    dropped = 0
    if stored is None or stored.base != base.fingerprint:
        dropped = 0 if stored is None else len(stored)
        stored = Examples.empty(base.fingerprint, base.head[0].shape[0])
    stored = stored.with_pet_margin(margin)
    now = {f.identity for f in found}
    ours = _ours(root)
    stale = np.array([tuple(int(v) for v in identity) not in now and ours(path)
                      for path, identity in zip(stored.paths, stored.identities, strict=True)], bool)
    stored = stored.subset(~stale) if stale.any() else stored
    known = ~np.isnan(stored.pet_features).any(axis=1)  # else cut at another margin: computed again
    index = stored.index()
    rows, need, unreadable, new = [], {}, {}, 0
    for f in found:
        at = index.get(f.identity)
        described = (f.label, f.pet or "", _was(f), str(f.path))
        same = at is not None and (stored.labels[at], stored.pets[at], stored.was[at]) == described[:3]
        if same and known[at] and stored.paths[at] == described[3]:
            continue  # learnt before, and the photo has not moved since
        new += not f.kept and not same
        if at is not None and known[at]:
            rows.append((f.identity, stored.features[at], stored.pet_features[at], *described))
        else:
            need[f.path] = (f, described)
    # With the features that name a pet (a second look at it): any photo may be a pet's, or another cat.
    for done, (path, result) in enumerate(features(base, list(need), pets=True, margin=margin), 1):
        progress("features", done, len(need))
        f, described = need[path]
        if isinstance(result, np.ndarray):
            rows.append((f.identity, result[0], result[1], *described))
        else:
            unreadable[path] = str(result)
    return stored.merged(rows), new, unreadable, dropped


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


def _was(found) -> str:
    from sorter.model.personal import decision_name

    return decision_name(found.was, found.was_pet) if found.was is not None else ""
