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
from test_review_server import browser_missing, chromium_page, start

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
