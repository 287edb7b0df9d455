"""What a person sees of a sort: a summary that fits on a screen, every file with --verbose
and --log-file, and the review page `DIR/.sorter/review.html` (read back with an HTML
parser here, and rendered in headless Chromium where it is installed)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote_to_bytes

import cv2
import numpy as np
import pytest
from conftest import SAMPLES, FakeClassifier, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.files import undo as restore
from sorter.model import lite
from sorter.review import page as review
from sorter.sorting import sort
from sorter.sorting.results import FileResult

RED, BLUE, GREY = (0, 0, 255), (255, 0, 0), (128, 128, 128)  # BGR: the fake says red = dog
MARKUP_NAME = '<b>&"x\'.jpg'
runner = CliRunner(env={"COLUMNS": "160"})


class Page(HTMLParser):
    """The page's groups (`section` with its data- attributes) and their photos (`figure`:
    title, link, image, caption), names and attributes unescaped as a browser reads them."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.groups: list[dict] = []
        self.tags: list[str] = []  # every start tag inside a figure: markup in a name would add some
        self._figure: dict | None = None
        self._into: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs) -> None:
        a = dict(attrs)
        if tag == "section":
            self.groups.append({**{k[5:]: v for k, v in a.items() if k.startswith("data-")}, "figures": []})
        elif tag == "figure":
            self._figure = {"title": a["title"], "href": None, "img": None, "caption": "", "name": ""}
            self.groups[-1]["figures"].append(self._figure)
        elif self._figure is not None:
            self.tags.append(tag)
            if tag == "a":
                self._figure["href"] = a["href"]
            elif tag == "img":
                self._figure["img"] = a["src"]
            elif tag == "b":
                self._into = "caption"
            elif tag == "span" and a.get("class") == "name":
                self._into = "name"

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._figure = None
        if tag in ("b", "span"):
            self._into = None

    def handle_data(self, data: str) -> None:
        if self._figure is not None and self._into:
            self._figure[self._into] += data

    def figures(self) -> list[dict]:
        return [f for g in self.groups for f in g["figures"]]

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Files per status and per destination folder, as `sorter sort --json` counts them."""
        counts: dict[str, int] = {}
        moved_to: dict[str, int] = {}
        for group in self.groups:
            counts[group["status"]] = counts.get(group["status"], 0) + int(group["count"])
            if group["status"] == "moved":
                moved_to[group["folder"]] = int(group["count"])
        return counts, moved_to


def page_of(root: Path) -> tuple[str, Page]:
    text = (root / ".sorter" / "review.html").read_text(encoding="utf-8")
    return text, Page(text)


def linked_file(root: Path, href: str) -> Path:
    """Where a link of the page (in DIR/.sorter/) leads: relative, URL-quoted bytes."""
    assert not re.match(r"^[a-z]+:", href) and not href.startswith("/"), href
    return Path(os.fsdecode(os.path.normpath(os.fsencode(root / ".sorter") + b"/" + unquote_to_bytes(href))))


def thumbnail_size(src: str) -> tuple[int, int]:
    prefix = "data:image/jpeg;base64,"
    assert src.startswith(prefix)
    image = cv2.imdecode(np.frombuffer(base64.b64decode(src[len(prefix):]), np.uint8), cv2.IMREAD_COLOR)
    return image.shape[1], image.shape[0]


@pytest.fixture
def fake(monkeypatch) -> None:
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())


# ---------------------------------------------------------------------------- the page


def test_the_page_shows_every_file_where_it_now_is_with_names_escaped(tmp_path: Path, fake) -> None:
    write_image(tmp_path / "rex.jpg", RED, size=(200, 300))  # landscape: the thumbnail keeps its shape
    write_image(tmp_path / MARKUP_NAME, BLUE)
    write_image(tmp_path / "a #1 100% ?.png", BLUE)
    write_image(tmp_path / "sub dir" / "猫 é.png", BLUE)
    write_image(tmp_path / os.fsdecode(b"caf\xe9.png"), RED)  # not UTF-8
    write_image(tmp_path / "blurry.jpg", GREY)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff nothing after")
    write_image(tmp_path / "cats" / MARKUP_NAME, BLUE)  # taken: the new one becomes "... (1).jpg"

    result = runner.invoke(app, ["sort", str(tmp_path), "--recursive", "--min-confidence", "0.8"])

    assert result.exit_code == 0, result.output
    assert f"Review: {tmp_path / '.sorter' / 'review.html'}" in result.stdout
    text, page = page_of(tmp_path)
    assert "<b>&" not in text and "&lt;b&gt;&amp;&quot;x&#x27;.jpg" in text
    assert set(page.tags) <= {"div", "a", "img", "span", "figcaption", "b"} and page.tags.count("b") == 7
    where = {f["title"].split(" (was ")[0].split(": ")[0]: f for f in page.figures()}
    assert set(where) == {
        "dogs/rex.jpg", f"cats/{MARKUP_NAME[:-4]} (1).jpg", "cats/a #1 100% ?.png", "cats/猫 é.png",
        "dogs/caf\\xe9.png", "blurry.jpg", "broken.jpg",
    }
    assert where["cats/猫 é.png"]["title"] == "cats/猫 é.png (was sub dir/猫 é.png)"
    assert where["blurry.jpg"]["caption"] == "dog 50.0%"  # the fake's 50/50 grey, below 80%
    unreadable = "not a readable image (corrupt or unsupported format)"
    assert where["broken.jpg"]["img"] is None and where["broken.jpg"]["caption"] == "unreadable"
    assert where["broken.jpg"]["title"] == f"broken.jpg: {unreadable}"
    for figure in page.figures():  # every link leads to the file where it now is
        assert linked_file(tmp_path, figure["href"]).is_file(), figure
    assert linked_file(tmp_path, where["dogs/caf\\xe9.png"]["href"]).name == os.fsdecode(b"caf\xe9.png")
    assert thumbnail_size(where["dogs/rex.jpg"]["img"]) == (128, 85)
    assert thumbnail_size(where["cats/a #1 100% ?.png"]["img"]) == (64, 48)  # small photos are not enlarged
    assert [(g["status"], g.get("folder") or g["reason"], g["count"]) for g in page.groups] == [
        ("moved", "cats", "3"), ("moved", "dogs", "2"),
        ("unsure", "confidence below --min-confidence 80%", "1"), ("unreadable", unreadable, "1"),
    ]


def test_a_name_with_a_new_line_is_shown_escaped_as_the_cli_shows_it(tmp_path: Path, fake) -> None:
    """The page that `sort` writes showed `Fo\nx.png` as "Fo x.png", a name it does not have, where
    the CLI and the review server say `Fo\\nx.png`; its link still opens the file."""
    write_image(tmp_path / "Fo\nx.png", BLUE)
    write_image(tmp_path / "Fo x.png", RED)

    result = runner.invoke(app, ["sort", str(tmp_path)])

    assert result.exit_code == 0, result.output
    where = {f["title"].split(" (was ")[0]: f for f in page_of(tmp_path)[1].figures()}
    assert set(where) == {"cats/Fo\\nx.png", "dogs/Fo x.png"}
    assert linked_file(tmp_path, where["cats/Fo\\nx.png"]["href"]) == tmp_path / "cats" / "Fo\nx.png"


def test_photos_are_shown_least_confident_first_and_a_large_group_says_how_many_it_shows(tmp_path: Path) -> None:
    confidences = np.random.default_rng(0).uniform(0.5, 1.0, 5000)
    page = review.ReviewPage(tmp_path, per_group=40)
    (tmp_path / ".sorter").mkdir()
    for i, confidence in enumerate(confidences):  # files that are not there: placeholders, quickly
        page.add(FileResult(tmp_path / f"{i}.jpg", "moved", "cat", float(confidence), tmp_path / "cats" / f"{i}.jpg"))
    assert len(page.groups[("moved", "cats/")].kept) == 40  # memory: 40 kept, whatever the folder

    page.write()
    text, parsed = page_of(tmp_path)

    assert "showing the 40 least confident of 5,000" in text
    shown = [float(f["caption"].split()[1].rstrip("%")) / 100 for f in parsed.figures()]
    least = sorted(confidences)[:40]  # each cut at its tenth of a percent, never rounded up
    assert all(0 <= c - s < 0.001 + 1e-9 for s, c in zip(shown, least, strict=True)), (shown, least)


def test_the_page_has_the_review_server_s_styles_from_the_one_file_and_its_own_after_them(tmp_path: Path) -> None:
    """The page carried a copy of `sorter review`'s styles (app.css), and the copies had drifted:
    cards 144 px wide here and 152 px there, the count bold here. It has app.css itself, as the
    package holds it, so a style fixed there is fixed here; then its own rules (the note a large
    group has), which the server's page does not have."""
    from importlib import resources

    shared = resources.files("sorter.review").joinpath("app.css").read_text(encoding="utf-8")
    page = review.ReviewPage(tmp_path, per_group=1)
    (tmp_path / ".sorter").mkdir()
    for i in range(2):
        page.add(FileResult(tmp_path / f"{i}.jpg", "moved", "cat", 0.9, tmp_path / "cats" / f"{i}.jpg"))
    page.write()
    text, _ = page_of(tmp_path)

    [style] = re.findall(r"<style>\n(.*?)</style>", text, re.S)
    assert style == shared + review.OWN_STYLES
    assert '<p class="note">' in text and ".note {" in review.OWN_STYLES and ".note" not in shared


