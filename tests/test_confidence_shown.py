"""A confidence is cut, never rounded up, wherever sorter shows or keeps it: 100% is exactly
1.0, and a photo shown at 99% is never said to be below a --min-confidence it was shown at."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from conftest import ThreeClassFake, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite
from sorter.review.session import Session
from sorter.wording import at_most, percent

BLUE, GREEN = (255, 0, 0), (0, 255, 0)  # BGR: blue is a cat, green neither
runner = CliRunner(env={"COLUMNS": "160"})


class AlmostSure(ThreeClassFake):
    """ThreeClassFake, but never quite sure: its cats and its neithers are 0.99996."""

    def predict(self, batch):
        sure = np.asarray(super().predict(batch), np.float64)
        top = sure.argmax(axis=1)
        almost = np.full_like(sure, 0.00002)
        almost[np.arange(len(sure)), top] = 0.99996
        return almost.astype(np.float64)


def two_almost_sure_photos(root: Path, monkeypatch) -> Path:
    write_image(root / "photo-03.jpg", BLUE)
    write_image(root / "photo-10.jpg", GREEN)
    monkeypatch.setattr(lite, "load_classifier", lambda model: AlmostSure())
    return root


def test_a_confidence_just_under_1_is_shown_as_99_percent_and_below_a_threshold_of_1(tmp_path: Path,
                                                                                      monkeypatch) -> None:
    """QA: `sort -n -v` said `neither: photo-10.jpg (100%)` for 0.9999, and `--min-confidence 1`
    then `unsure: photo-03.jpg (cat): confidence 99.9% below --min-confidence 100%`."""
    root = two_almost_sure_photos(tmp_path, monkeypatch)

    plain = runner.invoke(app, ["sort", str(root), "-n", "-v"])
    strict = runner.invoke(app, ["sort", str(root), "-n", "-v", "--min-confidence", "1"])

    assert plain.exit_code == 0 and strict.exit_code == 0, plain.output + strict.output
    assert "would move photo-03.jpg -> cats/photo-03.jpg (cat, 99%)" in plain.stderr
    assert "neither: photo-10.jpg (99%): not a cat or a dog" in plain.stderr
    assert "unsure: photo-03.jpg (cat): confidence 99.9% below --min-confidence 100%" in strict.stderr
    assert "100%)" not in plain.stderr + strict.stderr


def test_the_log_the_journal_and_the_review_pages_never_round_a_confidence_up(tmp_path: Path,
                                                                             monkeypatch) -> None:
    """Rounded, 0.99996 was kept as 1.0 in the journal and shown as 100.0% on both review pages."""
    root = two_almost_sure_photos(tmp_path / "pets", monkeypatch)
    log = tmp_path / "sort.log"

    result = runner.invoke(app, ["sort", str(root), "--log-file", str(log)])

    assert result.exit_code == 0, result.output
    lines = log.read_text()
    assert "moved photo-03.jpg -> cats/photo-03.jpg (cat, 99%)" in lines
    assert "neither: photo-10.jpg (99%): not a cat or a dog" in lines
    records = [json.loads(line) for line in (root / ".sorter" / "journal.jsonl").read_text().splitlines()]
    kept = {r.get("src") or r.get("path"): r["confidence"] for r in records if "confidence" in r}
    assert kept and set(kept.values()) == {0.9999}, kept
    page = (root / ".sorter" / "review.html").read_text()
    assert "cat 99.9%" in page and "neither 99.9%" in page and "100.0%" not in page
    session = Session(root)
    try:
        shown = {Path(p.path).name: session.card(p)["shown"] for p in session.catalog.photos}
    finally:
        session.close()
    assert shown == {"photo-03.jpg": "99.9%", "photo-10.jpg": "99.9%"}


def test_a_percentage_is_cut_at_its_last_digit() -> None:
    assert [percent(c) for c in (1.0, 0.99996, 0.9999, 0.995, 0.29, 0.0)] == ["100%", "99%", "99%", "99%", "29%", "0%"]
    assert [percent(c, 1) for c in (1.0, 0.99996, 0.9698, 0.6078)] == ["100.0%", "99.9%", "96.9%", "60.7%"]
    assert (at_most(0.99996), at_most(0.96996), at_most(0.6078), at_most(1.0)) == (0.9999, 0.9699, 0.6078, 1.0)
