"""A SHA-256 of one input computed by several processes, block after block, in input order.

``banscan scan --jobs N`` reports the SHA-256 of each input, as one process does.  hashlib's
hash objects cannot leave the process that made them, so with hashlib the parent would have to
read the whole input to hash it: about a third of the CPU time a scan takes, and the same bytes
the workers read again.  Here the running hash is OpenSSL's own ``SHA256_CTX``, plain bytes
(eight words of state, the bit count, the partial block).  Two hand-overs run from block to
block: the count of lines so far (block *k* needs it before it is scanned: its first line) and
the hash state.  The worker with block *k* reads it and counts its lines after block *k − 1*'s
count as soon as the block is given to it (in the thread that receives its tasks, ahead of the
blocks it is scanning), and scans it in turn; it adds the block to the hash state after block
*k − 1*'s as soon as that state is there (before its next block, or when it has nothing else to
do), so that no worker waits for another's hash while it could scan.  The library is the libcrypto hashlib itself uses (the same
code, the same speed); where it cannot be found or does not give hashlib's digests (checked
once, on a split input), :func:`available` is False and the parent hashes the input as before.

:class:`Chain` is the hand-over: a ring of slots in memory shared with the workers forked after
it.
"""

from __future__ import annotations

import ctypes
import hashlib
import mmap
import multiprocessing
import os
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

STATE_BYTES = 1024  # room for SHA256_CTX (112 bytes in OpenSSL 1.1 and 3), and to spare
# a slot: the block whose lines were counted, the line after it, whether it was read (1) or not;
# the block whose hash state follows, whether it was given (1) or the block was broken (0)
_HEAD = struct.Struct("<qqqqq")
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
    """Whether the state can be handed on: libcrypto found, a digest made of a state copied
    between uneven parts of an input is hashlib's, and the process can make the shared lock the
    hand-over waits on (some sandboxes have no shared memory for semaphores)."""
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
                    multiprocessing.get_context("fork").Lock()
                except (OSError, ValueError, ImportError, ctypes.ArgumentError):
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


# a wait for a hand-over looks again after this many seconds, doubling up to the second figure
POLL = (0.0002, 0.002)


class Chain:
    """The hand-overs from block to block of the lines so far and of the hash state.  Make it
    before forking the workers.  Block *k* waits in :meth:`line_before` for block *k − 1*'s
    :meth:`put_line`, and in :meth:`state_before` for its :meth:`put_state`.  Each hand-over goes
    in input order, so a slot is never used again before it was read; the parent reads a slot
    after the fact (the line before a lost block), so ``slots`` must exceed the blocks in flight,
    plus one.  :meth:`stop` (or the process that made it ending) ends every wait.

    A slot is read and written under one lock shared by the processes, held for a few
    microseconds; a wait looks again every :data:`POLL` seconds, without holding it.  No process
    waits on another's wake-up call: a worker killed while it waited (out of memory, a signal)
    leaves nothing the others wait for (with a shared condition variable, a notify waits for
    every sleeper to wake, the dead one too), and one killed while it held the lock is given up on
    once the scan stops (every wait for the lock also looks at the stop flag)."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.owner = os.getpid()
        # anonymous and shared with the processes forked later: a stop flag, then the slots
        self.mem = mmap.mmap(-1, 8 + slots * _SLOT)
        for i in range(slots):
            _HEAD.pack_into(self.mem, self._at(i), -2, 0, 0, -2, 0)
        self.lock = multiprocessing.get_context("fork").Lock()

    @contextmanager
    def _held(self, stop: threading.Event | None = None) -> Iterator[None]:
        while not self.lock.acquire(True, 0.05):
            self._check(stop)
        try:
            yield
        finally:
            self.lock.release()

    def _check(self, stop: threading.Event | None) -> None:
        """Raises :class:`Stopped` when the chain is stopped, its maker has ended, or ``stop`` is set."""
        if (self.mem[0] or (stop is not None and stop.is_set())
                or (os.getpid() != self.owner and os.getppid() != self.owner)):
            raise Stopped("the scan stopped")

    def _at(self, k: int) -> int:
        return 8 + (k % self.slots) * _SLOT

    def put_line(self, k: int, line: int, read: bool) -> None:
        """Block ``k``'s lines are counted: the next block starts at ``line``; ``read`` False: it
        could not be read (the blocks after it are not scanned)."""
        at = self._at(k)
        with self._held():
            _, _, _, seq, given = _HEAD.unpack_from(self.mem, at)
            _HEAD.pack_into(self.mem, at, k, line, read, seq, given)

    def put_state(self, k: int, state: bytes | None) -> None:
        """Block ``k`` is hashed (``state``), or could not be (None)."""
        at = self._at(k)
        with self._held():
            lseq, line, read, _, _ = _HEAD.unpack_from(self.mem, at)
            if state is not None:
                self.mem[at + _HEAD.size:at + _SLOT] = state
            _HEAD.pack_into(self.mem, at, lseq, line, read, k, state is not None)

    def peek_line(self, k: int) -> tuple[int, bool] | None:
        """(line, read) block ``k`` put, if it did and its slot was not used again; k = −1: the
        start of the input."""
        if k < 0:
            return 1, True
        seq, line, read, _, _ = _HEAD.unpack_from(self.mem, self._at(k))
        return (line, bool(read)) if seq == k else None

    def peek_state(self, k: int) -> tuple[bytes | None] | None:
        """(state,) block ``k`` put (None in it: broken), if it did; k = −1: the initial state."""
        if k < 0:
            return (initial(),)
        at = self._at(k)
        _, _, _, seq, given = _HEAD.unpack_from(self.mem, at)
        if seq != k:
            return None
        return (self.mem[at + _HEAD.size:at + _SLOT] if given else None,)

    def line_before(self, k: int, stop: threading.Event | None = None,
                    meanwhile: Callable[[], object] | None = None) -> tuple[int, bool]:
        """(first line, whether every block before was read) for block ``k``, once block
        ``k − 1`` put them.  ``meanwhile`` is called before each look.  Raises :class:`Stopped`
        (see :meth:`_check`)."""
        got: tuple[int, bool] = self._wait(lambda: self.peek_line(k - 1), stop, meanwhile=meanwhile)
        return got

    def state_before(self, k: int, stop: threading.Event | None = None, wait: bool = True,
                     timeout: float | None = None) -> tuple[bytes | None] | None:
        """(hash state,) after block ``k − 1`` (None in it: a block before was broken); without
        ``wait``, None when it is not there yet; with ``timeout``, None when it did not come."""
        if not wait:
            return self.peek_state(k - 1)
        got: tuple[bytes | None] | None = self._wait(lambda: self.peek_state(k - 1), stop, timeout)
        return got

    def _wait(self, get: Callable[[], Any], stop: threading.Event | None, timeout: float | None = None,
              meanwhile: Callable[[], object] | None = None) -> Any:
        """``get()`` (read under the lock) once it is not None.  Raises :class:`Stopped` (see
        :meth:`_check`); None after ``timeout`` seconds."""
        start = time.monotonic()
        pause = POLL[0]
        while True:
            if meanwhile is not None:
                meanwhile()  # (not holding the lock: it may hash)
            with self._held(stop):
                got = get()
            if got is not None:
                return got
            self._check(stop)
            if timeout is not None and time.monotonic() - start >= timeout:
                return None
            time.sleep(pause)
            pause = min(pause * 2, POLL[1])

    def stop(self) -> None:
        """Ends every wait (each looks at the flag between its looks at the slots)."""
        self.mem[0] = 1

    def close(self) -> None:
        self.mem.close()
