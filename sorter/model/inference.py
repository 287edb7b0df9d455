"""Classify a stream of files on one thread per core: files are decoded one per task (OpenCV
releases the GIL) and decoded batches go through the model as tasks of the same pool
(LiteRT releases it too), so decoding and inference share the cores without waiting on
each other. Memory stays flat: about 2 x QUEUED photos are in flight (2 x workers + 1
batches where that is more; a batch's second look, below, is part of it), each with its
decode for a closer look (`media.images.Picture`, at most twice the input's side), and a batch is
smaller where there are more workers (`network_batch`), so that the interpreters' memory does
not grow with the cores.

What decoders print on stderr while they work (libjpeg's "Corrupt JPEG data: ...") is kept off
the terminal and comes back as the file's `warnings` (see `sorter.media.decoder_output`).

A first look (`classify(first_look=...)`, what sort and watch ask for): a large JPEG that carries
an EXIF thumbnail is judged on it (`sorter.media.exif_thumbnail`), and only a photo the
thumbnail leaves unsure is decoded whole and judged again, as a batch of its own that goes
ahead of the queue; the answers still come out in input order."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path

import numpy as np

from sorter.config import CLASS_NAMES, OTHER, cpu_cores
from sorter.errors import ImageError
from sorter.media.decoder_output import attribute, beside, captured
from sorter.media.exif_thumbnail import FirstLook
from sorter.media.exif_thumbnail import first_look as look_first
from sorter.media.folders import is_video_name
from sorter.media.images import Picture, load_picture
from sorter.media.videos import Verdict, decide, load_frames
from sorter.model.network import Classifier
from sorter.model.pet_heads import Nearly
from sorter.model.second_look import MARGIN, Box

#: How sure the model must be of a JPEG's EXIF thumbnail for its answer to stand, the photo never
#: decoded: a cat or a dog at FIRST_LOOK_CONFIDENCE, neither at FIRST_LOOK_NEITHER. Chosen with
#: benchmarks/first_look.py on phone-like JPEGs with 160x120 thumbnails made from the v12 model's
#: validation pets (4,000), validation non-pets (1,426; 1,372 with issue 23's split by source),
#: pets in scenes (1,000, on either split's backdrops) and hold-out (468), against the whole
#: photo's answers. Pets in scenes decide: a pet small in its scene can vanish in 160x120 pixels,
#: or pass for the other pet. With issue 23's split a cat or dog at 0.95 lost 0.50 points of
#: them (5 answers, the surest 0.985; none with the earlier split), at 0.98 0.10, at 0.99 none
#: on either. "Neither" at 0.999 lost 0.30 and 0.10 (the surest wrong one was 0.99978), at
#: 0.9999 none. So no answer of any table changed,
#: and the thumbnail settled 86 % of the pets, 29-30 % of pets in scenes, 36-42 % of non-pets,
#: 12 % of the hold-out (63-64 % of all). Measured again on v13 (trained on issue 23's split): no
#: answer of any table changed at 0.99 / 0.9999 (at 0.97, one pet in a scene); 62 % settled. With
#: the evidence's six masses and the second look's tighter crop: one pet in a scene of 1,000
#: changed (-0.1 point), one studio pet went right, 63 % settled.
#: A retrained model needs measuring again.
FIRST_LOOK_CONFIDENCE = 0.99
FIRST_LOOK_NEITHER = 0.9999


@dataclass(frozen=True)
class SureEnough:
    """When a first look is the answer: how sure of a cat or dog (`sort` raises it to
    --min-confidence), and how sure of neither."""

    pet: float = FIRST_LOOK_CONFIDENCE
    neither: float = FIRST_LOOK_NEITHER

    def __call__(self, prediction: Prediction) -> bool:
        threshold = self.neither if prediction.label == OTHER else self.pet
        return prediction.confidence is not None and prediction.confidence >= threshold


#: Names that may be JPEGs: the only files with an EXIF thumbnail worth a first look.
JPEG_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".jfif"})


@dataclass(frozen=True)
class Prediction:
    path: Path
    probabilities: tuple[float, ...] | None  # one per class name; None when the file could not be decoded
    class_names: tuple[str, ...] = CLASS_NAMES
    error: str | None = None
    #: What the decoder printed about this file ("Corrupt JPEG data: ..."), decoded or not.
    warnings: tuple[str, ...] = ()
    #: A named pet of the personal model (its sub-folder: "Luna" of cats/Luna/), when recognised.
    pet: str | None = None
    #: A video's decision from its frames (`videos.decide`); `probabilities` are then its frames' mean.
    video: Verdict | None = None
    #: What ImageNet sees in the photo ("ox"), for a model that carries its evidence (`sorter.model.evidence`).
    looks_like: str | None = None
    #: The photo for people (BGR, small), when `classify` was asked for thumbnails.
    thumbnail: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: Where the pet is in a photo filed as a cat or dog (`second_look.filed_boxes`): the review
    #: page's thumbnail is cut around it. None for neither, a video, or a model without a map.
    pet_box: Box | None = None
    #: A photo a named pet's head looked at and did not name: how close it came (`pet_heads.Nearly`).
    nearly: Nearly | None = None

    @property
    def _top(self) -> int | None:
        # A tie goes to the later class: dog over cat (as when p_dog >= 0.5 meant dog), and
        # neither over a pet, so a coin toss leaves the photo where it is.
        if self.probabilities is None:
            return None
        return max(range(len(self.probabilities)), key=lambda i: (self.probabilities[i], i))

    @property
    def label(self) -> str | None:
        if self.video is not None:
            return self.video.label
        top = self._top
        return None if top is None else self.class_names[top]

    @property
    def confidence(self) -> float | None:
        if self.video is not None:
            return self.video.confidence
        top = self._top
        return None if top is None else self.probabilities[top]


@dataclass(frozen=True)
class _Unsure:
    """A photo its first look left unsure: decoded whole and judged again."""

    path: Path


def _decode(
    path: Path, size: int, thumbnail: int | None = None, first_look: bool = False, videos: bool = True,
) -> np.ndarray | str | Picture | FirstLook:
    """A photo: its `Picture` (the network's input, the decode it came from, and with
    `thumbnail` its thumbnail for people: BGR, the longer side at most `thumbnail` pixels);
    a video (by its name, with `videos`): its frames, (n, size, size, 3). With `first_look`, a
    JPEG's EXIF thumbnail where it has a usable one."""
    try:
        if videos and is_video_name(path.name):
            return load_frames(path, size)
        if first_look and path.suffix.lower() in JPEG_SUFFIXES:
            look = look_first(path, size, thumbnail)
            if look is not None:
                return look
        # A thumbnail larger than the network's input would need a finer decode, and the input
        # must be decoded exactly as training decodes it: then the review page makes its own.
        return load_picture(path, size, thumbnail)
    except ImageError as exc:
        return str(exc)
    except Exception as exc:  # a decoder bug must cost one file, not the run
        return f"cannot decode: {type(exc).__name__}: {exc}"