def test_reasons_beyond_the_cap_share_a_group_per_status(tmp_path: Path) -> None:
    page = review.ReviewPage(tmp_path)
    for i in range(review.MAX_REASON_GROUPS + 5):
        page.add(FileResult(tmp_path / f"{i}.jpg", "unreadable", reason=f"odd reason number{i}"))
    assert len(page.groups) == review.MAX_REASON_GROUPS + 1
    assert page.groups[("unreadable", "other reasons")].count == 5


def test_undo_removes_the_page_of_the_run_it_undoes(tmp_path: Path) -> None:
    write_image(tmp_path / "rex.jpg", RED)
    sort.sort_folder(tmp_path, classifier=FakeClassifier())
    write_image(tmp_path / "tom.jpg", BLUE)
    summary = sort.sort_folder(tmp_path, classifier=FakeClassifier())
    assert summary.review_page == tmp_path / ".sorter" / "review.html" and summary.review_page.is_file()
    assert "tom.jpg" in summary.review_page.read_text() and "rex.jpg" not in summary.review_page.read_text()

    restore.undo(tmp_path)  # the latest run: its page goes, the journal of the first stays
    assert sorted(os.listdir(tmp_path / ".sorter")) == ["journal.jsonl", "lock"]
    sort.sort_folder(tmp_path, classifier=FakeClassifier())
    restore.undo(tmp_path, all_runs=True)
    assert sorted(os.listdir(tmp_path)) == ["rex.jpg", "tom.jpg"]


