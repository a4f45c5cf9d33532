"""harvester.urls: absolutize, normalize_url, host_of, registrable_domain (all offline)."""

from __future__ import annotations

import pytest

from harvester.urls import (
    TRACKING_PARAMS,
    absolutize,
    host_of,
    normalize_url,
    registrable_domain,
)

BASE = "https://www.example-news.com/section/page.html?x=1"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Example.COM/Path/A", "https://www.example.com/Path/A"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a/", "https://example.com/a/"),  # path kept as is
        ("https://example.com/a", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a?", "https://example.com/a"),
        (
            "https://example.com/a?utm_source=rss&id=7&utm_medium=feed&UTM_Campaign=x",
            "https://example.com/a?id=7",
        ),
        ("https://example.com/a?b=2&a=1&fbclid=IwAR0&gclid=x", "https://example.com/a?b=2&a=1"),
        (
            "https://example.com/a?mc_cid=1&mc_eid=2&igshid=3&ref_src=twsrc&_hsenc=4&_hsmi=5"
            "&yclid=6&spm=7&cmpid=8&dclid=9&msclkid=10",
            "https://example.com/a",
        ),
        ("https://example.com/a?q=a%20b&&empty=&x", "https://example.com/a?q=a%20b&empty=&x"),
        ("https://example.com/a?ref=rss", "https://example.com/a?ref=rss"),  # not tracking
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://user:pw@Example.com:443/", "https://user:pw@example.com/"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("https://example.com./a", "https://example.com/a"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_normalize_url_is_idempotent() -> None:
    url = "HTTPS://Example.com:443/a/b/?utm_source=x&id=1#frag"
    once = normalize_url(url)
    assert normalize_url(once) == once == "https://example.com/a/b/?id=1"


def test_tracking_params_are_documented_and_lowercase() -> None:
    assert {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid"} <= TRACKING_PARAMS
    assert {"ref_src", "_hsenc", "_hsmi", "yclid", "spm", "cmpid"} <= TRACKING_PARAMS
    assert all(p == p.lower() for p in TRACKING_PARAMS)


def test_normalize_url_leaves_unparsable_input_alone() -> None:
    assert normalize_url(" http://[::1/x ") == "http://[::1/x"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/a/b", "https://www.example-news.com/a/b"),
        ("other.html", "https://www.example-news.com/section/other.html"),
        ("../up", "https://www.example-news.com/up"),
        ("?page=2", "https://www.example-news.com/section/page.html?page=2"),
        ("#top", "https://www.example-news.com/section/page.html?x=1#top"),
        ("//cdn.example.org/img.png", "https://cdn.example.org/img.png"),
        ("http://other.example/x", "http://other.example/x"),
        ("  /padded  ", "https://www.example-news.com/padded"),
        ("/a\n/b\t", "https://www.example-news.com/a/b"),
    ],
)
def test_absolutize(href: str, expected: str) -> None:
    assert absolutize(href, BASE) == expected


@pytest.mark.parametrize(
    "href",
    [
        None,
        "",
        "   ",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:void(0)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "\x01javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "mailto:news@example.com",
        "tel:+441234",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "about:blank",
        "tag:example.com,2024:1",
        "http://[::1",
        "http:///nohost",
    ],
)
def test_absolutize_refuses_unfetchable_links(href: str | None) -> None:
    assert absolutize(href, BASE) is None


@pytest.mark.parametrize(
    ("href", "base"),
    [
        ("/", BASE),
        ("/tags/?letter=#", BASE),  # urljoin drops an empty fragment...
        ("/search?#results", BASE),  # ...and an empty query
        ("/a?", BASE),
        ("/a/./b/../c", BASE),  # dot segments are removed
        ("/.well-known/x", BASE),
        ("/a?next=/../b", BASE),
        ("/%2e%2e/x", BASE),
        ("/ä/ö?q=ü#f", BASE),
        ("/a#b#c", BASE),
        ("/x", "HTTP://User@Example.COM:8080/p?q"),  # userinfo, port and case kept as urljoin keeps them
        ("/x", "http://[::1]:8000/p"),
        ("/x", ""),  # no base: not absolute
        ("/x", "ftp://example.com/a"),
        ("/x", "https://"),
        ("/\\evil.example/x", BASE),
    ],
)
def test_root_relative_fast_path_matches_urljoin(href: str, base: str) -> None:
    """absolutize answers "/path" links without urljoin; it must give what urljoin gives."""
    from urllib.parse import urljoin, urlsplit

    joined = urljoin(base, href.strip())
    parts = urlsplit(joined)
    expected = joined if parts.scheme in ("http", "https") and parts.hostname else None
    assert absolutize(href, base) == expected


def test_protocol_relative_takes_the_base_scheme() -> None:
    assert absolutize("//example.org/a", "http://example.com/") == "http://example.org/a"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://www.TheRegister.com/2024/02/15/x/", "theregister.com"),
        ("https://news.yahoo.com/a", "news.yahoo.com"),
        ("http://user@www.example.co.uk:8080/", "example.co.uk"),
        ("https://www2.example.com/", "www2.example.com"),
        ("https://[2001:db8::1]/x", "2001:db8::1"),
        ("not a url", ""),
        ("", ""),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.theregister.co.uk", "theregister.co.uk"),
        ("news.yahoo.com", "yahoo.com"),
        ("theregister.com", "theregister.com"),
        ("www.abc.net.au", "abc.net.au"),
        ("www.smh.com.au", "smh.com.au"),
        ("www3.nhk.or.jp", "nhk.or.jp"),
        ("www.asahi.co.jp", "asahi.co.jp"),
        ("www1.folha.uol.com.br", "uol.com.br"),
        ("timesofindia.indiatimes.com", "indiatimes.com"),
        ("www.thehindu.co.in", "thehindu.co.in"),
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("www.ox.ac.uk", "ox.ac.uk"),
        ("www.gov.uk", "www.gov.uk"),
        ("www.nzherald.co.nz", "nzherald.co.nz"),
        ("www.hurriyet.com.tr", "hurriyet.com.tr"),
        ("www.eluniversal.com.mx", "eluniversal.com.mx"),
        ("www.news24.co.za", "news24.co.za"),
        ("www.chosun.co.kr", "chosun.co.kr"),
        ("www.xinhua.com.cn", "xinhua.com.cn"),
        ("a.b.c.example.de", "example.de"),
        ("WWW.Example.COM.", "example.com"),
        ("localhost", "localhost"),
        ("co.uk", "co.uk"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
    ],
)
def test_registrable_domain(host: str, domain: str) -> None:
    assert registrable_domain(host) == domain


def test_registrable_domain_of_host_of() -> None:
    assert registrable_domain(host_of("https://www.theregister.co.uk/x")) == "theregister.co.uk"
