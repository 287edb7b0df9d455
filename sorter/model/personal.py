"""The personal model `sorter learn` fits, where it lives, and what it holds; how sort, watch
and evaluate run it is `personal_classifier`'s.

It lives in `$XDG_DATA_HOME/sorter/` (default `~/.local/share/sorter/`): `personal.npz`, the
head that replaces the model's softmax (and the heads of the user's named pets, with their
example photos' features and the cohort of other cats their likeness is scored against), and
`examples.npz`, the photos it was fitted on (their features, labels and identities), so that
corrections from several folders and runs accumulate. Both are written whole and renamed into
place: a reader (a `sorter watch` picking up the new model) never sees half of one.

A personal model belongs to the model whose features it was fitted on (its `base`: a hash of
that MODEL.tflite). It is applied to that model only: to the bundled model by default, and
with `--model PATH` only when it was learnt on that same model. A new bundled model (an
upgrade) therefore runs without it until `sorter learn` is run again.

What sort and watch run is what learn wrote: `personal.npz` keeps a sha256 of its own arrays
(`DIGEST`: every one but the fit's key and report, which only learn reads and checks itself),
checked on every read. Heads changed since (edited by hand, half written or rewritten by
another tool, the key kept) are refused in one line naming the file and `sorter learn`, never
sorted with, and `learn` fits them again. A file written before the digest (`FIRST_FORMAT`) has
none: it is read as before, and the first learn fits it again (its key covers sorter's code:
`learning.same_fit`). Files written since are of a format (`FORMAT`) that requires it: one without
it (the digest removed with the heads edited) is changed since learnt, not taken for an old file.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.lib.npyio import NpzFile

from sorter.config import CLASS_FOLDERS, OTHER, names_a_pet
from sorter.errors import SorterError
from sorter.model import arrays
from sorter.model.formats import UPGRADE_TO_LEARN, UPGRADE_TO_SORT, NewerModel, newer
from sorter.model.heads import Head
from sorter.model.pet_heads import FIRST_MARGIN, PetHead
from sorter.model.pet_homes import Home, from_arrays, to_arrays
from sorter.wording import counted

PERSONAL_NAME = "personal.npz"
EXAMPLES_NAME = "examples.npz"
#: Written since the digest is required (`DIGEST`): a file of this format without one was changed
#: since learnt, never an old file. `FIRST_FORMAT`'s are read as before: checked where they have a
#: digest, trusted where they have none (written before it was).
FORMAT = "sorter-personal/2"
FIRST_FORMAT = "sorter-personal/1"
#: What `examples.npz` says it is since it says (`write_examples`); one that does not is of this format too.
EXAMPLES_FORMAT = "sorter-examples/1"
#: The array holding the sha256 of the others (`heads_digest`).
DIGEST = "heads_sha256"
#: What the digest does not cover: itself, and the fit's key and report (`learning.same_fit`), a
#: report edited by hand being fitted again there, as it always was.
NOT_DIGESTED = (DIGEST, "fit_key", "fit_report")
#: Named pets `describe` lists by name (sort's summary, evaluate's "judged by"): a line, not a roll call.
PETS_NAMED = 3


def said(label: str) -> str:
    """How a kind names a label: cat, dog, neither."""
    return "neither" if label == OTHER else label


def decision_name(decision: str, pet: str | None) -> str:
    """How a kind names sorter's decision: cat, neither, unsure, cats/Luna."""
    return f"{CLASS_FOLDERS[decision]}/{pet}" if pet else decision


def placed_name(label: str, pet: str | None) -> str:
    """How a kind names where the user has a photo: cat, neither, cats/Luna."""
    return decision_name(said(label), pet)


def personal_dir() -> Path:
    """$XDG_DATA_HOME/sorter, or ~/.local/share/sorter (the XDG spec ignores a relative value)."""
    base = os.environ.get("XDG_DATA_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share") / "sorter"


def model_file() -> Path:
    return personal_dir() / PERSONAL_NAME


#: The lock one `sorter learn` at a time holds (`learning.learn.learning_lock`).
LEARNING_LOCK = ".learning"


def examples_file() -> Path:
    return personal_dir() / EXAMPLES_NAME


class DamagedModel(SorterError):
    """A personal model file that does not read (truncated, not written by `sorter learn`)."""

    def __init__(self, path: Path, why: str) -> None:
        self.why = why
        if path.name == EXAMPLES_NAME:
            # The photos placed in every folder learnt: `learn` reads again only the folder it is given,
            # so it cannot make them again, and says so rather than rebuild them from one folder.
            super().__init__(f"{path}: damaged personal model ({why}); it holds the photos you placed in every "
                             "folder learnt, which `sorter learn DIR` cannot read again from one folder: delete it "
                             "with `sorter learn --forget`, then learn each folder again")
        else:
            super().__init__(f"{path}: damaged personal model ({why}); delete it with `sorter learn --forget`")


