"""OSCAL assessment results (JSON), built and validated with compliance-trestle's models.

One result for the scan: one observation per detection (subjects: the asset; relevant evidence:
the input file and the locator in it) and one finding per banscan finding, whose target is the
restriction as an objective with state ``not-satisfied`` (open or planned) or ``satisfied``
(resolved, waived, false positive).  The import-ap href is a placeholder for the assessment plan
the organisation keeps.  UUIDs are uuid5 of banscan's stable ids, so the same scan gives the same
document.

OSCAL: https://pages.nist.gov/OSCAL/reference/latest/assessment-results/json-outline/
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any, TextIO

from banscan import __version__
from banscan.model import Detection, Finding
from banscan.registry import Registry
from banscan.scan import ScanResult
from banscan.textsafe import scrub

NAMESPACE = uuid.UUID("5d0b7c9e-2f35-5a47-9c3e-6b8f1e0a4d21")
PROP_NS = "https://banscan.dev/ns/oscal"
OSCAL_VERSION = "1.1.2"
IMPORT_AP_PLACEHOLDER = "#assessment-plan-placeholder"
_CLOSED = ("resolved", "waived", "false-positive")


def uid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def _token(s: str) -> str:
    t = re.sub(r"[^A-Za-z0-9_.-]+", "-", s).strip("-.")
    return t if t and t[0].isalpha() or t[:1] == "_" else f"x-{t}" if t else "unknown"


def _prop(name: str, value: object) -> dict[str, Any] | None:
    v = " ".join(str(value).split()) if value is not None else ""
    if not v:
        return None
    return {"name": name, "ns": PROP_NS, "value": v}


def _props(*pairs: tuple[str, object]) -> list[dict[str, Any]]:
    return [p for p in (_prop(n, v) for n, v in pairs) if p]


def _ts(s: str, fallback: dt.date) -> str:
    try:
        t = dt.datetime.fromisoformat(s)
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.UTC)
        return t.isoformat()
    except (TypeError, ValueError):
        return dt.datetime.combine(fallback, dt.time(0, 0), tzinfo=dt.UTC).isoformat()


def _one_line(s: object) -> str:
    return " ".join(str(s).split())


class OscalReporter:
    name = "oscal"
    description = "OSCAL assessment results (JSON) for GRC tools, validated with compliance-trestle"
    media_type = "application/json"
    suffix = ".json"

    def check_available(self) -> None:
        """OSCAL needs the optional compliance-trestle package: say so before anything is written."""
        try:
            import trestle.oscal.assessment_results  # noqa: F401
        except ImportError:
            from banscan.errors import ConfigError

            raise ConfigError("--format oscal needs the optional OSCAL support: "
                              "pip install 'banscan[oscal]'") from None

    def write(self, result: ScanResult, registry: Registry, out: TextIO, options: dict[str, Any]) -> None:
        self.check_available()
        result = scrub(result)
        model = self.model(result, registry)
        data = json.loads(model.model_dump_json(by_alias=True, exclude_none=True))
        json.dump({"assessment-results": data}, out, indent=2, ensure_ascii=False)
        out.write("\n")

    def model(self, result: ScanResult, registry: Registry) -> Any:
        from trestle.oscal.assessment_results import AssessmentResults

        return AssessmentResults.model_validate(self.document(result, registry))

    def document(self, result: ScanResult, registry: Registry) -> dict[str, Any]:
        scan_key = f"{result.registry.get('sha256', '')}|{result.as_of.isoformat()}|{','.join(result.profiles)}|" + \
            "|".join(sorted(d.id for d in result.detections)) + "|" + \
            "|".join(sorted(f"{f.id}:{f.status}" for f in result.findings))
        start = _ts(result.started_at, result.as_of)
        end = _ts(result.finished_at or result.started_at, result.as_of)
        subjects = {a: uid("asset", a) for a in sorted({*result.assets(), *(d.asset for d in result.detections)})}
        observations = [self._observation(d, registry, subjects, end)
                        for d in sorted(result.detections, key=lambda d: (d.asset, d.family, d.id))]
        obs_uuid = {d.id: uid("observation", d.id) for d in result.detections}
        dets = {d.id: d for d in result.detections}
        findings = [self._finding(f, dets.get(f.detection), registry, obs_uuid)
                    for f in sorted(result.findings, key=lambda f: (f.asset, f.restriction, f.id))]
        restrictions = sorted({f.restriction for f in result.findings})
        reviewed: dict[str, Any] = {
            "description": "Restrictions on products of banned or restricted ICT vendors "
                           f"that bind the profile(s) {', '.join(result.profiles) or '(none)'}.",
            "control-selections": [{"include-all": {}}] if not restrictions else [
                {"include-controls": [{"control-id": _token(r)} for r in restrictions]}],
        }
        local_components = [
            {
                "uuid": subjects[a], "type": "this-system",
                "title": _one_line(a) or "unnamed asset",
                "description": f"Asset {_one_line(a)} as named in the inventories scanned.",
                "status": {"state": "operational"},
            }
            for a in subjects
        ]
        res: dict[str, Any] = {
            "uuid": uid("result", scan_key),
            "title": f"banscan scan as of {result.as_of.isoformat()}",
            "description": (f"Products of restricted vendors found in {len(result.inputs)} input(s) covering "
                            f"{len(subjects)} asset(s), checked against the law as it stood on "
                            f"{result.as_of.isoformat()}."),
            "start": start,
            "end": end,
            "props": _props(("as-of", result.as_of.isoformat()), ("profile", ",".join(result.profiles)),
                            ("registry-version", result.registry.get("version")),
                            ("registry-sha256", result.registry.get("sha256"))),
            "reviewed-controls": reviewed,
        }
        if local_components:
            res["local-definitions"] = {"components": local_components}
        if observations:
            res["observations"] = observations
        if findings:
            res["findings"] = findings
        if not res["props"]:
            del res["props"]
        return {
            "uuid": uid("assessment-results", scan_key),
            "metadata": {
                "title": f"Restricted vendor assessment results, {result.as_of.isoformat()}",
                "last-modified": end,
                "version": result.registry.get("version") or "1",
                "oscal-version": OSCAL_VERSION,
                "props": _props(("tool", f"banscan {__version__}")),
            },
            "import-ap": {"href": IMPORT_AP_PLACEHOLDER,
                          "remarks": "Placeholder: replace with a link to your assessment plan."},
            "results": [res],
        }

    def _observation(self, d: Detection, registry: Registry, subjects: dict[str, str],
                     collected: str) -> dict[str, Any]:
        fam = registry.families.get(d.family)
        what = d.product or d.observation.first("name") or d.entity
        ev = "; ".join(f"{e.field} = {e.value!r} (signature {e.signature})" for e in d.evidence)
        obs: dict[str, Any] = {
            "uuid": uid("observation", d.id),
            "title": _one_line(f"{what} ({fam.name if fam else d.family}) on {d.asset}")[:1000],
            "description": _one_line(f"{what}, {d.category} of {d.entity}, {d.relation.value}, "
                                     f"{d.confidence.value} confidence. Evidence: {ev}"),
            "methods": ["EXAMINE"],
            "types": ["finding"],
            "props": _props(("detection-id", d.id), ("family", d.family), ("entity", d.entity),
                            ("confidence", d.confidence.value), ("category", d.category)),
            "subjects": [{"subject-uuid": subjects[d.asset], "type": "component",
                          "title": _one_line(d.asset) or "unnamed asset"}],
            "relevant-evidence": [{
                "description": _one_line(f"{d.source.path} at {d.source.locator}") or "inventory",
                "props": _props(("source-path", d.source.path), ("locator", d.source.locator)),
            }],
            "collected": _ts(d.observation.observed_at or collected, dt.date.today()),
        }
        for key in ("props",):
            if not obs[key]:
                del obs[key]
        if not obs["relevant-evidence"][0]["props"]:
            del obs["relevant-evidence"][0]["props"]
        return obs

    def _finding(self, f: Finding, d: Detection | None, registry: Registry,
                 obs_uuid: dict[str, str]) -> dict[str, Any]:
        r = registry.restrictions.get(f.restriction)
        state = "satisfied" if f.status in _CLOSED else "not-satisfied"
        what = (d.product or d.observation.first("name") or d.entity) if d else f.detection
        asset = d.asset if d else f.asset
        finding: dict[str, Any] = {
            "uuid": uid("finding", f.id),
            "title": _one_line(f"{f.citation}: {what} on {asset}"),
            "description": _one_line(f"{f.requirement.value} by {f.deadline or 'no deadline'}. {f.action}"),
            "props": _props(("finding-id", f.id), ("requirement", f.requirement.value),
                            ("deadline", f.deadline), ("status", f.status), ("profile", f.profile),
                            ("legal-force", f.legal_force)),
            "target": {
                "type": "objective-id",
                "target-id": _token(f.restriction),
                "title": _one_line(r.title if r else f.instrument) or f.restriction,
                "description": _one_line(r.text if r else f.action) or f.restriction,
                "status": {"state": state, "reason": "pass" if state == "satisfied" else "fail",
                           "remarks": f"banscan status: {f.status}"},
            },
        }
        links = [{"href": s, "rel": "reference"} for s in (f.sources or (list(r.sources) if r else []))
                 if s.startswith(("http://", "https://"))]
        if links:
            finding["links"] = links
        if d is not None and d.id in obs_uuid:
            finding["related-observations"] = [{"observation-uuid": obs_uuid[d.id]}]
        if not finding["props"]:
            del finding["props"]
        return finding
