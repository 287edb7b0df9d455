"""The `evaluate` use-case: run a model over labelled photos (cats, dogs and, when the folder
has them, photos that are neither) and measure it: the confusion matrix, precision and
recall, pet accuracy, non-pets left out, pets lost to neither, and the mistakes by kind.
Returns a typed result; never prints."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from sorter.config import CLASS_NAMES, OTHER
from sorter.errors import UsageError
from sorter.model.lite import softmax
from sorter.training.holdout import (
    HeldOut,
    Threshold,
    check_holdout,
    holdout_json,
    safe_default,
    score_holdout,
    threshold_table,
    thresholds_json,
)
from sorter.training.scoring import Progress, Scored, no_progress, predicted, score_items, score_scenes
from sorter.wording import counted

#: What a --holdout that shares photos with DATA_DIR (or --other) is told (`check_holdout`):
#: `--holdout DATA/Cat` scored the folder's own cats as non-pets.
HOLDOUT_OVERLAP = ("labelled photos", "a hold-out's photos are all scored as non-pets, from other sources")

MistakeKind = Literal["swapped", "pet_called_neither", "non_pet_filed"]


def mistake_kind(true: str, predicted: str) -> MistakeKind:
    """The three ways a photo ends up in the wrong place: a cat in dogs/ (or a dog in cats/),
    a pet left in place as neither, a non-pet filed as a pet."""
    if true == OTHER:
        return "non_pet_filed"
    return "pet_called_neither" if predicted == OTHER else "swapped"


@dataclass(frozen=True)
class Mistake:
    path: str
    true_label: str
    predicted: str
    confidence: float
    kind: MistakeKind


#: --min-confidence values the coverage table shows.
COVERAGE_THRESHOLDS = (0.5, 0.8, 0.9, 0.95)
#: Bins of the expected calibration error (Guo et al. 2017 use 15).
ECE_BINS = 15


@dataclass(frozen=True)
class Coverage:
    """What `--min-confidence` does: the share of photos moved (into cats/ or dogs/), and the
    share of those moved to the wrong folder (the other pet's, or a non-pet filed at all)."""

    min_confidence: float
    moved: float
    error_among_moved: float
    n_moved: int


@dataclass(frozen=True)
class KindResult:
    """One kind of photo: pets ("cat", "dog", "cat in a scene", ...) and each kind of non-pet
    ("people", "documents", "stop_sign"): how many, and the share where it belongs."""

    kind: str
    expected: str  # cat, dog or other
    n: int
    right: int

    @property
    def rate(self) -> float:
        return self.right / self.n if self.n else 0.0


@dataclass(frozen=True)
class EvalResult:
    n: int
    accuracy: float
    # confusion[true][predicted]. Rows: cat, dog, and other when the folder has non-pets;
    # columns: those, and other whenever the model can say it.
    confusion: dict[str, dict[str, int]]
    precision: dict[str, float]
    recall: dict[str, float]
    unreadable: list[str]
    mistakes: list[Mistake] = field(default_factory=list)  # most confident first
    split: str = "all"
    pet_accuracy: float = 0.0  # pets in the right folder, over all pets
    non_pets_left_out: float | None = None  # others predicted other, over all others (None: no others)
    pets_lost_to_neither: float = 0.0  # pets predicted other, over all pets
    #: Expected calibration error over ECE_BINS bins of the top probability (None: no photos).
    ece: float | None = None
    coverage: list[Coverage] = field(default_factory=list)
    by_kind: list[KindResult] = field(default_factory=list)
    #: Non-pets from other sources (`--holdout`), by kind: empty when none was scored.
    holdout: list[HeldOut] = field(default_factory=list)
    holdout_dir: str | None = None
    #: What each default --min-confidence would do with the hold-out's mistakes and the pets.
    thresholds: list[Threshold] = field(default_factory=list)
    #: What judged them: "bundled model", or with a personal model "bundled model + 9 corrections".
    judged_by: str = ""
    #: What the folders read hold that was not read: in sub-folders, links, hidden (`not_read.NotRead`).
    not_read: list = field(default_factory=list)

    def to_json(self) -> dict:
        data = asdict(self)
        data["mistakes"] = data["mistakes"][:50]
        data["by_kind"] = [{**asdict(k), "rate": k.rate} for k in self.by_kind]
        data["holdout"] = holdout_json(self.holdout)
        data["thresholds"] = thresholds_json(self.thresholds)
        data["safe_default"] = safe_default(self.thresholds) if self.thresholds else None
        return data

    def holdout_lines(self) -> list[str]:
        """One line per kind of the hold-out folder: the share left in place, and where the rest went."""
        lines = []
        for k in self.holdout:
            went = ", ".join(f"{n} into {folder}" for n, folder in ((k.to_dogs, "dogs/"), (k.to_cats, "cats/")) if n)
            lines.append(f"{k.kind}: {k.rate:.1%} left in place ({k.left} of {k.n}{'; ' + went if went else ''})")
        return lines

    def threshold_lines(self) -> list[str]:
        """What each --min-confidence would do as a default, and whether one is safe."""
        if not self.thresholds:
            return []
        if not self.thresholds[0].n_mistakes:  # "100% of the hold-out's 0 mistakes left in place"
            return ["no hold-out photo filed as a pet: no --min-confidence has any to leave in place"]
        chosen = safe_default(self.thresholds)
        verdict = (f"a safe default: --min-confidence {chosen:.2f}" if chosen is not None else
                   "no --min-confidence is a safe default (half the mistakes kept, at most 1% of pets unsure)")
        return [verdict, *(t.line() for t in self.thresholds)]

    def calibration_lines(self) -> list[str]:
        """ECE, then one line per --min-confidence: what moves and how much of it is wrong."""
        if self.ece is None:
            return []
        lines = [f"expected calibration error: {self.ece:.2%} ({ECE_BINS} bins)"]
        for c in self.coverage:
            lines.append(f"--min-confidence {c.min_confidence:.2f}: {c.moved:.1%} moved, "
                         f"{c.error_among_moved:.2%} of them to the wrong folder")
        return lines

    def kind_lines(self) -> list[str]:
        where = {"cat": "in cats/", "dog": "in dogs/", OTHER: "left in place"}
        return [f"{k.kind}: {k.rate:.1%} {where[k.expected]} ({k.right} of {k.n})" for k in self.by_kind]

    def rate_lines(self) -> list[str]:
        """Pet accuracy, non-pets left out and pets lost to neither, as the terminal and
        confusion.png show them; none when the model and the folder know only cats and dogs."""
        if not any(OTHER in row for row in self.confusion.values()):
            return []
        pets = sum(sum(self.confusion[c].values()) for c in CLASS_NAMES)
        right = sum(self.confusion[c][c] for c in CLASS_NAMES)
        lost = sum(self.confusion[c][OTHER] for c in CLASS_NAMES)
        lines = [f"pet accuracy: {self.pet_accuracy:.2%} ({right} of {counted(pets, 'pet')} in the right folder)"]
        if self.non_pets_left_out is not None:
            others = self.confusion[OTHER]
            lines.append(
                f"non-pets left out: {self.non_pets_left_out:.2%} "
                f"({others[OTHER]} of {counted(sum(others.values()), 'non-pet')} left in place)"
            )
        lines.append(f"pets lost to neither: {self.pets_lost_to_neither:.2%} "
                     f"({lost} of {counted(pets, 'pet')} left in place)")
        return lines


def fit_temperature(scored: Scored) -> float:
    """The temperature that minimises the negative log-likelihood of the true classes
    (Guo et al. 2017): one number, fitted on validation photos, which changes no decision
    (the order of the probabilities stays) but makes a 90 % mean 90 %."""
    from sorter.training.datasets import ALL_CLASSES

    columns = [scored.class_names.index(ALL_CLASSES[t]) if ALL_CLASSES[t] in scored.class_names else -1
               for t in scored.true]
    keep = np.array(columns) >= 0
    if not keep.any():
        return 1.0
    logits = np.log(np.clip(scored.probabilities[keep], 1e-30, None))
    target = np.array(columns)[keep]

    def nll(t: float) -> float:
        p = softmax(logits, t)[np.arange(len(target)), target]
        return float(-np.log(np.clip(p, 1e-30, None)).mean())

    # Golden-section search on log T over [1/20, 20]: the NLL is unimodal in T.
    lo, hi = np.log(0.05), np.log(20.0)
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if nll(np.exp(a)) < nll(np.exp(b)):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2))


