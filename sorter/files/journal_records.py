"""The journal's records as lines of bytes (`journal.py` says what they mean): how a record is
written (one line of JSON, names as the filesystem gave them), and how lines are read back:
whole lines only (a torn last line is an intent that never happened), a record's op told from
its first bytes (a million-move journal is three million lines, most of them not wanted by a
reader), and only a record of the shape its readers rely on (a damaged or doctored line is
skipped like a torn one, never a traceback in every command).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from sorter.files.folder import open_own

#: Records that settle a move or an undo intent.
OUTCOMES = frozenset({"done", "abandon", "undo", "keep", "gone"})
#: What every line `journal_writer.Journal` writes starts with, before its op: `records` tells a
#: record's op from it without parsing the rest.
_OP = b'{"op": "'

Ops = tuple[str, ...] | Callable[[], tuple[bytes, ...]] | None


def encode(record: dict) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")


def op_prefix(op: str) -> bytes:
    return _OP + op.encode() + b'"'


def records(path: Path, start: int = 0, end: int | None = None, ops: Ops = None,
            parse_if: Callable[[bytes], bool] | None = None) -> Iterator[tuple[int, int, dict]]:
    """`records_in` the journal at `path` (none where there is none)."""
    try:
        f = open(open_own(path), "rb")
    except FileNotFoundError:
        return
    with f:
        yield from records_in(f, start, end, ops, parse_if)


def records_in(f: BinaryIO, start: int = 0, end: int | None = None, ops: Ops = None,
               parse_if: Callable[[bytes], bool] | None = None) -> Iterator[tuple[int, int, dict]]:
    """(offset, next offset, record) for each whole record of the open journal `f` from byte
    `start` to `end`; `ops`: only records of these ops are parsed (others may still come:
    filter by op), or a callable asked before each line for the `op_prefix`es wanted now;
    `parse_if`: a line of another op is parsed still where this says so of its bytes."""
    fixed = None if ops is None or callable(ops) else tuple(map(op_prefix, ops))
    wanted = ops if callable(ops) else (lambda: fixed)
    f.seek(start)
    offset = start
    for raw in f:
        if end is not None and offset >= end:
            break
        after = offset + len(raw)
        if not raw.endswith(b"\n"):
            break  # torn last line from a crash mid-append: the intent never happened
        if ((now := wanted()) is not None and raw.startswith(_OP) and not raw.startswith(now)
                and (parse_if is None or not parse_if(raw))):
            offset = after
            continue
        try:
            # surrogateescape: undecodable bytes (a non-UTF-8 file name, or a multi-byte
            # character cut by a crash) must never make the journal unreadable.
            record = json.loads(raw.decode("utf-8", "surrogateescape"))
        except ValueError:
            record = None  # a torn line, a later append on a line of its own (see `journal_writer.Journal._write`)
        if isinstance(record, dict) and _well_formed(record):
            yield offset, after, record
        offset = after


#: Sequence numbers index a byte per move (`RunState.flags`): a doctored 10**12 gets 128 MB at most.
_MAX_SEQ = 2**27
_NUMBER = (int, float)
_OPTIONAL_TEXT = (str, type(None))
_OPTIONAL_NUMBER = (int, float, type(None))


def _is_seq(value: object) -> bool:
    return type(value) is int and 0 <= value < _MAX_SEQ  # not a bool, a float or a string


def _well_formed(rec: dict) -> bool:
    """The fields a record's readers rely on have the types sorter writes: a damaged or doctored
    line (`{"op": "move"}` alone, a list for a run, a string for a size) is skipped like a torn
    one. "seen" records are checked where read (`journal._seen`)."""
    op = rec.get("op")
    if op == "seen":
        return True
    if type(rec.get("run", "")) is not str or type(rec.get("time", 0.0)) not in _NUMBER:
        return False
    if op in ("move", "unmove"):
        size = rec.get("size", 1)
        return (_is_seq(rec.get("seq")) and _is_seq(rec.get("group", 0)) and type(size) is int and size >= 1
                and type(rec.get("src")) is str and type(rec.get("dst")) is str
                and type(rec.get("label")) in _OPTIONAL_TEXT and type(rec.get("confidence")) in _OPTIONAL_NUMBER
                and type(same := rec.get("id", [])) is list and len(same) in (0, 4) and all(type(n) is int for n in same))
    if op in OUTCOMES:
        return _is_seq(rec.get("seq"))
    if op == "folder":  # the folder its writer wrote in (`made_folders.of_folder`)
        ids = rec.get("id")
        return type(ids) is list and len(ids) == 3 and all(type(n) is int for n in ids)
    if op == "mkdir":  # the intent, then `made_folders.identity` once made (an older sorter's: device and inode)
        ids = rec.get("id", [0, 0])
        return type(rec.get("path")) is str and type(ids) is list and len(ids) in (2, 3) and all(type(n) is int for n in ids)
    return True
