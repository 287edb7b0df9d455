"""What `sorter train` writes, and where: only files of a sorter model are replaced, one run at
a time per --out, never among the photos it reads, under any path the system allows; a full
disk, a damaged checkpoint, a resume with other options, Ctrl-C and SIGTERM are one line each.

Runs that must be stopped part way (a signal) or that could crash the interpreter run in a
process of their own (`python -m sorter`), killed in a `finally` whatever happens."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import REPO, make_dataset, mounted, toy_photo, tree, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.errors import SorterError
from sorter.training.publish import check_replaceable, staged

runner = CliRunner()
#: Generous: a TensorFlow process on 2 slow cores shared with whatever else runs.
TIMEOUT = 180


def train_args(data: Path, out: Path, *extra: str) -> list[str]:
    """The small from-scratch network at 32 px: seconds a run."""
    return ["train", str(data), "--out", str(out), "--backbone", "none", "--image-size", "32", "--batch-size", "8",
            "--seed", "7", *extra]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """One epoch, and its checkpoint (what --resume goes on from)."""
    root = tmp_path_factory.mktemp("outputs")
    data = make_dataset(root / "data")
    out = root / "model.keras"
    result = runner.invoke(app, train_args(data, out, "--epochs", "1"))
    assert result.exit_code == 0, result.output
    return data, out


def copy_of_checkpoint(out: Path, where: Path) -> Path:
    """A new --out whose checkpoint folder holds `out`'s checkpoint."""
    again = where / "again.keras"
    shutil.copytree(out.with_suffix(".checkpoints"), again.with_suffix(".checkpoints"))
    return again


