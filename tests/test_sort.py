"""`sorter sort`: where files go, what is left alone, and what the user sees."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import SAMPLES, FakeClassifier, FullDisk, ThreeClassFake, full_after_one_photo, remount, tree, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.files.planning import NameIndex, free_name
from sorter.files.verdicts import Verdict, read_verdicts
from sorter.model import lite
from sorter.sorting import results
from sorter.sorting.sort import sort_folder

RED, BLUE, GREY = (0, 0, 255), (255, 0, 0), (128, 128, 128)  # BGR: the fake says red = dog
# For ThreeClassFake, green is "other": GREEN 100% other; PALE_GREEN 55% other (cat 22.5%,
# dog 22.5%); GREENISH_RED a dog at 61%.
GREEN, PALE_GREEN, GREENISH_RED = (0, 255, 0), (255, 140, 255), (0, 100, 255)
runner = CliRunner(env={"COLUMNS": "160"})  # summary rows on one line each, whatever the terminal


def sort(root: Path, classifier, **options) -> results.SortSummary:
    return sort_folder(root, classifier=classifier, **options)


def test_photos_are_moved_into_cats_and_dogs(tmp_path: Path, fake_classifier) -> None:
    write_image(tmp_path / "rex.jpg", RED)
    write_image(tmp_path / "tom.png", BLUE)
    write_image(tmp_path / "IMG_1.JPEG", BLUE)
    (tmp_path / "notes.txt").write_text("not a photo")
    before = tree(tmp_path)

    summary = sort(tmp_path, fake_classifier)

    assert set(tree(tmp_path)) == {"dogs/rex.jpg", "cats/tom.png", "cats/IMG_1.JPEG", "notes.txt"}
    assert sorted(tree(tmp_path).values()) == sorted(before.values())  # same bytes, nothing lost
    assert summary.moved_to == {"dogs": 1, "cats": 2}
    assert fake_classifier.calls == 1  # one model call for the whole batch


def test_name_collisions_get_a_free_name_and_nothing_is_overwritten(tmp_path: Path, fake_classifier) -> None:
    write_image(tmp_path / "cats" / "tom.jpg", BLUE, size=(10, 10))
    write_image(tmp_path / "cats" / "Photo.JPG", BLUE, size=(11, 11))
    write_image(tmp_path / "tom.jpg", BLUE, size=(12, 12))
    write_image(tmp_path / "photo.jpg", BLUE, size=(13, 13))  # differs only in case
    write_image(tmp_path / "a" / "x.jpg", BLUE, size=(14, 14))  # two files planned onto one name
    write_image(tmp_path / "b" / "x.jpg", BLUE, size=(15, 15))
    before = sorted(tree(tmp_path).values())

    sort(tmp_path, fake_classifier, recursive=True)

    assert sorted(tree(tmp_path)) == [
        "cats/Photo.JPG", "cats/photo (1).jpg", "cats/tom (1).jpg", "cats/tom.jpg", "cats/x (1).jpg", "cats/x.jpg",
    ]
    assert sorted(tree(tmp_path).values()) == before


def test_another_apps_photo_library_and_a_nas_s_own_folders_are_never_entered(tmp_path: Path, monkeypatch) -> None:
    """Moving a photo out of Apple Photos' library breaks the library (it finds its originals
    by path); a Synology's @eaDir holds its thumbnails of the photo beside it. A recursive
    sort leaves both alone, says so of the library, and refuses a folder inside one."""
    write_image(tmp_path / "trip" / "tom.jpg", BLUE)
    write_image(tmp_path / "trip" / "@eaDir" / "tom.jpg" / "SYNOPHOTO_THUMB_XL.jpg", BLUE)
    write_image(tmp_path / "trip" / "#recycle" / "old.jpg", BLUE)
    library = tmp_path / "Photos Library.photoslibrary" / "originals" / "0"
    write_image(library / "4A1F.jpeg", BLUE)
    before = tree(tmp_path)
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())

    result = runner.invoke(app, ["sort", str(tmp_path), "--recursive", "--verbose"])

    assert result.exit_code == 0, result.output
    assert set(tree(tmp_path)) - set(before) == {"cats/tom.jpg"}
    assert ("skipped: Photos Library.photoslibrary: another app's library, not entered: an Apple Photos library"
            in result.stderr)
    assert "│ left in place: skipped │ another app's library, not entered │ 1 folder │" in result.stdout, result.stdout
    assert "@eaDir" not in result.output and "#recycle" not in result.output  # silent, as hidden folders are
    assert runner.invoke(app, ["sort", str(library), "--dry-run"]).exit_code == 0  # moves nothing
    for command in ("sort", "watch"):
        inside = runner.invoke(app, [command, str(library)])
        assert inside.exit_code == 2 and inside.stderr == (
            f"Error: {library} is inside an Apple Photos library (Photos Library.photoslibrary): its app keeps "
            "track of these photos, and moving one breaks the library; export them from the app, then sort the "
            "export\n")


def test_a_recursive_sort_of_a_home_folder_leaves_software_alone(tmp_path: Path, monkeypatch) -> None:
    """`sorter sort ~ -r` moved a project's images out of node_modules into ~/dogs/. A folder of
    software is not entered and is said so once, as a library is: a package folder by its name, a
    Python virtual environment (pyvenv.cfg) or a source checkout (.git) by what it holds. The
    home folder itself under git (its dotfiles) is sorted all the same."""
    home = tmp_path
    (home / ".git").mkdir()
    write_image(home / "Pictures" / "rex.jpg", RED)
    write_image(home / "Documents" / "web" / "node_modules" / "pkg" / "img" / "dog.jpg", RED)
    write_image(home / "Documents" / "web" / "site" / "tom.jpg", BLUE)  # the project's own: a user's folder
    write_image(home / "code" / "proj" / "tests" / "data" / "cat.jpg", BLUE)
    (home / "code" / "proj" / ".git").write_text("gitdir: ../../.git/worktrees/proj\n")  # a worktree's .git file
    write_image(home / "code" / "env" / "lib" / "python3.12" / "site-packages" / "pkg" / "logo.png", RED)
    (home / "code" / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    write_image(home / "lib" / "site-packages" / "pkg" / "icon.png", BLUE)
    write_image(home / "lib" / "__pycache__" / "thumb.jpg", BLUE)
    before = tree(home)
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())

    result = runner.invoke(app, ["sort", str(home), "--recursive", "--verbose"])

    assert result.exit_code == 0, result.output
    assert set(tree(home)) - set(before) == {"dogs/rex.jpg", "cats/tom.jpg"}
    assert sorted(line for line in result.stderr.splitlines() if "software" in line) == [
        "skipped: Documents/web/node_modules: software, not photos, not entered: JavaScript packages (node_modules)",
        "skipped: code/env: software, not photos, not entered: a Python virtual environment (it has pyvenv.cfg)",
        "skipped: code/proj: software, not photos, not entered: a source checkout (it has .git)",
        "skipped: lib/__pycache__: software, not photos, not entered: Python's compiled files (__pycache__)",
        "skipped: lib/site-packages: software, not photos, not entered: Python packages (site-packages)",
    ], result.stderr
    assert "│ left in place: skipped │ software, not photos, not entered │ 5 folders │" in result.stdout, result.stdout
    # Without --recursive, no such folder is named among those --recursive would sort.
    plain = runner.invoke(app, ["sort", str(home / "code"), "--dry-run"])
    assert plain.exit_code == 0 and "--recursive" not in plain.stdout, plain.stdout


def test_folders_not_entered_are_counted_as_folders_not_as_photos(tmp_path: Path, monkeypatch) -> None:
    """`sort -r` counted the software folders and libraries it did not enter as files: `left in
    place: skipped | software, not photos, not entered | 2` in the files column, an empty
    node_modules/ among them, and in --json `"kind": "photo"` and `counts.skipped`. They are
    folders, and said so: `2 folders` in the table, `"kind": "folder"` in --json, counted in
    `folders_skipped` and in none of the counts of files."""
    write_image(tmp_path / "rex.jpg", RED)
    (tmp_path / "web" / "node_modules").mkdir(parents=True)  # empty: no photo in it, a folder all the same
    write_image(tmp_path / "proj" / "logo.png", BLUE)
    (tmp_path / "proj" / ".git").mkdir()
    write_image(tmp_path / "Photos Library.photoslibrary" / "originals" / "4A1F.jpeg", BLUE)
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())

    shown = runner.invoke(app, ["sort", str(tmp_path), "--recursive", "--dry-run"])

    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.stdout.splitlines() if "not entered" in line]
    assert rows == ["│ left in place: skipped │ another app's library, not entered │  1 folder │",
                    "│ left in place: skipped │ software, not photos, not entered  │ 2 folders │"], shown.stdout

    data = json.loads(runner.invoke(app, ["sort", str(tmp_path), "--recursive", "--dry-run", "--json"]).stdout)
    assert data["counts"] == {"planned": 1}
    assert data["folders_skipped"] == {"another app's library, not entered": 1,
                                       "software, not photos, not entered": 2}
    assert sorted((Path(f["path"]).name, f["kind"], f["status"]) for f in data["files"]) == [
        ("Photos Library.photoslibrary", "folder", "skipped"), ("node_modules", "folder", "skipped"),
        ("proj", "folder", "skipped"), ("rex.jpg", "photo", "planned")]


def test_what_a_sort_made_is_no_folder_to_sort_watch_review_or_undo(tmp_path: Path, monkeypatch) -> None:
    # Its cats/ sorted again filled cats/dogs/, which neither its undo nor its review knew of.
    write_image(tmp_path / "tom.jpg", BLUE)
    write_image(tmp_path / "rex.jpg", RED)
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    assert runner.invoke(app, ["sort", str(tmp_path)]).exit_code == 0
    (tmp_path / "cats" / "Luna").mkdir()
    sorted_tree = tree(tmp_path)

    for command, folder in [("sort", "cats"), ("watch", "dogs"), ("review", "cats"), ("sort", "cats/Luna"),
                            ("undo", "cats"), ("undo", "cats/Luna"), ("sort", ".sorter")]:
        result = runner.invoke(app, [command, str(tmp_path / folder), *(["--dry-run"] if folder == ".sorter" else [])])
        assert result.exit_code == 2, (command, folder, result.output)
        assert result.stderr == {  # the command run, on the folder above
            "cats": f"Error: {tmp_path}/cats is the cats/ folder of a sort of {tmp_path}: "
                    f"sorter {command} {tmp_path} itself\n",
            "dogs": f"Error: {tmp_path}/dogs is the dogs/ folder of a sort of {tmp_path}: "
                    f"sorter {command} {tmp_path} itself\n",
            "cats/Luna": f"Error: {tmp_path}/cats/Luna is a named pet's folder in cats/ of a sort of {tmp_path}: "
                         f"sorter {command} {tmp_path} itself\n",
            ".sorter": f"Error: {tmp_path}/.sorter is where sorter keeps its journal for {tmp_path}: nothing in it "
                       "is to be sorted\n",
        }[folder]
    # Judged on the real path: a link to cats/, or cats/ reached through its pet's folder.
    (tmp_path.parent / f"{tmp_path.name}-link").symlink_to(tmp_path / "cats")
    for spelled in (tmp_path.parent / f"{tmp_path.name}-link", tmp_path / "cats" / "Luna" / ".."):
        refused = runner.invoke(app, ["sort", str(spelled)])
        assert refused.exit_code == 2 and refused.stderr.startswith(f"Error: {tmp_path}/cats is the cats/ folder"), spelled
    assert runner.invoke(app, ["sort", str(tmp_path / "cats" / ".."), "--dry-run"]).exit_code == 0  # the folder itself
    assert tree(tmp_path) == sorted_tree
    assert runner.invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert runner.invoke(app, ["sort", str(tmp_path / "cats"), "--dry-run"]).exit_code == 0  # no longer a sort's


def test_a_recursive_sort_leaves_a_sub_folder_sorted_on_its_own_alone(tmp_path: Path, fake_classifier) -> None:
    write_image(tmp_path / "sub" / "tom.jpg", BLUE)
    write_image(tmp_path / "sub" / "rex.jpg", RED)
    sort(tmp_path / "sub", fake_classifier)
    write_image(tmp_path / "sub" / "kit.jpg", BLUE)
    write_image(tmp_path / "trip" / "fido.jpg", RED)
    sub_before = tree(tmp_path / "sub")
    seen = []

    sort(tmp_path, fake_classifier, recursive=True, on_result=lambda r: seen.append((r.path.name, r.status, r.reason)))

    assert tree(tmp_path / "sub") == sub_before  # its cats/ and dogs/ stay under its own journal
    on_its_own = "sorted on its own (it has a .sorter/ journal), not entered"
    assert sorted(seen) == [("fido.jpg", "moved", None), ("sub", "skipped", on_its_own)]
    (tmp_path / "viewed" / ".sorter").mkdir(parents=True)  # what a review or a watcher that moved nothing leaves
    write_image(tmp_path / "viewed" / "nox.jpg", BLUE)
    sort(tmp_path, fake_classifier, recursive=True)
    assert (tmp_path / "cats" / "nox.jpg").is_file()  # a folder like any other
    from sorter.files.undo import undo

    assert undo(tmp_path / "sub").restored == 2 and sorted(os.listdir(tmp_path / "sub")) == ["kit.jpg", "rex.jpg", "tom.jpg"]


def test_moves_made_before_a_full_disk_cut_their_seen_record_are_reported_then_the_error(tmp_path: Path,
                                                                                          monkeypatch) -> None:
    # A watcher dropped the whole batch's results: a photo moved into cats/ was said "not sorted".
    from sorter.files import journal_writer
    from sorter.sorting.batches import Sorter

    disk = FullDisk()
    monkeypatch.setattr(journal_writer, "os", disk)
    write_image(tmp_path / "tom.png", BLUE)
    disk.room = 4  # the folder, its identity once made, the move's intent and its done mark; not the "seen" record
    got = []
    with pytest.raises(OSError, match="No space left on device"):
        for result in Sorter(tmp_path, FakeClassifier()).sort_entries([tmp_path / "tom.png"]):
            got.append((result.status, result.destination))
    assert got == [("moved", tmp_path / "cats" / "tom.png")] and (tmp_path / "cats" / "tom.png").is_file()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full, a device that is always full")
def test_a_log_file_on_a_full_disk_is_one_warning_and_the_photos_are_sorted(tmp_path: Path, monkeypatch) -> None:
    # A watcher's --log-file on a disk that filled up ended it with 250 lines of tracebacks, and
    # under systemd it then failed at its first line every 10 s.
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    write_image(tmp_path / "rex.png", RED)
    write_image(tmp_path / "tom.png", BLUE)

    result = runner.invoke(app, ["sort", str(tmp_path), "--log-file", "/dev/full", "--verbose"])

    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning: cannot write the log file /dev/full: No space left on device; its lines are "
                               "skipped until it can be written again\n") == 1
    assert "Traceback" not in result.output and sorted(tree(tmp_path)) == ["cats/tom.png", "dogs/rex.png"]


def test_a_photo_replaced_while_it_was_judged_stays_for_the_next_sort(tmp_path: Path) -> None:
    """A sync client replaces a photo by renaming a new file over it; if that happens while the
    old one is judged, the new one must not be filed by the old one's verdict."""
    write_image(tmp_path / "x.jpg", BLUE)  # a cat
    write_image(tmp_path / ".sync-x.jpg", RED)  # the dog the sync client is about to put in its place
    write_image(tmp_path / "tom.jpg", BLUE)

    class SyncedMeanwhile(FakeClassifier):
        def predict(self, batch):
            if (tmp_path / ".sync-x.jpg").exists():
                os.replace(tmp_path / ".sync-x.jpg", tmp_path / "x.jpg")
            return super().predict(batch)

    found = {}
    sort_folder(tmp_path, classifier=SyncedMeanwhile(), on_result=lambda r: found.setdefault(r.path.name, r))
    assert (found["x.jpg"].status, found["x.jpg"].reason) == (
        "failed", "cannot move: changed since it was judged (replaced or written to); left for the next sort")
    assert set(tree(tmp_path)) == {"x.jpg", "cats/tom.jpg"}
    sort(tmp_path, FakeClassifier())  # the next sort judges the dog that is there now
    assert set(tree(tmp_path)) == {"dogs/x.jpg", "cats/tom.jpg"}


