"""On an SD card (exFAT), whose driver numbers files anew, `undo` tells a photo by its size and
time alone: two names the user swapped in cats/, or one photo renamed and another given its name,
go back each to its own first place, as on a disk that keeps inode numbers. QA: the file in a
photo's place was taken for the photo unless it was another sorted photo, and then the photo was
"missing" (and the journal removed) while it sat in cats/ under the other name."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, remount
from test_undo_moved_on import BLUE, photos, undo

from sorter.sorting.sort import sort_folder


def sorted_card(card: Path) -> dict:
    """a.jpg, b.jpg and c.jpg (each its own size) sorted into cats/: the layout before the sort."""
    photos(card, BLUE, "a.jpg", "b.jpg", "c.jpg")
    before = layout(card)
    sort_folder(card, classifier=FakeClassifier())
    return before


@pytest.mark.parametrize("again", [False, True], ids=["mounted all along", "taken out and put in again"])
def test_on_an_exfat_card_two_photos_whose_names_were_swapped_go_back_each_to_its_own_place(
        exfat_card: Path, again: bool) -> None:
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    os.rename(cats / "a.jpg", cats / "t")
    os.rename(cats / "b.jpg", cats / "a.jpg")
    os.rename(cats / "t", cats / "b.jpg")
    if again:
        remount(exfat_card)

    assert undo(exfat_card) == ([
        f"Restored 3 files from 1 run in {exfat_card}.",
        "found: cats/a.jpg: moved to cats/b.jpg since; put back from there to a.jpg",
        "found: cats/b.jpg: moved to cats/a.jpg since; put back from there to b.jpg",
    ], [])
    assert layout(exfat_card) == before  # each photo under its own name (by its bytes), .sorter/ gone


def test_on_an_exfat_card_a_photo_renamed_and_another_given_its_name_go_back_each_to_its_own_place(
        exfat_card: Path) -> None:
    """`mv cats/a.jpg cats/x.jpg; mv cats/b.jpg cats/a.jpg`: a.jpg's photo was left at cats/x.jpg,
    said "missing"."""
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    os.rename(cats / "a.jpg", cats / "x.jpg")
    os.rename(cats / "b.jpg", cats / "a.jpg")

    assert undo(exfat_card) == ([
        f"Restored 3 files from 1 run in {exfat_card}.",
        "found: cats/a.jpg: moved to cats/x.jpg since; put back from there to a.jpg",
        "found: cats/b.jpg: moved to cats/a.jpg since; put back from there to b.jpg",
    ], [])
    assert layout(exfat_card) == before


def test_on_an_exfat_card_a_swapped_photo_two_files_have_the_size_and_time_of_is_kept_not_guessed(
        exfat_card: Path) -> None:
    """Names swapped, and a copy of a.jpg kept beside (`cp -p`, its size and time too): which file
    is a.jpg's photo cannot be told, so its move is kept, with the journal, for a later undo, and
    nothing is said missing; b.jpg's photo goes back. With the copy gone, the next undo finishes."""
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    os.rename(cats / "a.jpg", cats / "t")
    os.rename(cats / "b.jpg", cats / "a.jpg")
    os.rename(cats / "t", cats / "b.jpg")
    (cats / "keep").mkdir()
    shutil.copy2(cats / "b.jpg", cats / "keep" / "a.jpg")

    assert undo(exfat_card) == ([
        f"Restored 2 files from 1 run in {exfat_card} (1 kept in place).",
        "found: cats/b.jpg: moved to cats/a.jpg since; put back from there to b.jpg; "
        "cats/b.jpg is another file now, left there",
    ], ["kept: cats/a.jpg: not the photo sorter put there, and 2 files have its size and time "
        "(cats/b.jpg, cats/keep/a.jpg): which is it cannot be told; left in place"])
    assert (exfat_card / ".sorter" / "journal.jsonl").is_file()

    (cats / "keep" / "a.jpg").unlink()
    assert undo(exfat_card) == ([
        f"Restored 1 file from 1 run in {exfat_card}.",
        "found: cats/a.jpg: moved to cats/b.jpg since; put back from there to a.jpg",
    ], [])
    assert layout(exfat_card) == before | {"cats": "dir", "cats/keep": "dir"}
