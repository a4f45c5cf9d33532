"""The ``harvester`` command: parses arguments, calls the library, maps errors to exit codes.

Exit status: 0 all done; 1 finished but some items failed, or stopped early; 2 usage,
config or input error; 3 every item failed (nothing was produced); 75 another ``poll``
holds the lock.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .config import Config, load_config
from .errors import ConfigError, HarvesterError, InputError, NotHTML
from .models import Page

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_FAILED, EXIT_LOCKED = 0, 1, 2, 3, 75
log = logging.getLogger("harvester")

DESCRIPTION = """\
Harvester polls news feeds and aggregator sites, strips the spam aggregators wrap
around articles (repeated titles, keyword taglines, footers, sign-offs), recovers
the outlet that really wrote each article, and saves clean JSON records.

Records go to stdout (JSON Lines) or, with -o DIR, to one JSON file each.
Logs, progress and the closing summary go to stderr.
"""

EPILOG = """\
examples:
  harvester clean page.html --url https://zephyrnet.com/fr/some-story/
  harvester fetch https://example.com/story -o articles/
  harvester poll -c config.toml            # every due feed once (cron-safe)
  harvester poll --jsonl | jq -r .source.name
  harvester demo                           # offline demo on the bundled fixtures

exit status: 0 done; 1 some items failed or stopped early; 2 usage/config/input
             error; 3 every item failed; 75 another poll is running (nothing done)
