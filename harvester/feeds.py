"""Feeds -> entries: RSS / Atom / RDF (feedparser), JSON Feed, HTML listing pages; autodiscovery.

:func:`parse_feed` turns the bytes of a fetched feed into a :class:`ParsedFeed` of
:class:`~harvester.models.FeedEntry` records. It never fetches anything and never reads a
file: feedparser gets an in-memory stream of text that this module has already decoded and
made safe. The order of work::

    bytes -> empty? (EmptyBody) -> decode (valid UTF-8 beats the declared charset)
          -> strip NUL / C0 controls / invalid character references
          -> JSON Feed? (own mapper)
          -> HTML page, or no feed root element? (NotAFeed)
          -> drop the DOCTYPE and references to entities nobody defines (no XXE, no bomb)
          -> feedparser -> no version / broken with no entries? (NotAFeed)
          -> entries: plain-text fields, absolute normalised links, entry ids, de-duplication

Every string field of the result is plain text without NUL, C0 controls (tab, newline and
carriage return aside) or lone surrogates, so it survives ``json.dumps`` / strict UTF-8.
Whatever was repaired or dropped on the way is listed in ``ParsedFeed.warnings`` (each
message starts with ``parse:``).

:func:`parse_html_listing` reads entries out of an HTML page with CSS selectors, for sites
without a feed; :func:`discover_feeds` lists the feeds a page advertises or links to.
"""

from __future__ import annotations

import codecs
import email.utils
import hashlib
import html.entities
import io
import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from .errors import EmptyBody, NotAFeed, ParseError
from .models import FeedEntry
from .urls import absolutize, host_of, normalize_url

__all__ = [
    "SUMMARY_MAX_CHARS",
    "DiscoveredFeed",
    "ParsedFeed",
    "discover_feeds",
    "parse_feed",
    "parse_html_listing",
]

SUMMARY_MAX_CHARS = 1000


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """One parsed feed (or listing page) and its entries, in document order."""

    url: str  # the feed's URL as fetched (after redirects)
    title: str | None
    link: str | None  # the site the feed belongs to
    language: str | None
    ttl: float | None  # RSS <ttl> in seconds (the element counts minutes)
    entries: tuple[FeedEntry, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DiscoveredFeed:
    url: str  # absolute, normalised
    title: str | None
    type: str  # "rss" | "atom" | "json" | "rdf" | "unknown"


# --- parse_feed ----------------------------------------------------------------------------


def parse_feed(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str] | None = None,
    language: str | None = None,
) -> ParsedFeed:
    """Parse a feed body fetched from ``url``.

    ``url`` is the final URL after redirects: relative links resolve against it (or against
    ``xml:base``). ``headers`` are the HTTP response headers (any case); only the charset of
    ``Content-Type`` and ``Content-Language`` are used (a JSON Feed is recognised by its
    body, whatever its type). ``language`` is a hint for feeds that name no language.

    Raises :class:`EmptyBody` for an empty or blank body and :class:`NotAFeed` for an HTML
    page, a JSON document that is not a JSON Feed, or anything else without a feed in it.
    A well-formed feed without items is a valid, empty :class:`ParsedFeed`.
    """
    if not body or not body.strip():
        raise EmptyBody("feed body is empty", target=url)
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    _, http_charset = _parse_content_type(headers.get("content-type", ""))
    notes = _Notes()

    text = _decode(body, http_charset, notes)
    text = notes.count(_strip_invalid_chars(text), "control or invalid characters removed")
    if not text.strip():
        raise EmptyBody("feed body is blank after decoding", target=url)

    if text.lstrip().startswith(("{", "[")):  # JSON Feed, whatever the Content-Type says
        return _parse_json_feed(text, url=url, language=language, notes=notes)
    return _parse_xml_feed(text, url=url, headers=headers, language=language, notes=notes)


# --- decoding ------------------------------------------------------------------------------

