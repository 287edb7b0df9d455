"""The folder a command is given, as every command checks it (`files.folder.check_folder`) and
shows it: a file is `not a folder`, a folder that cannot be written in says why, and the path
shown is absolute with `..` and `.` taken out, a link named kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FakeClassifier, ctrl_c_at, tree, without_root_powers, write_image
from test_watch import watched_through_the_cli_until
from typer.testing import CliRunner

from sorter.cli import app
from sorter.watching import watch

RESTARTED = "sorter watch exits with status 2 and systemd starts it again 10 s later"


@pytest.mark.parametrize("command", [["sort"], ["sort", "--dry-run"], ["undo"], ["review"], ["watch"], ["learn"],
                                     ["watch", "--print-systemd-unit"]])
def test_a_file_given_as_the_folder_is_not_a_folder(tmp_path: Path, monkeypatch, command: list[str]) -> None:
    # A file is there: "folder not found" would send the user looking for one that is missing.
    monkeypatch.chdir(tmp_path)
    write_image(tmp_path / "pool" / "b090_dog.jpg")
    result = CliRunner().invoke(app, [command[0], "pool/b090_dog.jpg", *command[1:]])
    assert (result.exit_code, result.stderr) == (2, "Error: not a folder: pool/b090_dog.jpg\n")
    assert result.stdout == ""  # no unit printed for it
    assert os.listdir(tmp_path / "pool") == ["b090_dog.jpg"]


def test_print_systemd_unit_of_a_folder_not_writable_now_prints_it_with_a_note(tmp_path: Path) -> None:
    # It printed the unit without a word, while `sorter watch` of the folder exits 2 ("cannot write
    # in"), restarted every 10 s. Printed all the same, as for a folder missing: a share's mount
    # point is often not the user's to write in until the share is mounted on it.
    closed = tmp_path / "closed"
    closed.touch(mode=0o000)
    as_user = without_root_powers(closed)
    folder = tmp_path / "W23"
    folder.mkdir(mode=0o555)
    sorter = [*as_user, sys.executable, "-m", "sorter", "watch", str(folder)]
    printed = subprocess.run([*sorter, "--print-systemd-unit"], capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    assert f" watch {folder}\n" in printed.stdout and "Restart=on-failure" in printed.stdout
    assert printed.stderr == (f"note: cannot write in {folder} now (Permission denied); the unit waits for it (until "
                              f"it can, {RESTARTED})\n")
    watched = subprocess.run(sorter, capture_output=True, text=True, timeout=60)
    assert (watched.returncode, watched.stderr) == (2, f"Error: cannot write in {folder}: Permission denied\n")
    folder.chmod(0o755)
    printed = subprocess.run([*sorter, "--print-systemd-unit"], capture_output=True, text=True, timeout=60)
    assert (printed.returncode, printed.stderr) == (0, "")


def test_watching_shows_the_folder_without_dot_dot_but_keeps_a_link_named(tmp_path: Path, monkeypatch) -> None:
    # `sorter watch W1/dogs/..` said "watching /tmp/qa26/W1/dogs/.. (inotify)".
    write_image(tmp_path / "W1" / "cat.jpg")
    (tmp_path / "W1" / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    real_watch_folder = watch.watch_folder
    result = watched_through_the_cli_until(Path("W1/sub/.."), monkeypatch, 1)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"watching {tmp_path / 'W1'} (")
    assert lines[-1] == (f"stopped watching {tmp_path / 'W1'}: moved 1 file (dogs: 1); "
                         f"undo with: sorter undo {tmp_path / 'W1'}")
    # `link/..` goes up from where the link points: taken out, it would name another folder.
    (tmp_path / "far" / "W2").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "far" / "W2")
    write_image(tmp_path / "far" / "dog.jpg", colour=(255, 0, 0))
    monkeypatch.setattr(watch, "watch_folder", real_watch_folder)  # the fake's own, not wrapped twice
    result = watched_through_the_cli_until(Path("link/.."), monkeypatch, 1)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0].startswith(f"watching {tmp_path / 'link' / '..'} (")
    assert (tmp_path / "far" / ".sorter").is_dir() and not (tmp_path / ".sorter").exists()
    unit = CliRunner().invoke(app, ["watch", "link/..", "--print-systemd-unit"])  # the unit said `watch TMP`
    assert unit.exit_code == 0 and f" watch {tmp_path / 'link' / '..'}\n" in unit.stdout, unit.output


def test_a_folder_where_no_file_can_be_made_says_so(tmp_path: Path) -> None:
    # procfs answers the making of a file with ENOENT: "cannot write in /proc: No such file or directory".
    if not os.path.isdir("/proc/self"):
        pytest.skip("needs Linux's /proc")
    if os.geteuid() != 0:  # a user is refused by /proc's mode (555) before procfs is asked to make a file
        pytest.skip("needs root: /proc refuses another user by its mode first (Permission denied)")
    result = CliRunner().invoke(app, ["watch", "/proc"])
    assert (result.exit_code, result.stderr) == (2, "Error: cannot write in /proc: its filesystem makes no new files\n")


def test_sort_names_the_folder_without_dot_dot_in_every_line_its_undo_hint_too(tmp_path: Path, monkeypatch) -> None:
    # `sorter sort S1/sub/..` said "Sorted /tmp/S1", then "Undo with: sorter undo /tmp/S1/sub/..",
    # and its log file's lines named each photo by its whole path, not as in S1.
    from sorter.files import moves
    from sorter.model import lite

    for name in ("a.png", "b.png", "c.png"):
        write_image(tmp_path / "S1" / name, (0, 0, 255))
    (tmp_path / "S1" / "sub").mkdir()
    before = tree(tmp_path / "S1")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    runner, folder = CliRunner(), tmp_path / "S1"
    result = runner.invoke(app, ["sort", "S1/sub/..", "--log-file", "sort.log"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (lines[0], lines[-1]) == (f"Sorted {folder}", f"Undo with: sorter undo {folder}")
    logged = (tmp_path / "sort.log").read_text().splitlines()
    assert sorted(line.split(" ", 2)[2] for line in logged[:3]) == [f"moved {name} -> dogs/{name} (dog, 100%)"
                                                              for name in ("a.png", "b.png", "c.png")]
    assert f" sorted {folder}: moved 3 files (dogs: 3); review: " in logged[-1]
    assert runner.invoke(app, ["undo", "S1/sub/.."]).exit_code == 0
    assert tree(folder) == before

    # A Ctrl-C at the second move: "Undo with: sorter undo /tmp/S1/sub/.." too.
    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 2))
    stopped = runner.invoke(app, ["sort", "S1/sub/.."])
    assert (stopped.exit_code, stopped.stderr.splitlines()[-2:]) == (
        130, ["Interrupted: moved 1 file before it stopped.", f"Undo with: sorter undo {folder}"]), stopped.output


def test_a_watch_stopped_by_a_second_ctrl_c_names_the_folder_without_dot_dot(tmp_path: Path, monkeypatch) -> None:
    # Its "Undo with: sorter undo /tmp/W1/sub/.." beside "watching /tmp/W1 (inotify)".
    write_image(tmp_path / "W1" / "cat.png", (255, 0, 0))
    (tmp_path / "W1" / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    real_watch_folder = watch.watch_folder

    def ctrl_c_after_the_first_photo(directory: Path, *, model, on_result, **options):
        def second_ctrl_c(result) -> None:
            on_result(result)
            raise KeyboardInterrupt  # as the second Ctrl-C lands, the first photo filed

        from test_watch import watcher
        return real_watch_folder(directory, classifier=FakeClassifier(), on_result=second_ctrl_c,
                                 settings=watcher.WatchSettings(settle=0.1), **options)

    monkeypatch.setattr(watch, "watch_folder", ctrl_c_after_the_first_photo)
    result = CliRunner().invoke(app, ["watch", "W1/sub/.."])
    assert "\nmoved cat.png -> cats/cat.png (cat, 100%)\n" in result.stderr  # not by their whole paths
    assert (result.exit_code, result.stderr.splitlines()[-2:]) == (
        130, ["Interrupted: moved 1 file before it stopped.", f"Undo with: sorter undo {tmp_path / 'W1'}"]), result.output
