"""Reliability cases 21-23, 25-26 of shared/research/reliability.md: extract and emit.

(Fetch cases 1-13 and 16-17 live in test_fetch.py / test_robots.py, parse cases 14-20 in
test_feeds.py, cron cases 24 and the SIGKILL rerun in test_poll.py, 27 in test_faults.py.)
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from harvester.errors import ExtractionTimeout, StoreError
from harvester.models import FeedEntry, Page
from harvester.output import TEMP_PREFIX, record_path, remove_stale_temps, write_record
from harvester.pipeline import process, process_summary
from harvester.record import validate_record
from harvester.workers import WorkerPool

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=timezone.utc)
GOOD = """<html lang="en"><head><title>Harbour reopens</title></head><body><article>
<h1>Harbour reopens</h1><p>The old harbour reopened on Monday after two years of repairs to its walls.</p>
<p>Fishermen who had moved their boats to the next town said they were glad to be home.</p></article></body></html>"""


def _pathological(kind: str) -> str:
    if kind == "nested":
        return "<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000 + "</body></html>"
    if kind == "tables":
        cell = "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>"
        return "<html><body><article><p>Tables follow.</p>" + cell * 30_000 + "</article></body></html>"
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["nested", "tables"])
def test_case21_pathological_html_hits_the_hard_timeout_and_the_worker_recovers(kind):
    with WorkerPool(size=1, timeout=1.5) as pool:
        with pytest.raises(ExtractionTimeout) as err:
            pool.run(Page(html=_pathological(kind), url="https://e.example/bad", fetched_at=NOW))
        assert err.value.kind == "timeout" and err.value.stage == "extract"
        # the killed worker was replaced: the next page goes through
        record = pool.run(Page(html=GOOD, url="https://e.example/good", fetched_at=NOW))
        assert record["title"] == "Harbour reopens"


def test_workers_are_replaced_after_max_pages_and_pages_keep_flowing():
    """Memory stays flat over long polls: a worker serves max_pages pages, then a fresh one
    takes its place (the same records come back)."""
    with WorkerPool(size=1, timeout=30, max_pages=2) as pool:
        pids, titles = [], []
        for i in range(5):
            pids.append(pool._all[0].process.pid)
            titles.append(pool.run(Page(html=GOOD, url=f"https://e.example/{i}", fetched_at=NOW))["title"])
        assert titles == ["Harbour reopens"] * 5
        assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]
        assert len(pool._all) == 1 and pool._all[0].process.is_alive()


def test_case21_huge_flat_page_is_cut_before_extraction_and_says_so():
    filler = "<p>" + "filler words here " * 40 + "</p>\n"
    html = GOOD.replace("</article>", "</article><aside>" + filler * 30_000 + "</aside>")
    assert len(html) > 20_000_000
    record = process(Page(html=html, url="https://e.example/huge", fetched_at=NOW), max_html=200_000).record
    assert [w["code"] for w in record["warnings"]] == ["input_truncated"]
    assert record["title"] == "Harbour reopens"


def test_case21_timeout_keeps_the_entry_with_its_feed_summary():
    entry = FeedEntry(
        feed_url="https://e.example/feed.xml",
        entry_id="tag:e.example,2026:1",
        link="https://e.example/bad",
        title="Harbour reopens after repairs",
        summary="The old harbour reopened on Monday after two years of repairs to its stone walls.",
        published="2026-11-27T06:00:00Z",
    )
    record = process_summary(entry, "https://e.example/bad", NOW, "timeout: extraction took longer than 10s")
    assert validate_record(record) == []
    assert record["text"] == entry.summary
    assert record["feed"] == {"url": entry.feed_url, "entry_id": entry.entry_id}
    assert record["warnings"][0]["code"] == "extraction_error"
    assert record["warnings"][0]["detail"].startswith("timeout")


def test_case23_exception_between_write_and_rename_keeps_previous_file(tmp_path, monkeypatch):
    record = process(Page(html=GOOD, url="https://e.example/good", fetched_at=NOW)).record
    path = write_record(record, tmp_path)
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    changed = dict(record, title="Changed")
    with pytest.raises(StoreError) as err:
        write_record(changed, tmp_path)
    assert "No space left" in str(err.value)
    assert path.read_bytes() == before
    assert json.loads(before)["title"] == "Harbour reopens"
    assert list(tmp_path.iterdir()) == [path], "no temp file is left behind"


def test_case23_stale_temp_files_from_a_killed_run_are_removed(tmp_path):
    (tmp_path / f"{TEMP_PREFIX}abc.json").write_text('{"partial": ')
    keep = tmp_path / ("0" * 32 + ".json")
    keep.write_text("{}")
    assert remove_stale_temps(tmp_path) == 1
    assert list(tmp_path.iterdir()) == [keep]


@pytest.mark.parametrize("url", ["https://e.example/../../x", "https://e.example/CON", "https://e.example/" + "a" * 300,
                                 "https://e.example/nul\x00byte"])  # fmt: skip
def test_case25_hostile_urls_and_titles_never_reach_the_file_name(tmp_path, url):
    html = GOOD.replace("<title>Harbour reopens</title>", "<title>../../etc/passwd CON \x00 " + "x" * 300 + "</title>")
    record = process(Page(html=html, url=url, fetched_at=NOW)).record
    path = write_record(record, tmp_path)
    assert path.parent == tmp_path
    assert path.name == record["id"] + ".json" and len(path.name) == 37
    assert json.loads(path.read_text(encoding="utf-8"))["id"] == record["id"]
    assert "\x00" not in path.read_text(encoding="utf-8")


def test_case25_record_path_refuses_anything_but_a_hash(tmp_path):
    for bad in ("../x", "CON", "a" * 32 + "/..", ""):
        with pytest.raises(StoreError):
            record_path(tmp_path, bad)


def test_case26_disk_full_is_a_clear_store_error(tmp_path, monkeypatch):
    record = process(Page(html=GOOD, url="https://e.example/good", fetched_at=NOW)).record

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("harvester.output.tempfile.mkstemp", full)
    with pytest.raises(StoreError) as err:
        write_record(record, tmp_path / "out")
    assert err.value.stage == "store"
    assert "No space left on device" in str(err.value)
    assert str(tmp_path / "out") in str(err.value)


def test_case17_output_round_trips_through_json(tmp_path):
    html = GOOD.replace("two years", "two\x00 years \udcff\x07").replace("Harbour reopens</h1>", "Harbour\x0b reopens</h1>")
    record = process(Page(html=html, url="https://e.example/nul", fetched_at=NOW)).record
    data = json.dumps(record, ensure_ascii=False).encode("utf-8")  # raises on lone surrogates
    back = json.loads(data)
    assert "\x00" not in back["text"] and "\x07" not in back["text"]
    assert "two years" in back["text"]
