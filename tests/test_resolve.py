"""--resolve-source: recover the original URL of a translated copy from the outlet's own feed.

A loopback server plays theregister.com's feed (the original entry plus 20 distractors:
same day, sharing "Microsoft", "Germany", "AI" or numbers). The outlet's feed URL is
pointed at it through config [[outlets]], as a user would override the registry.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from conftest import FIXTURES, PAGES, page_html
from harvester.config import Config, OutletConfig, Settings
from harvester.feeds import parse_feed
from harvester.models import Page
from harvester.pipeline import Knowledge, process
from harvester.resolve import best_match, numbers, resolve_source
from harvester.testserver import FixtureServer

REFERENCE = PAGES / "plato-fr-register-microsoft.json"
ORIGINAL = "https://www.theregister.com/2024/02/15/microsoft_germany_ai_investment/"
FEEDS = FIXTURES / "resolve"


@pytest.fixture
def register_feed():
    """fixtures/resolve served on 127.0.0.1, playing theregister.com's feed."""
    with FixtureServer(FEEDS) as server:
        yield server


def _config(feed_url: str) -> Config:
    settings = Settings(allow_private_addresses=True, per_host_delay=0, robots="ignore", deadline=5, read_timeout=2)
    outlet = OutletConfig(name="The Register", domains=("theregister.com",), aliases=("Le registre",), signoffs=("®",), feed=feed_url)
    return Config(settings=settings, outlets=(outlet,))


def _reference_record() -> dict:
    spec = json.loads(REFERENCE.read_text(encoding="utf-8"))
    page = Page(html=page_html(REFERENCE), url=spec["url"], fetched_at=datetime(2026, 11, 27, tzinfo=timezone.utc))
    return process(page, Knowledge.load()).record


def test_recovers_the_original_url(register_feed):
    feed_url = register_feed.url("/theregister.atom")
    record = _reference_record()
    assert record["source"]["url"] is None  # the copy has lost the link
    resolved = resolve_source(record, _config(feed_url))
    source = resolved["source"]
    assert source["url"] == ORIGINAL
    assert source["name"] == "The Register"
    top = source["evidence"][0]
    assert top["signal"] == "feed_match" and top["url"] == ORIGINAL
    assert "score" in top["detail"] and "runner-up" in top["detail"]
    assert source["confidence"] >= record["source"]["confidence"]
    assert [r.path for r in register_feed.requests] == ["/theregister.atom"]


def test_declines_when_the_story_is_not_in_the_feed(register_feed):
    feed_url = register_feed.url("/theregister-without-original.atom")
    resolved = resolve_source(_reference_record(), _config(feed_url))
    source = resolved["source"]
    assert source["url"] is None
    last = source["evidence"][-1]
    assert last["signal"] == "feed_match" and last["weight"] == 0
    assert "no entry" in last["detail"] or "ambiguous" in last["detail"]


def test_declines_when_the_feed_is_unreachable():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    resolved = resolve_source(_reference_record(), _config(f"http://127.0.0.1:{port}/headlines.atom"))
    source = resolved["source"]
    assert source["url"] is None
    assert source["evidence"][-1]["signal"] == "feed_match"
    assert "unreachable" in source["evidence"][-1]["detail"]


def test_numbers_survive_translation():
    assert "3.2" in numbers("Microsoft investit 3.2 milliards d'euros")
    assert "3.2" in numbers("Microsoft invests €3.2bn in AI operations")
    assert numbers("3,2 milliards") == {"3.2"}


def test_best_match_ranks_the_original_first_among_distractors():
    feed = parse_feed((FEEDS / "theregister.atom").read_bytes(), url="https://www.theregister.com/headlines.atom")
    match, detail = best_match(_reference_record(), list(feed.entries), 0.55)
    assert match is not None, detail
    assert match.entry.link == ORIGINAL