def refuse_newer() -> None:
    """Learn's check before it reads or writes either file: one a newer sorter wrote is refused
    (`NewerModel`); a damaged one is learn's to fit again or report, as it was."""
    for path, known in ((model_file(), FORMAT), (examples_file(), EXAMPLES_FORMAT)):
        try:
            with opened(path) as data:
                written_as = str(data["format"]) if data is not None and "format" in data else ""
        except SorterError:
            continue
        if newer(written_as, known):
            raise NewerModel(path, written_as, known, UPGRADE_TO_LEARN)


class ChangedModel(SorterError):
    """A personal model whose arrays are not those `sorter learn` wrote (their sha256 differs)."""


def changed(path: Path) -> ChangedModel:
    return ChangedModel(f"{path}: the personal model was changed since `sorter learn` saved it (its heads do not "
                        "match their sha256); learn again (`sorter learn DIR`), or delete it with `sorter learn --forget`")


def heads_digest(arrays) -> str:
    """The sha256 of `arrays` (a name -> array mapping: what `write_model` saves, or an open npz),
    but for NOT_DIGESTED: names, dtypes, shapes and bytes, in the order of their names."""
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(n for n in arrays.keys() if n not in NOT_DIGESTED):
        data = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}\0{data.dtype.str}{data.shape}\0".encode())
        digest.update(data.tobytes())
    return digest.hexdigest()


def unreadable(path: Path, exc: OSError) -> SorterError:
    """The personal model's folder cannot be read (its permissions): not a damaged file, and
    `--forget` could not delete it either."""
    return SorterError(f"{path}: cannot read the personal model ({exc.strerror or exc}); check the folder's "
                       "permissions (or $XDG_DATA_HOME), or sort with --no-personal")


@dataclass(frozen=True)
class PersonalModel:
    base: str  # the fingerprint of the model it was fitted on
    class_names: tuple[str, ...]
    head: Head
    photos: int  # photos whose cat, dog or neither the user corrected (`learn.corrected`; before: all placed)
    pets: tuple[PetHead, ...] = ()
    homes: tuple[Home, ...] = ()  # the folders its named pets were learnt from (`pet_homes`)

    def describe(self, base_name: str) -> str:
        """"bundled model + 37 corrections + 2 named pets (Luna: 10 photos, Milo: 12 photos)", "bundled model
        + 1 named pet (Fred: 10 photos)" (his photos are no correction; nor those its head did not learn)."""
        named = [f"{name}: {counted(count, 'photo')}" if count else name
                 for pets in self.pets for name, count in pets.photos()]
        parts = [base_name]
        if self.photos:
            parts.append(counted(self.photos, "correction"))
        if named:
            listed = ", ".join(named[:PETS_NAMED]) + (", …" if len(named) > PETS_NAMED else "")
            parts.append(f"{counted(len(named), 'named pet')} ({listed})")
        return " + ".join(parts)


def write_model(model: PersonalModel, path: Path | None = None, fit: tuple[str, str] | None = None) -> Path:
    """`fit`: the key of what the model was fitted from and its report's numbers (`learning.same_fit`),
    which a learn of the same examples reuses (`read_fit`) instead of fitting them again."""
    path = path or model_file()
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT), "base": np.array(model.base), "class_names": np.array(model.class_names),
        "kernel": model.head.kernel, "bias": model.head.bias, "temperature": np.float64(model.head.temperature),
        "photos": np.int64(model.photos), "pet_species": np.array([p.species for p in model.pets], dtype=str),
        **to_arrays(model.homes),
    }
    for pets in model.pets:
        prefix = f"pets_{pets.species}_"
        arrays |= {prefix + "names": np.array(pets.names), prefix + "kernel": pets.head.kernel,
                   prefix + "bias": pets.head.bias, prefix + "threshold": np.float64(pets.threshold),
                   prefix + "margin": np.float64(pets.margin)}
        if pets.strangers is not None:
            arrays[prefix + "strangers"] = pets.strangers
        if pets.examples is not None:  # with its owners and cohort (`PetHead`, checked on reading)
            arrays |= {prefix + "examples": pets.examples.astype(np.float16), prefix + "owners": pets.owners,
                       prefix + "cohort": pets.cohort.astype(np.float16)}
    arrays[DIGEST] = np.array(heads_digest(arrays))
    if fit is not None:
        arrays |= {"fit_key": np.array(fit[0]), "fit_report": np.array(fit[1])}
    write_arrays(path, arrays)
    return path


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez, written whole under a temporary name and renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    try:
        np.savez(temporary, **arrays)
        with open(temporary, "rb") as f:
            os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def homes_recorded() -> tuple[Home, ...]:
    """The named pets' folders the personal model records, its heads not read: for `learn`, which
    replaces them (`learning.pets.removed_homes`). None where there is no model, or it cannot be
    read: that learn writes it anew."""
    try:
        with opened(model_file()) as data:
            return from_arrays(data) if data is not None else ()
    except SorterError:
        return ()


