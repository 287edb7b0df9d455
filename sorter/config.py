"""Constants shared across modules. Importing this must stay cheap (no numpy, no cv2)."""

from __future__ import annotations

import os
from pathlib import Path

CLASS_NAMES: tuple[str, str] = ("cat", "dog")
#: The third outcome of a three-class model: neither a cat nor a dog (stays where it is).
OTHER = "other"
#: Folder each label is moved into, inside the sorted directory.
CLASS_FOLDERS: dict[str, str] = {"cat": "cats", "dog": "dogs"}
#: Where sorter keeps its own state (journal, lock) inside a sorted directory.
STATE_DIR = ".sorter"
#: Journal runs of the review server (`sorter review`): their labels are a person's, not the model's.
REVIEW_RUN_PREFIX = "review-"
#: The review page a sort writes (inside STATE_DIR); undo removes it with the run it showed.
REVIEW_PAGE = "review.html"

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".bmp", ".dib", ".tif", ".tiff",
     ".heic", ".heif", ".hif", ".avif"}  # .hif: HEIF from Fujifilm, Sony and Canon cameras
)
#: Videos sorted as photos are (a Live Photo's .MOV beside its photo stays its companion).
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".3gp", ".avi", ".mkv", ".webm"})
#: Extensions (and prefixes) of files that are still being written by a browser or sync client.
TEMPORARY_SUFFIXES = frozenset({".part", ".crdownload", ".tmp", ".download", ".partial", ".swp"})

#: Hard limits checked before decoding, so a hostile file costs milliseconds, not gigabytes.
MAX_IMAGE_PIXELS = 120_000_000  # above a 108 MP phone sensor
MAX_FILE_BYTES = 256 * 1024 * 1024

DEFAULT_MIN_CONFIDENCE = 0.0
DEFAULT_BATCH_SIZE = 64

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_MODEL = PACKAGE_DIR / "models" / "default.keras"


def cpu_cores() -> int:
    """Cores this process may run on (its affinity, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 2
