"""`sorter review`: the local server a person corrects a sort with. Security with plain HTTP
requests (no token, a foreign Host, paths, a GET that would change something, symbolic
links, markup in names: all refused, nothing moved), a correction checked on disk, in the
journal and undone by `sorter undo`, the Learn button (`sorter learn` on the corrections,
with conftest's fake model with features), and the page driven in a real browser (Playwright
and Debian's Chromium)."""

from __future__ import annotations

import html
import http.client
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import cv2
import numpy as np
import pytest
from conftest import SAMPLES, FullDisk, ThreeClassFake, layout, video_bytes, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.files.journal import journal_path
from sorter.files.lock import FolderLock
from sorter.learning import learn as learning
from sorter.model import lite, personal
from sorter.review import app as review_app
from sorter.review import server as review_server
from sorter.review.session import CHANGED
from sorter.sorting import sort

RED, BLUE, GREEN = (0, 0, 255), (255, 0, 0), (0, 255, 0)  # BGR: the fake says red = dog, green = neither
MARKUP_NAME = "<img src=x onerror=\"document.title='pwned'\">'&.jpg"
runner = CliRunner()


def make_folder(root: Path, outside: Path, extra: int = 0) -> dict[str, object]:
    """A sorted folder: a person the model took for a dog (with its Live Photo video), a cat,
    a tree left in place, a name full of markup, and a link to a photo outside. Sorted
    through the real sort path; returns the layout before the sort."""
    write_image(root / "person.jpg", RED)
    (root / "person.MOV").write_bytes(video_bytes("a live photo's video"))
    write_image(root / "cat.jpg", BLUE)
    write_image(root / "tree.jpg", GREEN)
    write_image(root / MARKUP_NAME, BLUE)
    write_image(outside / "secret.jpg", (7, 7, 7))
    (root / "link.jpg").symlink_to(outside / "secret.jpg")
    for n in range(extra):  # blue with a little red: cats, each at its own confidence
        write_image(root / f"cat-{n:03d}.jpg", (255, 0, n))
    before = layout(root)
    sort.sort_folder(root, classifier=ThreeClassFake())
    return before


class Client:
    """Plain HTTP to the review server, as a browser would speak it (or an attacker)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.port = int(re.match(r"http://127\.0\.0\.1:(\d+)/", url).group(1))
        self.token = url.split("token=", 1)[1]
        self.cookie = f"sorter-review-{self.port}={self.token}"
        # The secret for the X-Sorter-Token header is another one: read from the page, as its script reads it.
        status, _, page = self.request("GET", "/")
        found = re.search(rb'<meta name="sorter-token" content="([^"]*)">', page) if status == 200 else None
        self.header = found.group(1).decode() if found else ""
        #: Its own corrections, as the page keeps them for `u` (numbered by the move's answer), and
        #: where it shows each photo it was told of.
        self.mine: list[tuple[int, int]] = []
        self.shown: dict[int, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, *, host: str | None = None,
                cookie: bool = True, token: bool = True, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        sent = {"Host": host or f"127.0.0.1:{self.port}", **(headers or {})}
        if cookie:
            sent["Cookie"] = self.cookie
        if token and method == "POST":
            sent["X-Sorter-Token"] = self.header
        connection.putrequest(method, path, skip_host=True)
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), data

    def json(self, method: str, path: str, value=None, **kwargs):
        status, _, data = self.request(method, path, None if value is None else json.dumps(value).encode(), **kwargs)
        answer = json.loads(data) if data.startswith(b"{") else data
        if status == 200 and path in ("/api/move", "/api/undo"):  # as the page keeps them
            self.shown[answer["photo"]["id"]] = answer["photo"]["path"]
            if answer.get("correction") is not None:
                self.mine.append((answer["correction"], answer["photo"]["id"]))
        return status, answer

    def take_back(self):
        """`u`, as the page sends it: its last correction, and where it shows that photo now."""
        if not self.mine:
            return self.json("POST", "/api/undo", {})
        number, photo = self.mine[-1]
        status, answer = self.json("POST", "/api/undo", {"correction": number, "at": self.shown[photo],
                                                         "generation": self.generation})
        if status == 200 or answer.get("dropped"):
            self.mine.pop()
        return status, answer

    def cards(self) -> dict[str, dict]:
        """The page's first load: every card by name (and the catalog's generation, which a move names)."""
        status, groups = self.json("GET", "/api/groups")
        assert status == 200
        self.generation = groups["generation"]
        self.shown.update({p["id"]: p["path"] for g in groups["groups"] for p in g["photos"]})
        return {p["name"]: {**p, "heading": (g["status"], g["title"])} for g in groups["groups"] for p in g["photos"]}

    def move(self, photo: int, to: str, **kwargs):
        return self.json("POST", "/api/move", {"id": photo, "to": to, "generation": self.generation}, **kwargs)

    def thumbnail(self, photo: int):
        return self.request("GET", f"/thumb/{photo}?v={self.generation}")



def answered(tmp_path: Path, photo: str, to: str) -> Path:
    """make_folder's folder in tmp_path/pets, `photo` answered `to` on the page of a server started
    and stopped for it; the folder."""
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside)
    client, stop, thread = start(root)
    try:
        assert client.move(client.cards()[photo]["id"], to)[0] == 200
    finally:
        stop.set()
        thread.join(10)
    return root

@pytest.fixture
def folder(tmp_path: Path):
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    return root, outside, make_folder(root, outside)


def start(root: Path, model: Path | None = None, **options):
    stop, ready = threading.Event(), []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            review_server.serve(root, model=model, on_ready=ready.append, stop=stop,
                                **{"open_browser": False, **options})
        except BaseException as exc:  # noqa: BLE001 - surfaced in the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not ready and not errors and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ready, errors
    return Client(ready[0].url), stop, thread


@pytest.fixture
def served(folder, fake_model):
    """The review server of a sorted folder; its Learn button learns on the fake model with features."""
    root, outside, before = folder
    client, stop, thread = start(root, fake_model)
    yield client, root, outside, before
    stop.set()
    thread.join(10)


def move(client: Client, name: str, to: str, **kwargs):
    return client.move(client.cards()[name]["id"], to, **kwargs)


def cards_of(root: Path) -> dict[str, dict]:
    """Every card of `root`'s review page (`Client.cards`), its server started for it and stopped after."""
    client, stop, thread = start(root)
    try:
        return client.cards()
    finally:
        stop.set()
        thread.join(10)


def click(root: Path, name: str, to: str) -> None:
    """One correction on `root`'s review page, its server started for it and stopped after."""
    client, stop, thread = start(root)
    try:
        assert move(client, name, to)[0] == 200
    finally:
        stop.set()
        thread.join(10)


# ---------------------------------------------------------------------------- security


def test_a_malformed_cookie_of_another_page_on_127_0_0_1_does_not_lock_the_review_out(served) -> None:
    # Any page on 127.0.0.1 may set one (cookies ignore ports); Python's SimpleCookie dropped the
    # whole header for it, ours with it.
    client, _, _, _ = served
    name = client.cookie.partition("=")[0]
    for other in ('prefs={"theme":"dark"}', "a=b c", 'q="', "emoji=\U0001f431", f"{name}=stale"):
        for header in (f"{other}; {client.cookie}", f"{client.cookie}; {other}"):
            sent = {"Cookie": header.encode().decode("latin-1")}  # http.client sends latin-1: the emoji's bytes
            assert client.request("GET", "/api/groups", cookie=False, headers=sent)[0] == 200, header
    assert client.request("GET", "/api/groups", cookie=False, headers={"Cookie": f'prefs={{"a":1}}; {name}=guess'})[0] == 403


def test_without_the_token_everything_is_refused_and_nothing_moves(served) -> None:
    client, root, _, _ = served
    sorted_layout = layout(root)
    for path in ("/", "/api/groups", "/page.js", "/thumb/0", "/view/0", "/api/photos?group=g0"):
        assert client.request("GET", path, cookie=False)[0] == 403, path
        assert client.request("GET", path, headers={"Cookie": f"sorter-review-{client.port}=guess"}, cookie=False)[0] == 403
    assert client.request("GET", "/?token=guess", cookie=False)[0] == 403
    person = client.cards()["person.jpg"]["id"]
    body = json.dumps({"id": person, "to": "neither", "generation": client.generation}).encode()
    assert client.request("POST", "/api/move", body, cookie=False)[0] == 403  # the header alone
    assert client.request("POST", "/api/move", body, token=False)[0] == 403  # the cookie alone: CSRF
    assert client.request("POST", "/api/undo", b"", token=False)[0] == 403
    assert layout(root) == sorted_layout


def test_everything_the_page_links_to_is_served_its_icon_too(served) -> None:
    # The page named no icon, so the browser asked for /favicon.ico at every load: a 404 in its console.
    client, _, _, _ = served
    page = client.request("GET", "/")[2].decode()
    links = re.findall(r'<(?:link|script)[^>]* (?:href|src)="([^"]+)"', page)
    assert re.search(r'<link rel="icon" href="/page.svg"', page)
    assert {link: client.request("GET", link)[0] for link in links} == dict.fromkeys(links, 200)
    assert client.request("GET", "/page.svg")[1]["Content-Type"].startswith("image/svg+xml")


def test_the_url_sets_a_strict_cookie_and_leaves_the_address_bar(served) -> None:
    client, _, _, _ = served
    status, headers, _ = client.request("GET", f"/?token={client.token}", cookie=False)
    assert status == 303 and headers["Location"] == "/"
    assert headers["Set-Cookie"] == f"{client.cookie}; Path=/; HttpOnly; SameSite=Strict"
    status, headers, page = client.request("GET", "/")
    assert status == 200 and "script-src 'self'" in headers["Content-Security-Policy"]
    assert b"<script src=\"/page.js\"" in page and b"http" not in page.replace(b"http-equiv", b"")  # no CDN


