"""The heads that name a user's pets (`sorter learn`'s cats/Luna/), and how sure they are.

A pet head is a softmax per species over (other cats, anything but a cat, Luna, Milo, ...) on
unit-length features (`sorter.learning.pets` fits it). How sure it is that a photo is Luna
weighs its word with how much more the photo looks like Luna's own photos than like strangers
(`named_chances`): the pet's example photos and a cohort of other cats travel with the head.
Each pet's score is then measured against strangers the head never saw (`against_strangers`):
one threshold means as much for a pet her head is sure of as for one it is not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sorter.model.heads import Head

#: The margin of the crop around the pet (`second_look.MARGIN`) in the features that name a pet,
#: before it was 0.05: what a reference set, a learnt pet head or a user's stored example that
#: does not say its margin had. Each keeps its own (`PetHead.margin`): a head is shown the
#: features it was fitted on.
FIRST_MARGIN = 0.15
#: A photo gets the second look that names a pet only when its own
#: features give some named pet this much (`PetHead.could_be`): the second look costs a second
#: run of the network, and most cats are nobody's Luna. Measured on the named-cats photos
#: (10 examples a cat, every rotation, 3 draws): from 0.05 to 0.5 no answer changed (own photos
#: found 69.1 %, other campus cats taken 5.5 %, Kaggle cats 0.2 %, as with every photo looked
#: at), and at 0.2, 95 % of the Kaggle cats and 65 % of the other campus cats skip it. Since a
#: pet's score is measured against strangers (`against_strangers`), a head learnt from 5 photos
#: names photos its own features give less: `named_cats.py` at 5 examples a cat, 0.2 / 0.1 / 0.05
#: found 79 / 82 / 83 of 152 at 1.3 % of the other cats (10 examples: 58 of 83 each), for 24 / 35
#: / 52 crops of `named_pets_cost.py`'s 512 photos (1.00 / 1.03 / 1.05× the time); at STRANGER_Z 3.7.
LOOK_AGAIN_FROM = 0.1

#: How much a photo's likeness to a named pet's own photos, scored against strangers, adds to
#: what the pet's head says (`named_chances`): its logit plus this many standard deviations.
#: Measured on the named-cats photos (four-cat groups, 10 random examples, three draws: 381
#: photos of named cats; the head that knows what is not a cat; the 3 nearest examples): at
#: 1 / 2 / 3 % of the other campus cats named, the head alone found 173 / 207 / 224 of them;
#: plus 0.25 / 0.5 / 1 times the likeness's z-score, 191 / 226 / 252, 205 / 235 / 251 and
#: 173 / 225 / 244, with no more Kaggle cats, dogs or hold-out non-pets named (0-0.2 %). With
#: the nearest example (`benchmarks/named_cats_draws.py`, 10 / 5 examples a cat): 0.35, 195 /
#: 232 / 250 and 227 / 317 / 364; 0.5, 200 / 235 / 247 and 241 / 317 / 362; 0.75, 197 / 228 /
#: 240 and 250 / 304 / 359.
COHORT_WEIGHT = 0.5
#: A named pet's likeness to a photo: the mean cosine of the photo's features to her nearest
#: this many example photos. `benchmarks/named_cats_draws.py`, at 1 / 2 / 3 % of the other
#: campus cats, 10 examples a cat: nearest 1, 200 / 235 / 247; 2, 196 / 231 / 245; 3, 205 / 229
#: / 242 (the head alone 173 / 207 / 224); 5 examples: 241 / 317 / 362, 253 / 303 / 351, 235 /
#: 278 / 351 (the head alone 232 / 296 / 342). Only the nearest one gains at both counts.
NEAREST = 1
#: Pseudo-pets a photo's likeness to a named pet is compared with, at most: each is as many of
#: the cohort's strangers (the reference set's cats, never the user's) as she has example photos,
#: so that a stranger's likeness to them is a fair comparison. Measured with 5 examples a cat
#: (the same draws, 687 photos): pseudo-pets of 10 found 252 / 319 / 356 at 1 / 2 / 3 % of the
#: other campus cats, of 5, 249 / 295 / 360, but at a combined 96 % the first named 1.0 % of
#: them, the second 1.5 %, as with 10 examples a cat: the same threshold holds whatever her count.
PSEUDO_PETS = 50
#: A photo is a named pet's when its score (`named_chances`' logit) stands this many standard
#: deviations above the scores of strangers of her species that her head never saw (the check
#: half of the reference set: `PetHead.against`), i.e. at the head's threshold then. Measured
#: on the named-cats photos (features cached). The draws' curve at 1 / 2 / 3 % of the other
#: campus cats named, 10 / 5 examples a cat: 199 / 237 / 255 and 265 / 352 / 383 by the score
#: as it is, 221 / 251 / 279 and 288 / 364 / 402 against strangers; the strangers' 99.5th
#: percentile instead of their mean and spread, 216 / 244 / 280 and 301 / 355 / 391. Chosen as
#: the lowest that names at most 2 % of the other campus cats in both the draws and
#: `named_cats.py`'s rotations, at 10 and at 5 examples a cat: 3.7 / 3.8 / 3.9 / 4.0 found, in
#: the draws, 267 / 251 / 244 / 227 of 381 at 2.4 / 2.0 / 1.3 / 1.0 % and 410 / 386 / 360 / 347
#: of 687 at 3.3 / 2.3 / 1.8 / 1.4 %; in the rotations 58 / 53 / 51 / 48 of 83 at 1.5 / 1.3 / 1.0
#: / 1.0 % and 83 / 80 / 69 / 61 of 152 at 1.3 / 1.1 / 0.8 / 0.5 %. The score as it is, at 0.92
#: (before): draws 254 at 3.0 % and 340 at 1.8 %; rotations 59 at 1.5 % and 61 at 0.8 %.
STRANGER_Z = 3.9
#: Strangers a head needs to be measured against: fewer, and it keeps its score as it is.
MIN_STRANGERS = 50


def normalised(features: np.ndarray) -> np.ndarray:
    """Features scaled to unit length: what the named-pet heads see. A pet is told from other
    cats by the direction of its features, not by how bright or busy the photo is."""
    features = np.asarray(features, np.float64)
    return features / np.maximum(np.linalg.norm(features, axis=-1, keepdims=True), 1e-12)


def likeness(similar: np.ndarray) -> np.ndarray:
    """(n, ...) the mean of the NEAREST highest cosines along the last axis (the highest, with
    NEAREST 1): a photo's likeness to a pet (or pseudo-pet) from its cosines to her photos."""
    nearest = min(NEAREST, similar.shape[-1])
    return np.sort(similar, axis=-1)[..., -nearest:].mean(axis=-1)