Decoded = tuple[np.ndarray | str, tuple[str, ...]]  # the picture or why not, and what the decoder printed


def _apart(decoded: list[tuple[Path, Decoded]]) -> tuple[list[tuple[Path, Decoded]], list[np.ndarray | None],
                                                       list[Picture | None]]:
    """The network's inputs, the thumbnails decoded with them (None where there is none), and
    the photos' `Picture`s for a closer look (None for a video's frames and an EXIF thumbnail)."""
    pictures, thumbnails, closer = [], [], []
    for path, (result, printed) in decoded:
        picture, thumbnail, whole = result, None, None
        if isinstance(result, FirstLook):
            picture, thumbnail = result.image, result.thumbnail
        elif isinstance(result, Picture):
            picture, thumbnail, whole = result.image, result.thumbnail, result
        pictures.append((path, (picture, printed)))
        thumbnails.append(thumbnail)
        closer.append(whole)
    return pictures, thumbnails, closer


def _closer_rows(decoded: list[tuple[Path, Decoded]], wholes: list[Picture | None]) -> list[Picture | None]:
    """Per row of the batch `decoded` makes (a video: one per frame), the photo to look at
    closer where the model is unsure (`second_look`), or None."""
    return [row for (_, (d, _)), whole in zip(decoded, wholes, strict=True) if isinstance(d, np.ndarray)
            for row in ([None] * len(d) if d.ndim == 4 else [whole])]


