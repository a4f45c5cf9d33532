"""fetch: one guarded HTTP GET, and robots.txt, for pages we do not trust.

:meth:`Fetcher.get` reads top to bottom::

    check the URL (http/https, no private IP literal)
    -> wait for a slot (global cap, per-host cap, per-host delay between starts)
    -> one hop under what is left of the deadline:
         DNS -> refuse private answers -> connect to the checked IP (pinned)
         -> status: redirect? 304? 4xx/5xx -> HTTPStatus
         -> body: Content-Length over the cap? refused; else raw bytes through
            our own bounded gzip/deflate decoder, BodyTooLarge past the cap
    -> redirect: re-check, next hop (TooManyRedirects past settings.max_redirects)

Every httpx / httpcore / ssl / socket error is translated into
:mod:`harvester.errors` here; nothing else leaks out.

Why not httpx's own features: its decoders have no output cap (a 1 MiB gzip
becomes 1 GiB in memory), it passes unknown encodings through raw, its read
timeout is per chunk with no total deadline, and DNS happens inside httpcore
where no SSRF check can see it (see shared/research/reliability.md).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import dataclasses
import email.utils
import functools
import ipaddress
import re
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.robotparser import RobotFileParser

import httpcore
import httpx

from . import robots
from .config import Settings
from .errors import (
    BodyTooLarge,
    ConnectFailed,
    DNSFailure,
    FetchError,
    FetchTimeout,
    HTTPStatus,
    PrivateAddress,
    ReadTimeout,
    TLSFailure,
    TooManyRedirects,
    TruncatedBody,
    UnsupportedContentType,
    UnsupportedEncoding,
    UnsupportedScheme,
)

Resolver = Callable[[str, int], Awaitable[list[str]]]

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
FEED_ACCEPT = (
    "application/rss+xml,application/atom+xml,application/feed+json,"
    "application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5"
)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
ACCEPT_ENCODING = "gzip, deflate"  # the only codings we decode ourselves
MAX_RETRY_AFTER = 86400.0  # a server cannot park us for more than a day
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HOST_DOWN = (PrivateAddress, DNSFailure, ConnectFailed, TLSFailure)  # no request reached the host
_STEP = 64 * 1024  # decompressed bytes produced per zlib call
_SCHEME = re.compile(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):")


# --- the response ------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """A finished 2xx or 304 answer, body decoded and within the cap."""

    url: str  # final URL after redirects
    status: int
    headers: httpx.Headers
    body: bytes
    redirects: tuple[str, ...] = ()  # the URLs that answered with a redirect, in order

    def etag(self) -> str | None:
        return self.headers.get("etag") or None

    def last_modified(self) -> str | None:
        return self.headers.get("last-modified") or None

    def retry_after(self, now: float | None = None) -> float | None:
        """Seconds asked for by Retry-After (``now`` is epoch seconds)."""
        return retry_after(self.headers, now)

    def max_age(self) -> float | None:
        """Seconds the answer stays fresh; 0 for no-store / no-cache / ``Expires: 0``."""
        return max_age(self.headers)

    def content_type(self) -> str:
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()

    def text(self) -> str:
        return decode_html(self.body, self.headers.get("content-type"))


def retry_after(headers: httpx.Headers, now: float | None = None) -> float | None:
    """Retry-After as seconds (delta or HTTP-date), clamped to a day; junk -> None."""
    value = headers.get("retry-after", "").strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    when = _http_date(value)
    if when is None:
        return None
    delay = when - (time.time() if now is None else now)
    return min(max(delay, 0.0), MAX_RETRY_AFTER)


def max_age(headers: httpx.Headers) -> float | None:
    directives = _cache_control(headers.get("cache-control", ""))
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    for name in ("max-age", "s-maxage"):
        seconds = directives.get(name, "")
        if seconds.isascii() and seconds.isdigit():
            return float(seconds)
    if "expires" not in headers:
        return None
    expires = _http_date(headers["expires"])  # "0" or junk means already expired
    served = _http_date(headers.get("date", "")) or time.time()
    return 0.0 if expires is None else max(expires - served, 0.0)


def _cache_control(value: str) -> dict[str, str]:
    directives = {}
    for part in value.lower().split(","):
        name, _, arg = part.partition("=")
        directives[name.strip()] = arg.strip().strip('"')
    return directives


def _http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


# --- the fetcher -------------------------------------------------------------


class _HostGate:
    """Per-host politeness: at most N in flight, starts at least DELAY apart."""

    def __init__(self, limit: int) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.turn = asyncio.Lock()
        self.last_start = float("-inf")


class Fetcher:
    """Guarded GETs sharing one connection pool, politeness state and robots cache.

    Use one Fetcher per event loop (``async with Fetcher(settings) as f``).
    ``transport`` replaces the guarded network transport (tests pass
    ``httpx.MockTransport`` or a :class:`GuardedTransport` over a fake backend);
    ``resolver`` is used only by the default transport.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._clock = clock
        if transport is None:
            transport = GuardedTransport(
                allow_private=settings.allow_private_addresses,
                resolver=resolver,
                max_connections=settings.concurrency,
            )
        self._transport = transport
        self._timeouts = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.deadline,
        ).as_dict()
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, _HostGate] = {}
        self._robots: dict[str, RobotFileParser | FetchError] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._token = robots.product_token(settings.user_agent)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        accept: str = HTML_ACCEPT,
    ) -> Response:
        """GET URL, following redirects; 2xx and 304 return, anything else raises.

        ``settings.deadline`` bounds the time spent on the network over all hops;
        time spent waiting for a free slot or for the per-host delay is not counted.
        HEADERS (e.g. If-None-Match) go to every hop; User-Agent, Accept and
        Accept-Encoding are always ours.
        """
        limit = max_bytes or self._settings.max_body_bytes
        return await self._fetch(url, headers, limit, accept, truncate=False)

    async def robots_allowed(self, url: str) -> bool:
        """May we fetch URL? robots.txt is read once per origin per Fetcher.

        When the host itself cannot be reached at all (private address, DNS,
        refused, TLS) this raises that error, remembered for the run, so the
        caller reports the real cause instead of "robots.txt disallows".
        """
        if self._settings.robots == "ignore":
            return True
        origin, robots_url = robots.location(url)
        async with self._robots_locks.setdefault(origin, asyncio.Lock()):
            if origin not in self._robots:
                self._robots[origin] = await self._load_robots(robots_url)
        rules = self._robots[origin]
        if isinstance(rules, FetchError):
            raise type(rules)(rules.message, target=url)
        return rules.can_fetch(self._token, url)

    async def _load_robots(self, robots_url: str) -> RobotFileParser | FetchError:
        try:
            reply = await self._fetch(robots_url, None, robots.MAX_BYTES, "text/plain", truncate=True)
        except HTTPStatus as exc:
            return robots.for_status(exc.status)
        except TooManyRedirects:
            return robots.allow_all()  # RFC 9309 2.3.1.2: treat as unavailable
        except _HOST_DOWN as exc:
            # the origin itself is down: say why; a redirect target down: disallow
            return robots.disallow_all() if getattr(exc, "hop", None) else exc
        except FetchError:
            return robots.disallow_all()  # RFC 9309 2.3.1.4: timeouts, 5xx-like trouble
        return robots.parse(reply.body)

    # one request: hops, each under the slot rules and the remaining deadline

    async def _fetch(
        self, url: str, headers: Mapping[str, str] | None, limit: int, accept: str, *, truncate: bool
    ) -> Response:
        sent = httpx.Headers(headers or {})
        sent["User-Agent"] = self._settings.user_agent
        sent["Accept"] = accept
        sent["Accept-Encoding"] = ACCEPT_ENCODING  # never more than we decode ourselves
        cookies = httpx.Cookies()  # lives for one get(): redirect dances work, nothing is tracked
        left = self._settings.deadline
        hops: list[str] = []
        try:
            return await self._follow(url, sent, cookies, limit, truncate, left, hops)
        except FetchError as exc:
            # a failure on a later hop is still the failure of the URL that was asked for
            if hops and exc.target != hops[0]:
                exc.message = f"{exc.message} (after redirects, at {exc.target})"
                exc.hop, exc.target = exc.target, hops[0]
            raise

    async def _follow(
        self, url: str, sent: httpx.Headers, cookies: httpx.Cookies, limit: int, truncate: bool, left: float,
        hops: list[str],
    ) -> Response:
        while True:
            url = self._checked_url(url)
            async with self._slot(url):
                started = self._clock()
                try:
                    response = await self._timed_hop(url, sent, cookies, limit, truncate, left)
                finally:
                    left -= self._clock() - started
            hops.append(url)
            target = _redirect_target(response)
            if target is None:
                return dataclasses.replace(response, redirects=tuple(hops[:-1]))
            if len(hops) > self._settings.max_redirects:
                loop = " (a redirect loop)" if target in hops else ""
                raise TooManyRedirects(f"more than {self._settings.max_redirects} redirects{loop}", target=hops[0])
            url = target

    def _checked_url(self, url: str) -> str:
        _check_scheme(url)
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise FetchError(f"invalid URL: {exc}", target=str(url)) from None
        if not parsed.host:
            raise FetchError("invalid URL: no host", target=url)
        literal = _ip_literal(parsed.host)
        if literal is not None and not self._settings.allow_private_addresses and not is_public_address(literal):
            raise PrivateAddress(f"{parsed.host} is a private or reserved address", target=url)
        return str(parsed.copy_with(fragment=None))

    @contextlib.asynccontextmanager
    async def _slot(self, url: str) -> AsyncIterator[None]:
        gate = self._hosts.setdefault(httpx.URL(url).host, _HostGate(self._settings.per_host_concurrency))
        async with gate.slots, self._slots:
            async with gate.turn:
                wait = gate.last_start + self._settings.per_host_delay - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                gate.last_start = self._clock()
            yield

    async def _timed_hop(
        self, url: str, headers: httpx.Headers, cookies: httpx.Cookies, limit: int, truncate: bool, left: float
    ) -> Response:
        timer = asyncio.timeout(max(left, 0.0))
        try:
            async with timer:
                return await self._hop(url, headers, cookies, limit, truncate)
        except TimeoutError:
            if not timer.expired():
                raise
            raise FetchTimeout(f"no complete answer within {self._settings.deadline:g}s", target=url) from None

    async def _hop(
        self, url: str, headers: httpx.Headers, cookies: httpx.Cookies, limit: int, truncate: bool
    ) -> Response:
        try:
            request = httpx.Request("GET", url, headers=headers, extensions={"timeout": self._timeouts})
            cookies.set_cookie_header(request)
            reply = await self._transport.handle_async_request(request)
            reply.request = request
            try:
                with contextlib.suppress(Exception):  # cookies are best effort; junk is dropped
                    cookies.extract_cookies(reply)
                body = await self._body(reply, url, limit, truncate)
            finally:
                await reply.aclose()
        except FetchError as exc:
            exc.target = exc.target or url
            raise
        except _LOWER_ERRORS as exc:
            raise _translate(exc, url, self._settings) from exc
        return Response(url=url, status=reply.status_code, headers=reply.headers, body=body)

    async def _body(self, reply: httpx.Response, url: str, limit: int, truncate: bool) -> bytes:
        status = reply.status_code
        if status == 304 or (status in _REDIRECTS and "location" in reply.headers):
            return b""
        if not 200 <= status < 300:
            wait = retry_after(reply.headers)
            raise HTTPStatus(f"HTTP {status} {reply.reason_phrase}".strip(), target=url, status=status, retry_after=wait)
        return await _read_body(reply, limit, truncate=truncate)


