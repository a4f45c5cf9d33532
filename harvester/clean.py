"""Cleaning: apply the rule packs to an :class:`Extracted` body -> :class:`Cleaned`.

Order: site packs (in file order), then the generic pack, then the built-in steps
(title repeats, sign-off mark, masked numbers). Every piece of text a rule takes
out is kept as a :class:`Removal`, so attribution can use it as evidence.
"""

from __future__ import annotations

import re

from .models import Cleaned, Extracted, Removal, Warning
from .rules import HEAD_SIZE, TAIL_SIZE, Pack, Rule, RuleSet
from .text import fold, name_key, normalize_space
from .urls import domain_of

MASKED_NUMBER = re.compile(r"\bXNUMX\b")
_TERMINAL = re.compile(r"[.!?。！？…»”\"')\]]$")
_STUFFED_MAX_WORDS = 12  # a tagline remainder this short, with no sentence end, is keyword stuffing


def _tail_start(n: int) -> int:
    return max(0, min(n - TAIL_SIZE, int(n * 0.6)))


def _in_scope(rule: Rule, index: int, n: int) -> bool:
    if rule.where == "head":
        return index < HEAD_SIZE
    if rule.where == "tail":
        return index >= _tail_start(n)
    return True


def _removal(rule: Rule, text: str, match: re.Match | None, url: str | None = None) -> Removal:
    groups = match.groupdict() if match else {}
    outlet = normalize_space(groups.get("outlet") or "") or None
    return Removal(rule=rule.id, text=text, signal=rule.signal, outlet=outlet, url=groups.get("url") or url)


def _is_leftover(text: str) -> bool:
    """What a strip left behind is junk: empty, punctuation, or a short keyword run."""
    stripped = text.strip(" \t.,;:-–—|·。、")
    if not re.search(r"\w", stripped):
        return True
    return len(stripped.split()) <= _STUFFED_MAX_WORDS and not _TERMINAL.search(stripped)


def strip_text(rule: Rule, text: str) -> str:
    return normalize_space(rule.regex.sub(" ", text))


def apply_rule(rule: Rule, paragraphs: list[str], removals: list[Removal]) -> list[str]:
    n = len(paragraphs)
    out: list[str] = []
    for i, para in enumerate(paragraphs):
        if not _in_scope(rule, i, n):
            out.append(para)
            continue
        if rule.action == "strip":
            match = rule.regex.search(para)
            if match is None:
                out.append(para)
                continue
            rest = strip_text(rule, para)
            removals.append(_removal(rule, match.group(0).strip(), match))
            if _is_leftover(rest):
                if rest:
                    removals.append(Removal(rule=rule.id, text=rest))
                continue
            out.append(rest)
        elif rule.action == "drop_line":
            match = rule.regex.fullmatch(para)
            if match is None:
                out.append(para)
            else:
                removals.append(_removal(rule, para, match))
        else:  # cut_from
            match = rule.regex.fullmatch(para)
            if match is None:
                out.append(para)
                continue
            removals.append(_removal(rule, para, match))
            removals.extend(Removal(rule=rule.id, text=p) for p in paragraphs[i + 1 :])
            break
    return out


def scan_blocks(pack: Pack, blocks: list[str], removals: list[Removal]) -> None:
    """Signal-bearing footer lines often sit outside the extracted body (links, headings)."""
    for rule in pack.rules:
        if not rule.signal or rule.action == "strip":
            continue
        for text in blocks:
            match = rule.regex.fullmatch(text)
            if match:
                removals.append(_removal(rule, text, match))


def drop_deks(paragraphs: list[str], deks: list[str], removals: list[Removal]) -> list[str]:
    keys = {fold(d) for d in deks}
    out = []
    for i, para in enumerate(paragraphs):
        if i < HEAD_SIZE and fold(para) in keys:
            removals.append(Removal(rule="generic-dek", text=para))
        else:
            out.append(para)
    return out


def _title_key(text: str) -> str:
    """Comparison key for titles: folded, spaces collapsed, no closing period."""
    return fold(normalize_space(text)).rstrip(" .")


def _title_variants(title: str, rules: RuleSet) -> set[str]:
    keys = {_title_key(title)}
    parts = rules.title_sep.split(title)
    if len(parts) > 1:
        keys.add(_title_key(parts[0]))
    return {k for k in keys if k}


