"""Checks on the shipped data: the outlet registry and the aggregator list.

These files are data that attribution trusts blindly, so a typo here (a scheme in a
domain, one domain under two outlets, an alias that two outlets share) silently
mis-attributes articles. Every rule below is one such mistake.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[1] / "harvester" / "rules"
OUTLETS_PATH = RULES / "outlets.toml"
AGGREGATORS_PATH = RULES / "aggregators.toml"
PLATO_PACK_PATH = RULES / "packs" / "plato.toml"

CATEGORIES = {"tech", "business", "crypto", "news", "wire", "science", "vendor"}
OUTLET_KEYS = {"name", "domains", "aliases", "signoffs", "feed", "wire", "category"}
AGGREGATOR_KEYS = {"name", "domains", "note", "platform"}

# A leading article is ignored when names are matched (see the header of outlets.toml).
ARTICLES = ("the", "le", "la", "les", "l'", "der", "die", "das", "el", "los", "las", "il", "lo",
            "gli", "o", "os", "a", "as", "het", "de", "een")
_ARTICLE_RE = re.compile(
    r"^(?:" + "|".join(re.escape(a) for a in ARTICLES if a.endswith("'")) + r")"
    r"|^(?:" + "|".join(re.escape(a) for a in ARTICLES if not a.endswith("'")) + r")\s+"
)
# a registrable domain or host: lowercase labels, at least one dot, no scheme, path or port
DOMAIN_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
FEED_RE = re.compile(r"^https?://[^/\s]+\S*$")


def normalise(name: str) -> str:
    """Casefold, strip accents, unify apostrophes and spaces, drop one leading article."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("\u2019", "'").replace("\u02bc", "'")
    text = " ".join(text.split())
    return _ARTICLE_RE.sub("", text, count=1).strip()


def _load(path: Path) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="module")
def outlets() -> list[dict]:
    return _load(OUTLETS_PATH)["outlet"]


@pytest.fixture(scope="module")
def aggregators() -> list[dict]:
    return _load(AGGREGATORS_PATH)["aggregator"]


def _by_name(entries: list[dict], name: str) -> dict:
    found = [e for e in entries if e["name"] == name]
    assert len(found) == 1, f"expected exactly one entry named {name!r}, found {len(found)}"
    return found[0]


def _all_domains(entries: list[dict]) -> list[tuple[str, str]]:
    return [(d, e["name"]) for e in entries for d in e["domains"]]


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


