"""What a learn fits, and the fit it reuses when everything that fit reads is as it was.

Learning a folder again with nothing new in it (or the review page's **Learn** button pressed
twice) fitted the same heads from the same examples: the cross-validated softmax, each named
pet's folds and the second look at the unsure photos, all of `learn` but a listing. Measured on
a QA folder of 445 sorted photos (217 placed, 3 named cats), 2 busy shared cores: the first
learn 16-60 s, the same learn again 21-62 s, its answer the same; reused, 0.7-1.1 s. The fit
is deterministic but for the order multithreaded BLAS sums in (seeded folds, plain L-BFGS: two
fits of the same examples differ in a pet head's fifth digit, and decide every photo alike), so
a learn whose inputs hash to the key the personal model was written with takes that model's
heads and the numbers of its report, and fits nothing.

The key (`fit_key`) is a sha256 of everything the fit and its report read: the model's
fingerprint, its head and ImageNet evidence, the reference set, every example (identity,
features, labels, pets, what sorter had, path, journal's run, crop margin), where each placed
photo is now and its size and time (the second look reads those files), and the source of the
`sorter` package (a new version fits anew). It is kept in `personal.npz` beside the heads it
gives, with the report's numbers: two strings, a few KB, written with the model and deleted
with it, so they never describe another model.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sorter.errors import SorterError
from sorter.learning.as_sorted import where_now
from sorter.learning.pets import PetReport
from sorter.model.heads import Head
from sorter.model.personal import ROW_COLUMNS, Examples
from sorter.model.pet_heads import PetHead


@dataclass(frozen=True)
class KindReport:
    """One kind of correction ("dog -> cat") over every example the personal model has:
    how many, how many the model alone files right as `sort --no-personal` does (its second
    look at unsure photos included: `as_sorted`), and how many the personal head places right
    when each is held out of the fit."""

    kind: str
    photos: int
    bundled_right: int
    personal_right: int


@dataclass(frozen=True)
class ReferenceReport:
    """The held-out half of the model's reference set, before and after."""

    pets: int
    wrong_before: int
    wrong_after: int
    into_named: int = 0  # reference pets a named-pet head would claim
    others: int = 0
    others_wrong_before: int = 0
    others_wrong_after: int = 0

    @property
    def worse(self) -> float:
        return (self.wrong_after - self.wrong_before) / self.pets if self.pets else 0.0


@dataclass(frozen=True)
class Fit:
    """What a learn fitted from its examples (`learn._fit`), and what its report says of it."""

    head: Head
    pull: tuple[float, float]  # see `head_choice.choose_head`
    unsafe: str | None
    pet_heads: tuple[PetHead, ...]
    pets: list[PetReport]
    reference: ReferenceReport | None
    kinds: list[KindReport]

    def report(self) -> str:
        """The report's numbers, as `reused` reads them back."""
        return json.dumps({"pull": list(self.pull), "unsafe": self.unsafe, "pets": [asdict(p) for p in self.pets],
                           "reference": None if self.reference is None else asdict(self.reference),
                           "kinds": [asdict(k) for k in self.kinds]})


def fit_key(base, bundled: Head, names: tuple[str, ...], examples: Examples, reference, margin: float,
            found) -> str:
    """The sha256 of what a fit of `examples` reads (see the module's docstring)."""
    digest = hashlib.sha256()

    def add(*values) -> None:
        for value in values:
            data = np.ascontiguousarray(value) if isinstance(value, np.ndarray) else np.array(repr(value))
            digest.update(f"{data.dtype.str}{data.shape}".encode())
            digest.update(data.tobytes())

    add(base.fingerprint, names, margin, bundled.kernel, bundled.bias, bundled.temperature)
    if bundled.evidence is not None:
        add(bundled.evidence.kernel, bundled.evidence.bias, bundled.evidence.weights, bundled.evidence.offset)
    if reference is not None:
        add(reference.features, reference.labels, reference.class_names, reference.pet_features)
    add(examples.pet_margin, *(getattr(examples, column) for column in ROW_COLUMNS))
    add(*((str(path), *_stat(path)) for path in where_now(examples.subset(~examples.kept()), found)))
    add(_source())
    return digest.hexdigest()


def reused(key: str) -> Fit | None:
    """The fit the personal model was written with, where it was written with `key`; else None."""
    from sorter.model import personal

    recorded = personal.read_fit()
    if recorded is None or recorded[0] != key:
        return None
    try:
        model = personal.read_model()
    except SorterError:  # a damaged model is fitted again, and written whole
        return None
    if model is None:
        return None
    try:  # a report that does not read back (edited by hand) is fitted again, as a damaged model is
        report = json.loads(recorded[1])
        pets = [PetReport(**{k: tuple(v) if isinstance(v, list) else v for k, v in p.items()}) for p in report["pets"]]
        return Fit(model.head, tuple(report["pull"]), report["unsafe"], model.pets, pets,
                   None if report["reference"] is None else ReferenceReport(**report["reference"]),
                   [KindReport(**k) for k in report["kinds"]])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _stat(path: Path | None) -> tuple[int, ...]:
    """What changes when the file at `path` is edited or replaced; () where there is none."""
    try:
        st = os.stat(path) if path is not None else None
    except OSError:
        st = None
    return () if st is None else (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _source() -> str:
    """The sha256 of the `sorter` package's code: a fit by another version is not this one's."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
