"""The command-line surface: version, help with examples for every command, fast start."""

from __future__ import annotations

import itertools
import os
import re
import subprocess

import pytest
from conftest import tree, write_image
from typer.testing import CliRunner

from sorter import __version__
from sorter.cli import app

runner = CliRunner()
COMMANDS = ["train", "evaluate", "sort", "undo", "watch", "review", "learn"]
#: Each command that works on a folder, as the tests of a folder it may not use run it.
ON_A_FOLDER = pytest.mark.parametrize("args", [["sort"], ["undo"], ["learn"], ["review", "--no-browser"], ["watch"]],
                                      ids=lambda args: args[0])


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"sorter {__version__}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_help_wraps_each_paragraph_to_the_terminal(command: str) -> None:
    """A docstring's line breaks are the source's, not the terminal's: at any width each
    paragraph of prose is one run of text, wrapped by rich (examples keep their lines)."""
    result = CliRunner(env={"COLUMNS": "1000"}).invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    description = result.stdout.split("╭")[0].splitlines()
    prose = [line.strip() for line in description if line.startswith(" ") and not line.startswith("   ")
             and not line.strip().startswith("Usage:")]  # examples are indented under their heading
    assert prose and all(line.endswith((".", ":")) for line in prose), prose


@pytest.mark.parametrize("command", COMMANDS)
def test_an_example_over_two_lines_can_be_pasted_whole(command: str) -> None:
    """train's example went on to `--other ...` on a line of its own without a `\\`: pasted, it
    ran without --other, and the next line was a command not found."""
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, [command, "--help"])
    lines = [line.rstrip() for line in result.stdout.split("╭")[0].splitlines()]
    for line, after in itertools.pairwise(lines):
        if line.strip().startswith("sorter ") and after.strip().startswith("--"):
            assert line.endswith(" \\"), (line, after)


@pytest.mark.parametrize("columns", [40, 80, 200])
@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_no_line_of_help_ends_in_a_space(command: str, columns: int) -> None:
    """rich padded every line to the terminal's width: copied, an example carried the spaces
    after it, and `sorter sort --help > notes.txt` kept hundreds."""
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    assert [line for line in result.stdout.splitlines() if line.endswith(" ")] == []


@pytest.mark.parametrize("command", COMMANDS)
def test_every_commands_examples_are_indented_under_their_heading(command: str) -> None:
    """undo, watch and evaluate showed their examples flush with the prose, where sort, train,
    learn and review indented them: typer dedents the text after the first paragraph."""
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, [command, "--help"])
    lines = result.stdout.split("╭")[0].splitlines()
    heading = next(line for line in lines if line.strip() in ("Example:", "Examples:"))
    examples = [line for line in lines if line.strip().startswith("sorter ")]
    indent = len(heading) - len(heading.lstrip())
    assert examples and all(len(line) - len(line.lstrip()) == indent + 2 for line in examples), examples


USAGE = {"train": "DATA_DIR", "evaluate": "DATA_DIR", "learn": "[DIRECTORY]"}


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_shows_a_flag_with_no_value_and_an_argument_as_the_text_names_it(command: str) -> None:
    # typer 0.29 showed every flag as taking a value (`--dry-run -n <bool>`), so users typed
    # `--dry-run true` (exit 2), and the usage line said `{directory}` where the text says DIRECTORY.
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, [*command.split(), "--help"], prog_name="sorter")
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.stdout
    usage = next(line.strip() for line in result.stdout.splitlines() if "Usage:" in line)
    what = "COMMAND [ARGS]..." if not command else USAGE.get(command, "DIRECTORY")
    assert usage == f"Usage: sorter {command} [OPTIONS] {what}".replace("  ", " ")
    flag = re.search(r"│ --help +-h +(\S.*?) +│", result.stdout)
    assert flag is not None and flag.group(1) == "Show this message and exit."


def test_sorter_help_fits_a_screen_with_one_short_line_per_command() -> None:
    """The long text of each command is in `sorter COMMAND --help`; `sorter --help` lists them."""
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) <= 24
    rows = {line.strip("│ ").split()[0]: line for line in lines if line.strip("│ ").split()[:1] in ([c] for c in COMMANDS)}
    assert set(rows) == set(COMMANDS)
    assert all(len(row) <= 80 for row in rows.values())  # one line each, none wrapped


