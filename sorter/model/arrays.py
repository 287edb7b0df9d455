"""Reading an .npz file sorter wrote: the one place a file that does not read is told apart,
whatever numpy or the reading raises, so each reader words its own one-line error and none
lets a traceback through.

What np.load does with a file that is not the archive it was written as: empty, EOFError;
random bytes, a ValueError about pickles (it takes any file that is no archive for a pickle,
which `allow_pickle=False` refuses); one array saved as .npy under the name, that array, whose
`with` raised TypeError; a zip cut short, BadZipFile on opening or on reading an array; an array
missing, KeyError. Each reader caught a list of these, and each list missed one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from numpy.lib.npyio import NpzFile

from sorter.errors import SorterError

#: Why a file that is no archive of arrays does not read, where a reader does not say it its way.
FOREIGN = "not a file sorter wrote"


@contextmanager
def opened(
    path: Path, damaged: Callable[[str], Exception], *, unreadable: Callable[[OSError], Exception] | None = None,
    foreign: str = FOREIGN,
) -> Iterator[NpzFile | None]:
    """The arrays of the .npz at `path`, None where there is none (or a name on its way is a
    file). Anything its reading raises, in np.load or in the `with` block, is `damaged(why)`
    (`why`: a few words, `foreign` for a file that is no archive of arrays), but an OSError of
    the file there, which is `unreadable(exc)` where given (its folder's permissions: not a
    damaged file). A SorterError raised in the block (the reader refusing what it read) is let through."""
    unreadable = unreadable or (lambda exc: damaged(exc.strerror or str(exc)))
    try:
        loaded = np.load(path, allow_pickle=False)
    except (FileNotFoundError, NotADirectoryError):
        loaded = None
    except OSError as exc:
        raise unreadable(exc) from exc
    except Exception as exc:
        raise damaged(why(exc, foreign)) from exc
    if not isinstance(loaded, NpzFile):
        if loaded is not None:  # one array (.npy), not an archive of them
            raise damaged(foreign)
        yield None
        return
    try:
        with loaded:
            yield loaded
    except SorterError:
        raise
    except OSError as exc:
        raise unreadable(exc) from exc
    except Exception as exc:
        raise damaged(why(exc, foreign)) from exc


def why(exc: Exception, foreign: str = FOREIGN) -> str:
    """Why a file could not be read, in a few words: "EOFError: No data left in file"; `foreign`
    where numpy took it for a pickle, which it says at length."""
    text = " ".join(str(exc).split())
    if "pickle" in text:
        return foreign
    text = text.split(". ")[0]
    return f"{type(exc).__name__}: {text if len(text) <= 120 else text[:120].rsplit(' ', 1)[0] + '…'}"
