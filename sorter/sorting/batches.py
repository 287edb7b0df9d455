"""A batch of photos sorted: the `Sorter` classifies them through one loaded classifier, plans
where each goes and files it with its companions, journaled, each only while it is the file
that was judged; it notes what it decided of every photo ("seen") and joins the companions that
came after their photo. `sort_folder` runs it once over a folder; `watch` keeps one for every
batch that arrives. None of it prints: results are yielded as `FileResult`s. Heavy modules are
imported inside the methods that need them, so `--help` never loads them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from sorter.config import CLASS_FOLDERS
from sorter.files.moves import Judged, judged_as
from sorter.files.put_backs import PutBacks, put_back_reason
from sorter.sorting.alone import LeftAlone, apart_from_photos, judged
from sorter.sorting.pet_homes import at_home, pets_of
from sorter.sorting.results import FileResult
from sorter.wording import at_most


def _names_in(folder: Path):
    """The names in `folder`, streamed (a million-file cats/ is never listed into memory)."""

    try:
        with os.scandir(folder) as listing:
            for entry in listing:
                yield entry.name
    except (FileNotFoundError, NotADirectoryError):
        return


def _joins(photo) -> str:
    """Why a late companion joins `photo` (`latecomers.Filed`)."""
    return f"companion of {photo.destination.name}, which went there before"


class Sorter:
    """Sorts files of one folder through one loaded classifier. Used by `sort_folder` once
    and by the watcher for every batch that arrives; the caller holds the folder lock."""

    def __init__(
        self, root: Path, classifier, *, min_confidence: float = 0.0, dry_run: bool = False,
        thumbnails: int | None = None, looks: bool = False, left_alone: LeftAlone | None = None,
        on_journal: Callable[[str], None] | None = None, ends: bool = False,
    ) -> None:
        self.root = root
        #: A sort's: its run ends with an "end" record as it is closed (`Journal.end`), a watch's
        #: batches are listed in `.sorter/watching` instead.
        self.ends = ends
        #: Told each journal run as it is opened, before its first intent is written: a watch lists
        #: it in `.sorter/watching` then, so one killed during its first move is known to the next.
        self.on_journal = on_journal
        #: The watcher's: its planner asks the disk for names it does not know (`Planner.looks`).
        self.looks = looks
        self.classifier = classifier
        self.min_confidence = min_confidence
        self.dry_run = dry_run
        #: Each photo's thumbnail from its own decode, for the review page (`FileResult.thumbnail`).
        self.thumbnails = thumbnails
        self._journal = None
        self._planner = None
        self._lookups = None  # threads for the companions lookup, past 2 cores (`_companions`)
        #: Where the named pets' photos go (`pet_folders`), as the caller set it for a sort or a batch,
        #: and with the pets looked for as their photos came (`sort_entries`).
        self.here = None
        #: Across a watch's batches: no later photo takes such a video along. A sort's, as its count found them.
        self.left_alone = LeftAlone() if left_alone is None else left_alone

    def close(self, said: bool = True) -> None:
        """`said`: a sort's run ended with its undo line said (`sort_folder`); else its caller says
        it, then writes its "end" (`recovery.said`)."""
        if self._journal is not None:
            try:
                if self.ends and said:  # a run with no end said no undo line (killed)
                    self._journal.end()
            except OSError:  # a full disk: its note removed says it (`journal.unsaid_path`)
                pass
            finally:
                self._journal.close()
            self._journal = None
        if self._lookups is not None:
            self._lookups.shutdown()
            self._lookups = None
        self._planner = None  # the folder may have changed under us (emptied, say): list it again

    def replan(self) -> None:
        """After a batch stopped part way (a full disk, a folder made read-only): the names it
        had planned are free again, and the folders are listed afresh for the next batch."""
        self._planner = None

    @property
    def run(self) -> str | None:
        """The run its moves are journaled under (a new one after `close`); None before the first."""
        return None if self._journal is None else self._journal.run

    def journal(self):
        from sorter.files.journal_writer import Journal

        if self._journal is None:
            self._journal = Journal(self.root, ends=self.ends)
            if self.on_journal is not None:
                self.on_journal(self._journal.run)
        return self._journal

    def _companions(self, predictions) -> list[tuple[Path, ...]]:
        """Each photo's companions, looked up now. On more than 2 cores, on threads (the
        Sorter's, kept for its life: the watcher sorts many small batches): a lookup is some 30
        `lstat` calls that wait on the filesystem without the GIL, and on 16 cores of a VM they
        took 0.83 ms a photo, most of the main thread's time, which sets the pace there. On 2
        cores the network does, and threads cost a little (the main thread's time a photo
        0.33 -> 0.21 ms, the sort 2-5 % slower)."""
        from concurrent.futures import ThreadPoolExecutor

        from sorter.config import cpu_cores
        from sorter.errors import VANISHED
        from sorter.files.companions import find_companions

        def lookup(prediction) -> tuple[Path, ...]:
            # An unreadable photo's too: they stay with it, said so, as a photo left as neither's do.
            return find_companions(prediction.path) if prediction.error != VANISHED else ()

        if self._lookups is None and cpu_cores() > 2:
            self._lookups = ThreadPoolExecutor(max_workers=cpu_cores(), thread_name_prefix="companions")
        return list(self._lookups.map(lookup, predictions) if self._lookups is not None else map(lookup, predictions))

    def pet_folders(self):
        """Where the named pets' photos go in this folder now (`files.pet_folders`: a pet's folder
        renamed since she was learnt here, or gone), found for each batch: a watcher's user renames
        folders while it runs. Changes nothing: the caller sets `here` to what the sort or batch
        goes on with. A pet learnt elsewhere is looked for by her photos as hers come (`sort_entries`)."""
        from sorter.files import pet_folders, suggestions
        from sorter.model.personal_classifier import named_pets
        from sorter.model.pet_homes import homes_of

        pets = suggestions.pet_folders(named_pets(self.classifier))
        return pet_folders.find(self.root, pets, homes_of(self.classifier) if pets else ())

    def planner(self):
        """One planner for the Sorter's life: the watcher does not list cats/ and dogs/
        again for every batch. Names taken behind its back are still safe: the move is
        no-replace, and a collision re-plans (see `_apply`)."""
        from sorter.files.planning import Planner

        if self._planner is None:
            existing = {folder: _names_in(self.root / folder) for folder in CLASS_FOLDERS.values()}
            self._planner = Planner(self.root, existing, self.min_confidence, lambda folder: _names_in(self.root / folder),
                                    on_disk=not self.dry_run, looks=self.looks)
        return self._planner

    def sort_entries(self, entries, batch_size: int | None = None, within: str | None = None,
                     refile: Callable[[Path], bool] | None = None, looked: Mapping[Path, os.stat_result] | None = None,
                     back: PutBacks | None = None):
        """Classify, plan and move image paths batch by batch as `entries` yields them;
        yield one FileResult per entry. Memory does not grow with the number of entries.
        Entries the scan skipped (`folders.Skipped`) are reported as such as they come.
        `within`: the entries are already in that species' folder (`sort --name-pets`): only
        a photo recognised as one of its named pets moves, into the pet's folder; every other
        stays, "kept", and is not journaled as seen (sorter decided nothing about it).
        `refile(path)`: that photo may go to a named pet of the other kind too (`named_again`).
        `looked`: what the caller's `lstat` said of entries as it handed them over (the watcher's,
        complete): each is judged as that file, not looked at again. `back`: photos put back where
        sorter found them (`put_backs.put_back`), skipped: the user's word is not judged again."""
        from collections import deque

        from sorter.config import DEFAULT_BATCH_SIZE
        from sorter.files.companions import find_companions
        from sorter.files.planning import Decision
        from sorter.media.container import said_a_video
        from sorter.media.folders import Skipped, is_video_name
        from sorter.model.inference import FIRST_LOOK_CONFIDENCE, SureEnough, classify
        from sorter.sorting.named_again import kept_reason

        batch_size = batch_size or DEFAULT_BATCH_SIZE
        skipped: deque[Skipped] = deque()

        # Each photo as it was when it went to be judged, before it was read: one replaced or
        # written to before its move stays put (`moves.move_no_replace`).
        identities: dict[Path, Judged] = {}
        looked = looked or {}

        def photos():
            for entry in judged(entries, self.left_alone):
                if isinstance(entry, Skipped):
                    skipped.append(entry)
                    continue
                try:
                    st = looked[entry] if entry in looked else os.lstat(entry)
                except OSError:
                    st = None  # gone, or not to be looked at: the decode says which
                if back is not None and (was := back.was(entry, st)) is not None:
                    skipped.append(Skipped(entry, put_back_reason(was)))
                    continue
                if st is not None:
                    identities[entry] = judged_as(st)
                yield entry

        def reported():
            while skipped:
                entry = skipped.popleft()
                yield FileResult(entry.path, "skipped", reason=entry.reason,
                                 found_kind="folder" if entry.folder else None)

        def boxes(chunk) -> dict[Path, tuple]:
            """Where the pet is in each of the chunk's photos that has one, for its "seen" record."""
            return {d.source: extras[d.source]["pet_box"] for d in chunk if "pet_box" in extras.get(d.source, ())}

        def with_warnings(results):
            for result in results:
                extra = extras.pop(result.path, None)
                yield replace(result, **extra) if extra else result

        planner = self.planner()
        # As the caller last looked (a sort once a run, a watch once a batch, before it says where
        # they go): the photos go where that said, and the folder is not looked at twice.
        here = self.here if self.here is not None else self.pet_folders()

        def planned(predictions) -> list:
            """The chunk's decisions, its companions looked up right before it moves, so they
            are the companions of this moment."""
            if within is not None:
                return [named_or_kept(p) for p in predictions]
            return [planner.decide(p.path, p.label, p.confidence, p.error, unjudged(p.path, companions), p.pet,
                                   p.looks_like)
                    for p, companions in zip(predictions, self._companions(predictions), strict=True)]

        def unjudged(photo: Path, companions: tuple[Path, ...]) -> tuple[Path, ...]:
            """Less a video gone to be judged on its own (`identities`), of two photos' stem when
            reached: the second took it along once the first had moved (a dog video into cats/);
            less one judged so and left in place by an earlier call, or put back (`alone.LeftAlone`); and less
            all by the stem beside a photo named .MOV, and a .MOV that is no MP4 (`alone.apart_from_photos`)."""
            companions = apart_from_photos(photo, companions, self.left_alone.inside)
            return tuple(c for c in companions if c not in identities and not self.left_alone.keeps(c))

        def named_or_kept(p):
            if p.pet and (p.label == within or (refile is not None and refile(p.path))):
                d = planner.decide(p.path, p.label, p.confidence, p.error, unjudged(p.path, find_companions(p.path)),
                                     p.pet)
                if d.status == "move":  # not below --min-confidence
                    return d
            return Decision(p.path, "kept", p.label, p.confidence, reason=kept_reason(within))

        chunk = []
        # Of this chunk's files, what planning has no use for: warnings, a video's frames.
        extras: dict[Path, dict] = {}
        # A thumbnail settles a cat or a dog only when it is sure of it by --min-confidence too:
        # a photo near the user's threshold is looked at whole, as it always was.
        first_look = SureEnough(pet=max(FIRST_LOOK_CONFIDENCE, self.min_confidence))
        # batch_size is how many moves share a journal's fsync; the network takes its own batches.
        for prediction in classify(self.classifier, photos(), thumbnails=self.thumbnails, first_look=first_look):
            yield from reported()
            # A pet learnt elsewhere is looked for here once a photo of hers comes, once a run or batch.
            here = self.here = here.looked_for(pets_of(prediction))
            prediction = at_home(prediction, here)
            extra = {"warnings": prediction.warnings} if prediction.warnings else {}
            if prediction.video is not None:
                extra["frames"] = prediction.video.frames
            elif prediction.error is not None and is_video_name(prediction.path.name) and (
                    self.left_alone.photo_inside(prediction.path)):
                # A HEIC photo named .MOV, which the decode refused as one: a photo in the counts
                # and --json, as the review page has it. A few small reads, for unreadable videos only.
                extra["found_kind"] = "photo"
            elif prediction.error is not None and said_a_video(prediction.error):
                extra["found_kind"] = "video"  # a video named .heic: counted among the videos, as it is one
            if prediction.thumbnail is not None:
                extra["thumbnail"] = prediction.thumbnail
            if prediction.pet_box is not None:
                extra["pet_box"] = prediction.pet_box
            if prediction.nearly is not None:
                extra["nearly"] = prediction.nearly
            if extra:
                extras[prediction.path] = extra
            chunk.append(prediction)
            if len(chunk) >= batch_size:
                decisions = planned(chunk)
                yield from with_warnings(self._apply(decisions, planner, boxes(decisions), identities))
                chunk = []
        decisions = planned(chunk)
        yield from with_warnings(self._apply(decisions, planner, boxes(decisions), identities))
        yield from reported()

    def join(self, late) -> Iterator[FileResult]:
        """Move companions that arrived after their photo (`latecomers`) to it: (path, the
        photo's `Filed`, destination) each, journaled as a one-file group of this run. Each
        result as `_apply` yields it, those moved before a journal that would not mark them.
        A dry run says where each would go ("to join"). One whose name there is taken (a
        stranger of that name in cats/, a copy that joined before) is left where it is
        ("skipped", `_cannot_join`): under another name (`IMG_1 (1).MOV`) it would pair with no
        photo, and the photo with the stranger, which a review's correction then moved along."""
        free = []
        for path, photo, destination in late:
            if os.path.lexists(destination):
                yield self._cannot_join(path, photo, destination)
            else:
                free.append((path, photo, destination))
        if not free or self.dry_run:
            yield from (FileResult(path, "to join", photo.label, photo.confidence, destination, _joins(photo))
                        for path, photo, destination in free)
            return
        photos = {path: photo for path, photo, _ in free}
        filed, unmarked = self._file(self.planner(), [[(path, destination)] for path, _, destination in free],
                                     [(photo.label, photo.confidence) for _, photo, _ in free],
                                     taken=lambda pairs: ("skipped", self._cannot_join(
                                         pairs[0][0], photos[pairs[0][0]], pairs[0][1]).reason))
        for (path, photo, _), outcome in zip(free, filed, strict=True):
            if outcome.failure is not None:
                yield FileResult(path, outcome.failure[0], reason=outcome.failure[1],
                                 found_kind="companion" if outcome.failure[0] == "skipped" else None)
            else:
                yield FileResult(path, "joined", photo.label, photo.confidence, outcome.members[0][1], _joins(photo))
        if unmarked is not None:
            raise unmarked

    def _cannot_join(self, path: Path, photo, destination: Path) -> FileResult:
        """`path` left where it is: another file holds `destination`, the one name that pairs it with `photo`."""
        return FileResult(path, "skipped", found_kind="companion", reason=(
            f"cannot join its photo: another file is at {os.path.relpath(destination, self.root)}, the name that "
            f"pairs it with {os.path.relpath(photo.destination, self.root)}; left where it is"))

    def _note_seen(self, decisions, results: dict[Path, FileResult], first_seq: dict[Path, int],
                   boxes: dict[Path, tuple], judged: dict[Path, Judged | None]) -> None:
        """One "seen" record per photo sorter decided about (moved, or left in place and why),
        with its identity where it now is: what `sorter learn` compares the folder with later,
        and what the review server shows of a photo left in place, or where the pet is in a
        photo it moved (its thumbnail is cut around it). A batch costs one more write and
        fsync; a photo that cannot be stat'ed (gone meanwhile) is not recorded. A moved photo's
        result gets that identity too (`FileResult.same`), the write done or not."""
        from sorter.files.identities import same_file
        from sorter.files.verdicts import LEFT
        from sorter.sorting.left_before import judge_of, mark

        records, judge = [], judge_of(self.classifier, self.min_confidence)  # for a watch started again
        for d in decisions:
            result = results.get(d.source)
            if result is None and d.status not in LEFT:
                continue  # planned moves of a dry run never get here; "skipped" has no file to judge
            where = result.destination if result is not None and result.status == "moved" else d.source
            try:
                st = os.lstat(where)
            except OSError:
                continue
            if where != d.source:
                results[d.source] = replace(result, same=same_file(st))
            status = result.status if result is not None else d.status
            reason = result.reason if result is not None else d.reason
            record = {"path": os.path.relpath(where, self.root), "label": d.label, "status": status,
                      "id": [st.st_dev, st.st_ino, st.st_size], "mtime": st.st_mtime_ns,
                      "confidence": None if d.confidence is None else at_most(d.confidence), "reason": reason}
            if d.source in first_seq:
                record["seq"] = first_seq[d.source]
                if d.source in boxes:
                    record["box"] = [round(float(share), 3) for share in boxes[d.source]]
            mark(record, st, judge, judged.get(d.source))
            records.append(record)
        if records:
            self.journal().append_many("seen", records)

    def _file(self, planner, groups, labels, judged=None, taken=None):
        """`file_groups` of `groups` into this folder, names reserved by the folder's path (a named
        pet's is "cats/Luna", not "Luna"): what became of each, and the `Unmarked` raised where a
        full disk took the moves but not their marks after (they stand, and are reported), or None."""
        from sorter.files.filing import Unmarked, file_groups

        unmarked = None
        try:
            filed = file_groups(
                self.root, self.journal(), groups,
                lambda folder, names: planner.reserve(folder.relative_to(self.root).as_posix(), names),
                labels, judged, taken,
            )
        except Unmarked as exc:
            filed, unmarked = exc.filed, exc
        planner.moved()
        return filed, unmarked

    def _apply(self, decisions, planner, boxes: dict[Path, tuple], identities: dict[Path, Judged]):
        """Move a batch's photos with their companions, journaled (see `filing.file_groups`),
        each only while it is the file that was judged (`identities`, whose entries it takes)."""
        moves = [d for d in decisions if d.status == "move"]
        judged = {d.source: identities.pop(d.source, None) for d in decisions}  # taken: memory stays flat
        results: dict[Path, FileResult] = {}
        first_seq: dict[Path, int] = {}  # each moved photo's sequence number, for its "seen" record
        unrecorded = None
        if moves and not self.dry_run:
            filed, unrecorded = self._file(planner, [[(d.source, d.destination), *d.companions] for d in moves],
                                           [(d.label, d.confidence) for d in moves], [judged[d.source] for d in moves])
            for d, outcome in zip(moves, filed, strict=True):
                if outcome.failure is not None:
                    status, reason = outcome.failure
                    results[d.source] = FileResult(
                        d.source, status, d.label, d.confidence, reason=reason, companions=outcome.members[1:]
                    )
                else:
                    results[d.source] = FileResult(
                        d.source, "moved", d.label, d.confidence, outcome.members[0][1], companions=outcome.members[1:]
                    )
                    first_seq[d.source] = outcome.moves[0].seq
                    if self.looks:  # a watch's batch: the other photo of its stem comes in another
                        self.left_alone.passed_over(d.source, tuple(src for src, _ in d.companions))
        if not self.dry_run and unrecorded is None:
            try:
                self._note_seen(decisions, results, first_seq, boxes, judged)
            except OSError as exc:  # a full disk: the moves stand, and are reported before the error is
                unrecorded = exc
        for d in decisions:
            self.left_alone.note(d.source, judged[d.source], results.get(d.source, d).status != "moved")
            if d.source in results:
                yield results[d.source]
            elif d.status == "move":
                yield FileResult(d.source, "planned", d.label, d.confidence, d.destination, companions=d.companions)
            else:
                yield FileResult(d.source, d.status, d.label, d.confidence, None, d.reason, companions=d.companions)
        if unrecorded is not None:
            raise unrecorded
