"""What a QA round of `sorter train` found about the paths it is given and the files it finds
there: an --out whose checkpoint folder cannot be made (/proc, /sys, a name too long) was an
84-line traceback; Ctrl-C while starting promised --resume an earlier run's checkpoint; an
--init-from that is no zip was "File not found", one holding a Lambda layer a sentence cut in
half; a --resume from another network's checkpoint printed 44 warnings, then blamed its classes."""

from __future__ import annotations

import json
import os
import pickle
import signal
import time
import warnings
from pathlib import Path

import pytest
from conftest import make_dataset, tree
from test_train_outputs import TIMEOUT, copy_of_checkpoint, sorter_process, train_args, trained  # noqa: F401
from typer.testing import CliRunner

from sorter.cli import app

runner = CliRunner()


TOO_LONG = ("File name too long); its name before .keras may have 232 bytes at most, to leave room for what is "
            "made beside it")


@pytest.mark.parametrize("where, made, reason", [
    ("/proc/m.keras", ".checkpoints", "No such file or directory)"),  # the kernel's filesystem, where nothing is made
    ("/sys/m.keras", ".checkpoints", "Operation not permitted)"),
    ("a" * 248 + ".keras", ".checkpoints", TOO_LONG),  # fits, but its checkpoint folder's name does not
    ("new/" + "b" * 252 + ".keras", ".checkpoints", TOO_LONG),  # nor its own, in a folder not made yet
    # Its checkpoints fit, but not MODEL.tflite's temporary name: found after the whole training.
    ("new/" + "c" * 240 + ".keras", ".tflite", TOO_LONG),
])
def test_an_out_whose_files_cannot_be_made_is_one_line_before_training_and_leaves_nothing(
    tmp_path: Path, where: str, made: str, reason: str
) -> None:
    data = make_dataset(tmp_path / "data", per_class=4)
    out = tmp_path / where
    before = tree(tmp_path)
    result = runner.invoke(app, train_args(data, out, "--epochs", "1"))
    assert result.exit_code == 2, result.output
    if where.startswith("/") and os.geteuid() != 0:  # a user is refused by /proc's and /sys's modes first
        assert result.stderr == f"Error: --out {out}: cannot write in {out.parent}\n"
    else:
        assert result.stderr == f"Error: --out {out}: cannot make {out.with_suffix(made)} ({reason}\n"
    assert tree(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def holding(process, folder: Path) -> bool:
    """`process` has `folder` open: it holds its --out's checkpoint folder (`publish.claimed`)."""
    fds = Path(f"/proc/{process.pid}/fd")
    try:
        return any(os.readlink(fd) == str(folder) for fd in fds.iterdir())
    except OSError:  # an fd closed while listed
        return False


@pytest.mark.parametrize("stop, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupt_while_starting_says_the_checkpoint_there_is_an_earlier_runs(
    tmp_path: Path, stop: signal.Signals, status: int
) -> None:
    """Stopped while starting, before it cleared the checkpoint an earlier run (--seed 11) left,
    a run with --seed 13 said that its epochs were kept and --resume went on from there; --resume
    then refused the checkpoint as --seed 11's."""
    data = make_dataset(tmp_path / "data", per_class=8)
    out = tmp_path / "m.keras"
    earlier = out.with_suffix(".checkpoints")
    earlier.mkdir()
    (earlier / "state.json").write_text(json.dumps({"identity": {"seed": 11}}))  # a stand-in: only its name is read
    (earlier / "last.keras").write_bytes(b"an earlier run's weights")
    kept = tree(earlier)
    with sorter_process(train_args(data, out, "--epochs", "1", "--seed", "13"), tmp_path / "run.log") as run:
        deadline = time.monotonic() + TIMEOUT
        while not holding(run, earlier):  # started: it holds its --out, TensorFlow not loaded yet
            assert run.poll() is None and time.monotonic() < deadline, "the run never held its --out"
            time.sleep(0.01)
        run.send_signal(stop)
        assert run.wait(timeout=TIMEOUT) == status
    said = (tmp_path / "run.log").read_text(errors="replace")
    assert tree(earlier) == kept, "the run got as far as clearing the earlier run's checkpoint"
    assert said.endswith(f"Interrupted. No epoch of this run had finished; the checkpoint in {earlier}/ is an earlier "
                         "run's, not this one's: run the same command again (without --resume) to start over.\n"), said
    assert "Traceback" not in said


def fine_tune(trained, parent: Path) -> list[str]:  # noqa: F811 - the fixture's value
    data, out = trained
    parent.with_suffix(".json").write_bytes(out.with_suffix(".json").read_bytes())  # its split is this run's
    return train_args(data, parent.with_name("child.keras"), "--epochs", "1", "--init-from", str(parent))


def test_an_init_from_that_is_no_zip_says_so_not_that_it_is_not_found(trained, tmp_path: Path) -> None:  # noqa: F811
    parent = tmp_path / "parent.keras"
    parent.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))  # a pickle renamed
    result = runner.invoke(app, fine_tune(trained, parent))
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: --init-from {parent}: not a .keras model (not a zip file)\n"


def test_an_init_from_holding_python_code_says_why_it_is_not_loaded(trained, tmp_path: Path) -> None:  # noqa: F811
    """Keras's paragraph on trusting the source was cut after 200 characters: `If you trust the )`."""
    import keras

    photo = keras.Input((32, 32, 3))
    keras.Model(photo, keras.layers.Dense(1)(keras.layers.Lambda(lambda x: x * 2)(photo))).save(
        tmp_path / "parent.keras")
    result = runner.invoke(app, fine_tune(trained, tmp_path / "parent.keras"))
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: --init-from {tmp_path / 'parent.keras'}: not a loadable .keras model: it holds "
                             "Python code (a Lambda layer), which sorter does not load\n")


def test_resume_from_a_checkpoint_of_other_layers_says_so_without_keras_warnings(
    trained, tmp_path: Path  # noqa: F811
) -> None:
    """Same classes (one output: dog or not), other layers: it said "other classes", after 44
    lines of `UserWarning: Skipping variable loading for optimizer`."""
    import keras

    data, out = trained
    again = copy_of_checkpoint(out, tmp_path)
    photo = keras.Input((32, 32, 3))
    other = keras.Model(photo, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Flatten()(photo)))
    other.compile(optimizer="adam", loss="binary_crossentropy")
    for name in ("last.keras", "best.keras"):
        other.save(again.with_suffix(".checkpoints") / name)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        result = runner.invoke(app, train_args(data, again, "--epochs", "2", "--resume"))
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: --resume: the checkpoint in {again.with_suffix('.checkpoints')} is of another "
                             "network than this run's (its layers differ); run it without --resume\n")
    assert not [w for w in warned if "Skipping variable loading" in str(w.message)]


def test_an_init_from_not_named_keras_is_shown_as_given(tmp_path: Path, monkeypatch) -> None:
    """`--init-from models/old/m.h5` said `(got m.h5)`, the folder dropped: which m.h5? It is
    shown as given, as `--out`'s errors show theirs."""
    make_dataset(tmp_path / "data", per_class=2)
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, ["train", "data", "--out", "m.keras", "--backbone", "none",
                                 "--init-from", "models/old/m.h5"])

    assert result.exit_code == 2, result.output
    assert " ".join(result.stderr.split()).startswith(
        "Error: Invalid value for '--init-from': expected a MODEL.keras written by `sorter train` "
        "(got models/old/m.h5) (see "), result.stderr
