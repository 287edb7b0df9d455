"""Training on top of the ImageNet backbone, in a way 2 CPU cores can afford.

The network is EfficientNet-Lite0 (`sorter.model.backbone`) plus one softmax layer over cat, dog
and other. Most of it stays frozen, so it need only run once per photo:

1. *Cache.* The frozen part (stem and blocks 0-14) runs once over every photo and its output
   (a 7x7x192 map at 224 px) is kept on disk as float16, in chunks, so a killed run resumes
   where it stopped. Training photos are cached four times: as they are, and as three
   augmented views (mirrored, a random crop of 60-100% of the photo, brightness and contrast
   jitter).
2. *Probe.* The softmax layer alone is fitted on the pooled features (seconds), so the
   fine-tune below starts from a sensible head instead of a random one.
3. *Fine-tune.* The top block (block 15), the 1x1 head convolution and the softmax train
   together on the cached maps, batch norm frozen at its ImageNet statistics, with
   checkpoints every epoch and `--resume`, like the from-scratch network.

Measured on 2 CPU cores (Zen 4, AVX-512): caching costs ~7 ms a photo and view at 192 px,
~10 ms at 224; an epoch of the fine-tune over ~40,000 cached maps takes 30-60 s. Why the top
block only: with the maps cached, fine-tuning deeper would mean caching larger maps or running
the whole network every epoch, hours on a CPU; and the fine-tune already overfits its two
fixed views per photo within a few epochs (training accuracy 99.9 %, validation loss rising
from the first epoch at a peak learning rate of 5e-4), which is why there are four views.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sorter.config import CLASS_NAMES, cpu_cores
from sorter.errors import ImageError, SorterError, UsageError
from sorter.media.decoder_output import captured, quietly
from sorter.media.images import load_image
from sorter.model.arrays import opened
from sorter.model.backbone import Weights, imagenet_backbone, imagenet_classifier
from sorter.model.network import import_keras
from sorter.training import distill
from sorter.training.augment import OTHER_CROP_AREA, PET_CROP_AREA, SECOND_PET, crop_view, scene_view
from sorter.training.distribute import Distribution
from sorter.training.loop import (
    SINGLE,
    BatchDone,
    EpochDone,
    TrainConfig,
    begin,
    checkpoint_callback,
    checkpoint_dir,
    continue_from_chief,
    cosine_schedule,
    fit,
    kept_checkpoint,
    load_checkpoint,
)
from sorter.training.publish import writing, written_whole
from sorter.wording import counted

#: The last frozen block; everything above it is fine-tuned.
CUT_BLOCK = 14
CHUNK = 1024
#: Views cached per training photo: 0 is the photo as sort sees it, 1-3 augmented ones.
TRAIN_VIEWS = 4
#: Of a pet's views, the last this many are the pet pasted into a scene. Measured on the
#: validation pets pasted into validation scenes: with one scene view in four, 82.6 % of cats
#: and 86.6 % of dogs in scenes went to the right folder, most mistakes a cat taken for a dog
#: or the reverse (a small pet), not "neither".
SCENE_VIEWS = 2
#: The fine-tune keeps its last epoch, not the one of lowest validation loss. That loss is
#: measured before the temperature is fitted, so it prefers an early epoch that is less sure
#: of itself, which the temperature would have fixed; the cosine schedule ends at zero, where
#: the weights have settled. Two runs of other recipes, each judged both ways with the closer
#: look (studio pets / pets in scenes / lost to neither / hold-out mistakes): lowest loss at
#: epoch 1, 98.02 / 89.4 / 1.23 % / 18 against the last 98.12 / 91.5 / 1.18 % / 18; and 97.72 /
#: 88.0 / 1.70 % / 22 against 97.97 / 89.7 / 1.50 % / 16. The bundled v14 had its lowest at
#: epoch 3 of 3: the same model either way.
KEEP_LAST = True
#: /3: non-pets cropped down to a tenth, pets also pasted into scenes (`sorter.training.augment`).
CACHE_FORMAT = "sorter-cache/3"


@dataclass(frozen=True)
class Cached:
    maps: np.ndarray  # (n, h, w, c) float16
    labels: np.ndarray  # (n,) int
    broken: list[str]
    index: np.ndarray  # (n,) position of each map's photo in the items cached


@dataclass(frozen=True)
class Recached:
    """A cached chunk that did not read back (cut short by a full disk, a copy, a crash) was
    cached again: said, where it was done without a word, so that a disk that damages what is
    written to it shows up before it costs a model."""

    file: Path

    def line(self) -> str:
        return f"cache: {self.file} was damaged; cached again"


def build_classifier(image_size: int, n_classes: int) -> tuple[object, Weights]:
    """The backbone with its ImageNet weights and a fresh softmax over `n_classes`."""
    keras = import_keras()
    backbone, weights = imagenet_backbone(image_size)
    x = keras.layers.Dropout(0.2, name="dropout")(backbone.output)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="classes", dtype="float32")(x)
    return keras.Model(backbone.input, outputs, name="sorter_efficientnet_lite0"), weights


def split_at_cut(model):
    """(frozen bottom: pixels -> map, trainable top: map -> probabilities), sharing layers."""
    keras = import_keras()
    cut = model.get_layer(f"blocks.{CUT_BLOCK}.add").output
    bottom = keras.Model(model.input, cut, name="frozen")
    top = keras.Model(cut, model.output, name="top")
    for layer in top.layers:
        # Batch norm keeps its ImageNet statistics (and runs in inference mode) when frozen.
        layer.trainable = type(layer).__name__ != "BatchNormalization"
    return bottom, top


def _stamp(path: Path) -> str:
    try:
        info = os.stat(path)
    except OSError:
        return "-"
    return f"{info.st_size}:{info.st_mtime_ns}"


def _manifest(items, image_size: int, views: int, seed: int) -> dict:
    """What the cache was made from. Each photo's size and modification time count, not only
    its path and label: photos swapped between Cat/ and Dog/ under the same names (or a broken
    file mended) were trained on as they had been cached, at 1.7 % accuracy on themselves."""
    digest = hashlib.sha256()
    for path, label in items:
        # surrogateescape: a name that is not UTF-8 counts as its bytes (UTF-8 names as before).
        digest.update(f"{path}\t{label}\t{_stamp(path)}\n".encode("utf-8", "surrogateescape"))
    return {"format": CACHE_FORMAT, "image_size": image_size, "cut_block": CUT_BLOCK, "views": views,
            "seed": seed, "n": len(items), "items_sha256": digest.hexdigest()}


def cache_maps(
    bottom,
    items,
    folder: Path,
    *,
    views: int,
    seed: int,
    scenes: list[Path] = (),
    on_progress: Callable[[int, int], None] = lambda d, t: None,
    on_damaged: Callable[[Path], None] = lambda file: None,
) -> Cached:
    """Run the frozen bottom over every photo (and view) once, chunk by chunk on disk.
    A chunk is written whole (write-then-rename) or not at all, so a run killed at any
    point resumes at the first missing chunk."""
    size = int(bottom.input_shape[1])
    manifest = _manifest(items, size, views, seed)
    manifest_file = folder / "manifest.json"
    if folder.exists() and _read_manifest(manifest_file) != manifest:
        shutil.rmtree(folder)  # cached for other photos, sizes or views (or its manifest is damaged)
    with writing("the feature cache", folder):
        folder.mkdir(parents=True, exist_ok=True)
        manifest_file.write_text(json.dumps(manifest, indent=1))

    maps, labels, broken, positions = [], [], [], []
    chunks = math.ceil(len(items) / CHUNK)
    for index in range(chunks):
        chunk = items[index * CHUNK : (index + 1) * CHUNK]
        file = folder / f"chunk-{index:05d}.npz"
        there = file.is_file()
        read = _read_chunk(file, len(chunk), views) if there else None
        if read is None:  # not cached yet, or damaged (cut short by a full disk, a copy, a crash): cached again
            with writing("the feature cache", folder):
                _cache_chunk(bottom, chunk, file, views, seed, index, list(scenes))
            read = _read_chunk(file, len(chunk), views)
            if read is None:
                raise SorterError(f"{file}: cached again, and still does not read back")
            if there:
                on_damaged(file)
        chunk_maps, ok, errors = read
        maps.append(chunk_maps)
        labels.append(np.tile(np.array([y for _, y in chunk], np.int64)[ok], views))
        positions.append(np.tile(np.arange(index * CHUNK, index * CHUNK + len(chunk))[ok], views))
        broken += [f"{p}: {e}" for p, e in zip((str(p) for p, _ in chunk), errors.tolist(), strict=True) if e]
        on_progress(index + 1, chunks)
    if not maps:
        empty = np.zeros(0, np.int64)
        return Cached(np.zeros((0, *bottom.output_shape[1:]), np.float16), empty, broken, empty)
    return Cached(np.concatenate(maps), np.concatenate(labels), broken, np.concatenate(positions))


def _read_manifest(file: Path) -> dict | None:
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError):  # missing, or cut short
        return None


def _read_chunk(file: Path, n: int, views: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(maps, ok, errors) of a cached chunk of `n` photos, or None when the file is damaged:
    not a whole .npz (BadZipFile, a bad CRC, an array cut short) or not one of `n` photos."""
    try:
        with opened(file, SorterError) as data:
            if data is None:
                return None
            maps, ok, errors = data["maps"], data["ok"], data["errors"]
    except SorterError:
        return None
    if ok.dtype != bool or ok.shape != (n,) or errors.shape != (n,) or len(maps) != int(ok.sum()) * views:
        return None
    return maps, ok, errors