"""

COMMANDS = {
    "clean": (
        "clean one saved HTML page into a JSON record",
        """\
        Read one saved HTML page (PATH, or - for stdin), extract the article, clean it and
        attribute it; print one JSON record on stdout. Nothing is fetched.

        Example:
          harvester clean fixtures/pages/plato-fr-register-microsoft.html \\
              --url https://platoblockchain.com/fr/microsoft-investit/ --pretty
        """,
    ),
    "attribute": (
        "show only the attribution of a saved page, with its evidence",
        """\
        Like clean, but print only the source attribution and every piece of evidence,
        winners and losers: the tool for debugging attribution rules.

        Example:
          harvester attribute saved.html --url https://finance.yahoo.com/news/x-123456789.html
        """,
    ),
    "fetch": (
        "fetch pages by URL, clean and attribute them",
        """\
        Fetch each URL (politely, with size and time limits), clean and attribute it.
        Records go to stdout as JSON Lines, or with -o DIR to DIR/<id>.json.
        A failed URL is reported on stderr and the others still run (exit 1).

        Example:
          harvester fetch https://www.theregister.com/2024/02/15/story/ -o articles
        """,
    ),
    "poll": (
        "poll every due feed once and write new records (cron-safe)",
        """\
        Poll each feed of the config that is due, fetch every new entry's page, clean and
        attribute it, and write one record per new story (duplicates across feeds are
        written once). Conditional GET, Retry-After, backoff, robots.txt and per-host
        limits keep it polite. A second poll started while one runs exits 75 at once.

        Example:
          harvester poll -c config.toml -q          # from cron
          harvester poll --jsonl | jq -r .title     # as a stream
        """,
    ),
    "feeds": (
        "show each feed's state: last poll, status, errors, next due",
        """\
        Print one line per configured feed from the state database: when it was last
        polled, its status, its error count and last error, and when it is next due.

        Example:
          harvester feeds -c config.toml
          harvester feeds --json | jq '.[] | select(.status == "error")'
        """,
    ),
    "discover": (
        "list the feeds a page advertises or links to",
        """\
        Fetch URL and list the feeds it advertises (<link rel=alternate>) or links to,
        one per line: URL, type, title.

        Example:
          harvester discover https://www.theregister.com/
        """,
    ),
    "demo": (
        "run a poll offline against the bundled fixtures on 127.0.0.1",
        """\
        Serve fixtures/ on a loopback port, write a temporary config that lists its
        feeds, and run a real poll against it: what cron would do, with no internet.
        Records go to DIR (default: ./demo-articles).

        Example:
          harvester demo
          harvester demo -o /tmp/articles --jsonl
        """,
    ),
}


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", default="config.toml", metavar="CONFIG",
                        help="config file (default: ./config.toml; built-in defaults if absent)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="explain what happens (-vv: also library debug logs, tracebacks)")
    parser.add_argument("--log-format", choices=("text", "json"), default=None,
                        help="log lines as text (default) or JSON objects")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harvester",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"harvester {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    subs = {}
    for name, (short, long) in COMMANDS.items():
        p = sub.add_parser(name, help=short, description=textwrap.dedent(long),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        _common(p)
        subs[name] = p
    for name in ("clean", "attribute"):
        subs[name].add_argument("path", metavar="PATH", help="saved HTML page, or - for stdin")
        subs[name].add_argument("--url", help="where the page came from (default: its canonical / og:url)")
        subs[name].add_argument("--pretty", action="store_true", help="indent the JSON")
        subs[name].add_argument("--resolve-source", action="store_true",
                                help="look the story up in the outlet's own feed to recover its URL")
    subs["fetch"].add_argument("urls", nargs="+", metavar="URL")
    subs["fetch"].add_argument("-o", "--output", metavar="DIR", help="write DIR/<id>.json instead of stdout")
    subs["fetch"].add_argument("--resolve-source", action="store_true",
                               help="look the story up in the outlet's own feed to recover its URL")
    subs["poll"].add_argument("-o", "--output", metavar="DIR", help="write records here (default: output_dir)")
    subs["poll"].add_argument("--jsonl", action="store_true", help="also stream records to stdout as JSON Lines"
                              " (without -o, stdout only)")
    subs["poll"].add_argument("--resolve-source", action="store_true",
                              help="look each story up in its outlet's feed to recover the original URL")
    subs["feeds"].add_argument("--json", action="store_true", help="print the states as a JSON array")
    subs["discover"].add_argument("url", metavar="URL")
    subs["demo"].add_argument("-o", "--output", metavar="DIR", default="demo-articles",
                              help="write records here (default: ./demo-articles)")
    subs["demo"].add_argument("--jsonl", action="store_true", help="also stream records to stdout")
    return parser


# ---------------------------------------------------------------- input


def read_page_file(path: str, config: Config) -> str:
    """Read PATH (or stdin) as HTML text; every bad input is a one-line InputError."""
    from .fetch import decode_html

    limit = config.settings.max_body_bytes
    try:
        if path == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            p = Path(path)
            if p.is_dir():
                raise InputError(f"{path} is a folder, not a saved page")
            with p.open("rb") as fh:
                data = fh.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except PermissionError:
        raise InputError(f"permission denied: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    name = "stdin" if path == "-" else path
    if not data.strip():
        raise InputError(f"{name} is empty")
    if len(data) > limit:
        raise InputError(f"{name} is larger than {limit // (1024 * 1024)} MiB (max_body_bytes); not a news page")
    if data[:5] == b"%PDF-":
        raise InputError(f"{name} is a PDF, not an HTML page")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name} is a binary file, not an HTML page")
    return decode_html(data, None)


def _page_from_file(args, config: Config) -> Page:
    html = read_page_file(args.path, config)
    return Page(html=html, url=args.url, fetched_at=datetime.now(timezone.utc))


# ---------------------------------------------------------------- commands


def _record_of_file(args, config: Config) -> dict:
    """One saved page through the pipeline, in a worker process: trafilatura has no time
    limit of its own, the worker has ``extract_timeout``."""
    from .workers import WorkerPool

    page = _page_from_file(args, config)
    s = config.settings
    with WorkerPool(size=1, timeout=s.extract_timeout, outlets=config.outlets, max_html=s.max_extract_bytes) as pool:
        record = pool.run(page)
    if args.resolve_source or s.resolve_source:
        record = _resolve(record, config)
    return record


def cmd_clean(args, config: Config) -> int:
    record = _record_of_file(args, config)
    print(json.dumps(record, ensure_ascii=False, indent=2 if args.pretty else None))
    return EXIT_OK


def cmd_attribute(args, config: Config) -> int:
    record = _record_of_file(args, config)
    out = {"url": record["url"], "aggregator": record["aggregator"], "source": record["source"]}
    print(json.dumps(out, ensure_ascii=False, indent=2 if args.pretty or sys.stdout.isatty() else None))
    return EXIT_OK


def _resolve(record: dict, config: Config) -> dict:
    from .resolve import resolve_source

    return resolve_source(record, config)


def cmd_fetch(args, config: Config) -> int:
    from .runner import fetch_urls

    out_dir = Path(args.output) if args.output else None
    code, summary = fetch_urls(args.urls, config, out_dir=out_dir, resolve=args.resolve_source)
    _closing_line(args, summary, "fetch")
    return code


def _closing_line(args, summary, what: str) -> None:
    """The one-line summary on stderr (not with -q); -v adds one line per failure."""
    if args.quiet:
        return
    log.warning("%s", summary.line(what))
    for failure in summary.failures:
        log.info("  failed: %s", failure)


def cmd_poll(args, config: Config) -> int:
    from dataclasses import replace

    from .lock import Locked, run_lock
    from .runner import poll

    if args.resolve_source:
        config = replace(config, settings=replace(config.settings, resolve_source=True))
    if not config.feeds:
        where = config.path or args.config
        raise InputError(f"no [[feeds]] in {where}: nothing to poll (see config.toml for an example)")
    out_dir = Path(args.output) if args.output else None
    try:
        with run_lock(config.settings.state_path):
            code, summary = poll(config, out_dir=out_dir, jsonl=args.jsonl)
    except Locked as exc:
        log.warning("poll: another poll holds the lock %s; nothing done", exc)
        return EXIT_LOCKED
    _closing_line(args, summary, "poll")
    return code


def cmd_feeds(args, config: Config) -> int:
    from .store import Store

    store = Store(config.settings.state_path)
    try:
        states = {s.url: s for s in store.feeds()}
    finally:
        store.close()
    rows = []
    for feed in config.feeds:
        st = states.get(feed.url)
        rows.append({
            "url": feed.url,
            "name": feed.name,
            "status": st.status if st else "never polled",
            "last_poll": _iso(st.last_poll) if st else None,
            "last_success": _iso(st.last_success) if st else None,
            "next_due": _iso(st.next_due) if st and st.next_due else "now",
            "errors": st.error_count if st else 0,
            "last_error": st.last_error if st else None,
            "records": st.records if st else 0,
        })  # fmt: skip
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(format_feeds_table(rows))
    return EXIT_OK


def _iso(ts: float | None) -> str | None:
    if not ts:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _short_error(message: str | None) -> str:
    """The row names the feed already: drop the trailing [url] and keep it short."""
    text = re.sub(r"\s*\[[^\]]*\]$", "", message or "")
    return text if len(text) <= 70 else text[:69] + "…"


def format_feeds_table(rows: list[dict]) -> str:
    head = ("FEED", "STATUS", "LAST POLL", "NEXT DUE", "ERR", "RECORDS", "LAST ERROR")
    lines = [head]
    for r in rows:
        lines.append((
            r["name"] or r["url"], r["status"], r["last_poll"] or "-", r["next_due"] or "-",
            str(r["errors"]), str(r["records"]), _short_error(r["last_error"]),
        ))  # fmt: skip
    widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)) + "  " + line[-1] for line in lines)


def cmd_discover(args, config: Config) -> int:
    import asyncio

    from .feeds import discover_feeds
    from .fetch import Fetcher

    async def run():
        async with Fetcher(config.settings) as fetcher:
            return await fetcher.get(args.url)

    resp = asyncio.run(run())
    found = discover_feeds(resp.text(), url=resp.url)
    for feed in found:
        print(f"{feed.url}\t{feed.type}\t{feed.title or ''}")
    if not found:
        log.warning("discover: no feed found on %s", resp.url)
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_demo(args, config: Config) -> int:
    from .demo import run_demo

    return run_demo(Path(args.output), jsonl=args.jsonl, quiet=args.quiet)


HANDLERS = {
    "clean": cmd_clean,
    "attribute": cmd_attribute,
    "fetch": cmd_fetch,
    "poll": cmd_poll,
    "feeds": cmd_feeds,
    "discover": cmd_discover,
    "demo": cmd_demo,
}


# commands that fetch and extract many pages from threads: their process gets malloc tuning
LONG_RUNNING = frozenset({"poll", "fetch", "demo"})


def main(argv: list[str] | None = None) -> int:
    from .report import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config, must_exist=args.config != "config.toml")
    except ConfigError as exc:
        setup_logging(quiet=False, verbose=0)
        log.error("%s", exc)
        return EXIT_USAGE
    setup_logging(quiet=args.quiet, verbose=args.verbose,
                  fmt=args.log_format or config.settings.log_format)
    if args.command in LONG_RUNNING:
        from .memory import tune_malloc

        tune_malloc()  # before any thread starts (see memory.py)
    try:
        return HANDLERS[args.command](args, config)
    except HarvesterError as exc:
        return _report(exc, args)
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130


def _report(exc: HarvesterError, args) -> int:
    """One line on stderr naming the input; a traceback only with -vv."""
    path = getattr(args, "path", None)
    if exc.target is None and path and path not in exc.message:
        exc.target = "stdin" if path == "-" else path
    if args.verbose > 1:
        log.exception("%s", exc)
    else:
        log.error("%s", exc)
    if isinstance(exc, (InputError, ConfigError)) or args.command in ("clean", "attribute"):
        return EXIT_USAGE
    return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
