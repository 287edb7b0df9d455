"""Where a file sorter moved is now, once it is no longer where sorter put it: `undo` finds it
by its identity (a pet's folder renamed, cats/Luna -> cats/Lulu, took her photos with it).

A move's intent holds what the file was before it moved (`journal.Move.same`: device, inode,
size, modification time), which a rename or a plain `mv` within the filesystem keeps; a move
journaled before intents held it has its photo's "seen" record instead (a sort's or a watch's;
its companions, and a review's moves then, have nothing to be found by).

Looked for only where something is missing, or where another file is at the place sorter put
the photo (`replaced`), with one listing per undo, made at the first such file (`listing`): the
files at the top of the folder and in the trees of cats/ and dogs/ (not hidden folders nor
.sorter/, no link followed), by identity; where that does not find it, once, the folder's other
trees too (cats/ renamed to kitties/; a folder of the user's own), never a folder sorted on its
own (with a journal of its own: undo asks that journal of a photo found nowhere, `sorted_below`).
A photo found in a folder of the user's own while the folder sorter put
it in is still there (cats/) was taken out of it on purpose: it is said where it is, and stays. The listing follows
the files undo moves back (`moved`), so `undo --all` finds a photo where a newer run's undo
put it. A photo taken out of the folder is reported missing as a deleted one is. Another file
in the photo's place is taken for it saved over only where it is no other journaled move's
photo (`anothers`: every move's identity, read at the first such file in one pass over the
journal's moves, undo's scan of the journal taken on, and kept in 8 bytes a move). A folder
undo took photos back from is a folder the run made, renamed or moved since, where it has that
folder's identity as made (`renamed`): undo removes it once empty, as it would at its first name;
and at its first name only where it has that identity too, or held the run's photos (`made_here`).

A file is the photo when it is that very file, device, inode, size and time alike (a copy is
another inode, the photo edited since has another time); or, not found so, its device and inode,
touched or edited in place since (`_touched_away`: a viewer set its time, a tag rewritten) and born
before its move, so never a file given a deleted photo's inode number since. Two names of one
inode (a hard link) are both the photo: the one in the folder sorter put it in is moved back,
else the shorter path, and the other stays, said so. Where the record does not tell it by its inode
(`identities.Identities`: a filesystem whose inode numbers are made up at each mount, FAT, exFAT,
FUSE; a record taken on another device, the folder copied to another disk since or its disk
mounted again; or journaled before the folder was copied on its own disk, as the journal's
"folder" records tell; but the very file on record, linked from outside the folder, `cp -al`:
`_linked`) it is told by its size and time alone, only where one file there has them (a
copy kept its time too: `cp -p`); where several have them, which is it cannot be told, and
undo keeps its move for a later one (`Unsure`), as it does a photo in a folder it cannot list.
At a photo's first place, or under another name where it came from (the user's, said and left
there: `_put_back_touched`), a file is the photo put back by hand as `sort` tells
one (`Identities.is_back`): its device, inode and size where they last, touched since or not,
and, as at the place sorter put it (`_its_inode`), not born after its move.
Told so, a file at a place of another journaled move of a photo of that size and time (where
sorter put it or found it: two burst shots of one camera, one deleted) is that one's photo, and
a file this undo took for one photo is no other's; where one file is left and another such
photo is not where sorter put it either (one shot renamed, the other deleted), the file is
either's, and the move is kept too (`twins.Twins`: two more reads of the journal's moves, once).
Where the very file is nowhere (a file told by its inode), a copy of it that kept its name, size
and time is (`mv` onto another disk mounted inside the folder; `cp -p` then `rm`): `copied`;
one under another name where it came from is said where it is, and left there.
In a copy the file at the photo's place is the photo where it has its size and time, and
another file (two names swapped) where the photo is found elsewhere; on a card it is taken for
the photo, as it always was (an edit changes the size and time that tell it), unless it is another
journaled move's photo, as no edit makes it (names swapped, or shifted), or the rules for names
swapped or shifted, then one edited, say otherwise (`card_moves.CardMoves`: the photo's size and
time at the place sorter put another photo, it goes back from there; a file there that may be
another photo edited, both moves are kept). Of two photos of one size and time, a file at one's
place or found is either unless its inode number (a rename keeps it while the card stays in) is
the photo's, or all are as sorted (`_no_twin`). Kept, never guessed: never under another's name.
Memory: an entry per file listed (about 160 bytes), only while an undo that missed one runs;
16 bytes a journaled move (its photo, its place) once another file is in a photo's place
(`anothers`, `Hashes`).
"""

