"""A trained model's files as one set: checked before training that they can be written
where `--out` says and replace only an earlier sorter model, held by one run at a time,
written into a hidden folder beside it, and only then moved into place.

A model is several files (MODEL.keras, its int8 MODEL.tflite, MODEL.json, MODEL.head.npz,
MODEL.evidence.npz, MODEL.reference.npz, the curves), and `sort` refuses a mixed set (a new .keras beside an old
.tflite). Written in place, a run killed or a disk filled while saving left the old model
half replaced: neither the old one nor the new one could sort. Now a failed save leaves the
old set as it was, and a new set replaces it whole or says it was cut short (`_publish`); a
file of the old set that the new one lacks (a three-way model's evidence, retrained as
two-way; a from-scratch model has no head) is removed, since it would be read with the new
network (an old reference set too, when this run has no validation photos to make one of). Only
files `train` writes are removed; the bundled model is refused before training instead
(`check_out`), never replaced.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sorter.config import still_open_there
from sorter.errors import FolderLocked, SorterError, UsageError
from sorter.model.network import checkpoint_dir
from sorter.signals import signals_held

#: The files `sorter train` writes for the model MODEL.keras, by what follows its stem (the
#: head, the evidence and the reference set, `sorter.training.reference`: only for some models).
ENDINGS = (".keras", ".tflite", ".head.npz", ".evidence.npz", ".reference.npz", "-curves.png", ".json")


def model_files(model: Path) -> list[Path]:
    return [model.with_name(model.stem + ending) for ending in ENDINGS]


def _is_bundled(out: Path) -> bool:
    """`out` names the set of the model sorter ships (its folder, whatever path or link leads
    there; its stem in any case, as a case-insensitive disk reads it)."""
    from sorter.config import BUNDLED_MODEL

    try:
        same_folder = os.path.samefile(out.parent, BUNDLED_MODEL.parent)
    except OSError:  # a folder not made yet: `new/../models` is made, then names the package's
        same_folder = out.parent.resolve() == BUNDLED_MODEL.parent.resolve()
    return same_folder and out.stem.casefold() == BUNDLED_MODEL.stem.casefold()


def check_out(out: Path) -> None:
    """Before any training: `out` can be saved (its folder made, if new), not after an hour of it,
    and is not the bundled model, which a one-epoch retrain replaced (its reference set deleted)."""
    if _is_bundled(out):
        raise UsageError(f"--out {out} is the bundled model, which sort, watch and learn use, and train never "
                         "replaces it: give another --out (README's is build/v14/default.keras), then copy its "
                         "files over the bundled ones")
    if os.path.isdir(out):  # os.path's, not Path's: a name too long is no folder, not a traceback
        raise UsageError(f"--out {out} is a folder; give the model's file name (MODEL.keras)")
    folder = out.parent.absolute()
    while not os.path.exists(folder) and folder != folder.parent:  # made when the model is saved, not now
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"--out {out}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: cannot write in {folder}")
    _check_names_fit(out, folder)


def _check_names_fit(out: Path, folder: Path) -> None:
    """Every name the run makes beside `out` fits its filesystem (255 bytes on most), or a name
    that fits could not be saved after the whole training: its checkpoint folder, the hidden
    folder the set is saved in, and each file's temporary name, the longest of which
    (`.MODEL.reference.npz.tmp.npz`, `reference.write_reference`) is 23 bytes longer than MODEL."""
    try:
        most = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):  # a system that does not say: the mkdir or the save says it then
        return
    made = [(checkpoint_dir(out), checkpoint_dir(out).name), (out, f".{out.name}.saving"),
            *((path, f".{path.name}.tmp.npz") for path in model_files(out))]
    longest = max(len(os.fsencode(name)) for _, name in made) - len(os.fsencode(out.stem))
    for path, name in made:
        if len(os.fsencode(name)) > most:
            raise UsageError(f"--out {out}: cannot make {path} ({os.strerror(errno.ENAMETOOLONG)}); its name before "
                             f".keras may have {most - longest} bytes at most, to leave room for what is made beside it")


def _is_sorter_metadata(path: Path) -> bool:
    """`path` is the metadata `sorter train` writes (MODEL.json, "format": "sorter-model/N")."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        metadata = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    from sorter.model.network import FORMAT_FAMILY

    return isinstance(metadata, dict) and str(metadata.get("format", "")).startswith(FORMAT_FAMILY)


