"""robots.txt under RFC 9309: reliability.md case 13."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket

import httpcore
import httpx
import pytest

from harvester import robots
from harvester.config import Settings
from harvester.errors import ConnectFailed, PrivateAddress
from harvester.fetch import Fetcher, GuardedTransport

from hostile import FakeNetwork, Loopback, canned, fence_loopback, reply, silent, stub_resolver

PUBLIC_IP = "93.184.216.34"  # only ever "reached" through fakes


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    fence_loopback(monkeypatch)


LOOPBACK = Settings(allow_private_addresses=True, connect_timeout=0.3, read_timeout=0.3, deadline=2.0, per_host_delay=0.0)


def allowed(urls: list[str], settings: Settings = LOOPBACK, transport=None) -> list[bool]:
    async def go():
        async with Fetcher(settings, transport=transport) as fetcher:
            return [await fetcher.robots_allowed(u) for u in urls]

    return asyncio.run(go())


def serving(status: int, body: bytes = b"", seen: list | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(str(request.url))
        return httpx.Response(status, content=body, headers={"Content-Type": "text/plain"})

    return httpx.MockTransport(handler)


def test_case13_404_allows_everything():
    assert allowed(["https://a.example/anything"], transport=serving(404)) == [True]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_case13_5xx_and_429_disallow_the_host(status):
    assert allowed(["https://a.example/", "https://a.example/x"], transport=serving(status)) == [False, False]


def test_case13_timeout_disallows_the_host():
    with Loopback({"/robots.txt": silent}) as server:
        assert allowed([server.url("/page")]) == [False]


class Refusing(httpcore.AsyncNetworkBackend):
    """Every connect is refused (no socket is opened); counts the attempts."""

    def __init__(self) -> None:
        self.attempts = 0

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.attempts += 1
        raise httpcore.ConnectError("[Errno 111] Connection refused")


def test_case13_host_down_raises_its_own_kind_once_per_run():
    network = Refusing()
    transport = GuardedTransport(resolver=stub_resolver({"down.example": [PUBLIC_IP]}), network_backend=network)

    async def go():
        async with Fetcher(LOOPBACK, transport=transport) as fetcher:
            for path in ("/a", "/b"):  # the page fetch would fail the same way: say why
                with pytest.raises(ConnectFailed) as caught:
                    await fetcher.robots_allowed(f"https://down.example{path}")
                assert caught.value.target == f"https://down.example{path}"

    asyncio.run(go())
    assert network.attempts == 1  # remembered: the down host is not tried again this run


def test_case13_refused_for_real_raises_connect_failed():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
    with pytest.raises(ConnectFailed):
        allowed([f"http://127.0.0.1:{port}/page"])


def test_case13_private_host_raises_private_address_without_connecting():
    guarded = dataclasses.replace(LOOPBACK, allow_private_addresses=False)
    with Loopback({"/robots.txt": reply(200, b"")}) as server:
        with pytest.raises(PrivateAddress):
            allowed([server.url("/page")], guarded)
        assert server.connections == 0


def test_case13_robots_redirected_to_a_private_address_disallows():
    guarded = dataclasses.replace(LOOPBACK, allow_private_addresses=False)
    network = FakeNetwork({PUBLIC_IP: canned(301, b"", {"Location": "http://internal.example/robots.txt"})})
    table = {"news.example": [PUBLIC_IP], "internal.example": ["10.0.0.1"]}
    transport = GuardedTransport(resolver=stub_resolver(table), network_backend=network)
    assert allowed(["https://news.example/page"], guarded, transport) == [False]
    assert network.dialled == [PUBLIC_IP]


@pytest.mark.parametrize(
    "body",
    [os.urandom(4096), b"\x00\xff\xfe" * 1000, b"<html><body>Not a robots file</body></html>", b"Disallow /x\nUser-agent\n::::\n"],
)
def test_case13_garbage_is_tolerated_as_no_rules(body):
    assert allowed(["https://a.example/page"], transport=serving(200, body)) == [True]


@pytest.mark.parametrize(
    "body, path, expected",
    [
        (b"User-agent: harvester\nDisallow: /private\n", "/private/1", False),
        (b"User-agent: harvester\nDisallow: /private\n", "/public", True),
        (b"User-agent: otherbot\nDisallow: /\n", "/page", True),
        (b"User-agent: *\nDisallow: /\n", "/page", False),
        (b"User-agent: *\nDisallow: /\n\nUser-agent: Harvester\nAllow: /\n", "/page", True),
    ],
)
def test_case13_rules_match_our_product_token(body, path, expected):
    assert allowed([f"https://a.example{path}"], transport=serving(200, body)) == [expected]


def test_case13_fetched_once_per_host_and_cached():
    body = b"User-agent: *\nDisallow: /no\n"
    with Loopback({"/robots.txt": reply(200, body, {"Content-Type": "text/plain"})}) as server:

        async def go():
            async with Fetcher(LOOPBACK) as fetcher:
                urls = [server.url(f"/p{i}") for i in range(5)] + [server.url("/no/x")]
                return await asyncio.gather(*(fetcher.robots_allowed(u) for u in urls))

        answers = asyncio.run(go())
        assert server.hits["/robots.txt"] == 1
    assert answers == [True] * 5 + [False]


def test_case13_each_host_has_its_own_file():
    seen: list[str] = []
    allowed(["https://a.example/1", "https://b.example/1", "https://a.example/2"], transport=serving(404, seen=seen))
    assert seen == ["https://a.example/robots.txt", "https://b.example/robots.txt"]


def test_case13_only_the_first_500_kib_is_parsed():
    filler = b"# padding line that is not a rule at all\n" * (600 * 1024 // 41)
    body = b"User-agent: *\nDisallow: /early\n" + filler + b"Disallow: /late\n"
    assert len(body) > 600 * 1000
    got = allowed(["https://a.example/early", "https://a.example/late"], transport=serving(200, body))
    assert got == [False, True]


def test_case13_too_many_redirects_counts_as_unavailable():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": f"{request.url}x"})

    assert allowed(["https://a.example/page"], transport=httpx.MockTransport(handler)) == [True]


def test_case13_ignore_setting_never_fetches():
    ignoring = dataclasses.replace(LOOPBACK, robots="ignore")
    transport = httpx.MockTransport(lambda request: pytest.fail("robots.txt was fetched"))
    assert allowed(["https://a.example/x"], ignoring, transport) == [True]


def test_case13_product_token_and_location():
    assert robots.product_token("harvester/0.1 (+https://github.com/x)") == "harvester"
    assert robots.location("https://News.Example:8443/a/b?c#d") == ("https://news.example:8443", "https://news.example:8443/robots.txt")
