"""Constants shared across modules. Importing this must stay cheap (no numpy, no cv2)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

CLASS_NAMES: tuple[str, str] = ("cat", "dog")
#: The third outcome of a three-class model: neither a cat nor a dog (stays where it is).
OTHER = "other"
#: Folder each label is moved into, inside the sorted directory.
CLASS_FOLDERS: dict[str, str] = {"cat": "cats", "dog": "dogs"}


def still_open_there(path: Path, fd: int, follow_symlinks: bool = False) -> bool:
    """`fd` is the file (or folder) at `path` still: not one removed, or removed and made again,
    under it, whose lock would exclude nobody (`files.lock`, `training.publish.claimed`)."""
    try:
        here = os.stat(path, follow_symlinks=follow_symlinks)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def names_a_pet(folder: str) -> bool:
    """A sub-folder of cats/ or dogs/ is a named pet's unless its name is digits, punctuation
    and spaces only or holds a year: cats/Luna, cats/Mr 2, cats/🐈‍⬛ are pets; cats/2019,
    cats/2019-06, cats/June 2019, cats/2019年 a user's folders by date, whose photos are cats
    like those at the top of cats/."""
    import re
    import unicodedata

    if re.search(r"(?<!\d)(19|20)\d\d(?!\d)", folder):
        return False
    return any(unicodedata.category(c)[0] not in "NPZ" for c in folder)


#: A name's bytes that are not UTF-8 (kept by Python as lone surrogates, U+DC80-U+DCFF) as the
#: bytes they are, `caf\xe9.jpg`, not `caf\udce9.jpg`: how the terminal shows a file's or a folder's
#: name (`str.translate`: sort's and watch's lines, learn's pets).
AS_BYTES = {c: f"\\x{c - 0xDC00:02x}" for c in range(0xDC80, 0xDD00)}
#: Control characters as a line names a file or a folder: `\n` and `\x1b`, not a new line or an
#: escape sequence; the controls that reorder text (U+202E shows the rest of a line backwards: a
#: name could make `gpj.exe` read as `exe.jpg`) as `\u202e` (`cli.console.printable`).
CONTROLS_SHOWN = {
    **{c: repr(chr(c))[1:-1] for c in (*range(32), *range(127, 160))},
    **{c: f"\\u{c:04x}" for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))},
    0x2028: "\\u2028", 0x2029: "\\u2029",  # line and paragraph separators: lines of their own to some readers
}
#: The same inside bash's `$'...'`, which reads them back: a C1 control as the character it is
#: (`\u0085`; `\x85` is a byte), a name's byte that is not UTF-8 as that byte, `\` and `'` escaped.
_TYPED = {**CONTROLS_SHOWN, **{c: f"\\u{c:04x}" for c in range(128, 160)}, **AS_BYTES, ord("\\"): "\\\\",
          ord("'"): "\\'"}


def as_shown(text: str) -> str:
    """`text`, naming a file or a folder, as sorter shows it (a terminal's line, the review page):
    control characters escaped (`Fo\\nx`: not a space, nor a line of its own), bytes that are not
    UTF-8 as bytes (`caf\\xe9`)."""
    return text.translate(CONTROLS_SHOWN).translate(AS_BYTES)


def name_shown(name: str) -> str:
    """`name`, one file's or folder's name (or a path) alone, as the review page shows it and reads
    it back (`review.pet_names`): `as_shown` with a backslash as `\\\\`, so that a folder named
    `Fo\\nx` as typed (five characters) shows `Fo\\\\nx`, not as cats/Fo<new line>x/ does. Not
    for a whole line: one holds a command to paste (`$'/tmp/nl\\ndir'`), whose backslashes are
    the shell's."""
    return as_shown(name.replace("\\", "\\\\"))


def as_typed(path: object, encoding: str | None = None) -> str:
    """`path` as a command line sorter prints takes it, to be pasted into a shell: as it is where
    nothing in it is special to the shell, `shlex.quote`d otherwise (`'/tmp/w eird'`), and in
    `$'...'` where it holds a control character or a byte that is not UTF-8 (`$'/tmp/nl\\ndir'`):
    quoted, a new line would split the printed line, and escaped only for show it names
    another folder. `$'...'` is read by bash, zsh, ksh and any shell of POSIX.1-2024.

    So too a character the output (`encoding`, stdout's by default) does not write as its name's
    bytes: on an ASCII terminal (`PYTHONIOENCODING=ascii`, a C locale) `Zoë` printed as `Zo\\xeb`,
    which names another folder (on a Latin-1 one, as the byte 0xEB where the name has 0xC3 0xAB);
    in `$'...'` it is its name's bytes, `$'Zo\\xc3\\xab'`, whatever the locale."""
    import shlex

    text = str(path)
    encoding = encoding or getattr(sys.stdout, "encoding", None) or "utf-8"
    if text.translate(CONTROLS_SHOWN).translate(AS_BYTES) == text and _writes(text, encoding):
        return shlex.quote(text)
    typed = text.translate(_TYPED)
    if not _writes(typed, encoding):
        typed = "".join(c if _writes(c, encoding) else "".join(f"\\x{b:02x}" for b in os.fsencode(c)) for c in typed)
    return "$'" + typed + "'"


def _writes(text: str, encoding: str) -> bool:
    """`text` printed in `encoding` is its name's bytes: pasted back, it names the same file."""
    try:
        return text.encode(encoding) == os.fsencode(text)
    except UnicodeEncodeError:
        return False
    except LookupError:  # an encoding Python does not know: as UTF-8, what it most likely is
        return True


#: Where sorter keeps its own state (journal, lock) inside a sorted directory.
STATE_DIR = ".sorter"
#: The journal in STATE_DIR: a folder with one was sorted (a bare STATE_DIR may be a review's or
#: a watcher's that never moved a photo).
JOURNAL_NAME = "journal.jsonl"
#: Lines of conflicts, missing or found files an undo keeps for its report; the rest are counted.
REPORT_LINES = 1000
#: Journal runs of the review server (`sorter review`): their labels are a person's, not the model's.
REVIEW_RUN_PREFIX = "review-"
#: The review page a sort writes (inside STATE_DIR); undo removes it with the run it showed.
REVIEW_PAGE = "review.html"

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".pjpeg", ".pjp", ".png", ".webp", ".bmp", ".dib", ".tif", ".tiff",
     ".gif",  # a saved cat GIF: its first frame (OpenCV decodes GIF since 4.11)
     ".heic", ".heif", ".hif", ".avif"}  # .hif: HEIF from Fujifilm, Sony and Canon cameras
)
#: Videos sorted as photos are (a Live Photo's .MOV beside its photo stays its companion).
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".3gp", ".avi", ".mkv", ".webm"})
#: Extensions (and prefixes) of files that are still being written by a browser or sync client.
TEMPORARY_SUFFIXES = frozenset({".part", ".crdownload", ".tmp", ".download", ".partial", ".swp"})

