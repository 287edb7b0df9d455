"""`sorter review` and the sort's videos: each is a card as a photo is (in cats/, dogs/ or left
in place with its verdict, the clip's middle frame for its picture, marked as a video with its
length), and a correction moves it with its own companions (.SRT, .THM, .LRV, .xmp), journaled,
so that `sorter undo` puts it back and `sorter learn` says it learns from photos only. A Live
Photo's video is no card: it goes with its photo, and a HEIC photo named .MOV is the photo it
is. Real clips, encoded by ffmpeg in the test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
from clips import make_clip, needs_ffmpeg
from conftest import ThreeClassFake, layout, write_image
from test_heic import needs_hevc_encoder
from test_heic import write as write_heif
from test_review_naming import name as name_pet
from test_review_server import asked_at_once, browser_missing, chromium_page, learn, most_at_once, move, start
from typer.testing import CliRunner

from sorter.cli import app
from sorter.files.journal import journal_path
from sorter.media import videos
from sorter.review.session import DECODES_AT_ONCE
from sorter.sorting import sort

pytestmark = needs_ffmpeg
runner = CliRunner()

RED, GREEN, BLUE = (0, 0, 255), (0, 255, 0), (255, 0, 0)  # BGR: a dog, neither, a cat to ThreeClassFake
DRONE = ("DJI_0001.LRV", "DJI_0001.MP4.json", "DJI_0001.SRT", "DJI_0001.THM", "DJI_0001.xmp")


@contextmanager
def serving(root: Path, model) -> Iterator[tuple]:
    """`root`'s review server started with `model`: its client, cards and groups; stopped after."""
    client, stop, thread = start(root, model)
    try:
        yield client, client.cards(), client.json("GET", "/api/groups")[1]
    finally:
        stop.set()
        thread.join(10)