@contextmanager
def sorter_process(args: list[str], log: Path) -> Iterator[subprocess.Popen]:
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "sorter", *args], cwd=REPO, env=environ,
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_for(path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        assert process.poll() is None, "sorter train ended before it got there"
        assert time.monotonic() < deadline, f"no {path.name} within the timeout"
        time.sleep(0.01)


# ------------------------------------------------------------------------ what may be replaced


def test_a_file_of_the_models_name_that_no_sorter_model_wrote_is_never_replaced(tmp_path: Path) -> None:
    """`--out settings.keras` beside the user's settings.json replaced it, and a picture of
    theirs named settings-curves.png, without a word."""
    data = make_dataset(tmp_path / "data", per_class=4)
    mine = tmp_path / "mine"
    (mine / "settings.json").parent.mkdir()
    (mine / "settings.json").write_text('{"my": 1}\n')
    (mine / "settings-curves.png").write_bytes(b"a picture of mine")
    before = tree(mine)
    result = runner.invoke(app, train_args(data, mine / "settings.keras", "--epochs", "1"))
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert f"would replace {mine / 'settings-curves.png'}, {mine / 'settings.json'}, not part of a sorter model: " \
           "settings.json is not a sorter model's metadata; move them away, or give another --out" in result.stderr
    assert tree(mine) == before and sorted(p.name for p in mine.iterdir()) == ["settings-curves.png", "settings.json"]
    # Without a MODEL.json, no file of the set is a sorter model's; a folder there is no model's file either.
    (tmp_path / "alone.tflite").write_bytes(b"an int8 model of mine")
    result = runner.invoke(app, train_args(data, tmp_path / "alone.keras", "--epochs", "1"))
    assert result.exit_code == 2 and "no sorter model's alone.json beside it" in result.stderr
    (tmp_path / "model.json").write_text(json.dumps({"format": "sorter-model/1"}))
    (tmp_path / "model.tflite").mkdir()
    result = runner.invoke(app, train_args(data, tmp_path / "model.keras", "--epochs", "1"))
    assert result.exit_code == 2 and "model.tflite, a folder or a link, not a model's file" in result.stderr


def test_an_earlier_sorter_model_at_the_same_out_is_replaced(trained) -> None:
    data, out = trained
    first = json.loads(out.with_suffix(".json").read_text())["created"]
    time.sleep(1)  # "created" is to the second
    result = runner.invoke(app, train_args(data, out, "--epochs", "1"))
    assert result.exit_code == 0, result.output
    assert json.loads(out.with_suffix(".json").read_text())["created"] != first


@pytest.mark.parametrize("where", ["data/Cat", "data/cats/sub", "data/Other", "others/car", "others"])
def test_a_model_is_never_saved_among_the_photos_training_reads(tmp_path: Path, where: str) -> None:
    """`--out data/Cat/m.keras` wrote m-curves.png into Cat/, and the next run trained on it as
    a cat; an Other/ not made yet, and --other, would take it for a non-pet."""
    data = make_dataset(tmp_path / "data", per_class=4)
    (tmp_path / "others" / "car").mkdir(parents=True)
    out = tmp_path / where / "m.keras"
    result = runner.invoke(app, train_args(data, out, "--other", str(tmp_path / "others"),
                                           "--backbone", "efficientnet-lite0"))  # --other needs it
    assert result.exit_code == 2, result.output
    assert f"--out {out} is inside " in result.stderr and "would be taken for photos" in result.stderr
    assert not list(tmp_path.rglob("m.*")) and not list(tmp_path.rglob("m-curves.png"))


# ------------------------------------------------------------------- a save killed at any moment

#: A real save (`publish.staged`) of the files in argv[3] (JSON, name -> text) to --out argv[1],
#: sent signal argv[4] (default: -9, so that no `finally` runs) just before its argv[2]-th rename
#: or removal.
KILLED_SAVE = """
import json, os, signal, sys
from pathlib import Path
from sorter.training.publish import staged

out, k, files = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
sent = int(sys.argv[4]) if len(sys.argv) > 4 else signal.SIGKILL
acts = 0

def killed_before_the_kth(act):
    def then(*args, **kwargs):
        global acts
        acts += 1
        if acts == k:
            os.kill(os.getpid(), sent)
        return act(*args, **kwargs)
    return then

with staged(out) as saving:
    for name, text in files.items():
        saving.with_name(name).write_text(text)
    os.replace, os.unlink = killed_before_the_kth(os.replace), killed_before_the_kth(os.unlink)
"""


def a_set(which: str, *endings: str) -> dict[str, str]:
    """A model's files as `staged` sees them: any bytes, and sorter metadata."""
    return {f"model{ending}": json.dumps({"format": "sorter-model/1", "set": which}) if ending == ".json"
            else f"the {which} model{ending}" for ending in endings}


def a_model_folder(folder: Path, files: dict[str, str]) -> Path:
    """`folder`, made, with `files` in it (name -> text): where a save goes. Its --out."""
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder / "model.keras"


#: A three-way model's set; its evidence and reference set are what a two-way model replacing it lacks.
OLD = a_set("old", ".keras", ".tflite", ".json", ".evidence.npz", ".reference.npz", "-curves.png")
NEW = a_set("new", ".keras", ".tflite", ".head.npz", ".json", "-curves.png")


@pytest.mark.parametrize("before", [{}, OLD], ids=["the first save", "a save over an old model"])
def test_a_save_killed_at_any_moment_leaves_a_whole_set_or_one_the_next_run_replaces(
    tmp_path: Path, before: dict[str, str]
) -> None:
    """Killed while moving the new files into place, a first save left model.keras without
    model.json, which the next run refused to replace ("not part of a sorter model") and sort
    refused to run; over an old model, a new head beside the old network. Killed before each
    rename and removal in turn: the old set, the new one, or a set sort refuses in one line
    and the next run replaces."""
    photos = tmp_path / "photos"
    write_image(photos / "a.jpg")
    cut_short = 0
    for k in range(1, 30):
        out = a_model_folder(tmp_path / f"killed-before-{k}", before)
        folder = out.parent
        save = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(out), str(k), json.dumps(NEW)], cwd=REPO,
                              capture_output=True, timeout=TIMEOUT)
        left = {name: (folder / name).read_text() for name in os.listdir(folder) if not name.startswith(".")}
        if save.returncode == 0:
            assert left == NEW and sorted(os.listdir(folder)) == sorted(NEW)  # no hidden folder left
            break
        assert save.returncode == -signal.SIGKILL, save.stderr.decode(errors="replace")
        if left not in (before, NEW):
            cut_short += 1
            result = runner.invoke(app, ["sort", str(photos), "--model", str(out), "--dry-run"])
            assert result.exit_code == 1, result.output
            assert result.stderr == (f"Error: {out.with_suffix('.json')}: the save of this model was cut short (its "
                                     "`sorter train` was stopped, or its disk failed, while moving it into place); "
                                     "train it again\n")  # no checkpoint beside it
        # The next run to the same --out: no question asked, and only the newer set is left.
        check_replaceable(out)
        with staged(out) as saving:
            for name, text in a_set("newer", ".keras", ".tflite", ".json").items():
                saving.with_name(name).write_text(text)
        assert tree(folder) == {name: text.encode() for name, text in a_set("newer", ".keras", ".tflite", ".json").items()}
    else:
        pytest.fail("the save never ended")
    assert k > len(NEW) and cut_short  # killed before every rename


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_ctrl_c_or_sigterm_while_the_files_are_moved_acts_once_the_new_set_is_whole(
    tmp_path: Path, sent: signal.Signals
) -> None:
    """Ctrl-C or `kill` landing among the renames left a set cut short, and its "Interrupted"
    line said nothing of it. Sent before each rename and removal in turn: the new set whole, no
    hidden folder, and then the signal does what it does (KeyboardInterrupt; SIGTERM's default
    action ends the process)."""
    for k in range(1, 30):
        out = a_model_folder(tmp_path / f"signalled-before-{k}", OLD)
        folder = out.parent
        save = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(out), str(k), json.dumps(NEW),
                               str(int(sent))], cwd=REPO, capture_output=True, timeout=TIMEOUT)
        assert sorted(os.listdir(folder)) == sorted(NEW) and tree(folder) == {n: t.encode() for n, t in NEW.items()}
        if save.returncode == 0:
            break
        assert save.returncode == -sent, save.stderr.decode(errors="replace")  # Python dies of an uncaught Ctrl-C too
        assert save.stderr.rstrip().endswith(b"KeyboardInterrupt") == (sent == signal.SIGINT)
    else:
        pytest.fail("the save never ended")
    assert k > len(NEW)  # sent before every rename


