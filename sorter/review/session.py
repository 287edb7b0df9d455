"""A review session: the folder's catalog, and the corrections a person makes to it.

A correction moves the photo with its companions through `filing.file_groups`, as a sort
does: the folder's lock taken for that move alone (a sort of the folder at the same time
makes it fail with `FolderLocked`, which the page shows as "busy"; another review's click it
waits for; a watcher's batch it waits out, and goes before the next, `locking`), intents journaled before the move and marked
after, names never replaced. The session's moves are one journal run (`review-...`), so
`sorter undo` takes back a session's corrections as it takes back a sort; the page's `u`
takes back the last one that page made, alone, journaled as undo does (`restore.put_back`), so
`sorter undo` afterwards does not try it again (the session's last may be another tab's, unseen).

Nothing is trusted from the page but a photo's number, a button's name and a pet's name,
which must be one plain folder name (`pet_folder_name`): paths come from the catalog, which
holds only what sorter listed.
"""

from __future__ import annotations

import errno
import itertools
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sorter.config import CLASS_FOLDERS, OTHER, REVIEW_RUN_PREFIX, name_shown
from sorter.errors import ReviewConflict, TakenBackNoMore
from sorter.review.catalog import Catalog, Photo
from sorter.review.destinations import Choice, found_names, real_folder, reserve, target_folder
from sorter.review.folder_times import FolderTimes, folder_of
from sorter.review.loading import KnownPets, load_catalog
from sorter.review.locking import BUSY_WAIT, START_WAIT, folder_lock
from sorter.review.pet_dirs import PetDirs, pets_changed
from sorter.review.pet_names import pet_folder_name

#: The label a correction is journaled with (what `sorter learn` will read).
LABELS = {"cat": "cat", "dog": "dog", "neither": OTHER}
CHANGED = "another sorter changed the folder since this page was loaded; reload the page"
#: A learnt pet's folder renamed (`loading.KnownPets`): by hand as likely as by a sorter, so neither is named.
PETS_MOVED = "the named pets' folders changed since this page was loaded; reload the page"
#: Thumbnails decoded at once (the others wait their turn).
DECODES_AT_ONCE = 2
#: Seconds a page (re)load waits for a correction in hand before it shows the folder as last listed.
REFRESH_WAIT = 1.0
STILL_LEARNING = "still learning from your corrections: correct more once it is done"
NOTHING = "nothing to take back on this page"


@dataclass(frozen=True)
class Correction:
    photo: int
    run: str
    moves: list  # journal.Move of each member moved, the photo first, as journaled (with `Move.same`)
    was: str  # the photo's path before
    choice: str | None  # its `choice` before
    #: A "not her" on a "might be" card instead of a move: (pet, the photo's identity, likeness).
    refused: tuple | None = None
    #: A move of a "might be" card (named, say): (pet, likeness), asked about again once taken back.
    might_be: tuple | None = None
    #: The folders the move made (cats/Luna/, cats/), deepest first: removed, once empty, when it is taken back.
    made: tuple[Path, ...] = ()
    number: int = 0  # the page that made it sends it back to take it back (`Session.take_back`)


@dataclass(frozen=True)
class Filed:
    """A click's answer: the photo as it is now, and the number of the correction it made, which
    the page keeps for its `u`; None where the click corrected nothing (the button shown pressed)."""

    photo: Photo
    correction: int | None


def _new_run() -> str:
    return f"{REVIEW_RUN_PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


