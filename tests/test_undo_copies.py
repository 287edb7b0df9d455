"""A sorted folder copied to another disk (`cp -a`, `rsync -a`, a backup restored there), or its
disk mounted again under another device number: names, sizes and times are kept, devices and
inodes are not. The identities sorter keeps (device, inode, size, time) were taken on another
device than the folder is on now, so there a photo is told by its size and time, as on a FAT card
(`files.identities.Identities`): `undo` puts back what it does on the original disk, and `sort`,
`watch` and `undo` know a photo put back by hand, and undo never takes one of two burst shots of
one size and time for the other. A copy on the folder's own disk keeps the device number: the
journal's "folder" records tell it from the folder, and what was journaled before it was copied
is told as in a copy on another disk; a folder moved (`mv DIR DIR2`) is the folder, told by inode.
And a copy made with hard links (`cp -al`, a
backup tool that links what did not change): sorter's own files are the folder's own before it
writes to them (`files.state_links`), so each folder undoes its own runs and only those.

A copy to another disk is made here as one to another folder of the same disk (new inodes) whose
journal is read as another disk's (`on_another_disk`: every identity on record names another
device), and a re-mount as the journal so read alone: neither needs a second filesystem. One test
copies to /dev/shm, a filesystem of its own, where there is one."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import FakeClassifier, ThreeClassFake, layout, mounted, write_image
from test_review_server import answered
from test_undo_moved_on import undo
from typer.testing import CliRunner

from sorter.cli import app
from sorter.files import suggestions
from sorter.files.identities import identity_of
from sorter.model import lite
from sorter.sorting.sort import sort_folder
from sorter.watching import watch, watcher

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat


def photo(path: Path, colour, height: int) -> None:
    """A photo of its own size (a JPEG's size goes by 8x8 blocks): told apart by size and time
    even where two were written within one tick of the filesystem's clock."""
    write_image(path, colour, size=(8 * height, 8))


def on_another_disk(root: Path) -> None:
    """`root`'s state as it reads after `root` was copied to another disk, or once its disk is
    mounted again under another device number: every identity on record (a move's, a "seen"
    record's, a folder's in the journal; a suggestion's) names another device than the one
    `root` is on."""

    def elsewhere(record):
        if isinstance(record, dict):
            if isinstance(record.get("id"), list):
                record["id"][0] += 1
            for value in record.values():
                elsewhere(value)
        elif isinstance(record, list):
            for value in record:
                elsewhere(value)
        return record

    journal, noted = root / ".sorter" / "journal.jsonl", suggestions.path_of(root)
    if journal.exists():
        records = [elsewhere(json.loads(line)) for line in journal.read_bytes().splitlines()]
        journal.write_bytes(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records))
    if noted.exists():
        noted.write_text(json.dumps(elsewhere(json.loads(noted.read_text()))))


def copied(root: Path, to: Path) -> Path:
    """`cp -a root to`: every file a new one, of the same name, size and time."""
    shutil.copytree(root, to, symlinks=True, copy_function=shutil.copy2)
    return to


@pytest.fixture
def shm(tmp_path: Path):
    """A folder on /dev/shm, another filesystem than tmp_path's, removed after."""
    if not os.path.isdir("/dev/shm") or os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's temporary folder")
    where = Path("/dev/shm") / f"sorter-test-{os.getpid()}-{tmp_path.name}"
    yield where
    shutil.rmtree(where, ignore_errors=True)


def moved_elsewhere(root: Path, where: str, shm: Path | None) -> Path:
    """`root`, sorted, as `where` has it: the folder itself, copied to another disk, or on its
    disk mounted again."""
    if where == "here":
        return root
    if where == "mounted again":
        on_another_disk(root)
        return root
    if where == "copied to /dev/shm":
        return copied(root, shm)
    if where == "copied on this disk":
        return copied(root, root.parent / "copy")
    folder = copied(root, root.parent / "copy")
    on_another_disk(folder)
    return folder


WHERE = ["here", "copied to another disk", "mounted again", "copied to /dev/shm", "copied on this disk"]


