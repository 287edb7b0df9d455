"""`classify`: decoding and inference run in parallel, yet results come back in input order,
one per file, with bounded work in flight (flat memory however large the folder)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeClassifier, write_image

from sorter.model.inference import IN_NETWORK, QUEUED, Prediction, classify, network_batch

RED, BLUE = (0, 0, 255), (255, 0, 0)  # BGR: the fake says red = dog


class RecordingClassifier(FakeClassifier):
    """The fake, noting batch sizes and how many predict calls overlap (it is called from
    several threads at once)."""

    def __init__(self) -> None:
        super().__init__()
        self.batch_sizes: list[int] = []
        self.threads: set[int] = set()
        self._lock = threading.Lock()

    def predict(self, batch):
        with self._lock:
            self.batch_sizes.append(len(batch))
            self.threads.add(threading.get_ident())
        return super().predict(batch)


def test_results_come_back_in_input_order_with_failures_in_place(tmp_path: Path) -> None:
    paths = []
    for i in range(53):
        if i % 10 == 7:
            path = tmp_path / f"{i:03d}.jpg"
            path.write_bytes(b"not a jpeg")
        else:
            path = write_image(tmp_path / f"{i:03d}.png", RED if i % 2 else BLUE)
        paths.append(path)
    classifier = RecordingClassifier()

    predictions = list(classify(classifier, paths, batch_size=8, workers=2))

    assert [p.path for p in predictions] == paths
    for i, prediction in enumerate(predictions):
        if i % 10 == 7:
            assert prediction.label is None and prediction.error
        else:
            assert prediction.label == ("dog" if i % 2 else "cat")
    assert max(classifier.batch_sizes) <= 8
    assert sum(classifier.batch_sizes) == 53 - 5


def test_work_in_flight_is_bounded_however_long_the_stream(tmp_path: Path) -> None:
    image = write_image(tmp_path / "one.png", RED)
    pulled = 0

    def endless():
        nonlocal pulled
        while True:
            pulled += 1
            yield image

    stream = classify(FakeClassifier(), endless(), batch_size=4, workers=2)
    for _ in range(400):
        next(stream)
    stream.close()
    # 400 consumed; read ahead of them, at most QUEUED photos queued for the network, as many
    # decoding, and one batch.
    assert pulled <= 400 + 2 * QUEUED + 4


def test_on_more_cores_the_network_takes_smaller_batches_so_its_memory_stays_flat(tmp_path: Path) -> None:
    # Each core has its own interpreter, which keeps the memory of its largest batch.
    assert network_batch(1) == network_batch(2) == 32
    assert [network_batch(cores) for cores in (4, 8, 16, 32, 64)] == [32, 16, 8, 4, 4]
    assert all(cores * network_batch(cores) <= IN_NETWORK for cores in range(2, 33))
    paths = [write_image(tmp_path / f"{i:02d}.png", RED) for i in range(40)]
    classifier = RecordingClassifier()

    assert len(list(classify(classifier, paths, workers=16))) == 40
    assert max(classifier.batch_sizes) == 8


def test_an_empty_stream_never_calls_the_model() -> None:
    classifier = RecordingClassifier()
    assert list(classify(classifier, [], workers=2)) == []
    assert classifier.batch_sizes == []


def test_the_int8_model_agrees_with_the_keras_model_it_was_exported_from(tiny_model: Path) -> None:
    import keras

    from sorter.model.lite import LiteClassifier
    from sorter.model.network import runtime_path

    classifier = LiteClassifier.load(runtime_path(tiny_model))
    assert classifier.image_size == 32 and classifier.class_names == ("cat", "dog")
    batch = np.random.default_rng(1).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    plain = keras.saving.load_model(tiny_model).predict(batch.astype(np.float32), verbose=0).reshape(-1)
    probabilities = classifier.predict(batch)
    # A two-class model's one sigmoid column, p(dog), comes back as rows of (p(cat), p(dog)).
    assert probabilities.shape == (5, 2) and probabilities.dtype == np.float32
    assert np.allclose(probabilities[:, 1], plain, atol=0.05)  # int8 rounding, not a different model
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert classifier.predict(batch[:2]).shape == (2, 2)  # another batch size re-plans, same answers
    assert np.allclose(classifier.predict(batch[:2]), probabilities[:2])
    assert classifier.predict(batch[:0]).shape == (0, 2)


@pytest.fixture(scope="module")
def three_class_model(tmp_path_factory) -> Path:
    """A tiny softmax network over (cat, dog, other), exported as `sorter train` exports."""
    import keras

    from sorter.model.lite import export_int8

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    path = tmp_path_factory.mktemp("three") / "three.tflite"
    calibration = np.random.default_rng(0).integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
    return export_int8(keras.Model(inputs, outputs), calibration, path)


def test_a_three_class_model_gives_one_probability_per_class(three_class_model: Path, tmp_path: Path) -> None:
    from sorter.model.lite import LiteClassifier

    classifier = LiteClassifier.load(three_class_model, {"class_names": ["cat", "dog", "other"]})
    assert classifier.class_names == ("cat", "dog", "other")
    probabilities = classifier.predict(np.random.default_rng(2).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8))
    assert probabilities.shape == (4, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=0.02)  # int8 softmax
    images = [write_image(tmp_path / f"{i}.png", (i * 60, 255 - i * 60, 90)) for i in range(4)]
    for prediction in classify(classifier, images):
        assert prediction.label in ("cat", "dog", "other") and len(prediction.probabilities) == 3


@pytest.mark.parametrize(
    "names, message",
    [
        (["cat", "dog"], "not a sorter model (output [1, 3] for classes ['cat', 'dog'])"),
        (["dog", "cat", "other"], "unsupported class_names ['dog', 'cat', 'other'] in its metadata"),
    ],
)
def test_classes_that_do_not_match_the_outputs_are_refused(three_class_model: Path, names, message: str) -> None:
    from sorter.errors import ModelError
    from sorter.model.lite import LiteClassifier

    with pytest.raises(ModelError) as caught:
        LiteClassifier.load(three_class_model, {"class_names": names})
    assert message in str(caught.value)


def test_a_sigmoid_model_cannot_claim_three_classes(tiny_model: Path) -> None:
    from sorter.errors import ModelError
    from sorter.model.lite import LiteClassifier
    from sorter.model.network import runtime_path

    with pytest.raises(ModelError, match=r"output \[1, 1\] for classes \['cat', 'dog', 'other'\]"):
        LiteClassifier.load(runtime_path(tiny_model), {"class_names": ["cat", "dog", "other"]})


def test_ties_go_to_the_later_class() -> None:
    assert Prediction(Path("a"), (0.5, 0.5)).label == "dog"  # as when p_dog >= 0.5 meant dog
    three = ("cat", "dog", "other")
    tie = Prediction(Path("a"), (0.1, 0.45, 0.45), three)
    assert (tie.label, tie.confidence) == ("other", 0.45)
    assert Prediction(Path("a"), None, three, "broken").label is None


def test_one_classifier_serves_every_worker_thread_at_once(tiny_model: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from sorter.model.lite import LiteClassifier
    from sorter.model.network import runtime_path

    classifier = LiteClassifier.load(runtime_path(tiny_model))
    batches = [np.full((3, 32, 32, 3), i * 15, np.uint8) for i in range(16)]
    alone = [classifier.predict(b) for b in batches]
    with ThreadPoolExecutor(max_workers=6) as pool:  # more threads than interpreters: they wait
        together = list(pool.map(classifier.predict, batches))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))


def test_evidence_with_no_weight_changes_nothing_and_a_foreign_file_is_refused(tmp_path) -> None:
    """ImageNet's word is weighed in by fitted weights: with none, the head decides alone; and
    the file is read as arrays only."""
    import pickle

    from sorter.errors import ModelError
    from sorter.model.evidence import Evidence, read_evidence, write_evidence

    rng = np.random.default_rng(0)
    features = rng.random((5, 16)).astype(np.float32)
    p = rng.dirichlet(np.ones(3), size=5)
    none = Evidence(rng.normal(size=(16, 1000)).astype(np.float32), np.zeros(1000, np.float32),
                    np.zeros((6, 3)), np.zeros(3))
    assert np.allclose(none.adjust(p, features), p)
    towards_other = Evidence(none.kernel, none.bias, np.array([[0, 0, -1.0], *[[0, 0, 0]] * 5]), np.zeros(3))
    # The less ImageNet puts on its dogs (log mass < 0), the more "neither" gains.
    assert (towards_other.adjust(p, features)[:, 2] > p[:, 2]).all()
    write_evidence(tmp_path / "e.npz", towards_other)
    assert np.allclose(read_evidence(tmp_path / "e.npz").adjust(p, features), towards_other.adjust(p, features),
                       atol=1e-3)
    # A model fitted before the animal masses (format 1: dogs, cats, the rest) weighs its three.
    np.savez(tmp_path / "old.npz", format=np.array("sorter-evidence/1"), kernel=none.kernel, bias=none.bias,
             weights=np.array([[0, 0, -1.0], [0, 0, 0], [0, 0, 0]]), offset=np.zeros(3), names=np.array([], dtype=str))
    old = read_evidence(tmp_path / "old.npz")
    assert old.weights.shape == (3, 3) and old.masses(features).shape == (5, 3)
    assert np.allclose(old.masses(features)[:, :2], towards_other.masses(features)[:, :2])
    assert (old.adjust(p, features)[:, 2] > p[:, 2]).all()
    (tmp_path / "bad.npz").write_bytes(pickle.dumps({"kernel": "anything"}))
    with pytest.raises(ModelError, match="cannot read the model's evidence file"):
        read_evidence(tmp_path / "bad.npz")
