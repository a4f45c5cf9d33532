#!/usr/bin/env python3
"""End-to-end ``harvester poll`` against a loopback server, with trafilatura's CLI feed mode as the peer.

A server on 127.0.0.1 (this script's own, in a forked process) serves N synthetic RSS 2.0
feeds of M entries whose articles are the article-extraction-benchmark pages, served as
textually distinct copies (``/a/<k>.html`` is page ``k % 181`` with copy-specific words and
self URLs, so that harvester's cross-feed dedup does not collapse the repeats). For each size
N*M, in one run:

* ``python -m harvester.cli poll -c CONFIG -q`` in a subprocess, on an empty state: wall
  time, CPU of the whole process tree (main + forkserver + workers), peak RSS of the tree
  (sampled every 50 ms from /proc) and of the main process, bytes the server sent;
* the same poll again: every feed answers 304 (ETag / Last-Modified), bytes sent again;

then the peer, trafilatura's own CLI feed mode on the same feeds and pages (first size
only), bare single-core ``trafilatura.extract(html, include_comments=False)`` over the same
copies, and a poll of a fixed set of new entries against an empty state and against one
pre-filled with 100,000 seen entries and records.

    python bench/poll.py [--quick] [--sizes 1000,4000] [--data DIR] [--json OUT]
                         [--profile] [--no-peer] [--no-state] [--keep]

Nothing but 127.0.0.1 is ever contacted: the server binds it, harvester's config lists
only its feeds, and the trafilatura CLI runs with a resolver that knows one name,
``bench.localhost``, mapped to 127.0.0.1 (see ``trafilatura_cli_shim``).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import email.utils
import gc
import hashlib
import http.client
import json
import math
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from aeb import BenchPage, DEFAULT_DATA, REPO_ROOT, cpu_model, load_pages, proc_kib

PEER_HOST = "bench.localhost"  # RFC 6761: .localhost is loopback; see trafilatura_cli_shim()
ENTRIES_PER_FEED = 100
DEFAULT_SIZES = "1000,4000"  # 10,000 does not fit the 10-minute budget of all the bench scripts (see README)
STATE_ENTRIES = 100_000
STATE_NEW_ENTRIES = 200  # the fixed set polled against an empty and a pre-filled state
QUICK_SIZE = 100  # one feed: the three scripts' --quick runs stay under a minute together
QUICK_STATE_ENTRIES = 10_000
QUICK_STATE_NEW_ENTRIES = 100
STATE_REPEAT = 3  # empty / pre-filled polls alternate this many times; each keeps its best
SAMPLE_EVERY = 0.05  # seconds between /proc samples
PSS_EVERY = 40  # PSS (smaps_rollup) every 2 s: the kernel walks the page tables, ~10 ms per 150 MB process
SCAN_EVERY = 10  # look for new processes in all of /proc every 10th sample (every sample for the first 2 s)
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"
TARGETS = {"vs_extract": 1.7, "vs_cli": 2.0, "rss_mb": 300.0, "rss_growth": 0.10, "second_poll": 0.02, "state": 1.2}
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# --- the article set: benchmark pages as templates of distinct copies ---------------------
#
# Copy k of page p = k % 181 is page p with (1) every "self URL" (the page's ground-truth URL,
# its rel=canonical and og:url) replaced by the copy's own URL, so that attribution does not
# give every copy the same source.url, (2) ``c<k>`` in front of every title the page gives
# (og:title, twitter:title, JSON-LD headline, <title>, <h1>), so that copies are not "the same
# title from the same outlet", and (3) four copy-specific words (``c<k>`` and three
# pseudo-words) at the start of every text run of 25+ characters outside script/style/title,
# so that the extracted texts of two copies are not simhash near-duplicates.

_SKIP = re.compile(r"<(script|style|title|textarea|noscript)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_TEXT = re.compile(r">([^<]*\w[^<]*)<")
_CANONICAL = re.compile(r"""<link\b[^>]*\brel\s*=\s*["']?canonical\b[^>]*>""", re.I)
_OG_URL = re.compile(r"""<meta\b[^>]*\bproperty\s*=\s*["']og:url["'][^>]*>""", re.I)
_HREF = re.compile(r"""\bhref\s*=\s*["']([^"']+)["']""", re.I)
_CONTENT = re.compile(r"""\bcontent\s*=\s*["']([^"']+)["']""", re.I)
_TITLES = (
    re.compile(r"""<meta\b[^>]*\b(?:property|name)\s*=\s*["'](?:og|twitter):title["'][^>]*?\bcontent\s*=\s*["']""", re.I),
    re.compile(r"""<meta\b[^>]*?\bcontent\s*=\s*["'](?=[^>]*\b(?:property|name)\s*=\s*["'](?:og|twitter):title["'])""", re.I),
    re.compile(r'"headline"\s*:\s*"', re.I),
    re.compile(r"<title\b[^>]*>", re.I),
    re.compile(r"<h1\b[^>]*>", re.I),
)
MARK_WORDS = 4
MARK_MIN_CHARS = 25
URL, URL_JSON, MARK, TITLE = 0, 1, 2, 3  # slot kinds


@dataclass
class Template:
    page: BenchPage
    pieces: list[bytes]  # len(slots) + 1 static pieces around the slots
    slots: list[tuple[int, int]]  # (kind, j): what goes between pieces[i] and pieces[i + 1]


def _self_urls(html: str, url: str) -> list[str]:
    found = {url} if url.startswith("http") else set()
    for regex, attr in ((_CANONICAL, _HREF), (_OG_URL, _CONTENT)):
        for tag in regex.finditer(html):
            value = attr.search(tag.group(0))
            if value and value.group(1).startswith("http"):
                found.add(value.group(1))
    return sorted(found, key=len, reverse=True)  # longest first: no URL is a prefix of a later one


