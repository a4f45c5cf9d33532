"""Keep the poller's resident memory flat (glibc malloc tuning).

The poller hands every page to a worker from a thread (``asyncio.to_thread``): the page
text is decoded and pickled there, so each of the default executor's threads gets its
own glibc malloc arena, and large pages raise glibc's dynamic mmap threshold so that
later big blocks come from those arenas and stay mapped after they are freed. Measured
on the 1,000-page benchmark poll: the main process peaked at 102 MB (40 MB of which is
the run itself); with two arenas and a fixed 256 KiB mmap threshold, 63 MB.

Other C libraries (musl, macOS) have their own allocators: nothing is done there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("harvester")

_M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
_M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD = 256 * 1024  # blocks this large are mmapped, and unmapped when freed


def tune_malloc() -> bool:
    """Limit glibc to ``ARENAS`` malloc arenas and a fixed mmap threshold. Call before
    the process starts threads. True when applied (glibc found)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    applied = bool(mallopt(_M_ARENA_MAX, ARENAS)) and bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    log.debug("malloc tuning %s", "applied" if applied else "refused by the C library")
    return applied
