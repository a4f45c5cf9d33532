"""Every page in fixtures/pages against its expected record, plus global invariants.

One parametrised test runs them all (feedparser-style self-describing fixtures); each
record must also be valid against the schema, carry a source, and contain no known
spam string. A second test deletes each rule a page pins and checks the page then fails:
every rule is needed by at least one fixture.
"""

from __future__ import annotations

import functools

import pytest

from conftest import load_spec, page_html, page_specs
from harvester.attribute import W as SIGNAL_WEIGHTS
from harvester.models import FeedEntry, Page
from harvester.outlets import default_registry
from harvester.pipeline import Knowledge, process
from harvester.record import validate_record
from harvester.rules import load_rules

SPECS = page_specs()
IDS = [p.stem for p in SPECS]

# strings no clean text may keep (translations of the Plato tagline and footers)
SPAM = [
    "Data Intelligence. Vertical Search",
    "Recherche verticale. A",
    "Vertikale Suche. Ai",
    "Búsqueda vertical. Ai",
    "垂直検索。",
    "수직 검색. 일체 포함",
    "垂直搜索。人工智能",
    "Horodatage",
    "Time Stamp:",
    "Zeitstempel:",
    "More from The Register",
    "Plus de Le registre",
    "Source: Plato Data Intelligence",
    "is Powered by Plato Data Intelligence",
]


def _fields(record: dict, expect: dict) -> dict:
    got = {}
    for key, want in expect.items():
        value = record.get(key)
        if key == "source":
            value = {k: value.get(k) for k in want}
        elif key == "warnings":
            value = [{"code": w["code"], "count": w["count"]} for w in value]
        elif key == "signals":  # the attribution evidence, by signal name
            value = sorted({e["signal"] for e in record["source"]["evidence"]})
        got[key] = value
    return got


@functools.lru_cache(maxsize=None)
def _knowledge(disabled: frozenset[str] = frozenset()) -> Knowledge:
    return Knowledge(rules=load_rules(disabled), registry=default_registry())


def run_page(spec_path, disabled: frozenset[str] = frozenset()) -> dict:
    from datetime import datetime, timezone

    spec = load_spec(spec_path)
    entry = FeedEntry(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec["entry"].items()}) if spec.get("entry") else None
    page = Page(html=page_html(spec_path), url=spec.get("url"), entry=entry,
                fetched_at=datetime(2026, 11, 27, tzinfo=timezone.utc))  # fmt: skip
    return process(page, _knowledge(disabled)).record


@pytest.mark.parametrize("spec_path", SPECS, ids=IDS)
def test_page(spec_path):
    spec = load_spec(spec_path)
    record = run_page(spec_path)
    expect = spec["expect"]
    got = _fields(record, expect)
    for key in expect:
        assert got[key] == expect[key], f"{spec_path.stem}: {key} differs"
    # invariants on every record
    assert validate_record(record) == []
    assert record["source"] is not None and "evidence" in record["source"]
    for spam in SPAM:
        assert spam.casefold() not in record["text"].casefold(), f"spam left in text: {spam!r}"
        assert spam.casefold() not in (record["title"] or "").casefold(), f"spam left in title: {spam!r}"


def _pins() -> list[tuple[str, str]]:
    out = []
    for path in SPECS:
        for rule_id in load_spec(path).get("pins", []):
            out.append((rule_id, path.stem))
    return out


# cleaning rules, and attribution signals (a fixture pins a signal by name)
RULE_IDS = load_rules().all_rule_ids() + sorted(SIGNAL_WEIGHTS)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_rule_is_pinned_by_a_fixture(rule_id):
    """Delete the rule (or switch the signal off) and a page that pins it must come out wrong."""
    pages = [stem for rid, stem in _pins() if rid == rule_id]
    assert pages, f"no fixture pins rule {rule_id}"
    broken = []
    for stem in pages:
        path = next(p for p in SPECS if p.stem == stem)
        expect = load_spec(path)["expect"]
        if _fields(run_page(path, frozenset({rule_id})), expect) != expect:
            broken.append(stem)
    assert broken, f"rule {rule_id} can be deleted and every page pinning it still passes: {pages}"
