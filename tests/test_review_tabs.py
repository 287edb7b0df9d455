"""`sorter review` open in two tabs, stopped, or learning: what a page that no longer shows the
folder as it is says, against a real server (plain HTTP as two tabs, and Chromium)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import layout
from test_review_server import Client, browser_missing, chromium_page, make_folder, start

from sorter.config import as_typed
from sorter.learning import learn as learning


@pytest.fixture
def served(tmp_path: Path, fake_model):
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside)
    client, stop, thread = start(root, fake_model)
    yield client, root
    stop.set()
    thread.join(10)


def click(tab: Client, card: dict, to: str):
    """A button on `card` as `tab` shows it: the page sends where it shows the photo."""
    return tab.json("POST", "/api/move", {"id": card["id"], "to": to, "generation": tab.generation, "at": card["path"]})


@pytest.mark.parametrize("button", ["dog", "neither"])
def test_a_tab_that_still_shows_a_photo_where_another_tab_filed_it_from_moves_nothing(served, button) -> None:
    """Tab A files the person in cats/; tab B, loaded before, still shows it in dogs/: its Dog
    (the pressed button) or Neither would undo A's correction unseen. Refused, nothing moved."""
    client, root = served
    tab_a, tab_b = client, Client(client.url)
    shown_a, shown_b = tab_a.cards()["person.jpg"], tab_b.cards()["person.jpg"]
    assert shown_b["path"] == "dogs/person.jpg"
    assert click(tab_a, shown_a, "cat")[0] == 200
    before = layout(root)

    status, answer = click(tab_b, shown_b, button)

    assert (status, answer) == (409, {"error": "dogs/person.jpg is no longer there; reload the page"})
    assert layout(root) == before and (root / "cats" / "person.jpg").is_file()
    # Reloaded, tab B shows it in cats/ and its Dog moves it, as asked.
    assert click(tab_b, tab_b.cards()["person.jpg"], "dog")[0] == 200
    assert (root / "dogs" / "person.jpg").is_file()