def test_every_command_is_in_the_readme() -> None:
    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    for command in COMMANDS:
        assert f"sorter {command}" in readme


def test_help_and_undo_do_not_import_tensorflow(tmp_path) -> None:
    from conftest import heavy_imports_after

    assert heavy_imports_after((["sort", "--help"], None), (["undo", str(tmp_path)], 2)) == []


def test_sort_runs_the_bundled_model_without_importing_tensorflow(tmp_path) -> None:
    from conftest import SAMPLES, heavy_imports_after

    # A real photo of a dog: the bundled model leaves a flat coloured square in place, as neither.
    (tmp_path / "a.jpg").write_bytes((SAMPLES / "photo-01.jpg").read_bytes())
    # TensorFlow is only for training: sorting needs the decoder and LiteRT (start-up < 1 s).
    assert heavy_imports_after((["sort", str(tmp_path)], 0)) == ["cv2", "numpy"]
    assert len(list(tmp_path.glob("dogs/a.jpg"))) == 1


def test_unknown_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["sort", "--frobnicate"])
    assert result.exit_code == 2


@pytest.mark.parametrize("args, line", [
    (["sort"], "Error: Missing argument 'DIRECTORY' (see 'sorter sort -h')"),
    (["sort", ".", "--frobnicate"], "Error: No such option: --frobnicate (see 'sorter sort -h')"),
    # A suggestion when the name is close, none for one that shares little but its dashes: `--bogus`
    # was said to be `--verbose`.
    (["sort", ".", "--bogus"], "Error: No such option: --bogus (see 'sorter sort -h')"),
    (["sort", ".", "--dry-rn"], "Error: No such option: --dry-rn (Possible options: --dry-run) (see 'sorter sort -h')"),
    # typer's parser raises these two without the command: they lacked the help to read.
    (["sort", ".", "--log-file"], "Error: Option '--log-file' requires an argument (see 'sorter sort -h')"),
    (["undo", ".", "--all=1"], "Error: Option '--all' does not take a value (see 'sorter undo -h')"),
    (["sort", ".", "--min-confidence", "most"],
     "Error: Invalid value for '--min-confidence': 'most' is not a number; give one from 0 to 1 (see 'sorter sort -h')"),
    (["sortt", "."], "Error: No such command 'sortt'. Did you mean 'sort'? (see 'sorter -h')"),
    # sorter's own options: the parser had taken them out of the arguments, which then looked like
    # `sorter` alone, whose error typer draws in a box under a usage line.
    (["--bogus"], "Error: No such option: --bogus (see 'sorter -h')"),
    (["-V"], "Error: No such option: -V (see 'sorter -h')"),
    (["sort", ".", "--json", "--jsonl"], "Error: Invalid value for '--json' / '--jsonl': choose one (see 'sorter sort -h')"),
    (["train", ".", "--out", "mdir"],
     "Error: Invalid value for '--out': must end in .keras (got mdir) (see 'sorter train -h')"),
    # The path as given: `(got noext)` of `outs/noext` did not say which.
    (["train", ".", "--out", "outs/noext"],
     "Error: Invalid value for '--out': must end in .keras (got outs/noext) (see 'sorter train -h')"),
    # Found below the CLI (`errors.OptionError`), and before the folder is looked at: "nowhere" is not there.
    (["train", "nowhere", "--backbone", "resnet"],
     "Error: Invalid value for '--backbone': must be one of: efficientnet-lite0, none (got resnet) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--distribute", "tpu"],
     "Error: Invalid value for '--distribute': must be one of: none, mirrored, multi-worker (got tpu) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--backbone", "none", "--distill", "1"],
     "Error: Invalid value for '--distill' / '--backbone': --distill keeps ImageNet's answers: it needs the "
     "pretrained backbone (--backbone efficientnet-lite0) (see 'sorter train -h')"),
    (["train", "nowhere", "--backbone", "none", "--other", "nowhere/Other"],
     "Error: Invalid value for '--other' / '--backbone': the from-scratch network knows cats and dogs only: train "
     "non-pets with the pretrained backbone (--backbone efficientnet-lite0) (see 'sorter train -h')"),
    (["train", "nowhere", "--init-from", "m.keras"],
     "Error: Invalid value for '--init-from' / '--backbone': fine-tunes the from-scratch network: use it with "
     "--backbone none (see 'sorter train -h')"),
    (["train", "nowhere", "--backbone", "none", "--init-from", "m.h5"],
     "Error: Invalid value for '--init-from': expected a MODEL.keras written by `sorter train` (got m.h5) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--backbone", "none", "--init-from", "m.keras", "--out", "m.keras"],
     "Error: Invalid value for '--init-from' / '--out': m.keras is also --out: the run would overwrite the model "
     "it starts from (see 'sorter train -h')"),
    # train's whole numbers: said as its other option errors, where typer said `Input should be greater
    # than or equal to 1` and `Input should be a valid integer, unable to parse string as an integer`.
    (["train", "nowhere", "--epochs", "0"],
     "Error: Invalid value for '--epochs': must be a whole number from 1 to 10000 (got 0) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--epochs", "two"],
     "Error: Invalid value for '--epochs': must be a whole number from 1 to 10000 (got two) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--batch-size", "0"],
     "Error: Invalid value for '--batch-size': must be a whole number from 1 to 65536 (got 0) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--patience", "-2"],
     "Error: Invalid value for '--patience': must be a whole number from 1 to 10000 (got -2) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--limit", "2.5"],
     "Error: Invalid value for '--limit': must be a whole number from 1 to 1000000000 (got 2.5) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--image-size", "16"],
     "Error: Invalid value for '--image-size': must be a whole number from 32 to 512 (got 16) (see 'sorter train -h')"),
    # ... and their upper limits, said the same way before anything is written: 99999999999999999999
    # epochs was a TensorFlow traceback ("Failed to convert elements ... to Tensor") after
    # MODEL.checkpoints/ was made, and 4294967296 epochs a run that would never end.
    (["train", "nowhere", "--epochs", "99999999999999999999"],
     "Error: Invalid value for '--epochs': must be a whole number from 1 to 10000 (got 99999999999999999999) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--epochs", "4294967296"],
     "Error: Invalid value for '--epochs': must be a whole number from 1 to 10000 (got 4294967296) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--batch-size", "99999999999999999999"],
     "Error: Invalid value for '--batch-size': must be a whole number from 1 to 65536 (got 99999999999999999999) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--patience", "10001"],
     "Error: Invalid value for '--patience': must be a whole number from 1 to 10000 (got 10001) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--limit", "99999999999999999999"],
     "Error: Invalid value for '--limit': must be a whole number from 1 to 1000000000 (got 99999999999999999999) "
     "(see 'sorter train -h')"),
    (["train", "nowhere", "--image-size", "513"],
     "Error: Invalid value for '--image-size': must be a whole number from 32 to 512 (got 513) (see 'sorter train -h')"),
    (["train", "nowhere", "--seed", "-1"],
     "Error: Invalid value for '--seed': must be a whole number from 0 to 4294967295 (got -1) (see 'sorter train -h')"),
    (["evaluate", "nowhere", "--split", "half"],
     "Error: Invalid value for '--split': must be one of: all, validation, training (got half) "
     "(see 'sorter evaluate -h')"),
    (["sort", "nowhere", "--name-pets", "--no-personal"],
     "Error: Invalid value for '--name-pets' / '--no-personal': your named pets are in the personal model; "
     "choose one (see 'sorter sort -h')"),
    (["learn", "nowhere", "--forget"],
     "Error: Invalid value for '--forget': deletes the whole personal model (every named pet, every correction) "
     "and takes no folder; to forget one pet, move her folder out of cats/ or dogs/ and run `sorter learn` on the "
     "folder she was learnt in (see 'sorter learn -h')"),
    # It ignored --model, exit 0, having deleted the personal model.
    (["learn", "--forget", "--model", "/x.keras"],
     "Error: Invalid value for '--forget' / '--model': deletes the whole personal model, whichever model it was "
     "learnt on: give one or the other (see 'sorter learn -h')"),
    (["learn"], "Error: Missing argument 'DIRECTORY': give the folder to learn from, or --forget "
                "(see 'sorter learn -h')"),
])
def test_a_usage_error_is_one_line_with_where_to_read_more(args, line) -> None:
    # Like every other error: one line on stderr, exit 2; not typer's usage line and box.
    result = runner.invoke(app, args, prog_name="sorter")
    assert result.exit_code == 2 and result.stderr == line + "\n" and result.stdout == ""


