"""A sorted folder with a named pet moved (`mv DIR DIR2`), copied to another disk (`cp -a`) or
its disk mounted again with another device number: one pet stays one pet, her photos go into the
one folder that holds her photos, and a folder of hers renamed there is followed as it is in the
folder she was learnt in (`files.pet_folders`, `learning.copies`).

/dev/shm is another filesystem than the test's folder here: a copy there is a copy to another disk,
every identity (device, inode) changed, every name, size and modification time kept.

Run with the fake model of tests/test_learn.py: Luna is a blue photo with row stripes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import mounted, tree
from test_learn import invoke, luna, photo
from test_renamed_pets import luna_learnt

from sorter.files import suggestions
from sorter.model import personal

SHM = Path("/dev/shm")


@pytest.fixture
def other_disk(tmp_path: Path):
    """A folder on another filesystem than `tmp_path` (/dev/shm), removed after."""
    if not SHM.is_dir() or os.stat(SHM).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's folder, to copy a folder to another disk")
    folder = Path(tempfile.mkdtemp(prefix="sorter-copied-pets-", dir=SHM))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def copied(folder: Path, to: Path) -> Path:
    """`cp -a folder to`: every file's name, size and modification time kept, its identity not."""
    shutil.copytree(folder, to, symlinks=True, copy_function=shutil.copy2)
    return to


def sorted_then_named(roll: Path, model: Path) -> Path:
    """Six photos of Luna sorted into cats/, then moved by hand into cats/Luna/ and learnt: the
    journal knows each by its identity on this disk. Then two new photos of her dropped in."""
    for i in range(6):
        luna(roll / f"luna{i}.png", 50 + i)
    photo(roll / "cat0.png", "cat", 0)
    assert invoke("sort", roll, "--model", model).exit_code == 0
    (roll / "cats" / "Luna").mkdir()
    for i in range(6):
        (roll / "cats" / f"luna{i}.png").rename(roll / "cats" / "Luna" / f"luna{i}.png")
    learnt = invoke("learn", roll, "--model", model)
    assert learnt.exit_code == 0 and "cats/Luna: 6 photos" in learnt.stdout, learnt.output
    for i in range(2):
        luna(roll / f"new{i}.png", 70 + i)
    return roll


def cats_of(root: Path) -> set[str]:
    return {p for p in tree(root) if p.startswith("cats/")}


