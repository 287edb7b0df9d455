"""Confidence that means what it says: the temperature fitted on validation photos, the
expected calibration error, what --min-confidence moves, and the float head of a model."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from sorter.errors import ModelError
from sorter.model.lite import read_head, softmax, write_head
from sorter.training.augment import crop_view, scene_view, scenes_for_validation
from sorter.training.evaluate import coverage_table, expected_calibration_error, fit_temperature, measure
from sorter.training.holdout import safe_default, threshold_table
from sorter.training.scoring import Scored

NAMES = ("cat", "dog", "other")


def overconfident(n: int = 4000, true_temperature: float = 3.0, seed: int = 0) -> Scored:
    """Photos whose labels are drawn from softmax(z / 3) while the model says softmax(z):
    a model three times too sure of itself."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 4, (n, 3))
    truth = softmax(logits, true_temperature)
    true = np.array([rng.choice(3, p=row) for row in truth])
    return Scored([Path(f"{i}.jpg") for i in range(n)], true, softmax(logits), NAMES, ["x"] * n, [])


def test_the_fitted_temperature_undoes_overconfidence() -> None:
    scored = overconfident()
    before = expected_calibration_error(scored)
    temperature = fit_temperature(scored)
    after = expected_calibration_error(scored.with_temperature(temperature))
    assert temperature == pytest.approx(3.0, rel=0.15)
    assert before > 0.1 and after < 0.03
    # A temperature changes no decision: the same class wins for every photo.
    assert (scored.with_temperature(temperature).probabilities.argmax(1) == scored.probabilities.argmax(1)).all()


def test_coverage_counts_what_moves_and_what_is_wrong_among_it() -> None:
    probabilities = np.array([[0.97, 0.02, 0.01],  # a sure cat, right
                              [0.85, 0.10, 0.05],  # a cat at 85 %, really a dog
                              [0.60, 0.30, 0.10],  # an unsure cat, right
                              [0.05, 0.05, 0.90]])  # neither: never moved
    scored = Scored([Path(f"{i}") for i in range(4)], np.array([0, 1, 0, 2]), probabilities, NAMES, ["x"] * 4, [])
    table = {c.min_confidence: (c.moved, c.error_among_moved) for c in coverage_table(scored)}
    assert table == {0.5: (0.75, pytest.approx(1 / 3)), 0.8: (0.5, 0.5), 0.9: (0.25, 0.0), 0.95: (0.25, 0.0)}
    result = measure(scored)
    assert [(k.kind, k.n, k.right) for k in result.by_kind] == [("x", 4, 3)]


def test_a_head_round_trips_and_a_damaged_one_is_one_line(tmp_path: Path) -> None:
    head = tmp_path / "m.head.npz"
    write_head(head, np.ones((8, 3)), np.zeros(3), 1.7)
    kernel, bias, temperature = read_head(head)
    assert kernel.shape == (8, 3) and bias.shape == (3,) and temperature == pytest.approx(1.7)
    head.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match=r"m\.head\.npz: unreadable model head"):
        read_head(head)
    np.savez(head, kernel=np.ones((8, 3)), bias=np.zeros(4), temperature=1.0)
    with pytest.raises(ModelError, match="not a sorter model head"):
        read_head(head)


def test_training_views_keep_the_input_contract_and_are_seeded() -> None:
    rng = np.random.default_rng(0)
    pet, scene = (rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(2))
    for view in (crop_view(pet, random.Random(1), (0.1, 1.0)), scene_view([pet, pet], scene, random.Random(1), fence=1.0)):
        assert view.shape == (64, 64, 3) and view.dtype == np.uint8
    assert (scene_view([pet], scene, random.Random(5)) == scene_view([pet], scene, random.Random(5))).all()
    composed = scenes_for_validation([(pet, 0), (pet, 1)], [scene], seed=3)
    assert [label for _, label in composed] == [0, 1]


def scored(rows: list[tuple[str, str, float]]) -> Scored:
    """(true label, predicted label, confidence) per photo, as a Scored."""
    probabilities = np.array([[c if n == predicted else (1 - c) / 2 for n in NAMES] for _, predicted, c in rows])
    true = np.array([NAMES.index(t) for t, _, _ in rows])
    return Scored([Path(f"{i}.jpg") for i in range(len(rows))], true, probabilities, NAMES, ["x"] * len(rows), [])


def test_a_default_min_confidence_is_safe_only_if_it_keeps_half_the_mistakes_and_loses_at_most_one_pet_in_100() -> None:
    # 200 pets: 198 sure of themselves, one at 0.65, one at 0.85; and a non-pet among them,
    # which does not count as a pet.
    pets = scored([("cat", "cat", 0.99)] * 198 + [("dog", "dog", 0.65), ("cat", "dog", 0.85), ("other", "other", 0.9)])
    # The hold-out's non-pets: four filed as pets (at 0.55, 0.65, 0.72, 0.95), the rest left in place.
    held = scored([("other", "dog", 0.55), ("other", "cat", 0.65), ("other", "dog", 0.72), ("other", "dog", 0.95)]
                  + [("other", "other", 0.9)] * 10)
    rows = {t.min_confidence: t for t in threshold_table(pets, held)}
    assert rows[0.5].mistakes_kept == 0 and rows[0.5].pets_unsure == 0
    assert rows[0.6].mistakes_kept == 0.25 and rows[0.6].pets_unsure == 0
    assert rows[0.7].mistakes_kept == 0.5 and rows[0.7].pets_unsure == 0.005 and rows[0.7].safe
    assert rows[0.9].mistakes_kept == 0.75 and rows[0.9].pets_unsure == 0.01 and rows[0.9].n_pets == 200
    assert safe_default(list(rows.values())) == 0.7
    assert rows[0.7].line() == ("--min-confidence 0.70: 50% of the hold-out's 4 mistakes left in place, "
                                "0.5% of the pets unsure (safe)")
    # Every pet filed under 0.6: no threshold above 0.5 is safe.
    assert safe_default(threshold_table(scored([("cat", "cat", 0.55)] * 10), held)) is None
