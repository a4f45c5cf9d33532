"""The fault-injection run (reliability case 27, and cases 1-14, 18, 21-23 as they show in it).

One poll of 50 feeds on 127.0.0.1 (bench/faults.py builds the site: 30 healthy feeds, 16
that misbehave at the feed level, 4 whose second entry misbehaves at the article level),
then a second poll right after. Only correctness is asserted here; ``python bench/faults.py``
prints the same run's figures (peak RSS of the process tree, slowest item, wall time).

Nothing connects anywhere but 127.0.0.1 (hostile.fence_loopback), and "connection
refused" is a bound loopback port that never listens.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile import fence_loopback

from harvester.config import load_config
from harvester.output import TEMP_PREFIX
from harvester.record import validate_record
from harvester.report import Summary
from harvester.runner import poll
from harvester.store import FeedState, Store
from harvester.urls import normalize_url

ROOT = Path(__file__).resolve().parent.parent


def _bench_faults():
    spec = importlib.util.spec_from_file_location("bench_faults", ROOT / "bench" / "faults.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


faults = _bench_faults()
T0 = 1_900_000_000.0  # the first poll's "now"; the second runs at T0 + 1


@dataclass(repr=False)  # a failing test prints the run's name, not all of it
class Run:
    site: object  # bench.faults.Site
    work: Path
    code: int
    summary: Summary
    records: dict[str, dict]  # file name -> record, after the first poll
    first: dict[str, tuple[int, bytes]]  # out/ after the first poll: name -> (mtime_ns, bytes)
    code2: int
    summary2: Summary
    second: dict[str, tuple[int, bytes]]
    hits2: list  # the server's log of the second poll
    states: dict[str, FeedState | None]  # feed URL -> state after both polls
    log: list[logging.LogRecord]  # harvester's log records of the first poll

    @property
    def out(self) -> Path:
        return self.work / "out"

    def record_for(self, url: str) -> dict | None:
        found = [r for r in self.records.values() if normalize_url(r["url"]) == normalize_url(url)]
        assert len(found) <= 1, f"{len(found)} records for {url}"
        return found[0] if found else None

    def named(self, url: str, failures: list[str] | None = None) -> list[dict]:
        """The summary failures that name URL, parsed."""
        parsed = [faults.parse_failure(f) for f in (self.summary.failures if failures is None else failures)]
        return [p for p in parsed if p and p["url"] == url]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    work = tmp_path_factory.mktemp("faults")
    logger, collect = logging.getLogger("harvester"), _Collect()
    level = logger.level
    with pytest.MonkeyPatch.context() as mp, faults.fault_site() as site:
        fence_loopback(mp)
        config = load_config(faults.write_config(site, work), must_exist=True)
        logger.addHandler(collect)
        logger.setLevel(logging.INFO)
        try:
            code, summary = poll(config, out_dir=None, clock=lambda: T0)
        finally:
            logger.removeHandler(collect)
            logger.setLevel(level)
        out = work / "out"
        records, first = faults.read_outputs(out), faults.snapshot(out)
        mark = len(site.server.log)
        code2, summary2 = poll(config, out_dir=None, clock=lambda: T0 + 1)
        second = faults.snapshot(out)
        store = Store(config.settings.state_path)
        try:
            states = {f.url: store.feed(f.url) for f in site.feeds}
        finally:
            store.close()
        yield Run(site, work, code, summary, records, first, code2, summary2, second, site.server.hits_since(mark),
                  states, collect.records)  # fmt: skip


def _path(run: Run, url: str) -> str:
    return url.replace(run.site.base, "")


# ---------------------------------------------------------------- case 27


def test_case27_fifty_feeds_broken_ones_named_healthy_written(run):
    site, summary = run.site, run.summary
    assert summary.feeds == 50
    missing = [_path(run, u) for u in site.healthy if run.record_for(u) is None]
    assert missing == [], f"healthy articles without a record: {missing}"
    unnamed = [_path(run, u) for u in site.expected_failures if not run.named(u)]
    # redirect-file is named by its redirect target (see test_failure_named_once_with_its_kind)
    assert set(unnamed) <= {_path(run, site.fault_urls["redirect-file"])}, unnamed
    assert len(summary.failures) == len(site.expected_failures), "\n".join(summary.failures)
    assert summary.feeds_ok == 50 - len(site.broken_feeds)
    assert summary.new == len(site.healthy) + len(site.kept)
    assert summary.duplicates == 0
    assert run.code == 1  # partial


def test_case27_exit_code_distinguishes_ok_partial_failed(run, tmp_path):
    site = run.site
    with pytest.MonkeyPatch.context() as mp:
        fence_loopback(mp)
        codes = {}
        for label, feeds in {
            "ok": site.healthy_feeds[-2:],
            "failed": [site.feed("http-500"), site.feed("empty-body"), site.feed("connection-refused")],
        }.items():
            work = tmp_path / label
            work.mkdir()
            config = load_config(faults.write_config(site, work, feeds=feeds, workers=1), must_exist=True)
            codes[label], summary = poll(config, out_dir=None)
            assert summary.feeds == len(feeds)
    assert (codes["ok"], run.code, codes["failed"]) == (0, 1, 3)


@pytest.mark.parametrize(
    "fault",
    [pytest.param(f, id=f.name) for f in faults.FAULTS if f.kind],
)
def test_failure_named_once_with_its_kind(run, fault):
    """Each misbehaving feed or article URL appears in exactly one failure, with its stage and kind."""
    url = run.site.fault_urls[fault.name]
    got = [(f["stage"], f["kind"]) for f in run.named(url)]
    assert got == [(fault.stage, fault.kind)], f"{fault.name} ({fault.what}): {run.summary.failures}"


def test_every_failure_line_has_stage_kind_and_url(run):
    for line in run.summary.failures:
        assert faults.parse_failure(line), line
    healthy = {normalize_url(u) for u in run.site.healthy}
    assert not [f for f in run.summary.failures if normalize_url(faults.parse_failure(f)["url"]) in healthy]


# ---------------------------------------------------------------- what was written


def test_no_record_for_any_broken_item_except_the_extraction_timeout(run):
    site = run.site
    got = {normalize_url(r["url"]) for r in run.records.values()}
    assert got == {normalize_url(u) for u in [*site.healthy, *site.kept]}
    broken_feeds = {f.url for f in site.broken_feeds}
    assert not [r["url"] for r in run.records.values() if r["feed"]["url"] in broken_feeds]


def test_case21_extraction_timeout_keeps_the_entry_from_its_feed_summary(run):
    (url,) = run.site.kept
    record = run.record_for(url)
    assert record is not None
    assert record["title"] == "A harbour reopens after two years of repairs"
    assert record["text"].startswith("The old harbour reopened on Monday")
    assert record["feed"]["url"] == run.site.feed("article-nested-divs").url
    codes = {w["code"]: w["detail"] for w in record["warnings"]}
    assert codes.get("extraction_error", "").startswith("timeout"), record["warnings"]


def test_case14_billion_laughs_feed_is_read_without_expansion(run):
    feed = run.site.feed("billion-laughs")
    state = run.states[feed.url]  # after both polls: 200 then 304
    assert (state.status, state.error_count) == ("not_modified", 0)
    for url in feed.articles:
        assert run.record_for(url) is not None, url
    for name, (_, data) in run.first.items():
        assert b"&lol" not in data and b"lollol" not in data, name


def test_case14_billion_laughs_warning_is_recorded(run):
    feed = run.site.feed("billion-laughs")
    logged = [r.getMessage() for r in run.log if r.levelno >= logging.WARNING and feed.url in r.getMessage()]
    assert any("entit" in message for message in logged), logged
    assert any(feed.url in w and "entit" in w for w in run.summary.warnings)


def test_case23_no_temp_files_and_every_output_file_is_a_valid_record(run):
    names = sorted(p.name for p in run.out.iterdir())
    assert not [n for n in names if n.startswith(TEMP_PREFIX)]
    assert names == sorted(run.records)  # read_outputs parsed each file as JSON
    for name, record in run.records.items():
        assert name == f"{record['id']}.json"
        assert validate_record(record) == [], name


# ---------------------------------------------------------------- backoff and the second poll


def test_case09_retry_after_is_honoured_and_garbage_falls_back_to_the_default(run):
    honoured = run.states[run.site.feed("http-429").url]
    garbage = run.states[run.site.feed("http-503-garbage").url]
    assert honoured.next_due == T0 + 120
    assert garbage.next_due == T0 + 60  # backoff's base: max(interval, 60 s), first error
    assert honoured.error_count == garbage.error_count == 1


def test_case10_broken_feeds_are_backed_off_and_not_polled_again(run):
    asked = {h.path for h in run.hits2}
    kinds = {f.name: f.kind for f in faults.FAULTS}
    for feed in run.site.broken_feeds:
        state = run.states[feed.url]
        assert (state.status, state.error_count, state.error_kind) == ("error", 1, kinds[feed.fault]), feed.fault
        assert state.last_poll == T0 and state.next_due > T0 + 1, feed.fault  # not polled at T0 + 1
        assert _path(run, feed.url) not in asked, feed.fault
    assert run.summary2.feeds == 50 - len(run.site.broken_feeds)


def test_case11_second_poll_healthy_feeds_answer_304_and_nothing_is_rewritten(run):
    answers: dict[str, list[str]] = {}
    for hit in run.hits2:
        answers.setdefault(hit.path, []).append(hit.note)
    for feed in run.site.healthy_feeds:
        assert answers.get(_path(run, feed.url)) == ["304"], feed.url
        assert all(not answers.get(_path(run, a)) for a in feed.articles), feed.url
    assert run.summary2.unchanged >= len(run.site.healthy_feeds)
    assert run.summary2.new == 0
    assert run.second == run.first


def test_case12_previous_output_untouched_when_the_second_poll_has_failures(run):
    # the dripping article failed transiently: its feed keeps no validators, so it is asked again
    drip = run.site.fault_urls["article-drip"]
    assert [(f["stage"], f["kind"]) for f in run.named(drip, run.summary2.failures)] == [("fetch", "timeout")]
    assert run.code2 == 1
    assert run.second == run.first  # same names, same bytes, same mtimes
    assert not [p for p in run.out.iterdir() if p.name.startswith(TEMP_PREFIX)]
