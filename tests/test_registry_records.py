"""The loaded registry holds records (banscan.registry.records), not the pydantic models that
validated its files: the same fields, methods and dumps, and the same scans, findings and reports
as a registry of the models themselves."""

from __future__ import annotations

import datetime as dt
import importlib.util
import inspect
import io
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from banscan import policy, report
from banscan.registry import Registry, load, records, schema
from banscan.scan import ScanRequest, run

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MODELS = [c for c in vars(schema).values()
          if isinstance(c, type) and issubclass(c, BaseModel) and c.__module__ == schema.__name__ and c is not schema.Strict]


def _models(obj: Any) -> Iterator[BaseModel]:
    if isinstance(obj, BaseModel):
        yield obj
        for v in obj.__dict__.values():
            yield from _models(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _models(v)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _models(v)


@pytest.fixture(scope="module")
def both() -> tuple[Registry, Registry]:
    """(the registry as load() gives it, the same registry holding the pydantic models instead)."""
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr("banscan.registry.freeze", lambda obj: obj)
        as_models = load()
    finally:
        mp.undo()
    return load(), as_models


def test_every_model_has_a_record_with_its_methods_and_aliases() -> None:
    assert len(MODELS) >= 20
    for model in MODELS:
        rec = records.RECORDS[model.__name__]
        assert issubclass(rec, records.Record)
        own = {n for c in model.__mro__ if c.__module__ in (schema.__name__, records.__name__)
               for n, v in vars(c).items() if not n.startswith("_") and (inspect.isfunction(v) or isinstance(v, property))}
        missing = {n for n in own if not hasattr(rec, n)}
        assert not missing, (model.__name__, missing)
        for n in own:  # the same code, not a copy
            assert inspect.getattr_static(rec, n) is inspect.getattr_static(model, n), (model.__name__, n)
        aliases = {k: f.alias for k, f in model.model_fields.items() if f.alias and f.alias != k}
        assert rec._aliases == aliases, model.__name__
    assert set(records.RECORDS) == {m.__name__ for m in MODELS}


def test_the_loaded_registry_holds_records_that_dump_as_the_models_do(both: tuple[Registry, Registry]) -> None:
    recs, models = both
    pairs = [(recs.families, models.families), (recs.restrictions, models.restrictions),
             (recs.profiles, models.profiles), (recs.oui, models.oui), (recs.domains, models.domains),
             (recs.pen, models.pen)]
    seen = 0
    for r, m in pairs:
        assert not list(_models(r))  # no model left anywhere inside
        flat_m = list(_models(m))
        assert flat_m
        for a, b in zip(r.values() if isinstance(r, dict) else (r if isinstance(r, list) else [r]),
                        m.values() if isinstance(m, dict) else (m if isinstance(m, list) else [m]), strict=True):
            assert type(a).__name__ == type(b).__name__ and isinstance(a, records.Record)
            for mode in ("python", "json"):
                for by_alias in (False, True):
                    for exclude_none in (False, True):
                        got = a.model_dump(mode=mode, by_alias=by_alias, exclude_none=exclude_none)
                        want = b.model_dump(mode=mode, by_alias=by_alias, exclude_none=exclude_none)
                        assert got == want
                        assert list(got) == list(want)  # in the model's order
            seen += 1
    assert seen > 1000  # families, restrictions, profiles, the IEEE assignments ...
    kes = recs.families["kaspersky"]
    assert repr(kes).startswith("Family(id='kaspersky', name=")


def test_records_are_read_only_equal_by_value_and_pickle(both: tuple[Registry, Registry]) -> None:
    recs, _ = both
    ent = recs.families["zte"].entities[0]
    with pytest.raises(AttributeError, match="frozen"):
        ent.name = "someone else"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="frozen"):
        del ent.name  # type: ignore[misc]
    again = pickle.loads(pickle.dumps(recs.families["zte"]))
    assert again == recs.families["zte"] and again is not recs.families["zte"]
    assert again != recs.families["huawei"] and again != "zte"
    win = records.ReportWindow(days=3, business=True)
    assert hash(win) == hash(records.ReportWindow(days=3, business=True)) and win.model_dump() == {"days": 3, "business": True}
    with pytest.raises(ValueError, match="mode"):
        win.model_dump(mode="xml")


def test_record_methods_answer_as_the_models_do(both: tuple[Registry, Registry]) -> None:
    recs, models = both
    days = [dt.date(y, m, 1) for y in range(1995, 2028) for m in (1, 7)] + [dt.date(2017, 8, 17), dt.date(2026, 1, 22)]
    for fid, fam in models.families.items():
        for e_m, e_r in zip(fam.entities, recs.families[fid].entities, strict=True):
            assert e_r.spans() == e_m.spans()
            for d in days:
                assert (e_r.member_on(d), e_r.left_on(d)) == (e_m.member_on(d), e_m.left_on(d))
        for p_m, p_r in zip(fam.products, recs.families[fid].products, strict=True):
            for j in ("US", "US-NY", "GB", "EU", "DE"):
                for d in days:
                    a, b = p_r.operator(j, d), p_m.operator(j, d)
                    assert (a is None and b is None) or a.model_dump() == b.model_dump()
    for pid, prof in models.profiles.items():
        assert recs.profiles[pid].all_tags == prof.all_tags


def _inputs() -> list[str]:
    from sharedsamples import SHARED_SAMPLES

    own = [p for sub in ("software", "inventories", "network", "host") for p in (FIXTURES / sub).rglob("*")
           if p.is_file() and not re.search(r"billion|xxe|garbage", p.name)]
    shared = [p for p in SHARED_SAMPLES.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return sorted(str(p) for p in own + shared)


def _scrub(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?", "T", text)


@pytest.mark.parametrize("as_of", [dt.date(2019, 1, 1), dt.date(2026, 11, 1)])
def test_scans_findings_and_every_report_equal_those_of_a_registry_of_models(
        both: tuple[Registry, Registry], as_of: dt.date) -> None:
    recs, models = both
    inputs = _inputs()
    assert len(inputs) > 10
    out: list[dict[str, str]] = []
    findings = []
    for reg in (recs, models):
        profiles = [reg.profile(p) for p in sorted(reg.profiles)]
        result = run(ScanRequest(inputs=tuple(inputs), as_of=as_of), reg)
        policy.apply(result, reg, profiles)
        findings.append(len(result.findings))
        texts = {}
        for name in report.names():
            if name == "oscal" and importlib.util.find_spec("trestle") is None:
                continue
            buf = io.StringIO()
            report.by_name(name).write(result, reg, buf, {})
            texts[name] = _scrub(buf.getvalue())
        out.append(texts)
    assert out[0] == out[1]
    assert findings[0] == findings[1] > 20 and {"json", "html", "far"} <= set(out[0])
