"""Which photos sorter moved are back where it found them (`put_back`), by their place or,
renamed since, by what they are: the user's word, which `sort` and `watch` leave where it is.
Put back by a review (`by_review`) or by hand (`by_hand`, `HandPutBacks`), read from the
journal's moves and "seen" records; and the reason `sort` and `watch` give for skipping one.
(Undo's own putting back of a run's moves is `putting_back.py`'s.)"""

from __future__ import annotations

import itertools
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from sorter.files.identities import Identities, SameFile, born_after, is_a_file, lstat_of, same_file, same_file_of

if TYPE_CHECKING:
    from sorter.files.journal import Seen

class SeenReader(Protocol):
    """A reader of the "seen" records that rides on `put_back`'s pass over the journal (a sort's
    `sorting.alone.LeftInPlace`), so a sort reads the journal once: `take` is fed the "seen"
    records the pass parses, and those whose line it `wants` (others are not parsed)."""

    def wants(self, line: bytes) -> bool: ...

    def take(self, seen: Seen) -> None: ...


#: Seconds after a review's move within which the photo it put back has its inode changed (the
#: rename sets its ctime): a file at that path changed later is a new photo, or one edited since.
PUT_BACK_SETTLE = 60.0


#: Files sorter moved most recently (photos and their companions, one budget for both) whose
#: identity `put_back` keeps, to know one put back under another name: as many files as a
#: watcher remembers photos (`latecomers.LIMIT`), so fewer photos where they have companions (a
#: Live Photo and its .MOV take two). About 170 bytes each (its key, its `_Recent` and time, and
#: its slot in the dict: tracemalloc over 32,768 entries, Python 3.11), and its path besides (75
#: bytes for cats/IMG_20240001_123456.jpg), kept up to twice as many between trims: 8 MB at most.
RECENT = 16_384


@dataclass(frozen=True)
class PutBacks:
    """`put_back`: photos sorter moved that are back where it found them. `at`: by where they
    are, path -> where from (both relative to the folder). `moved`: by what they are, for those
    no place in the journal tells: a photo put back by a review, then renamed or moved within the
    folder (`mv c85.jpg c85-renamed.jpg` keeps a file's device, inode, size and time), and the
    `RECENT` photos (and companions) sorter moved last, one of which found outside cats/ and dogs/ was taken back
    out by hand, whatever its name. Keyed by the hash of the photo's `SameFile` (half the
    memory; a collision, 1 in 2**64 a pair, leaves a photo where it is, never moves one): the
    review's whole (a `touch` after its **Neither** has the photo judged again), those taken out
    by hand by `Identities.moved_key` (device, inode and size where they last: touched since, it
    is still put back, as under its own name). The sort's own `lstat` of each photo tells
    (`was`): no look at a photo beyond those it makes. `when`: of those told by device, inode and
    size, the hash of those -> when sorter moved the file: one born after that is a new file
    given a deleted photo's inode number (`identities.born_after`), not it put back."""

    root: Path
    at: dict[str, str]
    moved: dict[int, str]
    when: dict[int, float] = field(default_factory=dict)

    def was(self, path: Path | str, st: os.stat_result | None) -> str | None:
        """Where the photo at `path` (`st`: its `lstat`, or None) was put back from, or None: by
        its place, else, outside cats/ and dogs/, by what it is, where that is not also still
        where sorter put it (a second name of it, `ln`)."""
        from sorter.config import CLASS_FOLDERS

        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        was = self.at.get(rel)
        if was is not None or not self.moved or not is_a_file(st) or rel.split("/", 1)[0] in CLASS_FOLDERS.values():
            return was
        now = same_file(st)  # its device, inode and size kept only where they last (`moved_key`)
        was, told = self.moved.get(hash(now[:3]), self.moved.get(hash(now))), now
        if was is not None and born_after(path, self.when.get(hash(now[:3]))):
            was = None  # a new photo of its size given the inode number of one deleted since
        if was is None:  # in a folder copied since, its size and time alone (`Identities.copied_key`)
            was, told = self.moved.get(hash(now[2:])), now[2:]
            if was is not None and _moved_on(os.path.join(self.root, ""), {rel: now}, {rel: was}):
                return None  # the photo is still in cats/ or dogs/, moved on: this is one of its name or a copy
        there = same_file_of(self.root / was) if was is not None else None
        return None if was is None or (there is not None and there[-len(told):] == told) else was


