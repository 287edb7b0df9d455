"""What the review server answers, apart from HTTP itself (`server`): the routes, the checks each
request passes before any of them (its `Host`, the session's token in its cookie, the page's token
and `Origin` on a change: the security `server`'s docstring lists), and the JSON, page, assets and
thumbnails it answers with. Given a method, a target, headers and a body, a `Reply`: no socket
here, so every route and every refusal can be asked of an `App` directly.
"""

from __future__ import annotations

import errno
import hmac
import html
import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sorter.config import as_shown, as_typed, name_shown
from sorter.errors import FolderLocked, ReviewConflict, SorterError, TakenBackNoMore
from sorter.review.catalog import PAGE
from sorter.review.pet_names import MAX_PET_NAME
from sorter.review.session import Filed, Session

#: Thumbnails: the review page's size and quality (2.6 KB each, see `review.JPEG_QUALITY`),
#: at twice the pixels so they are sharp on a high-density screen.
THUMB_PX = 256
THUMB_QUALITY = 70
#: A photo opened on its own: big enough to judge, still a re-encoded copy.
VIEW_PX = 1280
#: The page's script (its keys, and taking back its corrections, in scripts of their own), style
#: and icon (a paw: a page that names no icon has the browser ask for /favicon.ico, a 404 in its
#: console at every load).
ASSETS = {"/page.js": ("app.js", "text/javascript"), "/keys.js": ("app_keys.js", "text/javascript"),
          "/take-back.js": ("app_take_back.js", "text/javascript"),
          "/page.css": ("app.css", "text/css"), "/page.svg": ("app.svg", "image/svg+xml")}
PHOTO_URL = re.compile(r"/(thumb|view)/(\d{1,9})")
CHOICES = ("cat", "dog", "neither")
EXPECTED = ('expected {"id": NUMBER, "to": "cat" | "dog" | "neither", "generation": "...", "pet": "NAME" (optional), '
            '"at": "PATH" (optional: where the page showed it)}')
EXPECTED_UNDO = ('expected {"correction": NUMBER (the page\'s last, as its move\'s answer numbered it), '
                 '"at": "PATH" (where the page shows the photo), "generation": "..."}, or {} on a page that made none')
POST_PATHS = frozenset({"/api/move", "/api/undo", "/api/learn"})
GET_PATHS = frozenset({"/", "/api/groups", "/api/photos", "/api/learning", *ASSETS})


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def _cookies(header: str, name: str) -> list[str]:
    """A cookie's values (a browser may send one name twice), read by hand: `SimpleCookie` drops
    the whole header for one cookie it finds malformed (`prefs={"a":1}`, a space, an emoji),
    which any page on 127.0.0.1 may set, and the review was then locked out of that browser."""
    values = []
    for part in header.split(";"):
        key, equals, value = part.strip().partition("=")
        if equals and key.strip() == name:
            values.append(value.strip())
    return values


def _json(value, status: int = 200) -> Reply:
    return Reply(status, json.dumps(value).encode())


def error_reply(status: int, message: str, **more) -> Reply:
    """`message` as the page shows it, one line: a name in it as sorter shows one (`as_shown`: a
    new line as `\\n`), whether it came from our refusal, learn's or the system's."""
    return _json({"error": as_shown(message), **more}, status)


def _file(exc: OSError) -> str:
    """The file an OS error names, as the page shows a name (`name_shown`)."""
    return "the folder" if not exc.filename else name_shown(os.fsdecode(exc.filename))


