"""A sort killed (`kill -9`) part way, as a user lives it: the next sort settles what the kill
left (finishes the moves made, rolls back the rest), and the moves of the killed sort stay a run
of their own, which said no undo line. The sort after it says the undo that takes both back, the
undo that takes back that sort alone says the killed one's photos are still sorted, and the
undos they ask for bring every photo back. The kill is real: the sort runs in a process that
SIGKILLs itself at a counted move, no handler and no clean-up run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PAUSED_SORT, REPO, FakeClassifier, layout, write_image
from test_watch import undone_as_hinted, watched_through_the_cli, watched_through_the_cli_until
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog, blue = cat
runner = CliRunner()

#: A sort of ROOT killed at KILL: "move N" as it starts its N-th move (the moves before it made, and
#: none of the batch marked done), "marked" once every move is made, before they are marked done, or
#: "between batches" once its first batch of 3 is moved, marked done and seen, no move pending: as
#: a real model judges the next batch.
_KILLED_SORT = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from conftest import FakeClassifier
from sorter import config
from sorter.files import moves
from sorter.files.journal_writer import Journal
from sorter.sorting import sort

kill, moving, marking, appending = {kill!r}, moves.move_no_replace, Journal.mark, Journal.append_many
made = 0
if kill == "between batches":
    config.DEFAULT_BATCH_SIZE = 3

def append_many(self, op, items):
    appending(self, op, items)
    if kill == "between batches" and op == "seen":
        os.kill(os.getpid(), signal.SIGKILL)

def move(*args, **kwargs):
    global made
    made += 1
    if kill == f"move {{made}}":
        os.kill(os.getpid(), signal.SIGKILL)
    return moving(*args, **kwargs)

def mark(self, op, seqs, **fields):
    if kill == "marked" and op == "done":
        os.kill(os.getpid(), signal.SIGKILL)
    return marking(self, op, seqs, **fields)

moves.move_no_replace, Journal.mark, Journal.append_many = move, mark, append_many
sort.sort_folder(Path({root!r}), classifier=FakeClassifier())
"""


def _killed_sort(root: Path, kill: str) -> None:
    script = _KILLED_SORT.format(tests=str(Path(__file__).parent), root=str(root), kill=kill)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr


def _pets(root: Path) -> dict[str, object]:
    """Six photos, three of each kind: the layout to come back to."""
    for i in range(6):
        write_image(root / f"IMG_{i}.jpg", BLUE if i % 2 else RED, size=(40 + i, 40))
    return layout(root)


def _photos(root: Path) -> list[str]:
    return sorted(path for path, entry in layout(root).items() if entry != "dir" and not path.startswith(".sorter"))


@pytest.fixture
def fake_model(monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())