def full_disk_at_the_kth_rename(k: int, out: Path):
    """os.replace as a full ext4 disk answers the `k`-th rename of a save's file into `out`'s
    folder (a new name the folder must grow a block for); every other rename as it is."""
    replace, renames = os.replace, 0

    def rename(source, target, **kwargs):
        nonlocal renames
        if Path(source).parent.name == f".{out.name}.saving" and Path(target).parent == out.parent:
            renames += 1
            if renames == k:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return replace(source, target, **kwargs)
    return rename


@pytest.mark.parametrize("checkpointed", [True, False], ids=["with its checkpoint", "without"])
def test_a_disk_that_fails_while_the_files_are_moved_says_the_old_model_is_gone(
    tmp_path: Path, monkeypatch, checkpointed: bool
) -> None:
    """A rename that failed after MODEL.json had said "being saved" was said as "the model
    saved there before, if any, is as it was": it was gone. Failed at each rename in turn."""
    photos = tmp_path / "photos"
    write_image(photos / "a.jpg")
    for k in range(1, 30):
        out = a_model_folder(tmp_path / f"failed-at-{k}", OLD)
        folder = out.parent
        ckpt = out.with_suffix(".checkpoints")
        if checkpointed:
            ckpt.mkdir()
            (ckpt / "state.json").write_text("{}")
            (ckpt / "last.keras").write_text("weights")
        monkeypatch.setattr(os, "replace", full_disk_at_the_kth_rename(k, out))
        try:
            with staged(out) as saving:
                for name, text in NEW.items():
                    saving.with_name(name).write_text(text)
        except SorterError as exc:
            said = str(exc)
        else:
            break
        finally:
            monkeypatch.undo()
        assert not (folder / ".model.keras.saving").exists()
        if k == 1:  # MODEL.json's own rename to "being saved": nothing had changed
            assert said == f"cannot write the model in {folder}/: No space left on device; the model saved there " \
                           "before, if any, is as it was"
            assert {name: (folder / name).read_text() for name in OLD} == OLD
            continue
        again = (f"run the same `sorter train` with --resume to save it again from {ckpt}/" if checkpointed
                 else "train it again")
        assert said == f"cannot write the model in {folder}/: No space left on device; the save was cut short, so " \
                       f"model.keras is no model now: free some space, then {again}"
        result = runner.invoke(app, ["sort", str(photos), "--model", str(out), "--dry-run"])
        assert result.exit_code == 1, result.output
        assert result.stderr == (f"Error: {out.with_suffix('.json')}: the save of this model was cut short (its "
                                 f"`sorter train` was stopped, or its disk failed, while moving it into place); {again}\n")
    else:
        pytest.fail("the save never ended")
    assert k == 1 + len(NEW) + 1 and {name: (folder / name).read_text() for name in NEW} == NEW  # the marker, the set


