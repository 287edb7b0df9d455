"""What a dry run says of each photo a sort would be refused: a folder its plan moves photos into
that may not be written in (or that a file's name takes), one below the sorted folder that they may
not leave (a card mounted read-only), a photo whose own flags keep it (`chattr +i`), one of
another user's in a sticky folder (`chmod +t`: only its owner may move it out). The summary
said so (`cannot move out of card/: Read-only file system; 2 photos would not move`) while each
photo's `--verbose` line said `would move IMG.jpg -> cats/`, its `--json` entry "planned", and it
was counted in "would move to cats/". Now each such photo is what the sort would make of it,
"failed" with the sort's own reason, counted as the summary's line counts it. So is one whose
companion is flagged (`cannot move: IMG_0001.MOV is marked immutable (chattr -i IMG_0001.MOV to
free it)`), or whose folder is (`cannot move out of trip/: it is marked append-only (chattr -a
trip to free it)`), of which the dry run said "would move" and the sort blamed the photo."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from sorter.files.filing import refusing_into, refusing_out_of, refusing_photo
from sorter.sorting.results import FileResult


class Foreseen:
    """A dry run's refusals of `root`'s plan, each folder asked once (a file opened unnamed in
    it: `folder.cannot_write`), in the order a sort meets them: the folder moved into, the folder
    left, the photo's own flags or a sticky folder's rule (another user's photo). `root` itself is
    the caller's (`folder.unwritable`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._into: dict[Path, tuple[str, str] | None] = {}
        self._out_of: dict[Path, str | None] = {}
        #: Each folder left's stat, asked once: a sticky one keeps another user's photos (`refusing_photo`).
        self._folders: dict[Path, os.stat_result | None] = {}
        #: The summary's lines: why -> (where it sorts among them, the photos it keeps in place).
        self._lines: dict[str, tuple[tuple[int, Path], int]] = {}

    def of(self, result: FileResult) -> FileResult:
        """`result` as the sort would end it: a planned photo it would be refused is "failed",
        with the sort's reason (`cannot move into cats/: Operation not permitted`), no destination
        and its companions staying with it; any other result as it is."""
        if result.status != "planned" or result.destination is None:
            return result
        into = result.destination.parent
        if into not in self._into:
            self._into[into] = refusing_into(self.root, into)
        refused, where = self._into[into], (0, into)
        if refused is None:  # as the sort tries them (`filing._failed`): each folder left, then each file
            members = (result.path, *(path for path, _ in result.companions))
            why, where = None, (1, result.path.parent)
            for leaving in dict.fromkeys(path.parent for path in members):
                if leaving not in self._out_of:
                    self._out_of[leaving] = refusing_out_of(self.root, leaving)
                    self._folders[leaving] = _stat(leaving)
                if (why := self._out_of[leaving]) is not None:
                    where = (1, leaving)
                    break
            for n, path in enumerate(members if why is None else ()):
                named = path.relative_to(self.root).as_posix() if n else None
                if (why := refusing_photo(path, self._folders[path.parent], named)) is not None:
                    break
            refused = None if why is None else (why, why)
        if refused is None:
            return result
        said, line = refused
        first, photos = self._lines.get(line, (where, 0))
        self._lines[line] = (min(first, where), photos + 1)
        return replace(result, status="failed", destination=None, reason=said,
                       companions=tuple((path, None) for path, _ in result.companions))

    def lines(self) -> tuple[tuple[str, int], ...]:
        """The summary's (why, photos it keeps in place): ("cats/ cannot be written: Operation not
        permitted", 3), the folders moved into first, then those left, each by its path."""
        return tuple((why, photos) for why, (_, photos) in sorted(self._lines.items(), key=lambda item: item[1][0]))


def _stat(folder: Path) -> os.stat_result | None:
    try:
        return os.stat(folder)
    except OSError:
        return None  # gone: the photo's own flags alone are asked
