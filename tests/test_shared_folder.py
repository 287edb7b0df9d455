"""A folder two users share (a family's photos: a setgid folder of their group, umask 002), each
running sorter on it in turn. Run as root, each command dropped to a real user id (`setpriv`),
which has no override of file modes: users 4242 and 4343, both in group 4444 (numbers the system
need not know: sorter names them by number then)."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import write_image

ALICE, BOB, FAMILY = 4242, 4343, 4444
REPO = Path(__file__).resolve().parent.parent
#: `sorter ARGS` as a user, under the umask argv[1], with the fake classifier behind a sort.
_SORTER = """
import os, sys
os.umask(int(sys.argv[1], 8))
sys.path.insert(0, {tests!r})
from conftest import FakeClassifier
from sorter.model import lite
if sys.argv[2] == "sort":  # learn reads the bundled model's features
    lite.load_classifier = lambda model: FakeClassifier()
from sorter.cli import app
app(sys.argv[2:], prog_name="sorter")
"""


def _python() -> list[str]:
    """A Python a user other than root can run, with the paths to sorter and its packages."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for python in (os.path.realpath(sys.executable), shutil.which(version) or "", f"/usr/bin/{version}"):
        if python and _runs_as_a_user(python):
            return [python]
    pytest.skip("no Python that a user other than root may run (with sorter's packages) is here")


def _env(home: Path | None = None) -> dict[str, str]:
    paths = [str(REPO), *site.getsitepackages()]
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": os.pathsep.join(paths),
            "HOME": str(home or "/nonexistent"), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}