_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_XML_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:\-]+)["']""")
_UTF8_NAMES = {"utf-8", "ascii"}  # codec names whose bytes are also valid UTF-8 as they are

# Windows-1252 for the bytes UTF-8 rejects; its five undefined bytes become U+FFFD.
_CP1252_BYTE = tuple(
    bytes([b]).decode("cp1252", errors="replace") if b >= 0x80 else chr(b) for b in range(256)
)


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    bad = err.object[err.start : err.end]
    return "".join(_CP1252_BYTE[b] for b in bad), err.end


codecs.register_error("harvester.cp1252", _cp1252_fallback)


def _decode(body: bytes, http_charset: str, notes: _Notes) -> str:
    """Bytes -> text. A BOM decides; else valid UTF-8 wins over any declaration (as in
    Miniflux); else the declared charset; else UTF-8 with bad bytes read as Windows-1252."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _decode_wide(body[len(bom) :], codec, notes)
    codec = _sniff_wide(body)
    if codec:
        return _decode_wide(body, codec, notes)

    label = http_charset or _xml_encoding(body)
    declared = _codec_name(label)
    if label and not declared:
        notes.add(f"unknown charset {label!r} declared; ignored")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if declared and declared not in _UTF8_NAMES and not body.isascii():
            notes.add(f"feed declared {label.lower()} but bytes are UTF-8")
        return text
    if declared and declared not in _UTF8_NAMES:
        try:
            return body.decode(declared)
        except UnicodeDecodeError:
            pass
    said = f"declared {label.lower()}" if label else "declared no charset"
    notes.add(f"feed {said} but bytes are not valid UTF-8; read them as windows-1252")
    return body.decode("utf-8", errors="harvester.cp1252")


def _decode_wide(body: bytes, codec: str, notes: _Notes) -> str:
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        notes.add(f"invalid {codec} bytes replaced")
        return body.decode(codec, errors="replace")


def _sniff_wide(body: bytes) -> str | None:
    """UTF-16/32 without a BOM, recognised by the zero bytes around an ASCII first character."""
    head = body[:4]
    if len(head) < 4:
        return None
    if head[:3] == b"\0\0\0" and head[3]:
        return "utf-32-be"
    if head[0] and head[1:] == b"\0\0\0":
        return "utf-32-le"
    if head[0] == 0 and head[1] and head[2] == 0:
        return "utf-16-be"
    if head[0] and head[1] == 0 and head[3] == 0:
        return "utf-16-le"
    return None


def _xml_encoding(body: bytes) -> str:
    match = _XML_ENCODING_RE.match(body[:1024])
    return match.group(1).decode("ascii") if match else ""


def _codec_name(label: str) -> str | None:
    if not label:
        return None
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _parse_content_type(value: str) -> tuple[str, str]:
    mime, *params = value.split(";")
    charset = ""
    for param in params:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'")
    return mime.strip().lower(), charset


# --- cleaning text -------------------------------------------------------------------------

# Not allowed in XML 1.0 and never wanted in output: C0 controls but tab/LF/CR, lone
# surrogates, and the non-characters U+FFFE/U+FFFF.
_INVALID_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHAR_REF_RE = re.compile(r"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")
_ENTITY_REF_RE = re.compile(r"&([A-Za-z_:][\w.:\-]*);")
_KNOWN_ENTITIES = frozenset(
    {name[:-1] for name in html.entities.html5 if name.endswith(";")}
    | {"amp", "lt", "gt", "quot", "apos"}
)


def _drop_or_space(match: re.Match[str]) -> str:
    return " " if match.group(0) in "\x0b\x0c" else ""


def _valid_xml_char(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _strip_invalid_chars(text: str) -> tuple[str, int]:
    """Remove raw invalid characters and character references to them (``&#0;``).
    Vertical tab and form feed, being whitespace, become spaces."""
    text, raw = _INVALID_CHARS_RE.subn(_drop_or_space, text)
    refs = 0

    def drop_bad_ref(match: re.Match[str]) -> str:
        nonlocal refs
        hex_digits, dec_digits = match.groups()
        code = int(hex_digits, 16) if hex_digits else int(dec_digits)
        if _valid_xml_char(code):
            return match.group(0)
        refs += 1
        return ""

    if "&#" in text:
        text = _CHAR_REF_RE.sub(drop_bad_ref, text)
    return text, raw + refs


def _drop_unknown_entity_refs(text: str) -> tuple[str, list[str]]:
    """Remove ``&name;`` references that neither XML nor HTML defines (``&lol9;``)."""
    dropped: list[str] = []

    def drop(match: re.Match[str]) -> str:
        if match.group(1) in _KNOWN_ENTITIES:
            return match.group(0)
        dropped.append(match.group(0))
        return ""

    if "&" in text:
        text = _ENTITY_REF_RE.sub(drop, text)
    return text, dropped


_DROP_TAGS = "script, style, noscript, template, iframe, object, embed, svg, math, head"
_BLOCK_TAGS = (
    "address, article, aside, blockquote, br, dd, div, dl, dt, figcaption, figure, footer, "
    "h1, h2, h3, h4, h5, h6, header, hr, li, main, nav, ol, p, pre, section, table, td, th, "
    "tr, ul"
)


def _html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment: tags gone, entities decoded once, scripts dropped,
    block boundaries kept as spaces. Whitespace is not collapsed here."""
    if "<" not in fragment and "&" not in fragment:
        return fragment
    body = LexborHTMLParser(fragment).body
    if body is None:
        return ""
    for node in body.css(_DROP_TAGS):
        node.decompose()
    for node in body.css(_BLOCK_TAGS):
        node.insert_after(" ")
    return body.text(separator="")


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _truncate(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit - 100:
        cut = cut[:space]
    return cut.rstrip() + "…"


class _Notes:
    """Collects the warnings of one parse, once each, in order."""

    def __init__(self) -> None:
        self._seen: dict[str, None] = {}

    def add(self, message: str) -> None:
        self._seen.setdefault(f"parse: {message}", None)

    def count(self, result: tuple[str, int], what: str) -> str:
        text, n = result
        if n:
            self.add(f"{n} {what}")
        return text

    def as_tuple(self) -> tuple[str, ...]:
        return tuple(self._seen)

    def clean(self, value: Any, *, html_type: bool = False, collapse: bool = True) -> str | None:
        """Any feed value -> clean plain text, or None when nothing is left."""
        if value is None:
            return None
        value = str(value)
        if html_type:
            value = _html_to_text(value)
        value, _ = _strip_invalid_chars(value)
        value, dropped = _drop_unknown_entity_refs(value)
        if dropped:
            names = ", ".join(sorted(set(dropped)))
            self.add(f"undefined entity references removed from text: {names}")
        value = _collapse(value) if collapse else value.strip()
        return value or None


# --- XML feeds (feedparser) ----------------------------------------------------------------

_HTML_TYPES = {"text/html", "application/xhtml+xml", "html", "xhtml"}
_FEED_ROOTS = {"rss", "feed", "rdf", "channel"}  # local names; "channel" is CDF / RSS 0.90
# A feed behind leading junk (a PHP warning, a stray BOM...) still shows its root early.
_FEED_ROOT_RE = re.compile(r"<(?:[A-Za-z_][\w.\-]*:)?(?:rss|feed|RDF)[\s>/]")
_ROOT_SEARCH_CHARS = 64 * 1024
_SPACE_RE = re.compile(r"\s*")
_NAME_RE = re.compile(r"<([A-Za-z_][\w.:\-]*)")


def _parse_xml_feed(
    text: str, *, url: str, headers: dict[str, str], language: str | None, notes: _Notes
) -> ParsedFeed:
    text, doctype, root = _strip_doctype(text)
    if re.match(r"<!DOCTYPE\s+html\b", doctype or "", re.IGNORECASE) or root.lower() == "html":
        raise NotAFeed("got an HTML page, not a feed", target=url)
    # feedparser's lenient parser takes ~40 s on 9 MB of HTML: only feeds get that far.
    if root.rpartition(":")[2].lower() not in _FEED_ROOTS and not _FEED_ROOT_RE.search(
        text, 0, _ROOT_SEARCH_CHARS
    ):
        found = f"<{root}>" if root else "no XML element"
        raise NotAFeed(f"no RSS, Atom or RDF root element ({found} first)", target=url)
    if doctype:
        text, dropped = _drop_unknown_entity_refs(text)
        if "[" in doctype:
            notes.add("DOCTYPE internal subset ignored: its entities are never expanded")
        if dropped:
            names = ", ".join(sorted(set(dropped)))
            notes.add(f"{len(dropped)} undefined entity references removed: {names}")

    response_headers = {"content-type": "application/xml; charset=utf-8", "content-location": url}
    if headers.get("content-language"):
        response_headers["content-language"] = headers["content-language"]
    # A stream, never bytes or a str: feedparser opens str/bytes that look like a path or URL.
    result = feedparser.parse(
        io.BytesIO(text.encode("utf-8")),
        response_headers=response_headers,
        resolve_relative_uris=False,  # summaries become plain text; their links are not kept
        sanitize_html=False,  # _html_to_text() drops scripts and all markup itself
    )
    version = result.get("version") or ""
    problem = result.get("bozo_exception") if result.get("bozo") else None
    if not result.entries:
        if not version:
            raise NotAFeed("no RSS, Atom or RDF feed found", target=url)
        if problem is not None:
            raise NotAFeed(f"broken {version} feed with no entries ({problem})", target=url)
    if problem is not None:
        notes.add(f"feed is not well-formed XML ({problem}); parsed leniently")
    if not version:
        notes.add("unknown feed format; entries read anyway")

    feed = result.feed
    feed_language = notes.clean(feed.get("language")) or None
    site = _clean_link(feed.get("link"), url)
    inherited_authors = _authors(feed, notes) if version.startswith("atom") else ()
    raw_entries = [
        _xml_entry(
            e,
            url=url,
            feed_language=feed_language or language,
            authors=inherited_authors,
            notes=notes,
        )
        for e in result.entries
    ]
    return ParsedFeed(
        url=url,
        title=notes.clean(feed.get("title"), html_type=_is_html(feed.get("title_detail"))),
        link=site,
        language=feed_language,
        ttl=_ttl_seconds(feed.get("ttl")),
        entries=_assign_ids(raw_entries, url=url, notes=notes),
        warnings=notes.as_tuple(),
    )


def _strip_doctype(text: str) -> tuple[str, str | None, str]:
    """Remove every DOCTYPE (with its internal subset) from the prolog.

    Returns the text, the removed DOCTYPE text (or None) and the name of the root element
    ("" if the prolog is followed by anything else). Quotes, comments and brackets inside a
    DOCTYPE are honoured, so ``<!ENTITY x "]>">`` cannot end it early; an unterminated
    DOCTYPE swallows the rest of the document.
    """
    removed: list[str] = []
    i, n = 0, len(text)
    while i < n:
        i = _SPACE_RE.match(text, i).end()
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            i = n if end < 0 else end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            i = n if end < 0 else end + 3
        elif text[i : i + 9].upper() == "<!DOCTYPE":
            end = _doctype_end(text, i + 9)
            removed.append(text[i:end])
            text = text[:i] + text[end:]
            n = len(text)
        else:
            break
    root = _NAME_RE.match(text, i)
    return text, "".join(removed) or None, root.group(1) if root else ""


def _doctype_end(text: str, i: int) -> int:
    depth, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            end = text.find(ch, i + 1)
            i = n if end < 0 else end + 1
            continue
        if text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            i = n if end < 0 else end + 3
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch == ">" and depth == 0:
            return i + 1
        i += 1
    return n


def _is_html(detail: Mapping[str, Any] | None) -> bool:
    return bool(detail) and detail.get("type", "text/plain") in _HTML_TYPES


def _ttl_seconds(value: Any) -> float | None:
    try:
        minutes = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    if not math.isfinite(minutes) or minutes < 0:
        return None
    return minutes * 60.0


@dataclass(slots=True)
class _RawEntry:
    """An entry before its id is known (ids depend on the whole feed)."""

    guid: str | None
    link: str | None
    title: str | None
    content: str  # plain text of the body (or summary) for the hash id
    fields: dict[str, Any]


def _xml_entry(
    e: Mapping[str, Any],
    *,
    url: str,
    feed_language: str | None,
    authors: tuple[str, ...],
    notes: _Notes,
) -> _RawEntry:
    title = notes.clean(e.get("title"), html_type=_is_html(e.get("title_detail")))
    link = _entry_link(e, url)
    content = _content_text(e, notes)
    summary = _summary_text(e, notes) or content
    content = content or summary or ""
    source = e.get("source") or {}
    source_url = _clean_link(source.get("href") or source.get("link"), url)
    source_name = notes.clean(source.get("title"))
    if not source_name and link and host_of(link) == "news.google.com":
        source_name = _google_news_outlet(title)
    language = notes.clean(e.get("language")) or feed_language
    published = _struct_to_iso(e.get("published_parsed") or e.get("updated_parsed"))
    return _RawEntry(
        guid=notes.clean(e.get("id"), collapse=False),
        link=link,
        title=title,
        content=content,
        fields={
            "published": published,
            "summary": _truncate(summary) if summary else None,
            "authors": _authors(e, notes) or authors,
            "language": language,
            "source_url": source_url,
            "source_name": source_name,
        },
    )


def _entry_link(e: Mapping[str, Any], base: str) -> str | None:
    candidates = [e.get("link")]
    candidates += [
        link.get("href")
        for link in e.get("links") or ()
        if link.get("rel", "alternate") == "alternate"
    ]
    for candidate in candidates:
        link = _clean_link(candidate, base)
        if link:
            return link
    return None


def _clean_link(href: Any, base: str) -> str | None:
    if not isinstance(href, str):
        return None
    href, _ = _strip_invalid_chars(href)
    absolute = absolutize(href, base)
    return normalize_url(absolute) if absolute else None


def _summary_text(e: Mapping[str, Any], notes: _Notes) -> str | None:
    detail = e.get("summary_detail")
    if e.get("summary") and detail:  # without a detail, feedparser copied it from <content>
        return notes.clean(e["summary"], html_type=_is_html(detail))
    return None


def _content_text(e: Mapping[str, Any], notes: _Notes) -> str | None:
    for part in e.get("content") or ():
        text = notes.clean(part.get("value"), html_type=_is_html(part))
        if text:
            return text
    return None


def _authors(context: Mapping[str, Any], notes: _Notes) -> tuple[str, ...]:
    names = [a.get("name") for a in context.get("authors") or () if isinstance(a, Mapping)]
    if not any(names) and isinstance(context.get("author"), str):
        names = [context["author"]]
    out: dict[str, None] = {}
    for name in names:
        name = notes.clean(name)
        if name and not ("@" in name and " " not in name):  # a bare e-mail is not a name
            out.setdefault(name, None)
    return tuple(out)


def _google_news_outlet(title: str | None) -> str | None:
    """Google News titles end in " - Outlet"; the part after the last separator."""
    if not title or " - " not in title:
        return None
    outlet = title.rsplit(" - ", 1)[1].strip()
    return outlet if 0 < len(outlet) <= 80 else None


def _struct_to_iso(value: Any) -> str | None:
    if not value:
        return None
    try:
        return _iso(datetime(*tuple(value)[:6], tzinfo=UTC))
    except (TypeError, ValueError, OverflowError):
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


# --- entry ids -----------------------------------------------------------------------------


def _assign_ids(raw: list[_RawEntry], *, url: str, notes: _Notes) -> tuple[FeedEntry, ...]:
    """Entry ids as Miniflux makes them: GUID -> GUID|link when the GUID repeats in this
    feed -> normalised link -> "sha256:" of title + "\\n" + content. Later entries whose id
    is already taken are dropped (the first one is kept) with a warning."""
    guid_counts = Counter(r.guid for r in raw if r.guid)
    entries: dict[str, FeedEntry] = {}
    duplicates = 0
    for r in raw:
        if r.guid and guid_counts[r.guid] == 1:
            entry_id = r.guid
        elif r.guid:
            entry_id = f"{r.guid}|{r.link or _content_hash(r)}"
        elif r.link:
            entry_id = r.link
        else:
            entry_id = _content_hash(r)
        if entry_id in entries:
            duplicates += 1
            continue
        entries[entry_id] = FeedEntry(
            feed_url=url, entry_id=entry_id, link=r.link, title=r.title, **r.fields
        )
    if duplicates:
        notes.add(f"{duplicates} duplicate entries dropped (same entry id as an earlier one)")
    return tuple(entries.values())


def _content_hash(r: _RawEntry) -> str:
    digest = hashlib.sha256(f"{r.title or ''}\n{r.content}".encode("utf-8"))
    return "sha256:" + digest.hexdigest()


# --- JSON Feed -----------------------------------------------------------------------------

_JSON_FEED_VERSION_RE = re.compile(r"^https?://jsonfeed\.org/version/")


def _parse_json_feed(text: str, *, url: str, language: str | None, notes: _Notes) -> ParsedFeed:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise NotAFeed(f"body is not valid JSON ({exc})", target=url) from None
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not _JSON_FEED_VERSION_RE.match(version):
        raise NotAFeed("JSON document is not a JSON Feed (no jsonfeed.org version)", target=url)
    items = doc.get("items")
    if not isinstance(items, list):
        notes.add("JSON Feed has no items list")
        items = []

    feed_language = notes.clean(_json_str(doc.get("language")))
    feed_authors = _json_authors(doc, notes)
    raw = []
    for item in items:
        if not isinstance(item, dict):
            notes.add("JSON Feed item that is not an object skipped")
            continue
        raw.append(
            _json_entry(
                item, url=url, language=feed_language or language, authors=feed_authors, notes=notes
            )
        )
    return ParsedFeed(
        url=url,
        title=notes.clean(_json_str(doc.get("title"))),
        link=_clean_link(doc.get("home_page_url"), url),
        language=feed_language,
        ttl=None,
        entries=_assign_ids(raw, url=url, notes=notes),
        warnings=notes.as_tuple(),
    )


def _json_entry(
    item: dict[str, Any], *, url: str, language: str | None, authors: tuple[str, ...], notes: _Notes
) -> _RawEntry:
    guid = item.get("id")
    if isinstance(guid, bool) or not isinstance(guid, (str, int, float)):
        guid = None
    content_html = _json_str(item.get("content_html"))
    content = notes.clean(_json_str(item.get("content_text"))) or notes.clean(
        content_html, html_type=True
    )
    summary = notes.clean(_json_str(item.get("summary"))) or content
    date = _parse_date(_json_str(item.get("date_published"))) or _parse_date(
        _json_str(item.get("date_modified"))
    )
    return _RawEntry(
        guid=notes.clean(guid, collapse=False),
        link=_clean_link(item.get("url"), url),
        title=notes.clean(_json_str(item.get("title"))),
        content=content or summary or "",
        fields={
            "published": _iso(date) if date else None,
            "summary": _truncate(summary) if summary else None,
            "authors": _json_authors(item, notes) or authors,
            "language": notes.clean(_json_str(item.get("language"))) or language,
            "source_url": _clean_link(item.get("external_url"), url),
            "source_name": None,
        },
    )


def _json_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _json_authors(obj: Mapping[str, Any], notes: _Notes) -> tuple[str, ...]:
    people = obj.get("authors")
    if not isinstance(people, list):
        people = [obj.get("author")]  # JSON Feed 1.0
    names: dict[str, None] = {}
    for person in people:
        if isinstance(person, dict):
            name = notes.clean(_json_str(person.get("name")))
            if name:
                names.setdefault(name, None)
    return tuple(names)


def _parse_date(value: str | None) -> datetime | None:
    """ISO 8601 / RFC 3339 or RFC 2822 text -> aware UTC datetime; naive times are UTC."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# --- HTML listing pages --------------------------------------------------------------------


def parse_html_listing(
    html: str,
    *,
    url: str,
    item: str,
    link: str = "a",
    title: str | None = None,
    date: str | None = None,
) -> ParsedFeed:
    """Entries from an HTML page that lists articles, for sites without a feed.

    For each node matching the CSS selector ``item``: the first ``link`` element with a
    usable href (absolute, normalised; it is also the entry id), the title from the
    ``title`` selector or else the link's text, and the date from the ``date`` selector's
    ``datetime`` attribute or text (ISO 8601 or RFC 2822; anything else gives None).
    Raises :class:`NotAFeed` naming the selector when no item yields an entry, and
    :class:`ParseError` for a selector that is not valid CSS.
    """
    notes = _Notes()
    html, _ = _strip_invalid_chars(html)
    tree = LexborHTMLParser(html)
    base = _page_base(tree, url)
    page_language = _page_language(tree)
    raw: list[_RawEntry] = []
    without_link = 0
    try:
        for node in tree.css(item):
            href, anchors = _first_link(node, link, base)
            if href is None:
                without_link += 1
                continue
            text = _select_text(node, title, notes) if title else None
            published = _select_date(node, date) if date else None
            raw.append(
                _RawEntry(
                    guid=None,
                    link=href,
                    title=text or _anchor_text(anchors, notes),
                    content="",
                    fields={"published": published, "language": page_language},
                )
            )
    except SelectolaxError as exc:
        raise ParseError(f"invalid CSS selector ({exc})", target=url) from None
    if without_link:
        notes.add(f"{without_link} items matching {item!r} have no usable {link!r} link; skipped")
    if not raw:
        raise NotAFeed(f"no items with links match the selector {item!r}", target=url)

    title_node = tree.css_first("title")
    return ParsedFeed(
        url=url,
        title=_node_text(title_node, notes) if title_node else None,
        link=_clean_link(url, url),
        language=page_language,
        ttl=None,
        entries=_assign_ids(raw, url=url, notes=notes),
        warnings=notes.as_tuple(),
    )


def _page_base(tree: LexborHTMLParser, url: str) -> str:
    base = tree.css_first("base[href]")
    return (absolutize(base.attributes.get("href"), url) if base else None) or url


def _page_language(tree: LexborHTMLParser) -> str | None:
    root = tree.css_first("html")
    lang = root.attributes.get("lang") if root else None
    return (_collapse(lang) or None) if isinstance(lang, str) else None


def _node_text(node: Any, notes: _Notes) -> str | None:
    if node.tag == "title":  # raw text element: its text is already plain
        return notes.clean(node.text())
    return notes.clean(node.html, html_type=True)


def _first_link(node: Any, selector: str, base: str) -> tuple[str | None, list[Any]]:
    """The first usable link under ``node`` and every element that links there (a teaser
    often links its image first and its headline second)."""
    candidates = list(node.css(selector))
    if not candidates and node.tag == "a":
        candidates = [node]  # the item itself is the link: item="a.teaser"
    links = [_clean_link(c.attributes.get("href"), base) for c in candidates]
    first = next((href for href in links if href), None)
    return first, [c for c, href in zip(candidates, links) if first and href == first]


def _anchor_text(anchors: list[Any], notes: _Notes) -> str | None:
    for anchor in anchors:
        text = _node_text(anchor, notes) or notes.clean(anchor.attributes.get("title"))
        if text:
            return text
    return None


def _select_text(node: Any, selector: str, notes: _Notes) -> str | None:
    found = node.css_first(selector)
    return _node_text(found, notes) if found else None


def _select_date(node: Any, selector: str) -> str | None:
    found = node.css_first(selector)
    if found is None:
        return None
    value = found.attributes.get("datetime") or found.attributes.get("content") or found.text()
    moment = _parse_date(value)
    return _iso(moment) if moment else None


# --- autodiscovery -------------------------------------------------------------------------

_ALTERNATE_TYPES = {
    "application/rss+xml": "rss",
    "application/x-rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/x-atom+xml": "atom",
    "application/feed+json": "json",
    "application/json": "json",
    "application/rdf+xml": "rdf",
}
_FEED_NAMES = {"feed", "rss", "atom", "rss2", "feed.json"}
_FEED_SUFFIXES = (".rss", ".atom", ".rdf", ".xml", "feed.json")
_NOT_FEED_WORDS = ("sitemap", "opensearch", "crossdomain", "browserconfig", "oembed")


def discover_feeds(html: str, *, url: str) -> list[DiscoveredFeed]:
    """Feeds a page advertises or links to: ``<link rel="alternate">`` with a feed type
    first (in page order), then ``<a href>`` whose path looks like a feed (``/feed``,
    ``/rss``, ``.rss``, ``.xml``, ``/atom``, ``feed.json``). URLs are absolute (``<base>``
    honoured, ``feed:`` rewritten) and normalised; each appears once."""
    html, _ = _strip_invalid_chars(html)
    tree = LexborHTMLParser(html)
    base = _page_base(tree, url)
    found: dict[str, DiscoveredFeed] = {}

    def add(href: Any, title: Any, kind: str) -> None:
        absolute = absolutize(_unfeed(href), base) if isinstance(href, str) else None
        if absolute:
            key = normalize_url(absolute)
            clean_title = _collapse(title) if isinstance(title, str) else ""
            found.setdefault(key, DiscoveredFeed(url=key, title=clean_title or None, type=kind))

    for node in tree.css("link[rel][href]"):
        rels = (node.attributes.get("rel") or "").lower().split()
        mime = (node.attributes.get("type") or "").split(";")[0].strip().lower()
        href = node.attributes.get("href") or ""
        if "alternate" in rels and mime in _ALTERNATE_TYPES and not _is_api_link(href):
            add(href, node.attributes.get("title"), _ALTERNATE_TYPES[mime])
    for node in tree.css("a[href]"):
        href = _unfeed(node.attributes.get("href") or "")
        absolute = absolutize(href, base)
        if absolute and _looks_like_feed(absolute):
            title = node.attributes.get("title") or node.text(separator="")
            add(href, title, _guess_type(absolute))
    return list(found.values())


def _unfeed(href: str) -> str:
    """``feed://host/x`` -> ``http://host/x``; ``feed:https://host/x`` -> ``https://host/x``."""
    href = href.strip()
    if href[:5].lower() == "feed:":
        rest = href[5:]
        return "http:" + rest if rest.startswith("//") else rest
    return href


def _is_api_link(href: str) -> bool:
    # WordPress puts <link rel="alternate" type="application/json"> to its REST API on every page.
    return "/wp-json/" in href or "oembed" in href.lower()


def _path_of(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0].split("://", 1)[-1].partition("/")[2].lower()


def _looks_like_feed(url: str) -> bool:
    last = _path_of(url).rstrip("/").rsplit("/", 1)[-1]
    if any(word in last for word in _NOT_FEED_WORDS):
        return False
    return last in _FEED_NAMES or last.endswith(_FEED_SUFFIXES)


def _guess_type(url: str) -> str:
    path = _path_of(url)
    if path.endswith(".json"):
        return "json"
    for kind in ("atom", "rdf", "rss"):
        if kind in path:
            return kind
    return "unknown"
