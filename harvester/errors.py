"""Harvester's exception tree.

Every error a user can meet is one of these; third-party exceptions (httpx,
feedparser, trafilatura, sqlite3, OSError) are translated where they enter.
Each class carries a ``stage`` (where it happened) and a ``kind`` (a stable
snake_case name stored in state, shown in summaries and logs).  ``str(err)``
is always one line that starts with the stage and names the input::

    HarvesterError
    ├── InputError            bad input given on the command line (exit 2)
    ├── ConfigError           config.toml is wrong (exit 2)
    ├── FetchError            stage "fetch"
    │   ├── FetchTimeout          total deadline passed
    │   ├── ReadTimeout           server silent longer than the read timeout
    │   ├── ConnectFailed         connection refused / reset
    │   ├── DNSFailure            name does not resolve
    │   ├── TLSFailure            bad certificate / handshake
    │   ├── BodyTooLarge          body (after decoding) over the cap
    │   ├── TruncatedBody         connection closed before Content-Length
    │   ├── UnsupportedEncoding   Content-Encoding we do not decode
    │   ├── TooManyRedirects
    │   ├── UnsupportedScheme     not http(s)
    │   ├── PrivateAddress        target resolves to a private range
    │   ├── HTTPStatus            4xx / 5xx answer (``status``, ``retry_after``)
    │   ├── RobotsDisallowed      robots.txt forbids the URL
    │   └── UnsupportedContentType  e.g. a PDF where a page was expected
    ├── ParseError            stage "parse"
    │   ├── NotAFeed
    │   └── EmptyBody
    ├── ExtractError          stage "extract"
    │   ├── NoArticle             nothing article-like on the page
    │   ├── NotHTML               binary / undecodable input
    │   └── ExtractionTimeout
    └── StoreError            stage "store" (disk full, permissions, database)
"""

from __future__ import annotations


class HarvesterError(Exception):
    """Base class. ``target`` is the URL or path the error is about."""

    stage = "harvester"
    kind = "error"

    def __init__(self, message: str, *, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.target = target  # the URL or path that was asked for
        self.hop: str | None = None  # where it failed, when a redirect led elsewhere

    def __str__(self) -> str:
        where = f" [{self.target}]" if self.target else ""
        return f"{self.stage}: {self.message}{where}".replace("\n", " ")


class InputError(HarvesterError):
    stage = "input"
    kind = "bad_input"


class ConfigError(HarvesterError):
    stage = "config"
    kind = "bad_config"


# --- fetch -----------------------------------------------------------------


class FetchError(HarvesterError):
    stage = "fetch"
    kind = "fetch_error"


class FetchTimeout(FetchError):
    kind = "timeout"


class ReadTimeout(FetchError):
    kind = "read_timeout"


class ConnectFailed(FetchError):
    kind = "connect_failed"


class DNSFailure(FetchError):
    kind = "dns_failure"


class TLSFailure(FetchError):
    kind = "tls_failure"


class BodyTooLarge(FetchError):
    kind = "body_too_large"


class TruncatedBody(FetchError):
    kind = "truncated_body"


class UnsupportedEncoding(FetchError):
    kind = "unsupported_encoding"


class TooManyRedirects(FetchError):
    kind = "too_many_redirects"


class UnsupportedScheme(FetchError):
    kind = "unsupported_scheme"


class PrivateAddress(FetchError):
    kind = "private_address"


class RobotsDisallowed(FetchError):
    kind = "robots_disallowed"


class UnsupportedContentType(FetchError):
    kind = "unsupported_content_type"


class HTTPStatus(FetchError):
    kind = "http_status"

    def __init__(
        self,
        message: str,
        *,
        target: str | None = None,
        status: int = 0,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, target=target)
        self.status = status
        self.retry_after = retry_after


# --- parse / extract / store -----------------------------------------------


class ParseError(HarvesterError):
    stage = "parse"
    kind = "parse_error"


class NotAFeed(ParseError):
    kind = "not_a_feed"


class EmptyBody(ParseError):
    kind = "empty_body"


class ExtractError(HarvesterError):
    stage = "extract"
    kind = "extract_error"


class NoArticle(ExtractError):
    kind = "no_article"


class NotHTML(ExtractError):
    kind = "not_html"


class ExtractionTimeout(ExtractError):
    kind = "timeout"


class StoreError(HarvesterError):
    stage = "store"
    kind = "store_error"
