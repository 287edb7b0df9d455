"""A family's shared folder, sticky (`chmod 3775`, as /tmp is): only a photo's owner, the folder's
owner or root may move a photo out of it. Alice sorting Bob's photos there was told `failed:
photo-01.jpg: cannot move: Operation not permitted`, which said neither why nor who could, after
a dry run that said `would move`. Now the sort says it (`cannot move: it belongs to bob, in a
sticky folder (only bob or the folder's owner, root, may move it out)`: `leaving.kept_in`) and the
dry run foresees it of each such photo, as it does a photo marked immutable; a companion of
another user's is named (`cannot move: photo-01.xmp belongs to bob, ...`), where the sort said "it
belongs to bob" of Alice's own photo and the dry run `would move`.

And an undo a folder refuses (Alice's `dogs/`, mode 750, undone by Bob) said `kept:
dogs/photo-01.jpg: cannot move back (Permission denied)`, naming no folder: now it names the one
that refuses, as a sort does (`cannot move back out of dogs/: Permission denied`, then whose it is and what chmod
helps: `refused.advice`), exit 0 as README's "Exit status" says of an undo that did all it could; so does one it may
not even look into (mode 2700: `cannot look in dogs/: Permission denied`, where it said `cannot look (Permission
denied)`).

Root only: the folder and the photos are given to other users (`daemon`, `nobody`), and root's
power over them (`CAP_FOWNER`, `CAP_DAC_OVERRIDE`) is set aside for the command, as for a user."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest
from conftest import CAP_FOWNER, FakeClassifier, cli_sort, layout, refused_to_a_user, without_powers, write_image
from typer.testing import CliRunner

from sorter.cli import app
from sorter.model import lite

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR: the fake says blue = cat, red = dog
runner = CliRunner()


def _user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pytest.skip(f"needs a user named {name}")


@pytest.fixture
def family(tmp_path: Path, monkeypatch) -> Path:
    """A sticky folder of daemon's, everyone's to write in, holding two cats of nobody's and a dog
    of root's own, with the fake classifier behind `sort`."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give the folder and the photos to other users")
    monkeypatch.setattr(lite, "load_classifier", lambda model: FakeClassifier())
    folder = tmp_path / "family"
    folder.mkdir()
    write_image(folder / "photo-01.jpg", BLUE, size=(256, 256))
    write_image(folder / "photo-03.jpg", BLUE, size=(256, 256))
    write_image(folder / "dog_1087.jpg", RED, size=(256, 256))
    for photo in ("photo-01.jpg", "photo-03.jpg"):
        os.chown(folder / photo, _user("nobody").pw_uid, -1)
    os.chown(folder, _user("daemon").pw_uid, -1)
    folder.chmod(0o1777)
    return folder


KEPT = "cannot move: it belongs to nobody, in a sticky folder (only nobody or the folder's owner, daemon, may move it out)"


def test_another_users_photos_in_a_sticky_folder_are_said_so_by_the_dry_run_and_the_sort(family: Path) -> None:
    before = layout(family)
    # Root, with its power over a sticky folder (CAP_FOWNER), would move them all: nothing foreseen.
    as_root = runner.invoke(app, ["sort", str(family), "--dry-run", "--verbose"])
    assert (as_root.exit_code, "would not move" in as_root.output) == (0, False), as_root.output

    with without_powers(CAP_FOWNER):
        planned = runner.invoke(app, ["sort", str(family), "--dry-run", "--verbose"])
        sorted_once = runner.invoke(app, ["sort", str(family), "--verbose"])

    assert planned.exit_code == 0, planned.output
    assert sorted(planned.stderr.splitlines()) == [  # root's own dog would move: only it
        "would move dog_1087.jpg -> dogs/dog_1087.jpg (dog, 99%)",
        f"would not move: photo-01.jpg: {KEPT}", f"would not move: photo-03.jpg: {KEPT}"]
    assert planned.stdout.endswith(f"{KEPT}; 2 photos would not move\n"), planned.stdout
    assert "would move to cats/" not in planned.stdout
    # The sort: the same reason, word for word; root's own dog moved, nobody's cats where they were.
    assert sorted_once.exit_code == 1, sorted_once.output
    assert sorted(sorted_once.stderr.splitlines()) == [
        "Error: 2 photos could not be moved, the summary says why; the others were moved: put that right, then sort again",
        f"failed: photo-01.jpg: {KEPT}", f"failed: photo-03.jpg: {KEPT}",
        "moved dog_1087.jpg -> dogs/dog_1087.jpg (dog, 99%)"]
    after = layout(family)
    assert {name: after.get(name) for name in ("photo-01.jpg", "photo-03.jpg")} == {
        name: before[name] for name in ("photo-01.jpg", "photo-03.jpg")}
    assert after.get("dogs/dog_1087.jpg") == before["dog_1087.jpg"]


