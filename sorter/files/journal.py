"""An append-only, fsync'd journal of moves in `DIR/.sorter/journal.jsonl`.

Each move is written as an intent ("move", with the file's identity: `Move.same`) before the
rename and confirmed ("done") after. After a crash each file is at its source or its
destination (renames are atomic; the link fallback can leave both names on one inode, which
recovery resolves), so the disk tells which side of the rename a pending intent is on. A photo
and its companions (`IMG_1.HEIC` + `IMG_1.MOV`) are one *group*: their intents share a `group`
(the first member's sequence number) and `size`, and recovery settles a group wholly before or
wholly after. Undo is journaled the same way ("unmove" intents, then "undo"; "keep" when a
returned file stays; "gone" for a file found neither where the move put it nor by its identity
(`whereabouts`), reported once and never looked for again).

After each batch a "seen" record per photo is the one record of what sorter decided about
it: where the file then was, its identity (device, inode, size) and modification time, the
label, status ("moved", or why it stayed), the confidence and the reason; of a photo left in
place, what judged it (`sorting.left_before`: a watch started again skips it unchanged). `sorter learn`
compares the identities with the folder as the user left it, to find the photos they put
right; `sort` finds photos put back by hand; the review server reads the latest record of
each photo left in place (`verdicts.py`). Moves never read them; undo, for a move older than `Move.same`.

A sort's run has a "begin" record before its first intent and an "end" record as the sort ends
with its own word (its undo line said): a run begun and never ended is of a sort killed, between
batches too, where no intent is left for recovery to settle (`RunState.cut_short`).

Each writer's first record is a "folder" record: the identity of the folder it writes in
(`made_folders.of_folder`). A copy of the folder on its own disk (`cp -a`, `rsync -a`, a backup
restored, `cp -al`) keeps the device number, and its journal the identities of the original's
files; where the folder is no longer the one a writer recorded, what was journaled up to that
writer is of a copy (`JournalState.copied`), and `identities.Identities` tells those files as it
does a copy's on another disk.

It is read as a stream: one byte of state per move and the few intents still pending stay
in memory, so a million-move journal costs about a megabyte to recover from or undo. Names
are stored as the filesystem gave them (not UTF-8: round-trips through `surrogateescape`).
How a record is a line, and which lines are read back, is `journal_records`'s; appending a
run's records, `journal_writer`'s. This module reads the journal and says what its records mean.

The journal says its format (`FORMAT`) on each writer's "folder" record: a journal that does not
(every sorter before it said) is of the first. One a newer sorter wrote to, of a higher number, is
refused whole by `scan`, so by every command that reads it (`NewerJournal`): its records may mean
what this sorter cannot know, and an undo that read half of them would put half back.

Every path in the journal is relative to the folder and stays inside it (`inside`): a record
naming `../x.jpg` or `/x.jpg` (`root / "/x.jpg"` is `/x.jpg`) was not written by sorter but by
a damaged or doctored journal, and is never acted on. That is decided here, where records are
read, once for every reader: a `Move` cannot hold such a path, `scan` leaves such a record out
(so recovery, undo, the review's catalog, `learn` and watch's latecomers never see it) and
counts it in its run's `refused` for undo to report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sorter.config import JOURNAL_NAME, STATE_DIR
from sorter.errors import SorterError
from sorter.files.folder import opened_own
from sorter.files.journal_records import OUTCOMES, op_prefix, records, records_in

#: The format this sorter writes and reads (`"format"` on each "folder" record); a journal without
#: it is of this one, a higher number of a newer sorter's (`NewerJournal`).
FORMAT = 1

# One byte of state per move, indexed by its sequence number within its run.
INTENT, DONE, UNDONE, ABANDONED, GONE = 1, 2, 4, 8, 16
#: A "move" refused as naming a path outside the folder (`RunState.refuse`): its "done" is of a
#: move said "kept" already, not one unread from a damaged journal (it was said twice, as both).
REFUSED = 32
#: Records refused per run whose lines are kept for undo's report; the rest are counted. A
#: doctored journal could hold millions: the cost stays a few lines.
REFUSED_SHOWN = 100


class NewerJournal(SorterError):
    """A journal a newer sorter wrote to (a format above `FORMAT`): not damaged, and not this
    sorter's to settle, undo or list (exit 2)."""

    exit_code = 2

    def __init__(self, path: Path, written_as: object) -> None:
        # A format no sorter writes ("2", 1.5, -1: not a whole number from 1) is not taken for 1 and acted on.
        said = (f"was written by a newer sorter (format {written_as})" if type(written_as) is int and written_as > FORMAT
                else f"says it is of format {json.dumps(written_as)}, which this sorter does not know (it reads {FORMAT})")
        super().__init__(f"{path} {said}; upgrade sorter to sort, undo or review this folder")


