"""Recovery after a crash: every move (and every undo) whose outcome the journal does not
record is settled from the state on disk, a group at a time, before any new work. A photo
and its companions end wholly where they were or wholly where they were going."""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from sorter.config import REPORT_LINES
from sorter.files.journal import DONE, INTENT, UNDONE, JournalState, Move, scan
from sorter.files.journal_writer import Journal


@dataclass(frozen=True)
class Recovered:
    completed: int  # interrupted moves found done (or finished with their group) and recorded
    rolled_back: int  # interrupted moves that never happened
    missing: list[str]  # files at neither place (removed by someone else)
    state: JournalState  # the journal as it reads now, settled: what `scan` would return


def _groups(moves) -> dict[tuple[str, int], list[Move]]:
    groups: dict[tuple[str, int], list[Move]] = {}
    for move in moves:
        groups.setdefault((move.run, move.group), []).append(move)
    return groups


#: The empty file a move made to hold a name: (its place, its identity, the moving file's then or
#: None, False); or the copy across filesystems a move was taking back ("uncopy"): (its place, its
#: identity, None, True).
Claim = tuple[str, tuple[int, ...], tuple[int, ...] | None, bool]
#: The claims of pending moves, by (run, seq).
Claims = dict[tuple[str, int], list[Claim]]
#: Told that recovery's own move of a member made an empty file at a place to hold the name.
ClaimMade = Callable[[Move, str, tuple[int, ...], tuple[int, ...]], None]


def _identity(value: object) -> tuple[int, ...] | None:
    """A journaled (device, inode, size, time), or None where the record holds none."""
    return tuple(value) if type(value) is list and len(value) == 4 and all(type(n) is int for n in value) else None


def _claims(root: Path, state: JournalState) -> Claims:
    """The identity and place of the empty file each pending move (or undo) made to hold a name
    (a "claim" record: `moves._rename_onto_claim`, on a disk without hard links), by (run, seq):
    at its destination, or for an undo, and a group put back when a member would not move, at
    its source. And the copy across filesystems each was taking back, its source refusing to go
    (an "uncopy" record: `moves._copy_across`). A move's claims made before its pending "unmove"
    (the sort's, long since filled by the photo) are not its undo's. Read from the first pending
    run's first record, and only after a crash left a move pending."""
    from sorter.files.journal import inside, journal_path
    from sorter.files.journal_records import records

    pending = {**state.moving, **state.returning}
    if not pending:
        return {}
    start = min(state.runs[run].first for run, _ in pending)
    claims: Claims = {}
    for _, _, rec in records(journal_path(root), start, ops=("claim", "unmove", "uncopy")):
        key, ids = (rec.get("run", ""), rec.get("seq")), _identity(rec.get("id"))
        if key not in pending:
            continue
        if rec.get("op") == "unmove":
            claims.pop(key, None)
        elif rec.get("op") in ("claim", "uncopy") and ids is not None:
            at = rec.get("path", pending[key].dst)  # none before undo's claims were journaled: the destination
            if inside(at):
                copy = rec.get("op") == "uncopy"
                claims.setdefault(key, []).append((at, ids, None if copy else _identity(rec.get("of")), copy))
    return claims


def _unclaim(root: Path, ends: tuple[str, str], claims: list[Claim]) -> None:
    """The empty files a move between `ends` made to hold a name and a kill left (`claims`)
    removed: each only where it is still that file (`moves.remove_placeholder`). On a disk that
    numbers its files anew at each mount (`identities.inodes_last`: exfat-fuse), a card taken out
    and put back after the kill gives the claim another inode, and it stayed, the photo filed
    beside it as `IMG (1).jpg` by the next sort. There, and only where the disk shows it numbered
    its files anew since the claim (the file the move was moving is at its other end, never
    renamed onto the claim, with the size and time it had then and another inode), the claim is
    told by what a remount keeps: an empty file at the very place with the claim's time to the
    nanosecond. Not renumbered, a file there that is not the claim as made is someone else's
    (one who removed sorter's and made an empty one of theirs in the same second) and stays.
    A copy across filesystems the move was taking back, its source refusing to go, killed before
    it was removed: removed by its identity, and only while the photo is at the move's other end,
    byte for byte (`leaving.remove_copy_made`), so never the photo's one copy."""
    from sorter.files.identities import inodes_last
    from sorter.files.leaving import remove_copy_made
    from sorter.files.moves import judged_as, remove_placeholder

    for at, ids, of, copy in claims:
        if at not in ends:
            continue  # not where this move went or came from: nothing of its to remove
        place, other = root / at, root / ends[1 - ends.index(at)]
        if copy:
            remove_copy_made(place, ids, original=other)
            continue
        try:
            moving = os.lstat(other)
        except OSError:
            moving = None
        now = None if moving is None or not stat.S_ISREG(moving.st_mode) else judged_as(moving)
        renumbered = (of is not None and now is not None and now[2:] == of[2:] and now[:2] != of[:2]
                      and not inodes_last(place.parent))
        remove_placeholder(place, ids, renumbered=renumbered)


