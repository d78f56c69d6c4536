"""Keep a scan's freed block buffers in the process, for the next block, instead of returning them
to the kernel and faulting fresh zeroed pages in again.

A block of the input is a 4 MiB bytes object (``banscan.fast.blocks``), read, scanned and freed
hundreds of times a scan; with ``--jobs`` a worker keeps a few at once (the blocks in flight, the
blocks waiting to be hashed).  glibc's allocator serves such sizes with ``mmap`` at first, then,
once one is freed, from its heap, and gives the heap's free top back to the kernel when it holds
more than twice the largest block freed so far: blocks freed out of the order they were made
make it do so again and again.  Every page given back is a page fault (a zeroed page) when it is
used again: on the 1.5 GB log of ``bench/jobs.py``, about 150,000 faults and 0.3 s of system time
with ``--jobs 2``, 65,000 faults and 0.15-0.2 s in one process.

``keep_block_buffers`` sets, for this process and the workers it forks, the two thresholds
``mallopt(3)`` documents: allocations below 32 MiB (its largest mmap threshold on 64-bit systems)
come from the heap, and the heap keeps up to 256 MiB of free top.  The price is some peak memory:
on that log 172 MiB instead of 157 (large objects freed out of order leave the heap holding more
at its peak; what it keeps stays until the command ends, which for ``banscan scan`` is soon).
Nothing is set where the allocator is not glibc's, or where the user set either threshold through
glibc's environment variables.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems (mallopt(3))
TRIM_THRESHOLD = 256 << 20
_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_TUNABLES = ("glibc.malloc.mmap_threshold", "glibc.malloc.trim_threshold")


def glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (AttributeError, ValueError, OSError):
        return False


def keep_block_buffers() -> bool:
    """Set the allocator's thresholds (above) for this process; True when both were set."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if not glibc() or any(os.environ.get(k) for k in _ENV) or any(t in tunables for t in _TUNABLES):
        return False
    import ctypes  # (here: a scan of a small input does not need it)

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


LARGE = 64 << 20  # an input this large is read as a few dozen blocks or more


def keep_for(inputs: Iterable[str]) -> bool:
    """:func:`keep_block_buffers` when one of ``inputs`` (paths; others, such as "-", skipped) is a
    regular file of :data:`LARGE` bytes or more: a short command about to read many blocks."""
    for p in inputs:
        try:
            st = os.stat(p)
        except (OSError, ValueError):
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size >= LARGE:
            return keep_block_buffers()
    return False