def test_a_save_cut_short_by_a_full_disk_is_saved_again_by_resume(trained, tmp_path: Path, monkeypatch) -> None:
    """As the error and sort's refusal say: the run's epochs are all done, so --resume only saves."""
    data, out = trained
    again = copy_of_checkpoint(out, tmp_path)
    monkeypatch.setattr(os, "replace", full_disk_at_the_kth_rename(2, again))
    result = runner.invoke(app, train_args(data, again, "--epochs", "1", "--resume"))
    monkeypatch.undo()
    assert result.exit_code == 1, result.output
    ckpt = again.with_suffix(".checkpoints")
    assert result.stderr.endswith(f"Error: cannot write the model in {tmp_path}/: No space left on device; the save was "
                                  "cut short, so again.keras is no model now: free some space, then run the same "
                                  f"`sorter train` with --resume to save it again from {ckpt}/\n"), result.stderr
    result = runner.invoke(app, train_args(data, again, "--epochs", "1", "--resume"))
    assert result.exit_code == 0, result.output
    assert "epoch   1/1" not in result.output  # no epoch trained again
    assert json.loads(again.with_suffix(".json").read_text())["format"] == "sorter-model/1"


def test_sorter_train_replaces_a_save_cut_short_without_asking(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=8)
    out = tmp_path / "model.keras"
    save = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(out), "3", json.dumps(NEW)], cwd=REPO,
                          capture_output=True, timeout=TIMEOUT)
    assert save.returncode == -signal.SIGKILL and os.listdir(tmp_path) != ["data"]  # cut short, something left
    result = runner.invoke(app, train_args(data, out, "--epochs", "1"))
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(tmp_path)) == ["data", "model-curves.png", "model.checkpoints", "model.json",
                                            "model.keras", "model.tflite"]  # no hidden folder, no head of NEW's


def test_a_save_reaches_the_disk_before_its_names_do(trained, tmp_path: Path, monkeypatch) -> None:
    """Renamed into place without an fsync, a model's files could be cut short (or zeros) under
    their final names after a power cut, though the renames had said the set was whole. Each file
    reaches the disk before its rename, and the renames before the run ends. (os.fsync recorded,
    by inode, which a rename keeps: whether the disk really writes is not this test's to see.)"""
    data, out = trained
    again = copy_of_checkpoint(out, tmp_path)  # --resume with no epoch left: straight to the save
    acts = []
    fsync, replace = os.fsync, os.replace

    def synced(fd: int) -> None:
        acts.append(("fsync", os.fstat(fd).st_ino))
        fsync(fd)

    def renamed(source, target, **kwargs) -> None:
        acts.append(("rename", os.stat(source).st_ino, Path(target).name))
        replace(source, target, **kwargs)

    monkeypatch.setattr(os, "fsync", synced)
    monkeypatch.setattr(os, "replace", renamed)
    result = runner.invoke(app, train_args(data, again, "--epochs", "1", "--resume"))
    monkeypatch.undo()
    assert result.exit_code == 0, result.output
    placed = {name: at for at, (act, *what) in enumerate(acts) if act == "rename" for name in what[1:]}
    saved = {p.name: p.stat().st_ino for p in tmp_path.iterdir() if p.name.startswith("again") and p.is_file()}
    assert sorted(saved) == ["again-curves.png", "again.json", "again.keras", "again.tflite"]
    for name, inode in saved.items():
        assert ("fsync", inode) in acts[:placed[name]], f"{name} renamed into place before it reached the disk"
    assert ("fsync", tmp_path.stat().st_ino) in acts[max(placed.values()):], "the renames never reached the disk"
    photos = tmp_path / "photos"
    write_image(photos / "a.jpg")
    result = runner.invoke(app, ["sort", str(photos), "--model", str(again), "--dry-run"])  # it loads, and sorts
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------------------- one run at a time


def test_a_second_run_to_the_same_out_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    """Two runs to one --out shared its checkpoints and the folder the model is saved in: one
    ended with a traceback, its files removed under it by the other."""
    data = make_dataset(tmp_path / "data")
    out = tmp_path / "model.keras"
    with sorter_process(train_args(data, out, "--epochs", "40", "--patience", "40"), tmp_path / "first.log") as first:
        wait_for(out.with_suffix(".checkpoints") / "state.json", first)  # training, an epoch checkpointed
        second = runner.invoke(app, train_args(data, out, "--epochs", "1"))
        assert first.poll() is None, "the first run ended before the second was refused"
    assert second.exit_code == 1, second.output
    assert second.stderr == (f"Error: another `sorter train` is writing {out} (it holds {out.with_suffix('.checkpoints')}"
                             "/): wait for it to end, or give this run another --out\n")


# ------------------------------------------------------------------------------- odd paths, full disks


