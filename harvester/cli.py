"""The ``harvester`` command: parses arguments, calls the library, maps errors to exit codes.

Exit status: 0 all done; 1 finished but some items failed; 2 usage, config or input
error; 3 every item failed (nothing was produced); 75 another ``poll`` holds the lock.
"""

from __future__ import annotations

import argparse
import json
import logging
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

exit status: 0 done; 1 some items failed; 2 usage/config/input error;
             3 every item failed; 75 another poll is running (nothing done)
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
    text = decode_html(data, None)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name} is a binary file, not an HTML page")
    return text


def _page_from_file(args, config: Config) -> Page:
    html = read_page_file(args.path, config)
    return Page(html=html, url=args.url, fetched_at=datetime.now(timezone.utc))


# ---------------------------------------------------------------- commands


def _knowledge(config: Config):
    from .pipeline import Knowledge

    return Knowledge.load(config.outlets)


def cmd_clean(args, config: Config) -> int:
    from .pipeline import process
    from .workers import WorkerPool

    page = _page_from_file(args, config)
    s = config.settings
    # the page runs in a worker process: trafilatura has no time limit of its own
    with WorkerPool(size=1, timeout=s.extract_timeout, outlets=config.outlets) as pool:
        record = pool.run(page)
    if args.resolve_source or s.resolve_source:
        record = _resolve(record, config)
    print(json.dumps(record, ensure_ascii=False, indent=2 if args.pretty else None))
    return EXIT_OK


def cmd_attribute(args, config: Config) -> int:
    from .pipeline import process

    page = _page_from_file(args, config)
    result = process(page, _knowledge(config))
    record = result.record
    if args.resolve_source or config.settings.resolve_source:
        record = _resolve(record, config)
    out = {"url": record["url"], "aggregator": record["aggregator"], "source": record["source"]}
    print(json.dumps(out, ensure_ascii=False, indent=2 if args.pretty or sys.stdout.isatty() else None))
    return EXIT_OK


def _resolve(record: dict, config: Config) -> dict:
    from .resolve import resolve_source

    return resolve_source(record, config)


def cmd_fetch(args, config: Config) -> int:
    from .runner import fetch_urls

    out_dir = Path(args.output) if args.output else None
    return fetch_urls(args.urls, config, out_dir=out_dir, resolve=args.resolve_source)


HANDLERS = {"clean": cmd_clean, "attribute": cmd_attribute, "fetch": cmd_fetch}


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
    try:
        return HANDLERS[args.command](args, config)
    except (InputError, ConfigError) as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    except HarvesterError as exc:
        if args.verbose > 1:
            log.exception("%s", exc)
        else:
            log.error("%s", exc)
        return EXIT_USAGE if args.command in ("clean", "attribute") else EXIT_FAILED
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
