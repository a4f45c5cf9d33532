"""Load the site knowledge kept as data in ``harvester/rules/``.

* ``packs/*.toml`` — cleaning rule packs (one per aggregator family, plus ``generic``);
  the vocabulary is described at the top of ``packs/plato.toml``.
* ``aggregators.toml`` — hosts that are never a final attribution.

Patterns are compiled once per process (``load_rules`` is cached).
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import ConfigError

ACTIONS = ("strip", "drop_line", "cut_from")
WHERE = ("any", "head", "tail")
HEAD_SIZE = 3  # "head": the first paragraphs of the body
TAIL_SIZE = 4  # "tail": the last paragraphs of the body
# steps clean.py applies in code (their parameters live in packs/generic.toml)
BUILTIN_STEPS = ("generic-title-repeat", "generic-dek", "generic-signoff", "generic-masked-numbers")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    action: str
    regex: re.Pattern
    where: str = "any"
    signal: str | None = None
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    domains: dict[str, str] = field(default_factory=dict)  # host -> aggregator display name
    detect: tuple[re.Pattern, ...] = ()
    strip_selectors: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    generic: bool = False

    def matches(self, domain: str | None, text: str) -> bool:
        if self.generic:
            return True
        if domain and domain in self.domains:
            return True
        return any(p.search(text) for p in self.detect)


@dataclass(frozen=True, slots=True)
class Aggregator:
    name: str
    domains: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleSet:
    packs: tuple[Pack, ...]
    aggregators: dict[str, str]  # registrable domain -> display name (platforms included)
    signoff_marks: tuple[str, ...]
    title_sep: re.Pattern
    # attribution hints (generic.toml)
    dek_selectors: tuple[str, ...] = ()
    byline_selectors: tuple[str, ...] = ()
    provider_name_selectors: tuple[str, ...] = ()
    provider_link_selectors: tuple[str, ...] = ()
    proxy_image_hosts: frozenset[str] = frozenset()
    ignore_link_domains: frozenset[str] = frozenset()
    wires: tuple[tuple[str, re.Pattern], ...] = ()  # (outlet name, dateline pattern)
    disabled: frozenset[str] = frozenset()  # rule ids left out (tests prove each rule is needed)
    platforms: frozenset[str] = frozenset()  # publishing platforms: an aggregator that may be a source

    def enabled(self, rule_id: str) -> bool:
        return rule_id not in self.disabled

    @property
    def strip_selectors(self) -> tuple[str, ...]:
        return tuple(s for p in self.packs for s in p.strip_selectors)

    def packs_for(self, domain: str | None, text: str) -> list[Pack]:
        return [p for p in self.packs if p.matches(domain, text)]

    def never_source(self, domain: str | None) -> bool:
        """An aggregator whose name must never be the answer (platforms may be)."""
        return domain not in self.platforms and self.aggregator_for(domain) is not None

    def aggregator_for(self, domain: str | None) -> str | None:
        if not domain:
            return None
        if domain in self.aggregators:
            return self.aggregators[domain]
        for pack in self.packs:
            if domain in pack.domains:
                return pack.domains[domain]
        return None

    def all_rule_ids(self) -> list[str]:
        return [r.id for p in self.packs for r in p.rules] + list(BUILTIN_STEPS)


def _rules_dir() -> Path:
    return Path(str(resources.files("harvester") / "rules"))


def _expand(pattern: str, phrases: dict[str, list[str]], where: str) -> str:
    def repl(m: re.Match) -> str:
        name = m.group(1)
        if name not in phrases:
            raise ConfigError(f"rules: {where} uses {{{name}}} but no [phrases.*] table defines it")
        alts = sorted(set(phrases[name]), key=len, reverse=True)
        return "(?:" + "|".join(alts) + ")"

    return _PLACEHOLDER.sub(repl, pattern)


def _compile(pattern: str, where: str) -> re.Pattern:
    try:
        return re.compile(pattern, re.IGNORECASE | re.UNICODE)
    except re.error as exc:
        raise ConfigError(f"rules: {where}: bad pattern: {exc}") from None


def load_pack(path: Path, disabled: frozenset[str] = frozenset()) -> Pack:
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"rules: cannot read {where}: {exc}") from None
    phrases: dict[str, list[str]] = {}
    for table in data.get("phrases", {}).values():
        for name, values in table.items():
            phrases.setdefault(name, []).extend([values] if isinstance(values, str) else values)
    rules = []
    for raw in data.get("rules", []):
        rid = raw.get("id") or f"{where}#{len(rules)}"
        if rid in disabled:
            continue
        action, place = raw.get("action", "drop_line"), raw.get("where", "any")
        if action not in ACTIONS or place not in WHERE:
            raise ConfigError(f"rules: {where} rule {rid}: action must be one of {ACTIONS}, where one of {WHERE}")
        regex = _compile(_expand(raw["pattern"], phrases, f"{where} rule {rid}"), f"{where} rule {rid}")
        rules.append(
            Rule(
                id=rid,
                action=action,
                regex=regex,
                where=place,
                signal=raw.get("signal"),
                examples=tuple(raw.get("examples", ())),
                counter_examples=tuple(raw.get("counter_examples", ())),
            )
        )
    return Pack(
        name=data.get("name", path.stem),
        domains={k.lower(): v for k, v in data.get("domains", {}).items()},
        detect=tuple(_compile(p, f"{where} detect") for p in data.get("detect", ())),
        strip_selectors=tuple(data.get("strip_selectors", ())),
        rules=tuple(rules),
        generic=bool(data.get("generic", False)),
    )


def _load_aggregators(path: Path) -> tuple[dict[str, str], frozenset[str]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    platforms = set()
    for entry in data.get("aggregator", []):
        for domain in entry.get("domains", []):
            names[domain.lower()] = entry["name"]
            if entry.get("platform"):
                platforms.add(domain.lower())
    return names, frozenset(platforms)


@functools.lru_cache(maxsize=8)
def load_rules(disabled: frozenset[str] = frozenset()) -> RuleSet:
    """All packs (generic last) with the rules in ``disabled`` left out."""
    base = _rules_dir()
    paths = sorted((base / "packs").glob("*.toml"))
    packs = [load_pack(p, disabled) for p in paths]
    packs.sort(key=lambda p: p.generic)  # site packs run before the generic pack
    generic = tomllib.loads((base / "packs" / "generic.toml").read_text(encoding="utf-8"))
    aggregators, platforms = _load_aggregators(base / "aggregators.toml")
    return RuleSet(
        packs=tuple(packs),
        aggregators=aggregators,
        platforms=platforms,
        signoff_marks=tuple(generic.get("signoff_marks", ())),
        title_sep=re.compile(generic.get("title_separators", r"\s+[|–—-]\s+")),
        dek_selectors=tuple(generic.get("dek_selectors", ())),
        byline_selectors=tuple(generic.get("byline_selectors", ())),
        provider_name_selectors=tuple(generic.get("provider_name_selectors", ())),
        provider_link_selectors=tuple(generic.get("provider_link_selectors", ())),
        proxy_image_hosts=frozenset(generic.get("proxy_image_hosts", ())),
        ignore_link_domains=frozenset(generic.get("ignore_link_domains", ())),
        wires=tuple(
            (name, _compile(p, f"generic.toml wires {name}"))
            for name, patterns in generic.get("wires", {}).items()
            for p in patterns
        ),
        disabled=disabled,
    )