def test_an_out_path_that_is_not_utf8_gets_its_model_and_curves(tmp_path: Path) -> None:
    """OpenCV's imwrite, given a name with a byte that is not UTF-8, crashed the interpreter
    (exit 139, no message) and left the half-saved model's hidden folder behind."""
    data = make_dataset(tmp_path / "data", per_class=8)
    folder = tmp_path / os.fsdecode(b"q\xff")
    result = subprocess.run([sys.executable, "-m", "sorter", *train_args(data, folder / "m.keras", "--epochs", "1")],
                            cwd=REPO, capture_output=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert sorted(p.name for p in folder.iterdir()) == ["m-curves.png", "m.checkpoints", "m.json", "m.keras",
                                                        "m.tflite"]
    curves = cv2.imdecode(np.frombuffer((folder / "m-curves.png").read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert curves is not None and curves.shape[1] > 400


def test_the_evaluation_pictures_are_written_under_a_path_that_is_not_utf8(tmp_path: Path) -> None:
    """`sorter evaluate --report` draws with the same code (in a process of its own: before, it crashed)."""
    script = (
        "import os, sys\nfrom pathlib import Path\n"
        "from sorter.training.report import write_confusion_matrix, write_contact_sheet\n"
        "folder = Path(os.fsdecode(sys.argv[1].encode()) + os.fsdecode(b'r\\xff'))\n"
        "write_confusion_matrix({'cat': {'cat': 3, 'dog': 1}, 'dog': {'cat': 0, 'dog': 4}}, folder / 'confusion.png')\n"
        "write_contact_sheet([], folder / 'mistakes.png')\n"
    )
    result = subprocess.run([sys.executable, "-c", script, f"{tmp_path}/"], cwd=REPO, capture_output=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert sorted(os.listdir(os.fsencode(tmp_path / os.fsdecode(b"r\xff")))) == [b"confusion.png", b"mistakes.png"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB file system (tmpfs): a model's files do not fit. Needs root; skipped otherwise."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    with mounted(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], disk, "a small tmpfs"):
        yield disk


def an_old_model(out: Path) -> dict[str, bytes]:
    out.write_bytes(b"the old network")
    out.with_suffix(".json").write_text(json.dumps({"format": "sorter-model/1"}))
    return {name: (out.parent / name).read_bytes() for name in (out.name, out.with_suffix(".json").name)}


def left_in(disk: Path) -> dict[str, bytes | str]:
    """Every name in `disk`, hidden ones too: a file's contents, a link's target."""
    return {name: os.readlink(disk / name) if (disk / name).is_symlink() else (disk / name).read_bytes()
            for name in os.listdir(disk)}


def trained_over_an_old_model(tmp_path: Path, out: Path):
    """One epoch trained to `out`, where an old model is: (what the old model was, the run)."""
    data = make_dataset(tmp_path / "data")
    old = an_old_model(out)
    return old, runner.invoke(app, train_args(data, out, "--epochs", "1"))


def test_a_full_disk_while_checkpointing_is_one_line_and_leaves_no_part_of_a_checkpoint(
    tmp_path: Path, small_disk: Path
) -> None:
    out = small_disk / "m.keras"
    old, result = trained_over_an_old_model(tmp_path, out)
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: cannot write the checkpoint of epoch 1 in {out.with_suffix('.checkpoints')}/: "
                             "No space left on device\n")
    assert left_in(small_disk) == old  # no torn best.keras, no temporary file, the old model whole


def test_a_full_disk_while_saving_the_model_is_one_line_and_keeps_the_old_model(
    tmp_path: Path, small_disk: Path
) -> None:
    out = small_disk / "m.keras"
    (tmp_path / "checkpoints").mkdir()
    out.with_suffix(".checkpoints").symlink_to(tmp_path / "checkpoints")  # they fit; the model does not
    old, result = trained_over_an_old_model(tmp_path, out)
    assert result.exit_code == 1, result.output
    assert result.stderr.endswith(f"\nError: cannot write the model in {small_disk}/: No space left on device; the "
                                  "model saved there before, if any, is as it was\n")  # after the epoch's line
    assert "Traceback" not in result.output
    old["m.checkpoints"] = str(tmp_path / "checkpoints")
    assert left_in(small_disk) == old  # no hidden .m.keras.saving/ left
    assert (tmp_path / "checkpoints" / "last.keras").is_file()  # the epoch is kept: --resume saves it again


# ------------------------------------------------------------------------------------- --resume


@pytest.mark.parametrize("damage, reason", [
    (lambda ckpt: os.truncate(ckpt / "last.keras", 1000), "last.keras: File is not a zip file"),
    (lambda ckpt: (ckpt / "state.json").write_text("{not json"), "state.json: not JSON"),
    (lambda ckpt: (ckpt / "state.json").write_text("[]"), "state.json: not a checkpoint's state"),
])
def test_a_damaged_checkpoint_is_one_line_saying_to_start_over(trained, tmp_path: Path, damage, reason: str) -> None:
    data, out = trained
    again = copy_of_checkpoint(out, tmp_path)
    damage(again.with_suffix(".checkpoints"))
    result = runner.invoke(app, train_args(data, again, "--epochs", "2", "--resume"))
    assert result.exit_code == 1, result.output
    assert result.stderr == (f"Error: --resume: the checkpoint in {again.with_suffix('.checkpoints')}/ is damaged "
                             f"({reason}); run the same command without --resume to start over\n")


@pytest.mark.parametrize("options, message", [
    (["--seed", "8"], "used --seed 7 (here 8), so its split would differ, and photos it trained on could be "
                      "validation photos; give the same --seed to go on"),
    (["--validation-split", "0.5"], "used --validation-split 0.2 (here 0.5), so its split would differ"),
    (["--limit", "10"], "used --limit none (here 10), so its split would differ"),
    (["--image-size", "48"], "used --image-size 32 (here 48), and its checkpoint holds that network"),
])
def test_resume_refuses_options_that_change_the_split_or_the_network(
    trained, tmp_path: Path, options: list[str], message: str
) -> None:
    """`--seed 7 --validation-split 0.5 --resume` went on from the weights of a run whose
    training photos were now validation photos; another --image-size went on too."""
    data, out = trained
    again = copy_of_checkpoint(out, tmp_path)
    result = runner.invoke(app, [*train_args(data, again, "--epochs", "2", "--resume"), *options])  # the last wins
    assert result.exit_code == 2, result.output
    assert f"Error: --resume: the interrupted run in {again.with_suffix('.checkpoints')}/ {message}" in result.stderr
    assert result.stderr.endswith("or run without --resume to start over\n") and result.stderr.count("\n") == 1


def test_resume_refuses_other_photos(trained, tmp_path: Path) -> None:
    data, out = trained
    again = copy_of_checkpoint(out, tmp_path)
    elsewhere = tmp_path / "data"
    shutil.copytree(data, elsewhere)
    result = runner.invoke(app, train_args(elsewhere, again, "--epochs", "2", "--resume"))
    assert result.exit_code == 2, result.output
    assert f"used DATA_DIR {data} (here {elsewhere}), so its split would differ" in result.stderr
    added = toy_photo(data / "Cat" / "new.jpg", "cat", np.random.default_rng(5))
    try:  # the same folder, a photo more: another split
        result = runner.invoke(app, train_args(data, again, "--epochs", "2", "--resume"))
    finally:
        added.unlink()
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: --resume: the photos are not those of the interrupted run in "
                             f"{again.with_suffix('.checkpoints')}/ (some were added, removed or moved since): its "
                             "split would differ, and photos it trained on could be validation photos; run without "
                             "--resume to start over\n")


# -------------------------------------------------------------------------------- interruptions


def test_ctrl_c_before_anything_was_kept_says_to_run_the_same_command_again(tmp_path: Path) -> None:
    """Ctrl-C before the first checkpoint promised that --resume would go on, and --resume then
    said there was nothing to resume."""
    data = make_dataset(tmp_path / "data", per_class=8)
    out = tmp_path / "model.keras"
    args = train_args(data, out, "--epochs", "1")
    with sorter_process(args, tmp_path / "run.log") as run:
        wait_for(out.with_suffix(".checkpoints"), run)  # the run holds its --out: it has started, nothing is kept
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=TIMEOUT) == 130
    said = (tmp_path / "run.log").read_text(errors="replace")
    assert said.endswith("Interrupted. No epoch had finished and nothing was kept: run the same command again "
                         "(without --resume) to start over.\n"), said
    assert "Traceback" not in said and not out.with_suffix(".checkpoints").exists()
    result = runner.invoke(app, args)  # as it says
    assert result.exit_code == 0, result.output


def test_sigterm_stops_training_as_ctrl_c_does(tmp_path: Path) -> None:
    """`kill` (a scheduler's or systemd's stop) ended a run with no message (exit -15)."""
    data = make_dataset(tmp_path / "data")
    out = tmp_path / "model.keras"
    with sorter_process(train_args(data, out, "--epochs", "40", "--patience", "40"), tmp_path / "run.log") as run:
        wait_for(out.with_suffix(".checkpoints") / "state.json", run)
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=TIMEOUT) == 143  # 128 + SIGTERM, as a shell reports it
    said = (tmp_path / "run.log").read_text(errors="replace")
    assert said.endswith(f"Interrupted. The epochs finished are kept in {out.with_suffix('.checkpoints')}/: the same "
                         "command with --resume goes on from there.\n"), said
    assert "Traceback" not in said
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "model.checkpoints", "run.log"]  # no model half saved


