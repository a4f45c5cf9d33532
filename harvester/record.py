"""The JSON record (schema_version 1): building, ids, hashing, validation.

The schema ships in the package (``harvester/schema/record.schema.json``) and every
record harvester writes is checked against it before it is written.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timezone
from importlib import resources

from .models import Attribution, Cleaned, Extracted, FeedEntry
from .text import sha256_hex, text_key
from .urls import normalize_url

SCHEMA_VERSION = 1


def utc_iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_id(url: str | None, content_hash: str) -> str:
    """Stable id: the normalised URL of the article (its content hash when no URL is known)."""
    key = normalize_url(url) if url else content_hash
    return sha256_hex(key)[:32]


def content_hash(text: str) -> str:
    return "sha256:" + sha256_hex(text_key(text))


def build_record(
    *,
    url: str | None,
    extracted: Extracted,
    cleaned: Cleaned,
    source: Attribution,
    fetched_at: datetime,
    entry: FeedEntry | None = None,
) -> dict:
    text = cleaned.text
    digest = content_hash(text)
    canonical = extracted.meta.canonical
    return {
        "schema_version": SCHEMA_VERSION,
        "id": record_id(url or canonical, digest),
        "url": url,
        "canonical_url": canonical,
        "title": cleaned.title,
        "text": text,
        "language": extracted.language,
        "published": extracted.published or (entry.published if entry else None),
        "authors": list(extracted.authors) or (list(entry.authors) if entry else []),
        "aggregator": cleaned.aggregator,
        "source": source.as_dict(),
        "feed": {"url": entry.feed_url, "entry_id": entry.entry_id} if entry else None,
        "fetched_at": utc_iso(fetched_at),
        "content_hash": digest,
        "warnings": [w.as_dict() for w in cleaned.warnings],
    }


@functools.lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads((resources.files("harvester") / "schema" / "record.schema.json").read_text("utf-8"))


@functools.lru_cache(maxsize=1)
def _validator():
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


def validate_record(record: dict) -> list[str]:
    """Schema violations, as readable strings (empty: the record is valid)."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(record)'}: {e.message}" for e in _validator().iter_errors(record)]