@pytest.mark.parametrize("option", ["--epochs", "--batch-size"])
def test_a_number_train_cannot_use_is_refused_before_anything_is_written(tmp_path, monkeypatch, option) -> None:
    """`--epochs 99999999999999999999` on a real folder was a TensorFlow traceback, exit 1,
    with MODEL.checkpoints/cache-224px/ left behind: now the option's one line, exit 2, and the
    folder as it was."""
    for label, colour in (("Cat", (255, 0, 0)), ("Dog", (0, 0, 255))):
        for i in range(3):
            write_image(tmp_path / "data" / label / f"{i}.jpg", colour)
    before = tree(tmp_path)
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, ["train", "data", option, "99999999999999999999"], prog_name="sorter")

    assert result.exit_code == 2 and result.stderr.startswith(f"Error: Invalid value for '{option}': must be a "
                                                              "whole number from 1 to "), result.output
    assert tree(tmp_path) == before


def test_sorter_alone_shows_its_help() -> None:
    result = runner.invoke(app, [], prog_name="sorter")
    assert "Usage: sorter" in result.output and "Move a folder's photos" in result.output


@pytest.mark.parametrize(("refused", "mode"), [("U", 0o000), ("U", 0o311), ("P", 0o000)],
                         ids=["mode-000", "entered-not-listed", "inside-one-not-entered"])
