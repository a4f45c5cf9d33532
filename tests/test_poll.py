"""Integration tests of ``harvester poll`` against a real HTTP server on 127.0.0.1.

The server (harvester.testserver.FixtureServer) serves fixtures/site: five feeds (Atom,
RSS 2.0, RDF, JSON Feed 1.1, an HTML listing), the article pages they link to and a
robots.txt, and it records every request. Nothing here talks to anything but 127.0.0.1.

The fixture site's config (fixtures/site/config.toml) polls with one request per host at a
time and one extraction worker, so a run's order (and so which copy of the duplicated
story is kept) is deterministic; the per-host test raises the cap to 2.

Golden records live in fixtures/site/expected/ (see tests/regen_site_golden.py); records
are compared in their port-free canonical form (see tests/fixture_site.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fixture_site import SITE, canonical, comparable, live_id, load_golden, read_records

from harvester import fetch
from harvester.config import load_config
from harvester.demo import run_demo, write_site_config
from harvester.lock import run_lock
from harvester.output import TEMP_PREFIX
from harvester.runner import poll
from harvester.store import Store
from harvester.testserver import FixtureServer

ROOT = Path(__file__).resolve().parent.parent
FEEDS = {  # the fixture site's feeds, by the path the server sees
    "/feeds/theregister.atom",
    "/feeds/zephyrnet.xml",
    "/feeds/lemonde-pixels.rdf",
    "/feeds/patch-digest.json",
    "/feeds/lesechos-latest.html",
}
PRIVATE = "/private/drafts/quarterly-results-preview/"
STORY = "Microsoft to pour €3.2B into German AI datacenters"
ORIGINAL = "/pages/theregister/2024/02/15/microsoft_germany_ai_datacenters/"
COPY = "/pages/zephyrnet/microsoft-to-pour-e3-2b-into-german-ai-datacenters/"
T0 = 1_700_000_000.0  # a fixed "now" for the tests that move the clock


@pytest.fixture
def server():
    with FixtureServer(SITE) as srv:
        yield srv


def make_config(srv: FixtureServer, tmp_path: Path, *, feeds: list[str] | None = None, **settings) -> Path:
    return write_site_config(tmp_path / "config.toml", srv.base_url, output_dir=tmp_path / "out",
                             state_path=tmp_path / "state.db", feeds=feeds, **settings)  # fmt: skip


def run_poll(config_path: Path, *, clock=time.time):
    """What ``harvester poll -c CONFIG`` does, in this process: the lock, then one poll."""
    config = load_config(config_path, must_exist=True)
    with run_lock(config.settings.state_path):
        return poll(config, out_dir=None, clock=clock)


def feed_state(tmp_path: Path, srv: FixtureServer, path: str):
    store = Store(tmp_path / "state.db")
    try:
        return store.feed(srv.url(path))
    finally:
        store.close()


def assert_golden(out: Path, base_url: str) -> None:
    """OUT holds exactly the golden records: same file names, nothing else, same content."""
    golden = load_golden()
    assert golden, "fixtures/site/expected/ is empty: run tests/regen_site_golden.py"
    assert sorted(os.listdir(out)) == sorted(f"{live_id(g, base_url)}.json" for g in golden.values())
    for name, record in read_records(out).items():
        assert record["id"] == name
        assert record["fetched_at"].endswith("Z")
        got = canonical(record, base_url)
        want = golden[got["id"]]
        assert set(got) == set(want)
        for key in want:  # one field at a time: a failure names the field
            assert comparable(got)[key] == comparable(want)[key], f"{got['url']}: {key}"


def robots_failure_only(summary) -> bool:
    """The /private/ item is refused by robots.txt: obeyed and noted, not a failure."""
    return summary.failures == [] and len(summary.disallowed) == 1 and PRIVATE in summary.disallowed[0]


# ---------------------------------------------------------------- the "done when" list


def test_first_poll_writes_golden_records(server, tmp_path):
    code, summary = run_poll(make_config(server, tmp_path))

    assert_golden(tmp_path / "out", server.base_url)
    assert (summary.feeds, summary.new, summary.duplicates) == (5, 9, 1)
    assert robots_failure_only(summary)
    assert code == 0  # the /private/ item refused by robots.txt is not a failure
    assert server.max_concurrency() == 1  # the site config's per_host_concurrency


def test_case11_second_poll_is_all_304_and_writes_nothing(server, tmp_path):
    cfg = make_config(server, tmp_path)
    run_poll(cfg)
    out = tmp_path / "out"
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
    first = {path: server.requests_for(path)[0] for path in FEEDS}
    server.reset_log()

    code, summary = run_poll(cfg)

    assert code == 0
    assert (summary.new, summary.duplicates, summary.unchanged, summary.errors) == (0, 0, 5, 0)
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()} == before
    for path in FEEDS:
        (request,) = server.requests_for(path)
        assert request.status == 304, path
        assert request.headers.get("if-none-match"), path  # the ETag the first answer carried
        assert request.headers.get("if-modified-since"), path
        assert first[path].status == 200 and "if-none-match" not in first[path].headers
    assert not server.requests_for("/pages/")


def test_case10_500_backs_off_and_recovers(server, tmp_path):
    feed = "/feeds/lemonde-pixels.rdf"
    cfg = make_config(server, tmp_path, feeds=[feed])
    server.set_status(feed, [500, 500])  # then healthy again
    dues = []

    code, _ = run_poll(cfg, clock=lambda: T0)
    state = feed_state(tmp_path, server, feed)
    assert code == 3 and (state.status, state.error_count) == ("error", 1)
    dues.append(state.next_due - T0)

    code, summary = run_poll(cfg, clock=lambda: T0 + dues[0] / 2)  # backing off: not asked at all
    assert code == 0 and summary.feeds == 0
    assert len(server.requests_for(feed)) == 1

    now = T0 + dues[0]
    code, _ = run_poll(cfg, clock=lambda: now)
    state = feed_state(tmp_path, server, feed)
    assert code == 3 and (state.status, state.error_count) == ("error", 2)
    dues.append(state.next_due - now)

    now = state.next_due
    code, summary = run_poll(cfg, clock=lambda: now)
    state = feed_state(tmp_path, server, feed)
    assert code == 0 and summary.new == 2
    assert (state.status, state.error_count, state.last_error) == ("ok", 0, None)
    assert state.next_due == now  # interval = 0: due again on the next run

    assert dues == [60, 120]  # growing intervals (base 60 s, doubling)
    assert [r.status for r in server.requests_for(feed)] == [500, 500, 200]
    assert len(os.listdir(tmp_path / "out")) == 2


def test_case09_429_retry_after_is_honoured(server, tmp_path):
    feed = "/feeds/patch-digest.json"
    cfg = make_config(server, tmp_path, feeds=[feed])
    server.set_status(feed, [429])
    server.set_headers(feed, {"Retry-After": "3600"})

    code, _ = run_poll(cfg, clock=lambda: T0)
    state = feed_state(tmp_path, server, feed)
    assert code == 3 and state.error_count == 1
    assert state.next_due == T0 + 3600  # the server's wish, not the 60 s backoff
    server.clear_overrides()

    for wait in (60, 600, 3599):  # asked to wait an hour: nobody knocks before
        code, summary = run_poll(cfg, clock=lambda: T0 + wait)
        assert code == 0 and summary.feeds == 0
    assert len(server.requests_for(feed)) == 1

    code, summary = run_poll(cfg, clock=lambda: T0 + 3600)
    assert code == 0 and summary.new == 2
    assert [r.status for r in server.requests_for(feed)] == [429, 200]


def test_per_host_cap_holds(server, tmp_path):
    cfg = make_config(server, tmp_path, per_host_concurrency=2, workers=2)
    server.set_delay("/pages/", 0.3)  # slow answers, so requests overlap if they can
    server.set_delay("/feeds/", 0.3)

    code, summary = run_poll(cfg)

    assert server.max_concurrency() == 2  # reached, never exceeded
    assert summary.new == 9 and summary.duplicates == 1 and robots_failure_only(summary)
    assert len(os.listdir(tmp_path / "out")) == 9


def test_feeds_in_progress_never_exceed_concurrency(server, tmp_path, monkeypatch):
    """A feed's parsed entries live until its last entry is done: at most `concurrency`
    feeds are in progress at once, so a poll of many feeds does not hold them all."""
    from harvester import runner

    cfg = make_config(server, tmp_path, concurrency=2, per_host_concurrency=2)
    server.set_delay("/feeds/", 0.2)  # slow feeds, so they would overlap if they could
    active = peak = 0
    poll_feed = runner.Poller.poll_feed

    async def counted(self, feed):
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        try:
            await poll_feed(self, feed)
        finally:
            active -= 1

    monkeypatch.setattr(runner.Poller, "poll_feed", counted)
    code, summary = run_poll(cfg)

    assert peak == 2  # reached (five feeds), never exceeded
    assert summary.feeds == 5 and summary.new == 9 and summary.duplicates == 1 and robots_failure_only(summary)
    assert len(os.listdir(tmp_path / "out")) == 9  # which copy of the duplicate is kept varies here


def test_fetching_goes_on_while_a_record_is_written(server, tmp_path, monkeypatch):
    """The record file (two fsyncs) is written off the event loop: while the first record's
    write is held, the poller must still fetch. With one request per host at a time, two
    requests arriving after the write began prove the loop read an answer and sent again."""
    from harvester import runner

    cfg = make_config(server, tmp_path)
    server.set_delay("/pages/", 0.2)  # fetching is the slow part: pages remain to fetch
    emit = runner.Sink.emit
    went_on: list[bool] = []

    def held_emit(self, record):
        if not went_on:  # the first record only
            started = time.monotonic()
            deadline = started + 10
            while time.monotonic() < deadline and sum(r.time > started for r in server.requests) < 2:
                time.sleep(0.01)
            went_on.append(sum(r.time > started for r in server.requests) >= 2)
        emit(self, record)

    monkeypatch.setattr(runner.Sink, "emit", held_emit)
    code, summary = run_poll(cfg)

    assert went_on == [True]
    assert code == 0 and summary.new == 9 and summary.duplicates == 1 and robots_failure_only(summary)
    assert_golden(tmp_path / "out", server.base_url)


def test_case13_robots_disallow_is_obeyed(server, tmp_path):
    cfg = make_config(server, tmp_path, feeds=["zephyrnet.xml"])

    code, summary = run_poll(cfg)

    assert not server.requests_for("/private/")
    assert len(server.requests_for("/robots.txt")) == 1  # read once per run and host
    assert robots_failure_only(summary) and code == 0
    records = read_records(tmp_path / "out").values()
    assert len(records) == 2 and not any("/private/" in r["url"] for r in records)


@pytest.mark.parametrize(
    "feeds, kept",
    [
        (["theregister.atom", "zephyrnet.xml"], ORIGINAL),  # the outlet's feed first
        (["zephyrnet.xml", "theregister.atom"], COPY),  # the aggregator's feed first
    ],
    ids=["outlet-first", "aggregator-first"],
)
def test_case19_story_in_two_feeds_gives_one_record(server, tmp_path, feeds, kept):
    code, summary = run_poll(make_config(server, tmp_path, feeds=feeds))

    records = [r for r in read_records(tmp_path / "out").values() if r["title"] == STORY]
    assert len(records) == 1  # both pages fetched, one record
    assert len(server.requests_for(ORIGINAL)) == 1 and len(server.requests_for(COPY)) == 1
    assert summary.duplicates == 1
    (record,) = records
    assert urlsplit(record["url"]).path == kept  # first seen wins (the run's order is fixed)
    assert record["source"]["name"] == "The Register"


def test_story_in_two_feeds_across_runs_gives_one_record(server, tmp_path):
    """Cron: the aggregator's copy arrives in one run, the outlet's own feed is added later."""
    run_poll(make_config(server, tmp_path, feeds=["zephyrnet.xml"]))
    code, summary = run_poll(make_config(server, tmp_path, feeds=["zephyrnet.xml", "theregister.atom"]))

    records = [r for r in read_records(tmp_path / "out").values() if r["title"] == STORY]
    assert len(records) == 1 and urlsplit(records[0]["url"]).path == COPY
    assert summary.new == 1 and summary.duplicates == 1  # the other Register story; the original


def test_page_that_failed_transiently_is_retried_next_poll(server, tmp_path):
    """A 503 on one article must not be hidden by the feed's 304 on the next run."""
    feed, page = "/feeds/lemonde-pixels.rdf", "/pages/lemonde/pixels/article/2024/03/10/grenoble-centre-de-donnees-piscine.html"
    cfg = make_config(server, tmp_path, feeds=[feed])
    server.set_status(page, [503])

    code, summary = run_poll(cfg)
    assert code == 1 and summary.new == 1
    code, summary = run_poll(cfg)  # the feed is fetched in full again, the page retried
    assert code == 0 and summary.new == 1
    code, summary = run_poll(cfg)  # nothing left to retry: back to 304
    assert code == 0 and summary.unchanged == 1

    assert [r.status for r in server.requests_for(page)] == [503, 200]
    assert [r.status for r in server.requests_for(feed)] == [200, 200, 304]