def _check_scheme(url: str) -> None:
    """Before any parsing: a data: or javascript: URL need not be valid to be refused."""
    scheme = _SCHEME.match(url)
    if scheme is None or scheme.group(1).lower() not in ("http", "https"):
        named = f"{scheme.group(1).lower()}:" if scheme else "no scheme"
        raise UnsupportedScheme(f"only http and https are fetched, not {named}", target=url[:200])


def _redirect_target(response: Response) -> str | None:
    if response.status not in _REDIRECTS or "location" not in response.headers:
        return None
    location = response.headers["location"].strip()
    if _SCHEME.match(location):
        _check_scheme(location)
    try:
        target = httpx.URL(response.url).join(location)
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise FetchError(f"redirect to an invalid URL: {exc}", target=response.url) from None
    return str(target.copy_with(fragment=None))


# --- the body: capped, decoded by us -------------------------------------------


async def _read_body(reply: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    """The decoded body of REPLY, at most LIMIT bytes.

    Over the cap: BodyTooLarge, or with ``truncate`` the first LIMIT bytes.
    Memory stays near LIMIT + a few 64 KiB steps whatever the compression ratio.
    """
    decoder = _BodyDecoder(reply.headers.get_list("content-encoding", split_commas=True))
    declared = _content_length(reply.headers)
    if declared is not None and declared > limit and not truncate:
        raise BodyTooLarge(f"Content-Length {declared} is over the {limit}-byte cap")
    pieces: list[bytes] = []  # joined once at the end: no growing buffer to over-allocate
    size = received = 0
    try:
        # reply.stream is what aiter_raw() reads, minus its "consumed" flag: a
        # MockTransport answer built with content= is read eagerly by httpx, and
        # its raw bytes must still come through our decoder and cap.
        async for raw in reply.stream:  # type: ignore[union-attr]
            received += len(raw)
            for piece in decoder.feed(raw):
                pieces.append(piece)
                size += len(piece)
                if size > limit:
                    return _over_cap(pieces, limit, truncate)
        pieces.extend(decoder.finish())
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        raise TruncatedBody(f"connection closed mid-body after {received} bytes: {exc}") from exc
    if declared is not None and received < declared:
        raise TruncatedBody(f"got {received} of {declared} bytes")
    body = b"".join(pieces)
    return body if len(body) <= limit else _over_cap([body], limit, truncate)


def _over_cap(pieces: list[bytes], limit: int, truncate: bool) -> bytes:
    if truncate:
        return b"".join(pieces)[:limit]
    raise BodyTooLarge(f"body over the {limit}-byte cap (after decoding)")


def _content_length(headers: httpx.Headers) -> int | None:
    value = headers.get("content-length", "").split(",")[0].strip()
    return int(value) if value.isascii() and value.isdigit() else None


class _Inflate:
    """One gzip or deflate layer: at most _STEP bytes in and out per zlib call.

    Bounding the input too matters: zlib copies the unread rest of its input
    into ``unconsumed_tail`` on every call, so a 1 MiB chunk fed whole would
    cost 1 MiB of copying per 64 KiB of output.
    """

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._zlib: Any = None
        self._head = b""  # deflate: bytes held until the zlib header can be sniffed

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            data = self._head + data
            if self.coding == "deflate" and len(data) < 2:
                self._head = data
                return
            self._zlib = zlib.decompressobj(_wbits(self.coding, data))
        view = memoryview(data)
        for start in range(0, len(view), _STEP):
            yield from self._inflate(view[start : start + _STEP])

    def _inflate(self, data: Any) -> Iterator[bytes]:
        while data:
            if self._zlib.eof:
                if self.coding != "gzip" or bytes(data[:2]) != b"\x1f\x8b":
                    return  # bytes after the end of the stream are ignored
                self._zlib = zlib.decompressobj(_wbits("gzip", data))  # next gzip member
            out = self._zlib.decompress(data, _STEP)
            data = self._zlib.unconsumed_tail or self._zlib.unused_data
            if out:
                yield out

    def finish(self) -> Iterator[bytes]:
        if self._zlib is None:
            if self._head:
                raise TruncatedBody(f"{self.coding} stream ends early")
            return
        rest = self._zlib.flush()
        if rest:
            yield rest
        if not self._zlib.eof:
            raise TruncatedBody(f"{self.coding} stream ends early")


def _wbits(coding: str, head: bytes) -> int:
    if coding == "gzip":
        return 32 + zlib.MAX_WBITS  # gzip, or zlib mislabelled as gzip
    zlib_header = head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
    return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS  # raw deflate has no header


class _BodyDecoder:
    """Undo Content-Encoding layers in reverse order of application."""

    def __init__(self, codings: list[str]) -> None:
        names = [c.strip().lower() for c in codings]
        names = ["gzip" if n == "x-gzip" else n for n in names if n and n != "identity"]
        unknown = [n for n in names if n not in ("gzip", "deflate")]
        if unknown:
            raise UnsupportedEncoding(f"Content-Encoding {', '.join(unknown)} is not decoded (we ask for {ACCEPT_ENCODING})")
        self.layers = [_Inflate(n) for n in reversed(names)]

    def feed(self, data: bytes, start: int = 0) -> Iterator[bytes]:
        if start == len(self.layers):
            yield data
            return
        try:
            for piece in self.layers[start].feed(data):
                yield from self.feed(piece, start + 1)
        except zlib.error as exc:
            raise UnsupportedEncoding(f"corrupt {self.layers[start].coding} body: {exc}") from None

    def finish(self) -> Iterator[bytes]:
        for index, layer in enumerate(self.layers):
            try:
                for piece in layer.finish():
                    yield from self.feed(piece, index + 1)
            except zlib.error as exc:
                raise UnsupportedEncoding(f"corrupt {layer.coding} body: {exc}") from None


# --- errors from below, translated -------------------------------------------

_LOWER_ERRORS = (
    httpx.HTTPError,
    httpx.InvalidURL,
    httpx.StreamError,
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    OSError,
)


def _translate(exc: BaseException, url: str, settings: Settings) -> FetchError:
    chain = _chain(exc)
    detail = str(exc) or type(exc).__name__
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return TLSFailure(f"TLS handshake failed: {detail}", target=url)
    if any(isinstance(e, socket.gaierror) for e in chain):
        return DNSFailure(f"name does not resolve: {detail}", target=url)
    if isinstance(exc, (httpx.ReadTimeout, httpcore.ReadTimeout)):
        return ReadTimeout(f"server silent for more than {settings.read_timeout:g}s", target=url)
    if isinstance(exc, (httpx.ConnectTimeout, httpcore.ConnectTimeout)):
        return ConnectFailed(f"connect timed out after {settings.connect_timeout:g}s", target=url)
    if isinstance(exc, (httpx.TimeoutException, httpcore.TimeoutException)):
        return FetchTimeout(f"timed out: {detail}", target=url)
    if isinstance(exc, (httpx.NetworkError, httpcore.NetworkError, OSError)):
        return ConnectFailed(f"connection failed: {detail}", target=url)
    if isinstance(exc, (httpx.UnsupportedProtocol, httpcore.UnsupportedProtocol)):
        return UnsupportedScheme(detail, target=url)
    return FetchError(f"HTTP exchange failed: {detail}", target=url)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


# --- the private-address guard, pinned at connect time ------------------------

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(address: str) -> bool:
    """True only for a globally routable unicast address.

    ``is_global`` already rules out loopback, RFC 1918, link-local, CGNAT,
    ULA and Teredo; multicast and the rest are refused explicitly, and an IPv4
    address carried inside IPv6 (v4-mapped, 6to4, NAT64) is judged as itself.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    embedded = _embedded_ipv4(ip) if ip.version == 6 else None
    if embedded is not None:
        return is_public_address(str(embedded))
    private = (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified or ip in _CGNAT
    )
    return ip.is_global and not private


def _embedded_ipv4(ip: Any) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:  # ::ffff:127.0.0.1
        return ip.ipv4_mapped
    if ip.sixtofour:  # 2002:7f00:1::
        return ip.sixtofour
    if ip in _NAT64:  # 64:ff9b::10.0.0.1
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _ip_literal(host: str) -> str | None:
    """HOST itself (brackets removed) when it is an IP address, else None."""
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return None
    return bare


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer for HOST, in its order of preference."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


async def _resolve(resolver: Resolver, host: str, port: int, timeout: float | None) -> list[str]:
    try:
        answer = await asyncio.wait_for(resolver(host, port), timeout)
    except asyncio.TimeoutError:
        raise DNSFailure(f"looking up {host} took more than {timeout:g}s") from None
    except (OSError, UnicodeError) as exc:
        raise DNSFailure(f"{host} does not resolve: {exc}") from None
    addresses = [_ip_literal(a) for a in answer]
    if not addresses or None in addresses:
        raise DNSFailure(f"{host} resolved to no usable address: {answer!r}")
    return addresses  # type: ignore[return-value]


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that dials only addresses that passed the guard.

    httpcore hands us the URL's host name; we resolve it once, refuse the lot if
    any answer is private (unless allowed), then ask the inner backend to
    connect to the checked IP itself, so a second DNS answer can never be used.
    TLS SNI and the Host header still carry the name (httpcore takes them from
    the request, not from this socket).
    """

    def __init__(
        self, inner: httpcore.AsyncNetworkBackend, resolver: Resolver | None = None, *, allow_private: bool = False
    ) -> None:
        self._inner = inner
        self._resolver = resolver or system_resolver
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.checked_addresses(host, port, timeout)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:  # refused / unreachable: try the next checked address
                failure = exc
        assert failure is not None
        raise failure

    async def checked_addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        literal = _ip_literal(host)
        addresses = [literal] if literal else await _resolve(self._resolver, host, port, timeout)
        refused = [a for a in addresses if not is_public_address(a)]
        if refused and not self._allow_private:
            raise PrivateAddress(f"{host} resolves to {refused[0]}, a private or reserved address")
        return addresses

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise PrivateAddress("unix sockets are never dialled")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def _verifying_context() -> ssl.SSLContext:
    """certifi's CA bundle, loaded once per process (loading costs ~100 ms)."""
    return httpx.create_ssl_context(trust_env=False)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport with its connection pool dialling through :class:`PinnedBackend`."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        max_connections: int = 10,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        context = ssl_context or _verifying_context()
        super().__init__(verify=context, trust_env=False)
        self.backend = PinnedBackend(network_backend or httpcore.AnyIOBackend(), resolver, allow_private=allow_private)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            network_backend=self.backend,
        )


