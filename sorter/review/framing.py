"""A thumbnail centred on the pet: what the review page shows of a photo filed as a cat or dog.

A cat under a car across the street is a few pixels of a 128-pixel thumbnail of the whole
street. The network already knows where it saw the pet (its class activation map,
`sorter.model.second_look.filed_boxes`), so the thumbnail is cut around that box instead:
square-ish, enlarged at most MAX_ZOOM times, and the whole photo when the cut would be most of
it anyway (a studio pet, a face filling the frame), so only a pet small in its photo changes.

Sort hands over a thumbnail of FRAME_PX (the network's input size, from the decode that fed the
network): a pet in half the photo's width is then 112 pixels, not 64, before it is enlarged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the page imports this module, and importing the page must not load OpenCV or numpy
    import numpy as np

#: The longer side of the thumbnail sort hands over for the page to cut (`sort_folder`): no
#: larger than the network's 224-pixel input, so the decode that feeds the network serves both
#: (`inference._decode`), and large enough that the smallest box (one cell of the 7 x 7 map and
#: the second look's margin, 43 % of each side) is ~96 pixels, enlarged 1.3 times at most.
FRAME_PX = 224
#: A cut covering at least this share of the photo is not worth it: the whole photo is shown.
#: Measured with benchmarks/review_thumbnails.py: at 0.6, 51 of 150 named-cats thumbnails were
#: cut, among them cats filling their photos cut down to a face or a tail; at 0.45, 17, each a
#: cat small in its photo (and 102 of 300 Kaggle photos, 200 x 200, most to the pet's head and
#: shoulders: the map is hottest on the face).
WHOLE_FROM = 0.45
#: Never enlarged more than this: twice a pixel still reads as a photo, four times as blocks.
MAX_ZOOM = 2.0


def around_pet(image: np.ndarray, box: tuple[float, float, float, float] | None, size: int) -> np.ndarray:
    """`image` (BGR) cut around `box` (top, bottom, left, right: shares of the photo) and
    scaled to a longer side of at most `size`; without a box, or when the cut would cover
    WHOLE_FROM of it, the whole image with its longer side at most `size` (never enlarged)."""
    height, width = image.shape[:2]
    cut = square_cut(height, width, box, size / MAX_ZOOM) if box is not None else None
    if cut is None:
        return fitted(image, size, 1.0)
    y0, y1, x0, x1 = cut
    return fitted(image[y0:y1, x0:x1], size, MAX_ZOOM)


def load_framed(path, box: tuple[float, float, float, float] | None, size: int, opened: int | None = None) -> np.ndarray:
    """A thumbnail of the file at `path` (`images.load_thumbnail`, its checks), cut around
    `box` where there is one (decoded at FRAME_PX then, so the cut keeps its pixels): what both
    review pages show of a photo they decode themselves."""
    from sorter.media.images import load_thumbnail

    if box is None:
        return load_thumbnail(path, size, opened)
    return around_pet(load_thumbnail(path, max(size, FRAME_PX), opened), box, size)


def square_cut(height: int, width: int, box: tuple[float, float, float, float],
               smallest: float) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1): a square around the box's centre, as large as the box's longer side
    and at least `smallest` pixels, moved inside the photo (and cut to it where it is larger).
    None when it would cover WHOLE_FROM of the photo."""
    top, bottom, left, right = box
    side = max((bottom - top) * height, (right - left) * width, smallest)
    rows, columns = min(height, round(side)), min(width, round(side))
    if rows * columns >= WHOLE_FROM * height * width:
        return None
    y0 = _inside((top + bottom) / 2 * height - rows / 2, height - rows)
    x0 = _inside((left + right) / 2 * width - columns / 2, width - columns)
    return y0, y0 + rows, x0, x0 + columns


def _inside(start: float, last: int) -> int:
    return int(min(max(0, round(start)), last))


def fitted(image: np.ndarray, size: int, zoom: float) -> np.ndarray:
    """`image` with its longer side `size`, enlarged `zoom` times at most."""
    import cv2

    from sorter.media.images import shrink

    height, width = image.shape[:2]
    scale = min(size / max(height, width), zoom)
    if scale <= 1:
        return shrink(image, size)
    return cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_CUBIC)
