"""How every command counts things in words: "1 photo", "2 photos", "2,000 photos", never
"photo(s)". A base module (with config, errors and signals: tests/test_layout.py lists them), so
that every wing may import it: the CLI, watch's notices and training's errors alike."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun its number takes: "1 photo", "0 photos", "2,000 photos" (thousands
    separated, as sort's summary and the review page write them); `plural` where adding an "s"
    would be wrong ("1 photo or video" / "3 photos and videos")."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