def test_a_name_of_the_longest_length_taken_in_cats_gets_a_free_name_that_fits(tmp_path: Path, fake_classifier) -> None:
    longest = "a" * 251 + ".jpg"  # 255 bytes: " (1)" more would be too long for the filesystem
    write_image(tmp_path / "cats" / longest, BLUE, size=(10, 10))
    write_image(tmp_path / longest, BLUE, size=(11, 11))
    sort(tmp_path, fake_classifier)
    assert sorted(tree(tmp_path)) == [f"cats/{'a' * 247} (1).jpg", f"cats/{longest}"]


def test_cats_spelled_otherwise_on_a_case_insensitive_card_is_sorters_own(tmp_path: Path, fake_classifier) -> None:
    """On an SD card's exFAT a `Cats/` made on Windows is the folder sorter's `cats/` opens:
    `sort -r` must not enter it (each run renamed its photos `x (1).jpg`, `x (1) (1).jpg`, ...).
    Two names for one folder (a bind mount, here) are what such a filesystem shows."""
    import subprocess

    write_image(tmp_path / "cats" / "tom.jpg", BLUE)
    write_image(tmp_path / "trip" / "rex.jpg", RED)
    (tmp_path / "Cats").mkdir()
    mounted = subprocess.run(["mount", "--bind", str(tmp_path / "cats"), str(tmp_path / "Cats")], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"needs a bind mount (root): {mounted.stderr.decode().strip()}")
    try:
        seen = []
        for _ in range(2):
            sort(tmp_path, fake_classifier, recursive=True, on_result=lambda r: seen.append(r.path.relative_to(tmp_path)))
        assert seen == [Path("trip/rex.jpg")]  # Cats/tom.jpg never looked at
        assert sorted(os.listdir(tmp_path / "cats")) == ["tom.jpg"]
        assert sorted(os.listdir(tmp_path / "dogs")) == ["rex.jpg"]
    finally:
        subprocess.run(["umount", str(tmp_path / "Cats")], check=True)