def test_a_foreign_host_or_origin_is_refused(served) -> None:
    client, root, _, _ = served
    sorted_layout = layout(root)
    # DNS rebinding: evil.example resolves to 127.0.0.1, and the browser sends its own name.
    port = client.port
    for host in (f"evil.example:{port}", "127.0.0.1", f"127.0.0.1:{port + 1}", f"localhost.evil:{port}"):
        assert client.request("GET", "/api/groups", host=host)[0] == 403, host
        assert move(client, "person.jpg", "neither", host=host)[0] == 403, host
    for host in (f"localhost:{client.port}", f"[::1]:{client.port}", f"LOCALHOST:{client.port}"):
        assert client.request("GET", "/api/groups", host=host)[0] == 200, host
    assert move(client, "person.jpg", "neither", headers={"Origin": "http://evil.example"})[0] == 403
    assert layout(root) == sorted_layout


def test_it_listens_on_the_loopback_addresses_only(served) -> None:
    import socket

    client = served[0]
    listening = subprocess.run(["ss", "-Hltn", f"sport = :{client.port}"], capture_output=True, text=True)
    if listening.returncode != 0:
        pytest.skip("ss (iproute2) not available")
    addresses = {line.split()[3].rsplit(":", 1)[0] for line in listening.stdout.splitlines()}
    assert addresses <= {"127.0.0.1", "[::1]"} and "127.0.0.1" in addresses
    if socket.has_ipv6 and "[::1]" in addresses:
        connection = http.client.HTTPConnection("::1", client.port, timeout=10)
        connection.request("GET", "/api/groups", headers={"Host": f"[::1]:{client.port}", "Cookie": client.cookie})
        assert connection.getresponse().status == 200


def test_paths_never_come_from_the_request(served) -> None:
    client, root, outside, _ = served
    sorted_layout = layout(root)
    secret = (outside / "secret.jpg").read_bytes()
    for path in ("/thumb/../../outside/secret.jpg", "/thumb/..%2F..%2Foutside%2Fsecret.jpg", "/../outside/secret.jpg",
                 f"/thumb/{outside / 'secret.jpg'}", "//etc/passwd", "/thumb/-1", "/thumb/999999", "/thumb/0x1",
                 "/cats/cat.jpg", "/page.js/../../journal.jsonl", "/.sorter/journal.jsonl"):
        status, _, body = client.request("GET", path)
        assert status in (400, 404) and secret not in body, (path, status)
    client.cards()
    for bad in ({"id": "../outside/secret.jpg", "to": "cat"}, {"id": str(outside / "secret.jpg"), "to": "dog"},
                {"id": True, "to": "cat"}, {"id": 0.0, "to": "cat"}, {"id": 0, "to": "../cats"},
                {"id": 0, "to": "/tmp"}, {"id": 10**9, "to": "cat"}, {"path": "cats/cat.jpg", "to": "dog"}):
        status, _ = client.json("POST", "/api/move", {**bad, "generation": client.generation})
        assert status in (400, 409), bad
    assert client.json("GET", "/api/photos?group=g0&after=../1")[0] == 400
    assert layout(root) == sorted_layout


def test_a_get_never_changes_anything(served) -> None:
    client, root, _, _ = served
    sorted_layout = layout(root)
    person = client.cards()["person.jpg"]["id"]
    for path in (f"/api/move?id={person}&to=neither", "/api/undo"):
        status, headers, _ = client.request("GET", path)
        assert status == 405 and headers["Allow"] == "POST"
    assert client.request("PUT", "/api/move", b"{}")[0] == 405
    assert layout(root) == sorted_layout


def test_a_symbolic_link_is_never_listed_served_or_moved(served) -> None:
    client, root, outside, _ = served
    cards = client.cards()
    assert "link.jpg" not in cards and (root / "link.jpg").is_symlink()
    # A photo swapped for a link after the page listed it: neither its thumbnail nor a move follows it.
    cat = cards["cat.jpg"]["id"]
    (root / "cats" / "cat.jpg").unlink()
    (root / "cats" / "cat.jpg").symlink_to(outside / "secret.jpg")
    assert client.thumbnail(cards["tree.jpg"]["id"])[0] == 200
    assert client.thumbnail(cat)[0] == 404
    status, answer = client.move(cat, "dog")
    assert status == 409 and "no longer there" in answer["error"]
    # A folder on the way swapped for a link: not followed either.
    (root / "dogs").rename(root / "dogs-real")
    (root / "dogs").symlink_to(outside, target_is_directory=True)
    assert client.thumbnail(cards["person.jpg"]["id"])[0] == 404
    assert (root / "cats" / "cat.jpg").is_symlink() and sorted(os.listdir(outside)) == ["secret.jpg"]


def test_a_photo_replaced_by_rename_after_the_listing_is_never_moved_nor_shown(served) -> None:
    """A sync client writes a new file as `x.part`, then renames it over the photo's name: a
    file sorter never listed, which a click must not file with the label meant for the photo."""
    client, root, _, _ = served
    cards = client.cards()
    cat = cards["cat.jpg"]["id"]
    (root / "x.part").write_bytes(write_image(root / "new.jpg", RED).read_bytes())
    os.rename(root / "x.part", root / "cats" / "cat.jpg")
    assert client.thumbnail(cat)[0] == 404
    assert client.move(cat, "dog") == (409, {"error": "cats/cat.jpg is no longer there; reload the page"})
    assert (root / "cats" / "cat.jpg").read_bytes() == (root / "new.jpg").read_bytes()
    assert not (root / "dogs" / "cat.jpg").exists()
    # The page reloaded lists the new file, which a click then moves.
    assert client.thumbnail(client.cards()["cat.jpg"]["id"])[0] == 200
    assert move(client, "cat.jpg", "dog")[0] == 200 and (root / "dogs" / "cat.jpg").is_file()


def test_a_photo_replaced_as_its_thumbnail_is_opened_is_not_shown(served, monkeypatch) -> None:
    """The thumbnail's check and its read were two steps: a photo renamed over between the
    check and the open was shown as the card's. Now the file opened is the one checked (fstat
    of its descriptor) and the picture comes from that descriptor. The rename is made by the
    system call that opens the photo, just before it opens it: the narrowest window there is."""
    client, root, _, _ = served
    cat = client.cards()["cat.jpg"]["id"]
    (root / "x.part").write_bytes(write_image(root / "new.jpg", RED).read_bytes())
    real_open, swapped = os.open, []

    def open_after_a_sync_client(path, flags, *args, **kwargs):
        if os.fspath(path) == "cat.jpg" and kwargs.get("dir_fd") is not None and not swapped:
            swapped.append(path)
            os.rename(root / "x.part", root / "cats" / "cat.jpg")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_after_a_sync_client)
    assert client.thumbnail(cat)[0] == 404 and swapped  # no preview: the red photo was never this card's
    assert client.move(cat, "dog") == (409, {"error": "cats/cat.jpg is no longer there; reload the page"})
    monkeypatch.undo()
    status, _, data = client.thumbnail(client.cards()["cat.jpg"]["id"])  # reloaded: the new photo, red
    assert status == 200 and cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[..., 2].mean() > 200


def test_the_button_a_card_shows_pressed_on_a_photo_changed_since_asks_for_a_reload(served) -> None:
    """Dog on a card in dogs/ moves nothing; it used to answer "dog0.jpg is in dogs/" whatever
    had become of the photo since the page was listed. Moved away by hand, deleted, another
    file renamed over it, or filed by a second review page: a reload is asked for, as for any
    other click, and nothing moves."""
    client, root, _, _ = served
    cards = client.cards()
    no_longer = "{} is no longer there; reload the page"
    os.rename(root / "cats" / "cat.jpg", root / "dogs" / "cat.jpg")
    assert client.move(cards["cat.jpg"]["id"], "cat") == (409, {"error": no_longer.format("cats/cat.jpg")})
    (root / "cats" / MARKUP_NAME).unlink()
    assert client.move(cards[MARKUP_NAME]["id"], "cat") == (409, {"error": no_longer.format(f"cats/{MARKUP_NAME}")})
    (root / "x.part").write_bytes(write_image(root.parent / "new.jpg", BLUE).read_bytes())
    os.rename(root / "x.part", root / "dogs" / "person.jpg")
    assert client.move(cards["person.jpg"]["id"], "dog") == (409, {"error": no_longer.format("dogs/person.jpg")})
    click(root, "tree.jpg", "cat")  # a second review page of the folder files it
    assert client.move(cards["tree.jpg"]["id"], "neither") == (409, {"error": CHANGED})
    assert (root / "dogs" / "cat.jpg").is_file() and (root / "cats" / "tree.jpg").is_file()
    assert not (root / "tree.jpg").exists() and not (root / "cats" / "cat.jpg").exists()
    reloaded = client.cards()  # the page's reload shows each where it is
    assert [reloaded[name]["path"] for name in ("cat.jpg", "tree.jpg")] == ["dogs/cat.jpg", "cats/tree.jpg"]
    assert MARKUP_NAME not in reloaded
    status, answer = client.move(reloaded["tree.jpg"]["id"], "cat")
    assert status == 200 and answer["photo"]["path"] == "cats/tree.jpg"


def most_at_once(monkeypatch, owner, name: str) -> list[int]:
    """`owner.name` made to hold each call 0.1 s and count how many run at once: the most, in [0]."""
    import threading
    import time

    decoding, most, lock, real = [0], [0], threading.Lock(), getattr(owner, name)

    def counted(*args, **kwargs):
        with lock:
            decoding[0] += 1
            most[0] = max(most[0], decoding[0])
        time.sleep(0.1)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                decoding[0] -= 1

    monkeypatch.setattr(owner, name, counted)
    return most


