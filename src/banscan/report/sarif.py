"""SARIF 2.1.0 for code-scanning dashboards (GitHub, Azure DevOps, DefectDojo, VS Code viewers).

* One rule per restriction a finding cites (with a profile), or one rule per vendor family (no
  profile: detections only).  The rule's help is the restriction's text, legal force and citation;
  ``helpUri`` is its first source.
* One result per finding (or per detection without a profile).  The level follows the requirement
  (prohibited/remove: error; report/do-not-procure: warning; advisory: note) or, without a profile,
  the detection's confidence (likely/certain: warning; possible: note).
* Locations point into the input: ``region.startLine`` for line-oriented inputs (locator
  ``line N``); a logical location carrying the JSON Pointer or XPath for documents.
* ``partialFingerprints["banscan/v2"]`` is :func:`banscan.keys.sarif_fingerprint`: unique per asset,
  product, rule, obligation, profile and place in the input, so that a dashboard recognises the
  same result from one scan to the next and never merges two distinct ones.

Specification: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, TextIO
from urllib.parse import quote

from banscan import __version__
from banscan.keys import SARIF_FINGERPRINT, sarif_fingerprint
from banscan.model import Confidence, Detection, Finding, Requirement
from banscan.registry import Registry
from banscan.scan import HOST_INPUT, ScanResult
from banscan.textsafe import scrub

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://banscan.dev"
FINGERPRINT = SARIF_FINGERPRINT

_LEVEL = {
    Requirement.PROHIBITED: "error",
    Requirement.REMOVE: "error",
    Requirement.DO_NOT_PROCURE: "warning",
    Requirement.REPORT: "warning",
    Requirement.ADVISORY: "note",
}
_LINE = re.compile(r"^line (\d+)$")


def level_for(f: Finding) -> str:
    return _LEVEL.get(f.requirement, "warning")


def level_for_detection(d: Detection) -> str:
    return "warning" if d.confidence.rank >= Confidence.LIKELY.rank else "note"


def artifact_uri(path: str) -> str | None:
    """Relative paths as given (percent-encoded), ``file://`` URIs for absolute ones."""
    if not path or path.startswith(HOST_INPUT):
        return None
    if path == "-":
        return "stdin"
    win = PureWindowsPath(path)
    if win.drive and win.is_absolute():
        return "file:///" + quote(win.as_posix(), safe="/:")
    p = PurePosixPath(path.replace("\\", "/"))
    if p.is_absolute():
        return "file://" + quote(p.as_posix(), safe="/")
    return quote(p.as_posix(), safe="/")


def fingerprint(rule: str, d: Detection, f: Finding | None = None) -> str:
    """The result's fingerprint (see :mod:`banscan.keys`)."""
    obligation = f"{f.requirement.value}\x1f{f.action}" if f is not None else ""
    product = f"{d.family}/{d.product_id or _what(d)}"
    return sarif_fingerprint(d.asset, rule, product, obligation, f.profile if f is not None else "",
                             str(d.source))


def _what(d: Detection) -> str:
    name = d.product or d.observation.first("name") or d.service or d.entity
    return str(name)


def _family_name(registry: Registry, fid: str) -> str:
    fam = registry.families.get(fid)
    return fam.name if fam else fid