def test_the_page_is_never_written_through_a_link_left_in_its_place(tmp_path: Path) -> None:
    root, outside = tmp_path / "photos", tmp_path / "precious.txt"
    outside.write_text("keep me")
    write_image(root / "rex.jpg", RED)
    (root / ".sorter").mkdir()
    (root / ".sorter" / "review.html.tmp").symlink_to(outside)
    (root / ".sorter" / "review.html").symlink_to(outside)

    summary = sort.sort_folder(root, classifier=FakeClassifier())

    assert outside.read_text() == "keep me"
    assert not summary.review_page.is_symlink() and "rex.jpg" in summary.review_page.read_text()


def test_a_dry_run_or_an_empty_folder_writes_no_page(tmp_path: Path, fake) -> None:
    assert sort.sort_folder(tmp_path, classifier=FakeClassifier()).review_page is None
    write_image(tmp_path / "rex.jpg", RED)
    result = runner.invoke(app, ["sort", str(tmp_path), "--dry-run", "--json"])
    assert json.loads(result.stdout)["review_page"] is None
    assert not (tmp_path / ".sorter" / "review.html").exists()


def test_a_folder_a_recursive_sort_did_not_enter_is_no_photo_on_either_review_page(tmp_path: Path, fake) -> None:
    """`sort -r` leaves software folders (node_modules) and an app's library unentered, and says
    so in its summary; its review page listed each such folder among the skipped files, a photo
    to review that was none. Neither page shows one: not review.html, not `sorter review`'s."""
    from sorter.files.journal import scan
    from sorter.review.loading import load_catalog

    write_image(tmp_path / "rex.jpg", RED)
    write_image(tmp_path / "web" / "node_modules" / "pkg" / "logo.jpg", BLUE)
    write_image(tmp_path / "Photos Library.photoslibrary" / "originals" / "4A1F.jpeg", BLUE)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff nothing after")  # left in place: still shown

    result = runner.invoke(app, ["sort", str(tmp_path), "--recursive"])

    assert result.exit_code == 0, result.output
    assert [line.split("│")[-2].strip() for line in result.stdout.splitlines() if "not entered" in line] == [
        "1 folder", "1 folder"], result.stdout  # said in the summary, as folders
    _, page = page_of(tmp_path)
    assert sorted(f["title"].split(" (was ")[0].split(":")[0] for f in page.figures()) == ["broken.jpg", "dogs/rex.jpg"]
    assert [(g["status"], g["count"]) for g in page.groups] == [("moved", "1"), ("unreadable", "1")]
    served = load_catalog(tmp_path, scan(tmp_path))
    assert sorted(photo.path for photo in served.photos) == ["broken.jpg", "dogs/rex.jpg"]


