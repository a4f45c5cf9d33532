"""harvester.feeds: feed fixtures, reliability cases 14-20, listing pages, autodiscovery.

One parametrised test runs every feed fixture in ``fixtures/feeds/`` against the table below
and checks global invariants on each result; focused tests follow, named after the cases in
``shared/research/reliability.md``. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import time
import tracemalloc
import urllib.request
from dataclasses import asdict, fields
from pathlib import Path

import feedparser
import pytest

from harvester.errors import EmptyBody, NotAFeed, ParseError
from harvester.feeds import (
    SUMMARY_MAX_CHARS,
    DiscoveredFeed,
    ParsedFeed,
    discover_feeds,
    parse_feed,
    parse_html_listing,
)
from harvester.models import FeedEntry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"

FEED_URLS = {
    "rss20.xml": "https://www.example-news.com/feed/",
    "rdf.xml": "https://www.heise-example.de/rss/news.rdf",
    "atom.xml": "https://feeds.example.org/engineering.atom",
    "feed.json": "https://links.example.net/feed.json",
    "googlenews.xml": "https://news.google.com/rss/search?q=chips&hl=en-US&gl=US&ceid=US:en",
    "dup-guids.xml": "https://regional-daily.example.com/feed.xml",
    "billion-laughs.xml": "https://laughs.example.com/feed",
    "xxe.xml": "https://status.example.com/feed",
    "utf8-declared-latin1.xml": "https://cuisine.example.fr/feed",
    "cp1252-declared-utf8.xml": "http://www.cafe-society.example.com/rss.asp",
    "nul-controls.xml": "https://broken.example.com/feed",
    "html-not-feed.html": "https://www.example-news.com/feed/",
    "empty.xml": "https://www.example-news.com/feed/",
}


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_fixture(name: str, **kwargs) -> ParsedFeed:
    return parse_feed(load(name), url=FEED_URLS[name], **kwargs)


def _sha(title: str, content: str) -> str:
    return "sha256:" + hashlib.sha256(f"{title}\n{content}".encode()).hexdigest()


EN = "https://www.example-news.com"
GN = "https://news.google.com/rss/articles/"
GN_IDS = [
    "CBMiZmh0dHBzOi8vd3d3LnRoZXJlZ2lzdGVyLmNvbS8yMDI0LzAyLzIyL252aWRpYV9xNF8yMDI0X3Jlc3VsdHMv0gEA",
    "CBMiX2h0dHBzOi8vd3d3LnJldXRlcnMuY29tL3RlY2hub2xvZ3kvbWljcm9zb2Z0LWdlcm1hbnktYWktMjAyNC0wMi0xNS_SAQA",
    "CBMiSWh0dHBzOi8vd3d3LnRoZXZlcmdlLmNvbS8yNDA3NDg1MS9hcm0tY2hpcC1kZXNpZ25lci1haS1yZXN1bHRz0gEA",
]
RD = "https://regional-daily.example.com/news"
HEISE = "https://www.heise-example.de/news"

# fixture -> (entry_ids, titles, links, published)
TABLE: dict[str, tuple[list, list, list, list]] = {
    "rss20.xml": (
        [
            f"{EN}/?p=1001",
            f"{EN}/?p=1000",
            f"{EN}/2024/02/13/cloud-prices/",
            "live-998",
            f"{EN}/2024/02/12/markup-title/?page=2&ref=rss",
        ],
        [
            "Microsoft to invest €3.2bn in German AI data centres",
            "Relative link: chipmakers report record quarter",
            "Protocol-relative link: cloud prices rise again",
            "Live blog (javascript link)",
            "Whitespace and markup in a title",
        ],
        [
            f"{EN}/2024/02/15/microsoft-germany-ai/",
            f"{EN}/2024/02/14/chipmakers-record-quarter/",
            f"{EN}/2024/02/13/cloud-prices/",
            None,
            f"{EN}/2024/02/12/markup-title/?page=2&ref=rss",
        ],
        ["2024-02-15T10:30:00Z", "2024-02-14T17:05:00Z", "2024-02-13T09:00:00Z", "2024-02-13T04:59:59Z", None],
    ),
    "rdf.xml": (
        [
            f"{HEISE}/Linux-6-8-erschienen-9001.html",
            f"{HEISE}/Rechenzentren-Strompreise-9000.html",
            f"{HEISE}/Open-Source-Foerderung-8999.html",
        ],
        [
            "Linux 6.8 erschienen: Neue Treiber für Intel-GPUs",
            "Rechenzentren: Strompreise drücken Margen",
            "Open-Source-Förderung: Bund stockt Sovereign Tech Fund auf",
        ],
        [
            f"{HEISE}/Linux-6-8-erschienen-9001.html?wt_mc=rss.red.ho.ho.rdf.beitrag.beitrag",
            f"{HEISE}/Rechenzentren-Strompreise-9000.html",
            f"{HEISE}/Open-Source-Foerderung-8999.html",
        ],
        ["2024-03-11T06:30:00Z", "2024-03-10T22:15:00Z", "2024-03-10T00:00:00Z"],
    ),
    "atom.xml": (
        [f"tag:blog.example.org,2024:post-{n}" for n in (17, 16, 15, 14)],
        [
            "Scaling Postgres to 10k connections",
            "Why we moved off cron",
            "Protocol-relative link to the docs site",
            "Absolute path link",
        ],
        [
            "https://blog.example.org/posts/scaling-postgres/",
            "https://blog.example.org/archive/2024/moving-off-cron.html",
            "https://docs.example.org/guides/deploys",
            "https://blog.example.org/posts/absolute-path/",
        ],
        ["2024-02-19T17:00:00Z", "2024-02-12T07:30:00Z", "2024-02-01T00:00:00Z", "2024-01-25T16:45:10Z"],
    ),
    "feed.json": (
        ["https://links.example.net/2024/02/15/nvidia-earnings", "2", "3", "4"],
        [
            "Nvidia earnings beat expectations",
            "Arm results",
            "Only date_modified",
            "Numeric id and a javascript url",
        ],
        [
            "https://links.example.net/2024/02/15/nvidia-earnings",
            "https://links.example.net/2024/02/14/arm-results",
            "https://links.example.net/2024/02/13/only-modified",
            None,
        ],
        ["2024-02-16T02:05:00Z", "2024-02-14T12:00:00Z", "2024-02-13T08:00:00Z", None],
    ),
    "googlenews.xml": (
        GN_IDS,
        [
            "Nvidia's record quarter lifts chip stocks - The Register",
            "Microsoft to invest $3.4 billion in German AI push - Reuters",
            "Arm - the chip designer - doubles down on AI - The Verge",
        ],
        [f"{GN}{gid}?oc=5" for gid in GN_IDS],
        ["2024-02-22T08:14:00Z", "2024-02-15T11:32:07Z", "2024-02-07T22:01:45Z"],
    ),
    "dup-guids.xml": (
        [
            f"42|{RD}/bus-lanes",
            f"42|{RD}/harbour-festival",
            f"7|{RD}/school-reopens",
            _sha("Weather warning for the weekend", "Strong winds expected on Saturday."),
            f"{RD}/market-day",
        ],
        [
            "Council approves new bus lanes",
            "Harbour festival returns in June",
            "School reopens after flood repairs",
            "Weather warning for the weekend",
            "Market day moves to Thursdays",
        ],
        [f"{RD}/bus-lanes", f"{RD}/harbour-festival", f"{RD}/school-reopens", None, f"{RD}/market-day"],
        ["2024-02-16T07:00:00Z", "2024-02-16T08:00:00Z", "2024-02-15T12:00:00Z", None, None],
    ),
    "billion-laughs.xml": (
        ["https://laughs.example.com/1", "https://laughs.example.com/2"],
        ["First item", "Second item"],
        ["https://laughs.example.com/1", "https://laughs.example.com/2"],
        [None, None],
    ),
    "xxe.xml": (
        ["https://status.example.com/incidents/1"],
        ["Server status"],
        ["https://status.example.com/incidents/1"],
        [None],
    ),
    "utf8-declared-latin1.xml": (
        ["https://cuisine.example.fr/recettes/cafe-ete", "https://cuisine.example.fr/recettes/creme-brulee"],
        ["Le café de l'été", "Crème brûlée à 5 €"],
        ["https://cuisine.example.fr/recettes/cafe-ete", "https://cuisine.example.fr/recettes/creme-brulee"],
        ["2024-06-01T04:00:00Z", "2024-05-31T16:30:00Z"],
    ),
    "cp1252-declared-utf8.xml": (
        [
            "http://www.cafe-society.example.com/news.asp?id=101",
            "http://www.cafe-society.example.com/news.asp?id=100",
        ],
        ["“Café prices” – up €2", "Naïve résumé tips"],
        [
            "http://www.cafe-society.example.com/news.asp?id=101",
            "http://www.cafe-society.example.com/news.asp?id=100",
        ],
        ["2024-03-04T09:15:00Z", "2024-03-03T09:15:00Z"],
    ),
    "nul-controls.xml": (
        ["item-1", "item-2"],
        ["Null byte title", "Controls and surrogates"],
        ["https://broken.example.com/article-1", "https://broken.example.com/article-2"],
        [None, None],
    ),
}

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def assert_invariants(parsed: ParsedFeed, url: str) -> None:
    """What must hold for every parse result, whatever the input."""
    record = asdict(parsed)
    assert json.loads(json.dumps(record, ensure_ascii=False)) == json.loads(json.dumps(record))
    for s in _strings(record):
        assert not BAD_CHARS.search(s), repr(s)
        s.encode("utf-8")  # strict: no lone surrogates
    for s in _strings({k: v for k, v in record.items() if k != "warnings"}):
        assert "&lol" not in s and "lollol" not in s  # warnings may name the entity
        assert "root:" not in s
    assert all(w.startswith("parse: ") for w in parsed.warnings)
    assert parsed.url == url
    for entry in parsed.entries:
        assert isinstance(entry, FeedEntry)
        assert entry.feed_url == url
        assert entry.entry_id
        assert entry.published is None or ISO_Z.match(entry.published)
        assert entry.summary is None or len(entry.summary) <= SUMMARY_MAX_CHARS
        for link in (entry.link, entry.source_url):
            assert link is None or (re.match(r"^https?://", link) and "#" not in link)
        if entry.title:
            assert entry.title == " ".join(entry.title.split())
            assert "<" not in entry.title or " < " in entry.title
    ids = [e.entry_id for e in parsed.entries]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", sorted(TABLE))
def test_feed_fixture(name: str) -> None:
    entry_ids, titles, links, published = TABLE[name]
    parsed = parse_fixture(name)
    assert [e.entry_id for e in parsed.entries] == entry_ids
    assert [e.title for e in parsed.entries] == titles
    assert [e.link for e in parsed.entries] == links
    assert [e.published for e in parsed.entries] == published
    assert_invariants(parsed, FEED_URLS[name])


def test_every_fixture_is_in_the_table_or_an_error_case() -> None:
    on_disk = {p.name for p in FIXTURES.iterdir() if p.suffix in {".xml", ".json", ".html"}}
    errors = {"html-not-feed.html", "empty.xml", "listing.html"}
    assert on_disk == set(TABLE) | errors


@pytest.mark.parametrize(
    "path", sorted(p.name for p in FIXTURES.iterdir() if p.suffix != ".md" and not p.name.startswith("."))
)
def test_fixture_describes_itself(path: str) -> None:
    head = load(path)[:2000]
    if path == "empty.xml":
        assert head == b""  # described in fixtures/feeds/README.md
    elif path == "feed.json":
        meta = json.loads(load(path))["_fixture"]
        assert meta["description"] and meta["expect"]
    else:
        assert b"Description:" in head and b"Expect:" in head


def test_rss20_channel_and_entry_details() -> None:
    parsed = parse_fixture("rss20.xml")
    assert parsed.title == "Example News – Technology"
    assert parsed.link == "https://www.example-news.com/"
    assert parsed.language == "en-GB"
    assert parsed.ttl == 3600.0
    assert parsed.warnings == ()
    first, second, third, fourth, fifth = parsed.entries
    assert first.authors == ("Tobias Mann",)
    assert third.authors == ("Sam Smith",)  # RSS <author>email (Name)</author>
    assert fourth.authors == ()
    assert first.source_url == "https://www.theregister.com/"
    assert first.source_name == "The Register"
    assert second.source_url is None and second.source_name is None
    assert first.summary.startswith("Microsoft will spend €3.2 billion on AI infrastructure")
    assert "<" not in first.summary
    assert second.summary == "Chipmakers reported a record quarter & raised guidance."
    assert fifth.summary == "Escaped HTML description & an ampersand."
    assert {e.language for e in parsed.entries} == {"en-GB"}


def test_atom_details() -> None:
    parsed = parse_fixture("atom.xml")
    assert parsed.title == "Example Engineering Blog"
    assert parsed.link == "https://blog.example.org/"  # from xml:base, not the feed URL
    assert parsed.language == "en"
    assert parsed.ttl is None
    first, second, _, last = parsed.entries
    assert first.authors == ("Priya Raman", "Lars Olsen")
    assert second.authors == ("Platform Team",)  # inherited from the feed (RFC 4287 4.2.1)
    assert first.summary == "PgBouncer, transaction pooling and a few surprises."
    assert second.summary == "Cron was fine until it was not."  # xhtml content
    assert last.summary is None


def test_json_feed_details() -> None:
    parsed = parse_fixture("feed.json")
    assert (parsed.title, parsed.link, parsed.language, parsed.ttl) == (
        "Example Links",
        "https://links.example.net/",
        "en-US",
        None,
    )
    first, second, third, fourth = parsed.entries
    assert first.source_url == "https://www.theregister.com/2024/02/15/nvidia_earnings/"
    assert third.source_url == "https://www.reuters.com/technology/only-modified-2024-02-13/"
    assert second.source_url is None
    assert first.summary == "Nvidia reported revenue of $22.1bn & raised its outlook."  # no script
    assert second.summary == "Arm shares jumped after its quarterly results."
    assert third.summary == "An item that was never given date_published."
    assert first.authors == ("Ada Writer", "Bo Editor")
    assert second.authors == ("Link Bot",)
    assert (first.language, second.language) == ("en-US", "en-GB")
    assert fourth.link is None


def test_json_feed_1_0_detected_without_content_type() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1",
            "title": "Old",
            "author": {"name": "Solo"},
            "items": [{"id": "a", "url": "https://x.example/a", "content_text": "t\u0000ext"}],
        }
    ).encode()
    parsed = parse_feed(body, url="https://x.example/feed.json", headers={"Content-Type": "text/plain"})
    (entry,) = parsed.entries
    assert (entry.entry_id, entry.authors, entry.summary) == ("a", ("Solo",), "text")


@pytest.mark.parametrize(
    "body",
    [b'{"version": "1.0", "items": []}', b"[1, 2]", b'{"items": [}', b"{}"],
)
def test_json_that_is_not_a_json_feed(body: bytes) -> None:
    with pytest.raises(NotAFeed):
        parse_feed(body, url="https://x.example/api", headers={"content-type": "application/json"})


def test_google_news_source() -> None:
    first, second, third = parse_fixture("googlenews.xml").entries
    assert (first.source_name, first.source_url) == ("The Register", "https://www.theregister.com/")
    assert (second.source_name, second.source_url) == ("Reuters", "https://www.reuters.com/")
    assert (third.source_name, third.source_url) == ("The Verge", None)  # title suffix


def test_title_suffix_is_not_a_source_outside_google_news() -> None:
    body = b"""<rss version="2.0"><channel><title>x</title>
    <item><title>Story - Someone</title><link>https://x.example/a</link></item></channel></rss>"""
    (entry,) = parse_feed(body, url="https://x.example/feed").entries
    assert entry.source_name is None


