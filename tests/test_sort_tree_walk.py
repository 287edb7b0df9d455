"""How a recursive sort walks a tree: each folder entered once (a bind mount of the tree inside
itself is said, not entered), a sub-folder it cannot list counted as a folder, a photo deleted
while it runs said to have vanished, and what `Not looked into` promises `--recursive` sorts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import FakeClassifier, ThreeClassFake, as_a_user, mounted, tree, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite

BLUE = (255, 0, 0)  # BGR: a cat to the fakes
runner = CliRunner(env={"COLUMNS": "160"})  # summary rows on one line each, whatever the terminal


@pytest.fixture(autouse=True)
def fake_model(monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())


def rows(stdout: str, word: str) -> list[str]:
    return [line for line in stdout.splitlines() if word in line]


def test_a_bind_mount_of_the_tree_inside_itself_is_said_and_not_entered(tmp_path: Path) -> None:
    """`mount --bind t t/2020/bindloop`: every photo was seen twice, by its path and through the
    mount (a dry run planned 8 moves of 4 photos); a real sort moved some through the second
    path, a copy across mount points, and said the others "vanished" once the first path had
    moved them; its undo, after the unmount, put those into 2020/bindloop/2020/01/. Each folder
    is entered once: the mount is said as the folders a recursive sort does not enter are."""
    if os.geteuid() != 0:
        pytest.skip("needs root to bind-mount the tree inside itself")
    t = tmp_path / "t"
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        write_image(t / "2020" / "01" / name, BLUE)
    write_image(t / "top.jpg", BLUE)
    loop = t / "2020" / "bindloop"
    loop.mkdir()
    before = tree(t)
    with mounted(["mount", "--bind", str(t), str(loop)], loop, "the tree inside itself"):
        planned = runner.invoke(app, ["sort", str(t), "-r", "-n", "-v"])
        data = json.loads(runner.invoke(app, ["sort", str(t), "-r", "-n", "--json"]).stdout)
        sorted_ = runner.invoke(app, ["sort", str(t), "-r"])
    after_sort = tree(t)  # unmounted: each file once
    undone = runner.invoke(app, ["undo", str(t)])

    assert planned.exit_code == 0, planned.output
    assert rows(planned.stdout, "│") == [
        "│ would move to cats/    │                                     │        4 │",
        "│ left in place: skipped │ the same folder as . (a bind mount) │ 1 folder │"], planned.stdout
    assert "skipped: 2020/bindloop: the same folder as . (a bind mount)" in planned.stderr.splitlines()
    assert data["counts"] == {"planned": 4}
    assert data["folders_skipped"] == {"the same folder as . (a bind mount)": 1}
    assert [(f["kind"], f["status"]) for f in data["files"] if f["path"].endswith("bindloop")] == [
        ("folder", "skipped")]
    assert sorted_.exit_code == 0, sorted_.output
    assert "vanished" not in sorted_.stdout
    assert set(after_sort) == {"cats/a.jpg", "cats/b.jpg", "cats/c.jpg", "cats/top.jpg"}
    assert undone.exit_code == 0, undone.output
    assert tree(t) == before and not any(loop.iterdir())  # all back where they were, none under the mount point


def test_a_sub_folder_it_cannot_list_is_a_folder_skipped_not_a_file(tmp_path: Path) -> None:
    """`chmod 000 noperm`: `-r` counted it among the files (`left in place: skipped | cannot list
    folder | 1`), and --json as `"kind": "photo"` in `counts.skipped`, with `folders_skipped` {}.
    It is a folder not entered, as README says of those."""
    write_image(tmp_path / "top.jpg", BLUE)
    noperm = tmp_path / "noperm"
    write_image(noperm / "tom.jpg", BLUE)
    noperm.chmod(0o000)
    try:
        with as_a_user(noperm):
            shown = runner.invoke(app, ["sort", str(tmp_path), "-r", "-n", "-v"])
            data = json.loads(runner.invoke(app, ["sort", str(tmp_path), "-r", "-n", "--json"]).stdout)
    finally:
        noperm.chmod(0o755)

    assert shown.exit_code == 0, shown.output
    assert rows(shown.stdout, "cannot list") == [
        "│ left in place: skipped │ cannot list folder │ 1 folder │"], shown.stdout
    assert "skipped: noperm: cannot list folder: Permission denied" in shown.stderr.splitlines()
    assert data["counts"] == {"planned": 1}
    assert data["folders_skipped"] == {"cannot list folder": 1}
    assert [(f["kind"], f["status"], f["reason"]) for f in data["files"] if f["path"].endswith("noperm")] == [
        ("folder", "skipped", "cannot list folder: Permission denied")]


def test_a_sub_folder_whose_path_is_too_long_to_list_says_so(tmp_path: Path) -> None:
    """A tree deeper than the 4096 bytes a path may have: its deepest folder was said `cannot list
    folder: File name too long`, though no name in it is; and counted as a file."""
    name = "d" * 250
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(17):  # 17 x 251 bytes: past 4096 from tmp_path, whatever it is
            os.mkdir(name, dir_fd=fd)
            deeper = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = deeper
    finally:
        os.close(fd)
    write_image(tmp_path / "top.jpg", BLUE)

    shown = runner.invoke(app, ["sort", str(tmp_path), "-r", "-n", "-v"])
    data = json.loads(runner.invoke(app, ["sort", str(tmp_path), "-r", "-n", "--json"]).stdout)

    assert shown.exit_code == 0, shown.output
    too_long = "cannot list folder: its path is longer than the system allows (4096 bytes)"
    said = [line for line in shown.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(said) == 1 and said[0].endswith(f"/{name}: {too_long}"), shown.stderr
    assert rows(shown.stdout, "cannot list") == ["│ left in place: skipped │ cannot list folder │ 1 folder │"]
    assert data["counts"] == {"planned": 1} and data["folders_skipped"] == {"cannot list folder": 1}
    assert [(f["kind"], f["reason"]) for f in data["files"] if f["status"] == "skipped"] == [("folder", too_long)]


def test_a_photo_deleted_after_it_was_listed_has_vanished_it_is_not_unreadable(tmp_path: Path) -> None:
    """A photo deleted while a sort ran was said `vanished` where it went between its read and
    its move, but `unreadable | cannot open: No such file or directory` where it went between
    the listing and its read (21 of 41 deleted). Gone is gone: vanished, both."""
    from sorter.media.folders import scan_folder
    from sorter.sorting.batches import Sorter

    write_image(tmp_path / "tom.jpg", BLUE)
    write_image(tmp_path / "gone.jpg", BLUE)
    listed = list(scan_folder(tmp_path, videos=True))  # what the sort's listing saw
    (tmp_path / "gone.jpg").unlink()  # then the user deleted it, before sorter read it
    sorter = Sorter(tmp_path, FakeClassifier())
    try:
        results = {r.path.name: (r.status, r.reason) for r in sorter.sort_entries(listed)}
    finally:
        sorter.close()

    assert results == {"tom.jpg": ("moved", None),
                       "gone.jpg": ("vanished", "file disappeared before it could be moved")}


def test_not_looked_into_names_no_sub_folder_recursive_cannot_open(tmp_path: Path) -> None:
    """`Not looked into: 3 sub-folders (a/, noexec/, noperm/); --recursive sorts them too.`, of a
    folder with one sub-folder it can read, one it cannot list (mode 000) and one it can list but
    not enter (mode 644: --recursive finds the photo's name and cannot open it). It names the one
    --recursive sorts."""
    write_image(tmp_path / "top.jpg", BLUE)
    for sub in ("a", "noexec", "noperm"):
        write_image(tmp_path / sub / "tom.jpg", BLUE)
    (tmp_path / "noexec").chmod(0o644)
    (tmp_path / "noperm").chmod(0o000)
    try:
        with as_a_user(tmp_path / "noperm"):
            shown = runner.invoke(app, ["sort", str(tmp_path), "-n"])
            data = json.loads(runner.invoke(app, ["sort", str(tmp_path), "-n", "--json"]).stdout)
    finally:
        for sub in ("noexec", "noperm"):
            (tmp_path / sub).chmod(0o755)

    assert shown.exit_code == 0, shown.output
    assert "Not looked into: 1 sub-folder (a/); --recursive sorts them too." in shown.stdout, shown.stdout
    assert data["not_looked_into"] == {"sub_folders": 1, "named": ["a"]}


def test_a_sub_folder_left_unreadable_as_a_user_runs_it_is_not_named(tmp_path: Path) -> None:
    """The same through the console script as a user runs it (root's powers over file modes
    dropped by setpriv, for the whole process): the folder it cannot list is not named."""
    write_image(tmp_path / "top.jpg", BLUE)
    for sub in ("a", "noperm"):
        write_image(tmp_path / sub / "tom.jpg", BLUE)
    (tmp_path / "noperm").chmod(0o000)
    try:
        prefix = []
        if os.geteuid() == 0:
            drop = "-dac_override,-dac_read_search,-fowner"
            prefix = ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}"]
            probe = subprocess.run([*prefix, "ls", str(tmp_path / "noperm")], capture_output=True)
            if probe.returncode == 0:
                pytest.skip("setpriv could not keep root out of a folder of mode 000")
        import sys
        script = ("import json, sys; from conftest import ThreeClassFake; from sorter.model import lite; "
                  "lite.load_classifier = lambda model: ThreeClassFake(); from sorter.cli import app; "
                  "app(['sort', sys.argv[1], '-n', '--json'])")
        done = subprocess.run([*prefix, sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                              text=True, cwd=Path(__file__).parent,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                  [str(Path(__file__).parent.parent), str(Path(__file__).parent)])})
    finally:
        (tmp_path / "noperm").chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["not_looked_into"] == {"sub_folders": 1, "named": ["a"]}


def test_a_sub_folder_it_can_list_but_not_enter_is_a_folder_skipped(tmp_path: Path) -> None:
    """`chmod 600 noexec`: listed, not entered (no search permission). `-r` found its photos'
    names and said each `unreadable | cannot open: Permission denied`, one by one. It is a folder
    not entered, as one it cannot list is, and nothing in it is moved."""
    write_image(tmp_path / "top.jpg", BLUE)
    noexec = tmp_path / "noexec"
    for name in ("tom.jpg", "rex.jpg", "kit.jpg"):
        write_image(noexec / name, BLUE)
    noexec.chmod(0o600)
    try:
        with as_a_user(noexec):
            shown = runner.invoke(app, ["sort", str(tmp_path), "-r", "-n", "-v"])
            data = json.loads(runner.invoke(app, ["sort", str(tmp_path), "-r", "-n", "--json"]).stdout)
            sorted_ = runner.invoke(app, ["sort", str(tmp_path), "-r"])
    finally:
        noexec.chmod(0o755)

    assert shown.exit_code == 0, shown.output
    assert "unreadable" not in shown.stdout, shown.stdout
    assert rows(shown.stdout, "cannot enter") == [
        "│ left in place: skipped │ cannot enter folder │ 1 folder │"], shown.stdout
    assert "skipped: noexec: cannot enter folder: Permission denied" in shown.stderr.splitlines()
    assert data["counts"] == {"planned": 1}
    assert data["folders_skipped"] == {"cannot enter folder": 1}
    assert [(f["kind"], f["status"], f["reason"]) for f in data["files"] if "noexec" in f["path"]] == [
        ("folder", "skipped", "cannot enter folder: Permission denied")]
    assert sorted_.exit_code == 0, sorted_.output
    assert sorted(p.name for p in noexec.iterdir()) == ["kit.jpg", "rex.jpg", "tom.jpg"]
