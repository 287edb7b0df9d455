"""Training on a `tf.data` pipeline: parallel decode through the shared preprocessing
function, cache, shuffle, augmentation (training only), prefetch; checkpoints every epoch
and resume. Keras and TensorFlow only; no knowledge of the CLI."""

from __future__ import annotations

import json
import math
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from sorter.errors import ImageError, UsageError
from sorter.media.decoder_output import captured, quietly
from sorter.media.images import load_image
from sorter.model.network import augmenter, build_model, has_checkpoint, import_keras
from sorter.training.distribute import Distribution
from sorter.training.publish import writing, written_whole
from sorter.training.resuming import check_same_run, checkpoint_dir, damaged, identity, outputs_of, read_checkpoint
from sorter.wording import counted

#: One process on one device: no strategy.
SINGLE = Distribution()


@dataclass(frozen=True)
class TrainConfig:
    """A training run. Options left None take the backbone's defaults (`trainer.DEFAULTS`)."""

    data_dir: Path
    out: Path
    epochs: int | None = None
    image_size: int | None = None
    validation_split: float = 0.2
    seed: int = 1337
    batch_size: int | None = None
    learning_rate: float | None = None
    patience: int = 8
    limit: int | None = None  # images per class; for quick experiments and tests
    width: int = 1
    init_from: Path | None = None  # a trained MODEL.keras to fine-tune instead of random weights
    #: "efficientnet-lite0": ImageNet-pretrained (sorter.training.transfer); "none": the small
    #: network of `build_model`, from random weights.
    backbone: str = "efficientnet-lite0"
    other: tuple[Path, ...] = ()  # folders of photos that are neither (else the data folder's Other/, if any)
    #: Non-pets from other sources, scored after training: validation only, never trained on.
    holdout: Path | None = None
    distribute: str = "none"  # see sorter.training.distribute: none, mirrored or multi-worker
    #: How much keeping ImageNet's answers weighs beside the classes while fine-tuning
    #: (`sorter.training.distill`); 0: not at all. None takes the backbone's default.
    distill: float | None = None


@dataclass(frozen=True)
class EpochDone:
    epoch: int  # 1-based
    epochs: int
    metrics: dict[str, float]
    seconds: float
    best: bool  # the lowest validation loss so far (`TrainState.best_epoch`), marked `*`


@dataclass(frozen=True)
class BatchDone:
    epoch: int
    batch: int
    batches: int


@dataclass
class TrainState:
    """Everything `--resume` needs beyond the checkpointed model itself."""

    config: dict
    epoch: int = 0  # epochs completed
    best_epoch: int = 0  # the epoch of `best_val_loss`, the lowest validation loss (marked `*`)
    best_val_loss: float = math.inf
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    broken: list[str] = field(default_factory=list)
    precision: str = "float32"  # Keras dtype policy of the training run
    cache_seconds: float = 0.0  # time spent caching the frozen backbone's features (sorter.training.transfer)
    #: What made the run (its split, its network), which a resumed run must share (`sorter.training.resuming`).
    identity: dict = field(default_factory=dict)
    #: The epoch whose weights the model ends with: `best_epoch`, or the last one with `keep_last`
    #: (a fine-tune). Early stopping counts from it. 0 in an older sorter's state: `best_epoch`
    #: was both then.
    kept_epoch: int = 0

    def __post_init__(self) -> None:
        self.kept_epoch = self.kept_epoch or self.best_epoch