def build_template(page: BenchPage) -> Template:
    html = page.html()
    cuts: list[tuple[int, int, int, int]] = []  # (start, end, kind, j): replace html[start:end] by a slot
    urls = _self_urls(html, page.url)
    if urls:
        alternatives = "|".join(re.escape(u) for u in urls) + "|" + "|".join(re.escape(u.replace("/", "\\/")) for u in urls)
        for m in re.finditer(alternatives, html):
            cuts.append((m.start(), m.end(), URL_JSON if "\\/" in m.group(0) else URL, 0))
    for regex in _TITLES:  # title sources: og:title, twitter:title, JSON-LD headline, <title>, <h1>
        for m in regex.finditer(html):
            cuts.append((m.end(), m.end(), TITLE, 0))
    skips = [(m.start(), m.end()) for m in _SKIP.finditer(html)]
    si, j = 0, 0
    for m in _TEXT.finditer(html):
        start = m.start(1)
        while si < len(skips) and skips[si][1] <= start:
            si += 1
        if si < len(skips) and skips[si][0] <= start < skips[si][1]:
            continue
        text = m.group(1)
        if len(text.strip()) < MARK_MIN_CHARS:
            continue
        at = start + len(text) - len(text.lstrip())
        j += 1
        cuts.append((at, at, MARK, j))
    cuts.sort()
    pieces, slots, pos = [], [], 0
    for start, end, kind, j in cuts:
        if start < pos:  # a mark inside a replaced URL (cannot happen: URLs are in attributes)
            continue
        pieces.append(html[pos:start].encode("utf-8"))
        slots.append((kind, j))
        pos = end
    pieces.append(html[pos:].encode("utf-8"))
    return Template(page, pieces, slots)


def _word(k: int, j: int, i: int) -> str:
    n = (k * 2654435761 + j * 40503 + i * 9973) % 26**6
    letters = []
    for _ in range(6):
        n, r = divmod(n, 26)
        letters.append(chr(97 + r))
    return "".join(letters)


def render(template: Template, k: int, base: str) -> bytes:
    """Copy k of the template's page, as served from ``base`` (``http://host:port``)."""
    me = f"{base}/a/{k}.html"
    fill = {URL: me.encode(), URL_JSON: me.replace("/", "\\/").encode()}
    out = [template.pieces[0]]
    for (kind, j), piece in zip(template.slots, template.pieces[1:]):
        if kind == MARK:
            out.append((" ".join([f"c{k}", *(_word(k, j, i) for i in range(MARK_WORDS - 1))]) + " ").encode())
        elif kind == TITLE:
            out.append(f"c{k} ".encode())
        else:
            out.append(fill[kind])
        out.append(piece)
    return b"".join(out)


# --- feeds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedSet:
    """``feeds`` RSS feeds at /f/<name>/<i>.xml; feed i lists articles first + i*per_feed ..."""

    name: str
    entries: int
    per_feed: int
    first: int  # k of the first article

    @property
    def feeds(self) -> int:
        return math.ceil(self.entries / self.per_feed)

    def items(self, i: int) -> range:
        start = self.first + i * self.per_feed
        return range(start, min(start + self.per_feed, self.first + self.entries))

    def feed_urls(self, base: str) -> list[str]:
        return [f"{base}/f/{self.name}/{i}.xml" for i in range(self.feeds)]


def feed_xml(fs: FeedSet, i: int, base: str) -> bytes:
    items = []
    for n, k in enumerate(fs.items(i)):
        date = email.utils.formatdate(1735689600 - n * 60, usegmt=True)
        items.append(
            f"<item><title>Bench article {k}</title><link>{base}/a/{k}.html</link>"
            f'<guid isPermaLink="false">bench-{fs.name}-{k}</guid><pubDate>{date}</pubDate>'
            f"<description>Summary of bench article {k}.</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Bench feed {fs.name} {i}</title><link>{base}/</link><description>synthetic feed</description>"
        + "".join(items) + "</channel></rss>\n"
    ).encode()  # fmt: skip


# --- the loopback server (a forked process; asyncio, HTTP/1.1 keep-alive) -----------------


class _Counters:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests: dict[str, int] = {}
        self.statuses: dict[str, int] = {}
        self.bytes_out = 0  # status line + headers + body, everything the server wrote
        self.bytes_in = 0  # request heads
        self.busy = 0.0  # seconds spent building and writing answers
        self.first: dict[str, float] = {}  # time.time() of the first and last request of each kind
        self.last: dict[str, float] = {}
        self.cpu_start = time.process_time()

    def snapshot(self) -> dict:
        return {"requests": self.requests, "statuses": self.statuses, "bytes_out": self.bytes_out,
                "bytes_in": self.bytes_in, "busy_s": self.busy, "cpu_s": time.process_time() - self.cpu_start,
                "first": self.first, "last": self.last}  # fmt: skip


