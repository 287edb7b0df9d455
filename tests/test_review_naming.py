"""`sorter review`'s "Name…": a photo into a named pet's folder (cats/Luna/) from the page.
The name is the one thing the page sends that becomes a path, so it must be one plain
folder name; the move is a correction like any other (journaled, undone, learnt as the
user's own example of that pet); the page shows each pet's folder as a group of its own.
Plain HTTP as in test_review_server.py, and once in Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import layout, write_image
from test_review_server import Client, browser_missing, chromium_page, make_folder, runner, start, wait_for

from sorter.cli import app
from sorter.files import suggestions
from sorter.learning import corrections
from sorter.review.pet_names import pet_folder_name


@pytest.fixture
def served(tmp_path: Path):
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside, extra=3)  # cat.jpg, cat-000..002.jpg in cats/
    client, stop, thread = start(root)
    yield client, root, outside
    stop.set()
    thread.join(10)


def name(client: Client, photo: str, pet, to: str = "cat"):
    card = client.cards()[photo]
    return client.json("POST", "/api/move", {"id": card["id"], "to": to, "pet": pet, "generation": client.generation})


def test_a_name_is_one_plain_folder_name() -> None:
    assert pet_folder_name("  Luna ") == "Luna"
    assert pet_folder_name("Mr. Whiskers (2)") == "Mr. Whiskers (2)"
    assert pet_folder_name("Zoe\u0301") == "Zo\u00e9"  # NFC: one folder whichever way it was typed
    assert pet_folder_name("\U0001f408\u200d\u2b1b Nox") == "\U0001f408\u200d\u2b1b Nox"  # an emoji's joiner is no control
    assert pet_folder_name("luna", {"Luna", "Rex"}) == "Luna"  # the pet already named, not a second folder
    assert pet_folder_name("Zo\u00eb", {"Zoe\u0308"}) == "Zoe\u0308"  # her folder made on a Mac, decomposed
    path, dot, control = (
        "a pet's name is one folder's name: no / or \\", "a pet's name cannot start with a dot (a hidden folder)",
        "a pet's name cannot hold control characters",
    )
    refused = {
        "": "type the pet's name", "   ": "type the pet's name", "../x": path, "a\\b": path,
        ".": dot, "..": dot, ".sorter": dot, "Lu\x00na": control, "Lu\nna": control,
        "Lu\u202ena": control,  # a right-to-left override: a name that lies
        "Lu\ud800na": control,  # half of a UTF-16 pair: no folder's name can hold it
        "L" * 65: "a pet's name is at most 64 characters", 7: "a pet's name is text",
    }
    for typed, why in refused.items():
        with pytest.raises(ValueError) as error:
            pet_folder_name(typed)
        assert str(error.value) == why, typed


def test_naming_moves_the_photo_into_its_pets_folder_journaled_and_undo_takes_it_back(served) -> None:
    client, root, _ = served
    sorted_layout = layout(root)
    status, answer = name(client, "cat.jpg", "Luna")
    assert status == 200 and (root / "cats" / "Luna" / "cat.jpg").is_file() and not (root / "cats" / "cat.jpg").exists()
    assert answer["photo"]["pet"] == "Luna" and answer["photo"]["path"] == "cats/Luna/cat.jpg"
    assert answer["pets"] == {"cat": ["Luna"], "dog": []}
    assert {g["title"]: g["count"] for g in answer["groups"]}["cats/Luna/"] == 1
    # Typed in another case, it is the same pet; the photo of a dog named as a cat moves to cats/.
    assert name(client, "cat-000.jpg", "luna")[0] == 200 and (root / "cats" / "Luna" / "cat-000.jpg").is_file()
    assert name(client, "cat.jpg", "Luna")[0] == 200  # already there: nothing to do
    # Learn reads them as the user's own examples of Luna.
    kinds = {f.path.name: f.kind for f in corrections.find(root)}
    assert kinds["cat.jpg"] == kinds["cat-000.jpg"] == "cat -> cats/Luna"
    # "Cat" takes a photo out of her folder: it is a cat, not Luna.
    cards = client.cards()
    assert client.move(cards["cat-000.jpg"]["id"], "cat")[0] == 200 and (root / "cats" / "cat-000.jpg").is_file()

    # Undo takes the session back newest first (cat-000.jpg moved twice: one photo), cats/Luna/ with it.
    result = runner.invoke(app, ["undo", str(root)])
    assert result.exit_code == 0 and "Restored 2 files" in result.stdout
    assert without_journal(layout(root)) == without_journal(sorted_layout)


def test_undo_removes_a_folder_it_made_to_put_a_photo_back_once_that_ends_empty(tmp_path: Path) -> None:
    """Named into the user's own cats/Milo/, then Belle in another review; cats/Milo/ moved away
    by the user since. Undo put the photo back into a cats/Milo/ it made, then took it on: the
    photo ended right, but an empty cats/Milo/ was left where the user had removed theirs."""
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside)
    (root / "cats" / "Milo").mkdir()  # the user's
    for pet in ("Milo", "Belle"):  # a review each
        client, stop, thread = start(root)
        assert name(client, "cat.jpg", pet)[0] == 200
        stop.set()
        thread.join(10)
    (root / "cats" / "Milo").rename(outside / "Milo")  # the user moved it away, empty
    (root / "cats" / "Luna").mkdir()  # one of the user's own, empty: kept

    result = runner.invoke(app, ["undo", str(root), "--all"])

    assert result.exit_code == 0, result.output
    assert (root / "cat.jpg").is_file() and not (root / "cats" / "Milo").exists()
    assert (outside / "Milo").is_dir() and (root / "cats" / "Luna").is_dir()


def without_journal(entries: dict) -> dict:
    """The layout less the journal and the lock file, whose line after the pid says whether its
    last holder worked on sub-folders too (an undo does; `lock.RECURSIVE`)."""
    return {path: what for path, what in entries.items() if path not in (".sorter/journal.jsonl", ".sorter/lock")}


def test_u_takes_back_a_name_typed_wrong_and_the_folder_it_made(served) -> None:
    client, root, _ = served
    sorted_layout = layout(root)
    assert name(client, "cat.jpg", "Lnua")[0] == 200 and (root / "cats" / "Lnua" / "cat.jpg").is_file()

    status, answer = client.take_back()

    assert status == 200 and answer["pets"] == {"cat": [], "dog": []}  # no longer offered
    assert without_journal(layout(root)) == without_journal(sorted_layout)  # cats/Lnua/ gone with it
    (root / "cats" / "Luna").mkdir()  # one the user made: named into, taken back, kept
    assert name(client, "cat.jpg", "Luna")[0] == 200 and client.take_back()[0] == 200
    assert (root / "cats" / "Luna").is_dir() and client.cards()["cat.jpg"]["path"] == "cats/cat.jpg"


def test_a_name_that_is_no_plain_folder_name_moves_nothing(served) -> None:
    client, root, outside = served
    (outside / "elsewhere").mkdir()
    (root / "cats" / "Evil").symlink_to(outside / "elsewhere")
    (root / "cats" / "Notes").write_text("a file, not a folder")
    sorted_layout = layout(root)
    for pet, why in [
        ("../../outside", "a pet's name is one folder's name: no / or \\"),
        ("..", "a pet's name cannot start with a dot (a hidden folder)"),
        ("", "type the pet's name"),
        ("Evil", "cats/Evil is not a folder"),
        ("Notes", "cats/Notes is not a folder"),
    ]:
        assert name(client, "cat.jpg", pet) == (409, {"error": why}), pet
    assert name(client, "tree.jpg", "Luna", to="neither") == (409, {"error": "only a cat or a dog is a named pet"})
    card = client.cards()["cat.jpg"]
    for body in ({"id": card["id"], "to": "cat", "pet": 7, "generation": client.generation},
                 {"id": card["id"], "to": "cat", "pet": ["Luna"], "generation": client.generation}):
        status, answer = client.json("POST", "/api/move", body)
        assert status == 400 and answer["error"].startswith("expected {")
    assert layout(root) == sorted_layout and list((outside / "elsewhere").iterdir()) == []


def test_a_name_spelled_as_a_pets_folder_is_that_pet_and_one_two_pets_share_but_for_case_is_refused(served) -> None:
    """cats/Luna and cats/luna are two cats (learn says so). "luna" went into cats/Luna/, the
    first in sorted order, and no name reached cats/luna/: a name is the pet spelled so, and one
    that is either of them only ignoring case is asked again, never guessed."""
    client, root, _ = served
    write_image(root / "cats" / "Luna" / "plum.jpg", (200, 60, 200))
    write_image(root / "cats" / "luna" / "belle.jpg", (60, 200, 200))
    assert name(client, "cat.jpg", "luna")[0] == 200 and (root / "cats" / "luna" / "cat.jpg").is_file()
    assert name(client, "cat-000.jpg", "Luna")[0] == 200 and (root / "cats" / "Luna" / "cat-000.jpg").is_file()
    sorted_layout = layout(root)
    assert name(client, "cat-001.jpg", " LUNA ") == (409, {"error": (
        "LUNA could be cats/Luna and cats/luna, which differ only in case: type the name as its folder spells it")})
    assert layout(root) == sorted_layout and not (root / "cats" / "LUNA").exists()
    assert pet_folder_name("lUNA", {"Luna", "Rex"}) == "Luna"  # one pet but for case: still hers


def test_a_pets_folder_shows_as_a_group_with_the_photos_put_there_by_hand(tmp_path: Path) -> None:
    root, outside = tmp_path / "pets", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    make_folder(root, outside)
    write_image(root / "cats" / "Luna" / "by-hand.jpg", (255, 0, 0))
    (root / "dogs" / "Rex").mkdir()
    (root / "dogs" / ".hidden").mkdir()
    client, stop, thread = start(root)
    try:
        status, groups = client.json("GET", "/api/groups")
        assert status == 200 and groups["pets"] == {"cat": ["Luna"], "dog": ["Rex"]}
        cards = client.cards()
        assert cards["by-hand.jpg"]["heading"] == ("moved", "cats/Luna/") and cards["by-hand.jpg"]["pet"] == "Luna"
        assert cards["cat.jpg"]["pet"] is None
    finally:
        stop.set()
        thread.join(10)


def almost_luna(path: Path, seed: int) -> Path:
    """A cat with Luna's stripes, faint: her head comes close to naming it, and does not."""
    rng = np.random.default_rng(seed)
    image = np.clip(np.array((30, 30, 200), np.int16) + rng.integers(-25, 26, (32, 32, 3)), 0, 255).astype(np.uint8)
    image[::2] = (image[::2] * 0.72).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def sorted_with_near_misses(root: Path, model: Path) -> Path:
    """Luna learnt from six photos, then a plain cat and two that almost are her sorted."""
    from test_learn import invoke, luna, photo

    for i in range(6):
        luna(root / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    photo(root / "plain.png", "cat", 10)
    almost_luna(root / "close.png", 32)
    almost_luna(root / "closer.png", 33)
    assert invoke("learn", root, "--model", model).exit_code == 0
    sorted_ = invoke("sort", root, "--model", model)
    assert sorted_.exit_code == 0
    assert f"Might be cats/Luna (2 photos): sorter review {root} asks about them" in sorted_.stdout
    return root


def luna_learnt_and_a_file_by_her_folders_name(tmp_path: Path, model: Path) -> Path:
    """Luna learnt from tmp_path/roll; tmp_path/card, to be sorted, holds cats/Luna, a file (her
    vet's notes), and two photos that come close to her: the card."""
    from test_learn import invoke, luna

    for i in range(6):
        luna(tmp_path / "roll" / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    assert invoke("learn", tmp_path / "roll", "--model", model).exit_code == 0
    root = tmp_path / "card"
    (root / "cats").mkdir(parents=True)
    (root / "cats" / "Luna").write_text("her vet's notes\n")
    almost_luna(root / "close.png", 32)
    almost_luna(root / "closer.png", 33)
    return root


def test_a_sort_says_what_is_wrong_where_a_named_pets_folder_is_a_file(tmp_path: Path, fake_model) -> None:
    """A file by her folder's name (cats/Luna, her vet's notes) in a folder sorted after Luna was
    learnt: the sort said "Might be cats/Luna (2 photos): sorter review DIR asks about them", a
    folder that is not there, and the page's "it is Luna" was refused. It says what is wrong, in
    the words it uses of a photo it would file there."""
    from test_learn import invoke

    root = luna_learnt_and_a_file_by_her_folders_name(tmp_path, fake_model)

    result = invoke("sort", root, "--model", fake_model)

    assert result.exit_code == 0, result.output
    said = [line for line in result.stdout.splitlines() if line.startswith("Might be")]
    assert said == [f"Might be cats/Luna (2 photos), but cats/Luna is a file, not a folder: rename it, then sorter "
                    f"review {root} asks about them"], result.stdout
    client, stop, thread = start(root)
    try:
        assert name(client, "close.png", "Luna") == (409, {"error": "cats/Luna is not a folder"})
        (root / "cats" / "Luna").rename(root / "luna-notes.txt")  # as it says: then the page asks about them
        status, answer = name(client, "close.png", "Luna")
        assert status == 200 and answer["photo"]["path"] == "cats/Luna/close.png", answer
    finally:
        stop.set()
        thread.join(10)


def test_sort_json_says_which_named_pets_folder_is_a_file(tmp_path: Path, fake_model) -> None:
    """`sort --json` said `"might_be": {"cats/Luna": 2}` and nothing of the file by her folder's
    name that the terminal's "Might be cats/Luna (2 photos), but cats/Luna is a file, not a
    folder" tells: a script took her group for one the review page would name. It says it as
    `refused_into` says a folder a sort would be refused: the reason, and the photos it keeps."""
    import json

    from test_learn import invoke

    root = luna_learnt_and_a_file_by_her_folders_name(tmp_path, fake_model)

    result = invoke("sort", root, "--model", fake_model, "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["might_be"], summary["might_be_refused"]) == (
        {"cats/Luna": 2}, [{"pet": "cats/Luna", "reason": "cats/Luna is a file, not a folder", "photos": 2}])


def test_a_folder_without_her_folder_yet_is_asked_might_be_her_and_naming_one_makes_it(
    tmp_path: Path, fake_model,
) -> None:
    """Luna learnt in one folder; a sort of another, with no cats/Luna/ yet, said "Might be
    cats/Luna (2 photos): sorter review DIR asks about them", and its own page showed them, but
    the review page showed no such group and Name… did not offer Luna until cats/Luna/ was made
    by hand. A pet learnt in one folder is named in every other: the page asks about her first,
    offers her, and naming one makes cats/Luna/ (journaled: `u` takes the folder back, and she
    is still offered and asked about)."""
    from test_learn import invoke, luna

    for i in range(6):
        luna(tmp_path / "roll" / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    assert invoke("learn", tmp_path / "roll", "--model", fake_model).exit_code == 0
    root = tmp_path / "card"
    almost_luna(root / "close.png", 32)
    almost_luna(root / "closer.png", 33)
    result = invoke("sort", root, "--model", fake_model)
    assert result.exit_code == 0, result.output
    assert f"Might be cats/Luna (2 photos): sorter review {root} asks about them" in result.stdout.splitlines()
    assert not (root / "cats" / "Luna").exists()

    client, stop, thread = start(root)
    try:
        status, groups = client.json("GET", "/api/groups")
        assert status == 200 and groups["pets"] == {"cat": ["Luna"], "dog": []}, groups["pets"]
        ranked = sorted(groups["groups"], key=lambda g: g["rank"])
        assert [(g["status"], g["title"], g["count"]) for g in ranked] == [("maybe", "cats/Luna/", 2)]
        cards = client.cards()
        assert cards["close.png"]["might_be"] == "cats/Luna" and cards["close.png"]["path"] == "cats/close.png"

        status, answer = name(client, "close.png", "Luna")
        assert status == 200 and answer["photo"]["path"] == "cats/Luna/close.png", answer
        assert (root / "cats" / "Luna" / "close.png").is_file()
        assert {g["title"]: g["count"] for g in answer["groups"]}["cats/Luna/"] == 1

        status, answer = client.take_back()
        assert status == 200 and answer["pets"] == {"cat": ["Luna"], "dog": []}, answer
        assert not (root / "cats" / "Luna").exists()  # the folder the naming made, taken back with it
        assert client.cards()["close.png"]["heading"] == ("maybe", "cats/Luna/")
    finally:
        stop.set()
        thread.join(10)


def test_the_sorts_own_page_shows_what_a_named_pet_might_be_first(tmp_path: Path, fake_model) -> None:
    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    page = (root / ".sorter" / "review.html").read_text()
    first = page.index("<section ")
    assert page[first:].startswith('<section id="g0" class="group maybe" data-status="maybe" data-folder="cats/Luna"')
    section = page[first:page.index("</section>", first)]
    assert f"say which are in <code>sorter review {root}</code>" in section
    assert section.count("<figure") == 2 and "close.png" in section and "closer.png" in section
    assert "Luna? " in section and "plain.png" not in section
    assert "3 files: 3 moved, 0 left in place" in page  # counted once, where they went


def test_how_close_a_named_pet_came_is_cut_never_rounded_up_on_both_pages(tmp_path: Path, fake_model) -> None:
    """Luna's head came within 0.8995 and 0.7985 of two photos: "Luna? 89%" and "Luna? 79%", as
    every confidence is shown (cut at its last digit), on the review server's cards (the text
    made in Python, which the page's script draws) and on the sort's own page; never 90% and 80%.
    Kept in .sorter/suggestions.json, 0.89996 is cut to 0.8999 there too, not rounded to 0.9."""
    from dataclasses import replace

    from sorter.review.page import ReviewPage

    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    noted = suggestions.read(root)
    chances = {"cats/close.png": 0.89996, "cats/closer.png": 0.7985}
    noted.pets["cats/Luna"] = [replace(s, chance=chances[s.path]) for s in noted.pets["cats/Luna"]]
    suggestions.write(root, noted)
    assert {s.chance for s in suggestions.read(root).pets["cats/Luna"]} == {0.8999, 0.7985}
    client, stop, thread = start(root)
    try:
        cards = client.cards()
        assert (cards["close.png"]["likeness_shown"], cards["closer.png"]["likeness_shown"]) == ("89%", "79%")
        assert cards["plain.png"]["likeness_shown"] is None
    finally:
        stop.set()
        thread.join(10)
    page = ReviewPage(root)
    page.ask({path: ("cats/Luna", chance) for path, chance in {**chances, "cats/close.png": 0.8995}.items()})
    written = page.write().read_text()
    assert "Luna? 89%" in written and "Luna? 79%" in written and "90%" not in written


def test_the_photos_a_named_pet_came_close_to_are_asked_about_first(tmp_path: Path, fake_model) -> None:
    """A sort leaves in cats/ two photos Luna's head came close to naming and notes them; the
    review page shows them first, as "might be cats/Luna/" (Name… starts with her name). Named,
    one joins her folder; Cat (Not Luna: its own place's button) on the other says it is not
    her: it stays in cats/, joins that
    group, no later sort suggests it for her again, and `learn` takes it for another cat. A
    plain cat is never suggested."""
    from test_learn import invoke

    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    assert {s.path for s in suggestions.read(root).pets["cats/Luna"]} == {"cats/close.png", "cats/closer.png"}

    client, stop, thread = start(root)
    try:
        cards = client.cards()
        assert [cards[n]["heading"] for n in ("close.png", "closer.png", "plain.png")] == [
            ("maybe", "cats/Luna/"), ("maybe", "cats/Luna/"), ("moved", "cats/")]
        assert cards["close.png"]["might_be"] == "cats/Luna" and cards["close.png"]["current"] == "cat"
        status, groups = client.json("GET", "/api/groups")
        assert [g["title"] for g in sorted(groups["groups"], key=lambda g: g["rank"])][:1] == ["cats/Luna/"]

        assert name(client, "close.png", "Luna")[0] == 200
        status, answer = client.move(cards["closer.png"]["id"], "cat")
        assert status == 200, answer
        cards = client.cards()
        assert cards["close.png"]["heading"] == ("moved", "cats/Luna/")
        assert cards["closer.png"]["heading"] == ("moved", "cats/") and cards["closer.png"]["might_be"] is None
    finally:
        stop.set()
        thread.join(10)
    assert (root / "cats" / "Luna" / "close.png").is_file() and (root / "cats" / "closer.png").is_file()
    st = (root / "cats" / "closer.png").stat()
    [[identity, refusal]] = suggestions.read(root).refused["cats/Luna"].items()
    assert identity == (st.st_dev, st.st_ino, st.st_size), refusal
    assert refusal.path == "cats/closer.png" and refusal.run.startswith("review-"), refusal

    # Learnt from: the one named is hers, the one refused another cat, as sure as one taken out of her folder.
    learnt = invoke("learn", root, "--model", fake_model)
    assert learnt.exit_code == 0, learnt.output
    rows = {" ".join(line.split()[:4]) for line in learnt.stdout.splitlines()}
    assert {"cat -> cats/Luna 1", "cats/Luna -> cat 1"} <= rows, learnt.stdout

    # Looked at again by a later sort, still close to her: not suggested again.
    again = invoke("sort", root, "--model", fake_model, "--name-pets", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["might_be"] == {}
    assert suggestions.read(root).pets.get("cats/Luna", []) == []


def left_in_place_might_be_luna(root: Path, model: Path) -> Path:
    """Luna learnt; a sort left garden.jpg in place (neither), and her head came close to it."""
    from test_learn import invoke, luna

    from sorter.files.pet_folders import PetFolders
    from sorter.model.pet_heads import Nearly
    from sorter.sorting.results import FileResult
    from sorter.sorting.suggesting import Noting

    for i in range(6):
        luna(root / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    assert invoke("learn", root, "--model", model).exit_code == 0
    write_image(root / "garden.jpg", (0, 128, 0))
    noting = Noting(root, PetFolders(root, frozenset({"cats/Luna"})))
    noting.add(FileResult(root / "garden.jpg", "neither", "other", 0.9, nearly=Nearly("cats/Luna", 0.8)))
    assert noting.write() == {"cats/Luna": 1}
    return root


def not_luna(root: Path, photo: str = "garden.jpg") -> None:
    """`sorter review` asked; the user said (Not Luna) it is not her."""
    client, stop, thread = start(root)
    try:
        card = client.cards()[photo]
        assert card["heading"] == ("maybe", "cats/Luna/") and card["current"] == "neither"
        status, answer = client.move(card["id"], "neither")
        assert status == 200 and answer["photo"]["might_be"] is None, answer
        assert client.cards()[photo]["heading"][0] != "maybe"
    finally:
        stop.set()
        thread.join(10)


def test_a_photo_left_in_place_that_might_be_luna_is_asked_about_too(tmp_path: Path, fake_model) -> None:
    """A cat the model left as neither (or unsure) that her head came close to: in her group
    too; Not Luna (Neither, its own place's button) says it is not her, and nothing moves."""
    root = left_in_place_might_be_luna(tmp_path / "roll", fake_model)
    not_luna(root)
    assert (root / "garden.jpg").is_file() and suggestions.read(root).refused.keys() == {"cats/Luna"}


def test_undo_takes_back_a_reviews_not_her_answers_and_forget_ends_her_group(tmp_path: Path, fake_model) -> None:
    """`sorter undo` after a review that only said "not her": the answers are the latest run,
    taken back (she is asked about the photo again), and the sort before it stays sorted. After
    `sorter learn --forget`, a group noted for a pet no model knows is not shown."""
    from test_learn import invoke, photo

    root = tmp_path / "roll"
    photo(root / "tabby.png", "cat", 7)
    assert invoke("sort", root, "--model", fake_model).exit_code == 0
    assert (root / "cats" / "tabby.png").is_file()
    left_in_place_might_be_luna(root, fake_model)
    not_luna(root)

    undone = invoke("undo", root)
    assert undone.exit_code == 0, undone.output
    assert undone.stdout.splitlines() == [
        f"Restored 0 files in {root}.",
        'Took back "not Luna" on 1 photo: sorter review asks about it again.',
    ]
    assert (root / "cats" / "tabby.png").is_file() and suggestions.read(root).refused == {}
    client, stop, thread = start(root)
    try:
        assert client.cards()["garden.jpg"]["heading"] == ("maybe", "cats/Luna/")
    finally:
        stop.set()
        thread.join(10)

    not_luna(root)  # said again, then the sort and the answers undone together
    assert invoke("undo", root, "--all").exit_code == 0
    assert (root / "tabby.png").is_file() and not (root / ".sorter").exists()

    root = left_in_place_might_be_luna(tmp_path / "again", fake_model)
    assert invoke("learn", "--forget").exit_code == 0
    client, stop, thread = start(root)
    try:
        assert client.cards()["garden.jpg"]["heading"][0] != "maybe"
    finally:
        stop.set()
        thread.join(10)


def test_watch_notes_what_a_named_pet_came_close_to_as_sort_does(tmp_path: Path, fake_model) -> None:
    from test_learn import invoke, luna, photo
    from test_watch import run_in_thread, wait_until

    root = tmp_path / "roll"
    for i in range(6):
        luna(root / "cats" / "Luna" / f"luna{i}.png", 50 + i)
    assert invoke("learn", root, "--model", fake_model).exit_code == 0
    notices: list = []
    stop, thread, results = run_in_thread(root, None, model=fake_model, on_notice=notices.append)
    try:
        photo(root / "plain.png", "cat", 10)
        almost_luna(root / "close.png", 32)
        assert wait_until(lambda: (root / "cats" / "close.png").exists() and (root / "cats" / "plain.png").exists(), 20)
        noted = lambda: [s.path for s in suggestions.read(root).pets.get("cats/Luna", [])]  # noqa: E731
        assert wait_until(lambda: noted() == ["cats/close.png"], 5), noted()
        said = f"might be cats/Luna (1 photo): sorter review {root} asks about it"  # in the log once
        assert wait_until(lambda: [n.message for n in notices].count(said) == 1, 5), notices
    finally:
        stop.set()
        thread.join(10)
    assert not any(isinstance(r, BaseException) for r in results), results


def test_suggestions_keep_each_pets_likeliest_and_read_a_torn_file_as_none(tmp_path: Path) -> None:
    noted = suggestions.Suggestions()
    for i in range(suggestions.SHOWN + 3):
        noted.add("cats/Luna", f"cats/{i}.jpg", (1, i, 10), i / 100)
    noted.add("cats/Milo", "cats/3.jpg", (1, 3, 10), 0.5)  # looked at again: Milo's now, not Luna's
    noted.refuse("cats/Luna", (1, 14, 10), "cats/14.jpg", 0.14, "review-1")
    noted.add("cats/Luna", "cats/14.jpg", (1, 14, 10), 0.99)  # refused: never again
    assert [s.path for s in noted.pets["cats/Luna"]] == [f"cats/{i}.jpg" for i in range(13, 3, -1)]
    assert [s.path for s in noted.pets["cats/Milo"]] == ["cats/3.jpg"]
    (root := tmp_path / "roll").mkdir()
    (root / ".sorter").mkdir()
    suggestions.write(root, noted)
    again = suggestions.read(root)
    assert again.pets == noted.pets and again.refused == noted.refused and (1, 14, 10) in again.refused["cats/Luna"]
    assert again.standing(root) == {}  # none of these photos is there
    assert again.answered().keys() == {"review-1"} and again.take_back({"review-2"}) == {}
    assert again.take_back({"review-1"}) == {"cats/Luna": 1} and again.refused == {"cats/Luna": {}}
    assert again.pets["cats/Luna"][0] == suggestions.Suggestion("cats/14.jpg", (1, 14, 10), 0.14)  # asked again
    suggestions.path_of(root).write_text('{"pets": {}, "refused": {"cats/Luna": [[1, 14, 10]]}}')  # as first written
    assert suggestions.read(root).refused == {"cats/Luna": {(1, 14, 10): suggestions.Refusal()}}
    suggestions.path_of(root).write_text('{"pets": {"cats/Luna": [{"path": "x"')
    assert suggestions.read(root) == suggestions.Suggestions()


def test_in_chromium_name_files_a_cat_as_luna_keys_typed_in_the_name_file_nothing(served) -> None:
    from playwright.sync_api import expect

    client, root, _ = served
    with chromium_page(client.url) as page:
        cat = page.locator("figure", has_text="cat.jpg").filter(has_not_text="cat-")
        cat.get_by_role("button", name="Name\u2026").click()
        field = cat.get_by_role("combobox", name="pet's name")
        expect(field).to_be_focused()
        field.press_sequentially("Luna cd")  # c and d are keys of the page: here they are letters
        field.press("Escape")  # closes the field, nothing moved
        expect(cat.get_by_role("combobox", name="pet's name")).to_have_count(0)
        assert (root / "cats" / "cat.jpg").is_file()

        page.keyboard.press("p")  # the focused card's field again
        field = cat.get_by_role("combobox", name="pet's name")
        field.fill("Luna")
        field.press("Enter")
        wait_for(root / "cats" / "Luna" / "cat.jpg")
        group = page.locator("section", has=page.get_by_role("heading", name="Moved to cats/Luna/"))
        named = group.locator("figure", has_text="cat.jpg")
        expect(named.get_by_role("button", name="cats/Luna/")).to_have_attribute("aria-pressed", "true")
        expect(named.get_by_role("button", name="Cat", exact=True)).to_have_attribute("aria-pressed", "false")
        expect(page.locator("datalist#pets-cat option")).to_have_attribute("value", "Luna")
        expect(named).to_contain_text("you: Luna")
        expect(page.get_by_role("status")).to_have_text(
            "cat.jpg is in cats/Luna/: 1 photo of Luna, name 5 or more photos to learn Luna")

        # The next card's field starts with the last name: p, Enter names it too.
        page.keyboard.press("p")
        field = page.locator("figure:focus-within").get_by_role("combobox", name="pet's name")
        expect(field).to_have_value("Luna")
        next_name = page.locator("figure:focus-within .name").text_content()
        field.press("Enter")
        wait_for(root / "cats" / "Luna" / next_name)

        expect(page.get_by_role("status")).to_contain_text("2 photos of Luna")  # the page has its answer
        page.keyboard.press("u")
        wait_for(root / "cats" / next_name)
        page.keyboard.press("u")
        wait_for(root / "cats" / "cat.jpg")

        # A dog's field starts as a dog's, empty: Luna is no name for it, nor cats/ its folder.
        dog = page.locator("figure", has_text="person.jpg")
        dog.get_by_role("button", name="Name\u2026").click()
        expect(dog.get_by_role("combobox", name="pet's name")).to_have_value("")
        expect(dog.get_by_role("combobox", name="species")).to_have_value("dog")


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_a_pets_longest_name_does_not_widen_a_phones_page(served) -> None:
    # Named with the 64 letters the page takes, its chip and heading ran off a 390 px screen.
    client, root, _ = served
    longest = "x" * 64
    assert name(client, "cat.jpg", longest)[0] == 200
    with chromium_page(client.url) as page:
        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_role("heading", name=f"Moved to cats/{longest}/").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_a_long_pet_name_is_whole_on_its_cards_button(served, width) -> None:
    # The button said "cats/Professor Whiske…" for both pets: only the group's heading told them apart.
    client, root, _ = served
    pets = {"cat.jpg": "Professor Whiskerton the Third", "cat-000.jpg": "Professor Whiskerton Junior"}
    for photo, pet in pets.items():
        assert name(client, photo, pet)[0] == 200
    with chromium_page(client.url) as page:
        page.set_viewport_size({"width": width, "height": 844})
        for photo, pet in pets.items():
            card = page.locator("figure", has=page.locator(".name", has_text=photo))
            button = card.get_by_role("button", name=f"cats/{pet}/")
            button.wait_for()
            assert button.evaluate("b => b.scrollWidth <= b.clientWidth && b.scrollHeight <= b.clientHeight")
            inside = "b => b.getBoundingClientRect().right <= b.closest('figure').getBoundingClientRect().right"
            assert button.evaluate(inside)
        assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_p_enter_names_one_that_might_be_luna_cat_says_another_is_not_u_takes_that_back(
    tmp_path: Path, fake_model
) -> None:
    from playwright.sync_api import expect

    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    client, stop, thread = start(root)
    try:
        with chromium_page(client.url) as page:
            maybe = page.locator("section.maybe")
            expect(maybe.get_by_role("heading")).to_contain_text(
                "Might be cats/Luna/ \u2014 p, Enter: it is Luna; Not Luna: it is not")
            expect(page.locator("section").first).to_have_class("group maybe")  # the one question sorter asks: first
            first = maybe.locator("figure").first
            expect(first.locator("figcaption b").first).to_have_text("Luna? 0%")  # how close her head came
            name = first.locator(".name").text_content()
            first.focus()
            page.keyboard.press("p")
            field = first.get_by_role("combobox", name="pet's name")
            expect(field).to_have_value("Luna")  # her name, not the last one given (none yet)
            field.press("Enter")
            wait_for(root / "cats" / "Luna" / name)
            expect(maybe.locator("figure")).to_have_count(1)  # the page has its answer

            other = maybe.locator("figure").first
            other_name = other.locator(".name").text_content()
            other.get_by_role("button", name="Not Luna").click()
            expect(page.get_by_role("status")).to_have_text(f"{other_name} is not Luna: noted; it stays in cats/")
            moved = page.locator("section.moved figure", has_text=other_name)  # into cats/'s group
            expect(moved.get_by_role("button", name="Cat", exact=True)).to_have_attribute("aria-pressed", "true")
            expect(maybe.locator("figure")).to_have_count(0)
            assert (root / "cats" / other_name).is_file() and suggestions.read(root).refused

            page.keyboard.press("u")  # a "not her" taken back: asked about again, not the naming before it
            expect(maybe.locator("figure", has_text=other_name)).to_have_count(1)
            assert suggestions.read(root).refused == {} and (root / "cats" / "Luna" / name).is_file()
            expect(page.get_by_role("status")).to_have_text(f"took back: {other_name} is in cats/ again")
    finally:
        stop.set()
        thread.join(10)


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_in_chromium_a_name_given_in_a_might_be_group_is_where_its_next_photo_starts(
    tmp_path: Path, fake_model
) -> None:
    """In "Might be cats/Luna/", one named Belle: the next one's field started with Luna, the
    group's pet, and p, Enter put it in cats/Luna/. It starts with the last name given in that
    group (Belle), with her until one was."""
    from playwright.sync_api import expect

    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    client, stop, thread = start(root)
    try:
        with chromium_page(client.url) as page:
            maybe = page.locator("section.maybe")
            first = maybe.locator("figure").first
            name = first.locator(".name").text_content()
            first.focus()
            page.keyboard.press("p")
            field = first.get_by_role("combobox", name="pet's name")
            expect(field).to_have_value("Luna")  # none given yet: the group's pet
            page.keyboard.type("Belle")
            field.press("Enter")
            wait_for(root / "cats" / "Belle" / name)
            expect(maybe.locator("figure")).to_have_count(1)

            other = maybe.locator("figure").first
            other_name = other.locator(".name").text_content()
            other.focus()
            page.keyboard.press("p")
            field = other.get_by_role("combobox", name="pet's name")
            expect(field).to_have_value("Belle")  # the last name given in her group
            field.press("Enter")
            wait_for(root / "cats" / "Belle" / other_name)
            assert not (root / "cats" / "Luna" / other_name).exists()
    finally:
        stop.set()
        thread.join(10)


def test_a_might_be_photo_named_then_taken_back_is_asked_about_again(tmp_path: Path, fake_model) -> None:
    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    client, stop, thread = start(root)
    try:
        asked = client.cards()["closer.png"]["might_be"]
        assert asked == "cats/Luna"
        status, answer = name(client, "closer.png", "Luna")
        assert status == 200 and answer["photo"]["might_be"] is None, answer
        assert client.take_back()[0] == 200
        card = client.cards()["closer.png"]
        assert card["might_be"] == asked and card["path"] == "cats/closer.png", card  # back in her group
    finally:
        stop.set()
        thread.join(10)


def test_an_answer_undone_is_no_longer_learnt(tmp_path: Path, fake_model) -> None:
    """"Not Luna" on a photo in cats/ is learnt as another cat; once `sorter undo` takes the
    answer back, the next `learn` no longer counts it."""
    from test_learn import invoke

    root = sorted_with_near_misses(tmp_path / "roll", fake_model)
    client, stop, thread = start(root)
    try:
        status, answer = client.move(client.cards()["closer.png"]["id"], "cat")
        assert status == 200 and answer["photo"]["might_be"] is None, answer
    finally:
        stop.set()
        thread.join(10)
    rows = lambda out: {" ".join(line.split()[:3]) for line in out.splitlines()}  # noqa: E731
    learnt = invoke("learn", root, "--model", fake_model)
    assert "cats/Luna -> cat" in rows(learnt.stdout), learnt.stdout
    undone = invoke("undo", root)
    assert 'Took back "not Luna" on 1 photo' in undone.stdout and (root / "cats" / "closer.png").is_file()
    learnt = invoke("learn", root, "--model", fake_model)
    assert learnt.exit_code == 0 and "cats/Luna -> cat" not in rows(learnt.stdout), learnt.stdout


def test_the_personal_model_is_read_again_only_once_learn_wrote_it_anew(tmp_path: Path, fake_model,
                                                                       monkeypatch) -> None:
    """A reload and each Name… ask which pets the personal model knows: while its file is the same
    (mtime, size, inode), one `stat`; once `learn` wrote it anew, or `learn --forget` deleted it,
    it is read again, and a pet forgotten loses her group."""
    from test_learn import invoke, luna

    from sorter.model import personal

    root = left_in_place_might_be_luna(tmp_path / "roll", fake_model)
    luna(root / "stray.png", 90)
    reads: list = []
    read_model = personal.read_model
    monkeypatch.setattr(personal, "read_model", lambda path=None: reads.append(path) or read_model(path))
    def learn(*args):  # the server's reads are counted, not those of `learn` itself (it checks the saved model)
        before = len(reads)
        result = invoke("learn", *args)
        del reads[before:]
        return result

    client, stop, thread = start(root)
    try:
        assert client.cards()["garden.jpg"]["heading"] == ("maybe", "cats/Luna/")  # each a (re)load of the page
        assert client.cards()["garden.jpg"]["heading"] == ("maybe", "cats/Luna/")
        assert name(client, "stray.png", "Luna")[0] == 200
        assert len(reads) == 1  # the listing's, when the server started

        assert learn(root, "--model", fake_model).exit_code == 0  # 7 photos of Luna now
        assert client.cards()["garden.jpg"]["heading"] == ("maybe", "cats/Luna/")
        assert len(reads) == 2

        assert learn("--forget").exit_code == 0
        assert client.cards()["garden.jpg"]["heading"][0] != "maybe"
        assert len(reads) == 3
        assert client.cards() and len(reads) == 3  # none, still
    finally:
        stop.set()
        thread.join(10)
