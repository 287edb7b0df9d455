"""What decoders print on stderr (libjpeg's "Corrupt JPEG data: ..."): never raw on the
terminal, reported under the file's name instead (issue 17, item 5).

Only a subprocess shows what really reaches file descriptor 2, so the user-facing tests run
`python -m sorter`; the pieces are tested in-process with pytest's fd-level `capfd`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from clips import make_clip, needs_ffmpeg
from conftest import REPO, FakeClassifier, jpeg_with_extra_bytes, make_dataset, write_image

from sorter.media.decoder_output import attribute, beside, captured
from sorter.media.images import load_image

RED, BLUE = (0, 0, 255), (255, 0, 0)
WARNING = re.compile(r"Corrupt JPEG data: \d+ extraneous bytes before marker 0xd9")


def sorter(*args, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sorter", *map(str, args)], capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    jpeg_with_extra_bytes(root / "junk.jpg", RED)
    write_image(root / "tom.jpg", BLUE)
    return root


# ------------------------------------------------------------------ what the user sees


def test_sort_keeps_the_warning_off_the_terminal_and_still_moves_the_photo(folder: Path, tiny_model: Path) -> None:
    result = sorter("sort", folder, "--model", tiny_model)

    assert result.returncode == 0, result.stderr
    # Twice before: once classifying, once making the review page's thumbnail.
    assert "Corrupt JPEG" not in result.stderr + result.stdout
    assert result.stderr == ""
    assert not (folder / "junk.jpg").exists()
    assert [p.name for p in folder.glob("*s/junk.jpg")] == ["junk.jpg"]


def test_verbose_and_the_log_file_give_the_warning_under_the_files_name(folder: Path, tiny_model: Path) -> None:
    log = folder.parent / "sort.log"
    result = sorter("sort", folder, "--model", tiny_model, "--verbose", "--log-file", log)

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    moved = next(i for i, line in enumerate(lines) if line.startswith("moved junk.jpg -> "))
    assert WARNING.fullmatch(lines[moved + 1].removeprefix("warning: junk.jpg: "))
    assert not any(line.startswith("Corrupt JPEG") for line in lines)  # only the line under its name
    logged = [line.split(" ", 2)[2] for line in log.read_text().splitlines()]  # date, time, text
    assert lines[moved + 1] in logged


def test_jsonl_carries_the_warnings_of_each_file(folder: Path, tiny_model: Path) -> None:
    result = sorter("sort", folder, "--model", tiny_model, "--jsonl", "--dry-run")

    assert result.returncode == 0 and result.stderr == "", result.stderr
    files = {Path(r["path"]).name: r for r in map(json.loads, result.stdout.splitlines()) if "path" in r}
    assert files["junk.jpg"]["status"] == "planned" and [WARNING.fullmatch(w) is not None for w in
                                                         files["junk.jpg"]["warnings"]] == [True]
    assert files["tom.jpg"]["warnings"] == []


def test_evaluate_keeps_decoder_warnings_off_the_terminal(tmp_path: Path, tiny_model: Path) -> None:
    for i in range(3):
        jpeg_with_extra_bytes(tmp_path / "Cat" / f"{i}.jpg", BLUE)
        jpeg_with_extra_bytes(tmp_path / "Dog" / f"{i}.jpg", RED)
    result = sorter("evaluate", tmp_path, "--model", tiny_model, "--json")

    assert result.returncode == 0, result.stderr
    assert "Corrupt JPEG" not in result.stderr + result.stdout
    assert json.loads(result.stdout)["n"] == 6


@pytest.mark.slow
def test_train_keeps_decoder_warnings_off_the_terminal(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", per_class=12)
    for i in range(4):  # decoded in tf.data's threads, and for the int8 calibration
        jpeg_with_extra_bytes(data / "Cat" / f"junk{i}.jpg", BLUE)
        jpeg_with_extra_bytes(data / "Dog" / f"junk{i}.jpg", RED)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    result = sorter("train", data, "--out", tmp_path / "m.keras", "--backbone", "none", "--image-size", "32",
                    "--batch-size", "8", "--epochs", "1", env={"TMPDIR": str(temporary)})

    assert result.returncode == 0, result.stderr
    assert "Corrupt JPEG" not in result.stderr + result.stdout
    # Nor does it leave TensorFlow's autograph sources behind (its own cleanup runs at an
    # interpreter exit the command skips): its temporary folder goes with it.
    assert list(temporary.iterdir()) == []


# ------------------------------------------------------------------ the pieces


def test_each_message_goes_to_the_call_that_printed_it_whatever_the_threads(tmp_path: Path, capfd) -> None:
    paths = [
        jpeg_with_extra_bytes(tmp_path / f"{i}.jpg", extra=8 + i) if i % 7 == 0 else write_image(tmp_path / f"{i}.jpg")
        for i in range(120)
    ]
    with captured(), ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda path: attribute(load_image, path, 32), paths))

    warned = {path.name for path, (_, printed) in zip(paths, results, strict=True) if printed}
    assert warned == {f"{i}.jpg" for i in range(0, 120, 7)}
    assert all(len(printed) == 1 and WARNING.fullmatch(printed[0]) for _, printed in results if printed)
    assert capfd.readouterr().err == ""


def test_what_others_print_meanwhile_is_passed_on_unchanged(tmp_path: Path, capfd) -> None:
    paths = [jpeg_with_extra_bytes(tmp_path / f"{i}.jpg") for i in range(20)]
    with captured(), ThreadPoolExecutor(2) as pool:
        noise = [pool.submit(beside, os.write, 2, f"another library {i}\n".encode()) for i in range(10)]
        decoded = list(pool.map(lambda path: attribute(load_image, path, 32), paths))
        os.write(2, b"from no call at all\n")
        print("python's own stderr", file=sys.stderr)
        assert [future.result() for future in noise]

    err = capfd.readouterr().err.splitlines()
    assert sorted(err) == sorted([*(f"another library {i}" for i in range(10)), "from no call at all",
                                  "python's own stderr"])
    assert all(len(printed) == 1 for _, printed in decoded)


def test_a_message_that_names_an_address_or_a_time_is_claimed_from_both_runs(capfd) -> None:
    """FFmpeg prints its decoder's address, OpenCV's log the time: the second run's copy of
    a message differs from the first run's, which must not reach the terminal for that."""
    runs = iter(range(1, 100))

    def decode_a_truncated_webm() -> int:
        run = next(runs)
        os.write(2, f"[matroska,webm @ 0x7f00{run:04x}] File ended prematurely\n".encode())
        os.write(2, f"[ WARN:0@{run}.711] global cap.cpp:338 open VIDEOIO(FFMPEG): raised OpenCV exception\n".encode())
        return run

    with captured():
        value, printed = attribute(decode_a_truncated_webm)

    assert value == 2 and printed == ("[matroska,webm] File ended prematurely",
                                      "VIDEOIO(FFMPEG): raised OpenCV exception")
    assert capfd.readouterr().err == ""


