"""A folder sorted by a sorter from before the journal's "seen" records (before 7da573d, 2026-12-04:
ea32108, say). Its journal records each move with the label it filed the photo as, and it wrote what
it said of the photos it left in place to `.sorter/left.jsonl`; neither keeps a file's identity.
Learn found none of what it decided: a cat moved out of cats/ into dogs/ and a non-pet put into cats/
were "added -> dog" and "added -> cat", and none of the photos the sort filed or left was "kept as
sorted". The review page showed the photos it left as neither "not sorted yet". Both read those
records now (`files.before_seen`) where no "seen" record speaks of a photo.

The records below are ea32108's, as it wrote them for a folder it sorted (only the times are those
of this test's photos, which the move must follow); the photos are the fake model's of test_learn."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from test_learn import invoke, photo
from test_review_server import cards_of

#: ea32108's journal of a sort of cat_0..2.jpg, dog_0..2.jpg and other_0..2.jpg (the names only).
OLD_JOURNAL = """\
{"op": "mkdir", "run": "20261207T192037-7e7e32", "time": 1796671237.879, "path": "dogs"}
{"op": "mkdir", "run": "20261207T192037-7e7e32", "time": 1796671237.88, "path": "cats"}
{"op": "move", "run": "20261207T192037-7e7e32", "time": 1796671237.88, "seq": 1, "src": "cat_0.jpg", "dst": "cats/cat_0.jpg", "label": "cat", "confidence": 0.9961}
{"op": "move", "run": "20261207T192037-7e7e32", "time": 1796671237.88, "seq": 2, "src": "dog_0.jpg", "dst": "dogs/dog_0.jpg", "label": "dog", "confidence": 0.9961}
{"op": "move", "run": "20261207T192037-7e7e32", "time": 1796671237.88, "seq": 3, "src": "cat_1.jpg", "dst": "cats/cat_1.jpg", "label": "cat", "confidence": 0.9961}
{"op": "move", "run": "20261207T192037-7e7e32", "time": 1796671237.88, "seq": 4, "src": "dog_1.jpg", "dst": "dogs/dog_1.jpg", "label": "dog", "confidence": 0.9961}
{"op": "move", "run": "20261207T192037-7e7e32", "time": 1796671237.88, "seq": 5, "src": "cat_2.jpg", "dst": "cats/cat_2.jpg", "label": "cat", "confidence": 0.9961}
{"op": "move", "run": "20261207T192037-7e7e32", "time": 1796671237.88, "seq": 6, "src": "dog_2.jpg", "dst": "dogs/dog_2.jpg", "label": "dog", "confidence": 0.9961}
{"op": "done", "run": "20261207T192037-7e7e32", "time": 1796671237.894, "seq": 1}
{"op": "done", "run": "20261207T192037-7e7e32", "time": 1796671237.894, "seq": 2}
{"op": "done", "run": "20261207T192037-7e7e32", "time": 1796671237.894, "seq": 3}
{"op": "done", "run": "20261207T192037-7e7e32", "time": 1796671237.894, "seq": 4}
{"op": "done", "run": "20261207T192037-7e7e32", "time": 1796671237.894, "seq": 5}
{"op": "done", "run": "20261207T192037-7e7e32", "time": 1796671237.894, "seq": 6}
"""  # noqa: E501 - the lines as ea32108 wrote them
#: ea32108's `.sorter/left.jsonl` of that sort: the photos it left in place, and why.
OLD_LEFT = """\
{"path": "other_0.jpg", "status": "neither", "label": "other", "confidence": 0.9961, "reason": "not a cat or a dog"}
{"path": "other_1.jpg", "status": "neither", "label": "other", "confidence": 0.9883, "reason": "not a cat or a dog"}
{"path": "other_2.jpg", "status": "neither", "label": "other", "confidence": 0.9727, "reason": "not a cat or a dog"}
"""


def sorted_by_ea32108(root: Path) -> Path:
    """The folder as ea32108's sort left it: cats and dogs filed, the non-pets left in place."""
    for i in range(3):
        photo(root / "cats" / f"cat_{i}.jpg", "cat", i)
        photo(root / "dogs" / f"dog_{i}.jpg", "dog", 10 + i)
        photo(root / f"other_{i}.jpg", "other", 20 + i)
    (root / ".sorter").mkdir()
    # A second after the photos: the time rounded to the millisecond could fall before the last one's
    # mtime, which then read as edited since the sort (CI: "6 kept as sorted" for 7).
    (root / ".sorter" / "journal.jsonl").write_text(re.sub(r'"time": [0-9.]+', f'"time": {time.time() + 1:.3f}',
                                                           OLD_JOURNAL))
    (root / ".sorter" / "left.jsonl").write_text(OLD_LEFT)
    return root


def test_learn_reads_what_an_older_sorter_decided_from_its_moves_and_left_jsonl(tmp_path: Path, fake_model) -> None:
    roll = sorted_by_ea32108(tmp_path / "roll")
    os.rename(roll / "cats" / "cat_1.jpg", roll / "dogs" / "cat_1.jpg")  # the user's word: a dog
    os.rename(roll / "other_2.jpg", roll / "cats" / "other_2.jpg")  # and a cat

    result = invoke("learn", roll, "--model", fake_model)

    # Before: "(2 new)" alone, then "added -> cat 1" and "added -> dog 1".
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"Found 2 photos you placed in {roll} (2 new); 7 kept as sorted, held as they are")
    rows = [" ".join(line.split()[:4]) for line in result.stdout.splitlines() if " -> " in line]
    assert rows == ["cat -> dog 1", "neither -> cat 1"], result.stdout


def test_the_review_page_shows_what_an_older_sorter_said_of_the_photos_it_left(tmp_path: Path) -> None:
    cards = cards_of(sorted_by_ea32108(tmp_path / "roll"))

    # Before: "unsorted", "not sorted yet", no confidence.
    assert [(cards[f"other_{i}.jpg"]["status"], cards[f"other_{i}.jpg"]["reason"], cards[f"other_{i}.jpg"]["confidence"])
            for i in range(3)] == [("neither", "not a cat or a dog", c) for c in (0.9961, 0.9883, 0.9727)]
    assert cards["cat_0.jpg"]["status"] == "moved" and cards["cat_0.jpg"]["confidence"] == 0.9961
