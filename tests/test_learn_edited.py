"""`sorter learn` of a photo edited in place since it was learnt (found by a QA pass): the file
keeps its device, inode and size (an orientation written into its EXIF, another picture written
over it at the same size), which is all a learnt photo was known by, so the next learn kept the
features of a picture no longer there and said "(0 new)". Its modification time tells it now:
it is learnt again as it is now, and the report says so as for a photo put in its place. Photos
and the fake model as in test_learn."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
from conftest import write_image
from test_learn import invoke, sorted_and_corrected

from sorter.model import personal


def stored_features(path: Path) -> np.ndarray:
    examples = personal.read_examples()
    return examples.features[list(examples.paths).index(str(path))]


def padded_png(picture: bytes, size: int) -> bytes:
    """The PNG `picture` grown to `size` bytes by a text chunk before its end (trailing bytes
    after the end are refused as a truncated PNG)."""
    text = b"pad\0" + b" " * (size - len(picture) - 16)
    chunk = struct.pack(">I", len(text)) + b"tEXt" + text + struct.pack(">I", zlib.crc32(b"tEXt" + text))
    end = picture.rindex(b"IEND") - 4
    return picture[:end] + chunk + picture[end:]


def test_a_photo_edited_in_place_at_the_same_size_is_learnt_again_as_it_is_now(tmp_path: Path, fake_model) -> None:
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    first = invoke("learn", roll, "--model", fake_model)
    assert first.exit_code == 0 and "(6 new)" in first.stdout, first.output
    edited = roll / "goat0.png"  # a goat the user moved out of dogs/
    before, st = stored_features(edited), edited.stat()
    # Another picture written over it, padded to the same size: the same file, another photo.
    picture = write_image(tmp_path / "cat.png", (255, 0, 0), (32, 32)).read_bytes()  # a plain blue cat
    assert len(picture) + 16 <= st.st_size
    with open(edited, "r+b") as file:
        file.write(padded_png(picture, st.st_size))
    # As an editor's write would; set here so that a filesystem's coarse clock cannot hide it.
    os.utime(edited, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert (edited.stat().st_ino, edited.stat().st_size) == (st.st_ino, st.st_size)

    again = invoke("learn", roll, "--model", fake_model)

    assert again.exit_code == 0, again.output
    found = first.stdout.splitlines()[0]
    assert again.stdout.splitlines()[0] == found.replace("(6 new)", "(1 new)"), again.output
    assert (f"Forgot 1 photo you placed in {roll}, learnt before: not in it now (deleted, edited or moved out "
            "since).\n") in again.stdout
    assert not np.allclose(stored_features(edited), before)
    examples = personal.read_examples()
    assert examples.mtimes[list(examples.paths).index(str(edited))] == edited.stat().st_mtime_ns

    settled = invoke("learn", roll, "--model", fake_model)

    assert settled.stdout.splitlines()[0] == found.replace("(6 new)", "(0 new)"), settled.output
    assert "Forgot" not in settled.stdout


def test_examples_learnt_before_times_were_recorded_are_read_again_once_not_new(tmp_path: Path,
                                                                                 fake_model) -> None:
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    first = invoke("learn", roll, "--model", fake_model)
    assert first.exit_code == 0, first.output
    with np.load(personal.examples_file(), allow_pickle=False) as data:
        older = {name: data[name] for name in data.files if name != "mtimes"}
    with open(personal.examples_file(), "wb") as file:
        np.savez(file, **older)

    again = invoke("learn", roll, "--model", fake_model)

    assert (again.exit_code, again.stdout) == (0, first.stdout.replace("(6 new)", "(0 new)")), again.output
    examples = personal.read_examples()
    assert (examples.mtimes != personal.UNKNOWN_MTIME).all()
