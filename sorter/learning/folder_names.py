"""How `sorter learn` names the folders of cats/ and dogs/ it reports on, where a name alone
would mislead: two that look the same (`shown`, `name_twins`), and those a user most likely
meant for a pet that are none (`passed_over_lines`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sorter.config import AS_BYTES
from sorter.wording import counted

if TYPE_CHECKING:
    from sorter.learning.corrections import PassedOver


def shown(name: str) -> str:
    """A pet's folder (cats/Luna) or name as every line of `learn` shows it: as it is, or with
    its last part quoted where it would look like another's or break a line up (cats/'Luna '
    beside cats/Luna: spaces at an end or doubled, a tab, an invisible character), its bytes
    that are not UTF-8 as the bytes they are, as sort shows a file's name (cats/'Lu\\xffna')."""
    folder, _, pet = name.rpartition("/")
    if pet == pet.strip() and "  " not in pet and pet.isprintable():
        return name
    quoted = "".join(AS_BYTES.get(ord(c)) or ("\\'" if c == "'" else repr(c)[1:-1]) for c in pet)
    return f"{folder}/'{quoted}'" if folder else f"'{quoted}'"


def passed_over_lines(folders: list[PassedOver]) -> list[str]:
    """A line for the folders of cats/ (and one for dogs/) taken for folders by date, one for
    the hidden ones, and one for each set of pets' folders that share files (cats/Luna and
    cats/Milo, or dogs/Rex): their photos are learnt as cats, not at all, or as one pet's, which
    it names, though the user most likely meant them for a pet; "Found 0 photos you placed …
    Nothing to learn" alone said nothing."""
    lines = []
    for f in (f for f in folders if f.why == "linked"):
        names = [f"{shown(name)}/" for name in sorted([f.folder, *f.others])]
        count = "two" if len(names) == 2 else str(len(names))
        lines.append(f"{', '.join(names[:-1])} and {names[-1]}: {counted(f.photos, 'photo')} in "
                     f"{'both' if len(names) == 2 else f'all {count}'} (one file each, by {count} names), learnt "
                     f"from {shown(f.folder)}/ only; keep each in one pet's folder")
    groups: dict[tuple[str, str], list[PassedOver]] = {}
    for f in folders:
        if f.why in ("dated", "hidden"):
            groups.setdefault((f.why, f.folder.split("/")[0]), []).append(f)
    for (why, kind), these in sorted(groups.items()):  # by date first, then hidden
        one = len(these) == 1
        names = [f"{shown(f.folder)}/" for f in these[:3]] + ([f"{len(these) - 3} more"] if len(these) > 3 else [])
        named = names[0] if one else f"{', '.join(names[:-1])} and {names[-1]}"
        photos = sum(f.photos for f in these)
        its = f"{'its' if one else 'their'} {counted(photos, 'photo')}"
        if why == "hidden":
            lines.append(f"{named}: {'a hidden folder' if one else 'hidden folders'}, {its} not learnt from; "
                         f"rename {'it' if one else 'one'} without the leading dot to learn a pet there")
        else:
            lines.append(f"{named}: taken for {'a folder' if one else 'folders'} by date (a year in the name), {its} "
                         f"count{'s' * (photos == 1)} as {kind}; rename {'it' if one else 'one'} without the year to "
                         "learn a pet there")
    return lines + _link_lines([f for f in folders if f.why in ("link", "folder link")])


def _link_lines(links: list[PassedOver]) -> list[str]:
    """A line for each symbolic link to a folder, and one for the links to photos of each folder,
    in sort's words (`symbolic link, not followed`; sort names each it skips): left out of the
    pet's count, with no word, they were photos learnt from as far as the user could tell."""
    from sorter.media.folders import FOLDER_LINK

    lines, photos = [], {}
    for link in links:
        if link.why == "folder link":
            lines.append(f"{shown(link.folder)}: {FOLDER_LINK}: its photos are not learnt from (put the folder itself "
                         "there to learn from them)")
        else:
            folder, _, name = link.folder.rpartition("/")
            photos.setdefault(folder, []).append(name)
    for folder, names in photos.items():
        if len(names) == 1:
            lines.append(f"{shown(folder)}/{shown(names[0])}: symbolic link, not followed: not learnt from (put the "
                         "photo itself there to learn from it)")
        else:
            listed = [shown(n) for n in names[:3]] + ([f"{len(names) - 3} more"] if len(names) > 3 else [])
            lines.append(f"{shown(folder)}/: {len(names)} symbolic links ({', '.join(listed[:-1])} and {listed[-1]}), "
                         "not followed: not learnt from (put the photos themselves there to learn from them)")
    return lines


def name_twins(names: list[str]) -> list[str]:
    """cats/Fred and cats/fred (or cats/'Fred ') are two folders here, and two pets, though the
    user most likely meant one (on a Mac cats/fred would be cats/Fred): say so, once for each
    such set, and in words where they would look the same ("Zoë" typed on Linux and made on a
    Mac, decomposed)."""
    import unicodedata

    by_name: dict[tuple[str, str], list[str]] = {}
    for name in names:
        folder, _, pet = unicodedata.normalize("NFC", name).partition("/")
        by_name.setdefault((folder, " ".join(pet.casefold().split())), []).append(name)
    lines = []
    for (folder, _), twins in by_name.items():
        if len(twins) < 2:
            continue
        spelled = list(dict.fromkeys(unicodedata.normalize("NFC", t) for t in twins))  # as they look
        ways = [way for way, differs in (("case", len({" ".join(t.split()) for t in spelled}) > 1),
                                         ("spaces", len({t.casefold() for t in spelled}) > 1)) if differs]
        learnt = f"learnt as {len(twins)} pets (put their photos in one folder to learn one)"
        if len(spelled) < len(twins):  # some look the same: their letters encoded two ways
            pet = spelled[0].partition("/")[2]
            also = f", and {' and '.join(ways)}" if ways else ""
            lines.append(f"{shown(f'{folder}/{pet}')}: {'two' if len(twins) == 2 else len(twins)} spellings of "
                         f"{shown(pet)} (its letters encoded differently{also}): {learnt}")
        else:
            shown_names = [shown(t) for t in spelled]
            lines.append(f"{', '.join(shown_names[:-1])} and {shown_names[-1]} differ only in {' and '.join(ways)}: "
                         f"{learnt}")
    return lines
