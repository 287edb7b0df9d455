"""What `--resume` goes on from: the checkpoint folder (MODEL.checkpoints/), checked to be
whole and to be of the run this command would make; and, after an interruption, what the
folder holds and so which command goes on from it.

A resumed run continues from the checkpoint's weights. With another `--seed`,
`--validation-split`, `--limit` or other photos, its split would differ, and photos the
checkpoint trained on would be this run's validation photos (the same leak `--init-from`
refuses); with another `--backbone`, `--image-size` or `--distill`, its network would. So each
checkpoint records what made its run (`identity`), and a resume that differs is refused."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from sorter.errors import SorterError, UsageError
from sorter.model.network import checkpoint_dir, has_checkpoint

#: What a resumed run must share with the run it continues, and the option that sets each
#: (None: not an option). The split first, then the network.
IDENTITY = {
    "data_dir": "DATA_DIR", "other": "--other", "seed": "--seed", "validation_split": "--validation-split",
    "limit": "--limit", "photos": None, "backbone": "--backbone", "image_size": "--image-size", "width": None,
    "distill": "--distill",
}
SPLIT = ("data_dir", "other", "seed", "validation_split", "limit", "photos")


def photos_digest(train_items, val_items) -> str:
    """Which photos went to which side, by name and class: a photo added, removed or moved
    between the folders changes the split."""
    rows = sorted(f"{side}\t{label}\t{path.name}" for side, items in (("train", train_items), ("validation", val_items))
                  for path, label in items)
    return hashlib.sha256("\n".join(rows).encode("utf-8", "surrogateescape")).hexdigest()


def identity(config, train_items, val_items) -> dict:
    """What made this run: recorded in its checkpoint, compared on `--resume` (`check_same_run`)."""
    return {
        "data_dir": str(config.data_dir.resolve()),
        "other": [str(folder.resolve()) for folder in config.other],
        "seed": config.seed,
        "validation_split": config.validation_split,
        "limit": config.limit,
        "photos": photos_digest(train_items, val_items),
        "backbone": config.backbone,
        "image_size": config.image_size,
        "width": config.width,
        "distill": config.distill,
    }


def differs(recorded: dict, ours: dict, keys) -> tuple[str, object, object] | None:
    """The first of `keys` on which a recorded run and this one differ: (key, theirs, ours).
    Keys the record lacks (an older sorter's) are not compared."""
    for key in keys:
        if key in recorded and recorded[key] != ours[key]:
            return key, recorded[key], ours[key]
    return None


def _shown(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return "none" if value is None else str(value)


def check_same_run(recorded: dict, ours: dict, ckpt: Path) -> None:
    """`--resume` continues the run in `ckpt` only as that run: one line (exit 2) otherwise."""
    found = differs(recorded, ours, IDENTITY)
    if found is None:
        return
    key, theirs, here = found
    if key == "photos":
        raise UsageError(f"--resume: the photos are not those of the interrupted run in {ckpt}/ (some were added, "
                         "removed or moved since): its split would differ, and photos it trained on could be "
                         "validation photos; run without --resume to start over")
    option = IDENTITY[key] or key
    why = ("so its split would differ, and photos it trained on could be validation photos" if key in SPLIT
           else "and its checkpoint holds that network")
    raise UsageError(f"--resume: the interrupted run in {ckpt}/ used {option} {_shown(theirs)} (here {_shown(here)}), "
                     f"{why}; give the same {option} to go on, or run without --resume to start over")


def damaged(ckpt: Path, reason: str) -> SorterError:
    return SorterError(f"--resume: the checkpoint in {ckpt}/ is damaged ({reason}); "
                       "run the same command without --resume to start over")


def read_checkpoint(ckpt: Path) -> dict:
    """The fields of the TrainState in `ckpt`/state.json, after checking that it and the
    weights (last.keras, a zip archive) are whole: a damaged checkpoint is one line (exit 1)
    before anything is built or cached, not a traceback from deep in Keras."""
    try:
        state = json.loads((ckpt / "state.json").read_bytes())
    except (OSError, ValueError) as exc:
        raise damaged(ckpt, f"state.json: {getattr(exc, 'strerror', None) or 'not JSON'}") from None
    kinds = {"config": dict, "epoch": int, "best_epoch": int, "history": list}
    if not isinstance(state, dict) or any(not isinstance(state.get(k), kind) for k, kind in kinds.items()):
        raise damaged(ckpt, "state.json: not a checkpoint's state")
    try:
        with zipfile.ZipFile(ckpt / "last.keras") as archive:
            torn = archive.testzip()  # reads every member and checks its CRC
    except (OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise damaged(ckpt, f"last.keras: {getattr(exc, 'strerror', None) or exc}") from None
    if torn is not None:
        raise damaged(ckpt, f"last.keras: {torn} does not read back")
    return state


def outputs_of(archive: Path) -> int | None:
    """How many numbers the network saved in a .keras `archive` gives for a photo (its classes,
    or 1: cat or dog), read from its config: None where it does not say."""
    try:
        with zipfile.ZipFile(archive) as opened:
            config = json.loads(opened.read("config.json"))["config"]
        names = config["output_layers"]
        name = names[0] if isinstance(names[0], str) else names[0][0]
        layer = next(layer for layer in config["layers"] if layer["config"].get("name") == name)
        return int(layer["config"]["units"])
    except Exception:  # noqa: BLE001 - any archive or config that says otherwise: not known
        return None


def resume_hint(out: Path, ours: bool = True) -> str:
    """What an interrupted run left in its checkpoint folder, and so what goes on from it.
    `ours`: the checkpoint there, if any, is this run's (an epoch of it finished, or it is the
    run --resume continues). Otherwise it is an earlier run's that this one had not cleared yet
    (interrupted while starting): promised to this command's --resume, it was refused as another
    run's (another --seed), or went on from that run instead of this one."""
    ckpt = checkpoint_dir(out)
    if has_checkpoint(out) and not ours:
        return (f"No epoch of this run had finished; the checkpoint in {ckpt}/ is an earlier run's, not this one's: "
                "run the same command again (without --resume) to start over.")
    if has_checkpoint(out):
        return f"The epochs finished are kept in {ckpt}/: the same command with --resume goes on from there."
    if any(ckpt.glob("cache-*px/*/chunk-*.npz")):
        return (f"The features cached are kept in {ckpt}/: the same command, with --resume or without it, "
                "goes on from there.")
    return "No epoch had finished and nothing was kept: run the same command again (without --resume) to start over."