def _predict(classifier: Classifier, decoded: list[tuple[Path, Decoded]],
             sure: SureEnough | None = None) -> list[Prediction | _Unsure]:
    """The batch's predictions; a first look that is not `sure` enough is `_Unsure` instead."""
    first = [isinstance(result, FirstLook) for _, (result, _) in decoded]
    predictions = _predictions(classifier, decoded)
    return [_Unsure(p.path) if looked and not (sure is not None and sure(p)) else p
            for p, looked in zip(predictions, first, strict=True)]


def _predictions(classifier: Classifier, decoded: list[tuple[Path, Decoded]]) -> list[Prediction]:
    decoded, thumbnails, wholes = _apart(decoded)
    names = tuple(classifier.class_names)
    # A video's frames join the batch: one model call for the photos and videos of a batch.
    images = [d if d.ndim == 4 else d[None] for _, (d, _) in decoded if isinstance(d, np.ndarray)]
    closer = _closer_rows(decoded, wholes)
    # A personal model also names the pets it recognises (`personal_classifier.PersonalClassifier`), and a
    # model with ImageNet's evidence says what each photo looks like (`lite.LiteClassifier`).
    named = getattr(classifier, "predict_named", None)
    if not images:
        probabilities, pets, looks, boxes, nearly = np.zeros((0, len(names))), [], [], [], []
    elif named is not None:
        probabilities, pets, looks, boxes, nearly = named(np.concatenate(images), closer)
    else:
        probabilities = classifier.predict(np.concatenate(images))
        pets = looks = boxes = nearly = [None] * sum(len(i) for i in images)
    probabilities, start = np.asarray(probabilities), 0
    predictions = []
    for (path, (result, printed)), thumbnail in zip(decoded, thumbnails, strict=True):
        if not isinstance(result, np.ndarray):
            predictions.append(Prediction(path, None, names, result, printed))
            continue
        end = start + (len(result) if result.ndim == 4 else 1)
        rows, named_pets, seen_as = probabilities[start:end], list(pets[start:end]), looks[start:end]
        start = end
        if result.ndim == 3:
            predictions.append(Prediction(path, tuple(rows[0].tolist()), names, warnings=printed, pet=named_pets[0],
                                          looks_like=seen_as[0], thumbnail=thumbnail, pet_box=boxes[end - 1],
                                          nearly=nearly[end - 1]))
            continue
        verdict = decide(rows, names)
        # A named pet when most of the frames that show one agree on its name.
        voted = [p for p in named_pets if p is not None]
        pet = max(set(voted), key=voted.count) if voted else None
        pet = pet if pet is not None and voted.count(pet) * 2 > verdict.pet_frames else None
        predictions.append(Prediction(path, tuple(rows.mean(axis=0).tolist()), names, warnings=printed,
                                      pet=pet if verdict.label != "other" else None, video=verdict))
    return predictions


