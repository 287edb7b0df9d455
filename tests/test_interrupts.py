"""Ctrl-C part way: what each command that moves photos says, and that nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, FakeClassifier, ctrl_c_at, tree, write_image
from test_watch import noise_jpeg

from sorter.sorting.sort import sort_folder


@pytest.mark.parametrize(("stop", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_in_a_sort_says_what_moved_and_how_to_undo_it(tmp_path: Path, tiny_model: Path, stop, status) -> None:
    # SIGTERM (`timeout`, a service manager's stop) ended it at once, without a word.
    folder = tmp_path / "w eird ü"
    folder.mkdir()
    for i in range(400):
        (folder / f"p{i:03}.jpg").write_bytes(noise_jpeg(i, 32))
    before = tree(folder)
    journal = folder / ".sorter" / "journal.jsonl"
    sort = subprocess.Popen([sys.executable, "-m", "sorter", "sort", str(folder), "--model", str(tiny_model)],
                            cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    deadline = time.monotonic() + 60
    while not (journal.is_file() and b'"op": "done"' in journal.read_bytes()) and time.monotonic() < deadline:
        time.sleep(0.005)
    sort.send_signal(stop)
    stdout, stderr = sort.communicate(timeout=60)
    moved = sum(1 for kind in ("cats", "dogs") if (folder / kind).is_dir() for _ in (folder / kind).iterdir())
    assert sort.returncode == status, stderr
    assert 0 < moved < 400, "the sort ended before Ctrl-C: give it more photos"
    assert stderr.splitlines()[-2:] == [f"Interrupted: moved {moved} file{'s' * (moved != 1)} before it stopped.",
                                        f"Undo with: sorter undo '{folder}'"]
    assert "Traceback" not in stderr and stdout == ""
    undo = subprocess.run([sys.executable, "-m", "sorter", "undo", str(folder)], cwd=REPO, text=True,
                          capture_output=True, timeout=60)
    assert undo.returncode == 0, undo.stderr
    assert f"Restored {moved} file{'s' * (moved != 1)} from 1 run" in undo.stdout
    assert tree(folder) == before


def test_a_ctrl_c_a_finalizer_dropped_still_stops_the_sort(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C landed as a finalizer ran in the main thread: its KeyboardInterrupt was printed as
    "Exception ignored ... KeyboardInterrupt:" and dropped, and the sort went on to its end,
    status 0 (QA, once). The handlers `cli.main` sets (`sigterm_as_ctrl_c`) note each Ctrl-C, and
    the sort stops at the next photo it files, as at any other Ctrl-C."""
    from typer.testing import CliRunner

    from sorter import signals
    from sorter.cli import app
    from sorter.model import lite

    for i in range(200):  # three batches of moves and more
        write_image(tmp_path / f"rex{i:03}.png", (0, 0, 255))
    before = tree(tmp_path)
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    monkeypatch.setattr(signals, "_INTERRUPTED", [])
    # SIGHUP too: with the whole command's handlers, the command ignores it once it returns.
    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    signals.sigterm_as_ctrl_c()
    try:
        try:  # as in a finalizer: the handler ran, and its KeyboardInterrupt went nowhere
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            pass
        result = CliRunner().invoke(app, ["sort", str(tmp_path)])
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
        signal.signal(signal.SIGHUP, previous[2])
    assert result.exit_code == 130, result.output
    moved = sum(len(os.listdir(tmp_path / kind)) for kind in ("cats", "dogs") if (tmp_path / kind).is_dir())
    assert moved < 200, "sorted on to its end"  # stopped with the first batch's moves
    assert result.stderr.splitlines()[-2:] == [f"Interrupted: moved {moved} file{'s' * (moved != 1)} before it stopped.",
                                               f"Undo with: sorter undo {tmp_path}"]
    assert CliRunner().invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert tree(tmp_path) == before