# --- case 14: billion laughs ---------------------------------------------------------------


def test_case14_billion_laughs_not_expanded() -> None:
    body = load("billion-laughs.xml")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        parsed = parse_feed(body, url=FEED_URLS["billion-laughs.xml"])
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 50 * 1024 * 1024
    assert parsed.title == "Laughing Feed"
    assert [e.summary for e in parsed.entries] == ["Before after", "CDATA keeps literal"]
    assert any("entity" in w and "&lol9;" in w for w in parsed.warnings)
    assert_invariants(parsed, FEED_URLS["billion-laughs.xml"])


def test_case14_feedparser_alone_strips_the_doctype() -> None:
    """Pins the dependency: even without our own DOCTYPE removal, feedparser does not expand."""
    started = time.perf_counter()
    result = feedparser.parse(io.BytesIO(load("billion-laughs.xml")))
    assert time.perf_counter() - started < 1.0
    assert result.bozo  # undefined entity -> loose parser
    assert "lollol" not in result.feed.title
    assert all("lollol" not in (e.get("title", "") + e.get("summary", "")) for e in result.entries)


def test_case14_entities_declared_on_the_doctype_line() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;'
        b'&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY q "]>">]>'
        b"<rss version=\"2.0\"><channel><title>T &c;</title><item><title>I &c; &q;</title>"
        b"<link>https://x.example/1</link></item></channel></rss>"
    )
    parsed = parse_feed(body, url="https://x.example/feed")
    assert parsed.title == "T"
    assert [e.title for e in parsed.entries] == ["I"]
    assert_invariants(parsed, "https://x.example/feed")


