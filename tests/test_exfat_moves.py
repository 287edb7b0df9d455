"""Moves on a real exFAT card (exfat-fuse: as root, skipped otherwise), where the kernel has no
no-replace rename (EINVAL) and the disk no hard links (EPERM): sorter claims the name first, an
empty file made with O_EXCL, then renames the photo onto it (`moves._rename_onto_claim`).
Checked for a free name and then renamed, a file another program made at the name in between
was replaced by the photo: a QA racer that made a file at each name the journal announced lost
3 to 8 of them in 100 photos, and the photos that met a taken name were left in place, said
"cannot move: Operation not permitted" (the hard link's error)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from conftest import FakeClassifier, tree, write_image
from test_exfat_claims import SORT, killed_at_rename
from typer.testing import CliRunner

from sorter.cli import app
from sorter.files.lock import FolderLock
from sorter.files.recovery import recover
from sorter.model import lite

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR: the fake says blue = cat, red = dog
runner = CliRunner(env={"COLUMNS": "160"})

#: Another program on the card: for each move the journal announces, it makes a file of its own at
#: the destination (O_EXCL, as any careful program does), and writes down each it made.
_RACER = """
import json, os, sys, time
root, made = sys.argv[1], open(sys.argv[2], "a")
journal, read, rest = os.path.join(root, ".sorter", "journal.jsonl"), 0, b""
while True:
    try:
        with open(journal, "rb") as f:
            f.seek(read)
            chunk = f.read()
    except FileNotFoundError:
        chunk = b""
    if not chunk:
        time.sleep(0.0005)
        continue
    read += len(chunk)
    *lines, rest = (rest + chunk).split(b"\\n")
    for line in lines:
        rec = json.loads(line)
        if rec.get("op") == "move":
            data = ("the other program's file at " + rec["dst"]).encode()
            try:
                fd = os.open(os.path.join(root, rec["dst"]), os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            except OSError:
                continue
            os.write(fd, data)
            os.close(fd)
            made.write(rec["dst"] + "\\n")
            made.flush()
"""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_file_another_program_makes_at_a_photos_new_name_on_an_exfat_card_is_never_replaced(
        exfat_card: Path, tmp_path: Path, monkeypatch) -> None:
    photos = {}
    for n in range(60):
        path = write_image(exfat_card / f"p{n:03}.jpg", BLUE if n % 2 else RED, size=(40 + n, 40))
        photos[path.name] = _digest(path.read_bytes())
    made = tmp_path / "made.txt"
    racer = subprocess.Popen([sys.executable, "-c", _RACER, str(exfat_card), str(made)])
    try:
        monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
        result = runner.invoke(app, ["sort", str(exfat_card)])
    finally:
        racer.kill()
        racer.wait()

    files = {name: _digest(data) for name, data in tree(exfat_card).items()}
    theirs = made.read_text().splitlines()
    assert theirs  # the other program did make files at the names announced
    replaced = [name for name in theirs if files.get(name) != _digest(f"the other program's file at {name}".encode())]
    assert replaced == []  # each where it made it, as it made it: none replaced by a photo
    # Every photo somewhere, once; nothing else (no empty file left holding a name).
    assert Counter(files.values()) == Counter([*photos.values(), *(files[name] for name in theirs)])
    # Each photo that met a taken name was filed under another: all moved, none "left in place".
    assert result.exit_code == 0, result.output
    assert "Operation not permitted" not in result.output and "left in place" not in result.output
    assert "moved to cats/ " in result.output and "moved to dogs/ " in result.output
    assert all(name.startswith(("cats/", "dogs/")) for name, digest in files.items() if digest in photos.values())


def _recovered(root: Path):
    """What the next command does first, under the folder's lock."""
    with FolderLock(root):
        return recover(root)


def test_a_sort_killed_after_it_claimed_a_name_on_an_exfat_card_leaves_no_empty_file(
        exfat_card: Path, monkeypatch) -> None:
    photo = write_image(exfat_card / "IMG.jpg", BLUE).read_bytes()

    killed_at_rename(exfat_card, SORT)
    assert (exfat_card / "cats" / "IMG.jpg").read_bytes() == b""  # the name held, the photo not yet on it
    settled = _recovered(exfat_card)

    assert (settled.completed, settled.rolled_back) == (0, 1)
    assert tree(exfat_card) == {"IMG.jpg": photo}  # the empty file gone, the photo where it was
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    again = runner.invoke(app, ["sort", str(exfat_card)])
    assert again.exit_code == 0, again.output
    assert tree(exfat_card) == {"cats/IMG.jpg": photo}  # its own name: no "IMG (1).jpg" beside an empty one


def test_an_empty_file_of_someone_elses_at_a_claimed_name_stays_after_a_kill(exfat_card: Path) -> None:
    # Killed with the name held, then the empty file replaced by another program's, empty too:
    # recovery removes only the file sorter made (by its journaled identity), never one of theirs.
    photo = write_image(exfat_card / "IMG.jpg", BLUE).read_bytes()
    killed_at_rename(exfat_card, SORT)
    held = exfat_card / "cats" / "IMG.jpg"
    os.unlink(held)
    held.write_bytes(b"")  # theirs: another file, empty

    settled = _recovered(exfat_card)

    assert (settled.completed, settled.rolled_back) == (0, 1)
    assert tree(exfat_card) == {"IMG.jpg": photo, "cats/IMG.jpg": b""}
