"""`--help` as a terminal shows it and a user copies from it: each paragraph of prose one run of
text for rich to wrap, examples as written, an example wider than the terminal broken with
` \\` at its arguments (rich would break it anywhere, and its second line would paste as a
command of its own), and no line ending in the spaces rich pads it to the width with (a copied
line carried them; `sorter sort --help > notes.txt` kept them)."""

from __future__ import annotations

import io
import re
from typing import TextIO

# Pasted after these, the next word belongs to them: a redirection and its file, a pipe or
# `&&` and the command after it.
_JOINS_NEXT = (">", ">>", "<", "|", "&&", "||")
# The spaces at a line's end, with the colour codes between and after them (a terminal's help).
_TRAILING = re.compile(r"(?:[ ]|\x1b\[[0-9;]*m)+$", re.MULTILINE)
_CODES = re.compile(r"\x1b\[[0-9;]*m")


def help_text(doc: str) -> str:
    """A command's docstring as its --help shows it: each paragraph of prose on one line, for
    rich to wrap to the terminal (typer's rich mode keeps a docstring's line breaks, which at
    80 columns broke every source line in two); indented paragraphs (examples) as written."""
    import inspect

    paragraphs = [p if p.startswith((" ", "\b")) else " ".join(line.strip() for line in p.splitlines())
                  for p in inspect.cleandoc(doc).split("\n\n")]
    first, rest = paragraphs[0], "\n\n".join(paragraphs[1:])
    # typer dedents what follows the first paragraph as a docstring, its first line aside: where
    # that was "Examples:", the examples under it lost their indent (undo, watch, evaluate), where
    # prose, they kept it (sort, train). A blank line first keeps every example indented.
    return f"{first}\n\n\n{rest}" if rest else first


def examples_fitted(text: str, width: int) -> str:
    """`text` (a `help_text`) with each example line (an indented one) wider than `width`
    broken at its arguments with ` \\`, its next lines indented two more: it still pastes as
    one command. An argument is kept with its value (`--out model.keras`), a redirection with
    its file, where they fit a line together; a comment whole and last (a `\\` in it would be
    part of the comment). A word wider than `width` alone stays whole on its line."""
    lines, continued = [], False
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        if indent and len(line) > width:
            lines.extend(_broken(line, width, indent, continued))
        else:
            lines.append(line)
        continued = bool(indent) and line.endswith(" \\")
    return "\n".join(lines)


def _broken(line: str, width: int, indent: int, continued: bool) -> list[str]:
    words = line.split()
    ends_continued = words[-1] == "\\"  # the author's own break after it stays
    if ends_continued:
        words.pop()
    units: list[str] = []
    for n, word in enumerate(words):
        if word.startswith("#"):  # a comment: the rest of the line, whole
            units.append(" ".join(words[n:]))
            break
        before = units[-1].split(" ")[-1] if units else ""
        joins = before in _JOINS_NEXT or (
            before.startswith("-") and not word.startswith(("-", *_JOINS_NEXT))  # an option's value
        ) or (not continued and len(units) == 1 and " " not in units[0])  # the program and its command
        if units and joins:
            units[-1] += f" {word}"
        else:
            units.append(word)
    pieces, margin = [], indent
    after = indent if continued else indent + 2
    for unit in units:
        if pieces and len(pieces[-1]) + 1 + len(unit) + 2 <= width:
            pieces[-1] += f" {unit}"
        elif unit.startswith("#") or after + len(unit) + 2 <= width:
            pieces.append(" " * margin + unit)
            margin = after
        else:  # an option and its value wider than a line together: a line each
            for word in unit.split(" "):
                if pieces and len(pieces[-1]) + 1 + len(word) + 2 <= width:
                    pieces[-1] += f" {word}"
                else:
                    pieces.append(" " * margin + word)
                    margin = after
    return [f"{piece} \\" for piece in pieces[:-1]] + [pieces[-1] + (" \\" if ends_continued else "")]


def without_trailing_spaces(text: str) -> str:
    """Each line of `text` without the spaces at its end, its colour codes kept."""
    return _TRAILING.sub(lambda found: found.group().replace(" ", ""), text)


def without_leading_blank(text: str) -> str:
    """`text` without the blank line (colour codes alone, on a terminal) rich pads the usage
    line with above it: `sorter --help | head -1` printed an empty line, not the usage."""
    first, newline, rest = text.partition("\n")
    return rest if newline and not _CODES.sub("", first).strip() else text


class Captured(io.StringIO):
    """What rich writes for stdout, kept to be written without trailing spaces: to rich, a
    terminal as stdout is one (its colours, its encoding's box characters)."""

    def __init__(self, stdout: TextIO) -> None:
        super().__init__()
        self._stdout = stdout

    def isatty(self) -> bool:
        return self._stdout.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stdout, "encoding", None) or "utf-8"