# ---------------------------------------------------------------- normalisation itself


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The Register", "register"),
        ("Le registre", "registre"),
        ("Das Register", "register"),
        ("L'Atlantique", "atlantique"),
        ("L\u2019Atlantique", "atlantique"),
        ("El País", "pais"),
        ("Het  register", "register"),
        ("Темное чтение", "темное чтение"),
        ("Тёмное чтение", "темное чтение"),
        ("Theregister", "theregister"),  # an article is only stripped as a whole word
        ("A", "a"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


# ---------------------------------------------------------------- outlets


def test_header_comments_are_kept() -> None:
    assert OUTLETS_PATH.read_text(encoding="utf-8").startswith(
        "# The outlet registry: who originally publishes the articles aggregators repost."
    )
    assert AGGREGATORS_PATH.read_text(encoding="utf-8").startswith(
        "# Aggregators, content farms and syndication platforms: never a final attribution."
    )


def test_enough_outlets(outlets: list[dict]) -> None:
    assert len(outlets) >= 150


def test_outlet_fields(outlets: list[dict]) -> None:
    for entry in outlets:
        assert set(entry) <= OUTLET_KEYS, f"{entry.get('name')!r}: unknown keys {set(entry) - OUTLET_KEYS}"
        assert isinstance(entry.get("name"), str) and entry["name"].strip() == entry["name"] != ""
        assert isinstance(entry.get("domains"), list) and len(entry["domains"]) >= 1, entry["name"]
        for key in ("aliases", "signoffs"):
            values = entry.get(key, [])
            assert isinstance(values, list), f"{entry['name']}: {key} must be a list"
            for value in values:
                assert isinstance(value, str) and value.strip() == value != "", f"{entry['name']}: {key} {value!r}"
        assert entry.get("category") in CATEGORIES, f"{entry['name']}: category {entry.get('category')!r}"
        assert isinstance(entry.get("wire", False), bool), entry["name"]
        # news agencies are exactly the outlets of category "wire"
        assert entry.get("wire", False) == (entry["category"] == "wire"), entry["name"]


def test_outlet_names_are_unique(outlets: list[dict]) -> None:
    names = [e["name"] for e in outlets]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("path", [OUTLETS_PATH, AGGREGATORS_PATH], ids=lambda p: p.name)
def test_domains_are_bare_lowercase_hosts(path: Path) -> None:
    data = _load(path)
    entries = data.get("outlet") or data.get("aggregator")
    for entry in entries:
        seen = set()
        for domain in entry["domains"]:
            assert isinstance(domain, str)
            assert domain == domain.lower(), f"{entry['name']}: {domain!r} is not lowercase"
            assert "://" not in domain and "/" not in domain, f"{entry['name']}: {domain!r} has a scheme or path"
            assert not domain.startswith("www."), f"{entry['name']}: {domain!r} starts with www."
            assert DOMAIN_RE.match(domain), f"{entry['name']}: {domain!r} is not a host name"
            assert domain not in seen, f"{entry['name']}: {domain!r} listed twice"
            seen.add(domain)


def test_no_domain_belongs_to_two_outlets(outlets: list[dict]) -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for domain, name in _all_domains(outlets):
        owners[domain].append(name)
    shared = {d: n for d, n in owners.items() if len(n) > 1}
    assert not shared


def test_no_outlet_domain_nests_inside_another_outlets(outlets: list[dict]) -> None:
    # "asia.nikkei.com" under one outlet and "nikkei.com" under another would make the
    # longest-suffix match the only thing deciding attribution.
    domains = _all_domains(outlets)
    clashes = [
        (d1, n1, d2, n2)
        for d1, n1 in domains
        for d2, n2 in domains
        if n1 != n2 and d1 != d2 and _under(d1, d2)
    ]
    assert not clashes


def test_no_domain_is_both_outlet_and_aggregator(outlets: list[dict], aggregators: list[dict]) -> None:
    aggregator_domains = [d for d, _ in _all_domains(aggregators)]
    clashes = [
        (domain, name, agg)
        for domain, name in _all_domains(outlets)
        for agg in aggregator_domains
        if _under(domain, agg) or domain == agg
    ]
    assert not clashes


def _shared_keys(outlets: list[dict], key) -> dict[str, list[str]]:
    """Matching keys that more than one outlet's name or aliases produce."""
    owners: dict[str, set[str]] = defaultdict(set)
    for entry in outlets:
        for label in [entry["name"], *entry.get("aliases", [])]:
            k = key(label)
            assert k, f"{entry['name']}: {label!r} has an empty matching key"
            owners[k].add(entry["name"])
    return {k: sorted(v) for k, v in owners.items() if len(v) > 1}


def test_names_and_aliases_are_unique_across_outlets(outlets: list[dict]) -> None:
    assert not _shared_keys(outlets, normalise)


def test_aliases_are_unique_under_the_registrys_own_key(outlets: list[dict]) -> None:
    # The registry indexes names with harvester.text.name_key (which also drops punctuation
    # and a few more articles); a clash there silently makes the later outlet win.
    from harvester.text import name_key

    assert not _shared_keys(outlets, name_key)


def test_feeds_are_http_urls(outlets: list[dict]) -> None:
    for entry in outlets:
        if "feed" in entry:
            assert isinstance(entry["feed"], str) and FEED_RE.match(entry["feed"]), (
                f"{entry['name']}: feed {entry['feed']!r}"
            )


def test_the_register(outlets: list[dict]) -> None:
    reg = _by_name(outlets, "The Register")
    assert reg["domains"][0] == "theregister.com"
    assert "theregister.co.uk" in reg["domains"]
    assert "Le registre" in reg["aliases"]
    assert "Das Register" in reg["aliases"]
    assert "®" in reg["signoffs"]
    assert reg["category"] == "tech"


@pytest.mark.parametrize(
    ("name", "domain"),
    [
        ("TechCrunch", "techcrunch.com"),
        ("Ars Technica", "arstechnica.com"),
        ("The Verge", "theverge.com"),
        ("The Block", "theblock.co"),
        ("Decrypt", "decrypt.co"),
        ("The Associated Press", "apnews.com"),
        ("Reuters", "reuters.com"),
        ("The Conversation", "theconversation.com"),
        ("USA TODAY", "usatoday.com"),
        ("The New York Times", "nytimes.com"),
    ],
)
def test_key_outlets_are_present(outlets: list[dict], name: str, domain: str) -> None:
    assert domain in _by_name(outlets, name)["domains"]


def test_wires_are_flagged(outlets: list[dict]) -> None:
    for name in ("The Associated Press", "Reuters", "AFP", "Bloomberg", "dpa", "EFE", "ANSA", "Kyodo News",
                 "Yonhap News Agency", "Xinhua", "PA Media", "UPI"):
        assert _by_name(outlets, name).get("wire") is True, name


def test_signoffs_only_where_known(outlets: list[dict]) -> None:
    with_signoffs = sorted(e["name"] for e in outlets if e.get("signoffs"))
    assert "The Register" in with_signoffs


# ---------------------------------------------------------------- aggregators


def test_aggregator_fields(aggregators: list[dict]) -> None:
    assert aggregators
    for entry in aggregators:
        assert set(entry) <= AGGREGATOR_KEYS, f"{entry.get('name')!r}: unknown keys {set(entry) - AGGREGATOR_KEYS}"
        assert isinstance(entry.get("name"), str) and entry["name"].strip() == entry["name"] != ""
        assert isinstance(entry.get("domains"), list) and entry["domains"], entry["name"]
        assert isinstance(entry.get("note", ""), str), entry["name"]


def test_aggregator_names_and_domains_are_unique(aggregators: list[dict]) -> None:
    names = [e["name"] for e in aggregators]
    assert len(names) == len(set(names))
    domains = [d for d, _ in _all_domains(aggregators)]
    assert len(domains) == len(set(domains))


PLATO = {
    "PlatoBlockchain": {"platoblockchain.com", "platoblockchain.net"},
    "PlatoAiStream": {"platoaistream.com", "platoaistream.net"},
    "PlatoData": {"platodata.io", "platodata.network"},
    "PlatoESG": {"platoesg.com"},
    "PlatoGaming": {"platogaming.com"},
    "PlatoHealth": {"platohealth.ai"},
    "Zephyrnet": {"zephyrnet.com"},
    "Xlera8": {"xlera8.com"},
    "AmplifiPR": {"amplifipr.com"},
}


@pytest.mark.parametrize("name", sorted(PLATO))
def test_plato_family(aggregators: list[dict], name: str) -> None:
    assert set(_by_name(aggregators, name)["domains"]) == PLATO[name]


def test_plato_pack_agrees_with_aggregators(aggregators: list[dict]) -> None:
    pack_domains = _load(PLATO_PACK_PATH)["domains"]
    by_domain = {d: n for d, n in _all_domains(aggregators)}
    for domain, name in pack_domains.items():
        assert by_domain.get(domain) == name, f"packs/plato.toml maps {domain} to {name}"


@pytest.mark.parametrize(
    ("name", "domains"),
    [
        ("Yahoo", {"yahoo.com", "news.yahoo.com", "finance.yahoo.com"}),
        ("MSN", {"msn.com"}),
        ("Google News", {"news.google.com"}),
        ("NewsBreak", {"newsbreak.com"}),
        ("Ground News", {"ground.news"}),
        ("Flipboard", {"flipboard.com", "flip.it"}),
        ("Apple News", {"apple.news"}),
    ],
)
def test_major_aggregators(aggregators: list[dict], name: str, domains: set[str]) -> None:
    assert domains <= set(_by_name(aggregators, name)["domains"])


def test_platforms_are_marked_as_such(aggregators: list[dict]) -> None:
    # Medium, DEV and Hashnode are publishing platforms: they are where a page was read (so
    # record.aggregator names them), but an original post there may be its own source.
    platforms = {d for e in aggregators if e.get("platform") for d in e["domains"]}
    assert {"medium.com", "dev.to"} <= platforms
    farms = {d for e in aggregators if not e.get("platform") for d in e["domains"]}
    assert not any(_under(d, "medium.com") for d in farms)
