"""`sorter undo` of a photo moved on since sorter put it: a pet's folder renamed (cats/Luna ->
cats/Lulu), a photo filed into a sub-folder by hand or taken back to the top under a new name,
cats/ renamed and a new cats/ made since, another file put in its place. Undo finds it by its
identity (`files.whereabouts`), in cats/, dogs/ and at the top of the folder, then in the
folder's other trees, and puts it back from there; a photo deleted, or taken out of the folder,
is reported missing as before; a copy of it is taken for it only by its name, size and time
(test_undo_copied_by_hand), and of two names of it one is put back and the other stays."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, remount, video_bytes, write_image
from test_review_server import MARKUP_NAME, click, make_folder, start
from typer.testing import CliRunner

from sorter.cli import app
from sorter.sorting.sort import sort_folder

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
runner = CliRunner()


def photos(root: Path, colour, *names: str) -> None:
    for i, name in enumerate(names):  # no two of one size (a JPEG's size goes by 16 rows of 8x8 blocks here)
        write_image(root / name, colour, size=(16 * (i + 1), 8))


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
        "Restored 3 files from 1 run in " + str(tmp_path) + " (1 missing).",
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
        "Restored 3 files from 1 run in " + str(tmp_path) + ".",
        "found: cats/a.jpg: moved to Kitties 2024/a.jpg since; put back from there to a.jpg",
        "found: cats/b.jpg: moved to Kitties 2024/b.jpg since; put back from there to trip/b.jpg",
    ], [])
    assert layout(tmp_path) == before  # cats/ itself, renamed: the sort's folder, empty, goes


def test_a_copy_of_another_time_is_not_taken_for_the_photo_nor_one_taken_out_of_the_folder(tmp_path: Path) -> None:
    # A copy of its name, size and time (`cp -p`) is taken for it: test_undo_copied_by_hand.
    root = tmp_path / "pets"
    photos(root, BLUE, "y.jpg", "z.jpg")
    sort_folder(root, classifier=FakeClassifier())
    cats = root / "cats"
    (cats / "Lulu").mkdir()
    shutil.copyfile(cats / "y.jpg", cats / "Lulu" / "y.jpg")  # its name and size, another file of another time
    (cats / "y.jpg").unlink()
    os.link(cats / "z.jpg", tmp_path / "z.jpg")  # out of the folder
    (cats / "z.jpg").unlink()
    after = layout(root)

    assert undo(root) == (["Restored 0 files in " + str(root) + " (2 missing)."], [
        "missing: cats/y.jpg: no longer there (was y.jpg)",
        "missing: cats/z.jpg: no longer there (was z.jpg)",
    ])
    assert {k: v for k, v in layout(root).items() if not k.startswith(".sorter")} == {
        k: v for k, v in after.items() if not k.startswith(".sorter")}


def test_of_two_names_of_the_photo_one_is_put_back_and_the_other_stays(tmp_path: Path) -> None:
    """Two names of one file (a hard link) are both the photo: the one in the folder sorter put
    it in goes back, else the shorter path; the other name stays, and the undo is complete."""
    photos(tmp_path, BLUE, "x.jpg", "y.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    cats = tmp_path / "cats"
    for folder in ("Lulu", "2019", "best/of"):
        (cats / folder).mkdir(parents=True)
    os.rename(cats / "x.jpg", cats / "Lulu" / "x.jpg")
    os.link(cats / "Lulu" / "x.jpg", cats / "x too.jpg")
    os.rename(cats / "y.jpg", cats / "best" / "of" / "y.jpg")
    os.link(cats / "best" / "of" / "y.jpg", cats / "2019" / "y.jpg")

    assert undo(tmp_path) == ([
        "Restored 2 files from 1 run in " + str(tmp_path) + ".",
        "found: cats/x.jpg: moved to cats/x too.jpg since; put back from there to x.jpg; "
        "its other name cats/Lulu/x.jpg stays",
        "found: cats/y.jpg: moved to cats/2019/y.jpg since; put back from there to y.jpg; "
        "its other name cats/best/of/y.jpg stays",
    ], [])
    assert os.path.samefile(tmp_path / "x.jpg", cats / "Lulu" / "x.jpg")
    assert os.path.samefile(tmp_path / "y.jpg", cats / "best" / "of" / "y.jpg")
    assert not (tmp_path / ".sorter").exists()


def test_another_file_in_the_photo_s_place_is_left_there_and_the_photo_put_back_from_where_it_is(
    tmp_path: Path,
) -> None:
    """Another photo saved under its name, two names swapped, a link to where it went: each
    photo goes back, never what is in its place. The photo saved over by an editor (a new file,
    found nowhere else) is still the photo, and goes back as it is."""
    photos(tmp_path, BLUE, "a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    cats = tmp_path / "cats"
    (cats / "sub").mkdir()
    os.rename(cats / "a.jpg", cats / "sub" / "a.jpg")
    write_image(cats / "a.jpg", RED, size=(40, 40))
    os.rename(cats / "b.jpg", cats / "swap.jpg")
    os.rename(cats / "c.jpg", cats / "b.jpg")
    os.rename(cats / "swap.jpg", cats / "c.jpg")
    (cats / "d.jpg.tmp").write_bytes((cats / "d.jpg").read_bytes() + b"edited")
    os.rename(cats / "d.jpg.tmp", cats / "d.jpg")
    os.rename(cats / "e.jpg", cats / "sub" / "e.jpg")
    (cats / "e.jpg").symlink_to("sub/e.jpg")
    other = layout(cats)["a.jpg"]

    assert undo(tmp_path) == ([
        "Restored 5 files from 1 run in " + str(tmp_path) + ".",
        "found: cats/a.jpg: moved to cats/sub/a.jpg since; put back from there to a.jpg; "
        "cats/a.jpg is another file now, left there",
        "found: cats/b.jpg: moved to cats/c.jpg since; put back from there to b.jpg",
        "found: cats/c.jpg: moved to cats/b.jpg since; put back from there to c.jpg",
        "found: cats/e.jpg: moved to cats/sub/e.jpg since; put back from there to e.jpg; "
        "cats/e.jpg is a link now, left there",
    ], [])
    assert layout(tmp_path) == before | {"d.jpg": layout(tmp_path)["d.jpg"], "cats": "dir", "cats/sub": "dir",
                                         "cats/a.jpg": other, "cats/e.jpg": ("link", "sub/e.jpg")}
    assert (tmp_path / "d.jpg").read_bytes().endswith(b"edited")


def test_on_an_exfat_card_the_file_in_the_photo_s_place_is_taken_for_it_as_before(exfat_card: Path) -> None:
    """Told by size and time alone, the photo saved over by an editor is another size and time:
    the file in its place goes back, as it always did, and a photo moved on is not looked for."""
    photos(exfat_card, BLUE, "a.jpg")
    sort_folder(exfat_card, classifier=FakeClassifier())
    cats = exfat_card / "cats"
    (cats / "sub").mkdir()
    os.rename(cats / "a.jpg", cats / "sub" / "a.jpg")
    write_image(cats / "a.jpg", RED, size=(40, 40))

    assert undo(exfat_card) == (["Restored 1 file from 1 run in " + str(exfat_card) + "."], [])
    assert (cats / "sub" / "a.jpg").is_file() and (exfat_card / "a.jpg").is_file()


def test_a_photo_in_a_folder_of_the_users_own_is_said_where_it_is_and_left_there(tmp_path: Path) -> None:
    """While cats/ is there, a photo found in another folder of the user's (an album made by
    hand, or cats/ renamed to kitties/ and a new cats/ made since by a later sort or a watch) was
    taken out of sorter's folders: undo says where it is and leaves it, and the run counts as
    undone. A folder sorted on its own is not looked in: its photos are its own undo's. With
    cats/ gone (renamed, none made since), kitties/ is cats/, and its photos go back (`undo --all` below)."""
    photos(tmp_path, BLUE, "a.jpg", "b.jpg", "c.jpg", "d.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    trip = tmp_path / "projects" / "trip"
    photos(trip, RED, "t.jpg")
    sort_folder(trip, classifier=FakeClassifier())  # a folder sorted on its own, deep down
    os.rename(tmp_path / "cats" / "c.jpg", trip / "c.jpg")
    (tmp_path / "best").mkdir()
    os.rename(tmp_path / "cats" / "d.jpg", tmp_path / "best" / "d.jpg")
    os.rename(tmp_path / "cats", tmp_path / "kitties")
    (tmp_path / "cats").mkdir()

    assert undo(tmp_path) == ([
        "Restored 0 files in " + str(tmp_path) + " (1 missing, 3 left in a folder of yours).",
        "found: cats/a.jpg: moved to kitties/a.jpg since, into a folder of yours; left there (was a.jpg)",
        "found: cats/b.jpg: moved to kitties/b.jpg since, into a folder of yours; left there (was b.jpg)",
        "found: cats/d.jpg: moved to best/d.jpg since, into a folder of yours; left there (was d.jpg)",
    ], ["missing: cats/c.jpg: no longer there (was c.jpg)"])
    assert {"kitties/a.jpg", "kitties/b.jpg", "best/d.jpg"} <= set(layout(tmp_path))
    assert not any(name in layout(tmp_path) for name in ("a.jpg", "b.jpg", "d.jpg"))


def test_undo_all_finds_a_photo_where_a_newer_run_s_undo_put_it(tmp_path: Path) -> None:
    """Taken back to the top under a new name (which a sort leaves there: put back) and filed
    again on the review page, cats/ renamed since: undoing the review puts it back at the top,
    where the sort's undo then finds it."""
    photos(tmp_path, BLUE, "a.jpg", "b.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    os.rename(tmp_path / "cats" / "a.jpg", tmp_path / "x.jpg")
    click(tmp_path, "x.jpg", "cat")
    os.rename(tmp_path / "cats", tmp_path / "kitties")

    assert undo(tmp_path, "--all") == ([
        "Restored 3 files from 2 runs in " + str(tmp_path) + ".",
        "found: cats/a.jpg: moved to x.jpg since; put back from there to a.jpg",
        "found: cats/b.jpg: moved to kitties/b.jpg since; put back from there to b.jpg",
        "found: cats/x.jpg: moved to kitties/x.jpg since; put back from there to x.jpg",
    ], [])
    assert layout(tmp_path) == before


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
        "Restored 4 files from 2 runs in " + str(root) + ".",  # each photo once, moved by both runs
        "found: cats/Luna/cat.jpg: moved to cats/Lulu/cat.jpg since; put back from there to cats/cat.jpg",
        "found: dogs/Rex/person.MOV: moved to dogs/Max/person.MOV since; put back from there to dogs/person.MOV",
        "found: dogs/Rex/person.jpg: moved to dogs/Max/person.jpg since; put back from there to dogs/person.jpg",
    ], [])
    assert layout(root) == before  # the folders the review and the sort made go, renamed or not
    assert (root / MARKUP_NAME).is_file()