def measure(scored: Scored, split: str = "all", extra: Scored | None = None) -> EvalResult:
    """Every number of an evaluation from the probabilities; `extra` (pets in scenes) adds
    rows to the per-kind table only."""
    from sorter.training.datasets import ALL_CLASSES

    names = scored.class_names
    rows = ALL_CLASSES if (scored.true == ALL_CLASSES.index(OTHER)).any() else CLASS_NAMES
    # A two-class model on a folder with non-pets still gets an "other" column (all zeros):
    # every non-pet it sees is a mistake, and the matrix should say so.
    columns = ALL_CLASSES if OTHER in rows or OTHER in names else CLASS_NAMES
    confusion = {t: dict.fromkeys(columns, 0) for t in rows}
    mistakes: list[Mistake] = []
    predicted_labels = predicted(scored)
    confidences = scored.probabilities.max(axis=1) if len(scored.paths) else np.zeros(0)
    for path, t, label, confidence in zip(scored.paths, scored.true, predicted_labels, confidences, strict=True):
        true = ALL_CLASSES[t]
        confusion[true][label] += 1
        if label != true:
            mistakes.append(Mistake(str(path), true, label, float(confidence), mistake_kind(true, label)))
    n = sum(sum(row.values()) for row in confusion.values())
    correct = sum(confusion[c][c] for c in rows)
    precision, recall = {}, {}
    for c in columns:
        filed = sum(confusion[t][c] for t in rows)
        precision[c] = confusion[c][c] / filed if c in confusion and filed else 0.0
    for c in rows:
        actual = sum(confusion[c].values())
        recall[c] = confusion[c][c] / actual if actual else 0.0
    pets = sum(sum(confusion[c].values()) for c in CLASS_NAMES)
    others = sum(confusion[OTHER].values()) if OTHER in confusion else 0
    mistakes.sort(key=lambda m: -m.confidence)
    return EvalResult(
        n=n,
        accuracy=correct / n if n else 0.0,
        confusion=confusion,
        precision=precision,
        recall=recall,
        unreadable=scored.unreadable,
        mistakes=mistakes,
        split=split,
        pet_accuracy=sum(confusion[c][c] for c in CLASS_NAMES) / pets if pets else 0.0,
        non_pets_left_out=confusion[OTHER][OTHER] / others if others else None,
        pets_lost_to_neither=sum(confusion[c].get(OTHER, 0) for c in CLASS_NAMES) / pets if pets else 0.0,
        ece=expected_calibration_error(scored) if n else None,
        # A two-way model leaves a photo below --min-confidence in place too: the table holds for it.
        coverage=coverage_table(scored) if n else [],
        by_kind=_by_kind(scored) + (_by_kind(extra) if extra is not None else []),
    )


