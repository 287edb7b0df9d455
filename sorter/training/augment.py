"""The views of a training photo that the cache stores besides the photo itself, and the
pets-in-scenes photos that validation measures.

Why these: a camera roll's pets are rarely the studio portraits of the pet dataset. They are
small in the frame, outdoors, two at a time, behind a fence, next to a person. Teaching
"neither" with photos of people must not teach "a person in the frame means neither", so a
pet is also shown pasted, smaller, onto the photos that are neither (people, streets, rooms,
shops): the same person, now with a dog, is a dog. Non-pets stay non-pets whatever part of
them is shown, so they get crops down to a tenth of the photo (a face out of a street
portrait, a corner of a screenshot); a pet gets crops that keep most of it.

All functions take and return (size, size, 3) uint8 RGB, the contract of
`sorter.media.images.load_image`, and draw their randomness from the `random.Random` they are given,
so a cached view is the same on every run with the same seed.
"""

from __future__ import annotations

import math
import random

import cv2
import numpy as np

#: Share of the photo's area a random crop keeps: pets keep most of the animal in view;
#: non-pets are non-pets in any crop, and small crops of people are the close-up faces
#: the non-pet sets lack.
PET_CROP_AREA = (0.6, 1.0)
OTHER_CROP_AREA = (0.1, 1.0)
#: Side of a pasted pet, as a share of the scene's side: 0.3 is a cat across a room,
#: 0.7 a dog filling most of a garden photo.
SCENE_PET_SIDE = (0.3, 0.7)
#: Share of the scenes that hold a second pet of the same kind: two cats on a sofa.
SECOND_PET = 1 / 3


def crop_view(image: np.ndarray, rng: random.Random, area: tuple[float, float] = PET_CROP_AREA) -> np.ndarray:
    """Mirrored, a random crop of `area` of the photo (aspect 3:4 to 4:3) resized back, and
    brightness/contrast jitter: the spread of framing and light a camera roll has."""
    size = image.shape[0]
    share = rng.uniform(*area)
    aspect = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
    w = min(size, round(size * math.sqrt(share * aspect)))
    h = min(size, round(size * math.sqrt(share / aspect)))
    x0, y0 = rng.randint(0, size - w), rng.randint(0, size - h)
    crop = cv2.resize(image[y0 : y0 + h, x0 : x0 + w], (size, size), interpolation=cv2.INTER_LINEAR)
    return jitter(crop[:, ::-1], rng)


def jitter(image: np.ndarray, rng: random.Random) -> np.ndarray:
    contrast, brightness = rng.uniform(0.8, 1.2), rng.uniform(-25, 25)
    mean = image.mean()
    return np.clip((image.astype(np.float32) - mean) * contrast + mean + brightness, 0, 255).astype(np.uint8)


def scene_view(pets: list[np.ndarray], scene: np.ndarray, rng: random.Random, fence: float = 0.25) -> np.ndarray:
    """One or two pet photos pasted, smaller, onto a photo of something else, sometimes
    behind a fence: a pet small in a busy frame, beside people, two at once, partly hidden.
    The pasted photo keeps its own background around the animal, as a pet on a lawn in a
    street photo would have."""
    size = scene.shape[0]
    out = scene.copy()
    for pet in pets:
        side = round(size * rng.uniform(*SCENE_PET_SIDE) / math.sqrt(len(pets)))
        aspect = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
        w, h = min(size, round(side * math.sqrt(aspect))), min(size, round(side / math.sqrt(aspect)))
        small = cv2.resize(pet[:, ::-1] if rng.random() < 0.5 else pet, (w, h), interpolation=cv2.INTER_AREA)
        x0, y0 = rng.randint(0, size - w), rng.randint(0, size - h)
        out[y0 : y0 + h, x0 : x0 + w] = small
    if rng.random() < fence:
        out = fence_view(out, rng)
    return jitter(out, rng)


def fence_view(image: np.ndarray, rng: random.Random) -> np.ndarray:
    """Bars (or wire mesh) across the whole photo: a pet in a cage, behind a gate or a fence."""
    out = image.copy()
    size = image.shape[0]
    gap, width = rng.randint(14, 36), rng.randint(2, 5)
    colour = tuple(int(c) for c in (rng.choice([(30, 30, 30), (120, 120, 120), (220, 220, 220)])))
    start = rng.randint(0, gap)
    for x in range(start, size, gap):
        cv2.line(out, (x, 0), (x, size), colour, width)
    if rng.random() < 0.5:  # mesh
        for y in range(start, size, gap):
            cv2.line(out, (0, y), (size, y), colour, width)
    return out


def scenes_for_validation(
    pets: list[tuple[np.ndarray, int]], scenes: list[np.ndarray], seed: int
) -> list[tuple[np.ndarray, int]]:
    """Every validation pet pasted once onto a validation non-pet (alone, a third of them with
    a second pet of its kind): a fixed, seeded set of pets in scenes the training never saw."""
    rng = random.Random(f"{seed}-scenes")
    by_label: dict[int, list[np.ndarray]] = {}
    for image, label in pets:
        by_label.setdefault(label, []).append(image)
    out = []
    for image, label in pets:
        group = [image]
        if rng.random() < SECOND_PET and len(by_label[label]) > 1:
            group.append(rng.choice(by_label[label]))
        out.append((scene_view(group, rng.choice(scenes), rng), label))
    return out