def followed(roll: Path, model: Path) -> None:
    """A sort of `roll` (her folder renamed cats/Lulu) files her new photos into cats/Lulu/, says so,
    and makes no cats/Luna/ beside it."""
    result = invoke("sort", roll, "--model", model, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pet_folders"] == {"cats/Luna": "cats/Lulu"}
    assert not (roll / "cats" / "Luna").exists()
    assert {"cats/Lulu/new0.png", "cats/Lulu/new1.png"} <= cats_of(roll), tree(roll)


def test_a_moved_folder_files_her_photos_into_her_renamed_folder(tmp_path: Path, fake_model) -> None:
    """mv M Mmoved (one disk: every identity kept), then cats/Luna renamed cats/Lulu: her photos
    go into cats/Lulu/, not a new cats/Luna/ beside it."""
    moved = luna_learnt(tmp_path, fake_model).rename(tmp_path / "moved")
    (moved / "cats" / "Luna").rename(moved / "cats" / "Lulu")

    followed(moved, fake_model)

    luna(moved / "new2.png", 72)  # said as her photos come: she is looked for then
    said = invoke("sort", moved, "--model", fake_model)
    assert (f"cats/Luna/ is now cats/Lulu/: Luna's photos go there (sorter learn {moved} to learn her as Lulu)"
            in said.stdout.splitlines()), said.stdout


def test_a_moved_folder_learnt_again_forgets_what_was_deleted_there(tmp_path: Path, fake_model) -> None:
    """Learnt again where it was moved, the folder's photos are its own: one deleted there is gone
    from the examples (it was kept under the path it was first learnt at)."""
    moved = luna_learnt(tmp_path, fake_model).rename(tmp_path / "moved")
    assert "cats/Luna: 6 photos" in invoke("learn", moved, "--model", fake_model).stdout
    (moved / "cats" / "Luna" / "luna5.png").unlink()

    result = invoke("learn", moved, "--model", fake_model)

    assert result.exit_code == 0 and "cats/Luna: 5 photos" in result.stdout, result.output
    assert all(path.startswith(f"{moved}/") for path in personal.read_examples().paths)


@pytest.mark.parametrize("how", ["moved", "copied"])
def test_her_folder_deleted_in_a_moved_or_copied_folder_is_not_made_again(tmp_path: Path, fake_model,
                                                                          how: str) -> None:
    """mv M M2 or cp -a M M2 (`shutil.copytree`), then cats/Luna deleted there: her photos stay in
    cats/, as they do where she was learnt (said why), rather than in a cats/Luna/ made again. The
    folder is told from one she never had by its journal, which began with the same run. What is
    said is what sort knows (a copy made before she was named has no folder of hers either), and
    its hint is one that changes it: learning M2 would not (tests/test_new_folder_pets.py)."""
    roll = luna_learnt(tmp_path, fake_model)
    other = roll.rename(tmp_path / "moved") if how == "moved" else copied(roll, tmp_path / "copy")
    shutil.rmtree(other / "cats" / "Luna")

    result = invoke("sort", other, "--model", fake_model, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pet_folders"] == {"cats/Luna": None}
    assert not (other / "cats" / "Luna").exists(), tree(other)
    assert {"cats/new0.png", "cats/new1.png"} <= cats_of(other), tree(other)
    luna(other / "new2.png", 72)
    said = invoke("sort", other, "--model", fake_model)
    assert said.exit_code == 0 and not (other / "cats" / "Luna").exists(), tree(other)
    assert (f"cats/Luna/ is not in {other}, a move or a copy of {roll}, where Luna was learnt: Luna's photos stay in "
            f"cats/ (mkdir {other}/cats/Luna for them to go there)") in said.stdout.splitlines(), said.stdout


@pytest.mark.parametrize("learnt_in_the_copy", [False, True])
def test_in_a_copy_on_another_disk_her_renamed_folder_is_followed(tmp_path: Path, fake_model, other_disk: Path,
                                                                  learnt_in_the_copy: bool) -> None:
    """cp -a to another disk (every identity new), learnt there or not, then cats/Luna renamed
    cats/Lulu in the copy: her photos go into cats/Lulu/ there, as they would in the original."""
    copy = copied(sorted_then_named(tmp_path / "roll", fake_model), other_disk / "roll")
    if learnt_in_the_copy:
        learnt = invoke("learn", copy, "--model", fake_model)
        assert learnt.exit_code == 0 and "cats/Luna: 6 photos" in learnt.stdout, learnt.output
    (copy / "cats" / "Luna").rename(copy / "cats" / "Lulu")

    followed(copy, fake_model)


def test_a_copy_learnt_too_is_one_pet_and_her_photos_are_counted_once(tmp_path: Path, fake_model,
                                                                      other_disk: Path) -> None:
    """Learn L, copy it to L2 on another disk, learn L2, rename L's cats/Luna to cats/Lulu, learn
    L: one pet, Lulu (her photos in L2 are the same photos: a copy of her, renamed in L), never two
    pets Luna and Lulu that share every photo; and each folder files her into its own folder of her."""
    original = luna_learnt(tmp_path, fake_model)
    copy = copied(original, other_disk / "roll")
    in_copy = invoke("learn", copy, "--model", fake_model)
    assert in_copy.exit_code == 0, in_copy.output
    # The copies of the six photos learnt in the original are the same photos: counted once.
    assert "cats/Luna: 6 photos, would find" in in_copy.stdout and "copies" not in in_copy.stdout, in_copy.stdout
    assert [line.split()[:4] for line in in_copy.stdout.splitlines() if line.startswith("added -> cats/Luna")] == [
        ["added", "->", "cats/Luna", "6"]], in_copy.stdout
    # unnamed.png, added in cats/, is the one correction: her six name her, correcting no cat, dog or neither.
    assert "+ 1 named pet (Luna: 6 photos); your 1 correction is kept" in in_copy.stdout
    (original / "cats" / "Luna").rename(original / "cats" / "Lulu")

    result = invoke("learn", original, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert "cats/Lulu: 6 photos, would find 6 of 6 held out" in result.stdout, result.stdout
    assert "cats/Luna:" not in result.stdout and ("cats/Luna, learnt in another folder, holds the same photos as "
                                                  "cats/Lulu: learnt as one pet, cats/Lulu") in result.stdout.splitlines()
    assert [pets.names for pets in personal.read_model().pets] == [("Lulu",)]
    sort = invoke("sort", original, "--model", fake_model, "--json")
    assert sort.exit_code == 0 and json.loads(sort.stdout)["pet_folders"] == {}, sort.output
    assert not (original / "cats" / "Luna").exists() and {"cats/Lulu/new0.png", "cats/Lulu/new1.png"} <= cats_of(
        original), tree(original)
    # In the copy her folder is cats/Luna still: her photos go there, said so, and no cats/Lulu is made.
    there = invoke("sort", copy, "--model", fake_model, "--json")
    assert there.exit_code == 0 and json.loads(there.stdout)["pet_folders"] == {"cats/Lulu": "cats/Luna"}, there.output
    assert not (copy / "cats" / "Lulu").exists() and {"cats/Luna/new0.png", "cats/Luna/new1.png"} <= cats_of(copy)
    # Learnt in the copy again, she is Luna again: the original's cats/Lulu still takes her photos.
    again = invoke("learn", copy, "--model", fake_model)
    assert ("cats/Lulu, learnt in another folder, holds the same photos as cats/Luna: learnt as one pet, cats/Luna"
            in again.stdout.splitlines()), again.stdout
    assert [pets.names for pets in personal.read_model().pets] == [("Luna",)]
    luna(original / "new2.png", 72)
    sort = invoke("sort", original, "--model", fake_model, "--json")
    assert json.loads(sort.stdout)["pet_folders"] == {"cats/Luna": "cats/Lulu"}, sort.output
    assert (original / "cats" / "Lulu" / "new2.png").is_file() and not (original / "cats" / "Luna").exists()


def test_in_another_folder_a_copy_of_one_of_her_photos_makes_no_folder_hers(tmp_path: Path, fake_model) -> None:
    """A folder is hers by her photos only where it holds most of those she was learnt from: one
    of them copied into another folder's cats/Best/ leaves her photos going into cats/Luna/ there."""
    roll = luna_learnt(tmp_path, fake_model)
    later = tmp_path / "later"
    (later / "cats" / "Best").mkdir(parents=True)
    shutil.copy2(roll / "cats" / "Luna" / "luna0.png", later / "cats" / "Best" / "luna0.png")
    luna(later / "luna.png", 80)

    result = invoke("sort", later, "--model", fake_model, "--json")

    assert result.exit_code == 0 and json.loads(result.stdout)["pet_folders"] == {}, result.output
    assert (later / "cats" / "Luna" / "luna.png").is_file()


def test_a_personal_model_from_before_her_photos_times_were_recorded_finds_her_folder_by_identity(
    tmp_path: Path, fake_model,
) -> None:
    roll = luna_learnt(tmp_path, fake_model)
    with np.load(personal.model_file()) as data:
        older = {key: data[key] for key in data.files if key not in ("home_photo_stats", personal.DIGEST)}
    older["format"] = np.array(personal.FIRST_FORMAT)  # written before the digest, of the first format
    personal.write_arrays(personal.model_file(), older)
    assert {photo[4] for photo in personal.read_model().homes[0].photos} == {-1}
    (roll / "cats" / "Luna").rename(roll / "cats" / "Lulu")

    followed(roll, fake_model)


@pytest.fixture
def ext4_disk(tmp_path: Path):
    """A real ext4 filesystem on a loop device, and a function that takes it out and mounts it again
    at the same place through another loop device: another device number, every inode kept. Needs
    root, losetup and mkfs.ext4; skipped otherwise."""
    if os.geteuid() != 0 or not (shutil.which("losetup") and shutil.which("mkfs.ext4")):
        pytest.skip("needs root, losetup and mkfs.ext4 for a disk mounted again with another device number")
    image, disk = tmp_path / "disk.img", tmp_path / "disk"
    disk.mkdir()
    with open(image, "wb") as file:
        file.truncate(32 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", str(image)], capture_output=True, check=True)
    loops: list[str] = []

    def attach() -> str:
        loop = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True)
        if loop.returncode != 0:
            pytest.skip(f"no loop device for an ext4 disk: {loop.stderr.strip()}")
        loops.append(loop.stdout.strip())
        return loops[-1]

    def remounted() -> None:
        subprocess.run(["umount", str(disk)], check=True)
        subprocess.run(["mount", attach(), str(disk)], capture_output=True, check=True)  # the first still attached

    try:
        with mounted(["mount", attach(), str(disk)], disk, "ext4 on a loop device"):
            yield disk, remounted
    finally:
        for loop in loops:
            subprocess.run(["losetup", "-d", loop], capture_output=True)


def test_a_disk_mounted_again_with_another_device_number_still_finds_her_folder(ext4_disk, fake_model) -> None:
    disk, remounted = ext4_disk
    roll = luna_learnt(disk / "x", fake_model)
    before = os.stat(roll).st_dev
    (roll / "cats" / "Luna").rename(roll / "cats" / "Lulu")
    remounted()
    assert os.stat(roll).st_dev != before

    followed(roll, fake_model)


def test_the_review_page_of_a_copy_asks_might_be_her_renamed_folder(tmp_path: Path, fake_model,
                                                                    other_disk: Path) -> None:
    """What a sort noted Luna might be, under her folder renamed cats/Lulu, is asked about in a copy
    of the folder on another disk as in the original."""
    from test_review_naming import sorted_with_near_misses, start

    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    (root / "cats" / "Luna").rename(root / "cats" / "Lulu")
    assert json.loads(invoke("sort", root, "--model", fake_model, "--json").stdout)["pet_folders"] == {
        "cats/Luna": "cats/Lulu"}
    copy = copied(root, other_disk / "roll")

    for folder in (root, copy):
        client, stop, thread = start(folder)
        try:
            cards = client.cards()
            assert [cards[n]["heading"] for n in ("close.png", "closer.png")] == [("maybe", "cats/Lulu/")] * 2, folder
        finally:
            stop.set()
            thread.join(10)
    # Sorted in the copy, they are still hers there.
    assert invoke("sort", copy, "--model", fake_model).exit_code == 0
    noted = suggestions.read(copy)
    assert set(noted.pets) == {"cats/Lulu"} and set(noted.standing(copy)) == {"cats/close.png", "cats/closer.png"}


def named_roll(root: Path, model: Path, name: str, maker, seed: int, photos: int = 6) -> Path:
    """A folder sorted, then `photos` photos of a cat (`maker`: `luna`, `milo`) put in cats/NAME/ and learnt."""
    for i in range(3):
        photo(root / f"cat{i}.png", "cat", seed + i)
    assert invoke("sort", root, "--model", model).exit_code == 0
    for i in range(photos):
        maker(root / "cats" / name / f"{name.lower()}{i}.png", seed + 10 + i)
    learnt = invoke("learn", root, "--model", model)
    assert learnt.exit_code == 0 and f"cats/{name}: {photos} photos" in learnt.stdout, learnt.output
    return root


def pets_named() -> list[tuple[str, ...]]:
    return sorted(pets.names for pets in personal.read_model().pets)


@pytest.mark.parametrize("copied_in", [4, 6])
def test_her_photos_copied_into_another_cats_folder_leave_two_cats(tmp_path: Path, fake_model, copied_in: int) -> None:
    """Luna learnt in A, Milo (10 photos) in B; some of hers copied into B's cats/Milo by mistake,
    and B learnt again: still two cats, and her folder in A still hers. They were one, Milo (most
    of her photos were among his), and a photo of Milo went into A's cats/Luna/."""
    from test_renamed_pets import milo

    a = named_roll(tmp_path / "A", fake_model, "Luna", luna, 100)
    b = named_roll(tmp_path / "B", fake_model, "Milo", milo, 200, photos=10)
    for path in sorted((a / "cats" / "Luna").iterdir())[:copied_in]:
        shutil.copy2(path, b / "cats" / "Milo" / path.name)

    result = invoke("learn", b, "--model", fake_model)

    assert result.exit_code == 0 and "learnt as one pet" not in result.stdout, result.output
    assert pets_named() == [("Luna", "Milo")]
    milo(a / "new-milo.png", 999)
    sort = invoke("sort", a, "--model", fake_model, "--json")
    assert sort.exit_code == 0 and json.loads(sort.stdout)["pet_folders"] == {}, sort.output
    assert not (a / "cats" / "Luna" / "new-milo.png").exists()


def test_her_folder_copied_under_a_name_with_a_folder_of_its_own_where_she_was_learnt_is_another_cat(
    tmp_path: Path, fake_model,
) -> None:
    """A's cats/Luna copied to B as cats/Lulu, A holding a cats/Lulu of its own (another cat, not
    learnt yet): learnt in B, Lulu is not Luna renamed, though they share every photo."""
    a = named_roll(tmp_path / "A", fake_model, "Luna", luna, 100)
    photo(a / "cats" / "Lulu" / "lulu0.png", "cat", 300)
    b = tmp_path / "B"
    photo(b / "cat0.png", "cat", 400)
    assert invoke("sort", b, "--model", fake_model).exit_code == 0
    shutil.copytree(a / "cats" / "Luna", b / "cats" / "Lulu", copy_function=shutil.copy2)

    result = invoke("learn", b, "--model", fake_model)

    assert result.exit_code == 0 and "learnt as one pet" not in result.stdout, result.output
    assert "cats/Lulu: 6 photos" in result.stdout, result.stdout


def test_two_cats_named_in_one_folder_stay_two_cats_learnt_elsewhere(tmp_path: Path, fake_model) -> None:
    """cats/Luna and cats/Lulu in A hold the same photos (the user's copy, two names of hers in one
    folder): learning B, they are not one cat renamed somewhere, as they were."""
    a = named_roll(tmp_path / "A", fake_model, "Luna", luna, 100)
    shutil.copytree(a / "cats" / "Luna", a / "cats" / "Lulu", copy_function=shutil.copy2)
    learnt = invoke("learn", a, "--model", fake_model)
    assert learnt.exit_code == 0 and pets_named() == [("Lulu", "Luna")], learnt.output
    b = tmp_path / "B"
    photo(b / "cat0.png", "cat", 400)
    photo(b / "dog0.png", "dog", 401)
    assert invoke("sort", b, "--model", fake_model).exit_code == 0
    (b / "dogs" / "dog0.png").rename(b / "cats" / "dog0.png")  # a correction to learn

    result = invoke("learn", b, "--model", fake_model)

    assert result.exit_code == 0 and "learnt as one pet" not in result.stdout, result.output
    assert pets_named() == [("Lulu", "Luna")]


# ------------------------------------------------------------------ in a folder where she was not learnt


def pet_folders_of(root: Path, model: Path) -> dict:
    result = invoke("sort", root, "--model", model, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["pet_folders"]


def test_in_another_folder_her_folder_and_his_are_theirs_by_name_whatever_they_hold(tmp_path: Path,
                                                                                     fake_model) -> None:
    """C, sorted before, has cats/Luna and cats/Milo; Luna's photos learnt in A copied into its
    cats/Milo by mistake: her new photo goes into cats/Luna/, his into cats/Milo/. Hers went into
    cats/Milo/, and his stayed in cats/ ("cats/Milo/ is Luna's folder now")."""
    from test_renamed_pets import milo

    a = named_roll(tmp_path / "A", fake_model, "Luna", luna, 100)
    named_roll(tmp_path / "B", fake_model, "Milo", milo, 200, photos=10)
    c = tmp_path / "C"
    luna(c / "l1.png", 301)
    milo(c / "m1.png", 302)
    assert pet_folders_of(c, fake_model) == {} and {"cats/Luna/l1.png", "cats/Milo/m1.png"} <= cats_of(c)
    for path in sorted((a / "cats" / "Luna").iterdir()):
        shutil.copy2(path, c / "cats" / "Milo" / path.name)
    luna(c / "l2.png", 303)
    milo(c / "m2.png", 304)

    assert pet_folders_of(c, fake_model) == {}
    assert {"cats/Luna/l2.png", "cats/Milo/m2.png"} <= cats_of(c), tree(c)


def test_in_another_folder_her_name_s_folder_is_hers_though_another_holds_her_photos(tmp_path: Path,
                                                                                      fake_model) -> None:
    """C has cats/Luna; every cat photo of A gathered into C's cats/Everyone: her new photo still
    goes into cats/Luna/. It went into cats/Everyone/ ("cats/Luna/ is now cats/Everyone/")."""
    a = named_roll(tmp_path / "A", fake_model, "Luna", luna, 100)
    c = tmp_path / "C"
    luna(c / "l1.png", 301)
    assert pet_folders_of(c, fake_model) == {} and (c / "cats" / "Luna" / "l1.png").is_file()
    (c / "cats" / "Everyone").mkdir()
    for path in sorted((a / "cats").rglob("*.png")):
        shutil.copy2(path, c / "cats" / "Everyone" / path.name)
    luna(c / "l2.png", 303)

    assert pet_folders_of(c, fake_model) == {} and (c / "cats" / "Luna" / "l2.png").is_file(), tree(c)


def test_in_another_folder_a_folder_named_for_another_pet_is_never_hers(tmp_path: Path, fake_model) -> None:
    """No cats/Luna in C, and C's cats/Milo (Milo is a named cat too) holds copies of her photos:
    her photo goes into a new cats/Luna/, not into his folder."""
    from test_renamed_pets import milo

    a = named_roll(tmp_path / "A", fake_model, "Luna", luna, 100)
    named_roll(tmp_path / "B", fake_model, "Milo", milo, 200, photos=10)
    c = tmp_path / "C"
    shutil.copytree(a / "cats" / "Luna", c / "cats" / "Milo", copy_function=shutil.copy2)
    luna(c / "luna.png", 303)

    assert pet_folders_of(c, fake_model) == {}
    assert (c / "cats" / "Luna" / "luna.png").is_file(), tree(c)


def test_in_another_folder_two_folders_holding_her_photos_alike_take_none(tmp_path: Path, fake_model) -> None:
    """No cats/Luna in C, and its cats/Best and cats/Everyone each a copy of her folder: which is
    hers, only the user knows. Her photos stay in cats/, said why; they went into cats/Everyone/,
    the last by name."""
    a = named_roll(tmp_path / "A", fake_model, "Luna", luna, 100)
    c = tmp_path / "C"
    for name in ("Best", "Everyone"):
        shutil.copytree(a / "cats" / "Luna", c / "cats" / name, copy_function=shutil.copy2)
    luna(c / "l1.png", 303)

    assert pet_folders_of(c, fake_model) == {"cats/Luna": None}
    assert (c / "cats" / "l1.png").is_file() and not (c / "cats" / "Luna").exists(), tree(c)
    luna(c / "l2.png", 304)
    said = invoke("sort", c, "--model", fake_model)
    assert ("cats/Best/ and cats/Everyone/ hold Luna's photos alike: Luna's photos stay in cats/ (rename hers "
            "cats/Luna for them to go there)") in said.stdout.splitlines(), said.stdout


def test_in_another_folder_her_folder_is_looked_for_only_once_a_photo_of_hers_comes(tmp_path: Path,
                                                                                    fake_model) -> None:
    """Her folder copied into another folder and renamed cats/Lulu there: a sort of other photos
    does not look for it (a listing of cats/ and dogs/ and a few `lstat` a sub-folder, each pet, each
    sort and each batch of a watch, in every folder: 170 ms with 1,500 sub-folders); a photo of hers
    does, and goes there."""
    roll = luna_learnt(tmp_path, fake_model)
    later = tmp_path / "later"
    shutil.copytree(roll / "cats" / "Luna", later / "cats" / "Lulu", copy_function=shutil.copy2)
    photo(later / "cat.png", "cat", 5)

    assert pet_folders_of(later, fake_model) == {} and (later / "cats" / "cat.png").is_file()
    luna(later / "luna.png", 80)
    assert pet_folders_of(later, fake_model) == {"cats/Luna": "cats/Lulu"}
    assert (later / "cats" / "Lulu" / "luna.png").is_file() and not (later / "cats" / "Luna").exists()


def test_the_review_page_looks_for_her_folder_again_only_once_cats_changed(tmp_path: Path, fake_model) -> None:
    """The review page asks where every pet's folder is at each reload and Name…: her folder
    copied into another folder and renamed there is looked for by her photos (25 ms with 300
    sub-folders of cats/, 3 pets), and not again while cats/ and dogs/ stay as they were; renamed
    again, she is looked for again."""
    from sorter.review.loading import KnownPets

    roll = luna_learnt(tmp_path, fake_model)
    later = tmp_path / "later"
    shutil.copytree(roll / "cats" / "Luna", later / "cats" / "Lulu", copy_function=shutil.copy2)
    (later / "dogs").mkdir()
    for kind in ("cats", "dogs"):  # as a folder left alone for a while is (changed within 2 s: looked in again)
        os.utime(later / kind, ns=(1_600_000_000_000_000_000,) * 2)
    pets = KnownPets(later)

    first = pets.now()
    assert first.moved == {"cats/Luna": "cats/Lulu"}
    assert pets.now() is first  # not looked for again
    (later / "cats" / "Lulu").rename(later / "cats" / "Lili")
    assert pets.now().moved == {"cats/Luna": "cats/Lili"}


def test_a_watch_where_she_was_not_learnt_files_her_into_her_copied_folder_and_says_so_once(tmp_path: Path,
                                                                                           fake_model) -> None:
    from test_watch import run_in_thread, wait_until

    roll = luna_learnt(tmp_path, fake_model)
    later = tmp_path / "later"
    shutil.copytree(roll / "cats" / "Luna", later / "cats" / "Lulu", copy_function=shutil.copy2)
    notices: list = []
    stop, thread, results = run_in_thread(later, None, model=fake_model, on_notice=notices.append)
    try:
        for i, make in enumerate((luna, lambda path, seed: photo(path, "cat", seed), luna)):
            make(later / f"new{i}.png", 90 + i)
            assert wait_until(lambda i=i: f"new{i}.png" in "".join(tree(later)) and not (later / f"new{i}.png").exists(),
                              20), tree(later)
    finally:
        stop.set()
        thread.join(10)
    assert not any(isinstance(r, BaseException) for r in results), results
    assert {"cats/Lulu/new0.png", "cats/new1.png", "cats/Lulu/new2.png"} <= cats_of(later), tree(later)
    said = f"cats/Luna/ is now cats/Lulu/: Luna's photos go there (sorter learn {later} to learn her as Lulu)"
    assert [n.message for n in notices].count(said) == 1, notices


# ------------------------------------------------------------------ a pet merged with a renamed copy of her folder


def learnt_as_her_copy(folder: Path, other: Path, model: Path) -> str:
    """`other` sorted, a `cp -p` copy of `folder`'s cats/Luna put in its cats/Best, and learnt:
    one pet, Best (her folder renamed in one of the two). What learn said."""
    photo(other / "cat0.png", "cat", 400)
    assert invoke("sort", other, "--model", model).exit_code == 0
    (other / "cats" / "Best").mkdir()
    for path in sorted((folder / "cats" / "Luna").glob("luna*.png")):
        shutil.copy2(path, other / "cats" / "Best" / path.name)
    learnt = invoke("learn", other, "--model", model)
    assert learnt.exit_code == 0, learnt.output
    assert ("cats/Luna, learnt in another folder, holds the same photos as cats/Best: learnt as one pet, cats/Best"
            in learnt.stdout.splitlines()), learnt.stdout
    return learnt.stdout


def test_her_might_be_group_stays_with_her_folder_once_she_is_learnt_as_a_renamed_copy(tmp_path: Path,
                                                                                       fake_model) -> None:
    """Luna learnt in E, two photos she nearly is noted there; her folder copied into E2 as cats/Best
    and learnt: she is Best, and E's cats/Luna hers. A sort of E keeps her "might be" group under
    cats/Luna, and so does one after learning E again (she is Luna again). It was lost for good."""
    from test_review_naming import sorted_with_near_misses

    e = sorted_with_near_misses(tmp_path / "E", fake_model)
    learnt_as_her_copy(e, tmp_path / "E2", fake_model)

    for learn_again in (False, True):
        if learn_again:
            assert invoke("learn", e, "--model", fake_model).exit_code == 0
            assert pets_named() == [("Luna",)]
        luna(e / f"new{learn_again}.png", 80 + learn_again)
        result = invoke("sort", e, "--model", fake_model)
        assert result.exit_code == 0 and (e / "cats" / "Luna" / f"new{learn_again}.png").is_file(), result.output
        assert f"Might be cats/Luna (2 photos): sorter review {e} asks about them" in result.stdout, result.stdout
        noted = suggestions.read(e)
        assert set(noted.pets) == {"cats/Luna"} and set(noted.standing(e)) == {"cats/close.png", "cats/closer.png"}


def test_a_merge_with_a_renamed_copy_counts_only_the_photos_you_placed_as_corrections(tmp_path: Path,
                                                                                      fake_model) -> None:
    """Luna learnt in E (6 photos placed), then sorter filed two new photos of hers into cats/Luna/;
    her 6 copied into E2's cats/Best and learnt: the two sorter filed in E stay sorter's, not
    corrections (cats/Luna -> cats/Best), as they are when E is learnt."""
    e = luna_learnt(tmp_path, fake_model)
    assert invoke("sort", e, "--model", fake_model).exit_code == 0
    assert {"cats/Luna/new0.png", "cats/Luna/new1.png"} <= cats_of(e), tree(e)
    in_e = invoke("learn", e, "--model", fake_model).stdout

    merged = learnt_as_her_copy(e, tmp_path / "E2", fake_model)

    assert "7 placed and 6 kept as sorted" in merged, merged
    assert "+ 1 named pet (Best: 6 photos); your 1 correction is kept" in merged, merged
    assert "cats/Luna -> cats/Best" not in merged and "cats/Best: 6 photos, would find 6 of 6 held out" in merged
    assert "+ 1 named pet (Luna: 6 photos); your 1 correction is kept" in in_e
    assert "cats/Luna: 6 photos, would find 6 of 6 held out" in in_e


def test_in_another_folder_her_name_s_folder_in_another_case_is_hers(tmp_path: Path, fake_model) -> None:
    """Luna learnt in A; C has a cats/luna of its own (a name differing from hers only in case, as
    the review page compares names): her photo goes there, and no cats/Luna/ is made beside it."""
    named_roll(tmp_path / "A", fake_model, "Luna", luna, 100)
    c = tmp_path / "C"
    photo(c / "cats" / "luna" / "mine.png", "cat", 300)
    luna(c / "l1.png", 301)

    assert pet_folders_of(c, fake_model) == {"cats/Luna": "cats/luna"}
    assert (c / "cats" / "luna" / "l1.png").is_file() and not (c / "cats" / "Luna").exists(), tree(c)