def check_replaceable(out: Path) -> None:
    """Before any training: the files the model will be saved as are free, or an earlier sorter
    model's (which a new one replaces, as documented). A user's own file of the same name (a
    `settings.json` beside `--out settings.keras`), a folder or a link there is never replaced.
    An old model's reference set is replaced by this run's, or removed with the rest of the
    old set (`_publish`): it would not fit the new network."""
    metadata = out.with_suffix(".json")
    ours = _is_sorter_metadata(metadata)
    foreign = []
    for path in model_files(out):
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:  # a name too long, a folder that cannot be searched: nothing to replace
            raise UsageError(f"--out {out}: cannot look at {path} ({exc.strerror or exc})") from None
        if not (ours and stat.S_ISREG(mode)):
            foreign.append(str(path))
    if not foreign:
        return
    them = "it" if len(foreign) == 1 else "them"
    if ours:
        why = "a folder or a link, not a model's file"
    elif os.path.lexists(metadata):
        why = f"not part of a sorter model: {metadata.name} is not a sorter model's metadata"
    else:
        why = f"not part of a sorter model: no sorter model's {metadata.name} beside {them}"
    raise UsageError(f"--out {out} would replace {', '.join(foreign)}, {why}; move {them} away, or give another --out")


@contextmanager
def claimed(folder: Path, out: Path) -> Iterator[None]:
    """This run alone writes `out`: an exclusive `flock` on its checkpoint folder `folder`
    (made if new), held for the whole run. Two runs to one `--out` shared the checkpoints and
    the hidden folder the model is saved in, and one removed the other's files mid-save. The
    kernel drops the lock with its holder, even on kill -9. A folder this made and the run left
    empty (it stopped before its first checkpoint) is removed again."""
    made = []
    missing = folder
    while not os.path.exists(missing) and missing != missing.parent:  # os.path's: no OSError raised
        made.append(missing)
        missing = missing.parent
    try:
        while True:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise UsageError(f"--out {out}: {folder} (where its checkpoints go) is not a folder") from None
            except OSError as exc:  # /proc (no such file), /sys (not permitted), a name too long, a read-only disk
                _remove_empty(made)
                raise UsageError(f"--out {out}: cannot make {folder} ({exc.strerror or exc})") from None
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise FolderLocked(f"another `sorter train` is writing {out} (it holds {folder}/): wait for it to end, "
                                   "or give this run another --out") from None
            if still_open_there(folder, fd, follow_symlinks=True):  # m.checkpoints may be a link to another disk
                break
            os.close(fd)  # removed by the run that held it as it ended: lock the folder made again
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C (or SIGTERM) between the mkdir and the lock
        _remove_empty(made)
        raise
    try:
        yield
    finally:
        _remove_empty(made)
        os.close(fd)  # which lets go of the lock


def _remove_empty(made: list[Path]) -> None:
    """The folders a run made (its checkpoint folder, then the parents it made for it), while empty."""
    for empty in made:
        try:
            empty.rmdir()
        except OSError:
            break


