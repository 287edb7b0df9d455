"""A second look at the pet in the frame: where the network saw the pet, cropped and run again.

The int8 network ends at its last convolution's map (7 x 7 x 1280 at 224 px, `lite.export_features`).
Weighting each cell's 1280 numbers by the head's row of the pet (cat or dog) is the class
activation map (Zhou et al. 2016): where in the photo the pet is. The cells within
`CAM_FRACTION` of the map's range from its peak, and `MARGIN` around them, are cropped out of the
network's own input, stretched back to its size, and run through the network again. The crop's
pooled features describe the pet more than the garden, the car or the wall around it.

Where it pays, measured on real photos of ten campus cats (benchmarks/named_cats.py): telling a
user's named pet from other cats. The features that name a pet (`pet_features`) are the mean of
the photo's and the crop's; over the mean of the photo and its mirror image, or of all four
(photo, mirror, crop, mirrored crop), it found as many of a pet's photos at fewer other cats
taken for it, for one extra run of the network instead of three. Only photos that could be a
named pet get that one (`looked_again`, `pet_heads.PetHead.could_be`).

Where else it pays: photos the first look is unsure of (`judged_again`, below
SECOND_LOOK_BELOW), judged again on the crop: a small pet in a scene shows at the crop's size;
and, where the photo has the pixels, on the whole photo at CLOSER_SIZE (a closer look).

And for people: each photo filed as a cat or a dog carries where its pet is (`filed_boxes`), and
the review page's thumbnail is cut around it (`sorter.review.framing`). The map is there for every
photo already; the box costs one weighting of it, 0.03 ms a photo.

The crop is cut from the decode that fed the network (`media.images.Picture`: a 12 MP JPEG at
1/8 scale is 504 x 378), not from the 224 px input, and not from the file again: no second
decode, and a pet small in a large photo keeps its pixels (benchmarks/large_scenes.py: pets in
scenes composed at 448 px, 87.5 % in the right folder with the crop cut from the input, 89.0 %
from the decode). Where there is no decode (a video's frames, an EXIF thumbnail, a photo
composed in memory), it is cut from the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

from sorter.config import OTHER
from sorter.media.images import in_box


class Closer(Protocol):
    """A photo that can be had at another input size, or a part of it, from its decode
    (`sorter.media.images.Picture`)."""

    def at(self, size: int) -> np.ndarray: ...

    def crop(self, box: tuple[float, float, float, float], size: int) -> np.ndarray: ...

#: A photo the first look is less sure of than this looks again at its pet (`judged_again`).
#: Measured on v13's validation split and hold-out (int8), against the first look alone: at 0.9
#: (4 % of studio pets, 36 % of pets in scenes, 18 % of the hold-out looked again) studio pets
#: 98.25 % (98.12), pets in scenes 87.9 % (85.4), validation non-pets 99.13 % (98.62), hold-out
#: non-pets 91.0 % (90.4), pets lost to neither 0.95 % (0.90). Every photo looking again gained
#: no more (scenes 88.2 %, hold-out 91.0 %); the crop's answer alone instead of both looks' lost
#: pets (1.03 % to neither at 0.9, 1.30 % for all).
SECOND_LOOK_BELOW = 0.9
#: Cells at least this far up from the map's lowest value to its highest count as the pet.
#: Half kept the pet and little else in the named-cats photos (median crop: 62 % of the photo).
CAM_FRACTION = 0.5
#: Added on each side of those cells, as a share of the photo, for the features that name a
#: pet. Measured on the named-cats photos (the draws of `benchmarks/named_cats_draws.py`, the
#: reference set made again with each; a named cat's photos found at 1 / 2 / 3 % of the other
#: campus cats named, 10 / 5 examples a cat), the cells at 0.5 of the map's range and a margin
#: of 0.15 (before): 200 / 235 / 247 and 241 / 317 / 362; 0.1: 207 / 231 / 239 and 258 / 326 /
#: 374; 0.05: 199 / 237 / 255 and 265 / 352 / 383; 0: 180 / 218 / 259 and 244 / 335 / 374; cells
#: at 0.7 and 0.1: 171 / 217 / 243 and 224 / 286 / 343 (more in README). In `named_cats.py`, at
#: the same 92 %, 0.05 found 59 of 83 (55 before) at 1.5 % of the other cats, and 59 of 152 (57)
#: at 0.8 %: the fur, not the lawn. The map's cells are 32 pixels; most ears stay in.
#: (`pet_heads.FIRST_MARGIN`, 0.15, was the margin before: what a reference set, a learnt pet
#: or a user's example that does not say its margin had, and keeps.)
MARGIN = 0.05
#: The box people see (`filed_boxes`, the review page's thumbnail) holds the cells this far up
#: the map's range, and VIEW_MARGIN around them: more of the pet's body than the second look's
#: cells (its face, often), less of the scene than its margin. Chosen by eye on named-cats photos
#: (benchmarks/review_thumbnails.py --sheet): with the second look's 0.5 and 0.15 a cat small on
#: a lawn stayed small (its box 0.72 of the photo wide); with 0.5 and 0.05 cats that filled their
#: photos were cut down to a face or a tail; 0.3 and 0.05 cut around the small ones only.
VIEW_FRACTION = 0.3
VIEW_MARGIN = 0.05
#: The crop an unsure photo is judged on again (`judged_again`) holds the cells this far up the
#: map's range, and JUDGE_MARGIN around them: tighter than a named pet's, since telling a small
#: dog from a cat needs its pixels, not the lawn. Its own word for "neither" counts
#: CROP_NEITHER_WEIGHT of itself: cropped close, a pet that fills its photo is fur and an ear,
#: which looks like nothing in particular. Measured on v13 with the evidence's six masses
#: (int8; studio pets, pets lost to neither, validation non-pets, pets in scenes, hold-out
#: mistakes): the named pets' crop (0.5, 0.15) 98.22 %, 0.97 %, 99.20 %, 88.2 %, 37; (0.7, 0.1)
#: 98.20 %, 1.10 %, 99.34 %, 90.4 %, 31; and with the crop's "neither" at e^-1 of itself
#: 98.32 %, 0.97 %, 99.20 %, 90.4 %, 37: the pets in scenes gain 2.2 points and studio pets 0.1,
#: the rest as before. Tighter still (0.7, 0.05): scenes 90.5 %, hold-out 25, but 1.20 % of pets
#: lost; at e^-2, (0.6, 0.05): scenes 91.0 %, lost 0.92 %, hold-out 37, non-pets 99.13 %.
JUDGE_FRACTION = 0.7
JUDGE_MARGIN = 0.1
CROP_NEITHER_WEIGHT = float(np.exp(-1.0))
#: A photo the first look is unsure of is also judged whole at this size (a closer look), from
#: the decode that fed the first look (`media.images.Picture`: a 12 MP JPEG's 1/8 scale is
#: 378 px high, so no second decode). The network was fine-tuned on crops of its photos, so
#: at test time a larger input shows things at the size it learnt them (Touvron et al. 2019,
#: "FixRes"), and a pet small in its scene keeps pixels that 224 px loses. Measured on v14's
#: validation split (int8, the evidence cross-fitted in 5 folds; studio pets, lost to neither,
#: pets in scenes, validation non-pets), the crop alone (as before) 98.08 %, 1.03 %, 90.8 %,
#: 99.01 %; with the whole photo at 256 px 98.20, 1.03, 93.7, 99.07; at 288 98.15, 1.03, 94.6,
#: 99.13; at 320 98.00, 1.18, 95.0, 99.13; at 352 98.05, 1.18, 94.3, 99.32; at 384 97.92, 1.30,
#: 94.1, 99.32. 288 loses no pet and gains the most in scenes; read once on the hold-out, its
#: mistakes went 29 -> 18. The 288 px look costs 1.65 of the first look's network, for the
#: unsure photos only (3.6 % of studio pets, 34 % of pets in scenes, 17 % of the hold-out). The
#: same photo stretched up from its 224 px input instead of decoded at 288 gained as much on the
#: hold-out but nothing on pets in scenes (90.6 %): their pets need the pixels.
CLOSER_SIZE = 288


#: (top, bottom, left, right), each a share of the photo's height or width: the whole photo
#: stretched to the network's square input, so the same shares hold on the photo itself.
Box = tuple[float, float, float, float]


def pet_boxes(maps: np.ndarray, weights: np.ndarray, margin: float = MARGIN,
              fraction: float = CAM_FRACTION) -> np.ndarray:
    """(n, 4) boxes (top, bottom, left, right) as shares of the photo, from the maps
    (n, rows, columns, features) weighted by one row of the head per photo (n, features),
    the cells `fraction` up the map's range, `margin` added on each side."""
    # All photos at once (7 us a photo; a loop over them cost 52): a batched product, then each
    # map's hot rows and columns, first and last.
    n, rows, columns, features = maps.shape
    cams = np.matmul(maps.reshape(n, rows * columns, features), np.asarray(weights, maps.dtype)[:, :, None])
    cams = cams.reshape(n, rows, columns)
    lifted = cams - cams.min(axis=(1, 2), keepdims=True)
    peak = lifted.max(axis=(1, 2), keepdims=True)
    hot = (lifted >= fraction * peak) | (peak <= 0)  # a flat map: the whole photo
    ys, xs = hot.any(axis=2), hot.any(axis=1)
    top, bottom = ys.argmax(axis=1) / rows, (rows - ys[:, ::-1].argmax(axis=1)) / rows
    left, right = xs.argmax(axis=1) / columns, (columns - xs[:, ::-1].argmax(axis=1)) / columns
    return np.stack([np.maximum(0.0, top - margin), np.minimum(1.0, bottom + margin),
                     np.maximum(0.0, left - margin), np.minimum(1.0, right + margin)], axis=1)


