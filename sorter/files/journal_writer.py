"""Writing the journal (`journal.py` says what its records mean, `journal_records` how one is a
line): `Journal` appends one run's records, each write fsync'd before it returns, so an intent
is on disk before the move it announces; on a line of its own after a record a crash or a full
disk cut short; never into a journal shared with a hard-linked copy of the folder
(`state_links`); the writer's "folder" record first (`made_folders.of_folder`).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Collection
from pathlib import Path

from sorter.config import still_open_there
from sorter.files import made_folders
from sorter.files.folder import open_own
from sorter.files.journal import FORMAT, Move, journal_path, state_dir, unsaid_path
from sorter.files.journal_records import encode
from sorter.files.state_links import own_file
from sorter.wording import at_most


def _record(move: Move) -> dict:
    """The fields of a "move" or "unmove" record; a group's only for a group of several, a
    label only where one was given."""
    group = {"group": move.group, "size": move.size} if move.size > 1 else {}
    label = {"label": move.label} if move.label is not None else {}
    if move.confidence is not None:
        label["confidence"] = at_most(move.confidence)
    same = {"id": list(move.same)} if move.same is not None else {}
    return {"seq": move.seq, "src": move.src, "dst": move.dst, **group, **label, **same}



class Journal:
    """Appends records for one run. Every record is flushed and fsync'd before returning,
    so an intent is on disk before the move it announces."""

    def __init__(self, root: Path, run: str | None = None, *, ends: bool = False) -> None:
        self.root = root
        #: A sort's: its first records carry a "begin" record, and it writes "end" (`end`) as it ends
        #: having said its undo line. A begun run with no end was cut short (`RunState.cut_short`).
        self._ends = ends
        self.run = run or f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.seq = 0
        directory = state_dir(root)
        directory.mkdir(exist_ok=True)
        created = not journal_path(root).exists()
        self._fd = open_own(journal_path(root), os.O_RDWR | os.O_APPEND | os.O_CREAT)
        if created:
            from sorter.files.moves import sync_dirs

            sync_dirs([directory, root])  # the journal's own name must survive a power cut too
        self._end: int | None = None  # where our last whole write ended: the file's size then
        self._placed = False  # our "folder" record written
        self._noted: bool | None = None  # `_unsaid_noted`, once tried
        self._closed = False
        try:
            self._write(b"")  # after a crash that cut the last record short: see `_write`
        except BaseException:  # a Ctrl-C too: no one else holds the journal to close it
            os.close(self._fd)
            raise

    def close(self) -> None:
        """Once; a second close does nothing. A watch closes its batch's journal (`watch.busy`)
        and closes it again as it ends, after a Ctrl-C too: one that landed as the first close
        returned had the second close it again, "Bad file descriptor" in place of the interrupt."""
        if not self._closed:
            self._closed = True
            os.close(self._fd)

    def is_current(self) -> bool:
        """False once the file was removed or replaced (a complete undo removes `.sorter/`):
        records appended then would go nowhere anyone reads."""
        return still_open_there(journal_path(self.root), self._fd)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, data: bytes, sync: bool = True) -> None:
        """Append `data` and fsync it, on a line of its own: after a record a crash or a full disk
        cut short, this writer's or another's (the review page and a watcher take turns), ours
        would be glued onto the fragment and lost with it (an intent lost = a move undo cannot
        see). The last byte is read only when someone else wrote since our last whole write (a
        FUSE FAT driver returned zeros to a read right after an append, and wrote them). Never
        into a journal shared with a hard-linked copy of the folder (`state_links`). The first
        records carry the writer's "folder" record before them (`made_folders.of_folder`)."""
        placing = bool(data) and not self._placed
        if placing and self._ends:  # after the "folder" record, which is the writer's first
            noted = {"unsaid": True} if self._unsaid_noted() else {}
            data = encode({"op": "begin", "run": self.run, "time": round(time.time(), 3), **noted}) + data
        if placing and (folder := made_folders.of_folder(self.root)) is not None:
            data = encode({"op": "folder", "run": self.run, "time": round(time.time(), 3), "id": folder,
                           "format": FORMAT}) + data
        try:
            fd, st = own_file(journal_path(self.root), self._fd, os.O_RDWR | os.O_APPEND)
            if fd != self._fd:  # taken before the old one is closed: `close` never closes one twice
                self._fd, old = fd, self._fd
                os.close(old)
            size = st.st_size
            if size and size != self._end and os.pread(self._fd, 1, size - 1) != b"\n":
                data = b"\n" + data
            view = memoryview(data)
            while view:  # os.write may write less than asked (signals, full disk)
                view = view[os.write(self._fd, view):]
            if data and sync:
                os.fsync(self._fd)
            self._end = size + len(data)
            self._placed = self._placed or placing
        except OSError as exc:
            self._end = None
            if exc.filename is None:  # os.write names no file: say which ("the folder: No space" said nothing)
                exc.filename = str(journal_path(self.root))
            raise

    def end(self) -> None:
        """The run ended with its process's word (finished, stopped, Ctrl-C): its undo line is said.
        Only of a run that wrote a record (`begin`): one that wrote none is no run. Its note
        (`unsaid_path`) is removed where the disk refuses the record too."""
        try:
            if self._ends and self._placed:
                self.append("end")
        finally:
            unsaid_removed(self.root, self.run)

    def _unsaid_noted(self) -> bool:
        """Its note (`unsaid_path`) made and on disk, before the "begin" that says so; False where
        the disk refuses it: the run is then read as before, cut short until its "end"."""
        if self._noted is None:
            try:  # empty, nothing secret: 0666 less the umask, as sorter's other files in `.sorter/`
                os.close(os.open(unsaid_path(self.root, self.run), os.O_WRONLY | os.O_CREAT | os.O_EXCL
                                 | getattr(os, "O_NOFOLLOW", 0), 0o666))
                from sorter.files.moves import sync_dirs

                sync_dirs([state_dir(self.root)])
                self._noted = True
            except OSError:
                self._noted = False
        return self._noted

    def append(self, op: str, **fields) -> None:
        self._write(encode({"op": op, "run": self.run, "time": round(time.time(), 3), **fields}))

    def append_many(self, op: str, items: list[dict]) -> None:
        """Several records, one write and one fsync (a batch of moves costs two fsyncs)."""
        if not items:
            return
        now = round(time.time(), 3)
        self._write(b"".join(encode({"op": op, "run": self.run, "time": now, **fields}) for fields in items))

    def intents(
        self, groups: list[list[tuple[Path, Path]]], labels: list[tuple[str | None, float | None]] | None = None,
        sames: list[list[tuple[int, int, int, int] | None]] | None = None,
    ) -> list[list[Move]]:
        """Journal intended moves, one group of (source, destination) pairs per photo, before
        making them; returns them as journaled (`Move`), group by group. `labels`: what each
        group's photo is filed as, (label, confidence), recorded on its first member; `sames`:
        each member's identity (`Move.same`)."""
        journaled: list[list[Move]] = []
        for i, pairs in enumerate(groups):
            first = self.seq + 1
            numbers = list(range(first, first + len(pairs)))
            self.seq += len(pairs)
            label, confidence = labels[i] if labels is not None else (None, None)
            journaled.append([
                Move(self.run, n, self._rel(src), self._rel(dst), first, len(pairs),
                     *((label, confidence) if n == first else (None, None)), same=same)
                for n, (src, dst), same in zip(numbers, pairs, sames[i] if sames else [None] * len(pairs), strict=True)
            ])
        self.append_many("move", [_record(move) for group in journaled for move in group])
        return journaled

    def claim(self, seq: int, ids: tuple[int, ...], at: Path, of: tuple[int, ...]) -> None:
        """The empty file move `seq` made at `at` to hold the name, on a disk without hard links
        (`moves._rename_onto_claim`): its identity and place, for recovery to remove it by, and
        nothing else of the name, where a kill left it. `at`: the move's destination, or for an
        undo (and a group's members put back where the next one would not move) its source; a
        record without one is at the destination. `of`: the identity of the file moving onto it,
        as it was then (`recovery._unclaim`). Not fsync'd: a kill loses no write the process
        made, and a power cut that loses this leaves at most an empty file, never a photo."""
        self._write(encode({"op": "claim", "run": self.run, "time": round(time.time(), 3), "seq": seq,
                            "id": list(ids), "path": self._rel(at), "of": list(of)}), sync=False)

    def uncopy(self, seq: int, ids: tuple[int, ...], at: Path) -> None:
        """Move `seq`'s copy across filesystems, linked in at `at` (its destination) with identity
        `ids`, is about to be removed: its source would not go (`moves._copy_across`). A kill before
        the removal has recovery remove it by that, where the photo is still at its source
        (`recovery._unclaim`). Not fsync'd, as `claim`: a power cut that loses it leaves two equal
        files, which recovery settles to one the same way (`moves.finish_fallback_move`)."""
        self._write(encode({"op": "uncopy", "run": self.run, "time": round(time.time(), 3), "seq": seq,
                            "id": list(ids), "path": self._rel(at)}), sync=False)

    def returning(self, moves: list[Move], again: Collection[int] = ()) -> None:
        """Journal that these sorted files are about to be moved back (undo's intents); `again`:
        the moves whose photo this undo put back already from a newer move of it, marked so, that
        an undo cut short counts each photo once (`recovery.put_back_since`, `undo.stopped_undo`)."""
        self.append_many("unmove", [{**_record(m), **({"again": True} if m.seq in again else {})} for m in moves])

    def mark(self, op: str, seqs: list[int], **fields) -> None:
        self.append_many(op, [{"seq": n, **fields} for n in seqs])

    def _rel(self, path: Path) -> str:
        return os.path.relpath(path, self.root)


def unsaid_removed(root: Path, run: str) -> None:
    """The run's undo line is said: its note (`unsaid_path`) removed, if it has one."""
    try:
        os.unlink(unsaid_path(root, run))
    except OSError:  # none made, or a disk turned read-only: the run stays cut short, and is said again
        pass


def unsaid_settled(root: Path) -> None:
    """After an undo that leaves a journal, under the folder lock: the notes (`unsaid_path`) of
    runs with nothing left to undo removed. A sort killed before its undo line, then taken back
    (by the undo right after the kill, say), kept its `.sorter/unsaid-RUN` until an undo removed
    `.sorter/` whole: a note of a line no command will say, as the run has nothing to undo. A
    run with photos still sorted (some kept) keeps its note. One listing of `.sorter/`; the
    journal read only where a note is there (a sort killed)."""
    from sorter.files.journal import scan

    prefix = unsaid_path(root, "").name
    try:
        with os.scandir(state_dir(root)) as entries:
            noted = [entry.name[len(prefix):] for entry in entries if entry.name.startswith(prefix)]
    except OSError:
        return
    if noted:
        runs = scan(root).runs
        for run in noted:
            if run not in runs or not runs[run].sorted_files:
                unsaid_removed(root, run)
