"""Companions that arrive after their photo has been moved (`sorter watch`, and `sorter sort`
run again: `late_companions`): a Live Photo's `.MOV`, Apple's `.AAE` or an `.xmp` copied in
after the photo, as phones and sync tools do as often as before. Such a file joins the photo
where it went, under the name the photo's group has there (`IMG_1 (1).MOV` beside
`IMG_1 (1).HEIC`), journaled in the watch's (or sort's) run, so `sorter undo` of that run
takes it back.

Where each photo went comes from the journal when the watch starts (the moves still sorted,
of every run, less those of the companions that joined a photo late: `joined`) and from each
move the watch makes after; the `LIMIT` most recent photos are
remembered (a late companion comes minutes after its photo, not months). A file joins only
when its photo is no longer beside it and still is where it was moved to: a photo undone or
moved on since is not followed. A photo put back where it was (the same file: "Neither" on
the review page, or by hand) is left there (`put_back`), not sorted again, and so is it renamed
since: told by what it is (device, inode and size, a touched one still is it; size and time
where inodes do not last), as the watcher's look at it as it hands it out has it, of the
photos remembered and of those found put back. Of the photos
older than those remembered, only where each was is kept, as an 8-byte hash (a `NameIndex`
of their paths): a file arriving at such a place is looked up in the journal
(`older_put_backs`), so a photo sorted months ago and put back by hand is left there too. The
hash may match a new photo of that name (or, one in billions, another path): the journal tells.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.config import CLASS_FOLDERS, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS
from sorter.files.companions import (
    NAME_SUFFIXES,
    STEM_EXTENSIONS,
    VIDEO_STEM_EXTENSIONS,
    beside_a_photo,
    named_after,
)
from sorter.files.identities import Identities, SameFile, born_after, is_a_file, same_file, same_file_of
from sorter.files.planning import NameIndex
from sorter.media.folders import is_image_name, is_video_name

if TYPE_CHECKING:
    from sorter.files.journal import Move, Seen

SORTED = frozenset(CLASS_FOLDERS.values())
#: Photos remembered: about 440 bytes each (36 of them the index by identity), so 7 MB at most. Older ones: 8 bytes each.
LIMIT = 16_384
#: Seconds after its photo moved that a file joins it by the stem alone (a Live Photo's .MOV
#: comes minutes after its photo). Later, the same stem is another photo's: a phone's counter
#: starts again at IMG_0001 after IMG_9999, and a cat video IMG_0002.MOV had joined the dog
#: photo IMG_0002.JPG sorted months before. A sidecar named after the photo's whole name
#: (IMG_0002.JPG.xmp, written when the photo is edited) joins it whenever it comes.
STEM_WINDOW = 24 * 3600
#: Seconds by which a file's ctime may lag the clock a move's time is read from: the kernel
#: stamps it by a coarse clock, a tick (up to 10 ms) behind `time.time()`.
CTIME_SLACK = 0.02
#: Extensions a file may join its photo by the stem with: a photo's companions, a video's.
_BY_STEM = {
    ext: (IMAGE_EXTENSIONS if ext in STEM_EXTENSIONS else frozenset())
    | (VIDEO_EXTENSIONS if ext in VIDEO_STEM_EXTENSIONS else frozenset())
    for ext in {*STEM_EXTENSIONS, *VIDEO_STEM_EXTENSIONS}
}


@dataclass(frozen=True)
class Filed:
    source: Path  # where the photo was
    destination: Path  # where it went
    label: str | None = None
    confidence: float | None = None
    #: The photo where it went (`same_file_of`): the same file put back where it was is not a new photo.
    same: SameFile | None = None
    #: Another photo of its stem that went elsewhere too (`IMG_1.HEIC` and `IMG_1.JPG`): a
    #: companion by the stem belongs to neither for sure, as `sort` decides beside both, and
    #: joins neither (a video is judged on its own, a sidecar left where it is); one named after
    #: that photo's whole name (`IMG_1.JPG.xmp`) follows it.
    other: Filed | None = None
    #: When it moved (seconds since the epoch; None: not known, as in journals before times).
    when: float | None = None
    #: The companions it took along, and those that joined it late (`Latecomers.took`): (where each
    #: was, where it went, `same_file_of` there). One taken back out by hand, the same file under
    #: its name or another, is put back (`Latecomers.put_back`), no late companion.
    companions: tuple[tuple[Path, Path, SameFile | None], ...] = ()


class Latecomers:
    """Where recently moved photos went, by their folder and stem; where older ones were."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = LIMIT if limit is None else limit
        self._by_stem: OrderedDict[tuple[str, str], Filed] = OrderedDict()
        self._older = NameIndex()  # where older photos were (their paths)
        self._state = None  # the journal as last scanned (`journal.scan`)
        self._root: Path | None = None  # the watched folder, once loaded
        #: Photos put back where sorter found them before the watch, by where they are: (where they were, `same_file_of`).
        self._back: dict[str, tuple[Path, SameFile | None]] = {}
        #: Photos put back, by the hash of what they are (`put_backs.PutBacks.moved`, and those of `_back`): renamed since.
        self._moved: dict[int, Path] = {}
        self._by_same: dict[tuple[int, ...], tuple[str, str]] = {}  # a remembered photo's `Filed.same` (`_told`) -> its key
        self._companions: dict[str, tuple[str, str]] = {}  # where a remembered photo's companion was -> the photo's key
        #: A remembered photo's companion as it went (`_told` of its `SameFile`) -> where it was: taken back out renamed.
        self._companion_ids: dict[tuple[int, ...], str] = {}
        #: What tells a file in the folder (`Identities.key`): on a card whose inode numbers do not
        #: last (exfat-fuse numbers a file anew once the kernel forgets it), its size and time, as
        #: `sort` tells it; a photo put back was filed again by a running watch once renumbered.
        self._ids: Identities | None = None
        #: What tells each file above (`_told`, hashed) -> when it was seen so (its identity read, or
        #: its move journaled): a file born after that is a new one given its inode number (`put_back`).
        self._when: dict[int, float] = {}

    def remember(self, filed: Filed) -> None:
        key = _key(filed.source)
        earlier = self._by_stem.get(key)
        if earlier is not None and earlier.source != filed.source:  # IMG_1.png after IMG_1.jpg
            self._older.add(str(earlier.source))
            if is_image_name(earlier.source.name) and is_image_name(filed.source.name):
                filed = replace(filed, other=replace(earlier, other=None))
        if earlier is not None:
            self._unindex(key, earlier)
        self._by_stem[key] = filed
        self._by_stem.move_to_end(key)
        if filed.same is not None:
            self._by_same[self._told(filed.same)] = key
            self._stamp(filed.same)
        self._index(key, filed.companions)
        while len(self._by_stem) > self.limit:
            gone, forgotten = self._by_stem.popitem(last=False)
            self._older.add(str(forgotten.source))
            self._unindex(gone, forgotten)

    def _unindex(self, key, filed: Filed) -> None:
        """`filed`, remembered under `key` no longer, out of `_by_same` too (where it is there under it)."""
        if filed.same is not None and self._by_same.get(told := self._told(filed.same)) == key:
            del self._by_same[told]
            self._when.pop(hash(told), None)
        for source, _, same in filed.companions:
            if self._companions.get(str(source)) == key:
                del self._companions[str(source)]
            if same is not None and self._companion_ids.get(told := self._told(same)) == str(source):
                del self._companion_ids[told]
                self._when.pop(hash(told), None)

    def _index(self, key, companions) -> None:
        """`companions` of the photo remembered under `key`, by where each was and by what it is."""
        for source, _, same in companions:
            self._companions[str(source)] = key
            if same is not None:
                self._companion_ids[self._told(same)] = str(source)
                self._stamp(same)

    def took(self, photo: Filed, path: Path, destination: Path) -> None:
        """`path` joined `photo` late, at `destination` (`Sorter.join`): one of its companions
        now, as one it took along is, so one taken back out by hand, under its name or another,
        is put back (`put_back`), not joined again."""
        key = _key(photo.source)
        filed = self._by_stem.get(key)
        if filed is None:
            return  # forgotten meanwhile: `older_put_backs` and the journal tell
        taken = (path, destination, same_file_of(destination))
        self._by_stem[key] = replace(filed, companions=(*filed.companions, taken))
        self._index(key, (taken,))

    def _told(self, same: SameFile) -> tuple[int, ...]:
        """What tells the photo put back that `same` was taken of in the watched folder
        (`Identities.back_key`): its device, inode and size where they last, so a `touch` of it
        leaves it put back; its size and time on a card whose inode numbers do not."""
        return same if self._ids is None else self._ids.back_key(same)

    def _stamp(self, same: SameFile) -> None:
        """The file `same` was taken of was there just now (`_when`): its identity was just read."""
        self._when[hash(self._told(same))] = time.time()

    def _is(self, same: SameFile | None, now: SameFile | None) -> bool:
        """`now` is of the file `same` was taken of, as the folder tells files (`_told`)."""
        return same is not None and now is not None and self._told(same) == self._told(now)

    def load(self, root: Path, state=None, back=None, seen: Callable[[Move | Seen], None] | None = None) -> None:
        """The moves still sorted, from the journal (each group's first member is its photo), and
        the photos put back before it started (`put_backs.put_back`). `state`: the journal as the watcher's
        recovery left it (read again when not given); `back`: its `put_back`, where the caller has it (a sort).
        One pass over the journal feeds the moves, the hand put-backs (`HandPutBacks`) and `seen`:
        every standing move and "seen" and "back" record, in journal order, for a watch's
        `LeftBefore` (which read the journal a second time before)."""
        from sorter.files.journal import Move, moves_and_seen, scan
        from sorter.files.put_backs import HandPutBacks, put_back

        state = scan(root) if state is None else state
        self._root = root
        self._ids = Identities(root)
        self._state = state  # `older_put_backs` reads the journal on from there
        hand = HandPutBacks(root, state=state, renamed=True) if back is None else None
        # The "seen" records parsed only where wanted: by `seen`, or by `hand` while a kept move's is to come.
        wanted = (lambda: True) if seen is not None else (lambda: hand is not None and hand.waiting)
        head: tuple[str, int, tuple[str, str]] | None = None  # the photo last remembered: its run, group, key
        for item in moves_and_seen(root, state, with_seen=wanted, also=("back",) if seen is not None else ()):
            if not isinstance(item, Move):
                if hand is not None:
                    hand.seen(item)  # a "back" record has no `seq`: none of `hand`'s
                if seen is not None:
                    seen(item)
                continue
            if hand is not None:
                hand.move(item)
            if seen is not None:
                seen(item)
            if item.seq == item.group and not self.joined(root / item.src, root / item.dst, item.time):
                self.remember(Filed(root / item.src, root / item.dst, item.label, item.confidence, when=item.time))
                head = (item.run, item.seq, _key(root / item.src))
            elif head is not None and head[:2] == (item.run, item.group) and (filed := self._by_stem.get(head[2])):
                # A companion it took along (a group's members follow its photo): told where it went.
                taken = (root / item.src, root / item.dst, None)
                self._by_stem[head[2]] = replace(filed, companions=(*filed.companions, taken))
        for key, filed in self._by_stem.items():  # only those remembered: LIMIT stats at most, and their companions
            companions = tuple((source, where, same_file_of(where)) for source, where, _ in filed.companions)
            self._by_stem[key] = filed = replace(filed, same=same_file_of(filed.destination), companions=companions)
            self._index(key, companions)
            if filed.same is not None and filed.destination.relative_to(root).parts[0] in SORTED:
                self._by_same[self._told(filed.same)] = key  # not one a review put back: where it was is not where it went
                self._stamp(filed.same)
        back = put_back(root, state, hand) if back is None else back
        self._note(root, {root / where: root / was for where, was in back.at.items()})
        # Those a remembered photo's identity does not tell already (put back before the watch began).
        told = {hash(self._ids.moved_key(filed.same)) for key, filed in self._by_stem.items()
                if filed.same is not None and self._by_same.get(self._told(filed.same)) == key}
        self._moved.update((key, root / was) for key, was in back.moved.items() if key not in told)
        self._when.update((key, when) for key, when in back.when.items() if key not in told)

    def _note(self, root: Path, back: dict[Path, Path]) -> None:
        """Photos found put back (where each is -> where it was put back from), by place and by identity."""
        for where, was in back.items():
            same = same_file_of(where)
            self._back[str(where)] = (was, same)
            if same is not None:
                self._moved[hash(self._told(same))] = was
                self._stamp(same)

    def joined(self, source: Path, destination: Path, when: float | None = None) -> bool:
        """The journal's one-file group `source` -> `destination` (moved at `when`) is a companion
        that joined its photo late (`Sorter.join`), not a photo or video sorted on its own:
        remembered, it took its photo's place, and a Live Photo's .MOV still waiting when a watch
        stopped (its .AAE joined) was sorted alone at the next start, as `IMG_9 (1).MOV` beside
        `IMG_9.jpg`. A sidecar is only ever filed alone so; a video when it went beside the photo
        remembered at its stem, under that photo's group name and within `STEM_WINDOW`, which a
        video judged alone never gets (the planner renames one that would pair with a photo:
        `planning.free_names`)."""
        if is_image_name(source.name):
            return False
        if not is_video_name(source.name):
            return True
        filed = self._by_stem.get(_key(source))
        if filed is None or (when is not None and filed.when is not None and when - filed.when > STEM_WINDOW):
            return False
        return destination == _beside(filed, source)

    def put_back(self, path: Path, st: os.stat_result | None = None) -> Path | None:
        """`_put_back`, where the file at `path` is not one born after the file it was told by was
        seen (`_when`) where files are told by their inode: a new photo of its size saved after
        that one was deleted, given its inode number (`identities.born_after`), is a new photo."""
        was = self._put_back(path, st)
        if was is None or self._ids is None:
            return was
        now = same_file(st) if is_a_file(st) else same_file_of(path)  # the caller's `lstat`, where it gave one
        if now is not None and self._ids.last(now) and born_after(path, self._when.get(hash(self._told(now)))):
            return None
        return was

    def _put_back(self, path: Path, st: os.stat_result | None = None) -> Path | None:
        """Where `path` was put back from, or None: a photo sorter moved, back where it was (the
        same file: "Neither" on the review page, or by hand), is the user's word, not a new photo;
        so is it renamed or moved within the folder since, told by `st` (the watcher's `lstat` as
        it handed the file out), where it is no longer where sorter put it; and so is a companion
        of a remembered photo (taken along or joined late), under its name or another."""
        was, same = self._back.get(str(path), (None, None))
        if self._is(same, same_file_of(path)):
            return was
        # A companion a remembered photo took along, taken back out by hand under its own name (as `sort` has it).
        for source, where, same in getattr(self._by_stem.get(self._companions.get(str(path))), "companions", ()):
            if source == path and self._is(same, same_file_of(path)):
                return where
        filed = self._by_stem.get(_key(path))
        if filed is not None and filed.source == path and self._is(filed.same, same_file_of(path)):
            return filed.destination
        if not is_a_file(st):
            return None
        now = same_file(st)
        # The journal's put-backs (`PutBacks.moved`) by hand are by `_told` where inodes last, else by the
        # whole identity (`Identities.moved_key`), as a review's are; those found since by `_told`.
        was = self._moved.get(hash(self._told(now)), self._moved.get(hash(now)))
        if was is None and (filed := self._by_stem.get(self._by_same.get(self._told(now)))) is not None \
                and self._is(filed.same, now):
            was = filed.destination
        if was is None and (source := self._companion_ids.get(self._told(now))) is not None:
            # A companion of a remembered photo, taken back out under another name (`IMG_1-kept.xmp`).
            was = next((where for gone, where, same in getattr(self._by_stem.get(self._companions.get(source)),
                                                               "companions", ())
                        if str(gone) == source and self._is(same, now)), None)
        return was if was is not None and not self._is(now, same_file_of(was)) else None  # not a second name of it (`ln`)

    def might_be_back(self, path: Path) -> bool:
        """`path` is where a photo older than those remembered was: it may have been put back
        (or a new photo took its name), which only the journal can tell (`older_put_backs`)."""
        return str(path) in self._older

    def older_put_backs(self, root: Path, paths: list[Path]) -> dict[Path, Path]:
        """Of `paths` (`might_be_back`), those put back where they were: path -> where they
        were put back from. The journal scanned on from the last look, then one pass over it
        (`put_backs.by_hand`: under a second for 100,000 moves); remembered, so the next look at
        one costs nothing."""
        from sorter.files.journal import scan
        from sorter.files.put_backs import by_hand, by_review

        places = {os.path.relpath(path, root): path for path in paths}
        self._state = scan(root, since=self._state)  # read on from the last look (or the start)
        found = by_hand(root, self._state, places=set(places))
        reviewed, _ = by_review(root, self._state)  # "Neither" on one: the review's runs alone are read
        found.update((place, was) for place, was in reviewed.items() if place in places)
        back = {places[place]: root / sorted_to for place, sorted_to in found.items()}
        self._note(root, back)
        return back

    def _moved_on(self, filed: Filed) -> Filed | None:
        """`filed` where its photo is now, when a journaled move took it on from where it went
        (a review page's **Dog** on a photo the watch filed as a cat: its late .MOV went into
        cats/ alone). The journal is read for it: only a late companion of a photo moved on
        costs that. None when the journal does not say where it is."""
        from sorter.files.journal import scan, sorted_moves

        if self._root is None:
            return None
        start = where = os.path.relpath(filed.destination, self._root)
        for move in sorted_moves(self._root, scan(self._root)):  # in the order made: a chain is followed
            if move.seq == move.group and move.src == where:
                where = move.dst
        if where == start or not os.path.lexists(self._root / where):
            return None
        return replace(filed, destination=self._root / where)

    def of_a_photo_moved(self, path: Path) -> bool:
        """A photo of `path`'s stem moved away within `STEM_WINDOW` and is not back: a video
        beside another photo of that stem (the JPG still being copied when the HEIC moved) is of
        two photos' stem, and belongs to neither (`alone.LeftAlone.hold`)."""
        filed = self._by_stem.get(_key(path))
        if filed is None or not is_image_name(filed.source.name) or os.path.lexists(filed.source):
            return False
        return filed.when is None or time.time() - filed.when <= STEM_WINDOW

    def destination(self, path: Path) -> tuple[Filed, Path] | None:
        """The moved photo `path` belongs with and where `path` goes beside it; None when it
        belongs with no photo moved away (or its photo is back, or gone since, or another photo
        of its stem is beside it), when it was there before its photo moved (`_there_before`),
        and for a video that cannot be a Live Photo's (`container.may_be_live_photos`: over 5 s,
        or a photo named as a video): it is judged on its own."""
        from sorter.media.container import may_be_live_photos  # numpy: not imported for `--help`

        folded = path.name.casefold()
        stem, ext = os.path.splitext(path.name)
        tries = [(stem, ext.lower())]  # IMG_1.MOV, IMG_1.xmp
        for suffix in NAME_SUFFIXES:  # IMG_1.HEIC.xmp, IMG_1.jpg.supplemental-metadata.json
            if folded.endswith(suffix):
                inner_stem, inner_ext = os.path.splitext(path.name[: -len(suffix)])
                tries.append((inner_stem, None))
                if inner_ext.lower() in _BY_STEM:  # DSC_1.NEF.xmp: the raw companion's own sidecar
                    tries.append((inner_stem, inner_ext.lower()))
        for photo_stem, by_stem in tries:
            filed = self._by_stem.get((str(path.parent), photo_stem.casefold()))
            if filed is None:
                continue
            if by_stem is None and filed.other is not None and named_after(path, filed.other.source.name):
                filed = filed.other  # IMG_1.JPG.xmp, where IMG_1.HEIC went after IMG_1.JPG
            photo_ext = os.path.splitext(filed.source.name)[1].lower()
            if by_stem is not None and photo_ext not in _BY_STEM.get(by_stem, ()):
                continue  # an .SRT joins a video, not a photo; a .MOV a photo, not a video
            if by_stem is not None and filed.when is not None and time.time() - filed.when > STEM_WINDOW:
                continue  # another photo's stem by now (`STEM_WINDOW`): judged on its own
            if by_stem is not None and filed.other is not None:
                return None  # IMG_1.MOV of IMG_1.HEIC or of IMG_1.JPG: `Filed.other`
            if by_stem is None and not named_after(path, filed.source.name):
                continue  # IMG_1.jpg.xmp of IMG_1.JPG joins it where a look-up by IMG_1.JPG.xmp finds it, as in `sort`
            if os.path.lexists(filed.source) or (by_stem is not None and beside_a_photo(path)):
                # The photo is back beside it, or another photo of its stem is (the JPG still being
                # copied when the HEIC moved): the usual rules apply, and a video of two photos'
                # stem belongs to neither. It had joined the HEIC.
                return None
            if by_stem is not None and _there_before(path, filed):
                return None  # not taken along when its photo moved (judged alone, left alone): no late companion
            if by_stem is not None and is_video_name(path.name) and not may_be_live_photos(path):
                return None  # a video over 5 s is no Live Photo's: judged on its own
            if not os.path.lexists(filed.destination):
                filed = self._moved_on(filed)  # by a review's correction since, say
                if filed is None:
                    return None  # undone, or moved on out of sorter's sight
            return filed, _beside(filed, path)
        return None


def _key(path: Path) -> tuple[str, str]:
    """Where a photo was, by its folder and stem (casefolded): what its companions share."""
    return str(path.parent), os.path.splitext(path.name)[0].casefold()


def _there_before(path: Path, filed: Filed) -> bool:
    """`path` was where it is, complete, before the photo `filed` moved: its inode last changed
    (written, or renamed in: `st_ctime`, which no copy tool sets back as it sets the mtime) before
    that move. A Live Photo's .MOV still being copied as its photo moved changed after it. A clock
    between this machine's and a network share's may blur that by the skew between them."""
    if filed.when is None:
        return False  # a journal from before moves had times: as before
    try:
        return os.lstat(path).st_ctime < filed.when - CTIME_SLACK
    except OSError:
        return False


def _beside(filed: Filed, path: Path) -> Path:
    """Where `path`, a companion of the photo `filed`, goes: beside it, under its group's name."""
    source_stem = os.path.splitext(filed.source.name)[0]
    new_stem = os.path.splitext(filed.destination.name)[0]
    # The photo's group renamed as `stem (n)`: the companion takes the same n.
    name = new_stem + path.name[len(source_stem):] if new_stem != source_stem else path.name
    return filed.destination.parent / name
