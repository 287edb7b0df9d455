"""A phone JPEG's first look at its EXIF thumbnail: read from the file's first bytes, turned the
way the photo is, refused when it is not a scaled copy of the photo or its EXIF is broken (the
photo is then decoded as before), and in a sort the answer for a photo it is sure of."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import PHONE_SHAPE, FakeClassifier, phone_copies, phone_photo, tree, write_image
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sorter.media import exif_thumbnail
from sorter.media.exif_thumbnail import first_look, read_exif, with_exif
from sorter.media.images import load_image
from sorter.model.inference import FIRST_LOOK_CONFIDENCE, FIRST_LOOK_NEITHER, Prediction, SureEnough, classify
from sorter.sorting.sort import sort_folder

RED, BLUE, GREY = (0, 0, 255), (255, 0, 0), (128, 128, 128)  # BGR: the fake says red = dog, blue = cat


def quadrants(shape: tuple[int, int]) -> np.ndarray:
    """Four colours, one per quarter: any turn or mirror shows."""
    height, width = shape
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2, : width // 2] = (0, 0, 255)
    image[: height // 2, width // 2 :] = (0, 255, 0)
    image[height // 2 :, : width // 2] = (255, 0, 0)
    return image


@pytest.mark.parametrize("little_endian", [False, True])
def test_the_thumbnail_is_read_from_the_first_bytes_of_the_file(tmp_path: Path, little_endian: bool) -> None:
    path = phone_photo(tmp_path / "IMG_0001.jpg", RED, BLUE, little_endian=little_endian)
    exif = read_exif(path.read_bytes()[: exif_thumbnail.HEAD_BYTES])
    assert exif is not None and exif.orientation == 1 and exif.thumbnail is not None
    start, end = exif.thumbnail
    assert cv2.imdecode(np.frombuffer(path.read_bytes()[start:end], np.uint8), cv2.IMREAD_COLOR).shape == (120, 160, 3)

    look = first_look(path, 32, thumbnail=128)
    assert look is not None and look.image.shape == (32, 32, 3)
    assert look.image[..., 2].mean() > 200 and look.image[..., 0].mean() < 50  # the blue thumbnail, RGB order
    assert look.thumbnail.shape == (96, 128, 3)  # for the review page: BGR, the longer side 128


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_thumbnail_is_turned_as_opencv_turns_the_photo(tmp_path: Path, orientation: int) -> None:
    path = phone_photo(tmp_path / "turned.jpg", quadrants(PHONE_SHAPE), quadrants((120, 160)), orientation)
    look = first_look(path, 48)
    assert look is not None
    whole = load_image(path, 48).astype(int)  # OpenCV applies the photo's EXIF orientation
    assert np.abs(look.image.astype(int) - whole).mean() < 4


def test_a_photo_without_a_thumbnail_is_decoded_as_before(tmp_path: Path) -> None:
    plain = tmp_path / "plain.jpg"
    cv2.imwrite(str(plain), np.full((*PHONE_SHAPE, 3), RED, np.uint8))
    small = write_image(tmp_path / "small.jpg", RED)
    assert first_look(plain, 32) is None and first_look(small, 32) is None
    predictions = list(classify(FakeClassifier(), [plain, small], first_look=SureEnough()))
    assert [p.label for p in predictions] == ["dog", "dog"] and [p.error for p in predictions] == [None, None]


def test_a_small_photo_is_decoded_whole_even_with_a_thumbnail(tmp_path: Path) -> None:
    # Below MIN_PIXELS the photo's own decode costs about what the look does.
    path = tmp_path / "small.jpg"
    main = cv2.imencode(".jpg", np.full((300, 400, 3), RED, np.uint8))[1].tobytes()
    path.write_bytes(with_exif(main, cv2.imencode(".jpg", np.full((120, 160, 3), BLUE, np.uint8))[1].tobytes()))
    assert first_look(path, 32) is None


def test_thumbnails_that_are_not_a_scaled_copy_of_the_photo_are_not_used(tmp_path: Path) -> None:
    wide = phone_photo(tmp_path / "wide.jpg", RED, np.full((90, 160, 3), BLUE, np.uint8))  # 16:9 of a 4:3 photo
    boxed = np.zeros((120, 160, 3), np.uint8)
    boxed[12:108] = BLUE  # the right shape, but bars above and below: a 16:9 picture padded to 4:3
    letterboxed = phone_photo(tmp_path / "boxed.jpg", RED, boxed)
    tiny = phone_photo(tmp_path / "tiny.jpg", RED, np.full((60, 80, 3), BLUE, np.uint8))
    night = phone_photo(tmp_path / "night.jpg", (8, 8, 8))  # dark all over: no bars, a dark photo
    assert first_look(wide, 32) is None and first_look(letterboxed, 32) is None and first_look(tiny, 32) is None
    assert first_look(night, 32) is not None


def test_a_photo_cropped_by_a_tool_that_kept_the_cameras_exif_is_not_judged_by_its_old_thumbnail(
    tmp_path: Path,
) -> None:
    """Cropped to the dog in its corner, a cat photo keeps the camera's EXIF (Pillow's
    `save(exif=...)` does): a thumbnail of the cat, and the size of the photo before the crop."""
    height, width = PHONE_SHAPE
    camera = phone_photo(tmp_path / "camera.jpg", BLUE, pixels=(width, height))
    assert read_exif(camera.read_bytes()).pixels == (width, height) and first_look(camera, 32) is not None
    cropped = phone_photo(tmp_path / "cropped.jpg", RED, BLUE, pixels=(2 * width, 2 * height))  # a quarter kept
    assert first_look(cropped, 32) is None
    [prediction] = classify(FakeClassifier(), [cropped], first_look=SureEnough())
    assert prediction.label == "dog"  # the photo itself, decoded whole


def test_an_exif_that_does_not_give_the_photos_size_is_not_trusted_with_its_thumbnail(tmp_path: Path) -> None:
    """A tool that cropped the cat photo to the dog in its corner and kept the EXIF but dropped
    its size tags: the thumbnail (of the cat) has the photo's shape, and nothing says it is stale."""
    cropped = phone_photo(tmp_path / "cropped.jpg", RED, BLUE, pixels=None)
    assert read_exif(cropped.read_bytes()).pixels is None and read_exif(cropped.read_bytes()).thumbnail is not None
    assert first_look(cropped, 32) is None
    [prediction] = classify(FakeClassifier(), [cropped], first_look=SureEnough())
    assert prediction.label == "dog"  # the photo itself, decoded whole