def put_back(root: Path, state, hand: HandPutBacks | None = None, reader: SeenReader | None = None) -> PutBacks:
    """Photos sorter moved that are back where it found them, as they were (`PutBacks`). The
    user's word, which `sort` and `watch` leave where it is: put back by a review ("Neither" on
    the review page) or by hand. A later correction of the photo takes it elsewhere, and so
    forgets it; a new photo of the same name, or the photo edited since, is judged again.
    `state`: the journal, scanned. `hand`: one (`renamed`) fed by the caller's own pass over
    the journal (the review's catalog), else read here, and the "seen" records it reads handed
    to `reader` too, with those whose line it wants (`SeenReader`: the journal read once)."""
    hand = hand if hand is not None else _read(root, state, HandPutBacks(root, state=state, renamed=True), reader)
    review, renamed = by_review(root, state)
    return PutBacks(root, {**hand.found(), **review}, {**hand.renamed(), **renamed}, hand.when())


def by_review(root: Path, state) -> tuple[dict[str, str], dict[int, str]]:
    """`put_back` by a review: a file at the place a review moved a photo back to, whose inode
    has not changed since (the photo, not a new one of its name or the photo edited), path ->
    where from; and of those no longer there (renamed since: what it is tells it), the hash of
    the photo (`SameFile`, as its move's record has it) -> where from. Where the move's record
    no longer tells its file by inode (`Identities`: the folder copied, a card), the photo's
    size and time alone tell it (`_as_put_back`)."""
    from sorter.config import CLASS_FOLDERS, REVIEW_RUN_PREFIX
    from sorter.files.journal import moves_of

    ids = Identities(root, state)
    back: dict[str, tuple[str, float, SameFile | None, tuple[int, ...] | None]] = {}
    where: dict[SameFile, str] = {}  # a photo put back -> its place in `back`: moved again, it is forgotten
    for run in state.runs.values():  # oldest first; each run's moves in journal order, from its own stretch
        if not run.run.startswith(REVIEW_RUN_PREFIX):
            continue
        for move in moves_of(root, run):
            back.pop(move.src, None)
            if move.same is not None and where.get(move.same) in back:
                del back[where.pop(move.same)]
            if run.undoable(move.seq) and move.seq == move.group and move.dst.split("/", 1)[0] not in CLASS_FOLDERS.values():
                back[move.dst] = (move.src, float(move.time or 0.0), move.same, ids.of(run.run, move.same))
                if move.same is not None:
                    where[move.same] = move.dst
    at = {place: was for place, (was, when, _, told) in back.items() if _as_put_back(root / place, when, told, ids)}
    return at, {hash(ids.copied_key(told) or same): was
                for place, (was, _, same, told) in back.items() if same is not None and place not in at}


class _Recent(NamedTuple):
    """A file sorter moved lately, as `HandPutBacks` keeps it: where the journal has it and when
    sorter moved it (`born_after`; None in journals before moves had times), in one entry so
    that forgetting the file forgets both. A tuple: 24 bytes more a file than two dicts were."""

    dst: str
    when: float | None


