"""Linux's mount table (`/proc/self/mountinfo`), read where the files wing asks what a path is
on: which filesystem kind (`identities.inodes_last`: are inode numbers kept across mounts?) and
which mount point (`moves.finish_fallback_move`: a bind mount is a mount of its own, though its
files bear its filesystem's device number)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Mount:
    device: str  # "major:minor", as `os.major` and `os.minor` give a file's `st_dev`
    point: str  # where it is mounted, unescaped (the table writes a space as \040)
    kind: str  # the filesystem's type: "ext4", "exfat", "fuseblk", ...


def mounts() -> list[Mount]:
    """This process's mounts, in the table's order. OSError where there is no table (not Linux,
    no /proc)."""
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as table:
        lines = table.read().splitlines()
    found = []
    for line in lines:
        fields, _, rest = line.partition(" - ")
        parts = fields.split()
        if len(parts) > 4 and rest:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), parts[4])
            found.append(Mount(parts[2], point, rest.split()[0]))
    return found