# ---------------------------------------------------------------------------- the terminal


def messy_folder(root: Path, unsure: int) -> list[str]:
    """`unsure` grey photos (the fake's 50/50) and files left in place for eleven other reasons."""
    for i in range(unsure):
        write_image(root / f"grey-{i:04d}.png", GREY, size=(8, 8))
    write_image(root / "rex.jpg", RED)
    ok, jpeg = cv2.imencode(".jpg", np.zeros((16, 16, 3), np.uint8))
    ok, png = cv2.imencode(".png", np.zeros((16, 16, 3), np.uint8))
    odd = {
        "empty.jpg": b"",
        "half.jpg": jpeg.tobytes()[:-10],
        "half.png": png.tobytes()[:40],
        "junk.jpg": b"\xff\xd8\xff junk",
        "huge.png": png.tobytes()[:16] + (30000).to_bytes(4, "big") * 2 + png.tobytes()[24:],
        "zero.png": png.tobytes()[:16] + bytes(8) + png.tobytes()[24:],
        "short.bmp": b"BM" + (10_000).to_bytes(4, "little") + bytes(12) + (4).to_bytes(4, "little") * 2 + b"rest",
        "short.webp": b"RIFF" + (10_000).to_bytes(4, "little") + b"WEBPVP8 " + bytes(10) + bytes([16, 0, 16, 0]),
    }
    for name, data in odd.items():
        (root / name).write_bytes(data)
    (root / "link.jpg").symlink_to(root / "rex.jpg")
    os.mkfifo(root / "pipe.jpg")
    return sorted([*odd, "link.jpg", "pipe.jpg", "rex.jpg", *(f"grey-{i:04d}.png" for i in range(unsure))])


def test_the_summary_counts_files_by_reason_and_fits_on_a_screen(tmp_path: Path, fake) -> None:
    messy_folder(tmp_path, unsure=300)

    result = runner.invoke(app, ["sort", str(tmp_path), "--min-confidence", "0.9"])

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) <= 20 and "grey-" not in result.stdout
    rows = [" ".join(line.strip("│┃ ").split()) for line in lines]
    assert "left in place: unsure │ confidence below --min-confidence 90% │ 300" in rows
    assert "left in place: unreadable │ truncated JPEG (no end-of-image marker) │ 1" in rows
    assert "left in place: unreadable │ image too large to decode safely │ 1" in rows  # not per file size
    assert "left in place │ 3 other reasons │ 3" in rows  # 11 reasons: 8 rows, then the rest in one
    assert sum(int(r.rsplit("│", 1)[1]) for r in rows if r.startswith(("moved to", "left in place"))) == 311


