"""What `sorter train` refuses before it trains: options the command line alone makes wrong
(`check_options`), an --out among the photos it reads (`check_outside_photos`), a --holdout that
shares photos with the training data (`check_holdout`), and an --init-from trained on another
split (`parent_model`). Each a one-line error before an epoch runs, none after minutes of them.
"""

from __future__ import annotations

from sorter.errors import OptionError, UsageError


def check_holdout(config) -> None:
    """A hold-out folder is for validation only: it may share no photo with the training data
    (checked here, before training: it is scored after)."""
    from sorter.training.holdout import check_holdout as check

    if config.holdout is not None:
        check(config.holdout, (config.data_dir, *config.other),
              "training photos", "a hold-out is for validation only, never trained on")


def check_outside_photos(config) -> None:
    """`--out` may not be in a folder whose photos training reads: its curves (a PNG) and
    checkpoints would be taken for photos by the next run (`--out data/Cat/m.keras` made
    m-curves.png a cat). DATA_DIR itself is fine, since only its Cat/, Dog/ and Other/ are read
    (`sorter train . --out model.keras` in a PetImages folder), but no folder of those names
    there, made or not yet, nor anything in --other or --holdout."""
    from sorter.training.datasets import FOLDER_NAMES

    folder = config.out.parent.resolve()
    data = config.data_dir.resolve()
    if folder.is_relative_to(data) and folder != data:
        top = folder.relative_to(data).parts[0]
        if any(top.lower() in names for names in FOLDER_NAMES.values()):
            raise UsageError(f"--out {config.out} is inside {config.data_dir / top}, whose photos training reads: "
                             "its curves and checkpoints would be taken for photos; save it outside the photos")
    for option, root in [*(("--other", other) for other in config.other), ("--holdout", config.holdout)]:
        if root is not None and folder.is_relative_to(root.resolve()):
            raise UsageError(f"--out {config.out} is inside {option} {root}, whose photos are read: its curves and "
                             "checkpoints would be taken for photos; save it outside the photos")


def check_options(config) -> None:
    """What the command line alone makes wrong, refused before a folder is read: a bad value,
    or options that exclude each other (`OptionError`). What depends on the files (--init-from
    missing or trained on another split, an Other/ folder with --backbone none) is found later."""
    from sorter.training.datasets import check_validation_split
    from sorter.training.distribute import check_mode
    from sorter.training.limits import NUMBERS, WHOLE_NUMBERS, not_a_number, number_within, wanted, whole_number_from

    if config.out.suffix.lower() != ".keras":
        raise OptionError(f"must end in .keras (got {config.out})", "--out")
    for name, (option, low, high) in WHOLE_NUMBERS.items():  # as the command line checks them
        value = getattr(config, name)
        if (value is not None or name == "epochs") and not whole_number_from(value, low, high):
            raise OptionError(wanted(low, high, value), option)
    for name, (option, low, high) in NUMBERS.items():
        value = getattr(config, name)
        if value is not None and not number_within(value, low, high):
            raise OptionError(not_a_number(low, high, value), option)
    check_validation_split(config.validation_split)
    check_mode(config.distribute)
    if config.backbone == "none" and config.other:
        raise OptionError("the from-scratch network knows cats and dogs only: train non-pets with the pretrained "
                          "backbone (--backbone efficientnet-lite0)", "--other", "--backbone")
    path = config.init_from
    if path is None:
        return
    if config.backbone != "none":
        raise OptionError("fine-tunes the from-scratch network: use it with --backbone none", "--init-from",
                          "--backbone")
    if path.suffix.lower() != ".keras":
        raise OptionError(f"expected a MODEL.keras written by `sorter train` (got {path})", "--init-from")
    if path.resolve() == config.out.resolve():
        raise OptionError(f"{path} is also --out: the run would overwrite the model it starts from",
                          "--init-from", "--out")


def parent_model(config, counts: dict[str, int]) -> tuple[dict | None, list[dict]]:
    """What `--init-from` starts from (a summary for the metadata, and its epochs for the
    curves), checked to have trained on this run's training photos only: with another split,
    this run's validation photos would include photos that model learned, and the accuracy
    recorded here would flatter it."""
    from sorter.model.network import metadata_path, read_metadata

    path = config.init_from
    if path is None:
        return None, []
    if not path.is_file():  # its name and its pairing with the other options: `check_options`
        raise UsageError(f"--init-from {path}: expected a MODEL.keras written by `sorter train`")
    parent = read_metadata(path)
    training = parent.get("training")
    if not training:
        raise UsageError(f"--init-from {path}: no {metadata_path(path).name} beside it to check its training split")
    from sorter.training.datasets import recorded_counts

    # Its files per class under the name its version recorded them by (`recorded_counts`), said by this one's.
    record = training | {"files_per_class_found": recorded_counts(training)[0]}
    ours = {"seed": config.seed, "validation_split": config.validation_split, "limit": config.limit,
            "files_per_class_found": counts}
    for key, value in ours.items():  # a key its record lacks differs too: no split to compare
        if record.get(key) != value:
            raise UsageError(f"--init-from {path}: trained on another split ({key} {record.get(key)}, here "
                             f"{value}); its training photos would leak into this run's validation")
    return {
        "model": str(path),
        "image_size": parent.get("input", {}).get("size"),
        "validation_accuracy": parent.get("validation_accuracy"),
        "command": training.get("command"),
        "epochs_run": training.get("epochs_run"),
        "seconds": training.get("seconds"),
        "init_from": training.get("init_from"),
    }, list(training.get("history") or [])
