"""On an SD card (exFAT), names shifted along an open chain in cats/ (`mv cats/a.jpg cats/x.jpg;
mv cats/b.jpg cats/a.jpg; mv cats/c.jpg cats/b.jpg`: the first photo to a new name, not round to
the last one's place), then one photo of it edited. Told by size and time alone, the edited one
cannot be told from another file: every photo that can be told goes back under its own name, the
edited one is kept in place with the journal, its line says how to settle it, and done so, the
next undo finishes. QA: b's place edited, c was said "missing" and `.sorter/` removed; x edited, a
was. (Closed rounds of names: test_undo_exfat_swaps.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import FakeClassifier, layout, write_image
from test_undo_exfat_swaps import edited, sorted_card
from test_undo_moved_on import BLUE, undo

from sorter.sorting.sort import sort_folder


def shifted_along(cats: Path) -> None:
    """a's photo to the new name x.jpg, b's to a's place, c's to b's: c's place left empty."""
    os.rename(cats / "a.jpg", cats / "x.jpg")
    os.rename(cats / "b.jpg", cats / "a.jpg")
    os.rename(cats / "c.jpg", cats / "b.jpg")


def kept_as_sorted_but(before: dict, card: Path, name: str) -> bool:
    """Every path of the card as before the sort, but `name` (the edited photo's)."""
    return ({path: entry for path, entry in layout(card).items() if path != name}
            == {path: entry for path, entry in before.items() if path != name})


def test_on_an_exfat_card_photos_shifted_along_an_open_chain_go_back_each_to_its_own_place(exfat_card: Path) -> None:
    """Nothing edited: each photo is found by its size and time and goes back (as it did)."""
    before = sorted_card(exfat_card)
    shifted_along(exfat_card / "cats")

    assert undo(exfat_card) == ([
        f"Restored 3 files from 1 run in {exfat_card}.",
        "found: cats/a.jpg: moved to cats/x.jpg since; put back from there to a.jpg",
        "found: cats/b.jpg: moved to cats/a.jpg since; put back from there to b.jpg",
        "found: cats/c.jpg: moved to cats/b.jpg since; put back from there to c.jpg",
    ], [])
    # cats/ stays, emptied: every photo was taken back from another's place, none from its own, and
    # on a card nothing tells the folder there is the one sorter made (test_undo_exfat_folders.py).
    assert layout(exfat_card) == before | {"cats": "dir"}


def test_on_an_exfat_card_an_open_chain_s_first_photo_edited_under_its_new_name_is_kept_with_the_journal(
        exfat_card: Path) -> None:
    """QA: a's photo, edited at cats/x.jpg, was said "missing" and `.sorter/` removed, so no later
    undo could put it back. Its place held b's photo, so it was moved, not deleted, and the one file
    of cats/ no sorted photo may be it: its move is kept with the journal, and b and c go back."""
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    shifted_along(cats)
    edited(cats / "x.jpg")
    changed = (cats / "x.jpg").read_bytes()

    assert undo(exfat_card) == ([
        f"Restored 2 files from 1 run in {exfat_card} (1 kept in place).",
        "found: cats/b.jpg: moved to cats/a.jpg since; put back from there to b.jpg",
        "found: cats/c.jpg: moved to cats/b.jpg since; put back from there to c.jpg",
    ], ["kept: cats/a.jpg: not the photo sorter put there, and cats/x.jpg holds another file, which may be this "
        "one renamed and edited since: which cannot be told (move it back to cats/a.jpg if it is, and undo again); "
        "left in place"])
    assert os.listdir(cats) == ["x.jpg"] and (exfat_card / ".sorter" / "journal.jsonl").is_file()

    os.rename(cats / "x.jpg", cats / "a.jpg")  # as the line bids
    assert undo(exfat_card) == ([f"Restored 1 file from 1 run in {exfat_card}."], [])
    assert (exfat_card / "a.jpg").read_bytes() == changed and kept_as_sorted_but(before, exfat_card, "a.jpg")


def test_on_an_exfat_card_an_open_chain_s_middle_place_edited_keeps_both_photos_it_may_be(exfat_card: Path) -> None:
    """cats/a.jpg (b's photo) edited: it may be b's photo edited, or a's (whose size and time are at
    cats/x.jpg, a `cp -p` backup kept there, say); both moves are kept, never guessed (as it did),
    and c goes back. Done as the lines say, the next undo puts a and b back."""
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    shifted_along(cats)
    edited(cats / "a.jpg")
    changed = (cats / "a.jpg").read_bytes()

    assert undo(exfat_card) == ([
        f"Restored 1 file from 1 run in {exfat_card} (2 kept in place).",
        "found: cats/c.jpg: moved to cats/b.jpg since; put back from there to c.jpg",
    ], [
        "kept: cats/a.jpg: not the photo sorter put there, its size and time are at cats/x.jpg, and cats/b.jpg's "
        "photo is nowhere: this file may be that one edited since, which cannot be told (move it to cats/b.jpg "
        "if it is, and undo again); left in place",
        "kept: cats/b.jpg: not the photo sorter put there, and cats/a.jpg holds another file, which may be this one "
        "edited since (cats/a.jpg's photo may be at cats/x.jpg): which cannot be told (move it back to cats/b.jpg "
        "if it is, and undo again); left in place",
    ])
    assert sorted(os.listdir(cats)) == ["a.jpg", "x.jpg"] and (exfat_card / ".sorter" / "journal.jsonl").is_file()

    os.rename(cats / "a.jpg", cats / "b.jpg")  # as the lines bid
    assert undo(exfat_card) == ([
        f"Restored 2 files from 1 run in {exfat_card}.",
        "found: cats/a.jpg: moved to cats/x.jpg since; put back from there to a.jpg",
    ], [])
    assert (exfat_card / "b.jpg").read_bytes() == changed and kept_as_sorted_but(before, exfat_card, "b.jpg")


def test_on_an_exfat_card_an_open_chain_s_last_photo_edited_is_kept_with_the_journal(exfat_card: Path) -> None:
    """QA: cats/b.jpg (c's photo) edited: a and b went back, c was said "missing" and `.sorter/`
    removed, its photo left at cats/b.jpg. c's place is empty, and the file at b's place, no sorted
    photo, may be it (b's photo was at a's place): c's move is kept with the journal."""
    before = sorted_card(exfat_card)
    cats = exfat_card / "cats"
    shifted_along(cats)
    edited(cats / "b.jpg")
    changed = (cats / "b.jpg").read_bytes()

    assert undo(exfat_card) == ([
        f"Restored 2 files from 1 run in {exfat_card} (1 kept in place).",
        "found: cats/a.jpg: moved to cats/x.jpg since; put back from there to a.jpg",
        "found: cats/b.jpg: moved to cats/a.jpg since; put back from there to b.jpg; "
        "cats/b.jpg is another file now, left there",
    ], ["kept: cats/c.jpg: no longer there, and cats/b.jpg holds another file, which may be this one edited since "
        "(cats/b.jpg's photo may be at cats/a.jpg): which cannot be told (move it back to cats/c.jpg if it is, and "
        "undo again); left in place"])
    assert os.listdir(cats) == ["b.jpg"] and (exfat_card / ".sorter" / "journal.jsonl").is_file()

    os.rename(cats / "b.jpg", cats / "c.jpg")  # as the line bids
    assert undo(exfat_card) == ([f"Restored 1 file from 1 run in {exfat_card}."], [])
    assert (exfat_card / "c.jpg").read_bytes() == changed and kept_as_sorted_but(before, exfat_card, "c.jpg")


@pytest.mark.parametrize("others", [0, 2], ids=["cats/ holds nothing else", "cats/ holds two other files"])
def test_on_an_exfat_card_a_photo_deleted_and_its_name_given_to_another_is_missing_unless_a_file_may_be_it(
        exfat_card: Path, others: int) -> None:
    """`rm cats/a.jpg; mv cats/b.jpg cats/a.jpg`: with no other file in cats/ a's photo is missing, as
    before; with files there that are no sorted photo, either may be it renamed and edited, and the
    move is kept, the files named."""
    sorted_card(exfat_card)
    cats = exfat_card / "cats"
    (cats / "a.jpg").unlink()
    os.rename(cats / "b.jpg", cats / "a.jpg")
    for i in range(others):
        (cats / f"new{i}.jpg").write_bytes(b"not a sorted photo" * (i + 1))

    stdout, stderr = undo(exfat_card)
    assert "found: cats/b.jpg: moved to cats/a.jpg since; put back from there to b.jpg" in stdout
    if others:
        assert stderr == ["kept: cats/a.jpg: not the photo sorter put there, and cats/new0.jpg, cats/new1.jpg hold "
                          "other files, one of which may be this one renamed and edited since: which cannot be told "
                          "(move it back to cats/a.jpg if it is, and undo again); left in place"]
    else:
        assert stderr == ["missing: cats/a.jpg: no longer there (was a.jpg)"]


def test_on_an_exfat_card_a_photo_renamed_and_edited_whose_place_a_newer_run_s_photo_took_is_kept(
        exfat_card: Path) -> None:
    """a.jpg sorted, then b.jpg by a second sort; `mv cats/a.jpg cats/x.jpg; mv cats/b.jpg cats/a.jpg`,
    x edited, `undo --all`: the newer run's undo takes b's photo from a's place first, so a's place is
    empty when a's move is looked at; it held another photo, so a's move is kept as above, not said
    missing with the journal removed."""
    write_image(exfat_card / "a.jpg", BLUE, size=(16, 8))
    sort_folder(exfat_card, classifier=FakeClassifier())
    write_image(exfat_card / "b.jpg", BLUE, size=(32, 8))
    sort_folder(exfat_card, classifier=FakeClassifier())
    cats = exfat_card / "cats"
    os.rename(cats / "a.jpg", cats / "x.jpg")
    os.rename(cats / "b.jpg", cats / "a.jpg")
    edited(cats / "x.jpg")
    changed = (cats / "x.jpg").read_bytes()

    assert undo(exfat_card, "--all") == ([
        f"Restored 1 file from 1 run in {exfat_card} (1 kept in place).",
        "found: cats/b.jpg: moved to cats/a.jpg since; put back from there to b.jpg",
    ], ["kept: cats/a.jpg: no longer there, and cats/x.jpg holds another file, which may be this one renamed and "
        "edited since: which cannot be told (move it back to cats/a.jpg if it is, and undo again); left in place"])
    assert (exfat_card / ".sorter" / "journal.jsonl").is_file()

    os.rename(cats / "x.jpg", cats / "a.jpg")  # as the line bids
    assert undo(exfat_card, "--all") == ([f"Restored 1 file from 1 run in {exfat_card}."], [])
    assert sorted(os.listdir(exfat_card)) == ["a.jpg", "b.jpg"] and (exfat_card / "a.jpg").read_bytes() == changed
