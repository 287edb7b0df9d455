"""`sorter undo` where the user (or an editor) changed what the sort made: a pet's folder the
sort made and the user renamed goes once undo has emptied it, as the folder would have by its
first name, while the folders the user made stay (even one given the inode number of the sort's,
deleted since, or made at its path); a photo an editor saved by renaming it to a backup
(`c0.jpg~`, `c0.jpg.bak`) and writing the new version under its name goes back as the user has it
now, where sorter put it or where it was taken since, the backup left where it is, said so; a
photo given another extension (`c2.old`) goes back itself. Undone one run at a time, a folder
sorter made (a later run's, or one an undo made to put a photo back) goes once the undo that
empties it has run, whichever run made it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, write_image
from test_learn import invoke, luna, photo
from test_renamed_pets import luna_learnt
from test_review_naming import name
from test_review_traces import reviewing
from test_undo_moved_on import BLUE, RED, photos, undo

from sorter.sorting.sort import sort_folder


@pytest.mark.parametrize("renamed_to, yours", [
    ("cats/Lunette", {}),
    ("cats/2024/Lunette", {"cats": "dir", "cats/2024": "dir", "cats/best": "dir"}),
])
def test_a_pet_s_folder_the_sort_made_and_the_user_renamed_goes_once_empty(
    tmp_path: Path, fake_model, renamed_to: str, yours: dict[str, str],
) -> None:
    """Luna learnt elsewhere: the sort makes cats/ and cats/Luna/ here. Her folder renamed (or
    moved into a folder of the user's), undo follows her photos, and her folder by its identity:
    once empty it goes, as cats/Luna/ would have; cats/2024/ and cats/best/, the user's, stay."""
    luna_learnt(tmp_path, fake_model)
    roll = tmp_path / "other"
    photo(roll / "cat.png", "cat", 1)
    for i in range(2):
        luna(roll / f"luna{i}.png", 70 + i)
    before = layout(roll)
    assert invoke("sort", roll, "--model", fake_model).exit_code == 0
    assert sorted(os.listdir(roll / "cats" / "Luna")) == ["luna0.png", "luna1.png"]
    if yours:
        (roll / "cats" / "best").mkdir()
        os.rename(roll / "cats" / "Luna" / "luna1.png", roll / "cats" / "best" / "luna1.png")
    (roll / renamed_to).parent.mkdir(parents=True, exist_ok=True)
    os.rename(roll / "cats" / "Luna", roll / renamed_to)

    result = invoke("undo", roll)

    assert result.exit_code == 0, result.output
    assert (f"found: cats/Luna/luna0.png: moved to {renamed_to}/luna0.png since; put back from there to luna0.png"
            in result.stdout.splitlines()), result.stdout
    assert layout(roll) == before | yours


@pytest.mark.parametrize("backup", ["c0.jpg~", "c0.jpg.bak", "c0.jpg.orig"])
def test_a_photo_an_editor_saved_with_a_backup_goes_back_as_it_is_now(tmp_path: Path, backup: str) -> None:
    """The editor renamed cats/c0.jpg to a backup of its name and wrote the edited photo as
    cats/c0.jpg: the backup is the photo by its identity, but the edited file is the photo as the
    user has it. That one goes back; the backup stays where the editor left it, said so."""
    photos(tmp_path, BLUE, "c0.jpg", "c1.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    cats = tmp_path / "cats"
    original = (cats / "c0.jpg").read_bytes()
    os.rename(cats / "c0.jpg", cats / backup)
    (cats / "c0.jpg").write_bytes(original + b"edited")

    assert undo(tmp_path) == ([
        f"Restored 2 files from 1 run in {tmp_path}.",
        f"found: cats/c0.jpg: saved again since (its earlier version is cats/{backup}, left there); "
        "put back as it is now to c0.jpg",
    ], [])
    assert (tmp_path / "c0.jpg").read_bytes() == original + b"edited"
    assert (cats / backup).read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["c0.jpg", "c1.jpg", "cats"]
    assert os.listdir(cats) == [backup]


def test_another_sorted_photo_under_the_photo_s_name_is_never_taken_for_its_new_version(tmp_path: Path) -> None:
    """c0 renamed to c0.jpg~ and c1 renamed into c0's place: the file there is c1's photo, not
    c0 saved again. Each photo goes back, by its identity, to its own first place."""
    photos(tmp_path, BLUE, "c0.jpg")
    write_image(tmp_path / "c1.jpg", BLUE, size=(48, 8))
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    cats = tmp_path / "cats"
    os.rename(cats / "c0.jpg", cats / "c0.jpg~")
    os.rename(cats / "c1.jpg", cats / "c0.jpg")

    assert undo(tmp_path) == ([
        f"Restored 2 files from 1 run in {tmp_path}.",
        "found: cats/c0.jpg: moved to cats/c0.jpg~ since; put back from there to c0.jpg",
        "found: cats/c1.jpg: moved to cats/c0.jpg since; put back from there to c1.jpg",
    ], [])
    assert layout(tmp_path) == before


def _journaled_as(root: Path, folder: str, change) -> None:
    """The journal's record of `folder`'s identity as made, changed by `change` (a list -> a list)."""
    journal = root / ".sorter" / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    for record in records:
        if record["op"] == "mkdir" and record["path"] == folder and "id" in record:
            record["id"] = change(record["id"])
    journal.write_text("".join(json.dumps(record) + "\n" for record in records))


@pytest.mark.parametrize("how, goes", [
    ("renamed", True),
    ("renamed, journaled by an older sorter", True),  # device and inode alone: followed, as ever
    ("renamed, journaled with no generation nor birth time", False),  # removed only at its own path
    ("deleted, and the user's made with its inode number", False),
])
def test_a_folder_the_sort_made_is_followed_by_its_identity_never_a_new_one_given_its_number(
    tmp_path: Path, how: str, goes: bool,
) -> None:
    """QA: ext4 gives a folder made just after one was deleted the deleted one's inode number. The
    user emptied the sort's cats/ into a folder of their own and deleted it: their kitties/ had
    cats/'s number, and undo, having taken the photo back from it, removed it as cats/ renamed.
    The inode's generation (or its birth time) tells the two apart: kitties/ stays. The number is
    journaled as ext4 gives it, so the test tells the same on any filesystem."""
    photos(tmp_path, BLUE, "a.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    if how.startswith("renamed"):
        os.rename(tmp_path / "cats", tmp_path / "kitties")
    else:
        (tmp_path / "kitties").mkdir()
        os.rename(tmp_path / "cats" / "a.jpg", tmp_path / "kitties" / "a.jpg")
        (tmp_path / "cats").rmdir()
        kitties = os.lstat(tmp_path / "kitties")
        _journaled_as(tmp_path, "cats", lambda made: [kitties.st_dev, kitties.st_ino, *made[2:]])
    if how.endswith("older sorter"):
        _journaled_as(tmp_path, "cats", lambda made: made[:2])
    if how.endswith("nor birth time"):
        _journaled_as(tmp_path, "cats", lambda made: [*made[:2], -1])

    assert undo(tmp_path) == ([
        f"Restored 1 file from 1 run in {tmp_path}.",
        "found: cats/a.jpg: moved to kitties/a.jpg since; put back from there to a.jpg",
    ], [])
    assert layout(tmp_path) == before | ({} if goes else {"kitties": "dir"})


@pytest.mark.parametrize("taken", ["by a review's correction", "into a folder of cats/ by hand"])
def test_a_photo_saved_with_a_backup_where_it_was_taken_since_goes_back_as_it_is_now(tmp_path: Path,
                                                                                    taken: str) -> None:
    """QA: c0 was taken to dogs/c0.jpg by a click on the review page (or to cats/best/ by hand),
    then edited there with a `~` backup. Undo put the old version back from the backup (found by
    its identity) and left the edit behind, in cats/ or cats/best/. As at the place sorter put
    it, the file under the photo's name beside the backup goes back, the backup stays; the sort's
    move takes the edit on from where the review's undo put it, and the count is the photos'."""
    photos(tmp_path, BLUE, "c0.jpg", "c1.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())
    if taken.startswith("by a review"):
        with reviewing(tmp_path) as client:
            assert client.move(client.cards()["c0.jpg"]["id"], "dog")[0] == 200
        there = tmp_path / "dogs"
    else:
        there = tmp_path / "cats" / "best"
        there.mkdir()
        os.rename(tmp_path / "cats" / "c0.jpg", there / "c0.jpg")
    original = (there / "c0.jpg").read_bytes()
    os.rename(there / "c0.jpg", there / "c0.jpg~")
    (there / "c0.jpg").write_bytes(original + b"edited")

    stdout, stderr = undo(tmp_path, "--all")

    assert stdout == ([
        f"Restored 2 files from 2 runs in {tmp_path}.",  # as without the edit: c0 through both runs, once
        "found: dogs/c0.jpg: saved again since (its earlier version is dogs/c0.jpg~, left there); put back as it "
        "is now to cats/c0.jpg",
    ] if taken.startswith("by a review") else [
        f"Restored 2 files from 1 run in {tmp_path}.",
        "found: cats/c0.jpg: moved to cats/best/c0.jpg and saved again since (its earlier version is "
        "cats/best/c0.jpg~, left there); put back as it is now to c0.jpg",
    ]), stderr
    assert stderr == []
    assert (tmp_path / "c0.jpg").read_bytes() == original + b"edited"
    assert (there / "c0.jpg~").read_bytes() == original
    kept = os.path.relpath(there, tmp_path)
    assert sorted(layout(tmp_path)) == sorted(["c0.jpg", "c1.jpg", kept, f"{kept}/c0.jpg~", *(
        [] if taken.startswith("by a review") else ["cats"])])


def test_a_photo_given_another_extension_goes_back_itself_and_the_file_in_its_place_stays(tmp_path: Path) -> None:
    """QA: cats/c2.jpg renamed to c2.old and a dog photo copied in as cats/c2.jpg: undo took
    `c2.old` for an editor's backup, put the dog back as c2.jpg and left the cat in cats/. A
    backup's extension in place of the photo's is no sign of an editor: the cat goes back, found
    by its identity, and the dog stays where it was put, said so."""
    photos(tmp_path, BLUE, "c0.jpg", "c2.jpg")
    photos(tmp_path / "elsewhere", RED, "rex.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    cats = tmp_path / "cats"
    os.rename(cats / "c2.jpg", cats / "c2.old")
    shutil.copyfile(tmp_path / "elsewhere" / "rex.jpg", cats / "c2.jpg")

    assert undo(tmp_path) == ([
        f"Restored 2 files from 1 run in {tmp_path}.",
        "found: cats/c2.jpg: moved to cats/c2.old since; put back from there to c2.jpg; "
        "cats/c2.jpg is another file now, left there",
    ], [])
    assert layout(tmp_path) == before | {"cats": "dir", "cats/c2.jpg": before["elsewhere/rex.jpg"]}


@pytest.mark.parametrize("how, goes", [
    ("made again", False),
    ("made again, journaled by an older sorter", False),  # the mkdir intent alone: nothing tells it is the sort's
    ("made again and the photo put back in it", True),  # as a copy of the folder on its disk is (`cp -al`)
])
def test_a_folder_the_user_made_where_the_sort_made_one_stays(tmp_path: Path, how: str, goes: bool) -> None:
    """QA: `rm -rf cats; mkdir cats`, then undo: the new, empty cats/ was removed as the sort's.
    Where the journal holds the identity of the folder the sort made, the one at its path goes
    only where it is that folder (ext4 gives the new one the old one's inode number, most
    likely: the generation is another), or where undo took the run's photos back from it."""
    photos(tmp_path, BLUE, "c0.jpg")
    photos(tmp_path, RED, "d0.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    if how.endswith("older sorter"):
        journal = tmp_path / ".sorter" / "journal.jsonl"
        journal.write_text("".join(line + "\n" for line in journal.read_text().splitlines()
                                   if not (json.loads(line)["op"] == "mkdir" and "id" in json.loads(line))))
    os.rename(tmp_path / "cats" / "c0.jpg", tmp_path / "c0 kept.jpg")
    shutil.rmtree(tmp_path / "cats")
    (tmp_path / "cats").mkdir()
    if how.endswith("put back in it"):
        os.rename(tmp_path / "c0 kept.jpg", tmp_path / "cats" / "c0.jpg")
    else:
        os.remove(tmp_path / "c0 kept.jpg")
    os.remove(tmp_path / "dogs" / "d0.jpg")  # the sort's own dogs/, emptied: it goes where its identity is journaled

    stdout, stderr = undo(tmp_path)

    restored = 1 if how.endswith("put back in it") else 0
    assert stdout == [f"Restored 1 file from 1 run in {tmp_path} (1 missing)." if restored
                      else f"Restored 0 files in {tmp_path} (2 missing)."]
    assert stderr == [*([] if restored else ["missing: cats/c0.jpg: no longer there (was c0.jpg)"]),
                      "missing: dogs/d0.jpg: no longer there (was d0.jpg)"]
    older = {"dogs": "dir"} if how.endswith("older sorter") else {}  # an empty folder of sorter's: the lesser evil
    assert layout(tmp_path) == ({"c0.jpg": before["c0.jpg"]} if restored else {}) | ({} if goes else {"cats": "dir"}) | older


def outside_sorter(entries: dict[str, object]) -> dict[str, object]:
    return {path: what for path, what in entries.items() if not path.startswith(".sorter")}


def test_a_later_run_s_pet_folder_goes_once_undoing_an_older_run_empties_it(tmp_path: Path) -> None:
    """QA: a sort made cats/, a review's "Name…" made cats/Luna/, and the user filed the sort's
    other cat there by hand. Undone one run at a time, the review's undo left cats/Luna/ (the
    sort's photo in it), and the sort's undo, having taken that photo back from there, left it
    empty, with cats/ around it: neither run being undone then had made it. The folder a run
    undone before made goes once an undo empties it, as it would have at its own run's undo."""
    photos(tmp_path, RED, "d0.jpg")
    sort_folder(tmp_path, classifier=FakeClassifier())  # a run before: the folder is never all undone
    photos(tmp_path, BLUE, "c0.jpg", "c1.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    with reviewing(tmp_path) as client:
        assert name(client, "c0.jpg", "Luna")[0] == 200
    os.rename(tmp_path / "cats" / "c1.jpg", tmp_path / "cats" / "Luna" / "c1.jpg")

    assert undo(tmp_path) == ([f"Restored 1 file from 1 run in {tmp_path}."], [])
    assert undo(tmp_path) == ([
        f"Restored 2 files from 1 run in {tmp_path}.",
        "found: cats/c1.jpg: moved to cats/Luna/c1.jpg since; put back from there to c1.jpg",
    ], [])
    assert outside_sorter(layout(tmp_path)) == outside_sorter(before)  # no cats/, no cats/Luna/


def test_a_folder_an_undo_made_to_put_a_photo_back_goes_once_the_next_undo_empties_it(tmp_path: Path) -> None:
    """QA: named into the user's own cats/Milo/, then into Belle in another review; cats/Milo/
    moved away by the user since. The first `sorter undo` made cats/Milo/ again to put the photo
    back in it; the next took the photo on to cats/, and left the empty cats/Milo/ (and so cats/)
    for ever: no run had made it, and the undo that had kept no record. Now it is journaled as a
    sort's folders are, and the undo that empties it removes it; the user's own folders stay."""
    photos(tmp_path, BLUE, "c0.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    (tmp_path / "cats" / "Milo").mkdir()  # the user's
    for pet in ("Milo", "Belle"):  # a review each
        with reviewing(tmp_path) as client:
            assert name(client, "c0.jpg", pet)[0] == 200
    (tmp_path / "cats" / "Milo").rename(tmp_path / "Milo")  # the user moved it away, empty
    (tmp_path / "cats" / "Luna").mkdir()  # one of the user's own, empty: kept

    assert undo(tmp_path) == ([f"Restored 1 file from 1 run in {tmp_path}.",
                               "made again: cats/Milo/ (gone since sorter moved its photos out; they are back in it)"], [])
    assert undo(tmp_path) == ([f"Restored 1 file from 1 run in {tmp_path}."], [])
    assert sorted(os.listdir(tmp_path / "cats")) == ["Luna", "c0.jpg"]  # no empty cats/Milo/
    assert undo(tmp_path) == ([f"Restored 1 file from 1 run in {tmp_path}."], [])
    assert layout(tmp_path) == before | {"Milo": "dir", "cats": "dir", "cats/Luna": "dir"}


def test_a_photo_a_watch_filed_twice_after_it_was_put_back_by_hand_goes_back_once_unsaid_missing(
        tmp_path: Path) -> None:
    """QA: a watch filed a.jpg into cats/, the user put it back by hand and edited it there, and
    the same watch filed it again into cats/a.jpg. `sorter undo` put the photo back, and said
    `missing: cats/a.jpg: no longer there (was a.jpg)` of the first move: the newer move had
    taken the photo back to a.jpg, where the older one was checked again and found nothing. The
    photo goes back once, and nothing is said missing of it."""
    from test_watch import run_in_thread, wait_until

    from sorter.watching.watcher import WatchSettings

    photos(tmp_path, BLUE, "a.jpg", "b.jpg")
    stop_watch, watching, results = run_in_thread(tmp_path, FakeClassifier(), settings=WatchSettings(0.1, 0.1))
    try:
        assert wait_until(lambda: (tmp_path / "cats" / "a.jpg").exists() and (tmp_path / "cats" / "b.jpg").exists(), 10)
        os.rename(tmp_path / "cats" / "a.jpg", tmp_path / "a.jpg")  # put back by hand: the watch leaves it there

        def filed_twice() -> bool:
            return sum(r.status == "moved" and r.path.name == "a.jpg" for r in results) == 2

        # (At times the watch files it again at once, put back or not: the same two moves.)
        assert wait_until(lambda: filed_twice() or any(r.status == "skipped" for r in results), 10), results
        if not filed_twice():
            with open(tmp_path / "a.jpg", "ab") as edited:  # and edited: no longer the photo put back
                edited.write(b"edited")
        assert wait_until(lambda: filed_twice() and (tmp_path / "cats" / "a.jpg").exists(), 10), results
    finally:
        stop_watch.set()
        watching.join(10)
    after = (tmp_path / "cats" / "a.jpg").read_bytes()

    assert undo(tmp_path) == ([f"Restored 2 files from 1 run in {tmp_path}."], [])
    assert outside_sorter(layout(tmp_path)).keys() == {"a.jpg", "b.jpg"}
    assert (tmp_path / "a.jpg").read_bytes() == after


#: An undo of ROOT in a process that SIGKILLs itself as it makes cats/Milo/ to put a photo back:
#: the folder made, its `mkdir` intent journaled, its identity not. No handler, no clean-up.
_KILLED_AT_MKDIR = """
import os, pathlib, signal, sys
from sorter.files import undo

made = pathlib.Path.mkdir

def mkdir(self, *args, **kwargs):
    made(self, *args, **kwargs)
    if self.name == "Milo":
        os.kill(os.getpid(), signal.SIGKILL)

pathlib.Path.mkdir = mkdir
undo.undo(pathlib.Path(sys.argv[1]))
"""


def test_a_folder_an_undo_killed_at_its_mkdir_left_is_never_removed_by_undo(tmp_path: Path) -> None:
    """QA: a review named c0 Milo, then Belle; the user removed the empty cats/Milo/. An undo,
    putting c0 back into cats/Milo/, was SIGKILLed as it made the folder, its identity not yet
    journaled; the user made a cats/Milo/ of their own there. `undo --all` put c0 back into it,
    took it on to cats/, and removed the user's empty folder: undo had taken the run's photo
    from it, which is the rule for a folder of the run's made again (`Whereabouts.made_here`).
    A folder whose identity undo never journaled is not shown to be one sorter made: it stays."""
    import signal
    import subprocess
    import sys

    photos(tmp_path, BLUE, "c0.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    with reviewing(tmp_path) as client:
        for pet in ("Milo", "Belle"):
            assert name(client, "c0.jpg", pet)[0] == 200
    (tmp_path / "cats" / "Milo").rmdir()
    killed = subprocess.run([sys.executable, "-c", _KILLED_AT_MKDIR, str(tmp_path)], capture_output=True,
                            text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (tmp_path / "cats" / "Milo").is_dir() and (tmp_path / "cats" / "Belle" / "c0.jpg").exists()
    (tmp_path / "cats" / "Milo").rmdir()
    (tmp_path / "cats" / "Milo").mkdir()  # the user's own

    assert undo(tmp_path, "--all") == ([f"Restored 1 file from 2 runs in {tmp_path}."], [])  # c0, moved 3 times
    assert layout(tmp_path) == before | {"cats": "dir", "cats/Milo": "dir"}


def test_undo_all_takes_back_a_put_back_with_the_move_it_answered(tmp_path: Path) -> None:
    """By design: a photo put back by hand stays put only while sorter's move of it stands (the
    put-back is told from the journal's move, "you put it back from cats/a.jpg"). `undo --all`
    takes that move back ("already back where it was") and leaves the folder as it was found,
    no .sorter/: nothing of the answer is left, and the next sort judges a.jpg as a new photo."""
    photos(tmp_path, BLUE, "a.jpg", "b.jpg")
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    os.rename(tmp_path / "cats" / "a.jpg", tmp_path / "a.jpg")
    assert sort_folder(tmp_path, classifier=FakeClassifier()).reasons == {
        ("skipped", "you put it back; left there"): 1}

    assert undo(tmp_path, "--all") == ([f"Restored 1 file from 1 run in {tmp_path} (1 already back where it was)."], [])
    assert layout(tmp_path) == before
    sort_folder(tmp_path, classifier=FakeClassifier())
    assert sorted(outside_sorter(layout(tmp_path))) == ["cats", "cats/a.jpg", "cats/b.jpg"]