def named_chances(p: np.ndarray, features: np.ndarray, examples: np.ndarray | None, owners: np.ndarray | None,
                  cohort: np.ndarray | None) -> np.ndarray:
    """(n, pets): how sure a pet head is that each photo is each named pet. `p` is its own word
    (the named pets' columns of its softmax). With the pets' example photos (`examples`, whose
    pet `owners` gives) and a cohort of strangers (`cohort_of`), the photo's likeness to each pet
    is scored as face verification scores a face (test normalisation): in standard deviations
    above its likeness to pseudo-pets made of as many strangers as she has photos, which says
    how much more it looks like her than like any cats at all. That z-score, weighed by
    COHORT_WEIGHT, is added to the head's logit. All features normalised."""
    if examples is None or owners is None or cohort is None or not len(p):
        return p
    to_strangers = features @ cohort.T
    z = np.zeros(p.shape)
    for k in range(p.shape[1]):
        size = int((owners == k).sum())
        groups = min(PSEUDO_PETS, len(cohort) // max(size, 1))
        if groups < 2:
            continue  # too few strangers to say: her head's word alone
        pseudo = likeness(to_strangers[:, : groups * size].reshape(len(p), groups, size))
        spread = np.maximum(pseudo.std(axis=1), 1e-6)
        z[:, k] = (likeness(features @ examples[owners == k].T) - pseudo.mean(axis=1)) / spread
    return sigmoid(logit(p) + COHORT_WEIGHT * z)


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(q) - np.log1p(-q)


def sigmoid(score: np.ndarray) -> np.ndarray:
    """Back from a logit, clipped first: a cohort all alike makes a z-score huge."""
    return 1.0 / (1.0 + np.exp(-np.clip(score, -50.0, 50.0)))


def against_strangers(p: np.ndarray, strangers: np.ndarray, threshold: float) -> np.ndarray:
    """(n, pets) chances `p` measured against how strangers score for each pet (`strangers`:
    the mean and spread of their logits, (2, pets)): STRANGER_Z standard deviations above
    them is `threshold`, and each one more is one more in the logit. A head sure of every
    cat and a head unsure of her own photos then name a pet as rarely by mistake."""
    z = (logit(p) - strangers[0]) / np.maximum(strangers[1], 1e-6)
    return sigmoid(logit(np.float64(threshold)) + z - STRANGER_Z)


def stranger_scores(p: np.ndarray) -> np.ndarray:
    """(2, pets): the mean and spread of strangers' logits for each pet (`against_strangers`).
    A stranger scored 1e-20 counts as one at 1e-7 (as measured): how far off the plainly other
    cats are says nothing of the ones near her."""
    scores = logit(np.clip(p, 1e-7, 1 - 1e-7))
    return np.stack([scores.mean(axis=0), scores.std(axis=0)])


def cohort_of(strangers: np.ndarray) -> np.ndarray | None:
    """The strangers a pet's likeness is scored against ((n, features), normalised), in a fixed
    shuffled order, so that consecutive rows make the pseudo-pets; None when there are none."""
    if not len(strangers):
        return None
    return normalised(strangers[np.random.default_rng(0).permutation(len(strangers))])


@dataclass(frozen=True)
class Nearly:
    """A photo a named pet's head looked at and did not name: whose ("cats/Luna") it came
    closest to being, and how close (her chance, under the head's threshold)."""

    pet: str
    chance: float


@dataclass(frozen=True)
class PetHead:
    """The named pets of one species: a softmax over (any other cat, anything but a cat, Luna,
    Milo, ...) on normalised features; its first `others` classes are no named pet (1 in a
    model learnt before "anything but a cat": other cats only). A photo is a named pet's when
    its probability reaches `threshold`."""

    species: str
    names: tuple[str, ...]
    head: Head
    threshold: float
    others: int = 1
    #: The named pets' example photos (normalised features) and whose each is (index into
    #: `names`), and the strangers of the cohort (`cohort_of`): with them, a photo's likeness to
    #: each pet counts too (`named_chances`). A model learnt before them has none.
    examples: np.ndarray | None = None
    owners: np.ndarray | None = None
    cohort: np.ndarray | None = None
    #: The crop margin of the features it was fitted on and is shown (`second_look.looked_again`).
    margin: float = FIRST_MARGIN
    #: How strangers of its species it never saw score for each pet: the mean and spread of their
    #: logits, (2, pets) (`against_strangers`). A model learnt before has none.
    strangers: np.ndarray | None = None

    def photos(self) -> list[tuple[str, int]]:
        """Each named pet and how many photos of her it was learnt from (0: a head learnt before it kept them)."""
        if self.owners is None:
            return [(name, 0) for name in self.names]
        return list(zip(self.names, np.bincount(self.owners, minlength=len(self.names)).tolist(), strict=True))

    def scores(self, features: np.ndarray) -> np.ndarray:
        """(n, pets): what the head and the likeness say of each photo (`named_chances`), before
        it is measured against strangers."""
        features = normalised(features)
        return named_chances(self.head.probabilities(features)[:, self.others:], features, self.examples,
                             self.owners, self.cohort)

    def chances(self, features: np.ndarray) -> np.ndarray:
        """(n, pets): how sure it is that each photo is each named pet: its score, measured
        against strangers where it was (`against_strangers`)."""
        p = self.scores(features)
        return p if self.strangers is None or not len(p) else against_strangers(p, self.strangers, self.threshold)

    def against(self, strangers: np.ndarray) -> PetHead:
        """This head measured against `strangers` (features of other animals of its species it
        never saw): as it is when there are fewer than MIN_STRANGERS."""
        if len(strangers) < MIN_STRANGERS:
            return self
        return replace(self, strangers=stranger_scores(self.scores(strangers)))

    def named(self, features: np.ndarray) -> tuple[list[str | None], np.ndarray]:
        """Per photo, the named pet it is (or None), and how sure it is."""
        likeliest, chance = self.likeliest(features)
        return [name if c >= self.threshold else None for name, c in zip(likeliest, chance, strict=True)], chance

    def likeliest(self, features: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Per photo, the named pet it is likeliest to be, and how sure it is of that: named
        from `threshold` (`named`); below it, how close it came (`files.suggestions`)."""
        if not len(features):
            return [], np.zeros(0)
        p = self.chances(features)
        best = p.argmax(axis=1)
        return [self.names[b] for b in best], p[np.arange(len(p)), best]

    def recognise(self, features: np.ndarray) -> list[str | None]:
        return self.named(features)[0]

    def could_be(self, features: np.ndarray) -> np.ndarray:
        """Mask of the photos whose own features (before a second look) give some named pet at
        least LOOK_AGAIN_FROM: only those are worth the second look that decides."""
        if not len(features):
            return np.zeros(0, bool)
        return self.head.probabilities(normalised(features))[:, self.others:].max(axis=1) >= LOOK_AGAIN_FROM