def _as(uid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", f"--groups={FAMILY}"]


def _runs_as_a_user(python: str) -> bool:
    try:
        done = subprocess.run([*_as(ALICE), python, "-c", "import sorter, typer, numpy, cv2"], env=_env(),
                              capture_output=True, timeout=120)
    except OSError:
        return False
    return done.returncode == 0


@pytest.fixture
def family() -> Path:
    """A folder of group 4444 that its members may write in, its group kept by what is made in
    it (setgid, 2775), as a family shares one; alice's two photos in it, a cat and a dog."""
    if os.geteuid() != 0:
        pytest.skip("runs sorter as two users: needs root to be them")
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv to run sorter as another user")
    base = Path(tempfile.mkdtemp(prefix="sorter-family-", dir="/tmp"))
    try:
        base.chmod(0o755)  # /tmp/pytest-of-root is root's alone: this is where others may look
        folder = base / "photos"
        folder.mkdir()
        os.chown(folder, 0, FAMILY)
        folder.chmod(0o2775)
        for name, colour in (("cat.jpg", (255, 0, 0)), ("dog.jpg", (0, 0, 255))):
            os.chown(write_image(folder / name, colour), ALICE, FAMILY)
        for uid in (ALICE, BOB):
            home = base / str(uid)
            home.mkdir()
            os.chown(home, uid, uid)
        yield folder
    finally:
        shutil.rmtree(base)


def sorter(user: int, umask: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`sorter ARGS` run by `user` under `umask` (as `umask 002` in their shell)."""
    script = _SORTER.format(tests=str(Path(__file__).parent))
    home = Path(tempfile.gettempdir())
    homes = [Path(a).parent / str(user) for a in args if Path(a).is_absolute()]
    if homes:
        home = homes[0]
    return subprocess.run([*_as(user), *_python(), "-c", script, umask, *args], env=_env(home),
                          capture_output=True, text=True, timeout=timeout)


def _modes(folder: Path) -> dict[str, str]:
    return {p.name: oct(p.stat().st_mode & 0o777) for p in sorted(folder.iterdir())}


def test_one_sorts_a_family_folder_and_the_other_undoes_it_sorters_files_following_the_umask(family: Path) -> None:
    sorted_once = sorter(ALICE, "002", "sort", str(family))

    assert sorted_once.returncode == 0, sorted_once.stdout + sorted_once.stderr
    # Made 0644 whatever the umask, sorter's files refused the other: `cannot write in .../journal.jsonl`.
    assert _modes(family / ".sorter") == {"journal.jsonl": "0o664", "lock": "0o664", "review.html": "0o664"}
    undone = sorter(BOB, "002", "undo", str(family))

    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert f"Restored 2 files from 1 run in {family}." in undone.stdout
    assert sorted(p.name for p in family.iterdir() if p.is_file()) == ["cat.jpg", "dog.jpg"]


def test_a_stale_lock_of_another_user_that_the_group_may_not_write_names_its_owner_and_the_chmod(family: Path) -> None:
    # Alice's sort under umask 022 (or an older sorter) left its lock 0644, its pid long gone.
    (family / ".sorter").mkdir()
    (family / ".sorter" / "lock").write_text("99999999    \n         ")
    for made, mode in ((family / ".sorter", 0o2775), (family / ".sorter" / "lock", 0o644)):
        os.chown(made, ALICE, FAMILY)
        made.chmod(mode)

    refused = sorter(BOB, "002", "sort", str(family))

    lock = family / ".sorter" / "lock"
    assert (refused.returncode, refused.stderr) == (2, f"Error: cannot write in {lock}: Permission denied; it belongs "
                                                       f"to {ALICE}, and its group {FAMILY} (this user's too) lacks w: "
                                                       f"chmod g+w {lock} (by {ALICE} or root) lets sorter use it\n")
    assert sorted(p.name for p in family.iterdir()) == [".sorter", "cat.jpg", "dog.jpg"]


def test_a_learn_refused_leaves_no_turn_and_another_users_turn_lets_the_owner_learn(family: Path) -> None:
    sorted_once = sorter(ALICE, "002", "sort", str(family))
    assert sorted_once.returncode == 0, sorted_once.stdout + sorted_once.stderr
    (family / ".sorter" / "lock").chmod(0o644)  # as an older sorter made it, whatever the umask

    refused = sorter(BOB, "002", "learn", str(family))

    assert refused.returncode == 2, refused.stdout + refused.stderr
    lock = family / ".sorter" / "lock"
    assert f"Error: cannot write in {lock}: Permission denied; it belongs to {ALICE}" in refused.stderr
    assert not (family / ".sorter" / "turn").exists()  # made before the lock refused it, it then refused alice
    # A turn bob's sorter left (0644): held, never written, by alice's own learn.
    (family / ".sorter" / "turn").touch(mode=0o644)
    os.chown(family / ".sorter" / "turn", BOB, FAMILY)

    learnt = sorter(ALICE, "002", "learn", str(family))

    assert learnt.returncode == 0, learnt.stdout + learnt.stderr
    assert learnt.stdout.startswith("Nothing to learn")


def test_a_dry_run_of_a_folder_whose_journal_another_user_keeps_private_says_so_in_one_line(family: Path) -> None:
    sorted_once = sorter(ALICE, "077", "sort", str(family))  # her .sorter/: 2700
    assert sorted_once.returncode == 0, sorted_once.stdout + sorted_once.stderr

    planned = sorter(BOB, "002", "sort", "--dry-run", str(family))

    state = family / ".sorter"
    assert (planned.returncode, planned.stderr) == (
        2, f"Error: cannot read {state / 'journal.jsonl'}: Permission denied; its folder belongs to {ALICE}, and its "
           f"group {FAMILY} (this user's too) lacks rwx: chmod g+rwx {state} (by {ALICE} or root) lets sorter use "
           "it; a dry run needs it\n")


@pytest.mark.parametrize("command", ["learn", "watch"])
def test_a_turn_another_user_keeps_private_refuses_the_owner_in_one_line_naming_whose_it_is(family: Path,
                                                                                          command: str) -> None:
    # Bob's review under umask 077 left its turn 0600: alice's learn said a bare "Permission denied"
    # (exit 1), and her watch went on, never giving way to a review waiting for its turn.
    sorted_once = sorter(ALICE, "002", "sort", str(family))
    assert sorted_once.returncode == 0, sorted_once.stdout + sorted_once.stderr
    turn = family / ".sorter" / "turn"
    turn.touch(mode=0o600)
    os.chown(turn, BOB, FAMILY)

    refused = sorter(ALICE, "002", command, str(family), timeout=60)

    assert (refused.returncode, refused.stderr) == (2, f"Error: cannot write in {turn}: Permission denied; it belongs "
                                                       f"to {BOB}, and its group {FAMILY} (this user's too) lacks rw: "
                                                       f"chmod g+rw {turn} (by {BOB} or root) lets sorter use it\n")


def test_an_undo_by_the_other_user_that_cats_and_dogs_refuse_names_their_owner_and_keeps_the_review_page(
        family: Path) -> None:
    # Alice sorts under umask 022 (most systems' default): .sorter/, cats/ and dogs/ 2755.
    sorted_once = sorter(ALICE, "022", "sort", str(family))
    assert sorted_once.returncode == 0, sorted_once.stdout + sorted_once.stderr
    state, cats, dogs = family / ".sorter", family / "cats", family / "dogs"
    refused = sorter(BOB, "002", "undo", str(family))
    # It named .sorter/ alone, whose chmod let the undo start only to keep every photo where it was.
    assert (refused.returncode, refused.stderr) == (
        2, f"Error: cannot write in {state}: Permission denied; it belongs to {ALICE}, as {cats} and {dogs} do, and "
           f"their group {FAMILY} (this user's too) lacks w: chmod -R g+w {state} {cats} {dogs} (by {ALICE} or root) "
           "lets sorter use them\n")
    # `chmod -R g+w .sorter` alone (as README said) lets the undo start; cats/ and dogs/ keep each
    # photo, which said a bare `Permission denied`, and the undo removed alice's review page.
    subprocess.run([*_as(ALICE), "chmod", "-R", "g+w", str(state)], check=True)

    kept = sorter(BOB, "002", "undo", str(family))

    assert (kept.returncode, kept.stdout) == (0, f"Restored 0 files in {family} (2 kept in place).\n")
    assert kept.stderr == "".join(
        f"kept: {folder}/{photo}: cannot move back out of {folder}/: Permission denied; it belongs to {ALICE}, and its "
        f"group {FAMILY} (this user's too) lacks w: chmod g+w {family / folder} (by {ALICE} or root) lets sorter use "
        "it\n" for folder, photo in (("cats", "cat.jpg"), ("dogs", "dog.jpg")))
    assert (state / "review.html").is_file()  # it shows the sort, still as it was
    subprocess.run([*_as(ALICE), "chmod", "-R", "g+w", str(cats), str(dogs)], check=True)

    undone = sorter(BOB, "002", "undo", str(family))

    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert f"Restored 2 files from 1 run in {family}." in undone.stdout
    assert sorted(p.name for p in family.iterdir() if p.is_file()) == ["cat.jpg", "dog.jpg"]


def test_a_sort_by_the_other_user_is_refused_naming_every_folder_of_the_owner_it_would_write(family: Path) -> None:
    sorted_once = sorter(ALICE, "022", "sort", str(family))
    assert sorted_once.returncode == 0, sorted_once.stdout + sorted_once.stderr
    write_image(family / "new.jpg", (255, 0, 0))

    refused = sorter(BOB, "002", "sort", str(family))

    state, cats, dogs = family / ".sorter", family / "cats", family / "dogs"
    assert (refused.returncode, refused.stderr) == (
        2, f"Error: cannot write in {state}: Permission denied; it belongs to {ALICE}, as {cats} and {dogs} do, and "
           f"their group {FAMILY} (this user's too) lacks w: chmod -R g+w {state} {cats} {dogs} (by {ALICE} or root) "
           "lets sorter use them\n")
    assert (family / "new.jpg").is_file()
