"""Entity names in native scripts, brand marks and verified brands carry their sources."""

from __future__ import annotations

import pytest

from banscan import registry


@pytest.fixture(scope="module")
def reg() -> registry.Registry:
    return registry.load()


@pytest.mark.parametrize(("family", "entity", "name", "script"), [
    ("kaspersky", "kaspersky-lab", "Лаборатория Касперского", "Cyrl"),
    ("hikvision", "hikvision-digital", "海康威视", "Hans"),
    ("huawei", "huawei-technologies", "华为", "Hans"),
    ("hytera", "hytera-communications", "海能达", "Hans"),
    ("bytedance", "bytedance-ltd", "字节跳动", "Hans"),
    ("zte", "zte-corporation", "中兴通讯", "Hans"),
    ("hikvision", "ezviz", "萤石", "Hans"),
])
def test_native_script_aliases_have_sources(reg: registry.Registry, family: str, entity: str, name: str,
                                            script: str) -> None:
    e = reg.entity(family, entity)
    alias = next(a for a in e.aliases if a.name == name)
    assert alias.script == script
    assert alias.sources


@pytest.mark.parametrize("name", ["华为", "海能达", "字节跳动", "Лаборатория Касперского", "海康威视"])
def test_aliases_verified_here_cite_two_urls(reg: registry.Registry, name: str) -> None:
    alias = next(a for f in reg.families.values() for e in f.entities for a in e.aliases if a.name == name)
    assert sum(1 for s in alias.sources if s.startswith("https://")) >= 2


def test_hilook_is_a_hikvision_brand_with_two_sources(reg: registry.Registry) -> None:
    e = reg.entity("hikvision", "hilook")
    assert e.role == "brand" and e.name == "HiLook"
    assert len([s for s in e.sources if s.startswith("https://")]) >= 2
    ids = {x.id for f in reg.families.values() for x in f.entities}
    assert "hikmicro" not in ids and "prama-hikvision" not in ids  # not verified: left out


def test_brand_marks_point_at_entities_or_products_and_carry_sources(reg: registry.Registry) -> None:
    marks = {(f.id, m.name): m for f in reg.families.values() for m in f.marks}
    for key in [("hikvision", "EZVIZ"), ("huawei", "HiSilicon"), ("bytedance", "Lark"), ("bytedance", "Pangle"),
                ("bytedance", "Volcengine"), ("bytedance", "BytePlus"), ("bytedance", "CapCut"),
                ("bytedance", "Douyin"), ("zte", "nubia"), ("hytera", "Sepura")]:
        assert key in marks, key
    for (fid, _), m in marks.items():
        assert m.sources
        assert (m.entity is None) != (m.product is None) or m.entity
        fam = reg.families[fid]
        if m.entity:
            assert m.entity in {e.id for e in fam.entities}
        if m.product:
            assert m.product in {p.id for p in fam.products}
    assert marks[("bytedance", "Lark")].ordinary_word
    assert not marks[("bytedance", "TikTok")].ordinary_word


def test_unknown_mark_reference_is_an_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from banscan.errors import RegistryError
    from banscan.registry import DATA_DIR

    root = tmp_path / "data"
    shutil.copytree(DATA_DIR, root)
    p = root / "families" / "deepseek.yaml"
    p.write_text(p.read_text(encoding="utf-8") + "  - name: Whale\n    entity: no-such-entity\n"
                 "    sources: [https://example.org/x]\n", encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        registry.load(data_dir=root)
    assert any("marks[" in m and "no-such-entity" in m for m in e.value.problems)


def test_lark_technologies_inc_is_not_bytedance(reg: registry.Registry) -> None:
    from banscan.match import Matcher
    from banscan.model import F, Locator, Observation

    m = Matcher(reg)

    def fams(field: str, value: str) -> set[str]:
        return {d.family for d in m.match(Observation("device", "t", {field: value}, Locator("t", "1")))}

    assert fams(F.OUI_VENDOR, "LARK Technologies, Inc") == set()  # Mountain View, OUI 64C944
    assert "bytedance" in fams(F.PUBLISHER, "Lark Technologies Pte. Ltd.")