@ON_A_FOLDER
def test_a_folder_sorter_cannot_read_is_refused_in_one_line_naming_it(tmp_path, monkeypatch, args, refused,
                                                                     mode) -> None:
    # `chmod 000 U` was refused naming a cats/ U does not have (`Error: U/cats: Permission denied`,
    # exit 1); `chmod 311 U` was sorted, U itself counted as a file skipped ("cannot list folder"),
    # and .sorter/lock and review.html were left in it. P/U with `chmod 000 P`: U's path cannot be
    # looked up, and the PermissionError `exists()` raised came out as `Error: P/U: Permission
    # denied`, exit 1.
    from conftest import as_a_user, write_image

    write_image(tmp_path / "P" / "U" / "a.jpg")
    monkeypatch.chdir(tmp_path / "P" if refused == "U" else tmp_path)
    given = "U" if refused == "U" else "P/U"
    target = tmp_path / "P" / "U" if refused == "U" else tmp_path / "P"
    target.chmod(mode)
    try:
        with as_a_user(target):
            result = runner.invoke(app, [args[0], given, *args[1:]])
    finally:
        target.chmod(0o755)
    assert (result.exit_code, result.stderr, result.stdout) == (2, f"Error: cannot read {given}: Permission denied\n",
                                                                "")
    assert os.listdir(tmp_path / "P" / "U") == ["a.jpg"]  # nothing written


@pytest.mark.parametrize("port, said", [
    ("70000", "70000"), ("-1", "-1"), ("http", "http"),
    ("", "''"), ("8 0", "'8 0'"),  # blank, or a blank in it: quoted ("Invalid value for '--port':  is not ...")
])
def test_a_port_out_of_range_reads_as_the_other_range_errors(port: str, said: str, tmp_path) -> None:
    result = runner.invoke(app, ["review", str(tmp_path), "--port", port])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: Invalid value for '--port': {said} is not a port number (0-65535) ")


def test_help_names_no_python_type() -> None:
    for command in COMMANDS:
        result = CliRunner(env={"COLUMNS": "200"}).invoke(app, [command, "--help"])
        assert not re.search(r"<(str|int|list\[\w+\]|bool)>", result.stdout), (command, result.stdout)


@ON_A_FOLDER
def test_a_folder_sorter_cannot_write_in_is_refused_in_one_line_naming_it(tmp_path, monkeypatch, fake_model,
                                                                         args) -> None:
    # A folder read but not written (root's, mode 755, sorted as a user) was refused naming a
    # .sorter/ the user never made, as a failure to finish (`Error: pets/.sorter: Permission
    # denied`, exit 1), by sort, review and watch alike; learn said `.sorter/turn`.
    from conftest import as_a_user, tree, write_image

    write_image(tmp_path / "pets" / "a.jpg", (200, 30, 30))
    monkeypatch.chdir(tmp_path)
    if args[0] in ("undo", "learn"):  # sorted before, by its owner: a journal to work on
        assert runner.invoke(app, ["sort", "pets", "--model", str(fake_model)]).exit_code == 0
    write_image(tmp_path / "pets" / "b.jpg", (30, 30, 200))
    before = tree(tmp_path / "pets")
    refused = tmp_path / "pets" / (".sorter" if args[0] == "learn" else "")  # learn writes only its lock there
    model = ["--model", str(fake_model)] if args[0] != "undo" else []
    refused.chmod(0o555)
    try:
        with as_a_user(refused, "write"):
            result = runner.invoke(app, [args[0], "pets", *args[1:], *model])
    finally:
        refused.chmod(0o755)
    # The folder given is the user's own, named bare; `.sorter/` is sorter's, said with what to do.
    said = ("pets/.sorter: Permission denied; its permissions refuse this user: chmod u+w pets/.sorter as its owner, "
            "or run sorter as a user who can write it") if args[0] == "learn" else "pets: Permission denied"
    assert (result.exit_code, result.stderr, result.stdout) == (2, f"Error: cannot write in {said}\n", "")
    assert tree(tmp_path / "pets") == before  # nothing written


