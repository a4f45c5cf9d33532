"""Small typed records passed between the pipeline stages.

fetch -> :class:`Page`; feeds -> :class:`FeedEntry`; extract -> :class:`Extracted`;
clean -> :class:`Cleaned`; attribute -> :class:`Attribution`; record -> ``dict``
(the JSON record, see ``schema/record.schema.json``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed, as the feed describes it (before the page is fetched)."""

    feed_url: str
    entry_id: str
    link: str | None
    title: str | None = None
    published: str | None = None  # ISO 8601 UTC ("...Z") or None
    summary: str | None = None
    authors: tuple[str, ...] = ()
    language: str | None = None
    # Where the feed itself says the item comes from: RSS <source url>,
    # Google News <source>, JSON Feed external_url.
    source_url: str | None = None
    source_name: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """An HTML page ready for extraction."""

    html: str
    url: str | None  # final URL after redirects (or --url / the page's own canonical)
    fetched_at: datetime
    entry: FeedEntry | None = None


@dataclass(frozen=True, slots=True)
class Link:
    href: str  # absolute
    text: str
    rel: str = ""


@dataclass(slots=True)
class PageMeta:
    """What the selectolax pre-pass reads from the whole DOM."""

    lang: str | None = None  # <html lang>
    title_tag: str | None = None
    h1: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)  # name/property (lowercased) -> content
    canonical: str | None = None
    jsonld: list[dict] = field(default_factory=list)  # flattened objects (@graph unpacked)
    links: list[Link] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)  # (absolute src, alt)
    captions: list[str] = field(default_factory=list)
    pixels: list[str] = field(default_factory=list)  # tiny/tracking <img> srcs
    # short text blocks anywhere on the page (footers live here); read on first use, since
    # only pages that a site pack applies to need them
    block_reader: Callable[[], list[str]] | None = field(default=None, repr=False, compare=False)
    _blocks: list[str] | None = field(default=None, repr=False, compare=False)
    deks: list[str] = field(default_factory=list)  # standfirst / sub-head texts
    bylines: list[str] = field(default_factory=list)  # byline element texts
    providers: list[str] = field(default_factory=list)  # provider-block names (Yahoo caas)
    provider_links: list[str] = field(default_factory=list)  # provider-block links

    @property
    def blocks(self) -> list[str]:
        if self._blocks is None:
            self._blocks = self.block_reader() if self.block_reader else []
        return self._blocks


@dataclass(slots=True)
class Extracted:
    """Article as trafilatura sees it, plus the DOM facts around it."""

    url: str | None
    title: str | None
    paragraphs: list[str]
    language: str | None
    published: str | None
    authors: list[str]
    sitename: str | None
    meta: PageMeta


@dataclass(frozen=True, slots=True)
class Removal:
    """A piece of text that a cleaning rule took out of the body."""

    rule: str
    text: str
    signal: str | None = None  # attribution signal this removal is evidence for
    outlet: str | None = None  # outlet name captured by the rule, if any
    url: str | None = None  # URL captured by the rule, if any


@dataclass(frozen=True, slots=True)
class Warning:
    code: str
    count: int
    detail: str

    def as_dict(self) -> dict:
        return {"code": self.code, "count": self.count, "detail": self.detail}


@dataclass(slots=True)
class Cleaned:
    title: str | None
    paragraphs: list[str]
    aggregator: dict | None  # {"name", "domain"} or None
    removals: list[Removal] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True, slots=True)
class Evidence:
    signal: str
    detail: str
    weight: float
    name: str | None = None
    domain: str | None = None
    url: str | None = None

    def as_dict(self) -> dict:
        out = {"signal": self.signal, "detail": self.detail, "weight": round(self.weight, 3)}
        for key in ("name", "domain", "url"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


@dataclass(slots=True)
class Attribution:
    name: str | None
    domain: str | None
    url: str | None
    confidence: float
    evidence: list[Evidence] = field(default_factory=list)
    partial: bool = False

    def as_dict(self) -> dict:
        out = {
            "name": self.name,
            "domain": self.domain,
            "url": self.url,
            "confidence": round(self.confidence, 3),
            "evidence": [e.as_dict() for e in self.evidence],
        }
        if self.partial:
            out["partial"] = True
        return out
