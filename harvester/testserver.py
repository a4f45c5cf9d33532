"""A loopback HTTP server over a folder of fixtures, for ``harvester demo`` and the tests.

Standard library only: :class:`http.server.ThreadingHTTPServer` in a daemon thread, bound
to ``127.0.0.1`` on a free port. It never listens anywhere else and never fetches anything.

What it does, per request::

    path -> override set by a test? (delay; forced status; redirect; extra headers)
         -> file under root (index.html for a folder; nothing outside root)
         -> text files: the token ``http://harvester.test`` becomes the real base URL
         -> ETag (hash of the served bytes) + Last-Modified (file mtime)
         -> If-None-Match / If-Modified-Since match? 304 : 200

and it records every request (method, path, headers, time, status) in a thread-safe
list, and the highest number of requests in flight at once per ``Host`` header.

    with FixtureServer(Path("fixtures/site")) as srv:
        srv.url("/feeds/rss.xml")               # http://127.0.0.1:PORT/feeds/rss.xml
        srv.set_status("/feeds/rss.xml", [500, 500])   # then served normally again
        srv.set_headers("/feeds/rss.xml", {"Retry-After": "3600"})
        srv.set_delay("/pages/", 0.3)           # a path ending in "/" covers all below it
        srv.set_redirect("/old.xml", "/feeds/rss.xml")
        srv.set_changed("/feeds/rss.xml")       # never 304, as if the feed had changed
        srv.requests_for("/feeds/rss.xml")      # what it was asked, and what it answered
        srv.max_concurrency()                   # most requests in flight at once (this host)

Run ``python -m harvester.testserver [ROOT]`` to browse a fixture folder by hand.
"""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

TOKEN = "http://harvester.test"
TEXT_SUFFIXES = {".xml", ".rss", ".rdf", ".atom", ".json", ".html", ".htm", ".txt"}
CONTENT_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".rdf": "application/rdf+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # path and query as requested
    headers: dict[str, str]  # header names lowercased
    time: float  # time.monotonic() at arrival
    status: int = 0  # what was answered (filled when the answer is sent)