def _where(root: Path, path_a: str, path_b: str, claims: list[Claim] = ()) -> str:
    """Which of two names a file of an interrupted move is at: "a", "b" or "gone". Both
    names on one inode, or two equal copies on two filesystems (killed inside a fallback
    move: `moves.finish_fallback_move`): finish the move to "b". A copy to another filesystem
    killed before it was whole is removed first (hidden beside "b": `moves.remove_copy_left`):
    the file is then at "a" alone. So is each empty file the move made at either name to hold it
    on a disk without hard links (`claims`: their journaled places and identities, `_unclaim`),
    killed before the photo was renamed onto it: only that file, never another at the name."""
    from sorter.files.moves import finish_fallback_move, remove_copy_left

    a, b = root / path_a, root / path_b
    remove_copy_left(b)
    _unclaim(root, (path_a, path_b), claims)
    if os.path.lexists(a) and os.path.lexists(b):
        # A different file at b: not ours. The source refusing to go: the copy goes, the photo stays at a.
        return "b" if finish_fallback_move(a, b, or_back=True) else "a"
    if os.path.lexists(b):
        return "b"
    return "a" if os.path.lexists(a) else "gone"


def _settle_group(root: Path, members: list[Move], went_before: bool, backwards: bool = False,
                  claims: Claims | None = None, claim_made: ClaimMade | None = None) -> dict[int, str]:
    """Where each member of an interrupted group ends: "a" (where it was), "b" (where it
    was going: its destination, or for an undo its source) or "gone". If any member got to
    "b" (now, or `went_before` as the journal says), the rest follow it there, so the group
    ends whole. `claims`: the empty files moves made to hold their names (`_claims`);
    `claim_made`: told of the one recovery's own move makes, to journal it, so that recovery
    killed at that move's rename has the next one remove it as it removes a sort's."""
    from functools import partial

    from sorter.files.moves import move_no_replace

    ends = {m.seq: (m.dst, m.src) if backwards else (m.src, m.dst) for m in members}
    held = claims or {}
    where = {m.seq: _where(root, *ends[m.seq], held.get((m.run, m.seq), ())) for m in members}
    if went_before or "b" in where.values():
        for m in members:
            a, b = ends[m.seq]
            if where[m.seq] == "a":
                try:
                    (root / b).parent.mkdir(parents=True, exist_ok=True)
                    move_no_replace(root / a, root / b, root,
                                    claimed=None if claim_made is None else partial(claim_made, m, b))
                    where[m.seq] = "b"
                except OSError:
                    pass  # "b" is taken by a file that is not ours: it stays
    return where


