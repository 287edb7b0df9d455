"""What `sorter learn` says where a user's folder could mislead them (found by a QA pass): a
`--forget` while a learn runs, pets' folders that are no pet (a year in the name, hidden),
photos found that could not be read, videos placed by hand, the command a refusal names, and
pets' folders whose names or photos look the same; then (a second pass) a HEIC photo named .MOV,
a folder in cats/ sorted on its own, a month abbreviated (Sept), one file in a cat's and a dog's
folder, pets' names in the table and on an ASCII terminal, and learn's lock taken before its
model loads. Photos and the fake model as in test_learn."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import cv2
from test_heic import needs_hevc_encoder
from test_heic import write as write_heif
from test_learn import app, invoke, luna, photo, six_cats_sorted, sorted_and_corrected
from typer.testing import CliRunner

from sorter.learning import learn as learning
from sorter.learning.folder_names import name_twins, shown
from sorter.learning.pets import PetReport
from sorter.model import personal

REPO = Path(__file__).resolve().parents[1]

# A learn in another process, holding learn's lock until told (a line on its stdin), then saving
# what a learn saves, as the learn the QA tester started in the background did.
RUNNING_LEARN = """
import sys
from sorter.learning.learn import learning_lock
from sorter.model import personal
with learning_lock():
    print("holding", flush=True)
    sys.stdin.readline()
    if sys.argv[1] == "saves":
        personal.model_file().write_bytes(b"saved at the end of a learn")
        personal.examples_file().write_bytes(b"saved at the end of a learn")
