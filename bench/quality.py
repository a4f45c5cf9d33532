#!/usr/bin/env python3
"""Article-body quality of harvester against bare trafilatura, on article-extraction-benchmark.

For each page, in one run: harvester's record ``text`` (the whole pipeline, given the
page's ground-truth URL), ``trafilatura.extract(html, include_comments=False)`` and the
same with ``fast=True``; each scored against ``articleBody`` with the benchmark's metric
(see ``aeb.py``). A page on which harvester raises scores as an empty prediction and is
listed.

    python bench/quality.py [--quick] [--data DIR] [--json OUT] [--worst N] [--dump DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import trafilatura

from aeb import DEFAULT_DATA, BenchPage, doc_f1, evaluate, load_pages, match_counts, percentile

from harvester.models import Page
from harvester.pipeline import Knowledge, process
from harvester.text import normalize_space

FETCHED_AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
TOOLS = ("harvester", "trafilatura", "trafilatura fast")


@dataclass
class PageRun:
    """What each tool made of one page, and how long it took."""

    page: BenchPage
    texts: dict[str, str | None] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None  # harvester's exception, if it raised
    extracted: str | None = None  # harvester's text before cleaning
    removals: list[tuple[str, str]] = field(default_factory=list)  # (rule, text) cleaning took out


def run_harvester(run: PageRun, html: str, knowledge: Knowledge) -> None:
    start = time.perf_counter()
    try:
        result = process(Page(html=html, url=run.page.url or None, fetched_at=FETCHED_AT), knowledge)
    except Exception as exc:  # noqa: BLE001 - any failure is an empty prediction, listed
        run.seconds["harvester"] = time.perf_counter() - start
        run.texts["harvester"] = None
        run.error = f"{type(exc).__name__}: {exc}"
        return
    run.seconds["harvester"] = time.perf_counter() - start
    run.texts["harvester"] = result.record["text"]
    run.extracted = "\n\n".join(result.extracted.paragraphs)
    run.removals = [(r.rule, r.text) for r in result.cleaned.removals]


def run_trafilatura(run: PageRun, html: str, name: str, **options) -> None:
    start = time.perf_counter()
    try:
        run.texts[name] = trafilatura.extract(html, include_comments=False, **options)
    except Exception as exc:  # noqa: BLE001 - scored as an empty prediction, like harvester's failures
        run.texts[name] = None
        print(f"bench: {name} raised on {run.page.id}: {type(exc).__name__}: {exc}", file=sys.stderr)
    run.seconds[name] = time.perf_counter() - start


def run_page(page: BenchPage, knowledge: Knowledge) -> PageRun:
    html = page.html()
    run = PageRun(page)
    run_harvester(run, html, knowledge)
    run_trafilatura(run, html, "trafilatura")
    run_trafilatura(run, html, "trafilatura fast", fast=True)
    return run


def warm_up(pages: list[BenchPage], knowledge: Knowledge) -> None:
    """First calls load the schema validator, language model and lxml caches: keep them out of the timings."""
    for page in pages[:2]:
        run_page(page, knowledge)


def score(runs: list[PageRun]) -> dict[str, dict]:
    truths = [r.page.truth for r in runs]
    figures = {}
    for tool in TOOLS:
        result = evaluate(truths, [r.texts[tool] for r in runs])
        ms = [r.seconds[tool] * 1000 for r in runs]
        result["median_ms"] = percentile(ms, 50)
        result["p90_ms"] = percentile(ms, 90)
        figures[tool] = result
    return figures


def _fmt(value: float, digits: int = 3) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def print_table(figures: dict[str, dict], n_pages: int) -> None:
    header = f"{'tool':<17} | {'F1':^13} | {'precision':^13} | {'recall':^13} | {'accuracy':^13} | {'median ms/doc':>13} | {'p90 ms/doc':>10}"
    print(f"\n{n_pages} pages; ± = standard deviation over 1000 bootstrap resamples\n")
    print(header)
    print("-" * len(header))
    for tool, m in figures.items():
        cells = [f"{_fmt(m[k])} ± {_fmt(m[k + '_std'])}" for k in ("f1", "precision", "recall", "accuracy")]
        print(f"{tool:<17} | " + " | ".join(cells) + f" | {m['median_ms']:>13.1f} | {m['p90_ms']:>10.1f}")


def print_failures(runs: list[PageRun]) -> None:
    failed = [r for r in runs if r.error]
    print(f"\nharvester failed on {len(failed)} of {len(runs)} pages (scored as empty predictions)")
    for r in failed:
        print(f"  {r.page.id[:12]}  {r.page.url}\n      {r.error}")


def _lines(text: str | None) -> list[str]:
    return [line for line in (normalize_space(x) for x in (text or "").split("\n")) if line]


def _short(text: str, width: int = 160) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def worst(runs: list[PageRun], n: int) -> list[dict]:
    """The pages where harvester's per-document F1 falls furthest below bare trafilatura's."""
    rows = []
    for r in runs:
        f1 = {tool: doc_f1(match_counts(r.page.truth, r.texts[tool])) for tool in TOOLS}
        f1_extracted = doc_f1(match_counts(r.page.truth, r.extracted)) if r.extracted is not None else 0.0
        kept = set(_lines(r.texts["harvester"]))
        missing = [line for line in _lines(r.texts["trafilatura"]) if line not in kept]
        rows.append({
            "id": r.page.id,
            "url": r.page.url,
            "f1_harvester": f1["harvester"],
            "f1_harvester_before_clean": f1_extracted,
            "f1_trafilatura": f1["trafilatura"],
            "loss": f1["trafilatura"] - f1["harvester"],
            "error": r.error,
            "removals": [{"rule": rule, "text": text} for rule, text in r.removals],
            "missing_lines": missing,  # trafilatura lines absent from harvester's text
        })  # fmt: skip
    rows.sort(key=lambda row: row["loss"], reverse=True)
    return [row for row in rows if row["loss"] > 0][:n]


def print_worst(rows: list[dict]) -> None:
    print(f"\n{len(rows)} pages where harvester loses most F1 against trafilatura "
          "(per-page F1: harvester [before cleaning] vs trafilatura)")  # fmt: skip
    for row in rows:
        print(f"\n  {row['id'][:12]}  {row['url']}")
        print(f"    F1 {row['f1_harvester']:.3f} [{row['f1_harvester_before_clean']:.3f}] vs {row['f1_trafilatura']:.3f}"
              f"  (loss {row['loss']:.3f})")  # fmt: skip
        if row["error"]:
            print(f"    error: {row['error']}")
        for rem in row["removals"][:8]:
            print(f"    removed by {rem['rule']}: {_short(rem['text'])!r}")
        if len(row["removals"]) > 8:
            print(f"    ... {len(row['removals']) - 8} more removals")
        for line in row["missing_lines"][:5]:
            print(f"    not in harvester text: {_short(line)!r}")
        if len(row["missing_lines"]) > 5:
            print(f"    ... {len(row['missing_lines']) - 5} more trafilatura lines missing")


def dump_texts(runs: list[PageRun], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for r in runs:
        (out / f"{r.page.id}.truth.txt").write_text(r.page.truth, encoding="utf-8")
        (out / f"{r.page.id}.harvester-extracted.txt").write_text(r.extracted or "", encoding="utf-8")
        for tool in TOOLS:
            (out / f"{r.page.id}.{tool.replace(' ', '-')}.txt").write_text(r.texts[tool] or "", encoding="utf-8")


def to_json(figures: dict[str, dict], runs: list[PageRun], args: argparse.Namespace, rows: list[dict]) -> dict:
    return {
        "benchmark": "scrapinghub/article-extraction-benchmark",
        "data": str(args.data),
        "pages": len(runs),
        "quick": args.quick,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "trafilatura": trafilatura.__version__,
        "tools": {
            tool: {k: v for k, v in m.items() if k != "per_doc"} for tool, m in figures.items()
        },
        "per_page": [
            {
                "id": r.page.id,
                "url": r.page.url,
                "ms": {tool: round(r.seconds[tool] * 1000, 2) for tool in TOOLS},
                "f1": {tool: round(doc_f1(figures[tool]["per_doc"][i]), 4) for tool in TOOLS},
                "error": r.error,
            }
            for i, r in enumerate(runs)
        ],
        "failures": [{"id": r.page.id, "url": r.page.url, "error": r.error} for r in runs if r.error],
        "worst": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the first 30 pages by sorted id")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"benchmark data directory (default {DEFAULT_DATA})")
    parser.add_argument("--json", type=Path, metavar="OUT", help="save the figures (and per-page scores) as JSON")
    parser.add_argument("--worst", type=int, default=0, metavar="N", help="list the N pages where harvester loses most F1 to trafilatura")
    parser.add_argument("--dump", type=Path, metavar="DIR", help="write every page's texts (truth, each tool) to DIR")
    args = parser.parse_args(argv)

    pages = load_pages(args.data, quick=args.quick)
    knowledge = Knowledge.load()
    warm_up(pages, knowledge)
    runs = []
    start = time.perf_counter()
    for i, page in enumerate(pages, 1):
        runs.append(run_page(page, knowledge))
        if i % 20 == 0:
            print(f"  {i}/{len(pages)} pages, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    figures = score(runs)
    print_table(figures, len(runs))
    print_failures(runs)
    rows = worst(runs, args.worst) if args.worst else []
    if rows:
        print_worst(rows)
    if args.dump:
        dump_texts(runs, args.dump)
    if args.json:
        args.json.write_text(json.dumps(to_json(figures, runs, args, worst(runs, args.worst or 10)), indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")  # fmt: skip
    print(f"\ntotal {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
