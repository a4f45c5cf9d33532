"""Output: one JSON file per record, written atomically; JSON Lines on a stream.

A record file is named ``<id>.json`` — the id is a hash, so no title or URL ever
reaches the file system. Writing goes temp file in the same folder -> fsync ->
``os.replace`` -> fsync of the folder, so a reader (or a crash) only ever sees the
old file or the new one, never a partial one. Stale temp files from a killed run
are removed by :func:`remove_stale_temps` at the start of the next.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import IO

from .errors import StoreError

TEMP_PREFIX = ".tmp-"
_ID = re.compile(r"^[0-9a-f]{32}$")


def dumps(record: dict, *, indent: int | None = None) -> str:
    return json.dumps(record, ensure_ascii=False, indent=indent, sort_keys=False)


def record_path(out_dir: Path, record_id: str) -> Path:
    if not _ID.match(record_id):  # ids are hashes; anything else is a bug
        raise StoreError(f"refusing to write a record with id {record_id!r}")
    return out_dir / f"{record_id}.json"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def write_record(record: dict, out_dir: Path) -> Path:
    """Write RECORD as ``OUT_DIR/<id>.json`` atomically; returns the path."""
    path = record_path(out_dir, record["id"])
    data = (dumps(record, indent=2) + "\n").encode("utf-8")
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}", target=str(path)) from None
    return path


def remove_stale_temps(out_dir: Path) -> int:
    """Delete temp files a killed run left behind; returns how many."""
    if not out_dir.is_dir():
        return 0
    removed = 0
    for tmp in out_dir.glob(TEMP_PREFIX + "*"):
        try:
            tmp.unlink()
            removed += 1
        except OSError:
            pass
    return removed


def write_jsonl(record: dict, stream: IO[str]) -> None:
    stream.write(dumps(record) + "\n")
    stream.flush()
