"""`sorter learn` names a pet only where the model's reference set holds enough other animals of
her species to tell her from (`pets.MIN_REFERENCE`): a model trained on 20 photos has 2 cats
there, one of them the only stranger her folder was checked against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import FeatureFake, photo_array
from test_learn import invoke, luna_filed

from sorter.learning.pets import MIN_REFERENCE
from sorter.model import personal
from sorter.training.reference import Reference, write_reference


def small_reference(model: Path, cats: int) -> None:
    """The model's reference set with only `cats` cats (and 100 dogs and non-pets), as `sorter
    train --limit 20` writes of its few validation photos."""
    rng = np.random.default_rng(1)
    counts = {"cat": cats, "dog": 100, "other": 100}
    features = np.concatenate([FeatureFake().run(np.stack([photo_array(kind, rng) for _ in range(n)]))
                               for kind, n in counts.items()])
    write_reference(model.with_suffix(".reference.npz"),
                    Reference(features, np.repeat(np.arange(3), list(counts.values())), ("cat", "dog", "other")))


def test_a_named_pet_is_not_learnt_against_a_reference_set_of_two_cats(tmp_path: Path, fake_model) -> None:
    """QA: `cats/Luna: 5 photos, would find 2 of 5 held out; 1 of 1 other cats taken for it`, then
    `Saved …`: her folder checked against one stranger, which it took. Now she is said not learnt,
    with why and what helps, and nothing is saved."""
    small_reference(fake_model, cats=2)
    roll = luna_filed(tmp_path / "roll", fake_model)

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0 and result.stderr == "", result.output
    lines = result.stdout.splitlines()
    assert ("cats/Luna: 6 photos; not learnt: this model's reference set has only 2 cats to tell it from "
            f"({MIN_REFERENCE} or more: train it with more photos, or a larger --validation-split)") in lines, result.stdout
    assert "other cats taken" not in result.stdout
    assert lines[-1] == (f"Nothing learnt, so nothing was saved: sort, watch and evaluate go on with model {fake_model} "
                         "alone.")
    assert not personal.personal_dir().exists()


def test_a_named_pet_is_learnt_once_the_reference_set_holds_enough_cats(tmp_path: Path, fake_model) -> None:
    """At MIN_REFERENCE cats (100: 50 strangers in the half no fit sees) she is learnt, and her
    line says how many of those 50 her folder would take."""
    small_reference(fake_model, cats=MIN_REFERENCE)
    roll = luna_filed(tmp_path / "roll", fake_model)

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0 and result.stderr == "", result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("cats/Luna: ")]
    assert line.startswith("cats/Luna: 6 photos, would find ") and line.endswith(" other cats taken for it"), line
    assert f" of {MIN_REFERENCE // 2} other cats taken" in line
    assert personal.model_file().is_file()
