"""What `sorter review` leaves in a folder: a person who only looked at a folder sorter never
sorted finds it as it was, `.sorter/` included; what a correction wrote, a `.sorter/` that was
there before and one another sorter made meanwhile are kept. The other commands that only read
a folder leave nothing in it either."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ThreeClassFake, layout, video_bytes, write_image
from test_review_server import Client, start
from typer.testing import CliRunner

from sorter.cli import app
from sorter.errors import FolderLocked
from sorter.files.lock import FolderLock
from sorter.learning import corrections
from sorter.sorting import sort

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fakes say red = dog, blue = cat
runner = CliRunner()


def never_sorted(root: Path) -> dict[str, object]:
    """A folder of photos sorter has never seen: its layout."""
    write_image(root / "rex.jpg", RED)
    write_image(root / "tom.jpg", BLUE)
    (root / "rex.MOV").write_bytes(video_bytes("a live photo's video"))  # a QuickTime file: its video
    return layout(root)


@contextmanager
def reviewing(root: Path):
    """The review server of `root`, in this process, as a client to it; stopped after."""
    client, stop, thread = start(root)
    try:
        yield client
    finally:
        stop.set()
        thread.join(10)


def sorter_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / ".sorter").iterdir())


def test_a_look_at_a_folder_never_sorted_leaves_it_as_it_was(tmp_path: Path) -> None:
    before = never_sorted(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "sorter", "review", str(tmp_path), "--no-browser"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{43}", url), url
        client = Client(url)
        assert {"rex.jpg", "tom.jpg"} <= set(client.cards())
        assert layout(tmp_path) == before  # no .sorter/ even while it serves: its lock went with it
        (tmp_path / "cats" / "Luna").mkdir(parents=True)  # a pet's folder made by hand: a reload lists again, locked
        before = layout(tmp_path)
        assert client.request("GET", "/")[0] == 200 and client.cards()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
    assert layout(tmp_path) == before


def test_a_correction_keeps_the_journal_it_wrote_and_undo_then_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    before = never_sorted(tmp_path)
    with reviewing(tmp_path) as client:
        assert client.move(client.cards()["rex.jpg"]["id"], "dog")[0] == 200
    assert (tmp_path / "dogs" / "rex.jpg").is_file() and (tmp_path / "dogs" / "rex.MOV").is_file()
    assert (tmp_path / ".sorter" / "journal.jsonl").is_file()  # what `sorter undo` needs
    result = runner.invoke(app, ["undo", str(tmp_path)])
    assert result.exit_code == 0 and "Restored 2 files" in result.stdout
    assert layout(tmp_path) == before


@pytest.mark.parametrize("there", [(), ("lock", "turn")], ids=["empty", "an-older-reviews-lock-files"])
def test_a_sorter_folder_there_before_the_review_is_kept(tmp_path: Path, there: tuple[str, ...]) -> None:
    never_sorted(tmp_path)
    (tmp_path / ".sorter").mkdir()
    for name in there:
        (tmp_path / ".sorter" / name).write_bytes(b"")
    with reviewing(tmp_path) as client:
        assert client.cards()
    assert sorter_files(tmp_path) == ["lock", "turn"]  # what the review's locks made there stays with it


def test_a_sort_run_while_the_page_is_open_keeps_its_sorter_folder(tmp_path: Path) -> None:
    before = never_sorted(tmp_path)
    with reviewing(tmp_path) as client:
        sort.sort_folder(tmp_path, classifier=ThreeClassFake())  # in another terminal, while the page is open
        assert client.request("GET", "/")[0] == 200  # the reload lists the sort, under the lock
        cards = client.cards()
        assert cards["rex.jpg"]["path"] == "dogs/rex.jpg"
        assert client.move(cards["tom.jpg"]["id"], "dog")[0] == 200
    assert (tmp_path / ".sorter" / "journal.jsonl").is_file()
    assert runner.invoke(app, ["undo", str(tmp_path), "--all"]).exit_code == 0  # the review's move, then the sort's
    assert layout(tmp_path) == before


def held_while(root: Path, waiting) -> list:
    """`waiting()` run while a review's click holds the folder's lock (it made `.sorter/`),
    which it lets go once `waiting` waits for it: what `waiting` returned."""
    click = FolderLock(root, beside_watcher=True, tidy=True)  # as `locking.folder_lock` takes it
    click.acquire()
    assert sorter_files(root) == ["lock", "turn"]
    done: list = []
    thread = threading.Thread(target=lambda: done.append(waiting()))
    thread.start()
    time.sleep(0.5)  # it holds the lock file the click's lock made open, waiting
    assert not done
    click.release()
    thread.join(20)
    assert done
    return done[0]


def test_a_sort_waiting_while_a_reviews_lock_removes_its_sorter_folder_gets_the_folder(tmp_path: Path) -> None:
    """The race: a sort started during a click waits for the lock on the lock file the click's
    lock made; the click's lock removes it. The sort then locks the file that is there, made
    anew (`still_open_there`), and sorts; its journal stays."""
    before = never_sorted(tmp_path)
    summary = held_while(tmp_path, lambda: sort.sort_folder(tmp_path, classifier=ThreeClassFake(), lock_wait=10))
    assert summary.moved_to == {"cats": 1, "dogs": 1}
    assert (tmp_path / "dogs" / "rex.jpg").is_file() and (tmp_path / "cats" / "tom.jpg").is_file()
    assert (tmp_path / ".sorter" / "journal.jsonl").is_file()
    assert runner.invoke(app, ["undo", str(tmp_path)]).exit_code == 0
    assert layout(tmp_path) == before


def test_a_second_reviews_click_waiting_meanwhile_leaves_nothing_either(tmp_path: Path) -> None:
    before = never_sorted(tmp_path)
    other = FolderLock(tmp_path, wait=10, beside_watcher=True, tidy=True)
    held_while(tmp_path, other.acquire)
    assert sorter_files(tmp_path) == ["lock"]  # made anew, for it alone
    other.release()
    assert layout(tmp_path) == before


def test_learn_waiting_for_a_reviews_click_leaves_nothing(tmp_path: Path) -> None:
    before = never_sorted(tmp_path)
    assert held_while(tmp_path, lambda: corrections.find_settled(tmp_path, wait=10)) == []
    assert layout(tmp_path) == before


@pytest.mark.parametrize("command", [["sort", "--dry-run"], ["undo"], ["undo", "--all"], ["learn"]])
def test_the_commands_that_only_read_a_folder_never_sorted_leave_nothing_in_it(
        tmp_path: Path, fake_model: Path, command: list[str]) -> None:
    root = tmp_path / "pets"
    before = never_sorted(root)
    for n in range(6):  # the user's own cats/ and dogs/: what `learn` learns from
        write_image(root / "cats" / f"c{n}.jpg", (200 + n, 30, 30))
        write_image(root / "dogs" / f"d{n}.jpg", (30, 30, 200 + n))
    before = layout(root)
    model = ["--model", str(fake_model)] if command[0] != "undo" else []
    result = runner.invoke(app, [command[0], str(root), *command[1:], *model])
    assert result.exit_code == (2 if command[0] == "undo" else 0), result.output
    assert layout(root) == before


def test_clicks_and_sorts_lock_after_lock_in_a_folder_never_sorted_never_fail_on_its_removal(tmp_path: Path) -> None:
    """Each lock there removes the `.sorter/` it made: another one, between making `.sorter/`
    and opening its file in it, finds it gone and makes it again (it failed with
    FileNotFoundError, a traceback), and a sort refused meanwhile still names the holder."""
    clicks = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom sorter.files.lock import FolderLock\n"
         "from sorter.errors import FolderLocked\nend = time.monotonic() + 1.5\nwhile time.monotonic() < end:\n"
         "    try:\n        with FolderLock(Path(sys.argv[1]), beside_watcher=True, tidy=True): time.sleep(0.0005)\n"
         "    except FolderLocked as e:\n        print(e, flush=True)\n", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    refused = []
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        try:
            with FolderLock(tmp_path, tidy=True):  # a sort of a folder without a photo
                time.sleep(0.0005)
        except FolderLocked as exc:
            refused.append(str(exc))
    out, err = clicks.communicate(timeout=30)
    assert clicks.returncode == 0, err
    refused += out.splitlines()
    assert len(refused) > 20 and not [line for line in refused if "pid unknown" in line]