def test_ctrl_c_in_an_undo_says_how_many_it_put_back_and_that_undo_again_puts_back_the_rest(tmp_path: Path) -> None:
    # It said "Interrupted part way: what it put back is journaled, and the next sorter command
    # settles it": not how many were back, nor what to do about the rest.
    folder = tmp_path / "my pets"
    folder.mkdir()
    cat, dog = (write_image(tmp_path / f"{kind}.jpg", colour).read_bytes() for kind, colour in
                (("cat", (255, 0, 0)), ("dog", (0, 0, 255))))
    for i in range(3000):  # three of undo's chunks of 1,024 moves: Ctrl-C comes after the first
        (folder / f"p{i:04}.jpg").write_bytes(cat if i % 2 else dog)
    before = tree(folder)
    sort_folder(folder, classifier=FakeClassifier())
    journal = folder / ".sorter" / "journal.jsonl"
    sorted_to = journal.stat().st_size
    undo = subprocess.Popen([sys.executable, "-m", "sorter", "undo", str(folder), "--all"], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open(journal, "rb") as f:
            f.seek(sorted_to)
            if b'{"op": "undo"' in f.read():
                break
        time.sleep(0.005)
    undo.send_signal(signal.SIGINT)
    stdout, stderr = undo.communicate(timeout=60)
    back = sum(1 for name in os.listdir(folder) if name.endswith(".jpg"))
    assert undo.returncode == 130, stderr
    assert 0 < back < 3000, "the undo ended before Ctrl-C: give it more photos"
    assert stderr.splitlines() == [f"Interrupted: put back {back:,} of 3,000 files; sorter undo '{folder}' --all "
                                   "puts back the rest."]
    assert stdout == ""
    again = subprocess.run([sys.executable, "-m", "sorter", "undo", str(folder), "--all"], cwd=REPO, text=True,
                           capture_output=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert f"Restored {3000 - back:,} files from 1 run" in again.stdout
    assert tree(folder) == before and not (folder / "cats").exists() and not (folder / ".sorter").exists()


def test_an_undo_stopped_as_it_finished_is_finished_by_the_next_which_says_what_it_removed(
        tmp_path: Path, monkeypatch) -> None:
    # Ctrl-C once every photo was back, before it removed the folders sorter made: "Interrupted as
    # it finished: put back 1 of 1 file(s); none is left to put back.", an empty dogs/ and .sorter/
    # left, not said. The next undo removed them, then said "Error: nothing to undo in DIR" (exit 2).
    from conftest import layout
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import undo as restore

    runner = CliRunner()
    write_image(tmp_path / "rex.jpg", (0, 0, 255))  # BGR: the fake says red is a dog
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())

    monkeypatch.setattr(restore, "_remove_if_empty", ctrl_c_at(restore._remove_if_empty, 1))
    stopped = runner.invoke(app, ["undo", str(tmp_path)])
    monkeypatch.undo()
    assert (stopped.exit_code, stopped.stderr) == (
        130, f"Interrupted as it finished: put back 1 of 1 file; none is left to put back, and sorter undo "
             f"{tmp_path} removes the .sorter/ and dogs/ it left.\n"), stopped.output
    assert sorted(os.listdir(tmp_path)) == [".sorter", "dogs", "rex.jpg"] and not os.listdir(tmp_path / "dogs")

    again = runner.invoke(app, ["undo", str(tmp_path)])

    assert (again.exit_code, again.stdout, again.stderr) == (
        0, f"Nothing left to undo in {tmp_path}: an earlier undo put every file back and was stopped before it "
           "finished; removed the .sorter/ and dogs/ it left.\n", ""), again.output
    assert layout(tmp_path) == before
    # Then, as after any undo that finished: there is nothing to undo.
    last = runner.invoke(app, ["undo", str(tmp_path)])
    assert (last.exit_code, last.stderr) == (2, f"Error: nothing to undo: {tmp_path} has no sorter journal\n")


def test_an_undo_stopped_part_way_lists_the_files_it_found_gone_before_its_interrupted_line(
        tmp_path: Path, monkeypatch) -> None:
    # A file found gone is journaled so, and no undo looks for it again: an undo Ctrl-C stopped
    # never said "missing: ..." of those it had found, so no one ever did.
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import moves

    runner = CliRunner()
    red = (0, 0, 255)  # BGR: the fake says red is a dog
    write_image(tmp_path / "rex.jpg", red)
    sort_folder(tmp_path, classifier=FakeClassifier())
    for name in ("fido.jpg", "spot.jpg"):
        write_image(tmp_path / name, red)
    sort_folder(tmp_path, classifier=FakeClassifier())
    (tmp_path / "dogs" / "spot.jpg").unlink()  # deleted since it was sorted
    # fido is back, spot found gone; then rex's run, the older
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 2))
    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])
    monkeypatch.undo()

    assert stopped.exit_code == 130, stopped.output
    assert stopped.stderr.splitlines() == [
        "missing: dogs/spot.jpg: no longer there (was spot.jpg)",
        f"Interrupted: put back 1 of 3 files (1 missing); sorter undo {tmp_path} --all puts back the rest."]
    again = runner.invoke(app, ["undo", str(tmp_path), "--all"])
    assert (again.exit_code, again.stdout, again.stderr) == (
        0, f"Restored 1 file from 1 run in {tmp_path}.\n", ""), again.output  # spot is not said again
    assert sorted(os.listdir(tmp_path)) == ["fido.jpg", "rex.jpg"]


