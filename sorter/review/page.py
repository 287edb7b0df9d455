"""The review page of a sort: `DIR/.sorter/review.html`, thumbnails grouped by where each
photo went (cats/, dogs/, and each reason photos were left in place for), least confident
first, each linking to the file where it now is.

One static file that opens offline from the folder itself: thumbnails are small JPEGs in
data: URIs, and there is no script; its styles are the review server's (app.css, inlined).
Memory stays bounded whatever the folder's size: a group keeps its count and, in a heap, only
its `per_group` least confident photos, and thumbnails are made for those alone, once the run
is over, from each file where it now is.
"""

from __future__ import annotations

import heapq
import html
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from sorter.config import REVIEW_PAGE, STATE_DIR, as_typed, name_shown
from sorter.files.planning import LEFT_IN_PLACE, looks_like, reason_kind
from sorter.review.framing import around_pet, load_framed
from sorter.wording import clock, counted, percent

#: Photos shown per group: the least confident, which are the ones worth a look.
PER_GROUP = 100
#: Longer side of a thumbnail, in pixels (and in CSS pixels on the page).
THUMB_PX = 128
#: Measured on 100 of the dataset's photos at 128 px: 2.6 KB a thumbnail (70: 3.1 KB; Huffman
#: tables optimised save 10 %), 3.5 KiB in base64.
JPEG_QUALITY = 60
#: Distinct reasons shown as groups of their own; further ones join their status's "other reasons".
MAX_REASON_GROUPS = 24
#: The status of a group of photos a named pet might be (`files.suggestions`), shown first.
MIGHT_BE = "maybe"
#: Statuses whose file is not worth decoding again, or is not a regular file where it was found.
NO_PREVIEW = frozenset({"unreadable", "skipped", "vanished"})
#: Statuses whose file is no longer (or never was) a regular file at that path: no link.
NO_LINK = frozenset({"skipped", "vanished"})


def folder_shown(rel: str, title: str) -> str:
    """The folder a card names above its file's name ("a/b/c/"; `rel`: relative to the folder):
    after a --recursive sort, two IMG_0001.jpg left in two sub-folders looked the same. None ("")
    at the folder's top, nor where the group's heading (`title`) names it already (cats/, cats/Luna/)."""
    folder = rel[:rel.rfind("/") + 1]
    return "" if folder == title else folder


def page_path(root: Path) -> Path:
    return root / STATE_DIR / REVIEW_PAGE


@dataclass(frozen=True)
class Entry:
    where: Path  # where the file is now
    came_from: str | None  # relative to the folder, for a moved file
    status: str
    label: str | None
    confidence: float | None
    reason: str | None
    companions: tuple[str, ...] = ()  # names of the files that went (or stayed) with it
    #: Its thumbnail (data: URI, width, height), made from sort's own decode; None: made at `write`.
    thumbnail: tuple[str, int, int] | None = None
    #: Where the pet is (`FileResult.pet_box`): a thumbnail made at `write` is cut around it too.
    pet_box: tuple[float, float, float, float] | None = None


@dataclass
class Group:
    status: str  # "moved" for cats/ and dogs/
    title: str  # "cats/", or the reason's kind
    count: int = 0
    kept: list[tuple[float, int, Entry]] = field(default_factory=list)  # heap: most confident on top

    def keeps(self, confidence: float | None, seq: int, limit: int) -> bool:
        """Whether `add` would keep a photo of this confidence (so its thumbnail is worth encoding)."""
        return len(self.kept) < limit or (-(confidence or 0.0), -seq) > self.kept[0][:2]

    def add(self, entry: Entry, seq: int, limit: int) -> None:
        self.count += 1
        # Ties keep the earlier file. A file without a confidence (unreadable) counts as 0.
        item = (-(entry.confidence or 0.0), -seq, entry)
        if len(self.kept) < limit:
            heapq.heappush(self.kept, item)
        else:
            heapq.heappushpop(self.kept, item)

    def shown(self) -> list[Entry]:
        """The kept photos, least confident first (a "might be" group: the likeliest first)."""
        likeliest = self.status == MIGHT_BE
        return [entry for _, _, entry in sorted(self.kept, key=lambda item: (item[0] if likeliest else -item[0], -item[1]))]


