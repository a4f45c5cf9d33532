"""What a run tells its user on stderr: logs, a progress line, the closing summary.

stdout carries records only. Logs go to stderr as text (default) or JSON lines
(``--log-format json``, for log shippers). The progress line is drawn only when
stderr is a terminal, so cron mail and pipes never see it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass, field

log = logging.getLogger("harvester")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        for key in ("stage", "url", "kind", "feed"):
            if hasattr(record, key):
                out[key] = getattr(record, key)
        return json.dumps(out, ensure_ascii=False)


def setup_logging(*, quiet: bool, verbose: int, fmt: str = "text") -> None:
    level = logging.ERROR if quiet else logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else logging.Formatter("harvester: %(message)s"))
    root = logging.getLogger("harvester")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # third-party chatter (trafilatura "discarding data", httpx request lines) only with -vv
    for name in ("trafilatura", "htmldate", "httpx", "httpcore", "charset_normalizer"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose > 1 else logging.CRITICAL)


class Progress:
    """A one-line ``[done/total] label`` counter, drawn only on a terminal."""

    def __init__(self, total: int, label: str, *, enabled: bool | None = None) -> None:
        self.total = total
        self.done = 0
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._last = 0.0

    def advance(self, note: str = "") -> None:
        self.done += 1
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done == self.total):
            self._last = now
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            bar = "#" * filled + "-" * (width - filled)
            sys.stderr.write(f"\r[{bar}] {self.done}/{self.total} {self.label} {note[:40]:<40}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


@dataclass
class Summary:
    """Counts for the closing line; ``failures`` name each item that failed."""

    feeds: int = 0
    feeds_ok: int = 0  # answered 200 or 304 and parsed
    unchanged: int = 0
    new: int = 0
    duplicates: int = 0
    skipped: int = 0  # entries not started because the run was asked to stop
    disallowed: list[str] = field(default_factory=list)  # URLs robots.txt keeps us from (not failures)
    stopped: bool = False  # SIGTERM, or a store error: the run ended early
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # damage found and worked around (not failures)
    started: float = field(default_factory=time.monotonic)

    @property
    def errors(self) -> int:
        return len(self.failures)

    def line(self, what: str = "poll") -> str:
        secs = time.monotonic() - self.started
        parts = [f"{what}:"]
        if what == "poll":
            parts.append(f"{self.feeds} feeds polled, {self.unchanged} unchanged (304),")
        parts.append(f"{self.new} new records, {self.duplicates} duplicates, {self.errors} errors")
        if self.warnings:
            parts.append(f"({len(self.warnings)} warnings)")
        if self.disallowed:
            parts.append(f"({len(self.disallowed)} disallowed by robots.txt)")
        if self.skipped:
            parts.append(f"({self.skipped} left for the next run)")
        parts.append(f"in {secs:.1f}s")
        return " ".join(parts)
