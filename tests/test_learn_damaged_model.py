"""A personal.npz that does not read, however it fails to, is one damaged model: `sorter learn`
fits it again from the examples and says so, sort says so in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import npy_bytes
from test_learn import invoke, new_photos, sorted_and_corrected

from sorter.model import personal


@pytest.mark.parametrize("content, why", [
    (b"", "EOFError: No data left in file"),
    (bytes(range(200)), "not a file `sorter learn` wrote"),
    (npy_bytes(), "not a file `sorter learn` wrote"),
], ids=["empty", "random", "npy"])
def test_a_personal_model_emptied_or_replaced_is_learnt_again_and_refused_by_sort(tmp_path: Path, fake_model,
                                                                                    content: bytes, why: str) -> None:
    """`: > personal.npz` after a learn: the next learn printed a blank line and "Aborted." (exit 1,
    nothing learnt), np.load's EOFError escaping the check for a fit to reuse. Now an empty file is
    damaged as a truncated one is: learnt again, said in one line; sort refuses it in one line."""
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    assert invoke("learn", roll, "--model", fake_model).exit_code == 0
    model = personal.model_file()
    model.write_bytes(content)

    refused = invoke("sort", new_photos(tmp_path / "later"), "--model", fake_model, "--dry-run")
    assert (refused.exit_code, refused.stderr) == (
        1, f"Error: {model}: damaged personal model ({why}); delete it with `sorter learn --forget`\n")

    again = invoke("learn", roll, "--model", fake_model)

    assert again.exit_code == 0 and again.stderr == "", again.output
    assert again.stdout.splitlines()[0] == (f"The saved personal model {model} was damaged ({why}); learnt it again "
                                            "from your examples.")
    assert personal.read_model() is not None