def test_case14_leftover_entity_reference_without_doctype_is_removed() -> None:
    body = b"""<rss version="2.0"><channel><title>x</title>
    <item><title><![CDATA[A &lol9; B]]></title><link>https://x.example/a</link>
    <description><![CDATA[<p>keep &amp; and &eacute;, drop &xxe;</p>]]></description></item></channel></rss>"""
    parsed = parse_feed(body, url="https://x.example/feed")
    (entry,) = parsed.entries
    assert entry.title == "A B"
    assert entry.summary == "keep & and é, drop"
    warned = " ".join(parsed.warnings)
    assert "&lol9;" in warned and "&xxe;" in warned


def test_case14_external_doctype_without_subset_is_quiet() -> None:
    body = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
 "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<!-- generated -->
<rss version="0.91"><channel><title>Old</title><language>en-us</language>
<item><title>Caf&eacute; &amp; co</title><link>http://old.example.com/1</link></item></channel></rss>"""
    parsed = parse_feed(body, url="http://old.example.com/rss.xml")
    assert [e.title for e in parsed.entries] == ["Café & co"]
    assert not any("DOCTYPE" in w for w in parsed.warnings)


# --- case 15: XXE --------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail the test on any attempt to resolve, connect or open a URL."""
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise AssertionError(f"network or URL access attempted: {args[:2]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(feedparser.http, "get", refuse)
    return attempts


def test_case15_xxe_reads_no_file_and_opens_no_connection(no_network: list[str]) -> None:
    body = load("xxe.xml")
    assert b"file:///etc/passwd" in body and b"http://127.0.0.1:9/evil.dtd" in body
    parsed = parse_feed(body, url=FEED_URLS["xxe.xml"])
    assert no_network == []
    assert parsed.title == "Status feed"
    (entry,) = parsed.entries
    assert entry.title == "Server status"
    assert entry.summary == "Details:"
    assert "root:" not in json.dumps(asdict(parsed))
    assert any("entity" in w for w in parsed.warnings)
    assert_invariants(parsed, FEED_URLS["xxe.xml"])


def test_case15_xxe_sentinel_file_is_not_read(tmp_path: Path, no_network: list[str]) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SENTINEL-7f3a9c")
    body = f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY s SYSTEM "{secret.as_uri()}">]>
