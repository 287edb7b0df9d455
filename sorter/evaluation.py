"""The `evaluate` use-case: run a model over labelled photos (cats, dogs and, when the folder
has them, photos that are neither) and measure it: the confusion matrix, precision and
recall, pet accuracy, non-pets left out, pets lost to neither, and the mistakes by kind.
Returns a typed result; never prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from sorter.config import CLASS_NAMES, OTHER
from sorter.errors import UsageError

Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    pass


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

    def to_json(self) -> dict:
        data = asdict(self)
        data["mistakes"] = data["mistakes"][:50]
        return data

    def rate_lines(self) -> list[str]:
        """Pet accuracy, non-pets left out and pets lost to neither, as the terminal and
        confusion.png show them; none when the model and the folder know only cats and dogs."""
        if not any(OTHER in row for row in self.confusion.values()):
            return []
        pets = sum(sum(self.confusion[c].values()) for c in CLASS_NAMES)
        right = sum(self.confusion[c][c] for c in CLASS_NAMES)
        lost = sum(self.confusion[c][OTHER] for c in CLASS_NAMES)
        lines = [f"pet accuracy: {self.pet_accuracy:.2%} ({right} of {pets} pets in the right folder)"]
        if self.non_pets_left_out is not None:
            others = self.confusion[OTHER]
            lines.append(
                f"non-pets left out: {self.non_pets_left_out:.2%} "
                f"({others[OTHER]} of {sum(others.values())} non-pets left in place)"
            )
        lines.append(f"pets lost to neither: {self.pets_lost_to_neither:.2%} ({lost} of {pets} pets left in place)")
        return lines


def evaluate_items(
    classifier, items: list[tuple[Path, int]], progress: Progress = _no_progress, split: str = "all"
) -> EvalResult:
    """Run `classifier` over labelled photos; labels index into ("cat", "dog", "other")."""
    from sorter.datasets import ALL_CLASSES
    from sorter.inference import classify

    labels = {path: ALL_CLASSES[label] for path, label in items}
    rows = ALL_CLASSES if OTHER in labels.values() else CLASS_NAMES
    # A two-class model on a folder with non-pets still gets an "other" column (all zeros):
    # every non-pet it sees is a mistake, and the matrix should say so.
    columns = ALL_CLASSES if OTHER in rows or OTHER in classifier.class_names else CLASS_NAMES
    confusion = {t: dict.fromkeys(columns, 0) for t in rows}
    unreadable: list[str] = []
    mistakes: list[Mistake] = []
    done = 0
    for prediction in classify(classifier, [p for p, _ in items]):
        done += 1
        progress(done, len(items))
        if prediction.label is None:
            unreadable.append(f"{prediction.path}: {prediction.error}")
            continue
        true = labels[prediction.path]
        confusion[true][prediction.label] += 1
        if prediction.label != true:
            mistakes.append(Mistake(
                str(prediction.path), true, prediction.label, prediction.confidence,
                mistake_kind(true, prediction.label),
            ))
    n = sum(sum(row.values()) for row in confusion.values())
    correct = sum(confusion[c][c] for c in rows)
    precision, recall = {}, {}
    for c in columns:
        predicted = sum(confusion[t][c] for t in rows)
        precision[c] = confusion[c][c] / predicted if c in confusion and predicted else 0.0
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
        unreadable=unreadable,
        mistakes=mistakes,
        split=split,
        pet_accuracy=sum(confusion[c][c] for c in CLASS_NAMES) / pets if pets else 0.0,
        non_pets_left_out=confusion[OTHER][OTHER] / others if others else None,
        pets_lost_to_neither=sum(confusion[c].get(OTHER, 0) for c in CLASS_NAMES) / pets if pets else 0.0,
    )


def evaluate(
    data_dir: Path,
    model: Path | None,
    split: str = "all",
    report_dir: Path | None = None,
    progress: Progress = _no_progress,
    other: Path | None = None,
) -> EvalResult:
    """`other`: non-pet photos besides DATA_DIR/Other/; with a split, the folder the model
    trained with (from its metadata) unless given."""
    from sorter import lite
    from sorter.datasets import ALL_CLASSES, list_labelled
    from sorter.datasets import split as make_split

    classifier = lite.load_classifier(model)
    if split == "all":
        files = list_labelled(data_dir, other)  # with "other" when the folder has an Other/
        items = [(p, ALL_CLASSES.index(label)) for label, paths in files.items() for p in paths]
    else:
        meta = classifier.metadata.get("training", {})
        if "seed" not in meta:
            raise UsageError("this model's metadata does not record its split; use --split all")
        if other is None and meta.get("other_dir"):
            other = Path(meta["other_dir"])
            if not other.is_dir():
                raise UsageError(f"this model trained with non-pets from {other}, which is not here; "
                                 "give their folder with --other")
        parts = make_split(data_dir, float(meta["validation_split"]), int(meta["seed"]), meta.get("limit"), other)
        items = parts.validation if split == "validation" else parts.train
    if not items:
        raise UsageError(f"no images to evaluate in {data_dir} (split: {split})")
    result = evaluate_items(classifier, items, progress, split)
    if report_dir is not None:
        from sorter.report import write_evaluation_report

        write_evaluation_report(result, report_dir, classifier.image_size)
    return result