def asked_at_once(client: Client, paths: list[str]) -> list[int]:
    """The statuses of `paths`, asked for six at a time, as a browser does."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(6) as pool:
        return list(pool.map(lambda path: client.request("GET", path)[0], paths))


def test_thumbnails_asked_for_at_once_are_decoded_two_at_a_time(served, monkeypatch) -> None:
    # A browser asks for six at once; six photos near the pixel limit decoded together held 1.7 GB.
    from sorter.review import framing

    client, _, _, _ = served
    most = most_at_once(monkeypatch, framing, "load_framed")
    paths = [f"/{kind}/{card['id']}?v={client.generation}" for card in client.cards().values() for kind in ("thumb", "view")]
    statuses = asked_at_once(client, paths)
    assert statuses == [200] * len(paths) and len(paths) >= 6 and most[0] == 2


def test_what_libjpeg_prints_of_a_damaged_photo_never_reaches_the_terminal(tmp_path: Path, capfd) -> None:
    from conftest import jpeg_with_extra_bytes

    jpeg_with_extra_bytes(tmp_path / "damaged.jpg")  # libjpeg: "Corrupt JPEG data: 33 extraneous bytes ..."
    client, stop, thread = start(tmp_path)
    try:
        [card] = client.cards().values()
        assert client.thumbnail(card["id"])[0] == 200
        assert client.request("GET", f"/view/{card['id']}?v={client.generation}")[0] == 200
    finally:
        stop.set()
        thread.join(10)
    assert "Corrupt JPEG" not in capfd.readouterr().err


def test_names_are_data_never_markup(served) -> None:
    client, _, _, _ = served
    cards = client.cards()
    assert cards[MARKUP_NAME]["path"] == f"cats/{MARKUP_NAME}"  # sent as JSON, drawn with textContent
    status, headers, page = client.request("GET", "/")
    assert status == 200 and MARKUP_NAME.encode() not in page and b"onerror" not in page
    assert headers["X-Content-Type-Options"] == "nosniff"


# ---------------------------------------------------------------------------- corrections


def test_what_each_card_says_comes_from_the_journal_and_the_last_sorts_record(served) -> None:
    client, root, _, _ = served
    moves = [json.loads(line) for line in journal_path(root).read_text().splitlines()]
    person = next(r for r in moves if r.get("src") == "person.jpg")
    assert person["label"] == "dog" and 0.99 < person["confidence"] <= 1.0
    assert "label" not in next(r for r in moves if r.get("src") == "person.MOV")  # a companion: its photo's
    cards = client.cards()
    assert (cards["person.jpg"]["heading"], cards["person.jpg"]["label"]) == (("moved", "dogs/"), "dog")
    assert cards["person.jpg"]["confidence"] == person["confidence"] and cards["person.jpg"]["with"] == ["person.MOV"]
    assert cards["tree.jpg"]["heading"] == ("neither", "not a cat or a dog") and cards["tree.jpg"]["confidence"] == 1.0
    write_image(root / "late.jpg", RED)  # arrived after the sort: no word about it yet, and its folder changed
    assert client.cards()["late.jpg"]["heading"] == ("unsorted", "not sorted yet")
    os.rename(root / "cats" / "cat.jpg", root / "cat.jpg")  # put back by hand: the user's "neither"
    (root / ".sorter" / "journal.jsonl").touch()
    card = client.cards()["cat.jpg"]
    assert (card["heading"], card["label"]) == (("neither", "you said neither"), "cat") and card["confidence"] > 0.99


def test_a_reload_lists_a_companion_taken_back_out_by_hand_as_a_fresh_server_does(served) -> None:
    """The sort filed person.jpg with its person.MOV into dogs/; the page is open; the user moves
    the video back out by hand, which writes no journal. A reload lists it where a fresh server
    does ("you said neither": sort skips it, put back), and the header counts it; the user's own
    clicks change folders too, and are not taken for such a change (`u` still takes one back)."""
    client, root, _, _ = served
    cards = client.cards()
    assert "person.MOV" not in cards and cards["person.jpg"]["with"] == ["person.MOV"]
    assert client.move(cards["tree.jpg"]["id"], "cat")[0] == 200  # a click of ours: no relisting for it
    assert client.cards()["tree.jpg"]["id"] == cards["tree.jpg"]["id"]
    os.rename(root / "dogs" / "person.MOV", root / "person.MOV")
    reloaded = client.cards()
    assert reloaded["person.MOV"]["heading"] == ("neither", "you said neither"), reloaded.get("person.MOV")
    assert reloaded["person.jpg"]["with"] == []
    fresh, stop, thread = start(root)
    try:
        assert fresh.cards()["person.MOV"]["heading"] == reloaded["person.MOV"]["heading"]
    finally:
        stop.set()
        thread.join(10)


def test_another_file_renamed_over_a_sorted_photo_is_shown_as_a_new_photo_not_with_its_label(served) -> None:
    """A sync client's rename puts a cat photo at dogs/person.jpg (filed a dog at 99%) and at
    tree.jpg (left in place, neither at 100%). The journal's word is about the files it moved or
    judged (device, inode, size and time), not these: each is shown as a new photo would be, with
    no confidence (in dogs/ and at the top alike, not sorted yet), and its buttons work. A fresh
    server says the same."""
    client, root, tmp, _ = served
    cards = client.cards()
    assert cards["person.jpg"]["confidence"] > 0.99 and cards["tree.jpg"]["confidence"] == 1.0
    names = ("dogs/person.jpg", "tree.jpg")
    for n, _ in enumerate(names):  # both made first: neither takes the inode of a photo replaced
        write_image(tmp / f"x{n}.jpg", BLUE)
    for n, name in enumerate(names):
        os.rename(tmp / f"x{n}.jpg", root / name)
    fresh, stop, thread = start(root)
    try:
        for reloaded in (client.cards(), fresh.cards()):
            person, tree = reloaded["person.jpg"], reloaded["tree.jpg"]
            assert (person["heading"], person["label"], person["confidence"], person["reason"]) == (
                ("moved", "dogs/"), None, None, "not sorted yet")
            assert person["origin"] is None and person["current"] == "dog"
            assert (tree["heading"], tree["confidence"], tree["reason"]) == (
                ("unsorted", "not sorted yet"), None, "not sorted yet")
    finally:
        stop.set()
        thread.join(10)
    cards = client.cards()
    assert client.move(cards["person.jpg"]["id"], "cat")[0] == 200 and (root / "cats" / "person.jpg").is_file()
    assert client.move(cards["tree.jpg"]["id"], "cat")[0] == 200 and (root / "cats" / "tree.jpg").is_file()


def copied_over_and_by_hand(root: Path, tmp: Path) -> None:
    """`cp` of another photo (green, another size) over cats/cat.jpg, which sorter filed there, and
    of the same photo into cats/ under a new name, by_hand.jpg."""
    other = write_image(tmp / "other.jpg", GREEN, size=(30, 40))
    assert other.stat().st_size != (root / "cats" / "cat.jpg").stat().st_size
    shutil.copyfile(other, root / "cats" / "cat.jpg")  # rewritten in place: its inode stays
    shutil.copyfile(other, root / "cats" / "by_hand.jpg")


def test_a_different_photo_copied_over_a_sorted_one_is_not_sorted_yet_not_one_put_there_by_hand(served) -> None:
    """The journal's word on cats/cat.jpg is about the photo sorter filed there; the file copied
    over it since was judged by no one: not by sorter, and not by the user, who put no photo into
    cats/. Its card says "not sorted yet", in cats/ where it is, with no label; the same photo
    copied into cats/ under a new name is the user's, cats/'s label (as learn reads it). Its Dog
    files it, at a reload and on a fresh server alike."""
    client, root, tmp, _ = served
    copied_over_and_by_hand(root, tmp)
    fresh, stop, thread = start(root)
    try:
        for reloaded in (client.cards(), fresh.cards()):
            over, hand = reloaded["cat.jpg"], reloaded["by_hand.jpg"]
            assert (over["heading"], over["current"], over["label"], over["confidence"], over["reason"]) == (
                ("moved", "cats/"), "cat", None, None, "not sorted yet")
            assert (hand["heading"], hand["current"], hand["label"], hand["confidence"], hand["reason"]) == (
                ("moved", "cats/"), "cat", "cat", None, None)
    finally:
        stop.set()
        thread.join(10)
    assert move(client, "cat.jpg", "dog")[0] == 200 and (root / "dogs" / "cat.jpg").is_file()


def test_a_sorted_photo_touched_since_keeps_its_label_and_confidence(served) -> None:
    """A `touch`, or a photo viewer setting the time, leaves cats/cat.jpg the photo sorter judged:
    its card keeps the model's label and confidence, not "not sorted yet" as a file copied over it."""
    client, root, _, _ = served
    before = client.cards()["cat.jpg"]
    os.utime(root / "cats" / "cat.jpg", ns=(1_000_000_000, 1_000_000_000))
    fresh, stop, thread = start(root)  # a touch leaves the folder's time as it was: a new server reads it
    try:
        after = fresh.cards()["cat.jpg"]
    finally:
        stop.set()
        thread.join(10)
    assert (after["label"], after["confidence"], after["reason"]) == (before["label"], before["confidence"], None)
    assert after["confidence"] is not None


def test_a_new_photo_given_a_deleted_sorted_photos_inode_is_not_sorted_yet_not_with_its_label(served) -> None:
    """`rm cats/cat.jpg`, then a new photo of exactly its size saved as cats/cat.jpg, which ext4
    and tmpfs give the freed inode number: born after sorter filed the photo, it is a new photo,
    as `sort`, `watch` and `undo` tell it (`identities.born_after`), not the photo touched since.
    Its card says "not sorted yet", with no label or confidence, as a file copied over it does."""
    from test_put_back_reused_inode import a_new_photo_of_its_size_given_its_inode

    client, root, tmp, _ = served
    assert client.cards()["cat.jpg"]["confidence"] is not None
    a_new_photo_of_its_size_given_its_inode(root / "cats" / "cat.jpg", root / "cats" / "cat.jpg")
    fresh, stop, thread = start(root)
    try:
        for reloaded in (client.cards(), fresh.cards()):
            new = reloaded["cat.jpg"]
            assert (new["heading"], new["current"], new["label"], new["confidence"], new["reason"]) == (
                ("moved", "cats/"), "cat", None, None, "not sorted yet")
    finally:
        stop.set()
        thread.join(10)


def test_a_click_stands_beside_another_sorters_finished_moves_of_other_photos_only(served) -> None:
    """What a click may ignore of what another sorter wrote since the page was listed: moves
    of other photos, each finished (a watcher's batch). A word about the clicked photo itself,
    or a move left unsettled (a sorter killed mid-move), still asks for a reload."""
    from sorter.files.journal_writer import Journal

    client, root, _, _ = served
    cards = client.cards()
    write_image(root / "late.jpg", BLUE)
    sort.sort_folder(root, classifier=ThreeClassFake())  # files late.jpg; says again that tree.jpg is neither
    assert (root / "cats" / "late.jpg").is_file()
    status, answer = client.move(cards["tree.jpg"]["id"], "cat")
    assert (status, answer["error"]) == (409, CHANGED), answer
    cards = client.cards()  # reloaded
    write_image(root / "later.jpg", BLUE)
    sort.sort_folder(root, classifier=ThreeClassFake())
    assert client.move(cards["cat.jpg"]["id"], "dog")[0] == 200  # not about cat.jpg: it stands
    with Journal(root, run="killed") as journal:
        journal.intents([[(root / "gone.jpg", root / "cats" / "gone.jpg")]])  # never marked done
    status, answer = client.move(cards[MARKUP_NAME]["id"], "dog")
    assert (status, answer["error"]) == (409, CHANGED), answer


