#!/usr/bin/env python3
"""Pages per second: harvester's full clean pipeline against bare trafilatura, 1 core and all cores.

Over the same article-extraction-benchmark pages, in one run:

* harvester, 1 core: ``process(page)`` (extract + clean + attribute + record) in this process;
* harvester, N cores: ``harvester.workers.WorkerPool(size=N)`` (forkserver workers, the
  production path), pages submitted from 2N threads, as the poller does;
* trafilatura, 1 core: ``trafilatura.extract(html, include_comments=False)`` in this process;
* trafilatura, N cores: the same call in a ``multiprocessing`` pool of N processes
  (forkserver, one page per task).

N is the number of cores this process may use. Every configuration is warmed up first;
then the four run in turn, ``--repeat`` times, and each keeps its best (shortest) pass:
wall time by ``time.perf_counter`` around the whole set of pages. Other work on the
machine slows every figure, so the load average is printed with them.

    python bench/throughput.py [--quick] [--repeat R] [--workers N] [--data DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import trafilatura

from aeb import DEFAULT_DATA, cpu_model, load_pages

from harvester.errors import HarvesterError
from harvester.models import Page
from harvester.pipeline import Knowledge, process
from harvester.workers import WorkerPool, cpu_count

FETCHED_AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
WORKER_TIMEOUT = 60.0  # seconds; generous, so that no page is killed and every pass does the same work


def load1() -> float:
    return os.getloadavg()[0]


def machine() -> dict:
    return {
        "nproc": cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "trafilatura": trafilatura.__version__,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "load_at_start": load1(),
    }


# --- the four configurations: each runs the whole page set and returns its failure count ---


def trafilatura_one(html: str) -> int:
    return len(trafilatura.extract(html, include_comments=False) or "")


def harvester_serial(pages: list[Page], knowledge: Knowledge) -> int:
    failures = 0
    for page in pages:
        try:
            process(page, knowledge)
        except HarvesterError:
            failures += 1
    return failures


def harvester_pool(pages: list[Page], pool: WorkerPool, threads: int) -> int:
    def failed(page: Page) -> bool:
        try:
            pool.run(page)
        except HarvesterError:
            return True
        return False

    with ThreadPoolExecutor(max_workers=threads) as executor:
        return sum(executor.map(failed, pages))


def trafilatura_serial(htmls: list[str]) -> int:
    for html in htmls:
        trafilatura_one(html)
    return 0


def trafilatura_pool(htmls: list[str], pool) -> int:
    for _ in pool.imap_unordered(trafilatura_one, htmls, chunksize=1):
        pass
    return 0


def best_of(runs: dict[str, Callable[[], int]], repeat: int, n: int) -> dict[str, dict]:
    """Run each configuration ``repeat`` times, interleaved; keep each one's fastest pass."""
    results: dict[str, dict] = {}
    for attempt in range(1, repeat + 1):
        for name, fn in runs.items():
            start = time.perf_counter()
            failures = fn()
            seconds = time.perf_counter() - start
            print(f"  pass {attempt}: {name:<22} {n / seconds:7.2f} docs/s  ({seconds:.2f} s)", file=sys.stderr)
            if name not in results or seconds < results[name]["seconds"]:
                results[name] = {"seconds": seconds, "docs_per_s": n / seconds, "failures": failures}
    return results


def print_report(info: dict, n: int, quick: bool, size: int, repeat: int, results: dict, ratios: dict) -> None:
    print(f"machine: nproc {info['nproc']}, CPU {info['cpu']}, Python {info['python']}, "
          f"trafilatura {info['trafilatura']}, {info['date']}")  # fmt: skip
    print(f"load average (1 min): {info['load_at_start']:.2f} at start, {info['load_at_end']:.2f} at end")
    print(f"{n} pages{' (--quick)' if quick else ''}, pool size {size}, best of {repeat} passes\n")
    header = f"{'configuration':<22} | {'docs/s':>8} | {'seconds':>8} | {'failures':>8}"
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        print(f"{name:<22} | {r['docs_per_s']:>8.2f} | {r['seconds']:>8.2f} | {r['failures']:>8}")
    print()
    for name, value in ratios.items():
        print(f"{name:<38} {value:5.2f}")
    if any(r["failures"] for r in results.values()):
        print("\nfailures: pages on which harvester raised (they did the work, and count as processed)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the first 30 pages by sorted id")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per configuration; the best counts (default 3)")
    parser.add_argument("--workers", type=int, default=0, help="pool size (default: one per core)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"benchmark data directory (default {DEFAULT_DATA})")
    parser.add_argument("--json", type=Path, metavar="OUT", help="save the figures as JSON")
    args = parser.parse_args(argv)

    info = machine()
    size = args.workers or info["nproc"]
    bench_pages = load_pages(args.data, quick=args.quick)
    htmls = [p.html() for p in bench_pages]
    pages = [Page(html=h, url=p.url or None, fetched_at=FETCHED_AT) for h, p in zip(htmls, bench_pages)]
    n = len(pages)
    print(f"{n} pages ({sum(map(len, htmls)) / 1e6:.1f} MB of HTML), pool size {size}", file=sys.stderr)

    knowledge = Knowledge.load()
    # WorkerPool first: it starts this process's forkserver with its preload, which the
    # multiprocessing pool then shares.
    with WorkerPool(size=size, timeout=WORKER_TIMEOUT) as workers, \
            multiprocessing.get_context("forkserver").Pool(size) as mp_pool:  # fmt: skip
        runs = {
            "trafilatura 1 core": lambda: trafilatura_serial(htmls),
            "harvester 1 core": lambda: harvester_serial(pages, knowledge),
            f"trafilatura {size} cores": lambda: trafilatura_pool(htmls, mp_pool),
            f"harvester {size} cores": lambda: harvester_pool(pages, workers, 2 * size),
        }
        warm = min(n, 2 * size)  # every worker process sees at least one page
        trafilatura_serial(htmls[:warm])
        harvester_serial(pages[:warm], knowledge)
        trafilatura_pool(htmls[:warm], mp_pool)
        harvester_pool(pages[:warm], workers, 2 * size)
        results = best_of(runs, max(1, args.repeat), n)
    info["load_at_end"] = load1()

    t1, h1 = results["trafilatura 1 core"], results["harvester 1 core"]
    tn, hn = results[f"trafilatura {size} cores"], results[f"harvester {size} cores"]
    ratios = {
        "harvester / trafilatura, 1 core": h1["docs_per_s"] / t1["docs_per_s"],
        f"harvester / trafilatura, {size} cores": hn["docs_per_s"] / tn["docs_per_s"],
        f"harvester {size} cores / 1 core": hn["docs_per_s"] / h1["docs_per_s"],
        f"trafilatura {size} cores / 1 core": tn["docs_per_s"] / t1["docs_per_s"],
    }
    print_report(info, n, args.quick, size, max(1, args.repeat), results, ratios)
    if args.json:
        payload = {"machine": info, "pages": n, "quick": args.quick, "pool_size": size,
                   "repeat": args.repeat, "results": results, "ratios": ratios}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
