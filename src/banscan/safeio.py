"""Bounded reads of files named on the command line (reports, statements, registry files, bundles).

A name can point at ``/dev/zero``, a FIFO or a huge file: such a read must fail fast with a clear
message instead of blocking or filling memory.  Only regular files are read, and at most
``limit`` bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from banscan.errors import BanscanError
from banscan.textsafe import term


class TooLarge(BanscanError):
    """A file is larger than the limit for its kind."""


def read_limited(path: Path | str, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, refusing anything else or anything over ``limit``."""
    name = term(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise BanscanError(f"{name}: cannot read {what}: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise BanscanError(f"{name}: is a directory, not a {what}")
        if not stat.S_ISREG(st.st_mode):
            raise BanscanError(f"{name}: not a regular file (a device, FIFO or socket cannot be a {what})")
        if st.st_size > limit:
            raise TooLarge(f"{name}: {what} too large ({st.st_size} bytes; the limit is {limit})")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise TooLarge(f"{name}: {what} too large (more than {limit} bytes)")
        return b"".join(chunks)
    except OSError as e:
        raise BanscanError(f"{name}: cannot read {what}: {e.strerror or e}") from None
    finally:
        os.close(fd)
