"""The compiled registry cache: what comes out of it is the registry that went in, including the
tables it unpickles only when they are first read (IEEE assignments, the domain list)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from banscan.fast import regcache
from banscan.match import Matcher
from banscan.registry import Registry, load


def _mac(prefix: str) -> str:
    hexes = (prefix + "000000000000")[:12]
    return ":".join(hexes[i:i + 2] for i in range(0, 12, 2))


@pytest.fixture(scope="module")
def fresh() -> Registry:
    return load()


def test_a_pickled_registry_reads_its_big_tables_when_first_read(fresh: Registry) -> None:
    assert fresh.oui and fresh.domains is not None
    back = pickle.loads(pickle.dumps(fresh))
    assert "oui" not in vars(back) and "domains" not in vars(back)
    again = pickle.loads(pickle.dumps(back))  # pickled again before those were read
    assert back.signatures == fresh.signatures and back.families == fresh.families
    assert back.oui == fresh.oui and back.domains == fresh.domains
    assert "oui" in vars(back)
    assert again == fresh
    with pytest.raises(AttributeError):
        back.no_such_field  # noqa: B018


def test_the_cached_registry_matches_macs_as_the_loaded_one(fresh: Registry, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSCAN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("BANSCAN_NO_CACHE", raising=False)
    built = regcache.load_registry(data_dir=None)
    cached = regcache.load_registry(data_dir=None)  # from the cache file written just now
    assert list(tmp_path.glob("registry-*.bin"))
    assert "oui" not in vars(cached)
    assert cached == built == fresh
    m_fresh, m_cached = Matcher(fresh), Matcher(regcache.load_registry(data_dir=None))
    assert m_cached._oui_table is None  # made when a MAC is first looked up
    macs = [_mac(a.prefix) for a in fresh.oui[::50]] + ["02:00:00:00:00:01", "00:11:22:33:44:55", "nonsense"]
    got = [m_cached.oui(m) for m in macs]
    assert got == [m_fresh.oui(m) for m in macs]
    assert sum(g is not None for g in got) >= len(fresh.oui[::50])
