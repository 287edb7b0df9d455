"""What `sorter learn` counts once the user renamed or removed a named pet's folder (found by a QA
pass): a renamed pet's photos are not new, and the "not him" answers of a pet no longer learnt
are no row of the table. Set up as in test_review_naming."""

from __future__ import annotations

from pathlib import Path

from test_learn import invoke
from test_review_naming import sorted_with_near_misses, start


def rows(out: str) -> set[str]:
    return {" ".join(line.split()[:3]) for line in out.splitlines()}


def test_a_renamed_pets_photos_are_said_renamed_not_new(tmp_path: Path, fake_model) -> None:
    # After `mv cats/Luna cats/Lulu` alone it said "Found 6 photo(s) you placed in … (6 new)".
    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    (root / "cats" / "Luna").rename(root / "cats" / "Lulu")

    learnt = invoke("learn", root, "--model", fake_model)

    assert learnt.exit_code == 0, learnt.output
    assert learnt.stdout.splitlines()[0].startswith(
        f"Found 6 photos you placed in {root} (0 new, 6 renamed with cats/Luna → cats/Lulu)"), learnt.stdout


def test_not_him_answers_of_a_pet_no_longer_learnt_are_no_row(tmp_path: Path, fake_model) -> None:
    # With cats/Luna moved out of the folder, the table still had "cats/Luna -> cat   1".
    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    client, stop, thread = start(root)
    try:
        status, answer = client.move(client.cards()["closer.png"]["id"], "cat")  # not Luna
        assert status == 200, answer
    finally:
        stop.set()
        thread.join(10)
    assert "cats/Luna -> cat" in rows(invoke("learn", root, "--model", fake_model).stdout)
    (root / "cats" / "Luna").rename(tmp_path / "Luna")  # the user removed the pet

    learnt = invoke("learn", root, "--model", fake_model)

    assert learnt.exit_code == 0, learnt.output
    assert "cats/Luna -> cat" not in rows(learnt.stdout), learnt.stdout
    assert "cats/Luna" not in learnt.stdout, learnt.stdout
