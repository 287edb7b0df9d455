"""What `sorter undo` says where its words were wrong, though nothing was lost (QA): an undo a full
disk stopped before it put anything back, the undo after one SIGKILLed as it removed `.sorter/`,
and a file named `Cats` (not a folder) on a case-insensitive card."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import REPO, FakeClassifier, FullDisk, layout, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.sorting.sort import sort_folder

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red is a dog, blue a cat
runner = CliRunner()


class FullInItsIntents(FullDisk):
    """A disk that fills up part way through the undo's first chunk of "unmove" intents, as a tmpfs
    with 28 KB free did: the write takes what fits (the first intent's first bytes), then nothing."""

    def write(self, fd: int, data) -> int:
        if self.cut:
            raise OSError(errno.ENOSPC, "No space left on device")
        at = bytes(data).find(b'{"op": "unmove"')
        if at < 0:
            return os.write(fd, data)
        self.cut = True
        return os.write(fd, bytes(data[:at + 40]))


def test_an_undo_a_full_disk_stopped_before_it_put_anything_back_says_nothing_was_put_back(
        tmp_path: Path, monkeypatch) -> None:
    # It said "what it put back before is journaled, and the next sorter command settles it once
    # there is room", every photo still in cats/ and dogs/: the torn intent was taken for a move.
    from sorter.files import journal_writer

    write_image(tmp_path / "rex.jpg", RED)
    write_image(tmp_path / "tom.jpg", BLUE)
    original = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    sorted_ = layout(tmp_path)
    monkeypatch.setattr(journal_writer, "os", FullInItsIntents())

    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (stopped.exit_code, stopped.stderr) == (
        1, f"Error: {tmp_path / '.sorter' / 'journal.jsonl'}: No space left on device; nothing was put back\n"
    ), stopped.output
    assert {k: v for k, v in layout(tmp_path).items() if not k.startswith(".sorter")} == {
        k: v for k, v in sorted_.items() if not k.startswith(".sorter")}
    monkeypatch.undo()
    again = runner.invoke(app, ["undo", str(tmp_path), "--all"])  # room again: the torn intent is no move
    assert (again.exit_code, again.stdout) == (0, f"Restored 2 files from 1 run in {tmp_path}.\n"), again.output
    assert layout(tmp_path) == original


#: An undo of ROOT in a process that SIGKILLs itself as it removes `.sorter/`, every photo back
#: and its journal gone already: no handler, no clean-up.
_KILLED_AS_IT_REMOVES_SORTERS_FOLDER = """
import os, pathlib, signal, sys
from sorter.files import tidying, undo

def rmtree(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

tidying.shutil.rmtree = rmtree
undo.undo(pathlib.Path(sys.argv[1]))
"""


def test_the_undo_after_one_killed_as_it_removed_sorters_folder_says_every_file_was_put_back(
        tmp_path: Path) -> None:
    # QA: killed at ~500 ms, all 210 photos back; the next undo said "Error: nothing to undo in DIR
    # (no photo was moved); removed the .sorter/ it left", exit 2. The journal was gone, and
    # .sorter/ was all there was to tell from: as a sort's that never moved a photo.
    write_image(tmp_path / "rex.jpg", RED)
    write_image(tmp_path / "tom.jpg", BLUE)
    original = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    killed = subprocess.run([sys.executable, "-c", _KILLED_AS_IT_REMOVES_SORTERS_FOLDER, str(tmp_path)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert sorted(os.listdir(tmp_path)) == [".sorter", "rex.jpg", "tom.jpg"]
    assert not (tmp_path / ".sorter" / "journal.jsonl").exists()

    again = runner.invoke(app, ["undo", str(tmp_path)])

    assert (again.exit_code, again.stdout, again.stderr) == (
        0, f"Nothing left to undo in {tmp_path}: an earlier undo put every file back and was stopped before it "
           "finished; removed the .sorter/ it left.\n", ""), again.output
    assert layout(tmp_path) == original


def test_a_file_named_cats_on_exfat_is_named_as_on_the_card_and_undo_with_nothing_to_undo_says_so(
        exfat_card: Path) -> None:
    # On a case-insensitive card DIR/cats is the file Cats: sort and undo both said "Error:
    # DIR/cats exists and is not a folder", a name not on the card, and undo said it though it
    # had nothing to undo, and needed no cats/.
    folder = exfat_card / "g1"
    write_image(folder / "tom.jpg", BLUE)
    (folder / "Cats").write_text("a file, not a folder")
    before = layout(folder)

    sort = runner.invoke(app, ["sort", str(folder)])
    undo = runner.invoke(app, ["undo", str(folder)])

    assert (sort.exit_code, sort.stderr) == (
        2, f"Error: {folder / 'Cats'} exists and is not a folder; rename it so sorter can use it\n"), sort.output
    assert (undo.exit_code, undo.stderr) == (
        2, f"Error: nothing to undo: {folder} has no sorter journal\n"), undo.output
    assert layout(folder) == before


def test_undo_with_nothing_to_undo_needs_no_cats_folder(tmp_path: Path) -> None:
    # Any disk: a file named cats, never sorted. Undo said "DIR/cats exists and is not a folder".
    (tmp_path / "cats").write_text("a file, not a folder")

    undo = runner.invoke(app, ["undo", str(tmp_path)])

    assert (undo.exit_code, undo.stderr) == (2, f"Error: nothing to undo: {tmp_path} has no sorter journal\n")


def test_undo_with_a_journal_refuses_a_file_named_cats_and_says_why(exfat_card: Path) -> None:
    # With a journal, undo takes photos back out of cats/ (and recovery may finish a move into
    # it): refused, saying so, and naming the file as the card does.
    folder = exfat_card / "g1"
    write_image(folder / "tom.jpg", BLUE)
    sort_folder(folder, classifier=FakeClassifier())
    (folder / "cats").rename(folder / "kept by hand")
    (folder / "Cats").write_text("a file, not a folder")

    undo = runner.invoke(app, ["undo", str(folder)])

    assert (undo.exit_code, undo.stderr) == (
        2, f"Error: {folder / 'Cats'} exists and is not a folder, where undo looks for the photos sorter moved "
           "into cats/; rename it so sorter can use it\n"), undo.output
    assert (folder / "kept by hand" / "tom.jpg").is_file() and (folder / ".sorter" / "journal.jsonl").is_file()