class ReviewPage:
    """Collects a run's results one at a time (`add`), then writes the page (`write`)."""

    def __init__(self, root: Path, *, per_group: int | None = None) -> None:
        self.root = root
        self.per_group = per_group or PER_GROUP
        self.groups: dict[tuple[str, str], Group] = {}
        self.count = 0
        #: What sorted the photos, when it is not the bundled model alone ("bundled model + 37 corrections").
        self.model = ""

    def add(self, result) -> None:
        """Take one `sorting.results.FileResult`; a planned (dry-run) result has nothing to show,
        nor a photo `sort --name-pets` left in cats/ as it was ("kept"), nor a companion that
        came after its photo ("joined": the photo's own page showed it; or left where it is, its
        name there taken: no photo of its own), nor a folder a recursive sort did not enter
        (software, an app's library): no photo to review, said in the summary."""
        if result.status in ("planned", "kept") or result.kind in ("folder", "companion"):
            return
        if result.status == "moved":
            key = ("moved", f"{self._rel(result.destination.parent)}/")
            where, came_from = result.destination, self._rel(result.path)
        else:
            key = (result.status, reason_kind(result.reason))
            where, came_from = result.path, None
            if key not in self.groups and sum(g.status != "moved" for g in self.groups.values()) >= MAX_REASON_GROUPS:
                key = (result.status, "other reasons")
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(*key)
        self.count += 1
        reason = None if result.reason is None else result.reason[:300]
        companions = tuple((dst or src).name for src, dst in result.companions)
        thumbnail = result.thumbnail
        if thumbnail is not None and result.status not in NO_PREVIEW and group.keeps(
                result.confidence, self.count, self.per_group):
            thumbnail = _encoded(around_pet(thumbnail, result.pet_box, THUMB_PX))
        else:
            thumbnail = None  # not shown, or not given: `write` decodes the file if it shows it
        entry = Entry(where, came_from, result.status, result.label, result.confidence, reason, companions, thumbnail,
                      result.pet_box)
        group.add(entry, self.count, self.per_group)

    def ask(self, might_be: dict[str, tuple[str, float]]) -> None:
        """The photos the named pets might be (`files.suggestions`: path -> (pet, chance)), each
        pet's a group of its own, shown first; the review server is where they are answered."""
        for rel, (pet, chance) in might_be.items():
            key = (MIGHT_BE, f"{pet}/")
            group = self.groups.setdefault(key, Group(*key))
            group.add(Entry(self.root / rel, None, MIGHT_BE, pet.split("/", 1)[1], chance, None), len(group.kept),
                      self.per_group)

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def ordered_groups(self) -> list[Group]:
        """What the named pets might be, then cats/ and dogs/, then what was left in place by
        status and largest group first."""
        order = {status: i for i, status in enumerate((MIGHT_BE, "moved", *LEFT_IN_PLACE))}
        return sorted(self.groups.values(), key=lambda g: (order.get(g.status, len(order)), g.status, -g.count, g.title))

    def write(self) -> Path:
        """Write the page (atomically: a reader never sees half of it) and return its path."""
        groups = self.ordered_groups()
        shown = [e for g in groups for e in g.shown() if e.status not in NO_PREVIEW]
        thumbnails = {e.where: e.thumbnail for e in shown if e.thumbnail is not None}
        thumbnails |= _thumbnails([e for e in shown if e.thumbnail is None])
        path = page_path(self.root)
        temporary = path.with_name(path.name + ".tmp")
        temporary.unlink(missing_ok=True)
        # A new file, never one that is there already (a link put there would be written through);
        # 0666 less the umask, as the folder's other users may share it.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        with open(fd, "w", encoding="utf-8") as f:
            f.write(_head(self.root, self.count, groups, self.model))
            for n, group in enumerate(groups):
                f.write(self._section(n, group, thumbnails))
            f.write("</main>\n</body>\n</html>\n")
        os.replace(temporary, path)
        return path

    def _section(self, n: int, group: Group, thumbnails: dict[Path, tuple[str, int, int]]) -> str:
        shown = group.shown()
        if group.status == "moved":
            heading = f'Moved to <span class="where">{_name(group.title)}</span>'
            attributes = f'data-status="moved" data-folder="{_text(group.title.rstrip("/"))}"'
        elif group.status == MIGHT_BE:
            heading = (f'Might be <span class="where">{_name(group.title)}</span> <span class="why">'
                       f'say which are in <code>sorter review {_text(as_typed(self.root))}</code></span>')
            attributes = f'data-status="{MIGHT_BE}" data-folder="{_text(group.title.rstrip("/"))}"'
        else:
            heading = f'Left in place: {_text(group.status)} <span class="why">{_text(group.title)}</span>'
            attributes = f'data-status="{_text(group.status)}" data-reason="{_text(group.title)}"'
        note = ""
        if len(shown) < group.count:
            note = f'<p class="note">showing the {len(shown):,} least confident of {group.count:,}</p>\n'
        cards = "".join(self._card(entry, thumbnails.get(entry.where), group.title) for entry in shown)
        return (
            f'<section id="g{n}" class="group {_text(group.status)}" {attributes} data-count="{group.count}">\n'
            f'<h2>{heading} <span class="count">{group.count:,}</span></h2>\n{note}'
            f'<div class="grid">\n{cards}</div>\n</section>\n'
        )

    def _card(self, entry: Entry, thumbnail: tuple[str, int, int] | None, heading: str = "") -> str:
        from sorter.media.container import duration, photo_inside, said_a_video
        from sorter.media.folders import is_video_name

        name = self._rel(entry.where)
        shown = name_shown(name)
        title = shown if entry.came_from is None else f"{shown} (was {name_shown(entry.came_from)})"
        if entry.reason:
            title += f": {entry.reason}"
        with_it = ""
        if entry.companions:
            title += f" (with {', '.join(map(name_shown, entry.companions))})"
            extensions = sorted({os.path.splitext(n)[1].lstrip(".").upper() or n for n in entry.companions})
            with_it = f'<span class="with">+ {_name(" ".join(extensions))}</span>'

        if thumbnail is not None:
            uri, width, height = thumbnail
            picture = f'<img src="{uri}" width="{width}" height="{height}" alt="{_name(name)}">'
        else:
            picture = f'<span class="none">{"no preview" if entry.status != "vanished" else "gone"}</span>'
        if entry.status not in NO_LINK:
            picture = f'<a href="{_href(self.root, entry.where)}">{picture}</a>'
        # Its thumbnail is its middle frame: say it is a video, and how long. Not of a HEIC photo
        # named .MOV, nor an MP4 of sound alone: "not a video", as its group says (one judged, with a
        # confidence, was read as a video); of a video named .heic, "not a photo: a video", it is.
        said = said_a_video(entry.reason)
        if said or said is None and is_video_name(name) and (entry.status in NO_LINK or entry.confidence is not None
                                                             or photo_inside(entry.where) is None):
            seconds = duration(entry.where) if entry.status not in NO_LINK else None
            length = "" if seconds is None else f" {clock(seconds)}"
            with_it += f'<span class="video">&#9654; video{length}</span>'
        if entry.status == MIGHT_BE:
            caption = f'<b>{_text(entry.label or "")}? {percent(entry.confidence)}</b>'  # cut: 0.8995 is 89%'
        elif entry.confidence is not None:
            label = "neither" if entry.status == "neither" else entry.label
            caption = f'<b>{_text(label or "")} {percent(entry.confidence, 1)}</b>'
            if looks_like(entry.reason):  # a "neither" that names a cow is one a user can trust
                caption += f'<span class="looks">looks like {_text(looks_like(entry.reason))}</span>'
        else:
            caption = f'<b class="bad">{_text(entry.status)}</b>'  # the reason heads the group, and is in the title
        return (
            f'<figure title="{_text(title)}"><div class="pic">{picture}</div>'
            f'<figcaption>{caption}{_folder(name, heading)}'
            f'<span class="name">{_name(os.path.basename(name))}</span>{with_it}'
            '</figcaption></figure>\n'
        )


