"""A run lock for ``poll``: overlapping cron runs exit at once instead of racing.

``flock(2)`` on ``<state_path>.lock``: the kernel releases it when the process dies,
even by SIGKILL, so a crashed run never leaves a stale lock behind. (flock is not
reliable on NFS/CIFS: keep state_path on a local disk.)
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from .errors import StoreError


class Locked(Exception):
    """Another process holds the lock."""


@contextmanager
def run_lock(state_path: Path):
    path = state_path.with_name(state_path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open lock file {path}: {exc.strerror or exc}", target=str(path)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Locked(str(path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)
