"""`sorter review DIR`: a local web server for looking through a sort and putting it right.

The standard library's threaded HTTP server: one local user, a page, a few JSON calls and
thumbnails, which a framework would not make shorter. Everything the page needs is served
from the package (app.html, app.js, app.css and app.svg, served as /, /page.js, /page.css and
/page.svg): it works offline.

Security, as for any server a browser can reach:
- it listens on 127.0.0.1 and ::1 only;
- every request carries the session's secret token, in a cookie the first visit sets from
  the URL's `?token=` (then redirected away, so the token leaves the address bar), or gets
  403; the cookie is HttpOnly and SameSite=Strict, named after the port (cookies ignore ports);
- the browser is never given that URL on its command line, which every local user can read
  (`ps`): it opens a file only this user can read, which redirects to it (as Jupyter does);
- the `Host` header must name the loopback address or `localhost` with our port, or 403: a
  DNS-rebinding page on `evil.example` resolving to 127.0.0.1 sends its own name;
- state changes (a correction, taking one back, learning: it writes the personal model) are
  POST only (a GET gets 405) and carry a second secret in an `X-Sorter-Token` header, which
  a cross-site form cannot set and cross-site script cannot send without a CORS preflight we
  never answer; an `Origin` that is not ours is refused. That secret is the page's (written
  into it), never the URL's, and never in a URL: the URL's token, which travels through a
  terminal and a browser's history, is refused in the header, so it cannot be replayed there
  as it is (whoever holds it can still load the page, as its user does);
- photos are named by number in the session's catalog (`/thumb/17`), never by path: no path
  from a request reaches the filesystem, so there is nothing to traverse, and the catalog holds
  only the files sorter lists (no symbolic links, FIFOs or devices); thumbnails are decoded
  and re-encoded, never the user's bytes served as they are;
- the page builds every card with `textContent`, and its Content-Security-Policy allows no
  inline script, so a name like `<img onerror=...>.jpg` is only ever text;
- a request is answered, or refused, with one line: a malformed or absurdly nested body is a
  400, an error nobody foresaw a 500, never a traceback; a client that stops sending is
  dropped after `CLIENT_TIMEOUT`, so it cannot hold a thread for ever.
"""

from __future__ import annotations

import errno
import hmac
import html
import json
import os
import re
import secrets
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sorter.errors import FolderLocked, ReviewConflict, SorterError
from sorter.review.catalog import PAGE
from sorter.review.pet_names import MAX_PET_NAME
from sorter.review.session import Session

#: Thumbnails: the review page's size and quality (2.6 KB each, see `review.JPEG_QUALITY`),
#: at twice the pixels so they are sharp on a high-density screen.
THUMB_PX = 256
THUMB_QUALITY = 70
#: A photo opened on its own: big enough to judge, still a re-encoded copy.
VIEW_PX = 1280
#: A correction's body is `{"id": 17, "to": "neither"}`; a request to learn has none.
MAX_BODY = 1024
#: Seconds a connection may wait on its client, per read or write. A browser on this machine
#: sends a whole request (1 KB at most) in a millisecond, so a wait this long is a client that
#: stopped, or an idle keep-alive connection, which the browser reopens when it needs one
#: (a millisecond on loopback). It bounds the socket only, not an answer: learning may take
#: minutes while the page waits on a connection we do not read.
CLIENT_TIMEOUT = 10.0
#: The page's script, style and icon (a paw: a page that names no icon has the browser ask for
#: /favicon.ico, a 404 in its console at every load).
ASSETS = {"/page.js": ("app.js", "text/javascript"), "/page.css": ("app.css", "text/css"),
          "/page.svg": ("app.svg", "image/svg+xml")}
#: No inline script or style, nothing from elsewhere, no framing.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PHOTO_URL = re.compile(r"/(thumb|view)/(\d{1,9})")
CHOICES = ("cat", "dog", "neither")
EXPECTED = ('expected {"id": NUMBER, "to": "cat" | "dog" | "neither", "generation": "...", "pet": "NAME" (optional), '
            '"at": "PATH" (optional: where the page showed it)}')