def two_sorts_then_moved_on_and_gone(folder: Path, *more: str) -> None:
    """rex.jpg sorted, then fido.jpg and spot.jpg (and `more`) by a newer sort; since then
    dogs/fido.jpg was filed into dogs/2019/ and dogs/spot.jpg deleted."""
    red = (0, 0, 255)  # BGR: the fake says red is a dog
    write_image(folder / "rex.jpg", red)
    sort_folder(folder, classifier=FakeClassifier())
    for i, name in enumerate(("fido.jpg", "spot.jpg", *more)):  # no two of one size: each told apart
        write_image(folder / name, red, size=(8 * (i + 2), 8))
    sort_folder(folder, classifier=FakeClassifier())
    (folder / "dogs" / "2019").mkdir()
    os.rename(folder / "dogs" / "fido.jpg", folder / "dogs" / "2019" / "fido.jpg")
    (folder / "dogs" / "spot.jpg").unlink()


def test_an_undo_stopped_part_way_says_where_it_found_the_photos_it_put_back_from_elsewhere(
        tmp_path: Path, monkeypatch) -> None:
    # A photo moved on since the sort is put back from where it is found, and said so once:
    # "found: ...". An undo Ctrl-C stopped never said it, and no later undo does, the photo being
    # back. Ctrl-C lands as fido lands back, before its chunk's marks: the stopped undo settles
    # it put back, and says where it was found; spot's "missing" comes with the next undo, which
    # looks for it again as its "gone" was not journaled yet.
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import moves

    runner = CliRunner()
    two_sorts_then_moved_on_and_gone(tmp_path)
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 1, after=True))
    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])
    monkeypatch.undo()

    assert (stopped.exit_code, stopped.stdout, stopped.stderr) == (
        130, "found: dogs/fido.jpg: moved to dogs/2019/fido.jpg since; put back from there to fido.jpg\n",
        f"Interrupted: put back 1 of 3 files; sorter undo {tmp_path} --all puts back the rest.\n"), stopped.output
    again = runner.invoke(app, ["undo", str(tmp_path), "--all"])
    assert (again.exit_code, again.stdout, again.stderr) == (
        0, f"Restored 1 file from 1 run in {tmp_path} (1 missing).\n",  # fido is not said again, nor spot's run counted
        "missing: dogs/spot.jpg: no longer there (was spot.jpg)\n"), again.output
    assert sorted(os.listdir(tmp_path)) == ["dogs", "fido.jpg", "rex.jpg"]  # dogs/2019/ is the user's


def test_an_undo_stopped_part_way_counts_the_files_found_gone_or_back_apart_from_those_it_put_back(
        tmp_path: Path, monkeypatch) -> None:
    # "Interrupted: put back 1 of 4 file(s)" counted spot, found gone, and bolt, put back by
    # hand, in the 4: the numbers did not add up. Ctrl-C lands at the older run's move, once the
    # newer run's chunk is journaled.
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import moves

    runner = CliRunner()
    two_sorts_then_moved_on_and_gone(tmp_path, "bolt.jpg")
    os.rename(tmp_path / "dogs" / "bolt.jpg", tmp_path / "bolt.jpg")  # put back by hand
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 2))
    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])
    monkeypatch.undo()

    assert (stopped.exit_code, stopped.stdout, stopped.stderr.splitlines()) == (
        130, "found: dogs/fido.jpg: moved to dogs/2019/fido.jpg since; put back from there to fido.jpg\n",
        ["missing: dogs/spot.jpg: no longer there (was spot.jpg)",
         f"Interrupted: put back 1 of 4 files (1 already back where it was, 1 missing); sorter undo {tmp_path} "
         "--all puts back the rest."]), stopped.output


