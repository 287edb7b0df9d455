"""`u` on the review page takes back the last correction made on that page, as the page sends it
(which correction, and where the page shows its photo now): never another tab's, which this
page may never have shown, nor one an earlier browser made. Plain HTTP as two tabs, and Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import layout, write_image
from test_review_server import Client, browser_missing, chromium_page, make_folder, start
from typer.testing import CliRunner

from sorter.cli import app

runner = CliRunner()
RELOAD = "another page corrected it since; reload the page"


@pytest.fixture
def served(tmp_path: Path):
    """The review server of a sorted folder with two more cats, cats/cat-000.jpg and cats/cat-001.jpg."""
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    before = make_folder(root, outside, extra=2)
    client, stop, thread = start(root)
    yield client, root, before
    stop.set()
    thread.join(10)


def click(tab: Client, name: str, to: str, pet: str | None = None) -> None:
    """A button on `name`'s card as `tab` shows it (the page sends where it shows the photo)."""
    card = tab.cards()[name]
    body = {"id": card["id"], "to": to, "generation": tab.generation, "at": card["path"]}
    status, answer = tab.json("POST", "/api/move", body if pet is None else {**body, "pet": pet})
    assert status == 200, answer


def test_u_takes_back_this_pages_correction_not_the_one_another_tab_made_since(served) -> None:
    """Tab 1 files cat-000 in dogs/, tab 2 cat-001: tab 1's u took back tab 2's correction, which
    tab 1 never showed, and left its own. Each tab's u is its own; `sorter undo` after takes back
    what is left of the review's run, then the sort."""
    tab_1, root, before = served
    tab_2 = Client(tab_1.url)
    click(tab_1, "cat-000.jpg", "dog")
    click(tab_2, "cat-001.jpg", "dog")

    status, answer = tab_1.take_back()

    assert status == 200 and answer["photo"]["path"] == "cats/cat-000.jpg", answer
    assert (root / "cats" / "cat-000.jpg").is_file() and (root / "dogs" / "cat-001.jpg").is_file()
    assert tab_1.take_back() == (409, {"error": "nothing to take back on this page"})
    assert (root / "dogs" / "cat-001.jpg").is_file()
    result = runner.invoke(app, ["undo", str(root)])  # tab 2's correction, the review's run's last
    assert result.exit_code == 0 and (root / "cats" / "cat-001.jpg").is_file()
    assert runner.invoke(app, ["undo", str(root)]).exit_code == 0 and layout(root) == before


def test_u_after_another_tab_named_the_same_pet_takes_back_this_pages_naming(served) -> None:
    tab_1, root, _ = served
    tab_2 = Client(tab_1.url)
    click(tab_1, "cat-000.jpg", "cat", pet="Tom")
    click(tab_2, "cat-001.jpg", "cat", pet="tom")  # joins cats/Tom/
    assert (root / "cats" / "Tom" / "cat-001.jpg").is_file()

    status, answer = tab_1.take_back()

    assert status == 200 and answer["photo"]["path"] == "cats/cat-000.jpg", answer
    assert (root / "cats" / "cat-000.jpg").is_file() and (root / "cats" / "Tom" / "cat-001.jpg").is_file()


def test_undo_after_a_review_whose_only_correction_was_taken_back_says_so_not_an_earlier_undo(
        tmp_path: Path) -> None:
    """`sorter review` of a folder never sorted, one photo to dogs/, `u`, the review stopped: the
    next `sorter undo` said `an earlier undo put every file back and was stopped before it
    finished` of an undo that never ran. Now it says the page took the correction back (exit 0),
    and removes the .sorter/ the review left."""
    root = tmp_path / "pets"
    write_image(root / "a.jpg", (255, 0, 0))
    write_image(root / "b.jpg", (0, 0, 255), size=(64, 48))
    before = layout(root)
    tab, stop, thread = start(root)
    try:
        click(tab, "a.jpg", "dog")
        assert tab.take_back()[0] == 200
    finally:
        stop.set()
        thread.join(10)
    assert (root / ".sorter").is_dir()

    result = runner.invoke(app, ["undo", str(root)])

    assert (result.exit_code, result.stdout) == (0, f"Nothing left to undo in {root}: the review's corrections were "
                                                    "taken back on its page; removed the .sorter/ it left.\n")
    assert layout(root) == before


