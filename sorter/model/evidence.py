"""What ImageNet says of a photo, weighed beside the model's own head: one matrix product on
the pooled features the network computes anyway.

The fine-tuned network learnt cats, dogs and the non-pets of its training sources; on photos
from other sources it files people, farm and wild animals as pets far more often than its
validation says (issue 23). The backbone's own ImageNet classifier (the published weights
the network starts from, `_fc` of the weights package) still knows oxen, hens, bears and
suits on the fine-tuned features: on the hold-out non-pets its dog and cat classes hold a
median 8% of the probability, on validation pets 75%.

So the final logits are the head's log-probabilities plus a learnt linear term in a few numbers,
the log of ImageNet's probability mass on groups of its classes:

    logits = log p_head + masses @ weights + offset

The groups (`GROUPS`): its dog breeds, its domestic cats, its wolves, foxes and big cats, its
other mammals (bears, hoofed animals, primates), its other animals (birds, fish, reptiles,
insects), and everything else. The first models had three (dogs, cats, the rest; format 1,
still read); the animal groups let an ox or a fox weigh towards "neither" as a bus does not.

`weights` (masses x classes) and `offset` are fitted by `sorter train` on its validation photos
and pets in scenes (photos the network never trained on), not by hand and never on the
hold-out. The head's own log-probabilities pass through unchanged, so the same evidence
applies on top of a personal head (`sorter.model.personal`).

Measured with the bundled model v11's features (cross-fitted on its validation split, then
read on the hold-out, which nothing was fitted on), three masses: people left in place 80.8% ->
89.7%, farm animals 85.7% -> 94.3%, wild animals 65.1% -> 78.3%, mixed web images 69.4% ->
81.1%; studio pets 98.42% -> 98.17%, pets in scenes 87.4% -> 86.1%, calibration error unchanged
(0.47%). With v13's features, six masses against three (cross-fitted the same way, with the
second look): hold-out farm animals 95.2% -> 98.1%, wild animals 85.5% -> 89.2%, people 92.3% ->
91.0% (one photo), faces 100% and mixed web images 82.9% both unchanged, hold-out mistakes 42 ->
37; studio pets 98.10% -> 98.17%, pets in scenes 87.6% -> 88.0%, pets lost to neither 1.18% ->
1.06%. The wild dogs and cats in one group with the other mammals did the same on the hold-out
but lost more pets; a group of clothing, or "neither" weighed 1.5x, moved less or lost pets.
Cost: 1.3 M multiply-adds a photo in float, beside the network's 400 M.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sorter.errors import ModelError
from sorter.model.arrays import opened

FORMAT = "sorter-evidence/2"
#: Format 1 (three masses: dogs, cats, the rest) is still read.
FORMATS = ("sorter-evidence/1", FORMAT)
#: ImageNet's classes pooled into one mass each, in the order `weights`' rows take them; every
#: class in none of them is in a last mass, "imagenet rest". Dog breeds 151-268, domestic cats
#: 281-285; the wild animals that look most like them (wolves, foxes 269-280; big cats 286-293),
#: apart from the other mammals (bears to the giant panda, 294-388), since a pet photo often
#: puts some of its mass on a lynx or a coyote and a cow's never does; birds, fish, amphibians,
#: reptiles and invertebrates (0-150, and fish again 389-397).
GROUPS: tuple[tuple[str, tuple[range, ...]], ...] = (
    ("imagenet dog", (range(151, 269),)),
    ("imagenet cat", (range(281, 286),)),
    ("imagenet wild dogs and cats", (range(269, 281), range(286, 294))),
    ("imagenet other mammals", (range(294, 389),)),
    ("imagenet other animals", (range(0, 151), range(389, 398))),
)
#: Format 1's groups: dogs and cats only.
THREE_GROUPS = GROUPS[:2]
#: Rows whose masses `Evidence.masses` remembers (about 160 bytes each: 32 MB), before it starts again.
CACHE_ROWS = 200_000


def _log_sum(logits: np.ndarray) -> np.ndarray:
    top = logits.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))[:, 0]


def group_of_class(groups=GROUPS, classes: int = 1000) -> np.ndarray:
    """(classes,): the mass each ImageNet class counts towards (len(groups): the rest)."""
    out = np.full(classes, len(groups), np.int16)
    for index, (_, spans) in enumerate(groups):
        for span in spans:
            out[span.start : span.stop] = index
    return out


def imagenet_masses(kernel: np.ndarray, bias: np.ndarray, features: np.ndarray,
                    group_of: np.ndarray | None = None) -> np.ndarray:
    """(n, masses): the log of ImageNet's probability on each group of its classes (`GROUPS`)."""
    return _masses(np.asarray(features, np.float32) @ kernel + bias, group_of_class() if group_of is None else group_of)