def test_an_undo_stopped_part_way_counts_a_photo_left_in_a_folder_of_yours_apart_from_the_missing(
        tmp_path: Path, monkeypatch) -> None:
    # max.jpg, found taken into best/ (a folder of the user's own) and left there, was counted
    # "missing" in the Interrupted line: "(2 missing)", beside its own "found: ... left there".
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import moves

    runner = CliRunner()
    two_sorts_then_moved_on_and_gone(tmp_path, "max.jpg")
    (tmp_path / "best").mkdir()
    os.rename(tmp_path / "dogs" / "max.jpg", tmp_path / "best" / "max.jpg")
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 2))  # rex's, the older run
    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])
    monkeypatch.undo()

    assert (stopped.exit_code, stopped.stdout.splitlines(), stopped.stderr.splitlines()) == (
        130, ["found: dogs/max.jpg: moved to best/max.jpg since, into a folder of yours; left there (was max.jpg)",
              "found: dogs/fido.jpg: moved to dogs/2019/fido.jpg since; put back from there to fido.jpg"],
        ["missing: dogs/spot.jpg: no longer there (was spot.jpg)",
         f"Interrupted: put back 1 of 4 files (1 missing, 1 left in a folder of yours); sorter undo {tmp_path} "
         "--all puts back the rest."]), stopped.output
    again = runner.invoke(app, ["undo", str(tmp_path), "--all"])
    assert (again.exit_code, again.stdout, again.stderr) == (  # none of them is said again
        0, f"Restored 1 file from 1 run in {tmp_path}.\n", ""), again.output
    assert sorted(os.listdir(tmp_path)) == ["best", "dogs", "fido.jpg", "rex.jpg"]


def test_an_undo_stopped_before_its_found_lines_are_journaled_leaves_them_to_the_next_undo(
        tmp_path: Path, monkeypatch) -> None:
    # Ctrl-C landed as fido, found in dogs/2019/, was to be moved back: the stopped undo said
    # "found: ... put back from there to fido.jpg" of a photo still in dogs/2019/, and "found:
    # ... left there" of max, whose "gone" was not journaled yet; then "Interrupted: nothing was
    # put back.", and the next undo said both again. Each is said once, by the undo that did it.
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import moves

    runner = CliRunner()
    red = (0, 0, 255)  # BGR: the fake says red is a dog
    for i, name in enumerate(("fido.jpg", "max.jpg")):
        write_image(tmp_path / name, red, size=(8 * (i + 1), 8))
    sort_folder(tmp_path, classifier=FakeClassifier())
    (tmp_path / "dogs" / "2019").mkdir()
    os.rename(tmp_path / "dogs" / "fido.jpg", tmp_path / "dogs" / "2019" / "fido.jpg")
    (tmp_path / "best").mkdir()
    os.rename(tmp_path / "dogs" / "max.jpg", tmp_path / "best" / "max.jpg")
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 1))  # fido's
    stopped = runner.invoke(app, ["undo", str(tmp_path)])
    monkeypatch.undo()

    assert (stopped.exit_code, stopped.stdout, stopped.stderr) == (
        130, "", "Interrupted: nothing was put back.\n"), stopped.output
    assert (tmp_path / "dogs" / "2019" / "fido.jpg").is_file()
    again = runner.invoke(app, ["undo", str(tmp_path)])
    assert (again.exit_code, again.stdout.splitlines(), again.stderr) == (0, [
        "found: dogs/max.jpg: moved to best/max.jpg since, into a folder of yours; left there (was max.jpg)",
        "found: dogs/fido.jpg: moved to dogs/2019/fido.jpg since; put back from there to fido.jpg",
        f"Restored 1 file from 1 run in {tmp_path} (1 left in a folder of yours)."], ""), again.output


def test_an_undo_stopped_part_way_does_not_count_what_an_earlier_undo_had_put_back(
        tmp_path: Path, monkeypatch) -> None:
    # An undo killed part way (power cut, kill -9) had put a.jpg back, unjournaled; the next
    # undo's recovery journaled it, and that undo, stopped by Ctrl-C, counted it as its own:
    # "put back 1 of 2 file(s) (1 already back where they were)", of b.jpg and c.jpg only.
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import moves
    from sorter.files import undo as restore

    for i, name in enumerate(("a.jpg", "b.jpg", "c.jpg")):
        write_image(tmp_path / name, (0, 0, 255), size=(8 * (i + 1), 8))
    sort_folder(tmp_path, classifier=FakeClassifier())
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 1, after=True))
    with pytest.raises(KeyboardInterrupt):  # killed: nothing settles what it was doing
        restore.undo(tmp_path)
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 2))
    stopped = CliRunner().invoke(app, ["undo", str(tmp_path)])
    monkeypatch.undo()

    assert len([name for name in os.listdir(tmp_path) if name.endswith(".jpg")]) == 2
    assert (stopped.exit_code, stopped.stdout, stopped.stderr) == (
        130, "", f"Interrupted: put back 1 of 2 files; sorter undo {tmp_path} puts back the rest.\n"), stopped.output