class Session:
    """The catalog and the corrections of one `sorter review`. Thread-safe: the server
    answers requests on several threads (thumbnails decode in parallel); corrections are
    made one at a time, and the catalog is read and changed under one lock."""

    def __init__(self, root: Path) -> None:
        from sorter.files.folder import HeldFolder, check_folder
        from sorter.files.recovery import recover

        self.root = check_folder(root, filing=True, command="review", writing=True)
        self._held = HeldFolder(self.root)
        self._pets = KnownPets(self.root)  # asked at each reload and Name…, found again only when changed
        with self._locked(START_WAIT):  # settle a crashed sort first, as every command does
            state = recover(self.root).state
            self._dirs = PetDirs(self.root)  # the folders in cats/ and dogs/ as listed: one renamed by hand since
            self.catalog: Catalog = load_catalog(self.root, state, self._pets.now())
            self._seen = self._journal_stamp()
        self._times = FolderTimes(self.root, self.catalog.folders)  # a file moved in or out by hand
        self._others = False  # appended beside us (`_beside`), a photo gone or replaced since: a reload lists them
        self.lock = threading.Lock()  # the catalog
        self._moving = threading.Lock()  # one correction at a time: our own flock would refuse a second
        self._learning = threading.Lock()
        # A browser asks for 6 thumbnails at once; six decodes of photos near the pixel limit held
        # 1.7 GB (380 MB each). Two at a time keep the cores busy and the memory bounded.
        self._decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)
        self._journal = None
        self._run = _new_run()  # its moves' journal run, and what its "not her" answers say they came from
        self._corrections: list[Correction] = []
        self._numbers = itertools.count(1)  # never reused, as a page keeps its numbers across reloads

    def _locked(self, wait: float = BUSY_WAIT):
        """The folder's lock, once it is known to be the folder this review began on: one moved,
        deleted or unmounted (an empty mount point in its place) is never written to."""
        if not self._held.here():
            raise ReviewConflict(f"{name_shown(str(self.root))} is gone (moved, deleted or unmounted); nothing was changed: "
                                 "run sorter review where it is now")
        return folder_lock(self.root, wait)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self._held.close()

    # ---------------------------------------------------------------- reading

    def photo(self, photo_id: int) -> Photo | None:
        with self.lock:
            return self.catalog.photos[photo_id] if 0 <= photo_id < len(self.catalog.photos) else None

    def where(self, photo_id: int) -> str | None:
        """Where the photo is now, relative to the folder (read under the lock, served without it)."""
        photo = self.photo(photo_id)
        return None if photo is None else photo.path

    # ---------------------------------------------------------------- correcting

    def _journal_stamp(self) -> tuple:
        """Changes when anyone writes the journal (moves, and what a sort said of the photos it
        left in place)."""
        from sorter.files.journal import journal_path

        try:
            info = os.stat(journal_path(self.root))
        except FileNotFoundError:
            return ()
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def _check_unchanged(self, *paths: str) -> None:
        """Under the lock, before moving the photo at `paths`: if another sorter wrote the journal since we
        listed the folder (a sort, a watch, an undo), what the page shows may be wrong, and a
        crashed sort may have left moves to settle: refuse, and let the page's reload list it
        again (`refresh`, which settles the journal first as every command does). Our own
        writes do not count, so a correction never reads a 100,000-move journal; nor do a
        watcher's batches beside us (`_beside`)."""
        stamp = self._journal_stamp()
        if stamp == self._seen:
            return
        if not self._beside(stamp, paths):
            raise ReviewConflict(CHANGED)
        self._seen, self._others = stamp, True

    def _beside(self, stamp: tuple, paths: tuple[str, ...]) -> bool:
        """Only records appended since, each move among them settled and none about these
        paths: a watcher sorting new arrivals between two clicks (`files.tail`)."""
        from sorter.files.tail import appended

        if not stamp or not self._seen or stamp[0] != self._seen[0] or stamp[1] <= self._seen[1]:
            return False
        settled, named = appended(self.root, self._seen[1], stamp[1])
        return settled and named.isdisjoint(paths)

    def _still_there(self, photo: Photo) -> os.stat_result:
        """Under the folder's lock, before any click on `photo` (a move, "Not Luna", or the button
        it shows pressed, which would otherwise answer "it is in dogs/"): the folder as the page
        shows it (`_check_unchanged`), and the file listed still at its path, not moved away by
        hand, deleted, or another file put at its name. Its `lstat`."""
        from sorter.files.identities import lstat_of

        self._check_unchanged(photo.path)
        st = lstat_of(self.root / photo.path)
        if not self.catalog.is_listed(photo, st, self.root / photo.path):
            self._others = True
            raise ReviewConflict(f"{name_shown(photo.path)} is no longer there; reload the page")
        return st

    def _hands_off(self, folders: set[str]) -> None:
        """Before a click moves a file in or out of `folders`: one changed since (`FolderTimes`), a
        file moved in or out by hand, and the reload lists the folder again, though the click
        changes their times too (its own change, taken as their time after it)."""
        if self._times.changed(folders):
            self._others = True

    def _session_journal(self):
        from sorter.files.journal_writer import Journal

        if self._journal is not None and not self._journal.is_current():
            self._journal.close()  # `sorter undo` removed .sorter/ meanwhile: a new run in a new journal
            self._journal = None
            self._run = _new_run()
        if self._journal is None:
            self._journal = Journal(self.root, run=self._run)
        return self._journal

    def refresh(self) -> None:
        """List the folder again if another sorter changed it since (a sort, a watch, an
        undo wrote the journal or the record of photos left in place): the page is being
        (re)loaded. The photos get new numbers, so corrections made before can no longer be
        taken back with `u` (`sorter undo` still can). Raises FolderLocked while a sort runs."""
        from sorter.files.recovery import recover

        # Learning holds the corrections for half a minute: a page (re)loaded meanwhile shows
        # the folder as last listed (learning changes nothing in it), not a blank page.
        if not self._moving.acquire(timeout=REFRESH_WAIT):
            return
        try:
            here = self._pets.now()  # once a reload: what the check found, the catalog is listed with
            if (self._journal_stamp() == self._seen and not self._others and here == self.catalog.here
                    and self._times.same(self.catalog.folders) and self._dirs.same()):
                return
            with self._locked():
                self._dirs = PetDirs(self.root)
                catalog = load_catalog(self.root, recover(self.root).state, here)
                self._seen, self._others = self._journal_stamp(), False
                self._times = FolderTimes(self.root, catalog.folders)
            with self.lock:
                self.catalog = catalog
                self._corrections.clear()
        finally:
            self._moving.release()

    @property
    def learning(self) -> bool:
        """`learn` is running (from this page or another tab): corrections wait for it."""
        return self._learning.locked()

    def correct(self, photo_id: int, choice: Choice, generation: str, pet: object = None, at: str | None = None) -> Filed:
        """File the photo (with its companions) as `choice`, journaled: the photo as it is now, and
        the correction's number.
        `pet`: a named pet's name as the page sent it (cat or dog only): into that pet's folder,
        made if new (journaled, so undo removes it). `generation`: the catalog the page's
        numbers are from. `at`: where the page showed the photo; another tab of this review that
        filed it since moved it from there, and a click on the old card would undo that tab's
        correction unseen (or say "it is in dogs/" of a photo now in cats/). Raises FolderLocked
        (busy) or ReviewConflict, also for a name that is no folder's."""
        from sorter.files.filing import file_groups
        from sorter.files.identities import lstat_of
        from sorter.review.posters import companions

        if self.learning:  # another tab's click, say: it would wait, then land after what learn read
            raise ReviewConflict(STILL_LEARNING)
        with self._moving:
            if generation != self.catalog.generation:
                raise ReviewConflict(CHANGED)
            photo = self.photo(photo_id)
            if photo is None:
                raise ReviewConflict(f"no photo number {photo_id}")
            if at is not None and at != photo.path:  # filed from another tab since: every button, not only the pressed one
                raise ReviewConflict(f"{name_shown(at)} is no longer there; reload the page")
            if pet is not None:
                if choice == "neither":
                    raise ReviewConflict("only a cat or a dog is a named pet")
                if self._pets.now() != self.catalog.here:  # cats/Luna renamed: the reload offers Lulu
                    raise ReviewConflict(PETS_MOVED)
                try:
                    typed = pet_folder_name(pet, self.catalog.pets[choice], CLASS_FOLDERS[choice])
                    pet = self.catalog.pet_named(choice, typed)
                except ValueError as exc:
                    raise ReviewConflict(str(exc)) from None
            target = target_folder(self.root, photo, choice, pet)
            if target is None and photo.might_be is not None and pet is None:
                return self._refuse(photo)  # "Not Luna" (the button of where it is already)
            with self._locked():
                self._still_there(photo)
                if pet is not None and self._dirs.changed(CLASS_FOLDERS[choice]):  # cats/Luna renamed by hand
                    self._others = True
                    raise ReviewConflict(pets_changed(CLASS_FOLDERS[choice]))
                if target is None:  # the button it shows pressed: nothing to move, once it is still there
                    return Filed(photo, None)
                folder = os.path.relpath(target, self.root)
                made = tuple(f for f in (target, target.parent) if f != self.root and not os.path.lexists(f))
                # Its folder and the one it files into, the folder above it, and the folder each
                # folder it makes is made in (naming Rex where there is no dogs/ yet makes dogs/ in
                # the top): their times change by this click, not by hand.
                touched = {folder_of(photo.path), folder, folder_of(folder),
                           *(folder_of(os.path.relpath(f, self.root)) for f in made)}
                self._hands_off(touched)
                if pet is not None and os.path.lexists(target) and not real_folder(self.root, folder):
                    raise ReviewConflict(f"{name_shown(folder)} is not a folder")  # a file, or a link to elsewhere
                source = self.root / photo.path
                members = [source, *companions(self.root, photo)]
                names = reserve(target, found_names(photo, members) if choice == "neither" else [m.name for m in members])
                journal = self._session_journal()
                try:
                    [filed] = file_groups(
                        self.root, journal, [[(m, target / n) for m, n in zip(members, names, strict=True)]],
                        reserve, [(LABELS[choice], None)],
                    )
                except OSError:
                    # A full disk cut our own journal write short: not another sorter's change,
                    # so the next click is not told to reload for it; a move made but not yet
                    # marked done is settled when the page is loaded again (`refresh`).
                    self._others = True
                    raise
                finally:
                    self._seen = self._journal_stamp()
                    self.catalog.folders.add(folder)
                    self._times.touch(touched, self.catalog.folders)
                    if made:
                        self._dirs.touch()
                now = lstat_of(self.root / filed.moves[0].dst) if filed.moves else None
            if filed.failure is not None:
                raise ReviewConflict(f"{name_shown(photo.path)}: {filed.failure[1]}")
            # As journaled, with what each file was before (as a sort's): `u` follows one moved on since by it.
            moves = list(filed.moves)
            with self.lock:
                asked = None if photo.might_be is None else (photo.might_be, photo.likeness)
                number = next(self._numbers)
                self._corrections.append(Correction(photo.id, journal.run, moves, photo.path, photo.choice, might_be=asked,
                                                    made=made, number=number))
                self.catalog.move(photo, moves[0].dst, LABELS[choice], now)
                photo.moved_with = frozenset(m.dst for m in moves[1:])
                if pet is not None:
                    self.catalog.pets[choice].add(pet)
            return Filed(photo, number)

    def _refuse(self, photo: Photo) -> Filed:
        """"Not Luna" on a photo that might be Luna (its own place's button): it is not her. Noted in the folder's
        suggestions (never suggested for her again) under the folder's lock; nothing moves."""
        from sorter.files.identities import identity_of

        if self._pets.now() != self.catalog.here:  # cats/Luna renamed since the page: it names her old folder
            raise ReviewConflict(PETS_MOVED)
        with self._locked():
            identity = identity_of(self._still_there(photo))
            refused = (photo.might_be, identity, photo.likeness)
            self._note(lambda noted: noted.refuse(photo.might_be, identity, photo.path, photo.likeness, self._run))
        with self.lock:
            number = next(self._numbers)
            self._corrections.append(Correction(photo.id, "", [], photo.path, photo.choice, refused, number=number))
            self.catalog.suggest(photo, None)
        return Filed(photo, number)

    def _note(self, change: Callable) -> None:
        """The folder's suggestions (`files.suggestions`) read, changed and written; the caller
        holds the folder's lock."""
        from sorter.files import suggestions

        noted = suggestions.read(self.root)
        if self.catalog.here is not None:  # the page's "might be" groups are under her folder as it is now
            noted.follow(self.catalog.here)
        change(noted)
        try:
            suggestions.write(self.root, noted)
        except OSError as exc:
            raise ReviewConflict(f"could not note it: {exc.strerror or exc}") from None

    def _mine(self, number: int | None, at: str | None, generation: str | None) -> Correction:
        """The correction `number`, which the page asking made, as long as the photo is where the
        page shows it (`at`) and that correction put it, and no tab corrected it since: else `u`
        would take back another tab's correction unseen, or put the photo back from where that
        tab filed it. Under `_moving`."""
        if number is None:  # a page that made none: another tab's or an earlier browser's is not its to take back
            raise ReviewConflict(NOTHING)
        if generation != self.catalog.generation:
            raise ReviewConflict(CHANGED)
        at_index = next((i for i, c in enumerate(self._corrections) if c.number == number), None)
        if at_index is None:  # taken back, or kept where it is, already
            raise TakenBackNoMore(NOTHING)
        mine = self._corrections[at_index]
        photo = self.catalog.photos[mine.photo]
        put = mine.moves[0].dst if mine.moves else mine.was
        if at != photo.path or photo.path != put or any(c.photo == mine.photo for c in self._corrections[at_index + 1:]):
            raise TakenBackNoMore(f"cannot take back {name_shown(os.path.basename(photo.path))}: another page "
                                  "corrected it since; reload the page")
        return mine

    def take_back(self, number: int | None, at: str | None = None, generation: str | None = None) -> tuple[Photo, list[str]]:
        """Put back the correction `number`, the last one the asking page made (`_mine`), journaled
        as `sorter undo` does: the photo, and where it was found moved on since, as undo says it.
        `at`: where the page shows the photo; `generation`: the catalog its numbers are from.
        Raises FolderLocked or ReviewConflict."""
        from sorter.files.identities import lstat_of
        from sorter.files.putting_back import put_back

        with self._moving:
            last = self._mine(number, at, generation)
            if last.refused is not None:  # a "not her": she is asked about again
                pet, identity, likeness = last.refused
                with self._locked():
                    self._note(lambda noted: noted.unrefuse(pet, last.was, identity, likeness))
                with self.lock:
                    self._corrections.remove(last)
                    photo = self.catalog.photos[last.photo]
                    self.catalog.suggest(photo, pet, likeness)
                return photo, []
            with self._locked():
                self._check_unchanged(self.catalog.photos[last.photo].path, last.was)
                journal = self._journal
                if journal is None or not journal.is_current() or journal.run != last.run:
                    self._corrections.clear()
                    raise ReviewConflict("this review's journal is gone (sorter undo?); reload the page")
                touched = {folder_of(path) for m in last.moves for path in (m.src, m.dst)}
                touched |= {os.path.relpath(f, self.root) for made in last.made for f in (made, made.parent)}
                self._hands_off(touched)
                found, kept = put_back(self.root, journal, [last.moves])
                now = lstat_of(self.root / last.was)
                for folder in () if kept else last.made:  # a pet named by mistake ("Lnua") is gone with it
                    try:
                        folder.rmdir()
                    except OSError:
                        break  # not empty (or not ours to remove): nor is the one above
                if last.made:
                    self._dirs.touch()
                self._seen = self._journal_stamp()
                self._times.touch(touched, self.catalog.folders)
            if kept:
                self._corrections.remove(last)  # it stays where it is: the page's next `u` is about the one before
                raise TakenBackNoMore(f"cannot take it back: {kept[0]}")
            with self.lock:
                self._corrections.remove(last)
                photo = self.catalog.photos[last.photo]
                self.catalog.move(photo, last.was, last.choice, now)
                photo.moved_with = frozenset(m.src for m in last.moves[1:])  # back with it, to where they were
                self.catalog.unmade(last.made)
                if last.might_be is not None:  # named from "Might be Luna", taken back: asked about again
                    self.catalog.suggest(photo, *last.might_be)
            return photo, found

    # ---------------------------------------------------------------- learning

    def learn(self, model: Path | None):
        """`sorter learn` on the folder: a `learning.LearnResult`. One at a time (a second is
        a ReviewConflict), and no correction meanwhile: learning reads the journal and the
        folder, which a correction half made would show half done. It changes nothing in the
        folder, so it takes no folder lock, as `sorter learn` takes none; clicks wait for it."""
        from sorter.learning import learn as learning

        if not self._learning.acquire(blocking=False):
            raise ReviewConflict("already learning from your corrections")
        try:
            with self._moving:
                return learning.learn(self.root, model=model)
        finally:
            self._learning.release()

    # ---------------------------------------------------------------- for the page

    def card(self, photo: Photo) -> dict:
        """A photo (or a video) as the page draws it (`cards.card`)."""
        from sorter.review.cards import card

        return card(self.root, self.catalog, photo)

    def thumbnail(self, photo_id: int, size: int, quality: int) -> bytes | None:
        """A JPEG of the photo, its longer side `size` (cut around its pet where sorter noted
        one, `framing.around_pet`; a video's poster, `posters.picture`); None when it cannot be
        decoded. Read through folders opened one name at a time without following a link, the
        file itself with O_NOFOLLOW (a link put in its place since the listing is never followed)
        and O_NONBLOCK (nor a FIFO waited on); then the descriptor's own identity (fstat) is the
        one checked against the listing, and the picture is read from it: a file renamed over the
        photo between a check by name and an open by name was shown as the photo's."""
        import cv2

        from sorter.files.moves import open_folder_beneath
        from sorter.media.decoder_output import quietly
        from sorter.review.posters import picture

        photo = self.photo(photo_id)
        if photo is None:
            return None
        folder, name = os.path.split(photo.path)
        try:
            fd = open_folder_beneath(self.root, self.root / folder)
        except OSError:
            return None
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            opened = os.open(name, flags, dir_fd=fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a link put at its name since: a reload lists it
                self._others = True
            return None
        finally:
            os.close(fd)
        try:
            if not self.catalog.is_listed(photo, os.fstat(opened), opened):
                self._others = True  # another file put at its name since: never shown as this card
                return None
            # A pet small in its photo is shown cut around it, as on the review page.
            with self._decoding:  # what libjpeg prints of a damaged photo stays off the terminal
                image = quietly(lambda: picture(Path(name), photo.box, size, opened, photo.video))
        except Exception:  # ImageError, and a decoder bug costs one thumbnail (see review._thumbnail)
            return None
        finally:
            os.close(opened)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        return data.tobytes() if ok else None
