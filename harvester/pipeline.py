"""One page through the stages: extract -> clean -> attribute -> record.

Each stage is a plain function of its input; this module only wires them, so that the
CLI, the poller and library users run exactly the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from .attribute import attribute, domain_of
from .clean import clean
from .config import OutletConfig
from .errors import HarvesterError
from .extract import extract
from .models import Attribution, Cleaned, Extracted, FeedEntry, Page
from .outlets import Registry, default_registry, load_registry
from .record import build_record, validate_record
from .rules import RuleSet, load_rules


@dataclass(frozen=True, slots=True)
class Knowledge:
    """The site knowledge a run uses: rule packs and the outlet registry."""

    rules: RuleSet
    registry: Registry

    @classmethod
    def load(cls, outlets: tuple[OutletConfig, ...] = (), disabled: frozenset[str] = frozenset()) -> "Knowledge":
        registry = load_registry(outlets) if outlets else default_registry()
        return cls(rules=load_rules(disabled), registry=registry)


@dataclass(slots=True)
class Result:
    record: dict
    extracted: Extracted
    cleaned: Cleaned
    source: Attribution


def process(page: Page, knowledge: Knowledge | None = None) -> Result:
    """Run one page through every stage. Raises a HarvesterError subclass on bad input."""
    knowledge = knowledge or Knowledge.load()
    extracted = extract(page.html, page.url, knowledge.rules)
    url = page.url or extracted.url
    cleaned = clean(extracted, knowledge.rules, domain=domain_of(url))
    source = attribute(
        extracted, cleaned, url=url, registry=knowledge.registry, rules=knowledge.rules, entry=page.entry
    )
    record = build_record(
        url=url,
        extracted=extracted,
        cleaned=cleaned,
        source=source,
        fetched_at=page.fetched_at,
        entry=page.entry,
    )
    problems = validate_record(record)
    if problems:  # a bug, not bad input: say exactly what is wrong
        raise HarvesterError("record does not match the schema: " + "; ".join(problems[:3]), target=page.url)
    return Result(record=record, extracted=extracted, cleaned=cleaned, source=source)


def clean_html(html: str, url: str | None = None, *, entry: FeedEntry | None = None, knowledge: Knowledge | None = None) -> dict:
    """Library entry point: one HTML page -> one record (dict)."""
    page = Page(html=html, url=url, fetched_at=datetime.now(timezone.utc), entry=entry)
    return process(page, knowledge).record
