"""Where does a photo's time go in `sorter sort`? (Issue 25: find it before making anything faster.)

    python benchmarks/profile_sort.py                 # 1,000 small and 60 phone photos (about 2 min)
    python benchmarks/profile_sort.py --small 3000    # steadier numbers

For small (200x200, copied from ../shared/datasets/dogs-vs-cats-200, else synthetic) and phone
photos (4032x3024 JPEGs, synthetic) and phone photos with EXIF thumbnails (of real cats and
dogs: `made_photos.make_thumbnailed_photos`), in one run:

- each stage of a photo's way through sort, timed alone on one thread, in milliseconds of CPU per
  photo: reading the file, the header checks, the (reduced) decode, the resize to the network's
  input, the int8 network (batches of 64), the float head and ImageNet's evidence, planning,
  the companions lookup, filing (journal intents with fsync, the renames, the marks and the
  "seen" records, in batches of 64, in a real folder), and the review page's thumbnail: for a
  large file made from the decode that fed the network, for a small one decoded again after the
  run for the least confident 100 photos of each group;
- `sorter sort` end to end as a subprocess at N and 2N photos: its CPU seconds per photo in the
  steady state ((CPU(2N) - CPU(N)) / N, so start-up cancels out), and its wall time per photo;
- what the stages leave unexplained: Python between them, threads, progress, the scan.

With EXIF thumbnails, every photo pays for the first look (reading the file's ends, the
thumbnail's decode, the network on it) and only those it leaves unsure for the whole photo's
stages (read, decode, resize, network again), counted at their share.

Prints the CPU's model and features, as the other benchmarks do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from arg_types import description, positive_int, sorter_model  # this folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from machine import cpu_features, cpu_model  # noqa: E402
from made_photos import make_phone_photos, make_small_photos, make_thumbnailed_photos  # noqa: E402
from running import BUNDLED_MODEL, as_script, sort_run  # noqa: E402

from sorter.config import cpu_cores  # noqa: E402
from sorter.files.companions import find_companions  # noqa: E402
from sorter.files.filing import file_groups  # noqa: E402
from sorter.files.journal_writer import Journal  # noqa: E402
from sorter.files.planning import Planner  # noqa: E402
from sorter.media import images  # noqa: E402
from sorter.media.exif_thumbnail import first_look  # noqa: E402
from sorter.model import lite  # noqa: E402
from sorter.model.inference import Prediction, SureEnough  # noqa: E402
from sorter.review.page import PER_GROUP, THUMB_PX, _thumbnail  # noqa: E402

BATCH = 64


def per_photo(seconds: float, count: int) -> float:
    return 1000 * seconds / count


def clock(work, items) -> float:
    """CPU seconds of this process for `work` over every item (no waiting counted; OpenCV threads too)."""
    started = time.process_time()
    for item in items:
        work(item)
    return time.process_time() - started


def stages(folder: Path, classifier) -> dict[str, float]:
    """Milliseconds of CPU per photo for each stage, one thread, on the photos of `folder`."""
    size = classifier.image_size
    paths = sorted(folder.iterdir())
    n = len(paths)
    out: dict[str, float] = {}
    data = [images.read_image_bytes(p) for p in paths]  # warm the page cache, as a second sort finds it
    out["read the file"] = per_photo(clock(images.read_image_bytes, paths), n)
    headers = []
    out["header checks"] = per_photo(clock(lambda d: (headers.append(images.read_header(d)),
                                                      images.check_header(headers[-1], d, size)), data), n)
    decoded = []
    out["decode (reduced JPEG)"] = per_photo(clock(
        lambda pair: decoded.append(images.cv2.imdecode(np.frombuffer(pair[0], np.uint8),
                                                        images._reduced_flag(pair[1], size))),
        list(zip(data, headers, strict=True))), n)
    inputs = []
    out["resize + colour order"] = per_photo(clock(
        lambda image: inputs.append(images.cv2.cvtColor(images._square(image, size), images.cv2.COLOR_BGR2RGB)),
        decoded), n)
    batches = [np.stack(inputs[i : i + BATCH]) for i in range(0, n, BATCH)]
    features = []
    out["int8 network"] = per_photo(clock(lambda batch: features.append(classifier.run(batch)), batches), n)
    kernel, bias, temperature = classifier.head

    def head(f: np.ndarray) -> None:
        p = lite.softmax(f @ kernel + bias, temperature)
        if classifier.evidence is not None:
            classifier.evidence.judge(p, f)

    out["float head + ImageNet evidence"] = per_photo(clock(head, features), n)
    planner = Planner(folder, {"cats": iter(()), "dogs": iter(())}, 0.0, lambda f: iter(()))
    out["planning"] = per_photo(clock(lambda p: planner.decide(p, "cat", 0.97, None), paths), n)
    out["companions lookup"] = per_photo(clock(find_companions, paths), n)

    filed_root = folder.parent / (folder.name + "-filed")
    shutil.copytree(folder, filed_root)
    moving = sorted(filed_root.iterdir())
    with Journal(filed_root) as journal:
        def file(chunk: list[Path]) -> None:
            file_groups(filed_root, journal, [[(p, filed_root / "cats" / p.name)] for p in chunk],
                        lambda where, names: names, [("cat", 0.97)] * len(chunk))
            journal.append_many("seen", [{"path": f"cats/{p.name}", "label": "cat", "status": "moved",
                                          "id": [1, 2, 3], "confidence": 0.97, "reason": None} for p in chunk])

        out["filing: journal + fsync + move"] = per_photo(
            clock(file, [moving[i : i + BATCH] for i in range(0, n, BATCH)]), n)
    shutil.rmtree(filed_root)
    # After the run: a thumbnail for each of the least confident PER_GROUP photos of each group
    # of the review page, decoded again (so for every photo of a folder this small).
    # In the steady state (N to 2N photos) only the thumbnails the larger run adds count: with
    # cats/ and dogs/ as the groups, none once N passes 2 x PER_GROUP.
    added = (min(2 * n, 2 * PER_GROUP) - min(n, 2 * PER_GROUP)) / n
    if all(len(d) >= images.THUMBNAIL_FROM_BYTES for d in data):  # from the first decode: a resize
        out["review thumbnails (from the first decode)"] = per_photo(clock(
            lambda image: images.shrink(image, THUMB_PX), decoded), n)
    else:
        out[f"review thumbnails ({added:.0%} of photos here)"] = added * per_photo(clock(_thumbnail, paths), n)
    return out


#: The stages a photo its first look settles never reaches: decoded whole, and the network again.
WHOLE_PHOTO = ("read the file", "header checks", "decode (reduced JPEG)", "resize + colour order", "int8 network")


def with_first_look(folder: Path, classifier, parts: dict[str, float]) -> dict[str, float]:
    """The stages of photos that carry an EXIF thumbnail: the first look for every photo, the
    whole photo's stages (`parts`) only for the share the first look leaves unsure."""
    paths = sorted(folder.iterdir())
    n, size = len(paths), classifier.image_size
    looks = []
    out = {"first look: 128 KB read, EXIF, thumbnail decode": per_photo(clock(
        lambda p: looks.append(first_look(p, size, THUMB_PX)), paths), n)}
    images_in = [look.image for look in looks if look is not None]
    batches = [np.stack(images_in[i : i + BATCH]) for i in range(0, len(images_in), BATCH)]
    out["int8 network (first look)"] = per_photo(clock(classifier.run, batches), n)
    sure = SureEnough()
    names = tuple(classifier.class_names)
    rows = np.concatenate([classifier.predict(batch) for batch in batches]) if batches else []
    settled = sum(sure(Prediction(Path(), tuple(row.tolist()), names)) for row in rows)
    share = 1 - settled / n
    for name, ms in parts.items():
        if name in WHOLE_PHOTO:
            out[f"{name} ({share:.0%} unsure)"] = share * ms
        elif not name.startswith("review"):  # the first look's thumbnail serves the review page
            out[name] = ms
    return out


