"""User-facing exceptions. The CLI turns each into one `Error: ...` line and an exit code."""


class SorterError(Exception):
    """Something the user can fix; the run could not complete (exit 1)."""

    exit_code = 1


class UsageError(SorterError):
    """Bad arguments or options (exit 2)."""

    exit_code = 2


class OptionError(UsageError):
    """A bad option value, or options that exclude each other: known from the command line
    alone, before anything is read (exit 2). Said as click says its own option errors,
    `Invalid value for '--epochs': must be a whole number from 1 to 10000 (got 0)`, so the CLI can
    add the help to read."""

    def __init__(self, reason: str, *options: str) -> None:
        super().__init__(f"Invalid value for {' / '.join(repr(o) for o in options)}: {reason}")
        self.reason = reason
        self.options = options


class ModelError(SorterError):
    """A model file is missing, of a refused format, or does not load."""


class FolderLocked(SorterError):
    """Another sorter holds the folder's lock."""


class ImageError(Exception):
    """One image could not be read; reported per file, never fatal to a run."""


#: Why a file sorter found is left "vanished", not "unreadable": it was gone (deleted, moved
#: away) when it was to be read or moved. An `ImageError` of these words is raised by a decode
#: that found no file (ENOENT), which sort plans as vanished.
VANISHED = "file disappeared before it could be moved"


class ReviewConflict(SorterError):
    """A correction the review server cannot make as asked: the photo is no longer where the
    page shows it, or there is nothing to take back. The page says so; the server goes on."""


class TakenBackNoMore(ReviewConflict):
    """`u` on a page's correction that can no longer be taken back from that page (another tab
    corrected the photo since, or it was kept where it is): the page forgets it, so its next `u`
    is about the correction it made before."""
