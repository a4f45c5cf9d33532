"""Attribution: independent signals -> :class:`Attribution` (the record's ``source``).

Each signal is a small function ``(Context) -> Iterable[Evidence]``; the weights follow
shared/research/aggregator-patterns.md section 5. Evidence is resolved against the outlet
registry (a domain finds a name, a name finds a domain), grouped by outlet, and combined:

* URL-bearing evidence of one outlet counts by its maximum weight;
* agreeing outlet-only evidence combines by noisy-OR: 1 - prod(1 - w);
* the strongest outlet wins; the losers stay in ``evidence``;
* an aggregator is never the answer; a page that is its own original gets evidence ``self``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from .models import Attribution, Cleaned, Evidence, Extracted, FeedEntry
from .outlets import Registry
from .rules import RuleSet
from .text import name_key, normalize_space
from .urls import domain_of, registrable_domain

W = {  # signal -> weight
    "feed_source_url": 0.95,
    "canonical_cross_domain": 0.95,
    "syndication_source": 0.90,
    "republished_line": 0.85,
    "source_line_url": 0.85,
    "conversation_pixel": 0.85,
    "jsonld_is_based_on": 0.85,
    "feed_source_name": 0.85,
    "provider_block": 0.80,
    "wire_dateline": 0.80,
    "wire_copyright": 0.80,
    "more_from_footer": 0.75,
    "source_line_name": 0.75,
    "original_source": 0.70,
    "republished_name": 0.65,
    "signoff": 0.60,
    "byline_outlet": 0.50,
    "site_name": 0.50,
    "og_url_cross_domain": 0.50,
    "jsonld_provider": 0.45,
    "hotlinked_images": 0.40,
    "contributed": 0.30,
    "noindex": 0.20,
    "self": 0.50,
}
SELF_FALLBACK_BELOW = 0.35  # self stands alone when nothing else reaches this weight
HEAD_CHARS, TAIL_CHARS = 800, 600
_CONTRIBUTED = re.compile(
    r"(?P<outlet>The Associated Press|Associated Press|Reuters|AFP|Agence France-Presse|Bloomberg|[A-Z][\w&.'-]*(?:\s+[A-Z][\w&.'-]*){0,4})"
    r"\s+contributed\s+to\s+this\s+(?:report|story|article)"
)
_BYLINE = re.compile(r"^By\s+[\w .'’-]{2,60}?\s*[,|/]\s*(?P<outlet>[\w .&'’-]{2,40}?)\s*(?:[·|•].*)?$")


@dataclass(slots=True)
class Context:
    url: str | None
    domain: str | None  # registrable domain of the page
    extracted: Extracted
    cleaned: Cleaned
    entry: FeedEntry | None
    registry: Registry
    rules: RuleSet

    @property
    def text(self) -> str:
        return "\n\n".join(self.cleaned.paragraphs)

    def is_aggregator(self, domain: str | None) -> bool:
        return bool(domain) and self.rules.never_source(domain)

    def foreign(self, url: str | None) -> str | None:
        """The registrable domain of ``url`` if it is another site and not an aggregator."""
        domain = domain_of(url)
        if not domain or domain == self.domain or self.is_aggregator(domain):
            return None
        return domain


def _is_article_url(url: str) -> bool:
    return urlsplit(url).path.strip("/") != ""


# ---------------------------------------------------------------- URL-bearing signals


def sig_canonical(ctx: Context) -> Iterable[Evidence]:
    meta = ctx.extracted.meta
    if meta.canonical and ctx.foreign(meta.canonical) and _is_article_url(meta.canonical):
        yield Evidence("canonical_cross_domain", f"rel=canonical {meta.canonical}", W["canonical_cross_domain"], url=meta.canonical)
    og_url = meta.meta.get("og:url")
    if og_url and og_url != meta.canonical and ctx.foreign(og_url) and _is_article_url(og_url):
        yield Evidence("og_url_cross_domain", f"og:url {og_url}", W["og_url_cross_domain"], url=og_url)


def sig_meta_sources(ctx: Context) -> Iterable[Evidence]:
    meta = ctx.extracted.meta.meta
    for key, signal in (("syndication-source", "syndication_source"), ("original-source", "original_source")):
        value = meta.get(key)
        if value and ctx.foreign(value):
            url = value if "://" in value and _is_article_url(value) else None
            yield Evidence(signal, f"meta {key} {value}", W[signal], url=url, domain=domain_of(value))


def _jsonld_url(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get("url") or value.get("@id")
    if isinstance(value, list) and value:
        return _jsonld_url(value[0])
    return None


def sig_jsonld(ctx: Context) -> Iterable[Evidence]:
    for obj in ctx.extracted.meta.jsonld:
        based = _jsonld_url(obj.get("isBasedOn") or obj.get("isBasedOnUrl"))
        if based and ctx.foreign(based):
            yield Evidence("jsonld_is_based_on", f"JSON-LD isBasedOn {based}", W["jsonld_is_based_on"], url=based)
        for key in ("sourceOrganization", "provider"):
            org = obj.get(key)
            name = org.get("name") if isinstance(org, dict) else org if isinstance(org, str) else None
            if name and not ctx.is_aggregator(domain_of(_jsonld_url(org))):
                yield Evidence("jsonld_provider", f"JSON-LD {key} {name}", W["jsonld_provider"], name=name, domain=domain_of(_jsonld_url(org)))


def _link_in(ctx: Context, text: str) -> str | None:
    """The foreign article link whose anchor text is part of ``text`` (longest path first)."""
    found = [l.href for l in ctx.extracted.meta.links if l.text and l.text in text and ctx.foreign(l.href)]
    found.sort(key=lambda h: len(urlsplit(h).path), reverse=True)
    return found[0] if found else None


def sig_removed_lines(ctx: Context) -> Iterable[Evidence]:
    """Evidence carried by lines the cleaning rules took out (footers, credits)."""
    seen: set[tuple] = set()
    for rem in ctx.cleaned.removals:
        if not rem.signal or rem.signal == "signoff":
            continue
        key = (rem.signal, rem.outlet, rem.url)
        if key in seen:
            continue
        seen.add(key)
        detail = normalize_space(rem.text)[:200]
        if rem.signal == "republished_line":
            url = rem.url if rem.url and ctx.foreign(rem.url) else _link_in(ctx, rem.text)
            if url:
                yield Evidence("republished_line", detail, W["republished_line"], name=rem.outlet, url=url)
            elif rem.outlet:
                yield Evidence("republished_name", detail, W["republished_name"], name=rem.outlet)
        elif rem.signal == "source_line_url":
            if rem.url and ctx.foreign(rem.url):
                yield Evidence("source_line_url", detail, W["source_line_url"], url=rem.url)
        elif rem.outlet:
            yield Evidence(rem.signal, detail, W.get(rem.signal, 0.5), name=rem.outlet)


def sig_conversation_pixel(ctx: Context) -> Iterable[Evidence]:
    for src in ctx.extracted.meta.pixels:
        m = re.search(r"counter\.theconversation\.com/content/(\d+)/", src)
        if not m:
            continue
        pid = m.group(1)
        url = next(
            (l.href for l in ctx.extracted.meta.links if "theconversation.com" in l.href and re.search(rf"-{pid}/?$", l.href)),
            None,
        )
        yield Evidence("conversation_pixel", f"counter pixel id {pid}", W["conversation_pixel"], name="The Conversation", domain="theconversation.com", url=url)


def sig_feed_entry(ctx: Context) -> Iterable[Evidence]:
    entry = ctx.entry
    if entry is None:
        return
    if entry.source_url and ctx.foreign(entry.source_url):
        if _is_article_url(entry.source_url):
            yield Evidence("feed_source_url", f"feed entry source {entry.source_url}", W["feed_source_url"], name=entry.source_name, url=entry.source_url)
        else:
            yield Evidence("feed_source_name", f"feed entry source {entry.source_name or entry.source_url}", W["feed_source_name"], name=entry.source_name, domain=domain_of(entry.source_url))
    elif entry.source_name:
        yield Evidence("feed_source_name", f"feed entry source {entry.source_name}", W["feed_source_name"], name=entry.source_name)


# ---------------------------------------------------------------- outlet-only signals


def sig_provider_block(ctx: Context) -> Iterable[Evidence]:
    meta = ctx.extracted.meta
    link_domain = next((d for d in (ctx.foreign(h) for h in meta.provider_links) if d), None)
    for name in meta.providers[:1]:
        yield Evidence("provider_block", f"provider block {name}", W["provider_block"], name=name, domain=link_domain)


def sig_wires(ctx: Context) -> Iterable[Evidence]:
    text = ctx.text
    head = text[:HEAD_CHARS]
    for name, pattern in ctx.rules.wires:
        m = pattern.search(head)
        if m:
            yield Evidence("wire_dateline", f"dateline {m.group(0).strip()}", W["wire_dateline"], name=name)
    tail = text[-TAIL_CHARS:]
    m = _CONTRIBUTED.search(tail)
    if m:
        yield Evidence("contributed", normalize_space(m.group(0)), W["contributed"], name=m.group("outlet"))


def sig_signoff(ctx: Context) -> Iterable[Evidence]:
    for rem in ctx.cleaned.removals:
        if rem.signal != "signoff":
            continue
        outlets = ctx.registry.with_signoff(rem.text)
        for outlet in outlets:
            yield Evidence("signoff", f"sign-off mark {rem.text}", W["signoff"] / len(outlets), name=outlet.name, domain=outlet.domain)
        break


def sig_byline(ctx: Context) -> Iterable[Evidence]:
    lines = [*ctx.extracted.meta.bylines, *ctx.extracted.authors, *ctx.cleaned.paragraphs[:2]]
    for line in lines:
        m = _BYLINE.match(line) or re.match(r"^[\w .'’-]{2,60}?,\s*(?P<outlet>[\w .&'’-]{2,40})$", line)
        if m and ctx.registry.by_name(m.group("outlet")):
            yield Evidence("byline_outlet", f"byline {line[:80]}", W["byline_outlet"], name=m.group("outlet"))
            return


def sig_site_name(ctx: Context) -> Iterable[Evidence]:
    site = ctx.extracted.meta.meta.get("og:site_name")
    outlet = ctx.registry.by_name(site)
    if outlet and outlet.domain and ctx.foreign("http://" + outlet.domain):
        yield Evidence("site_name", f"og:site_name {site}", W["site_name"], name=outlet.name, domain=outlet.domain)


def _image_domain(ctx: Context, src: str) -> str | None:
    parts = urlsplit(src)
    host = (parts.hostname or "").lower()
    if host in ctx.rules.proxy_image_hosts:
        first = parts.path.lstrip("/").split("/", 1)[0]
        return registrable_domain(first) if "." in first else None
    return domain_of(src)


def sig_hotlinks(ctx: Context) -> Iterable[Evidence]:
    counts: Counter[str] = Counter()
    for src, _alt in ctx.extracted.meta.images:
        domain = _image_domain(ctx, src)
        if domain and domain not in ctx.rules.ignore_link_domains and ctx.foreign("http://" + domain):
            counts[domain] += 1
    for link in ctx.extracted.meta.links:
        domain = ctx.foreign(link.href)
        if domain and domain not in ctx.rules.ignore_link_domains:
            counts[domain] += 1
    if not counts:
        return
    domain, n = counts.most_common(1)[0]
    outlet = ctx.registry.by_domain(domain)
    if n >= 3 and outlet is not None and n >= 0.5 * sum(counts.values()):
        yield Evidence("hotlinked_images", f"{n} images/links point to {domain}", W["hotlinked_images"], name=outlet.name, domain=domain)


def sig_noindex(ctx: Context) -> Iterable[Evidence]:
    robots = ctx.extracted.meta.meta.get("robots", "") + " " + ctx.extracted.meta.meta.get("googlebot-news", "")
    if "noindex" in robots.lower():
        yield Evidence("noindex", "meta robots noindex: the page says it is a copy", 0.0)


SIGNALS: tuple[Callable[[Context], Iterable[Evidence]], ...] = (
    sig_feed_entry,
    sig_canonical,
    sig_meta_sources,
    sig_jsonld,
    sig_removed_lines,
    sig_conversation_pixel,
    sig_provider_block,
    sig_wires,
    sig_signoff,
    sig_byline,
    sig_site_name,
    sig_hotlinks,
    sig_noindex,
)


# ---------------------------------------------------------------- combination


def resolve(ev: Evidence, registry: Registry) -> Evidence:
    """Fill name from domain, domain from name, through the registry."""
    domain = ev.domain or domain_of(ev.url)
    outlet = registry.by_domain(domain) if domain else None
    if outlet is None and ev.name:
        outlet = registry.by_name(ev.name)
        if outlet is not None and domain and outlet.domain and domain not in outlet.domains:
            outlet = None  # the name says one outlet, the link another: keep the link's
    if outlet is not None:
        return replace(ev, name=outlet.name, domain=domain if domain in outlet.domains else outlet.domain)
    name = normalize_space(ev.name) if ev.name else None
    return replace(ev, name=name or domain, domain=domain)


def _key(ev: Evidence) -> str | None:
    if ev.domain:
        return ev.domain
    return ("name:" + name_key(ev.name)) if ev.name else None


def _self_evidence(ctx: Context) -> Evidence | None:
    if not ctx.domain or ctx.is_aggregator(ctx.domain) or not ctx.rules.enabled("self"):
        return None
    meta = ctx.extracted.meta
    outlet = ctx.registry.by_domain(ctx.domain)
    name = outlet.name if outlet else (meta.meta.get("og:site_name") or ctx.extracted.sitename or ctx.domain)
    canonical = meta.canonical if meta.canonical and domain_of(meta.canonical) == ctx.domain else None
    url = canonical or ctx.url
    return Evidence("self", f"the page is on {ctx.domain}", W["self"], name=name, domain=ctx.domain, url=url)


def score(group: list[Evidence]) -> float:
    url_w = max((e.weight for e in group if e.url), default=0.0)
    rest = 1.0 - url_w
    for e in group:
        if not e.url:
            rest *= 1.0 - e.weight
    return 1.0 - rest


def combine(evidence: list[Evidence], ctx: Context) -> Attribution:
    resolved = [resolve(e, ctx.registry) for e in evidence]
    kept, notes = [], []
    for ev in resolved:
        if ev.weight > 0 and _key(ev) and not ctx.is_aggregator(ev.domain):
            kept.append(ev)
        else:
            detail = ev.detail if ev.weight == 0 or not _key(ev) else f"{ev.detail} (an aggregator: never the source)"
            notes.append(replace(ev, detail=detail, weight=0.0))
    # a name-only group joins the domain group of the same outlet name
    names = {name_key(e.name): e.domain for e in kept if e.domain and e.name}
    kept = [replace(e, domain=names.get(name_key(e.name))) if not e.domain and e.name and names.get(name_key(e.name)) else e for e in kept]

    groups: dict[str, list[Evidence]] = {}
    for ev in kept:
        groups.setdefault(_key(ev), []).append(ev)
    self_ev = _self_evidence(ctx)
    if self_ev is not None:
        strongest_other = max((score(g) for k, g in groups.items() if k != self_ev.domain), default=0.0)
        if self_ev.domain in groups or strongest_other < SELF_FALLBACK_BELOW:
            groups.setdefault(self_ev.domain, []).insert(0, self_ev)
            kept.append(self_ev)
    if not groups:
        return Attribution(None, None, None, 0.0, notes or [Evidence("none", "no signal names the original outlet", 0.0)])

    ranked = sorted(groups.values(), key=lambda g: (score(g), any(e.url for e in g)), reverse=True)
    best = ranked[0]
    url_ev = max((e for e in best if e.url), key=lambda e: e.weight, default=None)
    named = Counter(e.name for e in best if e.name)
    registry_name = ctx.registry.by_domain(best[0].domain)
    name = registry_name.name if registry_name else (named.most_common(1)[0][0] if named else None)
    ordered = sorted(kept, key=lambda e: (e not in best, -e.weight)) + notes
    return Attribution(
        name=name,
        domain=best[0].domain,
        url=url_ev.url if url_ev else None,
        confidence=round(score(best), 3),
        evidence=ordered,
        partial=all(e.signal == "contributed" for e in best),
    )


def attribute(
    extracted: Extracted,
    cleaned: Cleaned,
    *,
    url: str | None,
    registry: Registry,
    rules: RuleSet,
    entry: FeedEntry | None = None,
) -> Attribution:
    ctx = Context(
        url=url,
        domain=domain_of(url),
        extracted=extracted,
        cleaned=cleaned,
        entry=entry,
        registry=registry,
        rules=rules,
    )
    evidence = [ev for signal in SIGNALS for ev in signal(ctx) if rules.enabled(ev.signal)]
    return combine(evidence, ctx)