def test_a_truncated_photo_is_not_judged_by_its_intact_thumbnail(tmp_path: Path) -> None:
    data = phone_photo(tmp_path / "whole.jpg", quadrants(PHONE_SHAPE), BLUE).read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) * 2 // 3])
    assert first_look(cut, 32) is None
    [prediction] = classify(FakeClassifier(), [cut], first_look=SureEnough())
    assert prediction.error == "truncated JPEG (no end-of-image marker)"
    # A trailer after the end-of-image marker (Samsung's) is still a whole photo.
    trailed = tmp_path / "trailed.jpg"
    trailed.write_bytes(data + b"SEFH" + bytes(2000))
    assert first_look(trailed, 32) is not None


def _corruptions(data: bytes) -> dict[str, bytes]:
    """The photo's bytes with its EXIF broken in the ways found in the wild."""
    tiff = data.index(b"Exif\x00\x00") + 6
    (entries,) = struct.unpack_from(">H", data, tiff + 8)  # IFD0: the orientation and the Exif IFD (the size)
    next_ifd = tiff + 8 + 2 + 12 * entries
    ifd1_at = next_ifd + 4
    (thumbnail_at,) = struct.unpack_from(">I", data, ifd1_at + 2 + 12 + 8)

    def at(offset: int, value: bytes) -> bytes:
        return data[:offset] + value + data[offset + len(value):]

    return {
        "not a TIFF header": at(tiff, b"XX"),
        "IFD0 offset past the segment": at(tiff + 4, struct.pack(">I", 0xFFFFFF00)),
        "IFD0 claims 65535 entries": at(tiff + 8, b"\xff\xff"),
        "IFD1 loops back to IFD0": at(next_ifd, struct.pack(">I", 8)),
        "IFD1 offset past the segment": at(next_ifd, struct.pack(">I", 0x7FFFFFFF)),
        "thumbnail offset past the segment": at(ifd1_at + 2 + 12 + 8, struct.pack(">I", 0x00FFFFFF)),
        "thumbnail length past the segment": at(ifd1_at + 2 + 24 + 8, struct.pack(">I", 0x00FFFFFF)),
        "thumbnail is not a JPEG": at(tiff + thumbnail_at, b"\x00\x00\x00\x00"),
        "thumbnail cut short": at(ifd1_at + 2 + 24 + 8, struct.pack(">I", 200)),
        "APP1 length runs past the file": at(data.index(b"\xff\xe1") + 2, b"\xff\xff"),
    }


def test_malformed_exif_falls_back_to_the_whole_photo(tmp_path: Path) -> None:
    data = phone_photo(tmp_path / "good.jpg", RED, BLUE).read_bytes()
    for name, broken in _corruptions(data).items():
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(broken)
        assert first_look(path, 32) is None, name
        [prediction] = classify(FakeClassifier(), [path], first_look=SureEnough())
        # The red photo itself, decoded whole (or reported, for a header OpenCV cannot read either).
        assert prediction.label == "dog" or prediction.error, name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=6))
def test_any_damage_to_the_exif_never_raises(tmp_path: Path, flips: list[tuple[int, int]]) -> None:
    path = tmp_path / "phone.jpg"
    if not path.exists():
        phone_photo(path, RED, BLUE)
    data = bytearray(path.read_bytes())
    start = data.index(b"\xff\xe1")
    for offset, value in flips:
        data[start + offset] = value
    damaged = tmp_path / "damaged.jpg"
    damaged.write_bytes(bytes(data))
    look = first_look(damaged, 32)
    assert look is None or look.image.shape == (32, 32, 3)