def test_a_correction_moves_the_photo_with_its_companion_journaled_and_sorter_undo_reverses_it(served) -> None:
    client, root, _, before = served
    status, answer = move(client, "person.jpg", "neither")
    assert status == 200 and answer["photo"]["path"] == "person.jpg" and answer["photo"]["current"] == "neither"
    assert (root / "person.jpg").is_file() and (root / "person.MOV").is_file()
    assert not (root / "dogs" / "person.jpg").exists()
    groups = {g["title"]: g["count"] for g in answer["groups"]}
    assert groups["dogs/"] == 0 and groups["you said neither"] == 1
    records = [json.loads(line) for line in journal_path(root).read_text().splitlines()]
    review = [r for r in records if r["run"].startswith("review-")]
    assert [(r["op"], r.get("src"), r.get("dst"), r.get("label")) for r in review] == [
        ("folder", None, None, None),  # the folder the session writes in, first (a copy of it tells it so)
        ("move", "dogs/person.jpg", "person.jpg", "other"), ("move", "dogs/person.MOV", "person.MOV", None),
        ("done", None, None, None), ("done", None, None, None),
    ]
    # Already there: nothing to do, nothing journaled.
    assert move(client, "person.jpg", "neither")[0] == 200
    assert len(journal_path(root).read_text().splitlines()) == len(records)

    first = runner.invoke(app, ["undo", str(root)])  # the review session is the latest run
    assert first.exit_code == 0 and "Restored 2 files from 1 run" in first.stdout
    assert (root / "dogs" / "person.jpg").is_file() and (root / "dogs" / "person.MOV").is_file()
    assert runner.invoke(app, ["undo", str(root)]).exit_code == 0  # then the sort
    assert layout(root) == before


def test_neither_gives_a_photo_back_the_name_sorter_found_it_by(tmp_path: Path) -> None:
    """A sort files `dup.jpg` beside another `cats/dup.jpg` as `cats/dup (1).jpg` (its .xmp
    alike), and a 255-byte name with its stem cut to fit " (1)": Neither puts each back under
    its own name, free again at the top (it came back as `dup (1).jpg`). A later sort leaves
    them as put back, and `sorter undo` takes the review back, then the sort."""
    root = tmp_path / "pets"
    long = "é" * 125 + "a.jpg"  # 255 bytes
    for name in ("dup.jpg", long):
        write_image(root / name, BLUE)
        write_image(root / "cats" / name, (250, 0, 0))
    (root / "dup.xmp").write_text("<x:xmpmeta/>")
    before = layout(root)
    sort.sort_folder(root, classifier=ThreeClassFake())
    sorted_layout = layout(root)
    renamed = sorted(name for name in os.listdir(root / "cats") if "(1)" in name)
    assert renamed == ["dup (1).jpg", "dup (1).xmp", "é" * 123 + " (1).jpg"]
    client, stop, thread = start(root)
    try:
        cards = client.cards()
        for name in ("dup (1).jpg", "é" * 123 + " (1).jpg"):
            status, answer = client.move(cards[name]["id"], "neither")
            assert status == 200 and answer["photo"]["path"] == answer["photo"]["origin"], answer
    finally:
        stop.set()
        thread.join(10)
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == sorted(["dup.jpg", "dup.xmp", long])
    again = sort.sort_folder(root, classifier=ThreeClassFake())
    assert again.reasons == {("skipped", "you put it back; left there"): 2} and again.moved_to == {}
    assert runner.invoke(app, ["undo", str(root)]).exit_code == 0 and photos(root) == photos(sorted_layout)
    assert runner.invoke(app, ["undo", str(root)]).exit_code == 0 and photos(root) == photos(before)


def photos(folder: Path | dict) -> dict[str, object]:
    """A folder's layout without `.sorter/`."""
    return {k: v for k, v in (layout(folder) if isinstance(folder, Path) else folder).items() if not k.startswith(".sorter")}


def test_u_takes_back_the_last_correction_and_undo_then_reverses_the_sort(served) -> None:
    client, root, _, before = served
    assert move(client, "cat.jpg", "dog")[0] == 200 and (root / "dogs" / "cat.jpg").is_file()
    status, answer = client.take_back()
    assert status == 200 and answer["photo"]["path"] == "cats/cat.jpg" and (root / "cats" / "cat.jpg").is_file()
    assert client.take_back() == (409, {"error": "nothing to take back on this page"})
    result = runner.invoke(app, ["undo", str(root)])  # the review took nothing back for good: the sort is next
    assert result.exit_code == 0 and layout(root) == before


def test_a_busy_folder_is_a_clear_message_and_nothing_moves(served) -> None:
    client, root, _, _ = served
    sorted_layout = layout(root)
    with FolderLock(root):  # a sort or watch of the same folder
        status, answer = move(client, "person.jpg", "cat")
    assert status == 409 and answer["busy"] is True
    assert re.fullmatch(r"busy: another sorter \(pid \d+\) is working on .*pets; wait for it to finish or stop it",
                        answer["error"])
    assert layout(root) == sorted_layout
    assert move(client, "person.jpg", "cat")[0] == 200 and (root / "cats" / "person.MOV").is_file()


def test_two_reviews_of_a_folder_wait_for_each_others_lock_rather_than_say_busy(served) -> None:
    """Another `sorter review` of the folder holds its lock for a click (milliseconds) or a
    listing (a second): a click here, and a review starting, wait for it; neither fails."""
    client, root, _, _ = served
    cards = client.cards()
    other = FolderLock(root, beside_watcher=True, tidy=True)  # as another review's click takes it
    other.acquire()
    threading.Timer(0.5, other.release).start()
    status, answer = client.move(cards["person.jpg"]["id"], "cat")
    assert status == 200 and (root / "cats" / "person.jpg").is_file(), answer
    other.acquire()
    threading.Timer(0.5, other.release).start()
    second, stop, thread = start(root)  # it lists the folder under the lock too
    try:
        assert move(second, "cat.jpg", "dog")[0] == 200 and (root / "dogs" / "cat.jpg").is_file()
    finally:
        stop.set()
        thread.join(10)


def test_a_folder_moved_away_while_the_page_is_open_is_said_to_be_gone_and_nothing_is_written(served) -> None:
    client, root, _, _ = served
    cat = client.cards()["cat.jpg"]["id"]
    root.rename(root.with_name("moved"))
    root.mkdir()  # an empty mount point where a card was unmounted
    gone = f"{root} is gone (moved, deleted or unmounted); nothing was changed: run sorter review where it is now"

    assert client.move(cat, "dog") == (409, {"error": gone})
    assert client.json("GET", "/api/groups") == (409, {"error": gone})
    assert list(root.iterdir()) == []  # no .sorter/ made in a folder never reviewed


def test_on_an_exfat_card_the_folder_is_not_taken_for_gone_once_the_kernel_forgets_it(exfat_card: Path) -> None:
    # exfat-fuse numbers a folder afresh once the kernel forgets it (dropped caches, memory
    # pressure): compared by path alone, the page said "gone" for good.
    if not os.access("/proc/sys/vm/drop_caches", os.W_OK):
        pytest.skip("needs to drop the kernel's caches (root)")
    root = exfat_card / "DCIM" / "inbox"
    write_image(root / "tom.jpg", (255, 0, 0))
    write_image(root / "rex.jpg", (0, 0, 255))
    sort.sort_folder(root, classifier=ThreeClassFake())
    client, stop, thread = start(root)
    try:
        client.cards()
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as caches:
            caches.write("2")
        cards = client.cards()  # the page (re)loaded: not "gone"
        moved = client.move(cards["tom.jpg"]["id"], "neither")
        assert moved[0] == 200, moved
    finally:
        stop.set()
        thread.join(10)


def test_a_click_into_a_folder_it_may_not_write_in_names_that_folder(folder) -> None:
    # cats/ root's, the rest the user's: the click said `dogs/person.jpg: cannot move: Permission
    # denied`, which folder unsaid.
    from conftest import as_a_user

    root, _, _ = folder
    (root / "cats").chmod(0o555)
    try:
        with as_a_user(root / "cats", "write"):  # the server's threads, started here, go on without root's powers
            client, stop, thread = start(root)
        try:
            status, answer = move(client, "person.jpg", "cat")
        finally:
            stop.set()
            thread.join(10)
    finally:
        (root / "cats").chmod(0o755)
    assert (status, answer["error"]) == (409, "dogs/person.jpg: cannot move into cats/: Permission denied")
    assert (root / "dogs" / "person.jpg").is_file() and (root / "dogs" / "person.MOV").is_file()


def test_a_click_on_a_full_disk_says_so_and_once_there_is_room_a_reload_shows_the_folder_as_it_is(
    served, monkeypatch
) -> None:
    from sorter.files import journal_writer

    client, root, _, before = served
    disk = FullDisk()
    monkeypatch.setattr(journal_writer, "os", disk)
    cards = client.cards()
    full = (507, {"error": f"{journal_path(root)}: No space left on device; no photo is lost: make room, then "
                           "reload the page"})
    disk.room = 1  # the intent is written, the photo moved, its "done" mark cut short
    assert client.move(cards["cat.jpg"]["id"], "dog") == full and (root / "dogs" / "cat.jpg").is_file()
    # The next click is told the same, not that another sorter changed the folder.
    assert client.move(cards["person.jpg"]["id"], "cat") == full and (root / "dogs" / "person.jpg").is_file()
    disk.room = None  # room made: the reload settles the move and shows it
    cards = client.cards()
    assert cards["cat.jpg"]["path"] == "dogs/cat.jpg"
    assert client.move(cards["person.jpg"]["id"], "cat")[0] == 200 and (root / "cats" / "person.MOV").is_file()
    lines = journal_path(root).read_text().splitlines()
    assert sum(not line.endswith("}") for line in lines) == 1  # the fragment: a line of its own, skipped
    assert runner.invoke(app, ["undo", str(root), "--all"]).exit_code == 0 and layout(root) == before


