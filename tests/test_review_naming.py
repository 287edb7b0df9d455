"""`sorter review`'s "Name…": a photo into a named pet's folder (cats/Luna/) from the page.
The name is the one thing the page sends that becomes a path, so it must be one plain
folder name; the move is a correction like any other (journaled, undone, learnt as the
user's own example of that pet); the page shows each pet's folder as a group of its own.
Plain HTTP as in test_review_server.py, and once in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import layout, write_image
from test_review_server import Client, chromium_page, make_folder, runner, start, wait_for

from sorter.cli import app
from sorter.learning import corrections
from sorter.review.session import pet_folder_name


@pytest.fixture
def served(tmp_path: Path):
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside, extra=3)  # cat.jpg, cat-000..002.jpg in cats/
    client, stop, thread = start(root)
    yield client, root, outside
    stop.set()
    thread.join(10)


def name(client: Client, photo: str, pet, to: str = "cat"):
    card = client.cards()[photo]
    return client.json("POST", "/api/move", {"id": card["id"], "to": to, "pet": pet, "generation": client.generation})


def test_a_name_is_one_plain_folder_name() -> None:
    assert pet_folder_name("  Luna ") == "Luna"
    assert pet_folder_name("Mr. Whiskers (2)") == "Mr. Whiskers (2)"
    assert pet_folder_name("Zoe\u0301") == "Zo\u00e9"  # NFC: one folder whichever way it was typed
    assert pet_folder_name("\U0001f408\u200d\u2b1b Nox") == "\U0001f408\u200d\u2b1b Nox"  # an emoji's joiner is no control
    assert pet_folder_name("luna", {"Luna", "Rex"}) == "Luna"  # the pet already named, not a second folder
    path, dot, control = (
        "a pet's name is one folder's name: no / or \\", "a pet's name cannot start with a dot (a hidden folder)",
        "a pet's name cannot hold control characters",
    )
    refused = {
        "": "type the pet's name", "   ": "type the pet's name", "../x": path, "a\\b": path,
        ".": dot, "..": dot, ".sorter": dot, "Lu\x00na": control, "Lu\nna": control,
        "Lu\u202ena": control,  # a right-to-left override: a name that lies
        "L" * 65: "a pet's name is at most 64 characters", 7: "a pet's name is text",
    }
    for typed, why in refused.items():
        with pytest.raises(ValueError) as error:
            pet_folder_name(typed)
        assert str(error.value) == why, typed


def test_naming_moves_the_photo_into_its_pets_folder_journaled_and_undo_takes_it_back(served) -> None:
    client, root, _ = served
    sorted_layout = layout(root)
    status, answer = name(client, "cat.jpg", "Luna")
    assert status == 200 and (root / "cats" / "Luna" / "cat.jpg").is_file() and not (root / "cats" / "cat.jpg").exists()
    assert answer["photo"]["pet"] == "Luna" and answer["photo"]["path"] == "cats/Luna/cat.jpg"
    assert answer["pets"] == {"cat": ["Luna"], "dog": []}
    assert {g["title"]: g["count"] for g in answer["groups"]}["cats/Luna/"] == 1
    # Typed in another case, it is the same pet; the photo of a dog named as a cat moves to cats/.
    assert name(client, "cat-000.jpg", "luna")[0] == 200 and (root / "cats" / "Luna" / "cat-000.jpg").is_file()
    assert name(client, "cat.jpg", "Luna")[0] == 200  # already there: nothing to do
    # Learn reads them as the user's own examples of Luna.
    kinds = {f.path.name: f.kind for f in corrections.find(root)}
    assert kinds["cat.jpg"] == kinds["cat-000.jpg"] == "cat -> cats/Luna"
    # "Cat" takes a photo out of her folder: it is a cat, not Luna.
    cards = client.cards()
    assert client.move(cards["cat-000.jpg"]["id"], "cat")[0] == 200 and (root / "cats" / "cat-000.jpg").is_file()

    # Undo takes the session back newest first (cat-000.jpg moved twice), cats/Luna/ with it.
    result = runner.invoke(app, ["undo", str(root)])
    assert result.exit_code == 0 and "Restored 3 file(s)" in result.stdout
    assert without_journal(layout(root)) == without_journal(sorted_layout)


def without_journal(entries: dict) -> dict:
    return {path: what for path, what in entries.items() if path != ".sorter/journal.jsonl"}


def test_a_name_that_is_no_plain_folder_name_moves_nothing(served) -> None:
    client, root, outside = served
    (outside / "elsewhere").mkdir()
    (root / "cats" / "Evil").symlink_to(outside / "elsewhere")
    (root / "cats" / "Notes").write_text("a file, not a folder")
    sorted_layout = layout(root)
    for pet, why in [
        ("../../outside", "a pet's name is one folder's name: no / or \\"),
        ("..", "a pet's name cannot start with a dot (a hidden folder)"),
        ("", "type the pet's name"),
        ("Evil", "cats/Evil is not a folder"),
        ("Notes", "cats/Notes is not a folder"),
    ]:
        assert name(client, "cat.jpg", pet) == (409, {"error": why}), pet
    assert name(client, "tree.jpg", "Luna", to="neither") == (409, {"error": "only a cat or a dog is a named pet"})
    card = client.cards()["cat.jpg"]
    for body in ({"id": card["id"], "to": "cat", "pet": 7, "generation": client.generation},
                 {"id": card["id"], "to": "cat", "pet": ["Luna"], "generation": client.generation}):
        status, answer = client.json("POST", "/api/move", body)
        assert status == 400 and answer["error"].startswith("expected {")
    assert layout(root) == sorted_layout and list((outside / "elsewhere").iterdir()) == []


def test_a_pets_folder_shows_as_a_group_with_the_photos_put_there_by_hand(tmp_path: Path) -> None:
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside)
    write_image(root / "cats" / "Luna" / "by-hand.jpg", (255, 0, 0))
    (root / "dogs" / "Rex").mkdir()
    (root / "dogs" / ".hidden").mkdir()
    client, stop, thread = start(root)
    try:
        status, groups = client.json("GET", "/api/groups")
        assert status == 200 and groups["pets"] == {"cat": ["Luna"], "dog": ["Rex"]}
        cards = client.cards()
        assert cards["by-hand.jpg"]["heading"] == ("moved", "cats/Luna/") and cards["by-hand.jpg"]["pet"] == "Luna"
        assert cards["cat.jpg"]["pet"] is None
    finally:
        stop.set()
        thread.join(10)


def test_in_chromium_name_files_a_cat_as_luna_keys_typed_in_the_name_file_nothing(served) -> None:
    from playwright.sync_api import expect

    client, root, _ = served
    with chromium_page(client.url) as page:
        cat = page.locator("figure", has_text="cat.jpg").filter(has_not_text="cat-")
        cat.get_by_role("button", name="Name\u2026").click()
        field = cat.get_by_role("combobox", name="pet's name")
        expect(field).to_be_focused()
        field.press_sequentially("Luna cd")  # c and d are keys of the page: here they are letters
        field.press("Escape")  # closes the field, nothing moved
        expect(cat.get_by_role("combobox", name="pet's name")).to_have_count(0)
        assert (root / "cats" / "cat.jpg").is_file()

        page.keyboard.press("p")  # the focused card's field again
        field = cat.get_by_role("combobox", name="pet's name")
        field.fill("Luna")
        field.press("Enter")
        wait_for(root / "cats" / "Luna" / "cat.jpg")
        group = page.locator("section", has=page.get_by_role("heading", name="Moved to cats/Luna/"))
        named = group.locator("figure", has_text="cat.jpg")
        expect(named.get_by_role("button", name="cats/Luna/")).to_have_attribute("aria-pressed", "true")
        expect(named.get_by_role("button", name="Cat", exact=True)).to_have_attribute("aria-pressed", "false")
        expect(page.locator("datalist#pets-cat option")).to_have_attribute("value", "Luna")
        expect(named).to_contain_text("you: Luna")
        expect(page.get_by_role("status")).to_have_text(
            "cat.jpg is in cats/Luna/: 1 photo of Luna, name 5 or more to learn Luna")

        # The next card's field starts with the last name: p, Enter names it too.
        page.keyboard.press("p")
        field = page.locator("figure:focus-within").get_by_role("combobox", name="pet's name")
        expect(field).to_have_value("Luna")
        next_name = page.locator("figure:focus-within .name").text_content()
        field.press("Enter")
        wait_for(root / "cats" / "Luna" / next_name)

        expect(page.get_by_role("status")).to_contain_text("2 photos of Luna")  # the page has its answer
        page.keyboard.press("u")
        wait_for(root / "cats" / next_name)
        page.keyboard.press("u")
        wait_for(root / "cats" / "cat.jpg")