def test_verbose_prints_every_file_and_log_file_writes_every_file(tmp_path: Path, fake) -> None:
    names = messy_folder(tmp_path / "photos", unsure=20)
    write_image(tmp_path / "photos" / os.fsdecode(b"caf\xe9.png"), GREY, size=(8, 8))  # not UTF-8
    names = sorted([*names, os.fsdecode(b"caf\xe9.png")])
    log = tmp_path / "sort.log"

    quiet = runner.invoke(app, ["sort", str(tmp_path / "photos"), "--min-confidence", "0.9", "--dry-run",
                                "--log-file", str(log)])
    verbose = runner.invoke(app, ["sort", str(tmp_path / "photos"), "--min-confidence", "0.9", "-v"])

    assert quiet.exit_code == 0 and verbose.exit_code == 0, verbose.output
    assert quiet.stderr == ""
    logged = log.read_text(errors="surrogateescape").splitlines()
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", line) for line in logged)
    assert len(logged) == len(names) + 1 and logged[-1].endswith(
        f"planned {tmp_path / 'photos'}: would move 1 file (dogs: 1); left {len(names) - 1} in place"
    )
    assert sorted(file_of(line[20:]) for line in logged[:-1]) == names  # a line per file, whatever became of it
    printed = verbose.stderr.splitlines()
    # On stderr a name that is not UTF-8 shows its bytes escaped (caf\xe9.png); the log keeps the bytes.
    assert sorted(file_of(line) for line in printed) == sorted(
        os.fsencode(n).decode("utf-8", "backslashreplace") for n in names)
    assert "moved rex.jpg -> dogs/rex.jpg (dog, 99%)" in printed
    assert "unsure: grey-0003.png (dog): confidence 50% below --min-confidence 90%" in printed
    assert "skipped: pipe.jpg: not a regular file" in printed


def test_a_control_character_in_a_name_is_shown_escaped_never_a_line_of_its_own(tmp_path: Path, fake) -> None:
    """A name is data: `new\nline.png` must not start a line of the log (a forged,
    timestamped one), nor `\x1b[2J` clear the terminal."""
    write_image(tmp_path / "photos" / "new\n2026-12-05 10:00:00 moved x.jpg.png", RED)
    write_image(tmp_path / "photos" / "clear\x1b[2J.png", GREY, size=(8, 8))
    # U+202E shows the rest of the line backwards: "gpj.exe" would read as "exe.jpg". A name's
    # bytes that are not UTF-8 show as the bytes they are.
    write_image(tmp_path / "photos" / "backwards\u202egpj.png", GREY, size=(9, 9))
    write_image(tmp_path / "photos" / os.fsdecode(b"caf\xe9.png"), GREY, size=(10, 10))
    log = tmp_path / "sort.log"

    result = runner.invoke(app, ["sort", str(tmp_path / "photos"), "-v", "--log-file", str(log)])

    assert result.exit_code == 0, result.output
    logged = log.read_text(errors="surrogateescape").splitlines()
    assert len(logged) == 5, logged  # four files and the summary
    assert any("new\\n2026-12-05 10:00:00 moved x.jpg.png -> dogs/new\\n2026-12-05" in line for line in logged), logged
    assert any("clear\\x1b[2J.png" in line for line in logged), logged
    assert "\x1b" not in result.stderr and "clear\\x1b[2J.png" in result.stderr
    assert "backwards\\u202egpj.png" in result.stderr and "\u202e" not in result.stderr
    assert "caf\\xe9.png" in result.stderr


def file_of(line: str) -> str:
    """The file a line of --verbose or --log-file is about."""
    moved = re.match(r"(?:moved|would move) (.+?) -> ", line)
    return moved.group(1) if moved else re.match(r"\w+: (.+?)(?: \(|: )", line).group(1)


