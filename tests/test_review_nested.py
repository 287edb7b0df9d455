"""`sorter review` of a folder with sub-folders: its start line names those it did not look
into (as `sort` without --recursive does), and after `sort --recursive` each card of a photo
in a sub-folder names that folder, on the server's page and on the static one."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ThreeClassFake, write_image
from test_review_server import Client, browser_missing, chromium_page, start

from sorter.review.page import page_path
from sorter.sorting import sort

BLUE, GREEN = (255, 0, 0), (0, 255, 0)  # BGR: the fake says blue = cat, green = neither
NESTED = ("a/b/c/IMG_0001.jpg", "x/cats/IMG_0001.jpg", "with space/p.jpg", "ünï 猫/p.jpg", "h#sh/p.jpg",
          "p%20/p.jpg", "q?mark/p.jpg", "a/notpet.jpg", "x/y.jpg")


def photos(root: Path, names: tuple[str, ...], colour=GREEN) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        write_image(root / name, colour)


def review(root: Path, also=lambda client: None) -> str:
    """`sorter review DIR --no-browser` started, `also` done with its page, then Ctrl-C: what it said on stderr."""
    process = subprocess.Popen([sys.executable, "-m", "sorter", "review", str(root), "--no-browser"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        also(Client(process.stdout.readline().strip()))
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        return process.stderr.read()
    finally:
        process.kill()


def test_review_of_a_folder_never_sorted_names_the_sub_folders_it_did_not_look_into(tmp_path: Path) -> None:
    root = tmp_path / "n2"
    photos(root, ("top1.jpg", "top2.jpg", *NESTED))
    (root / "notes").mkdir()  # no photo in it: nothing --recursive would sort
    (root / "notes" / "todo.txt").write_text("buy food")
    assert review(root).splitlines() == [
        f"Reviewing {root}: 2 photos. Stop with Ctrl-C.",
        f"Not looked into: 7 sub-folders (a/, h#sh/, p%20/, …); sorter sort --recursive {root} sorts them, "
        "then review shows them.",
    ]


def test_after_sort_recursive_only_a_sub_folder_added_since_is_not_looked_into(tmp_path: Path) -> None:
    root = tmp_path / "pets"
    photos(root, ("top.jpg", *NESTED))
    sort.sort_folder(root, recursive=True, classifier=ThreeClassFake())
    assert review(root).splitlines() == [f"Reviewing {root}: 10 photos. Stop with Ctrl-C."]
    photos(root, ("new/p.jpg",))
    assert review(root).splitlines()[1:] == [
        f"Not looked into: 1 sub-folder (new/); sorter sort --recursive {root} sorts them, then review shows them."]


def test_a_card_names_the_sub_folder_its_photo_is_in(tmp_path: Path) -> None:
    root = tmp_path / "pets"
    photos(root, ("top.jpg", *NESTED))
    photos(root, ("cat.jpg", "trip/cat.jpg"), BLUE)  # both filed as cats/cat.jpg, cats/cat (1).jpg or so
    sort.sort_folder(root, recursive=True, classifier=ThreeClassFake())
    client, stop, thread = start(root)
    try:
        _, groups = client.json("GET", "/api/groups")
    finally:
        stop.set()
        thread.join(10)
    cards = {p["path"]: (g["title"], p["folder"], p["name"]) for g in groups["groups"] for p in g["photos"]}
    neither = "not a cat or a dog"
    assert {path: card for path, card in cards.items() if not path.startswith("cats/")} == {
        "top.jpg": (neither, "", "top.jpg"),  # at the top: its name alone, as before
        "a/b/c/IMG_0001.jpg": (neither, "a/b/c/", "IMG_0001.jpg"),
        "x/cats/IMG_0001.jpg": (neither, "x/cats/", "IMG_0001.jpg"),  # a sub-folder's cats/ is not sorter's
        "with space/p.jpg": (neither, "with space/", "p.jpg"),
        "ünï 猫/p.jpg": (neither, "ünï 猫/", "p.jpg"),
        "h#sh/p.jpg": (neither, "h#sh/", "p.jpg"),
        "p%20/p.jpg": (neither, "p%20/", "p.jpg"),
        "q?mark/p.jpg": (neither, "q?mark/", "p.jpg"),
        "a/notpet.jpg": (neither, "a/", "notpet.jpg"),
        "x/y.jpg": (neither, "x/", "y.jpg"),
    }
    # In cats/: its group's heading, "cats/", says where it is.
    assert sorted(card[:2] for path, card in cards.items() if path.startswith("cats/")) == [("cats/", "")] * 2
    # The page the sort wrote says the same.
    page = page_path(root).read_text(encoding="utf-8")
    assert '<span class="dir"><bdi>a/b/c/</bdi></span><span class="name">IMG_0001.jpg</span>' in page
    assert '<span class="dir"><bdi>x/cats/</bdi></span><span class="name">IMG_0001.jpg</span>' in page
    assert '</b><span class="name">top.jpg</span>' in page
    assert page.count('<span class="dir">') == len(NESTED)


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_the_page_shows_a_card_s_folder_dimmer_above_its_name(tmp_path: Path) -> None:
    root = tmp_path / "pets"
    long = "a folder with a very long name from a trip/deeper still/"
    photos(root, ("top.jpg", "a/b/c/IMG_0001.jpg", f"{long}IMG_0001.jpg"))
    sort.sort_folder(root, recursive=True, classifier=ThreeClassFake())
    client, stop, thread = start(root)
    try:
        with chromium_page(client.url) as page:
            page.wait_for_selector("figure .dir")
            shown = page.eval_on_selector_all("figure", "fs => fs.map(f => [f.title.split(':')[0], "
                                              "(f.querySelector('.dir') || {}).textContent || '', "
                                              "f.querySelector('.name').textContent])")
            assert sorted(shown) == [[f"{long}IMG_0001.jpg", long, "IMG_0001.jpg"],
                                     ["a/b/c/IMG_0001.jpg", "a/b/c/", "IMG_0001.jpg"],
                                     ["top.jpg", "", "top.jpg"]]
            # Cut from the left, the folder it is in stays in sight: "…trip/deeper still/".
            cut = page.locator(".dir", has_text="deeper")
            assert cut.evaluate("e => e.scrollWidth > e.clientWidth")
            page.screenshot(path=str(tmp_path / "cards.png"))
    finally:
        stop.set()
        thread.join(10)


def test_a_photo_saved_after_sort_recursive_into_a_folder_it_entered_is_not_sorted_yet(tmp_path: Path) -> None:
    """A sub-folder a `sort --recursive` entered is listed as the folder's top is: a photo saved
    there since is "not sorted yet", as a new photo at the top is; a sub-folder made since in one
    is named on the start line, as a new one at the top is."""
    root = tmp_path / "pets"
    photos(root, ("top.jpg", "a/b/c/IMG_0001.jpg", "a/notpet.jpg"))
    photos(root, ("trip/cat.jpg",), BLUE)  # filed in cats/: trip/ is left without a photo
    sort.sort_folder(root, recursive=True, classifier=ThreeClassFake())
    late = ("a/b/c/new.jpg", "a/b/between.jpg", "a/late.jpg", "trip/late.jpg")  # a/b/ held no photo
    photos(root, (*late, "top-new.jpg", "a/b/made-since/p.jpg"))
    seen: dict = {}
    reloaded: dict = {}

    def groups(client: Client) -> None:
        _, listed = client.json("GET", "/api/groups")
        seen.update({p["path"]: g["title"] for g in listed["groups"] for p in g["photos"]})
        photos(root, ("a/b/while-open.jpg",))  # saved there while the page is open: shown at a reload
        _, listed = client.json("GET", "/api/groups")
        reloaded.update({p["path"]: g["title"] for g in listed["groups"] for p in g["photos"]})

    assert review(root, groups).splitlines() == [
        f"Reviewing {root}: 9 photos. Stop with Ctrl-C.",
        f"Not looked into: 1 sub-folder (a/b/made-since/); sorter sort --recursive {root} sorts them, "
        "then review shows them.",
    ]
    assert {path: title for path, title in seen.items() if title == "not sorted yet"} == dict.fromkeys(
        (*late, "top-new.jpg"), "not sorted yet")
    assert seen["a/b/c/IMG_0001.jpg"] == seen["a/notpet.jpg"] == "not a cat or a dog"  # as the sort judged them
    assert reloaded == {**seen, "a/b/while-open.jpg": "not sorted yet"}


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_a_folder_named_with_a_new_line_is_shown_escaped_never_as_a_space(tmp_path: Path) -> None:
    """`Fo\\nx/` and `Fo x/` looked the same on the page (a new line shows as a space); a tab, a
    carriage return or an escape showed as nothing or a space too. The page names them as sort's
    output does (`Fo\\nx/`), the command it says to run is one a shell reads back (`$'...'`), and
    a click still files the photo of the folder the card names."""
    root = tmp_path / "pe\nts"
    photos(root, ("Fo\nx/p.jpg", "Fo x/p.jpg", "T\tab/p.jpg", "C\rr/p.jpg", "E\x1bsc/p.jpg"))
    sort.sort_folder(root, recursive=True, classifier=ThreeClassFake())
    client, stop, thread = start(root)
    try:
        _, groups = client.json("GET", "/api/groups")
        assert (groups["folder"], groups["typed"]) == (str(root).replace("\n", "\\n"), f"$'{root}'".replace("\n", "\\n"))
        cards = {p["path"]: (p["folder"], p["where"]) for g in groups["groups"] for p in g["photos"]}
        assert cards == {"Fo\nx/p.jpg": ("Fo\\nx/", "Fo\\nx/p.jpg"), "Fo x/p.jpg": ("Fo x/", "Fo x/p.jpg"),
                         "T\tab/p.jpg": ("T\\tab/", "T\\tab/p.jpg"), "C\rr/p.jpg": ("C\\rr/", "C\\rr/p.jpg"),
                         "E\x1bsc/p.jpg": ("E\\x1bsc/", "E\\x1bsc/p.jpg")}
        with chromium_page(client.url) as page:
            page.wait_for_selector("figure .dir")
            shown = page.eval_on_selector_all("figure .dir", "ds => ds.map(d => d.textContent)")
            assert sorted(shown) == sorted(["Fo\\nx/", "Fo x/", "T\\tab/", "C\\rr/", "E\\x1bsc/"])
            page.locator("figure", has_text="Fo\\nx/").get_by_role("button", name="Cat", exact=True).click()
            page.wait_for_selector("#status:has-text('p.jpg is in cats/')")
            page.screenshot(path=str(tmp_path / "escaped.png"))
    finally:
        stop.set()
        thread.join(10)
    assert (root / "cats" / "p.jpg").is_file() and not (root / "Fo\nx" / "p.jpg").exists()
    assert (root / "Fo x" / "p.jpg").is_file()
