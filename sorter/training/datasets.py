"""Labelled folders laid out like Microsoft's PetImages (`Cat/`, `Dog/`), and the seeded,
balanced train/validation split that `train` and `evaluate --split` share."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

from sorter.config import CLASS_NAMES, OTHER, entered
from sorter.errors import OptionError, UsageError
from sorter.media.folders import is_image_name
from sorter.wording import counted

# Accepted folder names for each class, compared case-insensitively. "Other" photos (neither
# a cat nor a dog) may sit in sub-folders, one per kind of thing.
FOLDER_NAMES = {"cat": {"cat", "cats"}, "dog": {"dog", "dogs"}, OTHER: {"other", "others", "neither"}}
ALL_CLASSES = (*CLASS_NAMES, OTHER)


#: A folder of non-pets with at least this many kinds (sub-folders) holds whole kinds out for
#: validation; one with fewer (everyday-not-pets: people, animals, places, ...) holds out a share
#: of each kind instead, since holding out "people" would mean never training on a person.
MIN_KINDS_TO_HOLD_OUT = 10


@dataclass(frozen=True)
class Split:
    train: list[tuple[Path, int]]  # (photo, index into ALL_CLASSES)
    validation: list[tuple[Path, int]]
    #: Files found per class, before balancing: every file named as a photo (.jpg, ...), read or not,
    #: so a text file named .jpg counts (the balance sniffs only those it draws: `_balanced`).
    counts: dict[str, int]
    #: Kinds of "other" photo (sub-folders) on each side, per folder of non-pets: a folder with
    #: many kinds holds whole kinds out, one with few holds out a share of each (`_split_kinds`).
    other_kinds: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: The kind of each non-pet photo ("people", "airplanes", ...), for per-kind numbers.
    kind_of: dict[Path, str] = field(default_factory=dict)
    #: Photos drawn of each pet class: the fewest that begin as photos in either (`_balanced`).
    per_class: int = 0
    #: What Cat/, Dog/ and the folders of non-pets hold that is not read (`sorter.training.not_read`).
    not_read: list = field(default_factory=list)


def missing_folder(folder: Path, option: str, what: str) -> str:
    """What is wrong with the folder an `option` names that is not one: not there (`what` not
    found), or a file, which said "folder not found" too."""
    return f"{option} {folder}: not a folder" if folder.exists() else f"{what} not found: {folder}"


def class_folders(data_dir: Path, other_dirs: tuple[Path, ...] = ()) -> dict[str, Path]:
    """Cat/, Dog/ and, when DATA_DIR has one, Other/ (the --other folders are listed apart)."""
    if not data_dir.is_dir():
        raise UsageError(f"{'not a folder' if data_dir.exists() else 'data folder not found'}: {data_dir}")
    found: dict[str, Path] = {}
    links = []
    for child in sorted(listed(data_dir)):
        label = next((label for label, names in FOLDER_NAMES.items() if child.name.lower() in names), None)
        if label is None or not child.is_dir():
            continue
        if child.is_symlink():
            links.append(child.name)
        elif label in found:  # Cat/ and cats/: one would be dropped without a word
            raise UsageError(f"{data_dir} has both {found[label].name}/ and {child.name}/; put the photos in one")
        else:
            found[label] = child
    missing = [label for label in CLASS_NAMES if label not in found]
    if missing:
        raise UsageError(
            f"{data_dir} needs one folder per class (Cat/ and Dog/, or cats/ and dogs/); "
            f"missing: {', '.join(missing)}" + (f" ({', '.join(links)} is a link, never followed)" if links else "")
        )
    for other_dir in other_dirs:
        if not other_dir.is_dir():
            raise UsageError(missing_folder(other_dir, "--other", "--other folder"))
        for label in CLASS_NAMES:
            pets, others = found[label].resolve(), other_dir.resolve()
            if pets.is_relative_to(others) or others.is_relative_to(pets):
                raise UsageError(f"--other {other_dir} holds the photos of {found[label]}: they would be pets and "
                                 "non-pets at once; give folders of non-pets only")
        refuse_pets(other_dir, "--other")
    if OTHER in found and not other_dirs:  # the same folder of non-pets, where it is found and not given
        refuse_pets(found[OTHER])
    return found


#: A pet class folder's names, any case: at the top of a folder of non-pets, its photos are pets.
PET_FOLDER_NAMES = FOLDER_NAMES["cat"] | FOLDER_NAMES["dog"]


def refuse_pets(folder: Path, option: str = "") -> None:
    """A folder of non-pets (--other, --holdout, DATA_DIR's Other/) with Cat/ or Dog/ at its top
    (any case): every photo below counts as neither, so those cats and dogs would be trained on,
    or scored, as non-pets. Most likely another PetImages folder given by mistake."""
    pets = sorted(child.name for child in listed(folder) if child.name.lower() in PET_FOLDER_NAMES and child.is_dir())
    if pets:
        named = f"{option} {folder}" if option else str(folder)
        raise UsageError(f"{named} holds {' and '.join(f'{name}/' for name in pets)}: every photo in it "
                         "counts as neither a cat nor a dog; give folders of non-pets only")


def other_roots(data_dir: Path, other_dirs: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """Every folder of non-pets: the --other folders, or else DATA_DIR's Other/."""
    return _roots(class_folders(data_dir, other_dirs), other_dirs)


def recorded_other_dirs(training: dict) -> tuple[Path, ...]:
    """The non-pet folders a model's metadata ("training") says it was trained with (models
    from before repeatable --other record one, as "other_dir")."""
    recorded = training.get("other_dirs") or ([training["other_dir"]] if training.get("other_dir") else [])
    return tuple(Path(folder) for folder in recorded)


def recorded_counts(training: dict) -> tuple[dict[str, int] | None, int]:
    """The files per pet class and the non-pet files a model's metadata ("training") says its
    folders held (`Split.counts`): recorded as "files_per_class_found" and "other_files_found";
    models from before, as "images_per_class_found" and "other_images_found", the same count
    under a name that read as photos (a text file named .jpg counted). None: not recorded."""
    pets = training.get("files_per_class_found", training.get("images_per_class_found"))
    return pets, training.get("other_files_found", training.get("other_images_found", 0))


def recorded_shown(folders: tuple[Path, ...]) -> str:
    """Folders a model's metadata records, as a message names them: `sorter train` records them as
    typed, so a relative one (the bundled model's `../shared/datasets/…`) is relative to where it
    ran, not to where the user is, and is said to be."""
    where = (" (as recorded where the model was trained: relative to the folder `sorter train` ran in)"
             if any(not folder.is_absolute() for folder in folders) else "")
    return ", ".join(map(str, folders)) + where


def _roots(folders: dict[str, Path], other_dirs: tuple[Path, ...]) -> tuple[Path, ...]:
    return tuple(other_dirs) or ((folders[OTHER],) if OTHER in folders else ())


def _by_name(path: Path) -> tuple[int, int | str]:
    return (0, int(path.stem)) if path.stem.isdigit() else (1, path.name)


def listed(folder: Path) -> list[Path]:
    """What `folder` holds, or a UsageError naming the folder that could not be read (a class
    folder of mode 000 was a PermissionError, a traceback, in train and evaluate)."""
    try:
        return list(folder.iterdir())
    except OSError as exc:
        raise unreadable_folder(exc, folder) from None


def unreadable_folder(exc: OSError, folder: Path | str) -> UsageError:
    return UsageError(f"cannot read {exc.filename or folder}: {exc.strerror or exc}")


def _refuse_unreadable(exc: OSError) -> None:
    raise unreadable_folder(exc, exc.filename)


def images_below(folder: Path) -> list[Path]:
    """Image files in `folder` and its sub-folders (not following links), in a stable order. A
    folder that cannot be read is refused: os.walk would leave it out without a word, and a
    model be trained or measured on fewer photos than the user gave."""
    found = []
    for directory, subdirs, names in os.walk(folder, onerror=_refuse_unreadable):
        subdirs[:] = sorted(d for d in subdirs if entered(d))  # not hidden, nor a NAS's thumbnails (@eaDir)
        here = Path(directory)
        found += sorted(
            (here / n for n in names if is_image_name(n) and not (here / n).is_symlink() and (here / n).is_file()),
            key=_by_name,
        )
    return found


def list_labelled(data_dir: Path, other_dirs: tuple[Path, ...] = ()) -> dict[str, list[Path]]:
    """Image files per class, sorted by name (numeric names in numeric order); "other" when
    the folder has an Other/ (or --other folders are given), with their sub-folders."""
    folders = class_folders(data_dir, other_dirs)
    files = _list_pets(folders)
    roots = _roots(folders, other_dirs)
    if roots:
        files[OTHER] = [p for root in roots for p in non_pets_below(root, other_dirs)]
    return files


def non_pets_below(root: Path, other_dirs: tuple[Path, ...]) -> list[Path]:
    """The photos of a folder of non-pets. An --other without any is a mistake (a wrong path,
    photos not copied yet), not a folder to leave out without a word: a model trained without
    non-pets never leaves a photo in place."""
    photos = images_below(root)
    if not photos and root in other_dirs:
        raise UsageError(f"--other {root}: no images in it (nor in its sub-folders)")
    return photos


def _list_pets(folders: dict[str, Path]) -> dict[str, list[Path]]:
    """The photos of Cat/ and Dog/; a class folder without one is refused, by name: a model is
    trained and measured on both (a measure with no cats says 66 % of what?)."""
    files = {
        label: sorted(
            (p for p in listed(folder) if is_image_name(p.name) and p.is_file() and not p.is_symlink()),
            key=_by_name,
        )
        for label, folder in folders.items()
        if label in CLASS_NAMES
    }
    empty = [folders[label] for label in CLASS_NAMES if not files[label]]
    if empty:
        from sorter.training.not_read import not_read

        why = "; ".join(found.said() for found in not_read(empty))  # Cat/2019/*.jpg alone said "no images"
        raise UsageError(f"no images in {' nor in '.join(str(folder) for folder in empty)}: "
                         + (f"there must be photos of cats and of dogs at the top of each ({why})" if why else
                            "there must be photos of cats and of dogs"))
    return files


def refuse_unread(
    data_dir: Path, other_dirs: tuple[Path, ...], items: list[tuple[Path, int]], read: list[int],
    found: dict[str, int] | None = None,
) -> None:
    """A class whose every photo tried could not be decoded is refused as an empty one is
    (`_list_pets`): a model trained without a readable cat learns no cats, and a measure of it
    says 100 % with no cat in it. `items`: the photos tried (with their index into
    ALL_CLASSES); `read`: how many of each class decoded, by index (a class past its end: none),
    counted where they were decoded (the cache, the training pipeline, the scoring), so no second
    pass reads them again. `found`: each class's photos in its folder, where not all were tried
    (balanced, or --limit)."""
    tried = [0] * len(ALL_CLASSES)
    for _, label in items:
        tried[label] += 1
    unread = [label for label in range(len(ALL_CLASSES)) if tried[label] and not (label < len(read) and read[label])]
    if not unread:
        return
    folders = class_folders(data_dir, other_dirs)

    def said(label: int) -> str:
        name = ALL_CLASSES[label]
        where = str(folders[name]) if name in CLASS_NAMES else ", ".join(map(str, _roots(folders, other_dirs)))
        n, of = tried[label], (found or {}).get(name, tried[label])
        files = counted(n, "file")
        return f"{where} ({f'its {files}' if n == of else f'the {files} tried, of its {of},'} could not be read)"

    why = ("there must be photos of cats and of dogs" if any(ALL_CLASSES[label] in CLASS_NAMES for label in unread)
           else "non-pets that cannot be read teach and measure nothing")
    raise UsageError(f"no readable images in {' nor in '.join(said(label) for label in unread)}: {why}")


def fewest_to_train(validation_split: float) -> int:
    """The fewest photos of which `split` keeps one for training (it holds out
    `round(n * validation_split)` of n): 1 up to --validation-split 0.5, 2 at 0.6, 5 at 0.9."""
    n = 1
    while n - round(n * validation_split) < 1:
        n += 1
    return n


def refuse_untrained(the_split: Split, data_dir: Path, other_dirs: tuple[Path, ...], validation_split: float,
                     limit: int | None) -> None:
    """A class of which every photo is held out for validation is refused, naming its folder and
    how many photos it needs: a model with no training photo of a class learns none of it (a
    one-photo Other/ at --validation-split 0.6 trained a model that never says neither, exit 0).
    From the split's lists alone, before anything is decoded."""
    trained = {label for _, label in the_split.train}
    folders = class_folders(data_dir, other_dirs)
    need = fewest_to_train(validation_split)
    option = f"--validation-split {validation_split:g}"

    def photos(n: int) -> str:
        return counted(n, "photo")

    if not {0, 1} <= trained:  # balanced: both pet classes are cut at once, to the smaller's count
        per_class = the_split.per_class
        if limit is not None and limit == per_class < min(the_split.counts[label] for label in CLASS_NAMES):
            raise UsageError(f"--limit {limit} with {option} holds out every photo for validation: no cat or dog "
                             f"would be left to train on; give --limit {need} or more, or a smaller --validation-split")
        smaller = " and ".join(str(folders[label]) for label in CLASS_NAMES if the_split.counts[label] == per_class)
        if not smaller:  # fewer of a class's files begin as photos than it has
            both = " and ".join(str(folders[label]) for label in CLASS_NAMES)
            raise UsageError(f"{both} each have {photos(per_class)} that "
                             f"{'begins as an image' if per_class == 1 else 'begin as images'} (the balance counts those): "
                             f"with {option} every one would be a validation photo, and no cat or dog would be left "
                             f"to train on; give each at least {photos(need)}, or a smaller --validation-split")
        raise UsageError(f"{smaller} {'has' if ' and ' not in smaller else 'each have'} {photos(per_class)}: with "
                         f"{option} every one would be a validation photo, and no cat or dog would be left to train "
                         f"on; give {'it' if ' and ' not in smaller else 'each'} at least {photos(need)}, or a smaller "
                         "--validation-split")
    index = ALL_CLASSES.index(OTHER)
    if the_split.counts.get(OTHER) and index not in trained:
        roots = " and ".join(map(str, _roots(folders, other_dirs)))
        n = the_split.counts[OTHER]
        raise UsageError(f"{roots} {'has' if ' and ' not in roots else 'have'} {photos(n)} of non-pets: with {option} "
                         "every one would be a validation photo (each kind, a sub-folder, is split apart), and no "
                         f"non-pet would be left to train on; give one kind at least {photos(need)}, or a smaller "
                         "--validation-split")


def kind_of(path: Path, root: Path) -> str:
    """A non-pet photo's kind: its first sub-folder below its folder of non-pets ("." where it
    is in none: the split sorts by this string, so it stays, or every model's split would move)."""
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else "."


#: How evaluate names the kind of the non-pets in no sub-folder of Other/ (or of an --other or
#: --holdout folder): `kind_of`'s "." read as a kind of that name in its tables and --json.
NO_KIND = "(not in a sub-folder)"


def kind_shown(kind: str) -> str:
    """A kind as evaluate shows it, in the terminal and --json (`NO_KIND` for ".")."""
    return NO_KIND if kind == "." else kind


def source_of(path: Path) -> str | None:
    """Where a photo came from, as its name says: the part before the first underscore
    (everyday-not-pets names its photos SOURCE_stem.jpg; a camera, IMG_ or DSC_), or None."""
    head, underscore, _ = path.stem.partition("_")
    return head if underscore and head else None


def _hold_out_sources(photos: list[Path], validation_split: float, rng: random.Random):
    """(kept, held out, sources held out) for one kind. Where its photos come from several
    sources, whole sources are held out (in a seeded order, up to the share asked for): photos
    of one source share a camera, a place, a style, and a validation that shares them with
    training measures memory. A source over twice the share is never held out whole, so a kind
    does not lose most of its training photos. One source: the same share of it instead."""
    want = len(photos) * validation_split
    by_source: dict[str | None, list[Path]] = {}
    for path in photos:
        by_source.setdefault(source_of(path), []).append(path)
    if len(by_source) > 1 and None not in by_source and want > 0:
        order = sorted(by_source)
        rng.shuffle(order)
        held: list[str] = []
        n_held = 0
        for source in order:
            if n_held >= want:
                break
            n = len(by_source[source])
            if n <= 2 * want and len(held) + 1 < len(order):
                held.append(source)
                n_held += n
        if held:
            return ([p for s in sorted(by_source) if s not in held for p in by_source[s]],
                    [p for s in held for p in by_source[s]], sorted(held))
    shuffled = list(photos)
    rng.shuffle(shuffled)
    cut = len(shuffled) - round(len(shuffled) * validation_split)
    return shuffled[:cut], shuffled[cut:], []


def _split_kinds(paths: list[Path], root: Path, validation_split: float, seed: int, limit: int | None):
    """Others split by kind (the first sub-folder below the Other folder). With many kinds,
    whole kinds are held out, so validation measures photos of things the run never saw; with
    few (fewer than MIN_KINDS_TO_HOLD_OUT), the same share of each kind is held out."""
    rng = random.Random(f"{seed}-other")
    if limit is not None and len(paths) > limit:
        sampled = rng.sample(paths, limit)
        # Replacements come after the sample, in an order of their own: where every sampled file
        # is a photo, the draw, and `rng` for the hold-out below, are what they always were.
        rest = sorted(set(paths) - set(sampled), key=str)
        random.Random(f"{seed}-other-rest").shuffle(rest)
        paths = sorted(_drawn(sampled + rest, limit), key=str)
    kinds: dict[str, list[Path]] = {}
    for path in paths:
        kinds.setdefault(kind_of(path, root), []).append(path)
    index = ALL_CLASSES.index(OTHER)
    if len(kinds) < MIN_KINDS_TO_HOLD_OUT:
        train, validation, held_sources = [], [], {}
        for kind in sorted(kinds):
            kept, held, sources = _hold_out_sources(kinds[kind], validation_split, rng)
            if sources:
                held_sources[kind] = sources
            train += [(p, index) for p in kept]
            validation += [(p, index) for p in sorted(held, key=str)]
        names = sorted(kinds)
        if not held_sources:
            return train, validation, {"train": names, "validation": names, "held_out": "a share of each kind"}
        return train, validation, {"train": names, "validation": names,
                                   "held_out": "whole sources of each kind that has several, else a share",
                                   "validation_sources": held_sources}
    order = sorted(kinds)
    rng.shuffle(order)
    want, held, held_out = validation_split * len(paths), 0, []
    for kind in order:
        if held >= want or len(held_out) + 1 == len(order):
            break
        held_out.append(kind)
        held += len(kinds[kind])
    train_kinds = sorted(k for k in kinds if k not in held_out)
    return (
        [(p, index) for k in train_kinds for p in kinds[k]],
        [(p, index) for k in sorted(held_out) for p in kinds[k]],
        {"train": train_kinds, "validation": sorted(held_out), "held_out": "whole kinds"},
    )


def _photos_first(shuffled: list[Path], n: int) -> tuple[list[Path], list[Path]]:
    """Up to `n` files of `shuffled` that begin as photos (`begins_as_image`: 16 bytes read, no
    decode), in its order, and those passed over before them (a text file named .jpg): the one
    rule by which pets and non-pets are drawn (`_drawn`) and pets balanced (`_balanced`). Reads
    no further than the `n`-th photo."""
    from sorter.media.images import begins_as_image

    photos: list[Path] = []
    passed: list[Path] = []
    for path in shuffled:
        if len(photos) == n:
            break
        (photos if begins_as_image(path) else passed).append(path)
    return photos, passed


def _drawn(shuffled: list[Path], n: int) -> list[Path]:
    """The first `n` photos in a class's shuffled order, a draw that would not begin as a photo
    replaced by the next one, until `n` are drawn or the class runs out (then the files passed
    over fill the count, and fail where they are decoded, so that a class with no photo at all is
    refused by name: `refuse_unread`). Drawn blind, 2 good dogs of 8 were never tried while 2
    text files were, and the run was refused: no readable dog; 10 non-pets drawn by --limit from
    a folder half text gave 5. The same files always give the same draw (`evaluate --split
    validation`, `--resume`)."""
    photos, passed = _photos_first(shuffled, n)
    return photos + passed[:n - len(photos)]


def _balanced(shuffled: dict[str, list[Path]], limit: int | None) -> int:
    """How many photos of each pet class are drawn: the fewest that begin as photos in any class
    (up to `limit`), so that both classes end with as many photos each, where the smaller was
    taken whole unread and its text files left it short of the larger, cut to its count before
    anything was read. The smaller class is read whole (16 bytes a file), the larger only up to
    that count. A class with no photo at all leaves the count as the files found: it is drawn
    blind, and refused where decoded (`refuse_unread`), naming it."""
    found = min(len(paths) for paths in shuffled.values())  # at least 1 (`_list_pets`)
    if limit is not None:
        found = min(found, limit)
    per_class = found
    for paths in sorted(shuffled.values(), key=len):
        photos, _ = _photos_first(paths, per_class)
        if not photos:
            return found
        per_class = len(photos)
    return per_class


def check_validation_split(validation_split: float) -> None:
    """`--validation-split` is in [0, 1) (`OptionError`): by `train`'s option checks, before a
    folder is read, and by `split`."""
    if not 0.0 <= validation_split < 1.0:
        raise OptionError("must be in [0, 1)", "--validation-split")


def split(
    data_dir: Path,
    validation_split: float,
    seed: int,
    limit: int | None = None,
    other_dirs: tuple[Path, ...] = (),
) -> Split:
    """Pets balanced (same count per class), shuffled with `seed`, the last
    `validation_split` of each class held out; "other" photos, when there are any, split by
    whole kinds. The same arguments always give the same split, and the pets' split does not
    depend on whether there are others."""
    check_validation_split(validation_split)
    folders = class_folders(data_dir, other_dirs)
    files = _list_pets(folders)
    counts = {label: len(paths) for label, paths in files.items()}
    rng = random.Random(seed)
    shuffled = {label: list(files[label]) for label in CLASS_NAMES}
    for label in CLASS_NAMES:
        rng.shuffle(shuffled[label])
    per_class = _balanced(shuffled, limit)
    train: list[tuple[Path, int]] = []
    validation: list[tuple[Path, int]] = []
    for index, label in enumerate(CLASS_NAMES):
        paths = _drawn(shuffled[label], per_class)
        n_val = round(per_class * validation_split)
        cut = per_class - n_val
        train += [(p, index) for p in paths[:cut]]
        validation += [(p, index) for p in paths[cut:]]
    kinds: dict[str, dict[str, list[str]]] = {}
    kind_by_path: dict[Path, str] = {}
    for root in _roots(folders, other_dirs):
        others = non_pets_below(root, other_dirs)
        if not others:  # an empty Other/ beside Cat/ and Dog/
            continue
        other_train, other_validation, kinds[str(root)] = _split_kinds(others, root, validation_split, seed, limit)
        counts[OTHER] = counts.get(OTHER, 0) + len(others)
        train += other_train
        validation += other_validation
        kind_by_path.update((p, kind_of(p, root)) for p, _ in other_train + other_validation)
    rng.shuffle(train)
    from sorter.training.not_read import not_read

    return Split(train, validation, counts, kinds, kind_by_path, per_class,
                 not_read([folders[label] for label in CLASS_NAMES], _roots(folders, other_dirs)))