def _features(classifier, decoded: list[tuple[Path, Decoded]], run=None) -> list[tuple[Path, np.ndarray | str]]:
    """The pooled features of each decoded photo, by `run(batch, its Pictures)` if given."""
    decoded, _, wholes = _apart(decoded)
    # What the decoder printed is kept off the terminal and dropped: `learn` reports only the
    # photos it could not read, and a photo that decodes with a warning is still learnt from.
    images = [d for _, (d, _) in decoded if isinstance(d, np.ndarray)]
    rows = iter((run(np.stack(images), _closer_rows(decoded, wholes)) if run else classifier.run(np.stack(images)))
                if images else [])
    return [(path, next(rows) if isinstance(result, np.ndarray) else result) for path, (result, _) in decoded]


def _pet_features(classifier, decoded: list[tuple[Path, Decoded]], margin: float
                  ) -> list[tuple[Path, np.ndarray | str]]:
    from sorter.model.second_look import pet_features

    return _features(classifier, decoded,
                     lambda batch, pictures: np.stack(pet_features(classifier, batch, pictures, margin), axis=1))


#: Photos in the network at once over all workers, at most (where batches stay above the
#: smallest): an interpreter's memory grows with its batch, about 2.7 MB a photo at 224 px
#: (benchmarks/network_batch.py: 16 interpreters held 3.0 GB at batches of 64, 0.5 GB at 8).
IN_NETWORK = 128


#: Photos queued for the network, at least, and as many decoding ahead of them (a few MB).
QUEUED = 128


#: The largest batch. The network is faster a photo at 32 than at 64 (EPYC with VNNI, 2 threads:
#: 1.26 against 1.29 ms, one thread 2.29 against 2.56), and so, since the closer look, is sort:
#: `sorter sort --dry-run` of 4,000 small photos on 2 cores, alternating, three runs each, took
#: 6.81-6.90 s at 32, 6.89-7.09 s at 16, 7.16-7.45 s at 64 (7 % more photos a second at 32).
MAX_BATCH = 32


