"""robots.txt rules under RFC 9309, on top of :mod:`urllib.robotparser`.

The fetching lives in :meth:`harvester.fetch.Fetcher.robots_allowed`; this module
turns what that fetch produced into rules::

    200 + body            -> parse the first 500 KiB (garbage gives no rules: allow)
    4xx (not 429), or
    more than 5 redirects -> "unavailable": allow everything        (RFC 9309 2.3.1.3)
    429, 5xx, timeout,
    redirect target down  -> "unreachable": disallow everything     (RFC 9309 2.3.1.4)
    the host itself down  -> the fetch error itself (private address, DNS, refused,
                             TLS), remembered for the run: the caller reports why

Python 3.11's parser would treat an unreachable file as "allow all", so the
status policy is encoded here, not left to ``RobotFileParser.read()``.
Known limit: the 3.11 parser matches path prefixes only (no ``*`` / ``$``).
"""

from __future__ import annotations

import re
from urllib.robotparser import RobotFileParser

import httpx

from .errors import UnsupportedScheme

MAX_BYTES = 500 * 1024  # RFC 9309 2.5: parse at least the first 500 KiB


def location(url: str) -> tuple[str, str]:
    """``(cache key, robots.txt URL)`` for the origin of URL."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https"):
        raise UnsupportedScheme(f"robots.txt needs an http(s) URL, got {parsed.scheme!r}", target=url)
    origin = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"
    return origin, str(httpx.URL(origin + "/robots.txt"))


def product_token(user_agent: str) -> str:
    """``"harvester/0.1 (+https://...)"`` -> ``"harvester"`` (RFC 9309 2.2.1)."""
    match = re.match(r"[A-Za-z_-]+", user_agent)
    return match.group(0).lower() if match else "harvester"


def parse(body: bytes) -> RobotFileParser:
    """Rules from the first :data:`MAX_BYTES` of BODY; a cut last line is dropped."""
    if len(body) >= MAX_BYTES:
        body = body[:MAX_BYTES].rpartition(b"\n")[0]
    rules = RobotFileParser()
    rules.parse(body.decode("utf-8-sig", errors="replace").splitlines())
    return rules


def for_status(status: int) -> RobotFileParser:
    """Rules for a robots.txt that answered STATUS instead of a file."""
    return allow_all() if 400 <= status < 500 and status != 429 else disallow_all()


def allow_all() -> RobotFileParser:
    rules = RobotFileParser()
    rules.allow_all = True
    return rules


def disallow_all() -> RobotFileParser:
    rules = RobotFileParser()
    rules.disallow_all = True
    return rules
