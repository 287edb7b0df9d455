"""Putting a run's moves back, a chunk at a time, for `undo` (and a review's take-back of one
correction, `put_back`): each file checked where sorter put it, looked for where it went since
(`whereabouts`), moved back never overwriting, a photo's group (its companions) together, and
what it has to say of each kept, missing or found (the lines themselves: `undo_lines`). The
chunk's moves are journaled as "unmove" intents before, "undo" after."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import replace
from itertools import groupby
from pathlib import Path

from sorter.config import REPORT_LINES, REVIEW_RUN_PREFIX
from sorter.files.kept_back import kept_back, not_looked
from sorter.files.tidying import make_parents, not_a_folder
from sorter.files.undo_lines import Lines, copy_line, found_line, saved_as, say_holders

#: Moves put back per journal write (two fsyncs per chunk).
CHUNK = 1024


def _with_parents(folder: str, into: set[str]) -> None:
    """Add `folder` and the folders above it, up to the top, to `into`: a few string ops."""
    while folder and folder not in into:
        into.add(folder)
        folder = os.path.dirname(folder)


def _look(path: Path) -> os.stat_result | None:
    """What is at `path` (not followed), or None when nothing is; other errors raise."""
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


class Undoer:
    """One undo's putting back, run after run (`run`), and what it has to say of them."""

    def __init__(self, root: Path, journal, runs: set[str] = frozenset(), state=None,
                 on_missing: Callable[[str, str, int, bool], None] = lambda line, run, seq, photo: None,
                 on_found: Callable[[str, str, int, bool], None] = lambda line, run, seq, photo: None) -> None:
        from sorter.files.sorted_below import SortedBelow
        from sorter.files.whereabouts import Whereabouts

        self.root = root
        self.journal = journal
        self.restored = 0
        self.runs_restored = 0  # the runs at least one file was moved back for
        self.already_back = 0  # found where they came from already (put back by hand)
        self.conflicts = Lines()
        self.missing = Lines()
        #: Told each file found gone (line, run, seq, a photo not told yet) as its chunk's "gone" mark is journaled, after
        #: which no undo looks for it again: an undo Ctrl-C stops says those marked (`Told`).
        self.on_missing = on_missing
        self._missing_now: list[tuple[str, object, bool]] = []  # the chunk's (line, move, a photo not counted yet)
        #: The chunk's moves "gone", said so, and how: "yours" (left in a folder of the user's own), "copy"
        #: (found as a copy), "back" (put back by the user under another name): journaled so (`_put_back`)
        self._gone_as: dict[int, str] = {}
        #: Those left in a folder of the user's own, and those found as a copy under another name
        #: (`copied.back_as`), each counted apart from the missing in the summary, as a Ctrl-C's line does
        self.yours = self.copies = 0
        self.found = Lines()
        #: Told each "found" line (line, run, seq, a photo not told yet) before the journal names where the file was found
        #: (an intent, after which a Ctrl-C's recovery puts it back unsaid) or marks it gone (kept in
        #: a folder of the user's own): an undo Ctrl-C stops says those the journal settles (`Told`).
        self.on_found = on_found
        self.whereabouts = Whereabouts(root, runs, state)  # `runs`: those being undone; `state`: the journal scanned
        #: Sub-folders sorted on their own, asked of a photo found nowhere (`sorted_below`); the places
        #: of the moves kept so -> where the photo is: an older move of it, to there, is kept too
        self.below, self._below, self._whole = SortedBelow(root), {}, set()  # `_whole`: their (run, seq)
        #: Said by its "undo" and "gone" marks besides: a review page's take-back's `{"page": True}` (`tidying.tidy`)
        self.marked: dict[str, bool] = {}
        #: seq -> (where sorter put it, what is there if anything, its other names), of a file found elsewhere
        self._moved_on: dict[int, tuple[str, str, tuple[str, ...]]] = {}
        #: seq -> (where sorter put it, the editor's backup it was found as: `undo_lines.saved_as`), of one put
        #: back as it is now
        self._backups: dict[int, tuple[str, str]] = {}
        #: Each such backup -> where this undo put the photo as it is now: an older run's move of the
        #: photo (the sort's, after a review's correction) takes that file on from there
        self._saved: dict[str, str] = {}
        #: Each place a move took its photo from -> the copy of it under another name found there
        #: (`copied.back_as`): an older run's move of that photo, which put it there, is said to be it too
        self._copied_back: dict[str, str] = {}
        #: The folders of the photos found moved on and put back: where a folder sorter made may be now
        self.followed: set[str] = set()
        #: The folders the run being undone had its files taken back from, where it put them
        self.held: set[str] = set()
        #: The folders this undo made to put a photo back (one the user removed since): removed once empty
        self.made: list[str] = []
        #: Where this undo's own records begin in the journal (`UndoPlan.offset`), read back to say
        #: which photo it put back holds a name another is kept for (`undo_lines.say_holders`); None: not said
        self.since: int | None = None
        #: The chunk's "another file is at ..." lines shown: (index, where it is kept, the place, the file there)
        self._held: list[tuple[int, str, str, os.stat_result]] = []
        #: Where this undo kept a file, its move not undone (its way back blocked): an older run's move
        #: of that photo, found there, is kept too, never taken on past the newer one. Undone past it
        #: (the sort's move of a photo a review moved on, from dogs/ straight to the top), the photo
        #: was left where the newer move, tried again once the user made room, took it away from
        #: its first place back into cats/.
        self._kept: set[str] = set()
        #: Each place this undo put a photo back to -> that file's (device, inode): an older move of
        #: the photo from there, checked again once the newer put it back (`_taken_later`), is undone
        #: by it (`_settled`). A watch filed a.jpg, the user put it back by hand and edited it, the
        #: watch filed it again: the older move was said "missing" of the photo restored.
        #: Only the places of the moves put off so (`_waiting`): a few, not one per file put back.
        self._put_here: dict[str, tuple[int, int]] = {}
        self._waiting: set[str] = set()
        self._settled: set[int] = set()  # the chunk's moves undone so: neither restored nor already back
        #: Every file this undo put back, as hash((place, device, inode)) (about 70 bytes a file): an
        #: older run's move of that photo from there (`undo --all`, or the next plain `undo`'s run
        #: being undone in this one) is undone by it, the photo edited in place since (its inode
        #: kept, `Whereabouts.same_inode`): sorted, put back by hand and rewritten, sorted again,
        #: the older move was said "missing" of the photo restored.
        self._returned: set[int] = set()
        self._found_back: set[int] = set()  # of those, the files found back, not moved: "already back"
        #: The chunk's kept moves whose photo a newer move put (or found) back where this one put it:
        #: counted kept, the newer move's count withdrawn ("Restored 3 files (1 kept)" of 3), journaled so
        self._uncounted: list[dict] = []
        self._settled_total = 0  # moves undone so, over this undo: their runs count as restored from
        #: The chunk's moves whose photo this undo put back already, from a newer move of it (`_returned`:
        #: named on the review page after a sort, then `undo --all`): moved back again, not counted
        #: again. The photo was counted twice ("Restored 4 files" of 3 photos); journaled "again".
        self._again: set[int] = set()
        #: The photos kept and those found gone (missing, left in a folder of yours, found as a copy),
        #: each counted once (`_once`), where each of their moves has a line: a photo corrected to
        #: dogs/ on the review page, then deleted, was "(2 missing)". Their moves marked "gone" and
        #: not counted so are journaled "again" (`_gone_again`), for a Ctrl-C's count.
        self.kept = self.missing_photos = 0
        #: hash(place) of where each move of a photo counted so took it from: an older run's move of
        #: the photo put it there (about 70 bytes a photo kept or gone, none for one put back).
        self._counted: set[int] = set()
        self._gone_again: set[int] = set()

    def run(self, run) -> None:
        from sorter.files.journal import moves_of

        self.journal.run = run.run
        self.held.clear()
        self._put_here.clear()
        self._waiting.clear()
        for line in run.refused:  # records naming a path outside the folder (see journal.inside)
            self.conflicts.add(line)
        self.conflicts.total += run.refused_total - len(run.refused)
        self.conflicts.photos += run.refused_total - len(run.refused)
        self.kept += run.refused_total
        chunk: list[list] = []
        undoable = (m for m in moves_of(self.root, run) if run.undoable(m.seq))
        groups = (list(members) for _, members in groupby(undoable, key=lambda m: m.group))
        review, restored, settled = run.run.startswith(REVIEW_RUN_PREFIX), self.restored, self._settled_total
        if review:
            # A review may move one photo twice (cats/ -> dogs/ -> cats/Luna/): newest first and
            # one at a time, so each move is checked where the one after it left the photo. A
            # person's clicks: few enough to hold; a sort or watch moves each photo once and streams.
            groups = reversed(list(groups))
        for members in groups:
            chunk.append(members)
            if review or sum(map(len, chunk)) >= CHUNK:
                self._put_back(chunk)
                chunk = []
        self._put_back(chunk)
        self.runs_restored += self.restored > restored or self._settled_total > settled

    def _check(self, group) -> tuple[list, list, list]:
        """(members to move back, members already back, members gone) of one group; conflicts
        and missing files reported. A conflict keeps the whole group where it is (a later undo
        tries again). A file no longer where sorter put it, or with another file in its place, is
        looked for by its identity, and moved back from where it is now (`whereabouts`), the other
        file left there; another file with the photo nowhere else is the photo saved over (moved
        back), unless it is another journaled move's photo, and so is one with the photo found
        beside it under a backup of its name (an editor's save, `c0.jpg~`: the backup left there);
        found elsewhere as such a backup, the file under its name beside it goes back (`_as_now`).
        A file at its first place is it only by its identity (else a new file there, and the photo
        looked for). One gone (deleted, taken out of the folder, or a folder or link in its place:
        sorter moves only files) is reported once, and the next undo goes on to the run before. A
        group is one unit: a member found in a folder of the user's own keeps the whole group where
        it is, as undone."""
        from sorter.files.moves import finish_fallback_move
        from sorter.files.whereabouts import Unsure

        to_move, back, conflicts, gone, yours = [], [], [], [], []
        kept_at: dict[int, str] = {}  # a move kept where its photo may be elsewhere (`Unsure.at`) -> there
        at_dsts: dict[int, os.stat_result] = {}  # what is where sorter put each, once this undo put any back
        for m in group:
            src, dst = self.root / m.src, self.root / m.dst
            try:
                at_src, at_dst = _look(src), _look(dst)
            except OSError as exc:  # a folder it may not look into: not "gone", tried again later
                conflicts.append((m, not_looked(self.root, exc), None))
                continue
            if at_dst is not None and self._returned:
                at_dsts[m.seq] = at_dst
            if at_src is not None and at_dst is not None:
                if finish_fallback_move(dst, src):  # crash inside an earlier undo's fallback move
                    back.append(m)
                elif self.whereabouts.back_by_hand(m, at_src):  # the file where sorter put it is another: left there
                    back.append(m)
                else:
                    conflicts.append((m, f"another file is at {m.src} now", at_src))
            elif at_src is not None and at_dst is None and (
                    self._put_here.get(m.src) == (at_src.st_dev, at_src.st_ino)
                    or (hash((m.src, at_src.st_dev, at_src.st_ino)) in self._returned
                        and self.whereabouts.same_inode(m, at_src))):
                self._settled.add(m.seq)  # its newer move, undone by this undo, put the photo back here
                back.append(m)
            elif at_src is not None and (not self.whereabouts.not_it(m, at_src)
                                         or (at_dst is None and self.whereabouts.undone_here(m, at_src))):
                back.append(m)  # an earlier undo moved it (then crashed, or undid a newer move of it); or put back by hand
            else:
                a_file = at_dst is not None and stat.S_ISREG(at_dst.st_mode)  # the photo, or another file
                try:
                    found = self.whereabouts.replaced(m, at_dst) if a_file else self.whereabouts.find(m)
                except Unsure as exc:  # led by what is at its place, where the reason does not say it
                    conflicts.append((m, str(exc) if exc.whole else
                                      f"{'not the photo sorter put there' if a_file else 'no longer there'}, and {exc}",
                                      None))
                    if exc.at is not None:
                        kept_at[m.seq] = exc.at
                    continue
                if found is not None and found.path == m.src:  # its copy, put back by hand (`files.copied`)
                    back.append(m)
                    continue
                if found is not None and found.put_back:  # the photo itself, renamed and touched: the user's
                    self._found(f"{m.dst}: you put it back as {found.path}; left there (was {m.src})", m, back=True)
                    gone.append(m)
                    continue
                if found is not None and found.back_as:  # a copy under another name: said, left there
                    self._copied_back[m.src] = found.path  # where an older move of the photo put it
                    self._found(copy_line(m, found.path), m, copy=True)
                    gone.append(m)
                    continue
                if at_dst is None and (copy := self._copied_back.get(m.dst)) and os.path.lexists(self.root / copy):
                    # The newer move of this photo (`undo --all`) found its copy there: said so, not "missing".
                    self._found(copy_line(m, copy), m, copy=True)
                    gone.append(m)
                    continue
                mode = 0 if at_dst is None else at_dst.st_mode
                other = ("another file" if a_file else "a folder" if stat.S_ISDIR(mode) else
                         "a link" if stat.S_ISLNK(mode) else "not a file")  # what is there, if anything
                if found is not None and found.yours:  # taken into a folder of the user's own: theirs
                    self._found(f"{m.dst}: moved to {found.path} since, into a folder of yours; left there "
                                f"(was {m.src})", m)
                    yours.append(found.path)
                    gone.append(m)
                elif found is not None and at_src is not None:  # a new file at its first place: kept, tried again
                    conflicts.append((replace(m, dst=found.path), f"another file is at {m.src} now", at_src))
                elif found is not None and a_file and self._saved.get(found.path) == m.dst:
                    to_move.append(m)  # the photo as it is now, put here by this undo (and said so then)
                elif found is not None and (saved := self._as_now(m, found, at_dst)) is not None:
                    # Saved by an editor that renamed the photo to a backup of its name, then wrote
                    # the new version under it (where sorter put it, or where it was taken since):
                    # that one is the photo as the user has it now. The backup stays, said so:
                    # neither version is lost.
                    self._backups[m.seq] = (m.dst, found.path)
                    to_move.append(replace(m, dst=saved))
                elif found is not None:
                    self._moved_on[m.seq] = (m.dst, other, found.others)
                    to_move.append(replace(m, dst=found.path))  # journaled so: recovery looks for it there
                elif a_file and not self.whereabouts.anothers(m, at_dst):  # found nowhere else: saved over
                    to_move.append(m)
                elif at_dst is None and m.dst in self._below:  # taken on from where a newer move keeps it
                    conflicts.append((m, f"its later move ({self._below[m.dst]}) is kept", None))
                elif at_dst is None and (below := self.below.find(
                        m.dst, lambda record, m=m: self.whereabouts.same_as(m, record))) is not None:
                    self._below[m.src] = below.at
                    self._whole.add((m.run, m.seq))  # its line says where the photo is, not "left in place"
                    conflicts.append((m, below.why(self.root), None))
                else:
                    there = ("no longer there" if at_dst is None or a_file else
                             f"now {other}, not the photo sorter moved; left there")
                    once = self._gone_once(m.src, m.dst, m.seq)
                    self._missing_now.append((f"{m.dst}: {there} (was {m.src})", m, once))
                    self.missing_photos += once
                    gone.append(m)
        for m in to_move:  # where a newer move of its photo, undone by this undo, put it back
            there = at_dsts.get(m.seq)
            if there is not None and hash((m.dst, there.st_dev, there.st_ino)) in self._returned:
                self._again.add(m.seq)
        first = {m.seq: m for m in group}
        for m in [m for m in to_move if m.dst in self._kept]:  # taken from where a newer move keeps it
            to_move.remove(m)
            conflicts.append((first[m.seq], f"its later move ({m.dst}) is kept", None))
            self._kept.add(m.dst)
        for m, _, _ in conflicts:
            put = first[m.seq].dst
            if ((st := at_dsts.get(m.seq)) is not None and hash(put) not in self._counted
                    and (key := hash((put, st.st_dev, st.st_ino))) in self._returned):
                what = "back" if key in self._found_back else "undo"
                self.already_back -= what == "back"
                self.restored -= what == "undo"
                self._uncounted.append({"seq": m.seq, "uncount": what})
        for m, why, there in conflicts:
            self._keep(m, why, there, kept_at.get(m.seq), first[m.seq].dst)
        if conflicts:
            for m in to_move:
                self._kept.add(m.dst)
                self.kept += (once := self._once(m.src, first[m.seq].dst))
                self.conflicts.add(f"{m.dst}: left in place with {conflicts[0][0].dst}", once)
            return [], back, gone
        if yours:  # one unit: a member kept in a folder of the user's own keeps its group where it is
            for m in to_move:
                was, _ = self._backups.pop(m.seq, (m.dst, None))
                was, _, _ = self._moved_on.pop(m.seq, (was, None, ()))
                since = f"moved to {m.dst} since, " if m.dst != was else ""
                self._found(f"{was}: {since}left there with {yours[0]}, in a folder of yours (was {m.src})",
                            replace(m, dst=was))
            return [], back, gone + to_move
        return to_move, back, gone

    def _keep(self, m, why: str, there: os.stat_result | None, at: str | None = None, put: str = "") -> None:
        """`m` kept where it is, for `why`; `there`: the file at its first place, where another is,
        which may be a photo this undo put back (`undo_lines.say_holders`). `at`: where its photo may
        be, where it is not the file at its place but another's, which that one's move takes back;
        `put`: where the journal says sorter put it, where it was found elsewhere (`m.dst`)."""
        self._kept.add(at or m.dst)
        self.kept += (once := self._once(m.src, put or m.dst))
        if there is not None and stat.S_ISREG(there.st_mode) and len(self.conflicts.shown) < REPORT_LINES:
            self._held.append((len(self.conflicts.shown), m.dst, m.src, there))
        self.conflicts.add(f"{m.dst}: {why}" + ("" if (m.run, m.seq) in self._whole else "; left in place"), once)

    def _found(self, line: str, m, copy: bool = False, back: bool = False) -> None:
        """`m` found taken into a folder of the user's own (or, `copy`, as a copy under another
        name; `back`, put back by the user under another name: said by its line alone, neither back
        where it was nor in a folder of the user's), and left there: "gone", said so."""
        once = self._gone_once(m.src, m.dst, m.seq)
        self._gone_as[m.seq] = "copy" if copy else "back" if back else "yours"
        if copy:
            self.copies += once
        elif not back:
            self.yours += once
        self.found.add(line, once)
        self.on_found(line, m.run, m.seq, once)

    def _once(self, src: str, dst: str) -> bool:
        """Whether the photo a move took from `src` to `dst` (where sorter put it, as journaled) is
        counted now: not where this undo already counted it, kept or gone, through a newer move of
        it, which took it on from `dst` (a review's, after the sort's)."""
        self._counted.add(hash(src))
        return hash(dst) not in self._counted

    def _gone_once(self, src: str, dst: str, seq: int) -> bool:
        """`_once`, of a move journaled "gone": one not counted is journaled "again"."""
        if self._once(src, dst):
            return True
        self._gone_again.add(seq)
        return False

    def _as_now(self, m, found, at_dst: os.stat_result | None) -> str | None:
        """Where the photo `m` moved is as the user has it now, where it was `found` under a backup
        of its name (`undo_lines.saved_as`): the file under its name beside the backup (`cats/c0.jpg` beside
        `cats/c0.jpg~`; `cats/best/c0.jpg` beside `cats/best/c0.jpg~`, taken into a folder first),
        an editor's save of it; None where there is none, or it is the photo itself under another
        name, or another journaled move's photo (`anothers`)."""
        from sorter.files.identities import is_a_file, lstat_of

        saved = saved_as(found.path, m.dst)
        if saved is None or saved in found.others:
            return None
        there = at_dst if saved == m.dst else lstat_of(os.path.join(self.root, saved))
        return saved if is_a_file(there) and not self.whereabouts.anothers(m, there, saved) else None

    def _put_back(self, groups) -> None:
        from sorter.files.moves import interrupt_behind, move_no_replace, sync_dirs

        checked = [self._check(g) for g in groups]
        later = _taken_later(checked)
        self._waiting.update(m.src for i in later for m in groups[i])
        checked = [c for i, c in enumerate(checked) if i not in later]
        to_move = [m for moving, _, _ in checked for m in moving]
        undone = [m.seq for _, back, _ in checked for m in back]
        self.already_back += len(set(undone) - self._settled)
        for m in (m for _, back, _ in checked for m in back if m.seq not in self._settled):
            # Counted back already: an older move of the photo from here (the sort's, of a photo
            # corrected on the page and put back in cats/ by hand) is "again", not restored too.
            if (st := _look(self.root / m.src)) is not None:
                self._returned.add(hash((m.src, st.st_dev, st.st_ino)))
                self._found_back.add(hash((m.src, st.st_dev, st.st_ino)))
        self._settled_total += len(self._settled)
        self._settled.clear()
        kept: list[int] = []
        found: list = []  # moved back from where they were found
        leaving = {m.dst for m in to_move}
        for m in to_move:  # said before the intents name where they were found (`on_found`)
            if m.seq in self._moved_on or m.seq in self._backups:
                self.on_found(found_line(self.root, m, leaving, self._moved_on, self._backups), m.run, m.seq,
                              m.seq not in self._again)
        again, self._again = self._again, set()
        self.journal.returning(to_move, again)
        for moving, _, _ in checked:
            returned = []
            try:
                for m in moving:
                    self.made += make_parents(self.root, os.path.dirname(m.src), self.journal)  # a subfolder since removed
                    move_no_replace(self.root / m.dst, self.root / m.src, self.root, claimed=self._claimed(m, m.src))
                    returned.append(m)
            except OSError as exc:
                if (interrupt := interrupt_behind(exc)) is not None:
                    raise interrupt from exc
                failed = moving[len(returned)]
                put = (self._moved_on.get(failed.seq) or self._backups.get(failed.seq) or (failed.dst,))[0]
                if isinstance(exc, FileExistsError) and (there := _look(self.root / failed.src)) is not None:
                    self._keep(failed, f"another file is at {failed.src} now", there, put=put)
                elif (blocking := not_a_folder(self.root, failed.src)) is not None:  # a file where its subfolder was
                    self._keep(failed, f"{blocking} is not a folder now, to put it back into", None, put=put)
                else:  # said as before, without "left in place": back into the sorted folder it goes
                    once = self._once(failed.src, put)
                    self.kept += once
                    said = kept_back(self.root, failed.dst, failed.src, exc)  # the folder refusing it, named
                    self.conflicts.add(f"{failed.dst}: {said}", once)
                for m in reversed(returned):  # the group stays whole: back into the sorted folder
                    move_no_replace(self.root / m.src, self.root / m.dst, self.root, claimed=self._claimed(m, m.dst))
                self._kept.update(m.dst for m in moving)
                kept += [m.seq for m in moving]
                continue
            undone += [m.seq for m in returned]
            taken_on = sum(m.seq in again for m in returned)  # the photo counted as its newer move went back
            self.restored += len(returned) - taken_on
            self._settled_total += taken_on
            for m in returned:
                self.whereabouts.moved(m.dst, m.src)
                if (st := _look(self.root / m.src)) is not None:
                    self._returned.add(hash((m.src, st.st_dev, st.st_ino)))
                    if m.src in self._waiting:
                        self._put_here[m.src] = (st.st_dev, st.st_ino)
                if m.seq in self._moved_on or m.seq in self._backups:
                    found.append(m)
                if m.seq not in self._moved_on:
                    _with_parents(os.path.dirname(m.dst), self.held)
        for m in found:  # once every group has moved: of two names swapped, neither is "left there"
            self.found.add(found_line(self.root, m, set(), self._moved_on, self._backups), m.seq not in again)
            if m.seq in self._backups:
                self._saved[self._backups[m.seq][1]] = m.src
            else:
                _with_parents(os.path.dirname(m.dst), self.followed)
        self._moved_on.clear()
        self._backups.clear()
        sync_dirs([self.root, *{(self.root / p).parent for m in to_move for p in (m.src, m.dst)}])
        self.journal.mark("undo", undone, **self.marked)
        self.journal.mark("keep", kept)
        self.journal.append_many("keep", self._uncounted)  # for a Ctrl-C's count (`recovery.put_back_since`)
        self._uncounted = []
        # Told before the mark, which a Ctrl-C may stop: `Told` says only those it marked.
        for line, m, once in self._missing_now:
            self.missing.add(line, once)
            self.on_missing(line, m.run, m.seq, once)
        self._missing_now.clear()
        # Those left in a folder of the user's own marked so: an undo Ctrl-C stops counts them apart.
        self.journal.append_many("gone", [{"seq": m.seq, **self.marked,
                                           **({self._gone_as[m.seq]: True} if m.seq in self._gone_as else {}),
                                           **({"again": True} if m.seq in self._gone_again else {})}
                                          for _, _, gone in checked for m in gone])
        self._gone_as.clear()
        self._gone_again.clear()
        say_holders(self.root, self.since, self._held, self.conflicts)
        if later:  # checked again where the newer move of their photo left it
            self._put_back([groups[i] for i in sorted(later)])


    def _claimed(self, m, at: str) -> Callable[[tuple, tuple], None]:
        """Journals the empty file the move of `m` to `at` makes to hold the name on a disk without
        hard links (`moves._rename_onto_claim`): an undo killed before the rename onto it left it,
        a 0-byte "photo" at the photo's first place that nothing removed, which the next undo
        took for another file there (`kept: ...: another file is at ... now`). Now recovery
        removes it (`recovery._claims`)."""
        return lambda ids, of: self.journal.claim(m.seq, ids, self.root / at, of)