@ON_A_FOLDER
@pytest.mark.parametrize("immutable", ["pets/.sorter", "pets/.sorter/journal.jsonl"], ids=["sorter", "journal"])
def test_a_sorter_folder_it_cannot_write_in_is_refused_alike_by_every_command(tmp_path, monkeypatch, fake_model,
                                                                               args, immutable) -> None:
    # `chattr +i pets/.sorter`: undo put every photo back, then said `Error: pets/.sorter/review.html:
    # Operation not permitted`, exit 1, and no `Restored` line; review named `.sorter/turn`, exit 1;
    # sort warned and exited 0; learn alone refused it up front. `chattr +i` of the journal alone:
    # sort and undo ended `Error: .../journal.jsonl: Operation not permitted`, exit 1; a watch
    # retried at each scan; review served a page whose every click would fail. Learn only reads
    # the journal: it goes on.
    from conftest import layout, write_image

    write_image(tmp_path / "pets" / "a.jpg", (200, 30, 30))
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["sort", "pets", "--model", str(fake_model)]).exit_code == 0
    write_image(tmp_path / "pets" / "b.jpg", (30, 30, 200))
    before = layout(tmp_path / "pets")
    if subprocess.run(["chattr", "+i", immutable], capture_output=True).returncode != 0:
        pytest.skip("no immutable folders here (chattr +i needs root and ext4, xfs or btrfs)")
    try:
        result = runner.invoke(app, [args[0], "pets", *args[1:], *(["--model", str(fake_model)] * (args[0] != "undo"))])
    finally:
        subprocess.run(["chattr", "-i", immutable], check=True)
    if args[0] == "learn" and immutable.endswith("journal.jsonl"):
        assert result.exit_code == 0 and "cannot write" not in result.output, result.output
        return
    # Every command says what to do, as a watch did alone (`files.refused`): the user never made it.
    assert (result.exit_code, result.stderr, result.stdout) == (
        2, f"Error: cannot write in {immutable}: Operation not permitted; it is immutable: chattr -i {immutable} "
           "(as root) lets sorter write it\n", ""), result.output
    assert layout(tmp_path / "pets") == before  # nothing done


@ON_A_FOLDER
def test_a_sorter_folder_its_permissions_refuse_says_to_chmod_it_by_every_command(tmp_path, monkeypatch, fake_model,
                                                                                 args) -> None:
    # `chmod 555 pets/.sorter` (another user's, sorted as them): `sort`, `undo`, `review` and
    # `learn` said only `Error: cannot write in pets/.sorter: Permission denied`, and a watch
    # alone what to do. Root writes whatever the mode: its powers are set aside (`as_a_user`).
    from conftest import as_a_user, layout, write_image

    write_image(tmp_path / "pets" / "a.jpg", (200, 30, 30))
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["sort", "pets", "--model", str(fake_model)]).exit_code == 0
    write_image(tmp_path / "pets" / "b.jpg", (30, 30, 200))
    before = layout(tmp_path / "pets")
    own = tmp_path / "pets" / ".sorter"
    own.chmod(0o555)
    try:
        with as_a_user(own, "write"):
            result = runner.invoke(app, [args[0], "pets", *args[1:], *(["--model", str(fake_model)] * (args[0] != "undo"))])
    finally:
        own.chmod(0o755)
    assert (result.exit_code, result.stderr, result.stdout) == (
        2, "Error: cannot write in pets/.sorter: Permission denied; its permissions refuse this user: chmod u+w "
           "pets/.sorter as its owner, or run sorter as a user who can write it\n", ""), result.output
    assert layout(tmp_path / "pets") == before  # nothing done


