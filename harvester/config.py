"""config.toml -> frozen, validated settings.

Every setting has a default (see the commented ``config.toml`` at the repository
root), so a config that lists only feeds works, and no config at all works too.
Errors name the key and, where the file has it, the line::

    config: [harvester] interval must be a number >= 0, got 'soon' (config.toml line 7)
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULT_USER_AGENT = "harvester/0.1 (+https://github.com/harvester-news/harvester)"


@dataclass(frozen=True, slots=True)
class Settings:
    """The ``[harvester]`` table. Paths are already resolved against the config file."""

    output_dir: Path = Path("articles")
    state_path: Path = Path("harvester.db")
    user_agent: str = DEFAULT_USER_AGENT
    allow_private_addresses: bool = False
    interval: float = 900.0  # seconds between polls of a feed
    concurrency: int = 8  # requests in flight in all
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0
    connect_timeout: float = 10.0
    read_timeout: float = 20.0  # longest silence while reading
    deadline: float = 60.0  # total wall-clock time for one request, redirects included
    max_redirects: int = 5
    max_body_bytes: int = 15 * 1024 * 1024  # after decompression
    max_extract_bytes: int = 5 * 1024 * 1024  # larger HTML is cut before extraction
    extract_timeout: float = 10.0  # hard limit per page (worker process)
    workers: int = 0  # extraction processes; 0 = one per core
    robots: str = "obey"  # "obey" (RFC 9309) or "ignore"
    max_backoff: float = 86400.0  # longest wait after repeated errors
    resolve_source: bool = False  # look the story up in the outlet's own feed
    resolve_threshold: float = 0.55  # minimum match score to accept a recovered URL
    log_format: str = "text"  # "text" or "json"


@dataclass(frozen=True, slots=True)
class FeedConfig:
    url: str
    name: str | None = None
    interval: float | None = None
    language: str | None = None
    kind: str = "feed"  # "feed" (RSS/Atom/RDF/JSON Feed) or "html" (listing page)
    # for kind = "html": CSS selectors that turn a listing page into entries
    item: str | None = None
    link: str = "a"
    title: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class OutletConfig:
    name: str
    domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    signoffs: tuple[str, ...] = ()
    feed: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    settings: Settings = field(default_factory=Settings)
    feeds: tuple[FeedConfig, ...] = ()
    outlets: tuple[OutletConfig, ...] = ()  # user additions / overrides of the registry
    path: Path | None = None


_CHOICES = {"robots": ("obey", "ignore"), "log_format": ("text", "json")}
_MINIMA = {
    "interval": 0,
    "concurrency": 1,
    "per_host_concurrency": 1,
    "per_host_delay": 0,
    "connect_timeout": 0.01,
    "read_timeout": 0.01,
    "deadline": 0.01,
    "max_redirects": 0,
    "max_body_bytes": 1024,
    "max_extract_bytes": 1024,
    "extract_timeout": 0.1,
    "workers": 0,
    "max_backoff": 1,
    "resolve_threshold": 0,
}


def _line_of(text: str, key: str, nth: int = 0) -> int | None:
    hits = [m for m in re.finditer(rf"(?m)^\s*{re.escape(key)}\s*=", text)]
    if len(hits) > nth:
        return text.count("\n", 0, hits[nth].start()) + 1
    return None


class _Reader:
    def __init__(self, path: Path | None, text: str) -> None:
        self.path = path
        self.text = text

    def fail(self, where: str, key: str, message: str, nth: int = 0) -> ConfigError:
        line = _line_of(self.text, key, nth) if key else None
        loc = f"{self.path.name if self.path else 'config'}"
        if line:
            loc += f" line {line}"
        return ConfigError(f"{where} {key} {message} ({loc})".replace("  ", " "))

    def coerce(self, where: str, key: str, value: Any, default: Any, nth: int = 0) -> Any:
        kind = type(default) if default is not None else None
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise self.fail(where, key, f"must be true or false, got {value!r}", nth)
            return value
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(where, key, f"must be a number, got {value!r}", nth)
            minimum = _MINIMA.get(key)
            if minimum is not None and value < minimum:
                raise self.fail(where, key, f"must be >= {minimum}, got {value!r}", nth)
            if kind is int and value != int(value):
                raise self.fail(where, key, f"must be a whole number, got {value!r}", nth)
            return kind(value)
        if isinstance(default, Path):
            if not isinstance(value, str) or not value:
                raise self.fail(where, key, f"must be a path, got {value!r}", nth)
            p = Path(value).expanduser()
            if not p.is_absolute() and self.path is not None:
                p = self.path.parent / p
            return p
        if isinstance(default, str) or default is None:
            if not isinstance(value, str):
                raise self.fail(where, key, f"must be a string, got {value!r}", nth)
            if key in _CHOICES and value not in _CHOICES[key]:
                raise self.fail(where, key, f"must be one of {', '.join(_CHOICES[key])}, got {value!r}", nth)
            return value
        if isinstance(default, tuple):
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.fail(where, key, f"must be a list of strings, got {value!r}", nth)
            return tuple(value)
        return value

    def build(self, cls: type, where: str, table: dict, nth: int = 0, required: tuple[str, ...] = ()):
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "path"}
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in fields:
                known = ", ".join(sorted(fields))
                raise self.fail(where, key, f"is not a known setting (known: {known})", nth)
            f = fields[key]
            default = f.default if f.default is not dataclasses.MISSING else None
            if f.default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
                default = f.default_factory()  # type: ignore[misc]
            if default is None and f.type in ("float | None",):
                default = 0.0
            if default is None and f.type in ("tuple[str, ...]",):
                default = ()
            values[key] = self.coerce(where, key, value, default, nth)
        for key in required:
            if key not in values:
                raise self.fail(where, "", f"entry {nth + 1} needs a '{key}'")
        return cls(**values)


def load_config(path: str | Path | None, *, must_exist: bool = False) -> Config:
    """Read CONFIG; a missing file gives built-in defaults unless ``must_exist``."""
    if path is None:
        return Config()
    p = Path(path)
    if not p.exists():
        if must_exist:
            raise ConfigError(f"no such config file: {p}")
        return Config(settings=_resolve_defaults(Settings(), p))
    try:
        text = p.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p.name}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {p}: {exc}") from None
    return parse_config(data, text=text, path=p.resolve())


def _resolve_defaults(settings: Settings, path: Path) -> Settings:
    base = path.resolve().parent
    return dataclasses.replace(
        settings,
        output_dir=base / settings.output_dir,
        state_path=base / settings.state_path,
    )


def parse_config(data: dict, *, text: str = "", path: Path | None = None) -> Config:
    r = _Reader(path, text)
    unknown = set(data) - {"harvester", "feeds", "outlets"}
    if unknown:
        key = sorted(unknown)[0]
        raise r.fail("", f"[{key}]", "is not a known table (known: [harvester], [[feeds]], [[outlets]])")
    table = data.get("harvester", {})
    if not isinstance(table, dict):
        raise r.fail("", "harvester", "must be a table")
    settings = r.build(Settings, "[harvester]", table)
    if path is not None:
        # relative defaults are relative to the config file too
        if "output_dir" not in table:
            settings = dataclasses.replace(settings, output_dir=path.parent / settings.output_dir)
        if "state_path" not in table:
            settings = dataclasses.replace(settings, state_path=path.parent / settings.state_path)
    feeds_raw = data.get("feeds", [])
    if not isinstance(feeds_raw, list):
        raise r.fail("", "feeds", "must be an array of tables: [[feeds]]")
    feeds = []
    seen: set[str] = set()
    for i, item in enumerate(feeds_raw):
        feed = r.build(FeedConfig, "[[feeds]]", item, nth=i, required=("url",))
        if not re.match(r"(?i)^https?://[^/\s]+", feed.url):
            raise r.fail("[[feeds]]", "url", f"must be an http(s) URL, got {feed.url!r}", nth=i)
        if feed.kind not in ("feed", "html"):
            raise r.fail("[[feeds]]", "kind", f"must be 'feed' or 'html', got {feed.kind!r}", nth=i)
        if feed.kind == "html" and not feed.item:
            raise r.fail("[[feeds]]", "kind", "= 'html' needs an 'item' CSS selector", nth=i)
        if feed.url in seen:
            raise r.fail("[[feeds]]", "url", f"{feed.url!r} is listed twice", nth=i)
        seen.add(feed.url)
        feeds.append(feed)
    outlets = tuple(
        r.build(OutletConfig, "[[outlets]]", item, nth=i, required=("name",))
        for i, item in enumerate(data.get("outlets", []))
    )
    return Config(settings=settings, feeds=tuple(feeds), outlets=outlets, path=path)