@pytest.fixture(scope="module")
def stills(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("stills")
    return {name: write_image(folder / f"{name}.png", colour, size=(240, 320))
            for name, colour in (("dog", RED), ("other", GREEN), ("cat", BLUE))}


@pytest.fixture
def served(tmp_path: Path, stills, fake_model):
    """A folder sorted through the real sort path: a drone's dog video with its companions,
    a garden clip left in place, a cat photo, and a Live Photo (a cat photo and its video,
    which shows a dog: were it judged, it would go to dogs/)."""
    root = tmp_path / "pets"
    root.mkdir()
    make_clip(root / "DJI_0001.MP4", [stills["dog"]])
    for name in DRONE:
        (root / name).write_text(name)
    make_clip(root / "garden.mp4", [stills["other"]], codec="hevc")
    write_image(root / "cat.jpg", BLUE)
    write_image(root / "IMG_0002.JPG", BLUE)
    make_clip(root / "IMG_0002.MOV", [stills["dog"]])
    before = layout(root)
    sort.sort_folder(root, classifier=ThreeClassFake())
    assert (root / "dogs" / "DJI_0001.MP4").is_file() and (root / "cats" / "IMG_0002.MOV").is_file()
    client, stop, thread = start(root, fake_model)
    yield client, root, before
    stop.set()
    thread.join(10)


def test_a_sorted_video_is_a_card_with_its_middle_frame_its_length_and_its_companions(served) -> None:
    client, root, _ = served
    cards = client.cards()
    assert sorted(cards) == ["DJI_0001.MP4", "IMG_0002.JPG", "cat.jpg", "garden.mp4"]  # no card for the Live Photo's
    groups = client.json("GET", "/api/groups")[1]
    assert (groups["total"], groups["videos"]) == (4, 2)  # the header: "2 photos and 2 videos"
    drone = cards["DJI_0001.MP4"]
    moved = next(json.loads(line) for line in journal_path(root).read_text().splitlines()
                 if json.loads(line).get("src") == "DJI_0001.MP4")
    assert (drone["heading"], drone["path"], drone["current"]) == (("moved", "dogs/"), "dogs/DJI_0001.MP4", "dog")
    assert (drone["label"], drone["confidence"]) == ("dog", moved["confidence"]) and drone["confidence"] > 0.9
    assert drone["video"] is True and drone["seconds"] == pytest.approx(2.0) and sorted(drone["with"]) == list(DRONE)
    garden = cards["garden.mp4"]
    assert (garden["heading"], garden["video"], garden["label"]) == (("neither", "not a cat or a dog"), True, "other")
    live = cards["IMG_0002.JPG"]
    assert (live["video"], live["seconds"], live["with"]) == (False, None, ["IMG_0002.MOV"])

    status, headers, data = client.thumbnail(drone["id"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    poster = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert poster.shape[:2] == (192, 256)  # 320x240 at the thumbnail's 256 pixels
    assert poster[..., 2].mean() > 200 and poster[..., 0].mean() < 60  # the dog clip's red (BGR)
    status, _, data = client.request("GET", f"/view/{drone['id']}?v={client.generation}")
    assert status == 200 and cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (240, 320)
    assert client.thumbnail(garden["id"])[0] == 200  # HEVC


def test_a_video_corrected_moves_with_its_companions_journaled_and_sorter_undo_puts_it_back(served) -> None:
    client, root, before = served
    status, answer = move(client, "DJI_0001.MP4", "cat")
    assert status == 200, answer
    assert (answer["photo"]["path"], answer["photo"]["current"], answer["photo"]["video"]) == (
        "cats/DJI_0001.MP4", "cat", True)
    assert sorted(p.name for p in (root / "cats").iterdir() if p.name.startswith("DJI")) == sorted(
        ["DJI_0001.MP4", *DRONE])
    assert not (root / "dogs").exists() or not any((root / "dogs").iterdir())
    records = [json.loads(line) for line in journal_path(root).read_text().splitlines()]
    review = [(r["src"], r["dst"], r.get("label")) for r in records if r["run"].startswith("review-") and r["op"] == "move"]
    assert review[0] == ("dogs/DJI_0001.MP4", "cats/DJI_0001.MP4", "cat")
    assert sorted(review[1:]) == [(f"dogs/{name}", f"cats/{name}", None) for name in DRONE]  # companions: its label

    first = runner.invoke(app, ["undo", str(root)])  # the review session is the latest run
    assert first.exit_code == 0 and "Restored 6 files from 1 run" in first.stdout, first.output
    assert sorted(p.name for p in (root / "dogs").iterdir()) == sorted(["DJI_0001.MP4", *DRONE])
    assert runner.invoke(app, ["undo", str(root)]).exit_code == 0  # then the sort
    assert layout(root) == before


def test_u_takes_back_a_videos_correction_and_neither_puts_it_where_sort_found_it(served) -> None:
    client, root, _ = served
    assert move(client, "garden.mp4", "dog")[0] == 200 and (root / "dogs" / "garden.mp4").is_file()
    status, answer = client.take_back()
    assert status == 200 and answer["photo"]["path"] == "garden.mp4" and (root / "garden.mp4").is_file()
    status, answer = move(client, "DJI_0001.MP4", "neither")
    assert status == 200 and answer["photo"]["path"] == "DJI_0001.MP4"
    assert sorted(p.name for p in root.iterdir() if p.name.startswith("DJI")) == sorted(["DJI_0001.MP4", *DRONE])
    assert client.cards()["DJI_0001.MP4"]["heading"] == ("neither", "you said neither")


def test_learn_after_a_video_correction_says_it_learns_from_photos_and_is_not_misled(served, fake_model) -> None:
    """`sorter learn` decodes photos, not videos: a video put right is counted and said to be
    no example, never taken for a photo, and the photos' corrections are learnt as ever."""
    client, root, _ = served
    assert move(client, "DJI_0001.MP4", "neither")[0] == 200
    status, answer = learn(client)  # the page's button
    assert status == 200, answer
    assert answer["lines"] == [  # no "Found 0 photo(s)": the last line says why, alone
        "Not learnt from: 1 video you placed (sorter learns from photos; it judges a video by its frames as it "
        "judges photos, so what it learns applies to videos too).",
        "Nothing to learn: move a wrongly sorted photo where it belongs (or file your own into cats/ or dogs/), "
        "then learn again.",
    ]
    assert move(client, "cat.jpg", "dog")[0] == 200
    result = runner.invoke(app, ["learn", str(root), "--model", str(fake_model)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Found 1 photo you placed in {root} (1 new)")
    assert lines[1].startswith("Not learnt from: 1 video you placed")
    assert [line.split()[:4] for line in lines if "->" in line] == [["cat", "->", "dog", "1"]]


def test_video_posters_are_decoded_two_at_a_time_too(served, monkeypatch) -> None:
    """A video's poster decodes one keyframe, through the same two slots as photos: a page of
    4K clips asks for six at once, and each keyframe of 8K is 100 MB decoded."""
    client, _, _ = served
    most = most_at_once(monkeypatch, videos, "middle_frame")
    clips = [card["id"] for card in client.cards().values() if card["video"]]
    paths = [f"/{kind}/{clip}?v={client.generation}" for clip in clips for kind in ("thumb", "view")] * 2
    statuses = asked_at_once(client, paths)
    assert statuses == [200] * len(paths) == [200] * 8 and most[0] == DECODES_AT_ONCE == 2


@needs_hevc_encoder
def test_a_heic_photo_named_mov_is_a_photo_left_in_place_on_the_page_never_a_video(
    tmp_path: Path, stills, fake_model
) -> None:
    """A HEIC photo named .MOV (a tool that saved a Live Photo's still under its video's name)
    is left in place by the sort as "not a video: a HEIC photo named .MOV"; the page gave it a
    "▶ video" card, no picture, and counted it among the videos. It is the card of a photo left
    in place for its reason, with its own picture, counted among the photos; the sort's own
    page does not call it a video either."""
    root = tmp_path / "roll"
    root.mkdir()
    write_heif(root / "IMG_0005.MOV", np.full((48, 64, 3), (255, 0, 0), np.uint8))  # RGB red: a dog
    make_clip(root / "clip.mp4", [stills["other"]])
    write_image(root / "cat.jpg", BLUE)
    (root / "broken.jpg").write_bytes(b"not a photo")
    sort.sort_folder(root, classifier=ThreeClassFake())
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == ["IMG_0005.MOV", "broken.jpg", "clip.mp4"]
    assert page_has_video_marks(root) == 1  # the clip's
    with serving(root, fake_model) as (client, cards, groups):
        assert (groups["total"], groups["videos"]) == (4, 1)  # the header: "3 photos and 1 video"
        heic, broken = cards["IMG_0005.MOV"], cards["broken.jpg"]
        assert heic["heading"] == ("unreadable", "not a video: a HEIC photo named .MOV (rename it .heic to sort it)")
        assert heic["reason"] == "not a video: a HEIC photo named .MOV (rename it .heic to sort it)"
        as_a_photo = ("current", "label", "confidence", "video", "seconds", "with", "pet")
        assert {k: heic[k] for k in as_a_photo} == {k: broken[k] for k in as_a_photo} == {
            "current": "neither", "label": None, "confidence": None, "video": False, "seconds": None, "with": [],
            "pet": None}
        assert cards["clip.mp4"]["video"] is True and cards["clip.mp4"]["seconds"] == pytest.approx(2.0)
        status, _, data = client.thumbnail(heic["id"])
        assert status == 200  # the photo it is (a damaged photo has none: "no preview")
        shown = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert shown[..., 2].mean() > 200 and shown[..., 0].mean() < 60  # red (BGR)
        assert client.thumbnail(broken["id"])[0] == 404


def page_has_video_marks(root: Path) -> int:
    """How many cards of the sort's own page say "▶ video"."""
    return (root / ".sorter" / "review.html").read_text(encoding="utf-8").count("&#9654; video")


def test_a_video_named_luna_is_counted_apart_from_her_photos_as_learn_counts_them(served, fake_model) -> None:
    """`sorter learn` knows a pet from her photos, not her videos: a clip put in cats/Luna/ was
    one of "2 photos of Luna". Her group says how many of its cards are videos, and learn
    reports the photos the page counts."""
    client, root, _ = served
    status, answer = name_pet(client, "DJI_0001.MP4", "Luna")
    assert status == 200 and (root / "cats" / "Luna" / "DJI_0001.MP4").is_file(), answer
    luna = {g["title"]: g for g in answer["groups"]}["cats/Luna/"]
    assert (luna["count"], luna["videos"]) == (1, 1)
    status, answer = name_pet(client, "cat.jpg", "Luna")
    assert status == 200, answer
    luna = {g["title"]: g for g in answer["groups"]}["cats/Luna/"]
    assert (luna["count"], luna["videos"]) == (2, 1)  # the page: "1 photo and 1 video of Luna"
    assert {g["title"]: g["videos"] for g in client.json("GET", "/api/groups")[1]["groups"]}["cats/Luna/"] == 1

    status, answer = learn(client)
    assert status == 200, answer
    assert "cats/Luna: 1 photo; too few to learn (5 or more)" in answer["lines"], answer["lines"]
    assert any(line.startswith("Not learnt from: 1 video you placed") for line in answer["lines"])


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_naming_a_video_luna_says_her_photos_and_videos_apart(served) -> None:
    from playwright.sync_api import expect

    client, root, _ = served
    with chromium_page(client.url) as page:
        expect(page.locator("#sub")).to_contain_text("2 photos and 2 videos")
        for photo in ("DJI_0001.MP4", "cat.jpg"):
            card = page.locator("figure", has_text=photo)
            card.get_by_role("button", name="Name\u2026").click()
            card.get_by_role("combobox", name="species").select_option("cat")  # the drone's clip is in dogs/
            field = card.get_by_role("combobox", name="pet's name")
            field.fill("Luna")
            field.press("Enter")
            expect(page.get_by_role("status")).to_contain_text(f"{photo} is in cats/Luna/")
        expect(page.get_by_role("status")).to_have_text(
            "cat.jpg is in cats/Luna/: 1 photo and 1 video of Luna, name 5 or more photos to learn Luna")


def test_a_live_photos_video_cut_short_is_its_own_card_left_in_place_not_the_photos_companion(
    tmp_path: Path, stills, fake_model
) -> None:
    """The sort leaves a Live Photo's `.MOV` whose container is not whole (cut short, or still
    being written) in place on its own, said truncated, and moves no piece of it with its photo.
    The page listed it as the photo's companion all the same, to be moved with it, and gave it no
    card of its own."""
    root = tmp_path / "roll"
    root.mkdir()
    clip = make_clip(tmp_path / "IMG_0007.MOV", [stills["dog"]]).read_bytes()
    write_image(root / "IMG_0007.JPG", GREEN)  # neither: left in place
    (root / "IMG_0007.MOV").write_bytes(clip[: len(clip) // 2])
    sort.sort_folder(root, classifier=ThreeClassFake())
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == ["IMG_0007.JPG", "IMG_0007.MOV"]
    client, stop, thread = start(root, fake_model)
    try:
        cards = client.cards()
        assert cards["IMG_0007.JPG"]["with"] == []
        assert cards["IMG_0007.MOV"]["current"] == "neither"
        assert cards["IMG_0007.MOV"]["reason"].startswith("truncated MP4"), cards["IMG_0007.MOV"]
    finally:
        stop.set()
        thread.join(10)


def test_both_pages_show_a_file_as_what_the_sort_said_it_is(tmp_path: Path, stills, fake_model) -> None:
    """A video named .heic ("not a photo: a video named .heic") had no "▶ video" mark and no
    picture, and was counted among the photos; an MP4 of sound alone ("not a video (no video
    track)") was a "▶ video" card on both pages, against its own reason. Each is now what its
    reason says: the clip a video card with its poster and length, the sound a card left in place
    for its reason, with no video mark. Both are counted among the videos, as the sort's summary and
    --json count them (the header said "2 photos and 1 video" where the sort said "Videos: 0 moved,
    2 left in place"), and the clip's group is headed by what it is and what to do (it said "not a
    photo" alone, on both pages)."""
    import subprocess

    from clips import FFMPEG

    root = tmp_path / "roll"
    root.mkdir()
    make_clip(tmp_path / "clip.mp4", [stills["cat"]]).rename(root / "clip.heic")
    subprocess.run([FFMPEG, "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac",
                    str(root / "sound.mp4")], check=True)
    write_image(root / "cat.jpg", BLUE)
    sort.sort_folder(root, classifier=ThreeClassFake())
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == ["clip.heic", "sound.mp4"]
    page = (root / ".sorter" / "review.html").read_text(encoding="utf-8")
    assert page.count("&#9654; video") == page.count("&#9654; video 0:02") == 1  # the clip's, with its length
    assert ('<span class="why">not a photo: a video named .heic (rename it .mp4 to sort it)</span>'
            in page), page
    with serving(root, fake_model) as (client, cards, groups):
        assert (groups["total"], groups["videos"]) == (3, 2)  # the header: "1 photo and 2 videos"
        clip, sound = cards["clip.heic"], cards["sound.mp4"]
        assert clip["reason"] == "not a photo: a video named .heic (rename it .mp4 to sort it)"
        assert clip["heading"] == ("unreadable", clip["reason"])
        assert clip["video"] is True and clip["seconds"] == pytest.approx(2.0)
        assert client.thumbnail(clip["id"])[0] == 200
        assert sound["heading"] == ("unreadable", "not a video (no video track)")
        assert (sound["video"], sound["seconds"]) == (False, None)
