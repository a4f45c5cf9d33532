#!/usr/bin/env python3
"""The fault-injection run: ``harvester poll`` over 50 loopback feeds, 20 of which misbehave.

One server on 127.0.0.1 (:class:`FaultServer`, a ``tests/hostile.py`` Loopback that also
sees request headers and times every connection) serves

* 30 healthy RSS 2.0 feeds (four with two entries) linking real article pages from
  ``fixtures/pages/`` served as text/html, each feed with an ETag for the 304 on the next poll;
* 16 feeds that misbehave at the feed level: gzip bomb, 1-byte drip past the deadline, silent
  server, endless chunked body, ``Content-Length: 5 GB``, redirect loop, redirect to
  ``file:///etc/passwd``, 500, 429 with ``Retry-After: 120``, 503 with a garbage Retry-After,
  an HTML page, an empty 200 body, a truncated body, ``Content-Encoding: br``, connection
  refused (a bound, never-listening loopback port) and billion laughs (which may succeed);
* 4 feeds whose second entry misbehaves at the article level: a PDF, 100k nested divs
  (extraction timeout; kept from the feed summary with an ``extraction_error`` warning), a
  gzip bomb, and a 1-byte drip.

``python bench/faults.py [--json OUT]`` runs ``harvester poll -c CONFIG --log-format json``
in a subprocess (the same CLI cron runs; a fence in the child makes any connect or name
lookup beyond loopback an error) on an empty state, sampling the RSS of the whole process
tree (poller, forkserver, extraction workers) every 50 ms, then a second poll right after.
It prints: feeds, healthy records expected vs written, every failure named (grouped by
kind, checked against the expected table), the exit code, peak memory of the tree (the sum
of VmRSS, which counts the pages workers share with the forkserver once per process, and
the sum of PSS, which counts them once), the slowest fetch and extraction against their
limits (timed inside the child) and the slowest connection as the server saw it, the wall
time; then for the second poll: healthy feeds answered 304, broken feeds not asked again
(backed off), nothing rewritten. It ends with a verdict per claim and exits 1 if one fails.

``tests/test_faults.py`` imports :func:`fault_site` and :func:`write_config` from here and
asserts the same run's correctness (no timing or memory assertions).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS = REPO_ROOT / "tests"
PAGES = REPO_ROOT / "fixtures" / "pages"
FEED_FIXTURES = REPO_ROOT / "fixtures" / "feeds"
for folder in (TESTS, Path(__file__).resolve().parent):  # tests/hostile.py; bench/aeb.py (also when loaded by path)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from aeb import proc_kib  # noqa: E402
from hostile import Loopback, endless_chunked, gzip_bomb, head, raw, redirect, reply, truncated  # noqa: E402

MiB = 1024 * 1024
SETTINGS = {
    "allow_private_addresses": True,  # 127.0.0.1 is a private address
    "robots": "ignore",
    "per_host_delay": 0.0,
    "per_host_concurrency": 64,  # every feed shares the host 127.0.0.1
    "concurrency": 64,
    "connect_timeout": 1.0,
    "read_timeout": 1.0,
    "deadline": 3.0,
    "max_body_bytes": 2 * MiB,
    "extract_timeout": 3.0,
    "workers": 2,
    "interval": 0.0,
}
RSS_BOUND_MB = 300.0
SAMPLE_EVERY = 0.05
HEALTHY_FEEDS = 30
TWO_ENTRY_FEEDS = 4  # the first four healthy feeds have two entries
# A healthy page left out: its date is found only by htmldate's dateparser fallback, which
# costs ~3.5 s the first time in each (cold) worker, over this run's 3 s extraction limit.
LEFT_OUT_PAGES = {"original-placeholder-jsonld-date"}
PUB_DATE = "Wed, 20 Nov 2024 08:00:00 GMT"
LAST_MODIFIED = "Wed, 20 Nov 2024 08:00:00 GMT"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" + b"%" + b"x" * 2000 + b"\n%%EOF\n"


@dataclass(frozen=True)
class Fault:
    name: str
    level: str  # "feed": the feed URL fails; "article": its second entry's page fails
    stage: str | None  # the failure expected in the summary (None: the feed succeeds)
    kind: str | None
    what: str


FAULTS = (
    Fault("gzip-bomb", "feed", "fetch", "body_too_large", "1 MiB gzip of 1 GiB of zeros"),
    Fault("drip", "feed", "fetch", "timeout", "headers, then 1 byte per 0.2 s, past the deadline"),
    Fault("silent", "feed", "fetch", "read_timeout", "accepts, reads the request, says nothing"),
    Fault("endless-chunked", "feed", "fetch", "body_too_large", "chunked body that never ends"),
    Fault("content-length-5gb", "feed", "fetch", "body_too_large", "Content-Length: 5000000000"),
    Fault("redirect-loop", "feed", "fetch", "too_many_redirects", "302 A -> B -> A ..."),
    Fault("redirect-file", "feed", "fetch", "unsupported_scheme", "302 to file:///etc/passwd"),
    Fault("http-500", "feed", "fetch", "http_status", "500"),
    Fault("http-429", "feed", "fetch", "http_status", "429, Retry-After: 120"),
    Fault("http-503-garbage", "feed", "fetch", "http_status", "503, Retry-After: soon-ish"),
    Fault("html-not-feed", "feed", "parse", "not_a_feed", "a site's home page where the feed was"),
    Fault("empty-body", "feed", "parse", "empty_body", "200 with an empty body"),
    Fault("truncated", "feed", "fetch", "truncated_body", "Content-Length 100, 50 bytes, close"),
    Fault("brotli", "feed", "fetch", "unsupported_encoding", "Content-Encoding: br (not asked for)"),
    Fault("connection-refused", "feed", "fetch", "connect_failed", "a bound loopback port that never listens"),
    Fault("billion-laughs", "feed", None, None, "entity-expansion bomb in the DTD; may succeed"),
    Fault("article-pdf", "article", "fetch", "unsupported_content_type", "article is application/pdf"),
    Fault("article-nested-divs", "article", "extract", "timeout", "100k nested divs; feed item has a summary"),
    Fault("article-gzip-bomb", "article", "fetch", "body_too_large", "article is a gzip bomb"),
    Fault("article-drip", "article", "fetch", "timeout", "article drips 1 byte per 0.2 s"),
)
KEPT_FROM_SUMMARY = {"article-nested-divs"}  # failed, yet a record is written from the feed item


# --- the server -----------------------------------------------------------------


@dataclass
class Hit:
    """One connection as the server saw it: from the request to the client's hang-up."""

    path: str
    started: float  # time.monotonic()
    ended: float
    note: str  # what a feed route answered ("200" / "304"), else ""
    headers: dict[str, str]

    @property
    def seconds(self) -> float:
        return self.ended - self.started