<rss version="2.0"><channel><title>t</title>
<item><title>&s;</title><link>https://x.example/a</link><description>&s;</description></item>
</channel></rss>""".encode()
    parsed = parse_feed(body, url="https://x.example/feed")
    assert "SENTINEL" not in json.dumps(asdict(parsed))
    assert no_network == []


def test_case15_body_that_looks_like_a_path_or_url_is_never_opened(
    tmp_path: Path, no_network: list[str]
) -> None:
    secret = tmp_path / "feed.xml"
    secret.write_text('<rss version="2.0"><channel><item><title>SENTINEL</title></item></channel></rss>')
    for body in (str(secret).encode(), secret.as_uri().encode(), b"https://example.com/feed"):
        with pytest.raises(NotAFeed):
            parse_feed(body, url="https://x.example/feed")
    assert no_network == []


# --- case 16: encodings --------------------------------------------------------------------


def test_case16_utf8_declared_latin1_in_prolog() -> None:
    parsed = parse_fixture("utf8-declared-latin1.xml")
    assert parsed.title == "Le café de l'été"
    assert parsed.entries[1].summary == "Œufs, crème, sucre – rien d’autre."
    assert parsed.warnings == ("parse: feed declared iso-8859-1 but bytes are UTF-8",)


def test_case16_utf8_declared_latin1_in_http_header() -> None:
    body = load("utf8-declared-latin1.xml").replace(b'encoding="ISO-8859-1"', b'encoding="utf-8"')
    parsed = parse_feed(
        body, url="https://cuisine.example.fr/feed", headers={"Content-Type": "text/xml; charset=ISO-8859-1"}
    )
    assert [e.title for e in parsed.entries] == ["Le café de l'été", "Crème brûlée à 5 €"]
    assert parsed.warnings == ("parse: feed declared iso-8859-1 but bytes are UTF-8",)


def test_case16_ascii_bytes_declared_latin1_need_no_warning() -> None:
    body = b'<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>plain</title></channel></rss>'
    parsed = parse_feed(body, url="https://x.example/feed")
    assert (parsed.title, parsed.warnings, parsed.entries) == ("plain", (), ())


def test_case16_cp1252_bytes_labelled_utf8() -> None:
    parsed = parse_fixture("cp1252-declared-utf8.xml")
    assert parsed.title == "Café Society"
    assert parsed.entries[0].summary == "Prices rose ‘again’ in March…"
    assert parsed.warnings == (
        "parse: feed declared utf-8 but bytes are not valid UTF-8; read them as windows-1252",
    )


def test_case16_cp1252_bytes_labelled_utf8_in_header_only() -> None:
    body = load("cp1252-declared-utf8.xml").replace(b' encoding="utf-8"', b"")
    parsed = parse_feed(body, url="https://x.example/feed", headers={"content-type": "application/rss+xml; charset=UTF-8"})
    assert parsed.entries[1].title == "Naïve résumé tips"
    assert any("not valid UTF-8" in w for w in parsed.warnings)


def test_case16_mostly_utf8_with_a_stray_cp1252_byte() -> None:
    body = '<rss version="2.0"><channel><title>Zürich – '.encode() + b"\x93quoted\x94" + b"</title></channel></rss>"
    parsed = parse_feed(body, url="https://x.example/feed")
    assert parsed.title == "Zürich – “quoted”"


@pytest.mark.parametrize(
    ("charset", "text"),
    [("windows-1251", "Новости дня"), ("koi8-r", "Новости дня"), ("shift_jis", "今日のニュース"), ("iso-8859-2", "Żółć")],
)
def test_case16_correctly_declared_legacy_charset(charset: str, text: str) -> None:
    xml = f'<?xml version="1.0" encoding="{charset}"?><rss version="2.0"><channel><title>{text}</title>'
    xml += f"<item><title>{text}</title><link>https://x.example/1</link></item></channel></rss>"
    parsed = parse_feed(xml.encode(charset), url="https://x.example/feed")
    assert (parsed.title, parsed.entries[0].title, parsed.warnings) == (text, text, ())


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-32"])
def test_case16_utf16_and_boms(codec: str) -> None:
    text = load("rss20.xml").decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    parsed = parse_feed(text.encode(codec), url=FEED_URLS["rss20.xml"])
    assert [e.title for e in parsed.entries] == TABLE["rss20.xml"][1]
    assert [e.entry_id for e in parsed.entries] == TABLE["rss20.xml"][0]


def test_case16_unknown_declared_charset() -> None:
    body = '<?xml version="1.0" encoding="x-klingon"?><rss version="2.0"><channel><title>é</title></channel></rss>'
    parsed = parse_feed(body.encode(), url="https://x.example/feed")
    assert parsed.title == "é"
    assert any("x-klingon" in w for w in parsed.warnings)


# --- case 17: NUL, controls, surrogates ----------------------------------------------------


def test_case17_nul_controls_and_surrogates_stripped() -> None:
    parsed = parse_fixture("nul-controls.xml")
    assert parsed.title == "Broken CMS feed"
    first, second = parsed.entries
    assert first.link == "https://broken.example.com/article-1"
    assert first.summary == "Tab here, vertical tab, form feed, escape[31m, unitsep."
    assert second.summary == "Lone surrogate and NUL reference."
    assert any("control" in w for w in parsed.warnings)
    dumped = json.dumps(asdict(parsed), ensure_ascii=False).encode("utf-8")
    assert json.loads(dumped)["entries"][0]["title"] == "Null byte title"
    assert_invariants(parsed, FEED_URLS["nul-controls.xml"])


def test_case17_controls_in_json_feed_escapes() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "a\u0000b\u001b",
            "items": [{"id": "x\u0001", "title": "t\ud800i\u0007tle", "url": "https://x.example/\u0000a"}],
        }
    ).encode()
    parsed = parse_feed(body, url="https://x.example/feed.json")
    (entry,) = parsed.entries
    assert (parsed.title, entry.entry_id, entry.title, entry.link) == ("ab", "x", "title", "https://x.example/a")
    assert_invariants(parsed, "https://x.example/feed.json")


# --- case 18: HTML served as a feed, empty body ---------------------------------------------


def test_case18_html_page_is_not_a_feed() -> None:
    with pytest.raises(NotAFeed) as caught:
        parse_fixture("html-not-feed.html", headers={"content-type": "text/html; charset=utf-8"})
    assert caught.value.kind == "not_a_feed"
    assert str(caught.value).startswith("parse: ")
    assert caught.value.target == FEED_URLS["html-not-feed.html"]


@pytest.mark.parametrize(
    "body",
    [
        b"<html><head><title>x</title></head><body><p>hi</p></body></html>",
        b"\xef\xbb\xbf<!-- cms --><HTML><body>x</body></HTML>",
        b"<div><p>fragment</p></div>",
        b"Service temporarily unavailable",
        b"<?xml version='1.0'?><error><code>403</code></error>",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>cut off',
    ],
)
def test_case18_other_non_feeds(body: bytes) -> None:
    with pytest.raises(NotAFeed):
        parse_feed(body, url="https://x.example/feed")


def test_case18_large_html_is_refused_quickly() -> None:
    """feedparser's lenient parser needs ~40 s for 9 MB of HTML; it never gets to see it."""
    page = b"<head><title>x</title></head><body>" + b"<div><p>hello <b>world</b></p></div>\n" * 60000
    started = time.perf_counter()
    with pytest.raises(NotAFeed, match="<head>"):
        parse_feed(page, url="https://x.example/feed")
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "body",
    [
        b"Warning: Undefined variable $x in /var/www/feed.php on line 3\n"
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>i</title><link>https://x.example/a</link></item></channel></rss>",
        b'<atom:feed xmlns:atom="http://www.w3.org/2005/Atom"><atom:title>t</atom:title>'
        b"<atom:entry><atom:title>i</atom:title><atom:id>https://x.example/a</atom:id></atom:entry></atom:feed>",
    ],
)
def test_case18_feeds_with_junk_before_or_a_prefixed_root(body: bytes) -> None:
    parsed = parse_feed(body, url="https://x.example/feed")
    assert [(e.title, e.link) for e in parsed.entries] == [("i", "https://x.example/a")]


