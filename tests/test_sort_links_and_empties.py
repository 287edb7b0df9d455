"""What `sort` says of a link to a folder, and of a folder with nothing in it at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ThreeClassFake, tree, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
runner = CliRunner(env={"COLUMNS": "160"})  # summary rows on one line each, whatever the terminal


@pytest.fixture(autouse=True)
def fake_model(monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())


@pytest.fixture
def withlinks(tmp_path: Path) -> Path:
    """A photo of its own, links to a photo and to a folder of photos elsewhere, a broken link."""
    elsewhere = tmp_path / "elsewhere"
    write_image(elsewhere / "dog.jpg", RED)
    write_image(elsewhere / "album" / "cat.jpg", BLUE)
    root = tmp_path / "withlinks"
    write_image(root / "own.jpg", RED)
    (root / "linkdog.jpg").symlink_to(elsewhere / "dog.jpg")
    (root / "dangling.jpg").symlink_to(tmp_path / "gone.jpg")
    (root / "linkdir").symlink_to(elsewhere / "album", target_is_directory=True)
    return root


def test_a_recursive_sort_reports_a_link_to_a_folder_as_a_folder_it_did_not_enter(withlinks: Path) -> None:
    """`sort -r -v` said `skipped:` of each link to a photo and nothing of `linkdir`, a link to a
    folder: not followed, rightly, and not said either. It is said as the folders a recursive
    sort does not enter are: its `-v` line, a row of folders in the table, `"kind": "folder"` and
    `folders_skipped` in --json, in none of the counts of files."""
    album = withlinks.parent / "elsewhere" / "album"

    shown = runner.invoke(app, ["sort", str(withlinks), "-v", "-r"])

    assert shown.exit_code == 0, shown.output
    assert "skipped: linkdir: symbolic link to a folder, not followed" in shown.stderr.splitlines(), shown.stderr
    assert "skipped: linkdog.jpg: symbolic link, not followed" in shown.stderr.splitlines()
    rows = [line for line in shown.stdout.splitlines() if "symbolic link" in line]
    assert rows == ["│ left in place: skipped │ symbolic link, not followed             │        2 │",
                    "│ left in place: skipped │ symbolic link to a folder, not followed │ 1 folder │"], shown.stdout
    assert set(tree(withlinks)) == {"dogs/own.jpg"}  # files alone: the links are where they were
    assert {p.name for p in withlinks.iterdir() if p.is_symlink()} == {"linkdog.jpg", "dangling.jpg", "linkdir"}
    assert (withlinks / "linkdir").is_symlink() and set(tree(album)) == {"cat.jpg"}  # not followed

    data = json.loads(runner.invoke(app, ["sort", str(withlinks), "-r", "--dry-run", "--json"]).stdout)
    assert data["folders_skipped"] == {"symbolic link to a folder, not followed": 1}
    assert data["counts"] == {"skipped": 2}  # the links to photos; the folder's is in none
    assert [(f["kind"], f["status"], f["reason"]) for f in data["files"] if f["path"].endswith("linkdir")] == [
        ("folder", "skipped", "symbolic link to a folder, not followed")]


def test_without_recursive_a_link_to_a_folder_is_no_sub_folder_it_did_not_look_into(withlinks: Path) -> None:
    """Without -r, "Not looked into" names the sub-folders --recursive would sort: a link to a
    folder is not one (--recursive does not follow it), so it is neither named nor counted,
    as the folders --recursive does not enter are not."""
    (withlinks / "trip").mkdir()
    write_image(withlinks / "trip" / "tom.jpg", BLUE)

    shown = runner.invoke(app, ["sort", str(withlinks), "-v", "--dry-run"])

    assert shown.exit_code == 0, shown.output
    assert "Not looked into: 1 sub-folder (trip/); --recursive sorts them too." in shown.stdout, shown.stdout
    assert "linkdir" not in shown.output
    data = json.loads(runner.invoke(app, ["sort", str(withlinks), "--dry-run", "--json"]).stdout)
    assert data["not_looked_into"] == {"sub_folders": 1, "named": ["trip"]} and data["folders_skipped"] == {}


def test_a_folder_with_nothing_in_it_says_it_holds_no_photo_and_no_more(tmp_path: Path) -> None:
    """An empty folder's sort said `No photos or videos in it: files of other kinds are left
    alone.`, of files that were not there: the clause is said where there are some."""
    empty = tmp_path / "emptydir"
    empty.mkdir()
    (empty / "sub").mkdir()  # an empty folder is no file of another kind
    (empty / ".DS_Store").write_bytes(b"\0")  # nor is a hidden file, which `ls` does not show

    for options, said in (([], "No photos or videos in it."), (["--dry-run"], "No photos or videos in it."),
                          (["-r"], "No photos or videos in it or its sub-folders.")):
        shown = runner.invoke(app, ["sort", str(empty), *options])
        assert shown.exit_code == 0, shown.output
        assert said in shown.stdout.splitlines(), (options, shown.stdout)
        assert "left alone" not in shown.stdout

    (empty / "sub" / "notes.txt").write_text("not a photo")
    assert "No photos or videos in it." in runner.invoke(app, ["sort", str(empty)]).stdout.splitlines()  # not looked in
    assert "No photos or videos in it or its sub-folders: files of other kinds are left alone." in runner.invoke(
        app, ["sort", str(empty), "-r"]).stdout.splitlines()
    assert sorted(p.name for p in empty.iterdir()) == [".DS_Store", "sub"]  # no .sorter/ left behind


def test_a_folder_holding_only_a_link_to_a_folder_is_no_sub_folder_entered(tmp_path: Path) -> None:
    """`sort -r` of a folder holding only a link to a folder said `No photos or videos in it or
    the sub-folders it entered.`: it entered none (the link is not followed). Beside a real
    sub-folder, entered and empty, the words stand."""
    elsewhere = tmp_path / "elsewhere"
    write_image(elsewhere / "cat.jpg", BLUE)
    root = tmp_path / "e4"
    root.mkdir()
    (root / "linkdir").symlink_to(elsewhere, target_is_directory=True)

    for options in ([], ["--dry-run"]):
        shown = runner.invoke(app, ["sort", str(root), "-r", *options])
        assert shown.exit_code == 0, shown.output
        assert "│ left in place: skipped │ symbolic link to a folder, not followed │ 1 folder │" in shown.stdout
        assert "No photos or videos in it." in shown.stdout.splitlines(), (options, shown.stdout)
        assert "entered" not in shown.stdout.replace("not entered", "")

    (root / "trip").mkdir()  # entered, and holds nothing
    shown = runner.invoke(app, ["sort", str(root), "-r"])
    assert "No photos or videos in it or the sub-folders it entered." in shown.stdout.splitlines(), shown.stdout
    assert set(tree(elsewhere)) == {"cat.jpg"}  # never followed
