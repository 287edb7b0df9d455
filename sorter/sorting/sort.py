"""The sort use-case: `sort_folder` sorts a whole folder once: the options and the folder
checked, the lock held, an interrupted run recovered, the photos counted, then sorted a batch at
a time by a `batches.Sorter` (the named pets' passes first), with the review page and the "might
be" groups written after and a `SortSummary` returned. None of it prints: results go to
callbacks and the summary. Heavy modules are imported inside the function, so `--help` never
loads them."""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import chain
from pathlib import Path

from sorter.errors import OptionError, UsageError
from sorter.files.folder import check_folder, journal_readable, output_folders, unwritable
from sorter.sorting.alone import LeftAlone, LeftInPlace, judged
from sorter.sorting.batches import Sorter
from sorter.sorting.foreseen import Foreseen
from sorter.sorting.results import FileResult, SortSummary, Tally


def sort_folder(
    root: Path,
    *,
    model: Path | None = None,
    recursive: bool = False,
    dry_run: bool = False,
    min_confidence: float = 0.0,
    classifier=None,
    on_start: Callable[[int], None] = lambda total: None,
    on_result: Callable[[FileResult], None] = lambda result: None,
    lock_wait: float = 0.0,
    personal: bool = True,
    name_pets: bool = False,
    on_checked: Callable[[], None] = lambda: None,
    on_summary: Callable[[SortSummary], None] = lambda summary: None,
    on_run: Callable[[str], None] = lambda run: None,
) -> SortSummary:
    """Sort the images of `root` into `root/cats` and `root/dogs`, streaming: the folder is
    listed, classified and moved a batch at a time, so a million files cost no more memory than
    a thousand. `on_checked`: the options, folder and lock passed their checks (a progress bar
    starts there); `on_start`: the number of entries, from a cheap first pass (names only, no
    file opened). `personal`: with the user's personal model, if any for this model. `name_pets`:
    first the photos already in cats/ and dogs/ are looked at again for the named pets
    (`named_again`), then the folder is sorted as always (so what it files is not looked at twice).
    `on_summary`: the summary, to be said (its undo line) while the folder is still held and
    before the run's "end" record is written: a sort killed before it said its undo line is one
    cut short, whose undo the next sort says (`RunState.cut_short`). Stopped part way (Ctrl-C, an
    error raised), the run is left without its "end": the caller says what it moved and how to
    undo it, then writes it (`recovery.said`) for the run `on_run` told it, as it was opened."""
    from sorter.files.identities import lstat_of
    from sorter.files.journal import scan
    from sorter.files.lock import FolderLock
    from sorter.files.put_backs import put_back
    from sorter.files.recovery import recover
    from sorter.media.folders import NotEntered, Passed, scan_folder
    from sorter.model import lite, personal_classifier
    from sorter.review.framing import FRAME_PX
    from sorter.review.page import ReviewPage
    from sorter.sorting import named_again, suggesting
    from sorter.sorting.late_companions import LateCompanions

    started = time.monotonic()
    # A dry run moves nothing out of a library, and writes nothing: it says what a sort could not do.
    if not 0.0 <= min_confidence <= 1.0:  # the options first: they are wrong whatever the folder holds
        raise OptionError(f"{min_confidence} is not a number from 0 to 1", "--min-confidence")
    if name_pets and not personal:
        raise OptionError("your named pets are in the personal model; choose one", "--name-pets", "--no-personal")
    root = check_folder(root, moving_in=not dry_run, filing=True, writing=not dry_run)
    refused = unwritable(root) if dry_run else None
    if dry_run:  # planned as a sort would plan it, with the journal (its put-backs), or not at all
        journal_readable(root, "a dry run")
    if classifier is None:
        lite.resolve_model_path(model)  # a wrong --model fails before anything else happens
    tally = Tally(root)
    not_entered = None if recursive else NotEntered()  # sub-folders left: counted as the photos are counted
    others = Passed()  # notes, PDFs, sub-folders entered: seen as the photos are counted
    # A folder without a photo is left without .sorter/; recursive, a sort of a sub-folder is refused meanwhile.
    lock = FolderLock(root, wait=lock_wait, tidy=True, recursive=recursive)
    recovered = 0
    review = None if dry_run else ReviewPage(root)  # a dry run changes nothing, .sorter/ included
    review_page = review_error = None
    if not dry_run:
        lock.acquire()  # before the (slow) model load: a second sorter is refused at once
    try:
        on_checked()
        if classifier is None:
            classifier = lite.load_classifier(model)
        classifier, set_aside = personal_classifier.personalised(classifier, model, personal)
        named = personal_classifier.named_pets(classifier) if name_pets else {}
        if name_pets and not named:
            raise UsageError("--name-pets: no named pets learnt; put 5 or more photos of a pet into cats/NAME/ or "
                             "dogs/NAME/, then run `sorter learn`")
        if review is not None:
            review.model = personal_classifier.describe(classifier, model)
        if not dry_run:
            recovered_info = recover(root)
            recovered = recovered_info.completed
        state = recovered_info.state if not dry_run else scan(root)
        left = LeftInPlace()  # read in the put-backs' pass: the journal read once
        back = put_back(root, state, reader=left)
        # A video of two photos' stem the count finds (`LateCompanions`), or one left in place on its
        # own before a photo of its stem came (`left`): judged on its own, taken by no photo.
        # And a companion put back by hand (`back`): the user's word, taken by no photo either.
        alone = LeftAlone(put_back=lambda path: back.was(path, lstat_of(path)) is not None)
        alone.judged_before(left.videos(root))
        late = LateCompanions(root, state, back, alone)  # of photos sorted before, found as the folder is counted

        def photos(also=None, passed: NotEntered | None = None, seen: Passed | None = None):
            return scan_folder(root, recursive=recursive, exclude=output_folders(), videos=True, also=also,
                               not_entered=passed, others=seen, at_work=sorter_at_work)

        where = named_again.placed(root) if named else None  # one read of the journal for both
        total = sum(1 for look in named_again.passes(root, named, where, count=True) for _ in judged(look.entries, alone))
        total += sum(1 for _ in judged(late.taking(lambda also: photos(also, not_entered, others)), alone))
        on_start(total + len(late.found))
        sorter = Sorter(root, classifier, min_confidence=min_confidence, dry_run=dry_run,
                        thumbnails=None if review is None else FRAME_PX, left_alone=alone, ends=True,
                        on_journal=on_run)
        passes = [(look.entries, look.species, look.refile, None) for look in named_again.passes(root, named, where)]
        passes.append((late.without(photos()), None, None, back))
        # What the named pets came close to, for the review server's "might be Luna" groups.
        might_be: dict[str, int] = {}
        here = sorter.pet_folders()
        noting = None if dry_run or not here.pets else suggesting.Noting(root, here)
        sorter.here = noting.looked if noting is not None else here  # the pets with a "might be" group looked for once
        # A dry run's: each photo a sort would be refused said as the sort would end it ("failed"), not "planned".
        foreseen = Foreseen(root) if dry_run and refused is None else None
        said = False  # "end" written here once `on_summary` said the run's undo line; stopped part way
        # (Ctrl-C, an error), by the caller once its own line is said (`recovery.said`). Killed
        # before either, the run is one cut short, whose undo the next sort says for it.
        try:
            streams = []
            try:
                streams.append(sorter.join(late.late()))  # before the passes: a named pet's photo takes its companions on
                streams += [sorter.sort_entries(entries, within=within, refile=refile, back=put_backs)
                            for entries, within, refile, put_backs in passes]
                for result in chain.from_iterable(streams):
                    if foreseen is not None:
                        result = foreseen.of(result)
                    tally.add(result)
                    if review is not None:
                        review.add(result)
                    if noting is not None:
                        noting.add(result, sorter.here)
                    on_result(result)
            finally:
                # Stopped part way (Ctrl-C, an error): the decoding's pool and its `captured()`
                # block end now. Left to the garbage collector (the exception's traceback keeps
                # this list), fd 2 stayed on the capture until it ran, and the pool decoded on.
                for stream in streams:
                    stream.close()
                if noting is not None:
                    try:
                        might_be = noting.write()
                    except OSError as exc:
                        review_error = suggesting.not_noted(exc)
            if review is not None and review.count:
                if noting is not None:
                    review.ask(noting.standing())
                try:  # the photos are sorted and journaled by now: a page that cannot be written is no failure
                    review_page = review.write()
                except OSError as exc:
                    review_error = f"could not write the review page: {exc.strerror or exc}"
            summary = SortSummary(
                root, dry_run, tally.counts, tally.moved_to, recovered, time.monotonic() - started,
                companions=tally.companions, companions_left=tally.companions_left, reasons=tally.reasons,
                review_page=review_page,
                review_error=review_error, model=personal_classifier.describe(classifier, model), videos=tally.videos,
                might_be=might_be, pet_folders=sorter.here, not_entered=not_entered, unwritable=refused,
                refused_into=foreseen.lines() if foreseen is not None else (),
                folders_skipped=tally.folders, personal_set_aside=set_aside, other_files=others.others,
                entered_none=recursive and bool(tally.folders) and not tally.counts and not others.entered,
                run=sorter.run,
            )
            # Said while the folder is held, before "end": the review page and the summary took
            # 20-60 ms, and a sort killed in them had written "end" and said no undo line.
            on_summary(summary)
            said = True
        finally:
            sorter.close(said=said)
    finally:
        lock.release()
    return summary


def sorter_at_work(folder: Path) -> str | None:
    """Why a recursive sort's walk passes by the sub-folder `folder`: a sort or watch of its own at
    work on it (`watching_note.at_work_on`), or None. Our lock, marked recursive, is held before the
    walk, and theirs before they look above (`lock.above_at_work`): a sort of the sub-folder started
    meanwhile is refused, one at work already is passed by, so the two never judge the same photos."""
    from sorter.files.watching_note import at_work_on

    found = at_work_on(folder)
    return None if found is None else f"another sorter (pid {found[0]}) is at work on it"
