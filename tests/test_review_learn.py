"""The review page's Learn button says what `sorter learn` learnt, not only that it saved a model.

Corrections that would put reference pets in the wrong place are kept for the next learn, not
learnt: the page said "learnt from your corrections: sort and watch now use your personal
model" over a report that said they were not.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_learn import invoke, luna, photo, sorted_and_corrected
from test_review_server import browser_missing, chromium_page, make_folder, move, start

NOT_YET = "your 12 corrections are not learnt yet (see the report)"


def corrected_unsafely(root: Path, model: Path) -> Path:
    """12 plain dogs "corrected" to cats: whatever learns that misplaces reference dogs (as in
    test_learn's test_corrections_that_would_misplace_reference_pets_are_kept_not_learnt...)."""
    for i in range(12):
        photo(root / f"dog{i}.png", "dog", i)
    assert invoke("sort", root, "--model", model).exit_code == 0
    (root / "cats").mkdir()
    for i in range(12):
        os.rename(root / "dogs" / f"dog{i}.png", root / "cats" / f"dog{i}.png")
    return root


def name_luna(root: Path) -> None:
    for i in range(6):
        luna(root / "cats" / "Luna" / f"luna{i}.png", 50 + i)


def test_learns_answer_says_the_corrections_were_not_learnt_and_which_pets_were(tmp_path: Path, fake_model) -> None:
    root = corrected_unsafely(tmp_path / "roll", fake_model)
    client, stop, thread = start(root, fake_model)
    try:
        status, answer = client.json("POST", "/api/learn", {})
        assert status == 200, answer
        assert any(line.startswith("Your 12 corrections (cat/dog/neither) are not learnt yet") for line in answer["lines"])
        assert {k: answer[k] for k in ("saved", "corrections", "corrections_learnt", "pets")} == {
            "saved": True, "corrections": 12, "corrections_learnt": False, "pets": []}

        name_luna(root)
        status, answer = client.json("POST", "/api/learn", {})
        assert status == 200, answer
        assert {k: answer[k] for k in ("saved", "corrections", "corrections_learnt", "pets")} == {
            "saved": True, "corrections": 12, "corrections_learnt": False, "pets": ["Luna"]}
    finally:
        stop.set()
        thread.join(10)


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_the_line_under_learn_says_what_was_learnt_and_what_was_not(tmp_path: Path, fake_model) -> None:
    from playwright.sync_api import expect

    root = corrected_unsafely(tmp_path / "roll", fake_model)
    client, stop, thread = start(root, fake_model)
    try:
        with chromium_page(client.url) as page:
            learn = page.get_by_role("button", name="Learn from my corrections")
            learn.click()
            expect(page.get_by_role("region", name="what sorter learnt")).to_contain_text("not learnt yet")
            expect(page.locator("#status")).to_have_text(f"nothing learnt: {NOT_YET}")
            expect(page.locator("#status")).to_have_class("bad")

            name_luna(root)
            learn.click()
            expect(page.locator("#status")).to_have_text(f"Luna learnt; {NOT_YET}")
            expect(page.locator("#status")).not_to_have_class("bad")
    finally:
        stop.set()
        thread.join(10)


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_corrections_learnt_are_said_learnt_with_the_pets_named(tmp_path: Path, fake_model) -> None:
    from playwright.sync_api import expect

    root = sorted_and_corrected(tmp_path / "goats", fake_model)  # goats out of dogs/: no reference pet misplaced
    name_luna(root)
    client, stop, thread = start(root, fake_model)
    try:
        with chromium_page(client.url) as page:
            page.get_by_role("button", name="Learn from my corrections").click()
            expect(page.locator("#status")).to_have_text(
                "learnt your 6 corrections and Luna: sort and watch now use your personal model")
    finally:
        stop.set()
        thread.join(10)


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_on_a_phone_the_report_keeps_its_columns_and_the_chosen_card_shows_its_whole_name(
        tmp_path: Path, fake_model) -> None:
    """390 px wide: the report's table rows wrapped over three lines each, its columns lost, and
    a name cut with "…" was whole only in a tooltip a phone cannot show."""
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside)  # its long name: `<img src=x onerror=…>'&.jpg`
    client, stop, thread = start(root, fake_model)
    try:
        in_a_phone(client)
    finally:
        stop.set()
        thread.join(10)


def in_a_phone(client) -> None:
    from playwright.sync_api import expect

    assert move(client, "person.jpg", "neither")[0] == 200  # something to learn: the report has its table
    with chromium_page(client.url) as page:
        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_role("button", name="Learn from my corrections").click()
        expect(page.get_by_role("region", name="what sorter learnt")).to_contain_text("dog -> neither")
        rows = page.locator("#report pre .row")
        assert rows.count() >= 2  # the header and "dog -> neither"
        line = rows.first.evaluate("row => parseFloat(getComputedStyle(row).lineHeight)")
        assert all(height < 1.5 * line for height in rows.evaluate_all("rows => rows.map(r => r.offsetHeight)"))
        report = page.locator("#report pre")
        assert report.evaluate("pre => pre.scrollWidth > pre.clientWidth")  # it scrolls sideways instead
        sentence = report.locator("span:not(.row)").first  # "Found 1 photo you placed in …": wrapped to the page
        assert sentence.evaluate("s => s.offsetHeight") > 1.5 * line
        assert sentence.evaluate("s => s.scrollWidth <= s.clientWidth")

        card = page.locator("figure", has=page.locator(".name", has_text="onerror"))
        assert card.locator(".name").evaluate("n => n.scrollWidth > n.clientWidth")  # "<img src=x onerr…"
        whole = card.locator(".whole")
        expect(whole).to_be_hidden()
        place = "f => [f.offsetTop, f.offsetHeight, f.nextElementSibling && f.nextElementSibling.offsetTop]"
        box = card.evaluate(place)
        card.focus()
        expect(whole).to_be_visible()
        assert whole.evaluate("n => n.scrollWidth <= n.clientWidth") and whole.evaluate("n => n.offsetHeight") > 1.5 * line
        assert card.evaluate(place) == box  # over the picture: the row keeps its height, no card moves
