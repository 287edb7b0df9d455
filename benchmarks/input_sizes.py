"""Which input size should the bundled model run at? Accuracy against cost, in one run.

    python benchmarks/input_sizes.py                       # the bundled model, 144-224 px
    python benchmarks/input_sizes.py --model m.keras --sizes 160 192

The network is convolutional up to its global pooling, so the weights of one trained model run
at any input size. For each size this exports the int8 model exactly as `sorter train` does
(calibrated on the same 512 training photos), then measures on the model's validation split
(pets, and the non-pets of kinds it never trained on), through the same code `sorter
evaluate` uses:

- pets in the right folder, non-pets left in place, pets lost to neither;
- the int8 network's time per photo on one core (decoding excluded), and the photos per
  second two cores would sort if the network were all there was.

Needs TensorFlow (`pip install 'sorter[train]'`), ../shared/datasets (or SORTER_DATASETS) and
the non-pet folders the model's metadata records.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from arg_types import description, positive_int, sorter_model  # this folder is on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_features, cpu_model  # noqa: E402
from running import BUNDLED_MODEL, DATASET, as_script, need_datasets, recorded_others  # noqa: E402


def at_size(model, size: int):
    """The same network and weights, built for `size` px inputs."""
    import keras

    clone = keras.models.clone_model(model, input_tensors=keras.Input((size, size, 3), name="pixels"))
    clone.set_weights(model.get_weights())
    return clone


def per_image_ms(classifier, size: int, batch: int = 32, rounds: int = 5, run=None) -> float:
    """ms a photo of `run` (default: the classifier's `predict`) on a batch at `size`, the best of `rounds`."""
    run = run or classifier.predict
    pixels = np.random.default_rng(0).integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
    run(pixels)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run(pixels)
        best = min(best, time.perf_counter() - started)
    return 1000 * best / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=description(__doc__))
    parser.add_argument("--model", type=sorter_model, default=BUNDLED_MODEL)
    parser.add_argument("--sizes", type=positive_int, nargs="+", default=[144, 160, 176, 192, 224])
    args = parser.parse_args()
    need_datasets("dogs-vs-cats-200")

    from sorter.model.lite import LiteClassifier, export_int8
    from sorter.model.network import import_keras, read_metadata
    from sorter.training.datasets import split
    from sorter.training.evaluate import evaluate_items
    from sorter.training.loop import calibration_images

    keras = import_keras()
    meta = read_metadata(args.model)
    training = meta["training"]
    parts = split(DATASET, training["validation_split"], training["seed"], training["limit"],
                  recorded_others(training))
    model = keras.saving.load_model(args.model, safe_mode=True, compile=False)
    print(f"CPU: {cpu_model()}; features: {', '.join(cpu_features())}")
    print(f"model {args.model} (trained at {meta['input']['size']} px); validation: {len(parts.validation)} photos")
    print(f"{'size':>6s}{'pets right':>12s}{'non-pets out':>14s}{'pets lost':>11s}{'ms/photo':>10s}{'net-only /s':>13s}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path = export_int8(at_size(model, size), calibration_images(parts.train, size, training["seed"]),
                               Path(tmp) / f"m{size}.tflite")
            classifier = LiteClassifier.load(path, {"class_names": meta["class_names"]})
            result = evaluate_items(classifier, parts.validation, split="validation")
            ms = per_image_ms(LiteClassifier(path.read_bytes(), {"class_names": meta["class_names"]}, workers=1), size)
            left = f"{result.non_pets_left_out:.2%}" if result.non_pets_left_out is not None else "n/a"
            print(f"{size:>6d}{result.pet_accuracy:>12.2%}{left:>14s}{result.pets_lost_to_neither:>11.2%}"
                  f"{ms:>10.2f}{2000 / ms:>13.0f}", flush=True)


if __name__ == "__main__":
    as_script(main)
