"""What ImageNet says of a photo, weighed beside the model's own head: one matrix product on
the pooled features the network computes anyway.

The fine-tuned network learnt cats, dogs and the non-pets of its training sources; on photos
from other sources it files people, farm and wild animals as pets far more often than its
validation says (issue 23). The backbone's own ImageNet classifier (the published weights
the network starts from, `_fc` of the weights package) still knows oxen, hens, bears and
suits on the fine-tuned features: on the hold-out non-pets its dog and cat classes hold a
median 8% of the probability, on validation pets 75%.

So the final logits are the head's log-probabilities plus a learnt linear term in three
numbers, ImageNet's log probability mass on its dog classes, on its domestic-cat classes and
on everything else:

    logits = log p_head + masses @ weights + offset

`weights` (3 x classes) and `offset` are fitted by `sorter train` on its validation photos
and pets in scenes (photos the network never trained on), not by hand and never on the
hold-out. The head's own log-probabilities pass through unchanged, so the same evidence
applies on top of a personal head (`sorter.model.personal`).

Measured with the bundled model v11's features (cross-fitted on its validation split, then
read on the hold-out, which nothing was fitted on): people left in place 80.8% -> 89.7%, farm
animals 85.7% -> 94.3%, wild animals 65.1% -> 78.3%, mixed web images 69.4% -> 81.1%; studio
pets 98.42% -> 98.17%, pets in scenes 87.4% -> 86.1%, calibration error unchanged (0.47%).
Cost: 1.3 M multiply-adds a photo in float, beside the network's 400 M.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sorter.errors import ModelError

FORMAT = "sorter-evidence/1"
#: ImageNet's dog breeds (151-268) and domestic cats (281-285): its classes of a pet.
DOG_CLASSES = slice(151, 269)
CAT_CLASSES = slice(281, 286)
#: The three numbers, in the order `weights`' rows take them.
MASSES = ("imagenet dog", "imagenet cat", "imagenet rest")
#: Rows whose masses `Evidence.masses` remembers (about 160 bytes each: 32 MB), before it starts again.
CACHE_ROWS = 200_000


def _log_sum(logits: np.ndarray) -> np.ndarray:
    top = logits.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))[:, 0]


def imagenet_masses(kernel: np.ndarray, bias: np.ndarray, features: np.ndarray) -> np.ndarray:
    """(n, 3): the log of ImageNet's probability on its dog classes, its cat classes, the rest."""
    return _masses(np.asarray(features, np.float32) @ kernel + bias)


def _masses(logits: np.ndarray) -> np.ndarray:
    log_p = logits - _log_sum(logits)[:, None]
    dog, cat = _log_sum(log_p[:, DOG_CLASSES]), _log_sum(log_p[:, CAT_CLASSES])
    rest = np.log(np.clip(1.0 - np.exp(dog) - np.exp(cat), 1e-9, None))
    return np.column_stack([dog, cat, rest]).astype(np.float64)


@dataclass(frozen=True)
class Evidence:
    kernel: np.ndarray  # (features, 1000): ImageNet's classifier, as published
    bias: np.ndarray  # (1000,)
    weights: np.ndarray  # (3, classes): how each mass moves each class's logit
    offset: np.ndarray  # (classes,)
    #: ImageNet's class names, for what a photo looks like ("ox"); empty when the file has none.
    names: tuple[str, ...] = ()
    _cache: dict[bytes, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def masses(self, features: np.ndarray) -> np.ndarray:
        """`imagenet_masses` of each row, remembered by the row's digest: `sorter learn` asks
        again and again for the same rows, in other subsets, while it cross-validates (measured:
        702 calls over 597,000 rows, 7.9 s of a real-photo learn, for a few thousand rows)."""
        rows = np.ascontiguousarray(features, np.float32)
        keys = [hashlib.blake2b(row, digest_size=16).digest() for row in rows]
        cache = self._cache
        missing = [i for i, key in enumerate(keys) if key not in cache]
        if missing:
            if len(cache) + len(missing) > CACHE_ROWS:
                cache.clear()
            for i, row in zip(missing, imagenet_masses(self.kernel, self.bias, rows[missing]), strict=True):
                cache[keys[i]] = row
        return np.array([cache[key] for key in keys]).reshape(len(keys), 3)

    def adjust(self, probabilities: np.ndarray, features: np.ndarray) -> np.ndarray:
        """The head's probabilities with ImageNet's evidence weighed in."""
        return self._weigh(probabilities, self.masses(features))

    def judge(self, probabilities: np.ndarray, features: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
        """`adjust`, and ImageNet's top class for each photo by name ("ox", "suit", "website"),
        from one product of the features with ImageNet's classifier (sorting's hot path)."""
        logits = np.asarray(features, np.float32) @ self.kernel + self.bias
        names = [self.names[i] for i in logits.argmax(axis=1)] if self.names else [None] * len(logits)
        return self._weigh(probabilities, _masses(logits)), names

    def _weigh(self, probabilities: np.ndarray, masses: np.ndarray) -> np.ndarray:
        logits = np.log(np.clip(np.asarray(probabilities, np.float64), 1e-30, None))
        logits += masses @ self.weights + self.offset
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)


def write_evidence(path: Path, evidence: Evidence) -> None:
    """Written whole (write-then-rename), as the head is; plain arrays only.
    float16 halves the file (2.4 MB): the logits move by less than 1e-3, the masses by less."""
    temporary = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(temporary, format=np.array(FORMAT), kernel=evidence.kernel.astype(np.float16),
                        bias=evidence.bias.astype(np.float32), weights=evidence.weights.astype(np.float64),
                        offset=evidence.offset.astype(np.float64), names=np.array(evidence.names, dtype=str))
    temporary.replace(path)


def read_evidence(path: Path) -> Evidence:
    """Arrays only (`allow_pickle=False`): a file that holds anything else is refused."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != FORMAT:
                raise ModelError(f"{path}: not a sorter evidence file ({data['format']})")
            names = tuple(str(n) for n in data["names"]) if "names" in data else ()
            return Evidence(data["kernel"].astype(np.float32), data["bias"].astype(np.float32),
                            data["weights"], data["offset"], names)
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read the model's evidence file ({exc})") from None
