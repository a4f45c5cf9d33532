"""SQLite state: feeds (validators, schedule, errors), entries seen, records written.

One file (``state_path``), WAL mode, one short transaction per decision. An entry is
marked done only after its record file is safely on disk, so a run killed at any
moment is completed by the next one: the page is fetched again and its record — same
id, same file name — written again, never twice.

Dedup across feeds uses, in order: the entry id within its feed; the normalised link;
the record id (normalised URL); the attributed ``source.url`` within one language; the
same title from the same source outlet in one language, published within two days; a
64-bit simhash of the text within one language (Hamming distance <= 3, found through
four 16-bit bands, so the lookup stays indexed at any size).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import StoreError
from .text import text_key
from .urls import normalize_url

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    last_poll REAL,
    last_success REAL,
    next_due REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'new',
    error_kind TEXT,
    last_error TEXT,
    error_count INTEGER NOT NULL DEFAULT 0,
    records INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS entries (
    feed_url TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    link TEXT,
    record_id TEXT,
    status TEXT NOT NULL,
    seen_at REAL NOT NULL,
    PRIMARY KEY (feed_url, entry_id)
);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    url TEXT,
    source_url TEXT,
    source_domain TEXT,
    title_key TEXT,
    published REAL,
    language TEXT,
    simhash INTEGER,
    b0 INTEGER, b1 INTEGER, b2 INTEGER, b3 INTEGER,
    written_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS records_source ON records (source_url, language);
CREATE INDEX IF NOT EXISTS records_title ON records (title_key, source_domain, language);
CREATE INDEX IF NOT EXISTS records_b0 ON records (b0);
CREATE INDEX IF NOT EXISTS records_b1 ON records (b1);
CREATE INDEX IF NOT EXISTS records_b2 ON records (b2);
CREATE INDEX IF NOT EXISTS records_b3 ON records (b3);
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY,
    record_id TEXT NOT NULL
);
"""

_WORD = re.compile(r"\w+", re.UNICODE)
SIMHASH_DISTANCE = 3
SAME_STORY_DAYS = 2  # one outlet's same title this close in time is one story
MIN_TITLE_WORDS = 4  # shorter titles ("Live updates", "Briefing") repeat across stories


def fingerprint(record: dict) -> dict:
    """What dedup compares: the attributed URL, the outlet + title, the language."""
    source = record.get("source") or {}
    title = text_key(record.get("title") or "")
    published = record.get("published")
    return {
        "source_url": normalize_url(source["url"]) if source.get("url") else None,
        "source_domain": source.get("domain"),
        "title_key": title if len(title.split()) >= MIN_TITLE_WORDS else None,
        "published": datetime.fromisoformat(published.replace("Z", "+00:00")).timestamp() if published else None,
        "language": record.get("language"),
    }


# for each bit k of a byte, the byte values that have it set
_WITH_BIT = [bytes(v for v in range(256) if v >> k & 1) for k in range(8)]


def simhash(text: str) -> int:
    """64-bit simhash over word 3-shingles (Charikar); near-duplicates differ in few bits.

    Each shingle is hashed with 8-byte BLAKE2b; bit b is set when more than half of the
    shingle hashes have bit b set. The counting runs in C: the hashes are laid end to end,
    so byte j of every hash is one strided slice, and the number with bit k set is that
    slice's length minus what is left once ``translate`` deletes the byte values that have
    bit k. (A Python loop of 64 steps per shingle was once most of the poller's own CPU
    time; the values have never changed: they are stored in the state file.)
    """
    words = _WORD.findall(text.casefold())
    n = max(1, len(words) - 2)
    blake2b = hashlib.blake2b
    hashes = b"".join([blake2b(" ".join(words[i : i + 3]).encode(), digest_size=8).digest() for i in range(n)])
    half, value = n / 2, 0
    for j in range(8):  # byte j holds bits 8 * (7 - j) .. + 7
        column = hashes[j::8]
        for k in range(8):
            if n - len(column.translate(None, _WITH_BIT[k])) > half:
                value |= 1 << (8 * (7 - j) + k)
    return value