@dataclass
class Override:
    statuses: list[int] = field(default_factory=list)  # consumed one per request; then 200
    headers: dict[str, str] = field(default_factory=dict)  # added to every answer
    delay: float = 0.0  # seconds before answering
    slow: float = 0.0  # seconds between body chunks ("slow mode")
    location: str | None = None  # answer 301 to this URL path (a moved feed or page)
    changed: bool = False  # never 304: as if the content changed since the client's copy


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-answer (a timeout, a cancelled fetch) is normal here:
        no traceback on stderr, where it would mix with the output under test."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FixtureServer:
    """Serve ``root`` on ``http://127.0.0.1:PORT``; see the module docstring."""

    def __init__(self, root: Path, *, port: int = 0) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"no fixture folder at {self.root}")
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._overrides: dict[str, Override] = {}
        self._in_flight: dict[str, int] = {}
        self._max_in_flight: dict[str, int] = {}
        self._httpd = _QuietServer(("127.0.0.1", port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ life cycle

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def start(self) -> "FixtureServer":
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, name="fixture-server", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "FixtureServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ overrides (set by tests)

    def _override(self, path: str) -> Override:
        with self._lock:
            return self._overrides.setdefault(path, Override())

    def set_status(self, path: str, statuses: list[int]) -> None:
        """Answer the next requests for PATH with these statuses in turn, then serve normally."""
        self._override(path).statuses[:] = list(statuses)

    def set_headers(self, path: str, headers: dict[str, str]) -> None:
        self._override(path).headers.update(headers)

    def set_delay(self, path: str, seconds: float) -> None:
        """Wait SECONDS before answering PATH (a path ending in "/" covers everything under it)."""
        self._override(path).delay = seconds

    def set_redirect(self, path: str, target: str) -> None:
        """Answer every request for PATH with 301 to TARGET (a path on this server)."""
        self._override(path).location = target

    def set_changed(self, path: str) -> None:
        """Answer 200 to PATH even when the client's validators match (its content changed)."""
        self._override(path).changed = True

    def set_slow(self, path: str, seconds_per_chunk: float) -> None:
        """Send the body of PATH in small chunks, SECONDS apart."""
        self._override(path).slow = seconds_per_chunk

    def clear_overrides(self) -> None:
        with self._lock:
            self._overrides.clear()

    def _match(self, path: str) -> tuple[Override | None, int | None]:
        """The override for PATH (prefixes merged, the exact path last) and a status to force."""
        with self._lock:
            keys = sorted((p for p in self._overrides if p.endswith("/") and path.startswith(p)), key=len)
            if path in self._overrides:
                keys.append(path)
            if not keys:
                return None, None
            merged = Override()
            for key in keys:  # the more specific wins
                o = self._overrides[key]
                merged.headers.update(o.headers)
                merged.delay = o.delay or merged.delay
                merged.slow = o.slow or merged.slow
                merged.location = o.location or merged.location
                merged.changed = o.changed or merged.changed
            status = None
            for key in reversed(keys):
                if self._overrides[key].statuses:
                    status = self._overrides[key].statuses.pop(0)
                    break
            return merged, status

    # ------------------------------------------------------------ what the server saw

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, path: str) -> list[Request]:
        """Requests whose path (without query) is PATH, or starts with it when PATH ends in "/"."""
        def hit(r: Request) -> bool:
            p = urlsplit(r.path).path
            return p.startswith(path) if path.endswith("/") else p == path

        return [r for r in self.requests if hit(r)]

    def max_concurrency(self, host: str | None = None) -> int:
        """The most requests in flight at once for HOST (default: the server's own host:port)."""
        with self._lock:
            return self._max_in_flight.get(host or f"127.0.0.1:{self.port}", 0)

    def reset_log(self) -> None:
        with self._lock:
            self._requests.clear()
            self._max_in_flight.clear()

    # ------------------------------------------------------------ called by the handler

    def _enter(self, host: str) -> None:
        with self._lock:
            n = self._in_flight.get(host, 0) + 1
            self._in_flight[host] = n
            self._max_in_flight[host] = max(self._max_in_flight.get(host, 0), n)

    def _leave(self, host: str) -> None:
        with self._lock:
            self._in_flight[host] -= 1

    def _record(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)

    def _file(self, path: str) -> Path | None:
        rel = unquote(urlsplit(path).path).lstrip("/")
        target = (self.root / rel).resolve()
        if target != self.root and self.root not in target.parents:
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def _body(self, file: Path) -> bytes:
        data = file.read_bytes()
        if file.suffix.lower() in TEXT_SUFFIXES or file.name == "robots.txt":
            data = data.replace(TOKEN.encode(), self.base_url.encode())
        return data


def content_type(file: Path) -> str:
    return CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")


def _make_handler(server: FixtureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "harvester-fixtures/1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
            pass

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_GET(self) -> None:
            self._serve(head=False)

        def _serve(self, *, head: bool) -> None:
            arrived = time.monotonic()
            host = self.headers.get("Host", "")
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = urlsplit(self.path).path
            server._enter(host)
            status = 0
            try:
                override, forced = server._match(path)
                if override and override.delay:
                    time.sleep(override.delay)
                status = self._answer(path, headers, override, forced, head)
            except (BrokenPipeError, ConnectionResetError):
                status = status or 499
            finally:
                server._leave(host)
                server._record(Request(self.command, self.path, headers, arrived, status))

        def _answer(self, path: str, headers: dict[str, str], override: Override | None,
                    forced: int | None, head: bool) -> int:  # fmt: skip
            extra = override.headers if override else {}
            if override and override.location and forced is None:
                self._send(301, b"301 Moved Permanently\n", "text/plain; charset=utf-8",
                           {**extra, "Location": server.url(override.location)}, head)  # fmt: skip
                return 301
            if forced is not None and forced != 200:
                body = f"{forced} {HTTPStatus(forced).phrase}\n".encode()
                self._send(forced, body, "text/plain; charset=utf-8", extra, head)
                return forced
            file = server._file(path)
            if file is None:
                self._send(404, b"404 Not Found\n", "text/plain; charset=utf-8", extra, head)
                return 404
            body = server._body(file)
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            mtime = int(file.stat().st_mtime)
            validators = {"ETag": etag, "Last-Modified": email.utils.formatdate(mtime, usegmt=True)}
            if _not_modified(headers, etag, mtime) and not (override and override.changed):
                self._send(304, b"", None, {**validators, **extra}, head=True)
                return 304
            self._send(200, body, content_type(file), {**validators, **extra}, head,
                       slow=override.slow if override else 0.0)  # fmt: skip
            return 200

        def _send(self, status: int, body: bytes, ctype: str | None, extra: dict[str, str], head: bool,
                  slow: float = 0.0) -> None:  # fmt: skip
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for name, value in extra.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if head or not body:
                return
            if slow:
                for i in range(0, len(body), 512):
                    self.wfile.write(body[i : i + 512])
                    self.wfile.flush()
                    time.sleep(slow)
            else:
                self.wfile.write(body)

    return Handler


def _not_modified(headers: dict[str, str], etag: str, mtime: int) -> bool:
    """RFC 9110 13.1: If-None-Match wins when present; else If-Modified-Since."""
    inm = headers.get("if-none-match")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    ims = headers.get("if-modified-since")
    if ims:
        try:
            since = email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return mtime <= since
    return False


def main(argv: list[str] | None = None) -> int:
    """``python -m harvester.testserver [ROOT]``: serve a fixture folder until Ctrl-C."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "fixtures" / "site"
    with FixtureServer(root) as srv:
        print(f"serving {root} on {srv.base_url}/ (Ctrl-C to stop)", file=sys.stderr)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