def test_cats_spelled_otherwise_on_a_real_exfat_card_is_sorters_own(exfat_card: Path, fake_classifier) -> None:
    """The same on a real exFAT card (exfat-fuse): there `Cats/` and `cats/` have two inode
    numbers, so it is told by `cats` opening without being among the card's names."""
    write_image(exfat_card / "Cats" / "tom.jpg", BLUE)
    write_image(exfat_card / "trip" / "rex.jpg", RED)
    seen = []
    for _ in range(2):
        sort(exfat_card, fake_classifier, recursive=True, on_result=lambda r: seen.append(r.path.relative_to(exfat_card)))
    assert seen == [Path("trip/rex.jpg")]  # Cats/tom.jpg never looked at
    assert sorted(os.listdir(exfat_card)) == [".sorter", "Cats", "dogs", "trip"]
    assert sorted(os.listdir(exfat_card / "cats")) == ["tom.jpg"]


def test_a_photo_put_back_by_hand_on_a_card_stays_put_back_after_the_card_is_remounted(exfat_card: Path,
                                                                                   fake_classifier) -> None:
    # exfat-fuse numbers inodes as names are looked up, anew at each mount: the photo put back
    # was a new photo to the next sort after the card came back, and went into dogs/ again.
    for name in ("a.jpg", "b.jpg", "rex.jpg"):
        write_image(exfat_card / name, RED)
    sort(exfat_card, fake_classifier)
    (exfat_card / "dogs" / "rex.jpg").rename(exfat_card / "rex.jpg")  # the user's word: not a dog
    remount(exfat_card)
    assert sorted(os.listdir(exfat_card / "dogs")) == ["a.jpg", "b.jpg"]  # looked up first: other numbers

    seen = []
    sort(exfat_card, fake_classifier, on_result=seen.append)

    assert [(r.path.name, r.status, r.reason) for r in seen] == [
        ("rex.jpg", "skipped", "you put it back from dogs/rex.jpg; left there")]
    assert (exfat_card / "rex.jpg").is_file()
    # A copy keeps its time too (cp -p), but the photo is still in dogs/: the copy is a new photo.
    shutil.copy2(exfat_card / "dogs" / "a.jpg", exfat_card / "a.jpg")
    remount(exfat_card)
    sort(exfat_card, fake_classifier)
    assert sorted(os.listdir(exfat_card / "dogs")) == ["a (1).jpg", "a.jpg", "b.jpg"]


def test_free_name_is_case_insensitive() -> None:
    assert free_name("a.jpg", NameIndex()) == "a.jpg"
    assert free_name("a.jpg", NameIndex(["a.jpg", "a (1).jpg"])) == "a (2).jpg"
    assert free_name("A.JPG", NameIndex(["a.jpg"])) == "A (1).JPG"


def test_sorted_folders_are_not_sorted_again(tmp_path: Path, fake_classifier) -> None:
    write_image(tmp_path / "cats" / "red-but-filed-as-cat.jpg", RED)
    write_image(tmp_path / "dogs" / "blue-but-filed-as-dog.jpg", BLUE)
    sort(tmp_path, fake_classifier, recursive=True)
    assert set(tree(tmp_path)) == {"cats/red-but-filed-as-cat.jpg", "dogs/blue-but-filed-as-dog.jpg"}


def test_unsure_images_stay_in_place(tmp_path: Path, fake_classifier) -> None:
    write_image(tmp_path / "blurry.jpg", GREY)
    write_image(tmp_path / "rex.jpg", RED)
    summary = sort(tmp_path, fake_classifier, min_confidence=0.8)
    assert set(tree(tmp_path)) == {"blurry.jpg", "dogs/rex.jpg"}
    assert summary.counts == {"unsure": 1, "moved": 1}


def test_photos_of_neither_stay_in_place_whatever_the_confidence(tmp_path: Path, three_class_fake) -> None:
    write_image(tmp_path / "car.png", GREEN)
    write_image(tmp_path / "maybe a car.png", PALE_GREEN)  # top class "other", but only 55%
    write_image(tmp_path / "dim dog.png", GREENISH_RED)
    write_image(tmp_path / "rex.png", RED)
    write_image(tmp_path / "tom.png", BLUE)
    results = []

    summary = sort(tmp_path, three_class_fake, min_confidence=0.8, on_result=results.append)

    assert set(tree(tmp_path)) == {"car.png", "maybe a car.png", "dim dog.png", "dogs/rex.png", "cats/tom.png"}
    assert summary.counts == {"neither": 2, "unsure": 1, "moved": 2}
    assert summary.moved_to == {"dogs": 1, "cats": 1}
    found = {r.path.name: (r.status, r.label, round(r.confidence, 2), r.destination, r.reason) for r in results}
    assert found["car.png"] == ("neither", "other", 1.0, None, "not a cat or a dog")
    assert found["maybe a car.png"] == ("neither", "other", 0.55, None, "not a cat or a dog")
    assert found["dim dog.png"] == ("unsure", "dog", 0.61, None, "confidence 60% below --min-confidence 80%")



