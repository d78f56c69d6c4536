"""Dated ownership in the registry (updates-2026-11.md §1): periods, successors, sources."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from banscan import registry
from banscan.registry.schema import Entity


@pytest.fixture(scope="module")
def reg() -> registry.Registry:
    return registry.load()


D = dt.date


@pytest.mark.parametrize(
    ("family", "entity", "start", "end", "successor_word"),
    [
        ("hytera", "sepura", D(2017, 5, 24), D(2022, 7, 14), "Sword Bidco"),
        ("hytera", "teltronic", D(2017, 5, 24), D(2025, 7, 22), "Next Gen Critical Comms"),
        ("hytera", "norsat", D(2017, 7, 20), None, None),
        ("hytera", "sinclair-technologies", D(2017, 7, 20), None, None),
        ("hytera", "hytera-mobilfunk", D(2012, 1, 1), None, None),
        ("huawei", "honor", None, D(2020, 11, 17), "Zhixin"),
    ],
)
def test_dated_entities(reg: registry.Registry, family: str, entity: str, start: dt.date | None,
                        end: dt.date | None, successor_word: str | None) -> None:
    e = reg.entity(family, entity)
    assert e.id == entity
    assert e.spans() == [(start, end)]
    if successor_word:
        assert e.successor and successor_word in e.successor
        assert e.role == "former-member"
    else:
        assert e.successor is None
    if start:
        assert not e.member_on(start - dt.timedelta(days=1))
        assert e.member_on(start)
    if end:
        assert e.member_on(end - dt.timedelta(days=1))
        assert not e.member_on(end)
        assert e.left_on(D(2026, 11, 1)) == end
    # every dated fact carries a URL source
    assert any(s.startswith("https://") for s in e.sources)


def test_sepura_and_teltronic_cite_the_fact_sheet_sources(reg: registry.Registry) -> None:
    sep = reg.entity("hytera", "sepura").sources
    assert any("smithsquarepartners.com" in s for s in sep)
    assert any("aijingu.com/notices/002583" in s for s in sep)
    tel = reg.entity("hytera", "teltronic").sources
    assert any("eastmoney.com" in s for s in tel)


def test_nubia_has_two_periods(reg: registry.Registry) -> None:
    nubia = reg.entity("zte", "nubia")
    assert nubia.spans() == [(None, D(2017, 8, 17)), (D(2020, 12, 28), None)]
    assert nubia.member_on(D(2017, 8, 16))
    assert not nubia.member_on(D(2017, 8, 17))
    assert not nubia.member_on(D(2019, 6, 1))
    assert nubia.member_on(D(2020, 12, 28))
    assert nubia.left_on(D(2019, 6, 1)) == D(2017, 8, 17)
    assert all(p.sources for p in nubia.periods)


def test_hikvision_listed_subsidiaries_are_sourced(reg: registry.Registry) -> None:
    for eid in ("ezviz", "hikrobot"):
        e = reg.entity("hikvision", eid)
        assert e.role == "subsidiary"
        assert any("yicaiglobal.com" in s for s in e.sources)


def test_new_ownership_reaches_registries(reg: registry.Registry) -> None:
    blocks = {(a.prefix, a.entity) for a in reg.oui}
    assert ("70B3D50AE", "norsat") in blocks
    assert ("DCF090", "nubia") in blocks
    pens = {(s.entity, v) for s in reg.signatures if s.kind == "snmp-pen" and not s.negative for v in s.values}
    assert ("norsat", "40560") in pens
    assert ("sinclair-technologies", "53115") in pens


def _entity(**kw: object) -> Entity:
    return Entity.model_validate({"id": "x1", "name": "X", "role": "subsidiary", "sources": ["s-1"], **kw})


def test_period_forms_are_validated() -> None:
    with pytest.raises(ValidationError, match="either"):
        _entity(**{"from": "2020-01-01", "periods": [{"to": "2021-01-01", "sources": ["s-1"]}]})
    with pytest.raises(ValidationError, match="overlap"):
        _entity(periods=[{"to": "2021-01-01", "sources": ["s-1"]},
                         {"from": "2020-06-01", "sources": ["s-1"]}])
    with pytest.raises(ValidationError, match="after"):
        _entity(**{"from": "2021-01-01", "to": "2020-01-01"})
    with pytest.raises(ValidationError, match="sources"):
        _entity(periods=[{"to": "2021-01-01"}])
    assert _entity().spans() == [(None, None)]
    assert _entity().member_on(D(1990, 1, 1))