def read_fit() -> tuple[str, str] | None:
    """The key and report the personal model was written with (`write_model`'s `fit`); None where
    it has none (written before they were, or by no learn), has no digest of the heads the key
    gave (written before it was: `read_model` could not tell them changed), or cannot be read."""
    try:
        with opened(model_file()) as data:
            fitted = data is not None and "fit_key" in data and DIGEST in data
            return (str(data["fit_key"]), str(data["fit_report"])) if fitted else None
    except SorterError:
        return None


def opened(path: Path) -> AbstractContextManager[NpzFile | None]:
    """The arrays of a file learn wrote, None where there is none (`arrays.opened`): whatever does not
    read is a damaged model (`DamagedModel`), but its folder unreadable (`unreadable`)."""
    return arrays.opened(path, lambda why: DamagedModel(path, why), unreadable=lambda exc: unreadable(path, exc),
                         foreign="not a file `sorter learn` wrote")


def read_model(path: Path | None = None) -> PersonalModel | None:
    """The personal model, or None when there is none. A file that is not one is an error
    naming the file and `sorter learn --forget`, never a traceback."""
    path = path or model_file()
    with opened(path) as data:
        if data is None:
            return None
        written_as = str(data["format"])
        if newer(written_as, FORMAT):  # not damaged: sorter --forget would delete what a newer sorter learnt
            raise NewerModel(path, written_as, FORMAT, UPGRADE_TO_SORT)
        if written_as not in (FORMAT, FIRST_FORMAT):
            raise DamagedModel(path, f"format {written_as[:40]!r}")
        # Before anything is taken from it; a first-format file written before the digest has
        # none (read as it was); one of this format without it had it removed (its heads edited).
        if (DIGEST in data or written_as == FORMAT) and (
                DIGEST not in data or str(data[DIGEST]) != heads_digest(data)):
            raise changed(path)
        names = tuple(str(n) for n in data["class_names"])
        head = Head(data["kernel"].astype(np.float64), data["bias"].astype(np.float64), float(data["temperature"]))
        pets = []
        for species in (str(s) for s in data["pet_species"]):
            prefix = f"pets_{species}_"
            pet_head = Head(data[prefix + "kernel"].astype(np.float64), data[prefix + "bias"].astype(np.float64))
            pet_names = tuple(str(n) for n in data[prefix + "names"])
            # The classes before the named pets: other cats (and, since, anything but a cat).
            others = pet_head.kernel.shape[-1] - len(pet_names)
            # The example photos and cohort, since a pet's likeness counts (none before).
            likeness_of = () if prefix + "examples" not in data else (
                data[prefix + "examples"].astype(np.float32), data[prefix + "owners"].astype(np.int64),
                data[prefix + "cohort"].astype(np.float32))
            # The crop margin of its features, since it moved (before: FIRST_MARGIN).
            margin = float(data[prefix + "margin"]) if prefix + "margin" in data else FIRST_MARGIN
            # How strangers score for each pet, since a score is measured against them (none before).
            strangers = data[prefix + "strangers"].astype(np.float64) if prefix + "strangers" in data else None
            pets.append(PetHead(species, pet_names, pet_head, float(data[prefix + "threshold"]), others,
                                *likeness_of, margin=margin, strangers=strangers))
        model = PersonalModel(str(data["base"]), names, head, int(data["photos"]), tuple(pets), from_arrays(data))
    if head.kernel.ndim != 2 or head.kernel.shape[1] != len(names) or head.bias.shape != (len(names),):
        raise DamagedModel(path, f"kernel {list(head.kernel.shape)} for classes {list(names)}")
    if not np.isfinite(head.kernel).all() or not head.temperature > 0:
        raise DamagedModel(path, "not finite")
    for pets in model.pets:
        if pets.head.kernel.shape[0] != head.kernel.shape[0] or pets.others not in (1, 2) or (
            pets.head.bias.shape != (pets.others + len(pets.names),)
        ):
            raise DamagedModel(path, f"the head of the named {pets.species}s has the wrong shape")
        if pets.examples is not None and (
            pets.examples.ndim != 2 or pets.examples.shape[1] != head.kernel.shape[0] or pets.owners.shape
            != (len(pets.examples),) or not np.isin(np.arange(len(pets.names)), pets.owners).all()
            or pets.owners.min() < 0 or pets.owners.max() >= len(pets.names)
            or pets.cohort is None or pets.cohort.ndim != 2 or pets.cohort.shape[1] != head.kernel.shape[0]
        ):
            raise DamagedModel(path, f"the example photos of the named {pets.species}s do not fit their head")
        strangers = pets.strangers
        if strangers is not None and (strangers.shape != (2, len(pets.names)) or not np.isfinite(strangers).all()):
            raise DamagedModel(path, f"the named {pets.species}s' scores of strangers do not fit their head")
    return model


