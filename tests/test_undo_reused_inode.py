"""`sorter undo` where the user deleted a sorted photo and saved a new file of exactly its size,
which ext4 and tmpfs give the deleted photo's inode number, almost always. Born after sorter's
move of the photo (its birth time, where the filesystem keeps one), the new file is not the photo,
wherever it is: not the photo put back by hand at its first place or under another name there
(it was "already back", or "you put it back as ..."; now the photo is missing, and the new file
stays), nor the photo edited in place at the place sorter put it (a copy of the photo kept with
its time goes back, and the new file stays). As `sort` and `watch` tell such a file from a
photo put back (tests/test_put_back_reused_inode.py), and as undo tells it elsewhere in the
folder (tests/test_undo_touched_moved.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FakeClassifier, saved_with_its_inode, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.sorting.sort import sort_folder

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
runner = CliRunner()


def sorted_photo(root: Path) -> Path:
    """x.jpg, sorted to dogs/x.jpg."""
    write_image(root / "x.jpg", RED, size=(16, 8))
    sort_folder(root, classifier=FakeClassifier())
    return root / "dogs" / "x.jpg"


def a_new_photo_of_its_size_given_its_inode(old: Path, new: Path) -> bytes:
    """`old` deleted and another photo, padded or cut to `old`'s size, saved as `new` (`cat
    newcat.jpg > new`), given `old`'s inode number. Its bytes."""
    size = old.stat().st_size
    other = write_image(old.parent.parent / "newcat.jpg", BLUE, size=(64, 48))
    data = (other.read_bytes() + b"\0" * size)[:size]
    other.unlink()
    saved_with_its_inode(old, new, data, "the new file is told by its inode, as before")
    return data


def undo(root: Path) -> tuple[list[str], list[str]]:
    result = runner.invoke(app, ["undo", str(root)])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines(), result.stderr.splitlines()


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".sorter" not in p.parts)


@pytest.mark.parametrize("name", ["x.jpg", "x at home.jpg"])
def test_a_new_photo_given_its_inode_where_it_came_from_is_not_the_photo_put_back(tmp_path: Path, name: str) -> None:
    data = a_new_photo_of_its_size_given_its_inode(sorted_photo(tmp_path), tmp_path / name)

    # Not "Restored 0 files in DIR (1 already back where it was)." nor "found: dogs/x.jpg: you put
    # it back as x at home.jpg; left there (was x.jpg)".
    assert undo(tmp_path) == ([f"Restored 0 files in {tmp_path} (1 missing)."],
                              ["missing: dogs/x.jpg: no longer there (was x.jpg)"])
    assert files(tmp_path) == [name] and (tmp_path / name).read_bytes() == data


def test_a_new_photo_given_its_inode_where_sorter_put_it_is_not_the_photo_edited_in_place(tmp_path: Path) -> None:
    photo = sorted_photo(tmp_path)
    (tmp_path / "dogs" / "2019").mkdir()
    shutil.copy2(photo, tmp_path / "dogs" / "2019" / "x.jpg")  # `cp -p`: its name, size and time
    kept = photo.read_bytes()
    data = a_new_photo_of_its_size_given_its_inode(photo, photo)

    # The copy is the photo (README: "a file of its name, its size and its modification time"),
    # not the new file, which went back to x.jpg as the photo and left the copy in dogs/2019/.
    assert undo(tmp_path) == (["found: dogs/x.jpg: moved to dogs/2019/x.jpg since; put back from there to x.jpg; "
                               "dogs/x.jpg is another file now, left there",
                               f"Restored 1 file from 1 run in {tmp_path}."], [])
    assert files(tmp_path) == ["dogs/x.jpg", "x.jpg"]
    assert (tmp_path / "x.jpg").read_bytes() == kept and photo.read_bytes() == data


def test_found_nowhere_else_it_goes_back_as_a_new_file_in_its_place_always_did(tmp_path: Path) -> None:
    """README: where the photo is found nowhere else, the file in its place is most likely the photo
    saved over by an editor (a new file), and goes back: given the photo's inode number or not."""
    photo = sorted_photo(tmp_path)
    data = a_new_photo_of_its_size_given_its_inode(photo, photo)

    assert undo(tmp_path) == ([f"Restored 1 file from 1 run in {tmp_path}."], [])
    assert files(tmp_path) == ["x.jpg"] and (tmp_path / "x.jpg").read_bytes() == data
