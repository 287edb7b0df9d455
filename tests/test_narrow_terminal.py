"""What sorter prints on a terminal, a narrow one too (a phone's SSH app, a split pane): rich
wraps text to the width, nothing a user copies or reads as a number is cut short, and nothing
is drawn that the next line takes back."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FakeClassifier, ThreeClassFake, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite

RED, BLUE, GREEN, GREY = (0, 0, 255), (255, 0, 0), (0, 255, 0), (128, 128, 128)  # BGR: dog, cat, other, 50/50


def at(columns: int) -> CliRunner:
    return CliRunner(env={"COLUMNS": str(columns)})


def examples(command: str, columns: int) -> list[str]:
    """`sorter COMMAND --help`'s examples as commands to paste, at `columns`: the indented lines
    under the text, a line ending in ` \\` joined to the next as the shell joins it."""
    result = at(columns).invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.split("╭")[0].splitlines() if line.startswith("   ")]
    assert all(len(line) <= columns for line in lines), lines
    commands, going_on = [], False
    for line in lines:
        words = " ".join(line.removesuffix(" \\").split())
        if going_on:
            commands[-1] += f" {words}"
        else:
            commands.append(words)
        going_on = line.endswith(" \\")
    return commands


@pytest.mark.parametrize("command", ["train", "evaluate", "sort", "undo", "watch", "review", "learn"])
def test_an_example_wider_than_the_terminal_is_broken_with_a_backslash_and_pastes_as_one_command(
        command: str) -> None:
    """At 40 columns rich wrapped `sorter sort ~/Pictures/pets --dry-run --verbose
    --min-confidence 0.9` anywhere: its second line, pasted, was a command of its own."""
    wide = examples(command, 400)
    assert wide and examples(command, 40) == wide


@pytest.mark.parametrize("columns", [30, 40, 45, 50, 60, 80])
def test_the_summary_never_cuts_an_option_name_or_a_count(tmp_path: Path, monkeypatch, columns: int) -> None:
    """At 40 columns the reason read `--min-confi…`: an option that could not be copied. A
    column keeps its longest word; narrower still, each row is a line of its own."""
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    for i in range(12):
        write_image(tmp_path / f"rex{i}.png", RED)
    write_image(tmp_path / "tom.png", BLUE)
    write_image(tmp_path / "grey.png", GREY)

    result = at(columns).invoke(app, ["sort", str(tmp_path), "--dry-run", "--min-confidence", "0.9"])

    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert "--min-confidence" in result.stdout.split()
    assert "12" in result.stdout.replace("│", " ").split()


def labelled(root: Path) -> Path:
    """100 cats, a dog among them, 10 dogs and 10 non-pets: counts of three digits."""
    for i in range(100):
        write_image(root / "Cat" / f"cat{i}.png", BLUE)
    write_image(root / "Cat" / "looks like a dog.png", RED)
    for i in range(10):
        write_image(root / "Dog" / f"dog{i}.png", RED)
        write_image(root / "Other" / "cars" / f"car{i}.png", GREEN)
    return root


@pytest.mark.parametrize("columns", [30, 40, 50, 60, 80])
def test_evaluate_never_cuts_a_number_or_a_header(tmp_path: Path, monkeypatch, columns: int) -> None:
    """At 40 columns the matrix read `10…` for 100 and `pre…` for precision."""
    monkeypatch.setattr(lite, "load_classifier", lambda model: ThreeClassFake())
    data = labelled(tmp_path / "data")

    result = at(columns).invoke(app, ["evaluate", str(data)])

    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    words = [word.strip(";:") for word in result.stdout.replace("│", " ").split()]
    assert {"100", "precision", "recall", "99.01%", "90.91%"} <= set(words), result.stdout


@pytest.mark.parametrize("columns", [30, 40, 50])
def test_a_sentence_wrapped_at_a_word_leaves_no_space_at_the_end_of_its_line(tmp_path: Path, monkeypatch,
                                                                             columns: int) -> None:
    """At 40 columns a dry run said `Dry run: nothing was changed. Every ` with a space at its
    end, which a copy of the terminal kept."""
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    write_image(tmp_path / "rex.png", RED)
    write_image(tmp_path / "grey.png", GREY)

    result = at(columns).invoke(app, ["sort", str(tmp_path), "--dry-run", "--min-confidence", "0.9"])

    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if line.endswith(" ")] == []
    assert "Dry run: nothing was changed. Every file's plan: --verbose." in " ".join(result.stdout.split())


def on_a_terminal(*args: str) -> str:
    """What `sorter ARGS` writes to a terminal (stdout and stderr a pseudo-terminal's), as it gets it."""
    main, side = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "sorter", *args], stdin=subprocess.DEVNULL,
                               stdout=side, stderr=side)
    os.close(side)
    chunks = []
    try:
        while chunk := os.read(main, 4096):
            chunks.append(chunk)
    except OSError:  # EIO: every writer of the terminal is gone
        pass
    finally:
        os.close(main)
    process.wait(timeout=60)
    return b"".join(chunks).decode(errors="replace")


def test_a_folder_not_there_is_said_before_any_progress_bar_is_drawn(tmp_path: Path) -> None:
    """`sorter sort /nonexist` drew "classifying 0/?" for a moment, then took it back for its Error line."""
    said = on_a_terminal("sort", str(tmp_path / "nowhere"))

    assert f"Error:\x1b[0m folder not found: {tmp_path / 'nowhere'}\r\n" in said  # red Error:, on a line of its own
    assert "classifying" not in said


@pytest.mark.parametrize("columns", [24, 30])
def test_a_row_on_lines_of_its_own_keeps_each_header_with_its_value(tmp_path: Path, monkeypatch, columns: int) -> None:
    """QA: at 30 columns a row read `result: moved to cats/; files:`, its count `3` alone on the
    next line. Each header stays on the line of its value's first word."""
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    for i in range(3):
        write_image(tmp_path / f"tom{i}.png", BLUE)
    write_image(tmp_path / "grey.png", GREY)

    result = at(columns).invoke(app, ["sort", str(tmp_path), "--min-confidence", "0.9"])

    assert result.exit_code == 0, result.output
    rows = result.stdout.split("\nReview: ")[0].splitlines()[1:]
    assert "files: 3" in result.stdout and "files: 1" in result.stdout, result.stdout
    assert not any(line.endswith(("result:", "reason:", "files:")) or line.isdigit() for line in rows), rows
