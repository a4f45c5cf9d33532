"""harvester.fetch against the fetch cases of shared/research/reliability.md (1-12, 16-17).

Only 127.0.0.1 is ever connected to: real misbehaving servers run on loopback
(tests/hostile.py), every other address goes through a stub resolver and a fake
network backend that fails the test if the guard lets a connection through.
"""

from __future__ import annotations

import asyncio
import codecs
import dataclasses
import email.utils
import gzip
import json
import socket
import time
import tracemalloc
import zlib

import httpx
import pytest

from harvester.config import Settings
from harvester.errors import (
    BodyTooLarge,
    ConnectFailed,
    DNSFailure,
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
from harvester.fetch import (
    Fetcher,
    GuardedTransport,
    Response,
    decode_html,
    detect_charset,
    fetch_page,
    is_public_address,
)

from hostile import (
    fence_loopback,
    FakeNetwork,
    Loopback,
    canned,
    drip,
    endless_chunked,
    gzip_bomb,
    huge_length,
    raw,
    redirect,
    reply,
    silent,
    stub_resolver,
    truncated,
)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    fence_loopback(monkeypatch)


MiB = 1024 * 1024
# Loopback tests must allow private addresses: 127.0.0.1 is one.
LOOPBACK = Settings(
    allow_private_addresses=True,
    connect_timeout=0.5,
    read_timeout=0.5,
    deadline=3.0,
    max_body_bytes=MiB,
    per_host_delay=0.0,
)
GUARDED = dataclasses.replace(LOOPBACK, allow_private_addresses=False)
PUBLIC_IP = "93.184.216.34"  # globally routable; only ever "reached" through FakeNetwork


def fetch(url: str, settings: Settings = LOOPBACK, **kwargs):
    """One Fetcher.get in a fresh event loop; Fetcher keywords and get keywords split by name."""
    made = {k: kwargs.pop(k) for k in ("transport", "resolver") if k in kwargs}

    async def go() -> Response:
        async with Fetcher(settings, **made) as fetcher:
            return await fetcher.get(url, **kwargs)

    return asyncio.run(go())


def mock(handler) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


class OneChunk(httpx.AsyncByteStream):
    """A body handed over as one raw chunk.

    Encoded bodies in mocks go through ``stream=``: ``httpx.Response(content=...)``
    decodes the content itself, eagerly, before our code sees it.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self):
        yield self.data


def encoded(body: bytes, coding: str, status: int = 200) -> httpx.MockTransport:
    return mock(lambda request: httpx.Response(status, headers={"Content-Encoding": coding}, stream=OneChunk(body)))


def fake_transport(settings: Settings, network: FakeNetwork, table: dict[str, list[str]], calls=None) -> GuardedTransport:
    """The real guarded transport, with DNS from TABLE and sockets from NETWORK."""
    return GuardedTransport(
        allow_private=settings.allow_private_addresses,
        resolver=stub_resolver(table, calls),
        network_backend=network,
    )


# --- case 1: gzip bomb --------------------------------------------------------


def traced_peak(action) -> int:
    """Peak bytes allocated while ACTION runs (after one warm-up run, so imports do not count)."""
    action()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_case01_gzip_bomb_stops_at_cap_with_bounded_memory():
    bomb = gzip_bomb()  # 1 GiB of zeros in ~1 MiB, built before memory is traced
    # no Content-Length: the compressed size alone (~1 MiB) would already be refused
    with Loopback({"/bomb": raw(200, bomb, {"Content-Encoding": "gzip"}, length=False)}) as server:

        def attack():
            with pytest.raises(BodyTooLarge, match="after decoding"):
                fetch(server.url("/bomb"), max_bytes=MiB)

        peak = traced_peak(attack)
    assert peak < MiB + 2 * MiB, f"peak {peak / MiB:.1f} MiB"  # measured: cap + 0.5 MiB


def test_case01_gzip_bomb_in_one_raw_chunk_is_still_stepped():
    transport = encoded(gzip_bomb(), "gzip")

    def attack():
        with pytest.raises(BodyTooLarge, match="after decoding"):
            fetch("https://feed.example/bomb", transport=transport, max_bytes=MiB)

    peak = traced_peak(attack)
    assert peak < MiB + 2 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_case01_bomb_is_valid_gzip_of_a_gibibyte():
    bomb = gzip_bomb(decoded=8 * MiB)
    assert len(gzip.decompress(bomb)) == 8 * MiB
    assert len(gzip_bomb()) < 1.1 * MiB


# --- case 2: layered and unknown encodings ----------------------------------------

HTML = b"<html><body><p>caf\xc3\xa9</p></body></html>"


def _raw_deflate(data: bytes) -> bytes:
    z = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return z.compress(data) + z.flush()


@pytest.mark.parametrize(
    "coding, body",
    [
        ("gzip", gzip.compress(HTML)),
        ("gzip, gzip", gzip.compress(gzip.compress(HTML))),
        ("deflate", zlib.compress(HTML)),  # zlib-wrapped, as RFC 9110 says
        ("deflate", _raw_deflate(HTML)),  # raw deflate, as some servers send
        ("gzip, deflate", zlib.compress(gzip.compress(HTML))),
        ("identity", HTML),
        ("x-gzip", gzip.compress(HTML)),
        ("gzip", gzip.compress(HTML[:20]) + gzip.compress(HTML[20:])),  # two gzip members
    ],
)
def test_case02_layered_encodings_are_decoded(coding, body):
    transport = encoded(body, coding)
    assert fetch("https://feed.example/", transport=transport).body == HTML


@pytest.mark.parametrize("coding", ["br", "zstd", "x-unknown", "gzip, br"])
def test_case02_unadvertised_encodings_are_refused_not_passed_raw(coding):
    transport = encoded(b"\x8b\x00junk", coding)
    with pytest.raises(UnsupportedEncoding):
        fetch("https://feed.example/", transport=transport)


def test_case02_corrupt_gzip_is_an_encoding_error():
    transport = encoded(HTML, "gzip")
    with pytest.raises(UnsupportedEncoding):
        fetch("https://feed.example/", transport=transport)


def test_case02_gzip_cut_short_is_truncated():
    cut = gzip.compress(HTML * 50)[:-20]
    transport = encoded(cut, "gzip")
    with pytest.raises(TruncatedBody):
        fetch("https://feed.example/", transport=transport)


def test_case02_we_advertise_only_what_we_decode_and_an_honest_agent():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"ok")

    fetch("https://feed.example/", transport=mock(handler), headers={"accept-encoding": "br", "If-None-Match": '"v1"'})
    sent = seen[0].headers
    assert sent.get_list("accept-encoding") == ["gzip, deflate"]
    assert sent["user-agent"] == LOOPBACK.user_agent
    assert sent["if-none-match"] == '"v1"'


# --- case 3: huge or endless bodies -------------------------------------------------


def test_case03_content_length_5gb_is_refused_before_reading():
    with Loopback({"/": huge_length}) as server:
        started = time.monotonic()
        with pytest.raises(BodyTooLarge, match="Content-Length 5000000000"):
            fetch(server.url("/"))
        assert time.monotonic() - started < LOOPBACK.read_timeout  # did not wait for the body


def test_case03_endless_chunked_body_stops_at_cap():
    with Loopback({"/": endless_chunked}) as server:
        with pytest.raises(BodyTooLarge):
            fetch(server.url("/"), max_bytes=MiB)


# --- cases 4-5: slow and silent servers -----------------------------------------------


def test_case04_slowloris_hits_the_deadline_and_frees_the_worker():
    settings = dataclasses.replace(LOOPBACK, deadline=1.0, concurrency=1, per_host_concurrency=1)
    with Loopback({"/drip": drip(every=0.1), "/ok": reply(200, b"fine")}) as server:

        async def go():
            async with Fetcher(settings) as fetcher:
                started = time.monotonic()
                with pytest.raises(FetchTimeout):
                    await fetcher.get(server.url("/drip"))
                took = time.monotonic() - started
                after = await fetcher.get(server.url("/ok"))  # the single slot is free again
                return took, after

        took, after = asyncio.run(go())
    assert 0.9 <= took <= settings.deadline + settings.read_timeout
    assert after.body == b"fine"


def test_case05_silent_server_is_a_read_timeout():
    with Loopback({"/": silent}) as server:
        started = time.monotonic()
        with pytest.raises(ReadTimeout) as caught:
            fetch(server.url("/"))
    assert time.monotonic() - started < LOOPBACK.read_timeout + 0.5
    assert caught.value.kind == "read_timeout"


# --- case 6: redirects ------------------------------------------------------------------


def _chain(server_routes: dict, hops: int) -> None:
    for i in range(hops):
        server_routes[f"/r{i}"] = redirect(f"/r{i + 1}")
    server_routes[f"/r{hops}"] = reply(200, b"arrived")


def test_case06_redirect_loop_is_too_many_redirects():
    routes = {"/a": redirect("/b"), "/b": redirect("/a")}
    with Loopback(routes) as server:
        with pytest.raises(TooManyRedirects, match="loop"):
            fetch(server.url("/a"))
        assert server.hits["/a"] + server.hits["/b"] == LOOPBACK.max_redirects + 1


def test_case06_more_than_five_hops_is_too_many_redirects():
    routes: dict = {}
    _chain(routes, 6)
    with Loopback(routes) as server:
        with pytest.raises(TooManyRedirects):
            fetch(server.url("/r0"))
        assert server.hits["/r6"] == 0


def test_case06_five_hops_arrive_and_are_recorded():
    routes: dict = {}
    _chain(routes, 5)
    with Loopback(routes) as server:
        response = fetch(server.url("/r0"))
    assert response.body == b"arrived"
    assert response.url.endswith("/r5")
    assert [u.rsplit("/", 1)[1] for u in response.redirects] == ["r0", "r1", "r2", "r3", "r4"]


def test_case06_cookie_redirect_dance_is_not_a_loop():
    def handler(request: httpx.Request) -> httpx.Response:
        if "seen=1" in request.headers.get("cookie", ""):
            return httpx.Response(200, content=b"in")
        return httpx.Response(302, headers={"Location": str(request.url), "Set-Cookie": "seen=1; Path=/"})

    response = fetch("https://feed.example/rss", transport=mock(handler))
    assert (response.body, response.redirects) == (b"in", ("https://feed.example/rss",))


# --- case 7: private targets ------------------------------------------------------------

PRIVATE = [
    "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "255.255.255.255", "240.0.0.1", "::1", "::", "fd00::1", "fe80::1",
    "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "2002:a00:1::",
    "64:ff9b::a00:1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
]


@pytest.mark.parametrize("address", PRIVATE)
def test_case07_private_ranges_are_not_public(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", [PUBLIC_IP, "2606:4700::1111", "::ffff:93.184.216.34", "2002:5db8:d822::1"])
def test_case07_public_addresses_pass(address):
    assert is_public_address(address)


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", "100.64.0.1", "::ffff:127.0.0.1", "192.168.1.1", "fd00::1", "127.0.0.1"])
def test_case07_private_dns_answer_is_refused_without_connecting(address):
    network = FakeNetwork()  # fails the test if dialled at all
    transport = fake_transport(GUARDED, network, {"feed.example": [address]})
    with pytest.raises(PrivateAddress, match=address):
        fetch("https://feed.example/rss", GUARDED, transport=transport)
    assert network.dialled == []


@pytest.mark.parametrize("url", ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]/", "http://[fd00::1]:8080/", "http://100.64.0.1/"])
def test_case07_private_ip_literals_are_refused_without_connecting(url):
    network = FakeNetwork()
    with pytest.raises(PrivateAddress):
        fetch(url, GUARDED, transport=fake_transport(GUARDED, network, {}))
    assert network.dialled == []


def test_case07_a_mixed_answer_with_one_private_address_is_refused():
    network = FakeNetwork({PUBLIC_IP: canned()})
    transport = fake_transport(GUARDED, network, {"feed.example": [PUBLIC_IP, "10.0.0.1"]})
    with pytest.raises(PrivateAddress):
        fetch("https://feed.example/", GUARDED, transport=transport)
    assert network.dialled == []


def test_case07_loopback_is_refused_for_real_and_the_server_sees_nothing():
    with Loopback({"/": reply(200, b"secret")}) as server:
        with pytest.raises(PrivateAddress):
            fetch(server.url("/"), GUARDED)  # IP literal, default transport
        with pytest.raises(PrivateAddress):
            fetch(f"http://localhost:{server.port}/", GUARDED)  # name, system resolver
        assert server.connections == 0


def test_case07_default_transport_really_dials_through_the_guard():
    with Loopback({"/": reply(200, b"secret")}) as server:
        fetcher = Fetcher(GUARDED)
        backend = fetcher._transport.backend
        assert fetcher._transport._pool._network_backend is backend  # the pool dials through it
        with pytest.raises(PrivateAddress):
            asyncio.run(backend.checked_addresses("localhost", server.port, 1.0))


def test_case07_redirect_to_private_is_refused_on_that_hop():
    network = FakeNetwork({PUBLIC_IP: canned(302, b"", {"Location": "http://metadata.internal/latest/"})})
    table = {"feed.example": [PUBLIC_IP], "metadata.internal": ["169.254.169.254"]}
    with pytest.raises(PrivateAddress, match="169.254.169.254"):
        fetch("https://feed.example/", GUARDED, transport=fake_transport(GUARDED, network, table))
    assert network.dialled == [PUBLIC_IP]


def test_case07_redirect_to_a_real_loopback_server_never_reaches_it():
    with Loopback({"/": reply(200, b"secret")}) as server:
        network = FakeNetwork({PUBLIC_IP: canned(301, b"", {"Location": server.url("/")})})
        transport = fake_transport(GUARDED, network, {"feed.example": [PUBLIC_IP]})
        with pytest.raises(PrivateAddress):
            fetch("https://feed.example/", GUARDED, transport=transport)
        assert server.connections == 0


def test_case07_dns_rebinding_connects_only_to_the_checked_ip():
    answers = iter([[PUBLIC_IP], ["127.0.0.1"], ["127.0.0.1"]])
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    network = FakeNetwork({PUBLIC_IP: canned(200, b"public")})
    transport = GuardedTransport(resolver=rebinding, network_backend=network)

    async def go():
        async with Fetcher(GUARDED, transport=transport) as fetcher:
            first = await fetcher.get("https://news.example/a")
            with pytest.raises(PrivateAddress):  # new connection, new answer, checked again
                await fetcher.get("https://news.example/b")
            return first

    first = asyncio.run(go())
    assert first.body == b"public"
    assert network.dialled == [PUBLIC_IP]  # never 127.0.0.1, and one lookup per connection
    assert calls == ["news.example", "news.example"]
    stream = network.streams[0]
    assert stream.sni == "news.example"  # TLS still names the host ...
    assert b"\r\nHost: news.example\r\n" in bytes(stream.written)  # ... and so does HTTP


def test_case07_allow_private_still_pins_the_checked_ip():
    network = FakeNetwork({"10.0.0.7": canned(200, b"intranet")})
    transport = fake_transport(LOOPBACK, network, {"intranet.example": ["10.0.0.7"]})
    assert fetch("http://intranet.example/", LOOPBACK, transport=transport).body == b"intranet"
    assert network.dialled == ["10.0.0.7"]


# --- case 8: schemes ------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://feed.example/x", "data:text/html,<p>hi</p>", "gopher://x/"])
def test_case08_redirect_to_other_schemes_is_refused(target):
    transport = mock(lambda request: httpx.Response(302, headers={"Location": target}))
    with pytest.raises(UnsupportedScheme):
        fetch("https://feed.example/", transport=transport)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://feed.example/", "javascript:alert(1)"])
def test_case08_only_http_and_https_are_fetched(url):
    with pytest.raises(UnsupportedScheme):
        fetch(url, transport=mock(lambda request: pytest.fail("sent")))


# --- case 9: 429 / 503 with Retry-After ----------------------------------------------------

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    "value, expected",
    [
        ("120", 120.0),
        (email.utils.formatdate(NOW + 600, usegmt=True), 600.0),
        (email.utils.formatdate(NOW - 600, usegmt=True), 0.0),  # a date in the past: now
        ("-5", None),
        ("garbage", None),
        ("", None),
        ("315360000", 86400.0),  # ten years, clamped to a day
        (email.utils.formatdate(NOW + 10 * 365 * 86400, usegmt=True), 86400.0),
    ],
)
def test_case09_retry_after_values(value, expected):
    response = Response("https://feed.example/", 429, httpx.Headers({"Retry-After": value}), b"")
    assert response.retry_after(now=NOW) == expected


@pytest.mark.parametrize("status", [429, 503])
def test_case09_429_and_503_raise_with_the_hint(status):
    transport = mock(lambda request: httpx.Response(status, headers={"Retry-After": "120"}))
    with pytest.raises(HTTPStatus) as caught:
        fetch("https://feed.example/", transport=transport)
    assert (caught.value.status, caught.value.retry_after, caught.value.kind) == (status, 120.0, "http_status")


# --- case 11: conditional GET and caching headers -------------------------------------------


def test_case11_304_is_returned_with_an_empty_body():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["if-none-match"] == '"v1"'
        return httpx.Response(304, headers={"ETag": '"v1"'})

    response = fetch("https://feed.example/", transport=mock(handler), headers={"If-None-Match": '"v1"'})
    assert (response.status, response.body, response.etag()) == (304, b"", '"v1"')


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"Cache-Control": "public, max-age=600"}, 600.0),
        ({"Cache-Control": "s-maxage=60"}, 60.0),
        ({"Cache-Control": "no-cache"}, 0.0),
        ({"Cache-Control": "no-store, max-age=600"}, 0.0),
        ({"Expires": "0"}, 0.0),
        ({"Date": "Thu, 01 Jan 2026 00:00:00 GMT", "Expires": "Thu, 01 Jan 2026 00:05:00 GMT"}, 300.0),
        ({}, None),
    ],
)
def test_case11_max_age(headers, expected):
    assert Response("u", 200, httpx.Headers(headers), b"").max_age() == expected


def test_case11_validators_and_content_type():
    headers = httpx.Headers({"ETag": 'W/"x"', "Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT", "Content-Type": "Text/HTML; charset=UTF-8"})
    response = Response("u", 200, headers, b"")
    assert response.etag() == 'W/"x"'
    assert response.last_modified() == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert response.content_type() == "text/html"
    assert Response("u", 200, httpx.Headers(), b"").content_type() == ""


# --- case 12: each failure its own kind ---------------------------------------------------------


def test_case12_truncated_body():
    with Loopback({"/": truncated}) as server:
        with pytest.raises(TruncatedBody):
            fetch(server.url("/"))


def test_case12_dns_failure():
    network = FakeNetwork()
    with pytest.raises(DNSFailure) as caught:
        fetch("https://nowhere.example/", GUARDED, transport=fake_transport(GUARDED, network, {}))
    assert caught.value.target == "https://nowhere.example/"
    assert network.dialled == []


def test_case12_dns_timeout_is_a_dns_failure():
    async def stuck(host: str, port: int) -> list[str]:
        await asyncio.sleep(10)
        return []

    transport = GuardedTransport(resolver=stuck, network_backend=FakeNetwork())
    with pytest.raises(DNSFailure):
        fetch("https://slow-dns.example/", GUARDED, transport=transport)


def test_case12_connection_refused():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]  # closed below: nobody listens there any more
    with pytest.raises(ConnectFailed):
        fetch(f"http://127.0.0.1:{port}/")


def test_case12_bad_certificate():
    with Loopback({"/": reply(200, b"tls")}, tls=True) as server:
        with pytest.raises(TLSFailure, match="(?i)certificate"):
            fetch(server.url("/"))


def test_case12_error_kinds_are_distinct():
    kinds = {e.kind for e in (FetchTimeout, ReadTimeout, ConnectFailed, DNSFailure, TLSFailure, TruncatedBody, BodyTooLarge, PrivateAddress)}
    assert len(kinds) == 8


def test_case12_errors_are_one_line_with_stage_and_url():
    transport = mock(lambda request: httpx.Response(500))
    with pytest.raises(HTTPStatus) as caught:
        fetch("https://feed.example/x", transport=transport)
    assert str(caught.value) == "fetch: HTTP 500 Internal Server Error [https://feed.example/x]"


# --- politeness: global cap, per-host cap, per-host delay ----------------------------------------


def _counting_transport(log: list, delay: float = 0.05):
    busy: dict[str, int] = {}
    peak: dict[str, int] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        busy[host] = busy.get(host, 0) + 1
        busy["*"] = busy.get("*", 0) + 1
        for key in (host, "*"):
            peak[key] = max(peak.get(key, 0), busy[key])
        log.append((host, time.monotonic()))
        await asyncio.sleep(delay)
        busy[host] -= 1
        busy["*"] -= 1
        return httpx.Response(200, content=b"ok")

    return mock(handler), peak


def _get_all(settings: Settings, transport, urls: list[str]) -> None:
    async def go():
        async with Fetcher(settings, transport=transport) as fetcher:
            await asyncio.gather(*(fetcher.get(u) for u in urls))

    asyncio.run(go())


def test_politeness_global_and_per_host_caps():
    settings = dataclasses.replace(LOOPBACK, concurrency=3, per_host_concurrency=2)
    log: list = []
    transport, peak = _counting_transport(log)
    urls = [f"https://{host}.example/{i}" for host in ("a", "b", "c") for i in range(4)]
    _get_all(settings, transport, urls)
    assert len(log) == 12
    assert peak["*"] == 3
    assert max(peak[f"{h}.example"] for h in "abc") <= 2


def test_politeness_per_host_delay_between_starts():
    settings = dataclasses.replace(LOOPBACK, per_host_delay=0.15, per_host_concurrency=2)
    log: list = []
    transport, _ = _counting_transport(log, delay=0.0)
    _get_all(settings, transport, ["https://a.example/1", "https://a.example/2", "https://a.example/3", "https://b.example/1"])
    starts = [t for host, t in log if host == "a.example"]
    assert all(later - earlier >= 0.14 for earlier, later in zip(starts, starts[1:]))
    other = [t for host, t in log if host == "b.example"][0]
    assert other - starts[0] < 0.1  # another host does not wait for a.example


# --- fetch_page: HTML only -------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "text/plain; charset=utf-8", "application/octet-stream"])
def test_case22_fetch_page_refuses_non_html(content_type):
    transport = mock(lambda request: httpx.Response(200, headers={"Content-Type": content_type}, content=b"%PDF-1.7"))
    with pytest.raises(UnsupportedContentType):
        fetch_page("https://feed.example/doc", LOOPBACK, transport=transport)


def test_case22_fetch_page_returns_decoded_html():
    body = "<html><head><meta charset=iso-8859-1></head><body>café</body></html>".encode("latin-1")
    transport = mock(lambda request: httpx.Response(200, headers={"Content-Type": "text/html"}, content=body))
    response, html = fetch_page("https://feed.example/a", LOOPBACK, transport=transport)
    assert response.status == 200 and "café" in html


# --- cases 16-17: decoding text ----------------------------------------------------------------------


def test_case16_cp1252_labelled_utf8_is_detected():
    text = "<p>Le café « crème » coûte 3 € — voilà, naïve façade.</p>"
    body = text.encode("cp1252")
    assert decode_html(body, "text/html; charset=utf-8") == text
    assert detect_charset(body, "text/html; charset=utf-8")[1] == "detected"  # callers can warn


def test_case16_short_cp1252_labelled_utf8():
    assert decode_html("café".encode("cp1252"), "text/html; charset=utf-8") == "café"


def test_case16_utf8_declared_iso_8859_1_is_cafe():
    assert decode_html("café".encode("utf-8"), "text/html; charset=iso-8859-1") == "café"
    assert decode_html(b'<meta charset="iso-8859-1">caf\xc3\xa9', None).endswith("café")


def test_case16_meta_charset_after_byte_1024():
    page = "<html><head>" + "<!-- filler -->" * 100 + '<meta charset="windows-1251"></head><body>Привет</body></html>'
    body = page.encode("cp1251")
    assert body.index(b"<meta") > 1024
    assert decode_html(body, "text/html").endswith("<body>Привет</body></html>")


def test_case16_http_equiv_meta():
    body = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-15"><p>€uro</p>'.encode("iso-8859-15")
    assert "€uro" in decode_html(body, None)


def test_case16_header_charset_beats_meta():
    body = '<meta charset="koi8-r"><p>Grüße</p>'.encode("cp1252")
    assert "Grüße" in decode_html(body, "text/html; charset=windows-1252")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_case16_bom_wins(codec):
    text = "<p>Zürich – 東京</p>"
    body = text.encode(codec)
    if codec == "utf-16-be":
        body = b"\xfe\xff" + body
    assert decode_html(body, "text/html; charset=iso-8859-1") == text


@pytest.mark.parametrize("label", ["x-nonsense", "zlib", "base64", "unicode_escape", "utf-7", ""])
def test_case16_unknown_or_unsafe_labels_fall_back(label):
    body = "caf\xe9 \\u0041 +AGEAYgBj-".encode("cp1252")
    assert decode_html(body, f"text/html; charset={label}").startswith("café \\u0041 +AGEAYgBj-")


def test_case17_nul_c0_and_lone_surrogates_are_stripped():
    body = b"a\x00b\x01c\x1fd\te\nf\rg" + b"\xed\xa0\x80" + b"h"  # \xed\xa0\x80: an encoded lone surrogate
    text = decode_html(body, "text/html; charset=utf-8")
    assert text.startswith("abcd\te\nf\rg") and text.endswith("h")
    assert all(ord(c) >= 32 or c in "\t\n\r" for c in text)
    assert json.loads(json.dumps(text, ensure_ascii=False)) == text
    text.encode("utf-8")  # strict: would raise on a surrogate


def test_case17_utf16_lone_surrogate_is_stripped():
    body = b"\xff\xfe" + "a".encode("utf-16-le") + b"\x00\xd8" + "b".encode("utf-16-le")
    text = decode_html(body, None)
    text.encode("utf-8")
    assert text.startswith("a") and text.endswith("b")


@pytest.mark.parametrize("body", [b"", b"\xff" * 100, bytes(range(256)) * 10, b"\xfe\xff\x00", b"<meta charset=\xff\xfe>"])
def test_case17_decode_never_raises(body):
    decode_html(body, "text/html; charset=\udcff")
    decode_html(body, None)


# --- the fence itself ---------------------------------------------------------------------------------


def test_the_fence_stops_any_connection_beyond_loopback():
    with pytest.raises(AssertionError, match="connect"):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)
    with pytest.raises(AssertionError, match="look up"):
        socket.getaddrinfo("example.com", 80)
    with pytest.raises(ExceptionGroup) as caught:  # anyio's happy eyeballs groups it
        fetch("http://192.0.2.1/", LOOPBACK)  # even with the guard off, the test cannot leave
    assert caught.group_contains(AssertionError, match="192.0.2.1")


def test_case17_valid_utf8_controls_are_stripped_and_clean_text_is_untouched():
    # the UTF-8 fast path: controls found from the bytes, removed from the text
    assert decode_html("Zürich\x00 – \x07東京\x1b\x7f\t\n".encode("utf-8"), None) == "Zürich – 東京\x7f\t\n"
    assert decode_html("Zürich – 東京\r\n".encode("utf-8"), "text/html; charset=iso-8859-1") == "Zürich – 東京\r\n"
    assert decode_html(codecs.BOM_UTF8 + "a\x01b".encode("utf-8"), None) == "ab"  # BOM dropped, not kept
