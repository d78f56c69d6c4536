"""Signature kinds are plug-ins registered in one table; observations carry multi-valued fields."""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from collections.abc import Iterable
from pathlib import Path
from typing import get_args

import pytest

from banscan.errors import RegistryError
from banscan.match import Hit, Matcher, kinds
from banscan.match.base import signatures_of
from banscan.model import EvidenceClass, F, Locator, Observation
from banscan.registry import CompiledSignature, Registry, load
from banscan.registry.schema import SignatureKind

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "registry"


def obs(kind: str = "software", **fields: str | tuple[str, ...]) -> Observation:
    return Observation(kind=kind, asset="pc-1", fields=fields, source=Locator("inv.csv", "line 2"),
                       evidence_class=EvidenceClass.INSTALLED)


def test_every_schema_kind_has_exactly_one_plugin_and_no_plugin_kind_is_outside_the_schema() -> None:
    schema_kinds = set(get_args(SignatureKind))
    handled = [k for p in kinds.PLUGINS for k in p.KINDS]
    assert len(handled) == len(set(handled)), "a kind is handled by two plug-ins"
    assert set(handled) == schema_kinds
    for k in schema_kinds:
        assert kinds.plugin_for(k) is not None


def _toy_plugin() -> types.ModuleType:
    """A new kind, 'serial-prefix', written as a module would be: KINDS, compile, lookup, anchors."""
    toy = types.ModuleType("serial_prefix")
    toy.KINDS = ("serial-prefix",)  # type: ignore[attr-defined]

    def compile(registry: Registry) -> list[tuple[str, CompiledSignature]]:
        return [(v.lower(), s) for s in signatures_of(registry, toy.KINDS) for v in s.values]  # type: ignore[attr-defined]

    def lookup(index: list[tuple[str, CompiledSignature]], o: Observation) -> list[Hit]:
        return [Hit(s, F.SERIAL, v, s.strength) for v in o.values(F.SERIAL) for p, s in index
                if v.lower().startswith(p)]

    def anchors(index: list[tuple[str, CompiledSignature]]) -> Iterable[str]:
        return [p for p, s in index if not s.negative]

    toy.compile, toy.lookup, toy.anchors = compile, lookup, anchors  # type: ignore[attr-defined]
    return toy


def test_a_new_kind_needs_only_its_module_its_schema_entry_and_one_registration_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    reg = load(data_dir=FIXTURE)
    base = reg.signatures[0]
    sig = dataclasses.replace(base, id="zte.serial-prefix.0", family="zte", kind="serial-prefix",
                              values=("ZTEG",), strength="strong", product=None, entity="zte-corporation",
                              relation="product", category="telecom-equipment")
    # the registry's signature (what the schema entry lets a family file say) ...
    reg = dataclasses.replace(reg, signatures=[*reg.signatures, sig])
    # ... is invisible until the plug-in is registered: the one line in kinds.PLUGINS
    assert Matcher(reg).match(obs("device", serial="ZTEG1A2B3C4D")) == []
    monkeypatch.setattr(kinds, "PLUGINS", [*kinds.PLUGINS, _toy_plugin()])
    m = Matcher(reg)
    d = m.match(obs("device", serial="ZTEG1A2B3C4D"))
    assert [(x.family, x.confidence.value, x.evidence[0].signature) for x in d] == [
        ("zte", "certain", "zte.serial-prefix.0")]
    assert ("zteg", False, False) in m.anchors() and m.prefilter('{"serial": "ZTEG1A2B3C4D"}')
    assert m.match(obs("device", serial="ABCD1234")) == []


def test_the_schema_refuses_a_kind_it_does_not_list(tmp_path: Path) -> None:
    ov = tmp_path / "overlay.yaml"
    ov.write_text("signatures:\n  - {family: zte, kind: serial-prefix, values: [ZTEG], sources: [test]}\n",
                  encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        load([ov], data_dir=FIXTURE)
    assert any("kind" in p for p in e.value.problems)


# --------------------------------------------------------------------------- multi-valued fields


def test_every_value_of_a_multi_valued_field_is_matched_on_its_own() -> None:
    m = Matcher(load(data_dir=FIXTURE))
    # a certificate with many SANs: one of them is the family's
    d = m.match(obs("tls", domain=("www.example.org", "ksn-a.kaspersky-labs.com", "cdn.example.net")))
    assert [(x.family, x.evidence[0].value) for x in d] == [("kaspersky", "ksn-a.kaspersky-labs.com")]
    # values are never joined: "a | b" is not a way to smuggle a token boundary across values
    assert m.match(obs("device", banner=("ZX", "R10"))) == []
    d = m.match(obs("device", banner=("OpenSSH_8.9", "ZXR10 ROS")))
    assert [x.family for x in d] == ["zte"]


def test_observation_json_keeps_one_value_as_a_string_and_several_as_a_list() -> None:
    o = obs("tls", domain=("a.example", "b.example"), name="x")
    j = o.to_dict()
    assert j["fields"] == {"domain": ["a.example", "b.example"], "name": "x"}
    back = Observation.from_dict(j, o.source)
    assert back.fields == {"domain": ("a.example", "b.example"), "name": "x"}
    assert back.values("domain") == ("a.example", "b.example") and back.first("name") == "x"
    assert back.values("missing") == () and back.first("missing") is None


def test_field_names_are_an_enum_usable_as_strings() -> None:
    assert F.NAME == "name" and f"{F.DOMAIN}" == "domain" and {F.NAME: 1}["name"] == 1
    assert F("bundle_id") is F.BUNDLE_ID


# --------------------------------------------------------------------------- dated ownership


def test_matcher_is_as_of_aware_for_entity_dates() -> None:
    reg = load(data_dir=FIXTURE)
    before = Matcher(reg, as_of=dt.date(2019, 6, 1)).match(obs("device", name="Honor Magic 2"))
    assert [(x.family, x.relation.value) for x in before] == [("huawei", "product")]
    after = Matcher(reg, as_of=dt.date(2021, 6, 1)).match(obs("device", name="Honor Magic 2"))
    assert [(x.family, x.relation.value, x.confidence.value) for x in after] == [
        ("huawei", "former-affiliate", "possible")]
    assert "2020-11-17" in after[0].notes[0]
