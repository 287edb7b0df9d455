"""Names on the review pages and in the review server's refusals, shown truthfully: a name typed
with a backslash is not shown as one holding a new line, and a refusal names a file as a card
does (`config.name_shown`), never with a raw new line in it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ThreeClassFake, video_bytes, write_image
from test_review import page_of
from test_review_server import Client, make_folder, start

from sorter.sorting import sort

BLUE = (255, 0, 0)  # BGR: a cat to the fake
TYPED, NEWLINE = "Fo\\nx", "Fo\nx"  # five characters, a backslash among them; four, a new line among them


@pytest.fixture
def served(tmp_path: Path):
    """A sorted folder, pe<new line>ts/, with cats/Fo\\nx/ (typed with a backslash) beside cats/Fo<new line>x/, each
    a pet's, and in cats/ o\\nne.jpg and o<new line>ne.jpg."""
    root, outside = tmp_path / "pe\nts", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    write_image(root / "o\\nne.jpg", BLUE)
    write_image(root / "o\nne.jpg", BLUE)
    make_folder(root, outside, extra=2)  # cat.jpg, cat-000.jpg and cat-001.jpg sorted into cats/
    write_image(root / "cats" / TYPED / "typed.jpg", (200, 60, 200))
    write_image(root / "cats" / NEWLINE / "newline.jpg", (60, 200, 200))
    client, stop, thread = start(root)
    yield client, root
    stop.set()
    thread.join(10)


def named(client: Client, photo: str, pet: str):
    card = client.cards()[photo]
    return client.json("POST", "/api/move", {"id": card["id"], "to": "cat", "pet": pet, "generation": client.generation})


def test_a_name_typed_with_a_backslash_is_not_shown_as_one_holding_a_new_line(served) -> None:
    """Both cats/Fo\\nx/ folders showed as `Fo\\nx` (a new line is escaped, a backslash was not), and
    so did both photos: the page could not tell them apart, and naming a photo into the one typed
    with a backslash filed it beside the other. Now a backslash shows as `\\\\`, as `ls -b` shows it,
    and each name as shown is its own folder."""
    client, root = served
    cards = client.cards()
    assert (cards["typed.jpg"]["pet"], cards["newline.jpg"]["pet"]) == ("Fo\\\\nx", "Fo\\nx")
    assert {"o\\\\nne.jpg", "o\\nne.jpg"} <= cards.keys()
    assert cards["o\\\\nne.jpg"]["where"] == "cats/o\\\\nne.jpg"
    status, groups = client.json("GET", "/api/groups")
    assert {"Fo\\\\nx", "Fo\\nx"} <= set(groups["pets"]["cat"])
    assert {"cats/Fo\\\\nx/", "cats/Fo\\nx/"} <= {g["shown"] for g in groups["groups"]}
    assert named(client, "cat-000.jpg", "Fo\\\\nx")[0] == 200
    assert named(client, "cat-001.jpg", "Fo\\nx")[0] == 200
    assert (root / "cats" / TYPED / "cat-000.jpg").is_file() and (root / "cats" / NEWLINE / "cat-001.jpg").is_file()


def test_the_sorts_own_page_shows_a_backslash_apart_from_a_new_line(tmp_path: Path) -> None:
    write_image(tmp_path / "o\\nne.jpg", BLUE)
    write_image(tmp_path / "o\nne.jpg", BLUE)
    sort.sort_folder(tmp_path, classifier=ThreeClassFake())
    _, page = page_of(tmp_path)
    assert sorted(f["name"] for f in page.figures()) == ["o\\\\nne.jpg", "o\\nne.jpg"]
    assert sorted(f["title"].split(" ")[0] for f in page.figures()) == ["cats/o\\\\nne.jpg", "cats/o\\nne.jpg"]


def test_a_refusal_names_a_file_as_its_card_does(served) -> None:
    """o<new line>ne.jpg moved away by hand with the page open: the click was refused with the
    name as it is, a new line in the one-line message (its card says `o\\nne.jpg`). So too the
    place the page said it was at, and the folder pe<new line>ts/ moved away."""
    client, root = served
    cards = client.cards()
    [photo] = [p for g in client.json("GET", "/api/groups")[1]["groups"] for p in g["photos"]
               if p["path"] == "cats/o\nne.jpg"]
    os.rename(root / "cats" / "o\nne.jpg", root / "o\nne.jpg")
    assert client.move(photo["id"], "dog") == (
        409, {"error": "cats/o\\nne.jpg is no longer there; reload the page"})
    body = {"id": cards["cat.jpg"]["id"], "to": "dog", "generation": client.generation, "at": "cats/c\nat.jpg"}
    assert client.json("POST", "/api/move", body) == (409, {"error": "cats/c\\nat.jpg is no longer there; reload the page"})
    root.rename(root.with_name("moved"))
    root.mkdir()  # an empty mount point where a card was unmounted
    gone = "is gone (moved, deleted or unmounted); nothing was changed: run sorter review where it is now"
    assert client.move(cards["cat.jpg"]["id"], "dog") == (409, {"error": f"{root.parent}/pe\\nts {gone}"})
    assert client.json("GET", "/api/groups") == (409, {"error": f"{root.parent}/pe\\nts {gone}"})


def test_a_video_put_beside_a_sorted_photo_by_hand_is_no_companion_of_it(tmp_path: Path) -> None:
    """IMG_1.jpg sorted into cats/ alone; the user's own IMG_1.MOV put in cats/ by hand, no Live
    Photo's video of it (the journal moved none with it). The page showed the photo "+ MOV" and
    no card for the video, and Dog on the photo took the video along into dogs/. Now only what
    the journal moved with a photo goes with it: the video is a card of its own and stays; a Live
    Photo sorted with its video still shows and moves with it."""
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    write_image(root / "IMG_1.jpg", BLUE)
    make_folder(root, outside)  # person.jpg with person.MOV, sorted together into dogs/
    (root / "cats" / "IMG_1.MOV").write_bytes(video_bytes("the user's own clip"))
    client, stop, thread = start(root)
    try:
        cards = client.cards()
        assert cards["IMG_1.jpg"]["with"] == [] and cards["person.jpg"]["with"] == ["person.MOV"]
        assert cards["IMG_1.MOV"]["path"] == "cats/IMG_1.MOV"
        assert client.move(cards["IMG_1.jpg"]["id"], "dog")[0] == 200
        assert client.move(cards["person.jpg"]["id"], "cat")[0] == 200
    finally:
        stop.set()
        thread.join(10)
    assert (root / "dogs" / "IMG_1.jpg").is_file() and (root / "cats" / "IMG_1.MOV").is_file()
    assert not (root / "dogs" / "IMG_1.MOV").exists()
    assert (root / "cats" / "person.jpg").is_file() and (root / "cats" / "person.MOV").is_file()
