"""The hold-out: non-pets from sources no training photo came from (`--holdout`), scored by
kind, and what a default `--min-confidence` would do with its mistakes.

A hold-out is for validation only: never trained on, nothing fitted on it. The validation
split shares its sources with the training photos, so it measures memory as much as judgment;
the hold-out tells a model that generalises from one that learnt its sources (issue 23).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sorter.config import CLASS_NAMES, OTHER
from sorter.errors import UsageError
from sorter.training.scoring import Progress, Scored, no_progress, predicted, score_items

#: --min-confidence values weighed as a default.
THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.9)
#: The rule for a default (issue 23): it leaves at least half of the hold-out's non-pets that
#: were filed as pets in place, and at most 1 % of the pets (studio and in scenes) unsure.
MOST_PETS_UNSURE = 0.01
LEAST_MISTAKES_KEPT = 0.5


@dataclass(frozen=True)
class HeldOut:
    """One kind of a hold-out folder: how many, how many were left in place, and where the
    rest went."""

    kind: str
    n: int
    left: int
    to_cats: int
    to_dogs: int

    @property
    def rate(self) -> float:
        return self.left / self.n if self.n else 0.0


@dataclass(frozen=True)
class Threshold:
    """What one `--min-confidence` would do: the share of the pets filed as pets today that it
    would leave unsure, and the share of the hold-out's non-pets filed as pets that it would
    leave in place."""

    min_confidence: float
    pets_unsure: float
    mistakes_kept: float
    n_pets: int
    n_mistakes: int

    @property
    def safe(self) -> bool:
        return self.pets_unsure <= MOST_PETS_UNSURE and self.mistakes_kept >= LEAST_MISTAKES_KEPT

    def line(self) -> str:
        return (f"--min-confidence {self.min_confidence:.2f}: {self.mistakes_kept:.0%} of the hold-out's "
                f"{self.n_mistakes} mistakes left in place, {self.pets_unsure:.1%} of the pets unsure"
                + (" (safe)" if self.safe else ""))


def holdout_json(kinds: list[HeldOut]) -> list[dict]:
    return [{**asdict(k), "rate": k.rate} for k in kinds]


def thresholds_json(rows: list[Threshold]) -> list[dict]:
    return [{**asdict(t), "safe": t.safe} for t in rows]


def check_holdout(holdout: Path, photos: tuple[Path, ...], they_are: str, why: str) -> None:
    """A hold-out folder is non-pets for validation only: it may share no photo with the
    folders of `photos` (`they_are` says what they are, `why` why they may not meet), nor hold
    Cat/ or Dog/ at its top.
    Names and `stat`s only: nothing is decoded, so it is checked before anything is."""
    from sorter.training.datasets import missing_folder, refuse_pets

    if not holdout.is_dir():
        raise UsageError(missing_folder(holdout, "--holdout", "hold-out folder"))
    held = holdout.resolve()
    for folder in photos:
        theirs = folder.resolve()
        if held.is_relative_to(theirs) or theirs.is_relative_to(held):
            raise UsageError(f"--holdout {holdout} overlaps the {they_are} in {folder}: {why}")
    refuse_pets(holdout, "--holdout")


def score_holdout(classifier, folder: Path, progress: Progress = no_progress) -> tuple[list[HeldOut], Scored]:
    """Every photo below `folder` is a non-pet; its first sub-folder is its kind. Returns the
    kinds, in name order, and the scored photos (with those that could not be read)."""
    from sorter.training.datasets import ALL_CLASSES, images_below, kind_of, kind_shown, missing_folder, refuse_pets

    if not folder.is_dir():
        raise UsageError(missing_folder(folder, "--holdout", "hold-out folder"))
    refuse_pets(folder, "--holdout")
    paths = images_below(folder)
    if not paths:
        raise UsageError(f"no images in the hold-out folder {folder}")
    scored = score_items(classifier, [(p, ALL_CLASSES.index(OTHER)) for p in paths], progress,
                         {p: kind_of(p, folder) for p in paths})
    tally: dict[str, dict[str, int]] = {}
    for kind, label in zip(scored.kinds, predicted(scored), strict=True):
        counts = tally.setdefault(kind, dict.fromkeys(ALL_CLASSES, 0))
        counts[label] += 1
    kinds = [HeldOut(kind_shown(kind), sum(c.values()), c[OTHER], c["cat"], c["dog"])
             for kind, c in sorted(tally.items())]
    return kinds, scored


def threshold_table(pets: Scored, held: Scored) -> list[Threshold]:
    """For each of THRESHOLDS: `pets` are labelled photos (the pets among them count: studio
    and in scenes), `held` the hold-out's non-pets. Only what is filed as a pet changes."""
    def filed(scored: Scored, rows: np.ndarray) -> np.ndarray:
        """The confidence of each of `rows` that is filed as a pet (cat or dog)."""
        labels = np.array(predicted(scored), dtype=object)
        top = scored.probabilities.max(axis=1) if len(labels) else np.zeros(0)
        return top[rows & np.isin(labels, CLASS_NAMES)]

    is_pet = pets.true < len(CLASS_NAMES)  # cat and dog come first in ALL_CLASSES
    pets_filed, mistakes = filed(pets, is_pet), filed(held, np.ones(len(held.true), bool))
    n_pets = int(is_pet.sum())
    return [Threshold(t, float((pets_filed < t).sum() / n_pets) if n_pets else 0.0,
                      float((mistakes < t).mean()) if len(mistakes) else 1.0, n_pets, len(mistakes))
            for t in THRESHOLDS]


def safe_default(rows: list[Threshold]) -> float | None:
    """The lowest threshold that meets the rule, or None."""
    return next((t.min_confidence for t in rows if t.safe), None)
