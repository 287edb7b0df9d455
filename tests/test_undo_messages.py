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

import pytest
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


#: An undo of ROOT (argv[1]) in a process that SIGKILLs itself as it removes `.sorter/`, every
#: photo back and its journal renamed `journal.undone` already: at its Nth removal (argv[2]) of a
#: file or folder from then on, before the removal, as `strace -e inject=unlinkat:signal=KILL:when=N`
#: does. No handler, no clean-up.
_KILLED_AS_IT_REMOVES_SORTERS_FOLDER = """
import os, pathlib, signal, sys
from sorter.files import undo

at = int(sys.argv[2])
removals = 0
renamed = False
replace, unlink, rmdir = os.replace, os.unlink, os.rmdir

def replaced(src, dst, *args, **kwargs):
    global renamed
    replace(src, dst, *args, **kwargs)
    renamed = renamed or os.fspath(dst).endswith("journal.undone")

def killed_at(remove):
    def removing(path, *args, **kwargs):
        global removals
        removals += renamed
        if removals == at:
            os.kill(os.getpid(), signal.SIGKILL)
        return remove(path, *args, **kwargs)
    return removing

os.replace, os.unlink, os.rmdir = replaced, killed_at(unlink), killed_at(rmdir)
undo.undo(pathlib.Path(sys.argv[1]))
"""