def fast_precision() -> str:
    """bfloat16 mixed precision where the hardware computes it natively (a GPU, or a CPU
    with AVX512-BF16 or AMX: measured 1.56x faster steps on 2 Zen 4 cores), float32
    elsewhere (emulated bfloat16 is slower). Variables, and so saved weights, stay float32."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(f.read().split())
    except OSError:
        flags = set()
    if flags & {"avx512_bf16", "amx_bf16"}:
        return "mixed_bfloat16"
    import tensorflow as tf

    return "mixed_bfloat16" if tf.config.list_physical_devices("GPU") else "float32"


#: Training photos that set the int8 model's value ranges (see `sorter.model.lite.export_int8`).
CALIBRATION_IMAGES = 512


def calibration_images(items, image_size: int, seed: int, n: int = CALIBRATION_IMAGES) -> np.ndarray:
    """A seeded sample of training photos, decoded exactly as `sort` decodes them."""
    import random

    images = []
    with captured():
        for path, _ in random.Random(seed).sample(list(items), min(n, len(items))):
            try:
                images.append(quietly(load_image, path, image_size))
            except ImageError:
                continue  # the training run reports broken files
    if not images:
        raise UsageError("no readable training photos to calibrate the int8 model with")
    return np.stack(images)


@contextmanager
def _global_policy(keras, policy: str) -> Iterator[None]:
    """Keras's dtype policy is process-wide: set it while the model is built only, and put
    it back afterwards, also after an error."""
    before = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


def _dataset(items, config: TrainConfig, training: bool, broken: list[str], repeat: bool = False,
             read: list[int] | None = None):
    """Decoded, cached, shuffled and augmented (training), batched by `config.batch_size`;
    endless with `repeat` (under a strategy: see `Distribution.dataset`). `read` gets the
    label of each photo that decoded (once: the pipeline caches them)."""
    import tensorflow as tf

    size = config.image_size
    # Positions, not paths, go through tf.data: its strings must be UTF-8, and a photo's name
    # (or its folder's) need not be (`caf\xe9.jpg` from an old camera or a Windows share);
    # each is read in Python, by the name the folder gave.
    paths = [p for p, _ in items]

    def decode(index):
        path = paths[int(index)]
        try:
            image = quietly(load_image, path, size)
        except ImageError as exc:
            broken.append(f"{path}: {exc}")
            return np.zeros((size, size, 3), np.uint8), False
        if read is not None:
            read.append(items[int(index)][1])  # list.append: atomic under the GIL, from tf.data's threads
        return image, True

    def tf_decode(index, label):
        image, ok = tf.numpy_function(decode, [index], [tf.uint8, tf.bool])
        image.set_shape((size, size, 3))
        ok.set_shape(())
        return image, label, ok

    labels = np.array([y for _, y in items], np.float32)
    ds = tf.data.Dataset.from_tensor_slices((np.arange(len(items)), labels))
    ds = ds.map(tf_decode, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.filter(_decoded_ok).map(_drop_flag)
    ds = ds.cache()  # decoded once, then epochs read from memory
    if training:
        ds = ds.shuffle(min(len(items), 20_000), seed=config.seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(config.batch_size)
    if training:
        augment = augmenter(config.seed)
        ds = ds.map(
            lambda x, y: (augment(tf.cast(x, tf.float32), training=True), y),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.prefetch(tf.data.AUTOTUNE)


def _decoded_ok(image, label, ok):
    return ok


def _drop_flag(image, label, ok):
    return image, label


def cosine_schedule(config: TrainConfig, steps_per_epoch: int, warmup_epochs: float = 1.0, dist: Distribution = SINGLE):
    """Linear warm-up (`warmup_epochs`, at most a tenth of the run), then cosine decay to 1%
    over the remaining steps. The peak is `config.learning_rate`, scaled with the number of
    replicas under a strategy (`Distribution.learning_rate`)."""
    keras = import_keras()
    total = max(1, steps_per_epoch * config.epochs)
    warmup = min(int(steps_per_epoch * warmup_epochs), total // 10)
    peak = dist.learning_rate(config.learning_rate)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 10,
        decay_steps=total - warmup,
        alpha=0.01,
        warmup_target=peak,
        warmup_steps=warmup,
    )


def require_checkpoint(config: TrainConfig) -> Path:
    """The checkpoint folder of the run `--resume` continues, or a one-line error."""
    if not has_checkpoint(config.out):
        raise UsageError(f"nothing to resume: no checkpoint in {checkpoint_dir(config.out)}")
    return checkpoint_dir(config.out)


#: What a fresh run removes from its checkpoint folder (the backbone's feature cache stays).
RUN_FILES = ("state.json", "last.keras", "best.keras")


def begin(config: TrainConfig, dist: Distribution, resume: bool, precision: str, photos) -> TrainState:
    """The run's state before its model is built. `--resume`: the chief's checkpointed state
    (a missing or damaged checkpoint, or one of a run with another split or network than this
    one, fails at once; workers take theirs from the chief in `continue_from_chief`).
    Otherwise a new state, and this process's checkpoint folder cleared of an earlier run's
    files. `photos`: (training, validation) items, the split the run records."""
    ckpt = dist.scratch(checkpoint_dir(config.out))
    ours = identity(config, *photos)
    if resume and dist.is_chief:
        recorded = read_checkpoint(require_checkpoint(config))
        check_same_run(recorded.get("identity") or {}, ours, ckpt)
        try:
            return TrainState(**recorded)
        except TypeError:  # fields of another sorter's state
            raise damaged(ckpt, "state.json: not a checkpoint's state") from None
    if not resume:
        for stale in RUN_FILES:
            (ckpt / stale).unlink(missing_ok=True)
    ckpt.mkdir(parents=True, exist_ok=True)
    return TrainState(config={k: str(v) for k, v in asdict(config).items()}, precision=precision, identity=ours)


def continue_from_chief(model, config: TrainConfig, dist: Distribution, state: TrainState, resume: bool) -> TrainState:
    """After building and compiling a model in `dist.scope()`: on `--resume` the chief loads
    `last.keras` (weights and the optimizer's step count and moments; the learning rate
    follows the schedule compiled for this run's --epochs, so `--resume --epochs N` may change
    the horizon); then every worker takes the chief's weights, optimizer state and epoch
    counters, so that all start, stop early and end at the same step.

    The loading happens outside the scope: Keras builds a throwaway optimizer while it reads
    the archive, and a variable made in a multi-worker scope is a collective that the other
    workers, which load nothing, would never join."""
    with dist.scope():
        model.optimizer.build(model.trainable_variables)
    if resume and dist.is_chief:
        # Our own checkpoint: a weights archive, no code, read as such.
        last = checkpoint_dir(config.out) / "last.keras"
        try:
            with warnings.catch_warnings():  # Keras warns of each optimizer variable it skips: 44 lines, then fails
                warnings.simplefilter("ignore")
                model.load_weights(last)
        except ValueError:  # another network: cats and dogs only, say, where this data has non-pets
            why = ("other classes: non-pets, or none" if outputs_of(last) != model.outputs[0].shape[-1]
                   else "its layers differ")
            raise UsageError(f"--resume: the checkpoint in {checkpoint_dir(config.out)} is of another network than "
                             f"this run's ({why}); run it without --resume") from None
        except Exception as exc:  # Keras raises many types for a bad archive
            raise damaged(checkpoint_dir(config.out), f"last.keras: {_first_line(exc)}") from None
    numbers = dist.from_chief(
        [*model.weights, *model.optimizer.variables],
        [state.epoch, state.best_epoch, state.best_val_loss, state.kept_epoch],
    )
    state.epoch, state.best_epoch, state.best_val_loss = int(numbers[0]), int(numbers[1]), numbers[2]
    state.kept_epoch = int(numbers[3])
    state.config["epochs"] = str(config.epochs)
    return state


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def load_checkpoint(keras, path: Path):
    """The model a run ends with, from its checkpoint folder; a damaged one is one line."""
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a bad archive
        raise damaged(path.parent, f"{path.name}: {_first_line(exc)}") from None


def save_whole(model, path: Path) -> None:
    """`model.save(path)`, written under a temporary name and renamed, so that a kill or a full
    disk mid-save leaves the checkpoint before it, never a torn one nor the temporary file."""
    with written_whole(path, path.with_name(path.stem + ".tmp" + path.suffix)) as temporary:  # Keras wants .keras
        model.save(temporary)


def _write_whole(path: Path, text: str) -> None:
    with written_whole(path, path.with_suffix(".tmp")) as temporary:
        temporary.write_text(text)


def _start_from(keras, model, path: Path) -> None:
    """Fine-tuning: copy a trained model's weights. The network is convolutional up to its
    global pooling, so weights trained at one input size load at any other."""
    if not zipfile.is_zipfile(path):  # Keras said "File not found ... an accessible .keras zip file" of it
        raise UsageError(f"--init-from {path}: not a .keras model (not a zip file)")
    try:
        source = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a bad archive
        if "safe_mode" in str(exc):  # its paragraph on trusting the source, cut at 200 characters, said no reason
            code = "a Lambda layer" if "Lambda" in str(exc) else "a Python lambda"
            raise UsageError(f"--init-from {path}: not a loadable .keras model: it holds Python code ({code}), "
                             "which sorter does not load") from None
        raise UsageError(f"--init-from {path}: not a loadable .keras model ({_first_line(exc)})") from None
    try:
        model.set_weights(source.get_weights())
    except ValueError:
        raise UsageError(f"--init-from {path}: a different network from the one `sorter train` builds") from None


def _compile(model, config: TrainConfig, steps_per_epoch: int, dist: Distribution) -> None:
    keras = import_keras()
    schedule = cosine_schedule(config, steps_per_epoch, dist=dist)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=5e-4),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
    )


def kept_checkpoint(ckpt: Path, keep_last: bool = False) -> Path:
    """The checkpoint whose weights a run ends with (`checkpoint_callback`)."""
    return ckpt / ("last.keras" if keep_last else "best.keras")


def checkpoint_callback(
    keras, config: TrainConfig, state: TrainState, steps: int, broken: list[str], on_event, ckpt: Path,
    *, keep_last: bool = False, first_epoch: Callable[[], None] = lambda: None,
):
    """After every epoch: `best.keras` when validation loss improved, `last.keras` and
    `state.json` always (each write-then-rename) in `ckpt`, an EpochDone event, and early
    stopping after `config.patience` epochs without improvement. Under a strategy the logs
    are the whole cluster's, so every worker takes the same decisions.

    With `keep_last`, every epoch is the one kept (`state.kept_epoch`; its weights are
    `last.keras`, so no `best.keras` is written), and so no early stopping: for a fine-tune
    whose schedule ends at a learning rate of zero, judged after its temperature is fitted
    (`sorter.training.transfer.KEEP_LAST`). `state.best_epoch` and `state.best_val_loss` stay
    the epoch of lowest validation loss and that loss, and only that epoch's line is marked
    best (`*`): marked for every kept epoch, a loss that grew (0.32 to 0.63) was starred, and
    state.json paired epoch 3 with epoch 1's loss.
    `first_epoch` runs when this process's first epoch ends, before its checkpoint: every
    photo has been decoded by then, and it may refuse the run."""
    state_file = ckpt / "state.json"

    class Checkpoint(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.started = time.monotonic()
            self.checked = False

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.monotonic()

        def on_train_batch_end(self, batch, logs=None):
            on_event(BatchDone(state.epoch + 1, batch + 1, steps))

        def on_epoch_end(self, epoch, logs=None):
            if not self.checked:
                self.checked = True
                first_epoch()
            metrics = {k: float(v) for k, v in (logs or {}).items()}
            seconds = time.monotonic() - self.started
            state.epoch = epoch + 1
            state.seconds += seconds
            state.history.append(metrics)
            state.broken = sorted(set(broken))
            val_loss = metrics.get("val_loss", metrics.get("loss", math.inf))
            improved = val_loss < state.best_val_loss
            # Each file written whole (write-then-rename): a kill or a full disk mid-save leaves
            # the epoch before it, never a torn checkpoint; a full disk is one line naming the folder.
            with writing(f"the checkpoint of epoch {state.epoch}", ckpt):
                if improved:
                    state.best_val_loss = val_loss
                    state.best_epoch = state.epoch
                    if not keep_last:
                        save_whole(self.model, kept_checkpoint(ckpt))
                if keep_last or improved:
                    state.kept_epoch = state.epoch
                save_whole(self.model, ckpt / "last.keras")
                _write_whole(state_file, json.dumps(asdict(state), indent=1))
            # No validation photos (`--validation-split 0`): `improved` compares training losses, no `*`.
            on_event(EpochDone(state.epoch, config.epochs, metrics, seconds, improved and "val_loss" in metrics))
            if state.epoch - state.kept_epoch >= config.patience:
                self.model.stop_training = True  # early stopping on validation loss

    return Checkpoint()


def fit(model, train_ds, val_ds, config: TrainConfig, state: TrainState, dist: Distribution, callback,
        n_train: int, n_validation: int) -> None:
    """Run the epochs left (none when the run is complete or stopped early), for both trainers."""
    if state.epoch >= config.epochs or state.epoch - state.kept_epoch >= config.patience:
        return
    with dist.fitting(), warnings.catch_warnings():
        # "`shuffle=True` was passed, but will be ignored": the pipeline shuffles.
        warnings.filterwarnings("ignore", message=".*shuffle=True.*")
        # "Your input ran out of data": printed once, at the end of the first epoch,
        # because the filtered pipeline's length is only known after one pass.
        warnings.filterwarnings("ignore", message=".*ran out of data.*")
        model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=config.epochs,
            initial_epoch=state.epoch,
            callbacks=[callback],
            verbose=0,
            **dist.fit_steps(n_train, n_validation, config.batch_size),
        )


def run_training(
    config: TrainConfig,
    train_items,
    val_items,
    *,
    resume: bool,
    on_event: Callable[[EpochDone | BatchDone], None] = lambda e: None,
    dist: Distribution = SINGLE,
    check_read: Callable[[list[int]], None] = lambda read: None,
):
    """Train (or continue), leaving `best.keras`, `last.keras` and `state.json` in the
    checkpoint folder after every epoch. Returns (best model, TrainState); on a worker that
    is not the chief, (None, TrainState): the chief saves the model. `check_read` gets the
    photos of each class that decoded once the first epoch has decoded them all (on one
    worker: a worker sees its own share only, which may hold no cat where the cluster does)."""
    keras = import_keras()
    keras.utils.set_random_seed(config.seed)
    ckpt = dist.scratch(checkpoint_dir(config.out))
    if len(train_items) < dist.workers:
        raise UsageError("no training photos (--validation-split holds them all out)" if dist.workers == 1 else
                         f"{counted(len(train_items), 'training photo')} for {dist.workers} workers: "
                         "each needs at least one")

    broken: list[str] = []
    read: list[int] = []  # the label of each photo decoded, training and validation
    train_ds = dist.dataset(lambda repeat: _dataset(dist.shard(train_items), config, True, broken, repeat, read))
    val_ds = dist.dataset(lambda repeat: _dataset(dist.shard(val_items), config, False, broken, repeat, read)) \
        if val_items else None
    steps = dist.steps(len(train_items), config.batch_size)

    state = begin(config, dist, resume, fast_precision(), (train_items, val_items))
    # Layers take their dtype policy when built (variables stay float32 whatever it is); the
    # augmentation layers, built with the datasets above, stay float32.
    with dist.scope(), _global_policy(keras, state.precision):
        model = build_model(config.image_size, config.width)
        if config.init_from is not None and not resume and dist.is_chief:
            _start_from(keras, model, config.init_from)
        _compile(model, config, steps, dist)
    state = continue_from_chief(model, config, dist, state, resume)

    def first_epoch() -> None:
        if dist.workers == 1:
            check_read(np.bincount(np.array(read, np.int64)).tolist())

    callback = checkpoint_callback(keras, config, state, steps, broken, on_event, ckpt, first_epoch=first_epoch)
    fit(model, train_ds, val_ds, config, state, dist, callback, len(train_items), len(val_items))
    if not dist.is_chief:
        return None, state
    best = load_checkpoint(keras, kept_checkpoint(ckpt))
    # Ship weights only: a fresh, uncompiled copy (float32: the policy is back to default)
    # has no optimizer state (a third the size) and no bfloat16 casts for the int8 export.
    final = build_model(config.image_size, config.width)
    final.set_weights(best.get_weights())
    return final, state
