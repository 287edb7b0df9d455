"""A new photo is not a photo put back because it was given a deleted photo's inode number.

A photo sorter moved and the user takes back out of cats/ or dogs/ is "put back": left where it
is, told by its device, inode and size (a `touch` since leaves it put back). Delete dogs/rex.png
and save a new rex.png of exactly its size, and ext4 and tmpfs give the new file the freed inode
number, almost always: `sort` and `watch` took it for the photo put back and never sorted it.
Born after sorter moved the photo (its birth time, where the filesystem keeps one), it is a new
photo, sorted as any other; where no birth time can be read it is left in place, as before."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import FakeClassifier, saved_with_its_inode, wait_until, write_image
from test_watch_restart import RED, said, watching
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite

runner = CliRunner()


def a_new_photo_of_its_size_given_its_inode(old: Path, new: Path) -> None:
    """`old` deleted and a new photo of its very bytes saved as `new`, given `old`'s inode number."""
    saved_with_its_inode(old, new, old.read_bytes(), "the new photo is left in place, as before")


def sort(root: Path) -> list[str]:
    """`sorter sort -v`'s lines of each file."""
    result = runner.invoke(app, ["sort", str(root), "-v"])
    assert result.exit_code == 0, result.output
    return result.stderr.splitlines()


@pytest.mark.parametrize("name", ["rex.png", "rex (new).png"])
def test_sort_sorts_a_new_photo_given_a_deleted_sorted_photos_inode(tmp_path: Path, monkeypatch, name: str) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    write_image(tmp_path / "rex.png", RED)
    assert sort(tmp_path) == ["moved rex.png -> dogs/rex.png (dog, 100%)"]
    a_new_photo_of_its_size_given_its_inode(tmp_path / "dogs" / "rex.png", tmp_path / name)

    # Not "skipped: rex.png: you put it back from dogs/rex.png; left there".
    assert sort(tmp_path) == [f"moved {name} -> dogs/{name} (dog, 100%)"]
    assert sorted(p.name for p in (tmp_path / "dogs").iterdir()) == [name]


def test_a_watch_started_again_sorts_a_new_photo_given_a_deleted_sorted_photos_inode(tmp_path: Path) -> None:
    write_image(tmp_path / "rex.jpg", RED)
    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.jpg").exists(), 20), results
    a_new_photo_of_its_size_given_its_inode(tmp_path / "dogs" / "rex.jpg", tmp_path / "rex.jpg")

    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: results, 20), results
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.jpg").exists(), 5), results
    assert said(results) == [("moved", "rex.jpg")]
    assert not (tmp_path / "rex.jpg").exists()


def test_a_running_watch_sorts_a_new_photo_given_a_deleted_sorted_photos_inode(tmp_path: Path) -> None:
    write_image(tmp_path / "rex.jpg", RED)
    with watching(tmp_path) as (results, notices):
        assert wait_until(lambda: len(results) == 1 and (tmp_path / "dogs" / "rex.jpg").exists(), 20), results
        a_new_photo_of_its_size_given_its_inode(tmp_path / "dogs" / "rex.jpg", tmp_path / "rex.jpg")
        assert wait_until(lambda: len(results) == 2, 20), results
        time.sleep(0.5)  # more scans
    assert said(results) == [("moved", "rex.jpg"), ("moved", "rex.jpg")]
    assert (tmp_path / "dogs" / "rex.jpg").is_file() and not (tmp_path / "rex.jpg").exists()