@pytest.mark.parametrize("where", WHERE)
def test_undo_puts_back_photos_swapped_and_renamed_as_on_the_original_disk(tmp_path: Path, where: str,
                                                                          request) -> None:
    """QA: in a copy, two names swapped were put back swapped, c0 renamed onto a deleted c1 went
    back as c1.jpg, and photos renamed or filed into a sub-folder were "missing" while in the
    folder (and `.sorter/` deleted). Each is undone in a copy as on the original disk."""
    root = tmp_path / "S"
    for height, name in enumerate(("c90.jpg", "c91.jpg", "cat0.jpg", "cat1.jpg", "cat2.jpg", "cat3.jpg"), 2):
        photo(root / name, BLUE, height)
    photo(root / "dog4.jpg", RED, 12)
    before = layout(root)
    sort_folder(root, classifier=FakeClassifier())
    folder = moved_elsewhere(root, where, request.getfixturevalue("shm") if "shm" in where else None)
    cats = folder / "cats"
    os.rename(cats / "c90.jpg", cats / "t")
    os.rename(cats / "c91.jpg", cats / "c90.jpg")
    os.rename(cats / "t", cats / "c91.jpg")
    (cats / "cat1.jpg").unlink()
    os.rename(cats / "cat0.jpg", cats / "cat1.jpg")
    (cats / "sub").mkdir()
    os.rename(cats / "cat2.jpg", cats / "sub" / "cat2.jpg")
    os.rename(cats / "cat3.jpg", cats / "kitty3.jpg")
    os.rename(folder / "dogs" / "dog4.jpg", folder / "dog4-renamed.jpg")

    assert undo(folder) == ([
        f"Restored 6 files from 1 run in {folder} (1 missing).",
        "found: cats/c90.jpg: moved to cats/c91.jpg since; put back from there to c90.jpg",
        "found: cats/c91.jpg: moved to cats/c90.jpg since; put back from there to c91.jpg",
        "found: cats/cat0.jpg: moved to cats/cat1.jpg since; put back from there to cat0.jpg",
        "found: cats/cat2.jpg: moved to cats/sub/cat2.jpg since; put back from there to cat2.jpg",
        "found: cats/cat3.jpg: moved to cats/kitty3.jpg since; put back from there to cat3.jpg",
        "found: dogs/dog4.jpg: moved to dog4-renamed.jpg since; put back from there to dog4.jpg",
    ], ["missing: cats/cat1.jpg: no longer there (was cat1.jpg)"])
    # Each photo under its own name (by its bytes), c1's gone; the folders made by hand stay.
    assert layout(folder) == {k: v for k, v in before.items() if k != "cat1.jpg"} | {"cats": "dir", "cats/sub": "dir"}


@pytest.mark.parametrize("where", ["copied to another disk", "mounted again", "copied on this disk"])
def test_a_photo_two_files_have_the_size_and_time_of_is_kept_for_a_later_undo(tmp_path: Path, where: str) -> None:
    """Told by its size and time, a photo renamed beside a copy of it (`cp -p`) is either file:
    undo does not guess, nor say it is missing, and keeps it and `.sorter/` for a later undo."""
    root = tmp_path / "S"
    photo(root / "a.jpg", BLUE, 2)
    photo(root / "b.jpg", BLUE, 3)
    sort_folder(root, classifier=FakeClassifier())
    folder = moved_elsewhere(root, where, None)
    cats = folder / "cats"
    os.rename(cats / "a.jpg", cats / "kitty.jpg")
    shutil.copy2(cats / "kitty.jpg", folder / "kitty copy.jpg")

    result = undo(folder)
    assert result == ([f"Restored 1 file from 1 run in {folder} (1 kept in place)."], [
        "kept: cats/a.jpg: no longer there, and 2 files have its size and time (cats/kitty.jpg, kitty copy.jpg): "
        "which is it cannot be told; left in place"])
    assert (folder / ".sorter" / "journal.jsonl").is_file()
    (folder / "kitty copy.jpg").unlink()
    assert undo(folder) == ([
        f"Restored 1 file from 1 run in {folder}.",
        "found: cats/a.jpg: moved to cats/kitty.jpg since; put back from there to a.jpg",
    ], [])
    assert sorted(os.listdir(folder)) == ["a.jpg", "b.jpg"]


@pytest.mark.parametrize("where", ["copied to another disk", "mounted again", "copied on this disk"])
def test_a_photo_put_back_by_hand_stays_put_back_for_sort_and_undo(tmp_path: Path, where: str) -> None:
    """QA: a photo put back by hand, then the folder copied: the next sort filed it again
    ("moved cat5.jpg -> cats/cat5.jpg"), and undo said it was missing."""
    root = tmp_path / "A"
    photo(root / "cat5.jpg", BLUE, 2)
    photo(root / "cat6.jpg", BLUE, 3)
    sort_folder(root, classifier=FakeClassifier())
    os.rename(root / "cats" / "cat5.jpg", root / "cat5.jpg")
    folder = moved_elsewhere(root, where, None)

    seen = []
    sort_folder(folder, classifier=FakeClassifier(), on_result=seen.append)
    assert [(r.path.name, r.status, r.reason) for r in seen] == [
        ("cat5.jpg", "skipped", "you put it back from cats/cat5.jpg; left there")]
    assert undo(folder) == ([f"Restored 1 file from 1 run in {folder} (1 already back where it was)."], [])
    assert sorted(os.listdir(folder)) == ["cat5.jpg", "cat6.jpg"]