def inside(path: object) -> bool:
    """`path`, read from the journal, names something inside the folder: a relative path
    made of names only, as `os.path.relpath` writes them (no `..`, `.` or empty part, no NUL,
    not absolute). Pure: links below the folder are `moves.move_no_replace`'s to refuse."""
    if not isinstance(path, str) or not path or "\0" in path or os.path.isabs(path):
        return False
    parts = path.split(os.sep)  # three scans in C, not a generator: a scan reads it twice a move
    return "" not in parts and "." not in parts and ".." not in parts


@dataclass(frozen=True)
class Move:
    """One journaled move (or undo intent): paths relative to the sorted folder and inside it
    (`inside`), by construction: joined to the folder, neither can reach out of it."""

    run: str
    seq: int
    src: str
    dst: str
    group: int  # the sequence number of its group's first member (its own when alone)
    size: int = 1  # members in its group
    #: What the photo was filed as (on its group's first member): the model's label and confidence,
    #: or a person's label alone (a review's correction); None in journals older than these fields.
    label: str | None = None
    confidence: float | None = None
    time: float | None = field(default=None, compare=False)  # when it was journaled (read back)
    #: The file before it moved (device, inode, size, mtime), which the move keeps; None in older journals.
    same: tuple[int, int, int, int] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not (inside(self.src) and inside(self.dst)):
            raise ValueError(f"{self.src} -> {self.dst}: a path outside the folder")


@dataclass
class RunState:
    run: str
    started: float
    first: int = 0  # byte offset of its first record
    created_dirs: dict[str, set[tuple[int, ...]]] = field(default_factory=dict)  # each -> its `made_folders.identity`
    #: Of those, the ones an undo set out to make and never journaled the identity of (killed at its
    #: `mkdir`, or found made by someone else): never shown to be sorter's (`Whereabouts.made_here`).
    unproven: set[str] = field(default_factory=set)
    flags: bytearray = field(default_factory=bytearray)
    start: int = -1  # byte offset of its first "move" record
    end: int = 0  # byte offset just past its last "move" record
    #: Its records naming a path outside the folder, never acted on: the first `REFUSED_SHOWN` as lines, and how many.
    refused: list[str] = field(default_factory=list)
    refused_total: int = 0
    #: Cut short as it moved (a sort or a watch killed, a crash): recovery settled its moves
    #: ("recovered" marks).
    recovered: bool = False
    #: A sort's run that said it would write "end" as it ended ("begin": `journal_writer.Journal`'s
    #: `ends`), and whether it did. Older sorters wrote neither.
    begun: bool = False
    ended: bool = False
    #: Its "begin" says it made a note of its undo line not said yet (`unsaid_path`), and the note
    #: is gone: the line was said, its "end" refused by a full disk (a removal takes no room).
    noted: bool = False
    said: bool = False

    def refuse(self, what: str) -> None:
        self.refused_total += 1
        if len(self.refused) < REFUSED_SHOWN:
            self.refused.append(f"{what}: a path outside the folder in the journal; never acted on")

    def set(self, seq: int, flag: int) -> None:
        if seq >= len(self.flags):
            self.flags.extend(bytes(seq + 1 - len(self.flags)))
        self.flags[seq] |= flag

    def has(self, seq: int, flag: int) -> bool:
        return seq < len(self.flags) and bool(self.flags[seq] & flag)

    def undoable(self, seq: int) -> bool:
        return seq < len(self.flags) and self.flags[seq] & (DONE | UNDONE | GONE) == DONE

    @property
    def cut_short(self) -> bool:
        """Killed (a crash) before it said its undo line: recovery settled its moves, or it is a sort's
        run begun and never ended (killed between batches, no move pending); one ended said its
        line, whatever recovery found after (a Ctrl-C'd sort's last move). The next run's undo
        leaves its moves, and says so. Read under the folder lock: a begun run with no end is of a
        process gone, but for the sort that reads it as it says its line, before its "end"
        (`undo.undo_count`'s `own`)."""
        return (self.recovered or self.begun) and not (self.ended or self.said)

    @property
    def sorted_files(self) -> int:
        """Moves done and not undone (nor gone): what `undo` of this run would put back."""
        return sum(1 for flag in self.flags if flag & (DONE | UNDONE | GONE) == DONE)


