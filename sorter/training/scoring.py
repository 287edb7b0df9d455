"""Running a model over labelled photos, as `sort` does, before anything is measured: the
probabilities of each photo (`Scored`), of photos on disk and of pets pasted into scenes.
`sorter.training.evaluate` measures them, `sorter.training.holdout` reads the hold-out's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sorter.model.lite import softmax

Progress = Callable[[int, int], None]
#: Validation pets pasted into scenes (`sorter.training.augment.scenes_for_validation`): every n-th.
SCENE_EVERY = 4


def no_progress(done: int, total: int) -> None:
    pass


@dataclass(frozen=True)
class Scored:
    """A model's probabilities for labelled photos, before any measuring: what a temperature
    is fitted on and every number below is computed from."""

    paths: list[Path]
    true: np.ndarray  # (n,) index into ALL_CLASSES
    probabilities: np.ndarray  # (n, classes) in the model's class order
    class_names: tuple[str, ...]
    kinds: list[str]  # each photo's kind, for the per-kind table
    unreadable: list[str]

    def with_temperature(self, temperature: float) -> Scored:
        """The same photos with the logits divided by `temperature` (recovered from the
        probabilities: log p is the logits up to a constant per photo)."""
        logits = np.log(np.clip(self.probabilities.astype(np.float64), 1e-30, None))
        return replace(self, probabilities=softmax(logits, temperature))

    def joined(self, other: Scored | None) -> Scored:
        if other is None:
            return self
        return replace(self, paths=self.paths + other.paths, true=np.concatenate([self.true, other.true]),
                       probabilities=np.concatenate([self.probabilities, other.probabilities]),
                       kinds=self.kinds + other.kinds, unreadable=self.unreadable + other.unreadable)


def score_items(
    classifier, items: list[tuple[Path, int]], progress: Progress = no_progress, kinds: dict[Path, str] | None = None
) -> Scored:
    """Run `classifier` over labelled photos (labels index into cat, dog, other), as `sort` does."""
    from sorter.model.inference import classify
    from sorter.training.datasets import ALL_CLASSES

    labels = dict(items)
    paths, true, rows, unreadable = [], [], [], []
    for done, prediction in enumerate(classify(classifier, [p for p, _ in items]), 1):
        progress(done, len(items))
        if prediction.probabilities is None:
            unreadable.append(f"{prediction.path}: {prediction.error}")
            continue
        paths.append(prediction.path)
        true.append(labels[prediction.path])
        rows.append(prediction.probabilities)
    names = tuple(classifier.class_names)
    kinds = kinds or {}
    return Scored(paths, np.array(true, np.int64), np.array(rows, np.float64).reshape(len(rows), len(names)), names,
                  [kinds.get(p, ALL_CLASSES[t]) for p, t in zip(paths, true, strict=True)], unreadable)


def score_scenes(classifier, pets: list[tuple[Path, int]], scenes: list[Path], seed: int) -> Scored:
    """Validation pets (every SCENE_EVERY-th) pasted into validation non-pets, once each: the
    held-out pets-in-scenes set (`sorter.training.augment.scenes_for_validation`), scored in memory."""
    return score_composed(classifier, compose_scenes(classifier.image_size, pets, scenes, seed))


def score_composed(classifier, composed: list[tuple[np.ndarray, int]]) -> Scored:
    """Pets-in-scenes images (`compose_scenes`), scored in memory."""
    from sorter.training.datasets import ALL_CLASSES

    if not composed:
        names = tuple(classifier.class_names)
        return Scored([], np.zeros(0, np.int64), np.zeros((0, len(names))), names, [], [])
    from sorter.media.images import Picture

    # A scene is a photo of the network's size: its closer look (`second_look.CLOSER_SIZE`)
    # stretches it, as sort does for a photo that small.
    rows = [classifier.predict(np.stack([image for image, _ in composed[i : i + 64]]),
                               [Picture.of_input(image) for image, _ in composed[i : i + 64]])
            for i in range(0, len(composed), 64)]
    true = np.array([label for _, label in composed], np.int64)
    return Scored([Path(f"scene-{i}") for i in range(len(composed))], true, np.concatenate(rows).astype(np.float64),
                  tuple(classifier.class_names), [f"{ALL_CLASSES[t]} in a scene" for t in true], [])


def compose_scenes(size: int, pets: list[tuple[Path, int]], scenes: list[Path], seed: int) -> list[tuple[np.ndarray, int]]:
    """The pets-in-scenes images of `score_scenes`, (image, label) each; none when either list is empty."""
    from sorter.errors import ImageError
    from sorter.media.decoder_output import captured, quietly
    from sorter.media.images import load_image
    from sorter.training.augment import scenes_for_validation

    def decode(path: Path):
        try:
            return quietly(load_image, path, size)  # what libjpeg prints stays off the terminal
        except ImageError:
            return None

    with captured():
        chosen = [(image, y) for image, y in ((decode(p), y) for p, y in pets[::SCENE_EVERY]) if image is not None]
        backgrounds = [image for image in (decode(p) for p in scenes) if image is not None]
    if not chosen or not backgrounds:
        return []
    return scenes_for_validation(chosen, backgrounds, seed)


def predicted(scored: Scored) -> list[str]:
    from sorter.model.second_look import filed  # a tie goes to the later class: neither over a pet

    return [scored.class_names[i] for i in filed(scored.probabilities)]
