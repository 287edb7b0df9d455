"""`sorter review DIR`: a local web server for looking through a sort and putting it right.

The standard library's threaded HTTP server: one local user, a page, a few JSON calls and
thumbnails, which a framework would not make shorter. Everything the page needs is served
from the package (app.html, app.js, app_keys.js, app_take_back.js, app.css and app.svg, served
as /, /page.js, /keys.js, /take-back.js, /page.css and /page.svg): it works offline. What it
answers, and the checks each request passes first, is `app`'s; this module is HTTP itself:
listening, reading a request, the headers of every answer, the file the browser is given
instead of the URL.

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

import html
import json
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from sorter.config import as_shown
from sorter.errors import SorterError
from sorter.review.app import App, Reply, error_reply
from sorter.review.session import Session

if TYPE_CHECKING:
    from sorter.media.folders import NotEntered

#: A correction's body is `{"id": 17, "to": "neither"}`; a request to learn has none.
MAX_BODY = 1024
#: Seconds a connection may wait on its client, per read or write. A browser on this machine
#: sends a whole request (1 KB at most) in a millisecond, so a wait this long is a client that
#: stopped, or an idle keep-alive connection, which the browser reopens when it needs one
#: (a millisecond on loopback). It bounds the socket only, not an answer: learning may take
#: minutes while the page waits on a connection we do not read.
CLIENT_TIMEOUT = 10.0
#: No inline script or style, nothing from elsewhere, no framing.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
#: What the browser is given instead of the URL (Jupyter's redirect file): a page that sends
#: it on at once, a link for a browser that runs no script and follows no refresh.
REDIRECT = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url={href}">
<title>sorter review</title></head>
<body><p><a href="{href}">Open sorter's review page</a></p>
<script>location.replace({script})</script></body></html>
"""



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
            reply = error_reply(400, "a chunked body or a second Host header is not accepted")
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
                reply = error_reply(500, " ".join(f"{type(exc).__name__}: {exc}".split()))
        else:
            reply = error_reply(413, "request too large")
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
        reply = error_reply(code, message or phrase)
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
            print(as_shown(f"sorter review: {type(exc).__name__}: {exc}"), file=sys.stderr)


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
    #: The sub-folders it did not look into (`loading.Unshown`), which `sort --recursive` would sort.
    not_entered: NotEntered | None = None


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
            on_ready(Started(app.url, session.root, len(session.catalog.photos), session.catalog.videos,
                             session.catalog.not_entered))
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