def expected_calibration_error(scored: Scored) -> float:
    """Mean |accuracy - confidence| over ECE_BINS equal-width bins of the top probability,
    weighted by the photos in each bin."""
    from sorter.training.datasets import ALL_CLASSES

    confidence = scored.probabilities.max(axis=1)
    right = np.array([label == ALL_CLASSES[t] for label, t in zip(predicted(scored), scored.true, strict=True)])
    bins = np.minimum((confidence * ECE_BINS).astype(int), ECE_BINS - 1)
    total = 0.0
    for b in range(ECE_BINS):
        inside = bins == b
        if inside.any():
            total += inside.sum() * abs(right[inside].mean() - confidence[inside].mean())
    return float(total / len(confidence))


def coverage_table(scored: Scored) -> list[Coverage]:
    from sorter.training.datasets import ALL_CLASSES

    labels = np.array(predicted(scored))
    confidence = scored.probabilities.max(axis=1)
    true = np.array([ALL_CLASSES[t] for t in scored.true])
    table = []
    for threshold in COVERAGE_THRESHOLDS:
        moved = (labels != OTHER) & (confidence >= threshold)
        wrong = moved & (labels != true)
        table.append(Coverage(threshold, float(moved.mean()), float(wrong.sum() / moved.sum()) if moved.any() else 0.0,
                              int(moved.sum())))
    return table