@contextmanager
def written_whole(path: Path, temporary: Path | None = None, *, synced: bool = True) -> Iterator[Path]:
    """Where to write what will be `path`: a temporary name beside it (`.NAME.tmp` unless given),
    renamed over `path` once the block ends and removed whatever happens, so that a kill or a full
    disk leaves what was at `path` before, never a torn file nor the temporary one; and, `synced`,
    a power cut too: its data reaches the disk before the rename, and the rename after it
    (`synced_file`, `synced_folder`). Not `synced`: for a file checked on reading, which a torn
    one fails and is then made again (the feature cache's chunks, 2 GB for the bundled model)."""
    temporary = temporary or path.with_name(f".{path.name}.tmp")
    try:
        yield temporary
        if synced:
            synced_file(temporary)
        temporary.replace(path)
        if synced:
            synced_folder(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def synced_file(path: Path) -> None:
    """`path`'s data on the disk (fsync), before a rename gives it a name that is trusted: a
    power cut after a rename whose data the kernel still held in memory left a file cut short, or
    of zeros, under the final name. One fsync a file, once it is whole, not one a write."""
    _fsync(path, os.O_RDONLY)


def synced_folder(folder: Path) -> None:
    """The renames in `folder` on the disk (an fsync of the folder). Where a folder cannot be
    opened (Windows: EACCES) or fsync'd (some filesystems: EINVAL), nothing: the renames are then
    as durable as that system makes them. A disk that fails (EIO) is said, as any write's failure."""
    try:
        _fsync(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF, errno.EACCES, errno.EPERM):
            raise


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def writing(what: str, folder: Path, then: str = "") -> Iterator[None]:
    """A disk that filled up (or failed, or turned read-only) while writing `what` in `folder`:
    one line naming the folder (exit 1) instead of a traceback. What is written there is written
    under a temporary name first and removed by the writer on failure, so nothing is left half
    written."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO):
            raise
        raise SorterError(f"cannot write {what} in {folder}/: {exc.strerror or exc}{then}") from None


@contextmanager
def staged(out: Path, on_saved: Callable[[], None] = lambda: None) -> Iterator[Path]:
    """Where to save the model that will be `out`: a path in a hidden folder beside it, whose
    files replace the old set when the block ends, and are dropped if it raises (a full disk
    is one line, the model before it as it was, or, if it filled while the files were moved
    into place, gone: `_publish`). `on_saved` is called once the new set is in place, before a
    signal held meanwhile acts: what an interrupt from then on says is that the model is saved."""
    folder = out.parent / f".{out.name}.saving"
    shutil.rmtree(folder, ignore_errors=True)  # a save killed before
    try:
        with writing("the model", out.parent, "; the model saved there before, if any, is as it was"):
            folder.mkdir(parents=True)
            yield folder / out.name
            for path in folder.iterdir():  # before the renames, and outside `signals_held`: the slow part
                synced_file(path)
            with signals_held():  # Ctrl-C, `kill` or a closed terminal acts once the set is whole
                _publish(folder, out)
                on_saved()
                shutil.rmtree(folder, ignore_errors=True)  # empty now; before a held SIGTERM ends the process
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _publish(folder: Path, out: Path) -> None:
    """Move the set saved in `folder` into place, so that a kill at any moment leaves the old set,
    the new one, or a set that says it was cut short.

    No order of several renames is atomic: with the metadata last (as before), a kill part way
    left new files beside the old metadata (a new head read with the old network), or, on a
    first save, files without any, which the next run refused as no sorter model's. So MODEL.json,
    the file every reader opens first and the one that says whose the files are, first says
    "being saved" (`SAVING_FORMAT`, one rename), and names the new set only once every other file
    is in place (a second rename). Between the two, `sort` refuses the set in one line and the
    next run to this --out replaces it without asking (`check_replaceable`: its format is a
    sorter model's; an older sorter, too, replaces it, and refuses to run it as a newer format).
    Simpler than a journal of the renames, which only a writer could roll forward (and `sort`
    only reads), and than a marker file of its own, one more file to keep in step. Its price:
    from the first rename to the last (milliseconds) the old model is gone too. Ctrl-C, SIGTERM
    and SIGHUP wait for the last rename (`staged`); a kill -9, or a disk that fails part way (a
    folder that must grow on a full ext4; EIO), leaves the set cut short, said as such with what
    saves it again: while the run's checkpoint is there, `--resume`, which goes straight to the
    save. The files not moved yet go with the hidden folder: only a new run may trust them.

    Against a power cut too: every file reached the disk before the first rename (`staged`),
    "being saved" reaches it before any file of the old set goes, and the new set's names once
    the last rename is done (two fsyncs of the folder, `synced_folder`). Without them, a power
    cut after the renames could leave, under the final names, files the kernel had not written
    yet (cut short, or zeros), and, on a filesystem that reorders renames, a new file beside the
    old metadata. Their cost is the time the disk takes to write the model, once a save: 20 ms
    for a set the size of the bundled model's (29 MB, this machine's virtual disk), against a
    training of minutes or hours."""
    from sorter.model.network import SAVING_FORMAT, saved_again

    made = {path.name for path in folder.iterdir()}
    metadata = out.with_suffix(".json").name
    saving = folder / f".{metadata}.saving"
    saving.write_text(json.dumps({"format": SAVING_FORMAT}) + "\n")
    synced_file(saving)
    os.replace(saving, out.parent / metadata)
    try:
        synced_folder(out.parent)
        for old in model_files(out):
            if old.name not in made:
                old.unlink(missing_ok=True)
        for name in sorted(made, key=lambda name: name == metadata):  # the metadata last: it vouches for the rest
            os.replace(folder / name, out.parent / name)
        synced_folder(out.parent)
    except OSError as exc:  # the old set is gone already: no "as it was" (`staged`)
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        then = "free some space, then " if full else "once the disk can be written again, "
        raise SorterError(f"cannot write the model in {out.parent}/: {exc.strerror or exc}; the save was cut short, "
                          f"so {out.name} is no model now: {then}{saved_again(out)}") from None