@dataclass
class JournalState:
    runs: dict[str, RunState] = field(default_factory=dict)  # oldest first
    moving: dict[tuple[str, int], Move] = field(default_factory=dict)  # intents neither done nor abandoned
    returning: dict[tuple[str, int], Move] = field(default_factory=dict)  # undo intents not yet settled
    #: How far `scan` read, and the journal it read ((st_dev, st_ino, its first bytes: ext4 may
    #: give a journal begun again the old one's inode)): `scan(root, since=...)` goes on from
    #: there while that file is the journal still (it is only ever appended to).
    read_to: int = 0
    file: tuple[int, int, bytes] | None = None
    #: Moves marked done whose intent is unreadable (damaged): undo keeps the journal, and says so.
    unread: list[tuple[str, int]] = field(default_factory=list)
    #: Moves marked done whose intent names a path outside the folder: said "kept" by undo
    #: (`RunState.refused`), never acted on; the journal is kept for them as for `unread`.
    outside: list[tuple[str, int]] = field(default_factory=list)
    #: The highest format its records say they are of (`FORMAT`, where none says).
    format: int = FORMAT
    #: The first value a record gave as its format that is none (not a whole number from 1), refused as
    #: a newer format is; a one-item tuple, as the value may be null.
    odd_format: tuple[object] | None = None
    #: The folders its writers wrote in ("folder" records), each where its writers' last record
    #: of it ends; one entry per change of folder (a copy), so a handful.
    folders: list[tuple[tuple[int, ...], int]] = field(default_factory=list)

    def placed(self, folder: tuple[int, ...], end: int) -> None:
        """A writer's "folder" record of `folder`, ending at byte `end`."""
        if self.folders and self.folders[-1][0] == folder:
            self.folders[-1] = (folder, end)
        else:
            self.folders.append((folder, end))

    def copied(self, here: Callable[[tuple[int, ...]], bool]) -> frozenset[str]:
        """The runs journaled before the folder was copied: those begun before the last "folder"
        record of a folder that is not this one (`here`, `made_folders.is_folder`), which went into
        the copy with the journal (or is the folder's as it was before a backup was restored in
        its place). None in a journal of one folder, or older than "folder" records."""
        copied = next((end for folder, end in reversed(self.folders) if not here(folder)), 0)
        return frozenset(run for run, state in self.runs.items() if state.first < copied)

    def undoable_runs(self) -> list[RunState]:
        return [run for run in self.runs.values() if run.sorted_files]

    def settle(self, run: RunState, op: str, seq: int) -> None:
        """What an outcome record ("done", "abandon", "undo", "keep", "gone") says of a move."""
        if op in ("done", "abandon"):
            if run.has(seq, INTENT):
                run.set(seq, DONE if op == "done" else ABANDONED)
                self.moving.pop((run.run, seq), None)
            elif op == "done":
                refused = isinstance(seq, int) and run.has(seq, REFUSED)
                (self.outside if refused else self.unread).append((run.run, seq))
            return
        if op == "gone":  # undo found neither the file nor its first place: not ours to undo any more
            if run.has(seq, INTENT):
                run.set(seq, GONE)
            return
        if op == "undo" and run.has(seq, INTENT):
            run.set(seq, UNDONE)
        self.returning.pop((run.run, seq), None)


def state_dir(root: Path) -> Path:
    return root / STATE_DIR


def journal_path(root: Path) -> Path:
    return state_dir(root) / JOURNAL_NAME


def _move(run: str, record: dict) -> Move | None:
    """The record's move; None when it names a path outside the folder (see `inside`)."""
    seq = record["seq"]
    try:
        return Move(
            run, seq, record["src"], record["dst"], record.get("group", seq), record.get("size", 1),
            record.get("label"), record.get("confidence"), record.get("time"), tuple(record.get("id") or ()) or None,
        )
    except ValueError:
        return None