def test_an_undo_stopped_as_it_finished_with_another_run_left_says_none_is_left_to_put_back(
        tmp_path: Path, monkeypatch) -> None:
    # Only where nothing at all is left to undo does the next undo remove .sorter/: not here,
    # where the next plain undo takes back rex's run.
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import undo as restore

    runner = CliRunner()
    write_image(tmp_path / "rex.jpg", (0, 0, 255))
    sort_folder(tmp_path, classifier=FakeClassifier())
    write_image(tmp_path / "fido.jpg", (0, 0, 255), size=(16, 8))
    sort_folder(tmp_path, classifier=FakeClassifier())

    monkeypatch.setattr(restore, "_remove_if_empty", ctrl_c_at(restore._remove_if_empty, 1))
    stopped = runner.invoke(app, ["undo", str(tmp_path)])
    monkeypatch.undo()

    assert (stopped.exit_code, stopped.stderr) == (
        130, "Interrupted as it finished: put back 1 of 1 file; none is left to put back.\n"), stopped.output
    again = runner.invoke(app, ["undo", str(tmp_path)])
    assert (again.exit_code, again.stdout) == (0, f"Restored 1 file from 1 run in {tmp_path}.\n"), again.output


class _CtrlCAfterTheWalkCloses:
    """`os` as `files.moves` sees it, but for a Ctrl-C that lands just after the walk down to a
    move's folder (`moves.open_folder_beneath`) has closed the folder above, the `at`-th time:
    Python raises it there, as the C call returns."""

    def __init__(self, at: int) -> None:
        self.at, self.closes = at, 0

    def __getattr__(self, name: str):
        return getattr(os, name)

    def close(self, fd: int) -> None:
        os.close(fd)
        if sys._getframe(1).f_code.co_name == "open_folder_beneath":
            self.closes += 1
            if self.closes == self.at:
                raise KeyboardInterrupt


def test_ctrl_c_just_as_an_undo_opens_a_folder_stops_it_and_leaves_no_descriptor_open(
        tmp_path: Path, monkeypatch) -> None:
    # The walk closed the folder above, then took the one below; Ctrl-C between the two had the
    # closed one closed again: "kept: dogs/b.jpg: cannot move back (Bad file descriptor)", the
    # interrupt swallowed and the undo on to "Restored 2 file(s)", exit 0, one photo left in dogs/.
    from conftest import layout
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import moves

    runner = CliRunner()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        write_image(tmp_path / name, (0, 0, 255))  # BGR: the fake says red is a dog
    before = layout(tmp_path)
    sort_folder(tmp_path, classifier=FakeClassifier())
    open_before = len(os.listdir("/proc/self/fd"))

    monkeypatch.setattr(moves, "os", _CtrlCAfterTheWalkCloses(at=2))  # the second photo's move
    stopped = runner.invoke(app, ["undo", str(tmp_path)])
    monkeypatch.undo()

    assert (stopped.exit_code, stopped.stdout, stopped.stderr) == (
        130, "", f"Interrupted: put back 1 of 3 files; sorter undo {tmp_path} puts back the rest.\n"), stopped.output
    assert len(os.listdir("/proc/self/fd")) == open_before  # the folder below was closed on the way out
    again = runner.invoke(app, ["undo", str(tmp_path)])
    assert (again.exit_code, again.stdout, again.stderr) == (
        0, f"Restored 2 files from 1 run in {tmp_path}.\n", ""), again.output
    assert layout(tmp_path) == before


def test_a_ctrl_c_whose_clean_up_fails_still_stops_the_undo(tmp_path: Path, monkeypatch) -> None:
    # An error raised while a Ctrl-C unwinds a move (a descriptor that would not close, a copy
    # across disks that could not be removed) was taken for that file's failure to move back:
    # "kept: ...", and the undo went on as if no Ctrl-C had come, to exit 0.

    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import moves

    runner = CliRunner()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        write_image(tmp_path / name, (0, 0, 255))
    sort_folder(tmp_path, classifier=FakeClassifier())
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 2, clean_up_fails=True))
    stopped = runner.invoke(app, ["undo", str(tmp_path)])
    monkeypatch.undo()

    assert (stopped.exit_code, stopped.stdout, stopped.stderr) == (
        130, "", f"Interrupted: put back 1 of 3 files; sorter undo {tmp_path} puts back the rest.\n"), stopped.output
    again = runner.invoke(app, ["undo", str(tmp_path)])
    assert (again.exit_code, again.stdout) == (0, f"Restored 2 files from 1 run in {tmp_path}.\n"), again.output
    assert sorted(os.listdir(tmp_path)) == ["a.jpg", "b.jpg", "c.jpg"]