def drop_title_repeats(paragraphs: list[str], title: str | None, rules: RuleSet, removals: list[Removal]) -> list[str]:
    if not title:
        return paragraphs
    keys = _title_variants(title, rules)
    out = []
    for para in paragraphs:
        key = _title_key(para)
        if key in keys or any(key.startswith(k) and _is_leftover(key[len(k) :]) for k in keys):
            removals.append(Removal(rule="generic-title-repeat", text=para))
        else:
            out.append(para)
    return out


def strip_signoff(paragraphs: list[str], rules: RuleSet, removals: list[Removal]) -> list[str]:
    if not paragraphs:
        return paragraphs
    last = paragraphs[-1]
    for mark in rules.signoff_marks:
        # the mark closes the text, after a space or after a sentence end ("… end. ®")
        m = re.search(rf"(?:(?<=\s)|(?<=[.!?”\"»)]))\s*{re.escape(mark)}\s*$", last)
        if m:
            removals.append(Removal(rule="generic-signoff", text=mark, signal="signoff"))
            rest = last[: m.start()].rstrip()
            return paragraphs[:-1] + ([rest] if rest else [])
    return paragraphs


def masked_numbers(title: str | None, paragraphs: list[str]) -> list[Warning]:
    count = sum(len(MASKED_NUMBER.findall(p)) for p in [title or "", *paragraphs])
    if not count:
        return []
    noun = "number" if count == 1 else "numbers"
    return [Warning("masked_numbers", count, f"{count} {noun} masked as XNUMX by the aggregator's translation")]


def clean_title(title: str | None, packs: list[Pack], rules: RuleSet, site_names: list[str]) -> str | None:
    """Strip taglines, then a site name before or after a separator ("Title | Site")."""
    if not title:
        return title
    for pack in packs:
        for rule in pack.rules:
            if rule.action == "strip":
                title = strip_text(rule, title)
    drop = {name_key(s) for s in site_names if s}
    seps = list(rules.title_sep.finditer(title))
    if seps and name_key(title[seps[-1].end() :]) in drop:
        title = title[: seps[-1].start()]
    elif seps and name_key(title[: seps[0].start()]) in drop:
        title = title[seps[0].end() :]
    return normalize_space(title) or None


def reading_host(extracted: Extracted, rules: RuleSet, domain: str | None) -> tuple[str | None, str | None]:
    """(aggregator name, domain) of where the page was read: its own host, else the host its
    canonical / og:url names (a saved or mirrored copy). (None, domain) for other pages."""
    meta = extracted.meta
    for candidate in (domain, domain_of(meta.canonical), domain_of(meta.meta.get("og:url"))):
        name = rules.aggregator_for(candidate)
        if name:
            return name, candidate
    return None, domain


def clean(extracted: Extracted, rules: RuleSet, *, domain: str | None) -> Cleaned:
    detect_text = " ".join(
        [extracted.title or "", *extracted.paragraphs[:HEAD_SIZE], *extracted.paragraphs[-TAIL_SIZE:],
         *extracted.meta.captions, *(alt for _, alt in extracted.meta.images[:20])]
    )  # fmt: skip
    aggregator_name, host = reading_host(extracted, rules, domain)
    packs = rules.packs_for(host, detect_text)
    site_packs = [p for p in packs if not p.generic]
    if aggregator_name is None and site_packs:  # recognised by its text alone
        aggregator_name, host = site_packs[0].name, None
    aggregator = {"name": aggregator_name, "domain": host} if aggregator_name else None
    site_names = [extracted.sitename or "", aggregator_name or "", *(p.name for p in site_packs)]

    removals: list[Removal] = []
    title = clean_title(extracted.title, packs, rules, site_names)
    paragraphs = list(extracted.paragraphs)
    for pack in packs:
        for rule in pack.rules:
            paragraphs = apply_rule(rule, paragraphs, removals)
        if not pack.generic:
            scan_blocks(pack, extracted.meta.blocks, removals)
    if rules.enabled("generic-title-repeat"):
        paragraphs = drop_title_repeats(paragraphs, title, rules, removals)
    if rules.enabled("generic-dek"):
        paragraphs = drop_deks(paragraphs, extracted.meta.deks, removals)
    if rules.enabled("generic-signoff"):
        paragraphs = strip_signoff(paragraphs, rules, removals)
    return Cleaned(
        title=title,
        paragraphs=paragraphs,
        aggregator=aggregator,
        removals=removals,
        warnings=masked_numbers(title, paragraphs) if rules.enabled("generic-masked-numbers") else [],
    )
