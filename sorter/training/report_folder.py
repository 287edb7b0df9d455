"""Where `evaluate --report DIR` may write, checked before a photo is scored: never among the
photos train and evaluate read (`--report DATA/Cat` made its two PNGs cats to the next run),
and never over a file that evaluate did not write (`DIR/confusion.png` of the user's own).

Evaluate's PNGs carry a tEXt chunk, `Software: sorter evaluate` (PNG's own keyword for the
program that made a picture), so an earlier report is recognised and replaced, as a report
folder is used again and again, while any other file of those names is left as it is and
refused by name. A report written by a sorter before the mark is refused too: it cannot be
told from a user's picture."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from sorter.errors import UsageError

#: The files `--report` writes (`report.write_evaluation_report`).
REPORT_FILES = ("confusion.png", "mistakes.png")
#: The tEXt chunk's keyword and text (PNG 1.2, section 11.3.4.2: "Software").
MARK = b"Software\0sorter evaluate"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: The chunks read to find the mark: it is written right after IHDR, so it is among the first.
CHUNKS_READ = 8


def marked_png(encoded: bytes) -> bytes:
    """A PNG with evaluate's mark added after its IHDR chunk (13 bytes of data, at offset 8)."""
    ihdr_end = len(PNG_SIGNATURE) + 4 + 4 + 13 + 4
    chunk = struct.pack(">I", len(MARK)) + b"tEXt" + MARK + struct.pack(">I", zlib.crc32(b"tEXt" + MARK))
    return encoded[:ihdr_end] + chunk + encoded[ihdr_end:]


def is_evaluate_report(path: Path) -> bool:
    """Whether `path` is a regular file, a PNG that evaluate marked (not a link: it is replaced,
    not followed, but what it points to is not a report)."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as f:
            if f.read(8) != PNG_SIGNATURE:
                return False
            for _ in range(CHUNKS_READ):
                head = f.read(8)
                if len(head) < 8:
                    return False
                length, kind = struct.unpack(">I", head[:4])[0], head[4:]
                if kind == b"IDAT":
                    return False
                data = f.read(length)
                f.read(4)  # its CRC
                if kind == b"tEXt" and data == MARK:
                    return True
    except OSError:
        return False
    return False


def check_report_folder(report_dir: Path, data_dir: Path, other: tuple[Path, ...], holdout: Path | None) -> None:
    """Refuse, in one line, a --report among the photos read, or one whose confusion.png or
    mistakes.png evaluate did not write."""
    from sorter.training.datasets import FOLDER_NAMES

    folder = report_dir.resolve()
    data = data_dir.resolve()
    if folder.is_relative_to(data) and folder != data:
        top = folder.relative_to(data).parts[0]
        if any(top.lower() in names for names in FOLDER_NAMES.values()):
            raise UsageError(f"--report {report_dir} is inside {data_dir / top}, whose photos evaluate and train "
                             "read: its confusion.png and mistakes.png would be taken for photos; write it outside "
                             "the photos")
    for option, root in [*(("--other", folder) for folder in other), ("--holdout", holdout)]:
        if root is not None and folder.is_relative_to(root.resolve()):
            raise UsageError(f"--report {report_dir} is inside {option} {root}, whose photos are read: its "
                             "confusion.png and mistakes.png would be taken for photos; write it outside the photos")
    for name in REPORT_FILES:
        path = report_dir / name
        if (path.exists() or path.is_symlink()) and not is_evaluate_report(path):
            raise UsageError(f"--report {report_dir}: {path} is not a report sorter evaluate wrote, and is never "
                             "overwritten; move it away or give another --report folder")
