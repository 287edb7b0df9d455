"""What an undo says of the files it puts back, keeps or finds (`putting_back.Undoer`): the
report that stays small however many files it is about (`Lines`), the line of a photo put back
from where it was found moved on or saved again (`found_line`; an editor's save beside its
backup: `saved_as`), of one found as a copy under another name (`copy_line`), and, of a photo
kept for another file at its first place, which photo this undo put back there (`say_holders`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sorter.config import REPORT_LINES


@dataclass
class Lines:
    """A report that stays small however many files it is about. A line a move, counted in photos
    too: a photo two runs moved (sorted, then corrected on the review page), kept or gone, has a
    line of each move and is one photo, as the summary counts it. Its first line comes first (the
    newest move is undone first), so the lines shown hold the first line of every photo they say."""

    shown: list[str] = field(default_factory=list)
    total: int = 0
    photos: int = 0  # the lines of a photo not said by an earlier line
    photos_shown: int = 0

    def add(self, line: str, photo: bool = True) -> None:
        self.total += 1
        self.photos += photo
        if len(self.shown) < REPORT_LINES:
            self.shown.append(line)
            self.photos_shown += photo

    @property
    def more(self) -> int:
        """The photos no line shown says: an undo's "kept: N more files" counts photos, as its
        summary does. It counted moves: one photo two runs moved was "2 more files"."""
        return self.photos - self.photos_shown


def say_holders(root: Path, since: int | None, held: list[tuple[int, str, str, os.stat_result]],
                conflicts: Lines) -> None:
    """Of the chunk's photos kept for another file at their first place (`held`: the index of
    each one's line in `conflicts.shown`, where it is kept, the place, the file there), those
    whose place holds a photo this undo put back there, said so, with where it came from: two
    photos of one name over two runs (`a.jpg` sorted to cats/a.jpg, a new `a.jpg` to cats/a
    (1).jpg), where `undo --all` put the newer back first and "another file is at a.jpg now"
    left the user to guess it was the other cat. Undo never puts one under another name: it
    stays, said why. Told by this undo's own records ("unmove" marked "undo", from `since`, its
    first), read once a chunk, only where a line shown names a file there, and the file there
    still that photo, by its size and time. `held` is emptied."""
    if not held or since is None:
        held.clear()
        return
    from sorter.files.journal import journal_path
    from sorter.files.journal_records import records

    places = {place for _, _, place, _ in held}
    intents: dict[tuple[str, int], dict] = {}
    back: dict[str, dict] = {}  # each place -> the last move this undo put back there
    for _, _, rec in records(journal_path(root), since, ops=("unmove", "undo")):
        key = (rec.get("run"), rec.get("seq"))
        if rec.get("op") == "unmove" and rec.get("src") in places:
            intents[key] = rec
        elif rec.get("op") == "undo" and key in intents:
            record = intents.pop(key)
            back[record["src"]] = record
    for index, kept, place, there in held:
        record = back.get(place)
        same = record.get("id") if record is not None else None
        if record is not None and record["dst"] != kept and (
                not same or tuple(same[2:]) == (there.st_size, there.st_mtime_ns)):
            conflicts.shown[index] = (f"{kept}: {place} is the photo this undo put back from "
                                      f"{record['dst']}; left in place")
    held.clear()


def found_line(root: Path, m, leaving: set[str], moved_on: dict[int, tuple[str, str, tuple[str, ...]]],
               backups: dict[int, tuple[str, str]]) -> str:
    """The "found: ..." line of `m`, put back from where it was found (`moved_on`: where sorter
    put it, what is there now, its other names; `backups`: where sorter put it, the editor's
    backup it was found as), as it reads once its chunk has moved: `leaving`, the places the
    chunk takes files from, where it is told before (a file found at the place sorter put `m`
    stays there, said so, unless the chunk takes it from there too: two names swapped)."""
    if m.seq in backups:
        was, backup = backups[m.seq]
        since = f"moved to {m.dst} and " if m.dst != was else ""
        return (f"{was}: {since}saved again since (its earlier version is {backup}, left there); "
                f"put back as it is now to {m.src}")
    was, other, others = moved_on[m.seq]
    line = f"{was}: moved to {m.dst} since; put back from there to {m.src}"
    if others:
        names = ", ".join(others)
        line += f"; its other name {names} stays" if len(others) == 1 else f"; its other names {names} stay"
    stays = was not in leaving and os.path.lexists(root / was)
    return line + (f"; {was} is {other} now, left there" if stays else "")


def copy_line(m, copy: str) -> str:
    """The line of `m`'s photo, gone, where a file of its size and time is at `copy` under another
    name: a copy put back by hand, most likely, yet its content is not compared (the journal keeps
    no hash of it), so said as a question, and left there."""
    return f"{m.dst}: a file of its size and time is at {copy} (a copy?); left there (was {m.src})"


def _a_backup(path: str, of: str) -> bool:
    """`path` is where an editor keeps the file `of` when it saves a new one under its name: in
    its folder, under its name and more (`c0.jpg~`, `c0.jpg.bak`, `c0.jpg.orig`, `c0.jpg.~1~`).
    Not its stem and a backup's extension (`c0.bak`, `c0.old`): a person renames a photo so to
    put another file under its name, and that file is no version of the photo (a dog copied in as
    `c2.jpg` went back as the cat, the cat left as `c2.old`); the photo itself goes back, as any
    photo found under another name does."""
    folder, name = os.path.split(of)
    there, backup = os.path.split(path)
    return there == folder and backup.startswith(name) and backup != name


def saved_as(backup: str, name: str) -> str | None:
    """Where the photo `name` (its place in the journal) is as an editor saved it again, where it
    was found as `backup` (`_a_backup`): under its name in the folder the backup is in; or None,
    `backup` being no backup of that name."""
    saved = os.path.join(os.path.dirname(backup), os.path.basename(name))
    return saved if _a_backup(backup, saved) else None