@dataclass(frozen=True)
class Examples:
    """The photos the user placed, accumulated over folders and runs, one row each, keyed by
    the file's identity (device, inode, size): finding the same photo again (learn run twice,
    or the photo moved once more) updates its row instead of adding one; its modification time
    (`mtimes`) tells whether the photo learnt is the one in that file now."""

    base: str
    identities: np.ndarray  # (n, 3) int64
    features: np.ndarray  # (n, features) float32
    labels: np.ndarray  # (n,) str: cat, dog, other
    pets: np.ndarray  # (n,) str: the named pet, or ""
    was: np.ndarray  # (n,) str: what sorter had decided (cat, dog, neither, unsure, cats/Luna), or ""
    paths: np.ndarray  # (n,) str: where it was found
    #: (n, features) float32: the features that name a pet (`second_look.pet_features`); NaN in
    #: a row whose photo was learnt with another crop margin and not seen since (`sorter learn`
    #: computes it again where it finds the photo).
    pet_features: np.ndarray | None = None
    #: The crop margin of `pet_features` (`second_look.MARGIN`; a file that does not say: the first).
    pet_margin: float = FIRST_MARGIN
    #: (n,) str: the run that began the journal of the folder it was found in (`files.folder.first_run`):
    #: a folder made since at that path began another, and is not the one it was learnt from. "":
    #: that folder had no journal, or learnt before this was recorded.
    began: np.ndarray | None = None
    #: (n,) int64: the photo's modification time (st_mtime_ns) when its features were run, which
    #: the identity does not hold: a photo edited in place at the same size (an orientation
    #: written into its EXIF) keeps its device, inode and size. UNKNOWN_MTIME: learnt before this
    #: was recorded (`sorter learn` reads such a photo again where it finds it).
    mtimes: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.pet_features is None:  # a model without a second look: the photo's own features
            object.__setattr__(self, "pet_features", self.features)
        if self.began is None:
            object.__setattr__(self, "began", np.full(len(self.labels), "", dtype=str))
        if self.mtimes is None:
            object.__setattr__(self, "mtimes", np.full(len(self.labels), UNKNOWN_MTIME, np.int64))

    @classmethod
    def empty(cls, base: str, n_features: int) -> Examples:
        return cls(base, np.zeros((0, 3), np.int64), np.zeros((0, n_features), np.float32),
                   *(np.zeros(0, dtype=str) for _ in range(4)))

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, rows: np.ndarray) -> Examples:
        return replace(self, **{column: getattr(self, column)[rows] for column in ROW_COLUMNS})

    def with_pet_margin(self, margin: float) -> Examples:
        """These examples for features that name a pet cut at `margin`: as they are when that
        is their margin, else with every row's pet features unknown (NaN) until computed again."""
        if margin == self.pet_margin:
            return self
        return replace(self, pet_features=np.full_like(self.pet_features, np.nan), pet_margin=margin)

    def placed(self) -> np.ndarray:
        """Where the user has each photo, as `was` names sorter's decisions: cat, cats/Luna, neither."""
        return np.array([placed_name(str(label), str(pet)) for label, pet in zip(self.labels, self.pets, strict=True)],
                        dtype=str)

    def kept(self) -> np.ndarray:
        """Mask of the photos sorter decided about that the user left as they were (anchors)."""
        return self.was == self.placed() if len(self) else np.zeros(0, bool)

    def index(self) -> dict[tuple[int, int, int], int]:
        return {tuple(int(v) for v in row): i for i, row in enumerate(self.identities)}

    def merged(self, rows: list[tuple]) -> Examples:
        """These rows, each its `ROW_COLUMNS` in their order (identity, features, label, pet,
        was, path, pet features, began, mtime), added, or replacing the row of the same identity."""
        if not rows:
            return self
        index = self.index()
        keep = np.ones(len(self), bool)
        for identity, *_ in rows:
            if identity in index:
                keep[index[identity]] = False
        columns = {}
        for column, new in zip(ROW_COLUMNS, zip(*rows, strict=True), strict=True):
            old = getattr(self, column)
            new = np.array(new, dtype=str if old.dtype.kind == "U" else old.dtype).reshape(-1, *old.shape[1:])
            columns[column] = np.concatenate([old[keep], new])
        return replace(self, **columns)


