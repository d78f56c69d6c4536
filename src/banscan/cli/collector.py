"""The cyclic garbage collector during a short command's start-up.

Kept apart from ``banscan.cli.common`` so that ``main()`` can pause the collector before importing
anything heavy (the command's modules, the registry schema, pydantic).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Start-up (imports, option parsing, loading the registry) makes tens of thousands of objects that
# live until the command ends, and almost no garbage; the cyclic garbage collector would walk them
# again and again (a tenth of a short scan's time).  A command run through ``paused_collector``
# calls ``start_up_done`` once its registry is loaded: the objects made so far are moved out of the
# collector's view (gc.freeze) and collection resumes for the objects made while scanning.  When
# the block ends, the collector is as it was (enabled, nothing frozen, its thresholds).
_collector = {"paused": False}


@contextlib.contextmanager
def paused_collector(pause: bool = True) -> Iterator[None]:
    """The cyclic collector paused until ``start_up_done`` (or the end of the block); when the
    block ends it runs with its thresholds as found and nothing frozen."""
    if not pause or not gc.isenabled():
        yield
        return
    threshold = gc.get_threshold()
    gc.freeze()  # what the imports made
    gc.disable()
    _collector["paused"] = True
    try:
        yield
    finally:
        if _collector["paused"]:
            gc.enable()
        gc.unfreeze()
        gc.set_threshold(*threshold)
        _collector["paused"] = False


def start_up_done(threshold: tuple[int, int, int] | None = None) -> None:
    """Start-up is over (see ``paused_collector``): what exists now (the registry above all) lives
    until the command ends and is moved out of the collector's view, and the collector resumes,
    with ``threshold`` when given.  Outside ``paused_collector`` (a command called in-process by
    a test or another program) the collector is left alone."""
    if not _collector["paused"]:
        return
    gc.freeze()
    if threshold is not None:
        gc.set_threshold(*threshold)
    gc.enable()
    _collector["paused"] = False