def test_after_another_sorter_changed_the_folder_a_click_asks_for_a_reload_which_lists_it_again(served) -> None:
    client, root, _, before = served
    cards = client.cards()
    old = client.generation
    assert runner.invoke(app, ["undo", str(root)]).exit_code == 0  # the sort, taken back behind the page's back
    status, answer = client.move(cards["cat.jpg"]["id"], "dog")
    assert status == 409 and answer["error"].endswith("reload the page")
    assert {k: v for k, v in layout(root).items() if not k.startswith(".sorter")} == before  # the lock aside
    reloaded = client.cards()  # the page's reload
    assert client.generation != old and reloaded["cat.jpg"]["path"] == "cat.jpg"
    assert client.request("GET", f"/thumb/{cards['cat.jpg']['id']}?v={old}")[0] == 404  # an old page's numbers
    assert client.move(reloaded["cat.jpg"]["id"], "cat")[0] == 200 and (root / "cats" / "cat.jpg").is_file()


def test_a_large_group_pages_least_confident_first(tmp_path: Path) -> None:
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside, extra=130)
    client, stop, thread = start(root)
    try:
        _, groups = client.json("GET", "/api/groups")
        cats = next(g for g in groups["groups"] if g["title"] == "cats/")
        assert cats["count"] == 132 and len(cats["photos"]) == 100
        # A correction out of the first page shifts nothing for the next one: it pages by cursor.
        client.generation = groups["generation"]
        assert client.move(cats["photos"][0]["id"], "dog")[0] == 200
        _, more = client.json("GET", f"/api/photos?group={cats['key']}&after={cats['photos'][-1]['id']}")
        shown = cats["photos"] + more["photos"]
        assert len(shown) == 132 and len({p["id"] for p in shown}) == 132
        keys = [(p["confidence"], p["id"]) for p in shown]
        assert keys == sorted(keys)
    finally:
        stop.set()
        thread.join(10)


