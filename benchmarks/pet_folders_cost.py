"""What does finding the named pets' folders cost a sort, and each batch of a watch, in a folder
where they were not learnt (`files.pet_folders`)?

    python benchmarks/pet_folders_cost.py                        # 300 sub-folders of cats/, 3 pets
    python benchmarks/pet_folders_cost.py --folders 1500 --pets 6

Builds, in a temporary folder, cats/ with --photos files at its top and --folders sub-folders of
20 photos each, named as a camera names them (IMG_0000.jpg), as the pets' proof photos are; the
pets were learnt elsewhere, their sizes and times recorded (none matches here). Then times, the
best of --rounds: `find` (what every sort and every watch batch pays), `find` then a photo of
one pet filed (`PetFolders.looked_for`: her folder looked for by her photos, once a run or batch),
and what the review page pays at each reload and Name…: every pet looked for (`Looked`), then
asked again with cats/ and dogs/ unchanged (their times set back: a folder changed within 2 s is
looked in again).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from arg_types import description, non_negative_int, positive_int  # this folder is on sys.path
from running import as_script  # this folder is on sys.path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--folders", type=non_negative_int, default=300, help="sub-folders of cats/")
    parser.add_argument("--photos", type=positive_int, default=5000, help="photos at the top of cats/")
    parser.add_argument("--pets", type=non_negative_int, default=3, help="named cats, learnt elsewhere")
    parser.add_argument("--rounds", type=positive_int, default=30)
    args = parser.parse_args()
    from sorter.files.pet_folders import Looked, find

    with tempfile.TemporaryDirectory(prefix="sorter-pet-folders-") as tmp:
        root = Path(tmp)
        (root / "cats").mkdir()
        (root / "dogs").mkdir()
        for i in range(args.photos):
            (root / "cats" / f"IMG_{i:05d}.jpg").write_bytes(b"x")
        for j in range(args.folders):
            folder = root / "cats" / f"2019-{j:04d}"
            folder.mkdir()
            for i in range(20):
                (folder / f"IMG_{i:04d}.jpg").write_bytes(b"x")
        pets = [f"cats/Pet{k}" for k in range(args.pets)]
        proof = tuple((f"IMG_{i:04d}.jpg", 1, 5000 + i, 1234567, 1_600_000_000_000_000_000) for i in range(8))
        homes = [(pet, f"/elsewhere/A/{pet}", 1, 1000 + k, proof, "") for k, pet in enumerate(pets)]
        for kind in ("cats", "dogs"):
            os.utime(root / kind, ns=(1_600_000_000_000_000_000,) * 2)

        def found() -> None:
            find(root, pets, homes)

        def one_filed() -> None:
            find(root, pets, homes).looked_for(pets[:1])

        def every_pet() -> None:
            Looked(root).now(pets, homes)

        looked = Looked(root)

        def unchanged() -> None:
            looked.now(pets, homes)

        print(f"{args.folders} sub-folders of cats/, {args.photos} photos at its top, {args.pets} pets learnt elsewhere:")
        for name, call in (("find", found), ("find, then a photo of one pet filed", one_filed),
                           ("a review's reload: every pet looked for", every_pet),
                           ("a review's reload again, cats/ and dogs/ unchanged", unchanged)):
            call()
            best = float("inf")
            for _ in range(args.rounds):
                started = time.perf_counter()
                call()
                best = min(best, time.perf_counter() - started)
            print(f"  {name}: {best * 1000:.2f} ms")


if __name__ == "__main__":
    as_script(main)