#: `sorter train` (the arguments after argv[2]) sent signal argv[1] once its model is in place:
#: as its last file, the metadata, is moved there (the signal is held until the set is whole,
#: `signals_held`), or, argv[2] "report", as it says that it saved the model.
SAVED_THEN_SIGNALLED = """
import os, sys
from pathlib import Path
from sorter.cli import console, main

sent, when, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
replace, say = os.replace, console.out.print

def moving_the_metadata(source, target, **kwargs):
    if Path(source).name == Path(target).name and Path(target).suffix == ".json":
        os.kill(os.getpid(), sent)
    return replace(source, target, **kwargs)

def saying(*words, **how):
    console.out.print = say
    os.kill(os.getpid(), sent)
    return say(*words, **how)

if when == "report":
    console.out.print = saying
else:
    os.replace = moving_the_metadata
sys.argv = ["sorter", *args]
main()
"""


@pytest.mark.parametrize(("sent", "when", "code"), [
    (signal.SIGINT, "renames", 130), (signal.SIGTERM, "renames", 143), (signal.SIGINT, "report", 130),
], ids=["Ctrl-C while the files are moved", "SIGTERM while the files are moved", "Ctrl-C while it says so"])
def test_an_interrupt_once_the_model_is_saved_says_it_is_saved(
    trained, tmp_path: Path, sent: signal.Signals, when: str, code: int
) -> None:
    """Ctrl-C while the files were moved into place waits until the set is whole, and then said
    "Interrupted. The epochs finished are kept …: the same command with --resume goes on from
    there": the model was saved, and nothing was said of it. The exit status still says that the
    run was stopped (a script's `train && sort` stops there, as the user asked); the line says
    that nothing is lost."""
    data, out = trained
    again = copy_of_checkpoint(out, tmp_path)  # --resume with no epoch left: straight to the save
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-c", SAVED_THEN_SIGNALLED, str(int(sent)), when,
                          *train_args(data, again, "--epochs", "1", "--resume")],
                         cwd=REPO, env=environ, capture_output=True, text=True, timeout=TIMEOUT)
    assert run.returncode == code, run.stderr
    assert run.stderr.endswith(f"Interrupted after the model was saved: {again} is whole (its validation numbers "
                               f"are in {again.with_suffix('.json')}).\n"), run.stderr
    assert "Saved" not in run.stdout and "Traceback" not in run.stderr
    assert json.loads(again.with_suffix(".json").read_text())["format"] == "sorter-model/1"
    photos = tmp_path / "photos"
    write_image(photos / "a.jpg")
    result = runner.invoke(app, ["sort", str(photos), "--model", str(again), "--dry-run"])
    assert result.exit_code == 0, result.output


