"""Original-URL recovery (``--resolve-source``): find the story in the outlet's own feed.

When attribution names the outlet but no URL (a Plato copy keeps "More from The
Register" and drops the link), fetch the outlet's feed (the registry's ``feed``, or
one autodiscovered on its home page) and score every entry against the record:

* date proximity  — same day scores 1, falling to 0 at a week apart;
* shared numbers  — numbers survive translation ("3.2 milliards" / "€3.2bn");
* shared names    — capitalised names survive too ("Microsoft", "Brad Smith");
* title likeness  — character trigrams; weak across languages, decisive within one.

The best entry is accepted only above ``resolve_threshold`` and clearly ahead of the
runner-up; the evidence records the method, the score and its parts. Otherwise the
URL stays null and the evidence says why (not found, feed unreachable).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime

from .config import Config
from .errors import HarvesterError
from .models import FeedEntry
from .outlets import load_registry
from .text import fold

_NUMBER = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)*(?![\d])")
_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*")
MARGIN = 0.08  # the winner must lead the runner-up by this much
WEIGHT = 0.9  # a feed match is strong, but a text-based guess, not a link


def numbers(text: str) -> set[str]:
    """Numbers as written in any language: "3,2" and "3.2" agree, "1,000" and "1.000" are 1000."""
    out = set()
    for m in _NUMBER.finditer(text):
        value = re.sub(r"[.,](?=\d{3}(?:\D|$))", "", m.group(0))  # thousands separators
        value = value.replace(",", ".")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        if value not in {"0", "1", "2"}:
            out.add(value)
    return out


def names(text: str) -> set[str]:
    found = set()
    for m in _NAME.finditer(text):
        for word in m.group(0).split():
            if len(word) > 2:
                found.add(fold(word))
    return found


def trigrams(text: str) -> set[str]:
    t = re.sub(r"\W+", " ", fold(text)).strip()
    return {t[i : i + 3] for i in range(max(0, len(t) - 2))}


def overlap(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _ts(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def date_score(a: str | None, b: str | None) -> float:
    ta, tb = _ts(a), _ts(b)
    if ta is None or tb is None:
        return 0.5
    days = abs(ta - tb) / 86400
    return 1.0 if days <= 1 else max(0.0, 1 - (days - 1) / 6)


@dataclass(frozen=True, slots=True)
class Match:
    entry: FeedEntry
    score: float
    parts: dict[str, float]


def score_entry(record: dict, entry: FeedEntry) -> Match:
    head = " ".join([record.get("title") or "", record["text"][:1500]])
    other = " ".join([entry.title or "", entry.summary or ""])
    parts = {
        "date": date_score(record.get("published"), entry.published),
        "numbers": overlap(numbers(record.get("title") or "") or numbers(head), numbers(other)),
        "names": overlap(names(head), names(other)),
        "title": jaccard(trigrams(record.get("title") or ""), trigrams(entry.title or "")),
    }
    score = 0.3 * parts["date"] + 0.3 * parts["numbers"] + 0.25 * parts["names"] + 0.15 * parts["title"]
    if parts["names"] == 0 and parts["numbers"] == 0:
        score *= 0.5  # nothing specific in common: a same-day coincidence at best
    return Match(entry, round(score, 3), {k: round(v, 2) for k, v in parts.items()})


def best_match(record: dict, entries: list[FeedEntry], threshold: float) -> tuple[Match | None, str]:
    scored = sorted((score_entry(record, e) for e in entries if e.link), key=lambda m: m.score, reverse=True)
    if not scored:
        return None, "the outlet's feed has no entries"
    best = scored[0]
    runner = scored[1].score if len(scored) > 1 else 0.0
    parts = ", ".join(f"{k} {v:.2f}" for k, v in best.parts.items())
    if best.score < threshold:
        return None, f"no entry of {len(scored)} scored above {threshold:g} (best {best.score:.2f}: {parts})"
    if best.score - runner < MARGIN:
        return None, f"ambiguous: best {best.score:.2f} and runner-up {runner:.2f} are too close"
    return best, f"matched entry {best.entry.entry_id} (score {best.score:.2f}: {parts}; runner-up {runner:.2f})"


def _evidence(detail: str, weight: float, url: str | None = None) -> dict:
    ev = {"signal": "feed_match", "detail": detail, "weight": round(weight, 3)}
    if url:
        ev["url"] = url
    return ev


async def _outlet_feed(record: dict, config: Config, fetcher) -> str | None:
    from .feeds import discover_feeds

    registry = load_registry(config.outlets)
    source = record["source"]
    outlet = registry.by_domain(source.get("domain")) or registry.by_name(source.get("name"))
    if outlet and outlet.feed:
        return outlet.feed
    domain = source.get("domain") or (outlet.domain if outlet else None)
    if not domain:
        return None
    home = await fetcher.get(f"https://{domain}/")
    found = discover_feeds(home.text(), url=home.url)
    return found[0].url if found else None


async def resolve_source_async(record: dict, config: Config, fetcher) -> dict:
    """Return RECORD with source.url filled from the outlet's feed when a match is clear."""
    from .feeds import parse_feed

    source = record["source"]
    if source.get("url") or not (source.get("name") or source.get("domain")):
        return record
    evidence = list(source["evidence"])
    try:
        feed_url = await _outlet_feed(record, config, fetcher)
        if not feed_url:
            evidence.append(_evidence(f"no feed known or found for {source.get('name') or source.get('domain')}", 0.0))
            return {**record, "source": {**source, "evidence": evidence}}
        resp = await fetcher.get(feed_url)
        parsed = parse_feed(resp.body, url=resp.url, headers=dict(resp.headers))
    except HarvesterError as exc:
        evidence.append(_evidence(f"outlet feed unreachable: {exc}", 0.0))
        return {**record, "source": {**source, "evidence": evidence}}
    match, detail = best_match(record, list(parsed.entries), config.settings.resolve_threshold)
    if match is None:
        evidence.append(_evidence(f"{feed_url}: {detail}", 0.0))
        return {**record, "source": {**source, "evidence": evidence}}
    weight = WEIGHT * match.score
    evidence.insert(0, _evidence(f"{feed_url}: {detail}", weight, match.entry.link))
    confidence = 1 - (1 - source["confidence"]) * (1 - weight)
    return {**record, "source": {**source, "url": match.entry.link, "confidence": round(confidence, 3), "evidence": evidence}}


def resolve_source(record: dict, config: Config) -> dict:
    from .fetch import Fetcher

    async def run() -> dict:
        async with Fetcher(config.settings) as fetcher:
            return await resolve_source_async(record, config, fetcher)

    return asyncio.run(run())