def test_u_on_the_review_page_takes_back_a_correction_moved_on_since_from_where_it_is(tmp_path: Path) -> None:
    """The page's `u` journaled its take-back without the files' identities, and so could not follow
    them: a photo filed into a folder of its year after its correction was "no longer there"."""
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside)  # cat.jpg in cats/
    client, stop, thread = start(root)
    try:
        cards = client.cards()
        assert client.move(cards["cat.jpg"]["id"], "dog")[0] == 200
        (root / "dogs" / "2019").mkdir()
        os.rename(root / "dogs" / "cat.jpg", root / "dogs" / "2019" / "cat.jpg")
        status, answer = client.take_back()
    finally:
        stop.set()
        thread.join(10)
    assert status == 200 and answer["photo"]["path"] == "cats/cat.jpg", answer
    # Where it found it, as `sorter undo` says it: the page shows the line (it said nothing of it).
    assert answer["found"] == ["dogs/cat.jpg: moved to dogs/2019/cat.jpg since; put back from there to cats/cat.jpg"]
    assert (root / "cats" / "cat.jpg").is_file() and not (root / "dogs" / "2019" / "cat.jpg").exists()
    records = [json.loads(line) for line in (root / ".sorter" / "journal.jsonl").read_text().splitlines()]
    moved, = (r for r in records if r["op"] == "move" and r["run"].startswith("review-"))
    unmoved, = (r for r in records if r["op"] == "unmove")
    assert unmoved["dst"] == "dogs/2019/cat.jpg" and unmoved["id"] == moved["id"] and len(moved["id"]) == 4


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
        "Restored 1 file from 1 run in " + str(tmp_path) + ".",
        "found: cats/a.jpg: moved to cats/Luna/a.jpg since; put back from there to a.jpg",
    ], [])