class FaultServer(Loopback):
    """A hostile.Loopback whose routes may read the request headers (``route.wants_headers``)
    and whose log times each connection from the request to its close. Routes that keep a
    connection open (drip, silent, huge_length below) return when the client hangs up, so
    for them that is the client's own give-up time."""

    def __init__(self, routes: dict) -> None:
        self.log: list[Hit] = []
        self._log_lock = threading.Lock()
        super().__init__(routes)

    def _serve(self, conn: socket.socket) -> None:
        path, headers, note = "", {}, ""
        started = time.monotonic()
        try:
            path, headers = _read_head(conn)
            started = time.monotonic()
            self.hits[path] += 1
            route = self.routes.get(path, reply(404, b"not here"))
            note = (route(conn, self.stop, headers) if getattr(route, "wants_headers", False)
                    else route(conn, self.stop)) or ""  # fmt: skip
        except OSError:
            pass  # the client hung up mid-answer: what most faults are for
        finally:
            conn.close()
            with self._log_lock:
                self.log.append(Hit(path, started, time.monotonic(), note, headers))

    def hits_since(self, mark: int) -> list[Hit]:
        with self._log_lock:
            return list(self.log[mark:])


def _read_head(conn: socket.socket) -> tuple[str, dict[str, str]]:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return (parts[1] if len(parts) >= 3 else ""), headers


def _await_hangup(conn: socket.socket, stop: threading.Event, limit: float = 15.0) -> None:
    """Return when the client closes the connection (or after LIMIT seconds)."""
    end = time.monotonic() + limit
    while not stop.is_set() and time.monotonic() < end:
        readable, _, _ = select.select([conn], [], [], SAMPLE_EVERY)
        if readable and not conn.recv(65536):
            return


def drip(every: float = 0.2) -> Callable:
    """hostile.drip, but it notices the client hanging up at once (for the latency log)."""

    def route(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head(200, {"Content-Type": "application/rss+xml", "Content-Length": "1000000"}))
        while not stop.is_set():
            readable, _, _ = select.select([conn], [], [], every)
            if readable and not conn.recv(65536):
                return
            conn.sendall(b"x")

    return route


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """hostile.silent, returning when the client gives up."""
    _await_hangup(conn, stop)


def huge_length(conn: socket.socket, stop: threading.Event) -> None:
    """hostile.huge_length (5 GB promised, 1 KiB sent, silence), returning when the client gives up."""
    conn.sendall(head(200, {"Content-Type": "application/rss+xml", "Content-Length": str(5 * 10**9)}) + b"a" * 1024)
    _await_hangup(conn, stop)