def _serve(sock: socket.socket, templates: list[Template], sets: dict[str, FeedSet]) -> None:
    counters = _Counters()
    feeds: dict[tuple[str, int, str], tuple[bytes, str]] = {}
    robots = b"User-agent: *\nAllow: /\n"

    def answer(status: str, ctype: str | None, body: bytes, extra: str = "", head_only: bool = False) -> list[bytes]:
        head = f"HTTP/1.1 {status}\r\nServer: harvester-bench\r\n"
        if ctype:
            head += f"Content-Type: {ctype}\r\n"
        if not status.startswith("304"):
            head += f"Content-Length: {len(body)}\r\n"
        head += extra + "\r\n"
        return [head.encode("latin-1")] + ([] if head_only or not body else [body])

    def route(target: str, headers: dict[str, str]) -> tuple[str, list[bytes]]:
        path = target.split("?", 1)[0]
        base = "http://" + headers.get("host", f"127.0.0.1:{sock.getsockname()[1]}")
        if path.startswith("/a/") and path.endswith(".html"):
            try:
                k = int(path[3:-5])
            except ValueError:
                k = -1
            if k >= 0:
                body = render(templates[k % len(templates)], k, base)
                return "page", answer("200 OK", "text/html; charset=utf-8", body, f"Last-Modified: {LAST_MODIFIED}\r\n")
        if path.startswith("/f/") and path.endswith(".xml"):
            parts = path[3:-4].split("/")
            fs = sets.get(parts[0]) if len(parts) == 2 else None
            if fs is not None and parts[1].isdigit() and int(parts[1]) < fs.feeds:
                key = (fs.name, int(parts[1]), base)
                if key not in feeds:
                    body = feed_xml(fs, int(parts[1]), base)
                    feeds[key] = (body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')
                body, etag = feeds[key]
                validators = f"ETag: {etag}\r\nLast-Modified: {LAST_MODIFIED}\r\n"
                if _not_modified(headers, etag):
                    return "feed", answer("304 Not Modified", None, b"", validators)
                return "feed", answer("200 OK", "application/rss+xml; charset=utf-8", body, validators)
        if path == "/robots.txt":
            return "robots", answer("200 OK", "text/plain; charset=utf-8", robots)
        return "other", answer("404 Not Found", "text/plain; charset=utf-8", b"404 Not Found\n")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                started = time.perf_counter()
                lines = head.decode("latin-1").split("\r\n")
                method, target = (lines[0].split(" ") + ["", ""])[:2]
                headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                if target.startswith("/__bench/"):  # control: not counted
                    if target == "/__bench/reset":
                        counters.reset()
                    writer.writelines(answer("200 OK", "application/json", json.dumps(counters.snapshot()).encode()))
                    await writer.drain()
                    continue
                kind, parts = route(target, headers)
                if method == "HEAD":
                    parts = parts[:1]
                writer.writelines(parts)
                await writer.drain()
                status = parts[0][9:12].decode()
                counters.requests[kind] = counters.requests.get(kind, 0) + 1
                counters.first.setdefault(kind, time.time())
                counters.last[kind] = time.time()
                counters.statuses[status] = counters.statuses.get(status, 0) + 1
                counters.bytes_out += sum(map(len, parts))
                counters.bytes_in += len(head)
                counters.busy += time.perf_counter() - started
                if headers.get("connection", "").lower() == "close":
                    return
        except ConnectionError:
            return
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, sock=sock, limit=1 << 16)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _not_modified(headers: dict[str, str], etag: str) -> bool:
    inm = headers.get("if-none-match")
    if inm is not None:
        return etag in [t.strip().removeprefix("W/") for t in inm.split(",")] or inm.strip() == "*"
    ims = headers.get("if-modified-since")
    if not ims:
        return False
    try:
        return email.utils.parsedate_to_datetime(ims) >= email.utils.parsedate_to_datetime(LAST_MODIFIED)
    except (TypeError, ValueError):
        return False


class BenchServer:
    """The loopback server in a forked process; ``stats()`` / ``reset()`` read its counters."""

    def __init__(self, templates: list[Template], sets: dict[str, FeedSet]) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.pid = os.fork()
        if self.pid == 0:  # the server process
            try:
                _serve(self.sock, templates, sets)
            finally:
                os._exit(0)
        self.sock.close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _control(self, what: str) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", f"/__bench/{what}")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def reset(self) -> dict:
        return self._control("reset")

    def stats(self) -> dict:
        return self._control("stats")

    def stop(self) -> None:
        try:
            os.kill(self.pid, 15)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


# --- measuring a process tree -------------------------------------------------------------


def _set_subreaper() -> bool:
    """Orphaned descendants (the poll's forkserver and workers outlive its main process by a
    moment) are re-parented to us, so that reaping them adds their CPU to RUSAGE_CHILDREN."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _stat(pid: int) -> tuple[int, str, float] | None:
    """(ppid, state, utime + stime in seconds) from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2 :].split()
    return int(fields[1]), fields[0].decode(), (int(fields[11]) + int(fields[12])) / CLK_TCK


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _role(pid: int, main: int, stats: dict[int, tuple[int, str, float]]) -> str:
    if pid == main:
        return "main"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        cmd = ""
    if "resource_tracker" in cmd:
        return "resource_tracker"
    if "forkserver" in cmd:  # the forkserver, or a worker it forked (same command line)
        return "forkserver" if stats.get(pid, (0,))[0] == main else "worker"
    return "child"


@dataclass
class TreeRun:
    """What one subprocess and its descendants used."""

    argv: list[str]
    returncode: int = 0
    wall: float = 0.0
    cpu_tree: float = 0.0  # RUSAGE_CHILDREN delta, every descendant reaped (subreaper)
    cpu_tree_sampled: float = 0.0  # sum over the tree of the last /proc utime+stime seen
    cpu_main: float = 0.0  # main process alone: its final utime + stime (/proc, read while a zombie)
    peak_rss_tree: int = 0  # largest sum of VmRSS over the tree in one sample
    peak_rss_main: int = 0  # main process's own high-water mark (VmHWM)
    peak_rss_main_sampled: int = 0
    peak_pss_tree: int = 0  # largest sum of PSS (shared pages split between processes)
    started: float = 0.0  # time.time() at start
    sampler_cpu: float = 0.0  # CPU this script spent sampling /proc meanwhile
    processes: int = 0  # most processes alive at once in the tree
    samples: int = 0
    timeline: list = field(default_factory=list)  # (s, tree RSS, main RSS) about every second
    per_process: list = field(default_factory=list)  # [role, peak sampled RSS] for each process of the tree
    stderr: str = ""


