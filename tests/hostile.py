"""Hostile servers and fakes for the fetch tests. Nothing here leaves loopback.

- :class:`Loopback`: a raw-socket HTTP server on 127.0.0.1 whose routes can
  misbehave (drip, stay silent, lie about Content-Length, never end).
- :class:`FakeNetwork`: an httpcore network backend that never opens a socket;
  it serves canned bytes for the IPs it knows and fails the test for any other.
- :func:`gzip_bomb`: 1 GiB of zeros in about 1 MiB of valid gzip, built in ~0.5 s.
- :func:`fence_loopback`: makes any socket connect or name lookup beyond
  loopback fail the test, so "only 127.0.0.1 / ::1" is enforced, not hoped for.
"""

from __future__ import annotations

import collections
import functools
import ipaddress
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import httpcore
import pytest

LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")
HOSTILE = Path(__file__).resolve().parent.parent / "fixtures" / "hostile"

Route = Callable[[socket.socket, threading.Event], None]


class Loopback:
    """HTTP on 127.0.0.1:<free port>. ``routes`` maps a path to a handler.

    Each connection gets its own thread; ``hits`` counts requests per path and
    ``connections`` every accepted socket. Handlers sleep with ``stop.wait()``
    so closing the server frees them at once.
    """

    def __init__(self, routes: dict[str, Route], *, tls: bool = False) -> None:
        self.routes = routes
        self.hits: collections.Counter[str] = collections.Counter()
        self.connections = 0
        self.stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._tls = _server_tls() if tls else None
        self._sock.settimeout(0.05)  # so the accept loop notices stop quickly
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def url(self, path: str = "/", scheme: str | None = None) -> str:
        return f"{scheme or ('https' if self._tls else 'http')}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Loopback:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self._tls:
                conn = self._tls.wrap_socket(conn, server_side=True)
            path = _read_request_path(conn)
            self.hits[path] += 1
            self.routes.get(path, reply(404, b"not here"))(conn, self.stop)
        except (OSError, ssl.SSLError):
            pass  # the client hung up: that is what most of these tests want
        finally:
            conn.close()


def _read_request_path(conn: socket.socket) -> str:
    head = b""
    while b"\r\n\r\n" not in head:
        data = conn.recv(4096)
        if not data:
            break
        head += data
    return head.split(b" ", 2)[1].decode("ascii") if head.count(b" ") >= 2 else ""


def _server_tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(HOSTILE / "selfsigned.crt", HOSTILE / "selfsigned.key")
    return context


def head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Route:
    """A well-formed answer with Content-Length, then close."""
    all_headers = {"Content-Type": "text/html", "Content-Length": str(len(body)), "Connection": "close", **(headers or {})}

    def route(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head(status, all_headers) + body)

    return route


def redirect(location: str, status: int = 302) -> Route:
    return reply(status, headers={"Location": location})


def drip(every: float = 0.1) -> Route:
    """Slowloris: headers, then one body byte per EVERY seconds, forever."""

    def route(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head(200, {"Content-Type": "text/html", "Content-Length": "1000000"}))
        while not stop.wait(every):
            conn.sendall(b"x")

    return route


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """Accept, read the request, say nothing."""
    stop.wait(10)


def endless_chunked(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(head(200, {"Content-Type": "text/html", "Transfer-Encoding": "chunked"}))
    chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
    while not stop.is_set():
        conn.sendall(chunk)


def huge_length(conn: socket.socket, stop: threading.Event) -> None:
    """Content-Length: 5 GB, a little body, then silence (a reader would wait)."""
    conn.sendall(head(200, {"Content-Type": "text/html", "Content-Length": str(5 * 10**9)}) + b"a" * 1024)
    stop.wait(10)


def truncated(conn: socket.socket, stop: threading.Event) -> None:
    """Promise 100 bytes, send 50, close."""
    conn.sendall(head(200, {"Content-Type": "text/html", "Content-Length": "100"}) + b"b" * 50)


def raw(status: int, body: bytes, headers: dict[str, str], *, length: bool = True) -> Route:
    """Send BODY as is (e.g. compressed) with HEADERS; the client may hang up early.

    ``length=False`` leaves Content-Length out: the body ends when we close.
    """
    sized = {"Content-Length": str(len(body))} if length else {"Connection": "close"}

    def route(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head(status, {**sized, **headers}) + body)

    return route


@functools.cache
def gzip_bomb(decoded: int = 1 << 30, block: int = 1 << 20) -> bytes:
    """Valid gzip of DECODED zero bytes, about DECODED / 1000 long.

    After a full flush deflate forgets its history, so every further block of
    zeros compresses to the same bytes: compress two, repeat the second.
    """
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(block)
    first = z.compress(zeros) + z.flush(zlib.Z_FULL_FLUSH)
    again = z.compress(zeros) + z.flush(zlib.Z_FULL_FLUSH)
    end = z.flush()[:-8]  # final empty block; the trailer below covers all blocks
    crc = 0
    for _ in range(decoded // block):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, decoded & 0xFFFFFFFF)
    return first + again * (decoded // block - 1) + end + trailer


class FakeStream(httpcore.AsyncNetworkStream):
    """Plays back one canned answer; records what was written and the TLS name."""

    def __init__(self, answer: bytes) -> None:
        self._pending = [answer]
        self.written = bytearray()
        self.sni: str | None = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._pending.pop(0) if self._pending else b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.written += buffer

    async def aclose(self) -> None:
        pass

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> FakeStream:
        self.sni = server_hostname
        return self

    def get_extra_info(self, info: str) -> None:
        return None


class FakeNetwork(httpcore.AsyncNetworkBackend):
    """Never opens a socket. Known IPs get canned bytes; any other IP fails the test."""

    def __init__(self, answers: dict[str, bytes] | None = None) -> None:
        self.answers = answers or {}
        self.dialled: list[str] = []
        self.streams: list[FakeStream] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None) -> FakeStream:
        self.dialled.append(host)
        if host not in self.answers:
            pytest.fail(f"the guard let a connection through to {host}:{port}")
        stream = FakeStream(self.answers[host])
        self.streams.append(stream)
        return stream

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        pytest.fail("unix socket dialled")

    async def sleep(self, seconds: float) -> None:
        pass


def canned(status: int = 200, body: bytes = b"ok", headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 answer as bytes, for :class:`FakeNetwork`."""
    base = {"Content-Type": "text/html", "Content-Length": str(len(body)), "Connection": "close"}
    return head(status, {**base, **(headers or {})}) + body


def stub_resolver(table: dict[str, list[str]], calls: list[str] | None = None):
    """A resolver answering from TABLE; unknown names raise gaierror like the system one."""

    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(table[host])

    return resolve


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return True


def fence_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test on any connect or DNS lookup that would leave the machine."""
    real_connect, real_connect_ex, real_lookup = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def outside(address) -> bool:
        return isinstance(address, tuple) and address[0] not in LOOPBACK_ADDRESSES

    def connect(sock, address):
        if outside(address):
            raise AssertionError(f"test tried to connect to {address}")
        return real_connect(sock, address)

    def connect_ex(sock, address):
        if outside(address):
            raise AssertionError(f"test tried to connect to {address}")
        return real_connect_ex(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in (None, "localhost") and not _is_ip(name):  # IP literals need no DNS
            raise AssertionError(f"test tried to look up {host!r}")
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