POST_PATHS = frozenset({"/api/move", "/api/undo", "/api/learn"})
GET_PATHS = frozenset({"/", "/api/groups", "/api/photos", "/api/learning", *ASSETS})
#: What the browser is given instead of the URL (Jupyter's redirect file): a page that sends
#: it on at once, a link for a browser that runs no script and follows no refresh.
REDIRECT = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url={href}">
<title>sorter review</title></head>
<body><p><a href="{href}">Open sorter's review page</a></p>
<script>location.replace({script})</script></body></html>
"""


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


def _error(status: int, message: str, **more) -> Reply:
    return _json({"error": message, **more}, status)


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
            return _error(403, "this server answers only to 127.0.0.1, [::1] and localhost")
        url = urlsplit(target)
        query = parse_qs(url.query)
        if method == "GET" and url.path == "/" and "token" in query:
            if not self._is(query["token"][0], self.token):
                return _error(403, "wrong token: use the URL `sorter review` printed")
            cookie = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            return Reply(303, b"", "text/plain", (("Location", "/"), ("Set-Cookie", cookie)))
        if not any(self._is(value, self.token) for value in _cookies(headers.get("Cookie") or "", self.cookie)):
            return _error(403, "no token: open the URL `sorter review` printed")
        if method == "POST" and url.path in POST_PATHS:
            origin = headers.get("Origin")
            if not self._is(headers.get("X-Sorter-Token"), self.page_token) or (
                origin is not None and origin not in self.origins
            ):
                return _error(403, "a change needs the page's token")
            if url.path == "/api/move":
                return self._move(body)
            if url.path == "/api/learn":
                reply = self._learn()
                self.learnt = reply.body
                return reply
            return self._answer(self.session.take_back)
        if method == "GET" and url.path not in POST_PATHS:
            return self._get(url.path, query)
        if url.path in POST_PATHS:
            return Reply(405, _error(405, "changes are POST only").body, headers=(("Allow", "POST"),))
        if url.path in GET_PATHS or PHOTO_URL.fullmatch(url.path):
            return Reply(405, _error(405, "GET only").body, headers=(("Allow", "GET"),))
        return _error(404, "not found")

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
                return _error(409, str(exc))
            return _json(self._groups(first_page=True))
        if path == "/api/photos":
            return self._photos(query)
        if path == "/api/learning":  # asked by a tab that says "learning…": once done, what it learnt
            return _json({"learning": self.session.learning, "learnt": json.loads(self.learnt)})
        photo = PHOTO_URL.fullmatch(path)
        if photo is None:
            return _error(404, "not found")
        size = VIEW_PX if photo.group(1) == "view" else THUMB_PX
        if query.get("v", [""])[0] != self.session.catalog.generation:
            return _error(404, "no such photo in this listing: reload the page")
        data = self.session.thumbnail(int(photo.group(2)), size, THUMB_QUALITY)
        if data is None:
            return _error(404, "no preview")
        return Reply(200, data, "image/jpeg", (("Cache-Control", "private, max-age=3600"),))

    def _groups(self, first_page: bool = False) -> dict:
        from sorter.learning.pets import MIN_PET_PHOTOS

        session = self.session
        with session.lock:
            groups = sorted(session.catalog.groups.values(), key=lambda g: g.rank)
            listed = [(g.to_json(), session.catalog.page(g.key) if first_page else []) for g in groups]
            pets = {label: sorted(names, key=str.casefold) for label, names in session.catalog.pets.items()}
        return {
            "folder": str(session.root), "total": len(session.catalog.photos), "videos": session.catalog.videos,
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
                return _error(400, "unknown group or photo")
            cursor = int(after) if after else None
            if cursor is not None and cursor >= len(session.catalog.photos):
                return _error(400, "unknown photo")
            photos = session.catalog.page(key, cursor)
        return _json({"photos": [session.card(p) for p in photos]})

    def _move(self, raw: bytes) -> Reply:
        try:
            request = json.loads(raw)
            photo_id, choice, generation = request["id"], request["to"], request["generation"]
            pet, at = request.get("pet"), request.get("at")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # RecursionError: `[[[[...`, 1 KB deep
            return _error(400, EXPECTED)
        if type(photo_id) is not int or choice not in CHOICES or not isinstance(generation, str) or not (
            pet is None or isinstance(pet, str)
        ) or not (at is None or isinstance(at, str)):
            return _error(400, EXPECTED)
        return self._answer(lambda: (self.session.correct(photo_id, choice, generation, pet, at), []))

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
            return _error(409, str(exc))
        except SorterError as exc:
            return _error(409, f"cannot learn: {exc}")
        except OSError as exc:
            return _error(500, f"cannot learn: {exc.filename or 'the folder'}: {exc.strerror or exc}")
        except Exception as exc:  # noqa: BLE001 - the edge: one line on the page, never a dropped connection
            return _error(500, f"learning failed: {type(exc).__name__}: {exc}")
        saved = result.model_path is not None
        return _json({
            "lines": report_lines(result), "unreadable": result.unreadable, "saved": saved,
            # Learnt where the head saved was pulled by them (`choose_head`), as the report's "not learnt yet" decides.
            "corrections": result.corrections,
            "corrections_learnt": saved and result.corrections > 0 and any(result.pull or ()),
            "pets": [shown(pet.name).partition("/")[2] for pet in result.pets if saved and pet.learnt],
        })

    def _answer(self, change: Callable) -> Reply:
        """`change()`: (the photo it moved, where it found a file moved on since: `u`'s `found:` lines)."""
        try:
            photo, found = change()
        except FolderLocked as exc:
            return _error(409, f"busy: {exc}", busy=True)
        except ReviewConflict as exc:
            return _error(409, str(exc))
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # the disk's state, not a bug: say what to do
                return _error(507, f"{exc.filename or 'the folder'}: {exc.strerror}; no photo is lost: make room, "
                              "then reload the page")
            return _error(500, f"{exc.filename or 'the folder'}: {exc.strerror or exc}")
        groups = self._groups()
        return _json({"photo": self.session.card(photo), "found": found,
                      **{k: groups[k] for k in ("groups", "pets", "min_pet_photos")}})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a page of 100 thumbnails is not 100 connections
    server_version = "sorter-review"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        # Read by StreamRequestHandler.setup, which puts it on the connection. A read that
        # times out (half a request) ends the connection quietly: http.server catches it.
        self.timeout = self.server.client_timeout
        super().setup()

    def _reply(self) -> None:
        method = self.command
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if self.headers.get("Transfer-Encoding") is not None or len(self.headers.get_all("Host") or []) > 1:
            # No browser sends either here; read as http.server reads them, a chunked body would
            # be taken for the next request, and a second Host would go unchecked.
            reply = _error(400, "a chunked body or a second Host header is not accepted")
            self.close_connection = True
        elif 0 <= length <= MAX_BODY:
            # Read whether or not it is used: left unread, it would be taken for the next request.
            body = self.rfile.read(length)
            if len(body) < length:  # the client closed mid-body: no one to answer
                self.close_connection = True
                return
            try:
                reply = self.server.app.handle(method, self.path, self.headers, body)
            except Exception as exc:  # noqa: BLE001 - the edge: one line on the page, never a dropped connection
                reply = _error(500, " ".join(f"{type(exc).__name__}: {exc}".split()))
        else:
            reply = _error(413, "request too large")
            self.close_connection = True
        self._send(reply, body=method != "HEAD")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, too many or too long headers,
        an unsupported method) as one JSON line with every header ours carry, not its HTML page."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        reply = _error(code, message or phrase)
        self._send(reply, body=self.command != "HEAD" and code >= 200 and code not in (204, 304))

    def _send(self, reply: Reply, body: bool = True) -> None:
        self.send_response(reply.status)
        kind = reply.content_type + ("" if reply.content_type == "image/jpeg" else "; charset=utf-8")
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        if not any(name == "Cache-Control" for name, _ in reply.headers):
            self.send_header("Cache-Control", "no-store")
        for name, value in reply.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(reply.body)

    # Every method through `_reply`, which reads it from `self.command`: those the app does not
    # take (PUT, DELETE, ...) get its one-line 405 or 404, never http.server's HTML page.
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _reply  # noqa: N815

    def log_message(self, format: str, *args) -> None:
        pass  # a line per thumbnail is noise; errors reach the page


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: App
    client_timeout: float = CLIENT_TIMEOUT

    def handle_error(self, request, client_address) -> None:
        """What escaped a connection's handler: the client went away mid-answer (a reset, a
        broken pipe: a reload while thumbnails load), which concerns no one, or a bug in
        answering, which is one line on stderr. Never socketserver's traceback."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            print(f"sorter review: {type(exc).__name__}: {exc}", file=sys.stderr)


class _Server6(_Server):
    address_family = socket.AF_INET6


def _listen(port: int) -> list[_Server]:
    """127.0.0.1 on `port` (0: any free one), then ::1 on the same port where this machine has IPv6."""
    try:
        servers: list[_Server] = [_Server(("127.0.0.1", port), _Handler)]
    except OSError as exc:
        raise SorterError(f"cannot listen on 127.0.0.1 port {port}: {exc.strerror or exc}; choose another --port") from None
    try:
        servers.append(_Server6(("::1", servers[0].server_address[1]), _Handler))
    except OSError:
        pass  # no IPv6 loopback here: 127.0.0.1 alone
    return servers


def _redirect_file(url: str) -> Path:
    """A page that redirects to `url`, in a new folder only this user may open (0700, as
    `mkdtemp` makes it), itself readable by this user only (0600): under $XDG_RUNTIME_DIR (a
    per-user tmpfs, emptied at logout) where there is one, else the temporary folder. A
    sandboxed browser that may not read either (a snap's, say) shows an error instead: the
    URL printed first is there for that."""
    import tempfile

    runtime = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(tempfile.mkdtemp(prefix="sorter-review-", dir=runtime if runtime and os.path.isdir(runtime) else None))
    path = folder / "open.html"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as page:
        page.write(REDIRECT.format(href=html.escape(url), script=json.dumps(url)))
    return path


@dataclass(frozen=True)
class Started:
    url: str
    folder: Path
    photos: int  # videos too
    videos: int = 0


def serve(
    root: Path, *, port: int = 0, open_browser: bool = True, model: Path | None = None,
    on_ready: Callable[[Started], None] = lambda started: None, stop: threading.Event | None = None,
    browser: Callable[[str], object] | None = None, client_timeout: float = CLIENT_TIMEOUT,
) -> None:
    """Serve the review page of `root` until `stop` is set (or SIGINT/SIGTERM, when called
    from the main thread without `stop`). `model`: what its Learn button learns on.
    `browser`: what opens a URL (`webbrowser.open` by default); it is given a `file://` URL of
    a redirecting page, never the tokened URL, which is removed when the server stops.
    `client_timeout`: see `CLIENT_TIMEOUT`."""
    from contextlib import nullcontext

    from sorter.model.lite import resolve_model_path
    from sorter.signals import stop_on_signals

    if model is not None:  # refused at once, as sort and learn refuse it: not at the first Learn click
        resolve_model_path(model)
    session = Session(root)
    servers = _listen(port)
    app = App(session, servers[0].server_address[1], model)
    for server in servers:
        server.app = app
        server.client_timeout = client_timeout
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True) for s in servers]
    own_stop = stop is None
    stop = threading.Event() if stop is None else stop
    for thread in threads:
        thread.start()
    redirect: Path | None = None
    try:
        with stop_on_signals(stop) if own_stop else nullcontext():
            on_ready(Started(app.url, session.root, len(session.catalog.photos), session.catalog.videos))
            if open_browser:
                if browser is None:
                    import webbrowser

                    browser = webbrowser.open
                redirect = _redirect_file(app.url)
                threading.Thread(target=browser, args=(redirect.as_uri(),), daemon=True).start()
            while not stop.is_set():
                time.sleep(0.1)  # polled, not waited on: see signals.stop_on_signals
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
        session.close()
        if redirect is not None:
            shutil.rmtree(redirect.parent, ignore_errors=True)