class _CtrlCAsItIsClosed:
    """`os` as the modules it is set in see it, but for a Ctrl-C that lands just as the first
    descriptor open on `file` (its inode: the name may be another file by then) is closed:
    Python raises it there, as the C call returns."""

    def __init__(self, file: Path) -> None:
        self.inode, self.landed = os.stat(file).st_ino, False

    def __getattr__(self, name: str):
        return getattr(os, name)

    def close(self, fd: int) -> None:
        here = not self.landed and os.fstat(fd).st_ino == self.inode
        os.close(fd)
        if here:
            self.landed = True
            raise KeyboardInterrupt


@pytest.mark.parametrize("shared", ["lock", "journal.jsonl"])
def test_ctrl_c_as_an_undo_lets_go_of_a_linked_copys_file_stops_it_and_holds_nothing(
        tmp_path: Path, monkeypatch, shared: str) -> None:
    # In a folder copied with hard links (`cp -al`), `.sorter/lock` and the journal are made the
    # folder's own before sorter writes them: a copy, then the shared file's descriptor closed.
    # A Ctrl-C just after that close had it closed again: "Bad file descriptor" in place of the
    # interrupt, exit 1, and the copy of the lock left open and locked, so the next undo was
    # refused: "another sorter (pid ...) is working on A".
    from test_undo_copies import linked_copy
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import journal, journal_writer, lock, state_links

    runner = CliRunner()
    a = tmp_path / "A"
    a.mkdir()
    for name in ("a.jpg", "b.jpg"):
        write_image(a / name, (0, 0, 255))  # BGR: the fake says red is a dog
    before = tree(a)
    sort_folder(a, classifier=FakeClassifier())
    b = linked_copy(a, tmp_path / "B")
    sorted_b = (tree(b), (b / ".sorter" / "journal.jsonl").read_bytes())
    open_before = len(os.listdir("/proc/self/fd"))

    fake = _CtrlCAsItIsClosed(a / ".sorter" / shared)
    for module in (state_links, lock, journal, journal_writer):
        monkeypatch.setattr(module, "os", fake)
    stopped = runner.invoke(app, ["undo", str(a)])
    monkeypatch.undo()

    assert fake.landed
    assert (stopped.exit_code, stopped.stdout, stopped.stderr) == (
        130, "", "Interrupted: nothing was put back.\n"), stopped.output
    assert len(os.listdir("/proc/self/fd")) == open_before  # the copy was closed on the way out
    again = runner.invoke(app, ["undo", str(a)])
    assert (again.exit_code, again.stdout, again.stderr) == (
        0, f"Restored 2 files from 1 run in {a}.\n", ""), again.output
    assert tree(a) == before
    assert (tree(b), (b / ".sorter" / "journal.jsonl").read_bytes()) == sorted_b  # the copy keeps its own


def test_ctrl_c_as_a_watch_lets_go_of_a_linked_copys_watching_file_leaves_it_free(tmp_path: Path, monkeypatch) -> None:
    # The same for `.sorter/watching`, made the folder's own as a watch starts: "Bad file
    # descriptor" in place of the interrupt, and the copy left open and locked, refusing the next watch.
    from test_undo_copies import linked_copy

    from sorter.files import lock, state_links, watching_note
    from sorter.files.watching_note import Watching

    a = tmp_path / "A"
    a.mkdir()
    first = Watching(a)
    first.acquire()
    first.release()
    linked_copy(a, tmp_path / "B")
    open_before = len(os.listdir("/proc/self/fd"))

    fake = _CtrlCAsItIsClosed(a / ".sorter" / "watching")
    for module in (state_links, lock, watching_note):
        monkeypatch.setattr(module, "os", fake)
    with pytest.raises(KeyboardInterrupt):
        Watching(a).acquire()
    monkeypatch.undo()

    assert fake.landed
    assert len(os.listdir("/proc/self/fd")) == open_before
    again = Watching(a)
    again.acquire()  # not refused: nothing holds it
    again.release()