def killed_as_it_removes_sorters_folder(root: Path, at: int) -> list[str]:
    """`sorter undo` of `root` killed at its `at`th removal once every photo is back (its lock, the
    review page, `journal.undone`, then `.sorter/` itself): what it left in `.sorter/`."""
    killed = subprocess.run([sys.executable, "-c", _KILLED_AS_IT_REMOVES_SORTERS_FOLDER, str(root), str(at)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    return sorted(os.listdir(root / ".sorter"))


@pytest.mark.parametrize("at", [1, 2, 3, 4])
def test_the_undo_after_one_killed_as_it_removed_sorters_folder_says_every_file_was_put_back(
        tmp_path: Path, at: int) -> None:
    # QA: killed at ~500 ms, all 210 photos back; the next undo said "Error: nothing to undo in DIR
    # (no photo was moved); removed the .sorter/ it left", exit 2. Then, with the journal renamed
    # journal.undone, the same after a kill as it removed the lock or the review page
    # (`strace ... when=2`, `when=3`) or the empty .sorter/: journal.undone went first. It goes last
    # now, and an empty .sorter/ is an undo's (a sort killed before its journal leaves its lock).
    write_image(tmp_path / "rex.jpg", RED)
    write_image(tmp_path / "tom.jpg", BLUE)
    original = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    assert sorted(os.listdir(tmp_path / ".sorter")) == ["journal.jsonl", "lock", "review.html"]

    left = killed_as_it_removes_sorters_folder(tmp_path, at)
    again = runner.invoke(app, ["undo", str(tmp_path)])

    assert (again.exit_code, again.stdout, again.stderr) == (
        0, f"Nothing left to undo in {tmp_path}: an earlier undo put every file back and was stopped before it "
           "finished; removed the .sorter/ it left.\n", ""), again.output
    assert layout(tmp_path) == original
    # What the kill left: journal.undone while any file is, then an empty .sorter/ (at its rmdir).
    assert len(left) == 4 - at and (not left or "journal.undone" in left), left


def test_on_exfat_the_undo_after_one_killed_as_it_removed_sorters_folder_says_it_removed_it(
        exfat_card: Path) -> None:
    # exfat-fuse keeps the lock file this undo removed as a hidden file while it is open: .sorter/
    # goes once the lock is let go, and the line, decided before, left out "; removed the .sorter/
    # it left" (and so did "no photo was moved", for a sort's lock alone), .sorter/ gone all the same.
    folder, never_moved = exfat_card / "g1", exfat_card / "g2"
    write_image(folder / "tom.jpg", BLUE)
    original = layout(folder)
    sort_folder(folder, classifier=FakeClassifier())
    killed_as_it_removes_sorters_folder(folder, 1)
    write_image(never_moved / "rex.jpg", RED)
    (never_moved / ".sorter").mkdir()
    (never_moved / ".sorter" / "lock").write_text("4242        ")  # a sort killed before its journal

    again = runner.invoke(app, ["undo", str(folder)])
    nothing = runner.invoke(app, ["undo", str(never_moved)])

    assert (again.exit_code, again.stdout) == (
        0, f"Nothing left to undo in {folder}: an earlier undo put every file back and was stopped before it "
           "finished; removed the .sorter/ it left.\n"), again.output
    assert (nothing.exit_code, nothing.stderr) == (
        2, f"Error: nothing to undo in {never_moved} (no photo was moved); removed the .sorter/ it left\n"
    ), nothing.output
    assert layout(folder) == original and sorted(os.listdir(never_moved)) == ["rex.jpg"]


def test_the_undo_after_a_sort_killed_before_its_journal_says_no_photo_was_moved(tmp_path: Path) -> None:
    # A .sorter/ holding only a lock: a sort killed before its journal was made. True, and kept so.
    write_image(tmp_path / "rex.jpg", RED)
    original = layout(tmp_path)
    (tmp_path / ".sorter").mkdir()
    (tmp_path / ".sorter" / "lock").write_text("4242        ")

    undo = runner.invoke(app, ["undo", str(tmp_path)])

    assert (undo.exit_code, undo.stderr) == (
        2, f"Error: nothing to undo in {tmp_path} (no photo was moved); removed the .sorter/ it left\n"), undo.output
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


def test_undo_with_no_journal_names_the_folder_as_typed_as_its_other_refusals_do(tmp_path: Path, monkeypatch) -> None:
    # It said "Error: nothing to undo: /tmp/.../card/cf has no sorter journal" where the refusals
    # before it name the folder as typed ("card/cg/.sorter exists ...", "folder not found: card/cx").
    monkeypatch.chdir(tmp_path)
    (tmp_path / "card" / "cf").mkdir(parents=True)
    (tmp_path / "card" / "cg").mkdir()
    (tmp_path / "card" / "cg" / ".sorter").write_text("a file, not sorter's folder")

    nothing = runner.invoke(app, ["undo", "card/cf"])
    refused = runner.invoke(app, ["undo", "card/cg"])
    not_found = runner.invoke(app, ["undo", "card/cx"])

    assert (nothing.exit_code, nothing.stderr) == (2, "Error: nothing to undo: card/cf has no sorter journal\n")
    assert (refused.exit_code, refused.stderr) == (
        2, "Error: card/cg/.sorter exists and is not a folder; rename it so sorter can use it\n")
    assert (not_found.exit_code, not_found.stderr) == (2, "Error: folder not found: card/cx\n")


def test_a_folder_removed_or_renamed_since_the_sort_is_made_again_and_said(tmp_path: Path) -> None:
    # Undo puts a photo back where the sort found it, making its folder again where it is gone: it
    # did so without a word, and a user who had renamed 2018/05 to 2018/May found an empty May/
    # beside a new 05/ holding the photos.
    for n in range(3):
        write_image(tmp_path / "2018" / "05" / f"c{n}.jpg", (255, 0, 0), size=(10 + n, 10))
    write_image(tmp_path / "2019" / "c.jpg", (255, 0, 0))
    sort_folder(tmp_path, classifier=FakeClassifier(), recursive=True)
    os.rename(tmp_path / "2018" / "05", tmp_path / "2018" / "May")

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Restored 4 files from 1 run in {tmp_path}.",
        "made again: 2018/05/ (gone since sorter moved its photos out; they are back in it)"]
    assert sorted(os.listdir(tmp_path / "2018" / "05")) == ["c0.jpg", "c1.jpg", "c2.jpg"]
    assert os.listdir(tmp_path / "2018" / "May") == []


def test_an_undo_that_cannot_remove_a_file_in_sorter_s_folder_warns_and_the_next_says_it_put_every_file_back(
        tmp_path: Path) -> None:
    # `chattr +i .sorter/review.html`: the undo said "Restored 1 file" alone, exit 0, no word of
    # the .sorter/ it left; the next said `Error: nothing to undo in DIR (no photo was moved)`, exit 2.
    write_image(tmp_path / "rex.jpg", RED)
    sort_folder(tmp_path, classifier=FakeClassifier())
    page = tmp_path / ".sorter" / "review.html"
    page.touch()
    if subprocess.run(["chattr", "+i", page], capture_output=True).returncode != 0:
        pytest.skip("no immutable files here (chattr +i needs root and ext4, xfs or btrfs)")
    try:
        undone = runner.invoke(app, ["undo", str(tmp_path)])
        again = runner.invoke(app, ["undo", str(tmp_path)])
        assert layout(tmp_path).keys() == {"rex.jpg", ".sorter", ".sorter/review.html", ".sorter/journal.undone"}
    finally:
        subprocess.run(["chattr", "-i", page], check=True)
    warning = (f"warning: {tmp_path / '.sorter'} is left: Operation not permitted (every move is undone; "
               "remove it by hand)\n")
    assert (undone.exit_code, undone.stdout, undone.stderr) == (
        0, f"Restored 1 file from 1 run in {tmp_path}.\n", warning), undone.output
    assert (again.exit_code, again.stdout, again.stderr) == (
        0, f"Nothing left to undo in {tmp_path}: an earlier undo put every file back.\n", warning), again.output
    last = runner.invoke(app, ["undo", str(tmp_path)])  # once it can go, it goes
    assert (last.exit_code, last.stdout) == (
        0, f"Nothing left to undo in {tmp_path}: an earlier undo put every file back and was stopped before it "
           "finished; removed the .sorter/ it left.\n"), last.output
    assert layout(tmp_path).keys() == {"rex.jpg"}


def test_a_move_whose_journal_names_a_path_outside_the_folder_is_said_kept_once(tmp_path: Path) -> None:
    # A journal doctored to move `../rex.jpg`: undo said it "kept: ...; never acted on", counted it
    # "(1 kept in place)", and also warned "1 move of what was undone could not be read back from
    # the damaged journal": one move reported twice, as two.
    write_image(tmp_path / "rex.jpg", RED)
    write_image(tmp_path / "tom.jpg", BLUE)
    sort_folder(tmp_path, classifier=FakeClassifier())
    journal = tmp_path / ".sorter" / "journal.jsonl"
    journal.write_text(journal.read_text().replace('"src": "rex.jpg"', '"src": "../rex.jpg"'))

    undone = runner.invoke(app, ["undo", str(tmp_path)])

    assert (undone.exit_code, undone.stdout, undone.stderr) == (
        0, f"Restored 1 file from 1 run in {tmp_path} (1 kept in place).\n",
        "kept: ../rex.jpg -> dogs/rex.jpg: a path outside the folder in the journal; never acted on\n"), undone.output
    assert sorted(os.listdir(tmp_path)) == [".sorter", "dogs", "tom.jpg"]
    assert os.listdir(tmp_path / "dogs") == ["rex.jpg"]
    again = runner.invoke(app, ["undo", str(tmp_path)])  # the journal is all that says it moved: kept
    assert (again.exit_code, again.stderr) == (2, f"Error: nothing to undo in {tmp_path}\n"), again.output
    assert journal.exists()