from __future__ import annotations

import copy
import os
import stat
from pathlib import Path

from sorter.config import REVIEW_RUN_PREFIX
from sorter.files.card_moves import CardMoves
from sorter.files.copied import back_as, copies
from sorter.files.found import NAMED, Found, Unsure
from sorter.files.hashes import Hashes
from sorter.files.identities import Identities, SameFile, born_after, born_before, is_a_file, lstat_of, same_file
from sorter.files.listing import INODE, Listing, is_folder_itself
from sorter.files.twins import Twins, same_photo

#: Tags a place in `Whereabouts._journal`, beside the photos' keys, so neither is taken for the other.
_PLACE = "place"


class Whereabouts:
    """Finds the files of the moves of `runs` (undo's) where they are now."""

    def __init__(self, root: Path, runs: set[str], state=None) -> None:
        self.root = root
        self._base = os.path.join(root, "")  # paths joined as strings: a Path costs 5 us, an lstat 1.6
        self._runs = runs
        #: The folder's files by identity (True) and, where a record does not last (`_ids`), by size and time.
        self._listing = Listing(root)
        self._ids = Identities(root, state)  # which identities on record tell a file by its inode here
        self._seen: dict[tuple[str, int], SameFile] | None = None
        self._journaled: Hashes | None = None  # hashes of the keys of every journaled move's photo
        self._undone: Hashes | None = None  # hashes of the place and `back_key` of every undone move's photo
        self._twins: Twins | None = None  # told by size and time: the moves of photos of one size and time
        self._state = state  # the journal as undo began (`journal.scan`), else scanned at the first need
        self._claimed: dict[str, object] = {}  # files this undo took for a photo found elsewhere -> the move
        self._settled: set[tuple[str, int]] = set()  # moves this undo found the photo of, or gave up on
        self._card = CardMoves(self._base, runs, self._ids, self._settled, self._same, self.look, self._sorted_now,
                               self.anothers, self.sorted_at, self._holds,
                               self._claimed.get)  # swaps and shifts, then an edit

    def find(self, move, copied_back: bool = True) -> Found | None:
        """Where the file `move` (a `journal.Move` done and not undone) put is now; None where it
        is nowhere to be found; `copied_back`: a copy under another name where it came from too
        (`copied.back_as`). Raises Unsure."""
        same, looked_back = self._same(move), copied_back
        if same is None:
            return None
        names = self._linked(move, same)
        lasting = bool(names) or self._ids.last(same)
        if not names:
            names = self.look(move, same, lasting)
        touched = False
        if not names and lasting and self._listing.unlisted is None:  # that very file, touched since?
            by_inode = self.look(move, same, INODE)
            names = self._touched_away(move, by_inode)
            if not names and looked_back:
                names = self._put_back_touched(move, same, by_inode)
                touched = bool(names)
        if copied := not names and lasting and self._listing.unlisted is None:  # that very file nowhere
            names = copies(self.look, move, same)
        if copied_back := copied_back and not names and copied:
            names = back_as(self.look, move, same)
        if not names and self._listing.unlisted is not None:
            raise Unsure(self._listing.unlisted)
        if not names and not lasting:
            self._card.no_shift_from(move)
        if not names:
            self._settled.add((move.run, move.seq))
            return None
        files = len(set(names.values()))
        if files > 1:  # two files of its size and time (not two names of one): a guess
            many = f"{files} files" if files <= NAMED else f"more than {NAMED} files"
            raise Unsure(f"{many} have its {'name, ' * copied}size and time ({', '.join(sorted(names)[:NAMED])}): "
                         "which is it cannot be told")
        if not lasting:
            self._twins_now().no_rival(move, same, next(iter(names)))
            self._no_twin(move, same, next(iter(names)))
        self._claimed.update(dict.fromkeys(names, move))
        self._settled.add((move.run, move.seq))
        if copied_back or touched:  # a copy under another name where it came from, or the photo put back so
            return Found(next(iter(names)), back_as=not touched, put_back=touched)
        # Two names of the photo itself: either is it; the one in its folder, else the shorter path.
        folder = os.path.dirname(move.dst)
        path = min(names, key=lambda p: (os.path.dirname(p) != folder, len(p), p))
        top, inside, _ = path.partition("/")
        # Another top-level folder while the one sorter put it in is there: a folder of yours it
        # was taken into (not cats/ renamed, which leaves no cats/), and there it stays.
        yours = (bool(inside) and not self._listing.sorted_tree(top)
                 and is_folder_itself(self.root / move.dst.partition("/")[0]))
        return Found(path, tuple(sorted(n for n in names if n != path)), yours)

    def not_it(self, move, there: os.stat_result) -> bool:
        """The file `there`, at the photo's first place, is not the photo `move` put (its identity
        is on record, and another): a new file of its name, the photo not back."""
        self._ids.saw(there)  # a file at the move's place: on a device of the folder's files
        same = self._same(move)
        # As `sort` tells a photo put back (`Identities.is_back`): its device, inode and size where
        # they last, so one put back by hand and touched since is back, not "missing"; born after
        # its move, a new file given the deleted photo's inode number is not (`_its_inode`).
        return same is not None and not (self._ids.is_back(same, there) and (
            not self._ids.last(same) or self._its_inode(move, move.src, there)))

    def back_by_hand(self, move, there: os.stat_result) -> bool:
        """The file `there`, at the photo's first place while another file is at the place sorter
        put it, is the photo itself, told by its inode (`_its_inode`): put back by hand, and
        another file put where it was sorted since. It was kept, "another file is at c1.jpg now"
        of the photo itself, by every undo after, and `undo --all` counted it kept and restored
        (its review move kept so, its sort's move put it back). Where the record does not tell
        it by its inode (a card, a copy of the folder) a copy of it is not told from it: False."""
        same = self._same(move)
        return same is not None and self._ids.last(same) and self._its_inode(move, move.src, there)

    def same_as(self, move, record: tuple[int, ...]) -> bool:
        """The file `move` moved is the one `record` (another journal's: a sub-folder's) was taken
        of, as told here (`Identities.key`)."""
        same = self._same(move)
        return same is not None and len(record) == len(same) and self._ids.key(same) == self._ids.key(record)

    def same_inode(self, move, there: os.stat_result) -> bool:
        """The file `there`, at the photo's first place, is the photo's own inode, or, where the
        record does not tell it by its inode (`Identities.last`), may be: edited in place since
        (`cat new > a.jpg` keeps the inode, not its size)."""
        same = self._same(move)
        return same is None or not self._ids.last(same) or (there.st_dev, there.st_ino) == tuple(same[:2])

    def _its_inode(self, move, path: str, there: os.stat_result) -> bool:
        """The file `there`, at `path` (a move's place), has the photo's device and inode and was
        not born after `move` (`identities.born_after`): the photo itself, edited or put back since,
        not a new file saved after it was deleted and given its freed inode number (ext4 and tmpfs
        give it at once). Where no birth time can be read, the inode alone tells, as before. A
        `statx`, only where the inode is the photo's."""
        same = self._same(move)
        return (same is not None and (there.st_dev, there.st_ino) == tuple(same[:2])
                and not born_after(self._base + path, move.time))

    def anothers(self, move, there: os.stat_result, path: str | None = None) -> bool:
        """The file `there` (at `path`: the place `move` put its photo, where not given) and not
        that photo, is the photo of another move in the journal (any run's, done and not undone):
        never this photo saved over by an editor. The journal's identities are read once, at the
        first such file."""
        self._ids.saw(there)  # a file at the move's place: on a device of the folder's files
        same = self._same(move)
        if same is None:  # nothing on record to tell them apart (an old journal's companion, or review's take-back)
            return False
        if self._ids.match(same, there) or (self._ids.last(same) and self._its_inode(move, path or move.dst, there)):
            return False  # the photo itself, were it edited in place since
        now = same_file(there)
        return hash(now) in self._journal() or hash(now[2:]) in self._journal()

    def _journal(self) -> Hashes:
        """Every journaled move's photo (done and not undone), each as its record tells its file
        here (all of it, or its size and time), and its place (`_PLACE`, where sorter put it): read
        once, at the first file in a photo's place that is not it, 8 bytes each."""
        if self._journaled is None:
            def hashes(moves):
                for m in moves:
                    if m.same:
                        yield hash(self._ids.key(self._same(m)))
                        yield hash((_PLACE, m.dst))

            self._journaled = Hashes(hashes(self._sorted_now()))
        return self._journaled

    def sorted_at(self, path: str) -> bool:
        """A journaled move (done and not undone) put its photo at `path` (`_journal`)."""
        return hash((_PLACE, path)) in self._journal()

    def _sorted_now(self):
        """The journal's moves done and not undone, now: undo's scan taken on (a copy: `Twins.no_rival`
        judges by the journal as undo began), so that only what this undo wrote since is read again."""
        from sorter.files.journal import scan, sorted_moves

        since = copy.deepcopy(self._state) if self._state is not None else None
        return sorted_moves(self.root, scan(self.root, since=since))

    def replaced(self, move, there: os.stat_result) -> Found | None:
        """Where the photo `move` put is now, when the file `there`, at the place it put it, is
        another file (one put in its place, two names swapped) and the photo is found elsewhere;
        else None: `there` is the photo, or, found nowhere else, most likely the photo edited or
        saved over by an editor (which writes a new inode). Where the record does not tell the
        photo by its inode (`Identities`), `there` is the photo where it has its size and time
        (a copy of the folder, a card). On a card whose inode numbers do not last, a file of
        another size and time is taken for the photo, as it always was (an edit changes the size
        and time that are all that tell it there), unless it is another journaled move's photo
        (`anothers`: two names swapped, or one renamed and another given its name), which an edit
        never makes it: then the photo is looked for by its size and time, as in a copy; it was
        said "missing" while it sat in cats/ under the other name; so it is where its size and time
        are at another photo's place (`CardMoves.swapped_in`). Raises Unsure (`_no_twin`, `CardMoves`)."""
        self._ids.saw(there)  # a file at the move's place: on a device of the folder's files
        same = self._same(move)
        if same is None:
            return None
        swapped = False
        if self._ids.last(same):
            if self._its_inode(move, move.dst, there):
                return None  # that very inode is the photo, were it edited in place since
        elif self._ids.match(same, there) and not self._linked(move, same):
            self._no_twin(move, same, move.dst, whole=True)
            return None
        elif not self._ids.kept and not (swapped := self.anothers(move, there)) and not self._card.swapped_in(move, same):
            self._card.no_shift_into(move, same)
            return None
        found = self.find(move, copied_back=False)  # a file there: edited, where the photo is nowhere else
        if found is None and swapped:
            self._card.edited_away(move, there)
        return found if found is not None and found.path != move.dst else None

    def made_by(self, runs) -> dict[str, set[tuple[int, ...]]]:
        """The folders `runs` (`journal.RunState`) made -> their identities as made, each as it
        tells its folder here (`Identities.of`): for `made_here` and `renamed`."""
        created: dict[str, set[tuple[int, ...]]] = {}
        for run in runs:
            for folder, made in run.created_dirs.items():
                created.setdefault(folder, set()).update(self._ids.of(run.run, record) for record in made)
        return created

    def made_here(self, created: dict[str, set[tuple[int, ...]]], held: set[str] = frozenset()) -> list[str]:
        """Those of the folders a run made (`created`: each -> its identities as made,
        `made_folders`, as `made_by` tells them) that are, at the path it made them at, the folder
        made: not one the user made there since (`rm -rf cats; mkdir cats`: another inode, or its
        number's next generation), unless undo took the run's files back from it, where the run
        put them (`held`: those folders and the ones above them): one the user filled again as
        sorted, or a copy of the folder on its disk whose journal is older than "folder" records
        (`cp -al`: every folder new, each file the same). On FAT or exFAT, whose inode numbers do
        not last, its birth time does, where one was recorded and is read there
        (`made_folders.born_as`); in a copy of the folder (its records on another device:
        `Identities`), its path, as it always did. Never its path alone where no identity was
        journaled (a command killed at its `mkdir`, an older sorter's), nor on a card where none
        tells (exfat-fuse keeps neither numbers nor birth times): a folder the user made there
        since would go, while a folder of sorter's left empty is the lesser evil. Nor by `held`
        where an undo set out to make it and never journaled what it made (`RunState.unproven`:
        killed at its `mkdir`): the folder there may be one the user made since, which the next
        undo put the photo back into and took it on from, and removed once empty."""
        from sorter.files import made_folders

        runs = self._state.runs.values() if self._state is not None else ()
        unproven = set().union(*(run.unproven for run in runs))

        def made(record: tuple[int, ...], path: str, st: os.stat_result) -> bool:
            if self._ids.last(record):
                return made_folders.same(record, path, st, here=True)
            return made_folders.born_as(record, path) if not self._ids.kept else True

        here = []
        for folder, records in created.items():
            path, st = self._base + folder, lstat_of(self._base + folder)
            if st is not None and stat.S_ISDIR(st.st_mode) and (
                    (folder in held and folder not in unproven) or any(made(record, path, st) for record in records)):
                here.append(folder)
        return here

    def renamed(self, created: dict[str, set[tuple[int, ...]]], folders) -> list[str]:
        """Those of `folders` (where undo found photos moved on, and took them back from) that are
        a folder a run made (`created`: each -> its identity as made, `made_folders`) renamed or
        moved since: cats/Luna made by a sort, cats/Lunette now. By its identity alone, so never a
        folder of the user's own, and only where identities last: not one given the inode number
        of the run's folder, deleted since (ext4 gives it, almost always), whose generation is
        another; where the record has none (`made_folders.NONE`), no folder but at its own path."""
        from sorter.files import made_folders

        made: dict[tuple[int, int], list[tuple[int, ...]]] = {}
        for record in set().union(*created.values()):
            made.setdefault(record[:2], []).append(record)
        if not made or not self._ids.kept:  # (a copy's: another device, none of them)
            return []
        renamed = []
        for folder in folders:
            st = lstat_of(self._base + folder)
            if st is not None and stat.S_ISDIR(st.st_mode) and any(made_folders.same(record, self._base + folder, st)
                                                for record in made.get((st.st_dev, st.st_ino), ())):
                renamed.append(folder)
        return renamed

    def moved(self, old: str, new: str) -> None:
        """Undo moved the file at `old` to `new`: the listing follows it (`Listing.moved`)."""
        self._listing.moved(old, new)

    def look(self, move, same: SameFile, lasting: bool, name: str | None = None) -> dict[str, tuple[int, int]]:
        """The files of `same` (of that `name` only, where given) as `_names` gives them: looked
        for in cats/, dogs/ and at the top (listed at the first look), then, where none is
        there, once, in the folder's other trees (cats/ renamed, a new one made since, say)."""
        names = self._names(move, same, lasting, name)
        if not names and self._listing.widen(lasting):
            names = self._names(move, same, lasting, name)
        return names

    def _names(self, move, same: SameFile, lasting: bool, name: str | None = None) -> dict[str, tuple[int, int]]:
        """The listed paths of the file `same` (of that `name` only, where given), each checked
        (still that file?) -> its device and inode: several names of one file, or, told by size
        and time, several files (the first `NAMED` and one more: which is it cannot be told),
        none of them another move's photo (`Twins.at_anothers_place`) or taken for one by this undo."""
        names = {}
        for path in self._listing.paths(same, lasting):
            if name is not None and os.path.basename(path) != name:
                continue
            if not lasting and (self._taken_for_another(move, path) or self._twins_now().at_anothers_place(
                    move, same, path)):
                continue
            try:
                st = os.lstat(self.root / path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and ((st.st_dev, st.st_ino) == tuple(same[:2]) if lasting == INODE
                                             else self._ids.match(same, st)):
                names[path] = (st.st_dev, st.st_ino)
                if len(set(names.values())) > NAMED:
                    break
        return names

    def undone_here(self, move, there: os.stat_result) -> bool:
        """The file `there`, at the photo's first place, is a photo an earlier undo put back there
        (a newer run's move of it from there, undone, as `Identities.back_key` tells it) and the
        photo `move` moved, edited in place since (its inode kept): sorted, put back by hand and
        rewritten, sorted again, then two plain `undo`s, the second of which said it "missing".
        Only where inodes last. The journal's undone moves read once, at the first such file, 8
        bytes kept a move (`Hashes`)."""
        same = self._same(move)
        if same is None or not self._ids.last(same) or (there.st_dev, there.st_ino) != tuple(same[:2]):
            return False
        if self._undone is None:
            from sorter.files.journal import UNDONE, moves_of, scan

            self._state = self._state or scan(self.root)
            self._undone = Hashes(hash((m.src, *self._ids.back_key(known)))
                                  for run in list(self._state.runs.values()) if any(f & UNDONE for f in run.flags)
                                  for m in moves_of(self.root, run)
                                  if run.has(m.seq, UNDONE) and (known := self._same(m)) is not None)
        return hash((move.src, *self._ids.back_key(same_file(there)))) in self._undone

    def _touched_away(self, move, by_inode: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        """Of `by_inode` (the names of the photo's inode, looked up in the listing keyed by device
        and inode: `INODE`), those outside the folder `move` took it from, where the photo was
        born before its move: the photo touched or edited in place since, its time another (a
        viewer setting it, `touch`, a tag rewritten), filed into cats/Luna/ or a folder of yours.
        Found as an untouched one is, since it was said "missing" though right there. Not a file
        saved since and given a deleted photo's inode number (ext4 and tmpfs give it at once),
        nor one whose birth time cannot be read: a `statx` a file found so."""
        home = os.path.dirname(move.src)
        return {path: ids for path, ids in by_inode.items()
                if os.path.dirname(path) != home and born_before(self._base + path, move.time)}

    def _put_back_touched(self, move, same: SameFile, by_inode: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        """Of `by_inode` (as `_touched_away` has them), those in the folder `move` took the photo
        from, under another name, its size its own and not born after its move: the photo put
        back there by the user and touched since (`mv dogs/rex.png "rex at home.png"; touch ...`),
        as `sort` and `watch` tell a photo put back (`Identities.is_back`). The user's word:
        `find` says where it is and leaves it there (`Found.put_back`), so it is only looked for
        where the caller asks for such a file (`copied_back`)."""
        home = os.path.dirname(move.src)
        return {path: ids for path, ids in by_inode.items() if os.path.dirname(path) == home
                and is_a_file(st := lstat_of(self._base + path)) and self._ids.is_back(same, st)
                and not born_after(self._base + path, move.time)}

    def _linked(self, move, same: SameFile) -> dict[str, tuple[int, int]]:
        """Journaled before the folder was copied on its disk (`same` on no device), the names of
        the very file on record, device, inode, size and time alike, where it has other names
        than these (`cp -al`: the copy's files are the folder's own inodes): told by its inode,
        as in the folder; two burst shots swapped there went back swapped. Not a file given a
        deleted photo's inode number since (a backup restored in its place: one name each)."""
        record = move.same or self._seen_as(move)
        if record is None or record == same or not self._ids.last(record):
            return {}
        names = self._names(move, record, True)
        st = lstat_of(self._base + next(iter(names))) if names else None
        return names if st is not None and st.st_nlink > len(names) else {}  # a name of it outside the folder

    def _taken_for_another(self, move, path: str) -> bool:
        """Told by size and time, the file at `path` is one this undo took for another photo (and
        left there: in a folder of the user's own, or kept with its group). Not for a move of that
        very photo (`same_photo`): a sort's, where a review's correction of it was found there,
        finds it there too, as it does by its inode."""
        taker = self._claimed.get(path)
        return taker is not None and not same_photo(taker, move)

    def _holds(self, path: str, record: tuple[int, ...]) -> bool:
        """The place `path` holds the file `record` was taken of, as told here (`Identities.match`)."""
        return is_a_file(st := lstat_of(self._base + path)) and self._ids.match(record, st)

    def _twins_now(self) -> Twins:
        """The journal's moves of photos of one size and time (`Twins`): read at the first look for
        a photo told by size and time, or at the first photo at its place on a card (`_no_twin`)."""
        if self._twins is None:
            from sorter.files.journal import scan

            self._state = self._state or scan(self.root)
            self._twins = Twins(self.root, self._state, self._same, self._ids, self._settled, self._holds,
                                self._listing.paths)
        return self._twins

    def _no_twin(self, move, same: SameFile, path: str, whole: bool = False) -> None:
        """`Twins.no_twin`, where the file at `path` is not the photo's inode number on a card."""
        if not self._ids.kept and not ((st := lstat_of(self._base + path)) is not None
                                       and (st.st_dev, st.st_ino) == same[:2]):
            self._twins_now().no_twin(move, same, path, whole)

    def _same(self, move) -> SameFile | None:
        """What the file `move` moved was: its own record, else its photo's "seen" record; as it
        tells the file here (`Identities.of`: on no device, where journaled before a copy)."""
        return self._ids.of(move.run, move.same or self._seen_as(move))

    def _seen_as(self, move) -> SameFile | None:
        """A move journaled before intents held identities: its photo's, as the run's "seen"
        record of it gives it (read once, for the runs being undone)."""
        if move.seq != move.group or move.run.startswith(REVIEW_RUN_PREFIX):
            return None
        if self._seen is None:
            from sorter.files.journal import seen_of

            self._seen = {(s.run, s.seq): (*s.identity, s.mtime_ns) for s in seen_of(self.root)
                          if s.run in self._runs and s.seq is not None and s.mtime_ns is not None}
        return self._seen.get((move.run, move.seq))

