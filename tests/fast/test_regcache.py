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


def _detections(registry: Registry, paths: list[str]) -> list[tuple[object, ...]]:
    import datetime as dt

    from banscan.scan import ScanRequest, run

    r = run(ScanRequest(inputs=tuple(paths), as_of=dt.date(2026, 11, 1)), registry)
    return sorted((d.id, d.family, d.product_id, d.confidence.value, d.relation.value, d.source.locator,
                   tuple((e.field, e.value, e.signature, e.strength) for e in d.evidence)) for d in r.detections)


def test_the_cached_registry_carries_its_kinds_indexes_and_scans_as_the_loaded_one(
        fresh: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled cache holds every signature kind's index: a Matcher of the cached registry
    compiles none, and scans of the shared samples find what the freshly loaded registry finds."""
    from sharedsamples import SHARED_SAMPLES

    from banscan.match import kinds

    monkeypatch.setenv("BANSCAN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("BANSCAN_NO_CACHE", raising=False)
    regcache.load_registry(data_dir=None)
    cached = regcache.load_registry(data_dir=None)  # from the cache file written just now
    assert fresh.kind_indexes is None and cached.kind_indexes is not None
    assert set(cached.kind_indexes[1]) == {p.__name__ for p in kinds.PLUGINS}
    samples = sorted(str(p) for p in SHARED_SAMPLES.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not samples:
        pytest.skip("../shared/samples not available")
    expected = _detections(fresh, samples)
    assert expected
    for p in kinds.PLUGINS:  # a kind compiled again would fail
        monkeypatch.setattr(p, "compile", lambda registry: pytest.fail("compiled again"))
    assert _detections(cached, samples) == expected


def test_kept_indexes_are_not_used_once_the_signatures_change(fresh: Registry) -> None:
    """Indexes kept on a registry whose signatures were changed afterwards are compiled again."""
    import dataclasses

    from banscan.match import Matcher, compile_kinds
    from banscan.model import F, Locator, Observation

    reg = compile_kinds(pickle.loads(pickle.dumps(fresh)))
    kept = Matcher(reg)
    assert [ix for _, ix, _ in kept._plugins] == list(reg.kind_indexes[1].values())  # type: ignore[index]
    obs = Observation(kind="software", asset="h", source=Locator("inv.csv", "line 2"),
                      fields={F.NAME: "Kaspersky Endpoint Security", F.PUBLISHER: "AO Kaspersky Lab"})
    assert {d.family for d in kept.match(obs)} == {"kaspersky"}
    reg.signatures[:] = [dataclasses.replace(s, values=("nothing like it",)) if s.family == "kaspersky" else s
                         for s in reg.signatures]
    changed = Matcher(reg)
    assert all(ix is not k for (_, ix, _), k in zip(changed._plugins, reg.kind_indexes[1].values(), strict=True))  # type: ignore[index]
    assert "kaspersky" not in {d.family for d in changed.match(obs)}


def test_the_data_files_are_those_rglob_lists(tmp_path: Path) -> None:
    """The cache key's file list (os.scandir) is the one pathlib's rglob and is_file gave: links
    to files count, linked directories are not entered, directories named like files are not
    files, broken links are skipped, hidden files count."""
    from banscan.registry import DATA_DIR

    def by_rglob(base: Path) -> list[Path]:
        return sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))

    assert regcache.data_files(DATA_DIR) == by_rglob(DATA_DIR) != []
    base = tmp_path / "data"
    (base / "families" / "deep").mkdir(parents=True)
    (base / "families-x").mkdir()  # "-" sorts before "/" as a string, after it as a path part
    (base / "families-x" / "f.yaml").write_text("x")
    (base / "dir.yaml").mkdir()
    for name in ("families/a.yaml", "families/deep/b.yml", "c.json", ".hidden.yaml", "..x.yaml", "note.txt",
                 "families/d.YAML", ".yaml"):
        (base / name).write_text("x")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "e.yaml").write_text("x")
    (base / "linked").symlink_to(tmp_path / "elsewhere")
    (base / "link.yaml").symlink_to(base / "c.json")
    (base / "broken.yaml").symlink_to(tmp_path / "nowhere.yaml")
    got = regcache.data_files(base)
    assert got == by_rglob(base)
    assert {p.relative_to(base).as_posix() for p in got} == {
        "families/a.yaml", "families/deep/b.yml", "families-x/f.yaml", "c.json", ".hidden.yaml", "..x.yaml",
        "link.yaml"}
    assert regcache.data_files(tmp_path / "missing") == by_rglob(tmp_path / "missing") == []
