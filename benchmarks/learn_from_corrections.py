"""Does `sorter learn` make fewer mistakes of the kinds a user put right? Issue 18's targets.

1. Sort folder A (cats, dogs and photos that are neither, none the model trained on).
2. Put its mistakes right as a user would: `mv` each wrongly filed photo to where it belongs
   (cats/, dogs/, or out of them: neither).
3. `sorter learn A`, timed (wall clock and peak RSS).
4. Sort folder B (other photos of the same kinds) with the bundled decisions (`--no-personal`)
   and with the personal model: mistakes per kind (true -> decided) before and after, and pets
   put in the right folder before and after.

    python benchmarks/learn_from_corrections.py --model /tmp/small.keras
    python benchmarks/learn_from_corrections.py --per-kind 300 --others everyday-not-pets

The model needs pooled features and a reference set (MODEL.reference.npz; see
benchmarks/make_reference_set.py). Photos are copied into a temporary folder, never into the
project. The personal model is written to a temporary XDG_DATA_HOME, not the user's.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from arg_types import description, existing_dir, positive_int, sorter_model  # this folder is on sys.path
from running import as_script, need_datasets, not_found, recorded_others, shared_dataset  # this folder is on sys.path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
FOLDER_OF = {"cat": "cats", "dog": "dogs", "other": None}


def photos(
    model: Path, per_kind: int, others: Path, seed: int, recurring: list[Path] = ()
) -> tuple[dict[Path, str], dict[Path, str]]:
    """Two disjoint folders' worth of labelled photos (path -> cat/dog/other) that the model
    never trained on; each `recurring` folder (non-pets
    the model gets wrong again and again: the neighbour's goats) split between the two."""
    from sorter.model.network import read_metadata
    from sorter.training.datasets import list_labelled, split

    training = read_metadata(model).get("training") or {}
    data = shared_dataset("dogs-vs-cats-200")
    used: set[Path] = set()
    if "seed" in training:
        recorded = recorded_others(training)
        parts = split(data, float(training["validation_split"]), int(training["seed"]), training.get("limit"), recorded)
        # Validation photos were never trained on, and the bundled model's split uses every
        # pet and every everyday photo of ../shared: the folders come from its validation side.
        used = {p.resolve() for p, _ in parts.train}
    pets = list_labelled(data)
    pool = {label: [p for p in pets[label] if p.resolve() not in used] for label in ("cat", "dog")}
    pool["other"] = [p for p in list_labelled(data, (others,))["other"]
                     if p.resolve() not in used and p.parent.resolve() not in {f.resolve() for f in recurring}]
    rng = random.Random(seed)
    a: dict[Path, str] = {}
    b: dict[Path, str] = {}
    for label, paths in pool.items():
        chosen = rng.sample(paths, min(len(paths), 2 * per_kind))
        a |= dict.fromkeys(chosen[: len(chosen) // 2], label)
        b |= dict.fromkeys(chosen[len(chosen) // 2 :], label)
    for folder in recurring:
        chosen = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        rng.shuffle(chosen)
        a |= dict.fromkeys(chosen[: len(chosen) // 2], "other")
        b |= dict.fromkeys(chosen[len(chosen) // 2 :], "other")
    return a, b


def copy_folder(files: dict[Path, str], root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Copies named by index (names in the datasets repeat across classes): (name -> label,
    name -> the folder it came from)."""
    root.mkdir(parents=True)
    names, origin = {}, {}
    for i, (path, label) in enumerate(sorted(files.items())):
        name = f"{i:05d}{path.suffix.lower()}"
        shutil.copyfile(path, root / name)
        names[name], origin[name] = label, path.parent.name
    return names, origin


def decisions(root: Path, model: Path, personal: bool) -> dict[str, str]:
    """name -> what a sort would do with it (cat, dog, neither): a dry run, so nothing moves."""
    from sorter.sorting import sort

    decided: dict[str, str] = {}

    def note(result) -> None:
        if result.status in ("planned", "moved"):
            decided[result.path.name] = result.label
        elif result.status in ("neither", "unsure"):
            decided[result.path.name] = "other"

    sort.sort_folder(root, model=model, dry_run=True, on_result=note, personal=personal)
    return decided


def said(label: str) -> str:
    return "neither" if label == "other" else label


def mistakes(names: dict[str, str], decided: dict[str, str], only: set[str] | None = None) -> dict[str, int]:
    """Mistakes per kind, named as `sorter learn` names the correction: "dog -> cat" is a cat
    sorter called a dog. `only`: the photos of these names alone."""
    kinds: dict[str, int] = {}
    for name, label in names.items():
        if only is not None and name not in only:
            continue
        if decided.get(name, label) != label:
            kind = f"{said(decided[name])} -> {said(label)}"
            kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def pets_right(names: dict[str, str], decided: dict[str, str]) -> tuple[int, int]:
    pets = [n for n, label in names.items() if label != "other"]
    return sum(decided.get(n) == names[n] for n in pets), len(pets)


def correct(root: Path, names: dict[str, str]) -> int:
    """`mv` every photo sorter filed wrongly (or left out wrongly) to where it belongs."""
    moved = 0
    for path in [p for p in root.rglob("*") if p.is_file() and ".sorter" not in p.parts]:
        label = names[path.name]
        where = FOLDER_OF[label]
        here = path.parent.name if path.parent != root else None
        if here != where:
            target = (root / where if where else root) / path.name
            target.parent.mkdir(exist_ok=True)
            os.rename(path, target)
            moved += 1
    return moved


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--model", type=sorter_model, help="MODEL.keras with pooled features (default: the bundled model)")
    parser.add_argument("--per-kind", type=positive_int, default=300,
                        help="photos of each of cat, dog, other in each folder")
    parser.add_argument("--others", type=existing_dir, default=shared_dataset("everyday-not-pets"), help="non-pet photos")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--recurring", default="okapi,panda",
                        help="Caltech-101 kinds split between A and B: subjects a user has again and again ('' for none)")
    args = parser.parse_args()
    need_datasets("dogs-vs-cats-200", *(["caltech101-not-pets"] if args.recurring else []))
    if not args.others.is_dir():
        sys.exit(not_found("everyday-not-pets", args.others, "--others"))

    from sorter.config import BUNDLED_MODEL
    from sorter.learning import learn as learning
    from sorter.sorting import sort
    from sorter.wording import counted

    model = args.model or BUNDLED_MODEL
    with tempfile.TemporaryDirectory(prefix="learn-bench-") as tmp:
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")
        recurring = [shared_dataset("caltech101-not-pets") / k for k in args.recurring.split(",") if k]
        a_files, b_files = photos(model, args.per_kind, args.others, args.seed, recurring)
        a, b = Path(tmp) / "A", Path(tmp) / "B"
        (a_names, _), (b_names, b_origin) = copy_folder(a_files, a), copy_folder(b_files, b)
        print(f"model: {model}\nfolder A: {counted(len(a_names), 'photo')}, folder B: {len(b_names):,} (cat, dog, other: "
              f"{args.per_kind} each at most; non-pets from {args.others.name}; recurring subjects: "
              f"{', '.join(k.name for k in recurring) or 'none'})")

        sort.sort_folder(a, model=args.model)
        a_decided = {p.name: (p.parent.name[:-1] if p.parent != a else "other")
                     for p in a.rglob("*") if p.is_file() and ".sorter" not in p.parts}
        corrected = mistakes(a_names, a_decided)
        moved = correct(a, a_names)
        print(f"A: sorted, then {counted(moved, 'photo')} put right by mv: "
              + ", ".join(f"{k} {n}" for k, n in sorted(corrected.items(), key=lambda kv: -kv[1])))

        started, rss_before = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = learning.learn(a, model=args.model)
        seconds = time.monotonic() - started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"learn: {seconds:.1f} s (peak RSS of this process {rss:.0f} MB, {rss_before / 1024:.0f} MB before), "
              f"pull {result.pull}, {result.examples} examples, {counted(result.kept, 'kept photo')} as anchors")
        if result.reference is not None:
            r = result.reference
            print(f"  reference pets (held-out half, {r.pets}): wrong {r.wrong_before} -> {r.wrong_after}; "
                  f"non-pets ({r.others}): wrong {r.others_wrong_before} -> {r.others_wrong_after}")
        for k in result.kinds:
            print(f"  {k.kind}: {counted(k.photos, 'photo')}, bundled right {k.bundled_right}, "
                  f"personal right held out {k.personal_right}")
        if result.unsafe:  # the model's own head kept: nothing to measure
            print(f"corrections not learnt: {result.unsafe}")
            return

        before, after = decisions(b, args.model, False), decisions(b, args.model, True)
        m_before, m_after = mistakes(b_names, before), mistakes(b_names, after)
        print("\nB, mistakes per kind (bundled -> personal):")
        total_before = total_after = 0
        for kind in sorted(set(m_before) | set(m_after), key=lambda k: -m_before.get(k, 0)):
            mark = " (corrected in A)" if kind in corrected else ""
            print(f"  {kind}: {m_before.get(kind, 0)} -> {m_after.get(kind, 0)}{mark}")
            if kind in corrected:
                total_before += m_before.get(kind, 0)
                total_after += m_after.get(kind, 0)
        for folder in recurring:
            mine = {n for n, o in b_origin.items() if o == folder.name}
            print(f"B, {folder.name} ({counted(len(mine), 'photo')}, a recurring subject): mistakes "
                  f"{sum(mistakes(b_names, before, mine).values())} -> {sum(mistakes(b_names, after, mine).values())}")
        right_before, pets = pets_right(b_names, before)
        right_after, _ = pets_right(b_names, after)
        if total_before:
            fewer = 1 - total_after / total_before
            print(f"\nB, mistakes of the kinds corrected in A: {total_before} -> {total_after} ({fewer:.0%} fewer; "
                  f"target at least 40%): {'PASS' if fewer >= 0.4 else 'MISS'}")
        else:  # a share of none is no PASS and no MISS (it printed "0 -> 0 (nan% fewer)")
            print("\nB, mistakes of the kinds corrected in A: no mistakes of those kinds in B: nothing to measure")
        drop = (right_before - right_after) / pets if pets else 0.0
        print(f"B, pets in the right folder: {right_before}/{pets} -> {right_after}/{pets} "
              f"({-drop + 0.0:+.1%} points; target at most 0.5 worse): {'PASS' if drop <= 0.005 else 'MISS'}")
        print(f"learn time: {seconds:.1f} s for {counted(len(a_names), 'photo')} (target <= 60 s for 2,000)")


if __name__ == "__main__":
    as_script(main)
