"""One page through the stages: extract -> clean -> attribute -> record.

Each stage is a plain function of its input; this module only wires them, so that the
CLI, the poller and library users run exactly the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from .attribute import attribute
from .clean import clean
from .config import OutletConfig, Settings
from .errors import HarvesterError
from .extract import extract
from .models import Attribution, Cleaned, Extracted, FeedEntry, Page, Warning
from .outlets import Registry, default_registry, load_registry
from .record import build_record, validate_record
from .rules import RuleSet, load_rules
from .urls import domain_of


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


DEFAULT_MAX_HTML = Settings().max_extract_bytes


def process(page: Page, knowledge: Knowledge | None = None, *, max_html: int = DEFAULT_MAX_HTML) -> Result:
    """Run one page through every stage. Raises a HarvesterError subclass on bad input.

    HTML longer than ``max_html`` characters is cut before extraction (the parsers'
    cost grows faster than the page), and the record says so in ``warnings``.
    """
    knowledge = knowledge or Knowledge.load()
    html = page.html
    truncated = len(html) > max_html
    if truncated:
        html = html[:max_html]
    extracted = extract(html, page.url, knowledge.rules)
    url = page.url or extracted.url
    cleaned = clean(extracted, knowledge.rules, domain=domain_of(url))
    if truncated:
        cleaned.warnings.append(
            Warning("input_truncated", 1, f"page of {len(page.html)} characters cut to {max_html} before extraction")
        )
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


def process_summary(entry: FeedEntry, url: str, fetched_at: datetime, reason: str,
                    knowledge: Knowledge | None = None) -> dict | None:
    """A degraded record from the feed entry alone, when the page itself could not be
    extracted (timeout, no article). The record says so in ``warnings``; None when the
    entry has no summary to keep."""
    from .extract import detect_language
    from .models import PageMeta
    from .text import normalize_space

    summary = normalize_space(entry.summary)
    if not summary:
        return None
    knowledge = knowledge or Knowledge.load()
    extracted = Extracted(
        url=url, title=entry.title, paragraphs=[summary], language=entry.language or detect_language(summary, None),
        published=entry.published, authors=list(entry.authors), sitename=None, meta=PageMeta(),
    )  # fmt: skip
    cleaned = clean(extracted, knowledge.rules, domain=domain_of(url))
    cleaned.warnings.append(Warning("extraction_error", 1, f"{reason}: text is the feed entry's summary"))
    source = attribute(extracted, cleaned, url=url, registry=knowledge.registry, rules=knowledge.rules, entry=entry)
    record = build_record(url=url, extracted=extracted, cleaned=cleaned, source=source, fetched_at=fetched_at, entry=entry)
    problems = validate_record(record)
    if problems:
        raise HarvesterError("record does not match the schema: " + "; ".join(problems[:3]), target=url)
    return record


def clean_html(html: str, url: str | None = None, *, entry: FeedEntry | None = None, knowledge: Knowledge | None = None) -> dict:
    """Library entry point: one HTML page -> one record (dict)."""
    page = Page(html=html, url=url, fetched_at=datetime.now(timezone.utc), entry=entry)
    return process(page, knowledge).record
