"""The outlet registry (``rules/outlets.toml`` plus the user's ``[[outlets]]``), and lookups.

Names match after :func:`harvester.text.name_key`: casefolded, accent-free, without a
leading article — so "Le registre", "le Registre" and "Registre" all find The Register.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .config import OutletConfig
from .errors import ConfigError
from .text import name_key


@dataclass(frozen=True, slots=True)
class Outlet:
    name: str
    domains: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    signoffs: tuple[str, ...] = ()
    feed: str | None = None
    wire: bool = False

    @property
    def domain(self) -> str | None:
        return self.domains[0] if self.domains else None


class Registry:
    def __init__(self, outlets: list[Outlet]) -> None:
        self.outlets = outlets
        self._by_domain: dict[str, Outlet] = {}
        self._by_name: dict[str, Outlet] = {}
        for outlet in outlets:  # later entries (user config) override earlier ones
            for domain in outlet.domains:
                self._by_domain[domain.lower()] = outlet
            for alias in (outlet.name, *outlet.aliases):
                key = name_key(alias)
                if key:
                    self._by_name[key] = outlet

    def by_domain(self, domain: str | None) -> Outlet | None:
        if not domain:
            return None
        domain = domain.lower()
        while domain:
            if domain in self._by_domain:
                return self._by_domain[domain]
            if "." not in domain:
                return None
            domain = domain.split(".", 1)[1]
        return None

    def by_name(self, name: str | None) -> Outlet | None:
        if not name:
            return None
        return self._by_name.get(name_key(name))

    def with_signoff(self, mark: str) -> list[Outlet]:
        return [o for o in self.outlets if mark in o.signoffs]


def _from_table(entry: dict, where: str) -> Outlet:
    try:
        return Outlet(
            name=entry["name"],
            domains=tuple(d.lower() for d in entry.get("domains", ())),
            aliases=tuple(entry.get("aliases", ())),
            signoffs=tuple(entry.get("signoffs", ())),
            feed=entry.get("feed"),
            wire=bool(entry.get("wire", False)),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"outlets: bad entry in {where}: {exc}") from None


@functools.lru_cache(maxsize=1)
def builtin_outlets() -> tuple[Outlet, ...]:
    path = Path(str(resources.files("harvester") / "rules" / "outlets.toml"))
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return tuple(_from_table(e, "outlets.toml") for e in data.get("outlet", []))


def load_registry(extra: tuple[OutletConfig, ...] = ()) -> Registry:
    """The built-in registry, extended / overridden by config ``[[outlets]]`` entries."""
    outlets = list(builtin_outlets())
    for cfg in extra:
        outlets.append(
            Outlet(
                name=cfg.name,
                domains=tuple(d.lower() for d in cfg.domains),
                aliases=cfg.aliases,
                signoffs=cfg.signoffs,
                feed=cfg.feed,
            )
        )
    return Registry(outlets)


@functools.lru_cache(maxsize=1)
def default_registry() -> Registry:
    return load_registry()