#: The columns of `Examples` with a value per row, in the order `Examples.merged` takes them.
ROW_COLUMNS = ("identities", "features", "labels", "pets", "was", "paths", "pet_features", "began", "mtimes")
#: `Examples.mtimes` of a row learnt before modification times were recorded.
UNKNOWN_MTIME = -1


def read_examples(path: Path | None = None) -> Examples | None:
    path = path or examples_file()
    with opened(path) as data:
        if data is None:
            return None
        written_as = str(data["format"]) if "format" in data else EXAMPLES_FORMAT  # written before it said
        if newer(written_as, EXAMPLES_FORMAT):
            raise NewerModel(path, written_as, EXAMPLES_FORMAT, UPGRADE_TO_LEARN)
        if written_as != EXAMPLES_FORMAT:
            raise DamagedModel(path, f"format {written_as[:40]!r}")
        examples = Examples(str(data["base"]), data["identities"].astype(np.int64), data["features"].astype(np.float32),
                            *(data[k].astype(str) for k in ("labels", "pets", "was", "paths")),
                            # Examples from before the second look: a pet named by its photo's features.
                            data["pet_features"].astype(np.float32) if "pet_features" in data else None,
                            float(data["pet_margin"]) if "pet_margin" in data else FIRST_MARGIN,
                            # Examples from before the folder's journal was recorded with each: unknown.
                            data["began"].astype(str) if "began" in data else None,
                            # Examples from before modification times were: each photo read again once.
                            data["mtimes"].astype(np.int64) if "mtimes" in data else None)
    n = len(examples.labels)
    if examples.identities.shape != (n, 3) or len(examples.features) != n or examples.pet_features.shape != (
        examples.features.shape
    ) or not (
        len(examples.pets) == len(examples.was) == len(examples.paths) == len(examples.began) == len(examples.mtimes) == n
    ):
        raise DamagedModel(path, "its columns differ in length")
    return examples


def write_examples(examples: Examples, path: Path | None = None) -> Path:
    path = path or examples_file()
    write_arrays(path, {"format": np.array(EXAMPLES_FORMAT), "base": np.array(examples.base),
                        "identities": examples.identities, "features": examples.features,
                        "labels": examples.labels, "pets": examples.pets, "was": examples.was, "paths": examples.paths,
                        "pet_features": examples.pet_features, "pet_margin": np.array(examples.pet_margin),
                        "began": examples.began, "mtimes": examples.mtimes})
    return path


def spoilt() -> str | None:
    """What is wrong with the personal model, for learn, which fits it again from the examples, to
    say so: "changed since it was learnt (…)" (`ChangedModel`), "damaged (EOFError: …)" (`DamagedModel`).
    None where it reads, or there is none."""
    try:
        read_model()
    except ChangedModel:
        return "changed since it was learnt (its heads do not match their sha256)"
    except DamagedModel as exc:
        return f"damaged ({exc.why})"
    except SorterError:
        pass
    return None


def stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file is replaced: (mtime, size, inode), or None when absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def base_name(model: Path | None) -> str:
    return "bundled model" if model is None else f"model {model}"


def named_in(model: PersonalModel | None) -> dict[str, tuple[str, ...]]:
    """The named pets a personal model knows, by species; none without one."""
    if not isinstance(model, PersonalModel):
        return {}
    return {p.species: tuple(name for name in p.names if names_a_pet(name)) for p in model.pets}


def forget() -> list[Path]:
    """Delete the personal model and its examples; returns what was deleted. Called under
    learn's lock (`learning.learn.forget`), whose file it leaves to the lock: deleted here, a
    learn holding it went on and saved both again, and a second could run beside it."""
    removed = []
    # A learn killed while writing leaves its temporary file (photo features and paths) behind.
    try:
        temporaries = sorted(personal_dir().glob(".*.tmp.npz"))
    except OSError:
        temporaries = []
    for path in (model_file(), examples_file(), *temporaries):
        try:
            path.unlink()
            removed.append(path)
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as exc:
            raise SorterError(f"{path}: cannot delete it ({exc.strerror or exc})") from exc
    return removed