def _signed(value: int) -> int:
    """SQLite integers are signed 64-bit."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _bands(value: int) -> list[int]:
    return [(value >> (16 * i)) & 0xFFFF for i in range(4)]


@dataclass(frozen=True, slots=True)
class FeedState:
    url: str
    etag: str | None
    last_modified: str | None
    last_poll: float | None
    last_success: float | None
    next_due: float
    status: str
    error_kind: str | None
    last_error: str | None
    error_count: int
    records: int


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
            self.db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open state database {path}: {exc}", target=str(path)) from None

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        """Add the columns a state file from an earlier version lacks (never drops data)."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(records)")}
        if columns:
            for name, kind in (("source_domain", "TEXT"), ("title_key", "TEXT"), ("published", "REAL")):
                if name not in columns:
                    self.db.execute(f"ALTER TABLE records ADD COLUMN {name} {kind}")

    def _run(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, args)
        except sqlite3.Error as exc:
            raise StoreError(f"state database {self.path}: {exc}", target=str(self.path)) from None

    # ------------------------------------------------------------ feeds

    def feed(self, url: str) -> FeedState | None:
        row = self._run(
            "SELECT url, etag, last_modified, last_poll, last_success, next_due, status, error_kind,"
            " last_error, error_count, records FROM feeds WHERE url = ?",
            (url,),
        ).fetchone()
        return FeedState(*row) if row else None

    def feeds(self) -> list[FeedState]:
        rows = self._run(
            "SELECT url, etag, last_modified, last_poll, last_success, next_due, status, error_kind,"
            " last_error, error_count, records FROM feeds ORDER BY url"
        ).fetchall()
        return [FeedState(*r) for r in rows]

    def is_due(self, url: str, now: float) -> bool:
        state = self.feed(url)
        return state is None or state.next_due <= now

    def feed_polled(
        self,
        url: str,
        *,
        now: float,
        next_due: float,
        status: str,
        etag: str | None = None,
        last_modified: str | None = None,
        keep_validators: bool = True,
        new_records: int = 0,
    ) -> None:
        """A successful poll (200 or 304): reset the error counter, store validators."""
        self._run(
            """INSERT INTO feeds (url, etag, last_modified, last_poll, last_success, next_due, status, error_count, records)
               VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
               ON CONFLICT(url) DO UPDATE SET
                 etag = CASE WHEN ? THEN coalesce(excluded.etag, etag) ELSE excluded.etag END,
                 last_modified = CASE WHEN ? THEN coalesce(excluded.last_modified, last_modified) ELSE excluded.last_modified END,
                 last_poll = excluded.last_poll, last_success = excluded.last_success,
                 next_due = excluded.next_due, status = excluded.status, error_count = 0,
                 error_kind = NULL, last_error = NULL, records = records + ?""",
            (url, etag, last_modified, now, now, next_due, status, new_records,
             keep_validators, keep_validators, new_records),
        )  # fmt: skip

    def feed_failed(self, url: str, *, now: float, kind: str, message: str, next_due: float) -> int:
        """A failed poll: count it, remember why; returns the new error count."""
        self._run(
            """INSERT INTO feeds (url, last_poll, next_due, status, error_kind, last_error, error_count)
               VALUES (?, ?, ?, 'error', ?, ?, 1)
               ON CONFLICT(url) DO UPDATE SET last_poll = excluded.last_poll, next_due = excluded.next_due,
                 status = 'error', error_kind = excluded.error_kind, last_error = excluded.last_error,
                 error_count = error_count + 1""",
            (url, now, next_due, kind, message),
        )
        return self.feed(url).error_count  # type: ignore[union-attr]

    def error_count(self, url: str) -> int:
        state = self.feed(url)
        return state.error_count if state else 0

    # ------------------------------------------------------------ entries and records

    def entry_done(self, feed_url: str, entry_id: str) -> bool:
        row = self._run(
            "SELECT 1 FROM entries WHERE feed_url = ? AND entry_id = ? AND status = 'done'", (feed_url, entry_id)
        ).fetchone()
        return row is not None

    def seen_entries(self, feed_url: str) -> set[str]:
        rows = self._run("SELECT entry_id FROM entries WHERE feed_url = ? AND status = 'done'", (feed_url,))
        return {r[0] for r in rows}

    def record_for_url(self, url: str) -> str | None:
        row = self._run("SELECT record_id FROM urls WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    def has_record(self, record_id: str) -> bool:
        return self._run("SELECT 1 FROM records WHERE id = ?", (record_id,)).fetchone() is not None

    def find_duplicate(self, record: dict, text_hash: int) -> str | None:
        """The id of an earlier record of the same story in the same language, if any."""
        fp = fingerprint(record)
        language = fp["language"]
        if fp["source_url"]:
            row = self._run(
                "SELECT id FROM records WHERE source_url = ? AND language IS ? LIMIT 1", (fp["source_url"], language)
            ).fetchone() or self._run(
                "SELECT r.id FROM urls u JOIN records r ON r.id = u.record_id WHERE u.url = ? AND r.language IS ?",
                (fp["source_url"], language),
            ).fetchone()
            if row:
                return row[0]
        if fp["title_key"] and fp["source_domain"]:
            for rid, published in self._run(
                "SELECT id, published FROM records WHERE title_key = ? AND source_domain = ? AND language IS ?",
                (fp["title_key"], fp["source_domain"], language),
            ):
                if published is None or fp["published"] is None or abs(published - fp["published"]) <= SAME_STORY_DAYS * 86400:
                    return rid
        b = _bands(text_hash)
        rows = self._run(
            "SELECT id, simhash FROM records WHERE language IS ? AND (b0 = ? OR b1 = ? OR b2 = ? OR b3 = ?)",
            (language, *b),
        ).fetchall()
        for rid, other in rows:
            if bin((other & 0xFFFFFFFFFFFFFFFF) ^ text_hash).count("1") <= SIMHASH_DISTANCE:
                return rid
        return None

    def mark_done(
        self,
        *,
        feed_url: str,
        entry_id: str,
        link: str | None,
        record_id: str,
        urls: list[str],
        record: dict | None = None,
        text_hash: int | None = None,
    ) -> None:
        """One transaction: the record (if new), its URLs, and the entry marked done."""
        now = time.time()
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                if record is not None and text_hash is not None:
                    fp = fingerprint(record)
                    self.db.execute(
                        "INSERT OR REPLACE INTO records (id, url, source_url, source_domain, title_key, published,"
                        " language, simhash, b0, b1, b2, b3, written_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (record_id, record.get("url"), fp["source_url"], fp["source_domain"], fp["title_key"],
                         fp["published"], fp["language"], _signed(text_hash), *_bands(text_hash), now),
                    )  # fmt: skip
                for url in urls:
                    self.db.execute("INSERT OR IGNORE INTO urls (url, record_id) VALUES (?, ?)", (url, record_id))
                self.db.execute(
                    "INSERT OR REPLACE INTO entries (feed_url, entry_id, link, record_id, status, seen_at)"
                    " VALUES (?, ?, ?, ?, 'done', ?)",
                    (feed_url, entry_id, link, record_id, now),
                )
        except sqlite3.Error as exc:
            raise StoreError(f"state database {self.path}: {exc}", target=str(self.path)) from None