def training_view(image: np.ndarray, label: int, view: int, kin: list[np.ndarray], scenes, rng: random.Random):
    """View `view` (1 or more) of a training photo: pets a mild crop, and in the last
    SCENE_VIEWS views pasted into a scene (alone, or with another pet of its kind from `kin`); non-pets a crop
    of any size. `scenes()` decodes a random non-pet photo to paste onto."""
    pet = label < len(CLASS_NAMES)
    if pet and view >= TRAIN_VIEWS - SCENE_VIEWS:
        scene = scenes()
        if scene is not None:
            group = [image, rng.choice(kin)] if rng.random() < SECOND_PET else [image]
            return scene_view(group, scene, rng)
    return crop_view(image, rng, PET_CROP_AREA if pet else OTHER_CROP_AREA)


def _cache_chunk(bottom, chunk, file: Path, views: int, seed: int, index: int, scenes: list[Path]) -> None:
    # The scene photos pasted into pets' views are decoded while the views are made, so the
    # whole chunk, not only its first decoding, keeps what decoders print off the terminal.
    with captured():
        _cache_chunk_captured(bottom, chunk, file, views, seed, index, scenes)


def _cache_chunk_captured(bottom, chunk, file: Path, views: int, seed: int, index: int, scenes: list[Path]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    size = int(bottom.input_shape[1])

    def decode(path: Path) -> np.ndarray | str:
        try:
            return quietly(load_image, path, size)
        except ImageError as exc:
            return str(exc)

    with ThreadPoolExecutor(cpu_cores()) as pool:
        decoded = list(pool.map(decode, [p for p, _ in chunk]))
    images = [d for d in decoded if isinstance(d, np.ndarray)]
    labels = [y for (_, y), d in zip(chunk, decoded, strict=True) if isinstance(d, np.ndarray)]
    errors = np.array([d if isinstance(d, str) else "" for d in decoded])
    ok = errors == ""
    out = []
    if images:
        batch = np.stack(images)
        rng = random.Random(f"{seed}-{index}")
        kin = {y: [im for im, label in zip(images, labels, strict=True) if label == y] for y in set(labels)}

        def scene() -> np.ndarray | None:
            for _ in range(3):  # a broken scene photo: try another
                if not scenes:
                    return None
                found = decode(rng.choice(scenes))
                if isinstance(found, np.ndarray):
                    return found
            return None

        for view in range(views):
            pixels = batch if view == 0 else np.stack([
                training_view(image, label, view, kin[label], scene, rng)
                for image, label in zip(images, labels, strict=True)
            ])
            out.append(bottom.predict(pixels, batch_size=64, verbose=0).astype(np.float16))
    maps = np.concatenate(out) if out else np.zeros((0, *bottom.output_shape[1:]), np.float16)
    # Written whole or not at all: a kill or a full disk leaves no chunk half written. Not
    # fsync'd: one that a power cut tore fails its check on reading and is cached again.
    with written_whole(file, file.with_name(file.stem + ".tmp.npz"), synced=False) as temporary:
        np.savez(temporary, maps=maps, ok=ok, errors=errors)


def pooled_features(model, maps: np.ndarray) -> np.ndarray:
    """The top's pooled features of cached maps, with the weights `model` has now."""
    keras = import_keras()
    cut, pooled = model.get_layer(f"blocks.{CUT_BLOCK}.add").output, model.get_layer("features").output
    return keras.Model(cut, pooled).predict(maps, batch_size=256, verbose=0)


def _probe(model, features: np.ndarray, labels: np.ndarray, class_weight: dict[int, float], seed: int) -> None:
    """Fit the softmax layer alone on pooled features: logistic regression, in seconds."""
    keras = import_keras()
    dense = model.get_layer("classes")
    probe = keras.Sequential([keras.Input((features.shape[1],)), keras.layers.Dense(dense.units, activation="softmax")])
    probe.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    keras.utils.set_random_seed(seed)
    probe.fit(features, labels, batch_size=256, epochs=15, class_weight=class_weight, verbose=0)
    dense.set_weights(probe.layers[-1].get_weights())


def class_weights(counts, n_classes: int) -> dict[int, float]:
    """Each class counts as much as the others in the loss, however many photos it has
    (there are fewer 'other' photos than pets). `counts`: photos (views) per class."""
    total = sum(counts)
    return {c: float(total / (n_classes * counts[c])) if counts[c] else 0.0 for c in range(n_classes)}


def run_transfer(
    config: TrainConfig,
    train_items,
    val_items,
    n_classes: int,
    *,
    resume: bool,
    on_event: Callable[[EpochDone | BatchDone | Recached], None] = lambda e: None,
    on_cache: Callable[[str, int, int], None] = lambda name, done, total: None,
    dist: Distribution = SINGLE,
    check_read: Callable[[list[int]], None] = lambda read: None,
):
    """Cache, probe, fine-tune; returns (the whole network with its best weights, TrainState,
    Weights); on a worker that is not the chief, (None, TrainState, Weights). Checkpoints of
    the top part go where `sorter.training.loop` puts them.

    Under a strategy each worker caches its own share of the photos (`Distribution.shard`),
    so caching, the slow part on a CPU, divides among the workers; the chief's probe starts
    the head for everyone; the top part is trained as a copy built in the strategy's scope.
    `check_read` gets the photos of each class that decoded, the whole cluster's, once cached:
    it may refuse a class of which none did (`datasets.refuse_unread`)."""
    keras = import_keras()
    import tensorflow as tf

    keras.utils.set_random_seed(config.seed)
    ckpt = dist.scratch(checkpoint_dir(config.out))
    model, weights = build_classifier(config.image_size, n_classes)
    bottom, top = split_at_cut(model)
    cache = ckpt / f"cache-{config.image_size}px"
    if resume and dist.is_chief and not (ckpt / "state.json").is_file() and any(cache.glob("*/chunk-*.npz")):
        resume = False  # killed while caching, before any epoch: a new run, from the chunks cached
    # Before the (long) caching: on --resume, no checkpoint fails at once.
    state = begin(config, dist, resume, precision="float32", photos=(train_items, val_items))

    started = time.monotonic()
    scenes = [p for p, y in train_items if y == len(CLASS_NAMES)]  # pets are pasted onto non-pets
    train = cache_maps(bottom, dist.shard(train_items), cache / "train", views=TRAIN_VIEWS, seed=config.seed,
                       scenes=scenes, on_progress=lambda d, t: on_cache("training photos", d, t),
                       on_damaged=lambda file: on_event(Recached(file)))
    val = cache_maps(bottom, dist.shard(val_items), cache / "validation", views=1, seed=config.seed,
                     on_progress=lambda d, t: on_cache("validation photos", d, t),
                     on_damaged=lambda file: on_event(Recached(file))) if val_items else None
    cache_seconds = time.monotonic() - started
    # The whole cluster's counts: class weights, epoch length, and whether any worker has nothing.
    val_counts = np.bincount(val.labels, minlength=n_classes) if val else np.zeros(n_classes, np.int64)
    totals = dist.total([*np.bincount(train.labels, minlength=n_classes), *val_counts,
                         len(val.labels) if val else 0, float(len(train.labels) == 0)])
    counts, n_val, empty = [int(c) for c in totals[:n_classes]], int(totals[-2]), totals[-1]
    try:
        # Views, not photos (each training photo is cached TRAIN_VIEWS times): none is none all the same.
        check_read([int(t + v) for t, v in zip(totals[:n_classes], totals[n_classes:2 * n_classes], strict=True)])
        if empty:
            raise UsageError("no readable training photos" if dist.workers == 1 else
                             f"{counted(int(empty), 'worker')} {'has' if empty == 1 else 'have'} no readable training "
                             "photos: use fewer workers")
    except UsageError:
        # Refused for its photos: their features are kept for no run, since a run that goes on must
        # change the photos, and another manifest caches them again (`cache_maps`). A refused run
        # leaves no cache behind (and `publish.claimed` then removes the checkpoint folder it made).
        shutil.rmtree(cache, ignore_errors=True)
        raise
    broken = sorted(set(train.broken + (val.broken if val else [])))
    weights_by_class = class_weights(counts, n_classes)

    steps = dist.steps(sum(counts), config.batch_size)
    # Half an epoch of warm-up: the probe has already given the softmax sensible weights.
    schedule = cosine_schedule(config, steps, warmup_epochs=0.5, dist=dist)
    teacher = None
    if config.distill or (not resume and dist.is_chief):
        # The pretrained top's features: what the probe fits on, and the teacher's answers.
        pretrained = pooled_features(model, train.maps)
        if not resume and dist.is_chief:
            _probe(model, pretrained, train.labels, weights_by_class, config.seed)  # `top` shares the softmax layer
        if config.distill:
            kernel, bias = imagenet_classifier(weights)
            teacher = (distill.teacher_targets(pretrained, kernel, bias),
                       distill.teacher_targets(pooled_features(model, val.maps), kernel, bias) if val else None)
        del pretrained
    with dist.scope():
        trainer = keras.models.clone_model(top)
        trainer.set_weights(top.get_weights())
        if teacher is None:
            loss = keras.losses.SparseCategoricalCrossentropy()
            accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        else:
            trainer = distill.distilling(trainer, kernel, bias)
            loss, accuracy = distill.make_loss(n_classes, config.distill), distill.accuracy_metric(n_classes)
        trainer.compile(
            optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4),
            loss=loss,
            metrics=[accuracy],
        )
    state = continue_from_chief(trainer, config, dist, state, resume)
    state.cache_seconds += cache_seconds

    def dataset(cached: Cached, training: bool):
        # Distilling, each view's target is its class and the teacher's ImageNet answers.
        answers = None if teacher is None else teacher[0 if training else 1]
        labels = cached.labels if answers is None else distill.targets(cached.labels, answers)

        def make(repeat: bool):
            if training:
                weights = np.array([weights_by_class[c] for c in range(n_classes)], np.float32)[cached.labels]
                ds = tf.data.Dataset.from_tensor_slices((cached.maps, labels, weights))
                ds = ds.shuffle(len(cached.labels), seed=config.seed, reshuffle_each_iteration=True)
                ds = (ds.repeat() if repeat else ds).batch(config.batch_size).map(_weighted_to_float)
            else:
                ds = tf.data.Dataset.from_tensor_slices((cached.maps, labels))
                ds = (ds.repeat() if repeat else ds).batch(config.batch_size).map(_to_float)
            return ds.prefetch(tf.data.AUTOTUNE)

        return dist.dataset(make)

    callback = checkpoint_callback(keras, config, state, steps, broken, on_event, ckpt, keep_last=KEEP_LAST)
    fit(trainer, dataset(train, True), dataset(val, False) if val is not None else None, config, state, dist,
        callback, sum(counts), n_val)
    if not dist.is_chief:
        return None, state, weights
    best = load_checkpoint(keras, kept_checkpoint(ckpt, KEEP_LAST))
    if teacher is not None:
        best = distill.student(best)  # without ImageNet's output, which stays as published
    top.set_weights(best.get_weights())  # shared layers: `model` now holds the best weights
    state.broken = broken
    return model, state, weights


def _to_float(maps, labels):
    import tensorflow as tf

    return tf.cast(maps, tf.float32), labels


def _weighted_to_float(maps, labels, weights):
    import tensorflow as tf

    return tf.cast(maps, tf.float32), labels, weights