class HandPutBacks:
    """`by_hand`, fed a journal's standing moves and "seen" records in journal order
    (`journal.moves_and_seen`): by `by_hand`'s own pass, or by a reader that makes that pass
    anyway (the review server's catalog). Each move costs an `lstat` of its first place; only
    the moves whose place holds a file again are kept (flat memory at a million). `places`:
    only those (relative paths) are looked at, and nothing is `lstat`ed until the end. `state`:
    the journal, scanned, for the runs journaled before the folder was copied (`Identities`).
    `renamed`: the `RECENT` photos and companions moved last are kept by identity too (`renamed`)."""

    def __init__(self, root: Path, places: set[str] | None = None, state=None, renamed: bool = False) -> None:
        from sorter.config import CLASS_FOLDERS, REVIEW_RUN_PREFIX

        self._places = places
        self._sorted = frozenset(CLASS_FOLDERS.values())
        #: The photos moved last (the hash of `Identities.moved_key` of their moves' records) -> where
        #: the journal has each, and when it moved it.
        self._recent: dict[int, _Recent] | None = {} if renamed else None
        self._review = REVIEW_RUN_PREFIX
        self._base = os.path.join(root, "")  # joined as strings: a `Path` per move cost more than the lstat
        self._now: dict[str, str] = {}  # where the photo was -> where the journal last put it
        self._was: dict[str, str] = {}  # the reverse, to follow a later move of the photo
        self._pending: dict[tuple[str, int], str] = {}  # such moves whose "seen" record is to come -> where it was
        self._same: dict[str, SameFile] = {}  # where it was -> the photo, as its "seen" record says
        self._when: dict[str, float | None] = {}  # where it was -> when sorter moved it (`born_after`)
        self._ids = Identities(self._base, state)

    @property
    def waiting(self) -> bool:
        """A kept move's "seen" record is still to come (it follows its batch's moves)."""
        return bool(self._pending)

    def move(self, move) -> None:
        if self._recent is not None and move.same is not None:  # a photo, or a companion (taken back out renamed)
            self._follow(move)
        was = self._was.pop(move.src, None)
        if was is not None and self._now.get(was) == move.src:  # moved on by sorter (a review's correction): followed
            if move.dst == was:
                del self._now[was]  # a review put it back: `by_review`'s
            else:
                self._now[was], self._was[move.dst] = move.dst, was
        if (move.seq == move.group and not move.run.startswith(self._review)
                and (move.src in self._places if self._places is not None else os.path.lexists(self._base + move.src))):
            self._now[move.src] = move.dst
            self._was[move.dst] = move.src
            self._pending[(move.run, move.seq)] = move.src
            self._same.pop(move.src, None)  # an earlier move from that place: this one's record counts
            self._when[move.src] = move.time
        elif (move.seq != move.group and move.same is not None and not move.run.startswith(self._review)
              and (move.src in self._places if self._places is not None else os.path.lexists(self._base + move.src))):
            # A companion that went with its photo, taken back out by hand: put back (its move's record, no "seen" one).
            self._now[move.src] = move.dst
            self._was[move.dst] = move.src
            self._same[move.src] = self._ids.of(move.run, move.same)
            self._when[move.src] = move.time

    def seen(self, seen) -> None:
        was = self._pending.pop((seen.run, seen.seq), None) if seen.seq is not None else None
        if was is not None and seen.mtime_ns is not None:
            self._same[was] = self._ids.of(seen.run, (*seen.identity, seen.mtime_ns))

    def _follow(self, move) -> None:
        """`_recent` after `move`: a photo sorted last, or a companion that went with it or joined
        it late, or one taken on by a review (moved back by one: `by_review`'s, forgotten here)."""
        recent, key = self._recent, hash(self._ids.moved_key(self._ids.of(move.run, move.same)))
        if not move.run.startswith(self._review):
            earlier = recent.pop(key, None)  # in again, as the newest
            # A move journaled without a time (an older journal's) keeps the time its file last had.
            recent[key] = _Recent(move.dst, earlier.when if move.time is None and earlier is not None else move.time)
            if len(recent) > 2 * RECENT:  # the oldest half dropped, now and then: not a pop a move
                self._recent = dict(self._latest())
        elif key in recent:
            if move.dst.split("/", 1)[0] in self._sorted:
                recent[key] = recent[key]._replace(dst=move.dst)
            else:
                del recent[key]

    def _latest(self):
        """The `RECENT` newest of `_recent`'s entries, oldest first."""
        recent = self._recent or {}
        return itertools.islice(recent.items(), max(0, len(recent) - RECENT), None)

    def renamed(self) -> dict[int, str]:
        """The `RECENT` photos and companions moved last (`Identities.moved_key`) -> where the
        journal has each (`PutBacks.moved`): one found elsewhere outside cats/ and dogs/ was put
        back there, whatever its name, touched since or not where inodes last (a companion taken
        back out as `IMG_1-kept.xmp` is no late companion of its photo, nor one a photo of its new
        stem takes along)."""
        return {key: recent.dst for key, recent in self._latest()}

    def when(self) -> dict[int, float]:
        """Of `renamed` and `found`, those told by device, inode and size (the hash of those) ->
        when sorter moved each (`PutBacks.when`)."""
        when = {key: recent.when for key, recent in self._latest() if recent.when is not None}
        for was, same in self._same.items():
            if self._when.get(was) is not None and self._ids.last(same):
                key = hash(tuple(same[:3]))  # the latest move of that inode: born before it, it may be the photo
                when[key] = max(when.get(key, 0.0), self._when[was])
        return when

    def found(self) -> dict[str, str]:
        """Where each photo put back by hand is -> where the journal has it (relative paths).
        Where identities do not last (`Identities`: a card whose inode numbers do not, the folder
        copied, to another disk or on its own), the photo is its size and time: a photo put back, then the card
        taken out and put in again, or the folder copied, is still the one it was, where it has
        left where sorter put it (a copy that kept its time, `cp -p`, is not it) and is nowhere
        else in cats/ or dogs/ under its name (`_moved_on`)."""
        ids = self._ids
        back: dict[str, str] = {}
        told: dict[str, SameFile] = {}  # told by size and time alone (`Identities`)
        for was, same in self._same.items():
            st = lstat_of(self._base + was) if was in self._now else None
            ids.saw(st)
            if not is_a_file(st) or not ids.is_back(same, st):
                continue
            if ids.last(same):
                if not born_after(self._base + was, self._when.get(was)):  # not a new photo given its inode
                    back[was] = self._now[was]
            elif not is_a_file(lstat_of(self._base + self._now[was])):
                told[was] = same  # else a copy that kept its time too (`cp -p`), the photo still sorted
        for was in told.keys() - _moved_on(self._base, told, self._now):
            back[was] = self._now[was]
        return back


