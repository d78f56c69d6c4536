"""Test fixtures.

Fixture strategy: parsers are tested on the real-world files in ../shared/samples (skipped when
that folder is absent, see sharedsamples.py) and on small hand-made files under tests/fixtures for
bad input and trap cases; the matcher on a tiny hand-written registry (tests/fixtures/registry);
policy and end-to-end tests on the bundled registry with the date pinned; store tests on SQLite
and, when BANSCAN_TEST_PG_URL is set, on a real PostgreSQL server.
"""

from __future__ import annotations

import embeddedpg  # noqa: E402
from sharedsamples import SHARED_SAMPLES, shared_sample  # noqa: F401 - re-exported for older imports

# Without BANSCAN_TEST_PG_URL, start an embedded PostgreSQL (pgserver) so the PostgreSQL tests run.
# Done on import: the per-folder conftest files read the variable when they are imported.
embeddedpg.start()


def pytest_unconfigure(config) -> None:  # noqa: ANN001
    embeddedpg.stop()
