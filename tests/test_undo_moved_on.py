"""`sorter undo` of a photo moved on since sorter put it: a pet's folder renamed (cats/Luna ->
cats/Lulu), a photo filed into a sub-folder by hand or taken back to the top under a new name.
Undo finds it by its identity (`files.whereabouts`), in cats/, dogs/ and at the top of the
folder only, and puts it back from there; a photo deleted, or taken into a folder of the
user's own, is reported missing as before; a copy or a second name of it is never taken for it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, remount, write_image
from test_review_server import MARKUP_NAME, make_folder, start
from typer.testing import CliRunner

from sorter.cli import app
from sorter.sorting.sort import sort_folder

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
runner = CliRunner()


def photos(root: Path, colour, *names: str) -> None:
    for i, name in enumerate(names):  # no two of one size (a JPEG's size goes by 8x8 blocks)
        write_image(root / name, colour, size=(8 * (i + 2), 8))


def undo(root: Path, *options: str):
    result = runner.invoke(app, ["undo", str(root), *options])
    assert result.exit_code == 0, result.output
    return sorted(result.stdout.splitlines()), sorted(result.stderr.splitlines())


def test_a_photo_moved_on_in_cats_or_dogs_or_to_the_top_is_put_back_from_there(tmp_path: Path) -> None:
    photos(tmp_path, BLUE, "a.jpg", "b.jpg", "c.jpg")
    photos(tmp_path, RED, "d.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    (tmp_path / "cats" / "Luna").mkdir()
    os.rename(tmp_path / "cats" / "a.jpg", tmp_path / "cats" / "Luna" / "a.jpg")
    os.rename(tmp_path / "cats" / "Luna", tmp_path / "cats" / "Lulu")  # her folder renamed
    (tmp_path / "cats" / "2019").mkdir()
    os.rename(tmp_path / "cats" / "b.jpg", tmp_path / "cats" / "2019" / "b.jpg")
    os.rename(tmp_path / "dogs" / "d.jpg", tmp_path / "d best.jpg")
    (tmp_path / "cats" / "c.jpg").unlink()  # truly gone

    assert undo(tmp_path) == ([
        "Restored 3 file(s) from 1 run in " + str(tmp_path) + ".",
        "found: cats/a.jpg: moved to cats/Lulu/a.jpg since; put back from there to a.jpg",
        "found: cats/b.jpg: moved to cats/2019/b.jpg since; put back from there to b.jpg",
        "found: dogs/d.jpg: moved to d best.jpg since; put back from there to d.jpg",
    ], ["missing: cats/c.jpg: no longer there (was c.jpg)"])
    # Every move is undone: sorter's state goes; the folders the user made stay.
    assert layout(tmp_path) == {k: v for k, v in before.items() if k != "c.jpg"} | {
        "cats": "dir", "cats/Lulu": "dir", "cats/2019": "dir"}


def test_where_cats_itself_was_renamed_the_folder_s_other_trees_are_looked_in_too(tmp_path: Path) -> None:
    photos(tmp_path, BLUE, "a.jpg", "trip/b.jpg")
    photos(tmp_path, RED, "d.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier(), recursive=True)
    os.rename(tmp_path / "cats", tmp_path / "Kitties 2024")

    assert undo(tmp_path, "--all") == ([
        "Restored 3 file(s) from 1 run in " + str(tmp_path) + ".",
        "found: cats/a.jpg: moved to Kitties 2024/a.jpg since; put back from there to a.jpg",
        "found: cats/b.jpg: moved to Kitties 2024/b.jpg since; put back from there to trip/b.jpg",
    ], [])
    assert layout(tmp_path) == before | {"Kitties 2024": "dir"}


def test_a_second_name_or_a_copy_of_the_photo_is_not_taken_for_it(tmp_path: Path) -> None:
    photos(tmp_path, BLUE, "x.jpg", "y.jpg", "z.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    cats = tmp_path / "cats"
    (cats / "Lulu").mkdir()
    os.rename(cats / "x.jpg", cats / "Lulu" / "x.jpg")
    os.link(cats / "Lulu" / "x.jpg", cats / "x too.jpg")  # two names in cats/: which is the photo?
    shutil.copy2(cats / "y.jpg", cats / "Lulu" / "y.jpg")  # its size and time, another file
    (cats / "y.jpg").unlink()
    (tmp_path / "backup").mkdir()
    os.link(cats / "z.jpg", tmp_path / "backup" / "z.jpg")  # in a folder of the user's own
    (cats / "z.jpg").unlink()
    after = layout(tmp_path)

    assert undo(tmp_path) == (["Restored 0 file(s) from 1 run in " + str(tmp_path) + "."], [
        "missing: cats/x.jpg: no longer there (was x.jpg)",
        "missing: cats/y.jpg: no longer there (was y.jpg)",
        "missing: cats/z.jpg: no longer there (was z.jpg)",
    ])
    assert {k: v for k, v in layout(tmp_path).items() if not k.startswith(".sorter")} == {
        k: v for k, v in after.items() if not k.startswith(".sorter")}


def test_a_review_s_moves_into_a_pet_folder_renamed_since_are_undone_with_the_sort(tmp_path: Path) -> None:
    """`undo --all` after "Name…" on the review page, the pets' folders renamed since: the
    review's moves are taken back from the renamed folders (a Live Photo's video with its
    photo), then the sort's."""
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    before = make_folder(root, outside)  # person.jpg (+ person.MOV) in dogs/, cat.jpg in cats/
    client, stop, thread = start(root)
    try:
        cards = client.cards()
        for photo, to, pet in (("person.jpg", "dog", "Rex"), ("cat.jpg", "cat", "Luna")):
            status, _ = client.json("POST", "/api/move", {"id": cards[photo]["id"], "to": to, "pet": pet,
                                                          "generation": client.generation})
            assert status == 200
    finally:
        stop.set()
        thread.join(10)
    assert (root / "dogs" / "Rex" / "person.MOV").is_file()
    os.rename(root / "dogs" / "Rex", root / "dogs" / "Max")
    os.rename(root / "cats" / "Luna", root / "cats" / "Lulu")

    assert undo(root, "--all") == ([
        "Restored 7 file(s) from 2 runs in " + str(root) + ".",
        "found: cats/Luna/cat.jpg: moved to cats/Lulu/cat.jpg since; put back from there to cats/cat.jpg",
        "found: dogs/Rex/person.MOV: moved to dogs/Max/person.MOV since; put back from there to dogs/person.MOV",
        "found: dogs/Rex/person.jpg: moved to dogs/Max/person.jpg since; put back from there to dogs/person.jpg",
    ], [])
    assert layout(root) == before | {"cats": "dir", "cats/Lulu": "dir", "dogs": "dir", "dogs/Max": "dir"}
    assert (root / MARKUP_NAME).is_file()


