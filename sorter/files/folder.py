"""The folder a command is given: checked before anything touches it, and the names sorter
owns inside it."""

from __future__ import annotations

from pathlib import Path

from sorter.config import CLASS_FOLDERS, STATE_DIR
from sorter.errors import UsageError


def output_folders() -> frozenset[str]:
    """Top-level names a scan of the folder never enters: cats/, dogs/ and .sorter/."""
    return frozenset({*CLASS_FOLDERS.values(), STATE_DIR})


def check_folder(root: Path) -> Path:
    if not root.exists():
        raise UsageError(f"folder not found: {root}")
    if not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    for folder in (*CLASS_FOLDERS.values(), STATE_DIR):  # a link here would send sorter's files elsewhere
        target = root / folder
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            raise UsageError(f"{target} exists and is not a folder; rename it so sorter can use it")
    return root.absolute()
