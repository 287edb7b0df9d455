"""How hard a user's examples pull the personal head away from the bundled one (`choose_head`),
step 3 of `sorter learn`: a softmax head fitted on the model's pooled features (`heads.fit_softmax`)
where the examples pull it, the photos the user kept as sorted and half of the model's reference set
hold it to the bundled head's decisions, and the pull is chosen from `PULLS` by cross-validation
among the heads that keep the other half of the reference pets where they were (to `MAX_WORSE`).

All in numpy on features; `learn` finds the examples, and writes the head chosen here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sorter.config import OTHER
from sorter.learning.examples import Progress
from sorter.model.heads import Head, fit_softmax, folds, one_hot, principal_basis

#: How much one example weighs against one reference photo, the candidates cross-validation
#: chooses from (see `choose_head`).
PULLS = (0.1, 0.3, 1.0, 3.0, 10.0)
#: The penalty on the distance from the bundled head: keeps the problem well posed when few
#: examples and no reference set pin it down.
L2 = 1e-3
#: Examples weigh as if against this many reference photos when the model has no reference set.
ROWS_WITHOUT_REFERENCE = 1000
#: A head that puts more than this share more of the reference pets in the wrong place is not kept.
MAX_WORSE = 0.005
#: Directions (of the examples' and anchors' features) the personal head may change in.
BASIS = 128
#: Cross-validation folds (fewer examples: leave-one-out).
FOLDS = 10


@dataclass(frozen=True)
class Choice:
    head: Head
    pull: tuple[float, float]  # how hard the examples pull: the rest, the swaps
    #: Each fold of the examples held out and the head fitted without it (all: the bundled head).
    folds: tuple[tuple[np.ndarray, Head], ...]
    unsafe: str | None = None  # why no pull is kept, where those that might gain put reference pets wrong


@dataclass(frozen=True)
class Problem:
    """What a head is fitted on: the examples (features and labels: what the user says), the
    photos the user kept as sorter filed them (held to the bundled head's probabilities, and
    held out in turn like the examples, since breaking one is a new mistake), and the anchor
    half of the reference set (held to the bundled head's probabilities), in the directions
    where they vary (`basis`)."""

    bundled: Head
    bundled_names: tuple[str, ...]
    features: np.ndarray
    labels: np.ndarray
    kept: np.ndarray
    reference: np.ndarray
    basis: np.ndarray

    @classmethod
    def make(cls, bundled: Head, names: tuple[str, ...], features: np.ndarray, labels: np.ndarray, kept: np.ndarray,
             reference: np.ndarray) -> Problem:
        basis = principal_basis(np.concatenate([features, kept, reference]), BASIS)
        return cls(bundled, names, features, labels, kept, reference, basis)

    @property
    def swaps(self) -> np.ndarray:
        """Mask of the examples the bundled head takes for the other pet (a cat it calls a dog):
        pulled apart from the rest (`choose_head`), since such mistakes are mostly the model's
        ordinary confusions, which a few examples rarely teach it to avoid."""
        predicted = _top(self.bundled.probabilities(self.features))
        pets = [i for i, name in enumerate(self.bundled_names) if name != OTHER]
        return np.isin(self.labels, pets) & np.isin(predicted, pets) & (predicted != self.labels)

    def fit(self, pulls: np.ndarray, rows: np.ndarray | None = None, kept_rows: np.ndarray | None = None) -> Head:
        """The bundled head moved by the examples (`rows` of them; default all), each weighing
        its `pulls` anchors, and held to the bundled head's probabilities on the anchors (the
        kept photos, `kept_rows` of them, and the reference half)."""
        rows = np.arange(len(self.labels)) if rows is None else rows
        kept = self.kept if kept_rows is None else self.kept[kept_rows]
        anchors = np.concatenate([kept, self.reference])
        classes = self.bundled.kernel.shape[1]
        n = len(anchors) or ROWS_WITHOUT_REFERENCE
        features = np.concatenate([self.features[rows], anchors])
        targets = np.concatenate([one_hot(self.labels[rows], classes), self.bundled.probabilities(anchors)])
        weights = np.concatenate([pulls[rows] / n, np.full(len(anchors), 1.0 / n)])
        return fit_softmax(features, targets, weights, self.bundled, l2=L2, basis=self.basis)

    def cross_validated(self, pulls: np.ndarray) -> tuple[np.ndarray, int, tuple[tuple[np.ndarray, Head], ...]]:
        """Each example's predicted label from a head fitted without it, how many kept photos a
        head fitted without them would move (FOLDS folds of each), and each fold with its head."""
        predicted = _top(self.bundled.probabilities(self.features))
        moved, fitted = 0, []
        if not pulls.any():
            return predicted, 0, ((np.arange(len(self.labels)), self.bundled),)
        kept_labels = _top(self.bundled.probabilities(self.kept))
        kept_folds = folds(len(self.kept), FOLDS)
        for i, held in enumerate(folds(len(self.labels), FOLDS)):
            held_kept = kept_folds[i] if i < len(kept_folds) else np.zeros(0, np.int64)
            head = self.fit(pulls, np.setdiff1d(np.arange(len(self.labels)), held),
                            np.setdiff1d(np.arange(len(self.kept)), held_kept))
            predicted[held] = _top(head.probabilities(self.features[held]))
            fitted.append((held, head))
            moved += int((_top(head.probabilities(self.kept[held_kept])) != kept_labels[held_kept]).sum())
        # Folds of kept photos beyond the examples' folds (fewer examples than FOLDS): held out alone.
        for held_kept in kept_folds[len(self.labels):]:
            head = self.fit(pulls, None, np.setdiff1d(np.arange(len(self.kept)), held_kept))
            moved += int((_top(head.probabilities(self.kept[held_kept])) != kept_labels[held_kept]).sum())
        return predicted, moved, tuple(fitted)


def _top(p: np.ndarray) -> np.ndarray:
    """The label as `inference.Prediction` picks it: a tie goes to the later class."""
    return p.shape[1] - 1 - np.argmax(p[:, ::-1], axis=1)


def wrong(head: Head, reference) -> tuple[int, int]:
    """(pets, non-pets) of `reference` that `head` puts in the wrong place."""
    mistaken = _top(head.probabilities(reference.features)) != reference.labels
    return int((mistaken & reference.pets).sum()), int((mistaken & ~reference.pets).sum())


def choose_head(problem: Problem, check, progress: Progress) -> Choice:
    """How hard the examples pull: for the rest, then for the swaps (`Problem.swaps`), each
    from PULLS or 0, the pull whose head, held out, puts the most examples right net of the
    kept photos it would move, among the heads that keep the check half of the reference pets
    where they were (to MAX_WORSE). Ties go to the smaller pull, the head nearest the bundled
    one; (0, 0) is the bundled head itself, chosen when no pull gains anything (corrections
    that do not generalise yet) or none is safe, which `unsafe` says: the corrections are kept,
    not learnt, and a named pet is learnt all the same (refusing the whole model threw her away
    for corrections it had not learnt, and its report showed the bundled head as the one kept)."""
    swaps = problem.swaps
    bundled_predicted = _top(problem.bundled.probabilities(problem.features))
    best = Choice(problem.bundled, (0.0, 0.0), ((np.arange(len(problem.labels)), problem.bundled),))
    best_score = int((bundled_predicted == problem.labels).sum())
    if best_score == len(problem.labels):
        # Every example already right (photos filed into cats/Luna/ that the model calls cats):
        # no pull can score more, so none is tried. Saves the cross-validation, most of `learn`.
        return best
    least_worse: float | None = None
    pets = int(check.pets.sum()) if check is not None else 0
    wrong_before = wrong(problem.bundled, check)[0] if pets else 0  # the same for every pull: scored once
    steps = [(pull, 0.0) for pull in PULLS] + [(None, pull) for pull in PULLS]
    for i, (rest, swap) in enumerate(steps):
        progress("fitting", i, len(steps))
        pull = (best.pull[0] if rest is None else rest, swap)
        if rest is None and not swaps.any():
            continue
        pulls = np.where(swaps, pull[1], pull[0])
        if not pulls.any():
            continue
        head = problem.fit(pulls)
        if pets:
            worse = (wrong(head, check)[0] - wrong_before) / pets
            if worse > MAX_WORSE:
                least_worse = worse if least_worse is None else min(least_worse, worse)
                continue
        predicted, moved, fitted = problem.cross_validated(pulls)
        score = int((predicted == problem.labels).sum()) - moved
        if score > best_score:
            best, best_score = Choice(head, pull, fitted), score
    progress("fitting", len(steps), len(steps))
    if not any(best.pull) and least_worse is not None:  # the weaker pulls, safe, gained nothing held out
        return replace(best, unsafe=f"learning them would put {least_worse:.1%} more of the reference pets in the "
                                    f"wrong place (at most {MAX_WORSE:.1%})")
    return best
