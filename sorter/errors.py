"""User-facing exceptions. The CLI turns each into one `Error: ...` line and an exit code."""


class SorterError(Exception):
    """Something the user can fix; the run could not complete (exit 1)."""

    exit_code = 1


class UsageError(SorterError):
    """Bad arguments or options (exit 2)."""

    exit_code = 2


class ModelError(SorterError):
    """A model file is missing, of a refused format, or does not load."""


class FolderLocked(SorterError):
    """Another sorter holds the folder's lock."""


class ImageError(Exception):
    """One image could not be read; reported per file, never fatal to a run."""


class ReviewConflict(SorterError):
    """A correction the review server cannot make as asked: the photo is no longer where the
    page shows it, or there is nothing to take back. The page says so; the server goes on."""