@pytest.mark.parametrize("where", ["copied to another disk", "copied on this disk"])
def test_a_watch_of_a_copy_leaves_a_photo_put_back_by_hand_there(tmp_path: Path, where: str) -> None:
    root = tmp_path / "A"
    photo(root / "cat5.jpg", BLUE, 2)
    sort_folder(root, classifier=FakeClassifier())
    os.rename(root / "cats" / "cat5.jpg", root / "cat5.jpg")
    folder = moved_elsewhere(root, where, None)

    results: list = []
    stop = threading.Event()
    thread = threading.Thread(target=lambda: results.append(watch.watch_folder(
        folder, classifier=FakeClassifier(), stop=stop, on_result=results.append,
        settings=watcher.WatchSettings(rescan_interval=0.1, settle=0.1))), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not results and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # several rescans
    finally:
        stop.set()
        thread.join(10)
    assert [(r.path.name, r.status, r.reason) for r in results[:-1]] == [
        ("cat5.jpg", "skipped", "you put it back from cats/cat5.jpg; left there")]
    assert (folder / "cat5.jpg").is_file() and not (folder / "cats" / "cat5.jpg").exists()


@pytest.mark.parametrize("where", WHERE)
def test_a_photo_suggested_for_a_named_pet_is_still_suggested_in_a_copy(tmp_path: Path, where: str, request) -> None:
    """QA: `sorter review` of a copy dropped the "might be Luna" group: a suggestion's photo is
    told by its identity, and, noted on another device, by its path and size."""
    root = tmp_path / "S"
    photo(root / "cats" / "close.jpg", BLUE, 2)
    noted = suggestions.Suggestions()
    noted.add("cats/Luna", "cats/close.jpg", identity_of(os.lstat(root / "cats" / "close.jpg")), 0.4)
    suggestions.write(root, noted)
    folder = moved_elsewhere(root, where, request.getfixturevalue("shm") if "shm" in where else None)

    assert suggestions.read(folder).standing(folder) == {"cats/close.jpg": ("cats/Luna", 0.4)}
    photo(folder / "cats" / "close.jpg", BLUE, 3)  # another photo of its name: not it
    assert suggestions.read(folder).standing(folder) == {}


def renamed_beside_a_copy(folder: Path, name: str) -> None:
    """cats/`name` renamed to cats/kitty.jpg, and a `cp -p` copy of it beside: two files of its
    size and time, which its inode alone tells apart."""
    os.rename(folder / "cats" / name, folder / "cats" / "kitty.jpg")
    shutil.copy2(folder / "cats" / "kitty.jpg", folder / "kitty copy.jpg")


def swapped(folder: Path, one: str, other: str) -> None:
    """Two photos' names in cats/ swapped."""
    os.rename(folder / "cats" / one, folder / "cats" / "t")
    os.rename(folder / "cats" / other, folder / "cats" / one)
    os.rename(folder / "cats" / "t", folder / "cats" / other)


def test_a_copy_on_the_same_disk_and_the_folder_each_undo_as_their_own(tmp_path: Path) -> None:
    """QA: a copy on the disk of the folder keeps its device number, and its journal the
    identities of the folder's files, which name other files there (or none): two photos'
    names swapped went back swapped, one renamed was "missing". The copy's journal says it was
    written in another folder: there a photo is told by its size and time. The folder itself is
    still told by inode: a photo renamed beside a `cp -p` copy of it is found, not "kept"."""
    root = tmp_path / "S"
    for height, name in enumerate(("c0.jpg", "c1.jpg", "c2.jpg", "c3.jpg"), 2):
        photo(root / name, BLUE, height)
    before = layout(root)
    sort_folder(root, classifier=FakeClassifier())
    copy = copied(root, tmp_path / "S2")
    for folder in (root, copy):
        swapped(folder, "c0.jpg", "c1.jpg")
        os.rename(folder / "cats" / "c2.jpg", folder / "c2 renamed.jpg")
    renamed_beside_a_copy(root, "c3.jpg")

    assert undo(copy) == ([
        f"Restored 4 files from 1 run in {copy}.",
        "found: cats/c0.jpg: moved to cats/c1.jpg since; put back from there to c0.jpg",
        "found: cats/c1.jpg: moved to cats/c0.jpg since; put back from there to c1.jpg",
        "found: cats/c2.jpg: moved to c2 renamed.jpg since; put back from there to c2.jpg",
    ], [])
    assert layout(copy) == before
    assert undo(root) == ([
        f"Restored 4 files from 1 run in {root}.",
        "found: cats/c0.jpg: moved to cats/c1.jpg since; put back from there to c0.jpg",
        "found: cats/c1.jpg: moved to cats/c0.jpg since; put back from there to c1.jpg",
        "found: cats/c2.jpg: moved to c2 renamed.jpg since; put back from there to c2.jpg",
        "found: cats/c3.jpg: moved to cats/kitty.jpg since; put back from there to c3.jpg",
    ], [])
    assert layout(root) == before | {"kitty copy.jpg": before["c3.jpg"]}


def test_a_folder_moved_on_its_disk_is_still_told_by_inode(tmp_path: Path) -> None:
    """`mv DIR DIR2` keeps the folder's identity, and so the trust of its journal: a photo renamed
    beside a `cp -p` copy of it is found by its inode, as before the move, not kept as in a copy."""
    root = tmp_path / "S"
    photo(root / "c0.jpg", BLUE, 2)
    photo(root / "c1.jpg", BLUE, 3)
    before = layout(root)
    sort_folder(root, classifier=FakeClassifier())
    moved = tmp_path / "S moved"
    os.rename(root, moved)
    renamed_beside_a_copy(moved, "c0.jpg")
    swapped(moved, "c1.jpg", "kitty.jpg")

    assert undo(moved) == ([
        f"Restored 2 files from 1 run in {moved}.",
        "found: cats/c0.jpg: moved to cats/c1.jpg since; put back from there to c0.jpg",
        "found: cats/c1.jpg: moved to cats/kitty.jpg since; put back from there to c1.jpg",
    ], [])
    assert layout(moved) == before | {"kitty copy.jpg": before["c0.jpg"]}


@pytest.mark.parametrize("how", ["copied on this disk", "restored in its place"])
def test_a_copy_sorted_again_tells_its_own_runs_by_inode_and_the_ones_before_by_size_and_time(
        tmp_path: Path, how: str) -> None:
    """The runs journaled before the folder was copied (or a backup of it restored where it
    was: `rm -rf DIR; cp -a BACKUP DIR`, its inode number perhaps given again) are told by size
    and time; a run of the copy itself, by inode: its photo renamed beside a `cp -p` copy of it
    is found, where the first run's would be kept."""
    root = tmp_path / "S"
    photo(root / "c0.jpg", BLUE, 2)
    photo(root / "c1.jpg", BLUE, 3)
    before = layout(root)
    sort_folder(root, classifier=FakeClassifier())
    if how == "restored in its place":
        backup = copied(root, tmp_path / "backup")
        shutil.rmtree(root)
        folder = copied(backup, root)
    else:
        folder = copied(root, tmp_path / "S2")
    photo(folder / "c2.jpg", BLUE, 4)
    before["c2.jpg"] = layout(folder)["c2.jpg"]
    sort_folder(folder, classifier=FakeClassifier())
    swapped(folder, "c0.jpg", "c1.jpg")
    renamed_beside_a_copy(folder, "c2.jpg")

    assert undo(folder, "--all") == ([
        f"Restored 3 files from 2 runs in {folder}.",
        "found: cats/c0.jpg: moved to cats/c1.jpg since; put back from there to c0.jpg",
        "found: cats/c1.jpg: moved to cats/c0.jpg since; put back from there to c1.jpg",
        "found: cats/c2.jpg: moved to cats/kitty.jpg since; put back from there to c2.jpg",
    ], [])
    assert layout(folder) == before | {"kitty copy.jpg": before["c2.jpg"]}


@pytest.mark.parametrize("where", ["copied to another disk", "copied on this disk"])
def test_a_photo_suggested_before_the_copy_and_noted_again_by_a_sort_of_it_is_suggested_once(
        tmp_path: Path, where: str) -> None:
    """A suggestion told by its size in a copy takes its photo's identity there when a sort
    begins (`prune`): noted again by that sort, it is one suggestion, not two of one photo among
    her SHOWN (the copy's file was another identity than the one noted)."""
    root = tmp_path / "S"
    photo(root / "cats" / "close.jpg", BLUE, 2)
    noted = suggestions.Suggestions()
    noted.add("cats/Luna", "cats/close.jpg", identity_of(os.lstat(root / "cats" / "close.jpg")), 0.4)
    suggestions.write(root, noted)
    folder = moved_elsewhere(root, where, None)

    noted = suggestions.read(folder)
    noted.prune(folder)  # as a sort begins
    noted.add("cats/Luna", "cats/close.jpg", identity_of(os.lstat(folder / "cats" / "close.jpg")), 0.5)
    suggestions.write(folder, noted)
    assert [(s.path, s.chance) for s in suggestions.read(folder).pets["cats/Luna"]] == [("cats/close.jpg", 0.5)]


def linked_copy(root: Path, to: Path) -> Path:
    """`cp -al root to`: the folders made anew, every file another name of the same file."""
    for folder, _, names in os.walk(root):
        (to / os.path.relpath(folder, root)).mkdir(exist_ok=True)
        for name in names:
            os.link(os.path.join(folder, name), to / os.path.relpath(folder, root) / name)
    return to


def test_a_hard_linked_copy_keeps_a_journal_of_its_own_and_each_folder_undoes_its_own_runs(tmp_path: Path) -> None:
    """QA: after `cp -al H H2`, a sort of H2 was appended to H's journal too: `undo H` took back
    H2's run ("missing: cats/c70.jpg"), and H2's photos were left sorted with no record."""
    h = tmp_path / "H"
    photo(h / "c0.jpg", BLUE, 2)
    photo(h / "c1.jpg", BLUE, 3)
    before_h = layout(h)
    sort_folder(h, classifier=FakeClassifier())
    journal = (h / ".sorter" / "journal.jsonl").read_bytes()
    h2 = linked_copy(h, tmp_path / "H2")
    assert os.stat(h2 / ".sorter" / "journal.jsonl").st_nlink == 2
    photo(h2 / "c70.jpg", BLUE, 4)
    photo(h2 / "c71.jpg", BLUE, 5)
    before_h2 = layout(h2)

    sort_folder(h2, classifier=FakeClassifier())
    assert (h / ".sorter" / "journal.jsonl").read_bytes() == journal  # H's own, as it was
    for name in ("journal.jsonl", "lock"):  # each folder's own, in both folders
        assert os.stat(h / ".sorter" / name).st_nlink == os.stat(h2 / ".sorter" / name).st_nlink == 1
    assert sorted(os.listdir(h2 / ".sorter")) == sorted(os.listdir(h / ".sorter"))  # no copy left beside them

    assert undo(h) == ([f"Restored 2 files from 1 run in {h}."], [])
    assert layout(h) == before_h
    assert undo(h2) == ([f"Restored 2 files from 1 run in {h2}."], [])
    assert sorted(os.listdir(h2)) == [".sorter", "c70.jpg", "c71.jpg", "cats"]
    assert undo(h2) == ([f"Restored 2 files from 1 run in {h2}."], [])
    assert layout(h2) == before_h | {k: v for k, v in before_h2.items() if k in ("c70.jpg", "c71.jpg")}


def test_a_sorter_holding_the_journal_before_the_linked_copy_writes_to_its_own_folder_s(tmp_path: Path) -> None:
    """A watcher's journal stays open across its batches. Made the folder's own by another
    sorter of the folder meanwhile (a review beside the watcher), the file it holds is the
    copy's alone: its next records go to the journal of its folder, never the copy's."""
    from sorter.files.journal import journal_path, scan
    from sorter.files.journal_writer import Journal

    h = tmp_path / "H"
    h.mkdir()
    with Journal(h, run="watch") as watching:
        watching.append("mkdir", path="cats")
        h2 = linked_copy(h, tmp_path / "H2")
        with Journal(h, run="review") as review:
            review.append("mkdir", path="cats/Luna")  # H's own journal now: another file than the watcher's
        watching.append("mkdir", path="dogs")
    assert {run: set(state.created_dirs) for run, state in scan(h).runs.items()} == {
        "watch": {"cats", "dogs"}, "review": {"cats/Luna"}}
    assert {run: set(state.created_dirs) for run, state in scan(h2).runs.items()} == {"watch": {"cats"}}
    assert os.stat(journal_path(h)).st_nlink == os.stat(journal_path(h2)).st_nlink == 1


def test_a_watch_never_keeps_the_sorters_of_a_hard_linked_copy_out_of_it(tmp_path: Path) -> None:
    """The lock files are linked too: a watch in H held the copy's `watching` as well, and every
    sort, undo and review of H2 was refused while it ran ("another sorter is working on H2")."""
    from sorter.errors import FolderLocked
    from sorter.files.lock import FolderLock
    from sorter.files.watching_note import Watching

    h = tmp_path / "H"
    h.mkdir()
    with FolderLock(h):
        pass
    watching = Watching(h)
    watching.acquire()
    try:
        h2 = linked_copy(h, tmp_path / "H2")  # made while the watch runs
        with pytest.raises(FolderLocked, match="another sorter"):
            FolderLock(h2).acquire()
        with FolderLock(h, watcher=True):  # its next batch: H's files are its own
            watching.own()
        with FolderLock(h2):
            assert Watching.holder(h2) is None and Watching.holder(h) == str(os.getpid())
    finally:
        watching.release()
    for folder in (h, h2):
        assert [os.stat(folder / ".sorter" / name).st_nlink for name in ("lock", "watching")] == [1, 1]


def burst(root: Path, count: int) -> None:
    """`count` burst shots B1.jpg, B2.jpg, ... of one size and one time (the uncompressed RAWs
    of one camera; JPEGs copied off a FAT card, whose clock ticks in 2 s): told by size and
    time, each is any other."""
    shots = [write_image(root / f"B{i}.jpg", (255, 10 * i, 0), size=(64, 64)).read_bytes() for i in range(1, count + 1)]
    size = max(map(len, shots)) + 10
    for i, shot in enumerate(shots, 1):
        (root / f"B{i}.jpg").write_bytes(shot + bytes(size - len(shot)))  # a JPEG decoder stops at its end
        os.utime(root / f"B{i}.jpg", ns=(1_600_000_000 * 10**9,) * 2)


@contextmanager
def on_overlay(lower: Path, tmp_path: Path):
    """A folder on overlayfs whose layers are on two filesystems (as a live USB's: `lower`, read
    only below, on /dev/shm; changes above, on tmp_path's disk): a folder reports the overlay's
    device, a file its layer's (one for `lower`'s files, even moved since, one for new ones)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount an overlay")
    upper, work, merged = tmp_path / "upper", tmp_path / "work", tmp_path / "merged"
    for folder in (upper, work, merged):
        folder.mkdir()
    with mounted(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower},upperdir={upper},workdir={work}",
                  str(merged)], merged, "an overlay"):
        yield merged


@pytest.fixture
def overlay(tmp_path: Path, shm: Path):
    """An empty folder on overlayfs (`on_overlay`), unmounted after."""
    shm.mkdir()
    with on_overlay(shm, tmp_path) as merged:
        yield merged


def sorted_burst(tmp_path: Path, where: str, count: int, request) -> tuple[Path, dict]:
    """`count` burst shots sorted, and the folder as `where` has it; the shots' layout before."""
    root = (request.getfixturevalue("overlay") if where == "overlayfs" else tmp_path) / "S"
    root.mkdir()
    burst(root, count)
    before = layout(root)
    sort_folder(root, classifier=FakeClassifier())
    if where == "overlayfs":
        return root, before
    return moved_elsewhere(root, where, request.getfixturevalue("shm") if "shm" in where else None), before


@pytest.mark.parametrize("where", [*WHERE, "overlayfs"])
def test_of_two_burst_shots_of_one_size_and_time_one_deleted_the_other_goes_back_as_itself(
        tmp_path: Path, where: str, request) -> None:
    """Reviewer: in a copy, the deleted B1's move took cats/B2.jpg for its photo, as B2's move
    did ("kept: cats/B2.jpg: cannot move back (No such file or directory)"), and the next undo
    put B2's photo back as B1.jpg. A file where another move put its photo is that photo: B1 is
    missing, as on the original disk, and B2 goes back as B2.jpg. On overlayfs the folder was
    judged a copy (its files report another device than it)."""
    folder, before = sorted_burst(tmp_path, where, 2, request)
    (folder / "cats" / "B1.jpg").unlink()

    assert undo(folder) == ([f"Restored 1 file from 1 run in {folder} (1 missing)."],
                            ["missing: cats/B1.jpg: no longer there (was B1.jpg)"])
    assert layout(folder) == {"B2.jpg": before["B2.jpg"]}  # its own bytes; sorter's state gone


@pytest.mark.parametrize("where", ["copied to another disk", "copied to /dev/shm", "copied on this disk"])
def test_of_three_burst_shots_one_deleted_undo_puts_two_back_and_says_the_third_is_missing(
        tmp_path: Path, where: str, request) -> None:
    """Reviewer: every undo said "kept: cats/B1.jpg: ... 2 files have its size and time (B2.jpg,
    B3.jpg)", the two it had just put back: it never finished, nor said B1 was missing. Each is
    its own move's photo, at its place: B1 is missing, and the undo is complete."""
    folder, before = sorted_burst(tmp_path, where, 3, request)
    (folder / "cats" / "B1.jpg").unlink()

    assert undo(folder) == ([f"Restored 2 files from 1 run in {folder} (1 missing)."],
                            ["missing: cats/B1.jpg: no longer there (was B1.jpg)"])
    assert layout(folder) == {name: before[name] for name in ("B2.jpg", "B3.jpg")}


@pytest.mark.parametrize("where", ["here", "copied to another disk", "mounted again", "copied on this disk", "overlayfs"])
def test_of_two_burst_shots_one_renamed_and_one_deleted_undo_does_not_guess_in_a_copy(
        tmp_path: Path, where: str, request) -> None:
    """By its inode, the photo renamed is B1's and B2 is missing. Told by size and time, the
    file is either's: neither move takes it (nor is it taken by whichever comes first), both
    are kept for a later undo, and the file stays as the user has it: under either name it may
    be the other's photo. The lines say how to settle it, as the user can tell them apart."""
    folder, before = sorted_burst(tmp_path, where, 2, request)
    os.rename(folder / "cats" / "B1.jpg", folder / "cats" / "best.jpg")
    (folder / "cats" / "B2.jpg").unlink()

    if where in ("here", "overlayfs"):
        assert undo(folder) == ([
            f"Restored 1 file from 1 run in {folder} (1 missing).",
            "found: cats/B1.jpg: moved to cats/best.jpg since; put back from there to B1.jpg",
        ], ["missing: cats/B2.jpg: no longer there (was B2.jpg)"])
        assert layout(folder) == {"B1.jpg": before["B1.jpg"]}
        return
    assert undo(folder) == ([f"Restored 0 files in {folder} (2 kept in place)."], [
        "kept: cats/B1.jpg: no longer there, and cats/best.jpg has its size and time, as had cats/B2.jpg's "
        "photo, gone from there too: it is one of the two, and which cannot be told (move it back to "
        "cats/B1.jpg or cats/B2.jpg, whichever it is, and undo again); left in place",
        "kept: cats/B2.jpg: no longer there, and cats/best.jpg has its size and time, as had cats/B1.jpg's "
        "photo, gone from there too: it is one of the two, and which cannot be told (move it back to "
        "cats/B2.jpg or cats/B1.jpg, whichever it is, and undo again); left in place",
    ])
    assert layout(folder)["cats/best.jpg"] == before["B1.jpg"]
    os.rename(folder / "cats" / "best.jpg", folder / "cats" / "B1.jpg")  # as the message bids
    assert undo(folder) == ([f"Restored 1 file from 1 run in {folder} (1 missing)."],
                            ["missing: cats/B2.jpg: no longer there (was B2.jpg)"])
    assert layout(folder) == {"B1.jpg": before["B1.jpg"]}


def test_on_overlayfs_a_photo_is_told_by_its_inode_as_on_any_disk(tmp_path: Path, shm: Path) -> None:
    """A live USB's folder, never copied: its photos below (read only, on /dev/shm here), one new
    one above. Each file reports its layer's device, not the folder's, and each identity on record
    was taken on one of those: undo finds a photo renamed beside a `cp -p` copy of it by its
    inode, where it said "2 files have its size and time" as in a copy; the copy stays."""
    shm.mkdir()
    photo(shm / "a.jpg", BLUE, 2)
    with on_overlay(shm, tmp_path) as root:
        photo(root / "b.jpg", BLUE, 3)
        before = layout(root)
        sort_folder(root, classifier=FakeClassifier())
        cats = root / "cats"
        assert os.lstat(cats / "a.jpg").st_dev != os.lstat(root).st_dev != os.lstat(cats / "b.jpg").st_dev
        os.rename(cats / "a.jpg", cats / "kitty.jpg")
        shutil.copy2(cats / "kitty.jpg", root / "kitty copy.jpg")
        os.rename(cats / "b.jpg", cats / "b2.jpg")
        shutil.copy2(cats / "b2.jpg", root / "b copy.jpg")

        assert undo(root) == ([
            f"Restored 2 files from 1 run in {root}.",
            "found: cats/a.jpg: moved to cats/kitty.jpg since; put back from there to a.jpg",
            "found: cats/b.jpg: moved to cats/b2.jpg since; put back from there to b.jpg",
        ], [])
        assert layout(root) == before | {"kitty copy.jpg": before["a.jpg"], "b copy.jpg": before["b.jpg"]}


@pytest.mark.parametrize("where", ["here", "copied to another disk", "mounted again", "copied on this disk"])
def test_a_photo_imported_again_after_it_was_moved_on_is_sorted_not_taken_as_put_back(
        tmp_path: Path, where: str) -> None:
    """Reviewer: in a copy, the photo filed into cats/Luna/ by hand, then imported again from the
    card (same name, size and time), was "you put it back" for good: told by size and time, it
    had left where sorter put it. The photo is in cats/Luna/ under its name: this one is sorted."""
    root = tmp_path / "A"
    photo(root / "cat5.jpg", BLUE, 2)
    sort_folder(root, classifier=FakeClassifier())
    folder = moved_elsewhere(root, where, None)
    (folder / "cats" / "Luna").mkdir()
    os.rename(folder / "cats" / "cat5.jpg", folder / "cats" / "Luna" / "cat5.jpg")
    shutil.copy2(folder / "cats" / "Luna" / "cat5.jpg", folder / "cat5.jpg")  # imported again

    seen = []
    sort_folder(folder, classifier=FakeClassifier(), on_result=seen.append)
    assert [(r.path.name, r.status) for r in seen] == [("cat5.jpg", "moved")]
    assert sorted(os.listdir(folder / "cats")) == ["Luna", "cat5.jpg"]


@pytest.mark.parametrize("which", ["lock", "watching"])
def test_a_lock_whose_copy_a_full_disk_refuses_is_not_held(tmp_path: Path, which: str) -> None:
    """Taking a hard-linked lock file makes it the folder's own, a copy (`state_links`): where a
    full disk refused it, the file stayed locked by a descriptor nobody held, and a watcher or a
    review server kept every sorter of the folder out ("another sorter (pid ...)") until it
    exited. A real full tmpfs: no inode left for the copy."""
    from sorter.errors import FolderLocked
    from sorter.files.lock import FolderLock
    from sorter.files.watching_note import Watching

    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted(["mount", "-t", "tmpfs", "-o", "size=1m,nr_inodes=64", "tmpfs", str(disk)], disk, "a small tmpfs"):
        h = disk / "H"
        h.mkdir()
        with FolderLock(h):
            pass
        if which == "watching":
            watching = Watching(h)
            watching.acquire()
            watching.release()
        h2 = linked_copy(h, disk / "H2")
        fill = [disk / f"fill{i}" for i in range(64)]
        for i, path in enumerate(fill):
            try:
                path.touch()
            except OSError:  # no inode left
                del fill[i:]
                break
        take = (lambda: Watching(h).acquire()) if which == "watching" else (lambda: FolderLock(h).acquire())
        with pytest.raises(OSError, match="No space left"):
            take()
        fill.pop().unlink()
        try:
            lock = Watching(h) if which == "watching" else FolderLock(h)
            lock.acquire()  # the folder's own copy now; the link to H2 broken
            lock.release()
        except FolderLocked as exc:
            pytest.fail(f"the refused copy left the lock held: {exc}")
        assert os.stat(h / ".sorter" / which).st_nlink == os.stat(h2 / ".sorter" / which).st_nlink == 1


@pytest.mark.parametrize("where", ["here", "copied to another disk", "mounted again", "copied on this disk"])
def test_a_photo_a_review_moved_on_into_a_folder_of_yours_is_found_there_for_the_sort_s_move_too(
        tmp_path: Path, where: str) -> None:
    """The one case where "a file this undo took for another photo is never this one's" was met:
    `undo --all` found the review's photo in album/ (the user's), left it there, and took the file
    for that move; the sort's move of the same photo, looked for next, then said "missing: no
    longer there" in a copy, where the original disk says where it is. A move of the same photo
    is no other photo's: both say it is in a folder of yours. (No case of two photos reaches that
    rule: of two photos of one size and time, one is taken only once the other is found, or given
    up, or where sorter put it or found it, and then that one is never looked for.)"""
    root = answered(tmp_path, "cat.jpg", "dog")  # cats/cat.jpg -> dogs/cat.jpg
    folder = moved_elsewhere(root, where, None)
    (folder / "album").mkdir()
    os.rename(folder / "dogs" / "cat.jpg", folder / "album" / "kitty.jpg")

    out, err = undo(folder, "--all")
    assert [line for line in out if "cat.jpg" in line] == [
        "found: cats/cat.jpg: moved to album/kitty.jpg since, into a folder of yours; left there (was cat.jpg)",
        "found: dogs/cat.jpg: moved to album/kitty.jpg since, into a folder of yours; left there (was cats/cat.jpg)",
    ]
    assert err == [] and (folder / "album" / "kitty.jpg").is_file() and not (folder / "cat.jpg").exists()


def test_two_burst_shots_swapped_in_a_hard_linked_copy_go_back_as_themselves(tmp_path: Path) -> None:
    """QA: two burst shots of one size and time, sorted, `cp -al T T2`, their names swapped in
    T2: told by size and time (journaled before the copy), each file was taken for the photo at
    its place, and the swap went back swapped, with no word. In a copy made with hard links the
    files are the folder's own inodes, still linked from it: each is told by its inode there, as
    in the folder."""
    root = tmp_path / "T"
    root.mkdir()
    burst(root, 2)
    photo(root / "c.jpg", BLUE, 2)
    before = layout(root)
    sort_folder(root, classifier=FakeClassifier())
    copy = linked_copy(root, tmp_path / "T2")
    swapped(copy, "B1.jpg", "B2.jpg")

    assert undo(copy) == ([
        f"Restored 3 files from 1 run in {copy}.",
        "found: cats/B1.jpg: moved to cats/B2.jpg since; put back from there to B1.jpg",
        "found: cats/B2.jpg: moved to cats/B1.jpg since; put back from there to B2.jpg",
    ], [])
    assert layout(copy) == before
    assert undo(root) == ([f"Restored 3 files from 1 run in {root}."], [])
    assert layout(root) == before


@pytest.mark.parametrize("where", ["here", "copied to another disk", "copied on this disk"])
def test_a_photo_put_back_by_hand_under_another_name_stays_put_back_in_a_copy(
        tmp_path: Path, where: str, monkeypatch) -> None:
    """QA: taken back out of dogs/ under another name (`mv dogs/rex.jpg "rex at home.jpg"`), then
    the folder copied (`cp -a`): a sort of the copy filed it again, where one of the folder left
    it. A copy keeps its name, size and time, not its device and inode: there it is told by those.
    A file of its size and time while it is still in dogs/ (`cp -p`) is not it put back, and is sorted."""
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    root = tmp_path / "A"
    photo(root / "rex.jpg", RED, 2)
    photo(root / "cat.jpg", BLUE, 3)
    assert CliRunner().invoke(app, ["sort", str(root)]).exit_code == 0
    os.rename(root / "dogs" / "rex.jpg", root / "rex at home.jpg")
    folder = moved_elsewhere(root, where, None)

    again = CliRunner().invoke(app, ["sort", str(folder), "--dry-run", "--verbose"])
    assert again.exit_code == 0, again.output
    assert "skipped: rex at home.jpg: you put it back from dogs/rex.jpg; left there" in again.stderr.splitlines()

    os.rename(folder / "rex at home.jpg", folder / "dogs" / "rex.jpg")  # filed again, and a copy of it
    shutil.copy2(folder / "dogs" / "rex.jpg", folder / "rex too.jpg")  # of its size and time: a new photo
    again = CliRunner().invoke(app, ["sort", str(folder), "--dry-run", "--verbose"])
    assert again.stderr.splitlines() == ["would move rex too.jpg -> dogs/rex too.jpg (dog, 99%)"], again.output


@pytest.mark.parametrize("where", ["here", "copied to another disk", "copied on this disk"])
def test_a_photo_put_back_with_neither_then_renamed_stays_put_back_in_a_copy(
        tmp_path: Path, where: str, monkeypatch) -> None:
    """The same for a photo put back with the review page's Neither, then renamed."""
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    root = answered(tmp_path, "cat.jpg", "neither")  # cats/cat.jpg -> cat.jpg
    os.rename(root / "cat.jpg", root / "kitty.jpg")
    folder = moved_elsewhere(root, where, None)

    again = CliRunner().invoke(app, ["sort", str(folder), "--dry-run", "--verbose"])
    assert again.exit_code == 0, again.output
    assert "skipped: kitty.jpg: you put it back from cats/cat.jpg; left there" in again.stderr.splitlines()
