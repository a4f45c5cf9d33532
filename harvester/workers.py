"""Extraction worker processes with a hard per-page time limit.

trafilatura's ``extract()`` has no time or size limit of its own (a 4 MB page of small
tables takes about 30 s), and CPU-bound work wants both cores. Each worker is a
process started from a forkserver that has already imported the pipeline, so a
start costs milliseconds and never forks a process that holds threads. A worker
that overruns its limit is killed and replaced; the caller gets ExtractionTimeout.
A worker is also replaced after ``max_pages`` pages, so that whatever a long-lived process
accumulates (lxml's and the parsers' caches, heap fragmentation) is bounded whatever the
length of the run; a fresh fork from the forkserver costs milliseconds. (Benchmark polls:
each worker peaks at 77-78 MB at 1,000, 4,000 and 10,000 pages.)

``WorkerPool.run`` blocks and is thread-safe: the async poller calls it through
``asyncio.to_thread``, one call per page.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from dataclasses import dataclass

from . import errors
from .config import OutletConfig, Settings
from .errors import ExtractionTimeout, HarvesterError
from .models import Page

_PRELOAD = ["harvester._warm"]
MAX_PAGES = 500  # pages a worker serves before it is replaced by a fresh one


def _serve(conn, outlets: tuple[OutletConfig, ...], max_html: int) -> None:
    from .pipeline import Knowledge, process, process_summary

    knowledge = Knowledge.load(outlets)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        page = job if isinstance(job, Page) else job[1]
        try:
            if isinstance(job, Page):
                conn.send(("ok", process(job, knowledge, max_html=max_html).record))
            else:  # ("summary", entry, url, fetched_at, reason)
                _, entry, url, fetched_at, reason = job
                conn.send(("ok", process_summary(entry, url, fetched_at, reason, knowledge)))
        except HarvesterError as exc:
            conn.send(("error", type(exc).__name__, exc.message, exc.target))
        except Exception as exc:  # a bug in a stage: report it, keep the worker alive
            conn.send(("error", "ExtractError", f"{type(exc).__name__}: {exc}", getattr(page, "url", None)))


@dataclass
class _Worker:
    process: multiprocessing.Process
    conn: object
    jobs: int = 0


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class WorkerPool:
    def __init__(
        self,
        size: int = 0,
        timeout: float = 10.0,
        outlets: tuple[OutletConfig, ...] = (),
        max_html: int = Settings().max_extract_bytes,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self.size = size or cpu_count()
        self.max_pages = max_pages
        self.timeout = timeout
        self.outlets = outlets
        self.max_html = max_html
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(_PRELOAD)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(self.size):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_serve, args=(child, self.outlets, self.max_html), daemon=True)
        proc.start()
        child.close()
        worker = _Worker(proc, parent)
        with self._lock:
            self._all.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()
        with self._lock:
            self._all.remove(worker)

    def _renew(self, worker: _Worker) -> _Worker:
        """A fresh worker in place of one that has served ``max_pages`` pages (it is asked
        to exit, and killed only if it does not)."""
        try:
            worker.conn.send(None)
        except OSError:
            pass
        worker.process.join(timeout=2)
        self._retire(worker)
        return self._spawn()

    def run(self, page: Page) -> dict:
        """Process one page in a worker; returns the record or raises the stage's error."""
        return self._call(page, page.url)

    def run_summary(self, entry, url: str, fetched_at, reason: str) -> dict | None:
        """A degraded record from a feed entry (pipeline.process_summary), in a worker too:
        the poller's own process never imports the extraction stack."""
        return self._call(("summary", entry, url, fetched_at, reason), url)

    def _call(self, job, url: str | None):
        worker = self._idle.get()
        try:
            worker.conn.send(job)
            if not worker.conn.poll(self.timeout):
                self._retire(worker)
                worker = self._spawn()
                raise ExtractionTimeout(f"extraction took longer than {self.timeout:g}s", target=url)
            reply = worker.conn.recv()
            worker.jobs += 1
        except (EOFError, OSError, BrokenPipeError):
            self._retire(worker)
            worker = self._spawn()
            raise errors.ExtractError("extraction worker died", target=url) from None
        finally:
            if not self._closed:
                if worker.jobs >= self.max_pages:
                    worker = self._renew(worker)
                self._idle.put(worker)
        if reply[0] == "ok":
            return reply[1]
        _, cls_name, message, target = reply
        cls = getattr(errors, cls_name, errors.ExtractError)
        raise cls(message, target=target)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
            worker.conn.close()

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