@pytest.mark.parametrize("body", [b"", b"   \r\n\t ", b"\xef\xbb\xbf", b"\xff\xfe \x00\n\x00"])
def test_case18_empty_body(body: bytes) -> None:
    with pytest.raises(EmptyBody) as caught:
        parse_feed(body, url="https://x.example/feed")
    assert caught.value.kind == "empty_body"
    assert isinstance(caught.value, ParseError)


def test_case18_empty_fixture() -> None:
    with pytest.raises(EmptyBody):
        parse_fixture("empty.xml")


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Quiet</title></feed>',
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "Quiet", "items": []}',
    ],
)
def test_case18_feed_without_items_is_a_valid_empty_feed(body: bytes) -> None:
    parsed = parse_feed(body, url="https://x.example/feed")
    assert parsed.title == "Quiet"
    assert parsed.entries == ()


# --- case 19: duplicate GUIDs ---------------------------------------------------------------


def test_case19_duplicate_guids_within_a_feed() -> None:
    parsed = parse_fixture("dup-guids.xml")
    assert len(parsed.entries) == 5  # 6 items, one exact repeat
    assert parsed.warnings == ("parse: 1 duplicate entries dropped (same entry id as an earlier one)",)
    titles = [e.title for e in parsed.entries]
    assert len(set(titles)) == len(titles)  # nothing duplicated, no distinct story dropped


