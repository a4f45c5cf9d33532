"""Helpers shared by tests/test_poll.py and tests/regen_site_golden.py.

The fixture site (fixtures/site) is served on http://127.0.0.1:PORT with a new PORT each
time, and a record's id is a hash of the page URL, so a live record is compared with its
golden file in a port-free *canonical* form: the server's base URL written back as the
``http://harvester.test`` placeholder, the id recomputed for that URL, ``fetched_at``
dropped. The golden file of a record is ``fixtures/site/expected/<canonical id>.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from harvester.demo import site_root
from harvester.record import record_id
from harvester.testserver import TOKEN

SITE = site_root()
EXPECTED = SITE / "expected"
IGNORED = {"fetched_at"}


def canonical(record: dict, base_url: str) -> dict:
    """RECORD as if the site had been served at http://harvester.test (port-free)."""
    text = json.dumps(record, ensure_ascii=False).replace(base_url + "/", TOKEN + "/")
    out = json.loads(text)
    out["id"] = record_id(out["url"], out["content_hash"])
    for key in IGNORED:
        out.pop(key, None)
    return out


def live_id(golden: dict, base_url: str) -> str:
    """The id (and file name) the golden record gets from a server at BASE_URL."""
    return record_id(golden["url"].replace(TOKEN + "/", base_url + "/"), golden["content_hash"])


def load_golden() -> dict[str, dict]:
    """{canonical id: golden record}."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXPECTED.glob("*.json"))}


def comparable(record: dict) -> dict:
    """A canonical record with ``source.evidence`` reduced to its signal names."""
    out = json.loads(json.dumps(record))
    out["source"]["evidence"] = [e["signal"] for e in out["source"].get("evidence", [])]
    return out


def read_records(out_dir: Path) -> dict[str, dict]:
    """{file stem: record} for every ``*.json`` in OUT_DIR (fails on invalid JSON)."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(out_dir.glob("*.json"))}