def scan(root: Path, since: JournalState | None = None) -> JournalState:
    """One pass over the journal: each run's per-move state and the pending intents. A
    record naming a path outside the folder is left out, as if never written (a move never
    intended is never done, undone or recovered), and counted in its run's `refused`.
    `since`: an earlier scan's state, taken on from where it stopped (and returned) when the
    journal is the same file, no shorter; else the journal is read from its start."""
    try:
        fd, st = opened_own(journal_path(root))
    except FileNotFoundError:
        return JournalState()
    with open(fd, "rb") as f:  # one open for the journal's identity and its records (a watcher's every batch)
        file = (st.st_dev, st.st_ino, os.pread(fd, 64, 0))
        if (since is not None and since.file and since.file[:2] == file[:2]
                and file[2].startswith(since.file[2]) and st.st_size >= since.read_to):
            state = since
        else:
            state = JournalState(file=file)
        _read(state, records_in(f, state.read_to))
    if state.odd_format is not None or state.format > FORMAT:
        raise NewerJournal(journal_path(root), state.format if state.odd_format is None else state.odd_format[0])
    for run_id in [r for r, run in state.runs.items() if not run.flags and not run.created_dirs]:
        del state.runs[run_id]  # only marks (the recovery's own run, say), or refused records alone
    for run_id, run in state.runs.items():  # an `lstat` a run begun and not ended, of those that made a note
        if run.noted and not run.ended:
            run.said = "/" not in run_id and not os.path.lexists(unsaid_path(root, run_id))
    return state


def unsaid_path(root: Path, run: str) -> Path:
    """A sort's note that its run's undo line is not said yet: made before its "begin" record
    (which says so, `"unsaid": true`), removed as the line is said, with its "end" record. On a
    disk that stays full the "end" cannot be written, and every sort after it took the run for
    one cut short and said its undo once more ("then once more for the sort cut short before
    this sort"), its undos the note that its photos were still sorted, its dry runs that a sort
    was cut short; removing a file takes no room. Killed before its line, the note stays, and
    the run is one cut short (`RunState.cut_short`)."""
    return state_dir(root) / f"unsaid-{run}"


def _read(state: JournalState, lines: Iterator[tuple[int, int, dict]]) -> None:
    """Take the journal's records (`records_in`) into `state`, each settling what it says."""
    for offset, after, rec in lines:
        state.read_to = after
        op, run_id, seq = rec.get("op"), rec.get("run", ""), rec.get("seq")
        run = state.runs.get(run_id)
        if run is None:
            run = state.runs[run_id] = RunState(run_id, rec.get("time", 0.0), offset)
        if op in ("move", "unmove"):
            move = _move(run_id, rec)
            if move is None:
                if op == "move":  # an "unmove" repeats a move, refused already
                    run.refuse(f"{rec.get('src')} -> {rec.get('dst')}")
                    if isinstance(seq, int) and 0 <= seq < 1 << 24:  # a flag a move: a doctored seq costs no memory
                        run.set(seq, REFUSED)
            elif op == "move":
                run.set(seq, INTENT)
                state.moving[(run_id, seq)] = move
                if run.start < 0:
                    run.start = offset
                run.end = after
            else:
                state.returning[(run_id, seq)] = move
        elif op == "mkdir":
            if inside(rec.get("path")):
                run.created_dirs.setdefault(rec["path"], set()).update([tuple(rec["id"])] if "id" in rec else [])
                if "id" in rec:
                    run.unproven.discard(rec["path"])
                elif rec.get("undo"):
                    run.unproven.add(rec["path"])
            else:
                run.refuse(str(rec.get("path")))
        elif op in OUTCOMES:
            state.settle(run, op, seq)
            run.recovered |= op in ("done", "abandon") and rec.get("recovered") is True
        elif op == "begin":
            run.begun = True
            run.noted = rec.get("unsaid") is True
        elif op == "end":
            run.ended = True
        elif op == "folder":
            state.placed(tuple(rec["id"]), after)
            _format(state, rec)
        elif op != "seen":  # a record of an op a newer sorter added, say, where its format may be too
            _format(state, rec)


def _format(state: JournalState, rec: dict) -> None:
    """`rec`'s format taken into the journal's: the higher whole number, or the first value that is none."""
    written_as = rec.get("format", FORMAT)
    if type(written_as) is int and written_as >= 1:
        state.format = max(state.format, written_as)
    elif state.odd_format is None:
        state.odd_format = (written_as,)


@dataclass(frozen=True)
class Seen:
    """What a run decided about one photo ("seen" record): where the file was after the run
    (relative to the folder), the label, "moved" or why it stayed ("neither", "unsure",
    "unreadable", "failed"), its identity, for a moved photo its move's sequence number (so an
    undone move can be told apart) and where its pet is, and the confidence and reason sort
    reported. What older records lack reads back None."""

    run: str
    path: str
    label: str | None
    status: str
    identity: tuple[int, int, int]  # st_dev, st_ino, st_size
    seq: int | None = None
    confidence: float | None = None
    reason: str | None = None
    box: tuple[float, float, float, float] | None = None  # top, bottom, left, right: shares of the photo
    mtime_ns: int | None = None  # with `identity`: this file, not a new one given its freed inode
    #: Of a photo left in place: what judged it (`sorting.left_before.judge_of`), its (mode, uid,
    #: gid): a chmod makes one left unreadable another file to judge, and its ctime.
    judge: str | None = None
    perm: tuple[int, int, int] | None = None
    ctime_ns: int | None = None  # of a photo left in place: a watch started again compares it too