def test_case19_entry_ids_are_stable_across_runs() -> None:
    for name in TABLE:
        first = [e.entry_id for e in parse_fixture(name).entries]
        second = [e.entry_id for e in parse_fixture(name).entries]
        assert first == second


def test_case19_id_rules() -> None:
    body = b"""<rss version="2.0"><channel><title>x</title>
    <item><title>A</title><guid isPermaLink="false">g</guid></item>
    <item><title>B</title><guid isPermaLink="false">g</guid><description>b</description></item>
    <item><title>C</title><guid isPermaLink="false">unique</guid><link>https://x.example/c?utm_source=x</link></item>
    <item><title>D</title><link>https://X.example/d#frag</link></item>
    <item><title>E</title><description>&lt;p&gt;body&lt;/p&gt;</description></item>
    <item><title>E</title><description>&lt;p&gt;body&lt;/p&gt;</description></item>
    </channel></rss>"""
    parsed = parse_feed(body, url="https://x.example/feed")
    assert [e.entry_id for e in parsed.entries] == [
        "g|" + _sha("A", ""),
        "g|" + _sha("B", "b"),
        "unique",
        "https://x.example/d",
        _sha("E", "body"),
    ]
    assert any("1 duplicate" in w for w in parsed.warnings)


def test_case19_hash_uses_content_over_summary() -> None:
    body = b"""<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>x</title>
    <item><title>T</title><description>short</description><content:encoded>&lt;p&gt;full body&lt;/p&gt;</content:encoded></item>
    </channel></rss>"""
    (entry,) = parse_feed(body, url="https://x.example/feed").entries
    assert entry.entry_id == _sha("T", "full body")
    assert entry.summary == "short"