def recover(root: Path, killed: bool = True) -> Recovered:
    """Settle every move (and every undo) whose outcome the journal does not record, from
    the state on disk, a group at a time. Runs under the folder lock, before any new work;
    idempotent. `killed`: the moves were left by a sorter that said nothing as it ended (killed,
    a crash), and their runs are marked cut short (`RunState.cut_short`); False after a Ctrl-C
    that says their undo itself (`_settled`)."""
    from sorter.files.moves import sync_dirs

    state = scan(root)
    marks: dict[tuple[str, str], list[int]] = {}  # (run, op) -> seqs
    completed = rolled_back = 0
    missing: list[str] = []
    touched: set[Path] = set()
    claims = _claims(root, state)
    writer: Journal | None = None  # opened at recovery's first record: most recoveries write none

    def journal(run: str) -> Journal:
        nonlocal writer
        if writer is None:
            writer = Journal(root, run="recovery")
        writer.run = run
        return writer

    def claim_made(m: Move, at: str, ids: tuple[int, ...], of: tuple[int, ...]) -> None:
        journal(m.run).claim(m.seq, ids, root / at, of)

    try:
        for (run_id, group), members in _groups(state.moving.values()).items():
            run = state.runs[run_id]
            size = members[0].size
            pending = {m.seq for m in members}
            moved_before = any(run.has(s, DONE) for s in range(group, group + size) if s not in pending)
            where = _settle_group(root, members, moved_before, claims=claims, claim_made=claim_made)
            for m in members:
                done = where[m.seq] == "b"
                completed += done
                rolled_back += not done
                if where[m.seq] == "gone":
                    missing.append(m.src)
                marks.setdefault((run_id, "done" if done else "abandon"), []).append(m.seq)
                touched |= {(root / m.src).parent, (root / m.dst).parent}
        for (run_id, group), members in _groups(state.returning.values()).items():
            run = state.runs[run_id]
            pending = {m.seq for m in members}
            # A torn write of the group's "undo" marks: members marked are back, so the rest follow.
            returned_before = any(run.has(s, UNDONE) for s in range(group, group + members[0].size) if s not in pending)
            where = _settle_group(root, members, returned_before, backwards=True, claims=claims, claim_made=claim_made)
            for m in members:
                marks.setdefault((run_id, "undo" if where[m.seq] == "b" else "keep"), []).append(m.seq)
                touched |= {(root / m.src).parent, (root / m.dst).parent}
        if marks:
            sync_dirs([root, *touched])
            for (run_id, op), seqs in marks.items():
                # A move's outcome settled here is of a run cut short: said by the next sort's undo
                # line and the undo before it (`RunState.cut_short`), as it never said its own.
                cut_short = killed and op in ("done", "abandon")
                journal(run_id).mark(op, seqs, **({"recovered": True} if cut_short else {}))
                state.runs[run_id].recovered |= cut_short  # as `scan` reads the marks
                for seq in seqs:
                    state.settle(state.runs[run_id], op, seq)
    finally:
        if writer is not None:
            writer.close()
    return Recovered(completed, rolled_back, missing, state)


def _settled(root: Path) -> JournalState:
    """The journal's state once the moves (and undos) a command cut short left pending are
    settled, as the next command would settle them. Under the folder lock, which the command let
    go as it ended; where another sorter took it meanwhile, that one settles them, and the
    journal is read as it is."""
    from sorter.errors import SorterError
    from sorter.files.lock import FolderLock

    try:
        with FolderLock(root):
            return recover(root, killed=False).state
    except SorterError:  # the folder is another sorter's now
        return scan(root)


def moved_since(root: Path, offset: int) -> int:
    """After a sort or a watch cut short (Ctrl-C): its moves left pending settled (`_settled`), and
    the files moved by the runs it journaled past byte `offset` (the journal's size before it) that
    stand: what `sorter undo` takes back."""
    state = _settled(root)
    return sum(run.sorted_files for run in state.runs.values() if run.first >= offset)


def said(root: Path, run: str | None) -> None:
    """A sort stopped part way (Ctrl-C, a full disk) said its line and its undo: its `run` (None:
    it opened none) gets its "end" now, and is no run cut short (`RunState.cut_short`). Written
    after the line, never before: killed between the two, the next sort says its undo for it.
    Under the folder lock; where another sorter holds it, or the disk refuses the record, its
    note (`journal.unsaid_path`) removed says it all the same, as a removal takes no room; only
    a disk turned read-only keeps it cut short, and the next sort says its undo once more."""
    from sorter.errors import SorterError
    from sorter.files.journal import journal_path
    from sorter.files.lock import FolderLock

    try:
        if run is None or not os.path.lexists(journal_path(root)):  # none written, or removed as it stopped
            return
        with FolderLock(root):
            state = scan(root).runs.get(run)
            if state is not None and state.begun and not state.ended:
                with Journal(root, run=run) as journal:
                    journal.append("end")
    except (SorterError, OSError):
        pass
    finally:
        if run is not None:  # the record refused (a disk full still): its note gone says it all the same
            from sorter.files.journal_writer import unsaid_removed

            unsaid_removed(root, run)