# --- text: bytes -> str, whatever the page claims -----------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^"';,\s]+)""", re.I)
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]{0,1024}?charset\s*=\s*["']?\s*([a-z0-9_.:\-]{1,40})"""
    rb"""|<\?xml\b[^>]{0,256}?encoding\s*=\s*["']([a-z0-9_.:\-]{1,40})""",
    re.I,
)
_META_WINDOW = 64 * 1024  # a <meta charset> later than this is not looked for
_DETECT_WINDOW = 64 * 1024
_UNSAFE_CODECS = ("escape", "idna", "punycode", "undefined", "utf_7", "mbcs", "oem")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_C0_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])  # the C0 part of _CONTROLS
_BOM_PREFIXES = tuple(bom for bom, _ in _BOMS)


def decode_html(body: bytes, content_type: str | None) -> str:
    """BODY as text: BOM, then valid UTF-8, then header, then <meta>, then detection.

    Never raises; NUL, C0 controls (except tab and newlines) and lone
    surrogates are removed.
    """
    text = None if body.startswith(_BOM_PREFIXES) else _utf8(body)
    if text is not None:  # most pages: decoded once, as detect_charset would check it
        # In valid UTF-8 a C0 control is exactly a C0 byte, and strict decoding leaves no
        # lone surrogate: the (slow) scan of the text is needed only when the bytes hold a
        # control (bytes.translate is ~5x cheaper than the regex on the text).
        if len(body.translate(None, _C0_BYTES)) != len(body):
            text = _CONTROLS.sub("", text)
        return text
    encoding, _source = detect_charset(body, content_type)
    try:
        text = body.decode(encoding, errors="replace")
    except (LookupError, UnicodeError, TypeError):
        text = body.decode("cp1252", errors="replace")
    return _CONTROLS.sub("", text)