# --- case 20: relative, protocol-relative and javascript: links -----------------------------


def test_case20_links_resolved_against_the_feed_url() -> None:
    entries = parse_fixture("rss20.xml").entries
    assert entries[1].link == "https://www.example-news.com/2024/02/14/chipmakers-record-quarter/"
    assert entries[2].link == "https://www.example-news.com/2024/02/13/cloud-prices/"
    assert entries[3].link is None  # javascript:
    # a redirected feed: the final URL is the base
    moved = parse_feed(load("rss20.xml"), url="https://mirror.example.net/news/feed/")
    assert moved.entries[1].link == "https://mirror.example.net/2024/02/14/chipmakers-record-quarter/"
    assert moved.entries[2].link == "https://www.example-news.com/2024/02/13/cloud-prices/"
    assert all(e.feed_url == "https://mirror.example.net/news/feed/" for e in moved.entries)


def test_case20_links_resolved_against_xml_base() -> None:
    entries = parse_fixture("atom.xml").entries
    assert entries[0].link == "https://blog.example.org/posts/scaling-postgres/"
    assert entries[1].link == "https://blog.example.org/archive/2024/moving-off-cron.html"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java&#x09;script:alert(1)",
        "vbscript:x",
        "data:text/html,hi",
        "mailto:a@b.example",
        "file:///etc/passwd",
    ],
)
def test_case20_unfetchable_links_dropped(href: str) -> None:
    body = f"""<rss version="2.0"><channel><title>x</title>
    <item><title>t</title><link>{href}</link><guid isPermaLink="false">id-1</guid>
    <source url="{href}">Src</source></item></channel></rss>""".encode()
    (entry,) = parse_feed(body, url="https://x.example/feed").entries
    assert (entry.entry_id, entry.link, entry.source_url) == ("id-1", None, None)


# --- other fields --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ttl", "seconds"),
    [("60", 3600.0), (" 5 ", 300.0), ("0", 0.0), ("1.5", 90.0), ("soon", None), ("-5", None), ("nan", None), ("", None)],
)
def test_ttl_in_seconds(ttl: str, seconds: float | None) -> None:
    body = f'<rss version="2.0"><channel><title>x</title><ttl>{ttl}</ttl></channel></rss>'.encode()
    assert parse_feed(body, url="https://x.example/feed").ttl == seconds


def test_titles_are_unescaped_exactly_once() -> None:
    body = b"""<rss version="2.0"><channel><title>x</title>
    <item><title>AT&amp;T</title><link>https://x.example/1</link></item>
    <item><title>1 &lt; 2 and x &gt; y</title><link>https://x.example/2</link></item>
    <item><title><![CDATA[A <em>b</em> & c]]></title><link>https://x.example/3</link></item>
    <item><title>&lt;b&gt;Bold&lt;/b&gt; news</title><link>https://x.example/4</link></item>
    <item><title>Caf&#233; &#8211; &#x201C;q&#x201D;</title><link>https://x.example/5</link></item>
    </channel></rss>"""
    titles = [e.title for e in parse_feed(body, url="https://x.example/feed").entries]
    assert titles == ["AT&T", "1 < 2 and x > y", "A b & c", "Bold news", "Café – “q”"]


def test_summary_is_plain_text_and_capped() -> None:
    long_text = " ".join(["word"] * 600)
    body = f"""<rss version="2.0"><channel><title>x</title><item><title>t</title><link>https://x.example/1</link>
    <description><![CDATA[<style>p{{color:red}}</style><script>evil()</script><p>{long_text}</p>]]></description>
    </item></channel></rss>""".encode()
    (entry,) = parse_feed(body, url="https://x.example/feed").entries
    assert len(entry.summary) <= SUMMARY_MAX_CHARS
    assert entry.summary.startswith("word word") and entry.summary.endswith("…")
    assert "evil" not in entry.summary and "color" not in entry.summary


def test_language_hint_and_content_language() -> None:
    body = b'<rss version="2.0"><channel><title>x</title><item><title>t</title><link>https://x.example/1</link></item></channel></rss>'
    (entry,) = parse_feed(body, url="https://x.example/feed", language="fr").entries
    assert entry.language == "fr"
    parsed = parse_feed(body, url="https://x.example/feed", headers={"Content-Language": "de"}, language="fr")
    assert parsed.entries[0].language == "de"  # the server's Content-Language beats the hint
    with_lang = body.replace(b"<title>x</title>", b"<title>x</title><language>es</language>")
    assert parse_feed(with_lang, url="https://x.example/feed", language="fr").entries[0].language == "es"


def test_parsed_feed_is_frozen() -> None:
    parsed = parse_fixture("rss20.xml")
    with pytest.raises(AttributeError):
        parsed.title = "changed"  # type: ignore[misc]
    assert [f.name for f in fields(ParsedFeed)] == [
        "url", "title", "link", "language", "ttl", "entries", "warnings",
    ]


# --- parse_html_listing --------------------------------------------------------------------

LISTING_URL = "https://www.beispiel-zeitung.de/neueste/"
BZ = "https://www.beispiel-zeitung.de"