def run_tree(argv: list[str], *, cwd: Path, env: dict[str, str], stdout=subprocess.DEVNULL) -> TreeRun:
    """Run ARGV, sampling its process tree every SAMPLE_EVERY s until every process of it is gone."""
    import resource
    import threading

    run = TreeRun(argv)
    err = tempfile.TemporaryFile()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run.started = time.time()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=stdout, stderr=err)
    ended: list[float] = []

    def watch() -> None:  # the exact end of the main process; WNOWAIT leaves it to be reaped below
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        ended.append(time.perf_counter())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    own_cpu = time.process_time()
    tree: set[int] = {proc.pid}
    cpu_seen: dict[int, float] = {}
    timeline: list[tuple[float, int, int]] = []
    roles: dict[int, str] = {}
    peaks: dict[int, int] = {}
    main_done = False
    n = 0
    while True:
        n += 1
        stats: dict[int, tuple[int, str, float]] = {}
        if n <= 40 or n % SCAN_EVERY == 1 or ended:
            # every process whose parent is in the tree joins it (the tree only grows); a full
            # scan of /proc costs ~2.5 ms, so after the start-up it runs every SCAN_EVERY samples
            children: dict[int, list[int]] = {}
            for name in os.listdir("/proc"):
                if name.isdigit():
                    st = _stat(int(name))
                    if st is not None:
                        stats[int(name)] = st
                        children.setdefault(st[0], []).append(int(name))
            todo = list(tree)
            while todo:
                for child in children.get(todo.pop(), ()):
                    if child not in tree:
                        tree.add(child)
                        todo.append(child)
        else:
            for p in tree:
                st = _stat(p)
                if st is not None:
                    stats[p] = st
        for p in tree:
            if p in stats:  # a zombie keeps its final utime + stime
                cpu_seen[p] = stats[p][2]
        alive = [p for p in tree if p in stats and stats[p][1] != "Z"]
        rss = {p: _rss(p) for p in alive}
        for p, value in rss.items():
            if p not in roles:
                roles[p] = _role(p, proc.pid, stats)
            peaks[p] = max(peaks.get(p, 0), value)
        run.peak_rss_tree = max(run.peak_rss_tree, sum(rss.values()))
        run.peak_rss_main_sampled = max(run.peak_rss_main_sampled, rss.get(proc.pid, 0))
        if proc.pid in rss:
            run.peak_rss_main = max(run.peak_rss_main, proc_kib(proc.pid, "status", "VmHWM") * 1024)  # kernel-kept peak
        run.processes = max(run.processes, len(alive))
        if n % PSS_EVERY == 1:
            run.peak_pss_tree = max(run.peak_pss_tree, sum(proc_kib(p, "smaps_rollup", "Pss") for p in alive) * 1024)
        if n % 20 == 1:
            timeline.append((round(time.perf_counter() - start, 2), sum(rss.values()), rss.get(proc.pid, 0)))
        if not main_done and ended:
            main_done = True
            run.wall = ended[0] - start
            final = _stat(proc.pid)
            if final is not None:
                cpu_seen[proc.pid] = final[2]
            _, status, _usage = os.wait4(proc.pid, 0)
            run.returncode = os.waitstatus_to_exitcode(status)
            proc.returncode = run.returncode
            run.cpu_main = cpu_seen.get(proc.pid, 0.0)
        # reap the tree's orphans (re-parented to us); the main process is reaped above
        for p in tree:
            if p != proc.pid:
                try:
                    os.waitpid(p, os.WNOHANG)
                except ChildProcessError:
                    pass
        if main_done and all(_stat(p) is None for p in tree if p != proc.pid):
            break
        if main_done and time.perf_counter() - start - run.wall > 10:
            print(f"bench: processes of the tree still there 10 s after the main one: {sorted(tree)}", file=sys.stderr)
            break
        time.sleep(SAMPLE_EVERY)
    watcher.join()
    run.sampler_cpu = time.process_time() - own_cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.cpu_tree = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run.cpu_tree_sampled = sum(cpu_seen.values())
    run.samples = n
    run.timeline = timeline
    run.per_process = sorted(([roles[p], peaks[p]] for p in peaks), key=lambda x: (x[0] != "main", x[0], -x[1]))
    err.seek(0)
    run.stderr = err.read().decode("utf-8", "replace")[-4000:]
    err.close()
    return run


def clean_env() -> dict[str, str]:
    """No proxy: every request goes straight to 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


# --- harvester poll -------------------------------------------------------------------------


SETTINGS = {
    "allow_private_addresses": True,
    "interval": 0,  # every feed is due again at once: the second poll asks again (and gets 304s)
    "concurrency": 8,
    "per_host_concurrency": 8,  # one host: 127.0.0.1
    "per_host_delay": 0,
    "robots": "obey",  # the server serves an allow-all robots.txt
    "workers": 0,  # one extraction process per core
}


def write_config(path: Path, feeds: list[str], out_dir: Path, state: Path) -> Path:
    lines = ["[harvester]", f"output_dir = {json.dumps(str(out_dir))}", f"state_path = {json.dumps(str(state))}"]
    for key, value in SETTINGS.items():
        lines.append(f"{key} = {json.dumps(value) if not isinstance(value, bool) else str(value).lower()}")
    for url in feeds:
        lines += ["", "[[feeds]]", f"url = {json.dumps(url)}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def poll_argv(config: Path, profile: Path | None = None) -> list[str]:
    if profile:
        return [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "harvester.cli", "poll", "-c", str(config), "-q"]
    return [sys.executable, "-m", "harvester.cli", "poll", "-c", str(config), "-q"]


def state_counts(state: Path, out_dir: Path) -> dict:
    db = sqlite3.connect(state)
    try:
        done = db.execute("SELECT count(*) FROM entries WHERE status = 'done'").fetchone()[0]
        records = db.execute("SELECT count(*) FROM records").fetchone()[0]
    finally:
        db.close()
    files = list(out_dir.glob("*.json")) if out_dir.is_dir() else []
    summary_only = sum(1 for f in files if b'"extraction_error"' in f.read_bytes())
    return {"entries_done": done, "records": records, "files": len(files), "summary_only": summary_only}


def run_poll(config: Path, server: BenchServer, env: dict[str, str], profile: Path | None = None) -> tuple[TreeRun, dict]:
    server.reset()
    run = run_tree(poll_argv(config, profile), cwd=REPO_ROOT, env=env)
    return run, server.stats()


def bench_size(fs: FeedSet, server: BenchServer, work: Path, env: dict[str, str]) -> dict:
    d = work / fs.name
    d.mkdir()
    out, state = d / "out", d / "state.db"
    config = write_config(d / "config.toml", fs.feed_urls(server.base), out, state)
    print(f"  poll {fs.entries} entries ({fs.feeds} feeds x {fs.per_feed}) ...", file=sys.stderr)
    first, s1 = run_poll(config, server, env)
    counts = state_counts(state, out)
    print(f"    {first.wall:.1f} s, exit {first.returncode}; second poll ...", file=sys.stderr)
    second, s2 = run_poll(config, server, env)
    pages = s1["requests"].get("page", 0)
    result = {
        "entries": fs.entries, "feeds": fs.feeds, "per_feed": fs.per_feed,
        "pages_fetched": pages,
        "records_written": counts["files"], "records_in_state": counts["records"],
        "duplicates": counts["entries_done"] - counts["records"],
        "not_done": fs.entries - counts["entries_done"],  # failures: entry never marked done
        "summary_only_records": counts["summary_only"],
        "first": _run_dict(first), "second": _run_dict(second),
        "server_first": s1, "server_second": s2,
        "pages_per_s": pages / first.wall if first.wall else 0.0,
        "cpu_s_per_page": first.cpu_tree / pages if pages else float("nan"),
        "main_cpu_s_per_page": first.cpu_main / pages if pages else float("nan"),
        "bytes_ratio": s2["bytes_out"] / s1["bytes_out"] if s1["bytes_out"] else float("nan"),
    }  # fmt: skip
    if first.returncode not in (0, 1) or second.returncode not in (0, 1):
        print(f"bench: poll exited {first.returncode} / {second.returncode}:\n{first.stderr}{second.stderr}", file=sys.stderr)
    return result


def _run_dict(run: TreeRun) -> dict:
    return {k: v for k, v in run.__dict__.items() if k not in ("argv",)}


# --- the peer: trafilatura's own CLI feed mode --------------------------------------------


def trafilatura_cli_shim(args: list[str]) -> None:
    """``trafilatura ARGS`` with one change: ``bench.localhost`` resolves to 127.0.0.1 (and
    nothing else resolves at all). courlan, which trafilatura uses to validate and group every
    URL, refuses IP-literal hosts and ``localhost`` (no public suffix): a feed at
    http://127.0.0.1:PORT/ is "Invalid URL" and nothing is fetched. glibc would send
    ``*.localhost`` to the DNS server, so it is resolved here instead."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *rest, **kw):  # noqa: ANN001
        name = host.decode() if isinstance(host, bytes) else host
        if name not in (PEER_HOST, "127.0.0.1"):
            raise socket.gaierror(socket.EAI_NONAME, f"bench: only {PEER_HOST} resolves here")
        return real("127.0.0.1", port, *rest, **kw)

    socket.getaddrinfo = getaddrinfo
    from trafilatura.cli import main

    sys.argv = ["trafilatura", *args]
    main()


