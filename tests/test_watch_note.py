"""`DIR/.sorter/watching`: the running watch's pid, and the journal runs of the watches killed
before it, from which the next watch says how many `sorter undo DIR` take their moves back. A
person may append to it by hand, and a disk may refuse it: neither loses a killed watch's moves
from the hint, nor leaves the user unwarned; and a sort made after a killed watch, behind which
the next watch's hint leaves it, says its undo."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import FakeClassifier, full_after_one_photo, wait_until, write_image
from test_watch import (
    BLUE,
    RED,
    a_watch_killed_after_filing,
    corrected_on_the_page,
    undone_as_hinted,
    watched_through_the_cli,
    watched_through_the_cli_until,
)

from sorter.watching import watcher


def as_an_older_sorter_wrote_it_with_text_glued_on(note: Path) -> None:
    """No newline at its end, as sorter wrote it before, then `echo checked by ann >>` and a line
    of a person's own: the text glued to the killed watch's run id."""
    note.write_bytes(note.read_bytes().rstrip(b"\n") + b"checked by ann\nnot a run id\n")


def with_a_line_appended(note: Path) -> None:
    with open(note, "a") as file:  # `echo checked by ann >> DIR/.sorter/watching`
        file.write("checked by ann\n")


def with_a_long_line_above_the_runs(note: Path) -> None:
    """A note of 70 KB pasted under the pid's line: the killed watch's run id past the first 64 KiB,
    which was all the next watch read of the file."""
    pid, _, runs = note.read_bytes().partition(b"\n")
    note.write_bytes(pid + b"\n" + b"checked by ann " * 5000 + b"\n" + runs)


@pytest.mark.parametrize("edit", [with_a_line_appended, as_an_older_sorter_wrote_it_with_text_glued_on,
                                  with_a_long_line_above_the_runs],
                         ids=["a line appended", "text glued to a run id", "a long line above the runs"])
def test_text_added_to_the_watching_file_by_hand_loses_no_killed_watch(tmp_path: Path, monkeypatch, edit) -> None:
    # Text appended to .sorter/watching after a killed watch was glued to its run id (sorter wrote
    # no newline at the file's end): the next watch forgot the killed one and said
    # "undo with: sorter undo DIR", which left the killed watch's photo in dogs/.
    from sorter.sorting.sort import sort_folder

    write_image(tmp_path / "old.png", BLUE)
    sort_folder(tmp_path, classifier=FakeClassifier())  # a run the watches' undo must leave alone
    a_watch_killed_after_filing(tmp_path, "rex.png")
    edit(tmp_path / ".sorter" / "watching")
    write_image(tmp_path / "fido.png", RED)
    result = watched_through_the_cli_until(tmp_path, monkeypatch, 1)

    assert result.exit_code == 0, result.output
    undone_as_hinted(result, tmp_path, f"sorter undo {tmp_path}, twice (they take back the watch cut short before "
                     "this one too)")
    assert (tmp_path / "rex.png").exists() and (tmp_path / "fido.png").exists()  # as before both watches
    assert (tmp_path / "cats" / "old.png").exists()  # the sort's stays


def chattr(path: Path, flag: str) -> bool:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


def test_a_watching_file_that_refuses_the_watchs_run_is_said_once_and_its_moves_still_undo(tmp_path: Path,
                                                                                          monkeypatch) -> None:
    # Made immutable while the watch ran (or its disk turned read-only), .sorter/watching refused
    # the watch's run, and nothing was said: were the watch then killed, the next would say nothing
    # of its moves. Now one line says so, and what still holds: the moves are journaled and undone.
    from typer.testing import CliRunner

    from sorter.cli import app

    note = tmp_path / ".sorter" / "watching"
    probe = tmp_path / "probe"
    probe.touch()
    if not chattr(probe, "+i"):  # a file's open descriptor ignores chmod: only the immutable flag refuses it
        pytest.skip("needs chattr +i (root, ext4 or alike) to make .sorter/watching refuse a running watch")
    chattr(probe, "-i")
    probe.unlink()

    def meanwhile() -> None:
        assert chattr(note, "+i")
        write_image(tmp_path / "rex.png", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.png").exists(), 10)

    try:
        result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=0.1), meanwhile)
    finally:
        chattr(note, "-i")

    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    said = f"cannot write {note}: Operation not permitted; this watch's moves are journaled and its last line says " \
           "how to undo them, but were it killed, the next watch could not say how"
    assert lines.count(said) == 1, result.stderr
    assert lines[-1] == f"stopped watching {tmp_path}: moved 1 file (dogs: 1); undo with: sorter undo {tmp_path}"
    assert CliRunner().invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert (tmp_path / "rex.png").exists() and not (tmp_path / "dogs").exists()


def chattr_works(tmp_path: Path) -> None:
    """Skips the test where `chattr +i` is refused (not root, a filesystem without the flag): as
    root, a mode refuses nothing, so only the immutable flag makes a file refuse a write."""
    probe = tmp_path / "probe"
    probe.touch()
    if not chattr(probe, "+i"):
        pytest.skip("needs chattr +i (root, ext4 or alike) to make sorter's own files refuse a write")
    chattr(probe, "-i")
    probe.unlink()


@pytest.mark.parametrize("typed", ["absolute", "relative"])
@pytest.mark.parametrize("refusing", [".sorter", ".sorter/watching"])
def test_a_sorter_file_that_refuses_the_watch_at_its_start_says_what_to_do_with_exit_2(tmp_path: Path, monkeypatch,
                                                                                       refusing: str, typed: str) -> None:
    # An immutable .sorter/watching ended the watch with "Error: …/.sorter/watching: Operation not
    # permitted", exit 1, an immutable .sorter/ with "cannot write in …/.sorter: …", exit 2: one
    # problem, two statuses for a service manager, and neither said what to do with a file the
    # user never made. Now both: exit 2, what refuses it, and the command that lets sorter write it.
    # Both name it from the folder as typed: `watch q1` said "q1/.sorter" of one and
    # "/tmp/…/q1/.sorter/watching" of the other.
    chattr_works(tmp_path)
    write_image(tmp_path / "rex.png", RED)
    (tmp_path / ".sorter").mkdir()
    (tmp_path / ".sorter" / "watching").touch()
    folder = tmp_path if typed == "absolute" else Path(tmp_path.name)
    monkeypatch.chdir(tmp_path.parent)
    path = folder / refusing
    assert chattr(path, "+i")
    try:
        result = watched_through_the_cli_until(folder, monkeypatch, 1)
    finally:
        chattr(path, "-i")

    assert (result.exit_code, result.stderr) == (2, f"Error: cannot write in {path}: Operation not permitted; it is "
                                                    f"immutable: chattr -i {path} (as root) lets sorter write it\n")
    assert (tmp_path / "rex.png").exists() and not (tmp_path / "dogs").exists()  # nothing done


def test_a_watching_file_the_stop_cannot_clear_is_said_with_what_to_do(tmp_path: Path, monkeypatch) -> None:
    # Made immutable after the watch listed its run, .sorter/watching kept its pid at the stop, and
    # nothing was said: the next watch took the watch for cut short, and its undo line counted the
    # moves again that this one's stop line had said how to undo. Now the stop says so, and what
    # the next watch needs; its runs listed beside the file, the next watch's undo line is its own,
    # the file made writable but not emptied.
    chattr_works(tmp_path)
    note = tmp_path / ".sorter" / "watching"

    def meanwhile() -> None:
        write_image(tmp_path / "rex.png", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.png").exists(), 10)  # its run listed before the move
        assert chattr(note, "+i")

    try:
        result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=0.1), meanwhile)
    finally:
        chattr(note, "-i")

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-2:] == [  # cleared once the stop line is said: a kill before leaves it listed
        f"stopped watching {tmp_path}: moved 1 file (dogs: 1); undo with: sorter undo {tmp_path}",
        f"cannot clear {note}: Operation not permitted; it is immutable: chattr -i {note} (as root) lets sorter write "
        "it, which the next watch needs"]
    write_image(tmp_path / "fido.png", RED)
    monkeypatch.undo()
    result = watched_through_the_cli_until(tmp_path, monkeypatch, 1)
    assert result.exit_code == 0, result.output
    undone_as_hinted(result, tmp_path, f"sorter undo {tmp_path}")  # its own: the first watch's stays
    assert (tmp_path / "fido.png").exists() and (tmp_path / "dogs" / "rex.png").exists()


@pytest.mark.parametrize("long_note", [False, True], ids=["", "a long line above the runs"])
@pytest.mark.parametrize("sorts", [True, False], ids=["the sort moves a photo", "the sort moves none"])
def test_a_sort_after_a_killed_watch_says_the_undo_of_that_watch_too(tmp_path: Path, monkeypatch, sorts: bool,
                                                                     long_note: bool) -> None:
    # A watch killed, then `sorter sort`: the sort said "Undo with: sorter undo DIR", and a watch
    # started after it says only its own undo (the killed watch's moves stay behind the sort). The
    # killed watch's moves were never told by anyone. Now the sort's undo line says them too.
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.model import lite

    monkeypatch.setattr(lite, "load_classifier", lambda path: FakeClassifier())
    a_watch_killed_after_filing(tmp_path, "k1.png")
    if long_note:  # read whole, as the next watch reads it: the run id past 64 KiB was lost
        with_a_long_line_above_the_runs(tmp_path / ".sorter" / "watching")
    if sorts:
        write_image(tmp_path / "tabby.png", BLUE)
    result = CliRunner().invoke(app, ["sort", str(tmp_path)])

    assert result.exit_code == 0, result.output
    hint = (f"Undo with: sorter undo {tmp_path} (then once more for the watch cut short before this sort)" if sorts
            else f"Undo with: sorter undo {tmp_path} (it takes back the watch cut short before this sort)")
    assert result.stdout.splitlines()[-1] == hint
    for _ in range(2 if sorts else 1):  # as it says
        assert CliRunner().invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert sorted(os.listdir(tmp_path)) == (["k1.png", "tabby.png"] if sorts else ["k1.png"])
    again = CliRunner().invoke(app, ["sort", str(tmp_path)])  # the watch's undo was said: a sort's own alone
    assert again.stdout.splitlines()[-1] == f"Undo with: sorter undo {tmp_path}"


@pytest.mark.parametrize("sorts", [True, False], ids=["the sort moves a photo", "the sort moves none"])
@pytest.mark.parametrize("option", ["--json", "--jsonl"])
def test_a_sorts_json_after_a_killed_watch_counts_the_undos_its_line_says(tmp_path: Path, monkeypatch, sorts: bool,
                                                                          option: str) -> None:
    # `sort --json` said no undo at all, where the terminal's line says "then once more for the
    # watch cut short before this sort": a script undid the sort once and left the watch's moves.
    import json

    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.model import lite

    monkeypatch.setattr(lite, "load_classifier", lambda path: FakeClassifier())
    a_watch_killed_after_filing(tmp_path, "k1.png")
    if sorts:
        write_image(tmp_path / "tabby.png", BLUE)
    result = CliRunner().invoke(app, ["sort", str(tmp_path), option])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.splitlines()[-1])
    summary = summary["summary"] if option == "--jsonl" else summary
    assert (summary["undos"], summary["watches_cut_short"]) == ((2, 1) if sorts else (1, 1))
    for _ in range(summary["undos"]):  # as it says
        assert CliRunner().invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert sorted(os.listdir(tmp_path)) == (["k1.png", "tabby.png"] if sorts else ["k1.png"])
    again = json.loads(CliRunner().invoke(app, ["sort", str(tmp_path), "--json"]).stdout)  # a sort's own alone
    assert (again["undos"], again["watches_cut_short"]) == (1, 0)
    dry = json.loads(CliRunner().invoke(app, ["sort", str(tmp_path), "--json", "--dry-run"]).stdout)
    assert (dry["undos"], dry["watches_cut_short"]) == (0, 0)  # a plan moves nothing


def test_a_dry_run_after_killed_watches_says_them_as_the_sort_would(tmp_path: Path, monkeypatch) -> None:
    # `sort --dry-run` after watches killed said nothing of them, where the sort right after says
    # "Undo with: sorter undo DIR, twice (they take back the 2 watches cut short before this sort)",
    # and its --json said `"watches_cut_short": 0`. A dry run is where a user checks what a sort
    # would do: its last line says them, and its --json counts them (`undos` stays 0: a plan
    # moves nothing).
    import json

    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.model import lite

    monkeypatch.setattr(lite, "load_classifier", lambda path: FakeClassifier())

    def dry_run(*options: str):
        result = CliRunner().invoke(app, ["sort", str(tmp_path), "--dry-run", *options])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout) if options else result.stdout.splitlines()

    write_image(tmp_path / "tabby.png", BLUE)
    assert dry_run()[-1] == "Dry run: nothing was changed. Every file's plan: --verbose."  # none killed: no line
    a_watch_killed_after_filing(tmp_path, "k1.png")
    assert dry_run()[-1] == (f"A watch was cut short before this dry run: sorter undo {tmp_path} takes back its "
                             "moves; a sort's undo line says them too.")
    a_watch_killed_after_filing(tmp_path, "k2.png")
    assert dry_run()[-1] == (f"2 watches were cut short before this dry run: sorter undo {tmp_path}, twice takes "
                             "back their moves; a sort's undo line says them too.")
    said = dry_run("--json")
    assert (said["undos"], said["watches_cut_short"]) == (0, 2)

    for _ in range(2):  # as it says
        assert CliRunner().invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert sorted(os.listdir(tmp_path)) == ["k1.png", "k2.png", "tabby.png"]  # the watches' moves back
    assert dry_run()[-1] == "Dry run: nothing was changed. Every file's plan: --verbose."  # nothing left of them


def test_a_sort_stopped_part_way_after_a_killed_watch_says_the_undo_of_that_watch_too(tmp_path: Path,
                                                                                      monkeypatch) -> None:
    # A disk that filled up part way: the sort said "or undo with: sorter undo DIR", which took
    # back its one move and left the killed watch's photo in dogs/, said by no one.
    from typer.testing import CliRunner

    from sorter.cli import app

    a_watch_killed_after_filing(tmp_path, "k1.png")
    full_after_one_photo(tmp_path, monkeypatch, FakeClassifier())
    result = CliRunner().invoke(app, ["sort", str(tmp_path)])

    assert result.exit_code == 1 and result.stderr == (
        f"Error: {tmp_path / '.sorter' / 'journal.jsonl'}: No space left on device; moved 1 file before it "
        f"stopped, journaled: sort again once there is room, or undo with: sorter undo {tmp_path} (then once more "
        "for the watch cut short before this sort)\n"), result.output
    monkeypatch.undo()  # room again
    for _ in range(2):  # as it says
        assert CliRunner().invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert sorted(os.listdir(tmp_path)) == ["k1.png", "rex.png", "tom.png"]


def test_a_sort_stopped_by_ctrl_c_after_a_killed_watch_says_the_undo_of_that_watch_too(tmp_path: Path,
                                                                                       monkeypatch) -> None:
    # Ctrl-C part way: "Undo with: sorter undo DIR" took back the sort's one move alone.
    from conftest import ctrl_c_at
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import moves
    from sorter.model import lite

    a_watch_killed_after_filing(tmp_path, "k1.png")
    write_image(tmp_path / "rex.png", RED)
    write_image(tmp_path / "tom.png", RED)
    monkeypatch.setattr(lite, "load_classifier", lambda path: FakeClassifier())
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 2))
    result = CliRunner().invoke(app, ["sort", str(tmp_path)])
    monkeypatch.undo()

    assert (result.exit_code, result.stderr.splitlines()[-2:]) == (130, [
        "Interrupted: moved 1 file before it stopped.",
        f"Undo with: sorter undo {tmp_path} (then once more for the watch cut short before this sort)"]), result.output
    for _ in range(2):  # as it says
        assert CliRunner().invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert sorted(os.listdir(tmp_path)) == ["k1.png", "rex.png", "tom.png"]


def test_a_sort_moving_nothing_after_a_killed_watch_and_a_review_counts_the_review_once(tmp_path: Path,
                                                                                      monkeypatch) -> None:
    # A watch killed after filing rex, a review made since ("a cat, in fact"), then a sort that
    # moves nothing: its line must take back the review and the watch, and say both. The sort made
    # no run, so the journal's latest (the review's) is not its own: counted as the sort's, the
    # line said "(it takes back the watch cut short before this sort)" of two undos' work.
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.model import lite

    monkeypatch.setattr(lite, "load_classifier", lambda path: FakeClassifier())
    a_watch_killed_after_filing(tmp_path, "k1.png")
    corrected_on_the_page(tmp_path, "dogs/k1.png", "cat")
    result = CliRunner().invoke(app, ["sort", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"Undo with: sorter undo {tmp_path}, twice (they take back the watch cut short before this sort and the "
        "review made since)")
    for _ in range(2):  # as it says
        assert CliRunner().invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert sorted(os.listdir(tmp_path)) == ["k1.png"]



@pytest.mark.parametrize("killed_before", [False, True], ids=["", "after a killed watch"])
def test_a_sort_after_a_stop_that_could_not_clear_the_watching_file_counts_that_watch_once(
        tmp_path: Path, monkeypatch, killed_before: bool) -> None:
    # The stop said its undo (and that of the watch killed before it), but could not clear
    # .sorter/watching; the user, told to empty it, did not, and sorted: the sort's line said
    # "then once more for the watch cut short before this sort", `--json` `"undos": 2,
    # "watches_cut_short": 1`, of a watch whose own line had said its undo. Now the sort counts its
    # own, file still immutable or made writable and left as it was, and the watch after it too.
    import json

    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.model import lite

    chattr_works(tmp_path)
    note = tmp_path / ".sorter" / "watching"
    if killed_before:
        a_watch_killed_after_filing(tmp_path, "k1.png")

    def meanwhile() -> None:
        write_image(tmp_path / "rex.png", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.png").exists(), 10)  # its run listed before the move
        assert chattr(note, "+i")

    def sort(*options: str):
        write_image(tmp_path / f"tabby{len(os.listdir(tmp_path / 'cats')) if (tmp_path / 'cats').exists() else 0}.png",
                    BLUE)
        result = CliRunner().invoke(app, ["sort", str(tmp_path), *options])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout) if options else result.stdout.splitlines()[-1]

    try:
        result = watched_through_the_cli(tmp_path, monkeypatch, watcher.WatchSettings(settle=0.1), meanwhile)
        assert result.exit_code == 0, result.output
        moved = "moved 1 file (dogs: 1); undo with: sorter undo "
        assert result.stderr.splitlines()[-2] == (  # the last: "cannot clear ..."
            f"stopped watching {tmp_path}: {moved}{tmp_path} --all (it takes back the watch cut short before this one too)"
            if killed_before else f"stopped watching {tmp_path}: {moved}{tmp_path}")
        monkeypatch.undo()
        monkeypatch.setattr(lite, "load_classifier", lambda path: FakeClassifier())
        said = sort("--json")  # the advice ignored: the file still immutable
    finally:
        chattr(note, "-i")
    assert (said["undos"], said["watches_cut_short"]) == (1, 0)
    assert sort() == f"Undo with: sorter undo {tmp_path}"  # writable, not emptied
    write_image(tmp_path / "fido.png", RED)
    result = watched_through_the_cli_until(tmp_path, monkeypatch, 1)
    assert result.exit_code == 0, result.output
    undone_as_hinted(result, tmp_path, f"sorter undo {tmp_path}")  # its own
    assert (tmp_path / "fido.png").exists() and not (tmp_path / ".sorter" / "watching.said").exists()


def test_a_dry_run_beside_a_running_watch_says_that_watch_and_no_watch_cut_short(tmp_path: Path, monkeypatch) -> None:
    # Before: `sort --dry-run` while a watch ran said "A watch was cut short before this dry run:
    # sorter undo DIR takes back its moves; ...", and --json `"watches_cut_short": 1`, of the
    # watch at work (its pid and runs in .sorter/watching, as a killed one leaves them), where the
    # sort itself is refused: "another sorter (pid N) is working on DIR". Now it says the watch,
    # and that a sort would be refused; the watch's own stop line says its undo, and that of the
    # watch killed before it, so the dry run counts neither.
    import json
    import signal
    import sys

    from conftest import REPO
    from typer.testing import CliRunner

    from sorter.cli import app
    from sorter.files import watching_note
    from sorter.model import lite

    monkeypatch.setattr(lite, "load_classifier", lambda path: FakeClassifier())

    def dry_run(*options: str):
        result = CliRunner().invoke(app, ["sort", str(tmp_path), "--dry-run", *options])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout) if options else result.stdout.splitlines()

    a_watch_killed_after_filing(tmp_path, "k1.png")
    running = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; from conftest import FakeClassifier; "
         "from sorter.watching import watch, watcher; watch.watch_folder(Path(sys.argv[1]), "
         "classifier=FakeClassifier(), settings=watcher.WatchSettings(settle=0.1))", str(tmp_path)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])})
    try:
        assert wait_until(lambda: watching_note.Watching.holder(tmp_path) == str(running.pid), 20)
        write_image(tmp_path / "rex.png", RED)
        assert wait_until(lambda: (tmp_path / "dogs" / "rex.png").exists(), 20)  # its run listed
        lines, said = dry_run(), dry_run("--json")
        refused = CliRunner().invoke(app, ["sort", str(tmp_path)])
    finally:
        running.send_signal(signal.SIGINT)
        running.wait(20)

    assert lines[-1] == (f"A watch (pid {running.pid}) is working on {tmp_path}: this plan is of the folder as it is "
                         "now, and a sort would be refused until the watch stops.")
    assert (said["undos"], said["watches_cut_short"], said["sorts_cut_short"], said["another_sorter"]) == (
        0, 0, 0, str(running.pid))
    assert (refused.exit_code, refused.stderr) == (1, f"Error: another sorter (pid {running.pid}) is working on "
                                                      f"{tmp_path}; wait for it to finish or stop it\n")
    assert dry_run()[-1] == "Dry run: nothing was changed. Every file's plan: --verbose."  # stopped: its line said all
