"""How every command counts things in words: "1 photo", "2 photos", "2,000 photos", never
"photo(s)". A base module (with config, errors and signals: tests/test_layout.py lists them), so
that every wing may import it: the CLI, watch's notices and training's errors alike."""

from __future__ import annotations

import math


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun its number takes: "1 photo", "0 photos", "2,000 photos" (thousands
    separated, as sort's summary and the review page write them); `plural` where adding an "s"
    would be wrong ("1 photo or video" / "3 photos and videos")."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def at_most(value: float, digits: int = 4) -> float:
    """`value` to `digits` places, never more than it is: a confidence of 0.99996 rounded was
    1.0, stored in the journal and shown as 100%, while the same photo was "unsure: confidence
    99.9% below --min-confidence 100%". Where rounding went up, the step below is taken instead
    (not `math.floor(value * 10**digits)`: 0.29 * 100 is 28.999999999999996)."""
    rounded = round(value, digits)
    return rounded if rounded <= value else round(rounded - 10**-digits, digits)


def percent(confidence: float, decimals: int = 0) -> str:
    """A confidence as every command, the journal's readers and the review page show it: cut,
    never rounded up, at its last digit ("99%" for 0.9999, "99.9%" with one decimal), so 100%
    means exactly 1.0 and a photo shown at 97% is never below a --min-confidence of 97%."""
    return f"{at_most(confidence, decimals + 2):.{decimals}%}"


def clock(seconds: float) -> str:
    """A video's length as both review pages show it: "0:08", "10:00". Rounded to whole seconds
    first, half up, then split: minutes and seconds rounded apart made 59.6 s "0:60", and
    Python's half-to-even `round` made 0.5 s "0:00" on the sort's page and "0:01" on the server's."""
    whole = math.floor(seconds + 0.5)
    return f"{whole // 60}:{whole % 60:02d}"