def _by_kind(scored: Scored) -> list[KindResult]:
    from sorter.training.datasets import ALL_CLASSES, kind_shown

    tally: dict[str, list] = {}
    for kind, t, label in zip(scored.kinds, scored.true, predicted(scored), strict=True):
        entry = tally.setdefault(kind, [ALL_CLASSES[t], 0, 0])
        entry[1] += 1
        entry[2] += label == ALL_CLASSES[t]
    order = {c: i for i, c in enumerate(ALL_CLASSES)}
    return [KindResult(kind_shown(kind), expected, n, right)
            for kind, (expected, n, right) in sorted(tally.items(), key=lambda kv: (order[kv[1][0]], kv[0]))]


def evaluate_items(
    classifier, items: list[tuple[Path, int]], progress: Progress = no_progress, split: str = "all",
    kinds: dict[Path, str] | None = None,
) -> EvalResult:
    """Run `classifier` over labelled photos; labels index into ("cat", "dog", "other")."""
    return measure(score_items(classifier, items, progress, kinds), split)


def evaluate(
    data_dir: Path,
    model: Path | None,
    split: str = "all",
    report_dir: Path | None = None,
    progress: Progress = no_progress,
    other: tuple[Path, ...] = (),
    personal: bool = True,
    holdout: Path | None = None,
) -> EvalResult:
    """`other`: folders of non-pet photos instead of DATA_DIR/Other/; with a split, the
    folders the model trained with (from its metadata) unless given. `personal`: with the
    user's personal model, when there is one for this model (`sorter.model.personal`).
    `holdout`: a folder of non-pets from other sources, scored by kind (with `validation`,
    the one the model's metadata records, when it is here)."""
    from sorter.model import lite, personal_classifier
    from sorter.training.datasets import (
        ALL_CLASSES,
        class_folders,
        kind_of,
        list_labelled,
        other_roots,
        recorded_other_dirs,
        recorded_shown,
        refuse_unread,
    )

    if report_dir is not None:  # before the scoring, not after it
        from sorter.training.report_folder import check_report_folder

        check_report_folder(report_dir, data_dir, other, holdout)
        if report_dir.exists() and not report_dir.is_dir():  # mkdir's "File exists" said it was, as a folder
            raise UsageError(f"--report {report_dir}: not a folder")
        try:
            report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--report {report_dir}: cannot make that folder ({exc.strerror or exc})") from None
        if not os.access(report_dir, os.W_OK | os.X_OK):
            raise UsageError(f"--report {report_dir}: cannot write in it")
    from sorter.training.datasets import split as make_split

    if holdout is not None:  # before the model is loaded, and any photo decoded
        check_holdout(holdout, (data_dir, *other), *HOLDOUT_OVERLAP)
    classifier = personal_classifier.personalise(lite.load_classifier(model), model, personal)
    trained_in = repository_of(model)  # where the bundled model's recorded folders are found from
    scenes = None
    if split == "all":
        files = list_labelled(data_dir, other)  # with "other" when the folder has an Other/
        items = [(p, ALL_CLASSES.index(label)) for label, paths in files.items() for p in paths]
        kinds = {p: kind_of(p, root) for root in other_roots(data_dir, other) for p in files.get(OTHER, [])
                 if p.is_relative_to(root)}
        from sorter.training.not_read import not_read

        passed_over = not_read([folder for label, folder in class_folders(data_dir, other).items()
                                if label in CLASS_NAMES], other_roots(data_dir, other))
    else:
        meta = classifier.metadata.get("training", {})
        if "seed" not in meta:
            raise UsageError("this model's metadata does not record its split; use --split all")
        if not other:
            other = tuple(found_from(folder, trained_in) for folder in recorded_other_dirs(meta))
            missing = tuple(folder for folder in other if not folder.is_dir())
            if missing:  # every one named at once: each is needed, and a user would look for all of them
                raise UsageError(f"this model trained with non-pets from {recorded_shown(missing)}, not found here; "
                                 "give their folders with --other (its split needs every one), or use --split all")
            if report_dir is not None:  # the folders it trained with are read too
                check_report_folder(report_dir, data_dir, other, holdout)
        if split == "validation" and not float(meta["validation_split"]):
            raise UsageError("--split validation: this model kept no validation photos (it was trained with "
                             "--validation-split 0); use --split all or --split training")
        parts = make_split(data_dir, float(meta["validation_split"]), int(meta["seed"]), meta.get("limit"), other)
        check_same_photos(parts, meta, split, data_dir, other)
        items = parts.validation if split == "validation" else parts.train
        kinds = parts.kind_of
        passed_over = parts.not_read
    if not items and split != "all":  # the folder has photos (`_list_pets`): the split kept none of them
        drawn = len(parts.train) + len(parts.validation)
        kept = "kept none" if split == "validation" else "held them all out for validation"
        raise UsageError(f"--split {split}: the model's {split} split of {data_dir} holds no photos: it had "
                         f"{counted(drawn, 'photo')}, and --validation-split {meta['validation_split']} {kept}; "
                         "use --split all")
    if not items:
        raise UsageError(f"no images to evaluate in {data_dir} (split: {split})")
    if split == "validation":
        scenes = validation_scenes(classifier, parts, int(meta["seed"]))
    scored = score_items(classifier, items, progress, kinds)
    refuse_unread(data_dir, other, items, np.bincount(scored.true).tolist(),
                  None if split == "all" else parts.counts)
    result = replace(measure(scored, split, scenes), judged_by=personal_classifier.describe(classifier, model),
                     not_read=passed_over)
    if holdout is None and split == "validation":
        recorded = Path((classifier.metadata.get("holdout") or {}).get("folder") or "")
        recorded = found_from(recorded, trained_in) if recorded != Path("") else recorded
        holdout = recorded if recorded != Path("") and recorded.is_dir() else None
        if holdout is not None:
            check_holdout(holdout, (data_dir, *other), *HOLDOUT_OVERLAP)
    if holdout is not None:
        result = with_holdout(result, holdout, *score_holdout(classifier, holdout), scored.joined(scenes))
        from sorter.training.not_read import not_read

        result = replace(result, not_read=result.not_read + not_read([], (holdout,)))
    if report_dir is not None:
        from sorter.training.report import write_evaluation_report

        write_evaluation_report(result, report_dir, classifier.image_size)
    return result


