"""The personal model at work: the classifier that runs a model with the user's personal head
and named pets in place of its own softmax (`PersonalClassifier`), applied only to the model it
was fitted on (`personalise`), for sort, watch and evaluate, and followed through a watch as
`sorter learn` writes it anew (`Follower`). Its file, and what it holds: `personal`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sorter.config import CLASS_FOLDERS, names_a_pet
from sorter.errors import SorterError
from sorter.model import personal
from sorter.model.pet_heads import Nearly
from sorter.model.second_look import Box, Closer, filed, filed_boxes, first_look, judged_again, looked_again


class PersonalClassifier:
    """The model with the personal head instead of its own softmax: the same features (the
    int8 .tflite), a head fitted on the user's corrections, and the user's named pets."""

    def __init__(self, base, model: personal.PersonalModel, base_name: str) -> None:
        self.base = base
        self.model = model
        self.image_size = base.image_size
        self.class_names = tuple(base.class_names)
        self.metadata = getattr(base, "metadata", {})
        self.fingerprint = base.fingerprint
        self.head = (model.head.kernel, model.head.bias, model.head.temperature)
        self.description = model.describe(base_name)
        self._pets = {p.species: p for p in model.pets}

    def run(self, batch) -> np.ndarray:
        return self.base.run(batch)

    def predict(self, batch, closer: Sequence[Closer | None] | None = None) -> np.ndarray:
        return self.predict_named(batch, closer)[0]

    def judge(self, features: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
        """Pooled features -> the personal head's probabilities, with ImageNet's word weighed
        on them as on the model's own head, and what ImageNet sees in each photo."""
        p = self.model.head.probabilities(features)
        evidence = getattr(self.base, "evidence", None)
        if evidence is None:
            return p, [None] * len(p)
        return evidence.judge(p, features)

    def predict_named(
        self, batch, closer: Sequence[Closer | None] | None = None,
    ) -> tuple[np.ndarray, list[str | None], list[str | None], list[Box | None], list[Nearly | None]]:
        """Probabilities per class, the named pet (or None) of each photo, what ImageNet sees
        in it, where its pet is (`LiteClassifier.predict_named`), and for a photo that a named
        pet's head looked at and did not name, how close it came (`files.suggestions`)."""
        features, maps = first_look(self.base, batch)
        p, looks = self.judge(features)
        # Photos the first look is unsure of look again at the pet, as with the model's own head.
        p = judged_again(self, batch, features, maps, p, closer)
        pets: list[str | None] = [None] * len(p)
        nearly: list[Nearly | None] = [None] * len(p)
        for species, heads in self._pets.items():
            if species not in self.class_names:
                continue
            # Every photo, whatever it was filed as, when its head knows what is not its species
            # (`learning.pets`): a user's cat the model takes for a dog is still hers. An older
            # head (others == 1) knows only cats from cats: the photos filed as its species.
            # A second look only for the photos that could be a named pet (`PetHead.could_be`).
            rows = np.flatnonzero([name is None for name in pets])
            if heads.others == 1:
                rows = rows[filed(p[rows]) == self.class_names.index(species)]
            rows = rows[heads.could_be(features[rows])]
            if not len(rows):
                continue
            named = looked_again(self.base, np.asarray(batch)[rows], features[rows], None if maps is None else maps[rows],
                                 None if closer is None else [closer[row] for row in rows], heads.margin)
            names, chances = heads.likeliest(named)
            for row, name, chance in zip(rows, names, chances, strict=True):
                if not names_a_pet(name):  # cats/2019, learnt as a pet before a date folder was known for none
                    continue
                if chance >= heads.threshold:
                    pets[row] = name
                    p[row] = as_species(p[row], self.class_names.index(species), chance)
                elif nearly[row] is None or nearly[row].chance < chance:
                    nearly[row] = Nearly(f"{CLASS_FOLDERS[species]}/{name}", float(chance))
        for row, name in enumerate(pets):
            if name is not None:
                nearly[row] = None  # named by one species' head: what another's came close to is moot
        return p.astype(np.float32), pets, looks, filed_boxes(self, maps, p), nearly


def as_species(row: np.ndarray, species: int, chance: float) -> np.ndarray:
    """A photo's probabilities once a named pet of `species` was recognised in it at `chance`:
    unchanged where the photo was filed as that species already; else `chance` for the species
    and the rest shared as before, so that it is filed with its pet (a named cat the model took
    for a dog goes into cats/Luna, with the pet head's confidence)."""
    if filed(row[None])[0] == species:
        return row
    rest = np.delete(row, species)
    rest = rest / rest.sum() * (1.0 - chance) if rest.sum() > 0 else np.full(len(rest), (1.0 - chance) / len(rest))
    return np.insert(rest, species, chance)


def personalise(classifier, model: Path | None = None, use: bool = True):
    """`classifier` with the personal head when there is a personal model fitted on this very
    model (and `use`); else `classifier` itself. A model without pooled features (an older
    bundled model), or a classifier that is not one (a test's fake), is returned as it is."""
    return personalised(classifier, model, use)[0]


def personalised(classifier, model: Path | None = None, use: bool = True) -> tuple[object, Path | None]:
    """`personalise`, and the personal model's file where one is there but was learnt on another
    model (its fingerprint or classes differ), so left aside: `sort -v` says so (else None)."""
    if not use or getattr(classifier, "head", None) is None or getattr(classifier, "fingerprint", None) is None:
        return classifier, None
    fitted = personal.read_model()
    if fitted is None:
        return classifier, None
    if fitted.base != classifier.fingerprint or fitted.class_names != tuple(classifier.class_names):
        return classifier, personal.model_file()
    return PersonalClassifier(classifier, fitted, personal.base_name(model)), None


def named_pets(classifier) -> dict[str, tuple[str, ...]]:
    """The named pets a classifier recognises, by species ({"cat": ("Luna",)}); none without a
    personal model."""
    return personal.named_in(getattr(classifier, "model", None))


def describe(classifier, model: Path | None) -> str:
    """"bundled model", "model PATH", or with a personal head "bundled model + 37 corrections"."""
    return getattr(classifier, "description", None) or personal.base_name(model)


class Follower:
    """For `watch`: the personal model as it is now. `check` between batches costs one stat;
    when learn has written a new one, the head is read again (the .tflite stays loaded)."""

    def __init__(self, base, model: Path | None, use: bool) -> None:
        self.base, self.model, self.use = base, model, use
        self._stamp = personal.stamp(personal.model_file()) if use else None
        self.classifier = personalise(base, model, use)

    def check(self) -> str | None:
        """None when nothing changed; else a line for the log (the new model, or why the old one stays)."""
        if not self.use or personal.stamp(personal.model_file()) == self._stamp:
            return None
        self._stamp = personal.stamp(personal.model_file())
        try:
            self.classifier = personalise(self.base, self.model, self.use)
        except SorterError as exc:
            return f"{exc}; still sorting with {describe(self.classifier, self.model)}"
        return f"now sorting with {describe(self.classifier, self.model)}"