def run_trafilatura_cli(fs: FeedSet, server: BenchServer, work: Path, env: dict[str, str]) -> dict:
    d = work / f"trafilatura-{fs.name}"
    d.mkdir()
    feeds = d / "feeds.txt"
    feeds.write_text("\n".join(fs.feed_urls(f"http://{PEER_HOST}:{server.port}")) + "\n", encoding="utf-8")
    cfg = d / "settings.cfg"
    # seeded with trafilatura's own defaults (use_config reads settings.cfg first); only these change:
    cfg.write_text("[DEFAULT]\nSLEEP_TIME = 0\nSSRF_PROTECTION = off\n", encoding="utf-8")
    args = ["-i", str(feeds), "--feed", "--parallel", "2", "--config-file", str(cfg),
            "--json", "--with-metadata", "--no-comments", "-o", str(d / "out")]  # fmt: skip
    argv = [sys.executable, str(Path(__file__).resolve()), "--_trafilatura-cli", *args]
    print(f"  trafilatura CLI --feed on {fs.entries} entries ...", file=sys.stderr)
    server.reset()
    run = run_tree(argv, cwd=d, env=env)
    stats = server.stats()
    written = sum(1 for p in (d / "out").rglob("*") if p.is_file()) if (d / "out").is_dir() else 0
    pages = stats["requests"].get("page", 0)
    if run.returncode != 0:
        print(f"bench: trafilatura CLI exited {run.returncode}: {run.stderr[-1500:]}", file=sys.stderr)
    return {
        "entries": fs.entries, "argv": ["trafilatura", *args], "settings_cfg": cfg.read_text(),
        "pages_fetched": pages, "documents_written": written, "run": _run_dict(run), "server": stats,
        "pages_per_s": pages / run.wall if run.wall else 0.0,
        "cpu_s_per_page": run.cpu_tree / pages if pages else float("nan"),
    }  # fmt: skip


# --- bare trafilatura.extract, one core --------------------------------------------------


def bare_extract(templates: list[Template], base: str, before: dict | None = None) -> dict:
    """Seconds per page of trafilatura.extract(include_comments=False) on copy k = page index.

    Run once before the polls and once after (``before``): each page keeps its faster time,
    so that a burst of other work on the machine during one pass does not set the baseline."""
    import trafilatura

    htmls = [render(t, k, base).decode("utf-8") for k, t in enumerate(templates)]
    for html in htmls[:2]:  # warm-up: imports, caches
        trafilatura.extract(html, include_comments=False)
    seconds = []
    gc.collect()
    for html in htmls:
        start = time.perf_counter()
        trafilatura.extract(html, include_comments=False)
        seconds.append(time.perf_counter() - start)
    passes = [*(before["passes"] if before else []), seconds]
    best = [min(times) for times in zip(*passes)]
    return {"pages": len(htmls), "passes": passes, "seconds": best, "docs_per_s": len(htmls) / sum(best),
            "pass_docs_per_s": [len(htmls) / sum(p) for p in passes]}  # fmt: skip


def mix_rate(bare: dict, fs: FeedSet) -> float:
    """bare extract's docs/s over exactly the copies FS serves (page k % 181 for each k)."""
    sec = bare["seconds"]
    return fs.entries / sum(sec[k % len(sec)] for k in range(fs.first, fs.first + fs.entries))


# --- a poll against a large state ---------------------------------------------------------