@pytest.mark.usefixtures("fake_classifier_loaded")
@pytest.mark.parametrize(("mode", "owner", "said"), [
    # A dogs/ of mode 550, as another user's dogs/ of mode 750 is to Bob: undo may not take the
    # dog out of it. It said `cannot move back (Permission denied)`, naming no folder.
    (0o550, None, "cannot move back out of dogs/: Permission denied; its permissions refuse this user: chmod u+w "
                  "{dogs} as its owner, or run sorter as a user who can write it"),
    # Alice's dogs/ of mode 2700, undone by Bob: undo may not even look for the dog in it. It said
    # `cannot look (Permission denied); left in place`, naming no folder.
    (0o2700, "nobody", "cannot look in dogs/: Permission denied; left in place"),
], ids=["not written", "not entered"])
def test_an_undo_a_sorted_folder_refuses_names_that_folder(tmp_path: Path, mode: int, owner: str | None, said: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give dogs/ to another user and set its power over file modes aside")
    write_image(tmp_path / "1130.jpg", BLUE, size=(256, 256))
    write_image(tmp_path / "dog_1087.jpg", RED, size=(256, 256))
    cli_sort(tmp_path)
    sorted_layout = layout(tmp_path)
    if owner is not None:
        os.chown(tmp_path / "dogs", _user(owner).pw_uid, -1)

    with refused_to_a_user(tmp_path / "dogs", mode):
        undone = runner.invoke(app, ["undo", str(tmp_path)])

    assert undone.exit_code == 0, undone.output  # README: an undo that did all it could
    assert undone.stderr == f"kept: dogs/dog_1087.jpg: {said.format(dogs=tmp_path / 'dogs')}\n"
    assert undone.stdout == f"Restored 1 file from 1 run in {tmp_path} (1 kept in place).\n"
    assert layout(tmp_path)["dogs/dog_1087.jpg"] == sorted_layout["dogs/dog_1087.jpg"]


def test_a_companion_of_another_users_in_a_sticky_folder_is_named_not_its_photo(family: Path) -> None:
    # Root's own dog with nobody's sidecar; nobody's cat with root's own sidecar. The sort said of
    # root's dog "it belongs to nobody", of a photo root owns, and the dry run "would move" it.
    (family / "dog_1087.xmp").write_text("<x/>")
    os.chown(family / "dog_1087.xmp", _user("nobody").pw_uid, -1)
    (family / "photo-03.jpg.json").write_text("{}")
    before = layout(family)
    sidecar = KEPT.replace("it belongs", "dog_1087.xmp belongs", 1)

    with without_powers(CAP_FOWNER):
        planned = runner.invoke(app, ["sort", str(family), "--dry-run", "--verbose"])
        sorted_once = runner.invoke(app, ["sort", str(family), "--verbose"])

    assert planned.exit_code == 0, planned.output
    assert sorted(planned.stderr.splitlines()) == [
        f"would not move: dog_1087.jpg: {sidecar}; dog_1087.xmp stays with it",
        f"would not move: photo-01.jpg: {KEPT}", f"would not move: photo-03.jpg: {KEPT}; photo-03.jpg.json stays with it"]
    assert f"{sidecar}; 1 photo would not move\n" in planned.stdout, planned.stdout
    assert "would move to" not in planned.stdout
    assert sorted_once.exit_code == 1, sorted_once.output
    assert sorted(sorted_once.stderr.splitlines()) == [
        "Error: 3 photos could not be moved, the summary says why: put that right, then sort again",
        f"failed: dog_1087.jpg: {sidecar}; dog_1087.xmp stays with it",
        f"failed: photo-01.jpg: {KEPT}", f"failed: photo-03.jpg: {KEPT}; photo-03.jpg.json stays with it"]
    after = layout(family)
    assert {name: after.get(name) for name in before} == before  # all where they were, byte for byte