def _seen(rec: dict) -> Seen | None:
    try:
        identity = tuple(int(n) for n in rec["id"])
        if len(identity) != 3 or not inside(rec["path"]):
            return None
        confidence = rec.get("confidence")
        box = tuple(float(share) for share in rec["box"]) if rec.get("box") is not None else None
        perm = tuple(int(n) for n in rec["perm"]) if rec.get("perm") is not None else None
        return Seen(rec.get("run", ""), rec["path"], rec["label"], rec["status"], identity, rec.get("seq"),
                    None if confidence is None else float(confidence), rec.get("reason"),
                    box if box is None or (len(box) == 4 and all(0 <= v <= 1 for v in box)) else None,
                    None if rec.get("mtime") is None else int(rec["mtime"]),
                    rec["by"] if isinstance(rec.get("by"), str) else None, perm if perm and len(perm) == 3 else None,
                    rec["ctime"] if type(rec.get("ctime")) is int else None)
    except (KeyError, TypeError, ValueError):
        return None  # written by a newer or damaged sorter: not worth failing `learn` over


def seen_of(root: Path, ops: tuple[str, ...] = ("seen",)) -> Iterator[Seen]:
    """Every "seen" record, oldest first, streamed; `ops`: and the records of these ops written
    as one (a watch's "back": `sorting.left_before.note_put_back`, which no other reader reads)."""
    lines = records(journal_path(root), ops=ops)
    return (seen for _, _, rec in lines if rec.get("op") in ops and (seen := _seen(rec)) is not None)


def sorted_moves(root: Path, state: JournalState) -> Iterator[Move]:
    """The moves done and not undone, of every run, in the order they were made (a file
    filed by a sort, then moved again by a review, comes twice: follow it by `dst`)."""
    return (item for item in moves_and_seen(root, state, with_seen=False) if isinstance(item, Move))


def moves_and_seen(root: Path, state: JournalState, with_seen: bool | Callable[[], bool] = True,
                   also: tuple[str, ...] = (), seen_if: Callable[[bytes], bool] | None = None) -> Iterator[Move | Seen]:
    """`sorted_moves` and `seen_of` in one pass, in journal order, so a large journal is read
    once: what the review server lists a folder from, and the put-back pass of `sort` and
    `watch` (`put_backs.put_back`, `Latecomers.load`). `with_seen`: a callable says,
    before each record, whether the "seen" records are wanted now (the rest are not parsed);
    `also`: with them, the records of these ops written as one (`seen_of`'s `ops`).
    `seen_if`: a "seen" record not wanted now comes still where this says so of its line's
    bytes (a video's: `sorting.alone.LeftInPlace.wants`)."""
    both = (op_prefix("move"), *map(op_prefix, ("seen", *also)))
    moves, seen_ops, seen_line = (op_prefix("move"),), ("seen", *also), op_prefix("seen")
    wants = with_seen if callable(with_seen) else (lambda: with_seen)
    wanted_line = None if seen_if is None else (lambda raw: raw.startswith(seen_line) and seen_if(raw))
    for _, _, rec in records(journal_path(root), ops=lambda: both if wants() else moves, parse_if=wanted_line):
        op = rec.get("op")
        if op in seen_ops:
            seen = _seen(rec)
            if seen is not None:
                yield seen
        elif op == "move":
            run = state.runs.get(rec.get("run", ""))
            if run is not None and run.undoable(rec["seq"]):
                move = _move(run.run, rec)
                if move is not None:  # refused, though its seq is done: a doctored journal reusing a seq
                    yield move


def moves_of(root: Path, run: RunState) -> Iterator[Move]:
    """The run's moves in journal order, read from its own stretch of the file."""
    if run.start < 0:
        return
    for _, _, rec in records(journal_path(root), run.start, run.end, ops=("move",)):
        if rec.get("op") == "move" and rec.get("run") == run.run:
            move = _move(run.run, rec)
            if move is not None:  # refused: `scan` counted it in run.refused
                yield move