def test_a_page_that_made_no_correction_has_nothing_to_take_back(served) -> None:
    """A browser opened after another one, closed since, made a correction: its u took that back."""
    earlier, root, _ = served
    click(earlier, "cat-000.jpg", "dog")
    shown = layout(root)
    new = Client(earlier.url)
    new.cards()

    assert new.take_back() == (409, {"error": "nothing to take back on this page"})
    assert layout(root) == shown


def test_u_u_takes_back_this_pages_corrections_newest_first_and_no_other_tabs(served) -> None:
    tab_1, root, _ = served
    tab_2 = Client(tab_1.url)
    click(tab_1, "cat-000.jpg", "dog")
    click(tab_2, "cat-001.jpg", "dog")
    click(tab_1, "person.jpg", "cat")

    assert tab_1.take_back()[1]["photo"]["path"] == "dogs/person.jpg"
    assert tab_1.take_back()[1]["photo"]["path"] == "cats/cat-000.jpg"
    assert tab_1.take_back() == (409, {"error": "nothing to take back on this page"})
    assert (root / "dogs" / "cat-001.jpg").is_file()
    assert tab_2.take_back()[1]["photo"]["path"] == "cats/cat-001.jpg"


@pytest.mark.parametrize("others", [["neither"], ["cat", "dog"]], ids=["filed elsewhere", "filed away and back"])
def test_u_on_a_photo_another_tab_corrected_since_moves_nothing_and_the_next_u_is_the_one_before(
    served, others
) -> None:
    """Tab 1 files cat-000 then cat-001 in dogs/; tab 2 corrects cat-001 again (into the top, or
    to cats/ and back to dogs/, where tab 1 still shows it). Tab 1's u would put back from where
    tab 2 filed it, or undo tab 2's correction unseen: it moves nothing, and its next u is about
    its correction before."""
    tab_1, root, _ = served
    tab_2 = Client(tab_1.url)
    click(tab_1, "cat-000.jpg", "dog")
    click(tab_1, "cat-001.jpg", "dog")
    for to in others:
        click(tab_2, "cat-001.jpg", to)
    shown = layout(root)

    status, answer = tab_1.take_back()

    assert (status, answer) == (409, {"error": f"cannot take back cat-001.jpg: {RELOAD}", "dropped": True})
    assert layout(root) == shown
    assert tab_1.take_back()[1]["photo"]["path"] == "cats/cat-000.jpg"
    assert tab_1.take_back() == (409, {"error": "nothing to take back on this page"})