def network_batch(workers: int) -> int:
    """Photos per network call: 32 on 2 and 4 cores, 16 on 8, 8 on 16, 4 from 32 on.

    Smaller batches cost the network nothing (on one thread it was even faster a photo: EPYC
    with VNNI 2.1 ms at 8 to 16 against 2.2-2.5 at 64; a 16-core Xeon 6.5 ms at 16 against 11.4
    at 64), but sort as a whole does not always follow: on the 16-core Xeon batches of 4
    sorted 30-50 % slower than of 64 (the Python around each call, paid per batch, with many
    workers sharing the GIL; the head and ImageNet's evidence are not it, 0.03-0.05 ms a photo
    at any batch). So a batch is as large as memory allows up to MAX_BATCH, and never below 4."""
    return max(4, min(MAX_BATCH, IN_NETWORK // workers))


def features(
    classifier, paths: Iterable[Path], *, batch_size: int | None = None, pets: bool = False,
    margin: float = MARGIN,
) -> Iterator[tuple[Path, np.ndarray | str]]:
    """(path, pooled features) per path, in input order, for a model whose .tflite ends at its
    pooled features (`LiteClassifier.run`); (path, why) for a file that cannot be decoded.
    The same decoding and the same pool as `classify`: what `sorter learn` fits on is what
    `sort` runs. With `pets`, each photo's row is (2, features): its pooled features and
    the features that name a pet (`second_look.pet_features`, its crop `margin` around the pet).
    Every path is read as a photo, whatever its name: a HEIC photo named .MOV is the photo it is
    (`learn` passes only photos; the image decoder goes by the file's bytes, not its name)."""
    return _pipeline(classifier, paths, partial(_pet_features, margin=margin) if pets else _features, batch_size, None,
                     videos=False)


def classify(
    classifier: Classifier,
    paths: Iterable[Path],
    *,
    batch_size: int | None = None,
    workers: int | None = None,
    thumbnails: int | None = None,
    first_look: SureEnough | None = None,
) -> Iterator[Prediction]:
    """Yield one Prediction per path, in input order, batch by batch; with `thumbnails`, each
    photo's `Prediction.thumbnail` too (the review page's, from the same decode). With
    `first_look`, a large JPEG's EXIF thumbnail is the answer where the model is sure enough of
    it, and the photo is decoded whole only where it is not.

    One pool of `workers` threads (one per core) runs both kinds of task: decoding a file,
    and running the model on a decoded batch. `classifier.predict` is therefore called from
    several threads at once; each call then does best on one core (see LiteClassifier).
    Measured on 2 cores (benchmarks/sort_speed.py), that beats one model call spread over
    both cores while a separate pool decodes: the two no longer wait on each other.
    """
    run_batch = _predict if first_look is None else partial(_predict, sure=first_look)
    return _pipeline(classifier, paths, run_batch, batch_size, workers, thumbnails, first_look is not None)


@dataclass
class _Slot:
    """One batch's results in input order, filled as they come (a second look comes later)."""

    results: list
    missing: int


@dataclass
class _Batch:
    """Files on their way through the pool, and where their results go in their slot."""

    slot: _Slot
    positions: list[int]
    files: list[tuple[Path, Future[Decoded]]]
    second_look: bool = False
    predicted: Future[list] | None = None


def _pipeline(classifier, paths: Iterable[Path], run_batch, batch_size: int | None, workers: int | None,
              thumbnails: int | None = None, first_look: bool = False, videos: bool = True):
    from threadpoolctl import threadpool_limits

    size = classifier.image_size
    workers = workers or cpu_cores()
    batch_size = batch_size or network_batch(workers)
    iterator = iter(paths)
    # fd 2 is captured for the whole stream, not per file: one redirection, not thousands.
    # One BLAS thread: the workers are the parallelism (see pyproject.toml's threadpoolctl).
    with captured(), threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max_workers=workers) as pool:
        decoding: deque[_Batch] = deque()
        predicting: deque[_Batch] = deque()
        slots: deque[_Slot] = deque()

        def decode(path: Path, first: bool) -> Future[Decoded]:
            return pool.submit(attribute, _decode, path, size, thumbnails, first, videos)

        def decode_next() -> None:
            batch = list(islice(iterator, batch_size))
            if batch:
                slots.append(_Slot([None] * len(batch), len(batch)))
                decoding.append(_Batch(slots[-1], list(range(len(batch))), [(p, decode(p, first_look)) for p in batch]))

        def file(batch: _Batch) -> None:
            """Results into their slot; the unsure ones decoded whole, ahead of the queue."""
            again = []
            for position, result in zip(batch.positions, batch.predicted.result(), strict=True):
                if isinstance(result, _Unsure):
                    again.append((position, result.path))
                else:
                    batch.slot.results[position] = result
                    batch.slot.missing -= 1
            if again:
                decoding.appendleft(_Batch(batch.slot, [position for position, _ in again],
                                           [(path, decode(path, False)) for _, path in again], second_look=True))

        # Enough queued that no core idles, also while the consumer is away filing a chunk of
        # moves (fsyncs), counted in photos, not batches: with batches of 8, as many batches as
        # of 64 sorted 25 % slower on 2 cores; little enough that memory stays flat.
        ahead = max(workers, -(-QUEUED // batch_size))
        for _ in range(ahead + 1):
            decode_next()
        try:
            while decoding or predicting:
                if decoding and len(predicting) < ahead:
                    batch = decoding.popleft()
                    if not batch.second_look:
                        decode_next()
                    decoded = [(path, future.result()) for path, future in batch.files]
                    batch.predicted = pool.submit(beside, run_batch, classifier, decoded)
                    predicting.append(batch)
                else:
                    file(predicting.popleft())
                    while slots and not slots[0].missing:
                        yield from slots.popleft().results
        finally:  # stopped early (Ctrl-C, an error): drop the queued work
            for batch in [*predicting, *decoding]:
                for future in [batch.predicted, *(future for _, future in batch.files)]:
                    if future is not None:
                        future.cancel()