#: Folders a NAS or an operating system keeps for itself (thumbnails, recycle bins, snapshots),
#: by casefolded name: never entered, never mentioned, as hidden folders are. A photo moved out
#: of a Synology's @eaDir is its thumbnail of another photo.
SYSTEM_FOLDERS = frozenset({
    "@eadir", "#recycle", "#snapshot", "@recycle", "@recently-snapshot", "$recycle.bin",
    "system volume information", "lost+found",
})
#: Photo libraries another application keeps track of, by casefolded name or ending: moving a
#: photo out of one breaks that app's library (Apple Photos finds its originals by path). A
#: recursive sort or watch does not enter one and says so; learn and the review page never
#: read one as a pet's folder; `sort` and `watch` refuse a folder inside one.
LIBRARY_NAMES: dict[str, str] = {"iphoto library": "an iPhoto library", "photo booth library": "a Photo Booth library"}
LIBRARY_ENDINGS: dict[str, str] = {
    ".photoslibrary": "an Apple Photos library", ".photolibrary": "an Apple Photos library",
    ".migratedphotolibrary": "an Apple Photos library", ".aplibrary": "an Aperture library",
    ".lrlibrary": "a Lightroom library", ".lrdata": "Lightroom's previews",
}


def library_of(name: str) -> str | None:
    """What photo library the folder `name` is (see LIBRARY_NAMES), or None."""
    folded = name.casefold()
    if folded in LIBRARY_NAMES:
        return LIBRARY_NAMES[folded]
    return next((app for ending, app in LIBRARY_ENDINGS.items() if folded.endswith(ending)), None)


def entered(name: str) -> bool:
    """Whether a scan goes into the sub-folder `name`: not hidden, not a system's or a library."""
    return not name.startswith(".") and name.casefold() not in SYSTEM_FOLDERS and library_of(name) is None


#: Hard limits checked before decoding, so a hostile file costs milliseconds, not gigabytes.
MAX_IMAGE_PIXELS = 120_000_000  # as decoded: a phone's 200 MP baseline JPEG is decoded at 1/8, 3 MP
MAX_FILE_BYTES = 256 * 1024 * 1024
#: A progressive JPEG has about 10 scans (libjpeg's script; mozjpeg's a few more): far more is
#: a decoding trap, each scan a pass over the whole photo (libjpeg-turbo's own tools stop at 500).
MAX_JPEG_SCANS = 100

DEFAULT_MIN_CONFIDENCE = 0.0
DEFAULT_BATCH_SIZE = 64

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_MODEL = PACKAGE_DIR / "models" / "default.keras"


def cpu_cores() -> int:
    """Cores this process may run on (its affinity, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 2


def excluded_by_case(root: Path, name: str, exclude: frozenset[str]) -> bool:
    """`name` is one of `exclude` (cats/, dogs/, .sorter/) on a case-insensitive filesystem: a
    `Cats/` made on Windows is where sorter's `cats/` goes on an SD card, not a folder to sort
    (its photos were renamed `x (1).jpg`, `x (1) (1).jpg`, ... by every `sort -r`)."""
    folded = name.casefold()
    for own in exclude:
        if own != name and own.casefold() == folded:
            try:
                if os.path.samefile(os.path.join(root, name), os.path.join(root, own)):
                    return True
                # A FUSE driver (exfat-fuse, fusefat) numbers each name it is asked for apart,
                # so the two names of one folder differ in inode there; but `own` resolves
                # without being among the folder's names only where names fold together.
                return own not in os.listdir(root)
            except OSError:
                return False