@dataclass(frozen=True)
class PutBack:
    """What an undo cut short did to the files it set out to put back (`put_back_since`): each is
    put back, found back already, found gone, or left, and they add up to its `UndoPlan.files`."""

    back: int  # moved back
    already_back: int  # found where they came from already (put back by hand): nothing to move
    #: Found gone, journaled so and said ("missing: ..."): no undo looks for them again.
    missing: int
    left: int  # those its runs still hold, which an undo again puts back
    #: Where nothing at all is left to undo in the folder: what the next undo removes (".sorter/",
    #: "dogs/", `tidying.left_behind`); None where a move is.
    behind: list[str] | None
    #: Found taken into a folder of the user's own and left there, journaled "gone" so and said
    #: ("found: ..."): not put back, and no undo looks for them again.
    yours: int = 0
    #: Found as a copy under another name and left there, journaled "gone" so and said: as `yours`.
    copies: int = 0
    #: Per run, each move's records past the undo's start (bits: `put_back_since`).
    outcomes: dict[str, bytearray] = field(default_factory=dict)

    def settled(self, run: str, seq: int) -> bool:
        """Whether the journal says the move is undone or gone: no undo looks at it again, and a
        line the undo told of it (`Told`) is said now or never."""
        seen = self.outcomes.get(run, b"")
        return seq < len(seen) and bool(seen[seq] & 6)


def put_back_since(root: Path, offset: int, runs: Collection[str]) -> PutBack:
    """After an undo cut short (Ctrl-C), where `offset` is the journal's size before it and `runs`
    the runs it was taking back: its chunk in flight settled (`_settled`), what it did (`PutBack`),
    read from its records past `offset`: a move with an "unmove" intent that ended "undo" is put
    back (one marked "again", its photo put back already by a newer move of it, is not counted,
    nor one marked "gone" so), one marked "undo" with none was back already, one marked "gone" was found gone (or,
    marked "yours", in a folder of the user's own). One byte a move of the records past
    `offset`: a million-move `undo --all` costs a megabyte."""
    from sorter.files.journal import journal_path
    from sorter.files.journal_records import records
    from sorter.files.tidying import left_behind

    state = _settled(root)
    bits = {"unmove": 1, "undo": 2, "gone": 4}  # and 8, 16, 64: "gone" into a folder of yours, as a copy, put back
    flags: dict[str, bytearray] = {}
    uncounted: Counter[str] = Counter()  # kept moves whose photo a newer move counted back: kept, not back
    for _, _, rec in records(journal_path(root), offset, ops=(*bits, "keep")):
        op, seq = rec.get("op"), rec.get("seq")
        if op == "keep" and rec.get("uncount") in ("undo", "back"):
            uncounted[rec["uncount"]] += 1
        if op in bits:
            seen = flags.setdefault(rec.get("run", ""), bytearray())
            if seq >= len(seen):
                seen.extend(bytes(seq + 1 - len(seen)))
            if op == "gone":  # 8: into a folder of the user's own; 16: found as a copy; 64: put back as another name
                seen[seq] |= (8 if rec.get("yours") else 0) | (16 if rec.get("copy") else 0) | (64 if rec.get("back") else 0)
            if op in ("unmove", "gone") and rec.get("again"):  # 32: its photo counted through a newer move of it
                seen[seq] |= 32
            seen[seq] |= bits[op]
    # A photo moved by two runs (sorted, then named on the review page) is one photo put back, or gone, once.
    count = Counter(flag for seen in flags.values() for flag in seen if not flag & 32)
    left = sum(run.sorted_files for name, run in state.runs.items() if name in runs)
    # Nothing left to undo: the next undo tidies (`tidying.tidy`), which needs no other run, nor
    # an unread move (kept: the journal is all that says it moved).
    done = not left and not state.undoable_runs() and not state.unread and not state.outside
    # One the user put back under another name is said by its "found" line alone, as the finished
    # undo says it: neither missing nor in a folder of theirs (a Ctrl-C counted it "1 missing").
    missing = sum(n for flag, n in count.items() if flag & 92 == 4)
    return PutBack(count[3] - uncounted["undo"], count[2] - uncounted["back"], missing, left,
                   left_behind(root, state) if done else None, sum(n for flag, n in count.items() if flag & 8),
                   sum(n for flag, n in count.items() if flag & 16), flags)