def _dogs_sorted_until_a_ctrl_c_at_the_second(tmp_path: Path, monkeypatch, patch) -> None:
    """A sort of a.jpg, b.jpg and c.jpg (dogs), with `patch(moves)` in place, which stops it at
    the second move: it says so (130), the first photo alone moved (no file beside it in dogs/),
    and an undo puts the folder back as it was."""
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import moves
    from sorter.model import lite

    runner = CliRunner()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        write_image(tmp_path / name, (0, 0, 255))
    before = tree(tmp_path)
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    patch(moves)
    stopped = runner.invoke(app, ["sort", str(tmp_path)])
    monkeypatch.undo()

    assert (stopped.exit_code, stopped.stdout, stopped.stderr.splitlines()[-2:]) == (
        130, "", ["Interrupted: moved 1 file before it stopped.", f"Undo with: sorter undo {tmp_path}"]), stopped.output
    assert len(os.listdir(tmp_path / "dogs")) == 1  # the first photo moved; the Ctrl-C came at the second
    again = runner.invoke(app, ["undo", str(tmp_path)])
    assert (again.exit_code, again.stdout) == (0, f"Restored 1 file from 1 run in {tmp_path}.\n"), again.output
    assert tree(tmp_path) == before


def test_a_ctrl_c_whose_clean_up_fails_still_stops_the_sort(tmp_path: Path, monkeypatch) -> None:
    # An error raised while a Ctrl-C unwinds a move (a descriptor that would not close, a copy
    # across disks that could not be removed) was taken for that photo's failure: "b.jpg: cannot
    # move: Bad file descriptor", and the sort went on to file the rest as if no Ctrl-C had come.
    def fails_at_the_second(moves) -> None:
        monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 2, clean_up_fails=True))

    _dogs_sorted_until_a_ctrl_c_at_the_second(tmp_path, monkeypatch, fails_at_the_second)


class _AcrossDisksCtrlCAsTheCopyIsMade:
    """`os` as `files.moves` sees it, on a folder whose `dogs/` is another disk (a hard link
    across is EXDEV: the move copies; one inside `dogs/`, of the copy to its name, is not), with
    a Ctrl-C that lands as the open making the `at`-th copy returns: Python raises it there,
    before its descriptor is kept."""

    def __init__(self, at: int) -> None:
        self.at, self.copies = at, 0

    def __getattr__(self, name: str):
        return getattr(os, name)

    def link(self, src, dst, **kwargs) -> None:
        import errno

        if kwargs.get("src_dir_fd") != kwargs.get("dst_dir_fd") or Path(src).parent != Path(dst).parent:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        os.link(src, dst, **kwargs)

    def open(self, path, flags: int, *args, **kwargs) -> int:
        fd = os.open(path, flags, *args, **kwargs)
        if flags & os.O_EXCL:
            self.copies += 1
            if self.copies == self.at:
                raise KeyboardInterrupt
        return fd


def test_ctrl_c_as_a_move_across_disks_makes_its_copy_leaves_no_empty_file(tmp_path: Path, monkeypatch) -> None:
    # The copy's file was made before the clean-up that removes it was in place: a Ctrl-C right
    # then left an empty dogs/b.jpg beside the photo, which neither recovery nor undo removes
    # (not equal to the photo: someone else's, for all they know).
    def across_disks(moves) -> None:
        monkeypatch.setattr(moves, "_renameat2_works", False)  # no rename across disks
        monkeypatch.setattr(moves, "os", _AcrossDisksCtrlCAsTheCopyIsMade(at=2))

    _dogs_sorted_until_a_ctrl_c_at_the_second(tmp_path, monkeypatch, across_disks)
    assert not (tmp_path / "dogs").exists()


def test_a_folder_lock_whose_letting_go_a_ctrl_c_cut_short_is_let_go_once(tmp_path: Path, monkeypatch) -> None:
    # A watch lets go of the folder's lock between two batches and again as it ends, after a
    # Ctrl-C too (`watching.watch`). A second Ctrl-C just as the first closed the lock left it
    # to be closed again: "Bad file descriptor" in place of the interrupt (or, with the number
    # reused meanwhile, another file's descriptor closed).
    from sorter.files import lock
    from sorter.files.lock import FolderLock

    (tmp_path / "a.jpg").write_bytes(b"not sorted: the lock alone")
    held = FolderLock(tmp_path, watcher=True)
    held.acquire()
    open_held = len(os.listdir("/proc/self/fd"))

    monkeypatch.setattr(lock, "os", _CtrlCAsItIsClosed(tmp_path / ".sorter" / "lock"))
    with pytest.raises(KeyboardInterrupt):
        held.release()  # between two batches (`idle`)
    monkeypatch.undo()
    held.release()  # as the watch ends: nothing left to let go

    assert len(os.listdir("/proc/self/fd")) == open_held - 1
    with FolderLock(tmp_path):  # not refused: nothing holds it
        pass