class SarifReporter:
    name = "sarif"
    description = "SARIF 2.1.0 for code-scanning dashboards (one rule per restriction)"
    media_type = "application/sarif+json"
    suffix = ".sarif"

    def write(self, result: ScanResult, registry: Registry, out: TextIO, options: dict[str, Any]) -> None:
        json.dump(self.document(scrub(result), registry), out, indent=2, ensure_ascii=False, sort_keys=False)
        out.write("\n")

    # ------------------------------------------------------------------ document
    def document(self, result: ScanResult, registry: Registry) -> dict[str, Any]:
        dets = {d.id: d for d in result.detections}
        artifacts, art_index = self._artifacts(result)
        if result.profiles:
            items = [(f, dets[f.detection]) for f in result.findings if f.detection in dets]
            rule_ids = sorted({f.restriction for f, _ in items})
            rules = [self._restriction_rule(rid, registry, [f for f, _ in items if f.restriction == rid])
                     for rid in rule_ids]
            index = {rid: i for i, rid in enumerate(rule_ids)}
            results = [self._finding_result(f, d, index, art_index, registry) for f, d in items]
        else:
            fams = sorted({d.family for d in result.detections})
            rules = [self._family_rule(fid, registry, result) for fid in fams]
            index = {fid: i for i, fid in enumerate(fams)}
            results = [self._detection_result(d, index, art_index, registry, result) for d in result.detections]
        results.sort(key=lambda r: (r["ruleId"], r["properties"]["asset"], _loc_key(r),
                                    r["properties"].get("product") or "", r["properties"]["id"]))
        notifications = [
            {"level": "error", "message": {"text": e}, "descriptor": {"id": "input-error"}}
            for i in result.inputs for e in i.errors
        ]
        invocation: dict[str, Any] = {"executionSuccessful": not result.input_errors}
        if notifications:
            invocation["toolExecutionNotifications"] = notifications
        run: dict[str, Any] = {
            "tool": {"driver": {
                "name": "banscan",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "invocations": [invocation],
            "artifacts": artifacts,
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": {
                "asOf": result.as_of.isoformat(),
                "profiles": list(result.profiles),
                "registry": dict(result.registry),
            },
        }
        return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}

    def _artifacts(self, result: ScanResult) -> tuple[list[dict[str, Any]], dict[str, int]]:
        arts: list[dict[str, Any]] = []
        index: dict[str, int] = {}
        for i in sorted(result.inputs, key=lambda i: i.path):
            uri = artifact_uri(i.path)
            if uri is None or i.path in index:
                continue
            a: dict[str, Any] = {"location": {"uri": uri}}
            if i.sha256:
                a["hashes"] = {"sha-256": i.sha256}
            if i.format:
                a["properties"] = {"format": i.format}
            index[i.path] = len(arts)
            arts.append(a)
        return arts, index

    # ------------------------------------------------------------------ rules
    def _restriction_rule(self, rid: str, registry: Registry, findings: list[Finding]) -> dict[str, Any]:
        r = registry.restrictions.get(rid)
        f0 = findings[0]
        if r is not None:
            title, text, force, citation, instrument = r.title, r.text, r.legal_force.value, r.citation, r.instrument
            sources = list(r.sources)
            tags = [r.jurisdiction, r.legal_force.value, *r.covers.families]
        else:  # a restriction from an overlay not loaded now: what the finding carries
            title, text, force, citation, instrument = f0.citation, f0.action, f0.legal_force, f0.citation, f0.instrument
            sources = list(f0.sources)
            tags = [f0.legal_force]
        help_text = (f"{text}\n\nLegal force: {force}. Citation: {citation}. Instrument: {instrument}."
                     + (f"\nSources: {', '.join(sources)}" if sources else ""))
        help_md = (f"{text}\n\n* **Legal force:** {force}\n* **Citation:** {citation}\n"
                   f"* **Instrument:** {instrument}\n"
                   + "".join(f"* <{s}>\n" for s in sources))
        worst = max(findings, key=lambda f: f.requirement.rank)
        rule: dict[str, Any] = {
            "id": rid,
            "name": _pascal(rid),
            "shortDescription": {"text": title},
            "fullDescription": {"text": text},
            "help": {"text": help_text, "markdown": help_md},
            "defaultConfiguration": {"level": level_for(worst)},
            "properties": {"tags": sorted(set(tags)), "citation": citation, "legalForce": force,
                           "instrument": instrument},
        }
        uri = next((s for s in sources if s.startswith(("http://", "https://"))), None)
        if uri:
            rule["helpUri"] = uri
        return rule

    def _family_rule(self, fid: str, registry: Registry, result: ScanResult) -> dict[str, Any]:
        fam = registry.families.get(fid)
        name = fam.name if fam else fid
        naming = registry.restrictions_naming(fid) if fam else []
        lines = [f"{r.citation} ({r.legal_force.value}): {r.text}" for r in naming]
        text = (f"A product or service of the {name} family was found. "
                f"{len(naming)} restriction(s) name this family; scan with --profile to see which bind you.")
        rule: dict[str, Any] = {
            "id": fid,
            "name": _pascal(fid),
            "shortDescription": {"text": f"Product of a restricted vendor: {name}"},
            "fullDescription": {"text": (fam.description or text) if fam else text},
            "help": {"text": text + ("\n\n" + "\n".join(lines) if lines else ""),
                     "markdown": text + ("\n\n" + "\n".join(f"* {x}" for x in lines) if lines else "")},
            "defaultConfiguration": {"level": "warning"},
            "properties": {"tags": ["restricted-vendor", fid]},
        }
        src = next((s for r in naming for s in r.sources), None) or (
            next((s for s in fam.sources if s.startswith(("http://", "https://"))), None) if fam else None)
        if src:
            rule["helpUri"] = src
        return rule

    # ------------------------------------------------------------------ results
    def _locations(self, d: Detection, art_index: dict[str, int]) -> list[dict[str, Any]]:
        loc = d.source
        location: dict[str, Any] = {}
        uri = artifact_uri(loc.path)
        if uri is not None:
            phys: dict[str, Any] = {"artifactLocation": {"uri": uri}}
            if loc.path in art_index:
                phys["artifactLocation"]["index"] = art_index[loc.path]
            m = _LINE.match(loc.locator or "")
            if m and int(m.group(1)) >= 1:
                phys["region"] = {"startLine": int(m.group(1))}
            location["physicalLocation"] = phys
        if loc.locator and not _LINE.match(loc.locator):
            logical: dict[str, Any] = {"fullyQualifiedName": loc.locator}
            if "[" in loc.locator or loc.locator.startswith("//"):
                logical["kind"] = "element"  # XPath into an XML document
            elif loc.locator.startswith("/"):
                logical["kind"] = "object"  # JSON Pointer into a JSON document
            location["logicalLocations"] = [logical]
        elif not location:
            location["logicalLocations"] = [{"name": d.asset, "kind": "resource"}]
        return [location]

    def _finding_result(self, f: Finding, d: Detection, index: dict[str, int], art_index: dict[str, int],
                        registry: Registry) -> dict[str, Any]:
        what = _what(d)
        deadline = f"by {f.deadline}" if f.deadline else "no deadline"
        text = (f"{what} ({d.entity}) on asset {d.asset}: {f.requirement.value} under {f.citation}, "
                f"{deadline}. {f.action}")
        res = self._result(f.restriction, index, level_for(f), text, d, art_index, registry, what, f, {
            "id": f.id,
            "requirement": f.requirement.value,
            "deadline": f.deadline,
            "status": f.status,
            "citation": f.citation,
            "profile": f.profile,
        })
        if f.status in ("resolved", "waived", "false-positive"):
            res["baselineState"] = "absent" if f.status == "resolved" else "unchanged"
            res["suppressions"] = [{"kind": "external", "status": "accepted",
                                    "justification": f"status in the banscan store: {f.status}"}]
        return res

    def _detection_result(self, d: Detection, index: dict[str, int], art_index: dict[str, int],
                          registry: Registry, result: ScanResult) -> dict[str, Any]:
        what = _what(d)
        n = len(result.information.get(d.family, []))
        text = (f"{what} ({d.entity}, {_family_name(registry, d.family)} family) on asset {d.asset}, "
                f"{d.confidence.value} confidence; {n} restriction(s) name this family.")
        return self._result(d.family, index, level_for_detection(d), text, d, art_index, registry, what,
                            None, {"id": d.id, "deadline": None})

    def _result(self, rule: str, index: dict[str, int], level: str, text: str, d: Detection,
                art_index: dict[str, int], registry: Registry, what: str, f: Finding | None,
                extra: dict[str, Any]) -> dict[str, Any]:
        """One SARIF result: rule, level, message, locations, fingerprint, and the detection's
        properties plus ``extra``."""
        props: dict[str, Any] = {
            "detection": d.id,
            "family": d.family,
            "familyName": _family_name(registry, d.family),
            "entity": d.entity,
            "product": d.product,
            "asset": d.asset,
            "confidence": d.confidence.value,
        }
        props.update(extra)
        return {
            "ruleId": rule,
            "ruleIndex": index[rule],
            "level": level,
            "message": {"text": text},
            "locations": self._locations(d, art_index),
            "partialFingerprints": {FINGERPRINT: fingerprint(rule, d, f)},
            "properties": props,
        }

def _loc_key(r: dict[str, Any]) -> str:
    loc = r["locations"][0]
    uri = loc.get("physicalLocation", {}).get("artifactLocation", {}).get("uri", "")
    line = loc.get("physicalLocation", {}).get("region", {}).get("startLine", 0)
    logical = (loc.get("logicalLocations") or [{}])[0].get("fullyQualifiedName", "")
    return f"{uri}\x00{line:012d}\x00{logical}"


def _pascal(s: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", s) if p)