def test_a_sort_files_photos_by_a_sure_thumbnail_and_looks_again_at_unsure_ones(tmp_path: Path) -> None:
    # The fake is sure of red (dog) and blue (cat) and unsure of grey. A photo whose thumbnail
    # disagrees with it shows which one was judged: a real phone's never does.
    phone_photo(tmp_path / "IMG_0001.jpg", RED, BLUE)  # a sure thumbnail: the photo is never decoded
    phone_photo(tmp_path / "IMG_0002.jpg", RED, GREY)  # unsure: decoded whole, a dog
    phone_photo(tmp_path / "IMG_0003.jpg", BLUE)  # a cat both ways
    write_image(tmp_path / "small.jpg", RED)  # no thumbnail
    paths = sorted(tmp_path.iterdir())
    classifier = FakeClassifier()
    predictions = list(classify(classifier, paths, batch_size=2, first_look=SureEnough(), thumbnails=128))
    assert [p.path for p in predictions] == paths  # input order, with a second look in between
    assert [p.label for p in predictions] == ["cat", "dog", "cat", "dog"]
    assert predictions[0].thumbnail.shape == (96, 128, 3)  # the review page's, from the EXIF thumbnail
    assert classifier.calls == 3  # two batches and one second look
    # Sort asks for 224 px (the review page cuts around the pet): the 160 px EXIF thumbnail serves
    # as it is, and the page never decodes the 12 MP photo again.
    (wide,) = classify(FakeClassifier(), paths[:1], first_look=SureEnough(), thumbnails=224)
    assert wide.thumbnail.shape == (120, 160, 3)

    summary = sort_folder(tmp_path, classifier=FakeClassifier())
    assert set(tree(tmp_path)) == {"cats/IMG_0001.jpg", "dogs/IMG_0002.jpg", "cats/IMG_0003.jpg", "dogs/small.jpg"}
    assert summary.moved_to == {"cats": 2, "dogs": 2}


def test_a_min_confidence_above_the_first_looks_asks_the_thumbnail_to_be_as_sure(tmp_path: Path) -> None:
    # A thumbnail of a dog halfway between FIRST_LOOK_CONFIDENCE and 1 (the fake: p(dog) =
    # 0.5 + (red - blue) / 510), of a photo of a cat: which one was judged shows where it goes.
    sure = (FIRST_LOOK_CONFIDENCE + 1) / 2
    dog = np.full((120, 160, 3), (round(255 - (sure - 0.5) * 510), 0, 255), np.uint8)
    phone_photo(tmp_path / "a" / "IMG_0001.jpg", BLUE, dog)
    phone_photo(tmp_path / "b" / "IMG_0001.jpg", BLUE, dog)
    sort_folder(tmp_path / "a", classifier=FakeClassifier())
    sort_folder(tmp_path / "b", classifier=FakeClassifier(), min_confidence=(sure + 1) / 2)
    assert set(tree(tmp_path / "a")) == {"dogs/IMG_0001.jpg"}  # the thumbnail settled it
    assert set(tree(tmp_path / "b")) == {"cats/IMG_0001.jpg"}  # not sure enough: decoded whole


def test_a_fifo_named_like_a_photo_is_never_opened_for_a_first_look(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    assert first_look(fifo, 32) is None  # returns at once: O_NONBLOCK, then fstat


def test_neither_needs_a_surer_first_look_than_a_pet() -> None:
    # A pet small in its scene can vanish from a 160x120 thumbnail: "neither" must be far surer.
    def seen(label: str, confidence: float) -> Prediction:
        rest = (1 - confidence) / 2
        return Prediction(Path("x.jpg"), tuple(confidence if name == label else rest for name in ("cat", "dog", "other")),
                          ("cat", "dog", "other"))

    sure = SureEnough()
    assert sure(seen("cat", FIRST_LOOK_CONFIDENCE)) and not sure(seen("dog", FIRST_LOOK_CONFIDENCE - 0.01))
    assert not sure(seen("other", 0.999)) and sure(seen("other", FIRST_LOOK_NEITHER))
    assert not SureEnough(pet=0.99)(seen("cat", 0.98))  # sort's --min-confidence 0.99


def test_the_bundled_model_files_phone_photos_by_their_thumbnails(tmp_path: Path) -> None:
    from sorter.model.lite import load_classifier

    labels = phone_copies(tmp_path, 10)
    classifier = load_classifier(None)
    looked = [first_look(tmp_path / name, classifier.image_size) for name in labels]
    sure = SureEnough()
    names = tuple(classifier.class_names)
    settled = [sure(Prediction(Path(), tuple(row.tolist()), names))
               for row in classifier.predict(np.stack([look.image for look in looked]))]
    assert sum(settled) >= 5  # the sample pets, clear photos: most are settled by their thumbnail

    summary = sort_folder(tmp_path, classifier=classifier)
    placed = {p.name: p.parent.name for p in tmp_path.glob("*s/*")}
    assert placed == {name: label + "s" for name, label in labels.items() if label != "other"}
    assert summary.counts == {"moved": 7, "neither": 3}
