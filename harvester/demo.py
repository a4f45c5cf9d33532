"""``harvester demo``: a real poll, offline, against the fixture site on 127.0.0.1.

What it does, top to bottom::

    find fixtures/site in the checkout -> serve it on 127.0.0.1 (FixtureServer)
    -> write a temporary config: the site's config.toml with http://harvester.test
       replaced by the server's URL, state in a temporary folder, records to OUT_DIR
    -> run_lock + runner.poll: exactly what ``harvester poll`` does
    -> explain on stderr what happened, return poll's exit status

Every URL the demo fetches is on the loopback server: the feeds and every link in them
use the ``http://harvester.test`` placeholder, which the server and the config rewrite to
``http://127.0.0.1:PORT``. ``resolve_source`` stays off, so nothing else is looked up.
The server prefers a fixed port (:data:`DEMO_PORT`) so that the records of two demo runs
have the same ids (an id is a hash of the page URL) and a rerun overwrites its files.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import tomllib
from pathlib import Path

from .testserver import TOKEN, FixtureServer

log = logging.getLogger("harvester")
DEMO_PORT = 8642
EXIT_USAGE = 2


def site_root() -> Path:
    """fixtures/site of the checkout this package runs from (it is not installed with it)."""
    return Path(__file__).resolve().parent.parent / "fixtures" / "site"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dump_config(data: dict) -> str:
    """A config dict (``[harvester]``, ``[[feeds]]``, ``[[outlets]]``) as TOML text."""
    lines = ["[harvester]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in data.get("harvester", {}).items()]
    for table in ("feeds", "outlets"):
        for item in data.get(table, []):
            lines += ["", f"[[{table}]]"]
            lines += [f"{key} = {_toml_value(value)}" for key, value in item.items()]
    return "\n".join(lines) + "\n"


def write_site_config(path: Path, base_url: str, *, output_dir: Path, state_path: Path,
                      feeds: list[str] | None = None, site: Path | None = None, **settings: object) -> Path:  # fmt: skip
    """Write the fixture site's config for a server at BASE_URL to PATH.

    ``feeds`` keeps only the feeds whose URL ends with one of these strings, in that order;
    ``settings`` override ``[harvester]`` keys (e.g. ``per_host_concurrency=2``).
    """
    site = site or site_root()
    text = (site / "config.toml").read_text(encoding="utf-8").replace(TOKEN, base_url)
    data = tomllib.loads(text)
    data["harvester"].update(output_dir=str(output_dir), state_path=str(state_path), **settings)
    if feeds is not None:
        chosen = []
        for suffix in feeds:
            match = [f for f in data["feeds"] if f["url"].endswith(suffix)]
            if len(match) != 1:
                raise ValueError(f"{suffix!r} matches {len(match)} feeds of the fixture site")
            chosen += match
        data["feeds"] = chosen
    path.write_text(dump_config(data), encoding="utf-8")
    return path


def _server(site: Path) -> FixtureServer:
    try:
        return FixtureServer(site, port=DEMO_PORT)
    except OSError:  # the port is taken: any free one will do (record ids will differ)
        return FixtureServer(site)


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(text, file=sys.stderr)


def run_demo(out_dir: Path, *, jsonl: bool, quiet: bool) -> int:
    """Serve fixtures/site on 127.0.0.1, poll it once into OUT_DIR; returns poll's exit status."""
    from .config import load_config
    from .errors import ConfigError
    from .lock import Locked, run_lock
    from .runner import poll

    site = site_root()
    if not (site / "config.toml").is_file():
        log.error("demo: no fixture site at %s; the demo runs from a source checkout of harvester "
                  "(git clone, then pip install -e .)", site)  # fmt: skip
        return EXIT_USAGE
    out_dir = out_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="harvester-demo-") as tmp, _server(site) as server:
        state = Path(tmp) / "state.db"
        config_path = write_site_config(Path(tmp) / "config.toml", server.base_url, output_dir=out_dir, state_path=state)
        try:
            config = load_config(config_path, must_exist=True)
        except ConfigError as exc:  # a broken fixtures/site/config.toml
            log.error("demo: %s", exc)
            return EXIT_USAGE
        outside = [f.url for f in config.feeds if not f.url.startswith(server.base_url + "/")]
        if outside or config.settings.resolve_source:
            log.error("demo: %s would reach beyond the loopback server; not polling", outside[0] if outside else "resolve_source")
            return EXIT_USAGE
        _say(quiet, _INTRO.format(site=site, url=server.base_url, feeds=len(config.feeds), out=out_dir))
        try:
            with run_lock(state):
                code, summary = poll(config, out_dir=out_dir, jsonl=jsonl)
        except Locked:  # cannot happen with a fresh temporary state folder, but be exact
            log.warning("demo: another poll holds the lock; nothing done")
            return 75
        _say(quiet, f"harvester demo: {summary.line('poll')}")
        _say(quiet, _OUTRO.format(out=out_dir, requests=len(server.requests), url=server.base_url))
    return code


_INTRO = """\
harvester demo: serving {site} on {url}/ (loopback only; nothing else is contacted)
  {feeds} feeds: RSS 2.0 (Zephyrnet copies), RSS 1.0/RDF (Le Monde), Atom (The Register),
  JSON Feed 1.1 (a link blog with external_url) and an HTML listing page (Les Echos).
  robots.txt disallows /private/, and one story is in both Zephyrnet's and The Register's feed.
  Polling them once, as `harvester poll` would from cron; records go to {out}/"""

_OUTRO = """\
harvester demo: the server answered {requests} requests, all on {url}.
  Expected: 9 new records; 1 duplicate (Zephyrnet's copy of The Register's story is dropped:
  it has the same text); the /private/ page is not fetched, as robots.txt asks; exit status 0.
  Look at the records:   ls {out}/   and   jq '{{title, source: .source.name}}' {out}/*.json"""