def test_a_kill_dropped_inside_a_finalizer_still_stops_the_run_at_the_next_batch(tmp_path: Path,
                                                                                monkeypatch) -> None:
    """Keras's data pipeline closes a multiprocessing pool in a finalizer: a SIGTERM that landed
    there raised its KeyboardInterrupt inside it, which Python prints as "Exception ignored" and
    drops, and the chief of a cluster trained on for all its epochs (test_distribute, 1 run in
    a few). The run stops at the next batch, as for a kill anywhere else."""
    from sorter.training import train as trainer
    from sorter.training.loop import BatchDone

    batches = []

    class Pool:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.5)  # the handler runs here, and its KeyboardInterrupt is dropped

    def training(config, resume, on_event, on_cache):
        for batch in range(1, 4):
            Pool()
            batches.append(batch)
            on_event(BatchDone(1, batch, 3))
        raise AssertionError("trained on")

    monkeypatch.setattr(trainer, "train", training)
    data = make_dataset(tmp_path / "data", per_class=2)
    result = runner.invoke(app, train_args(data, tmp_path / "model.keras"))
    assert result.exit_code == 143 and batches == [1], result.output
    assert result.stderr.startswith("Interrupted.")


#: `sorter train` (the arguments after argv[0]) through the console script's entry point, its
#: training a stand-in whose every batch drops a pool that a finalizer closes, as Keras's data
#: pipeline does; the first finalizer sends the process SIGTERM and runs on while it lands there.
KILLED_IN_A_FINALIZER = """
import os, signal, sys, time
from sorter.training import train as trainer
from sorter.training.loop import BatchDone

class Pool:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)  # the handler runs here: its KeyboardInterrupt is raised inside the finalizer

def training(config, resume, on_event, on_cache):
    for batch in range(1, 4):
        Pool()
        print(f"batch {batch}", flush=True)
        on_event(BatchDone(1, batch, 3))
    raise AssertionError("trained on")

trainer.train = training
sys.argv = ["sorter", *sys.argv[1:]]
from sorter.__main__ import main
main()
"""