def _moved_on(base: str, told: dict[str, SameFile], now: dict[str, str]) -> set[str]:
    """Those of `told` (where a photo was -> the photo, told by size and time) whose photo is
    still in the trees of cats/ and dogs/, moved on there (cats/Luna/x.jpg): a file there has
    its name (as it was, or as sorter filed it) and its size and time. The file at its first
    place is then one of its name come back (imported again from the card), which a photo put
    back by hand is not. One walk, names compared; a file of a name looked for is `lstat`ed."""
    from sorter.config import CLASS_FOLDERS, entered

    if not told:
        return set()
    wanted: dict[str, dict[tuple[int, ...], set[str]]] = {}
    for was, same in told.items():
        for name in {os.path.basename(was), os.path.basename(now[was])}:
            wanted.setdefault(name, {}).setdefault(same[2:], set()).add(was)
    moved: set[str] = set()
    for tree in CLASS_FOLDERS.values():
        if not stat.S_ISDIR(getattr(lstat_of(base + tree), "st_mode", 0)):
            continue  # none, or a link: not walked
        for folder, subfolders, names in os.walk(base + tree):
            subfolders[:] = [d for d in subfolders if entered(d)]
            for name in wanted.keys() & set(names):
                st = lstat_of(os.path.join(folder, name))
                if is_a_file(st):
                    moved |= wanted[name].get((st.st_size, st.st_mtime_ns), set())
    return moved


def by_hand(root: Path, state, places: set[str] | None = None) -> dict[str, str]:
    """`put_back` by hand: a file where a sort or watch found a photo, that is the photo it
    moved (`same_file`, as its "seen" record gives it), while the journal says it is still
    sorted. One pass over the journal, "seen" records parsed only while a kept move's is still
    to come, so it costs about what reading the moves alone does. `places`: only those."""
    return _read(root, state, HandPutBacks(root, places, state)).found()


def _read(root: Path, state, hand: HandPutBacks, reader: SeenReader | None = None) -> HandPutBacks:
    """`hand` fed the journal's standing moves, and the "seen" records it waits for; `reader` fed
    those and the ones it wants (`hand` takes only the records it waits for)."""
    from sorter.files.journal import Move, moves_and_seen

    wants = None if reader is None else reader.wants
    for item in moves_and_seen(root, state, with_seen=lambda: hand.waiting, seen_if=wants):
        if isinstance(item, Move):
            hand.move(item)
        else:
            hand.seen(item)
            if reader is not None:
                reader.take(item)
    return hand


def _as_put_back(path: Path, when: float, same: tuple[int, ...] | None, ids: Identities) -> bool:
    """The file at `path` is the photo a review put back there at `when`: its inode unchanged since
    the move's rename settled it, and, where the move's record has them (`same`), its size and
    time as they were (a `touch` or an edit within the settle window changes those, not the
    inode's ctime's window). Not its device and inode: a copy of the folder keeps neither. Nor,
    where the record (`same`, as `Identities.of` has it) no longer tells its file by inode (the
    folder copied, on its disk or to another; a card), its ctime: a copy's is the copy's own
    (`cp -a`, `rsync -a` keep a file's time, not its ctime), so there its size and time alone
    tell, as they tell a photo put back by hand (a `touch` has it judged again)."""
    st = lstat_of(path)
    if not is_a_file(st):
        return False
    ids.saw(st)
    kept = same is None or (st.st_size, st.st_mtime_ns) == tuple(same[2:])
    if same is not None and not ids.last(same):
        return kept
    return kept and st.st_ctime <= when + PUT_BACK_SETTLE


_PUT_BACK = ("you put it back from ", "; left there")
#: What the summaries count those photos under, whatever their "from" (`planning.reason_kind`).
PUT_BACK_KIND = "you put it back; left there"


def put_back_reason(was: str) -> str:
    """Why `sort` and `watch` skip a photo put back from `was` (relative to the folder)."""
    return f"{_PUT_BACK[0]}{was}{_PUT_BACK[1]}"


def is_put_back_reason(reason: str) -> bool:
    return reason.startswith(_PUT_BACK[0]) and reason.endswith(_PUT_BACK[1])