class Told:
    """The lines an undo tells as it goes (`on_found`, `on_missing`), each with its move (run,
    seq), for a Ctrl-C to say those whose move the journal settles (`said`): a line told for the
    chunk in flight may be of a move rolled back, or not marked gone yet, which the next undo
    looks at again and says. The first `REPORT_LINES` kept as lines, the rest a byte a move."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, int]] = []
        self.rest: dict[str, bytearray] = {}

    def __call__(self, line: str, run: str, seq: int, photo: bool = True) -> None:
        if len(self.lines) < REPORT_LINES:
            self.lines.append((line, run, seq))
            return
        told = self.rest.setdefault(run, bytearray())
        told.extend(bytes(max(0, seq + 1 - len(told))))
        told[seq] = 1 if photo else 2  # 2: a photo an earlier line said (its newer move's)

    def said(self, settled: Callable[[str, int], bool]) -> tuple[list[str], int]:
        """(the lines of the moves `settled`, how many more photos they told of: a photo two runs
        moved, with a line of each move, is one, as the finished undo's "N more files" counts it)."""
        more = sum(settled(run, seq) for run, told in self.rest.items() for seq, bit in enumerate(told) if bit == 1)
        return [line for line, run, seq in self.lines if settled(run, seq)], more


@dataclass(frozen=True)
class StoppedSort:
    """What a sort stopped part way by its disk (full, or turned read-only) did (`stopped_sort`)."""

    moved: int  # files its runs moved: what `sorter undo` takes back
    tidied: bool  # none moved, and what it made (.sorter/, cats/) is removed: the folder is as it was


def stopped_sort(root: Path, offset: int) -> StoppedSort:
    """After a sort stopped by its disk, where `offset` is the journal's size before it: the files
    its runs moved, told without writing a record (the disk has no room for one, or is read-only):
    a move marked done, or one whose intent was journaled and its outcome not, found at its
    destination. An intent alone is no move: the full disk cuts the journal while it writes a
    batch's intents, before the first photo of it moves (it had said "the photos moved before it
    are journaled" of a sort that moved none). Where none moved, every photo of an intent is
    where it was, and the journal is this sort's alone (`offset` 0), what the sort made is removed
    as an undo removes it (`tidying.forget`), under the folder lock: another sorter holding it,
    or a journal that says anything else, and it is left, for the next command to settle."""
    from sorter.errors import SorterError
    from sorter.files.journal import journal_path
    from sorter.files.lock import FolderLock
    from sorter.files.tidying import forget
    from sorter.files.whereabouts import Whereabouts

    def moved(state: JournalState) -> tuple[int, bool]:
        """Files moved by the runs past `offset`, and whether every pending intent's photo is where it was."""
        runs = {name for name, run in state.runs.items() if run.first >= offset}
        pending = [m for (run, _), m in state.moving.items() if run in runs]
        there = sum(os.path.lexists(root / m.dst) for m in pending)
        return (sum(state.runs[run].sorted_files for run in runs) + there,
                all(os.path.lexists(root / m.src) for m in pending))

    if not os.path.lexists(journal_path(root)):  # stopped before its first record: nothing to read, nor made
        return StoppedSort(0, False)
    state = scan(root)
    files, in_place = moved(state)
    if files or not in_place or offset:
        return StoppedSort(files, False)
    try:
        with FolderLock(root):
            state = scan(root)  # as it is under the lock: another sorter may have written since
            files, in_place = moved(state)
            # Any record but an intent (a move done, abandoned, undone: another sorter's since) keeps it.
            if files or not in_place or state.returning or state.unread or any(
                    flag & ~INTENT for run in state.runs.values() for flag in run.flags):
                return StoppedSort(files, False)
            left = forget(root, state, Whereabouts(root, set(), state))
    except (SorterError, OSError):  # another sorter's now, or a disk that will not let go: left as it is
        return StoppedSort(files, False)
    return StoppedSort(0, left is None)