def _folder(rel: str, heading: str) -> str:
    # <bdi>: a folder's "/" stays after its name in the right-to-left line that cuts it from the left.
    folder = folder_shown(rel, heading)
    return f'<span class="dir"><bdi>{_name(folder)}</bdi></span>' if folder else ""


def _text(value: str) -> str:
    """Escaped for HTML text and attributes, a name as the CLI and the review server show it
    (`config.as_shown`): a new line in it showed as a space, and a byte that is not UTF-8 as U+FFFD."""
    from sorter.config import as_shown

    return html.escape(as_shown(value))


def _name(value: str) -> str:
    """`_text` of a name alone (`config.name_shown`): a backslash in it as `\\\\`, so that a
    file named `o\\nne.jpg` with a backslash does not show as one whose name holds a new line."""
    return html.escape(name_shown(value))


def _href(root: Path, path: Path) -> str:
    """The page lives in DIR/.sorter/: a relative link, every byte of the name URL-quoted."""
    return "../" + quote(os.fsencode(path.relative_to(root)), safe="/")


def _thumbnails(entries: list[Entry]) -> dict[Path, tuple[str, int, int]]:
    """data: URI, width and height of each entry's thumbnail; none for a file that cannot
    be decoded (it gets a placeholder). Decoded on one thread per core (OpenCV releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    from sorter.config import cpu_cores
    from sorter.media.decoder_output import captured

    # Sorting already reported what the decoders say of these files: not a second time, raw.
    with captured(), ThreadPoolExecutor(max_workers=cpu_cores()) as pool:
        made = pool.map(_thumbnail, [entry.where for entry in entries], [entry.pet_box for entry in entries])
        return {entry.where: thumb for entry, thumb in zip(entries, made, strict=True) if thumb is not None}


def _thumbnail(path: Path, pet_box: tuple[float, float, float, float] | None = None) -> tuple[str, int, int] | None:
    """The page's thumbnail of `path`, cut around `pet_box` (`framing.load_framed`)."""
    from sorter.media.decoder_output import quietly
    from sorter.media.folders import is_video_name
    from sorter.media.videos import middle_frame

    try:
        if is_video_name(path.name):
            image = quietly(middle_frame, path, THUMB_PX)
        else:
            image = quietly(load_framed, path, pet_box, THUMB_PX)
    except Exception:  # ImageError, and a decoder bug costs one thumbnail, not the page (see inference._decode)
        return None
    return _encoded(image)