def test_one_record_says_what_sort_decided_about_each_photo(tmp_path: Path, three_class_fake) -> None:
    """The journal's "seen" record is the one record of a decision: identity, label, status,
    confidence and reason, fsync'd with the moves. `sorter learn` and the review server both
    read it; nothing else repeats it (no left.jsonl)."""
    write_image(tmp_path / "car.png", GREEN)
    write_image(tmp_path / "dim dog.png", GREENISH_RED)
    write_image(tmp_path / "rex.png", RED)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    sort(tmp_path, three_class_fake, min_confidence=0.8)

    assert sorted(p.name for p in (tmp_path / ".sorter").iterdir()) == ["journal.jsonl", "lock", "review.html"]
    records = [json.loads(line) for line in (tmp_path / ".sorter" / "journal.jsonl").read_text().splitlines()]
    seen = {r["path"]: r for r in records if r["op"] == "seen"}
    assert set(seen) == {"car.png", "dim dog.png", "dogs/rex.png", "broken.jpg"}
    assert (seen["car.png"]["status"], seen["car.png"]["label"], seen["car.png"]["reason"]) == (
        "neither", "other", "not a cat or a dog")
    assert (seen["dim dog.png"]["status"], seen["dim dog.png"]["confidence"]) == ("unsure", 0.6078)
    assert seen["dogs/rex.png"]["status"] == "moved" and seen["dogs/rex.png"]["confidence"] == 1.0
    assert seen["broken.jpg"]["status"] == "unreadable" and seen["broken.jpg"]["reason"]
    st = (tmp_path / "car.png").stat()
    assert seen["car.png"]["id"] == [st.st_dev, st.st_ino, st.st_size]

    left = read_verdicts(tmp_path)  # what the review server shows of the photos left in place
    assert set(left) == {"car.png", "dim dog.png", "broken.jpg"}
    assert left["dim dog.png"] == Verdict("unsure", "dog", 0.6078, "confidence 60% below --min-confidence 80%")


def test_journal_readers_skip_other_records_by_their_start_yet_read_any_key_order(tmp_path: Path, fake_classifier) -> None:
    """A reader of "seen" records skips the moves unparsed (told from the line's start, as sorter
    writes it); a record whose keys come in another order (another writer) is still parsed."""
    from sorter.files.journal import journal_path, scan, seen_of, sorted_moves

    write_image(tmp_path / "rex.jpg", RED)
    sort(tmp_path, fake_classifier)
    with open(journal_path(tmp_path), "a") as f:
        f.write(json.dumps({"run": "other", "path": "tom.jpg", "op": "seen", "label": "cat", "status": "neither",
                            "id": [1, 2, 3]}) + "\n")
    assert [(s.path, s.status) for s in seen_of(tmp_path)] == [("dogs/rex.jpg", "moved"), ("tom.jpg", "neither")]
    assert [(m.src, m.dst) for m in sorted_moves(tmp_path, scan(tmp_path))] == [("rex.jpg", "dogs/rex.jpg")]

def test_dry_run_changes_nothing(tmp_path: Path, fake_classifier) -> None:
    write_image(tmp_path / "rex.jpg", RED)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    summary = sort(tmp_path, fake_classifier, dry_run=True)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # not even .sorter/
    assert summary.moved_to == {"dogs": 1} and summary.counts == {"planned": 1}