class App:
    """What the server answers, apart from HTTP itself: the session, the token, the routes."""

    def __init__(self, session: Session, port: int, model: Path | None = None) -> None:
        self.session = session
        self.model = model  # what the Learn button learns on (None: the bundled model)
        self.port = port
        self.token = secrets.token_urlsafe(32)  # the URL's and the cookie's
        self.page_token = secrets.token_urlsafe(32)  # the page's, for the X-Sorter-Token header
        self.cookie = f"sorter-review-{port}"
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
        self.origins = {f"http://{host}" for host in self.hosts}
        self._page = resources.files("sorter.review").joinpath("app.html").read_text(encoding="utf-8")
        self.learnt: bytes = b"null"  # the last learn's answer, for a tab opened while it ran (/api/learning)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    @staticmethod
    def _is(value: str | None, secret: str) -> bool:
        return value is not None and hmac.compare_digest(value.encode(), secret.encode())

    def handle(self, method: str, target: str, headers, body: bytes) -> Reply:
        if (headers.get("Host") or "").lower() not in self.hosts:
            return error_reply(403, "this server answers only to 127.0.0.1, [::1] and localhost")
        url = urlsplit(target)
        query = parse_qs(url.query)
        if method == "GET" and url.path == "/" and "token" in query:
            if not self._is(query["token"][0], self.token):
                return error_reply(403, "wrong token: use the URL `sorter review` printed")
            cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            return Reply(303, b"", "text/plain", (("Location", "/"), ("Set-Cookie", cookie)))
        if not any(self._is(value, self.token) for value in _cookies(headers.get("Cookie") or "", self.cookie)):
            return error_reply(403, "not signed in (no cookie from the URL's token): open the URL `sorter review` printed")
        if method == "POST" and url.path in POST_PATHS:
            origin = headers.get("Origin")
            if not self._is(headers.get("X-Sorter-Token"), self.page_token) or (
                origin is not None and origin not in self.origins
            ):
                return error_reply(403, "a change needs the page's token")
            if url.path == "/api/move":
                return self._move(body)
            if url.path == "/api/learn":
                reply = self._learn()
                self.learnt = reply.body
                return reply
            return self._take_back(body)
        if method == "GET" and url.path not in POST_PATHS:
            return self._get(url.path, query)
        if url.path in POST_PATHS:
            return Reply(405, error_reply(405, "changes are POST only").body, headers=(("Allow", "POST"),))
        if url.path in GET_PATHS or PHOTO_URL.fullmatch(url.path):
            return Reply(405, error_reply(405, "GET only").body, headers=(("Allow", "GET"),))
        return error_reply(404, "not found")

    def _get(self, path: str, query: dict[str, list[str]]) -> Reply:
        if path == "/":
            page = self._page.replace("{{token}}", html.escape(self.page_token))
            return Reply(200, page.encode(), "text/html")
        if path in ASSETS:
            name, kind = ASSETS[path]
            return Reply(200, resources.files("sorter.review").joinpath(name).read_bytes(), kind)
        if path == "/api/groups":
            try:
                self.session.refresh()
            except FolderLocked:
                pass  # a sort is running: the page shows the folder as last listed, and a click says busy
            except ReviewConflict as exc:  # the folder is gone
                return error_reply(409, str(exc))
            return _json(self._groups(first_page=True))
        if path == "/api/photos":
            return self._photos(query)
        if path == "/api/learning":  # asked by a tab that says "learning…": once done, what it learnt
            return _json({"learning": self.session.learning, "learnt": json.loads(self.learnt)})
        photo = PHOTO_URL.fullmatch(path)
        if photo is None:
            return error_reply(404, "not found")
        size = VIEW_PX if photo.group(1) == "view" else THUMB_PX
        if query.get("v", [""])[0] != self.session.catalog.generation:
            return error_reply(404, "no such photo in this listing: reload the page")
        data = self.session.thumbnail(int(photo.group(2)), size, THUMB_QUALITY)
        if data is None:
            return error_reply(404, "no preview")
        return Reply(200, data, "image/jpeg", (("Cache-Control", "private, max-age=3600"),))

    def _groups(self, first_page: bool = False) -> dict:
        from sorter.learning.pets import MIN_PET_PHOTOS

        session = self.session
        with session.lock:
            groups = sorted(session.catalog.groups.values(), key=lambda g: g.rank)
            listed = [(g.to_json(), session.catalog.page(g.key) if first_page else []) for g in groups]
            # As the page shows them (a new line as `\n`), which a name sent back as is names (`pet_names`).
            pets = {label: sorted(map(name_shown, names), key=str.casefold) for label, names in session.catalog.pets.items()}
        return {
            # As sorter shows it, and as a shell reads it back (the command the page says to run).
            "folder": name_shown(str(session.root)), "typed": as_typed(session.root, "utf-8"),
            "total": len(session.catalog.photos), "videos": session.catalog.videos,
            "page": PAGE, "generation": session.catalog.generation,
            # What learn needs to know a pet, and the longest name the page may send.
            "pets": pets, "min_pet_photos": MIN_PET_PHOTOS, "max_pet_name": MAX_PET_NAME,
            "learning": session.learning,  # started before this page loaded: it says so
            "groups": [{**group, "photos": [session.card(p) for p in photos]} for group, photos in listed],
        }

    def _photos(self, query: dict[str, list[str]]) -> Reply:
        session = self.session
        key, after = query.get("group", [""])[0], query.get("after", [""])[0]
        with session.lock:
            if key not in session.catalog.groups or not re.fullmatch(r"\d{1,9}", after or "0"):
                return error_reply(400, "unknown group or photo")
            cursor = int(after) if after else None
            if cursor is not None and cursor >= len(session.catalog.photos):
                return error_reply(400, "unknown photo")
            photos = session.catalog.page(key, cursor)
        return _json({"photos": [session.card(p) for p in photos]})

    def _move(self, raw: bytes) -> Reply:
        try:
            request = json.loads(raw)
            photo_id, choice, generation = request["id"], request["to"], request["generation"]
            pet, at = request.get("pet"), request.get("at")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # RecursionError: `[[[[...`, 1 KB deep
            return error_reply(400, EXPECTED)
        if type(photo_id) is not int or choice not in CHOICES or not isinstance(generation, str) or not (
            pet is None or isinstance(pet, str)
        ) or not (at is None or isinstance(at, str)):
            return error_reply(400, EXPECTED)
        return self._answer(lambda: self.session.correct(photo_id, choice, generation, pet, at))

    def _take_back(self, raw: bytes) -> Reply:
        """`u`: the page names its own last correction, by the number its move's answer gave it,
        and where it shows the photo now (`Session.take_back`)."""
        try:
            request = json.loads(raw) if raw.strip() else {}
            number, at, generation = request.get("correction"), request.get("at"), request.get("generation")
        except (ValueError, TypeError, AttributeError, RecursionError):
            return error_reply(400, EXPECTED_UNDO)
        if not (number is None or type(number) is int) or not all(v is None or isinstance(v, str) for v in (at, generation)):
            return error_reply(400, EXPECTED_UNDO)
        return self._answer(lambda: self.session.take_back(number, at, generation))

    def _learn(self) -> Reply:
        """`sorter learn`'s report as lines of text (the page shows them as text), with what it
        learnt, which the line under the button says: the personal model saved or not, the
        cat/dog/neither corrections learnt or kept for the next learn (learning them would put
        reference pets in the wrong place, say: the report says why), the named pets learnt. An
        error as one line alone, whatever it is: this is the edge, and a traceback would only
        drop the connection."""
        from sorter.learning.folder_names import shown
        from sorter.learning.report import report_lines

        try:
            result = self.session.learn(self.model)
        except ReviewConflict as exc:
            return error_reply(409, str(exc))
        except SorterError as exc:
            return error_reply(409, f"cannot learn: {exc}")
        except OSError as exc:
            return error_reply(500, f"cannot learn: {_file(exc)}: {exc.strerror or exc}")
        except Exception as exc:  # noqa: BLE001 - the edge: one line on the page, never a dropped connection
            return error_reply(500, f"learning failed: {type(exc).__name__}: {exc}")
        saved = result.model_path is not None
        return _json({
            "lines": report_lines(result), "unreadable": result.unreadable, "saved": saved,
            # Learnt where the head saved was pulled by them (`choose_head`), as the report's "not learnt yet" decides.
            "corrections": result.corrections,
            "corrections_learnt": saved and result.corrections > 0 and any(result.pull or ()),
            "pets": [shown(pet.name).partition("/")[2] for pet in result.pets if saved and pet.learnt],
        })

    def _answer(self, change: Callable) -> Reply:
        """`change()`: a click's `Filed`, or `u`'s (the photo it moved back, where it found a file moved
        on since: its `found:` lines). A click's answer numbers its correction, which the page keeps for `u`."""
        try:
            done = change()
        except FolderLocked as exc:
            return error_reply(409, f"busy: {exc}", busy=True)
        except ReviewConflict as exc:  # one `u` cannot take back any more: the page forgets it (`dropped`)
            return error_reply(409, str(exc), **({"dropped": True} if isinstance(exc, TakenBackNoMore) else {}))
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # the disk's state, not a bug: say what to do
                return error_reply(507, f"{_file(exc)}: {exc.strerror}; no photo is lost: make room, "
                              "then reload the page")
            return error_reply(500, f"{_file(exc)}: {exc.strerror or exc}")
        photo, found, correction = (done.photo, [], done.correction) if isinstance(done, Filed) else (*done, None)
        groups = self._groups()
        return _json({"photo": self.session.card(photo), "found": found, "correction": correction,
                      **{k: groups[k] for k in ("groups", "pets", "min_pet_photos")}})