def _encoded(image) -> tuple[str, int, int] | None:
    """A thumbnail (BGR) as the page embeds it: data: URI of a JPEG, width, height."""
    import base64

    import cv2

    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY, cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    if not ok:
        return None
    height, width = image.shape[:2]
    return f"data:image/jpeg;base64,{base64.b64encode(data.tobytes()).decode('ascii')}", width, height


#: The static page's own rules, after those it shares with the review server's page (`_styles`).
OWN_STYLES = """\
.note { color: #5a6570; margin: -4px 0 8px 12px; font-style: italic; }
"""


def _styles() -> str:
    """The styles the review server's page has (`app.css`), read from the package: one source for
    both pages, so a style fixed there is fixed here. Its rules for what only the server's page
    has (its buttons, its status line) match nothing here, and cost 4.6 KB a page for all of
    app.css, about a thumbnail's size (`JPEG_QUALITY`)."""
    from importlib import resources

    return resources.files("sorter.review").joinpath("app.css").read_text(encoding="utf-8")


def _chip(group: Group) -> str:
    if group.status == "moved":
        return group.title
    return f"might be {group.title}" if group.status == MIGHT_BE else f"{group.status}: {group.title}"


def _head(root: Path, total: int, groups: list[Group], model: str = "") -> str:
    from datetime import datetime

    moved = sum(g.count for g in groups if g.status == "moved")
    files = counted(total, "file")
    chips = "".join(
        f'<a class="chip {_text(g.status)}" href="#g{n}">'
        f'{_text(_chip(g))} <b>{g.count:,}</b></a>\n'
        for n, g in enumerate(groups)
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sorter: {_name(root.name)}</title>
<style>
{_styles()}{OWN_STYLES}</style>
</head>
<body>
<header>
<h1>Sorted {_name(str(root))}</h1>
<p class="sub">{datetime.now():%Y-%m-%d %H:%M} &middot; {files}: {moved:,} moved, {total - moved:,} left in place
&middot; least confident first &middot; click a photo to open it &middot; <code>sorter undo</code> reverses the run
{f"&middot; sorted with {_text(model)}" if model and model != "bundled model" else ""}</p>
<nav>
{chips}</nav>
</header>
<main>
"""