def _taken_later(checked) -> set[int]:
    """Of a chunk's groups as checked (`Undoer._check`), those whose file a newer group of the
    chunk takes too: one photo filed twice by one watch (filed, taken out under another name,
    filed again), the page's `u` of a correction between the two having put it at the first
    move's place. The newer goes back first, then the older is checked again where that left
    the photo, as a review's moves are undone, newest first. Both had taken the same file: the
    older moved it, the newer's move failed (`cannot move back (No such file or directory)`),
    and a second undo finished it. Only a group with a member to move and none gone is put off:
    its check has reported nothing yet."""
    taken: set[str] = set()
    later: set[int] = set()
    for i in reversed(range(len(checked))):
        moving, back, gone = checked[i]
        places = {m.dst for m in moving} | {m.src for m in back}
        if places & taken and moving and not gone:
            later.add(i)
        taken |= places
    return later


def put_back(root: Path, journal, groups) -> tuple[list[str], list[str]]:
    """Put back these groups of `journal`'s run (lists of its `journal.Move`s, a group's
    members together) as `undo` does, journaled, never overwriting; the caller holds the
    lock. The review server's take-back of one correction. (where files were found moved on
    since, as undo says it: `found: ...`; what was kept and why)"""
    undoer = Undoer(root, journal)
    undoer.marked = {"page": True}  # no undo ran: `sorter undo` says so of a journal left with only these
    undoer._put_back(groups)
    return undoer.found.shown, undoer.conflicts.shown + undoer.missing.shown