def test_a_move_journaled_before_moves_held_identities_is_found_by_its_seen_record(tmp_path: Path) -> None:
    """A folder sorted by an older sorter: its moves hold no identity, its "seen" records do."""
    photos(tmp_path, BLUE, "a.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    journal = tmp_path / ".sorter" / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert all("id" in r for r in records if r["op"] in ("move", "seen"))
    journal.write_text("".join(json.dumps({k: v for k, v in r.items() if (r["op"], k) != ("move", "id")}) + "\n"
                               for r in records))
    (tmp_path / "cats" / "Luna").mkdir()
    os.rename(tmp_path / "cats" / "a.jpg", tmp_path / "cats" / "Luna" / "a.jpg")

    assert undo(tmp_path) == ([
        "Restored 1 file(s) from 1 run in " + str(tmp_path) + ".",
        "found: cats/a.jpg: moved to cats/Luna/a.jpg since; put back from there to a.jpg",
    ], [])


def test_a_photo_not_found_while_a_folder_cannot_be_listed_is_kept_for_the_next_undo(tmp_path: Path,
                                                                                       monkeypatch) -> None:
    """It may be in that folder: not marked gone, as a place undo cannot look at is not."""
    photos(tmp_path, BLUE, "a.jpg", "b.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    (tmp_path / "cats" / "private").mkdir()
    (tmp_path / "cats" / "a.jpg").unlink()
    scandir = os.scandir

    def private_unreadable(path=".", *args):
        if os.fspath(path).endswith("private"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path, *args)

    monkeypatch.setattr(os, "scandir", private_unreadable)
    result = runner.invoke(app, ["undo", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "kept: cats/a.jpg: no longer there, and cats/private cannot be listed (Permission denied); left in place\n")
    assert result.stdout == f"Restored 1 file(s) from 1 run in {tmp_path}.\n"
    monkeypatch.undo()

    assert undo(tmp_path) == (["Restored 0 file(s) from 1 run in " + str(tmp_path) + "."],
                              ["missing: cats/a.jpg: no longer there (was a.jpg)"])


def test_on_an_exfat_card_a_photo_moved_on_is_told_by_its_size_and_time_where_one_file_has_them(
    exfat_card: Path,
) -> None:
    """exFAT numbers its files anew at each mount: after the card was out and in again, a photo
    is its size and time, taken only where no other file there has both (a copy kept them)."""
    photos(exfat_card, BLUE, "a.jpg", "b.jpg")
    sort_folder(exfat_card, classifier=FakeClassifier())
    cats = exfat_card / "cats"
    (cats / "Luna").mkdir()
    os.rename(cats / "a.jpg", cats / "Luna" / "a.jpg")
    os.rename(cats / "b.jpg", cats / "Luna" / "b.jpg")
    shutil.copy2(cats / "Luna" / "b.jpg", cats / "b copy.jpg")
    remount(exfat_card)

    assert undo(exfat_card) == ([
        "Restored 1 file(s) from 1 run in " + str(exfat_card) + ".",
        "found: cats/a.jpg: moved to cats/Luna/a.jpg since; put back from there to a.jpg",
    ], ["missing: cats/b.jpg: no longer there (was b.jpg)"])
    assert (exfat_card / "a.jpg").is_file() and (cats / "Luna" / "b.jpg").is_file()


@pytest.mark.parametrize("where", ["cats/Lulu/a.jpg", "a renamed.jpg"])
def test_the_file_found_is_moved_back_only_while_the_old_place_is_free(tmp_path: Path, where: str) -> None:
    """Found, but a new photo now at its first place: kept where it is, for the next undo."""
    photos(tmp_path, BLUE, "a.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    (tmp_path / where).parent.mkdir(exist_ok=True)
    os.rename(tmp_path / "cats" / "a.jpg", tmp_path / where)
    write_image(tmp_path / "a.jpg", RED, size=(30, 30))

    result = runner.invoke(app, ["undo", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"kept: {where}: a.jpg exists again; left in place\n"
    (tmp_path / "a.jpg").unlink()
    assert undo(tmp_path)[0][0] == f"Restored 1 file(s) from 1 run in {tmp_path}."