def conditional(body: bytes, etag: str, content_type: str = "application/rss+xml; charset=utf-8") -> Callable:
    """A feed with validators: 304 when the client sends the ETag back, else 200."""

    def route(conn: socket.socket, stop: threading.Event, headers: dict[str, str]) -> str:
        if headers.get("if-none-match") == etag:
            conn.sendall(head(304, {"ETag": etag, "Last-Modified": LAST_MODIFIED, "Connection": "close"}))
            return "304"
        conn.sendall(head(200, {"Content-Type": content_type, "Content-Length": str(len(body)), "ETag": etag,
                                "Last-Modified": LAST_MODIFIED, "Connection": "close"}) + body)  # fmt: skip
        return "200"

    route.wants_headers = True  # type: ignore[attr-defined]
    return route


# --- the site ---------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPlan:
    url: str
    fault: str | None  # None: a healthy feed
    articles: tuple[str, ...]  # the URLs its entries link to, in order


@dataclass
class Site:
    server: FaultServer
    base: str
    feeds: list[FeedPlan]
    healthy: dict[str, str]  # article URL -> feed URL: a record is expected for each
    kept: dict[str, str]  # article URL -> feed URL: failed extraction, record from the feed summary
    expected_failures: dict[str, tuple[str, str]]  # URL -> (stage, kind): the table
    fault_urls: dict[str, str]  # fault name -> the URL its failure names
    settings: dict = field(default_factory=lambda: dict(SETTINGS))

    def feed(self, fault: str | None) -> FeedPlan:
        return next(f for f in self.feeds if f.fault == fault)

    @property
    def healthy_feeds(self) -> list[FeedPlan]:
        return [f for f in self.feeds if f.fault is None]

    @property
    def broken_feeds(self) -> list[FeedPlan]:
        """Feeds whose own fetch or parse fails (they back off)."""
        levels = {f.name: f for f in FAULTS}
        return [f for f in self.feeds if f.fault and levels[f.fault].level == "feed" and levels[f.fault].kind]


def healthy_pages(count: int) -> list[Path]:
    pages = [p for p in sorted(PAGES.glob("*.html")) if p.stem not in LEFT_OUT_PAGES]
    if len(pages) < count:
        raise SystemExit(f"need {count} fixture pages in {PAGES}, found {len(pages)}")
    return pages[:count]


def _page_title(page: bytes, fallback: str) -> str:
    found = re.search(rb"<title[^>]*>(.*?)</title>", page, re.S | re.I)
    title = html.unescape(found.group(1).decode("utf-8", "replace")).strip() if found else ""
    return " ".join(title.split()) or fallback


