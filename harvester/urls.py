"""URL helpers: make links absolute, normalise them, name their host and domain.

Everything here is pure string work: no DNS, no network, no public-suffix download.

- :func:`absolutize` turns a link found in a feed or page into an absolute ``http(s)`` URL,
  or ``None`` for links harvester can never fetch (``javascript:``, ``data:``, ``mailto:``…).
- :func:`normalize_url` gives the form used for identity (entry ids, de-duplication):
  lowercase scheme and host, no default port, no fragment, no tracking parameters.
- :func:`host_of` and :func:`registrable_domain` name the outlet a URL belongs to.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import urljoin, urlsplit, urlunsplit

__all__ = [
    "FETCHABLE_SCHEMES",
    "MULTI_PART_SUFFIXES",
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "absolutize",
    "domain_of",
    "host_of",
    "normalize_url",
    "registrable_domain",
]

# Only these schemes survive :func:`absolutize`: everything else (javascript:, vbscript:,
# data:, mailto:, tel:, file:, ftp:, about:, tag:, ...) is a link harvester cannot fetch.
FETCHABLE_SCHEMES = frozenset({"http", "https"})

# Query parameters that only say how a reader reached the page. Compared lowercased.
TRACKING_PARAMS = frozenset(
    {
        # ad-network click ids
        "fbclid",  # Facebook
        "gclid",  # Google Ads
        "dclid",  # Google Display
        "gbraid",  # Google Ads (iOS)
        "wbraid",  # Google Ads (web-to-app)
        "msclkid",  # Microsoft Ads
        "yclid",  # Yandex
        "twclid",  # Twitter/X
        "ttclid",  # TikTok
        "igshid",  # Instagram share id
        # newsletter / marketing-automation tags
        "mc_cid",  # Mailchimp campaign
        "mc_eid",  # Mailchimp subscriber
        "_hsenc",  # HubSpot
        "_hsmi",  # HubSpot
        "mkt_tok",  # Marketo
        # analytics linkers and campaign ids
        "_ga",  # Google Analytics cross-domain linker
        "_gl",  # Google tag linker
        "ref_src",  # Twitter embed referrer
        "spm",  # Alibaba "super position model"
        "cmpid",  # campaign id (Forbes, Eurosport, ...)
        "xtor",  # AT Internet / Piano (Le Monde, Les Echos, Le Figaro: "?xtor=RSS-2059")
        "at_medium",  # AT Internet campaign medium
        "at_campaign",  # AT Internet campaign
        "ocid",  # Microsoft / MSN
    }
)
TRACKING_PREFIXES = ("utm_",)  # utm_source, utm_medium, utm_campaign, utm_term, utm_content, ...

_DEFAULT_PORTS = {"http": "80", "https": "443"}

# Registrable domains under these suffixes take three labels ("bbc.co.uk"), not two.
# A small built-in excerpt of the Public Suffix List's ICANN section (no download, ever):
# the second-level suffixes of the country domains news outlets actually use.
MULTI_PART_SUFFIXES = frozenset(
    f"{sld}.{tld}"
    for tld, slds in {
        "uk": "co org ac gov ltd plc me net sch nhs police",
        "au": "com net org edu gov asn id",
        "nz": "co net org ac govt school geek gen kiwi maori",
        "jp": "co ne or ac go ad ed gr lg",
        "kr": "co or ne go ac re",
        "cn": "com net org gov edu ac",
        "hk": "com org net edu gov idv",
        "tw": "com net org edu gov idv",
        "sg": "com net org edu gov",
        "my": "com net org edu gov",
        "id": "co or ac go web net sch",
        "th": "co or ac go in net",
        "ph": "com net org gov edu",
        "vn": "com net org edu gov",
        "pk": "com net org edu gov",
        "bd": "com net org edu gov",
        "lk": "com org edu gov",
        "np": "com org edu gov",
        "in": "co net org gen firm ind gov ac edu res nic",
        "il": "co org ac gov net muni",
        "sa": "com net org gov edu",
        "ae": "co net org gov ac",
        "qa": "com net org gov edu",
        "kw": "com net org gov edu",
        "eg": "com org net gov edu",
        "tr": "com net org gen gov edu av bel biz info k12 web tv",
        "za": "co org gov ac net web",
        "ng": "com org gov edu net",
        "ke": "co or ne go ac",
        "gh": "com org gov edu",
        "ug": "co or ac go",
        "tz": "co or ac go ne",
        "br": "com net org gov edu art blog",
        "mx": "com org gob edu net",
        "ar": "com org net gob edu",
        "co": "com net org gov edu",
        "pe": "com org net gob edu",
        "cl": "gob gov",
        "ve": "com org net gob",
        "uy": "com org net gub edu",
        "ec": "com org net gob edu",
        "bo": "com org net gob edu",
        "py": "com org net gov edu",
        "gt": "com org net gob edu",
        "cr": "co or ac go",
        "do": "com org net gob edu",
        "pr": "com org net gov edu",
        "cy": "com org net gov ac",
        "gr": "com org net gov edu",
        "mt": "com org net gov edu",
        "pl": "com net org gov edu",
        "ua": "com net org gov edu in",
        "es": "com org nom gob edu",
        "pt": "com org gov edu",
        "fr": "gouv asso",
        "at": "co or ac gv",
        "be": "ac",
    }.items()
    for sld in slds.split()
)

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
# What browsers remove from a URL before parsing it: ASCII tab and newlines anywhere,
# C0 controls and spaces at either end (WHATWG URL standard, "basic URL parser").
_TAB_NEWLINE_RE = re.compile(r"[\t\n\r]")
_EDGE_JUNK = "".join(chr(c) for c in range(0x21))


# an absolute http(s) URL with a plain host and no whitespace, quotes or control characters
_PLAIN_ABSOLUTE_RE = re.compile(r"(?i)https?://[a-z0-9.-]+\.[a-z0-9-]+(?::\d{1,5})?(?:[/?#][^\s\x00-\x1f\x7f\"'<>\\]*)?\Z")


# a root-relative link ("/2024/story?id=1#top"): the same characters as above, and not "//"
_ROOT_RELATIVE_RE = re.compile(r"/(?![/\\])[^\s\x00-\x1f\x7f\"'<>\\]*\Z")


@functools.lru_cache(maxsize=256)
def _origin(base: str) -> str | None:
    """``scheme://netloc`` of an absolute http(s) ``base``, as ``urljoin`` keeps it; else None."""
    try:
        parts = urlsplit(base)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in FETCHABLE_SCHEMES or not host:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def absolutize(href: str | None, base: str) -> str | None:
    """Make ``href`` absolute against ``base``; ``None`` when it is not a fetchable link.

    Relative (``../a``, ``?page=2``) and protocol-relative (``//cdn.example.com/a``) links are
    resolved against ``base``. Empty links and any scheme other than http(s)
    (``javascript:``, ``vbscript:``, ``data:``, ``mailto:``, ``file:``...) give ``None``,
    also when disguised with case, spaces or embedded tabs (``" Java\\tScript:alert(1)"``).
    The result is not normalised: see :func:`normalize_url`.
    """
    if href is None:
        return None
    if _PLAIN_ABSOLUTE_RE.match(href):  # fast path: most links on a page are already absolute
        return href
    # next most: "/path"; urljoin would remove dot segments and an empty "?" or "#"
    if _ROOT_RELATIVE_RE.match(href) and "/." not in href and "?#" not in href and href[-1] not in "?#":
        origin = _origin(base)
        if origin is not None:
            return origin + href
    href = _TAB_NEWLINE_RE.sub("", href).strip(_EDGE_JUNK)
    if not href:
        return None
    match = _SCHEME_RE.match(href)
    if match and match.group(1).lower() not in FETCHABLE_SCHEMES:
        return None
    try:
        joined = urljoin(base or "", href)
        parts = urlsplit(joined)
    except ValueError:  # e.g. an invalid IPv6 literal "http://[::1"
        return None
    if parts.scheme.lower() not in FETCHABLE_SCHEMES or not parts.hostname:
        return None
    return joined


