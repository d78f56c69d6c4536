"""Re-evaluate stored scans under another registry or date and report the impact.

The basis of a re-evaluation is, for every (asset, evidence class) ever scanned, the newest scan
that covered it: its detections for that asset and class are put through ``policy.apply`` again.
The impact is the difference between two evaluations of that same basis (the old registry and
the new one, or the day before a date and the date), per asset: which restrictions it gains and
which it loses.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from banscan.errors import ProfileError
from banscan.model import Detection
from banscan.registry import Registry
from banscan.scan import InputReport, ScanResult
from banscan.store.core import Store


@dataclass
class Basis:
    result: ScanResult  # detections and coverage; findings empty
    scan_ids: list[int]


@dataclass
class Impact:
    as_of: dt.date
    registry: dict[str, str]
    baseline: dict[str, Any]
    assets: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    recorded: list[int] = field(default_factory=list)
    evaluated_assets: int = 0

    @property
    def changed(self) -> bool:
        return any(a["gained"] or a["lost"] or a["changed"] for a in self.assets)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "registry": dict(self.registry), "baseline": self.baseline,
                "evaluated_assets": self.evaluated_assets, "assets": self.assets,
                "warnings": list(self.warnings), "recorded_scans": list(self.recorded)}


def basis(store: Store, profiles: list[str] | None = None) -> list[Basis]:
    """The newest stored evidence per asset and class, grouped by the profiles it was scanned under."""
    latest = store.latest_per_asset_class()
    by_scan: dict[int, dict[str, set[str]]] = {}
    for (asset, ec), sid in latest.items():
        by_scan.setdefault(sid, {}).setdefault(asset, set()).add(ec)
    groups: dict[tuple[str, ...], Basis] = {}
    for sid in sorted(by_scan):
        stored = store.scan_result(sid)
        cover = by_scan[sid]
        prof = tuple(profiles) if profiles else tuple(stored.profiles)
        b = groups.get(prof)
        if b is None:
            b = groups[prof] = Basis(ScanResult(registry={}, profiles=list(prof), as_of=stored.as_of,
                                                started_at=stored.started_at, finished_at=stored.finished_at,
                                                inputs=[], detections=[]), [])
        b.scan_ids.append(sid)
        b.result.inputs.append(InputReport(path=f"banscan scan {sid}", format="stored-scan",
                                           assets={a: sorted(c) for a, c in cover.items()}))
        have = {d.id for d in b.result.detections}
        for d in stored.detections:
            if d.observation.evidence_class.value in cover.get(d.asset, ()) and d.id not in have:
                b.result.detections.append(d)
    return list(groups.values())


def evaluate(bases: list[Basis], registry: Registry, as_of: dt.date,
             warnings: list[str] | None = None) -> list[tuple[ScanResult, list[int]]]:
    from banscan import policy

    out = []
    for b in bases:
        res = copy.deepcopy(b.result)
        res.registry = registry.meta()
        res.as_of = as_of
        res.findings = []
        res.upcoming = []
        try:
            profs = [registry.profile(p) for p in res.profiles]
        except ProfileError as e:
            if warnings is not None:
                warnings.append(f"scans {', '.join(map(str, b.scan_ids))}: {e.problems[0]}; not re-evaluated")
            continue
        policy.apply(res, registry, profs)
        out.append((res, b.scan_ids))
    return out


def _keyed(results: list[tuple[ScanResult, list[int]]]) -> dict[str, dict[tuple[str, str, str], dict[str, Any]]]:
    out: dict[str, dict[tuple[str, str, str], dict[str, Any]]] = {}
    for res, _ in results:
        dets: dict[str, Detection] = {d.id: d for d in res.detections}
        for f in res.findings:
            d = dets.get(f.detection)
            asset = f.asset or (d.asset if d else "")
            product = (d.product_id or d.product or "") if d else ""
            k = (f.family or (d.family if d else ""), product, f.restriction)
            cur = out.setdefault(asset, {}).get(k)
            if cur is None or f.requirement.rank > cur["_rank"]:
                out[asset][k] = {"family": k[0], "product": (d.product if d else None) or product or None,
                                 "restriction": f.restriction, "requirement": f.requirement.value,
                                 "deadline": f.deadline, "citation": f.citation, "profile": f.profile,
                                 "_rank": f.requirement.rank}
    return out


def _clean(x: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in x.items() if not k.startswith("_")}


def compare(before: list[tuple[ScanResult, list[int]]], after: list[tuple[ScanResult, list[int]]]) -> list[dict[str, Any]]:
    b, a = _keyed(before), _keyed(after)
    assets = sorted(set(b) | set(a) | {x for res, _ in after for x in res.assets()})
    out = []
    for asset in assets:
        ob, oa = b.get(asset, {}), a.get(asset, {})
        gained = [_clean(oa[k]) for k in sorted(set(oa) - set(ob))]
        lost = [_clean(ob[k]) for k in sorted(set(ob) - set(oa))]
        changed = [{**_clean(oa[k]), "was": _clean(ob[k])["requirement"]} for k in sorted(set(oa) & set(ob))
                   if (oa[k]["requirement"], oa[k]["deadline"]) != (ob[k]["requirement"], ob[k]["deadline"])]
        out.append({"asset": asset, "gained": gained, "lost": lost, "changed": changed,
                    "findings": len(oa)})
    return out


def reevaluate(store: Store, registry: Registry, as_of: dt.date, *, profiles: list[str] | None = None,
               baseline_registry: Registry | None = None, baseline_as_of: dt.date | None = None,
               record: bool = True, note: str | None = None) -> Impact:
    """Evaluate the stored basis under ``registry`` at ``as_of`` and compare with the baseline.

    The re-evaluated findings are recorded as scans of kind ``reevaluation``.  They update the
    findings lifecycle only when ``as_of`` is today (new findings open; findings that no longer
    apply resolve, naming the re-evaluation); re-evaluations for other dates are recorded for
    the record and leave the lifecycle alone.
    """
    warnings: list[str] = []
    bases = basis(store, profiles)
    after = evaluate(bases, registry, as_of, warnings)
    base_reg = baseline_registry or registry
    base_date = baseline_as_of or as_of
    before = evaluate(bases, base_reg, base_date, None)
    impact = Impact(as_of=as_of, registry=registry.meta(),
                    baseline={"registry": base_reg.meta(), "as_of": base_date.isoformat()},
                    assets=compare(before, after), warnings=warnings,
                    evaluated_assets=len({a for res, _ in after for a in res.assets()}))
    if record:
        live = as_of == store.today()
        for res, ids in after:
            impact.recorded.append(store.record(res, registry, kind="reevaluation", based_on=ids,
                                                note=note, lifecycle=live))
    return impact