def rss(title: str, link: str, items: list[tuple[str, str, str]]) -> bytes:
    """RSS 2.0 with ITEMS as (title, link, description)."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link><guid>{escape(u)}</guid>"
        f"<pubDate>{PUB_DATE}</pubDate><description>{escape(d)}</description></item>\n"
        for t, u, d in items
    )
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>{escape(link)}</link><description>{escape(title)}</description>\n{body}</channel></rss>\n"
            ).encode("utf-8")  # fmt: skip


def nested_divs(depth: int = 100_000) -> bytes:
    return (b"<!DOCTYPE html><html><head><title>Deep page</title></head><body>"
            + b"<div>" * depth + b"deep" + b"</div>" * depth + b"</body></html>")  # fmt: skip


def build_site(server: FaultServer, routes: dict, dead_port: int) -> Site:
    base = server.url("")
    needed = HEALTHY_FEEDS + TWO_ENTRY_FEEDS + 2 + sum(f.level == "article" for f in FAULTS)
    pages = iter(healthy_pages(needed))
    feeds: list[FeedPlan] = []
    healthy: dict[str, str] = {}
    kept: dict[str, str] = {}
    expected: dict[str, tuple[str, str]] = {}
    fault_urls: dict[str, str] = {}

    def article() -> tuple[str, str, str]:
        page = next(pages)
        path = f"/a/{page.stem}.html"
        body = page.read_bytes()
        routes[path] = reply(200, body, {"Content-Type": "text/html"})
        title = _page_title(body, page.stem)
        return title, base + path, f"{title}. The full story is on the page."

    def serve_feed(path: str, items: list[tuple[str, str, str]], name: str) -> str:
        routes[path] = conditional(rss(name, base + "/", items), etag=f'"{path}-v1"')
        return base + path

    for n in range(1, HEALTHY_FEEDS + 1):
        items = [article() for _ in range(2 if n <= TWO_ENTRY_FEEDS else 1)]
        url = serve_feed(f"/feeds/healthy-{n:02}.xml", items, f"Healthy feed {n}")
        feeds.append(FeedPlan(url, None, tuple(link for _, link, _ in items)))
        healthy.update({link: url for _, link, _ in items})

    bomb = gzip_bomb()
    rss_type, text = {"Content-Type": "application/rss+xml"}, {"Content-Type": "text/plain"}
    closing = {"Connection": "close"}  # the server answers one request per connection
    feed_routes = {
        "gzip-bomb": raw(200, bomb, {**rss_type, "Content-Encoding": "gzip", **closing}),
        "drip": drip(0.2),
        "silent": silent,
        "endless-chunked": endless_chunked,
        "content-length-5gb": huge_length,
        "redirect-loop": redirect(base + "/feeds/redirect-loop-b.xml"),
        "redirect-file": redirect("file:///etc/passwd"),
        "http-500": reply(500, b"Internal Server Error", text),
        "http-429": reply(429, b"Too Many Requests", {**text, "Retry-After": "120"}),
        "http-503-garbage": reply(503, b"Service Unavailable", {**text, "Retry-After": "soon-ish"}),
        "html-not-feed": reply(200, (FEED_FIXTURES / "html-not-feed.html").read_bytes(), {"Content-Type": "text/html"}),
        "empty-body": reply(200, b"", rss_type),
        "truncated": truncated,
        "brotli": raw(200, bytes(range(256)) * 4, {**rss_type, "Content-Encoding": "br", **closing}),
    }
    routes["/feeds/redirect-loop-b.xml"] = redirect(base + "/feeds/redirect-loop.xml")
    article_routes = {
        "article-pdf": ("/a/report.pdf", reply(200, PDF, {"Content-Type": "application/pdf"})),
        "article-nested-divs": ("/a/nested-divs.html", reply(200, nested_divs(), {"Content-Type": "text/html"})),
        "article-gzip-bomb": ("/a/gzip-bomb.html", raw(200, bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip",
                                                                   **closing})),
        "article-drip": ("/a/drip.html", drip(0.2)),
    }  # fmt: skip

    for fault in FAULTS:
        path = f"/feeds/{fault.name}.xml"
        if fault.name == "connection-refused":
            url, links = f"http://127.0.0.1:{dead_port}{path}", ()
        elif fault.name == "billion-laughs":
            items = [article(), article()]
            text = (FEED_FIXTURES / "billion-laughs.xml").read_text("utf-8")
            text = text.replace("https://laughs.example.com/1", items[0][1]).replace("https://laughs.example.com/2", items[1][1])
            text = text.replace("https://laughs.example.com/", base + "/")  # nothing may point off loopback
            routes[path] = conditional(text.encode("utf-8"), etag=f'"{path}-v1"')
            url, links = base + path, tuple(link for _, link, _ in items)
            healthy.update({link: url for link in links})
        elif fault.level == "feed":
            routes[path] = feed_routes[fault.name]
            url, links = base + path, ()
        else:
            good = article()
            bad_path, route = article_routes[fault.name]
            routes[bad_path] = route
            bad = ("A harbour reopens after two years of repairs", base + bad_path,
                   "The old harbour reopened on Monday after two years of repairs to its stone walls; "
                   "fishermen who had moved their boats to the next town said they were glad to be home.")  # fmt: skip
            url = serve_feed(path, [good, bad], f"Feed with a broken article: {fault.name}")
            links = (good[1], bad[1])
            healthy[good[1]] = url
            if fault.name in KEPT_FROM_SUMMARY:
                kept[bad[1]] = url
        feeds.append(FeedPlan(url, fault.name, links))
        if fault.kind:
            named = url if fault.level == "feed" else links[-1]
            fault_urls[fault.name] = named
            expected[named] = (fault.stage, fault.kind)
    return Site(server, base, feeds, healthy, kept, expected, fault_urls)


@contextmanager
def fault_site() -> Iterator[Site]:
    """The 50-feed site on a fresh loopback port; closed (handlers freed) on exit."""
    routes: dict = {}
    dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    dead.bind(("127.0.0.1", 0))  # bound but never listening: connecting is refused
    try:
        with FaultServer(routes) as server:
            yield build_site(server, routes, dead.getsockname()[1])
    finally:
        dead.close()


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def write_config(site: Site, workdir: Path, feeds: list[FeedPlan] | None = None, **overrides) -> Path:
    """WORKDIR/config.toml polling FEEDS (default: all of SITE's), output and state under WORKDIR."""
    settings = {"output_dir": str(workdir / "out"), "state_path": str(workdir / "state.db"), **site.settings, **overrides}
    lines = ["[harvester]"] + [f"{k} = {_toml(v)}" for k, v in settings.items()]
    for feed in site.feeds if feeds is None else feeds:
        lines += ["", "[[feeds]]", f"url = {_toml(feed.url)}", f"name = {_toml(feed.fault or 'healthy')}"]
    path = workdir / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- reading the results (shared with the test) ------------------------------------

FAILURE = re.compile(r"^(?P<stage>\w+): (?P<kind>\w+): (?P<message>.*) \[(?P<url>[^\]]*)\]$")


def parse_failure(line: str) -> dict[str, str] | None:
    """``stage: kind: message [url]`` -> its parts (None if the line has another shape)."""
    found = FAILURE.match(line)
    return found.groupdict() if found else None


def read_outputs(out: Path) -> dict[str, dict]:
    """File name -> parsed record, for every file in OUT (raises on invalid JSON)."""
    if not out.is_dir():
        return {}
    return {p.name: json.loads(p.read_text("utf-8")) for p in sorted(out.iterdir()) if p.is_file()}


def snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(out.iterdir())} if out.is_dir() else {}


