"""`sorter review`: a card reaches the file it was listed as, and nothing else, and a click's own
changes to the folder are never taken for changes by hand. Plain HTTP as in test_review_server.py."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import ThreeClassFake, write_image
from test_review_server import BLUE, GREEN, make_folder, start

from sorter.files.made_folders import birth
from sorter.sorting import sort


@pytest.fixture
def served(tmp_path: Path):
    """The review server of make_folder's sorted folder (cats/cat.jpg, dogs/person.jpg, tree.jpg left in place)."""
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside)
    client, stop, thread = start(root)
    yield client, root
    stop.set()
    thread.join(10)


def saved_at_its_inode(path: Path, data: bytes, aside: Path) -> None:
    """`rm path`, then `data` saved there, given the deleted file's inode number: only its birth (or,
    where none is kept, its ctime) tells it. ext4 gives a new file in a folder the first free number
    of the folder's group, the photo's where it was made there: a lower one freed meanwhile (the
    journal's own writes) is taken first, by a file then moved `aside`, until the photo's is given."""
    ino = path.stat().st_ino
    time.sleep(0.05)  # the user is slower than the kernel's coarse clock, which stamps the times
    path.unlink()
    for n in range(64):
        path.write_bytes(data)
        if path.stat().st_ino == ino:
            return
        path.rename(aside / f"taken-{n}")
    pytest.skip("this filesystem gave the new file another inode number (tmpfs never reuses one)")


def test_a_photo_deleted_and_another_saved_at_its_name_with_its_inode_is_never_moved_nor_shown(served) -> None:
    """README: a photo deleted, moved away or replaced since the page was loaded, "or another
    file put at its name", is refused. `rm tree.jpg; cp cat.jpg tree.jpg` gives the cat photo the
    tree's inode number at once on ext4, and the page knew a card by its device and inode alone:
    Cat on the tree's card moved the cat photo into cats/, journaled as the user's correction. Born
    after the tree photo was listed, it is another file, as `sort` and `learn` tell it."""
    client, root = served
    tree = client.cards()["tree.jpg"]["id"]
    cat = write_image(root.parent / "cat.jpg", BLUE, size=(80, 90)).read_bytes()
    saved_at_its_inode(root / "tree.jpg", cat, root.parent)

    assert client.move(tree, "cat") == (409, {"error": "tree.jpg is no longer there; reload the page"})
    assert client.thumbnail(tree)[0] == 404  # never shown as the tree's card
    assert (root / "tree.jpg").read_bytes() == cat and not (root / "cats" / "tree.jpg").exists()
    # The page reloaded lists the cat photo, which a click then moves.
    assert client.move(client.cards()["tree.jpg"]["id"], "cat")[0] == 200
    assert (root / "cats" / "tree.jpg").read_bytes() == cat


def test_a_photo_touched_since_it_was_listed_is_still_its_card(served) -> None:
    """A `touch`, or a viewer setting a photo's time, changes its ctime, not its birth: the
    card still reaches it (where the filesystem keeps birth times; elsewhere a reload is asked)."""
    client, root = served
    cat = client.cards()["cat.jpg"]["id"]
    if birth(root / "cats" / "cat.jpg") is None:
        pytest.skip("this filesystem keeps no birth times: a touched photo asks for a reload")
    time.sleep(0.05)
    os.utime(root / "cats" / "cat.jpg", ns=(1_000_000_000, 1_000_000_000))
    assert client.thumbnail(cat)[0] == 200
    assert client.move(cat, "dog")[0] == 200 and (root / "dogs" / "cat.jpg").is_file()


def test_a_pet_named_where_its_species_folder_was_not_made_yet_is_taken_back_after_a_reload(tmp_path: Path) -> None:
    """Naming a photo as the dog Rex where there is no dogs/ yet makes dogs/ in the folder's top,
    then dogs/Rex/: the click looked again at dogs/Rex/ and dogs/ alone, so the page's reload took
    the top's new time for a change by hand, listed the folder afresh and forgot the correction:
    `u` said "nothing to take back". Every folder the click makes a folder in is its own change."""
    write_image(tmp_path / "cat.jpg", BLUE)
    write_image(tmp_path / "tree.jpg", GREEN)
    sort.sort_folder(tmp_path, classifier=ThreeClassFake())
    assert not (tmp_path / "dogs").exists()
    client, stop, thread = start(tmp_path)
    try:
        card = client.cards()["cat.jpg"]
        status, answer = client.json("POST", "/api/move", {"id": card["id"], "to": "dog", "pet": "Rex",
                                                           "generation": client.generation})
        assert status == 200 and answer["photo"]["path"] == "dogs/Rex/cat.jpg"
        assert client.cards()["cat.jpg"]["path"] == "dogs/Rex/cat.jpg"  # the page reloaded
        status, answer = client.take_back()
        assert status == 200 and answer["photo"]["path"] == "cats/cat.jpg", answer
        assert (tmp_path / "cats" / "cat.jpg").is_file() and not (tmp_path / "dogs").exists()
    finally:
        stop.set()
        thread.join(10)