@needs_ffmpeg
def test_a_video_whose_every_frame_is_damaged_says_a_few_lines_not_eighty(tmp_path: Path, tiny_model: Path) -> None:
    """A clip whose frames are all noise printed 82 warnings under `-v` (and 82 in `--json`), the
    same three kinds of line again and again, each naming a memory address that changes from run
    to run (`[h264 @ 0x7fb6f40639c0]`)."""
    folder = tmp_path / "pets"
    folder.mkdir()
    clip = make_clip(folder / "clip.mp4", [write_image(tmp_path / "cat.png", (40, 90, 200))])
    data = bytearray(clip.read_bytes())
    at = data.find(b"mdat")  # its frames noise, the box that says where they are (`moov`) whole
    end = at - 4 + int.from_bytes(data[at - 4:at], "big")
    data[at + 4:end] = np.random.default_rng(1).integers(0, 256, end - at - 4, dtype=np.uint8).tobytes()
    clip.write_bytes(bytes(data))

    result = sorter("sort", folder, "--model", tiny_model, "-n", "-v")

    assert result.returncode == 0, result.stderr
    assert "unreadable: clip.mp4 (video): not a readable video (no frame could be decoded)" in result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: clip.mp4: ")]
    assert len(warnings) == 5 and len(set(warnings)) == 5, result.stderr
    assert re.fullmatch(r"warning: clip\.mp4: and \d+ more lines like these", warnings[-1]), warnings
    assert all(line.startswith("warning: clip.mp4: [h264] ") for line in warnings[:-1]), warnings
    assert "0x" not in result.stderr


def test_opencvs_log_is_said_without_its_source_files_thread_and_time(tmp_path: Path, capfd) -> None:
    """A damaged GIF: OpenCV logs where in its sources it gave up; the photo's report says what."""
    gif = tmp_path / "bad.gif"
    gif.write_bytes(b"GIF89a\x10\x00\x10\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
                    b",\x00\x00\x00\x00\x10\x00\x10\x00\x00\x0f\xff\xff")
    with captured():
        _, printed = attribute(lambda: cv2.imdecode(np.frombuffer(gif.read_bytes(), np.uint8), cv2.IMREAD_COLOR))
    [line] = printed  # "can't read header: Unexpected end of input stream" (its words are OpenCV's to change)
    assert line.startswith("can't read header") and not re.search(r"\.cpp|OpenCV\(|@|in function", line), line
    assert capfd.readouterr().err == ""


