"""On an SD card (exFAT), `undo` removes a folder sorter made only where something tells it is
that folder: the run's photos taken back from it, or its birth time where the driver gives one.
exfat-fuse numbers inodes anew at each mount and gives no birth time, so a folder at a path
sorter once used may be one the user made since, and that one stays, even empty."""

from __future__ import annotations

from pathlib import Path

from conftest import FakeClassifier
from test_review_naming import name
from test_review_server import click
from test_review_traces import reviewing
from test_undo_moved_on import BLUE, RED, photos, undo

from sorter.files import made_folders
from sorter.sorting.sort import sort_folder


def luna_named_then_undone(card: Path) -> None:
    """c0.jpg and c1.jpg sorted into cats/, c0 named Luna in a review (cats/Luna/ made), that
    review undone (cats/Luna/ removed), and a cats/Luna/ of the user's own made, empty."""
    photos(card, BLUE, "c0.jpg", "c1.jpg")
    sort_folder(card, classifier=FakeClassifier())
    with reviewing(card) as client:
        assert name(client, "c0.jpg", "Luna")[0] == 200
    assert undo(card) == ([f"Restored 1 file from 1 run in {card}."], [])
    assert not (card / "cats" / "Luna").exists()
    (card / "cats" / "Luna").mkdir()  # the user's


def test_exfat_fuse_gives_a_folder_no_identity_that_lasts(exfat_card: Path) -> None:
    """Why a path is not enough there: no generation, no birth time (`made_folders.NONE`)."""
    (exfat_card / "cats").mkdir()
    assert made_folders.identity(exfat_card / "cats")[2] == made_folders.NONE


def test_on_exfat_a_folder_the_user_made_where_an_undone_review_s_was_stays_through_an_older_undo(
        exfat_card: Path) -> None:
    """QA: with a run still before the sort, undoing the sort removed the user's empty cats/Luna/,
    taken by its path for the review's, undone earlier."""
    photos(exfat_card, RED, "d0.jpg")
    sort_folder(exfat_card, classifier=FakeClassifier())  # a run before: not the last undo
    luna_named_then_undone(exfat_card)

    assert undo(exfat_card) == ([f"Restored 2 files from 1 run in {exfat_card}."], [])
    assert (exfat_card / "cats" / "Luna").is_dir() and (exfat_card / "dogs" / "d0.jpg").is_file()


def test_on_exfat_the_last_undo_leaves_a_folder_the_user_made_where_sorter_had_one(exfat_card: Path) -> None:
    """QA: the undo that took back the last run removed the user's empty cats/Luna/, at a path a
    review undone before had made a folder at; cats/ stays around it, the photos all back."""
    luna_named_then_undone(exfat_card)

    assert undo(exfat_card) == ([f"Restored 2 files from 1 run in {exfat_card}."], [])
    assert (exfat_card / "cats" / "Luna").is_dir() and (exfat_card / "c0.jpg").is_file()
    assert not (exfat_card / ".sorter").exists()


def test_on_exfat_a_photo_filed_by_hand_whose_review_was_undone_is_put_back_by_the_sort_s_undo(
        exfat_card: Path) -> None:
    """QA: c1 filed by hand into a cats/Luna/ of the user's, moved to dogs/ on the review page,
    that review undone (back into cats/Luna/): the sort's undo said it missing, or nothing, and
    left it there. Told by size and time, the file was taken for the review's photo, another's:
    the review's move is of that very photo (its whole record, inode too, under its name)."""
    (exfat_card / "cats" / "Luna").mkdir(parents=True)  # the user's, before the sort
    photos(exfat_card, BLUE, "c0.jpg", "c1.jpg")
    sort_folder(exfat_card, classifier=FakeClassifier())
    (exfat_card / "cats" / "c1.jpg").rename(exfat_card / "cats" / "Luna" / "c1.jpg")
    click(exfat_card, "c1.jpg", "dog")
    assert undo(exfat_card) == ([f"Restored 1 file from 1 run in {exfat_card}."], [])
    assert (exfat_card / "cats" / "Luna" / "c1.jpg").is_file()

    assert undo(exfat_card) == ([f"Restored 2 files from 1 run in {exfat_card}.",
                                 "found: cats/c1.jpg: moved to cats/Luna/c1.jpg since; put back from there to c1.jpg"],
                                [])
    assert (exfat_card / "c0.jpg").is_file() and (exfat_card / "c1.jpg").is_file()
    assert (exfat_card / "cats" / "Luna").is_dir() and not (exfat_card / ".sorter").exists()
