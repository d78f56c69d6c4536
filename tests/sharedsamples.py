"""Where the real-world sample files live (../shared/samples), and a skip when they are absent.

Import it as ``from sharedsamples import shared_sample`` (``tests/`` is on pytest's pythonpath).
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


def shared_sample(relpath: str) -> Path:
    """A file under the shared real-world samples folder, or skip the test when it is absent."""
    p = SHARED_SAMPLES / relpath
    if not p.exists():
        pytest.skip(f"shared sample not available: {relpath}")
    return p