def test_the_command_prints_the_url_first_and_stops_on_ctrl_c(folder) -> None:
    root, _, _ = folder
    process = subprocess.Popen([sys.executable, "-m", "sorter", "review", str(root), "--no-browser"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{43}", url), url
        assert Client(url).request("GET", "/api/groups")[0] == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert "Reviewing" in process.stderr.read()
    finally:
        process.kill()


# ---------------------------------------------------------------------------- trying to break it


def wait_until(done, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_browser_is_handed_a_private_file_never_the_token(folder) -> None:
    root, _, _ = folder
    opened: list[str] = []  # what a browser's command line would show in `ps`
    client, stop, thread = start(root, open_browser=True, browser=opened.append)
    try:
        wait_until(lambda: opened)
        [url] = opened
        assert url.startswith("file://") and "token" not in url and client.token not in url
        redirect = Path(url2pathname(urlsplit(url).path))
        assert stat.S_IMODE(redirect.stat().st_mode) == 0o600
        assert stat.S_IMODE(redirect.parent.stat().st_mode) == 0o700
        text = redirect.read_text()
        refresh = html.unescape(re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', text).group(1))
        script = json.loads(re.search(r"location\.replace\((\"[^\"]+\")\)", text).group(1))
        assert refresh == script == client.url
        status, headers, _ = client.request("GET", f"/?{urlsplit(refresh).query}", cookie=False)
        assert status == 303 and headers["Set-Cookie"].startswith(f"{client.cookie};")  # a URL that works
        # The header's secret is another one, never in a URL: the URL's token alone changes nothing.
        assert client.header and client.header != client.token
        sorted_layout = layout(root)
        person = client.cards()["person.jpg"]["id"]
        body = json.dumps({"id": person, "to": "neither", "generation": client.generation}).encode()
        assert client.request("POST", "/api/move", body, token=False, headers={"X-Sorter-Token": client.token})[0] == 403
        assert client.json("POST", "/api/undo", {}, token=False, headers={"X-Sorter-Token": client.token})[0] == 403
        assert layout(root) == sorted_layout
        assert client.take_back() == (409, {"error": "nothing to take back on this page"})  # the page's secret
    finally:
        stop.set()
        thread.join(10)
    assert not redirect.exists() and not redirect.parent.exists()  # removed when the server stops


def test_a_body_nested_too_deep_is_a_400_and_nothing_on_stderr(served, capfd) -> None:
    client, root, _, _ = served
    sorted_layout = layout(root)
    client.cards()
    capfd.readouterr()
    for body in (b"[" * 1000, b"[" * review_server.MAX_BODY, b'{"id": ' + b"[" * 1000, b'{"a": ' * 150, b"\xff{"):
        status, _, data = client.request("POST", "/api/move", body)
        assert (status, json.loads(data)) == (400, {"error": review_app.EXPECTED}), body[:20]
    # Deeper than a request may carry (it would be a 413): the app below HTTP, which has no size limit.
    from sorter.review.session import Session

    session = Session(root)
    try:
        below = review_app.App(session, client.port)
        headers = {"Host": f"127.0.0.1:{client.port}", "Cookie": f"{below.cookie}={below.token}",
                   "X-Sorter-Token": below.page_token}
        reply = below.handle("POST", "/api/move", headers, b"[" * 100_000)
        assert (reply.status, json.loads(reply.body)) == (400, {"error": review_app.EXPECTED})
    finally:
        session.close()
    assert client.request("GET", "/api/groups")[0] == 200  # still serving
    assert capfd.readouterr().err == "" and layout(root) == sorted_layout


def test_a_client_that_stops_mid_body_is_dropped_and_the_server_goes_on(folder, capfd) -> None:
    root, _, _ = folder
    client, stop, thread = start(root, client_timeout=0.5)
    try:
        capfd.readouterr()
        with socket.create_connection(("127.0.0.1", client.port), timeout=10) as half:
            half.sendall(
                f"POST /api/move HTTP/1.1\r\nHost: 127.0.0.1:{client.port}\r\nCookie: {client.cookie}\r\n"
                f"X-Sorter-Token: {client.header}\r\nContent-Length: 100\r\n\r\n".encode() + b'{"id": 1, ')
            began = time.monotonic()
            assert half.recv(1024) == b""  # closed, unanswered: half a request is no request
            assert time.monotonic() - began < 5
        assert client.request("GET", "/api/groups")[0] == 200
    finally:
        stop.set()
        thread.join(10)
    assert capfd.readouterr().err == ""


def test_what_http_server_refuses_itself_is_one_json_line_with_our_headers(served) -> None:
    client, root, _, _ = served
    sorted_layout = layout(root)
    host, cookie = f"Host: 127.0.0.1:{client.port}\r\nConnection: close\r\n", f"Cookie: {client.cookie}\r\n"
    for raw, status in [
        (f"HEAD /api/groups HTTP/1.1\r\n{host}{cookie}\r\n", 405),
        (f"OPTIONS /api/move HTTP/1.1\r\n{host}{cookie}\r\n", 405),
        (f"GET / HTTP/1.1\r\n{host}" + "X-A: b\r\n" * 101 + "\r\n", 431),
        # A chunked body (http.server would read the chunks as the next request), a second Host.
        (f"POST /api/undo HTTP/1.1\r\n{host}{cookie}X-Sorter-Token: {client.header}\r\n"
         "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400),
        (f"GET /api/groups HTTP/1.1\r\n{host}Host: evil.example\r\n{cookie}\r\n", 400),
    ]:
        with socket.create_connection(("127.0.0.1", client.port), timeout=10) as connection:
            connection.sendall(raw.encode())
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split()[1] == str(status).encode(), (raw[:30], answer[:200])
        assert b"Content-Security-Policy: " in head and b"X-Content-Type-Options: nosniff" in head, raw[:30]
        assert head.count(b"HTTP/1.") == 1  # one answer: nothing after it read as another request
        if raw.startswith("HEAD"):
            assert body == b""
        else:
            assert set(json.loads(body)) == {"error"}, raw[:30]
    assert layout(root) == sorted_layout


def doctored_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A sorted folder whose journal names paths outside it (`..`, absolute), as a damaged or
    doctored journal could: a photo "from" ../stray.jpg and one "from" an absolute path, a move
    "to" ../outside.jpg (undo would pull that file in), folders "made" at ../made and at an
    absolute path (undo would remove them), a pending group with a member outside (recovery
    would finish it), a "seen" record at an absolute path (learn), and one honest move.
    Returns (folder, the folder above it)."""
    above = tmp_path
    root = above / "pets"
    for name in ("stray.jpg", "abs.jpg", "good.jpg", "x.jpg"):
        write_image(root / "dogs" / name, RED)
    write_image(above / "outside.jpg", BLUE)
    write_image(above / "pending.jpg", BLUE)
    (above / "made").mkdir()
    (above / "elsewhere").mkdir()
    run = "20240101T000000-abcdef"
    moves = [
        (1, "../stray.jpg", "dogs/stray.jpg"), (2, str(above / "elsewhere" / "abs.jpg"), "dogs/abs.jpg"),
        (3, "in.jpg", "../outside.jpg"), (4, "good.jpg", "dogs/good.jpg"), (5, "/in.jpg", "/dogs/in.jpg"),
    ]
    now = time.time()  # moves of today: a late companion may still join them
    records = [{"op": "mkdir", "run": run, "time": now, "path": p} for p in ("dogs", "../made", str(above / "elsewhere"))]
    records += [{"op": "move", "run": run, "time": now, "seq": n, "src": s, "dst": d, "label": "dog", "confidence": 0.9}
                for n, s, d in moves]
    records += [{"op": "done", "run": run, "time": now, "seq": n} for n, _, _ in moves]
    records += [  # killed mid-group: x.jpg got to dogs/, its "companion" outside did not
        {"op": "move", "run": run, "time": now, "seq": 6, "src": "x.jpg", "dst": "dogs/x.jpg", "group": 6, "size": 2},
        {"op": "move", "run": run, "time": now, "seq": 7, "src": "../pending.jpg", "dst": "dogs/pending.jpg",
         "group": 6, "size": 2},
    ]
    good = (root / "dogs" / "good.jpg").stat()  # what `sorter learn` would find it by
    records.append({"op": "seen", "run": run, "time": now, "path": str(above / "good.jpg"), "label": "dog",
                    "status": "moved", "id": [good.st_dev, good.st_ino, good.st_size], "seq": 4})
    (root / ".sorter").mkdir()
    journal_path(root).write_text("".join(json.dumps(r) + "\n" for r in records))
    return root, above


def outside_of(above: Path) -> dict[str, object]:
    return {k: v for k, v in layout(above).items() if not k.startswith("pets")}


def test_review_never_moves_a_photo_outside_the_folder_whatever_the_journal_says(tmp_path: Path) -> None:
    root, above = doctored_folder(tmp_path)
    outside = outside_of(above)
    client, stop, thread = start(root)
    try:
        cards = client.cards()
        assert cards["stray.jpg"]["origin"] is None and cards["abs.jpg"]["origin"] is None  # not taken from the journal
        assert client.move(cards["abs.jpg"]["id"], "cat")[0] == 200 and (root / "cats" / "abs.jpg").is_file()
        for name in ("stray.jpg", "abs.jpg"):
            status, answer = client.move(cards[name]["id"], "neither")
            assert status == 200 and answer["photo"]["path"] == name, answer  # the folder's top: never out of it
            assert (root / name).is_file()
        assert client.move(cards["stray.jpg"]["id"], "dog")[0] == 200 and (root / "dogs" / "stray.jpg").is_file()
    finally:
        stop.set()
        thread.join(10)
    assert outside_of(above) == outside


def test_undo_recovery_learn_and_watch_never_act_on_a_journal_path_outside_the_folder(tmp_path: Path) -> None:
    from sorter.learning import corrections
    from sorter.sorting.latecomers import Latecomers

    root, above = doctored_folder(tmp_path)
    outside = outside_of(above)
    latecomers = Latecomers()
    latecomers.load(root)
    assert latecomers.destination(root / ".." / "stray.MOV") is None
    assert latecomers.destination(above / "elsewhere" / "abs.MOV") is None
    assert latecomers.destination(root / "good.MOV") is not None  # the honest move is still followed
    assert all(root in found.path.parents for found in corrections.find(root))

    result = runner.invoke(app, ["undo", str(root)])

    assert result.exit_code == 0, result.output
    assert "Restored 2 files from 1 run" in result.stdout  # good.jpg, and x.jpg whose group recovery finished
    assert (root / "good.jpg").is_file() and (root / "x.jpg").is_file()
    assert (root / "dogs" / "stray.jpg").is_file() and (root / "dogs" / "abs.jpg").is_file()
    assert not (root / "in.jpg").exists() and outside_of(above) == outside
    kept = [line for line in result.stderr.splitlines() if "outside the folder" in line]
    assert len(kept) == 7 and all(line.startswith("kept: ") for line in kept), result.stderr
    assert "kept: ../stray.jpg -> dogs/stray.jpg: a path outside the folder in the journal; never acted on" in kept



# ---------------------------------------------------------------------------- learning


def learn(client: Client, **kwargs):
    return client.json("POST", "/api/learn", {}, **kwargs)


def test_learning_needs_the_token_a_post_and_our_host(served) -> None:
    client, root, _, _ = served
    assert move(client, "person.jpg", "neither")[0] == 200  # something to learn, were it allowed
    assert learn(client, token=False)[0] == 403  # the cookie alone: CSRF
    assert learn(client, cookie=False)[0] == 403  # the header alone
    assert learn(client, host=f"evil.example:{client.port}")[0] == 403  # DNS rebinding
    assert learn(client, headers={"Origin": "http://evil.example"})[0] == 403
    status, headers, _ = client.request("GET", "/api/learn")
    assert status == 405 and headers["Allow"] == "POST"
    assert not personal.personal_dir().exists()  # nothing learnt, nothing written


def test_the_learn_button_shows_sorter_learns_report_of_the_corrections(served, fake_model, monkeypatch) -> None:
    client, root, _, _ = served
    status, answer = learn(client)
    assert status == 200 and answer["saved"] is False
    assert len(answer["lines"]) == 1 and answer["lines"][0].startswith("Nothing to learn")  # its why, alone

    assert move(client, "person.jpg", "neither")[0] == 200
    corrected = layout(root)
    status, answer = learn(client)
    assert status == 200, answer
    lines = answer["lines"]
    assert lines[0].startswith(f"Found 1 photo you placed in {root} (1 new)")
    assert [line.split()[:4] for line in lines if "->" in line] == [["dog", "->", "neither", "1"]]
    assert answer["saved"] is True and lines[-1].startswith("Saved ")
    # One correction, held out, put no more right: kept for the next learn (test_review_learn).
    assert (answer["corrections"], answer["corrections_learnt"], answer["pets"]) == (1, False, [])
    assert (personal.personal_dir() / "personal.npz").is_file()
    assert layout(root) == corrected  # learning changes nothing in the folder

    # An error is one line alone, never a traceback: a model without features, then a bug.
    monkeypatch.setattr(lite, "load_classifier", lambda path: ThreeClassFake())
    status, answer = learn(client)
    assert status == 409 and answer["error"].startswith("cannot learn: ") and "\n" not in answer["error"]
    monkeypatch.setattr(learning, "learn", lambda *args, **kwargs: 1 / 0)
    assert learn(client) == (500, {"error": "learning failed: ZeroDivisionError: division by zero"})


def test_while_learn_runs_a_reload_shows_the_folder_and_a_click_says_to_wait(served, monkeypatch) -> None:
    """Learning takes half a minute on a large folder: a page reloaded meanwhile (or another
    tab) gets the folder as listed and hears that it is learning, not a blank page; a click
    from another tab is refused with why, not made to wait and land after what learn read."""
    client, root, _, _ = served
    real, gate, began = learning.learn, threading.Event(), threading.Event()

    def slow(*args, **kwargs):
        began.set()
        gate.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(learning, "learn", slow)
    answers: list = []
    asking = threading.Thread(target=lambda: answers.append(learn(client)))
    asking.start()
    try:
        assert began.wait(10)
        started = time.monotonic()
        status, _, data = client.request("GET", "/api/groups")
        assert status == 200 and json.loads(data)["learning"] is True and json.loads(data)["groups"]
        assert time.monotonic() - started < 5
        still = "still learning from your corrections: correct more once it is done"
        assert move(client, "person.jpg", "neither") == (409, {"error": still})
    finally:
        gate.set()
        asking.join(20)
    assert answers[0][0] == 200 and json.loads(client.request("GET", "/api/groups")[2])["learning"] is False


# ---------------------------------------------------------------------------- a real browser


def browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install 'sorter[test]')"
    if shutil.which("chromium") is None:
        return "chromium not installed (Debian: apt-get install chromium)"
    return None


def wait_for(path: Path) -> None:
    """Until the click's move is on disk: the page answers the click before the test looks."""
    deadline = time.monotonic() + 10
    while not path.is_file() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert path.is_file(), path


@contextmanager
def chromium_page(url: str):
    """The review page in Debian's Chromium, driven by Playwright (its own browser download is not reachable)."""
    from playwright.sync_api import expect, sync_playwright

    # A click's answer waits for its move and the folder listed again: on 2 cores busy with the
    # rest of the suite that took over Playwright's 5 s (the file moved, the page said nothing yet).
    expect.set_options(timeout=20_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(url)
            yield page
        finally:
            browser.close()


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_neither_moves_the_person_out_of_dogs_learn_shows_its_report_and_u_takes_it_back(
    served, monkeypatch
) -> None:
    from playwright.sync_api import expect

    client, root, _, before = served
    with chromium_page(client.url) as page:
        assert page.url == client.url.split("?")[0]  # the token left the address bar
        dogs = page.locator("section", has=page.get_by_role("heading", name=re.compile("Moved to dogs")))
        person = dogs.locator("figure", has_text="person.jpg")
        expect(person.get_by_role("button", name="Dog", exact=True)).to_have_attribute("aria-pressed", "true")
        expect(person).to_contain_text("+ MOV")

        person.get_by_role("button", name="Neither", exact=True).click()
        wait_for(root / "person.MOV")  # the group's last member: the photo moves first
        expect(page.locator("#status")).to_have_text("person.jpg is back at the top of the folder")
        assert (root / "person.jpg").is_file() and not (root / "dogs" / "person.jpg").exists()
        put_back = page.locator("section", has=page.get_by_role("heading", name=re.compile("you said neither")))
        moved = put_back.locator("figure", has_text="person.jpg")
        expect(moved.get_by_role("button", name="Neither", exact=True)).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_role("heading", name=re.compile("Moved to dogs"))).to_have_count(0)  # empty: hidden

        # Learn: the button waits, disabled, while sorter learns; then the report, as text.
        gate, real_learn = threading.Event(), learning.learn
        monkeypatch.setattr(learning, "learn", lambda *args, **kwargs: gate.wait(10) and real_learn(*args, **kwargs))
        page.get_by_role("button", name="Learn from my corrections").click()
        expect(page.get_by_role("button", name="learning\u2026")).to_be_disabled()
        gate.set()
        report = page.get_by_role("region", name="what sorter learnt")
        expect(report).to_contain_text("dog -> neither")
        expect(report).to_contain_text("Saved ")
        expect(page.locator("#status")).to_have_text("nothing learnt: your 1 correction is not learnt yet (see the report)")
        expect(page.get_by_role("button", name="Learn from my corrections")).to_be_enabled()

        page.keyboard.press("u")
        wait_for(root / "dogs" / "person.MOV")
        expect(person.get_by_role("button", name="Dog", exact=True)).to_have_attribute("aria-pressed", "true")
        assert (root / "dogs" / "person.jpg").is_file() and not (root / "person.jpg").exists()

        # Keys: arrows to the tree, `d` files it in dogs/.
        page.keyboard.press("ArrowRight")
        while "tree.jpg" not in page.evaluate("document.activeElement.textContent"):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("d")
        wait_for(root / "dogs" / "tree.jpg")
        page.keyboard.press("u")
        wait_for(root / "tree.jpg")
        expect(page.locator("#status")).to_have_text("took back: tree.jpg is at the top of the folder again")

        # The name full of markup is text: no element made of it, no script run.
        expect(page.locator("figure", has_text="onerror")).to_have_count(1)
        assert page.locator("img[src=x]").count() == 0 and page.title() != "pwned"
    records = [json.loads(line) for line in journal_path(root).read_text().splitlines()]
    assert [r["op"] for r in records if r["run"].startswith("review-")].count("undo") == 3  # person (2 files), tree
    result = runner.invoke(app, ["undo", str(root)])  # every correction was taken back: undo reverses the sort
    assert result.exit_code == 0 and layout(root) == before


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_u_says_where_it_found_a_photo_moved_on_since_the_click(served) -> None:
    from playwright.sync_api import expect

    client, root, _, _ = served
    with chromium_page(client.url) as page:
        cats = page.locator("section", has=page.get_by_role("heading", name=re.compile("Moved to cats")))
        cats.locator("figure", has_text="cat.jpg").first.get_by_role("button", name="Dog", exact=True).click()
        wait_for(root / "dogs" / "cat.jpg")
        (root / "dogs" / "2019").mkdir()
        os.rename(root / "dogs" / "cat.jpg", root / "dogs" / "2019" / "cat.jpg")  # filed by hand since
        page.keyboard.press("u")
        wait_for(root / "cats" / "cat.jpg")
        expect(page.locator("#status")).to_have_text(
            "took back: cat.jpg is in cats/ again\n"
            "found: dogs/cat.jpg: moved to dogs/2019/cat.jpg since; put back from there to cats/cat.jpg")


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_u_pressed_before_a_clicks_answer_waits_for_it(served) -> None:
    """A quick Dog then u: the move is made and its answer slow to come. u is sent only once
    that answer is in, so it takes the move back and the page says so last, where it took the
    move back first and the late answer then filed the card in dogs/ (it was in cats/ again)."""
    from playwright.sync_api import expect

    client, root, _, _ = served
    held = []

    def hold_the_first_answer(route) -> None:
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))  # the server has moved it; the page waits

    with chromium_page(client.url) as page:
        page.route("**/api/move", hold_the_first_answer)
        cats = page.locator("section", has=page.get_by_role("heading", name=re.compile("Moved to cats")))
        cats.locator("figure", has_text="cat.jpg").first.get_by_role("button", name="Dog", exact=True).click()
        while not held:
            page.wait_for_timeout(20)  # Playwright runs the route's handler only inside its own calls
        assert (root / "dogs" / "cat.jpg").is_file()
        page.keyboard.press("u")
        page.wait_for_timeout(500)
        assert (root / "dogs" / "cat.jpg").is_file(), "u was sent before the click's answer came"
        route, answer = held[0]
        route.fulfill(response=answer)
        expect(page.locator("#status")).to_have_text("took back: cat.jpg is in cats/ again")
        assert (root / "cats" / "cat.jpg").is_file()
        expect(cats.locator("figure", has_text="cat.jpg")).to_have_count(1)


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_a_photo_copied_over_a_sorted_one_says_not_sorted_yet(served) -> None:
    from playwright.sync_api import expect

    client, root, tmp, _ = served
    copied_over_and_by_hand(root, tmp)
    with chromium_page(client.url) as page:
        cats = page.locator("section", has=page.get_by_role("heading", name=re.compile("Moved to cats")))
        over, hand = (cats.locator("figure", has_text=name) for name in ("cat.jpg", "by_hand.jpg"))
        expect(over.locator("figcaption b").first).to_have_text("not sorted yet")
        expect(hand.locator("figcaption b").first).to_have_text("cat")
        expect(over.get_by_role("button", name="Cat", exact=True)).to_have_attribute("aria-pressed", "true")


def test_the_servers_thumbnail_of_a_small_pet_is_cut_around_it_and_stays_so_after_a_correction(tmp_path: Path) -> None:
    """As on the review page: sort notes where the pet is in the "seen" record of each photo it
    moves, and the server's thumbnail of a cat small on a launch pad is a square around the cat,
    not the whole 3:2 scene, even once a person has moved the photo to dogs/ (the same picture)."""
    import cv2
    import numpy as np

    from sorter.files.journal import seen_of

    root = tmp_path / "pets"
    root.mkdir()
    scene = cv2.resize(cv2.imread(str(SAMPLES / "photo-10.jpg")), (960, 640), interpolation=cv2.INTER_CUBIC)
    scene[400:568, 60:284] = cv2.resize(cv2.imread(str(SAMPLES / "photo-03.jpg")), (224, 168))
    cv2.imwrite(str(root / "launch-pad-cat.jpg"), scene, [cv2.IMWRITE_JPEG_QUALITY, 90])
    shutil.copy(SAMPLES / "photo-07.jpg", root / "whole.jpg")  # a cat filling its photo
    sort.sort_folder(root)
    boxes = {s.path: s.box for s in seen_of(root)}
    assert boxes["cats/launch-pad-cat.jpg"] is not None and boxes["cats/whole.jpg"] is not None

    def shown(client: Client, card: dict) -> tuple[int, int]:
        status, _, data = client.thumbnail(card["id"])
        assert status == 200
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape[:2]

    client, stop, thread = start(root)
    try:
        cards = client.cards()
        height, width = shown(client, cards["launch-pad-cat.jpg"])
        assert height == width == review_app.THUMB_PX  # a square around the cat
        height, width = shown(client, cards["whole.jpg"])
        assert width == review_app.THUMB_PX and height < width  # the whole photo
        assert move(client, "launch-pad-cat.jpg", "dog")[0] == 200
        height, width = shown(client, client.cards()["launch-pad-cat.jpg"])
        assert height == width == review_app.THUMB_PX
    finally:
        stop.set()
        thread.join(10)


def test_the_review_page_corrects_a_folder_while_sorter_watch_runs(tmp_path: Path, fake_classifier) -> None:
    """A watcher runs for days: it holds the folder's lock only while it sorts a batch, so the
    page corrects between two batches. A photo put back ("Neither") is the user's word: the
    watcher leaves it where it is, then and after a restart. `sort` and `undo` are still
    refused while it runs, with the watcher's pid."""
    from test_watch import run_in_thread, wait_until

    from sorter.errors import FolderLocked
    from sorter.watching.watcher import WatchSettings

    root = tmp_path / "inbox"
    write_image(root / "person.jpg", RED)
    write_image(root / "tabby.jpg", BLUE)
    fast = WatchSettings(rescan_interval=0.1, settle=0.1)
    stop_watch, watching, results = run_in_thread(root, fake_classifier, settings=fast)
    try:
        assert wait_until(lambda: (root / "dogs" / "person.jpg").exists() and (root / "cats" / "tabby.jpg").exists(), 10)
        refused = f"another sorter (pid {os.getpid()}) is working on {root}; wait for it to finish or stop it"
        with pytest.raises(FolderLocked) as error:
            FolderLock(root).acquire()
        assert str(error.value) == refused
        undone = runner.invoke(app, ["undo", str(root)])
        assert undone.exit_code == 1 and undone.stderr == f"Error: {refused}\n"

        client, stop, thread = start(root)
        try:
            cards = client.cards()
            assert client.move(cards["person.jpg"]["id"], "neither")[0] == 200
            assert client.move(cards["tabby.jpg"]["id"], "dog")[0] == 200
            write_image(root / "rex.jpg", RED)  # what arrives meanwhile is sorted as before
            assert wait_until(lambda: (root / "dogs" / "rex.jpg").exists(), 10)
            time.sleep(0.5)  # several rescans
            # The watcher's batch beside the page is not "another sorter changed the folder":
            # the next click (and `u`) works without a reload, and a reload lists the new photo.
            assert client.move(cards["tabby.jpg"]["id"], "cat")[0] == 200
            assert client.take_back()[0] == 200
            assert client.cards()["rex.jpg"]["heading"] == ("moved", "dogs/")
        finally:
            stop.set()
            thread.join(10)
        assert (root / "person.jpg").is_file() and (root / "dogs" / "tabby.jpg").is_file()
        kept = [(r.path.name, r.reason) for r in results if not isinstance(r, BaseException) and r.status == "skipped"]
        assert kept == [("person.jpg", "you put it back from dogs/person.jpg; left there")]
    finally:
        stop_watch.set()
        watching.join(10)
    assert not any(isinstance(r, BaseException) for r in results), results

    notices: list[str] = []
    stop_watch, watching, results = run_in_thread(root, fake_classifier, settings=fast,  # restarted
                                                  on_notice=lambda notice: notices.append(notice.message))
    try:
        assert wait_until(lambda: notices, 10), results
        time.sleep(0.3)
    finally:
        stop_watch.set()
        watching.join(10)
    # Put back, and unchanged since: left there, and not said again (`sorting.left_before`).
    assert results == [] and "(1 you put back) and unchanged since" in notices[0], (results, notices)
    assert (root / "person.jpg").is_file()
    with FolderLock(root):  # free again
        pass


def test_a_watch_leaves_a_photo_put_back_there_when_it_is_renamed_and_after_a_restart(tmp_path: Path,
                                                                                      fake_classifier) -> None:
    """QA: with `sorter watch` running, "Neither" on a photo, then `mv` of it to another name:
    the watcher filed it again. It is the same file (device, inode, size and time, as the
    watcher's own look at it as it hands it out tells): left there, as is a photo taken out of
    cats/ by hand under another name; and so after a restart."""
    from test_watch import run_in_thread, wait_until

    from sorter.watching.watcher import WatchSettings

    root = tmp_path / "inbox"
    write_image(root / "person.jpg", RED)
    write_image(root / "tabby.jpg", BLUE)
    fast = WatchSettings(rescan_interval=0.1, settle=0.1)

    def skipped(results) -> list[tuple[str, str]]:
        return [(r.path.name, r.reason) for r in results if not isinstance(r, BaseException) and r.status == "skipped"]

    stop_watch, watching, results = run_in_thread(root, fake_classifier, settings=fast)
    try:
        assert wait_until(lambda: (root / "dogs" / "person.jpg").exists() and (root / "cats" / "tabby.jpg").exists(), 10)
        click(root, "person.jpg", "neither")
        assert wait_until(lambda: len(skipped(results)) == 1, 10), results
        os.rename(root / "person.jpg", root / "person at the beach.jpg")
        os.rename(root / "cats" / "tabby.jpg", root / "our tabby.jpg")
        assert wait_until(lambda: len(skipped(results)) == 3, 10), results
        time.sleep(0.3)  # several rescans: nothing filed
    finally:
        stop_watch.set()
        watching.join(10)
    assert skipped(results)[0] == ("person.jpg", "you put it back from dogs/person.jpg; left there")
    assert sorted(skipped(results)[1:]) == [("our tabby.jpg", "you put it back from cats/tabby.jpg; left there"),
                                            ("person at the beach.jpg", "you put it back from dogs/person.jpg; left there")]
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == ["our tabby.jpg", "person at the beach.jpg"]

    notices: list[str] = []
    stop_watch, watching, results = run_in_thread(root, fake_classifier, settings=fast,  # restarted
                                                  on_notice=lambda notice: notices.append(notice.message))
    try:
        assert wait_until(lambda: notices, 10), results
        time.sleep(0.3)
    finally:
        stop_watch.set()
        watching.join(10)
    # Both put back and unchanged since: left there, and not said again (`sorting.left_before`).
    assert results == [] and "(2 you put back) and unchanged since" in notices[0], (results, notices)
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == ["our tabby.jpg", "person at the beach.jpg"]


def test_a_watch_leaves_a_photo_put_back_on_the_page_there_when_it_no_longer_remembers_it(
        tmp_path: Path, fake_classifier, monkeypatch) -> None:
    """The watcher remembers its latest moves in full (`latecomers.LIMIT`, 1 here); of an older
    photo back where it was it asks the journal, which it read for photos put back by hand only:
    "Neither" on the page, and the watcher filed the photo again."""
    from test_watch import run_in_thread, wait_until

    from sorter.sorting import latecomers
    from sorter.watching.watcher import WatchSettings

    monkeypatch.setattr(latecomers, "LIMIT", 1)
    root = tmp_path / "inbox"
    write_image(root / "person.jpg", RED)
    stop_watch, watching, results = run_in_thread(root, fake_classifier, settings=WatchSettings(0.1, 0.1))
    try:
        assert wait_until(lambda: (root / "dogs" / "person.jpg").exists(), 10)
        write_image(root / "rex.jpg", RED)  # the one it remembers now
        assert wait_until(lambda: (root / "dogs" / "rex.jpg").exists(), 10)
        click(root, "person.jpg", "neither")
        assert wait_until(lambda: any(r.path.name == "person.jpg" and r.status != "moved" for r in results), 10), results
        time.sleep(0.3)  # several rescans
    finally:
        stop_watch.set()
        watching.join(10)
    assert [(r.path.name, r.status, r.reason) for r in results][2:] == [
        ("person.jpg", "skipped", "you put it back from dogs/person.jpg; left there")], results
    assert (root / "person.jpg").is_file()


def test_a_photo_put_back_on_the_review_page_and_touched_at_once_is_judged_again(folder, monkeypatch) -> None:
    """README: "To have one judged again, `touch` it". A touch (or an edit) within the minute after
    the click left it put back (QA): the rename's settle window let any change of ctime through.
    The click's record holds the photo's size and time, which a touch or an edit changes."""
    root, _, _ = folder
    monkeypatch.setattr(lite, "load_classifier", lambda path: ThreeClassFake())
    click(root, "person.jpg", "neither")
    st = (root / "person.jpg").stat()
    os.utime(root / "person.jpg", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # `touch`
    client, stop, thread = start(root)
    try:  # the page says what the sort will do: it listed it as "you said neither" (QA)
        assert client.cards()["person.jpg"]["heading"] == ("unsorted", "not sorted yet")
    finally:
        stop.set()
        thread.join(10)
    again = runner.invoke(app, ["sort", str(root), "--verbose"])
    assert again.exit_code == 0, again.output
    assert "moved person.jpg (+ person.MOV) -> dogs/person.jpg (dog, 99%)" in again.output, again.output


def test_the_page_lists_a_photo_put_back_and_renamed_since_as_put_back_as_sort_does(folder, monkeypatch) -> None:
    """QA: "Neither" on a photo, then `mv` of it to another name, and a photo taken out of cats/
    by hand under another name: sort and watch leave both there, put back, and the page listed
    them under "not sorted yet". It asks what sort asks (`put_backs.put_back`)."""
    root, _, _ = folder
    monkeypatch.setattr(lite, "load_classifier", lambda path: ThreeClassFake())
    click(root, "person.jpg", "neither")
    os.rename(root / "person.jpg", root / "person at the beach.jpg")
    os.rename(root / "cats" / "cat.jpg", root / "our cat.jpg")
    again = runner.invoke(app, ["sort", str(root), "--verbose", "--dry-run"])
    assert "skipped: person at the beach.jpg: you put it back from dogs/person.jpg; left there" in again.output
    assert "skipped: our cat.jpg: you put it back from cats/cat.jpg; left there" in again.output, again.output
    cards = cards_of(root)
    assert cards["person at the beach.jpg"]["heading"] == ("neither", "you said neither")
    assert (cards["our cat.jpg"]["heading"], cards["our cat.jpg"]["label"]) == (("neither", "you said neither"), "cat")


def test_a_photo_put_back_on_the_review_page_is_not_sorted_again(folder, monkeypatch) -> None:
    """"Neither" is the user's word: the next `sorter sort` of the folder skips the photo (and
    its Live Photo video) and says why."""
    root, _, _ = folder
    monkeypatch.setattr(lite, "load_classifier", lambda path: ThreeClassFake())
    click(root, "person.jpg", "neither")
    assert (root / "person.jpg").is_file() and (root / "person.MOV").is_file()
    for options in (["--dry-run"], []):
        again = runner.invoke(app, ["sort", str(root), "--verbose", *options])
        assert again.exit_code == 0, again.output
        assert "skipped: person.jpg: you put it back from dogs/person.jpg; left there" in again.output, again.output
    assert (root / "person.jpg").is_file() and (root / "person.MOV").is_file()

    # QA: renamed since (`mv`: the same device, inode, size and time), it was filed again.
    os.rename(root / "person.jpg", root / "person at the beach.jpg")
    again = runner.invoke(app, ["sort", str(root), "--verbose"])
    assert "skipped: person at the beach.jpg: you put it back from dogs/person.jpg; left there" in again.output
    os.rename(root / "person at the beach.jpg", root / "person.jpg")

    # An hour later, another camera's person.jpg in its place (the first one moved away): a new photo, sorted.
    journal = journal_path(root)
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    journal.write_text("".join(json.dumps({**r, "time": r["time"] - 3600}) + "\n" for r in records))
    (root / "person.jpg").unlink()
    (root / "person.MOV").unlink()
    write_image(root / "person.jpg", RED)
    again = runner.invoke(app, ["sort", str(root), "--verbose"])
    assert again.exit_code == 0 and "moved person.jpg -> dogs/person.jpg (dog, 99%)" in again.output, again.output


def test_a_photo_put_back_on_the_review_page_stays_put_back_in_a_copy_of_the_folder(folder, monkeypatch) -> None:
    """QA: "Neither" on a photo, and the folder copied more than a minute later (`cp -a`): a sort
    of the copy filed the photo again. A copy keeps each file's size and time, not its inode's
    ctime (the copy's own), so the review's put-back is told there by its size and time alone,
    as README says; a `touch` of it in the copy has it judged again, as in the folder."""
    root, _, _ = folder
    monkeypatch.setattr(lite, "load_classifier", lambda path: ThreeClassFake())
    click(root, "person.jpg", "neither")
    copy = root.parent / "copy"
    shutil.copytree(root, copy, symlinks=True, copy_function=shutil.copy2)  # `cp -a`
    # The click an hour before the copy: its files' ctimes and birth times (now) are long after it,
    # as a `cp -a` made later has them. Not the folder's own journal: there the photo was born
    # before sorter moved it, as every photo it moved was (a file born since is another photo).
    journal = journal_path(copy)
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    journal.write_text("".join(json.dumps({**r, "time": r["time"] - 3600}) + "\n" for r in records))
    for folder_ in (root, copy):
        again = runner.invoke(app, ["sort", str(folder_), "--verbose", "--dry-run"])
        assert again.exit_code == 0, again.output
        assert "skipped: person.jpg: you put it back from dogs/person.jpg; left there" in again.output, again.output
    os.utime(copy / "person.jpg")  # `touch`
    again = runner.invoke(app, ["sort", str(copy), "--verbose", "--dry-run"])
    assert again.exit_code == 0, again.output
    assert "would move person.jpg (+ person.MOV) -> dogs/person.jpg (dog, 99%)" in again.output, again.output


def test_a_model_not_there_is_refused_before_serving(tmp_path: Path) -> None:
    """`review --model /nonexistent.keras` served the page, its Learn button bound to fail; sort
    and learn refuse such a --model at once. Its own process: served, it would never return."""
    write_image(tmp_path / "dogs" / "rex.png", (0, 0, 255))
    command = [sys.executable, "-m", "sorter", "review", str(tmp_path), "--no-browser",
               "--model", str(tmp_path / "nope.keras")]

    result = subprocess.run(command, capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parent.parent)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"Error: model not found: {tmp_path / 'nope.keras'}\n"
    assert not (tmp_path / ".sorter").exists()


def test_a_click_looks_at_its_own_folders_only_however_many_there_are(served, monkeypatch) -> None:
    """With 100,000 folders under review, a click took a `stat` of every one (287 ms a click with
    20,000 on tmpfs). It looks only at the folders it moves files between; a reload still looks
    at them all, so a file moved by hand in another folder is still listed afresh."""
    client, root, _, _ = served
    for n in range(300):
        (root / "cats" / f"empty-{n:03d}").mkdir()
    cards = client.cards()  # the reload lists them
    looked: list[str] = []
    real_stat = os.stat

    def counting(path, *args, **kwargs):
        if "empty-" in os.fsdecode(path):
            looked.append(os.fsdecode(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting)
    assert client.move(cards["tree.jpg"]["id"], "cat")[0] == 200
    assert client.move(cards["cat.jpg"]["id"], "dog")[0] == 200
    assert looked == []
    os.rename(root / "dogs" / "person.MOV", root / "cats" / "empty-007" / "person.MOV")
    reloaded = client.cards()
    assert len(looked) >= 300
    assert reloaded["person.MOV"]["path"] == "cats/empty-007/person.MOV"  # listed where the hand put it