def test_u_naming_no_correction_of_this_listing_or_as_no_number_is_refused(served) -> None:
    client, root, _ = served
    click(client, "cat-000.jpg", "dog")
    number, photo = client.mine[-1]
    shown = layout(root)
    for body, said in [
        ({"correction": number, "at": "dogs/cat-000.jpg", "generation": "another listing"}, 409),
        ({"correction": str(number), "at": "dogs/cat-000.jpg", "generation": client.generation}, 400),
        ([number], 400),
    ]:
        assert client.json("POST", "/api/undo", body)[0] == said, body
    assert layout(root) == shown


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_u_in_each_tab_takes_back_that_tabs_correction(served) -> None:
    """The QA's two tabs: Dog on cat-000 in one, Dog on cat-001 in the other; u in the first said
    "took back: cat-001.jpg is in cats/ again", which it never showed. A reload keeps a tab's own
    (sessionStorage); a new tab has none."""
    from playwright.sync_api import expect

    client, root, _ = served
    with chromium_page(client.url) as tab_1:
        tab_2 = tab_1.context.browser.new_page()  # its own cookie, from the URL
        tab_2.goto(client.url)
        for tab, name in ((tab_1, "cat-000.jpg"), (tab_2, "cat-001.jpg")):
            tab.locator("figure", has_text=name).get_by_role("button", name="Dog", exact=True).click()
            expect(tab.locator("#status")).to_have_text(f"{name} is in dogs/")

        tab_1.keyboard.press("u")

        expect(tab_1.locator("#status")).to_have_text("took back: cat-000.jpg is in cats/ again")
        assert (root / "cats" / "cat-000.jpg").is_file() and (root / "dogs" / "cat-001.jpg").is_file()
        tab_1.keyboard.press("u")
        expect(tab_1.locator("#status")).to_have_text("nothing to take back on this page")
        tab_3 = tab_1.context.browser.new_page()
        tab_3.goto(client.url)
        expect(tab_3.locator("figure", has_text="cat-001.jpg")).to_have_count(1)
        tab_3.keyboard.press("u")
        expect(tab_3.locator("#status")).to_have_text("nothing to take back on this page")
        assert (root / "dogs" / "cat-001.jpg").is_file()
        tab_2.reload()
        expect(tab_2.locator("figure", has_text="cat-001.jpg")).to_have_count(1)
        tab_2.keyboard.press("u")
        expect(tab_2.locator("#status")).to_have_text("took back: cat-001.jpg is in cats/ again")
        assert (root / "cats" / "cat-001.jpg").is_file()
        tab_2.screenshot(path=str(root.parent / "tab_2.png"))


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_undo_last_correction_is_a_button_that_does_what_u_does(served) -> None:
    """`u` was the only way to take a correction back: a user who never read the key help, or on a
    touch screen, had none. "Undo last correction" beside Learn does what `u` does, with its
    messages; it is disabled, its title saying why, while this page has nothing to take back; Enter
    on it works as a click; the key help names it; a reload keeps what it can take back."""
    from playwright.sync_api import expect

    client, root, _ = served
    with chromium_page(client.url) as page:
        button = page.get_by_role("button", name="Undo last correction")
        expect(page.locator("figure", has_text="cat-000.jpg")).to_have_count(1)
        expect(button).to_be_disabled()
        expect(button).to_have_attribute("title", "nothing to take back on this page: no correction made here yet")
        expect(page.locator("p.keys")).to_contain_text("u (Undo last correction) takes back this page's last correction")

        page.locator("figure", has_text="cat-000.jpg").get_by_role("button", name="Dog", exact=True).click()
        expect(page.locator("#status")).to_have_text("cat-000.jpg is in dogs/")
        expect(button).to_be_enabled()
        expect(button).to_have_attribute("title", "take back this page's last correction, dogs/cat-000.jpg (key u)")
        page.screenshot(path=str(root.parent / "take-back.png"))
        button.click()

        expect(page.locator("#status")).to_have_text("took back: cat-000.jpg is in cats/ again")
        assert (root / "cats" / "cat-000.jpg").is_file() and not (root / "dogs" / "cat-000.jpg").exists()
        expect(button).to_be_disabled()

        # Two corrections, a reload (the page keeps its own), then Enter on the button: the last.
        for name in ("cat-000.jpg", "cat-001.jpg"):
            page.locator("figure", has_text=name).get_by_role("button", name="Dog", exact=True).click()
            expect(page.locator("#status")).to_have_text(f"{name} is in dogs/")
        page.reload()
        expect(button).to_be_enabled()
        button.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_have_text("took back: cat-001.jpg is in cats/ again")
        assert (root / "cats" / "cat-001.jpg").is_file() and (root / "dogs" / "cat-000.jpg").is_file()
        expect(button).to_have_attribute("title", "take back this page's last correction, dogs/cat-000.jpg (key u)")
        button.click()
        expect(page.locator("#status")).to_have_text("took back: cat-000.jpg is in cats/ again")
        expect(button).to_be_disabled()
        assert (root / "cats" / "cat-000.jpg").is_file()
        page.set_viewport_size({"width": 390, "height": 700})  # a phone: the button where a thumb finds it
        page.screenshot(path=str(root.parent / "taken-back-phone.png"))