def crops(batch: np.ndarray, boxes: np.ndarray, closer: Sequence[Closer | None] | None = None) -> np.ndarray:
    """Each box cut out of its picture (n, size, size, 3) and stretched back to size x size;
    where `closer` has the row's photo, cut from its decode instead, which has more pixels
    than the network's input when the photo is larger (a pet small in a phone photo)."""
    size = batch.shape[1]
    out = np.empty_like(batch)
    for i, box in enumerate(boxes):
        box = tuple(box)
        if closer is not None and closer[i] is not None:
            out[i] = closer[i].crop(box, size)
        else:
            out[i] = cv2.resize(in_box(batch[i], box), (size, size), interpolation=cv2.INTER_LINEAR)
    return out


def pet_rows(kernel: np.ndarray, features: np.ndarray, pets: list[int]) -> np.ndarray:
    """Per photo, the head's row (n, features) of the pet class it scores highest: the map
    weighted by it shows that pet, whatever the head's final word on the photo."""
    logits = np.asarray(features, np.float64) @ kernel[:, pets]
    return kernel[:, pets].T[logits.argmax(axis=1)]


def first_look(classifier, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(pooled features, the map or None) of a batch: None for a model whose .tflite ends at
    pooled features, which has no second look."""
    run_maps = getattr(classifier, "run_maps", None)
    return run_maps(batch) if run_maps is not None else (classifier.run(batch), None)


def pet_features(classifier, batch: np.ndarray, closer: Sequence[Closer | None] | None = None,
                 margin: float = MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """(pooled features, the features that name a pet) of a batch. Without a map both are the
    pooled features."""
    features, maps = first_look(classifier, batch)
    return features, looked_again(classifier, batch, features, maps, closer, margin)


def crop_features(classifier, batch: np.ndarray, features: np.ndarray, maps: np.ndarray, *,
                  margin: float = MARGIN, fraction: float = CAM_FRACTION,
                  closer: Sequence[Closer | None] | None = None) -> np.ndarray:
    """The pooled features of each photo's crop around the pet its head scores highest (the
    class activation map of `classifier.head`'s row), from the first look's features and maps;
    cut from the photo's decode where `closer` has it (`crops`)."""
    kernel = classifier.head[0]
    pets = [i for i, name in enumerate(classifier.class_names) if name != OTHER]
    boxes = pet_boxes(maps, pet_rows(kernel, features, pets), margin, fraction)
    return classifier.run(crops(np.asarray(batch, np.uint8), boxes, closer))


def looked_again(classifier, batch: np.ndarray, features: np.ndarray, maps: np.ndarray | None,
                 closer: Sequence[Closer | None] | None = None, margin: float = MARGIN) -> np.ndarray:
    """The features that name a pet, from the first look's features and maps: the mean of the
    photo's and its pet's crop's (see the module's docstring), the crop `margin` around the
    pet's cells. Without a map: the photo's features."""
    if maps is None or not len(batch):
        return features
    return (features + crop_features(classifier, batch, features, maps, margin=margin, closer=closer)) / 2


def looks_again(p: np.ndarray) -> np.ndarray:
    """Mask of the photos whose probabilities `p` are less sure than SECOND_LOOK_BELOW: those
    `judged_again` looks at again (a model without a map looks at none)."""
    return np.asarray(p).max(axis=1) < SECOND_LOOK_BELOW


def judged_again(classifier, batch: np.ndarray, features: np.ndarray, maps: np.ndarray | None,
                 p: np.ndarray, closer: Sequence[Closer | None] | None = None) -> np.ndarray:
    """`p` (the first look's probabilities), where the first look was less sure than
    SECOND_LOOK_BELOW, replaced by the geometric mean of its looks' (renormalised): the first,
    the crop where the map puts the pet (JUDGE_FRACTION, JUDGE_MARGIN), judged as a photo is
    (`classifier.judge`), its "neither" weighed at CROP_NEITHER_WEIGHT, and where those two
    are still less sure than SECOND_LOOK_BELOW and `closer` has the row's photo, the whole
    photo at CLOSER_SIZE. A small pet in a scene, taken for the
    other kind or for nothing, shows at the crop's full size; a non-pet's "pet" region,
    cropped, is more plainly not one. Without a map, `p` as it is."""
    unsure = np.flatnonzero(looks_again(p)) if maps is not None else []
    if not len(unsure):
        return p
    pictures = None if closer is None else [closer[row] for row in unsure]
    second, _ = classifier.judge(crop_features(classifier, np.asarray(batch)[unsure], features[unsure], maps[unsure],
                                               margin=JUDGE_MARGIN, fraction=JUDGE_FRACTION, closer=pictures))
    neither = [i for i, name in enumerate(classifier.class_names) if name == OTHER]
    second = np.array(second, np.float64)
    second[:, neither] *= CROP_NEITHER_WEIGHT
    logs = np.log(np.clip(np.asarray(p[unsure], np.float64), 1e-30, None)) + np.log(np.clip(second, 1e-30, None))
    looks = np.full(len(unsure), 2.0)
    # Still unsure after the crop: the closer look too (measured on v14: the same answers on
    # every table as for all the unsure photos, for a third fewer runs at 288 px).
    still = looks_again(_mean(logs, looks))
    whole = [i for i, picture in enumerate(pictures or ()) if still[i] and picture is not None]
    if whole:
        third, _ = classifier.judge(classifier.run(np.stack([pictures[i].at(CLOSER_SIZE) for i in whole])))
        logs[whole] += np.log(np.clip(np.asarray(third, np.float64), 1e-30, None))
        looks[whole] += 1
    out = np.array(p, np.float64)
    out[unsure] = _mean(logs, looks)
    return out


def _mean(logs: np.ndarray, looks: np.ndarray) -> np.ndarray:
    """The renormalised geometric mean of each row's looks, from the sum of their logs."""
    mean = np.exp((logs - logs.max(axis=1, keepdims=True)) / looks[:, None])
    return mean / mean.sum(axis=1, keepdims=True)


def filed(p: np.ndarray) -> np.ndarray:
    """Each photo's class as `inference.Prediction` picks it: a tie goes to the later class."""
    return p.shape[1] - 1 - np.argmax(p[:, ::-1], axis=1)


def filed_boxes(classifier, maps: np.ndarray | None, p: np.ndarray) -> list[Box | None]:
    """Where the pet is in each photo `p` files as a cat or a dog, for people: the class
    activation map of `classifier.head`'s row of that class (VIEW_FRACTION, VIEW_MARGIN).
    None for a photo filed as neither, and for every photo without a map."""
    boxes: list[Box | None] = [None] * len(p)
    if maps is None or not len(p):
        return boxes
    top = filed(p)
    rows = np.flatnonzero([classifier.class_names[t] != OTHER for t in top])
    weights = classifier.head[0][:, top[rows]].T
    for row, box in zip(rows, pet_boxes(maps[rows], weights, VIEW_MARGIN, VIEW_FRACTION), strict=True):
        boxes[row] = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
    return boxes
