"""What the review pages say of a file without a verdict, and of a video's length. A file sorter
could not read (an empty .heic) is "unreadable: empty file" on the live page as on the sort's page
and in the terminal, not "no confidence" with Neither pressed as if it had been judged neither;
Cat or Dog still files it by hand. A video's length is one rule on both pages (`wording.clock`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from clips import make_clip, needs_ffmpeg
from conftest import ThreeClassFake, write_image
from test_review_server import browser_missing, chromium_page, start

from sorter.sorting import sort
from sorter.wording import clock

BLUE = (255, 0, 0)  # BGR: a cat to ThreeClassFake


def test_a_length_is_rounded_to_whole_seconds_half_up_before_it_is_split() -> None:
    assert [clock(s) for s in (0.0, 0.4, 0.5, 8.0, 59.4, 59.5, 59.6, 600.0, 3599.5)] == [
        "0:00", "0:00", "0:01", "0:08", "0:59", "1:00", "1:00", "10:00", "60:00"]


@pytest.fixture
def served(tmp_path: Path):
    """A sorted folder: a cat photo, an empty .heic (unreadable) and clips of 0.5 s and 59.6 s."""
    root = tmp_path / "pets"
    root.mkdir()
    cat = write_image(root / "cat.jpg", BLUE)
    (root / "empty.heic").write_bytes(b"")
    make_clip(root / "half.mp4", [cat], seconds=0.5, size=(64, 48))
    make_clip(root / "minute.mp4", [cat], seconds=59.6, size=(64, 48))
    sort.sort_folder(root, classifier=ThreeClassFake())
    assert (root / "empty.heic").is_file() and (root / "cats" / "minute.mp4").is_file()
    client, stop, thread = start(root)
    yield client, root
    stop.set()
    thread.join(10)


@needs_ffmpeg
def test_both_pages_show_a_videos_length_alike(served) -> None:
    """0.5 s was "0:00" on the sort's page (half to even) and "0:01" on the server's; 59.6 s was "0:60"."""
    client, root = served
    static = (root / ".sorter" / "review.html").read_text()
    assert sorted(re.findall(r"&#9654; video ([0-9:]+)", static)) == ["0:01", "1:00"]
    cards = client.cards()
    assert (cards["half.mp4"]["length"], cards["minute.mp4"]["length"]) == ("0:01", "1:00")
    empty = cards["empty.heic"]
    assert (empty["status"], empty["reason"], empty["confidence"], empty["current"]) == (
        "unreadable", "empty file", None, "neither")


@needs_ffmpeg
@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_an_unreadable_file_says_why_and_no_verdict_is_pressed_yet_dog_files_it(served) -> None:
    from playwright.sync_api import expect

    client, root = served
    with chromium_page(client.url) as page:
        expect(page.locator("figure", has_text="half.mp4")).to_contain_text("\u25b6 video 0:01")
        expect(page.locator("figure", has_text="minute.mp4")).to_contain_text("\u25b6 video 1:00")
        card = page.locator("figure", has_text="empty.heic")
        expect(card.locator("figcaption b").first).to_have_text("unreadableempty file")
        expect(card.locator(".bad .reason")).to_have_text("empty file")
        expect(card).not_to_contain_text("no confidence")
        for name in ("Cat", "Dog", "Neither"):
            expect(card.get_by_role("button", name=name, exact=True)).to_have_attribute("aria-pressed", "false")
        card.get_by_role("button", name="Neither", exact=True).click()  # where it is: nothing moves
        expect(page.get_by_role("status")).to_have_text("empty.heic stays at the top of the folder")
        assert (root / "empty.heic").is_file()
        card.get_by_role("button", name="Dog", exact=True).click()  # filed by hand, as the server allows
        expect(page.get_by_role("status")).to_have_text("empty.heic is in dogs/")
        assert (root / "dogs" / "empty.heic").is_file()
        moved = page.locator("figure", has_text="empty.heic")
        expect(moved.get_by_role("button", name="Dog", exact=True)).to_have_attribute("aria-pressed", "true")
        expect(moved).to_contain_text("you: dog")
        moved.get_by_role("button", name="Neither", exact=True).click()  # your neither: pressed now
        expect(page.get_by_role("status")).to_have_text("empty.heic is back at the top of the folder")
        back = page.locator("figure", has_text="empty.heic")
        expect(back.get_by_role("button", name="Neither", exact=True)).to_have_attribute("aria-pressed", "true")
        page.screenshot(path=str(root.parent / "review.png"), full_page=True)
