#!/usr/bin/env python3
"""Attribution accuracy over the labelled fixture pages (fixtures/pages/*.json).

Each fixture is run through the pipeline exactly as tests/test_fixtures.py runs it
(its "url", its feed "entry" if any, a fixed fetch time, the built-in rules and outlet
registry), and its
record's ``source`` name / domain / url and ``aggregator`` are compared exactly with
the fixture's ``expect``. A field is counted only for fixtures whose ``expect`` has it
(``source.name``, ``source.domain``, ``source.url``, ``aggregator``). A fixture that
cannot be run (no .html beside the .json, unreadable JSON, the pipeline raised) is a
miss on every field it expects.

    python bench/attribution.py [--fixtures DIR] [--json OUT]

Exit status: 0 every counted field right; 1 some miss, or some fixture could not be
run; 2 no labelled fixture found.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from harvester.fetch import decode_html
from harvester.models import FeedEntry, Page
from harvester.pipeline import Knowledge, process

PAGES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
FETCHED_AT = datetime(2026, 11, 27, tzinfo=timezone.utc)  # as tests/test_fixtures.py
SOURCE_FIELDS = ("name", "domain", "url")
FIELDS = ("source.name", "source.domain", "source.url", "aggregator")


def expected_fields(expect: dict) -> dict[str, object]:
    """The attribution fields this fixture labels, by their dotted name."""
    out: dict[str, object] = {}
    source = expect.get("source")
    if isinstance(source, dict):
        for key in SOURCE_FIELDS:
            if key in source:
                out[f"source.{key}"] = source[key]
    if "aggregator" in expect:
        out["aggregator"] = expect["aggregator"]
    return out


def actual_fields(record: dict) -> dict[str, object]:
    source = record.get("source") or {}
    out: dict[str, object] = {f"source.{key}": source.get(key) for key in SOURCE_FIELDS}
    out["aggregator"] = record.get("aggregator")
    return out


def feed_entry(data: dict | None) -> FeedEntry | None:
    """The feed item the page was reached from, as the fixture records it."""
    if not data:
        return None
    return FeedEntry(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def run_fixture(spec_path: Path, knowledge: Knowledge) -> tuple[dict, dict | None, str | None]:
    """(expected fields, record or None, error or None) for one fixture."""
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, None, f"unreadable fixture: {exc}"
    expect = expected_fields(spec.get("expect") or {})
    html_path = spec_path.with_suffix(".html")
    if not html_path.is_file():
        return expect, None, f"no {html_path.name} beside the fixture"
    try:
        page = Page(html=decode_html(html_path.read_bytes(), None), url=spec.get("url"),
                    entry=feed_entry(spec.get("entry")), fetched_at=FETCHED_AT)  # fmt: skip
        return expect, process(page, knowledge).record, None
    except Exception as exc:  # noqa: BLE001 - a crash is a miss, reported with its cause
        return expect, None, f"{type(exc).__name__}: {exc}"


def score_fixtures(pages_dir: Path = PAGES_DIR, knowledge: Knowledge | None = None) -> dict:
    """Accuracy per field over every labelled fixture, and every miss.

    Returns ``{"fixtures", "total", "correct", "accuracy", "misses", "errors"}``;
    ``accuracy[field]`` is None when no fixture labels that field.
    """
    knowledge = knowledge or Knowledge.load()
    specs = sorted(pages_dir.glob("*.json"))
    total = dict.fromkeys(FIELDS, 0)
    correct = dict.fromkeys(FIELDS, 0)
    misses: list[dict] = []
    errors: list[dict] = []
    for spec_path in specs:
        expect, record, error = run_fixture(spec_path, knowledge)
        if error:
            errors.append({"fixture": spec_path.stem, "error": error})
        got = actual_fields(record) if record is not None else dict.fromkeys(FIELDS, f"<{error}>")
        for field, want in expect.items():
            total[field] += 1
            if record is not None and got[field] == want:
                correct[field] += 1
            else:
                misses.append({"fixture": spec_path.stem, "field": field, "expected": want, "got": got[field]})
    return {
        "fixtures": len(specs),
        "total": total,
        "correct": correct,
        "accuracy": {f: (correct[f] / total[f] if total[f] else None) for f in FIELDS},
        "misses": misses,
        "errors": errors,
    }


def print_report(scores: dict, pages_dir: Path) -> None:
    print(f"{scores['fixtures']} fixtures in {pages_dir}\n")
    header = f"{'field':<14} | {'correct':>7} | {'counted':>7} | {'accuracy':>8}"
    print(header)
    print("-" * len(header))
    for field in FIELDS:
        acc = scores["accuracy"][field]
        shown = "n/a" if acc is None else f"{acc:.3f}"
        print(f"{field:<14} | {scores['correct'][field]:>7} | {scores['total'][field]:>7} | {shown:>8}")
    if scores["errors"]:
        print(f"\n{len(scores['errors'])} fixtures could not be run:")
        for err in scores["errors"]:
            print(f"  {err['fixture']}: {err['error']}")
    if scores["misses"]:
        print(f"\n{len(scores['misses'])} misses (fixture, field, expected, got):")
        for miss in scores["misses"]:
            want = json.dumps(miss["expected"], ensure_ascii=False)
            got = json.dumps(miss["got"], ensure_ascii=False)
            print(f"  {miss['fixture']}  {miss['field']}  expected {want}  got {got}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=PAGES_DIR, help=f"fixture pages directory (default {PAGES_DIR})")
    parser.add_argument("--json", type=Path, metavar="OUT", help="save the scores and misses as JSON")
    args = parser.parse_args(argv)
    scores = score_fixtures(args.fixtures)
    print_report(scores, args.fixtures)
    if args.json:
        args.json.write_text(json.dumps(scores, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not any(scores["total"].values()):
        print("\nno labelled fixture found: nothing was scored", file=sys.stderr)
        return 2
    return 1 if scores["misses"] or scores["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