"""


def running_learn(saves: bool) -> subprocess.Popen:
    learn = subprocess.Popen([sys.executable, "-c", RUNNING_LEARN, "saves" if saves else "refused"], cwd=REPO,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert learn.stdout.readline() == "holding\n"
    return learn


def finish(learn: subprocess.Popen) -> None:
    learn.stdin.write("done\n")
    learn.stdin.flush()
    assert learn.wait(30) == 0


def test_forget_waits_for_a_running_learn_then_deletes_what_it_saved(tmp_path: Path, fake_model) -> None:
    # It unlinked the lock file and said "Forgot the personal model (…/sorter/.learning)"; the
    # learn running then saved personal.npz and examples.npz again.
    assert learning.learn(sorted_and_corrected(tmp_path / "roll", fake_model), model=fake_model).model_path
    lock = personal.personal_dir() / personal.LEARNING_LOCK
    learn = running_learn(saves=True)
    forgot = []
    forgetting = threading.Thread(target=lambda: forgot.append(invoke("learn", "--forget")))
    forgetting.start()
    forgetting.join(1.0)
    assert forgetting.is_alive() and lock.exists()  # waits, and leaves the lock to its holder

    finish(learn)
    forgetting.join(30)

    result = forgot[0]
    assert result.exit_code == 0, result.output
    assert result.stderr == "Waiting for another `sorter learn` to finish…\n"
    assert result.stdout == (f"Forgot the personal model: deleted {personal.model_file()}, "
                             f"{personal.examples_file()}\n")
    assert not personal.personal_dir().exists()


def test_a_learn_that_waited_holds_the_lock_its_holder_deleted_the_file_of(tmp_path: Path) -> None:
    # A learn that saved nothing deletes the lock file (and the folder) on its way out: one that
    # waited on that file held a lock no later learn saw, and two ran at once.
    learn = running_learn(saves=False)
    holding, release = threading.Event(), threading.Event()

    def second() -> None:
        with learning.learning_lock():
            holding.set()
            release.wait(30)

    waiting = threading.Thread(target=second)
    waiting.start()
    finish(learn)
    assert holding.wait(30)
    fd = os.open(personal.personal_dir() / personal.LEARNING_LOCK, os.O_RDWR)
    try:
        try:  # a third learn finds the lock taken
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            taken = False
        except BlockingIOError:
            taken = True
    finally:
        os.close(fd)
        release.set()
        waiting.join(30)
    assert taken


def test_pets_folders_taken_for_folders_by_date_or_hidden_are_said_to_be(tmp_path: Path, fake_model) -> None:
    # "Nothing to learn", and no word of cats/Agent 2007 or cats/.hidden.
    roll = six_cats_sorted(tmp_path, fake_model)
    for i, folder in enumerate(["Agent 2007", "Agent 2007", "Kitty 2000", "2019-06", ".hidden", ".thumbnails"]):
        (roll / "cats" / folder).mkdir(exist_ok=True)
        (roll / "cats" / f"cat{i}.png").rename(roll / "cats" / folder / f"cat{i}.png")  # sorter's cats, moved there
    (roll / "cats" / "Bella2015").mkdir()  # empty: nothing to say
    (roll / "cats" / ".empty").mkdir()

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        "cats/Agent 2007/ and cats/Kitty 2000/: taken for folders by date (a year in the name), their 3 photos count "
        "as cats; rename one without the year to learn a pet there",
        "cats/.hidden/: a hidden folder, its 1 photo not learnt from; rename it without the leading dot to learn a "
        "pet there",
    ]
    assert "Nothing to learn" in result.stdout
    assert "2019-06" not in result.stdout and "Bella" not in result.stdout and ".empty" not in result.stdout
    assert ".thumbnails" not in result.stdout  # an app's, not a pet hidden by mistake
    (roll / "cats" / "Kitty 2000").rename(roll / "cats" / "Kitty")
    alone = invoke("learn", roll, "--model", fake_model).stdout.splitlines()[1]
    assert alone == ("cats/Agent 2007/: taken for a folder by date (a year in the name), its 2 photos count as cats; "
                     "rename it without the year to learn a pet there")


def test_photos_found_that_could_not_be_read_and_videos_put_in_by_hand_are_counted(tmp_path: Path,
                                                                                    fake_model) -> None:
    # "Found 10 photo(s) you placed" over a table of 7; a video put into cats/Luna/ by hand went uncounted.
    roll = six_cats_sorted(tmp_path, fake_model)
    for i in range(6):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    for i in range(3):
        (roll / "cats" / "Luna" / f"broken{i}.jpg").write_bytes(b"not a photo")
    (roll / "cats" / "Luna" / "purring.mp4").write_bytes(b"a video, never decoded by learn")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (f"Found 9 photos you placed in {roll} (6 new, 3 could not be read); 6 kept as sorted, "
                        "held as they are")
    assert lines[1].startswith("Not learnt from: 1 video you placed")
    assert [line.split()[:4] for line in lines if line.startswith("added -> cats/Luna")] == [
        ["added", "->", "cats/Luna", "6"]]
    assert sorted(result.stderr.splitlines()) == [
        f"unreadable: {roll}/cats/Luna/broken{i}.jpg: not a readable image (corrupt or unsupported format)"
        for i in range(3)]


def test_learn_of_a_pets_folder_is_refused_naming_learn(tmp_path: Path, fake_model) -> None:
    # It said "sort, review or undo ROLL itself" to a user who ran learn.
    roll = six_cats_sorted(tmp_path, fake_model)
    (roll / "cats" / "Luna").mkdir()

    result = invoke("learn", roll / "cats" / "Luna", "--model", fake_model)

    assert result.exit_code == 2
    assert result.stderr == f"Error: {roll}/cats/Luna is a named pet's folder in cats/ of a sort of {roll}: " \
                            f"sorter learn {roll} itself\n"


def test_pets_folders_that_look_alike_are_told_apart(tmp_path: Path, fake_model) -> None:
    # cats/Luna and cats/"Luna " printed two identical "cats/Luna" lines.
    roll = six_cats_sorted(tmp_path, fake_model)
    for i in range(6):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
        luna(roll / "cats" / "Luna " / f"luna{i}.png", 70 + i)

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert sorted(line.split(":")[0] for line in lines if " photos, would find" in line) == [
        "cats/'Luna '", "cats/Luna"]
    assert ("cats/Luna and cats/'Luna ' differ only in spaces: learnt as 2 pets (put their photos in one folder to "
            "learn one)") in lines
    assert [shown(name) for name in ("cats/Luna", "cats/Mr  Fluffy", "cats/Lu\u200bna", "dogs/Rex\t")] == [
        "cats/Luna", "cats/'Mr  Fluffy'", "cats/'Lu\\u200bna'", "dogs/'Rex\\t'"]
    assert name_twins(["cats/Zoe\u0308", "cats/Zo\u00eb", "cats/zo\u00eb "]) == [
        "cats/Zo\u00eb: 3 spellings of Zo\u00eb (its letters encoded differently, and case and spaces): learnt as 3 "
        "pets (put their photos in one folder to learn one)"]


def luna_with_milos_photos(tmp_path: Path, fake_model: Path, put) -> Path:
    """cats/Luna/ and cats/Milo/, 6 photos each, and 5 of Milo's `put` into Luna's folder too."""
    roll = six_cats_sorted(tmp_path, fake_model)
    for i in range(6):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
        photo(roll / "cats" / "Milo" / f"milo{i}.png", "cat", 80 + i, "columns")
    for i in range(5):
        put(roll / "cats" / "Milo" / f"milo{i}.png", roll / "cats" / "Luna" / f"from-milo{i}.png")
    return roll


def test_the_same_photos_in_two_pets_folders_are_said_to_be_the_same_not_alike(tmp_path: Path, fake_model) -> None:
    # "5 looked more like Milo": they were Milo's photos, copied into cats/Luna/ too.
    result = invoke("learn", luna_with_milos_photos(tmp_path, fake_model, shutil.copy), "--model", fake_model)

    assert result.exit_code == 0, result.output
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines() if line.startswith("cats/")}
    assert lines["cats/Luna"].startswith("cats/Luna: 11 photos (5 also in cats/Milo, the same photos: keep each in "
                                         "one pet's folder), would find ")
    assert lines["cats/Milo"].startswith("cats/Milo: 6 photos (5 also in cats/Luna, the same photos: keep each in "
                                         "one pet's folder), would find ")
    assert "looked more like" not in result.stdout
    report = PetReport("cats/Luna", 11, True, 6, 50, 0, ("Milo", 5), shared=("Milo", 5))
    assert "looked more like" not in report.line()
    assert "(4 looked more like Zoe)" in PetReport("cats/Luna", 11, True, 6, 50, 0, ("Zoe", 4), shared=("Milo", 5)).line()


def test_one_file_in_two_pets_folders_is_said_to_be(tmp_path: Path, fake_model) -> None:
    # Hard links: cats/Milo/ said "1 photo(s); too few to learn" with 6 photos in it, and why went unsaid.
    result = invoke("learn", luna_with_milos_photos(tmp_path, fake_model, os.link), "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == ("cats/Luna/ and cats/Milo/: 5 photos in both (one file each, by two "
                                             "names), learnt from cats/Luna/ only; keep each in one pet's folder")
    assert "cats/Milo: 1 photo; too few to learn (5 or more)" in result.stdout  # the 5 went to Luna


def test_one_file_in_a_cats_and_a_dogs_folder_is_said_to_be(tmp_path: Path, fake_model) -> None:
    # Linked between cats/Luna and dogs/Rex it said nothing, and the photos were learnt as one of theirs.
    roll = six_cats_sorted(tmp_path, fake_model)
    for i in range(6):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    (roll / "dogs" / "Rex").mkdir(parents=True)
    for i in range(2):
        os.link(roll / "cats" / "Luna" / f"luna{i}.png", roll / "dogs" / "Rex" / f"rex{i}.png")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == ("cats/Luna/ and dogs/Rex/: 2 photos in both (one file each, by two "
                                             "names), learnt from cats/Luna/ only; keep each in one pet's folder")
    assert "dogs/Rex" not in result.stdout.split("\n", 2)[2]  # no row, no line of its own: none of Rex's learnt


def test_a_photo_that_could_not_be_read_is_never_counted_new(tmp_path: Path, fake_model) -> None:
    """QA: a broken JPEG in cats/Luna/ was "new" at every learn, never learnt: "(6 new, 1 could not
    be read)" of 5 photos new, then "(1 new, 1 could not be read)" with nothing new at all."""
    roll = six_cats_sorted(tmp_path, fake_model)
    for i in range(5):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    (roll / "cats" / "Luna" / "broken.jpg").write_bytes(b"\xff\xd8junk")

    first, again = (invoke("learn", roll, "--model", fake_model) for _ in range(2))

    found = f"Found 6 photos you placed in {roll} ({{}} new, 1 could not be read); 6 kept as sorted, held as they are"
    assert (first.exit_code, first.stdout.splitlines()[0]) == (0, found.format(5)), first.output
    assert (again.exit_code, again.stdout.splitlines()[0]) == (0, found.format(0)), again.output
    assert again.stderr == (f"unreadable: {roll}/cats/Luna/broken.jpg: not a readable image (corrupt or unsupported "
                            "format)\n")