def test_a_photo_not_found_while_a_folder_cannot_be_listed_is_kept_for_the_next_undo(tmp_path: Path,
                                                                                       monkeypatch) -> None:
    """It may be in that folder: not marked gone, as a place undo cannot look at is not; nor is
    another file in its place taken for it (b.jpg saved over: a new file of its name)."""
    photos(tmp_path, BLUE, "a.jpg", "b.jpg", "c.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    (tmp_path / "cats" / "private").mkdir()
    (tmp_path / "cats" / "a.jpg").unlink()
    (tmp_path / "cats" / "b.tmp").write_bytes(b"edited")
    os.rename(tmp_path / "cats" / "b.tmp", tmp_path / "cats" / "b.jpg")
    scandir = os.scandir

    def private_unreadable(path=".", *args):
        if os.fspath(path).endswith("private"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path, *args)

    monkeypatch.setattr(os, "scandir", private_unreadable)
    result = runner.invoke(app, ["undo", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(result.stderr.splitlines()) == [
        "kept: cats/a.jpg: no longer there, and cats/private cannot be listed (Permission denied); left in place",
        "kept: cats/b.jpg: not the photo sorter put there, and cats/private cannot be listed (Permission denied); "
        "left in place"]
    assert result.stdout == f"Restored 1 file from 1 run in {tmp_path} (2 kept in place).\n"
    monkeypatch.undo()

    assert undo(tmp_path) == (["Restored 1 file from 1 run in " + str(tmp_path) + " (1 missing)."],
                              ["missing: cats/a.jpg: no longer there (was a.jpg)"])
    assert (tmp_path / "b.jpg").read_bytes() == b"edited"


def test_on_an_exfat_card_a_photo_moved_on_is_told_by_its_size_and_time_where_one_file_has_them(
    exfat_card: Path,
) -> None:
    """exFAT numbers its files anew at each mount: after the card was out and in again, a photo
    is its size and time, taken only where no other file there has both (a copy kept them);
    where another has, it is kept for a later undo, not said missing while it is on the card."""
    photos(exfat_card, BLUE, "a.jpg", "b.jpg")
    sort_folder(exfat_card, classifier=FakeClassifier())
    cats = exfat_card / "cats"
    (cats / "Luna").mkdir()
    os.rename(cats / "a.jpg", cats / "Luna" / "a.jpg")
    os.rename(cats / "b.jpg", cats / "Luna" / "b.jpg")
    shutil.copy2(cats / "Luna" / "b.jpg", cats / "b copy.jpg")
    remount(exfat_card)

    assert undo(exfat_card) == ([
        "Restored 1 file from 1 run in " + str(exfat_card) + " (1 kept in place).",
        "found: cats/a.jpg: moved to cats/Luna/a.jpg since; put back from there to a.jpg",
    ], ["kept: cats/b.jpg: no longer there, and 2 files have its size and time (cats/Luna/b.jpg, cats/b copy.jpg): "
        "which is it cannot be told; left in place"])
    assert (exfat_card / "a.jpg").is_file() and (cats / "Luna" / "b.jpg").is_file()
    assert (exfat_card / ".sorter" / "journal.jsonl").is_file()  # b's move, for the undo after


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
    assert result.stderr == f"kept: {where}: another file is at a.jpg now; left in place\n"
    (tmp_path / "a.jpg").unlink()
    assert undo(tmp_path)[0][0] == f"Restored 1 file from 1 run in {tmp_path}."


@pytest.mark.parametrize("runs", [1, 2])
def test_another_sorted_photo_in_the_photo_s_place_is_never_taken_for_it_saved_over(tmp_path: Path,
                                                                                  runs: int) -> None:
    """c1 deleted and c0 renamed into its place: the file there is c0's photo, not c1 saved over
    by an editor (of this run, or of the run before): c1 is missing, and c0 goes back as c0.jpg."""
    photos(tmp_path, BLUE, "c0.jpg")
    if runs == 2:
        sort_folder(tmp_path, classifier=FakeClassifier())
    write_image(tmp_path / "c1.jpg", BLUE, size=(48, 8))
    sort_folder(tmp_path, classifier=FakeClassifier())
    photo = layout(tmp_path)["cats/c0.jpg"]
    (tmp_path / "cats" / "c1.jpg").unlink()
    os.rename(tmp_path / "cats" / "c0.jpg", tmp_path / "cats" / "c1.jpg")

    assert undo(tmp_path, "--all") == ([
        f"Restored 1 file from 1 run in {tmp_path} (1 missing).",  # of {runs}: c1's, of the newer, is missing
        "found: cats/c0.jpg: moved to cats/c1.jpg since; put back from there to c0.jpg",
    ], ["missing: cats/c1.jpg: no longer there (was c1.jpg)"])
    assert layout(tmp_path) == {"c0.jpg": photo}


def test_a_plain_undo_leaves_another_run_s_photo_in_the_photo_s_place_for_that_run_s_undo(tmp_path: Path) -> None:
    photos(tmp_path, BLUE, "c0.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    write_image(tmp_path / "c1.jpg", BLUE, size=(48, 8))
    sort_folder(tmp_path, classifier=FakeClassifier())
    (tmp_path / "cats" / "c1.jpg").unlink()
    os.rename(tmp_path / "cats" / "c0.jpg", tmp_path / "cats" / "c1.jpg")

    assert undo(tmp_path) == ([f"Restored 0 files in {tmp_path} (1 missing)."],
                              ["missing: cats/c1.jpg: no longer there (was c1.jpg)"])
    assert sorted(os.listdir(tmp_path / "cats")) == ["c1.jpg"]
    assert undo(tmp_path) == ([
        f"Restored 1 file from 1 run in {tmp_path}.",
        "found: cats/c0.jpg: moved to cats/c1.jpg since; put back from there to c0.jpg",
    ], [])
    assert sorted(os.listdir(tmp_path)) == ["c0.jpg"]


def test_a_new_file_at_a_deleted_photo_s_first_place_is_not_it_put_back(tmp_path: Path) -> None:
    """Deleted from cats/, another photo of its name at the top: the photo is missing, not
    "already back"; found elsewhere, it is kept for the next undo, its first place taken."""
    photos(tmp_path, BLUE, "c0.jpg", "c1.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    (tmp_path / "cats" / "c0.jpg").unlink()
    write_image(tmp_path / "c0.jpg", RED, size=(40, 40))
    (tmp_path / "cats" / "Luna").mkdir()
    os.rename(tmp_path / "cats" / "c1.jpg", tmp_path / "cats" / "Luna" / "c1.jpg")
    write_image(tmp_path / "c1.jpg", RED, size=(48, 48))

    result = runner.invoke(app, ["undo", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Restored 0 files in {tmp_path} (1 missing, 1 kept in place).\n"
    assert sorted(result.stderr.splitlines()) == [
        "kept: cats/Luna/c1.jpg: another file is at c1.jpg now; left in place",
        "missing: cats/c0.jpg: no longer there (was c0.jpg)",
    ]
    (tmp_path / "c1.jpg").unlink()
    assert undo(tmp_path) == ([
        f"Restored 1 file from 1 run in {tmp_path}.",
        "found: cats/c1.jpg: moved to cats/Luna/c1.jpg since; put back from there to c1.jpg",
    ], [])


def test_the_photo_put_back_by_hand_is_already_back(tmp_path: Path) -> None:
    photos(tmp_path, BLUE, "c0.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    os.rename(tmp_path / "cats" / "c0.jpg", tmp_path / "c0.jpg")

    assert undo(tmp_path) == ([f"Restored 0 files in {tmp_path} (1 already back where it was)."],
                              [])


def test_a_group_with_a_member_in_a_folder_of_the_users_own_stays_whole(tmp_path: Path) -> None:
    """The photo taken into an album, its video into dogs/: the group is one unit, and stays
    where it is, each member said once; the run counts as undone."""
    photos(tmp_path, BLUE, "IMG_1.jpg")
    for name in ("IMG_1.MOV", "IMG_1.xmp"):
        (tmp_path / name).write_bytes(video_bytes(name) if name.endswith(".MOV") else name.encode())
    sort_folder(tmp_path, classifier=FakeClassifier())
    assert sorted(os.listdir(tmp_path / "cats")) == ["IMG_1.MOV", "IMG_1.jpg", "IMG_1.xmp"]
    (tmp_path / "album").mkdir()
    (tmp_path / "dogs").mkdir()
    os.rename(tmp_path / "cats" / "IMG_1.jpg", tmp_path / "album" / "IMG_1.jpg")
    os.rename(tmp_path / "cats" / "IMG_1.MOV", tmp_path / "dogs" / "IMG_1.MOV")
    after = layout(tmp_path)

    assert undo(tmp_path) == ([
        f"Restored 0 files in {tmp_path} (3 left in a folder of yours).",
        "found: cats/IMG_1.MOV: moved to dogs/IMG_1.MOV since, left there with album/IMG_1.jpg, in a folder of "
        "yours (was IMG_1.MOV)",
        "found: cats/IMG_1.jpg: moved to album/IMG_1.jpg since, into a folder of yours; left there (was IMG_1.jpg)",
        "found: cats/IMG_1.xmp: left there with album/IMG_1.jpg, in a folder of yours (was IMG_1.xmp)",
    ], [])
    assert {k: v for k, v in layout(tmp_path).items() if not k.startswith(".sorter")} == {
        k: v for k, v in after.items() if not k.startswith(".sorter")}
    assert not (tmp_path / ".sorter").exists()


def test_on_an_exfat_card_a_new_file_at_the_photo_s_first_place_is_told_by_its_size_and_time(
    exfat_card: Path,
) -> None:
    photos(exfat_card, BLUE, "c0.jpg", "c1.jpg")
    sort_folder(exfat_card, classifier=FakeClassifier())
    (exfat_card / "cats" / "c0.jpg").unlink()
    write_image(exfat_card / "c0.jpg", RED, size=(40, 40))
    os.rename(exfat_card / "cats" / "c1.jpg", exfat_card / "c1.jpg")  # put back by hand
    remount(exfat_card)

    assert undo(exfat_card) == ([f"Restored 0 files in {exfat_card} (1 already back where it was, 1 missing)."],
                                ["missing: cats/c0.jpg: no longer there (was c0.jpg)"])


def test_one_undo_takes_back_a_watch_that_filed_one_photo_twice(tmp_path: Path, monkeypatch) -> None:
    """QA: a watch filed c61.jpg into cats/, the page said Dog, the photo was taken out of dogs/
    by hand under another name and filed again by the watch (which no longer remembered it:
    16,384 photos later; 1 here), then `u` on the page put it back from there into cats/c61.jpg,
    where the watch's first move had put it. Both moves of the watch's run took that file: the
    first `sorter undo` said `kept: cats/c61.jpg: cannot move back (No such file or directory)`
    and kept .sorter/ for a second. The newer move goes back first, then the older from where
    that left the photo: one undo, every photo where it was."""
    from test_watch import run_in_thread, wait_until

    from sorter.sorting import latecomers
    from sorter.watching.watcher import WatchSettings

    monkeypatch.setattr(latecomers, "LIMIT", 1)
    root = tmp_path / "pets"
    photos(root, BLUE, "c60.jpg", "c61.jpg", "c62.jpg")
    before = layout(root)
    stop_watch, watching, results = run_in_thread(root, FakeClassifier(), settings=WatchSettings(0.1, 0.1))
    try:
        assert wait_until(lambda: len(os.listdir(root / "cats")) == 3 if (root / "cats").is_dir() else False, 10)
        photos(root, BLUE, "later.jpg")  # the one the watch remembers now
        assert wait_until(lambda: (root / "cats" / "later.jpg").exists(), 10)
        client, stop, thread = start(root)
        try:
            assert client.move(client.cards()["c61.jpg"]["id"], "dog")[0] == 200
            os.rename(root / "dogs" / "c61.jpg", root / "c61 at home.jpg")
            assert wait_until(lambda: (root / "cats" / "c61 at home.jpg").exists(), 10), results
            status, answer = client.take_back()
        finally:
            stop.set()
            thread.join(10)
    finally:
        stop_watch.set()
        watching.join(10)
    assert status == 200 and answer["found"] == [
        "dogs/c61.jpg: moved to cats/c61 at home.jpg since; put back from there to cats/c61.jpg"], answer

    assert undo(root) == ([
        f"Restored 5 files from 1 run in {root}.",
        "found: cats/c61 at home.jpg: moved to cats/c61.jpg since; put back from there to c61 at home.jpg",
        "found: cats/c61.jpg: moved to c61 at home.jpg since; put back from there to c61.jpg",
    ], [])
    assert layout(root) == {**before, "later.jpg": layout(root)["later.jpg"]}
