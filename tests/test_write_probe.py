"""Whether a folder can be written is tried, not asked (`folder.cannot_write`): a file with no
name where the filesystem has one (`O_TMPFILE`), else a hidden file made and removed at once.
On a real exFAT card (exfat-fuse, which has no unnamed file; as root, skipped otherwise) no
way out of that try leaves the hidden file in the user's folder: a kill, a Ctrl-C as it is made
or closed, a removal the disk refuses."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FakeClassifier, ctrl_c_at, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.files.folder import PROBE_NAME, cannot_write
from sorter.model import lite

BLUE = (255, 0, 0)  # BGR: the fake says blue = cat
runner = CliRunner()

#: The try of ROOT in a process that SIGKILLs itself between the probe's making and its removal.
_KILLED_TRY = """
import os, signal
from pathlib import Path
from sorter.files import folder

class Os:
    def __getattr__(self, name):
        return getattr(os, name)

    def close(self, fd):
        os.kill(os.getpid(), signal.SIGKILL)

folder.os = Os()
folder.cannot_write(Path({root!r}))
"""


def test_a_card_tried_by_a_sort_killed_meanwhile_is_left_clean_by_the_next_sort(exfat_card: Path,
                                                                               monkeypatch) -> None:
    # The probe had a random name (`.sorter-k2j4x9ab`): killed before its removal, it stayed on
    # the card for good, and no later command looked for it.
    photo = write_image(exfat_card / "IMG_1.jpg", BLUE).read_bytes()
    killed = subprocess.run([sys.executable, "-c", _KILLED_TRY.format(root=str(exfat_card))],
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert sorted(os.listdir(exfat_card)) == [PROBE_NAME, "IMG_1.jpg"]  # what the kill left

    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    result = runner.invoke(app, ["sort", str(exfat_card)])

    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(exfat_card)) == [".sorter", "cats"]
    assert os.listdir(exfat_card / "cats") == ["IMG_1.jpg"] and (exfat_card / "cats" / "IMG_1.jpg").read_bytes() == photo


@pytest.mark.parametrize("where", ["open", "close"], ids=["as-it-is-made", "before-its-removal"])
def test_a_ctrl_c_while_a_card_is_tried_leaves_no_hidden_file(exfat_card: Path, monkeypatch, where: str) -> None:
    # Ctrl-C as the probe's open returned (call 2: the first is the unnamed file's, refused), or
    # as it was closed: the interrupt went on its way and the probe stayed.
    real = getattr(os, where)
    monkeypatch.setattr(os, where, ctrl_c_at(real, 2 if where == "open" else 1, after=True))
    with pytest.raises(KeyboardInterrupt):
        cannot_write(exfat_card)
    monkeypatch.setattr(os, where, real)
    assert os.listdir(exfat_card) == []


def test_a_probe_the_card_would_not_remove_is_said_and_removed_by_the_next_try(exfat_card: Path,
                                                                              monkeypatch) -> None:
    # A card's I/O error as the probe was removed escaped as an OSError, and the probe stayed.
    # (Simulated: a real exFAT card will not refuse one removal on cue.) Photos could not leave
    # such a folder either: the error is the answer, and the next try removes what is left.
    real = os.unlink

    def refused(path, *args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(path))

    monkeypatch.setattr(os, "unlink", refused)
    assert cannot_write(exfat_card) == "Input/output error"
    monkeypatch.setattr(os, "unlink", real)
    assert os.listdir(exfat_card) == [PROBE_NAME]
    assert cannot_write(exfat_card) is None and os.listdir(exfat_card) == []


def test_a_users_own_file_by_the_probes_name_stays(exfat_card: Path) -> None:
    (exfat_card / PROBE_NAME).write_bytes(b"the user's")
    assert cannot_write(exfat_card) is None
    assert os.listdir(exfat_card) == [PROBE_NAME] and (exfat_card / PROBE_NAME).read_bytes() == b"the user's"


def test_learn_removes_a_probe_a_killed_command_left_and_leaves_none_of_its_own(exfat_card: Path, fake_model) -> None:
    """`sorter learn` tried only the card's `.sorter/`, never the card itself: a probe a killed
    sort left beside the photos stayed there through every learn, where the next sort or undo
    removes it. Learn removes it as they do (`folder.remove_probe_left`), and one a kill left in
    `.sorter/` goes with its own try."""
    from test_learn import invoke, sorted_and_corrected

    sorted_and_corrected(exfat_card, fake_model)
    for where in (exfat_card, exfat_card / ".sorter"):
        killed = subprocess.run([sys.executable, "-c", _KILLED_TRY.format(root=str(where))],
                                capture_output=True, text=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert PROBE_NAME in os.listdir(where)  # what the kill left

    result = invoke("learn", exfat_card, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert "6 new" in result.stdout
    assert [str(p.relative_to(exfat_card)) for p in exfat_card.rglob(PROBE_NAME)] == []