def test_broken_special_and_linked_files_are_left_alone(tmp_path: Path, fake_classifier) -> None:
    outside = tmp_path / "outside"
    write_image(outside / "secret.jpg", RED)
    root = tmp_path / "photos"
    write_image(root / "rex.jpg", RED)
    (root / "empty.jpg").write_bytes(b"")
    (root / "garbage.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (root / "link.jpg").symlink_to(outside / "secret.jpg")
    os.mkfifo(root / "fifo.jpg")
    results = []

    summary = sort(root, fake_classifier, on_result=results.append)

    assert summary.counts == {"moved": 1, "unreadable": 2, "skipped": 2}
    assert set(tree(root)) == {"dogs/rex.jpg", "empty.jpg", "garbage.png"}
    assert (root / "link.jpg").is_symlink() and (root / "fifo.jpg").exists()
    assert (outside / "secret.jpg").exists()
    reasons = {r.path.name: r.reason for r in results if r.reason}
    assert reasons["empty.jpg"] == "empty file"
    assert reasons["link.jpg"] == "symbolic link, not followed"


def test_everything_sorter_keeps_lives_in_dot_sorter(tmp_path: Path, fake_classifier) -> None:
    write_image(tmp_path / "rex.jpg", RED)
    sort(tmp_path, fake_classifier)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sorter", "dogs"]
    assert sorted(p.name for p in (tmp_path / ".sorter").iterdir()) == ["journal.jsonl", "lock", "review.html"]


# ---------------------------------------------------------------------------- CLI


def test_cli_sorts_with_a_saved_model_and_prints_a_summary(tmp_path: Path, tiny_model: Path) -> None:
    write_image(tmp_path / "a.jpg", RED)
    write_image(tmp_path / "b.png", BLUE)
    (tmp_path / "broken.jpg").write_bytes(b"nope")
    result = runner.invoke(app, ["sort", str(tmp_path), "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    # An untrained model: the table has a row for each folder it moved a photo into, and only those.
    assert all((f"moved to {d}/" in result.stdout) == any(w == d for w, _ in _where(tmp_path)) for d in ("cats", "dogs"))
    assert "left in place: unreadable │ not a readable image (corrupt or unsupported format) │ 1" in rows(result)
    assert result.stderr == ""  # no line per file: that is --verbose
    assert sorted(tree(tmp_path)) == ["broken.jpg", *sorted(f"{d}/{n}" for d, n in _where(tmp_path))]


def rows(result) -> list[str]:
    """The summary table's rows, white space folded: "left in place: neither │ not a cat or a dog │ 1"."""
    return [" ".join(line.strip("│┃ ").split()) for line in result.stdout.splitlines()]


def _where(root: Path):
    for folder in ("cats", "dogs"):
        for path in (root / folder).glob("*") if (root / folder).is_dir() else []:
            yield folder, path.name


def test_cli_json_prints_one_object_and_nothing_else(tmp_path: Path, tiny_model: Path) -> None:
    write_image(tmp_path / "a.jpg", RED)
    (tmp_path / "broken.jpg").write_bytes(b"nope")
    result = runner.invoke(app, ["sort", str(tmp_path), "--model", str(tiny_model), "--json", "--dry-run"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    files = {Path(f["path"]).name: f for f in data["files"]}
    assert files["a.jpg"]["status"] == "planned" and files["a.jpg"]["label"] in ("cat", "dog")
    assert 0.5 <= files["a.jpg"]["confidence"] <= 1.0
    assert files["a.jpg"]["destination"].endswith(("cats/a.jpg", "dogs/a.jpg"))
    assert files["broken.jpg"]["status"] == "unreadable"
    assert data["dry_run"] is True and (tmp_path / "a.jpg").exists()


def test_a_sort_without_recursive_names_the_sub_folders_it_did_not_look_into(tmp_path: Path, monkeypatch) -> None:
    """Photos in DIR/trip/ were left without a word. Sorter's own folders, hidden ones and a
    folder sorted on its own (which --recursive does not enter either) are not named."""
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    write_image(tmp_path / "rex.png", RED)
    for sub in ("trip", "2019"):
        write_image(tmp_path / sub / "rex.png", RED)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "own" / ".sorter").mkdir(parents=True)
    (tmp_path / "own" / ".sorter" / "journal.jsonl").write_text("")
    said = "Not looked into: 2 sub-folders (2019/, trip/); --recursive sorts them too."

    dry = runner.invoke(app, ["sort", str(tmp_path), "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert said in dry.stdout.splitlines(), dry.stdout
    as_json = json.loads(runner.invoke(app, ["sort", str(tmp_path), "--dry-run", "--json"]).stdout)
    assert as_json["not_looked_into"] == {"sub_folders": 2, "named": ["2019", "trip"]}
    for sub in ("a", "b", "c"):
        write_image(tmp_path / sub / "rex.png", RED)
    sort = runner.invoke(app, ["sort", str(tmp_path)])
    assert sort.exit_code == 0 and (tmp_path / "dogs" / "rex.png").is_file()
    line = next(line for line in sort.stdout.splitlines() if line.startswith("Not looked into: "))
    assert line == "Not looked into: 5 sub-folders (2019/, a/, b/, …); --recursive sorts them too."  # by name
    recursive = runner.invoke(app, ["sort", str(tmp_path), "--recursive"])
    assert recursive.exit_code == 0 and "Not looked into" not in recursive.stdout
    assert len(os.listdir(tmp_path / "dogs")) == 6  # trip/'s, 2019/'s, a/'s, b/'s and c/'s rex too
    assert json.loads(runner.invoke(app, ["sort", str(tmp_path), "-r", "--json"]).stdout)["not_looked_into"] is None


def test_a_sort_without_recursive_names_only_the_sub_folders_that_hold_a_photo(tmp_path: Path, monkeypatch) -> None:
    """Empty sub-folders were named too (`Not looked into: 7 sub-folders (empty/, hidden/, linked/,
    …); --recursive sorts them too.`), where --recursive sorts nothing in them. One holding only
    hidden files, notes, a link to a photo or empty folders is not named; one with a photo deep
    in it is. Each is looked into until its first photo, and no further than `NotEntered.LOOKS`
    entries in all: past that, a sub-folder is named without a look, as all were."""
    from sorter.media.folders import NotEntered

    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    write_image(tmp_path / "rex.png", RED)
    (tmp_path / "empty").mkdir()
    write_image(tmp_path / "hidden" / ".rex.png", RED)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "trip.txt").write_text("the photos are on the other card\n")
    (tmp_path / "nested" / "a" / "b").mkdir(parents=True)
    write_image(tmp_path / "nested" / "a" / ".thumbnails" / "rex.png", RED)  # a hidden folder: never entered
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "rex.png").symlink_to(tmp_path / "rex.png")  # never followed
    write_image(tmp_path / "trip" / "day1" / "rex.png", RED)

    dry = runner.invoke(app, ["sort", str(tmp_path), "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert "Not looked into: 1 sub-folder (trip/); --recursive sorts them too." in dry.stdout.splitlines(), dry.stdout
    as_json = json.loads(runner.invoke(app, ["sort", str(tmp_path), "--dry-run", "--json"]).stdout)
    assert as_json["not_looked_into"] == {"sub_folders": 1, "named": ["trip"]}
    recursive = json.loads(runner.invoke(app, ["sort", str(tmp_path), "--dry-run", "--json", "-r"]).stdout)
    assert sorted(os.path.relpath(f["path"], tmp_path) for f in recursive["files"] if f["status"] == "planned") == [
        "rex.png", "trip/day1/rex.png"]  # what the others hold, --recursive does not sort either
    monkeypatch.setattr(NotEntered, "LOOKS", 0)
    bounded = runner.invoke(app, ["sort", str(tmp_path), "--dry-run"])
    assert "Not looked into: 5 sub-folders (" in bounded.stdout, bounded.stdout  # all but empty/, which lists nothing


@pytest.fixture
def car_and_rex(tmp_path: Path, monkeypatch) -> Path:
    """A car (neither) and a dog, sorted by a three-class model through the CLI."""
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    write_image(tmp_path / "car.png", GREEN)
    write_image(tmp_path / "rex.png", RED)
    return tmp_path


def test_a_folder_without_photos_says_so(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    (tmp_path / "notes.txt").write_text("not a photo")
    (tmp_path / "trip").mkdir()
    write_image(tmp_path / "trip" / "rex.png", RED)
    result = runner.invoke(app, ["sort", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "No photos or videos in it: files of other kinds are left alone." in result.stdout  # the next line says why
    assert "Not looked into: 1 sub-folder (trip/); --recursive sorts them too." in result.stdout
    assert sorted(os.listdir(tmp_path)) == ["notes.txt", "trip"]  # no .sorter/ left behind: nothing was done
    assert "No photos" not in runner.invoke(app, ["sort", str(tmp_path), "--recursive"]).stdout
    assert (tmp_path / "dogs" / "rex.png").is_file() and (tmp_path / "notes.txt").is_file()


def test_a_folder_without_photos_whose_sub_folders_hold_none_either_does_not_send_the_user_to_recursive(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    (tmp_path / "notes.txt").write_text("not a photo")
    (tmp_path / "empty").mkdir()
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "tax.pdf").write_bytes(b"%PDF-1.4")
    result = runner.invoke(app, ["sort", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "No photos or videos in it: files of other kinds are left alone." in result.stdout
    assert "recursive" not in result.stdout  # it would find nothing there either


def test_a_recursive_sort_that_found_only_folders_it_does_not_enter_says_it_found_no_photo_where_it_looked(
        tmp_path: Path, monkeypatch) -> None:
    """Beside the rows of folders not entered, the line said "No photos or videos in it or its
    sub-folders", as if node_modules/ and the library held none: it names the sub-folders it
    entered, and the rows say which it did not."""
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    (tmp_path / "notes.txt").write_text("not a photo")
    write_image(tmp_path / "web" / "node_modules" / "pkg" / "logo.png", RED)
    write_image(tmp_path / "Photos Library.photoslibrary" / "originals" / "4A1F.jpeg", BLUE)

    result = runner.invoke(app, ["sort", str(tmp_path), "--recursive"])

    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if "not entered" in line or "No photos" in line] == [
        "│ left in place: skipped │ another app's library, not entered │ 1 folder │",
        "│ left in place: skipped │ software, not photos, not entered  │ 1 folder │",
        "No photos or videos in it or the sub-folders it entered: files of other kinds are left alone.",
    ], result.stdout


def test_cli_leaves_neither_in_place_with_its_own_line_and_summary_row(tmp_path: Path, car_and_rex) -> None:
    result = runner.invoke(app, ["sort", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "moved to dogs/ │ │ 1" in rows(result) and "left in place: neither │ not a cat or a dog │ 1" in rows(result)
    assert "Undo with: sorter undo" in result.stdout  # a file was moved
    assert f"Review: {tmp_path / '.sorter' / 'review.html'}" in result.stdout
    assert set(tree(tmp_path)) == {"car.png", "dogs/rex.png"}


def test_the_summary_shows_no_row_of_nothing_moved(tmp_path: Path, car_and_rex) -> None:
    """A dog and a car: the table says where the dog went and why the car stayed, and has no
    `moved to cats/ | 0` row (a folder nothing went into is not named); a sort with nothing new
    to move shows no empty table either."""
    result = runner.invoke(app, ["sort", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "moved to dogs/ │ │ 1" in rows(result)
    assert "cats/" not in result.stdout, result.stdout
    (tmp_path / "notes.txt").write_text("not a photo")
    again = runner.invoke(app, ["sort", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "moved to" not in again.stdout and "│ 0" not in again.stdout, again.stdout

    runner.invoke(app, ["undo", str(tmp_path)])
    verbose = runner.invoke(app, ["sort", str(tmp_path), "--verbose"])
    assert verbose.stderr.splitlines() == [
        "neither: car.png (100%): not a cat or a dog", "moved rex.png -> dogs/rex.png (dog, 100%)",
    ]


def test_a_photo_put_back_by_hand_is_not_sorted_again(tmp_path: Path, car_and_rex) -> None:
    """A photo sorter filed, moved back by hand to where it was, is the user's word: the next
    sort skips it and says why, as it does for one put back on the review page. The same
    file only (its device, inode and size: touched, it still is): edited since, or a new photo
    of that name, it is judged as any other."""
    assert runner.invoke(app, ["sort", str(tmp_path)]).exit_code == 0
    os.rename(tmp_path / "dogs" / "rex.png", tmp_path / "rex.png")  # "that is no dog of mine"
    for options in (["--dry-run"], []):
        again = runner.invoke(app, ["sort", str(tmp_path), "--verbose", *options])
        assert again.exit_code == 0, again.output
        assert "skipped: rex.png: you put it back from dogs/rex.png; left there" in again.stderr.splitlines()
        assert "left in place: skipped │ you put it back; left there │ 1" in rows(again)  # one row for all of them
    assert set(tree(tmp_path)) == {"car.png", "rex.png"}

    st = (tmp_path / "rex.png").stat()
    os.utime(tmp_path / "rex.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched: the same file
    again = runner.invoke(app, ["sort", str(tmp_path), "--verbose"])
    assert "skipped: rex.png: you put it back from dogs/rex.png; left there" in again.stderr.splitlines()

    write_image(tmp_path / "rex.png", RED, size=(96, 128))  # edited in place (its inode kept): a photo to judge
    assert (tmp_path / "rex.png").stat().st_ino == st.st_ino
    again = runner.invoke(app, ["sort", str(tmp_path), "--verbose"])
    assert "moved rex.png -> dogs/rex.png (dog, 100%)" in again.stderr.splitlines(), again.output

    os.rename(tmp_path / "dogs" / "rex.png", tmp_path / "old-rex.png")  # moved elsewhere, then
    write_image(tmp_path / "rex.png", RED)  # another camera's rex.png in its place: a new photo
    again = runner.invoke(app, ["sort", str(tmp_path), "--verbose"])
    assert "moved rex.png -> dogs/rex.png (dog, 100%)" in again.stderr.splitlines(), again.output


def test_a_photo_put_back_by_hand_under_another_name_is_not_sorted_again(tmp_path: Path, car_and_rex) -> None:
    """QA: taken back out of dogs/ under another name (or put back, then renamed), the photo
    was filed again. It is the same file (device, inode, size and time), which the sort's own
    look at each photo tells: left there. A second name of it (`ln`) while it is still in
    dogs/ is not it put back, and is sorted."""
    assert runner.invoke(app, ["sort", str(tmp_path)]).exit_code == 0
    os.rename(tmp_path / "dogs" / "rex.png", tmp_path / "rex at home.png")
    again = runner.invoke(app, ["sort", str(tmp_path), "--verbose"])
    assert again.exit_code == 0, again.output
    assert "skipped: rex at home.png: you put it back from dogs/rex.png; left there" in again.stderr.splitlines()
    assert set(tree(tmp_path)) == {"car.png", "rex at home.png"}

    os.rename(tmp_path / "rex at home.png", tmp_path / "dogs" / "rex.png")
    os.link(tmp_path / "dogs" / "rex.png", tmp_path / "rex too.png")
    again = runner.invoke(app, ["sort", str(tmp_path), "--verbose"])
    assert "moved rex too.png -> dogs/rex too.png (dog, 100%)" in again.stderr.splitlines(), again.output


def test_a_photo_put_back_by_hand_under_another_name_then_touched_is_not_sorted_again(tmp_path: Path,
                                                                                     car_and_rex) -> None:
    """Taken back out of dogs/ under another name, then touched (a viewer setting its time: the
    same device, inode, size and bytes), the photo was filed again, where one put back under its
    own name and touched was not. It is told as that one is: by its device, inode and size."""
    assert runner.invoke(app, ["sort", str(tmp_path)]).exit_code == 0
    os.rename(tmp_path / "dogs" / "rex.png", tmp_path / "rex at home.png")
    st = (tmp_path / "rex at home.png").stat()
    os.utime(tmp_path / "rex at home.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    again = runner.invoke(app, ["sort", str(tmp_path), "--verbose"])
    assert again.exit_code == 0, again.output
    assert "skipped: rex at home.png: you put it back from dogs/rex.png; left there" in again.stderr.splitlines()
    assert set(tree(tmp_path)) == {"car.png", "rex at home.png"}


def test_cli_dry_run_shows_the_plan_in_the_summary_and_every_file_with_verbose(tmp_path: Path, car_and_rex) -> None:
    result = runner.invoke(app, ["sort", str(tmp_path), "--dry-run"])

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "left in place: neither │ not a cat or a dog │ 1" in rows(result) and "would move to dogs/ │ │ 1" in rows(result)
    assert "Dry run: nothing was changed. Every file's plan: --verbose." in result.stdout
    assert "Review:" not in result.stdout and "Undo" not in result.stdout

    verbose = runner.invoke(app, ["sort", str(tmp_path), "--dry-run", "-v"])
    assert verbose.stderr.splitlines() == [
        "neither: car.png (100%): not a cat or a dog", "would move rex.png -> dogs/rex.png (dog, 100%)",
    ]
    assert set(tree(tmp_path)) == {"car.png", "rex.png"} and not (tmp_path / ".sorter").exists()


def test_cli_json_reports_neither(tmp_path: Path, car_and_rex) -> None:
    result = runner.invoke(app, ["sort", str(tmp_path), "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"] == {"neither": 1, "moved": 1} and data["moved_to"] == {"dogs": 1}
    files = {Path(f["path"]).name: f for f in data["files"]}
    assert files["car.png"] == {
        "path": str(tmp_path / "car.png"), "kind": "photo", "frames": None, "status": "neither", "label": "other",
        "confidence": 1.0,
        "destination": None, "reason": "not a cat or a dog", "companions": [], "warnings": [],
    }
    assert files["rex.png"]["status"] == "moved" and (tmp_path / "car.png").exists()


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["sort", "{tmp}/missing"], 2, "folder not found"),
        (["sort", "{tmp}", "--model", "{tmp}/model.h5"], 1, "legacy HDF5 (.h5) models are refused"),
        (["sort", "{tmp}", "--model", "{tmp}/model.pkl"], 1, "pickled models are refused"),
        (["sort", "{tmp}", "--model", "{tmp}/nope.keras"], 1, "model not found"),
        (["sort", "{tmp}", "--model", "{tmp}/fake.keras"], 1, "cannot load model"),
        (["sort", "{tmp}", "--model", "{tmp}/only.keras"], 1, "only.tflite not found beside"),
        (["sort", "{tmp}", "--model", "{tmp}/labels.csv"], 1, "not a sorter model"),
        (["sort", "{tmp}", "--model", "{tmp}/zzz"], 1, "model not found: {tmp}/zzz"),  # not "not a sorter model"
        (["evaluate", "{tmp}", "--model", "{tmp}/zzz.onnx"], 1, "model not found: {tmp}/zzz.onnx"),
        (["sort", "{tmp}", "--model", "{tmp}/saved.keras"], 1, "saved.keras is a folder; give the model's file"),
        (["evaluate", "{tmp}", "--model", "{tmp}"], 1, "{tmp} is a folder; give the model's file"),
        (["sort", "{tmp}", "--min-confidence", "2"], 2, "2 is not a number from 0 to 1"),
        # nan passes every range check by failing every comparison; inf is a float too
        (["sort", "{tmp}", "--min-confidence", "nan"], 2, "nan is not a number from 0 to 1"),
        (["watch", "{tmp}", "--min-confidence", "inf"], 2, "inf is not a number from 0 to 1"),
        (["train", "{tmp}", "--validation-split", "nan"], 2, "nan is not a number from 0 to 0.9"),
        (["undo", "{tmp}"], 2, "nothing to undo"),
        *(([command, ""], 2, "an empty path (a variable that is not set?)")  # `sorter sort "$UNSET"`: not this folder
          for command in ("sort", "undo", "watch", "review", "learn", "train", "evaluate")),
        # ... and as a path option's value, where it meant this folder: evaluate wrote its report here, and
        # `--log-file ''` said "cannot open log file .: Is a directory".
        *((args, 2, f"Invalid value for '{option}': an empty path (a variable that is not set?)") for args, option in (
            (["evaluate", "{tmp}", "--report", ""], "--report"),
            (["evaluate", "{tmp}", "--other", "", "--other", "{tmp}"], "--other"),
            (["evaluate", "{tmp}", "--holdout", ""], "--holdout"),
            (["sort", "{tmp}", "--log-file", ""], "--log-file"),
            (["watch", "{tmp}", "--log-file", ""], "--log-file"),
            (["sort", "{tmp}", "--model", ""], "--model' / '-m"),
            (["train", "{tmp}", "--out", ""], "--out' / '-o"),
            (["train", "{tmp}", "--backbone", "none", "--init-from", ""], "--init-from"),
        )),
    ],
)
def test_bad_input_gets_one_clear_line_and_an_exit_code(tmp_path: Path, args, code: int, message: str) -> None:
    (tmp_path / "model.h5").write_bytes(b"x")
    (tmp_path / "model.pkl").write_bytes(b"x")
    (tmp_path / "fake.keras").write_bytes(b"not a zip")
    (tmp_path / "fake.tflite").write_bytes(b"not a flatbuffer")
    (tmp_path / "only.keras").write_bytes(b"a model without its int8 export")
    (tmp_path / "labels.csv").write_bytes(b"file,label")
    (tmp_path / "saved.keras").mkdir()
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == code
    assert message.format(tmp=tmp_path) in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("cut", ["head.npz", "evidence.npz"])
def test_a_model_file_cut_short_is_one_line_naming_it(tmp_path: Path, cut: str) -> None:

    from sorter.config import BUNDLED_MODEL

    for file in BUNDLED_MODEL.parent.glob("default.*"):
        if not file.name.endswith(".reference.npz"):
            shutil.copy(file, tmp_path / file.name)
    (tmp_path / f"default.{cut}").write_bytes((BUNDLED_MODEL.parent / f"default.{cut}").read_bytes()[:3000])
    write_image(tmp_path / "photos" / "rex.png", RED)
    result = runner.invoke(app, ["sort", str(tmp_path / "photos"), "--model", str(tmp_path / "default.keras")])
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {tmp_path / f'default.{cut}'}: ")
    assert "(BadZipFile: File is not a zip file)" in result.stderr and result.stderr.count("\n") == 1


def bundled_copy(folder: Path) -> Path:
    """The bundled model's files (not its reference set), in `folder`: default.keras."""
    from sorter.config import BUNDLED_MODEL

    folder.mkdir(parents=True, exist_ok=True)
    for file in BUNDLED_MODEL.parent.glob("default.*"):
        if not file.name.endswith(".reference.npz"):
            shutil.copy(file, folder / file.name)
    return folder / "default.keras"


def test_a_model_of_another_format_or_without_its_metadata_is_one_line_naming_the_file(tmp_path: Path) -> None:
    """A newer sorter's model may mean other things by the same files: refused, not run wrong.
    A model without its .json has no head: the missing file is named, not the network's shape."""
    model = bundled_copy(tmp_path / "model")
    meta = json.loads(model.with_suffix(".json").read_text())
    model.with_suffix(".json").write_text(json.dumps({**meta, "format": "sorter-model/99"}))
    write_image(tmp_path / "photos" / "rex.png", RED)
    for command in ("sort", "evaluate"):
        result = runner.invoke(app, [command, str(tmp_path / "photos"), "--model", str(model)])
        assert result.exit_code == 1, result.output
        assert result.stderr == (f"Error: {model.with_suffix('.json')}: written by another version of sorter (format "
                                 "'sorter-model/99'; this one reads 'sorter-model/1'); use that version, or train "
                                 "the model again\n")
    model.with_suffix(".json").unlink()
    result = runner.invoke(app, ["sort", str(tmp_path / "photos"), "--model", str(model)])
    assert result.exit_code == 1 and result.stderr == (
        f"Error: default.json not found beside {model}: `sorter train` writes it (the model's classes and its head); "
        "copy it with the model\n"), result.output
    assert set(tree(tmp_path / "photos")) == {"rex.png"}


def test_a_locked_folder_is_refused_with_a_clear_message(tmp_path: Path, tiny_model: Path) -> None:
    from sorter.files.lock import FolderLock

    write_image(tmp_path / "a.jpg", RED)
    with FolderLock(tmp_path):
        result = runner.invoke(app, ["sort", str(tmp_path), "--model", str(tiny_model)])
    assert result.exit_code == 1
    assert "another sorter" in result.stderr and (tmp_path / "a.jpg").exists()


def test_a_disk_full_part_way_says_what_was_done_and_what_to_do(tmp_path: Path, monkeypatch) -> None:

    disk = full_after_one_photo(tmp_path, monkeypatch, ThreeClassFake())
    result = runner.invoke(app, ["sort", str(tmp_path)])
    assert result.exit_code == 1 and result.stderr == (
        f"Error: {tmp_path / '.sorter' / 'journal.jsonl'}: No space left on device; moved 1 file before it "
        f"stopped, journaled: sort again once there is room, or undo with: sorter undo {tmp_path}\n"), result.output
    assert sorted("/" in name for name in tree(tmp_path)) == [False, True]  # one of the two moved
    # Full from the start: nothing moved, nothing to undo, and nothing of the sort's is left.
    other = tmp_path / "other"
    write_image(other / "rex.png", RED)
    disk.room, disk.cut = 0, False
    result = runner.invoke(app, ["sort", str(other)])
    assert result.exit_code == 1 and result.stderr.endswith(
        "No space left on device; nothing was moved: sort again once there is room\n"), result.output
    assert sorted(os.listdir(other)) == ["rex.png"]


def test_a_disk_full_as_the_moves_are_journaled_says_nothing_was_moved_and_leaves_the_folder_as_it_was(
        tmp_path: Path, monkeypatch) -> None:
    """A real disk with 8 KB left: the journal is cut while it writes the first batch's intents,
    before any photo moves. It said "the photos moved before it are journaled: ... or `sorter undo
    full` takes them back", and that undo said "nothing to undo" (exit 2) as it removed the
    .sorter/ and cats/ the sort had left. Now: nothing was moved, and nothing of the sort is left."""
    from conftest import mounted

    disk = tmp_path / "full"
    disk.mkdir()
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    with mounted(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], disk, "a small tmpfs"):
        for i in range(40):
            write_image(disk / f"tom{i:02}.png", BLUE)
        free = os.statvfs(disk)
        (disk / "filler").write_bytes(bytes(free.f_bavail * free.f_frsize - 8192))
        before = tree(disk)

        result = runner.invoke(app, ["sort", str(disk)])

        assert (result.exit_code, result.stderr) == (1, (
            f"Error: {disk / '.sorter' / 'journal.jsonl'}: No space left on device; nothing was moved: sort again "
            "once there is room\n")), result.output
        assert tree(disk) == before and not (disk / ".sorter").exists() and not (disk / "cats").exists()
        (disk / "filler").unlink()
        assert runner.invoke(app, ["sort", str(disk)]).exit_code == 0
        assert len(os.listdir(disk / "cats")) == 40


def test_a_disk_with_no_block_left_leaves_no_sorter_folder_behind(tmp_path: Path, monkeypatch) -> None:
    """No block left at all: the sort made .sorter/ and its lock (an inode, no block), then could
    not make its journal. It said "nothing was moved" and left .sorter/ behind, which its undo
    could not remove on the full disk. Now the folder is as it was."""
    from conftest import mounted

    disk = tmp_path / "full"
    disk.mkdir()
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    with mounted(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(disk)], disk, "a small tmpfs"):
        for i in range(4):
            write_image(disk / f"tom{i}.png", BLUE)
        with open(disk / "filler", "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(bytes(4096))
            except OSError:  # no block left
                pass
        before = tree(disk)

        result = runner.invoke(app, ["sort", str(disk)])

        assert result.exit_code == 1 and result.stderr.endswith("No space left on device; nothing was moved: sort "
                                                                 "again once there is room\n"), result.output
        assert tree(disk) == before and not (disk / ".sorter").exists() and not (disk / "cats").exists()


def test_an_unsure_photo_is_never_said_to_be_as_sure_as_the_threshold(tmp_path: Path, three_class_fake) -> None:
    """The dim dog is 60.78 % sure: against 0.61 its bare 60 % would hide how close it came."""
    write_image(tmp_path / "dim dog.png", GREENISH_RED)
    results = []
    sort(tmp_path, three_class_fake, min_confidence=0.61, on_result=results.append)
    assert [r.reason for r in results] == ["confidence 60.7% below --min-confidence 61%"]
    results.clear()
    sort(tmp_path, three_class_fake, min_confidence=0.615, dry_run=True, on_result=results.append)
    assert [r.reason for r in results] == ["confidence 60% below --min-confidence 61.5%"]  # cut, not rounded up
    from sorter.files.planning import below_threshold

    assert below_threshold(0.549, 0.55) == "confidence 54.9% below --min-confidence 55%"  # 0.55 * 100 > 55


def test_the_summary_counts_reasons_by_kind_and_a_failed_move_by_why() -> None:
    from sorter.files.planning import reason_kind

    assert reason_kind("confidence 61% below --min-confidence 90%") == "confidence below --min-confidence 90%"
    assert reason_kind("confidence 96.9% below --min-confidence 97%") == "confidence below --min-confidence 97%"
    assert reason_kind("file too large (300 MiB)") == "file too large"
    assert reason_kind("cannot open: Permission denied") == "cannot open: Permission denied"
    assert reason_kind("cannot move into cats/: Permission denied") == "cannot move into cats/: Permission denied"
    # cats/ a read-only disk: the summary's row says why 101 photos stayed, not only that they did
    assert reason_kind("cannot move: Read-only file system") == "cannot move: Read-only file system"
    # a video named as a photo: what it is and what to do, not "not a photo" alone
    reason = "not a photo: a video named .heic (rename it .mp4 to sort it)"
    assert reason_kind(reason) == reason


def test_a_neither_says_what_it_looks_like_in_every_output(tmp_path: Path) -> None:
    """A model with ImageNet's evidence names what a photo left in place looks like: in the
    reason (--verbose, --json, the journal) and on the review page, grouped with every other
    "not a cat or a dog"."""
    from sorter.files.planning import Planner, looks_like, reason_kind

    planner = Planner(tmp_path, {}, 0.0, lambda folder: iter(()))
    decision = planner.decide(tmp_path / "cow.jpg", "other", 0.97, None, looks_like="ox")
    assert (decision.status, decision.reason) == ("neither", "not a cat or a dog: looks like ox")
    assert reason_kind(decision.reason) == "not a cat or a dog" and looks_like(decision.reason) == "ox"
    assert looks_like("not a cat or a dog") is None and looks_like(None) is None

    from sorter.review.page import ReviewPage
    from sorter.sorting.results import FileResult

    write_image(tmp_path / "cow.jpg", GREEN)
    (tmp_path / ".sorter").mkdir()  # a sort makes it with its journal before it writes the page
    page = ReviewPage(tmp_path)
    page.add(FileResult(tmp_path / "cow.jpg", "neither", "other", 0.97, reason=decision.reason))
    html = page.write().read_text()
    assert '<span class="looks">looks like ox</span>' in html


@pytest.mark.parametrize(("name", "typed"), [
    ("plain", "{}"),
    ("w eird ü", "'{}'"),  # pasted, a space would split it in two
    ("nl\ndir", "$'{}'"),  # shlex.quote would keep the newline, and split the printed line
])
def test_printed_commands_paste_back_and_no_folder_name_splits_a_line(
        tmp_path: Path, monkeypatch, name: str, typed: str) -> None:
    folder = tmp_path / name
    write_image(folder / "tom.jpg", BLUE)
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())

    result = runner.invoke(app, ["sort", str(folder)])

    assert result.exit_code == 0, result.output
    shown = str(folder).replace("\n", "\\n")
    lines = result.stdout.splitlines()
    assert lines[0] == f"Sorted {shown}"
    assert lines[-1] == f"Undo with: sorter undo {typed.format(shown)}"
    review = lines[-2].removeprefix("Review: ")
    assert review.startswith(typed.format(shown)[:2])  # the page's path quoted as the folder's

    def pasted(typed: str) -> str:
        return subprocess.run(["bash", "-c", f"printf %s {typed}"], capture_output=True, text=True).stdout

    assert pasted(lines[-1].removeprefix("Undo with: sorter undo ")) == str(folder)
    assert pasted(review) == str(folder / ".sorter" / "review.html")


def test_on_an_ascii_terminal_the_undo_line_pastes_back_as_the_folders_own_bytes(tmp_path: Path) -> None:
    # `PYTHONIOENCODING=ascii`: "Undo with: sorter undo '/tmp/Zo\\xeb'", a folder not there.
    import sys

    from conftest import REPO

    folder = tmp_path / "Zoë"
    folder.mkdir()
    shutil.copy(REPO / "sample_images" / "photo-01.jpg", folder)
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run([sys.executable, "-m", "sorter", "sort", str(folder)], capture_output=True, text=True,
                            env=env, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    typed = result.stdout.splitlines()[-1].removeprefix("Undo with: sorter undo ")
    assert typed == f"$'{tmp_path}/Zo\\xc3\\xab'"
    pasted = subprocess.run(["bash", "-c", f"printf %s {typed}"], capture_output=True).stdout
    assert pasted == os.fsencode(folder)


def test_a_cats_folder_it_may_not_write_in_is_named_and_the_sort_exits_1_after_moving_the_rest(tmp_path: Path,
                                                                                                monkeypatch) -> None:
    # cats/ root's, the rest the user's: each cat said `cannot move: Permission denied`, which
    # folder unsaid, and the sort exited 0 as if done.
    from conftest import as_a_user

    write_image(tmp_path / "tom.jpg", BLUE)
    write_image(tmp_path / "kit.jpg", BLUE)
    write_image(tmp_path / "rex.jpg", RED)
    (tmp_path / "cats").mkdir()
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    (tmp_path / "cats").chmod(0o555)
    try:
        with as_a_user(tmp_path / "cats", "write"):
            result = runner.invoke(app, ["sort", str(tmp_path), "-v"])
    finally:
        (tmp_path / "cats").chmod(0o755)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        "Error: 2 photos could not be moved, the summary says why; the others were moved: put that right, then sort again")
    assert "failed: tom.jpg: cannot move into cats/: Permission denied" in result.stderr
    assert "│ left in place: failed │ cannot move into cats/: Permission denied │     2 │" in result.stdout
    assert set(tree(tmp_path)) == {"tom.jpg", "kit.jpg", "dogs/rex.jpg"}
    assert "cannot move into cats/: Permission denied" in (tmp_path / ".sorter" / "review.html").read_text()
    result = runner.invoke(app, ["sort", str(tmp_path)])  # once it can: done
    assert result.exit_code == 0 and set(tree(tmp_path)) >= {"cats/tom.jpg", "cats/kit.jpg"}



def test_a_sort_where_every_photo_failed_does_not_say_the_others_were_moved(tmp_path: Path, monkeypatch) -> None:
    # Two cats, a cats/ it may not write in, no dog: it said "the others were moved", and none were.
    from conftest import as_a_user

    write_image(tmp_path / "tom.jpg", BLUE)
    write_image(tmp_path / "kit.jpg", BLUE)
    (tmp_path / "cats").mkdir()
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    (tmp_path / "cats").chmod(0o555)
    try:
        with as_a_user(tmp_path / "cats", "write"):
            result = runner.invoke(app, ["sort", str(tmp_path)])
    finally:
        (tmp_path / "cats").chmod(0o755)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == (
        "Error: 2 photos could not be moved, the summary says why: put that right, then sort again")
    assert set(tree(tmp_path)) == {"tom.jpg", "kit.jpg"}


def test_a_photo_it_may_not_open_is_counted_with_why_in_the_summary_and_on_the_review_page(tmp_path: Path,
                                                                                         monkeypatch) -> None:
    # Only --verbose said "Permission denied": the summary and the page said "cannot open", which
    # a damaged file's I/O error says too.
    from conftest import as_a_user

    write_image(tmp_path / "tom.jpg", BLUE)
    photo = write_image(tmp_path / "x.jpg", RED)
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    photo.chmod(0)
    try:
        with as_a_user(photo):
            result = runner.invoke(app, ["sort", str(tmp_path)])
    finally:
        photo.chmod(0o644)
    assert result.exit_code == 0, result.output
    assert "│ left in place: unreadable │ cannot open: Permission denied │     1 │" in result.stdout
    assert "cannot open: Permission denied" in (tmp_path / ".sorter" / "review.html").read_text()


def test_json_never_rounds_a_confidence_up_to_a_threshold_it_is_below(tmp_path: Path) -> None:
    """QA: `--min-confidence 1` left photo-03.jpg unsure ("confidence 99.9% below
    --min-confidence 100%") while `--json` said `"confidence": 1.0` for it. JSON keeps 4 places,
    never more than the confidence is, so a script comparing it with the threshold agrees."""
    folder = tmp_path / "pets"
    shutil.copytree(SAMPLES, folder)
    result = runner.invoke(app, ["sort", str(folder), "--dry-run", "--json", "--min-confidence", "1"])
    assert result.exit_code == 0, result.output
    unsure = {Path(f["path"]).name: f["confidence"] for f in json.loads(result.stdout)["files"] if f["status"] == "unsure"}
    assert unsure and all(confidence < 1.0 for confidence in unsure.values()), unsure
    assert (results.at_most(0.99996), results.at_most(0.96996), results.at_most(0.6078), results.at_most(1.0)) == (
        0.9999, 0.9699, 0.6078, 1.0)