# --- the benchmark: a subprocess poll, its process tree sampled ----------------------

CHILD = r"""
import json, queue, socket, sys, threading, time
# Fence: nothing but loopback, no name lookups (an AssertionError would crash the poll, loudly).
_LOOPBACK = ("127.0.0.1", "::1")
_connect, _connect_ex, _lookup = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
def _check(address):
    if isinstance(address, tuple) and address[0] not in _LOOPBACK:
        raise AssertionError(f"fault run tried to connect to {address}")
def _is_ip(name):
    import ipaddress
    try:
        ipaddress.ip_address(name.split("%")[0])
        return True
    except ValueError:
        return False
def _getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name not in (None, "localhost") and not _is_ip(name):
        raise AssertionError(f"fault run tried to look up {host!r}")
    return _lookup(host, *args, **kwargs)
socket.socket.connect = lambda s, a: (_check(a), _connect(s, a))[1]
socket.socket.connect_ex = lambda s, a: (_check(a), _connect_ex(s, a))[1]
socket.getaddrinfo = _getaddrinfo

# Per-item latency: every Fetcher.get (redirects included) and every extraction, timed
# from the moment a worker is free (queueing for one is not the page's fault).
from harvester import fetch, workers
TIMINGS = []
_get = fetch.Fetcher.get
async def get(self, url, **kwargs):
    started, outcome = time.monotonic(), "ok"
    try:
        return await _get(self, url, **kwargs)
    except BaseException as exc:
        outcome = getattr(exc, "kind", type(exc).__name__)
        raise
    finally:
        TIMINGS.append({"what": "fetch", "url": url, "seconds": time.monotonic() - started, "outcome": outcome})
fetch.Fetcher.get = get
_local = threading.local()
class _TimedQueue(queue.Queue):
    def get(self, *args, **kwargs):
        item = super().get(*args, **kwargs)
        _local.started = time.monotonic()
        return item
_init, _run = workers.WorkerPool.__init__, workers.WorkerPool.run
def init(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    timed = _TimedQueue()
    while not self._idle.empty():
        timed.put(self._idle.get_nowait())
    self._idle = timed
def run(self, page):
    outcome = "ok"
    try:
        return _run(self, page)
    except BaseException as exc:
        outcome = getattr(exc, "kind", type(exc).__name__)
        raise
    finally:
        TIMINGS.append({"what": "extract", "url": page.url, "outcome": outcome,
                        "seconds": time.monotonic() - getattr(_local, "started", time.monotonic())})
workers.WorkerPool.__init__, workers.WorkerPool.run = init, run

from harvester.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as fh:
    json.dump(TIMINGS, fh)
sys.exit(code)
"""


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for task in tasks:
        try:
            kids += [int(k) for k in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return kids


def _role(pid: int, depth: int) -> str:
    """poller (depth 0); its children: forkserver, resource tracker; the forkserver's: workers."""
    if depth == 0:
        return "poller"
    if depth >= 2:
        return "worker"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "child"
    return "forkserver" if b"forkserver" in cmd else "resource tracker" if b"resource_tracker" in cmd else "child"


def tree(root: int) -> dict[int, int]:
    """ROOT and all its descendants (pid -> depth), walking /proc/<pid>/task/*/children."""
    todo, seen = [(root, 0)], {}
    while todo:
        pid, depth = todo.pop()
        if pid not in seen:
            seen[pid] = depth
            todo += [(kid, depth + 1) for kid in _children(pid)]
    return seen


@dataclass
class PollRun:
    code: int
    wall: float
    peak_tree_kib: int  # highest sum of VmRSS over the tree at one sample
    peak_tree_pss_kib: int  # highest sum of PSS at one sample (shared pages counted once)
    peak_main_kib: int
    peak_processes: int
    samples: int
    per_process: dict[str, int]  # role (pid) -> its highest VmRSS seen
    failures: list[dict]  # the JSON log lines that carry a "kind"
    log: list[str]  # every stderr line
    timings: list[dict]


def run_poll(config: Path, workdir: Path, label: str) -> PollRun:
    timings_path = workdir / f"timings-{label}.json"
    cmd = [sys.executable, "-c", CHILD, str(timings_path), "poll", "-c", str(config), "--log-format", "json"]
    peak = {"tree": 0, "pss": 0, "main": 0, "procs": 0, "samples": 0}
    per_process: dict[str, int] = {}
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def sample() -> None:
        while proc.poll() is None:
            pids = tree(proc.pid)
            rss = {pid: proc_kib(pid, "status", "VmRSS") for pid in pids}
            pss = sum(proc_kib(pid, "smaps_rollup", "Pss") for pid in pids)  # shared pages split among sharers
            for pid, kib in rss.items():
                if kib:
                    key = f"{_role(pid, pids[pid])} {pid}"
                    per_process[key] = max(per_process.get(key, 0), kib)
            peak["tree"], peak["pss"] = max(peak["tree"], sum(rss.values())), max(peak["pss"], pss)
            peak["main"], peak["procs"] = max(peak["main"], rss.get(proc.pid, 0)), max(peak["procs"], len(pids))
            peak["samples"] += 1
            time.sleep(SAMPLE_EVERY)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate(timeout=300)
    wall = time.monotonic() - started
    sampler.join()
    lines = stderr.splitlines()
    failures = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "kind" in entry:
            failures.append(entry)
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else []
    return PollRun(proc.returncode, wall, peak["tree"], peak["pss"], peak["main"], peak["procs"], peak["samples"],
                   per_process, failures, lines, timings)  # fmt: skip


def _short(url: str, site: Site) -> str:
    return url.replace(site.base, "")


def first_poll_report(site: Site, run: PollRun, out: Path) -> dict:
    records = read_outputs(out)
    from harvester.urls import normalize_url

    urls = {normalize_url(r["url"]) for r in records.values() if r.get("url")}
    written = {u for u in site.healthy if normalize_url(u) in urls}
    kept = {u for u in site.kept if normalize_url(u) in urls}
    expected_files = len(site.healthy) + len(site.kept)
    healthy_feeds = len(site.healthy_feeds)
    print(f"feeds: {len(site.feeds)} ({healthy_feeds} healthy, {len(site.feeds) - healthy_feeds} misbehaving)")
    print(f"healthy records: {len(written)} written of {len(site.healthy)} expected;"
          f" kept from feed summary: {len(kept)} of {len(site.kept)};"
          f" files in output: {len(records)} (expected {expected_files})")  # fmt: skip
    missing = sorted(set(site.healthy) - written)
    for url in missing:
        print(f"  MISSING record for {_short(url, site)}")

    print(f"failures named: {len(run.failures)} (expected {len(site.expected_failures)})")
    grouped: dict[str, list[dict]] = defaultdict(list)
    for failure in run.failures:
        grouped[failure["kind"]].append(failure)
    for kind in sorted(grouped):
        print(f"  {kind} ({len(grouped[kind])})")
        for failure in grouped[kind]:
            parts = parse_failure(failure["message"]) or {"message": failure["message"]}
            print(f"    {failure['stage']}: {_short(failure['url'], site)} -- {parts['message']}")

    table = []
    named: dict[str, list[dict]] = defaultdict(list)
    for failure in run.failures:
        named[failure["url"]].append(failure)
    for fault in FAULTS:
        url = site.fault_urls.get(fault.name)
        if url is None:
            continue
        got = named.get(url, [])
        got_kinds = [f"{f['stage']}:{f['kind']}" for f in got]
        ok = got_kinds == [f"{fault.stage}:{fault.kind}"]
        table.append({"fault": fault.name, "url": _short(url, site), "expected": f"{fault.stage}:{fault.kind}",
                      "got": got_kinds, "ok": ok})  # fmt: skip
    unexpected = [f for f in run.failures if f["url"] not in site.expected_failures]
    print("failures table (fault, URL named, expected kind, got):")
    for row in table:
        mark = "ok" if row["ok"] else "MISMATCH"
        print(f"  {mark:8} {row['fault']:20} {row['url']:38} {row['expected']:32} {', '.join(row['got']) or '(not named)'}")
    for failure in unexpected:
        print(f"  UNEXPECTED {failure['message']}")
    print(f"exit code: {run.code} (0 ok, 1 partial, 3 failed)")
    print(f"peak RSS of the process tree ({run.peak_processes} processes at most, {run.samples} samples every"
          f" {SAMPLE_EVERY * 1000:.0f} ms; bound {RSS_BOUND_MB:.0f} MB): sum of VmRSS {run.peak_tree_kib / 1024:.0f} MB,"
          f" sum of PSS {run.peak_tree_pss_kib / 1024:.0f} MB (copy-on-write pages shared with the forkserver"
          f" counted once); poller alone {run.peak_main_kib / 1024:.0f} MB")  # fmt: skip
    print("  highest VmRSS per process: " + ", ".join(f"{k} {v / 1024:.0f} MB" for k, v in run.per_process.items()))
    slow = slowest(site, run)
    for line in slow["lines"]:
        print(line)
    print(f"wall time: {run.wall:.1f} s (process start to exit, imports and worker start-up included)")
    return {
        "feeds": len(site.feeds),
        "healthy_expected": len(site.healthy),
        "healthy_written": len(written),
        "kept_from_summary": len(kept),
        "files": len(records),
        "failures": [f["message"] for f in run.failures],
        "failures_table": table,
        "unexpected_failures": [f["message"] for f in unexpected],
        "exit_code": run.code,
        "peak_rss_tree_mb": round(run.peak_tree_kib / 1024, 1),
        "peak_pss_tree_mb": round(run.peak_tree_pss_kib / 1024, 1),
        "peak_rss_per_process_mb": {k: round(v / 1024, 1) for k, v in run.per_process.items()},
        "peak_rss_main_mb": round(run.peak_main_kib / 1024, 1),
        "rss_bound_mb": RSS_BOUND_MB,
        "slowest": slow["figures"],
        "wall_s": round(run.wall, 2),
    }


def slowest(site: Site, run: PollRun) -> dict:
    s = site.settings
    fetches = [t for t in run.timings if t["what"] == "fetch"]
    extracts = [t for t in run.timings if t["what"] == "extract"]
    first = [h for h in site.server.log if h.path]
    lines, figures = [], {}
    if fetches:
        top = max(fetches, key=lambda t: t["seconds"])
        lines.append(f"slowest fetch: {_short(top['url'], site)} {top['seconds']:.2f} s ({top['outcome']});"
                     f" deadline {s['deadline']:g} s, read timeout {s['read_timeout']:g} s")  # fmt: skip
        figures["fetch"] = {"url": top["url"], "seconds": round(top["seconds"], 3), "outcome": top["outcome"],
                            "deadline": s["deadline"]}  # fmt: skip
    if extracts:
        top = max(extracts, key=lambda t: t["seconds"])
        lines.append(f"slowest extraction: {_short(top['url'], site)} {top['seconds']:.2f} s ({top['outcome']});"
                     f" extract_timeout {s['extract_timeout']:g} s; {len(extracts)} pages extracted")  # fmt: skip
        figures["extract"] = {"url": top["url"], "seconds": round(top["seconds"], 3), "outcome": top["outcome"],
                              "timeout": s["extract_timeout"]}  # fmt: skip
    if first:
        top = max(first, key=lambda h: h.seconds)
        lines.append(f"slowest connection (server side, request to hang-up): {top.path} {top.seconds:.2f} s")
        figures["connection"] = {"path": top.path, "seconds": round(top.seconds, 3)}
    return {"lines": lines, "figures": figures}


def second_poll_report(site: Site, run: PollRun, hits: list, before: dict, after: dict, state: Path) -> dict:
    from harvester.store import Store

    by_path: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        by_path[hit.path].append(hit)

    def path_of(url: str) -> str:
        return url.replace(site.base, "")

    healthy_304 = sum(1 for f in site.healthy_feeds if [h.note for h in by_path[path_of(f.url)]] == ["304"])
    broken_asked = [f.fault for f in site.broken_feeds if by_path.get(path_of(f.url))]
    rewritten = sorted(n for n in after if n in before and after[n] != before[n])
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    print(f"second poll: exit code {run.code}; {healthy_304} of {len(site.healthy_feeds)} healthy feeds answered 304;"
          f" broken feeds asked again: {len(broken_asked)} of {len(site.broken_feeds)}")  # fmt: skip
    for fault in FAULTS:
        if fault.level == "article" or fault.name == "billion-laughs":
            feed = site.feed(fault.name)
            answers = [h.note for h in by_path[path_of(feed.url)]]
            again = [path_of(u) for u in feed.articles if by_path.get(path_of(u))]
            print(f"  {fault.name:20} feed answered {answers or 'not asked'}; pages fetched again: {again or 'none'}")
    print(f"  records rewritten: {len(rewritten)}, added: {len(added)}, removed: {len(removed)};"
          f" failures this poll: {len(run.failures)}")  # fmt: skip
    for failure in run.failures:
        print(f"    {failure['message'].replace(site.base, '')}")
    store = Store(state)
    backoff = {}
    try:
        for feed in site.broken_feeds:
            st = store.feed(feed.url)
            backoff[feed.fault] = None if st is None else {
                "error_count": st.error_count, "error_kind": st.error_kind,
                "next_due_in_s": round(st.next_due - (st.last_poll or 0), 1),
            }  # fmt: skip
    finally:
        store.close()
    waits = sorted({(v or {}).get("next_due_in_s") for v in backoff.values()}, key=lambda x: (x is None, x))
    print(f"  broken feeds' next check (seconds after their failed poll): {waits};"
          f" 429 Retry-After 120 -> {backoff['http-429']['next_due_in_s']} s,"
          f" 503 garbage Retry-After -> {backoff['http-503-garbage']['next_due_in_s']} s")  # fmt: skip
    print(f"  wall time: {run.wall:.1f} s")
    return {
        "exit_code": run.code,
        "healthy_304": healthy_304,
        "healthy_feeds": len(site.healthy_feeds),
        "broken_asked_again": broken_asked,
        "rewritten": rewritten,
        "added": added,
        "removed": removed,
        "failures": [f["message"] for f in run.failures],
        "backoff": backoff,
        "wall_s": round(run.wall, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="OUT", help="also write the figures as JSON to OUT")
    args = parser.parse_args(argv)
    print(f"python bench/faults.py  # {os.cpu_count()} cores, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="harvester-faults-") as tmp, fault_site() as site:
        workdir = Path(tmp)
        config = write_config(site, workdir)
        out = workdir / "out"
        print(f"site: {site.base} ({len(site.feeds)} feeds); settings: "
              + ", ".join(f"{k}={v}" for k, v in site.settings.items()))  # fmt: skip
        print("\n== first poll (empty state) ==")
        first = run_poll(config, workdir, "first")
        figures = {"first": first_poll_report(site, first, out)}
        if any("Traceback" in line for line in first.log):
            print("TRACEBACK in the poll's stderr:\n" + "\n".join(first.log[-30:]))
        before = snapshot(out)
        mark = len(site.server.log)
        print("\n== second poll, right after ==")
        second = run_poll(config, workdir, "second")
        after = snapshot(out)
        figures["second"] = second_poll_report(site, second, site.server.hits_since(mark), before, after,
                                               workdir / "state.db")  # fmt: skip
        temps = [p.name for p in out.iterdir() if p.name.startswith(".tmp-")] if out.is_dir() else []
        print(f"\ntemp files left: {len(temps)}; every output file valid JSON: {len(read_outputs(out))} files parsed")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\nverdict:")
    checks = verdict(figures, site.settings)
    for name, passed, detail in checks:
        print(f"  {'ok  ' if passed else 'FAIL'} {name}: {detail}")
    return 0 if all(passed for _, passed, _ in checks) else 1


def verdict(figures: dict, settings: dict, slack: float = 0.5) -> list[tuple[str, bool, str]]:
    """The issue's four claims, each with its figure. SLACK: seconds allowed past a deadline."""
    first, second = figures["first"], figures["second"]
    fetch, extract = first["slowest"].get("fetch", {}), first["slowest"].get("extract", {})
    mismatched = [r["fault"] for r in first["failures_table"] if not r["ok"]]
    return [
        ("healthy records written", first["healthy_written"] == first["healthy_expected"],
         f"{first['healthy_written']} of {first['healthy_expected']}"),
        ("every failure named once with its kind", not mismatched and not first["unexpected_failures"],
         f"mismatched: {mismatched or 'none'}; unexpected lines: {len(first['unexpected_failures'])}"),
        ("exit code partial", first["exit_code"] == 1, f"{first['exit_code']}"),
        (f"peak memory under {RSS_BOUND_MB:.0f} MB (PSS of the tree)", first["peak_pss_tree_mb"] <= RSS_BOUND_MB,
         f"PSS {first['peak_pss_tree_mb']:.0f} MB; sum of VmRSS {first['peak_rss_tree_mb']:.0f} MB"
         f" ({'under' if first['peak_rss_tree_mb'] <= RSS_BOUND_MB else 'over'} the bound: it counts the"
         " forkserver's copy-on-write pages once per worker)"),
        ("no fetch past its deadline", fetch.get("seconds", 0) <= settings["deadline"] + slack,
         f"slowest {fetch.get('seconds', 0):.2f} s, deadline {settings['deadline']:g} s"),
        ("no extraction past its limit", extract.get("seconds", 0) <= settings["extract_timeout"] + slack,
         f"slowest {extract.get('seconds', 0):.2f} s, extract_timeout {settings['extract_timeout']:g} s"),
        ("second poll: healthy feeds 304, broken ones not asked, nothing rewritten",
         second["healthy_304"] == second["healthy_feeds"] and not second["broken_asked_again"]
         and not (second["rewritten"] or second["added"] or second["removed"]),
         f"{second['healthy_304']} of {second['healthy_feeds']} answered 304;"
         f" broken asked again: {len(second['broken_asked_again'])}; files changed: {len(second['rewritten'])}"),
    ]  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