def normalize_url(url: str) -> str:
    """The identity form of ``url``.

    Lowercases scheme and host, drops the default port, the fragment and tracking
    parameters (:data:`TRACKING_PARAMS`, ``utm_*``), keeps every other parameter in its
    original order and spelling, drops an empty ``?``, and gives an empty http(s) path
    as ``/``. The path is otherwise kept as is: ``/a/`` and ``/a`` stay different.
    A string that cannot be parsed comes back stripped but otherwise unchanged.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    netloc = _normalize_netloc(parts.netloc, scheme)
    path = parts.path
    if not path and netloc and scheme in FETCHABLE_SCHEMES:
        path = "/"
    query = _strip_tracking(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def host_of(url: str) -> str:
    """Lowercase host name of ``url`` without a leading ``www.``; ``""`` if there is none."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


@functools.lru_cache(maxsize=8192)
def registrable_domain(host: str) -> str:
    """The domain someone registered: ``news.yahoo.com`` -> ``yahoo.com``.

    Multi-part public suffixes come from the built-in :data:`MULTI_PART_SUFFIXES`
    (``www.theregister.co.uk`` -> ``theregister.co.uk``). IP addresses and single-label
    hosts come back as they are (lowercased).
    """
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    labels = [label for label in host.split(".") if label]
    if len(labels) <= 2:
        return ".".join(labels)
    if ".".join(labels[-2:]) in MULTI_PART_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _normalize_netloc(netloc: str, scheme: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):  # IPv6 literal: "[::1]:8080"
        end = hostport.find("]")
        host, port = hostport[: end + 1], hostport[end + 1 :].lstrip(":")
    else:
        host, _, port = hostport.partition(":")
    host = host.lower().rstrip(".") if host != "." else host
    if port == _DEFAULT_PORTS.get(scheme):
        port = ""
    return f"{userinfo}{at}{host}" + (f":{port}" if port else "")


def _strip_tracking(query: str) -> str:
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        key = pair.partition("=")[0].lower()
        if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
            continue
        kept.append(pair)
    return "&".join(kept)


_HOST = re.compile(r"(?i)^https?://([a-z0-9.-]+)(?::\d+)?(?:[/?#]|$)")


def domain_of(url: str | None) -> str | None:
    """The registrable domain of a URL (or of a bare host), None when there is none."""
    if not url:
        return None
    m = _HOST.match(url)
    if m:
        return registrable_domain(m.group(1).lower())
    if "://" not in url:
        url = "http://" + url.lstrip("/")
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return registrable_domain(host) if host else None