@pytest.mark.parametrize("immutable", [".sorter", ".sorter/journal.jsonl"], ids=["sorter", "journal"])
def test_a_dry_run_of_a_folder_whose_journal_cannot_be_written_says_a_sort_would_move_nothing(
        tmp_path, fake_model, immutable) -> None:
    # It planned and exited 0 with no word of it, where a sort is refused up front.
    from conftest import layout, write_image

    write_image(tmp_path / "pets" / "a.jpg", (200, 30, 30))
    assert runner.invoke(app, ["sort", str(tmp_path / "pets"), "--model", str(fake_model)]).exit_code == 0
    write_image(tmp_path / "pets" / "b.jpg", (30, 30, 200))
    before = layout(tmp_path / "pets")
    if subprocess.run(["chattr", "+i", tmp_path / "pets" / immutable], capture_output=True).returncode != 0:
        pytest.skip("no immutable folders here (chattr +i needs root and ext4, xfs or btrfs)")
    try:
        result = runner.invoke(app, ["sort", str(tmp_path / "pets"), "--dry-run", "--model", str(fake_model)])
    finally:
        subprocess.run(["chattr", "-i", tmp_path / "pets" / immutable], check=True)
    assert result.exit_code == 0 and "would move to" in result.stdout, result.output
    assert result.stdout.endswith(
        f"{tmp_path / 'pets' / immutable} cannot be written: Operation not permitted; a sort would move nothing\n")
    assert layout(tmp_path / "pets") == before


def test_a_dry_run_says_which_photos_a_sort_could_not_move_into_a_cats_folder_it_cannot_write_in(
        tmp_path, fake_model) -> None:
    # `chattr +i cats`: the dry run planned the cats without a word, and the sort then failed them,
    # `cannot move into cats/: Operation not permitted`, exit 1 (now `it is marked immutable (chattr -i
    # cats to free it)`, as the dry run says it). A folder the plan moves nothing
    # into is not named, whatever it is.
    from conftest import layout, write_image

    pets = tmp_path / "pets"
    write_image(pets / "rex.jpg", (30, 30, 200))  # BGR: the fake says red is a dog
    (pets / "cats").mkdir()
    if subprocess.run(["chattr", "+i", pets / "cats"], capture_output=True).returncode != 0:
        pytest.skip("no immutable folders here (chattr +i needs root and ext4, xfs or btrfs)")
    try:
        dogs_only = runner.invoke(app, ["sort", str(pets), "--dry-run", "--model", str(fake_model)])
        for name in ("tom.jpg", "kitty.jpg"):
            write_image(pets / name, (200, 30, 30))  # blue: a cat
        before = layout(pets)
        dry = runner.invoke(app, ["sort", str(pets), "--dry-run", "--model", str(fake_model)],
                            env={"COLUMNS": "160"})  # the reason on one line
        assert layout(pets) == before  # nothing written, .sorter/ included
        sort = runner.invoke(app, ["sort", str(pets), "--model", str(fake_model)])
    finally:
        subprocess.run(["chattr", "-i", pets / "cats"], check=True)
    assert dogs_only.exit_code == 0 and dogs_only.stdout.endswith("Every file's plan: --verbose.\n"), dogs_only.output
    # The two cats are no longer counted as if they would move (`would move to cats/ │ │ 2`): left in place.
    assert dry.exit_code == 0 and "would move to cats/" not in dry.stdout, dry.output
    assert "│ would move to dogs/ " in dry.stdout and "left in place:" in dry.stdout, dry.output
    assert dry.stdout.endswith("cats/ cannot be written: it is marked immutable (chattr -i cats to free it); 2 photos "
                              "would not move\n"), dry.output
    assert (sort.exit_code, sort.stderr) == (1, "Error: 2 photos could not be moved, the summary says why; the others "
                                                 "were moved: put that right, then sort again\n"), sort.output
    assert os.listdir(pets / "dogs") == ["rex.jpg"]