def test_a_click_that_names_no_place_as_text_is_refused(served) -> None:
    client, _ = served
    card = client.cards()["person.jpg"]
    status, answer = client.json("POST", "/api/move", {"id": card["id"], "to": "cat", "generation": client.generation,
                                                       "at": ["dogs"]})
    assert status == 400 and "at" in answer["error"]


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_a_second_tab_showing_a_photo_filed_from_the_first_asks_for_a_reload(served) -> None:
    from playwright.sync_api import expect

    client, root = served
    with chromium_page(client.url) as tab_a:
        tab_b = tab_a.context.browser.new_page()  # its own cookie, from the URL
        tab_b.goto(client.url)
        card_b = tab_b.locator("figure", has_text="person.jpg")
        expect(card_b.get_by_role("button", name="Dog", exact=True)).to_have_attribute("aria-pressed", "true")
        tab_a.locator("figure", has_text="person.jpg").get_by_role("button", name="Cat", exact=True).click()
        expect(tab_a.locator("#status")).to_have_text("person.jpg is in cats/")

        card_b.get_by_role("button", name="Dog", exact=True).click()

        expect(tab_b.locator("#status")).to_have_text("dogs/person.jpg is no longer there; reload the page")
        assert (root / "cats" / "person.jpg").is_file() and not (root / "dogs" / "person.jpg").exists()
        tab_b.screenshot(path=str(root.parent / "tab_b.png"))


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_a_tab_opened_while_learn_runs_says_what_it_learnt_once_done(served, monkeypatch) -> None:
    """It said "learning…" until reloaded, and refused every click with "still learning"."""
    from playwright.sync_api import expect

    client, root = served
    gate, began, real = threading.Event(), threading.Event(), learning.learn
    monkeypatch.setattr(learning, "learn", lambda *args, **kwargs: (began.set(), gate.wait(20), real(*args, **kwargs))[2])
    with chromium_page(client.url) as tab_a:
        tab_a.locator("figure", has_text="person.jpg").get_by_role("button", name="Neither", exact=True).click()
        expect(tab_a.locator("#status")).to_have_text("person.jpg is back at the top of the folder")
        tab_a.get_by_role("button", name="Learn from my corrections").click()
        assert began.wait(10)
        tab_b = tab_a.context.browser.new_page()
        tab_b.goto(client.url)
        expect(tab_b.get_by_role("button", name="learning\u2026")).to_be_disabled()
        expect(tab_b.locator("#status")).to_have_text(
            "sorter is learning from your corrections: this page says what it learnt once it is done")

        gate.set()

        said = "nothing learnt: your 1 correction is not learnt yet (see the report)"
        expect(tab_a.locator("#status")).to_have_text(said)
        expect(tab_b.locator("#status")).to_have_text(said)
        expect(tab_b.get_by_role("region", name="what sorter learnt")).to_contain_text("dog -> neither")
        expect(tab_b.get_by_role("button", name="Learn from my corrections")).to_be_enabled()
        tab_b.screenshot(path=str(root.parent / "learnt_b.png"))
        tab_b.locator("figure", has_text="tree.jpg").get_by_role("button", name="Dog", exact=True).click()
        expect(tab_b.locator("#status")).to_have_text("tree.jpg is in dogs/")


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_a_click_once_the_server_stopped_says_how_to_go_on(tmp_path: Path) -> None:
    """Ctrl-C in the terminal, then a click: the browser's own "Failed to fetch" said nothing
    of why or what to do. The folder is quoted as a shell reads it back."""
    from playwright.sync_api import expect

    root, outside = tmp_path / "Ann's pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside)
    process = subprocess.Popen([sys.executable, "-m", "sorter", "review", str(root), "--no-browser"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        with chromium_page(url) as page:
            dog = page.locator("figure", has_text="cat.jpg").first.get_by_role("button", name="Dog", exact=True)
            expect(dog).to_be_visible()
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=20) == 0
            quoted = as_typed(root, "utf-8")

            dog.click()

            said = f"the review server has stopped: run `sorter review {quoted}` again to go on"
            expect(page.locator("#status")).to_have_text(said)
            page.keyboard.press("u")
            expect(page.locator("#status")).to_have_text(said)
            page.screenshot(path=str(tmp_path / "stopped.png"))
    finally:
        process.kill()
    assert (root / "cats" / "cat.jpg").is_file()


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_on_a_phone_a_long_pets_name_wraps_in_the_status_line(served) -> None:
    """At 390 px, the line saying where a cat with a 60-letter name went was cut, and the page
    541 px wide: it scrolled sideways."""
    from playwright.sync_api import expect

    client, root = served
    name = "Bartholomew" * 5 + "Whiskers"[:5]
    with chromium_page(client.url) as page:
        page.set_viewport_size({"width": 390, "height": 844})
        card = page.locator("figure", has_text="cat.jpg").first
        card.get_by_role("button", name="Name\u2026").click()
        card.locator("input").fill(name)
        card.locator("input").press("Enter")
        expect(page.locator("#status")).to_contain_text(f"cat.jpg is in cats/{name}/")
        page.screenshot(path=str(root.parent / "phone.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = page.locator("#status").bounding_box()
        assert box["x"] + box["width"] <= 390


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_a_photo_with_no_preview_is_no_link(tmp_path: Path) -> None:
    """Its "no preview" opened the server's raw `{"error": "no preview"}` in a new tab."""
    from playwright.sync_api import expect

    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside)
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a photo")
    client, stop, thread = start(root)
    try:
        with chromium_page(client.url) as page:
            card = page.locator("figure", has_text="broken.jpg")
            expect(card.locator(".pic")).to_have_text("no preview")
            expect(card.locator(".pic a")).to_have_count(0)
            expect(page.locator("figure", has_text="cat.jpg").first.locator(".pic a img")).to_have_count(1)
            card.screenshot(path=str(tmp_path / "no_preview.png"))
    finally:
        stop.set()
        thread.join(10)