def repository_of(model: Path | None) -> Path | None:
    """The folder the bundled model's metadata records its folders from: it was trained in the
    repository (`sorter train ../shared/datasets/... --other build/text-graphics`), so from a
    checkout (a pyproject.toml above the package) `--split validation` finds them wherever it
    runs. None for another model, whose folders are relative to where it was trained, which the
    folder evaluate runs in is the best guess of, and for an installed package: no repository."""
    from sorter.config import BUNDLED_MODEL, PACKAGE_DIR

    if model is not None and model.resolve() != BUNDLED_MODEL.resolve():
        return None
    repository = PACKAGE_DIR.parent
    return repository if (repository / "pyproject.toml").is_file() else None


def found_from(folder: Path, base: Path | None) -> Path:
    """A recorded `folder`, relative to `base` (`repository_of`) where it is relative: a leading
    `..` taken as `base`'s parent (`base` is a real path), so that a message names /work/shared/...
    rather than /work/main/../shared/...; one in `../shared/datasets/` in SORTER_DATASETS, where set
    (where the tests and benchmarks find the shared sets too: a git worktree has no ../shared)."""
    shared = os.environ.get("SORTER_DATASETS")
    if shared and folder.parts[:3] == ("..", "shared", "datasets") and len(folder.parts) > 3:
        return Path(shared).joinpath(*folder.parts[3:])
    if base is None or folder.is_absolute():
        return folder
    parts = folder.parts
    while parts and parts[0] == ".." and base.parent != base:
        base, parts = base.parent, parts[1:]
    return base.joinpath(*parts)


