"""The orchestrators: ``fetch`` (a list of URLs) and ``poll`` (every due feed once).

``poll_feed`` reads top to bottom like Miniflux's RefreshFeed: robots -> conditional
GET -> 304? -> parse -> schedule the next check -> process new entries -> store. One
feed failing never stops the others; each failure is logged once with its stage, URL
and kind, and counted in the summary.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from .config import Config, FeedConfig, Settings
from .errors import (
    ConnectFailed,
    DNSFailure,
    ExtractError,
    FetchTimeout,
    HarvesterError,
    HTTPStatus,
    ReadTimeout,
    RobotsDisallowed,
    StoreError,
    TruncatedBody,
)
from .fetch import FEED_ACCEPT, HTML_ACCEPT, Fetcher, Response, html_of
from .models import FeedEntry, Page
from .output import remove_stale_temps, write_jsonl, write_record
from .report import Progress, Summary
from .store import Store, simhash
from .urls import normalize_url
from .workers import WorkerPool, cpu_count

log = logging.getLogger("harvester")
DAY = 86400.0


def _fail(summary: Summary, exc: HarvesterError, what: str) -> None:
    message = f"{exc.stage}: {exc.kind}: {exc.message} [{exc.target or what}]"
    summary.failures.append(message)
    log.warning("%s", message, extra={"stage": exc.stage, "kind": exc.kind, "url": exc.target or what})


@dataclass
class Sink:
    """Where records go: a folder of JSON files, a JSON Lines stream, or both."""

    out_dir: Path | None
    stream: IO[str] | None = None

    def emit(self, record: dict) -> None:
        if self.out_dir is not None:
            write_record(record, self.out_dir)
        if self.stream is not None:
            write_jsonl(record, self.stream)


def make_pool(settings: Settings, config: Config, size: int | None = None) -> WorkerPool:
    return WorkerPool(size=size or settings.workers, timeout=settings.extract_timeout, outlets=config.outlets,
                      max_html=settings.max_extract_bytes)  # fmt: skip


async def fetch_article(fetcher: Fetcher, url: str, settings: Settings) -> tuple[Response, str]:
    """Robots, then the page; returns the response and its HTML (non-HTML is refused)."""
    if settings.robots == "obey" and not await fetcher.robots_allowed(url):
        raise RobotsDisallowed("robots.txt disallows this URL", target=url)
    resp = await fetcher.get(url, accept=HTML_ACCEPT)
    return resp, html_of(resp)


# ---------------------------------------------------------------- fetch URL [URL ...]


async def _fetch_all(urls: list[str], config: Config, sink: Sink, summary: Summary) -> None:
    settings = config.settings
    progress = Progress(len(urls), "pages")
    with make_pool(settings, config, size=min(len(urls), settings.workers or cpu_count())) as pool:
        async with Fetcher(settings) as fetcher:

            async def one(url: str) -> None:
                try:
                    resp, html = await fetch_article(fetcher, url, settings)
                    page = Page(html=html, url=resp.url,
                                fetched_at=datetime.now(timezone.utc))  # fmt: skip
                    record = await asyncio.to_thread(pool.run, page)
                    if settings.resolve_source:
                        from .resolve import resolve_source_async

                        record = await resolve_source_async(record, config, fetcher)
                    sink.emit(record)
                    summary.new += 1
                except HarvesterError as exc:
                    _fail(summary, exc, url)
                finally:
                    progress.advance(url)

            await asyncio.gather(*(one(u) for u in urls))
    progress.close()


def fetch_urls(urls: list[str], config: Config, *, out_dir: Path | None, resolve: bool = False) -> tuple[int, Summary]:
    """Fetch, clean and attribute each URL. Returns (exit code, summary)."""
    if resolve:
        config = replace(config, settings=replace(config.settings, resolve_source=True))
    summary = Summary()
    sink = Sink(out_dir=out_dir, stream=None if out_dir else sys.stdout)
    asyncio.run(_fetch_all(urls, config, sink, summary))
    return exit_code(summary, succeeded=summary.new), summary


def exit_code(summary: Summary, *, succeeded: int) -> int:
    """0 all done; 1 partial (some items failed, or the run stopped early); 3 nothing succeeded."""
    if not summary.errors and not summary.stopped:
        return 0
    return 3 if summary.errors and not succeeded else 1


# ---------------------------------------------------------------- poll


def _forbids_validators(resp: Response) -> bool:
    """Cache-Control: no-store, or Expires: 0 (Miniflux's rule): keep no ETag / Last-Modified.
    max-age=0 with an ETag means the opposite — revalidate every time — so it keeps them."""
    cache_control = resp.headers.get("cache-control", "").lower()
    return "no-store" in cache_control or resp.headers.get("expires", "").strip() == "0"


def next_due(now: float, settings: Settings, feed: FeedConfig, *, hints: list[float | None]) -> float:
    """The next poll: the interval, or later if the server asks (max-age, Expires, <ttl>)."""
    interval = feed.interval if feed.interval is not None else settings.interval
    wanted = max([interval, *(min(h, DAY) for h in hints if h)])
    return now + wanted


def backoff(now: float, settings: Settings, feed: FeedConfig, errors: int, retry_after: float | None) -> float:
    """Exponential backoff after ``errors`` failures in a row, capped; never parked for good."""
    interval = feed.interval if feed.interval is not None else settings.interval
    base = max(interval, 60.0)
    delay = min(settings.max_backoff, base * 2 ** max(0, errors - 1))
    if retry_after is not None:
        delay = max(delay, min(retry_after, DAY))
    return now + delay


def _transient(exc: HarvesterError) -> bool:
    """A page failure that may go away by itself (timeout, 5xx, 429): worth another try."""
    if isinstance(exc, HTTPStatus):
        return exc.status in (408, 425, 429) or exc.status >= 500
    return isinstance(exc, (FetchTimeout, ReadTimeout, ConnectFailed, DNSFailure, TruncatedBody))


@dataclass
class Poller:
    config: Config
    store: Store
    sink: Sink
    fetcher: Fetcher
    pool: WorkerPool
    summary: Summary = field(default_factory=Summary)
    clock: callable = time.time
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # feeds with entries left to retry (transient failure, stopped run): their validators
    # are not kept, or the next poll's 304 would hide those entries until the feed changes
    retry: set[str] = field(default_factory=set)
    slots: asyncio.Semaphore | None = None
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        # entries in flight at once: enough to keep the fetcher's own limits busy
        self.slots = asyncio.Semaphore(self.settings.concurrency)

    @property
    def settings(self) -> Settings:
        return self.config.settings

    def halt(self) -> None:
        """Start no new entry; those in flight finish. The run ends partial (exit 1)."""
        self.summary.stopped = True
        self.stopping.set()

    async def poll_feed(self, feed: FeedConfig) -> None:
        from .feeds import parse_feed, parse_html_listing

        now = self.clock()
        self.summary.feeds += 1
        state = self.store.feed(feed.url)
        headers = {}
        if state and state.etag:
            headers["If-None-Match"] = state.etag
        if state and state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        try:
            if self.settings.robots == "obey" and not await self.fetcher.robots_allowed(feed.url):
                raise RobotsDisallowed("robots.txt disallows this feed", target=feed.url)
            resp = await self.fetcher.get(feed.url, headers=headers, accept=FEED_ACCEPT)
            if resp.status == 304:
                self.summary.feeds_ok += 1
                self.summary.unchanged += 1
                due = next_due(now, self.settings, feed, hints=[resp.max_age()])
                self.store.feed_polled(feed.url, now=now, next_due=due, status="not_modified")
                log.info("poll: %s unchanged (304)", feed.url)
                return
            if feed.kind == "html":
                parsed = parse_html_listing(resp.text(), url=resp.url, item=feed.item, link=feed.link,
                                            title=feed.title, date=feed.date)  # fmt: skip
            else:
                parsed = parse_feed(resp.body, url=resp.url, headers=dict(resp.headers), language=feed.language)
        except HarvesterError as exc:
            errors = self.store.error_count(feed.url) + 1
            retry_after = exc.retry_after if isinstance(exc, HTTPStatus) else None
            due = backoff(now, self.settings, feed, errors, retry_after)
            self.store.feed_failed(feed.url, now=now, kind=exc.kind, message=str(exc), next_due=due)
            _fail(self.summary, exc, feed.url)
            return
        self.summary.feeds_ok += 1
        for warning in parsed.warnings:  # e.g. entities not expanded, a mislabelled charset
            self.summary.warnings.append(f"{warning} [{feed.url}]")
            log.warning("%s [%s]", warning, feed.url, extra={"stage": "parse", "url": feed.url})
        new = await self.process_entries(feed, parsed.entries)
        max_age = resp.max_age()
        no_store = _forbids_validators(resp) or feed.url in self.retry
        due = next_due(now, self.settings, feed, hints=[max_age, parsed.ttl])
        self.store.feed_polled(
            feed.url, now=now, next_due=due, status="ok",
            etag=None if no_store else resp.etag(),
            last_modified=None if no_store else resp.last_modified(),
            keep_validators=False, new_records=new,
        )  # fmt: skip

    async def process_entries(self, feed: FeedConfig, entries) -> int:
        # entries are kept under the configured feed URL, not where it redirected to
        entries = [e if e.feed_url == feed.url else replace(e, feed_url=feed.url) for e in entries]
        seen = self.store.seen_entries(feed.url)
        todo = [e for e in entries if e.entry_id not in seen and e.link]
        # A task is made only once a slot is free, so a poll of 10,000 entries holds at most
        # `concurrency` of them in flight, not 10,000 waiting tasks (measured: the poller's
        # memory then stays flat as the poll grows).
        new = 0
        running: set[asyncio.Task] = set()
        crashed: list[BaseException] = []

        def finished(task: asyncio.Task) -> None:
            nonlocal new
            running.discard(task)
            if task.cancelled():
                return
            if task.exception() is not None:
                crashed.append(task.exception())
            elif task.result():
                new += 1

        for i, entry in enumerate(todo):
            await self.slots.acquire()
            if self.stopping.is_set() or crashed:
                self.slots.release()
                if not crashed:
                    self.summary.skipped += len(todo) - i
                    self.retry.add(feed.url)
                break
            task = asyncio.create_task(self._in_slot(entry))
            running.add(task)
            task.add_done_callback(finished)
        if running:
            await asyncio.wait(list(running))
        if crashed:  # a bug in a stage, not bad input: let it surface
            raise crashed[0]
        return new

    async def _in_slot(self, entry: FeedEntry) -> bool:
        """Fetch, clean, dedup and write one entry in a slot taken by the caller; True when new."""
        try:
            return await self._process_entry(entry)
        finally:
            self.slots.release()

    async def _process_entry(self, entry: FeedEntry) -> bool:
        link = normalize_url(entry.link)
        known = self.store.record_for_url(link)
        if known:
            self.store.mark_done(feed_url=entry.feed_url, entry_id=entry.entry_id, link=link, record_id=known, urls=[])
            self.summary.duplicates += 1
            return False
        try:
            resp, html = await fetch_article(self.fetcher, entry.link, self.settings)
            page = Page(html=html, url=resp.url,
                        fetched_at=datetime.fromtimestamp(self.clock(), timezone.utc), entry=entry)  # fmt: skip
            record = await asyncio.to_thread(self.pool.run, page)
            if self.settings.resolve_source:
                from .resolve import resolve_source_async

                record = await resolve_source_async(record, self.config, self.fetcher)
        except ExtractError as exc:
            # the page could not be extracted: keep the entry with its feed summary
            _fail(self.summary, exc, entry.link)
            fetched_at = datetime.fromtimestamp(self.clock(), timezone.utc)
            try:
                record = await asyncio.to_thread(self.pool.run_summary, entry, normalize_url(entry.link), fetched_at,
                                                 f"{exc.kind}: {exc.message}")  # fmt: skip
            except HarvesterError:
                record = None
            if record is None:
                return False
            resp = None
        except RobotsDisallowed:
            # the site said no: obeyed and noted, not an error (cron stays quiet)
            log.info("poll: robots.txt disallows %s; not fetched", entry.link)
            self.summary.disallowed.append(entry.link)
            return False
        except HarvesterError as exc:
            _fail(self.summary, exc, entry.link)
            if _transient(exc):
                self.retry.add(entry.feed_url)
            return False
        try:
            return await self.store_record(entry, link, normalize_url(resp.url if resp else entry.link), record)
        except StoreError as exc:
            # disk full, permissions: stop cleanly; nothing unwritten is marked done
            _fail(self.summary, exc, entry.link)
            self.retry.add(entry.feed_url)
            self.halt()
            return False

    async def store_record(self, entry: FeedEntry, link: str, final_url: str, record: dict) -> bool:
        urls = sorted({link, final_url})
        text_hash = simhash(record["text"])
        # duplicate check, file, state: one record at a time, as one step (a copy arriving
        # meanwhile must see this record)
        async with self.writing:
            duplicate = None
            if not self.store.has_record(record["id"]):
                duplicate = self.store.find_duplicate(record, text_hash)
            if duplicate is not None:
                log.info("poll: %s is a duplicate of record %s", entry.link, duplicate)
                self.store.mark_done(feed_url=entry.feed_url, entry_id=entry.entry_id, link=link,
                                     record_id=duplicate, urls=urls)  # fmt: skip
                self.summary.duplicates += 1
                return False
            # On disk before the entry is marked done. Written from a thread: the file's two
            # fsyncs (milliseconds, far more on a slow disk) would otherwise stop every
            # fetch in the event loop meanwhile.
            await asyncio.to_thread(self.sink.emit, record)
            self.store.mark_done(
                feed_url=entry.feed_url, entry_id=entry.entry_id, link=link, record_id=record["id"],
                urls=urls, record=record, text_hash=text_hash,
            )  # fmt: skip
        self.summary.new += 1
        return True


async def _poll(config: Config, sink: Sink, store: Store, summary: Summary, *, clock=time.time,
                transport=None) -> None:  # fmt: skip
    settings = config.settings
    now = clock()
    due = [f for f in config.feeds if store.is_due(f.url, now)]
    if not due:
        log.info("poll: no feed is due")
        return
    progress = Progress(len(due), "feeds")
    with make_pool(settings, config) as pool:
        async with Fetcher(settings, transport=transport) as fetcher:
            poller = Poller(config, store, sink, fetcher, pool, summary, clock)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                try:
                    loop.add_signal_handler(sig, _stop, poller)
                except (NotImplementedError, RuntimeError):
                    pass

            # Feeds in progress at once (fetched, their new entries being processed): a
            # feed's parsed entries stay in memory until its last one is done, so this keeps
            # a poll of 100 feeds as small as one of 10, and its first page comes sooner.
            feed_slots = asyncio.Semaphore(settings.concurrency)

            async def one(feed: FeedConfig) -> None:
                async with feed_slots:
                    if poller.stopping.is_set():
                        summary.skipped += 1
                        progress.advance(feed.url)
                        return
                    try:
                        await poller.poll_feed(feed)
                    finally:
                        progress.advance(feed.url)

            await asyncio.gather(*(one(f) for f in due))
    progress.close()


def _stop(poller: Poller) -> None:
    """First SIGTERM / SIGINT: finish what is in flight, save state, exit 1. A second one
    exits at once: every write is atomic and an entry is marked done only after its record
    is on disk, so the next run completes the set."""
    if poller.stopping.is_set():
        log.error("poll: second stop request; exiting now")
        os._exit(1)
    log.warning("poll: stop requested; finishing the items in flight")
    poller.halt()


def poll(config: Config, *, out_dir: Path | None, jsonl: bool = False, clock=time.time, transport=None) -> tuple[int, Summary]:
    """Poll every due feed once. Returns (exit code, summary). The caller holds the lock."""
    settings = config.settings
    out = out_dir if out_dir is not None else (None if jsonl else settings.output_dir)
    if out is not None:
        remove_stale_temps(out)
    sink = Sink(out_dir=out, stream=sys.stdout if jsonl else None)
    store = Store(settings.state_path)
    summary = Summary()
    try:
        asyncio.run(_poll(config, sink, store, summary, clock=clock, transport=transport))
    finally:
        store.close()
    return exit_code(summary, succeeded=summary.feeds_ok + summary.new), summary