def test_a_dry_run_of_a_folder_it_cannot_write_in_plans_and_says_a_sort_would_move_nothing(tmp_path) -> None:
    from conftest import as_a_user, mounted, tree, write_image

    from sorter.model import lite

    disk = tmp_path / "disk"
    disk.mkdir()
    write_image(tmp_path / "pets" / "a.jpg", (0, 0, 255))
    with pytest.MonkeyPatch.context() as patch:
        from conftest import FakeClassifier

        patch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
        (tmp_path / "pets").chmod(0o555)
        try:
            with as_a_user(tmp_path / "pets", "write"):
                result = runner.invoke(app, ["sort", str(tmp_path / "pets"), "--dry-run"])
        finally:
            (tmp_path / "pets").chmod(0o755)
        assert result.exit_code == 0, result.output
        assert "would move to dogs/" in result.stdout and result.stdout.endswith(
            f"{tmp_path / 'pets'} cannot be written: Permission denied; a sort would move nothing\n")
        assert tree(tmp_path / "pets") == {"a.jpg": (tmp_path / "pets" / "a.jpg").read_bytes()}
        # A read-only disk (a card's write-protect switch) the same: refused, or planned with that line.
        with mounted(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], disk, "a small tmpfs"):
            write_image(disk / "a.jpg", (0, 0, 255))
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
            result = runner.invoke(app, ["sort", str(disk)])
            assert (result.exit_code, result.stderr) == (2, f"Error: cannot write in {disk}: Read-only file system\n")
            result = runner.invoke(app, ["sort", str(disk), "--dry-run"])
            assert result.exit_code == 0 and result.stdout.endswith(
                f"{disk} cannot be written: Read-only file system; a sort would move nothing\n")
            assert os.listdir(disk) == ["a.jpg"]


def test_a_dry_runs_json_says_what_a_sort_would_be_refused(tmp_path, fake_model) -> None:
    # The terminal's dry run ended with "cats/ cannot be written: ...; 2 photos would not move" and
    # "DIR/.sorter cannot be written: ...; a sort would move nothing"; --json and --jsonl said
    # neither, so a script could not see that the sort would fail.
    import json

    from conftest import write_image

    pets = tmp_path / "pets"
    write_image(pets / "rex.jpg", (30, 30, 200))  # BGR: the fake says red is a dog
    for name in ("tom.jpg", "kitty.jpg"):
        write_image(pets / name, (200, 30, 30))  # blue: a cat
    (pets / "cats").mkdir()

    def dry_run(*options: str) -> dict:
        result = runner.invoke(app, ["sort", str(pets), "--dry-run", "--model", str(fake_model), *options])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout) if options == ("--json",) else json.loads(result.stdout.splitlines()[-1])

    fine = dry_run("--json")
    assert (fine["unwritable"], fine["refused_into"]) == (None, [])
    for immutable in ("cats", ".sorter"):
        if immutable == ".sorter":
            (pets / "cats").rmdir()
            assert runner.invoke(app, ["sort", str(pets), "--model", str(fake_model)]).exit_code == 0
            write_image(pets / "kitty.jpg", (200, 30, 30))
        if subprocess.run(["chattr", "+i", pets / immutable], capture_output=True).returncode != 0:
            pytest.skip("no immutable folders here (chattr +i needs root and ext4, xfs or btrfs)")
        try:
            whole, lines = dry_run("--json"), dry_run("--jsonl")["summary"]
        finally:
            subprocess.run(["chattr", "-i", pets / immutable], check=True)
        assert {key: whole[key] for key in lines} == lines  # --jsonl's summary line says it too
        if immutable == "cats":
            assert whole["unwritable"] is None
            said = "cats/ cannot be written: it is marked immutable (chattr -i cats to free it)"
            assert whole["refused_into"] == [{"reason": said, "photos": 2}]
        else:  # refused up front: no folder of the plan is asked about
            assert whole["unwritable"] == {"path": str(pets / ".sorter"), "reason": "Operation not permitted"}
            assert whole["refused_into"] == []


def test_train_s_help_gives_every_number_option_its_range() -> None:
    help_text = " ".join(runner.invoke(app, ["train", "-h"], env={"COLUMNS": "200"}).stdout.replace("│", " ").split())
    for said in ("Epochs, from 1 to 10000", "validation loss, from 1 to 10000", "from 32 to 512",
                 "from 0 to 4294967295", "Images per training step, from 1 to 65536",
                 "images per class, from 1 to 1000000000",
                 # and the two fractional ones, which said none
                 "cosine decay), from 1e-06 to 1.", "(learning without forgetting), from 0 (not at all) to 100."):
        assert said in help_text, said
