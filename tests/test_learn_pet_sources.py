"""Where `sorter learn` takes a named pet's photos from, said (found by a QA pass): a `cats/Luna`
in two folders is one pet, learnt from both, and a symbolic link in a pet's folder (to a photo, or
the pet's folder itself a link) is not followed, as sort follows none. Before, a learn of the second
folder counted the first's photos as hers without saying where they came from (two cats named Luna
became one), and links were left out of her count without a word.

Real photos of individual cats (../shared/datasets/named-cats) and the fake model of test_learn:
what is said does not depend on how well the model tells the cats apart."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import needs_shared, shared_dataset
from test_learn import invoke, luna, luna_filed, photo

NAMED_CATS = shared_dataset("named-cats")
needs_named_cats = needs_shared("named-cats")


def cat_photos(cat: str, into: Path, first: int, count: int) -> list[Path]:
    """`count` real photos of one cat from named-cats, from its `first` in order, copied into `into`."""
    into.mkdir(parents=True, exist_ok=True)
    photos = sorted((NAMED_CATS / cat).iterdir())[first:first + count]
    return [Path(shutil.copy(photo, into / photo.name)) for photo in photos]


@needs_named_cats
def test_a_pet_of_one_name_in_two_folders_is_one_pet_and_learn_says_where_her_photos_come_from(
        tmp_path: Path, fake_model) -> None:
    first, second = tmp_path / "A", tmp_path / "B"
    cat_photos("plum", first / "cats" / "Luna", 0, 8)
    cat_photos("putu", second / "cats" / "Luna", 4, 5)  # another cat, by the same name
    learnt = invoke("learn", first, "--model", fake_model)
    assert learnt.exit_code == 0, learnt.output
    assert "cats/Luna: 8 photos, would find" in learnt.stdout  # her photos are all this folder's: nothing more said
    assert "learnt before" not in learnt.stdout

    result = invoke("learn", second, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert f"cats/Luna: 13 photos (8 learnt before from {first}/cats/Luna), would find " in result.stdout
    assert (f"cats/Luna here and cats/Luna of the folders learnt before are one pet to sorter, learnt from the photos "
            f"of both; if they are two different cats, rename one of the folders (mv {second}/cats/Luna "
            f"{second}/cats/Luna2) and learn its folder again") in result.stdout.splitlines()

    # Done as said: two pets, each learnt from her own folder; the first folder's Luna said to be learnt there.
    os.rename(second / "cats" / "Luna", second / "cats" / "Luna2")
    result = invoke("learn", second, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert f"cats/Luna: 8 photos (learnt before from {first}/cats/Luna), would find " in result.stdout
    assert "cats/Luna2: 5 photos, would find " in result.stdout
    assert "one pet to sorter" not in result.stdout


@needs_named_cats
def test_links_in_a_pets_folder_are_not_followed_and_learn_says_so_as_sort_does(tmp_path: Path, fake_model) -> None:
    roll = tmp_path / "E"
    cat_photos("fred", roll / "cats" / "M", 0, 5)
    elsewhere = cat_photos("fred", roll / "t", 5, 5)
    (roll / "cats" / "L").symlink_to("../t")  # a pet's folder that is a link
    (roll / "cats" / "M" / "link.jpg").symlink_to(f"../../t/{elsewhere[0].name}")
    for i in range(4):  # several in one folder: one line, a few named
        (roll / "cats" / f"top{i}.jpg").symlink_to(f"../t/{elsewhere[i].name}")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Found 5 photos you placed in" in lines[0]  # the links are not photos placed
    assert ("cats/L: symbolic link to a folder, not followed: its photos are not learnt from (put the folder itself "
            "there to learn from them)") in lines
    assert ("cats/M/link.jpg: symbolic link, not followed: not learnt from (put the photo itself there to learn from "
            "it)") in lines
    assert ("cats/: 4 symbolic links (top0.jpg, top1.jpg, top2.jpg and 1 more), not followed: not learnt from (put "
            "the photos themselves there to learn from them)") in lines
    assert "cats/M: 5 photos, would find " in result.stdout
    assert not any(line.startswith("cats/L:") and "photo" in line.split(":")[1] for line in lines)  # no pet L learnt


def test_a_folder_made_at_the_path_of_one_learnt_says_her_photos_came_from_the_one_before(
        tmp_path: Path, fake_model) -> None:
    """A learnt folder moved away (`mv A A-2019`) and a new one made at its path: the new A's Luna
    was said to hold "6 learnt before from A/cats/Luna", its own path, as if this folder had them."""
    first = luna_filed(tmp_path / "A", fake_model)  # sorted: a journal tells this folder apart
    assert invoke("learn", first, "--model", fake_model).exit_code == 0
    os.rename(first, tmp_path / "A-2019")
    for i in range(5):  # the new A's Luna, another cat of her name, filed by hand
        luna(first / "cats" / "Luna" / f"new{i}.png", 80 + i)
    photo(first / "dog.png", "dog", 1)
    assert invoke("sort", first, "--model", fake_model).exit_code == 0  # its own journal

    result = invoke("learn", first, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert (f"cats/Luna: 11 photos (6 learnt before from {first}/cats/Luna, a folder at this path before this one), "
            "would find ") in result.stdout