def test_an_exception_is_raised_after_its_message_is_claimed(tmp_path: Path, capfd) -> None:
    def decode_then_fail(path: Path):
        load_image(path, 32)
        raise ValueError("no")

    path = jpeg_with_extra_bytes(tmp_path / "junk.jpg")
    with pytest.raises(ValueError, match="no"):
        attribute(decode_then_fail, path)
    assert attribute(load_image, path, 32)[1] and capfd.readouterr().err == ""


def test_sorting_in_process_puts_the_warning_in_the_result(folder: Path, capfd) -> None:
    from sorter.sorting.sort import sort_folder

    results = []
    sort_folder(folder, classifier=FakeClassifier(), on_result=results.append)
    warned = {r.path.name: r.warnings for r in results}
    assert warned["tom.jpg"] == () and WARNING.fullmatch(warned["junk.jpg"][0])
    assert "Corrupt JPEG" not in capfd.readouterr().err


def test_training_decodes_quietly(tmp_path: Path, capfd) -> None:
    from sorter.training.loop import calibration_images

    items = [(jpeg_with_extra_bytes(tmp_path / f"{i}.jpg"), 0) for i in range(4)]
    assert calibration_images(items, 32, seed=0).shape == (4, 32, 32, 3)
    assert capfd.readouterr().err == ""


def printed_after_it_stops(run, tmp_path: Path, capfd) -> bool:
    """`run()`, stopped by the KeyboardInterrupt it raises, the exception kept as the CLI keeps it
    (its "Interrupted" line is raised from it), the garbage collector off (it ran when it chose:
    with it, a test would pass or fail by chance): whether libjpeg's warning of a damaged photo
    decoded after it, outside it, still reaches fd 2."""
    import gc

    later = jpeg_with_extra_bytes(tmp_path / "later.jpg")
    stopped = None
    gc.disable()
    try:
        try:
            run()
        except KeyboardInterrupt as exc:
            stopped = exc
        cv2.imread(str(later))  # outside it: what libjpeg prints goes where fd 2 goes
    finally:
        gc.enable()
    return stopped is not None and bool(WARNING.search(capfd.readouterr().err))


def test_a_sort_its_caller_stops_gives_fd_2_back_as_it_stops(folder: Path, tmp_path: Path, capfd) -> None:
    """A Ctrl-C (or an error) raised as the first photo is filed, its exception kept by the caller
    (the CLI's "Interrupted" line is raised from it): the sort's decoding, in its `captured()` block,
    was left to the garbage collector, and until it ran fd 2 stayed on the capture. What any
    library printed meanwhile went there, not to the terminal; in the tests, it reached a later
    test's capfd instead (test_review_server's damaged photo, whose lines its server's decodes
    printed straight into it). Stopping the sort now ends that block at once."""

    from sorter.sorting.sort import sort_folder

    def stop(result) -> None:
        raise KeyboardInterrupt

    for i in range(80):  # more than one chunk of moves: the decoding goes on past the first result
        write_image(folder / f"tom{i}.jpg", BLUE)
    assert printed_after_it_stops(lambda: sort_folder(folder, classifier=FakeClassifier(), on_result=stop),
                                  tmp_path, capfd)


def test_a_learn_stopped_in_its_second_look_gives_fd_2_back_as_it_stops(tmp_path: Path, capfd) -> None:
    """As for a sort: `learn`'s table classifies its unsure photos again as sort would
    (`as_sorted.decided`), and a Ctrl-C (or an error) raised from its progress kept that decoding,
    in its `captured()` block, in the exception's traceback until the garbage collector ran. In
    the review server's process, whose Learn button runs it, that could be long: meanwhile what any
    library printed went to the capture, not the terminal. Stopping it now ends that block at once."""

    from sorter.files.identities import identity_of
    from sorter.learning.as_sorted import decided
    from sorter.model.personal import Examples

    def stop(what: str, done: int, total: int) -> None:
        raise KeyboardInterrupt

    paths = [write_image(tmp_path / "learnt" / f"tom{i}.jpg", BLUE) for i in range(80)]  # decoding goes on
    n = len(paths)
    examples = Examples("fake", np.array([identity_of(os.lstat(p)) for p in paths], np.int64),
                        np.zeros((n, 1), np.float32), np.full(n, "cat"), np.full(n, ""), np.full(n, "cat"),
                        np.array([str(p) for p in paths]))
    unsure = np.full((n, 2), 0.5)  # each photo looked at again, as sort would
    assert printed_after_it_stops(lambda: decided(FakeClassifier(), unsure, examples, [], stop), tmp_path, capfd)
