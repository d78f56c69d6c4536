"""The bundled registry is loaded once for the in-process command-line tests (loading it takes
seconds); a command given overlays still loads them for real."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

_CACHE: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _registry_loaded_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import banscan.cli.common as common
    from banscan.registry import load

    def cached(overlays: Any = (), data_dir: Any = None) -> Any:
        if list(overlays or ()) or data_dir is not None:
            return load(overlays, data_dir=data_dir)
        from banscan.store.active import active_data_dir

        if active_data_dir() is not None:
            return load()
        if "bundled" not in _CACHE:
            _CACHE["bundled"] = load()
        return _CACHE["bundled"]

    monkeypatch.setattr(common, "load", cached)
    yield