@needs_hevc_encoder
def test_a_heic_photo_named_mov_in_a_pets_folder_is_learnt_as_the_photo_it_is(tmp_path: Path, fake_model) -> None:
    # The review page counts it a photo of Luna ("5 photos of Luna"); learn counted it a video and
    # said "cats/Luna: 4 photo(s); too few to learn".
    roll = six_cats_sorted(tmp_path, fake_model)
    for i in range(4):
        luna(roll / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    live = cv2.cvtColor(cv2.imread(str(luna(tmp_path / "still.png", 60))), cv2.COLOR_BGR2RGB)
    write_heif(roll / "cats" / "Luna" / "live.MOV", live)
    cut = write_heif(tmp_path / "cut.heic", live).read_bytes()
    (roll / "cats" / "Luna" / "cut.mov").write_bytes(cut[: len(cut) * 3 // 4])
    (roll / "cats" / "Luna" / "purring.mp4").write_bytes(b"a video, never decoded by learn")
    reason = _unreadable(roll / "cats" / "Luna" / "cut.mov")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0 and reason.startswith("truncated HEIC"), result.output
    found, videos, *rest = result.stdout.splitlines()
    assert (found, videos.split(" (")[0]) == (
        f"Found 6 photos you placed in {roll} (5 new, 1 could not be read); 6 kept as sorted, held as they are",
        "Not learnt from: 1 video you placed")  # purring.mp4
    assert next(line for line in rest if line.startswith("cats/Luna:")).startswith("cats/Luna: 5 photos, would find")
    assert result.stderr == f"unreadable: {roll}/cats/Luna/cut.mov: {reason}\n"


def _unreadable(path: Path) -> str:
    """Why the image decoder, which goes by a file's bytes, not its name, cannot read `path`."""
    from sorter.errors import ImageError
    from sorter.media.images import load_image

    try:
        load_image(path, 32)
    except ImageError as exc:
        return str(exc)
    raise AssertionError(f"{path} was read")


def test_a_folder_sorted_on_its_own_in_cats_is_no_folder_by_date(tmp_path: Path, fake_model) -> None:
    # `sorter sort "DIR/cats/Trip 2019"` (its own journal, cats/ and dogs/), then `sorter learn DIR`
    # said "cats/Trip 2019/: taken for a folder by date…, its 4 photos count as cats": none are
    # learnt (a learn of DIR never enters it), and 2 are in its own dogs/.
    trip = tmp_path / "pets" / "cats" / "Trip 2019"
    for i in range(2):
        photo(tmp_path / "pets" / "cats" / f"mine{i}.png", "cat", 400 + i)
        photo(trip / f"cat{i}.png", "cat", 410 + i)
        photo(trip / f"dog{i}.png", "dog", 420 + i)
    assert invoke("sort", trip, "--model", fake_model).exit_code == 0
    assert sorted(p.name for p in (trip / "dogs").iterdir()) == ["dog0.png", "dog1.png"]

    result = invoke("learn", tmp_path / "pets", "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"Found 2 photos you placed in {tmp_path / 'pets'} (2 new)"
    assert "Trip 2019" not in result.stdout


def test_folders_by_date_with_a_months_abbreviation_are_no_pets_meant(tmp_path: Path, fake_model) -> None:
    # cats/Sept 2019/ was "taken for a folder by date (a year in the name)": Sep was a month, Sept not.
    roll = six_cats_sorted(tmp_path, fake_model)
    for i, folder in enumerate(["Sept 2019", "Sept. 2020", "sep 2021", "Agent 2007"]):
        (roll / "cats" / folder).mkdir()
        (roll / "cats" / f"cat{i}.png").rename(roll / "cats" / folder / f"cat{i}.png")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if "by date" in line] == [
        "cats/Agent 2007/: taken for a folder by date (a year in the name), its 1 photo counts as cats; rename it "
        "without the year to learn a pet there"]


def test_pets_names_read_as_in_their_lines_in_the_table_and_print_on_an_ascii_terminal(tmp_path: Path,
                                                                                          fake_model) -> None:
    # The table's kind column showed cats/Luna twice (one was "Luna "), a tab broke its columns, a
    # zero-width space was invisible, an undecodable byte was `Lu�na` (`'Lu\udcffna'` in her line),
    # and on an ASCII stdout (PYTHONIOENCODING=ascii) a Zoë was a UnicodeEncodeError, a traceback.
    roll = six_cats_sorted(tmp_path, fake_model)
    for k, name in enumerate(["Luna", "Luna ", "Mi\tlo", "Ki\u200bt", "Zo\u00eb"]):
        luna(roll / "cats" / name / "a.png", 50 + k)
    os.mkdir(os.fsencode(roll / "cats") + b"/Lu\xffna")  # OpenCV writes to no such name: moved there
    os.rename(luna(tmp_path / "a.png", 60), os.fsencode(roll / "cats") + b"/Lu\xffna/a.png")

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    kinds = sorted(line.rsplit(maxsplit=3)[0] for line in lines if line.startswith("added -> "))
    assert kinds == ["added -> cats/'Ki\\u200bt'", "added -> cats/'Lu\\xffna'", "added -> cats/'Luna '",
                     "added -> cats/'Mi\\tlo'", "added -> cats/Luna", "added -> cats/Zo\u00eb"]
    assert sorted(line for line in lines if "too few to learn" in line) == [
        f"{kind.split(' -> ')[1]}: 1 photo; too few to learn (5 or more)" for kind in kinds]
    assert len({len(line) for line in lines if line.startswith(("kind ", "added -> "))}) == 1  # its columns kept
    on_ascii = CliRunner(charset="ascii").invoke(app(), ["learn", str(roll), "--model", str(fake_model)])
    assert on_ascii.exit_code == 0, on_ascii.output
    assert "cats/Zo\\xeb: 1 photo; too few to learn (5 or more)" in on_ascii.stdout.splitlines()


def test_a_learn_loading_its_model_holds_its_lock_so_a_forget_waits_then_deletes_what_it_saved(
        tmp_path: Path, fake_model, monkeypatch) -> None:
    # The lock was taken after the model loaded: a `learn --forget` then did not wait, and the
    # learn saved a personal model after it.
    from sorter.model import lite

    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    assert learning.learn(roll, model=fake_model).model_path  # something to forget
    fake, loading, loaded = lite.load_classifier(fake_model), threading.Event(), threading.Event()

    def slow_to_load(path):
        loading.set()
        assert loaded.wait(30)
        return fake

    monkeypatch.setattr(lite, "load_classifier", slow_to_load)
    learnt = []
    learner = threading.Thread(target=lambda: learnt.append(learning.learn(roll, model=fake_model)))
    learner.start()
    assert loading.wait(30)
    forgot = []
    forgetting = threading.Thread(target=lambda: forgot.append(invoke("learn", "--forget")))
    forgetting.start()
    forgetting.join(1.0)
    assert forgetting.is_alive()  # waits for the learn

    loaded.set()
    learner.join(30)
    forgetting.join(30)

    assert learnt[0].model_path == personal.model_file()
    assert forgot[0].exit_code == 0, forgot[0].output
    assert forgot[0].stderr == "Waiting for another `sorter learn` to finish…\n"
    assert not personal.personal_dir().exists()  # what the learn saved, deleted after it


def test_a_lock_file_deleted_each_time_it_is_locked_is_one_error_line_not_a_loop_for_ever(tmp_path: Path, fake_model,
                                                                                          monkeypatch) -> None:
    # Each learn that held it deleted the lock file as it ended: the loop that locks the file
    # there now had no end.
    roll = sorted_and_corrected(tmp_path / "roll", fake_model)
    monkeypatch.setattr(learning, "_same_file", lambda fd, path: False)

    result = invoke("learn", roll, "--model", fake_model)

    assert result.exit_code == 1
    assert result.stderr == (f"Error: {personal.personal_dir() / personal.LEARNING_LOCK}: deleted each of the 100 times "
                             "it was locked (by other `sorter learn`s ending?); run it again\n")