def check_same_photos(parts, meta: dict, split: str, data_dir: Path, other: tuple[Path, ...]) -> None:
    """Another folder (or this one changed) drawn again would not give the model's split: the
    folder whose count differs is named, the pets' or the non-pets'."""
    from sorter.training.datasets import recorded_counts, recorded_other_dirs, recorded_shown

    trained, then = recorded_counts(meta)
    if trained is None:
        return
    found = {k: v for k, v in parts.counts.items() if k != OTHER}
    if found != trained:
        raise UsageError(f"--split {split}: {data_dir} is not the folder this model trained on (here "
                         f"{', '.join(f'{n} {k}' for k, n in found.items())}; it trained on "
                         f"{', '.join(f'{n} {k}' for k, n in trained.items())}); use --split all")
    here = parts.counts.get(OTHER, 0)
    if here != then:
        recorded = recorded_other_dirs(meta)
        given = ", ".join(map(str, other)) or f"{data_dir}'s Other/"
        trained_with = recorded_shown(recorded) or ("its data folder's Other/" if then else "none")
        raise UsageError(f"--split {split}: the non-pets in {given} are not those this model trained with (here "
                         f"{here}; it trained on {then}, from {trained_with}); give its --other folders, or use "
                         "--split all")


def with_holdout(result: EvalResult, folder: Path, kinds: list[HeldOut], held: Scored, pets: Scored) -> EvalResult:
    """`result` with the hold-out's kinds and what each default --min-confidence would do."""
    return replace(result, holdout=kinds, holdout_dir=str(folder), unreadable=result.unreadable + held.unreadable,
                   thresholds=threshold_table(pets, held))


def validation_scenes(classifier, parts, seed: int) -> Scored | None:
    """The split's pets in scenes: its validation pets pasted onto its validation non-pets
    (people, places, documents: the kinds a scene has, not the held-out Caltech objects)."""
    pets, backdrops = scene_parts(parts)
    if not pets or not backdrops:
        return None
    return score_scenes(classifier, pets, backdrops, seed)


def scene_parts(parts) -> tuple[list[tuple[Path, int]], list[Path]]:
    """The split's validation pets, and its validation non-pets that make a scene."""
    from sorter.training.datasets import ALL_CLASSES

    pets = [(p, y) for p, y in parts.validation if ALL_CLASSES[y] != OTHER]
    backdrops = [p for p, y in parts.validation if ALL_CLASSES[y] == OTHER and parts.kind_of.get(p) in SCENE_KINDS]
    return pets, backdrops


#: Non-pet kinds that make a scene to paste a pet into (everyday-not-pets' sub-folders).
SCENE_KINDS = frozenset({"people", "places", "food", "things", "animals"})
