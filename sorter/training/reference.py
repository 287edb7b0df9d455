"""The reference set a model carries (MODEL.reference.npz): the pooled features of held-out
validation photos, pets above all, with their true labels. `sorter learn` fits a personal
head against half of it (so the head keeps the model's decisions where nobody corrected it)
and measures on the other half how its decisions on pets move, refusing a head that puts more
than 0.5% of them in the wrong place.

Why features and not photos: a personal head changes only the last layer, so the features are
all it needs, they ship without the photos' licences, and checking 2,000 pets costs a matrix
product instead of a minute of decoding. float16 halves the file (1,000 pets per class and
1,000 non-pets at 1280 features: 7.7 MB) and moves no decision that matters here: the logits
change by ~1e-3.

Made by `sorter train` from its run's validation split (`reference_of`), saved with the rest of
the model's set; for a model trained before train made it, by `make_reference` from the split its
metadata records (benchmarks/make_reference_set.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sorter.config import OTHER
from sorter.errors import ModelError, UsageError
from sorter.model.arrays import opened
from sorter.model.pet_heads import FIRST_MARGIN

#: Validation photos kept per class (cat, dog, other): "a few thousand pets, a few MB".
PER_CLASS = 1000


def reference_path(model_path: Path) -> Path:
    return model_path.with_suffix(".reference.npz")


@dataclass(frozen=True)
class Reference:
    features: np.ndarray  # (n, features) float32
    labels: np.ndarray  # (n,) index into class_names
    class_names: tuple[str, ...]
    #: (n, features): the features that name a pet (`second_look.pet_features`), what a named
    #: pet's head tells the other cats by; a set made before the second look: `features`.
    pet_features: np.ndarray | None = None
    #: The crop margin of `pet_features` (`second_look.MARGIN`; a set that does not say: the first).
    pet_margin: float = FIRST_MARGIN

    def __post_init__(self) -> None:
        if self.pet_features is None:
            object.__setattr__(self, "pet_features", self.features)

    def halves(self) -> tuple[Reference, Reference]:
        """(what a fit may see, what it is measured on): every other photo of each class, so
        both halves hold the same mix."""
        order = np.argsort(self.labels, kind="stable")
        fit, check = order[0::2], order[1::2]
        return self.subset(fit), self.subset(check)

    def subset(self, rows: np.ndarray) -> Reference:
        return Reference(self.features[rows], self.labels[rows], self.class_names, self.pet_features[rows],
                         self.pet_margin)

    @property
    def pets(self) -> np.ndarray:
        """Mask of the rows that are cats or dogs."""
        names = np.array(self.class_names)
        return names[self.labels] != OTHER


def read_reference(model_path: Path) -> Reference | None:
    """The model's reference set, or None when it has none."""
    path = reference_path(model_path)
    with opened(path, lambda why: ModelError(f"{path}: unreadable reference set ({why})")) as data:
        if data is None:
            return None
        features, labels = data["features"].astype(np.float32), data["labels"].astype(np.int64)
        names = tuple(str(n) for n in data["class_names"])
        pet_features = data["pet_features"].astype(np.float32) if "pet_features" in data else None
        margin = float(data["pet_margin"]) if "pet_margin" in data else FIRST_MARGIN
    if features.ndim != 2 or labels.shape != (len(features),) or (len(labels) and labels.max() >= len(names)) or (
        pet_features is not None and pet_features.shape != features.shape
    ):
        raise ModelError(f"{path}: not a sorter reference set")
    return Reference(features, labels, names, pet_features, margin)


def write_reference(path: Path, reference: Reference) -> None:
    """Whole or not at all: under a hidden temporary name (`.NAME.tmp.npz`: numpy adds .npz to a
    name without it) renamed over `path`, and removed on a kill or Ctrl-C (`written_whole`)."""
    from sorter.training.publish import written_whole

    with written_whole(path, path.with_name(f".{path.name}.tmp.npz")) as temporary:
        np.savez_compressed(temporary, features=reference.features.astype(np.float16), labels=reference.labels,
                            class_names=np.array(reference.class_names),
                            pet_features=reference.pet_features.astype(np.float16),
                            pet_margin=np.array(reference.pet_margin))


def reference_of(
    classifier, items: list[tuple[Path, int]], *, per_class: int = PER_CLASS,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Reference:
    """The reference set of `classifier` (a model whose .tflite ends at its pooled features)
    from its validation photos `items` ((path, index into `datasets.ALL_CLASSES`)): up to
    `per_class` photos of each class, spread over the class, through the model's int8 features,
    as `sort` sees them. A photo that cannot be decoded is left out."""
    from sorter.model.inference import features
    from sorter.model.second_look import MARGIN
    from sorter.training.datasets import ALL_CLASSES

    chosen: list[tuple[Path, int]] = []
    for index in range(len(ALL_CLASSES)):
        rows = [item for item in items if item[1] == index]
        step = max(1, len(rows) // per_class)  # spread over the whole class, and every kind of non-pet
        chosen += rows[::step][:per_class]
    labels = dict(chosen)
    rows, kept = [], []
    for done, (path, result) in enumerate(features(classifier, [p for p, _ in chosen], pets=True, margin=MARGIN), 1):
        progress(done, len(chosen))
        if isinstance(result, np.ndarray):
            rows.append(result)
            kept.append(labels[path])
    names = tuple(classifier.class_names)
    kept_names = [ALL_CLASSES[k] for k in kept]
    keep = [i for i, name in enumerate(kept_names) if name in names]  # a cat/dog model: no non-pets
    width = classifier.head[0].shape[0]
    both = np.array(rows, np.float32).reshape(len(rows), 2, width)[keep]
    return Reference(both[:, 0], np.array([names.index(kept_names[i]) for i in keep], np.int64), names, both[:, 1],
                     MARGIN)


def make_reference(
    model_path: Path, data_dir: Path, other: tuple[Path, ...] = (), *, per_class: int = PER_CLASS,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Path:
    """Write MODEL.reference.npz from the validation split the model's metadata records
    (`sorter.training.datasets.split` with its seed, share and limit), as `sorter train` makes
    it (`reference_of`): for a model trained before train made one. `other`: the non-pet folders
    (default: those the metadata names)."""
    from sorter.model import lite
    from sorter.training.datasets import recorded_other_dirs, split

    classifier = lite.load_classifier(model_path)
    if classifier.head is None:
        raise ModelError(f"{model_path}: its .tflite ends at probabilities, not pooled features: "
                         "retrain it with `sorter train` to give it a reference set")
    meta = classifier.metadata.get("training", {})
    if "seed" not in meta:
        raise UsageError(f"{model_path}: its metadata does not record its split")
    other = other or tuple(folder for folder in recorded_other_dirs(meta) if folder.is_dir())
    parts = split(data_dir, float(meta["validation_split"]), int(meta["seed"]), meta.get("limit"), other)
    if not parts.validation:
        raise UsageError(f"{model_path}: its split holds no validation photos (--validation-split "
                         f"{meta['validation_split']}), which a reference set is made of")
    path = reference_path(model_path)
    write_reference(path, reference_of(classifier, parts.validation, per_class=per_class, progress=progress))
    return path