def test_a_kill_inside_a_finalizer_says_one_line_not_a_traceback(tmp_path: Path) -> None:
    """A SIGTERM (or Ctrl-C) that landed while Python ran a finalizer printed "Exception ignored
    in: <function Pool.__del__ …>" and a traceback above `Interrupted.`: its KeyboardInterrupt,
    raised inside the finalizer, is one Python cannot raise, and prints. It is noted instead, and
    the run stops at the next batch with the one line and status 143 that any kill gives."""
    data = make_dataset(tmp_path / "data", per_class=2)
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-c", KILLED_IN_A_FINALIZER, *train_args(data, tmp_path / "model.keras")],
                         cwd=REPO, env=environ, capture_output=True, text=True, timeout=TIMEOUT)
    assert (run.returncode, run.stdout) == (143, "batch 1\n"), run.stderr
    assert "Exception ignored" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert run.stderr == ("Interrupted. No epoch had finished and nothing was kept: run the same command again "
                          "(without --resume) to start over.\n")


#: As KILLED_IN_A_FINALIZER, but Ctrl-C lands inside a constructor (TensorFlow's
#: `_TensorCacheDeleter.__init__` in a CI run), and the half-made object fails as it is freed.
CUT_IN_A_CONSTRUCTOR = """
import os, signal, sys, time
from sorter.training import train as trainer

class Deleter:
    __slots__ = ["context_id"]

    def __init__(self):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)  # the handler runs here, before context_id is set
        self.context_id = 1

    def __del__(self):
        print(self.context_id)

def training(config, resume, on_event, on_cache):
    Deleter()
    raise AssertionError("trained on")

trainer.train = training
sys.argv = ["sorter", *sys.argv[1:]]
from sorter.__main__ import main
main()
"""


def test_ctrl_c_inside_a_constructor_says_one_line_not_the_half_made_objects_error(tmp_path: Path) -> None:
    """Ctrl-C of `sorter train` printed, under its one line, "Exception ignored in: <function
    _TensorCacheDeleter.__del__>" and an AttributeError's traceback: the interrupt had landed
    in that object's `__init__`, and the half-made object failed as it was freed."""
    data = make_dataset(tmp_path / "data", per_class=2)
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-c", CUT_IN_A_CONSTRUCTOR, *train_args(data, tmp_path / "model.keras")],
                         cwd=REPO, env=environ, capture_output=True, text=True, timeout=TIMEOUT)
    assert (run.returncode, run.stdout) == (130, ""), run.stderr
    assert run.stderr == ("Interrupted. No epoch had finished and nothing was kept: run the same command again "
                          "(without --resume) to start over.\n")


def test_a_finalizers_own_error_is_still_printed_while_a_kill_would_be_noted(monkeypatch) -> None:
    """Only the KeyboardInterrupt that sorter's own handler raised is kept quiet: a finalizer's own
    error, or a KeyboardInterrupt it raises itself, goes to the hook that was there before (Python
    prints it), and that hook is back once the command's handlers are."""
    from sorter.signals import sigterm_interrupts

    seen: list[type[BaseException]] = []
    hook = lambda unraisable: seen.append(unraisable.exc_type)  # noqa: E731
    monkeypatch.setattr(sys, "unraisablehook", hook)

    class Failing:
        def __init__(self, error: type[BaseException]) -> None:
            self.error = error

        def __del__(self) -> None:
            raise self.error

    with sigterm_interrupts():
        Failing(ValueError)
        Failing(KeyboardInterrupt)
    assert seen == [ValueError, KeyboardInterrupt]
    assert sys.unraisablehook is hook