def detect_charset(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """``(python codec, source)``; source is bom / utf-8 / header / meta / detected / fallback.

    A declared charset that the bytes contradict ("utf-8" on invalid UTF-8) is
    skipped; callers may warn when the source is "detected".
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return encoding, "bom"
    if _utf8(body) is not None:
        return "utf-8", "utf-8"
    header = _HEADER_CHARSET.search(content_type or "")
    encoding = _codec(header.group(1)) if header else None
    if encoding:
        return encoding, "header"
    meta = _META_CHARSET.search(body[:_META_WINDOW])
    encoding = _codec((meta.group(1) or meta.group(2)).decode("ascii"), from_meta=True) if meta else None
    if encoding:
        return encoding, "meta"
    try:
        detected = _detect(body[:_DETECT_WINDOW])
    except Exception:  # a third-party detector on hostile bytes must not sink the page
        detected = None
    return (detected, "detected") if detected else ("cp1252", "fallback")


def _utf8(body: bytes) -> str | None:
    """BODY as text if it is valid UTF-8, else None."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _codec(label: str, *, from_meta: bool = False) -> str | None:
    """Python codec for a charset label we can trust on bytes that are not UTF-8."""
    try:
        info = codecs.lookup(label.strip().strip("\"'"))
    except (LookupError, ValueError):
        return None
    name = info.name
    if not getattr(info, "_is_text_encoding", True) or any(bad in name.replace("-", "_") for bad in _UNSAFE_CODECS):
        return None
    if name == "utf-8" or (from_meta and name.startswith(("utf-16", "utf-32"))):
        return None  # the bytes already proved the label wrong, or a meta tag cannot be UTF-16
    if name in ("ascii", "latin-1", "iso8859-1"):
        return "cp1252"  # what browsers do (WHATWG Encoding)
    return name


def _detect(sample: bytes) -> str | None:
    """charset_normalizer's guess, preferring cp1252 when nothing sets a language apart."""
    from charset_normalizer import from_bytes

    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        return None
    if best.coherence == 0 and any(
        "cp1252" in m.could_be_from_charset and m.chaos <= best.chaos for m in matches
    ):
        return "cp1252"
    encoding = _codec(best.encoding, from_meta=True)
    return encoding if encoding and "<".encode(encoding, errors="ignore") == b"<" else None


# --- one page for the CLI -----------------------------------------------------


def fetch_page(url: str, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> tuple[Response, str]:
    """Fetch one HTML page (blocking; not from inside a running event loop).

    Non-HTML answers (PDF, images, text/plain ...) raise UnsupportedContentType.
    """

    async def one() -> Response:
        async with Fetcher(settings, transport=transport) as fetcher:
            return await fetcher.get(url, accept=HTML_ACCEPT)

    response = asyncio.run(one())
    return response, html_of(response)


def html_of(response: Response) -> str:
    """The page's decoded HTML; a PDF, an image, text/plain ... raise UnsupportedContentType.
    No Content-Type at all is accepted when the body starts like markup."""
    kind = response.content_type()
    if kind not in HTML_TYPES and not (kind == "" and response.body.lstrip()[:1] == b"<"):
        raise UnsupportedContentType(f"expected an HTML page, got {kind or 'no content type'}", target=response.url)
    return response.text()
