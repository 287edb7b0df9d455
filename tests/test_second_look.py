"""The second look at the pet (issue 24): the .tflite ends at the last convolution's map,
sorter pools it, and named pets are told apart on the features of the pet's crop; with real
photos of individual cats (../shared/datasets/named-cats), learnt and sorted as a user would."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import needs_shared, shared_dataset

from sorter.model import second_look
from sorter.model.lite import LiteClassifier, save_model

REPO = Path(__file__).resolve().parent.parent
NAMED_CATS = shared_dataset("named-cats")


def test_the_box_holds_the_hot_cells_and_a_margin_and_the_crop_is_the_inputs_size() -> None:
    maps = np.zeros((2, 7, 7, 4), np.float32)
    maps[0, 5:7, 0:2, 0] = 3.0  # the pet in the bottom-left corner
    maps[1, :, :, 1] = 1.0  # a flat map: the whole photo
    weights = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]])
    boxes = second_look.pet_boxes(maps, weights)
    assert np.allclose(boxes[0], [5 / 7 - second_look.MARGIN, 1.0, 0.0, 2 / 7 + second_look.MARGIN])
    assert np.allclose(boxes[1], [0.0, 1.0, 0.0, 1.0])
    assert second_look.pet_boxes(maps[:0], weights[:0]).shape == (0, 4)  # a batch with no pet to look at
    batch = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    crops = second_look.crops(batch, boxes)
    assert crops.shape == batch.shape and crops.dtype == np.uint8
    assert np.array_equal(crops[1], batch[1])  # the whole photo, unchanged


@pytest.fixture(scope="module")
def map_model(tmp_path_factory) -> Path:
    """A tiny network shaped like sorter's (pooled "features" under a "classes" softmax),
    saved as `sorter train` saves it: the .tflite ends at the map."""
    import keras

    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, strides=8, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="features")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="classes")(x)
    path = tmp_path_factory.mktemp("maps") / "maps.keras"
    save_model(keras.Model(inputs, outputs), path, np.random.default_rng(0).integers(0, 256, (16, 32, 32, 3), np.uint8))
    return path


def test_the_tflite_ends_at_the_map_and_sorter_pools_it(map_model: Path) -> None:
    from sorter.model.lite import head_path, read_head

    classifier = LiteClassifier(map_model.with_suffix(".tflite").read_bytes(), {"class_names": ["cat", "dog", "other"]},
                                head=read_head(head_path(map_model)))
    batch = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    features, maps = classifier.run_maps(batch)
    assert classifier.map_size == maps.shape[1:3] and maps.shape[-1] == features.shape[1] == 8
    assert np.allclose(classifier.run(batch), maps.mean(axis=(1, 2)))
    assert classifier.run(batch[:0]).shape == (0, 8) and classifier.run_maps(batch[:0])[1].shape == (0, *maps.shape[1:])
    pooled, named = second_look.pet_features(classifier, batch)
    assert np.allclose(pooled, features) and named.shape == pooled.shape
    assert classifier.predict(batch).shape == (3, 3)


def test_only_a_cat_that_could_be_a_named_pet_gets_the_second_look_that_names_it() -> None:
    """The second look costs a run of the network: a cat whose own features give every named
    pet less than LOOK_AGAIN_FROM keeps one run (measured: 95 % of Kaggle cats, no answer changed)."""
    from sorter.model.heads import Head
    from sorter.model.pet_heads import LOOK_AGAIN_FROM, PetHead

    # Softmax over (any other cat, Luna) on two features: the first says "other", the second "Luna".
    pets = PetHead("cat", ("Luna",), Head(np.array([[4.0, -4.0], [-4.0, 4.0]]), np.zeros(2)), 0.7)
    photos = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.8]])  # nobody's cat, Luna-like, in between
    luna = pets.head.probabilities(photos / np.linalg.norm(photos, axis=1, keepdims=True))[:, 1]
    assert list(pets.could_be(photos)) == [False, True, True] and luna[2] >= LOOK_AGAIN_FROM > luna[0]
    assert pets.could_be(photos[:0]).shape == (0,)


@pytest.mark.slow
@needs_shared("named-cats")
def test_real_photos_two_named_cats_find_most_of_their_other_photos() -> None:
    """Ten photos each of two campus cats in cats/fred/ and cats/kit/ of a fresh folder, learnt
    with the bundled model; then their other photos and every other cat of the set sorted
    (benchmarks/named_cats.py, one rotation, no Kaggle photos). Measured: 20 of 25, 1 of 105 with
    v13; 17 of 25, 3 of 105 with v14; 17 of 25, 3 of 105 once the pet head knows what is not a
    cat; 17-18 of 25, 1 of 105 with the likeness to the pets' photos counted too; 18 of 25, 2 of
    105 with the closer crop; 16 of 25, 1 of 105 with each pet measured against strangers at 3.9
    standard deviations. Learn says it would find 8-9 of fred's 10 held out but 0-5 of kit's,
    who on asphalt looks like a dog: held out, her photos are less like her other nine than her
    later photos are like all ten (3 of 10 found)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from named_cats import cat_photos, rotation

    result = rotation(None, ("fred", "kit"), 10, 1, [], cat_photos())
    own, total = sum(c.own for c in result.cats), sum(c.own_total for c in result.cats)
    assert own >= 0.6 * total, result  # most of their other photos into their own folders
    assert result.other_cats <= 0.03 * result.other_cats_total, result  # other cats stay in cats/
    cats = {c.cat: c for c in result.cats}
    assert cats["fred"].held_out >= 6, result  # learn says it knows him
    assert cats["kit"].own >= 2, result  # and finds some of kit's, whom learn underestimates