def test_a_journal_whose_closing_a_ctrl_c_cut_short_is_closed_once(tmp_path: Path, monkeypatch) -> None:
    # A watch closes its sorter's journal where `.sorter/` was removed under it (`watch.busy`) and
    # again as it ends. A second Ctrl-C just as the first close returned had it closed again:
    # "Bad file descriptor" in place of the interrupt.
    from sorter.files import journal_writer
    from sorter.sorting.batches import Sorter

    write_image(tmp_path / "tom.png", (255, 0, 0))
    sorter = Sorter(tmp_path, FakeClassifier())
    assert [result.status for result in sorter.sort_entries([tmp_path / "tom.png"])] == ["moved"]
    open_sorting = len(os.listdir("/proc/self/fd"))

    monkeypatch.setattr(journal_writer, "os", _CtrlCAsItIsClosed(tmp_path / ".sorter" / "journal.jsonl"))
    with pytest.raises(KeyboardInterrupt):
        sorter.close()  # the batch's (`busy`)
    monkeypatch.undo()
    sorter.close()  # the watch's end: nothing left to close

    assert len(os.listdir("/proc/self/fd")) == open_sorting - 1  # the journal, closed once


def test_a_ctrl_c_as_a_finished_undo_says_what_it_did_waits_for_every_line(tmp_path: Path, monkeypatch) -> None:
    # Ctrl-C as the undo said what it had done, every photo back and .sorter/ removed: it said
    # "Interrupted." alone, the "missing" and "found" lines lost (the next undo: "nothing to
    # undo"), the user never told that a photo was gone. A real SIGINT, at the first missing line.
    from typer.testing import CliRunner

    from sorter.cli import app, sorting

    runner = CliRunner()
    two_sorts_then_moved_on_and_gone(tmp_path)
    said = sorting.shown

    def sigint_then_shown(line: str) -> str:
        signal.raise_signal(signal.SIGINT)
        return said(line)

    monkeypatch.setattr(sorting, "shown", sigint_then_shown)
    stopped = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert (stopped.exit_code, stopped.stdout, stopped.stderr) == (
        130, "found: dogs/fido.jpg: moved to dogs/2019/fido.jpg since; put back from there to fido.jpg\n"
             f"Restored 2 files from 2 runs in {tmp_path} (1 missing).\n",
        "missing: dogs/spot.jpg: no longer there (was spot.jpg)\n"
        "Interrupted as it finished: every file still there was put back (1 missing, said above) and .sorter/ "
        "removed; nothing is left to undo.\n"  # not "everything was put back": spot.jpg was not
    ), stopped.output
    assert sorted(os.listdir(tmp_path)) == ["dogs", "fido.jpg", "rex.jpg"]  # dogs/2019/ is the user's


#: A module whose import sends SIGTERM to its own process part-way, then finishes (`LOADED`).
SIGNALLED_AS_IMPORTED = """
import os, signal
os.kill(os.getpid(), signal.SIGTERM)
total = 0
for i in range(100000):  # the handler runs here, between two instructions, inside the import
    total += i
LOADED = True
"""


def test_a_kill_as_training_imports_a_module_stops_it_once_the_import_is_done(tmp_path: Path) -> None:
    """`sorter train` stopped with SIGTERM (`sigterm_interrupts`) while Python imported a module (Keras
    imports as it builds the first batch): raised inside importlib, the KeyboardInterrupt could be
    printed as "Exception ignored in ... cb" with its traceback and dropped (ci46). It is raised
    once the import is done, and the run stops there, as at any other kill."""
    (tmp_path / "imported_slowly.py").write_text(SIGNALLED_AS_IMPORTED, encoding="utf-8")
    code = f"""
import sys, time
sys.path.insert(0, {str(tmp_path)!r})
from sorter.signals import sigterm_interrupts
with sigterm_interrupts() as received:
    try:
        import imported_slowly
        time.sleep(2)
        print("not stopped")
    except KeyboardInterrupt:
        print("stopped", "imported" if "imported_slowly" in sys.modules else "import cut short", received)
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (0, f"stopped imported [{int(signal.SIGTERM)}]\n", "")
