"""The ranges of train's numeric options, in one place for both callers: the command line
(`cli.training`, which refuses a value as it parses it) and a Python caller of `train.train`
(`checks.check_options`), each saying `must be a whole number from L to H (got X)`, or for a
fraction `X is not a number from L to H` (nan and inf included).

Every one has an upper limit, said in one line before anything is written: a number past what
TensorFlow takes (`--epochs 99999999999999999999`: "Failed to convert elements ... to Tensor",
a traceback, and MODEL.checkpoints/ left behind) or past any run that could finish is a typo,
not a plan. Imports nothing: `sorter train --help` reads it.
"""

from __future__ import annotations

#: An epoch over even 200 photos takes seconds: 10,000 of them is days of a GPU, and the
#: fine-tune overfits within a few. --patience past it could never stop a run either.
MOST_EPOCHS = 10_000
#: 65,536 photos of 224 px a step are 39 GB of float32 input before a layer runs: more than
#: any one accelerator holds, and far past the batches that train well (64 to 1,024).
LARGEST_BATCH = 65_536
#: The network takes any square size from 32 px (its five halvings leave 1 px) up (convolutions
#: and a global pooling), but its ImageNet weights were trained at 224 px: 512 px is already 5.2
#: times the compute and memory a photo, and a cache of the frozen blocks' maps to match.
SMALLEST_IMAGE, LARGEST_IMAGE = 32, 512
#: Photos a class: a billion is more than any disk of photos holds; past it, a typo.
MOST_PER_CLASS = 1_000_000_000
#: What Keras and NumPy take for a seed.
LARGEST_SEED = 2**32 - 1

#: Each whole-number field of `loop.TrainConfig` -> its option and range (None: unset, allowed).
WHOLE_NUMBERS: dict[str, tuple[str, int, int]] = {
    "epochs": ("--epochs", 1, MOST_EPOCHS),
    "image_size": ("--image-size", SMALLEST_IMAGE, LARGEST_IMAGE),
    "seed": ("--seed", 0, LARGEST_SEED),
    "batch_size": ("--batch-size", 1, LARGEST_BATCH),
    "patience": ("--patience", 1, MOST_EPOCHS),
    "limit": ("--limit", 1, MOST_PER_CLASS),
}

#: The defaults are 2e-4 (fine-tune) and 3e-3 (small network): a peak rate past 1 or under 1e-6
#: is a typo, not a plan.
LEAST_LEARNING_RATE, LARGEST_LEARNING_RATE = 1e-6, 1.0
#: --distill weighs keeping ImageNet's answers against the classes' loss: past 100 times the
#: classes' weight, they would hardly count.
LARGEST_DISTILL = 100.0

#: Each fractional field of `loop.TrainConfig` -> its option and range (None: unset, allowed).
NUMBERS: dict[str, tuple[str, float, float]] = {
    "learning_rate": ("--learning-rate", LEAST_LEARNING_RATE, LARGEST_LEARNING_RATE),
    "distill": ("--distill", 0.0, LARGEST_DISTILL),
}


def whole_number_from(value: object, low: int, high: int) -> bool:
    """`value` is a whole number from `low` to `high`: not a bool, nor a float (3.0 either)."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def wanted(low: int, high: int, got: object) -> str:
    """What a caller is told of a value that is not `whole_number_from(low, high)`."""
    return f"must be a whole number from {low} to {high} (got {got})"


def number_within(value: object, low: float, high: float) -> bool:
    """`value` is a number from `low` to `high`: not a bool, nor nan (every comparison with nan
    is false, so it fails the range as it is), nor an infinity."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def not_a_number(low: float, high: float, got: object) -> str:
    """What a caller is told of a value that is not `number_within(low, high)`: the command line's
    own words, `nan is not a number from 0 to 100`."""
    return f"{got} is not a number from {low:g} to {high:g}"
