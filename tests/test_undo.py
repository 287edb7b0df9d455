"""`sorter undo`: every run is reversible, newest first, and never overwrites.

After `sort` then `undo --all` the folder must be path-for-path and byte-for-byte as it was
(`layout` compares every folder, file, link and FIFO, `.sorter/` included)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from conftest import FakeClassifier, ctrl_c_at, heavy_imports_after, inventory, layout, make_messy_folder, write_image
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sorter.cli import app
from sorter.errors import UsageError
from sorter.files import undo as restore
from sorter.files.journal import scan
from sorter.sorting import results
from sorter.sorting.sort import sort_folder

RED, BLUE, GREY = (0, 0, 255), (255, 0, 0), (128, 128, 128)  # BGR: the fake says red = dog
runner = CliRunner()


def sort(root: Path, **options) -> results.SortSummary:
    return sort_folder(root, classifier=FakeClassifier(), **options)


def test_sort_then_undo_all_restores_a_messy_tree_exactly(tmp_path: Path) -> None:
    root = make_messy_folder(tmp_path / "photos", 120, seed=7, outside=tmp_path / "outside")
    before = layout(root)

    summary = sort(root, recursive=True)
    assert sum(summary.moved_to.values()) == 120
    assert inventory(root) == inventory(before)

    result = restore.undo(root, all_runs=True)

    assert result.restored == 120 and not result.conflicts and not result.missing
    assert layout(root) == before


def test_plain_undo_reverses_only_the_latest_run_and_undo_all_the_rest(tmp_path: Path) -> None:
    write_image(tmp_path / "rex.jpg", RED)  # run 1 creates dogs/ only
    write_image(tmp_path / "sub" / "fido.png", RED)
    original = layout(tmp_path)
    sort(tmp_path, recursive=True)
    write_image(tmp_path / "tom.jpg", BLUE)  # run 2 creates cats/
    write_image(tmp_path / "rex2.jpg", RED)
    between = layout(tmp_path)
    sort(tmp_path)
    assert sorted(os.listdir(tmp_path / "cats")) == ["tom.jpg"]

    latest = restore.undo(tmp_path)

    assert latest.runs == 1 and latest.restored == 2
    assert without_state(layout(tmp_path)) == without_state(between)  # cats/ was run 2's: gone
    everything = restore.undo(tmp_path, all_runs=True)
    assert everything.runs == 1 and everything.restored == 2
    assert layout(tmp_path) == original | {"tom.jpg": between["tom.jpg"], "rex2.jpg": between["rex2.jpg"]}


def test_on_an_exfat_card_undo_leaves_the_card_as_it_was_found(exfat_card: Path) -> None:
    # exfat-fuse keeps the open lock file, removed, as a hidden file till it is closed.
    write_image(exfat_card / "rex.jpg", RED)
    write_image(exfat_card / "tom.jpg", BLUE)
    original = layout(exfat_card)
    sort(exfat_card)

    assert restore.undo(exfat_card).restored == 2
    assert layout(exfat_card) == original and sorted(os.listdir(exfat_card)) == ["rex.jpg", "tom.jpg"]


def test_undo_all_reverses_several_runs_newest_first(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", RED, size=(10, 10))
    original = layout(tmp_path)
    sort(tmp_path)
    write_image(tmp_path / "a.jpg", RED, size=(11, 11))  # same name again: run 2 files it as "a (1).jpg"
    added = layout(tmp_path)["a.jpg"]
    sort(tmp_path)
    assert sorted(os.listdir(tmp_path / "dogs")) == ["a (1).jpg", "a.jpg"]

    result = restore.undo(tmp_path, all_runs=True)

    # Run 2 is reversed first, so its a.jpg gets the old path; run 1's a.jpg then finds it
    # taken and is kept in dogs/ rather than overwriting anything.
    assert result.runs == 2 and result.restored == 1
    assert result.conflicts == ["dogs/a.jpg: a.jpg is the photo this undo put back from dogs/a (1).jpg; left in place"]
    assert layout(tmp_path)["a.jpg"] == added
    assert layout(tmp_path)["dogs/a.jpg"] == original["a.jpg"]


def test_a_file_now_at_the_old_path_is_kept_and_reported(tmp_path: Path) -> None:
    write_image(tmp_path / "rex.jpg", RED, size=(10, 10))
    write_image(tmp_path / "tom.jpg", BLUE)
    original = layout(tmp_path)
    sort(tmp_path)
    write_image(tmp_path / "rex.jpg", GREY, size=(12, 12))  # the user put a new photo there
    newcomer = layout(tmp_path)["rex.jpg"]

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert result.stderr == "kept: dogs/rex.jpg: another file is at rex.jpg now; left in place\n"
    assert result.stdout == f"Restored 1 file from 1 run in {tmp_path} (1 kept in place).\n"
    assert layout(tmp_path)["rex.jpg"] == newcomer  # never overwritten
    assert layout(tmp_path)["dogs/rex.jpg"] == original["rex.jpg"]
    assert (tmp_path / ".sorter" / "journal.jsonl").exists()  # kept so the undo can be finished

    os.rename(tmp_path / "rex.jpg", tmp_path.parent / f"{tmp_path.name}-newcomer.jpg")
    result = runner.invoke(app, ["undo", str(tmp_path)])
    assert result.exit_code == 0 and result.stdout == f"Restored 1 file from 1 run in {tmp_path}.\n"
    assert layout(tmp_path) == original


def test_a_name_held_by_a_photo_this_undo_put_back_says_which_photo_holds_it(tmp_path: Path) -> None:
    """QA: a.jpg sorted to cats/, then a new a.jpg (another cat) sorted as cats/a (1).jpg. `undo
    --all` put the newer back as a.jpg first, then kept the older with "another file is at a.jpg
    now", which read as a stranger's file. It says which photo holds the name, and where from;
    never put under another name, it stays for a later undo once the user has made room."""
    write_image(tmp_path / "a.jpg", BLUE, size=(10, 10))
    first = layout(tmp_path)["a.jpg"]
    sort(tmp_path)
    write_image(tmp_path / "a.jpg", BLUE, size=(12, 12))
    second = layout(tmp_path)["a.jpg"]
    sort(tmp_path)
    assert layout(tmp_path)["cats/a (1).jpg"] == second

    result = runner.invoke(app, ["undo", str(tmp_path), "--all"])

    assert result.exit_code == 0, result.output
    assert result.stdout == f"Restored 1 file from 1 run in {tmp_path} (1 kept in place).\n"  # the older run's, kept
    assert result.stderr == "kept: cats/a.jpg: a.jpg is the photo this undo put back from cats/a (1).jpg; left in place\n"
    assert layout(tmp_path)["a.jpg"] == second and layout(tmp_path)["cats/a.jpg"] == first
    os.rename(tmp_path / "a.jpg", tmp_path / "a second.jpg")  # room made: the next undo puts it back
    result = runner.invoke(app, ["undo", str(tmp_path)])
    assert result.exit_code == 0 and result.stdout == f"Restored 1 file from 1 run in {tmp_path}.\n"
    assert layout(tmp_path) == {"a.jpg": first, "a second.jpg": second}


def test_undo_prints_names_that_look_like_markup_verbatim(tmp_path: Path) -> None:
    write_image(tmp_path / "x[" / "]y.jpg", RED)  # the path reads "x[/]y.jpg": a rich closing tag
    sort(tmp_path, recursive=True)
    write_image(tmp_path / "x[" / "]y.jpg", BLUE)

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert result.stderr == "kept: dogs/]y.jpg: another file is at x[/]y.jpg now; left in place\n"


def test_a_sorted_file_removed_by_the_user_is_reported_missing(tmp_path: Path) -> None:
    write_image(tmp_path / "rex.jpg", RED)
    write_image(tmp_path / "fido.jpg", RED, size=(9, 9))
    sort(tmp_path)
    (tmp_path / "dogs" / "rex.jpg").unlink()

    result = restore.undo(tmp_path)

    assert result.missing == ["dogs/rex.jpg: no longer there (was rex.jpg)"]
    assert (tmp_path / "fido.jpg").exists()


def test_a_missing_file_is_reported_once_and_the_next_undo_goes_on_to_the_run_before(tmp_path: Path) -> None:
    """A photo taken out of cats/ and dogs/ since, into a folder of the user's own (found there,
    and left: it is the user's now), or something else now in its place (sorter moves only
    files): reported and left, and that run counts as undone, so a second `sorter undo` takes
    back the sort before it."""
    write_image(tmp_path / "a.jpg", RED)
    write_image(tmp_path / "b.jpg", BLUE)
    sort(tmp_path)
    for name, size in (("c.jpg", 9), ("d.jpg", 10), ("e.jpg", 11), ("f.jpg", 12)):
        write_image(tmp_path / name, RED, size=(size, size))
    sort(tmp_path)
    (tmp_path / "mine").mkdir()
    os.rename(tmp_path / "dogs" / "c.jpg", tmp_path / "mine" / "Tom birthday.jpg")
    (tmp_path / "dogs" / "d.jpg").unlink()
    (tmp_path / "dogs" / "d.jpg").mkdir()
    (tmp_path / "dogs" / "e.jpg").rename(tmp_path / "mine" / "e-kept.jpg")
    (tmp_path / "dogs" / "e.jpg").symlink_to(tmp_path / "mine" / "e-kept.jpg")

    os.rename(tmp_path / "dogs" / "f.jpg", tmp_path / "f.jpg")  # put back by hand: nothing to do for it

    first = runner.invoke(app, ["undo", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [
        "found: dogs/c.jpg: moved to mine/Tom birthday.jpg since, into a folder of yours; left there (was c.jpg)",
        "found: dogs/e.jpg: moved to mine/e-kept.jpg since, into a folder of yours; left there (was e.jpg)",
        f"Restored 0 files in {tmp_path} (1 already back where it was, 1 missing, 2 left in a folder of yours).",
    ], first.stdout
    assert first.stderr.splitlines() == [
        "missing: dogs/d.jpg: now a folder, not the photo sorter moved; left there (was d.jpg)",
    ], first.stderr
    assert (tmp_path / "mine" / "Tom birthday.jpg").is_file() and (tmp_path / "mine" / "e-kept.jpg").is_file()
    assert (tmp_path / "f.jpg").is_file() and (tmp_path / "dogs" / "d.jpg").is_dir()
    assert (tmp_path / "dogs" / "e.jpg").is_symlink() and not (tmp_path / "e.jpg").exists()

    second = runner.invoke(app, ["undo", str(tmp_path)])
    assert second.exit_code == 0 and "Restored 2 files from 1 run" in second.stdout, second.output
    assert second.stderr == ""
    assert (tmp_path / "a.jpg").is_file() and (tmp_path / "b.jpg").is_file()
    assert runner.invoke(app, ["undo", str(tmp_path)]).exit_code == 2  # nothing left to undo


def test_a_scan_taken_on_from_an_earlier_one_reads_what_a_fresh_one_does(tmp_path: Path) -> None:
    """`scan(root, since=state)` reads only what was appended since (the watcher's look for an
    old photo put back); a journal removed and begun again is read from its start."""
    def picture(state) -> dict:
        return {r: (bytes(run.flags), run.start, run.end, run.created_dirs) for r, run in state.runs.items()}

    write_image(tmp_path / "a.jpg", RED)
    sort(tmp_path)
    earlier = scan(tmp_path)
    write_image(tmp_path / "b.jpg", BLUE)
    sort(tmp_path)
    restore.undo(tmp_path)  # "unmove" intents and "undo" marks appended too
    assert picture(scan(tmp_path, since=earlier)) == picture(scan(tmp_path)) and len(earlier.runs) == 2

    restore.undo(tmp_path, all_runs=True)  # the journal is gone
    write_image(tmp_path / "c.jpg", RED, size=(9, 9))
    sort(tmp_path)
    assert picture(scan(tmp_path, since=earlier)) == picture(scan(tmp_path)) and len(earlier.runs) == 2


def test_a_journal_begun_again_under_the_old_ones_inode_is_read_from_its_start(tmp_path: Path) -> None:
    """ext4 may give a journal removed and begun again the old one's inode (the test above
    failed 1 run in 12): the journal's first bytes tell it from the old one. Here another
    folder's journal is written over this one's in place, to have the same inode every time."""
    write_image(tmp_path / "a.jpg", RED)
    sort(tmp_path)
    earlier = scan(tmp_path)
    write_image(tmp_path / "other" / "b.jpg", BLUE)
    sort(tmp_path / "other")
    journal, new = tmp_path / ".sorter" / "journal.jsonl", (tmp_path / "other" / ".sorter" / "journal.jsonl").read_bytes()
    padding = b"\n" * max(0, journal.stat().st_size - len(new))  # as long: taken on from where it was read to
    with open(journal, "r+b") as f:
        f.write(new + padding)
    assert set(scan(tmp_path, since=earlier).runs) == set(scan(tmp_path).runs) == set(scan(tmp_path / "other").runs)


def test_an_undo_stopped_by_a_full_disk_says_what_was_done_and_the_next_command_settles_it(
    tmp_path: Path, monkeypatch
) -> None:
    import errno

    from sorter.files.journal_writer import Journal

    write_image(tmp_path / "rex.jpg", RED)
    original = layout(tmp_path)
    sort(tmp_path)
    write = Journal._write

    def full_after_the_intents(self, data: bytes) -> None:
        if data.startswith(b'{"op": "undo"'):  # the disk fills up as the moves back are marked done
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".sorter" / "journal.jsonl"))
        write(self, data)

    monkeypatch.setattr(Journal, "_write", full_after_the_intents)
    stopped = runner.invoke(app, ["undo", str(tmp_path)])
    assert stopped.exit_code == 1 and stopped.stderr == (
        f"Error: {tmp_path / '.sorter' / 'journal.jsonl'}: No space left on device; put back 1 file before it "
        "stopped, journaled: the next sorter command settles it once there is room\n"), stopped.output
    monkeypatch.undo()
    settled = runner.invoke(app, ["undo", str(tmp_path)])  # rex went back: it finishes that undo's tidy-up
    assert (settled.exit_code, settled.stdout) == (
        0, f"Nothing left to undo in {tmp_path}: an earlier undo put every file back and was stopped before it "
           "finished; removed the .sorter/ and dogs/ it left.\n"), settled.output
    assert layout(tmp_path) == original


def test_undo_recreates_a_subfolder_removed_since_the_sort(tmp_path: Path) -> None:
    write_image(tmp_path / "trip" / "day 1" / "rex.jpg", RED)
    original = layout(tmp_path)
    sort(tmp_path, recursive=True)
    os.rmdir(tmp_path / "trip" / "day 1")
    os.rmdir(tmp_path / "trip")

    restore.undo(tmp_path, all_runs=True)

    assert layout(tmp_path) == original


def test_undo_reports_a_path_it_cannot_recreate_and_carries_on(tmp_path: Path) -> None:
    write_image(tmp_path / "trip" / "rex.jpg", RED)
    write_image(tmp_path / "tom.jpg", BLUE)
    sort(tmp_path, recursive=True)
    os.rmdir(tmp_path / "trip")
    (tmp_path / "trip").write_text("a file where the folder was")

    result = restore.undo(tmp_path, all_runs=True)

    assert result.restored == 1 and (tmp_path / "tom.jpg").exists() and not (tmp_path / "cats").exists()
    assert len(result.conflicts) == 1 and result.conflicts[0].startswith("dogs/rex.jpg:")
    assert (tmp_path / "dogs" / "rex.jpg").exists()


def test_a_folder_whose_mkdir_a_kill_cut_short_is_kept_by_undo_all(tmp_path: Path) -> None:
    """A run killed at its mkdir of dogs/ journaled the intent and nothing after it: whether it
    made dogs/ or the user did since (`mkdir dogs`, before sorting again) cannot be told, and a
    folder of the user's is never removed. The rerun's dog goes back; dogs/ stays, empty."""
    from sorter.files.journal_writer import Journal

    write_image(tmp_path / "rex.jpg", RED)
    original = layout(tmp_path)
    with Journal(tmp_path) as crashed:
        crashed.append("mkdir", path="dogs")
    (tmp_path / "dogs").mkdir()  # by the user, or by the run as it was killed
    sort(tmp_path)

    assert restore.undo(tmp_path, all_runs=True).restored == 1
    assert layout(tmp_path) == original | {"dogs": "dir"}


def test_undo_when_nothing_was_moved_tidies_up_and_says_so(tmp_path: Path) -> None:
    write_image(tmp_path / "blurry.jpg", GREY)
    original = layout(tmp_path)
    sort(tmp_path, min_confidence=0.9)  # nothing moves, but .sorter/ holds the lock file
    assert (tmp_path / ".sorter").is_dir()

    result = runner.invoke(app, ["undo", str(tmp_path)])

    # It said "Error: nothing to undo in DIR" and removed .sorter/ unsaid.
    assert result.exit_code == 2
    assert result.stderr == f"Error: nothing to undo in {tmp_path} (no photo was moved); removed the .sorter/ it left\n"
    assert layout(tmp_path) == original


def test_undo_after_a_sort_killed_as_its_journal_was_made_says_it_removed_sorters_folder(tmp_path: Path) -> None:
    # A sort killed -9 just after it made .sorter/journal.jsonl, before its first record: the next
    # undo said "Error: nothing to undo in DIR" and removed .sorter/ without a word.
    write_image(tmp_path / "rex.jpg", RED)
    original = layout(tmp_path)
    (tmp_path / ".sorter").mkdir()
    (tmp_path / ".sorter" / "journal.jsonl").touch()

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, result.stderr) == (
        2, f"Error: nothing to undo in {tmp_path} (no photo was moved); removed the .sorter/ it left\n")
    assert layout(tmp_path) == original


def test_undo_removes_an_empty_write_probe_a_kill_left(tmp_path: Path) -> None:
    # A kill between the write check's making of .sorter.probe and its removal (a disk without
    # unnamed files: exFAT, NFS) left it; `sorter undo` of a folder never sorted, or sorted on
    # a disk with unnamed files, never tried the folder that way, and left it for good.
    write_image(tmp_path / "rex.jpg", RED)
    (tmp_path / ".sorter.probe").touch()
    never_sorted = runner.invoke(app, ["undo", str(tmp_path)])
    assert never_sorted.exit_code == 2 and "has no sorter journal" in never_sorted.stderr
    assert sorted(os.listdir(tmp_path)) == ["rex.jpg"]

    sort(tmp_path)
    (tmp_path / ".sorter.probe").touch()
    undone = runner.invoke(app, ["undo", str(tmp_path)])
    assert undone.exit_code == 0, undone.output
    assert sorted(os.listdir(tmp_path)) == ["rex.jpg"]


def test_undo_leaves_a_users_own_file_by_the_probes_name(tmp_path: Path) -> None:
    (tmp_path / ".sorter.probe").write_text("mine")
    runner.invoke(app, ["undo", str(tmp_path)])
    assert (tmp_path / ".sorter.probe").read_text() == "mine"


def test_cli_undo_messages_and_exit_codes(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["undo", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and missing.stderr == f"Error: folder not found: {tmp_path / 'nope'}\n"

    never_sorted = runner.invoke(app, ["undo", str(tmp_path)])
    assert never_sorted.exit_code == 2
    assert never_sorted.stderr == f"Error: nothing to undo: {tmp_path} has no sorter journal\n"

    write_image(tmp_path / "rex.jpg", RED)
    write_image(tmp_path / "tom.jpg", BLUE)
    sort(tmp_path)
    write_image(tmp_path / "kitty.jpg", BLUE)
    sort(tmp_path)
    done = runner.invoke(app, ["undo", str(tmp_path), "--all"])
    assert done.exit_code == 0, done.output
    assert done.stdout == f"Restored 3 files from 2 runs in {tmp_path}.\n" and done.stderr == ""

    again = runner.invoke(app, ["undo", str(tmp_path)])
    assert again.exit_code == 2 and again.stderr.startswith("Error: nothing to undo")
    assert again.stderr.count("\n") == 1 and "Traceback" not in again.output


def test_undo_moves_files_back_without_tensorflow(tmp_path: Path) -> None:
    write_image(tmp_path / "rex.jpg", RED)
    sort(tmp_path)
    assert heavy_imports_after((["undo", str(tmp_path)], 0)) == []
    assert (tmp_path / "rex.jpg").exists() and not (tmp_path / ".sorter").exists()


def test_within_run_collisions_never_clobber_and_undo_untangles_them(tmp_path: Path) -> None:
    # Five files planned onto "x.jpg" in one run, case twins among them, one name taken.
    write_image(tmp_path / "dogs" / "x.jpg", RED, size=(5, 5))
    for i, path in enumerate(["x.jpg", "X.JPG", "a/x.jpg", "a/b/x.jpg", "B/X.jpg", "x (1).jpg"]):
        write_image(tmp_path / path, RED, size=(6 + i, 6))
    original = layout(tmp_path)

    sort(tmp_path, recursive=True)

    names = sorted(os.listdir(tmp_path / "dogs"))
    assert len(names) == 7 and len({n.casefold() for n in names}) == 7
    assert inventory(tmp_path) == inventory(original)
    restore.undo(tmp_path, all_runs=True)
    assert layout(tmp_path) == original


def test_a_name_taken_during_the_run_gets_another_name(tmp_path: Path) -> None:
    """Someone drops dogs/rex.jpg into the folder between planning and moving."""
    write_image(tmp_path / "rex.jpg", RED, size=(10, 10))
    original = layout(tmp_path)

    class Intruder(FakeClassifier):
        def predict(self, batch):
            write_image(tmp_path / "dogs" / "rex.jpg", RED, size=(20, 20))
            return super().predict(batch)

    summary = sort_folder(tmp_path, classifier=Intruder())

    assert summary.counts == {"moved": 1}
    assert layout(tmp_path)["dogs/rex (1).jpg"] == original["rex.jpg"]
    intruder = layout(tmp_path)["dogs/rex.jpg"]
    restore.undo(tmp_path)
    assert layout(tmp_path) == original | {"dogs": "dir", "dogs/rex.jpg": intruder}


def test_names_that_are_not_utf8_survive_the_journal(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9 \xff.jpg")
    write_image(tmp_path / name, RED)
    original = layout(tmp_path)

    sort(tmp_path)
    assert os.listdir(tmp_path / "dogs") == [name]
    restore.undo(tmp_path)

    assert layout(tmp_path) == original


def test_undo_of_a_folder_that_is_not_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "f.jpg").write_bytes(b"x")
    with pytest.raises(UsageError, match="not a folder"):
        restore.undo(tmp_path / "f.jpg")


# ---------------------------------------------------------------------------- property


STEMS = ["a", "A", "b", "photo", "Photo", "photo (1)", "IMG_1", "é", "É", "猫", "x y"]
EXTS = [".jpg", ".JPG", ".png", ".Png"]
FOLDERS = ["", "sub", "sub/deeper", "Sub", "cats", "dogs", "nested/cats", "x y"]
COLOURS = [RED, BLUE, GREY]

trees = st.lists(
    st.tuples(st.sampled_from(FOLDERS), st.sampled_from(STEMS), st.sampled_from(EXTS), st.sampled_from(COLOURS)),
    min_size=1,
    max_size=14,
    unique_by=lambda t: (t[0], t[1] + t[2]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, recursive=st.booleans(), min_confidence=st.sampled_from([0.0, 0.7]), runs=st.integers(1, 2))
def test_sort_then_undo_all_restores_any_tree(tree, recursive, min_confidence, runs) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i, (folder, stem, ext, colour) in enumerate(tree):
            write_image(root / folder / (stem + ext), colour, size=(4 + i, 4))
        before = layout(root)
        existing = {f: set(os.listdir(root / f)) if (root / f).is_dir() else set() for f in ("cats", "dogs")}

        for _ in range(runs):
            sort(root, recursive=recursive, min_confidence=min_confidence)

        assert inventory(root) == inventory(before)
        for folder in ("cats", "dogs"):
            if (root / folder).is_dir():
                # Names sorter gave differ, even ignoring case, from each other and from
                # the names already there (a case-insensitive filesystem would clobber).
                new = [n.casefold() for n in os.listdir(root / folder) if n not in existing[folder]]
                assert len(set(new)) == len(new)
                assert not set(new) & {n.casefold() for n in existing[folder]}
        # The journal also notes the photos left in place ("seen", for `sorter learn`): it
        # exists whenever a photo was decided about, moved or not.
        if (root / ".sorter" / "journal.jsonl").exists() and scan(root).undoable_runs():
            restore.undo(root, all_runs=True)
        else:
            with pytest.raises(UsageError, match="nothing to undo"):
                restore.undo(root, all_runs=True)
        assert layout(root) == before


# ---------------------------------------------------------------------------- helpers


def without_state(entries: dict[str, object]) -> dict[str, object]:
    return {rel: e for rel, e in entries.items() if rel.split(os.sep)[0] != ".sorter"}


def test_undo_interrupted_as_it_finished_says_everything_was_put_back(tmp_path: Path, monkeypatch) -> None:
    # Ctrl-C after the last photo went back and .sorter/ was removed said "Interrupted part way:
    # ... the next sorter command settles it", and the next undo said "Error: nothing to undo".
    write_image(tmp_path / "rex.jpg", (0, 0, 255))
    sort(tmp_path)
    monkeypatch.setattr(restore, "_forget", ctrl_c_at(restore._forget, 1, after=True))
    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, result.stderr) == (130, "Interrupted as it finished: everything was put back and "
                                                      ".sorter/ removed; nothing is left to undo.\n"), result.output
    assert os.listdir(tmp_path) == ["rex.jpg"]


def test_undo_interrupted_part_way_says_how_many_it_put_back_and_undo_again_puts_back_the_rest(
        tmp_path: Path, monkeypatch) -> None:
    # It said "Interrupted part way: what it put back is journaled, and the next sorter command
    # settles it": not how many, nor what to do. Ctrl-C lands as the second photo is moved back:
    # the chunk's intents are settled at once (the first is back, the others were not moved).
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        write_image(tmp_path / name, RED)
    before = layout(tmp_path)
    sort(tmp_path)
    from sorter.files import moves

    monkeypatch.setattr(moves, "move_no_replace", ctrl_c_at(moves.move_no_replace, 2))
    result = runner.invoke(app, ["undo", str(tmp_path)])
    monkeypatch.undo()

    assert (result.exit_code, result.stderr) == (
        130, f"Interrupted: put back 1 of 3 files; sorter undo {tmp_path} puts back the rest.\n"), result.output
    assert len(os.listdir(tmp_path / "dogs")) == 2
    again = runner.invoke(app, ["undo", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("Restored 2 files from 1 run")
    assert layout(tmp_path) == before


def test_an_undo_that_kept_every_photo_counts_no_run_it_restored_from(tmp_path: Path) -> None:
    """QA: every photo kept where it is said "Restored 0 files from 1 run", as if something came
    back from it. The runs counted are those files came back from; none: none said."""
    write_image(tmp_path / "a.jpg", BLUE)
    sort(tmp_path)
    write_image(tmp_path / "a.jpg", RED)  # a new file of its name: the photo stays sorted

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"Restored 0 files in {tmp_path} (1 kept in place).\n",
        "kept: cats/a.jpg: another file is at a.jpg now; left in place\n")


def test_an_undo_that_kept_a_photo_counts_it_in_its_summary_and_exits_0(tmp_path: Path) -> None:
    """QA: an undo that kept a photo (another file at its old name) said "Restored 0 files in DIR."
    as if nothing was left for a later undo. Its summary counts what it kept, each said above,
    and the status is 0, as for a photo found missing: it did all it could, and a later undo
    puts the kept one back once there is room (README, "Exit status")."""
    write_image(tmp_path / "a.jpg", BLUE)
    write_image(tmp_path / "b.jpg", RED, size=(12, 12))
    write_image(tmp_path / "c.jpg", GREY, size=(14, 14))
    sort(tmp_path)
    sorted_to = {name: next(tmp_path.glob(f"*/{name}")).relative_to(tmp_path).as_posix() for name in ("a.jpg", "b.jpg")}
    write_image(tmp_path / "a.jpg", GREY)  # new files of their names: the photos stay sorted
    write_image(tmp_path / "b.jpg", BLUE)

    result = runner.invoke(app, ["undo", str(tmp_path)])

    assert (result.exit_code, result.stdout) == (0, f"Restored 1 file from 1 run in {tmp_path} (2 kept in place).\n")
    assert sorted(result.stderr.splitlines()) == [
        f"kept: {sorted_to[name]}: another file is at {name} now; left in place" for name in ("a.jpg", "b.jpg")]