def test_after_a_killed_sort_the_next_sort_and_its_undo_say_the_killed_sorts_undo_too(
        tmp_path: Path, fake_model) -> None:
    # Before: the sort said "Undo with: sorter undo DIR", the undo "Restored 3 files from 1 run",
    # and the three photos the killed sort had moved stayed in cats/ and dogs/, unsaid.
    before = _pets(tmp_path)
    _killed_sort(tmp_path, "move 4")
    assert _photos(tmp_path) == ["IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg", "cats/IMG_5.jpg", "dogs/IMG_0.jpg",
                                 "dogs/IMG_4.jpg"]  # three moved, none marked done, as the kill left them

    again = runner.invoke(app, ["sort", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "Finished 3 moves interrupted by an earlier crash.\n" in again.stdout
    assert again.stdout.endswith(
        f"Undo with: sorter undo {tmp_path} (then once more for the sort cut short before this sort)\n")

    first = runner.invoke(app, ["undo", str(tmp_path)])
    assert (first.exit_code, first.stdout, first.stderr) == (0, (
        f"Restored 3 files from 1 run in {tmp_path}.\n"
        f"3 files moved by the sort cut short before that run are still sorted; undo them with: "
        f"sorter undo {tmp_path}\n"), "")
    assert _photos(tmp_path) == ["IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg", "cats/IMG_5.jpg", "dogs/IMG_0.jpg",
                                 "dogs/IMG_4.jpg"]

    second = runner.invoke(app, ["undo", str(tmp_path)])
    assert (second.exit_code, second.stdout, second.stderr) == (0, f"Restored 3 files from 1 run in {tmp_path}.\n", "")
    assert layout(tmp_path) == before  # every photo back, .sorter/, cats/ and dogs/ gone


def test_a_sort_that_finds_nothing_left_to_move_after_a_kill_says_the_killed_sorts_undo(
        tmp_path: Path, fake_model) -> None:
    # Killed once every move was made, before they were marked done: the next sort finishes them
    # all and has nothing to move. Before, it said no undo line at all.
    before = _pets(tmp_path)
    _killed_sort(tmp_path, "marked")

    again = runner.invoke(app, ["sort", str(tmp_path), "--json"])
    assert again.exit_code == 0, again.output
    totals = {key: value for key, value in json.loads(again.stdout).items()
              if key in ("undos", "watches_cut_short", "sorts_cut_short")}
    assert totals == {"undos": 1, "watches_cut_short": 0, "sorts_cut_short": 1}

    undone = runner.invoke(app, ["undo", str(tmp_path)])
    assert (undone.exit_code, undone.stdout) == (0, f"Restored 6 files from 1 run in {tmp_path}.\n"), undone.output
    assert layout(tmp_path) == before


def test_a_sort_that_finds_nothing_left_to_move_after_a_kill_says_so_on_its_undo_line(
        tmp_path: Path, fake_model) -> None:
    _pets(tmp_path)
    _killed_sort(tmp_path, "marked")

    again = runner.invoke(app, ["sort", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert again.stdout.endswith(f"Undo with: sorter undo {tmp_path} (it takes back the sort cut short before this sort)\n")


def test_an_undo_right_after_a_killed_sort_takes_it_all_back_and_says_nothing_more(
        tmp_path: Path, fake_model) -> None:
    # The killed sort is the latest run: the undo's own recovery settles it, and one undo is all.
    before = _pets(tmp_path)
    _killed_sort(tmp_path, "move 4")

    undone = runner.invoke(app, ["undo", str(tmp_path)])

    assert (undone.exit_code, undone.stdout, undone.stderr) == (
        0, f"Restored 3 files from 1 run in {tmp_path}.\n", "")
    assert layout(tmp_path) == before


def test_a_sort_after_a_sort_that_finished_says_its_own_undo_alone(tmp_path: Path, fake_model) -> None:
    # A run that finished said its own undo line: it is no run cut short, and nothing more is said.
    _pets(tmp_path)
    first = runner.invoke(app, ["sort", str(tmp_path)])
    assert first.exit_code == 0, first.output
    write_image(tmp_path / "IMG_9.jpg", BLUE)

    again = runner.invoke(app, ["sort", str(tmp_path)])
    undone = runner.invoke(app, ["undo", str(tmp_path)])

    assert again.exit_code == 0, again.output
    assert again.stdout.endswith(f"Undo with: sorter undo {tmp_path}\n")
    assert (undone.exit_code, undone.stdout) == (0, f"Restored 1 file from 1 run in {tmp_path}.\n")


def _killed_between_batches(root: Path) -> None:
    """A sort killed between its two batches: nothing half-done for the next sort to settle."""
    _killed_sort(root, "between batches")
    assert _photos(root) == ["IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg", "cats/IMG_5.jpg", "dogs/IMG_0.jpg",
                             "dogs/IMG_4.jpg"]  # the first batch filed, the second not begun


def test_a_sort_killed_between_batches_is_said_by_the_next_sort_and_its_undo(tmp_path: Path, fake_model) -> None:
    # Before: with no move pending, recovery had nothing to settle and nothing marked the run: the
    # sort said "Undo with: sorter undo DIR", its undo "Restored 3 files from 1 run" and no more,
    # and the killed sort's three photos stayed in cats/ and dogs/, unsaid.
    before = _pets(tmp_path)
    _killed_between_batches(tmp_path)

    again = runner.invoke(app, ["sort", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "interrupted by an earlier crash" not in again.stdout  # nothing was half-done
    assert again.stdout.endswith(
        f"Undo with: sorter undo {tmp_path} (then once more for the sort cut short before this sort)\n")

    first = runner.invoke(app, ["undo", str(tmp_path)])
    assert (first.exit_code, first.stdout, first.stderr) == (0, (
        f"Restored 3 files from 1 run in {tmp_path}.\n"
        f"3 files moved by the sort cut short before that run are still sorted; undo them with: "
        f"sorter undo {tmp_path}\n"), "")

    second = runner.invoke(app, ["undo", str(tmp_path)])
    assert (second.exit_code, second.stdout, second.stderr) == (0, f"Restored 3 files from 1 run in {tmp_path}.\n", "")
    assert layout(tmp_path) == before


def _notes(root: Path) -> list[str]:
    """The killed sorts' notes that their undo line is not said yet (`journal.unsaid_path`)."""
    return sorted(name for name in os.listdir(root / ".sorter") if name.startswith("unsaid-"))


def test_an_undo_that_takes_back_a_killed_sort_removes_its_note(tmp_path: Path, fake_model) -> None:
    # Before: the killed sort's `.sorter/unsaid-RUN` stayed once the undo right after the kill had
    # taken it back, while a sort before it kept .sorter/: a note of an undo line no command says
    # (nothing of that run is left to undo), removed only by an undo of everything.
    write_image(tmp_path / "first.jpg", BLUE, size=(60, 40))
    assert runner.invoke(app, ["sort", str(tmp_path)]).exit_code == 0
    _pets(tmp_path)
    _killed_sort(tmp_path, "between batches")
    assert len(_notes(tmp_path)) == 1

    undone = runner.invoke(app, ["undo", str(tmp_path)])

    assert (undone.exit_code, undone.stdout, undone.stderr) == (
        0, f"Restored 3 files from 1 run in {tmp_path}.\n", ""), undone.output
    assert _notes(tmp_path) == [] and _photos(tmp_path) == ["IMG_0.jpg", "IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg",
                                                            "IMG_4.jpg", "IMG_5.jpg", "cats/first.jpg"]
    again = runner.invoke(app, ["undo", str(tmp_path)])
    assert (again.exit_code, again.stdout) == (0, f"Restored 1 file from 1 run in {tmp_path}.\n"), again.output


def test_a_sort_with_nothing_left_after_one_killed_between_batches_says_its_undo(tmp_path: Path, fake_model) -> None:
    # The photos the killed sort had not come to are taken away: the next sort finds nothing to
    # move. Before, it said no undo line, and --json "undos": 0.
    _pets(tmp_path)
    _killed_between_batches(tmp_path)
    for name in ("IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg"):
        (tmp_path / name).unlink()

    again = runner.invoke(app, ["sort", str(tmp_path)])
    as_json = runner.invoke(app, ["sort", str(tmp_path), "--json"])

    assert again.exit_code == 0, again.output
    assert again.stdout.endswith(f"Undo with: sorter undo {tmp_path} (it takes back the sort cut short before this sort)\n")
    totals = {key: value for key, value in json.loads(as_json.stdout).items()
              if key in ("undos", "watches_cut_short", "sorts_cut_short")}
    assert (as_json.exit_code, totals) == (0, {"undos": 1, "watches_cut_short": 0, "sorts_cut_short": 1})


def test_a_sort_after_one_stopped_by_ctrl_c_between_batches_says_its_own_undo_alone(
        tmp_path: Path, fake_model, monkeypatch) -> None:
    # A Ctrl-C'd sort said its own undo line as it stopped: the next sort does not say it again.
    from sorter import config
    from sorter.files.journal_writer import Journal

    _pets(tmp_path)
    monkeypatch.setattr(config, "DEFAULT_BATCH_SIZE", 3)
    appending = Journal.append_many

    def ctrl_c_after_the_first_batch(self, op, items):
        appending(self, op, items)
        if op == "seen":
            raise KeyboardInterrupt

    monkeypatch.setattr(Journal, "append_many", ctrl_c_after_the_first_batch)
    stopped = runner.invoke(app, ["sort", str(tmp_path)])
    monkeypatch.setattr(Journal, "append_many", appending)

    assert (stopped.exit_code, stopped.stderr.splitlines()[-2:]) == (
        130, ["Interrupted: moved 3 files before it stopped.", f"Undo with: sorter undo {tmp_path}"]), stopped.output
    again = runner.invoke(app, ["sort", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert again.stdout.endswith(f"Undo with: sorter undo {tmp_path}\n")
    undone = runner.invoke(app, ["undo", str(tmp_path)])
    assert (undone.exit_code, undone.stdout) == (0, f"Restored 3 files from 1 run in {tmp_path}.\n")


def test_a_watch_after_a_sort_killed_between_batches_says_the_undo_of_both(tmp_path: Path, monkeypatch) -> None:
    # Before: the watch's stop line said "undo with: sorter undo DIR", which took back its own
    # moves alone, and left the killed sort's photos in cats/ and dogs/.
    before = _pets(tmp_path)
    _killed_between_batches(tmp_path)

    result = watched_through_the_cli_until(tmp_path, monkeypatch, 3)  # the three the sort did not come to

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        f"stopped watching {tmp_path}: moved 3 files (cats: 2, dogs: 1); undo with: sorter undo {tmp_path} --all "
        "(it takes back the sort cut short before this one too)")
    undone_as_hinted(result, tmp_path, f"sorter undo {tmp_path} --all (it takes back the sort cut short before this "
                     "one too)")
    assert layout(tmp_path) == before


def test_a_watch_that_moves_nothing_after_a_sort_killed_between_batches_says_its_undo(
        tmp_path: Path, monkeypatch) -> None:
    # Before: the stop line said "moved 0 files" and no undo at all.
    from test_watch import watcher

    _pets(tmp_path)
    _killed_between_batches(tmp_path)
    for name in ("IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg"):
        (tmp_path / name).unlink()

    result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=0.1))

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        f"stopped watching {tmp_path}: moved 0 files; undo with: sorter undo {tmp_path} (it takes back the sort cut "
        "short before this one)")
    undone = runner.invoke(app, ["undo", str(tmp_path)])
    assert (undone.exit_code, undone.stdout) == (0, f"Restored 3 files from 1 run in {tmp_path}.\n")
    assert _photos(tmp_path) == ["IMG_0.jpg", "IMG_4.jpg", "IMG_5.jpg"]


# --------------------------------------------------------------------------- killed as it ends

#: `sorter sort ROOT` or `sorter watch ROOT` (stopped once it has moved 6 photos) through the CLI on
#: the fake model, in a process that SIGKILLs itself at KILL: "review page" once its review page is
#: written (before its summary), "end" as its run's "end" record is about to be written, "note
#: cleared" as a watch is about to clear its note in `.sorter/watching`; "Interrupted" as its
#: "Interrupted: ..." line is about to be printed, after a Ctrl-C (a sort's once it has moved and
#: marked its first batch of 3, a watch's second as its 6th photo is reported); "Error" as its
#: error line is about to be printed, on a disk full once its first photo's move is journaled
#: (batches of 1), with room again as the sort ends (another program freed some). "no kill": the
#: Ctrl-C alone.
_KILLED_AS_IT_ENDS = """
import os, signal, sys, threading
from pathlib import Path
sys.path.insert(0, {tests!r})
from conftest import FakeClassifier, FullDisk
from sorter import config
from sorter.cli import app, console
from sorter.files import journal_writer
from sorter.files.journal_writer import Journal
from sorter.files.watching_note import Watching
from sorter.model import lite
from sorter.review.page import ReviewPage
from sorter.sorting.batches import Sorter
from sorter.watching import settling, watch

kill, writing, printing = {kill!r}, ReviewPage.write, console.err.print
appending, closing = Journal.append_many, Sorter.close
ctrl_c = kill in ("Interrupted", "no kill")
disk = FullDisk()

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

def write(self):
    page = writing(self)
    killed()
    return page

real_watch_folder = watch.watch_folder

def watch_six(directory, *, model, on_result, **options):
    stop, reported = threading.Event(), []
    threading.Timer(30, stop.set).start()

    def report(result):
        on_result(result)
        reported.append(result)
        if len(reported) == 6:
            if ctrl_c:
                raise KeyboardInterrupt  # the second Ctrl-C
            stop.set()

    return real_watch_folder(directory, classifier=FakeClassifier(), stop=stop, on_result=report,
                             settings=settling.WatchSettings(settle=0.1), **options)

def print_(line, *args, **kwargs):
    if kill in str(line):
        killed()
    return printing(line, *args, **kwargs)

def append_many(self, op, items):
    appending(self, op, items)
    if op == "seen":
        raise KeyboardInterrupt

def close(self, *args, **kwargs):
    disk.room = None
    return closing(self, *args, **kwargs)

lite.load_classifier = lambda model: FakeClassifier()
watch.watch_folder = watch_six
console.err.print = print_
if kill == "review page":
    ReviewPage.write = write
elif kill == "end":
    Journal.end = killed
elif kill == "note cleared":
    Watching.release = killed
elif {args!r}[0] == "sort" and ctrl_c:
    config.DEFAULT_BATCH_SIZE, Journal.append_many = 3, append_many
elif kill == "Error":
    config.DEFAULT_BATCH_SIZE, disk.room, journal_writer.os, Sorter.close = 1, 4, disk, close
app({args!r})
"""


def _killed_as_it_ends(root: Path, kill: str, command: str = "sort", status: int = -signal.SIGKILL) -> str:
    """What the command said (stdout, then stderr) before it was killed at `kill`."""
    script = _KILLED_AS_IT_ENDS.format(tests=str(Path(__file__).parent), kill=kill, args=[command, str(root)])
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == status, done.stdout + done.stderr
    return done.stdout + done.stderr


def _sorted_again_said_and_undone_so(root: Path, before) -> None:
    """The next sort, which moves nothing, says the sort cut short before it, and the one undo it
    asks for puts its 6 photos back."""
    again = runner.invoke(app, ["sort", str(root)])
    assert again.exit_code == 0, again.output
    assert again.stdout.endswith(f"Undo with: sorter undo {root} (it takes back the sort cut short before this sort)\n")
    undone = runner.invoke(app, ["undo", str(root)])
    assert (undone.exit_code, undone.stdout) == (0, f"Restored 6 files from 1 run in {root}.\n")
    assert layout(root) == before


def test_a_sort_killed_before_its_summary_is_said_is_undone_by_the_next_sorts_line(
        tmp_path: Path, fake_model) -> None:
    # Killed once its review page was written, before its summary: it had written "end" first, so
    # nothing said its undo, ever: the next sort said no undo line (--json "undos": 0).
    before = _pets(tmp_path)
    said = _killed_as_it_ends(tmp_path, "review page")
    assert "Undo with" not in said
    assert _photos(tmp_path) == ["cats/IMG_1.jpg", "cats/IMG_3.jpg", "cats/IMG_5.jpg", "dogs/IMG_0.jpg",
                                 "dogs/IMG_2.jpg", "dogs/IMG_4.jpg"]

    as_json = runner.invoke(app, ["sort", str(tmp_path), "--json"])
    totals = {key: value for key, value in json.loads(as_json.stdout).items()
              if key in ("undos", "watches_cut_short", "sorts_cut_short")}
    assert (as_json.exit_code, totals) == (0, {"undos": 1, "watches_cut_short": 0, "sorts_cut_short": 1})
    _sorted_again_said_and_undone_so(tmp_path, before)


def test_a_sort_says_its_undo_line_before_it_writes_its_end(tmp_path: Path, fake_model) -> None:
    # Killed as it writes "end", the sort has said its summary and its undo line; the next sort,
    # which cannot tell, says it again (an undo too many finds nothing more to do).
    before = _pets(tmp_path)
    said = _killed_as_it_ends(tmp_path, "end")
    assert said.endswith(f"Undo with: sorter undo {tmp_path}\n")

    _sorted_again_said_and_undone_so(tmp_path, before)


def test_a_watch_says_its_stop_line_before_it_clears_its_note(tmp_path: Path, fake_model) -> None:
    # Ctrl-C, then a kill 10-20 ms later: the watch had cleared .sorter/watching and died before
    # its stop line, and the next sort said no undo line: no one said how to undo the watch.
    before = _pets(tmp_path)
    said = _killed_as_it_ends(tmp_path, "note cleared", "watch")
    assert said.endswith(f"stopped watching {tmp_path}: moved 6 files (cats: 3, dogs: 3); "
                         f"undo with: sorter undo {tmp_path}\n")

    again = runner.invoke(app, ["sort", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert again.stdout.endswith(
        f"Undo with: sorter undo {tmp_path} (it takes back the watch cut short before this sort)\n")
    undone = runner.invoke(app, ["undo", str(tmp_path)])
    assert undone.exit_code == 0, undone.output
    assert layout(tmp_path) == before


def _sorted_again_said_once_more_and_undone_so(root: Path, before) -> None:
    """The next sort says the sort cut short before it, and the two undos it asks for put every photo back."""
    again = runner.invoke(app, ["sort", str(root)])
    assert again.exit_code == 0, again.output
    assert again.stdout.endswith(
        f"Undo with: sorter undo {root} (then once more for the sort cut short before this sort)\n")
    for _ in range(2):  # as it says
        assert runner.invoke(app, ["undo", str(root)]).exit_code == 0
    assert layout(root) == before


def test_a_sort_stopped_by_ctrl_c_and_killed_before_its_interrupted_line_is_undone_by_the_next_sorts_line(
        tmp_path: Path, fake_model) -> None:
    # Ctrl-C, then a kill (kill -9, a second signal's default action) as "Interrupted: moved 3
    # files" was about to be said: the sort had written "end" as it stopped, so no one ever said
    # its undo: the next sort said "Undo with: sorter undo DIR", which took back its own 3 alone.
    before = _pets(tmp_path)
    said = _killed_as_it_ends(tmp_path, "Interrupted")
    assert "ndo" not in said
    assert _photos(tmp_path) == ["IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg", "cats/IMG_5.jpg", "dogs/IMG_0.jpg",
                                 "dogs/IMG_4.jpg"]

    _sorted_again_said_once_more_and_undone_so(tmp_path, before)


def test_a_sort_stopped_by_a_full_disk_and_killed_before_its_error_line_is_undone_by_the_next_sorts_line(
        tmp_path: Path, fake_model) -> None:
    # The disk full part way, then a kill as "Error: ...; moved 1 file before it stopped, journaled:
    # ... or undo with: ..." was about to be said: "end" was written as it stopped (room again by
    # then), so its undo went unsaid, and the next sort said its own alone.
    before = _pets(tmp_path)
    said = _killed_as_it_ends(tmp_path, "Error")
    assert "ndo" not in said
    assert len([path for path in _photos(tmp_path) if "/" in path]) == 1  # one photo moved

    _sorted_again_said_once_more_and_undone_so(tmp_path, before)


def test_a_watch_stopped_by_a_second_ctrl_c_and_killed_before_its_interrupted_line_is_said_by_the_next_sort(
        tmp_path: Path, fake_model) -> None:
    # It cleared its note in .sorter/watching before "Interrupted: moved 6 files": killed in
    # between, it was no watch cut short, and the next sort said no undo line at all.
    before = _pets(tmp_path)
    said = _killed_as_it_ends(tmp_path, "Interrupted", "watch")
    assert "ndo" not in said

    again = runner.invoke(app, ["sort", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert again.stdout.endswith(
        f"Undo with: sorter undo {tmp_path} (it takes back the watch cut short before this sort)\n")
    assert runner.invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert layout(tmp_path) == before


def test_a_watch_stopped_by_a_second_ctrl_c_says_the_undo_its_stop_line_says(tmp_path: Path, fake_model) -> None:
    # Before: "Undo with: sorter undo DIR", which took back the watch's 3 moves and left the 3 of
    # the sort killed before it in cats/ and dogs/, said by no one: the note that listed the watch
    # was cleared, and the sort's run ended by no one.
    _pets(tmp_path)
    _killed_between_batches(tmp_path)
    write_image(tmp_path / "IMG_6.jpg", BLUE)
    write_image(tmp_path / "IMG_7.jpg", RED)
    write_image(tmp_path / "IMG_8.jpg", BLUE)  # the watch reports 6, and is stopped at the 6th

    said = _killed_as_it_ends(tmp_path, "no kill", "watch", status=130)

    assert said.splitlines()[-2:] == [
        "Interrupted: moved 6 files before it stopped.",
        f"Undo with: sorter undo {tmp_path} --all (it takes back the sort cut short before this one too)"]
    assert runner.invoke(app, ["undo", str(tmp_path), "--all"]).exit_code == 0  # as it says
    assert _photos(tmp_path) == [f"IMG_{i}.jpg" for i in range(9)]  # every photo back
    again = runner.invoke(app, ["sort", str(tmp_path), "--json"])
    assert json.loads(again.stdout)["sorts_cut_short"] == 0  # it said theirs: none is cut short now


def test_ctrl_c_as_the_summary_is_said_ends_with_its_undo_line(tmp_path: Path, fake_model, monkeypatch) -> None:
    # Before: "Sorted DIR", then "Interrupted." (exit 130), and neither the counts nor an undo line.
    # The sort is done by then: the Ctrl-C stops nothing, and nothing says it was cut short.
    import os

    from sorter.cli import sorting

    before = _pets(tmp_path)
    drawing = sorting.summary_table

    def ctrl_c_as_the_table_is_drawn(summary):
        os.kill(os.getpid(), signal.SIGINT)
        return drawing(summary)

    monkeypatch.setattr(sorting, "summary_table", ctrl_c_as_the_table_is_drawn)
    stopped = runner.invoke(app, ["sort", str(tmp_path)])

    assert stopped.exit_code == 0, stopped.output
    assert stopped.stdout.startswith(f"Sorted {tmp_path}\n")
    assert stopped.stdout.endswith(f"Undo with: sorter undo {tmp_path}\n")
    assert "Interrupted" not in stopped.output
    undone = runner.invoke(app, ["undo", str(tmp_path)])
    assert (undone.exit_code, undone.stdout) == (0, f"Restored 6 files from 1 run in {tmp_path}.\n")
    assert layout(tmp_path) == before


def test_a_sort_that_moves_nothing_is_no_sort_cut_short_of_its_own(tmp_path: Path, fake_model) -> None:
    # It journals what it judged ("seen"), and its line is said before its "end" is written: read
    # then, its own run was taken for one cut short, and it asked for an undo of nothing.
    _pets(tmp_path)

    said = runner.invoke(app, ["sort", str(tmp_path), "--min-confidence", "1"])
    as_json = runner.invoke(app, ["sort", str(tmp_path), "--min-confidence", "1", "--json"])

    assert said.exit_code == 0, said.output
    assert "ndo" not in said.stdout
    totals = {key: value for key, value in json.loads(as_json.stdout).items()
              if key in ("undos", "watches_cut_short", "sorts_cut_short")}
    assert (as_json.exit_code, totals) == (0, {"undos": 0, "watches_cut_short": 0, "sorts_cut_short": 0})
    assert _photos(tmp_path) == [f"IMG_{i}.jpg" for i in range(6)]


def _dry_run(root: Path, *options: str):
    """`sorter sort ROOT --dry-run`: its lines, or its --json."""
    result = runner.invoke(app, ["sort", str(root), "--dry-run", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if options else result.stdout.splitlines()


@pytest.mark.parametrize("kill", ["between batches", "move 4"])
def test_a_dry_run_after_a_killed_sort_says_it_as_it_says_a_killed_watch(tmp_path: Path, fake_model,
                                                                         kill: str) -> None:
    # Before: a dry run after a killed sort said nothing of it, and its --json said
    # `"sorts_cut_short": 0`, where the sort right after says "then once more for the sort cut
    # short before this sort"; a killed watch it did say. Now both, in one line. Killed mid-move,
    # none of its moves marked done: a dry run settles nothing, and counts them as the sort would.
    from test_watch import a_watch_killed_after_filing

    before = _pets(tmp_path)
    _killed_sort(tmp_path, kill)
    assert _dry_run(tmp_path)[-1] == (f"A sort was cut short before this dry run: sorter undo {tmp_path} takes back "
                                      "its moves; a sort's undo line says them too.")
    said = _dry_run(tmp_path, "--json")
    assert (said["undos"], said["watches_cut_short"], said["sorts_cut_short"]) == (0, 0, 1)

    a_watch_killed_after_filing(tmp_path, "k1.jpg")
    assert _dry_run(tmp_path)[-1] == (f"A watch and a sort were cut short before this dry run: sorter undo {tmp_path}, "
                                      "twice takes back their moves; a sort's undo line says them too.")
    said = _dry_run(tmp_path, "--json")
    assert (said["undos"], said["watches_cut_short"], said["sorts_cut_short"]) == (0, 1, 1)

    for _ in range(2):  # as it says
        assert runner.invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert _photos(tmp_path) == [*sorted(path for path in before if path.startswith("IMG_")), "k1.jpg"]  # all back
    assert _dry_run(tmp_path)[-1] == "Dry run: nothing was changed. Every file's plan: --verbose."  # nothing left


def test_a_dry_run_beside_a_sort_at_work_says_that_sort_and_no_sort_cut_short(tmp_path: Path, fake_model) -> None:
    # A dry run takes no lock: a sort at work has begun its run and not ended it, as a killed one
    # has. Said as the sort's refusal says it, never "a sort was cut short".
    from conftest import wait_until

    root, go = tmp_path / "pets", tmp_path / "go"
    root.mkdir()
    _pets(root)
    at_work = subprocess.Popen([sys.executable, "-c", PAUSED_SORT, str(root), str(go)],
                               env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])})
    try:
        assert wait_until(lambda: len(_photos(root)) and any("/" in path for path in _photos(root)), 60)
        lines = _dry_run(root)
        said = _dry_run(root, "--json")
    finally:
        go.touch()
        assert at_work.wait(60) == 0

    assert lines[-1] == (f"Another sorter (pid {at_work.pid}) is working on {root}: this plan is of the folder as it "
                         "is now, and a sort would be refused until it finishes.")
    assert (said["undos"], said["watches_cut_short"], said["sorts_cut_short"], said["another_sorter"]) == (
        0, 0, 0, str(at_work.pid))
    assert _dry_run(root)[-1] == "Dry run: nothing was changed. Every file's plan: --verbose."  # it finished


def test_an_undo_stopped_as_it_finished_says_the_killed_sorts_photos_are_still_sorted(
        tmp_path: Path, fake_model, monkeypatch) -> None:
    # Before: "Interrupted as it finished: put back 3 of 3 files; none is left to put back." alone,
    # which read as all done, where the killed sort's three photos stay in cats/ and dogs/, and
    # the undo that finished says so.
    from conftest import ctrl_c_at

    from sorter.files import undo as restore

    before = _pets(tmp_path)
    _killed_between_batches(tmp_path)
    assert runner.invoke(app, ["sort", str(tmp_path)]).exit_code == 0

    removing = restore._remove_if_empty
    monkeypatch.setattr(restore, "_remove_if_empty", ctrl_c_at(removing, 1))  # once its one run is back
    stopped = runner.invoke(app, ["undo", str(tmp_path)])
    monkeypatch.setattr(restore, "_remove_if_empty", removing)

    assert (stopped.exit_code, stopped.stdout, stopped.stderr) == (130, "", (
        "Interrupted as it finished: put back 3 of 3 files; none is left to put back.\n"
        f"3 files moved by the sort cut short before that run are still sorted; undo them with: sorter undo {tmp_path}\n"
    )), stopped.output
    again = runner.invoke(app, ["undo", str(tmp_path)])  # as it says
    assert (again.exit_code, again.stdout) == (0, f"Restored 3 files from 1 run in {tmp_path}.\n"), again.output
    assert layout(tmp_path) == before


# --------------------------------------------------------------------- a signal once it is said

#: `sorter sort ROOT` or `sorter watch ROOT` (stopped once it has moved 6 photos) through the console
#: script's entry point, on the fake model; it sends itself SIGNAL and waits for its handler AT:
#: "end" as the sort writes its "end" (its summary said), or the watch clears its note (its stop
#: line said); "log closed" as the command returns, its log closed (after `result_said`'s block).
_SIGNALLED_ONCE_SAID = """
import os, signal, sys, threading, time
sys.path.insert(0, {tests!r})
from conftest import FakeClassifier
from sorter.cli.results import FileLog
from sorter.files.journal_writer import Journal
from sorter.files.watching_note import Watching
from sorter.model import lite
from sorter.watching import settling, watch

sig, ending, releasing = getattr(signal, {signal!r}), Journal.end, Watching.release

def signalled(real):
    def then(*args, **kwargs):
        os.kill(os.getpid(), sig)
        time.sleep(0.3)  # its handler runs here
        return real(*args, **kwargs)
    return then

real_watch_folder = watch.watch_folder

def watch_six(directory, *, model, on_result, **options):
    stop, reported = threading.Event(), []

    def report(result):
        on_result(result)
        reported.append(result)
        if len(reported) == 6:
            stop.set()

    return real_watch_folder(directory, classifier=FakeClassifier(), stop=stop, on_result=report,
                             settings=settling.WatchSettings(settle=0.1), **options)

lite.load_classifier = lambda model: FakeClassifier()
watch.watch_folder = watch_six
if {at!r} == "end":
    Journal.end, Watching.release = signalled(ending), signalled(releasing)
else:
    FileLog.__exit__ = signalled(FileLog.__exit__)
sys.argv = ["sorter", *{args!r}]
from sorter.__main__ import main
main()
"""


@pytest.mark.parametrize("at", ["end", "log closed"])
@pytest.mark.parametrize("sent", ["SIGTERM", "SIGINT", "SIGHUP"])
@pytest.mark.parametrize("command", ["sort", "watch"])
def test_a_signal_once_the_result_is_said_stops_nothing(tmp_path: Path, fake_model, command: str, sent: str,
                                                        at: str) -> None:
    # QA 42: a SIGTERM 0-10 ms after a finished sort's "Undo with:" line said "Interrupted: moved 16
    # files before it stopped." and the undo line again, status 143 (a SIGHUP: 129); a watch's second
    # Ctrl-C after its stop line said an undo line of its own, without the stop line's counts. As
    # the command returned, its log closed, each still did: "Interrupted." and 130 or 143, or 129.
    before = _pets(tmp_path)
    script = _SIGNALLED_ONCE_SAID.format(tests=str(Path(__file__).parent), signal=sent, args=[command, str(tmp_path)],
                                         at=at)
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=environ)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Interrupted" not in done.stdout + done.stderr
    said = (done.stdout + done.stderr).lower().count("undo with")
    assert said == 1, done.stdout + done.stderr
    again = runner.invoke(app, ["sort", str(tmp_path), "--json"])
    assert json.loads(again.stdout)["sorts_cut_short"] == json.loads(again.stdout)["watches_cut_short"] == 0
    assert runner.invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert layout(tmp_path) == before


def test_a_sort_that_begins_as_a_dry_run_plans_is_said_as_at_work_not_cut_short(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    # The dry run looked for a sorter at work once, as it began: one that began as it judged the
    # photos, its run begun and not ended, was said as "A sort was cut short before this dry run".
    from conftest import wait_until

    root, go = tmp_path / "pets", tmp_path / "go"
    root.mkdir()
    _pets(root)
    started: list[subprocess.Popen] = []

    class BeginsBeside(FakeClassifier):
        def predict(self, batch):
            if not started:  # the sort beside begins as the dry run judges its first photos
                started.append(subprocess.Popen(
                    [sys.executable, "-c", PAUSED_SORT, str(root), str(go)],
                    env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}))
                assert wait_until(lambda: any("/" in path for path in _photos(root)), 60)
            return super().predict(batch)

    monkeypatch.setattr(lite, "load_classifier", lambda model: BeginsBeside())
    try:
        lines = _dry_run(root)
    finally:
        go.touch()
        assert started and started[0].wait(60) == 0

    assert lines[-1] == (f"Another sorter (pid {started[0].pid}) is working on {root}: this plan is of the folder "
                         "as it is now, and a sort would be refused until it finishes.")


#: `sorter sort ROOT` through the console script's entry point, on the fake model, stopped by a
#: Ctrl-C at STOP ("plan": as it has counted the photos, before any move; "moved": once its first
#: batch of 3 is moved), then sent a SIGTERM once its first "Interrupted: ..." line is said.
_TERMINATED_AS_IT_STOPS = """
import os, signal, sys, time
sys.path.insert(0, {tests!r})
from conftest import FakeClassifier
from sorter import config
from sorter.cli import console
from sorter.files.journal_writer import Journal
from sorter.model import lite
from sorter.sorting import sort

stop, printing, sorting, appending = {stop!r}, console.err.print, sort.sort_folder, Journal.append_many
sent = []

def ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.3)  # its handler runs here

def print_(line, *args, **kwargs):
    printing(line, *args, **kwargs)
    if str(line).startswith("Interrupted") and not sent:
        sent.append(1)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.3)

def sort_folder(*args, on_start, **kwargs):
    def start(total):
        on_start(total)
        if stop == "plan":
            ctrl_c()
    return sorting(*args, on_start=start, **kwargs)

def append_many(self, op, items):
    appending(self, op, items)
    if op == "seen":
        ctrl_c()

lite.load_classifier = lambda model: FakeClassifier()
console.err.print, sort.sort_folder = print_, sort_folder
if stop == "moved":
    config.DEFAULT_BATCH_SIZE, Journal.append_many = 3, append_many
sys.argv = ["sorter", "sort", {root!r}]
from sorter.__main__ import main
main()
"""


@pytest.mark.parametrize("stop", ["plan", "moved"])
def test_a_sigterm_as_a_sort_stopped_by_ctrl_c_says_so_stops_nothing(tmp_path: Path, fake_model, stop: str) -> None:
    # Before: "Interrupted: moved 3 files before it stopped." then "Interrupted." where its undo
    # line should be, status 143 (at the plan: "Interrupted: nothing was moved." and "Interrupted.").
    before = _pets(tmp_path)
    script = _TERMINATED_AS_IT_STOPS.format(tests=str(Path(__file__).parent), stop=stop, root=str(tmp_path))
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=environ)

    said = {"plan": ["Interrupted: nothing was moved."],
            "moved": ["Interrupted: moved 3 files before it stopped.", f"Undo with: sorter undo {tmp_path}"]}[stop]
    assert (done.returncode, done.stdout, done.stderr.splitlines()) == (130, "", said), done.stderr
    again = runner.invoke(app, ["sort", str(tmp_path), "--json"])
    assert json.loads(again.stdout)["sorts_cut_short"] == 0  # it said its undo: no one need say it again
    if stop == "moved":
        assert runner.invoke(app, ["undo", str(tmp_path), "--all"]).exit_code == 0
        assert layout(tmp_path) == before


# ------------------------------------------------------------------------ a disk that stays full


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real filesystem of 8 MiB (a tmpfs, as root; skipped where it will not mount)."""
    from conftest import tmpfs_at

    with tmpfs_at(tmp_path / "disk", "a small tmpfs") as disk:
        yield disk


def test_a_sort_stopped_by_a_disk_that_stays_full_is_said_once(small_disk: Path, fake_model, monkeypatch) -> None:
    # Its Error line says its undo, and its "end" record finds no room. Before, every command after
    # it took it for a sort cut short and said its undo once more: a dry run on the full disk "A
    # sort was cut short before this dry run", the sort once there was room "(then once more for
    # the sort cut short before this sort)", its undo "30 files moved by the sort cut short before
    # that run are still sorted", as a killed sort's, whose undo no one had said.
    import re

    from sorter import config

    root = small_disk / "pets"
    before = _pets(root)
    for i in range(6, 60):
        write_image(root / f"IMG_{i}.jpg", BLUE if i % 2 else RED, size=(40 + i, 40))
    monkeypatch.setattr(config, "DEFAULT_BATCH_SIZE", 3)
    stat = os.statvfs(small_disk)
    filler = small_disk / "filler"
    filler.write_bytes(bytes(stat.f_bavail * stat.f_frsize - 16384))  # 16 KiB left: a few batches' records

    stopped = runner.invoke(app, ["sort", str(root)])
    said = re.fullmatch(r"Error: .*No space left on device; moved (\d+) files before it stopped, journaled: sort "
                        rf"again once there is room, or undo with: sorter undo {root}\n", stopped.stderr)
    assert stopped.exit_code == 1 and said is not None, stopped.output
    moved = int(said[1])
    dry_run = runner.invoke(app, ["sort", str(root), "--dry-run"])
    assert (dry_run.exit_code, dry_run.stdout.splitlines()[-1]) == (
        0, "Dry run: nothing was changed. Every file's plan: --verbose."), dry_run.output

    filler.unlink()  # room again
    again = runner.invoke(app, ["sort", str(root)])
    assert again.exit_code == 0, again.output
    assert again.stdout.endswith(f"Undo with: sorter undo {root}\n")  # its own: the first said its own
    undone = runner.invoke(app, ["undo", str(root)])
    assert (undone.exit_code, undone.stdout) == (0, f"Restored {60 - moved} files from 1 run in {root}.\n")
    undone = runner.invoke(app, ["undo", str(root)])  # as the first sort's line said
    assert (undone.exit_code, undone.stdout) == (0, f"Restored {moved} files from 1 run in {root}.\n")
    assert {path: entry for path, entry in layout(root).items() if path in before} == before
    assert len(_photos(root)) == 60 and not (root / ".sorter").exists()