@pytest.mark.slow
@needs_shared("named-cats")
def test_real_photos_a_named_cats_photos_left_in_cats_do_not_teach_that_she_is_another_cat() -> None:
    """The same two cats, with two of every three of their other photos left unnamed in cats/
    when learning (a user names ten and leaves the rest where sort put them), the third sorted.
    Measured: fred 5 of 5, kit 1 of 4; learn leaves 10 of fred's 10 and 5 of kit's 8 out of
    "other cats". When every one of them was learnt as another cat: fred 3 of 5, kit 1 of 4, and
    learn said it would find 6 of fred's 10 held out instead of 9 (8 with the closer crop)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from named_cats import cat_photos, rotation

    result = rotation(None, ("fred", "kit"), 10, 1, [], cat_photos(), left_in_cats=True)
    fred = next(c for c in result.cats if c.cat == "fred")
    assert fred.own >= 4 and fred.held_out >= 7 and fred.unnamed_like >= 8, result
    assert result.other_cats <= 0.03 * result.other_cats_total, result


def small_pet_in_a_scene(pet: str, side: int) -> np.ndarray:
    """The rocket launch of sample_images/ with a sample pet pasted small into its bottom-left."""
    import cv2

    from sorter.media.images import load_image

    scene = load_image(REPO / "sample_images" / "photo-10.jpg", 224).copy()
    animal = load_image(REPO / "sample_images" / pet, 224)
    scene[150 : 150 + side, 20 : 20 + side] = cv2.resize(animal, (side, side), interpolation=cv2.INTER_AREA)
    return scene


def test_a_photo_the_first_look_is_unsure_of_looks_again_at_its_pet() -> None:
    from sorter.model.lite import load_classifier

    classifier = load_classifier(None)  # the bundled model
    batch = np.stack([small_pet_in_a_scene("photo-03.jpg", 40), small_pet_in_a_scene("photo-01.jpg", 56),
                      small_pet_in_a_scene("photo-01.jpg", 72)])
    first, _ = classifier.judge(classifier.run(batch))
    p = classifier.predict(batch)
    # Measured: a 40-pixel cat on the launch pad is "neither" at 58 % at first, a cat at 85 %
    # once its crop is seen; a 56-pixel dog goes from 71 % to 96 %.
    assert first[0].argmax() == 2 and first[0].max() < second_look.SECOND_LOOK_BELOW
    assert p[0].argmax() == 0 and p[0].max() > 0.8
    assert first[1].argmax() == 1 and first[1].max() < 0.75 and p[1].max() > 0.95
    # A photo the first look is sure of is never looked at again.
    assert first[2].max() >= second_look.SECOND_LOOK_BELOW and np.allclose(p[2], first[2], atol=1e-6)


def dog_in_a_street(folder: Path, side: int, top: int, left: int) -> Path:
    """A 448 px photo of the sample dog, `side` pixels, in a street: lossless, so the decode
    has the pixels a closer look needs."""
    import cv2

    from sorter.media.images import load_image

    scene = load_image(REPO / "sample_images" / "photo-10.jpg", 448).copy()
    scene[top : top + side, left : left + side] = load_image(REPO / "sample_images" / "photo-01.jpg", side)
    path = folder / f"dog-{side}-at-{top}-{left}.png"
    cv2.imwrite(str(path), cv2.cvtColor(scene, cv2.COLOR_RGB2BGR))
    return path


def test_a_photo_still_unsure_after_its_crop_is_judged_whole_at_a_closer_size_from_its_own_decode(
    tmp_path: Path,
) -> None:
    from sorter.media.images import load_image, load_picture
    from sorter.model.inference import classify
    from sorter.model.lite import load_classifier

    classifier = load_classifier(None)  # the bundled model
    path = dog_in_a_street(tmp_path, 64, 200, 200)
    picture = load_picture(path, 224)
    assert picture.image.shape == (224, 224, 3) and np.array_equal(picture.image, load_image(path, 224))
    assert picture.source.shape[:2] == (448, 448)  # the decode the first look came from
    closer = picture.at(second_look.CLOSER_SIZE)
    assert closer.shape == (second_look.CLOSER_SIZE, second_look.CLOSER_SIZE, 3)

    batch = picture.image[None]
    features, maps = classifier.run_maps(batch)
    first, _ = classifier.judge(features)
    judged = {"margin": second_look.JUDGE_MARGIN, "fraction": second_look.JUDGE_FRACTION}
    # The crop around the dog is cut from the 448 px decode: twice the pixels of the input's.
    crop, _ = classifier.judge(second_look.crop_features(classifier, batch, features, maps, **judged,
                                                         closer=[picture]))
    crop[:, 2] *= second_look.CROP_NEITHER_WEIGHT
    two = np.sqrt(first * crop)
    two /= two.sum()
    # Measured: "neither" at 84 % at first; a dog with its crop, still unsure.
    assert first.max() < second_look.SECOND_LOOK_BELOW and two.max() < second_look.SECOND_LOOK_BELOW
    whole, _ = classifier.judge(classifier.run(closer[None]))
    # So the geometric mean of its three looks: the photo, the crop around its pet, the photo closer.
    expected = np.cbrt(first * crop * whole)
    expected /= expected.sum()
    assert np.allclose(classifier.predict(batch, [picture]), expected, atol=1e-5)
    assert expected.argmax() == 1  # a dog
    # Without its picture (a video's frame, an EXIF thumbnail), the first two looks only, the
    # crop cut from the network's input.
    small, _ = classifier.judge(second_look.crop_features(classifier, batch, features, maps, **judged))
    small[:, 2] *= second_look.CROP_NEITHER_WEIGHT
    assert not np.allclose(small, crop, atol=1e-3)
    two = np.sqrt(first * small)
    assert np.allclose(classifier.predict(batch), two / two.sum(), atol=1e-5)
    # And sort's path hands each photo's decode to it.
    [prediction] = list(classify(classifier, [path]))
    assert np.allclose(prediction.probabilities, expected[0], atol=1e-5)


def test_a_photo_its_crop_settles_gets_no_closer_look(tmp_path: Path) -> None:
    from sorter.media.images import load_picture
    from sorter.model.lite import load_classifier

    classifier = load_classifier(None)
    picture = load_picture(dog_in_a_street(tmp_path, 112, 300, 40), 224)
    batch = picture.image[None]
    features, maps = classifier.run_maps(batch)
    first, _ = classifier.judge(features)
    crop, _ = classifier.judge(second_look.crop_features(
        classifier, batch, features, maps, margin=second_look.JUDGE_MARGIN, fraction=second_look.JUDGE_FRACTION,
        closer=[picture]))
    crop[:, 2] *= second_look.CROP_NEITHER_WEIGHT
    two = np.sqrt(first * crop)
    p = classifier.predict(batch, [picture])
    # Measured: a dog at 71 % at first, at 99 % with its crop: the photo and its crop only.
    assert first.max() < second_look.SECOND_LOOK_BELOW and p.max() > 0.95
    assert np.allclose(p, two / two.sum(), atol=1e-5)


def test_a_photo_the_first_look_is_sure_of_gets_no_closer_look(tmp_path: Path) -> None:
    import cv2

    from sorter.media.images import load_picture
    from sorter.model.lite import load_classifier

    classifier = load_classifier(None)
    path = tmp_path / "dog.png"
    cv2.imwrite(str(path), cv2.imread(str(REPO / "sample_images" / "photo-01.jpg")))
    picture = load_picture(path, 224)
    first, _ = classifier.judge(classifier.run(picture.image[None]))
    assert first.max() >= second_look.SECOND_LOOK_BELOW
    assert np.allclose(classifier.predict(picture.image[None], [picture]), first, atol=1e-6)
