"""A SHA-256 of one input computed by several processes, block after block, in input order.

``banscan scan --jobs N`` reports the SHA-256 of each input, as one process does.  hashlib's
hash objects cannot leave the process that made them, so with hashlib the parent would have to
read the whole input to hash it: about a third of the CPU time a scan takes, and the same bytes
the workers read again.  Here the running hash is OpenSSL's own ``SHA256_CTX``, plain bytes
(eight words of state, the bit count, the partial block): the worker with block *k* takes the
state after block *k − 1*, adds its block and hands the state on, with the count of lines so
far, before it scans its block.  The library is the libcrypto hashlib itself uses (the same
code, the same speed); where it cannot be found or does not give hashlib's digests (checked
once, on a split input), :func:`available` is False and the parent hashes the input as before.

:class:`Chain` is the hand-over: a ring of slots in memory shared with the workers forked after
it, each slot holding (block number, lines before the next block, state or "broken").
"""

from __future__ import annotations

import ctypes
import hashlib
import mmap
import multiprocessing
import struct
import threading
from typing import Any

STATE_BYTES = 1024  # room for SHA256_CTX (112 bytes in OpenSSL 1.1 and 3), and to spare
_HEAD = struct.Struct("<qqq")  # block number, line, state given (1) or broken (0)
_SLOT = _HEAD.size + STATE_BYTES

_lib: Any = None
_checked = False
_lock = threading.Lock()


def _load() -> Any:
    try:
        import _hashlib

        lib = ctypes.CDLL(_hashlib.__file__)  # its symbols and those of the libcrypto it links
        init, update, final = lib.SHA256_Init, lib.SHA256_Update, lib.SHA256_Final
    except (ImportError, OSError, AttributeError):
        return None
    init.argtypes, init.restype = [ctypes.c_void_p], ctypes.c_int
    update.argtypes, update.restype = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t], ctypes.c_int
    final.argtypes, final.restype = [ctypes.c_char_p, ctypes.c_void_p], ctypes.c_int
    return lib


def available() -> bool:
    """Whether the state can be handed on: libcrypto found, and a digest made of a state copied
    between uneven parts of an input is hashlib's."""
    global _lib, _checked
    with _lock:
        if not _checked:
            _checked = True
            lib = _load()
            if lib is not None:
                _lib = lib
                data = bytes(range(256)) * 41 + b"\n"
                try:
                    state = initial()
                    for a, b in ((0, 1), (1, 63), (63, 64), (64, 1000), (1000, len(data))):
                        state = update(bytes(state), data[a:b])
                    ok = hexdigest(state) == hashlib.sha256(data).hexdigest() == hexdigest(update(initial(), data))
                except (OSError, ValueError, ctypes.ArgumentError):
                    ok = False
                if not ok:
                    _lib = None
        return _lib is not None


def initial() -> bytes:
    buf = ctypes.create_string_buffer(STATE_BYTES)
    if _lib.SHA256_Init(buf) != 1:
        raise ValueError("SHA256_Init failed")
    return buf.raw


def update(state: bytes, data: bytes) -> bytes:
    """The state after ``state`` and then ``data``."""
    buf = ctypes.create_string_buffer(state, STATE_BYTES)
    if _lib.SHA256_Update(buf, data, len(data)) != 1:
        raise ValueError("SHA256_Update failed")
    return buf.raw


def hexdigest(state: bytes) -> str:
    buf = ctypes.create_string_buffer(state, STATE_BYTES)  # (Final clears the state it is given)
    out = ctypes.create_string_buffer(32)
    if _lib.SHA256_Final(out, buf) != 1:
        raise ValueError("SHA256_Final failed")
    return out.raw.hex()


class Stopped(Exception):
    """The scan stopped while this worker waited for the block before its own."""


class Chain:
    """The hand-over of (lines so far, hash state) from block to block.  Make it before forking
    the workers.  Block *k* waits in :meth:`before` for block *k − 1*'s :meth:`put`; a slot is
    used again ``slots`` blocks later, so ``slots`` must exceed the blocks in flight, plus one
    (the parent reads the slot before a lost block to name its first line)."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.mem = mmap.mmap(-1, slots * _SLOT)  # anonymous and shared with the processes forked later
        for i in range(slots):
            _HEAD.pack_into(self.mem, i * _SLOT, -2, 0, 0)
        self.cond = multiprocessing.get_context("fork").Condition()

    def put(self, k: int, line: int, state: bytes | None) -> None:
        """Block ``k`` is hashed: the next block starts at ``line``; ``state`` None: broken (a
        block that could not be read: the blocks after it are not scanned)."""
        at = (k % self.slots) * _SLOT
        with self.cond:
            if state is not None:
                self.mem[at + _HEAD.size:at + _SLOT] = state
            _HEAD.pack_into(self.mem, at, k, line, state is not None)
            self.cond.notify_all()

    def peek(self, k: int) -> tuple[int, bytes | None] | None:
        """(line, state) block ``k`` put, if it did and its slot was not used again; k = −1: the
        start of the input."""
        if k < 0:
            return 1, initial()
        at = (k % self.slots) * _SLOT
        seq, line, given = _HEAD.unpack_from(self.mem, at)
        if seq != k:
            return None
        return line, (self.mem[at + _HEAD.size:at + _SLOT] if given else None)

    def before(self, k: int, stop: threading.Event | None = None) -> tuple[int, bytes | None]:
        """(first line, hash state) for block ``k``, once block ``k − 1`` put them (state None:
        a block before it was broken).  Raises :class:`Stopped` when ``stop`` is set meanwhile."""
        with self.cond:
            while True:
                got = self.peek(k - 1)
                if got is not None:
                    return got
                if stop is not None and stop.is_set():
                    raise Stopped(f"stopped before block {k}")
                self.cond.wait(0.2)

    def close(self) -> None:
        self.mem.close()
