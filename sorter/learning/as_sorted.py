"""What `sorter sort` decides of the photos `learn` learns from, for its table: where the model
alone (`sort --no-personal`) files each one, at sort's default --min-confidence (none: a cat or
a dog is filed whatever its confidence).

Sort's first look at a photo is its head on the photo's pooled features, and `learn` keeps those
features for every example (`personal.Examples`): where that look is sure
(`second_look.looks_again`), it is sort's decision, and the photo is not read again. Only the
photos it leaves unsure are classified again, by sort's own `inference.classify`: the crop around
the class activation map, the closer look and ImageNet's evidence, as sort weighs them. So the
network runs again for the unsure photos only, as in a sort.

Where the stored look may differ from sort's: a large JPEG whose EXIF thumbnail the model is sure
of is filed on the thumbnail (`inference.FIRST_LOOK_CONFIDENCE`). An unsure photo gets that first
look here too; a sure one keeps the whole photo's answer, which the thumbnail's at that
confidence matched on every table it was measured on.
"""

from __future__ import annotations

import os
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import numpy as np

from sorter.files.identities import identity_of
from sorter.learning.examples import Progress
from sorter.model.heads import Head
from sorter.model.personal import Examples, PersonalModel
from sorter.model.personal_classifier import PersonalClassifier
from sorter.model.second_look import filed, looks_again


def decided(classifier, p: np.ndarray, examples: Examples, found, progress: Progress) -> np.ndarray:
    """Each example's class (its index in `classifier.class_names`) as `sorter sort` with
    `classifier` files its photo, from `p`: the probabilities of sort's first look (its head on
    the stored features). A photo not where it was learnt any more (`where_now`), or unreadable
    now, keeps its first look's class."""
    from sorter.model.inference import SureEnough, classify

    classes = filed(p)
    again = np.flatnonzero(looks_again(p))
    rows = [(row, path) for row, path in zip(again, where_now(examples.subset(again), found), strict=True)
            if path is not None]
    if not rows:
        return classes
    # SureEnough(): the EXIF thumbnail's first look as sort takes it at its default --min-confidence.
    # Stopped part way (Ctrl-C, an error from `progress`): the decoding's pool and its `captured()`
    # block end now. Left to the garbage collector (the exception's traceback keeps this frame),
    # fd 2 stayed on the capture until it ran, and the pool decoded on: in the review server's
    # process, whose Learn button runs this, maybe long after.
    with closing(classify(classifier, [path for _, path in rows], first_look=SureEnough())) as predictions:
        for done, ((row, _), prediction) in enumerate(zip(rows, predictions, strict=True), 1):
            progress("second look", done, len(rows))
            if prediction.label is not None:
                classes[row] = classifier.class_names.index(prediction.label)
    return classes


def held_out(base, folds: tuple[tuple[np.ndarray, Head], ...], features: np.ndarray, examples: Examples, found,
             progress: Progress) -> np.ndarray:
    """Each example's class as `sorter sort` files its photo with a personal model whose head
    was fitted without it (`folds`: the rows held out and that head), its named pets aside."""
    classes = np.zeros(len(examples), np.int64)
    for rows, head in folds:
        # As `personal.read_model` gives the head back: without the model's evidence, which
        # `PersonalClassifier` weighs in itself.
        model = PersonalModel(base.fingerprint, tuple(base.class_names), replace(head, evidence=None), len(examples))
        classes[rows] = decided(PersonalClassifier(base, model, ""), head.probabilities(features[rows]),
                                examples.subset(rows), found, progress)
    return classes


def where_now(examples: Examples, found) -> list[Path | None]:
    """Where each example's photo is now: as found in the folder learnt, else where it was
    learnt (another folder) if the file there is still that photo (its identity), else None."""
    here = {f.identity: f.path for f in found}
    where: list[Path | None] = []
    for identity, path in zip(examples.identities, examples.paths, strict=True):
        key = tuple(int(v) for v in identity)
        if key not in here:
            try:
                here[key] = Path(path) if identity_of(os.lstat(path)) == key else None
            except OSError:
                here[key] = None
        where.append(here[key])
    return where