def end_to_end(source: Path, n: int, work: Path, model: Path) -> dict[str, float]:
    small, large = sort_run(source, n, work, model), sort_run(source, 2 * n, work, model)
    main = (large["main_thread_cpu_s"] - small["main_thread_cpu_s"]
            if None not in (large["main_thread_cpu_s"], small["main_thread_cpu_s"]) else None)
    return {"cpu_ms": per_photo(large["cpu_s"] - small["cpu_s"], n),
            "wall_ms": per_photo(large["seconds"] - small["seconds"], n),
            "main_thread_ms": None if main is None else per_photo(main, n)}


def noise_note(total: float, whole: dict[str, float], option: str) -> str | None:
    """Why this run's split cannot be trusted, or None: sort's steady-state CPU per photo is a
    difference of two runs, and below the stages summed (a negative remainder: -2.5 ms, -49 % in
    a QA run at small N) it is noise, not a measurement; sort_speed.py's wording."""
    if whole["cpu_ms"] > 0 and whole["cpu_ms"] >= total:
        return None
    return (f"noisy: sorter sort's CPU per photo ({whole['cpu_ms']:.3f} ms) is below its stages summed "
            f"({total:.3f} ms); rerun on a quiet machine or with larger {option} N")


def show(title: str, parts: dict[str, float], whole: dict[str, float], option: str) -> None:
    print(f"\n{title}")
    total = sum(parts.values())
    for name, ms in parts.items():
        print(f"  {name:<40} {ms:>8.3f} ms  {ms / whole['cpu_ms']:>6.1%}")
    print(f"  {'stages, summed':<40} {total:>8.3f} ms  {total / whole['cpu_ms']:>6.1%}")
    print(f"  {'not in any stage (glue, threads)':<40} {whole['cpu_ms'] - total:>8.3f} ms  "
          f"{(whole['cpu_ms'] - total) / whole['cpu_ms']:>6.1%}")
    print(f"  {'sorter sort, CPU per photo':<40} {whole['cpu_ms']:>8.3f} ms  (steady state, all threads)")
    print(f"  {'sorter sort, wall per photo':<40} {whole['wall_ms']:>8.3f} ms  ({cpu_cores()} cores: "
          f"{whole['cpu_ms'] / whole['wall_ms'] / cpu_cores():.0%} of them busy)")
    if whole["main_thread_ms"] is not None:  # its share of the wall time: 100 % means more cores would not help
        print(f"  {'  of which on its main thread':<40} {whole['main_thread_ms']:>8.3f} ms  "
              f"({whole['main_thread_ms'] / whole['wall_ms']:.0%} of the wall time: planning, filing, the rest)")
    if note := noise_note(total, whole, option):
        print(f"  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--small", type=positive_int, default=1000, help="N small photos (2N are sorted end to end)")
    parser.add_argument("--phone", type=positive_int, default=60, help="N phone photos (2N are sorted end to end)")
    parser.add_argument("--model", type=sorter_model, default=BUNDLED_MODEL)
    args = parser.parse_args()
    classifier = lite.load_classifier(args.model)
    print(f"CPU: {cpu_model()}; features: {', '.join(cpu_features()) or 'unknown'}; {cpu_cores()} cores; "
          f"model {args.model} ({classifier.image_size} px)")
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        work = Path(tmp)
        for kind, title, n, make in (("small", "200x200", args.small, make_small_photos),
                                     ("phone", "4032x3024", args.phone, make_phone_photos),
                                     ("thumbnailed", "4032x3024 with EXIF thumbnails", args.phone,
                                      lambda folder, count, seed: make_thumbnailed_photos(folder, count, seed)[0])):
            every = work / f"{kind}-all"  # 2N for sort's steady state; the first N for the stages
            origin = make(every, 2 * n, seed=0)
            first = work / kind
            first.mkdir()
            for path in sorted(every.iterdir())[:n]:
                shutil.copyfile(path, first / path.name)
            parts = stages(first, classifier)
            if kind == "thumbnailed":
                parts = with_first_look(first, classifier, parts)
            show(f"{kind} photos, {title} ({origin}), {n}", parts, end_to_end(every, n, work, args.model),
                 "--small" if kind == "small" else "--phone")

if __name__ == "__main__":
    as_script(main)
