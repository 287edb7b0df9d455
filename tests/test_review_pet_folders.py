"""The review page and the pets' folders as they are on disk: named with characters that cannot be
typed, renamed by hand while the page is open, and a "Not Luna" answer that lasts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import layout, write_image
from test_review_naming import left_in_place_might_be_luna, not_luna
from test_review_server import Client, browser_missing, chromium_page, make_folder, start, wait_for

from sorter.files import suggestions

RELOAD = "the pets' folders in cats/ changed since this page was loaded; reload the page"


@pytest.fixture
def served(tmp_path: Path):
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    write_image(root / "o\nne.jpg", (255, 0, 9))  # a cat whose name holds a new line, sorted into cats/
    make_folder(root, outside, extra=3)  # cat.jpg, cat-000..002.jpg in cats/
    yield root, lambda: start(root)


def name(client: Client, photo: str, pet, to: str = "cat"):
    card = client.cards()[photo]
    return client.json("POST", "/api/move", {"id": card["id"], "to": to, "pet": pet, "generation": client.generation})


def stopped(stop, thread) -> None:
    stop.set()
    thread.join(10)


def test_a_pets_folder_whose_name_cannot_be_typed_is_shown_escaped_and_named_into_as_shown(served) -> None:
    """cats/Fo<new line>x/ and cats/\\xe9t\\xe9/ (not UTF-8): the page showed their raw names (a
    space, U+FFFD) on the card's pet button, and the field it prefilled dropped the new line, so
    Enter made cats/Fox/ and moved the photo there; the other was refused for "control characters".
    Now every name is shown escaped, as the headings are, and the name as shown is that folder."""
    root, serve = served
    newline, latin = "Fo\nx", os.fsdecode(b"\xe9t\xe9")
    write_image(root / "cats" / newline / "nl.jpg", (200, 60, 200))
    write_image(root / "cats" / latin / "l1.jpg", (60, 200, 200))
    client, stop, thread = serve()
    try:
        cards = client.cards()
        assert (cards["nl.jpg"]["pet"], cards["l1.jpg"]["pet"]) == ("Fo\\nx", "\\xe9t\\xe9")
        assert cards["o\\nne.jpg"]["origin"] == "o\\nne.jpg"  # the card's tooltip: "(was o\nne.jpg)"
        status, groups = client.json("GET", "/api/groups")
        assert {"Fo\\nx", "\\xe9t\\xe9"} <= set(groups["pets"]["cat"]) and newline not in groups["pets"]["cat"]
        assert name(client, "cat.jpg", "Fo\\nx")[0] == 200
        assert name(client, "cat-000.jpg", "\\xe9t\\xe9")[0] == 200
        assert (root / "cats" / newline / "cat.jpg").is_file() and (root / "cats" / latin / "cat-000.jpg").is_file()
        assert not (root / "cats" / "Fox").exists() and not (root / "cats" / "Fo\\nx").exists()
        # A new name still cannot hold them, and says why.
        assert name(client, "cat-001.jpg", "Ne\nw") == (409, {"error": "a pet's name cannot hold control characters"})
        assert name(client, "cat-001.jpg", "N" + latin) == (
            409, {"error": "a pet's name is text: it cannot hold bytes that are not UTF-8"})
    finally:
        stopped(stop, thread)


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_enter_on_a_pets_field_prefilled_from_a_folder_with_a_new_line_files_into_that_folder(
        served) -> None:
    """In Chromium, the QA's steps: the pet button of a photo in cats/Fo<new line>x/ read
    "cats/Fo x/"; its field held "Fox" (a text field drops a new line), and Enter made cats/Fox/.
    Then a cat named as that pet is offered, and Enter on it files it beside her."""
    from playwright.sync_api import expect

    root, serve = served
    write_image(root / "cats" / "Fo\nx" / "nl.jpg", (200, 60, 200))
    client, stop, thread = serve()
    try:
        with chromium_page(client.url) as page:
            mine = page.locator("figure", has_text="nl.jpg").filter(has_not_text="o\\nne")
            mine.get_by_role("button", name="cats/Fo\\nx/").click()
            field = mine.get_by_role("combobox", name="pet's name")
            expect(field).to_have_value("Fo\\nx")
            field.press("Enter")
            # Already there: it stays (review-cosmetic: "is in" said a move that was none), no cats/Fox/ made.
            expect(page.get_by_role("status")).to_contain_text("nl.jpg stays in cats/Fo\\nx/")
            expect(page.locator("datalist#pets-cat option[value='Fo\\\\nx']")).to_have_count(1)
            cat = page.locator("figure", has_text="cat.jpg").filter(has_not_text="cat-")
            cat.get_by_role("button", name="Name\u2026").click()
            field = cat.get_by_role("combobox", name="pet's name")
            field.fill("Fo\\nx")
            field.press("Enter")
            wait_for(root / "cats" / "Fo\nx" / "cat.jpg")
        assert not (root / "cats" / "Fox").exists() and (root / "cats" / "Fo\nx" / "nl.jpg").is_file()
    finally:
        stopped(stop, thread)


def test_a_pets_folder_renamed_by_hand_while_the_page_is_open_asks_for_a_reload(served) -> None:
    """cats/Luna renamed cats/Lulu by hand with the page open: "lulu" made cats/lulu/ beside
    cats/Lulu/ (one pet but for case is that pet), and "Luna" made cats/Luna/ again. Now the
    click sees that cats/ changed and asks for a reload, which offers Lulu."""
    root, serve = served
    write_image(root / "cats" / "Luna" / "plum.jpg", (200, 60, 200))
    client, stop, thread = serve()
    try:
        card = client.cards()["cat.jpg"]
        (root / "cats" / "Luna").rename(root / "cats" / "Lulu")
        before = layout(root)
        for typed in ("lulu", "Luna"):  # on the page loaded before
            body = {"id": card["id"], "to": "cat", "pet": typed, "generation": client.generation}
            assert client.json("POST", "/api/move", body) == (409, {"error": RELOAD}), typed
        assert layout(root) == before
        assert name(client, "cat.jpg", "lulu")[0] == 200  # reloaded (`cards`): she is Lulu
        assert (root / "cats" / "Lulu" / "cat.jpg").is_file()
        assert {p.name for p in (root / "cats").iterdir() if p.is_dir()} == {"Lulu"}
    finally:
        stopped(stop, thread)


def copied_here(root: Path) -> None:
    """The suggestions were noted before the folder was copied to this disk: its photos are told by size."""
    path = suggestions.path_of(root)
    data = json.loads(path.read_text())
    data["folder"] = [0, 0, 0]
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("renamed", [False, True])
def test_not_luna_stands_in_a_copied_folder_and_once_her_folder_is_renamed(tmp_path: Path, fake_model,
                                                                           renamed: bool) -> None:
    """The folder copied from another disk, Not Luna said on the page: the next page showed the
    photo in "Might be" again (her folder renamed cats/Lulu or not): the answer was kept, but the
    suggestion, noted by size, was not dropped with it."""
    root = left_in_place_might_be_luna(tmp_path / "roll", fake_model)
    copied_here(root)
    not_luna(root)
    if renamed:
        (root / "cats" / "Luna").rename(root / "cats" / "Lulu")
    client, stop, thread = start(root)
    try:
        assert client.cards()["garden.jpg"]["heading"][0] != "maybe"
    finally:
        stopped(stop, thread)


def test_not_luna_on_a_page_from_before_her_folder_was_renamed_asks_for_a_reload(tmp_path: Path,
                                                                                 fake_model) -> None:
    """cats/Luna renamed cats/Lulu by hand with the page open: "Not Luna" was refused as "another
    sorter changed the folder", which no sorter had. Now it says what changed, true whoever did it."""
    root = left_in_place_might_be_luna(tmp_path / "roll", fake_model)
    client, stop, thread = start(root)
    try:
        card = client.cards()["garden.jpg"]
        (root / "cats" / "Luna").rename(root / "cats" / "Lulu")
        assert client.move(card["id"], "neither") == (
            409, {"error": "the named pets' folders changed since this page was loaded; reload the page"})
        assert suggestions.read(root).refused == {}
        card = client.cards()["garden.jpg"]
        assert card["heading"] == ("maybe", "cats/Lulu/") and client.move(card["id"], "neither")[0] == 200
    finally:
        stopped(stop, thread)