def _masses(logits: np.ndarray, group_of: np.ndarray) -> np.ndarray:
    log_p = logits - _log_sum(logits)[:, None]
    masses = [_log_sum(log_p[:, group_of == g]) for g in range(int(group_of.max()) + 1)]
    return np.column_stack(masses).astype(np.float64)


@dataclass(frozen=True)
class Evidence:
    kernel: np.ndarray  # (features, 1000): ImageNet's classifier, as published
    bias: np.ndarray  # (1000,)
    weights: np.ndarray  # (masses, classes): how each mass moves each class's logit
    offset: np.ndarray  # (classes,)
    #: ImageNet's class names, for what a photo looks like ("ox"); empty when the file has none.
    names: tuple[str, ...] = ()
    #: (1000,): the mass each ImageNet class counts towards (`group_of_class`).
    group_of: np.ndarray = field(default_factory=group_of_class, repr=False)
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
            for i, row in zip(missing, imagenet_masses(self.kernel, self.bias, rows[missing], self.group_of), strict=True):
                cache[keys[i]] = row
        return np.array([cache[key] for key in keys]).reshape(len(keys), self.weights.shape[0])

    def adjust(self, probabilities: np.ndarray, features: np.ndarray) -> np.ndarray:
        """The head's probabilities with ImageNet's evidence weighed in."""
        return self._weigh(probabilities, self.masses(features))

    def judge(self, probabilities: np.ndarray, features: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
        """`adjust`, and ImageNet's top class for each photo by name ("ox", "suit", "website"),
        from one product of the features with ImageNet's classifier (sorting's hot path)."""
        logits = np.asarray(features, np.float32) @ self.kernel + self.bias
        names = [self.names[i] for i in logits.argmax(axis=1)] if self.names else [None] * len(logits)
        return self._weigh(probabilities, _masses(logits, self.group_of)), names

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
                        offset=evidence.offset.astype(np.float64), names=np.array(evidence.names, dtype=str),
                        group_of=evidence.group_of.astype(np.int16))
    temporary.replace(path)


def read_evidence(path: Path) -> Evidence:
    """Arrays only (`allow_pickle=False`): a file that holds anything else is refused."""
    def damaged(why: str) -> ModelError:
        return ModelError(f"{path}: cannot read the model's evidence file ({why})")

    with opened(path, damaged) as data:
        if data is None:
            raise damaged("no such file")
        if str(data["format"]) not in FORMATS:
            raise ModelError(f"{path}: not a sorter evidence file ({data['format']})")
        names = tuple(str(n) for n in data["names"]) if "names" in data else ()
        group_of = data["group_of"] if "group_of" in data else group_of_class(THREE_GROUPS)
        weights = data["weights"]
        if group_of.shape != (len(data["bias"]),) or weights.shape[0] != int(group_of.max()) + 1:
            raise ModelError(f"{path}: not a sorter evidence file (weights {list(weights.shape)} "
                             f"for {int(group_of.max()) + 1} masses)")
        return Evidence(data["kernel"].astype(np.float32), data["bias"].astype(np.float32),
                        weights, data["offset"], names, group_of.astype(np.int64))