def test_redirected_feed_remembers_its_entries(server, tmp_path):
    """Entries are kept under the configured URL, so a moved feed's old entries stay seen."""
    cfg = make_config(server, tmp_path, feeds=["lemonde-pixels.rdf"])
    cfg.write_text(cfg.read_text().replace("/feeds/lemonde-pixels.rdf", "/feeds/old/pixels.rdf"))
    server.set_redirect("/feeds/old/pixels.rdf", "/feeds/lemonde-pixels.rdf")

    code, summary = run_poll(cfg)
    assert code == 0 and summary.new == 2
    server.set_changed("/feeds/lemonde-pixels.rdf")  # the feed changes: fetched in full
    code, summary = run_poll(cfg)

    assert code == 0 and (summary.new, summary.duplicates, summary.unchanged) == (0, 0, 0)
    assert len(server.requests_for("/pages/")) == 2  # each page fetched once, in the first run
    records = read_records(tmp_path / "out").values()
    assert {r["feed"]["url"] for r in records} == {server.url("/feeds/old/pixels.rdf")}


def test_case24_overlapping_poll_exits_75(server, tmp_path):
    cfg = make_config(server, tmp_path)
    with run_lock(tmp_path / "state.db"):  # a poll is running
        proc = subprocess.run([sys.executable, "-m", "harvester.cli", "poll", "-c", str(cfg)],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 75, proc.stderr
    assert "lock" in proc.stderr and proc.stdout == ""
    assert server.requests == []  # nothing was done
    assert not (tmp_path / "out").exists()


def test_case23_sigkill_then_rerun_yields_golden_set(server, tmp_path):
    cfg = make_config(server, tmp_path)
    out = tmp_path / "out"
    server.set_delay("/pages/", 0.4)  # about 4 s of pages: time to be killed mid-run
    command = [sys.executable, "-m", "harvester.cli", "poll", "-c", str(cfg), "-q"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(list(out.glob("*.json"))) < 2:  # some records written, others not yet
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the poll wrote no records in 60 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()  # no-op when it is dead already
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    written = len(list(out.glob("*.json")))
    assert 2 <= written < len(load_golden())  # killed partway

    server.clear_overrides()
    rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert rerun.returncode == 0, rerun.stderr
    assert not [n for n in os.listdir(out) if n.startswith(TEMP_PREFIX) or not n.endswith(".json")]
    assert_golden(out, server.base_url)  # exactly the golden set: nothing missing, no duplicate
    assert not server.requests_for("/private/")


def test_demo_runs_offline(tmp_path, capsys, monkeypatch):
    out = tmp_path / "demo-articles"
    dialled = []  # every address the fetcher connects to
    connect = fetch.PinnedBackend.connect_tcp

    async def spy(self, host, port, *args, **kwargs):
        dialled.append(host)
        return await connect(self, host, port, *args, **kwargs)

    monkeypatch.setattr(fetch.PinnedBackend, "connect_tcp", spy)

    code = run_demo(out, jsonl=False, quiet=True)

    assert dialled and set(dialled) == {"127.0.0.1"}
    assert code == 0  # the /private/ page refused by robots.txt is obeyed, not an error
    assert capsys.readouterr().out == ""  # stdout carries records only (none without --jsonl)
    records = read_records(out)
    assert len(records) == 9
    bases = {"http://" + urlsplit(r["url"]).netloc for r in records.values()}
    assert len(bases) == 1 and urlsplit(bases.pop() + "/").hostname == "127.0.0.1"
    base = "http://" + urlsplit(next(iter(records.values()))["url"]).netloc
    golden = load_golden()
    for record in records.values():
        got = canonical(record, base)
        assert comparable(got) == comparable(golden[got["id"]])


def test_demo_jsonl_streams_the_records(tmp_path, capsys):
    code = run_demo(tmp_path / "out", jsonl=True, quiet=False)

    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 0 and len(lines) == 9
    assert {r["id"] for r in lines} == {p.stem for p in (tmp_path / "out").glob("*.json")}
    assert "harvester demo" in captured.err and "127.0.0.1" in captured.err


def test_case26_sigterm_finishes_in_flight_saves_state_and_exits_partial(server, tmp_path):
    cfg = make_config(server, tmp_path, concurrency=2)  # two entries in flight at a time
    out = tmp_path / "out"
    server.set_delay("/pages/", 0.4)
    command = [sys.executable, "-m", "harvester.cli", "poll", "-c", str(cfg)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(out.glob("*.json"))) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the poll wrote no records in 60 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1, err  # partial: stopped early
    assert "stop requested" in err and "left for the next run" in err
    assert "Traceback" not in err
    written = sorted(out.glob("*.json"))
    assert 2 <= len(written) < len(load_golden())
    for path in written:  # every file complete
        json.loads(path.read_text(encoding="utf-8"))
    assert not [n for n in os.listdir(out) if n.startswith(TEMP_PREFIX)]

    server.clear_overrides()
    rerun = subprocess.run(command + ["-q"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert_golden(out, server.base_url)


def test_case10_feeds_command_shows_the_failing_feed(server, tmp_path, capsys):
    from harvester.cli import main

    cfg = make_config(server, tmp_path, feeds=["/feeds/theregister.atom", "/feeds/zephyrnet.xml"])
    server.set_status("/feeds/zephyrnet.xml", [500, 500, 500])
    code, _ = run_poll(cfg)
    assert code == 1
    assert main(["feeds", "-c", str(cfg)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["FEED", "STATUS", "LAST"]
    failing = next(line for line in table if line.startswith("Zephyrnet"))
    assert " error " in failing and "HTTP 500" in failing
    healthy = next(line for line in table if line.startswith("The Register"))
    assert " ok " in healthy
    assert main(["feeds", "-c", str(cfg), "--json"]) == 0
    rows = {r["url"]: r for r in json.loads(capsys.readouterr().out)}
    bad = rows[server.url("/feeds/zephyrnet.xml")]
    assert bad["status"] == "error" and bad["errors"] == 1 and "500" in bad["last_error"]