def prefill_state(path: Path, entries: int, base: str) -> float:
    """``entries`` seen entries and their records, across other feeds (100 per feed), one transaction."""
    from harvester.store import Store, _bands, _signed

    start = time.perf_counter()
    Store(path).close()  # the schema, as harvester makes it
    rng = random.Random(20240101)
    now = time.time()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    feeds = math.ceil(entries / 100)
    db.executemany("INSERT INTO feeds (url, last_poll, last_success, next_due, status, records) VALUES (?, ?, ?, ?, 'ok', 100)",
                   [(f"{base}/other/{f}.xml", now, now, now + 900, ) for f in range(feeds)])  # fmt: skip
    rows_e, rows_r, rows_u = [], [], []
    for n in range(entries):
        feed = f"{base}/other/{n // 100}.xml"
        url = f"{base}/other/a/{n}.html"
        rid = hashlib.sha256(url.encode()).hexdigest()[:32]
        h = rng.getrandbits(64)
        rows_e.append((feed, f"other-{n}", url, rid, now))
        rows_r.append((rid, url, url, "en", _signed(h), *_bands(h), now))
        rows_u.append((url, rid))
    db.executemany("INSERT INTO entries (feed_url, entry_id, link, record_id, status, seen_at) VALUES (?, ?, ?, ?, 'done', ?)", rows_e)
    db.executemany("INSERT INTO records (id, url, source_url, language, simhash, b0, b1, b2, b3, written_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows_r)  # fmt: skip
    db.executemany("INSERT INTO urls (url, record_id) VALUES (?, ?)", rows_u)
    db.execute("COMMIT")
    db.close()
    return time.perf_counter() - start


def bench_state(fs: FeedSet, entries: int, server: BenchServer, work: Path, env: dict[str, str], repeat: int) -> dict:
    d = work / "state"
    d.mkdir()
    full = d / "prefilled.db"
    print(f"  state: pre-filling {entries} entries ...", file=sys.stderr)
    fill_s = prefill_state(full, entries, server.base)
    runs: dict[str, list[dict]] = {"empty": [], "prefilled": []}
    for attempt in range(repeat):
        for variant in ("empty", "prefilled"):
            r = d / f"{variant}-{attempt}"
            r.mkdir()
            state = r / "state.db"
            if variant == "prefilled":
                shutil.copy(full, state)
            config = write_config(r / "config.toml", fs.feed_urls(server.base), r / "out", state)
            run, stats = run_poll(config, server, env)
            counts = state_counts(state, r / "out")
            print(f"    {variant}: {run.wall:.2f} s", file=sys.stderr)
            runs[variant].append({"wall": run.wall, "cpu_tree": run.cpu_tree, "cpu_main": run.cpu_main,
                                  "pages": stats["requests"].get("page", 0), "records": counts["files"],
                                  "returncode": run.returncode})  # fmt: skip
            shutil.rmtree(r / "out", ignore_errors=True)
    best = {v: min(x["wall"] for x in rs) for v, rs in runs.items()}
    return {"state_entries": entries, "new_entries": fs.entries, "prefill_s": fill_s,
            "db_mb": full.stat().st_size / 1e6, "runs": runs, "best_wall": best,
            "ratio": best["prefilled"] / best["empty"]}  # fmt: skip


# --- profile ------------------------------------------------------------------------------


def profile_poll(fs: FeedSet, server: BenchServer, work: Path, env: dict[str, str], top: int = 25) -> str:
    """One more poll of FS with the main process under cProfile: where its time goes."""
    import io
    import pstats

    d = work / "profile"
    d.mkdir()
    config = write_config(d / "config.toml", fs.feed_urls(server.base), d / "out", d / "state.db")
    prof = d / "poll.prof"
    print(f"  profile: poll {fs.entries} entries under cProfile ...", file=sys.stderr)
    run, _ = run_poll(config, server, env, profile=prof)
    buf = io.StringIO()
    stats = pstats.Stats(str(prof), stream=buf)
    buf.write(f"main process under cProfile: wall {run.wall:.1f} s, main CPU {run.cpu_main:.1f} s, tree CPU {run.cpu_tree:.1f} s\n")
    stats.sort_stats("tottime").print_stats(top)
    return buf.getvalue()


# --- report -------------------------------------------------------------------------------


def _commit() -> str:
    """The checkout the polls import (each poll imports it afresh when it starts)."""
    try:
        out = subprocess.run(["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty", "--exclude", "*"],
                             capture_output=True, text=True, timeout=10)  # fmt: skip
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _mb(n: float) -> str:
    return f"{n / 1e6:.0f}"


def _per_process(peaks: list) -> str:
    """'m72 f64 r13 w77 w77 (w: largest of 22)': workers are renewed every few hundred
    pages, so a long poll has many; the two largest stand for them."""
    # (a process caught between fork and exec shows as a 0 MB "child": left out)
    others = [f"{role[0]}{_mb(v)}" for role, v in peaks if role != "worker" and v >= 1e6]
    workers = sorted((v for role, v in peaks if role == "worker"), reverse=True)
    shown = " ".join(f"w{_mb(v)}" for v in workers[:2])
    more = f" (w: largest of {len(workers)})" if len(workers) > 2 else ""
    return " ".join([*others, shown]) + more


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def print_report(res: dict) -> list[dict]:
    m = res["machine"]
    print(f"machine: nproc {m['nproc']}, CPU {m['cpu']}, Python {m['python']}, trafilatura {m['trafilatura']}, {m['date']},"
          f" harvester {m['commit']}")  # fmt: skip
    print(f"load average (1 min): {m['load_at_start']:.2f} at start, {m['load_at_end']:.2f} at end; run took {m['total_s']:.0f} s")
    if m["commit_at_end"] != m["commit"]:
        print(f"WARNING: the checkout changed during the run ({m['commit']} -> {m['commit_at_end']}): "
              "polls started at different times ran different code")  # fmt: skip
    print("harvester settings: " + ", ".join(f"{k}={v}" for k, v in res["settings"].items())
          + f"; workers -> {m['nproc']} processes")  # fmt: skip
    print(f"server: this script's asyncio server on 127.0.0.1 (forked process), HTTP/1.1 keep-alive, no compression;"
          f" {ENTRIES_PER_FEED} entries per RSS 2.0 feed")  # fmt: skip
    sizes = res["sizes"]
    rows = [
        ("pages fetched", lambda r: f"{r['pages_fetched']}"),
        ("records written", lambda r: f"{r['records_written']}"),
        ("duplicates", lambda r: f"{r['duplicates']}"),
        ("failed entries", lambda r: f"{r['not_done']}"),
        ("  (records from feed summary)", lambda r: f"{r['summary_only_records']}"),
        ("wall s", lambda r: f"{r['first']['wall']:.1f}"),
        ("  first page request at s", lambda r: f"{r['server_first']['first'].get('page', 0) - r['first']['started']:.1f}"),
        ("pages/s", lambda r: f"{r['pages_per_s']:.1f}"),
        ("CPU s/page (tree)", lambda r: f"{r['cpu_s_per_page']:.4f}"),
        ("  main process CPU s/page", lambda r: f"{r['main_cpu_s_per_page']:.4f}"),
        ("  tree CPU s: rusage / /proc", lambda r: f"{r['first']['cpu_tree']:.1f} / {r['first']['cpu_tree_sampled']:.1f}"),
        ("peak RSS MB, tree (sum)", lambda r: _mb(r["first"]["peak_rss_tree"])),
        ("peak RSS MB, main", lambda r: _mb(r["first"]["peak_rss_main"])),
        ("peak PSS MB, tree", lambda r: _mb(r["first"]["peak_pss_tree"])),
        ("  second poll: RSS tree / main", lambda r: f"{_mb(r['second']['peak_rss_tree'])} / {_mb(r['second']['peak_rss_main'])}"),
        ("processes in tree (max)", lambda r: f"{r['first']['processes']}"),
        ("  peak per process: m f w r", lambda r: _per_process(r["first"]["per_process"])),
        ("bytes sent, first poll", lambda r: f"{r['server_first']['bytes_out']:,}"),
        ("bytes sent, second poll", lambda r: f"{r['server_second']['bytes_out']:,}"),
        ("second / first", lambda r: f"{r['bytes_ratio'] * 100:.3f} %"),
        ("second poll: wall s", lambda r: f"{r['second']['wall']:.2f}"),
        ("second poll: statuses", lambda r: " ".join(f"{k}x{v}" for k, v in sorted(r["server_second"]["statuses"].items()))),
        ("server CPU s / busy %", lambda r: f"{r['server_first']['cpu_s']:.1f} / {100 * r['server_first']['cpu_s'] / r['first']['wall']:.1f} %"),
        ("  server capacity, req/CPU s", lambda r: f"{sum(r['server_first']['requests'].values()) / max(r['server_first']['cpu_s'], 1e-9):.0f}"),
        ("sampler CPU s (this script)", lambda r: f"{r['first']['sampler_cpu']:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    cells = [[cell(r) for r in sizes] for _, cell in rows]
    widths = [max([len(f"{r['entries']:,}"), *(len(row[i]) for row in cells)]) for i, r in enumerate(sizes)]
    print(f"\nharvester poll (first poll on an empty state; second poll right after)\n")
    header = f"{'entries':<{width}} | " + " | ".join(f"{r['entries']:>{w},}" for r, w in zip(sizes, widths))
    print(header)
    print("-" * len(header))
    for (name, _), row in zip(rows, cells):
        print(f"{name:<{width}} | " + " | ".join(f"{c:>{w}}" for c, w in zip(row, widths)))

    peer, bare = res["peer"], res["bare"]
    print("\npeers\n")
    print(f"{'':<40} | {'pages':>6} | {'written':>7} | {'wall s':>7} | {'pages/s':>7} | {'CPU s/page':>10} | {'peak RSS MB':>11}")
    print("-" * 105)
    if peer:
        print(f"{'trafilatura CLI --feed --parallel 2':<40} | {peer['pages_fetched']:>6} | {peer['documents_written']:>7} | "
              f"{peer['run']['wall']:>7.1f} | {peer['pages_per_s']:>7.1f} | {peer['cpu_s_per_page']:>10.4f} | "
              f"{_mb(peer['run']['peak_rss_tree']):>11}")  # fmt: skip
    print(f"{'trafilatura.extract, 1 core, in-process':<40} | {bare['pages']:>6} | {'':>7} | {sum(bare['seconds']):>7.1f} | "
          f"{bare['docs_per_s']:>7.1f} | {1 / bare['docs_per_s']:>10.4f} | {'':>11}")  # fmt: skip
    print(f"  (trafilatura.extract: each page's faster of two passes, before and after the polls: "
          + " and ".join(f"{x:.1f}" for x in bare["pass_docs_per_s"]) + " docs/s; CPU s/page is wall s/page there)")
    if peer:
        print(f"\ntrafilatura CLI: {' '.join(peer['argv'])}\n  settings.cfg overrides: "
              + peer["settings_cfg"].replace("[DEFAULT]\n", "").strip().replace("\n", ", ")
              + f"; its server requests: {peer['server']['requests']}")  # fmt: skip

    st = res["state"]
    if st:
        print(f"\npoll of {st['new_entries']} new entries: empty state vs {st['state_entries']:,} seen entries + records "
              f"({st['db_mb']:.0f} MB, pre-filled in {st['prefill_s']:.1f} s)")  # fmt: skip
        for variant in ("empty", "prefilled"):
            walls = ", ".join(f"{x['wall']:.2f}" for x in st["runs"][variant])
            cpus = ", ".join(f"{x['cpu_main']:.2f}" for x in st["runs"][variant])
            print(f"  {variant:<9} wall s: {walls}  (best {st['best_wall'][variant]:.2f});  main process CPU s: {cpus}")

    checks = []
    for r in sizes:
        rate = r["bare_mix_docs_per_s"]
        checks.append({"target": f"{r['entries']:,}: poll pages/s >= {TARGETS['vs_extract']}x bare extract 1 core",
                       "value": f"{r['pages_per_s']:.1f} / {rate:.1f} = {r['pages_per_s'] / rate:.2f}x",
                       "met": r["pages_per_s"] >= TARGETS["vs_extract"] * rate})  # fmt: skip
        if peer:
            checks.append({"target": f"{r['entries']:,}: poll pages/s >= {TARGETS['vs_cli']}x trafilatura CLI feed mode",
                           "value": f"{r['pages_per_s']:.1f} / {peer['pages_per_s']:.1f} = {r['pages_per_s'] / peer['pages_per_s']:.2f}x",
                           "met": r["pages_per_s"] >= TARGETS["vs_cli"] * peer["pages_per_s"]})  # fmt: skip
        checks.append({"target": f"{r['entries']:,}: second poll bytes <= {TARGETS['second_poll']:.0%} of first",
                       "value": f"{r['bytes_ratio'] * 100:.3f} %", "met": r["bytes_ratio"] <= TARGETS["second_poll"]})  # fmt: skip
    if sizes:  # the sizes are 10,000 and 1,000: the largest and the smallest measured stand in
        big = max(sizes, key=lambda r: r["entries"])
        small = min(sizes, key=lambda r: r["entries"])
        rss = big["first"]["peak_rss_tree"] / 1e6
        checks.append({"target": f"{big['entries']:,}: peak RSS (tree) <= {TARGETS['rss_mb']:.0f} MB", "value": f"{rss:.0f} MB",
                       "met": rss <= TARGETS["rss_mb"]})  # fmt: skip
        if big is not small:
            growth = big["first"]["peak_rss_tree"] / small["first"]["peak_rss_tree"] - 1
            checks.append({"target": f"peak RSS (tree) {big['entries']:,} within {TARGETS['rss_growth']:.0%} of {small['entries']:,}",
                           "value": f"{_mb(big['first']['peak_rss_tree'])} vs {_mb(small['first']['peak_rss_tree'])} MB ({growth:+.0%})",
                           "met": growth <= TARGETS["rss_growth"]})  # fmt: skip
    if st:
        checks.append({"target": f"poll with {st['state_entries']:,} seen entries <= {TARGETS['state']}x empty state",
                       "value": f"{st['ratio']:.2f}x", "met": st["ratio"] <= TARGETS["state"]})  # fmt: skip
    print("\ntargets\n")
    if res.get("quick"):
        print(f"  (--quick is a smoke run: the poll's ~1.5 s start-up weighs on {QUICK_SIZE} pages; judge the"
              " rates on the full run)\n")  # fmt: skip
    tw = max(len(c["target"]) for c in checks)
    for c in checks:
        print(f"  {c['target']:<{tw}}  {c['value']:<28} {_verdict(c['met'])}")
    if res.get("profile"):
        print("\n" + res["profile"])
    return checks


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SIZE} entries only, {QUICK_STATE_ENTRIES:,} state entries (under a minute)")  # fmt: skip
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"N*M entries per poll, comma-separated (default {DEFAULT_SIZES})")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"benchmark data directory (default {DEFAULT_DATA})")
    parser.add_argument("--json", type=Path, metavar="OUT", help="save the figures as JSON")
    parser.add_argument("--profile", action="store_true", help="also poll the first size with the main process under cProfile")
    parser.add_argument("--no-peer", action="store_true", help="skip trafilatura's CLI feed mode")
    parser.add_argument("--no-state", action="store_true", help="skip the poll against a large state")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (configs, states, records)")
    args = parser.parse_args(argv)

    sizes = [QUICK_SIZE] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    state_entries = QUICK_STATE_ENTRIES if args.quick else STATE_ENTRIES
    subreaper = _set_subreaper()
    t0 = time.perf_counter()

    import trafilatura

    from harvester.workers import cpu_count

    machine = {"nproc": cpu_count(), "cpu": cpu_model(), "python": platform.python_version(),
               "trafilatura": trafilatura.__version__, "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "load_at_start": os.getloadavg()[0], "subreaper": subreaper, "commit": _commit()}  # fmt: skip
    pages = load_pages(args.data, quick=args.quick)  # --quick: the first 30 pages, as the other scripts
    templates = [build_template(p) for p in pages]
    print(f"{len(templates)} page templates ({sum(len(b) for t in templates for b in t.pieces) / 1e6:.1f} MB,"
          f" {sum(len(t.slots) for t in templates)} slots) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)  # fmt: skip
    sets, first = {}, 0
    for size in sizes:
        sets[f"s{size}"] = FeedSet(f"s{size}", size, ENTRIES_PER_FEED, first)
        first += size
    sets["state"] = FeedSet("state", QUICK_STATE_NEW_ENTRIES if args.quick else STATE_NEW_ENTRIES, ENTRIES_PER_FEED, first)
    server = BenchServer(templates, sets)
    work = Path(tempfile.mkdtemp(prefix="harvester-bench-poll-"))
    env = clean_env()
    res: dict = {"machine": machine, "settings": SETTINGS, "quick": args.quick, "work": str(work), "sizes": [],
                 "peer": None, "bare": None, "state": None, "profile": None}  # fmt: skip
    try:
        print("  bare trafilatura.extract, 1 core ...", file=sys.stderr)
        res["bare"] = bare_extract(templates, server.base)
        for size in sizes:
            fs = sets[f"s{size}"]
            r = bench_size(fs, server, work, env)
            r["bare_mix_docs_per_s"] = mix_rate(res["bare"], fs)
            res["sizes"].append(r)
        if not args.no_peer:
            res["peer"] = run_trafilatura_cli(sets[f"s{sizes[0]}"], server, work, env)
        if not args.no_state:
            res["state"] = bench_state(sets["state"], state_entries, server, work, env, repeat=1 if args.quick else STATE_REPEAT)
        if args.profile:
            res["profile"] = profile_poll(sets[f"s{sizes[0]}"], server, work, env)
        print("  bare trafilatura.extract, 1 core, second pass ...", file=sys.stderr)
        res["bare"] = bare_extract(templates, server.base, before=res["bare"])
        for r, size in zip(res["sizes"], sizes):
            r["bare_mix_docs_per_s"] = mix_rate(res["bare"], sets[f"s{size}"])
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    machine["load_at_end"] = os.getloadavg()[0]
    machine["commit_at_end"] = _commit()
    machine["total_s"] = time.perf_counter() - t0
    res["checks"] = print_report(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--_trafilatura-cli"]:  # the peer's process: see trafilatura_cli_shim
        trafilatura_cli_shim(sys.argv[2:])
    else:
        sys.exit(main())
