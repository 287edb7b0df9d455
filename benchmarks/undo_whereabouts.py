"""What does `sorter undo` pay to find a photo moved on since sorter put it (`files.whereabouts`)?

    python benchmarks/undo_whereabouts.py                   # 100,000 photos (about 2 min on 2 cores)
    python benchmarks/undo_whereabouts.py --photos 10000    # a quick look

Builds, in a temporary folder, N small files filed into cats/ and dogs/ as a sort files them
(journaled by `filing.file_groups`, each move with its file's identity), and beside them
--own files (as many as --photos unless given) in a folder of the user's own (archive/, which a
sort never touched). Then times:

- the listing undo makes at the first photo it misses, one deleted: cats/, dogs/ and the top of
  the folder, then, the photo not found there, the rest of the folder (archive/ too), and its
  peak memory (tracemalloc, the listing alone); then its following of every photo put back
  after it (`Whereabouts.moved`, so that `undo --all` finds a photo where a newer run's undo put it);
- `undo` of the whole run: with nothing missing (no listing: the floor), with one photo
  deleted, and with cats/ renamed to kitties/ (every cat found there and put back);
- in a journal of --moves moves (twice --photos unless given; written as a sort writes them; no
  file on disk but one), the first look whether another file at a photo's place, an editor's
  save, is another move's photo (`Whereabouts.anothers`, given undo's scanned journal as `undo`
  gives it), and its peak memory.

Each case on a folder of its own, built afresh; one run, so the differences hold on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from arg_types import positive_int  # this folder is on sys.path
from running import as_script  # this folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sorter.files.filing import file_groups  # noqa: E402
from sorter.files.journal import moves_of, scan  # noqa: E402
from sorter.files.journal_writer import Journal  # noqa: E402
from sorter.files.undo import undo  # noqa: E402
from sorter.files.whereabouts import Whereabouts  # noqa: E402


def sorted_folder(root: Path, photos: int, own: int) -> None:
    """`photos` files at the top of `root`, filed half into cats/ and half into dogs/, journaled
    as one run; `own` files in archive/, 1,000 a sub-folder."""
    root.mkdir()
    for i in range(photos):
        (root / f"IMG_{i:07d}.jpg").write_bytes(b"%d" % i)
    for i in range(own):
        folder = root / "archive" / f"{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"old_{i:07d}.jpg").write_bytes(b"%d" % i)
    groups = [[(root / f"IMG_{i:07d}.jpg", root / ("cats" if i % 2 else "dogs") / f"IMG_{i:07d}.jpg")]
              for i in range(photos)]
    with Journal(root) as journal:
        file_groups(root, journal, groups, lambda folder, names: names)


def listing(root: Path) -> tuple[float, float]:
    """Seconds and peak MB of the look for one photo deleted since the sort (not found: the
    whole listing, as undo makes it at its first missing photo)."""
    (run,) = scan(root).undoable_runs()
    move = next(moves_of(root, run))
    os.unlink(root / move.dst)
    Whereabouts(root, {run.run}).find(move)  # once before: the folder's entries in the kernel's cache, as after a sort
    started = time.perf_counter()
    assert Whereabouts(root, {run.run}).find(move) is None
    seconds = time.perf_counter() - started
    tracemalloc.start()  # apart: it slows every allocation
    Whereabouts(root, {run.run}).find(move)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, peak


def following(root: Path) -> float:
    """Seconds a listing takes to follow every photo undo puts back once it exists (`moved`,
    where the code has it), each as if moved to where it is."""
    (run,) = scan(root).undoable_runs()
    moves = list(moves_of(root, run))
    where = Whereabouts(root, {run.run})
    where.find(moves[0])
    if not hasattr(where, "moved"):
        return 0.0
    started = time.perf_counter()
    for move in moves[1:]:
        where.moved(move.dst, move.dst)
    return time.perf_counter() - started


def journaled(root: Path, moves: int) -> None:
    """The journal of a sort of `moves` photos from the top of `root` into cats/, each move's
    intent with its own identity (device, inode, size, time) as filing writes it; no file made."""
    root.mkdir()
    device = os.stat(root).st_dev
    with Journal(root) as journal:
        for first in range(0, moves, 1024):
            numbers = range(first, min(first + 1024, moves))
            groups = [[(root / f"IMG_{i:07d}.jpg", root / "cats" / f"IMG_{i:07d}.jpg")] for i in numbers]
            sames = [[(device, 10**6 + i, 2_000_000 + i, 1_796_352_000_000_000_000 + i)] for i in numbers]
            journaled = journal.intents(groups, [("cat", 0.97)] * len(groups), sames)
            journal.mark("done", [move.seq for group in journaled for move in group])


def another_photo(root: Path) -> tuple[float, float]:
    """Seconds and peak MB of undo's first look whether the file at a photo's place, a new one
    (an editor saved it over), is another journaled move's photo: the whole journal's moves read."""
    state = scan(root)
    (run,) = state.undoable_runs()
    move = next(moves_of(root, run))
    (root / move.dst).parent.mkdir()
    (root / move.dst).write_bytes(b"edited")
    there = os.lstat(root / move.dst)
    Whereabouts(root, {run.run}, state).anothers(move, there)  # once before: the journal in the page cache
    started = time.perf_counter()
    assert not Whereabouts(root, {run.run}, state).anothers(move, there)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    Whereabouts(root, {run.run}, state).anothers(move, there)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, peak


def timed_undo(root: Path) -> tuple[float, int, int, int]:
    started = time.perf_counter()
    result = undo(root, all_runs=True)
    return time.perf_counter() - started, result.restored, len(result.missing), result.more_found + len(result.found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=positive_int, default=100_000, help="photos sorted (default 100,000)")
    # Each scales with --photos: at fixed defaults, `--photos 2000` still built 300,000 files of
    # the user's own and a 200,000-move journal, and ran past 3 minutes.
    parser.add_argument("--own", type=positive_int, help="files in a folder of the user's own (default: --photos)")
    parser.add_argument("--moves", type=positive_int,
                        help="moves in the journal of the look for another's photo (default: twice --photos)")
    args = parser.parse_args()
    args.own = args.own or args.photos
    args.moves = args.moves or 2 * args.photos
    base = Path(tempfile.mkdtemp(prefix="whereabouts-"))
    try:
        root = base / "journal"
        journaled(root, args.moves)
        seconds, peak = another_photo(root)
        print(f"another move's photo?, first look: {seconds:.2f} s, peak {peak:.1f} MB ({args.moves:,} moves journaled)")
        shutil.rmtree(root)

        root = base / "listing"
        sorted_folder(root, args.photos, args.own)
        seconds, peak = listing(root)
        print(f"listing, one photo deleted: {seconds:.2f} s, peak {peak:.1f} MB "
              f"({args.photos:,} photos in cats/ and dogs/, {args.own:,} files in archive/)")
        print(f"listing following the {args.photos - 1:,} others put back: {following(root):.2f} s")
        shutil.rmtree(root)

        for case in ("nothing missing", "one photo deleted", "cats/ renamed to kitties/"):
            root = base / "undo"
            sorted_folder(root, args.photos, args.own)
            if case == "one photo deleted":
                os.unlink(root / "dogs" / "IMG_0000000.jpg")
            elif case.startswith("cats/"):
                os.rename(root / "cats", root / "kitties")  # no cats/ made since: kitties/ is it
            seconds, restored, missing, found = timed_undo(root)
            print(f"undo --all, {case}: {seconds:.2f} s; restored {restored:,}, found {found:,}, missing {missing}")
            shutil.rmtree(root)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    as_script(main)