@pytest.mark.parametrize("command", ["sort", "watch"])
@pytest.mark.parametrize("where, why", [("no/such.log", "No such file or directory"), (".", "Is a directory")])
def test_a_log_file_that_cannot_be_opened_is_one_line_and_a_usage_error(tmp_path: Path, fake, command, where, why) -> None:
    # A path where no log file can be, as given, is exit 2, as every usage error; it was exit 1.
    log = tmp_path / where
    result = runner.invoke(app, [command, str(tmp_path), "--log-file", str(log)])
    assert (result.exit_code, result.stderr) == (2, f"Error: cannot open log file {log}: {why}\n")
    assert os.listdir(tmp_path) == []  # nothing sorted, no .sorter/


# ---------------------------------------------------------------------------- a real browser


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(chromium() is None, reason="chromium not installed (Debian: apt-get install chromium)")
def test_the_page_of_the_sample_images_renders_in_chromium_with_the_runs_counts(tmp_path: Path) -> None:
    folder = tmp_path / "pets"
    shutil.copytree(SAMPLES, folder)
    result = runner.invoke(app, ["sort", str(folder), "--json"])  # the bundled model
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    page = Path(run["review_page"])
    browser = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--user-data-dir=" + str(tmp_path / "profile")]

    dom = subprocess.run([*browser, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    shot = tmp_path / "review.png"
    subprocess.run([*browser, f"--screenshot={shot}", "--window-size=1000,900", page.as_uri()],
                   capture_output=True, timeout=120, check=True)

    rendered = Page(dom.stdout)
    assert rendered.counts() == (run["counts"], run["moved_to"]) == ({"moved": 7, "neither": 3}, {"cats": 4, "dogs": 3})
    shown = re.findall(r'class="count">(\d+)<', dom.stdout)  # the numbers a person reads
    assert [int(n) for n in shown] == [int(g["count"]) for g in rendered.groups]
    assert len([f for f in rendered.figures() if f["img"]]) == 10
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (900, 1000)
    not_white = (image.min(axis=2) < 235).mean()
    # Measured: 56 and 0.17 with the photos; the same page without its images 21 and 0.03.
    assert image.std() > 35 and not_white > 0.1, (image.std(), not_white)


def test_with_the_real_model_each_thumbnail_comes_from_the_decode_that_classified_it(tmp_path: Path,
                                                                                     monkeypatch) -> None:
    """The bundled model's input (224 px) is the size of the thumbnail sort hands over for the
    page to cut around the pet (`framing.FRAME_PX`): a large photo is decoded once, for both.
    Decoding a file for the page is made to fail, and the page still shows every photo."""
    from sorter.media import images

    for photo in sorted(SAMPLES.glob("photo-*.jpg"))[:4]:  # as a camera writes them: 12 MP, over 256 KB
        big = cv2.resize(cv2.imread(str(photo)), (4000, 3000), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(tmp_path / photo.name), big, [cv2.IMWRITE_JPEG_QUALITY, 95])
        assert (tmp_path / photo.name).stat().st_size >= images.THUMBNAIL_FROM_BYTES

    def no_second_decode(*args, **kwargs):
        raise AssertionError("decoded a second time for the review page")

    monkeypatch.setattr(images, "load_thumbnail", no_second_decode)
    results = []
    summary = sort.sort_folder(tmp_path, on_result=results.append)
    assert summary.review_page is not None
    _, page = page_of(tmp_path)
    shown = {os.path.basename(f["title"].split(" (was ")[0].split(": ")[0]): f["img"] for f in page.figures()}
    monkeypatch.undo()
    # A decode of its own, cut around the same pet (where it is small in its photo).
    expected = {r.path.name: review._thumbnail(r.destination or r.path, r.pet_box) for r in results}
    assert set(shown) == set(expected) and all(shown.values())
    # The same pixels as a decode of its own: the same reduced JPEG scale serves both sizes.
    assert {name: thumbnail_size(img) for name, img in shown.items()} == {
        name: (w, h) for name, (_, w, h) in expected.items()}


def test_a_group_encodes_a_thumbnail_only_for_a_photo_it_keeps() -> None:
    group = review.Group("moved", "cats/")
    for seq, confidence in enumerate([0.9, 0.6, 0.8], 1):
        assert group.keeps(confidence, seq, 3)
        group.add(review.Entry(Path(f"{seq}.jpg"), None, "moved", "cat", confidence, None), seq, 3)
    assert not group.keeps(0.95, 4, 3)  # more confident than every one shown: not shown
    assert group.keeps(0.7, 5, 3)  # less confident than the 0.9: takes its place


# ---------------------------------------------------------------------------- centred on the pet


@pytest.mark.parametrize(("size", "quality", "decoded_by"), [((2400, 1600), 90, "sort"), ((1200, 800), 25, "the page")])
def test_a_small_pet_in_a_large_scene_is_shown_cut_around_it(tmp_path: Path, size, quality, decoded_by) -> None:
    """A cat pasted small into a photo of a launch pad (6 % of it): the page shows a square
    around the cat, where it is 3 times the share of the picture, not the whole 3:2 scene.
    The same whether the thumbnail comes from sort's decode (a large file) or the page's own."""
    from sorter.media.images import THUMBNAIL_FROM_BYTES
    from sorter.review.framing import square_cut

    width, height = size
    scene = cv2.resize(cv2.imread(str(SAMPLES / "photo-10.jpg")), size, interpolation=cv2.INTER_CUBIC)
    pet = (slice(height * 5 // 8, height * 5 // 8 + height * 21 // 80), slice(width // 16, width // 16 + width * 7 // 30))
    scene[pet] = cv2.resize(cv2.imread(str(SAMPLES / "photo-03.jpg")), (width * 7 // 30, height * 21 // 80))
    path = tmp_path / "launch-pad-cat.jpg"
    cv2.imwrite(str(path), scene, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert (path.stat().st_size >= THUMBNAIL_FROM_BYTES) == (decoded_by == "sort")
    (tmp_path / "whole.jpg").write_bytes((SAMPLES / "photo-07.jpg").read_bytes())  # a cat filling its photo

    results = []
    sort.sort_folder(tmp_path, on_result=results.append)
    (result,) = [r for r in results if r.path == path]
    assert result.destination == tmp_path / "cats" / path.name and result.pet_box is not None
    y0, y1, x0, x1 = square_cut(height, width, result.pet_box, 0)
    cat = np.zeros((height, width), bool)
    cat[pet] = True
    assert cat[y0:y1, x0:x1].mean() > 2.5 * cat.mean()
    _, page = page_of(tmp_path)
    shown = {f["name"]: thumbnail_size(f["img"]) for f in page.figures()}
    assert shown == {"launch-pad-cat.jpg": (128, 128), "whole.jpg": (128, 96)}  # the whole photo: 128 x 85


def test_a_cut_is_a_square_inside_the_photo_enlarged_twice_at_most_and_none_when_the_pet_fills_it() -> None:
    from sorter.review.framing import MAX_ZOOM, around_pet, square_cut

    photo = np.zeros((168, 224, 3), np.uint8)
    assert square_cut(168, 224, (0.1, 0.9, 0.1, 0.8), 0) is None  # most of the photo: shown whole
    assert square_cut(168, 224, (0.5, 0.8, 0.0, 0.2), 0) == (84, 134, 0, 50)  # a square of the longer side
    assert square_cut(168, 224, (0.9, 1.0, 0.9, 1.0), 0) == (146, 168, 202, 224)  # moved inside the photo
    # Never fewer than 64 pixels for 128: a pet of 22 pixels is shown in 64, enlarged twice.
    assert square_cut(168, 224, (0.9, 1.0, 0.9, 1.0), 128 / MAX_ZOOM) == (104, 168, 160, 224)
    assert around_pet(photo, (0.9, 1.0, 0.9, 1.0), 128).shape == (128, 128, 3)
    assert around_pet(photo, None, 128).shape == around_pet(photo, (0.0, 1.0, 0.0, 1.0), 128).shape == (96, 128, 3)
    assert around_pet(photo[:60, :80], None, 128).shape == (60, 80, 3)  # a small photo is never enlarged whole