def test_listing_page() -> None:
    html = load("listing.html").decode("utf-8")
    parsed = parse_html_listing(html, url=LISTING_URL, item="div.teaser", link="h3 a", date="time")
    assert [e.link for e in parsed.entries] == [
        f"{BZ}/wirtschaft/energiepreise-sinken-1001.html",
        f"{BZ}/politik/wahlrecht-reform-1000.html",
        f"{BZ}/kultur/berlinale-gewinner-999.html",
        f"{BZ}/neueste/sport/bundesliga-spieltag-998.html",
        f"{BZ}/wissen/klimabericht-997.html",
        f"{BZ}/panorama/zugunglueck-996.html",
    ]
    assert [e.entry_id for e in parsed.entries] == [e.link for e in parsed.entries]
    assert [e.title for e in parsed.entries] == [
        "Energiepreise sinken zum dritten Mal",
        "Wahlrecht: Reform passiert den Bundesrat",
        "Berlinale: Die Gewinner im Überblick",
        "Bundesliga: Der 25. Spieltag & seine Folgen",
        "Klima: Neuer Bericht warnt vor Hitzesommern",
        "Zugunglück in Norditalien",
    ]
    assert [e.published for e in parsed.entries] == [
        "2024-03-11T07:30:00Z",
        "2024-03-11T06:00:00Z",
        "2024-03-10T19:15:00Z",
        None,  # "vor 2 Stunden"
        "2024-03-09T00:00:00Z",
        None,  # no <time>
    ]
    assert parsed.title == "Neueste Artikel | Beispiel Zeitung"
    assert parsed.language == "de"
    assert {e.language for e in parsed.entries} == {"de"}
    assert_invariants(parsed, LISTING_URL)


def test_listing_default_link_skips_image_links_for_the_title() -> None:
    html = load("listing.html").decode("utf-8")
    parsed = parse_html_listing(html, url=LISTING_URL, item="div.teaser")
    assert parsed.entries[0].title == "Energiepreise sinken zum dritten Mal"
    assert all(e.published is None for e in parsed.entries)


def test_listing_title_selector_and_item_as_link() -> None:
    html = """<ul><li><a class="story" href="/a"><span class="hed">One</span><span>kicker</span></a></li>
    <li><a class="story" href="/b"><span class="hed">Two</span></a></li>
    <li><a class="story" href="javascript:void(0)">Three</a></li>
    <li><a class="story" href="/a#again"><span class="hed">One again</span></a></li></ul>"""
    parsed = parse_html_listing(html, url="https://x.example/", item="a.story", title=".hed")
    assert [(e.link, e.title) for e in parsed.entries] == [
        ("https://x.example/a", "One"),
        ("https://x.example/b", "Two"),
    ]
    assert any("no usable" in w for w in parsed.warnings)
    assert any("duplicate" in w for w in parsed.warnings)


def test_listing_without_items_names_the_selector() -> None:
    html = load("listing.html").decode("utf-8")
    with pytest.raises(NotAFeed, match=r"article\.card"):
        parse_html_listing(html, url=LISTING_URL, item="article.card")


def test_listing_with_an_invalid_selector() -> None:
    with pytest.raises(ParseError):
        parse_html_listing("<p>x</p>", url=LISTING_URL, item="div[[")


def test_listing_honours_base_href() -> None:
    html = '<base href="https://cdn.example.org/news/"><div class="t"><a href="story">S</a></div>'
    parsed = parse_html_listing(html, url="https://x.example/", item="div.t")
    assert parsed.entries[0].link == "https://cdn.example.org/news/story"


# --- discover_feeds ------------------------------------------------------------------------


def test_discover_feeds() -> None:
    html = load("html-not-feed.html").decode("utf-8")
    assert discover_feeds(html, url="https://www.example-news.com/") == [
        DiscoveredFeed("https://www.example-news.com/feed/", "Example News » Feed", "rss"),
        DiscoveredFeed("https://www.example-news.com/feed/atom/", "Example News (Atom)", "atom"),
        DiscoveredFeed("https://www.example-news.com/feed.json", "Example News (JSON Feed)", "json"),
        DiscoveredFeed("https://www.example-news.com/comments/feed/", "Example News » Comments Feed", "rss"),
        DiscoveredFeed("https://www.example-news.com/category/tech/feed/", "Tech feed", "unknown"),
        DiscoveredFeed("https://www.example-news.com/podcast.rss", "Podcast", "rss"),
        DiscoveredFeed("http://www.example-news.com/science/rss", "Science (feed: link)", "rss"),
    ]


def test_discover_feeds_relative_to_base_and_rdf() -> None:
    html = """<html><head><base href="https://static.example.org/site/">
    <link rel="Alternate" type="application/rdf+xml; charset=utf-8" href="index.rdf">
    <link rel="alternate" type="text/html" href="/other">
    </head><body><a href="//feeds.example.org/main.xml">x</a><a href="/about">a</a></body></html>"""
    assert discover_feeds(html, url="https://www.example.org/") == [
        DiscoveredFeed("https://static.example.org/site/index.rdf", None, "rdf"),
        DiscoveredFeed("https://feeds.example.org/main.xml", "x", "unknown"),
    ]


def test_discover_feeds_finds_nothing_on_a_plain_page() -> None:
    assert discover_feeds("<p>No feeds here. <a href='/about'>About</a></p>", url="https://x.example/") == []
