"""Re-match and re-evaluate the stored evidence under another registry or date, and report the impact.

The basis of a re-evaluation is, for every (asset, evidence class) ever scanned, the newest scan
that covered it.  Its stored observations for that asset and class (:mod:`banscan.evidence`) are
matched again with the registry being evaluated, so a new signature, family or ownership date
surfaces detections no earlier scan made; the detections are then put through ``policy.apply``
with report windows counted from the day each product was first seen.  A scan recorded before
observations were kept is re-evaluated from its stored detections (with a warning).

The impact compares that with the baseline (what the store holds: the stored detections, under
the baseline registry and date), per asset: ``new_detections`` and ``dropped_detections``
(compared by family, product and observation content, so a record read at several places is one
detection), and per restriction the findings it ``gained``, ``lost`` and ``changed`` (requirement
or deadline).  ``reevaluate(record=False)`` is the dry run: nothing is recorded.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from banscan.errors import ProfileError
from banscan.evidence import EvidenceSet, obs_digest, rematch
from banscan.model import Detection
from banscan.registry import Registry
from banscan.scan import InputReport, ScanResult, _dedupe
from banscan.store.core import Store


@dataclass
class Basis:
    result: ScanResult  # the stored detections and the coverage; findings empty
    scan_ids: list[int]
    evidence: list[EvidenceSet] = field(default_factory=list)  # stored observations, matched again
    unmatched: set[tuple[str, str]] = field(default_factory=set)  # (asset, class) with no stored observations
    # (asset, class) -> the filter spec its stored observations were selected with (block-scanned
    # inputs keep their candidate lines only: banscan.fast.evfilter); absent: every record was kept
    filtered: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


@dataclass
class Impact:
    as_of: dt.date
    registry: dict[str, str]
    baseline: dict[str, Any]
    assets: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    recorded: list[int] = field(default_factory=list)
    evaluated_assets: int = 0
    dry_run: bool = False
    # assets and classes whose stored evidence this registry's anchors are not covered by: rescan
    coverage_gaps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(a["gained"] or a["lost"] or a["changed"] or a["new_detections"] or a["dropped_detections"]
                   for a in self.assets)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "registry": dict(self.registry), "baseline": self.baseline,
                "dry_run": self.dry_run, "evaluated_assets": self.evaluated_assets, "assets": self.assets,
                "warnings": list(self.warnings), "recorded_scans": list(self.recorded),
                "coverage_gaps": list(self.coverage_gaps)}


def basis(store: Store, profiles: list[str] | None = None) -> list[Basis]:
    """The newest stored evidence per asset and class, grouped by the profiles it was scanned under."""
    latest = store.latest_evidence()
    filters = store.latest_filters()
    specs: dict[str, dict[str, Any] | None] = {}
    by_scan: dict[int, dict[str, set[str]]] = {}
    for (asset, ec), (sid, _set) in latest.items():
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
        wanted = []
        for asset, classes in sorted(cover.items()):
            for ec in sorted(classes):
                set_id = latest[(asset, ec)][1]
                digest = filters.get((asset, ec))
                if digest is not None:
                    if digest not in specs:
                        specs[digest] = store.evidence_filter(digest)
                    b.filtered[(asset, ec)] = specs[digest] or {}
                if set_id is None and digest is None:
                    b.unmatched.add((asset, ec))
                elif set_id is None:
                    pass  # filtered, and no candidate record: nothing to match again
                else:
                    wanted.append(set_id)
        found = store.evidence_sets(wanted)
        b.evidence.extend(found[i] for i in wanted if i in found)
    return list(groups.values())


def coverage_gaps(bases: list[Basis], registry: Registry) -> list[dict[str, Any]]:
    """The assets and classes whose stored evidence was selected with a filter that does not cover
    ``registry``'s anchors (banscan.fast.evfilter): matching them again may miss what a rescan of
    their inputs would find."""
    from banscan.fast.evfilter import uncovered
    from banscan.match import Matcher

    if not any(b.filtered for b in bases):
        return []
    m = Matcher(registry)
    memo: dict[int, list[str]] = {}
    gaps = []
    for b in bases:
        for (asset, ec), spec in sorted(b.filtered.items()):
            missing = memo.get(id(spec))
            if missing is None:
                missing = memo[id(spec)] = uncovered(spec, m)
            if missing:
                gaps.append({"asset": asset, "evidence_class": ec, "scans": list(b.scan_ids),
                             "uncovered_anchors": missing[:20], "uncovered_count": len(missing),
                             "action": "rescan"})
    return gaps


def evaluate(bases: list[Basis], registry: Registry, as_of: dt.date, warnings: list[str] | None = None,
             *, match: bool = False, store: Store | None = None,
             gaps: list[dict[str, Any]] | None = None) -> list[tuple[ScanResult, list[int]]]:
    """Evaluate each basis under ``registry`` on ``as_of``.  ``match``: match the stored observations
    again (else: the stored detections).  ``store``: count report windows from first-seen dates.
    ``gaps``: with ``match``, filled with :func:`coverage_gaps` (and a warning for each)."""
    from banscan import policy

    if match:
        found = coverage_gaps(bases, registry)
        if gaps is not None:
            gaps.extend(found)
        if warnings is not None:
            for g in found:
                shown = ", ".join(repr(a) for a in g["uncovered_anchors"][:5])
                more = g["uncovered_count"] - min(5, g["uncovered_count"])
                warnings.append(
                    f"{g['asset']} ({g['evidence_class']}): coverage gap, rescan its inputs: its newest scan kept "
                    f"only the records its registry's anchors selected, and this registry matches text they do "
                    f"not cover ({shown}{f' and {more} more' if more else ''}); the kept records were matched "
                    "again")
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
        if match:
            kept = [d for d in res.detections if (d.asset, d.observation.evidence_class.value) in b.unmatched]
            res.detections = _dedupe(rematch(b.evidence, registry, as_of) + kept)
            if warnings is not None:
                for asset, ec in sorted(b.unmatched):
                    warnings.append(f"{asset} ({ec}): its newest scan kept no observations (recorded before "
                                    "banscan kept them); its stored detections are re-evaluated, not matched again")
        identified = None
        if store is not None:
            identified = {i: min(d, as_of) for i, d in store.first_seen(res.detections).items()}
        policy.apply(res, registry, profs, identified_on=identified)
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


def _det_key(d: Detection) -> tuple[str, str, str]:
    return d.family, d.product_id or d.product or "", obs_digest(d.observation)


def _det_entry(d: Detection) -> dict[str, Any]:
    return {"id": d.id, "family": d.family, "product": d.product, "product_id": d.product_id,
            "confidence": d.confidence.value, "evidence_class": d.observation.evidence_class.value,
            "source": str(d.source), "signatures": [e.signature for e in d.evidence]}


def _detections(results: list[tuple[ScanResult, list[int]]]) -> dict[str, dict[tuple[str, str, str], Detection]]:
    out: dict[str, dict[tuple[str, str, str], Detection]] = {}
    for res, _ in results:
        for d in res.detections:
            out.setdefault(d.asset, {}).setdefault(_det_key(d), d)
    return out


def compare(before: list[tuple[ScanResult, list[int]]], after: list[tuple[ScanResult, list[int]]]) -> list[dict[str, Any]]:
    b, a = _keyed(before), _keyed(after)
    db_, da = _detections(before), _detections(after)
    assets = sorted(set(b) | set(a) | set(db_) | set(da) | {x for res, _ in after for x in res.assets()})
    out = []
    for asset in assets:
        ob, oa = b.get(asset, {}), a.get(asset, {})
        gained = [_clean(oa[k]) for k in sorted(set(oa) - set(ob))]
        lost = [_clean(ob[k]) for k in sorted(set(ob) - set(oa))]
        changed = [{**_clean(oa[k]), "was": _clean(ob[k])["requirement"], "was_deadline": ob[k]["deadline"]}
                   for k in sorted(set(oa) & set(ob))
                   if (oa[k]["requirement"], oa[k]["deadline"]) != (ob[k]["requirement"], ob[k]["deadline"])]
        xb, xa = db_.get(asset, {}), da.get(asset, {})
        new = [_det_entry(xa[k]) for k in sorted(set(xa) - set(xb))]
        dropped = [_det_entry(xb[k]) for k in sorted(set(xb) - set(xa))]
        out.append({"asset": asset, "new_detections": new, "dropped_detections": dropped,
                    "gained": gained, "lost": lost, "changed": changed, "findings": len(oa)})
    return out


def reevaluate(store: Store, registry: Registry, as_of: dt.date, *, profiles: list[str] | None = None,
               baseline_registry: Registry | None = None, baseline_as_of: dt.date | None = None,
               record: bool = True, note: str | None = None) -> Impact:
    """Match the stored evidence under ``registry``, evaluate it at ``as_of`` and compare with the
    baseline (the stored detections under ``baseline_registry`` at ``baseline_as_of``).

    ``record=False`` is a dry run: nothing is written.  Otherwise the re-evaluated findings are
    recorded as scans of kind ``reevaluation``.  They update the findings lifecycle only when
    ``as_of`` is today (new findings open; findings that no longer apply resolve, naming the
    re-evaluation); re-evaluations for other dates are recorded for the record and leave the
    lifecycle alone.
    """
    warnings: list[str] = []
    bases = basis(store, profiles)
    gaps: list[dict[str, Any]] = []
    after = evaluate(bases, registry, as_of, warnings, match=True, store=store, gaps=gaps)
    base_reg = baseline_registry or registry
    base_date = baseline_as_of or as_of
    before = evaluate(bases, base_reg, base_date, None, store=store)
    impact = Impact(as_of=as_of, registry=registry.meta(),
                    baseline={"registry": base_reg.meta(), "as_of": base_date.isoformat()},
                    assets=compare(before, after), warnings=warnings,
                    evaluated_assets=len({a for res, _ in after for a in res.assets()}), dry_run=not record,
                    coverage_gaps=gaps)
    if record:
        live = as_of == store.today()
        for res, ids in after:
            impact.recorded.append(store.record(res, registry, kind="reevaluation", based_on=ids,
                                                note=note, lifecycle=live))
    return impact
