"""Accuracy of the matcher on labelled real-world strings: prints figures, asserts nothing.

A. Software.  Every row of bench/accuracy/software.tsv (made by bench/accuracy/build_sets.py
   from public package-name lists and real Windows inventories) becomes one Observation; the
   detections at ``likely`` or ``certain`` are compared with the row's label.  Prints TP, FP,
   FN, precision and recall per family and per relation, a break-down by labelling rule, and
   the first false positives and false negatives with the signatures that fired.
B. Network.  For every IEEE assignment in the registry's OUI table a MAC inside the block
   (padded with zeros, and with ones) must give a ``likely`` detection of the block's family;
   the same MACs with the locally-administered bit set must give nothing; and no assignment
   of a look-alike organisation (Honor, H3C, Uniview, "hik"/"zte" inside longer words, other
   similar names found in the IEEE files) may be flagged.  The IEEE files are Debian's
   ieee-data (/usr/share/ieee-data/*.csv; ``apt-get install -y ieee-data``).

    python bench/accuracy.py                  # both parts
    python bench/accuracy.py --part software  # or --part network
    python bench/accuracy.py --show 50        # list up to 50 FPs/FNs per section
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import inspect
import json
import random
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from banscan.match import Matcher
from banscan.model import Confidence, F, Locator, Observation
from banscan.registry import load
from banscan.sources._common import project_url_field

HERE = Path(__file__).resolve().parent
SOFTWARE_TSV = HERE / "accuracy" / "software.tsv"
WINGET_TSV = HERE / "accuracy" / "winget.tsv"
MAVEN_TSV = HERE / "accuracy" / "maven.tsv"
HOMEBREW_TSV = HERE / "accuracy" / "homebrew.tsv"
METADATA_TSV = HERE / "accuracy" / "metadata.tsv"
PEN_FILE = Path("/usr/share/wireshark/enterprises.tsv")
IEEE_DIR = Path("/usr/share/ieee-data")
IEEE_FILES = ("oui.csv", "mam.csv", "oui36.csv", "iab.csv")
TARGET_P = 0.99
TARGET_R = 0.97
AS_OF = dt.date.today()  # the day labels of dated entities are judged on (--as-of)


def current(reg, family: str, entity: str | None) -> bool:
    """Is the entity the family's on AS_OF?  (Identifiers of divested entities are checked in part F.)"""
    return entity is None or reg.entity(family, entity).member_on(AS_OF)
POSITIVE = (Confidence.LIKELY, Confidence.CERTAIN)


def ratio(a: int, b: int) -> str:
    return f"{a / b:.4f}" if b else "  n/a "


def table(header: list[str], rows: list[list[object]]) -> str:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for j, r in enumerate(cells):
        lines.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def target_mark(p: int, pd: int, r: int, rd: int) -> str:
    ok = (pd == 0 or p / pd >= TARGET_P) and (rd == 0 or r / rd >= TARGET_R)
    return "meets" if ok else "BELOW"


# =========================================================================== A. software
META_FIELDS = (F.HOMEPAGE, F.REPOSITORY, F.DOWNLOAD_URL, F.AUTHOR_EMAIL, F.MAINTAINER_EMAIL)
_META: dict[tuple[str, str], dict[str, tuple[str, ...]]] | None = None
USE_METADATA = True  # --no-metadata: names only, as before the metadata columns existed


def package_metadata() -> dict[tuple[str, str], dict[str, tuple[str, ...]]]:
    """(ecosystem, name) -> the observation fields an SBOM or ``pip inspect`` would carry for the
    package, from the registry metadata in bench/accuracy/metadata.tsv (candidate rows only)."""
    global _META
    if _META is not None:
        return _META
    _META = {}
    if not USE_METADATA:
        return _META
    if not METADATA_TSV.exists():
        print(f"no {METADATA_TSV.name}: rows are read without package metadata")
        return _META
    with METADATA_TSV.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if r["status"] != "ok":
                continue
            got: dict[str, list[str]] = defaultdict(list)
            got[F.HOMEPAGE].append(r["home_page"])
            got[F.DOWNLOAD_URL].append(r["download_url"])
            got[F.REPOSITORY].append(r["repository"])
            for label, url in (json.loads(r["project_urls"]) if r["project_urls"] else {}).items():
                fld = project_url_field(label)
                if fld and isinstance(url, str):
                    got[fld].append(url)
            got[F.AUTHOR_EMAIL].append(r["author_email"])
            got[F.MAINTAINER_EMAIL].append(r["maintainer_email"])
            fields = {k: tuple(dict.fromkeys(v for v in vs if v.strip())) for k, vs in got.items()}
            _META[(r["ecosystem"], r["name"])] = {k: v for k, v in fields.items() if v}
    return _META


def observation(row: dict[str, str], i: int) -> Observation:
    eco, name, pub = row["ecosystem"], row["name"], row["publisher_or_author"]
    loc = Locator(str(SOFTWARE_TSV.name), f"line {i}")
    if eco == "windows-arp":
        fields = {F.NAME: name}
        if pub:
            fields[F.PUBLISHER] = pub
        return Observation("software", "bench", fields, loc)
    fields: dict[str, str | tuple[str, ...]] = {F.ECOSYSTEM: eco, F.PACKAGE: name}
    if eco != "winget":
        fields[F.NAME] = name
    if pub:
        fields[F.PUBLISHER] = pub
    fields.update(package_metadata().get((eco, name), {}))
    return Observation("package", "bench", fields, loc)


def describe(det) -> str:
    ev = ", ".join(f"{e.signature}@{e.field}" for e in det.evidence[:3])
    return f"{det.family}/{det.relation.value}/{det.confidence.value} [{ev}]"


def software(matcher: Matcher, show: int) -> dict[str, tuple[int, int, int]]:
    print("=" * 100)
    print("A. SOFTWARE: labelled package and program names (bench/accuracy/software.tsv)")
    print("=" * 100)
    with SOFTWARE_TSV.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    t0 = time.perf_counter()
    fam_tp: Counter[str] = Counter()
    fam_fp: Counter[str] = Counter()
    fam_fn: Counter[str] = Counter()
    rel_tp: Counter[str] = Counter()
    rel_fp: Counter[str] = Counter()
    rel_fn: Counter[str] = Counter()
    fps: list[tuple[dict[str, str], str]] = []
    fns: list[tuple[dict[str, str], str]] = []
    relation_mismatch: list[tuple[dict[str, str], str]] = []
    possible_only = 0
    unsettled = Counter()
    unsettled_hits: list[tuple[dict[str, str], str]] = []
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    by_eco: dict[str, Counter[str]] = defaultdict(Counter)
    for i, row in enumerate(rows, start=2):
        dets = matcher.match(observation(row, i))
        pos = [d for d in dets if d.confidence in POSITIVE]
        if dets and not pos:
            possible_only += 1
        exp_f, exp_r = row["expected_family"], row["expected_relation"]
        rule = row["label_note"].split(";", 1)[-1].strip().split(" (", 1)[0]
        rule = rule if rule.startswith("override") is False else "override"
        if exp_f == "?":
            unsettled["rows"] += 1
            if pos:
                unsettled["flagged"] += 1
                unsettled_hits.append((row, "; ".join(describe(d) for d in pos)))
            continue
        by_rule[rule]["rows"] += 1
        by_eco[row["ecosystem"]]["rows"] += 1
        got_f = {d.family for d in pos}
        got_fr = {(d.family, d.relation.value) for d in pos}
        if exp_f != "-":
            by_rule[rule]["expected"] += 1
            by_eco[row["ecosystem"]]["expected"] += 1
            if exp_f in got_f:
                fam_tp[exp_f] += 1
                by_rule[rule]["found"] += 1
                by_eco[row["ecosystem"]]["found"] += 1
            else:
                fam_fn[exp_f] += 1
                fns.append((row, "; ".join(describe(d) for d in dets) or "no detection"))
            if (exp_f, exp_r) in got_fr:
                rel_tp[exp_r] += 1
            else:
                rel_fn[exp_r] += 1
                if exp_f in got_f:
                    relation_mismatch.append((row, "; ".join(describe(d) for d in pos if d.family == exp_f)))
        for d in pos:
            if d.family != exp_f:
                fam_fp[d.family] += 1
                by_rule[rule]["false-flagged"] += 1
                by_eco[row["ecosystem"]]["false-flagged"] += 1
                fps.append((row, describe(d)))
            if (d.family, d.relation.value) != (exp_f, exp_r):
                rel_fp[d.relation.value] += 1
    elapsed = time.perf_counter() - t0
    scored = len(rows) - unsettled["rows"]
    expected = sum(1 for r in rows if r["expected_family"] not in ("-", "?"))
    print(f"rows {len(rows)} (scored {scored}, expected positives {expected}, unsettled '?' {unsettled['rows']}); "
          f"matched in {elapsed:.2f} s; rows with only 'possible' detections: {possible_only}")
    print(f"targets: precision >= {TARGET_P}, recall >= {TARGET_R} on products\n")

    fams = sorted(set(fam_tp) | set(fam_fp) | set(fam_fn))
    trs = []
    for f in fams:
        tp, fp, fn = fam_tp[f], fam_fp[f], fam_fn[f]
        trs.append([f, tp, fp, fn, ratio(tp, tp + fp), ratio(tp, tp + fn), target_mark(tp, tp + fp, tp, tp + fn)])
    TP, FP, FN = sum(fam_tp.values()), sum(fam_fp.values()), sum(fam_fn.values())
    trs.append(["ALL", TP, FP, FN, ratio(TP, TP + FP), ratio(TP, TP + FN), target_mark(TP, TP + FP, TP, TP + FN)])
    print("Per family (a row counts for a family when a likely/certain detection of it is returned)")
    print(table(["family", "TP", "FP", "FN", "precision", "recall", "target"], trs))
    print()
    rels = sorted(set(rel_tp) | set(rel_fp) | set(rel_fn))
    rrs = []
    for r in rels:
        tp, fp, fn = rel_tp[r], rel_fp[r], rel_fn[r]
        rrs.append([r, tp, fp, fn, ratio(tp, tp + fp), ratio(tp, tp + fn),
                    target_mark(tp, tp + fp, tp, tp + fn) if r == "product" else ""])
    print("Per relation (family and relation must both agree with the label)")
    print(table(["relation", "TP", "FP", "FN", "precision", "recall", "target"], rrs))
    print()
    print("Per ecosystem")
    print(table(["ecosystem", "rows", "expected", "found", "false-flagged"],
                [[e, c["rows"], c["expected"], c["found"], c["false-flagged"]] for e, c in sorted(by_eco.items())]))
    print()
    print("Per labelling rule (see bench/accuracy/build_sets.py)")
    print(table(["rule", "rows", "expected", "found", "false-flagged"],
                [[k, c["rows"], c["expected"], c["found"], c["false-flagged"]]
                 for k, c in sorted(by_rule.items(), key=lambda kv: -kv[1]["rows"])]))
    print()

    def listing(title: str, items: list[tuple[dict[str, str], str]]) -> None:
        print(f"{title}: {len(items)}" + (f" (first {show})" if len(items) > show else ""))
        for row, why in items[:show]:
            pub = f" publisher={row['publisher_or_author']!r}" if row["publisher_or_author"] else ""
            print(f"  {row['ecosystem']:11} {row['name'][:60]!r}{pub} expected={row['expected_family']}"
                  f" -> {why[:150]}")
            print(f"  {'':11} label: {row['label_note'][:110]}")
        print()

    listing("False positives (detection of a family the label does not give)", fps)
    listing("False negatives (expected family not detected at likely/certain)", fns)
    listing("Family right, relation different from the label", relation_mismatch)
    listing(f"Unsettled '?' rows flagged (not scored; {unsettled['rows']} rows)", unsettled_hits)
    return {"software-family": (TP, FP, FN),
            "software-product": (rel_tp["product"], rel_fp["product"], rel_fn["product"])}


# =========================================================================== B. network
def ieee_rows() -> list[tuple[str, str, str]]:
    """(registry, assignment, organisation) of every IEEE assignment."""
    out = []
    for name in IEEE_FILES:
        p = IEEE_DIR / name
        if not p.exists():
            print(f"missing {p} (apt-get install -y ieee-data)")
            continue
        with p.open(encoding="utf-8", errors="replace", newline="") as fh:
            for r in csv.DictReader(fh):
                out.append((r["Registry"].strip(), r["Assignment"].strip().upper(), r["Organization Name"].strip()))
    return out


def ieee_version() -> str:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "ieee-data"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    return out or "version unknown"


def macs_in(prefix: str) -> list[str]:
    """Two universally administered MACs inside the block: padded with zeros and with ones."""
    return [(prefix + c * (12 - len(prefix))) for c in ("0", "F")]


def fmt(mac12: str) -> str:
    return ":".join(mac12[i:i + 2] for i in range(0, 12, 2))


def local_variant(mac12: str) -> str:
    return f"{int(mac12[:2], 16) | 0x02:02X}" + mac12[2:]


def mac_dets(matcher: Matcher, mac12: str):
    obs = Observation("device", "bench", {F.MAC: fmt(mac12)}, Locator("ieee", mac12))
    return matcher.match(obs)


# Look-alike organisations: explicit names (matched regardless of the registry table) and
# substring rules ("hik"/"zte" inside a longer word), where the organisation is not a family one.
LOOKALIKE_NAMED = [
    ("Honor (sold by Huawei in 2020)", re.compile(r"\bhonor device\b")),
    ("H3C / Huawei-3Com", re.compile(r"\bh3c\b|huawei[- ]?3com")),
    ("Uniview", re.compile(r"uniview")),
    ("other 'Honor'", re.compile(r"\bhonor\b(?! device)")),
    ("Teltronic AG / Teltronics (not Teltronic S.A.U.)", re.compile(r"teltronic(?! s\.?a\.?u)")),
    ("Lark (not Lark Technologies Pte)", re.compile(r"\blark\b")),
    ("other 'Dahua'", re.compile(r"dahua(?! technology| zhilian)")),
    ("other 'Zhongxing'", re.compile(r"zhongxing(?! telecom ltd)")),
    ("Pico Technology (not ByteDance Pico)", re.compile(r"\bpico technology\b")),
    ("other 'Hua Wei'-like", re.compile(r"\bhua ?wei\b(?!.*technolog|.*device|.*symantec)|huawe[^i]")),
    ("Lorex other than Lorex Technology", re.compile(r"\blorex\b(?! technology)")),
    ("other 'Hikari'", re.compile(r"hikari")),
    ("Tiandy (other CCTV vendor)", re.compile(r"tiandy")),
]
FAMILY_ORG = re.compile(r"hikvision|hikrobot|\bzte\b|zte technologies|ezviz")


def lookalike_group(org: str) -> str | None:
    o = org.lower()
    for label, rx in LOOKALIKE_NAMED:
        if rx.search(o):
            return label
    if FAMILY_ORG.search(o):
        return None
    words = re.findall(r"[a-z0-9]+", o)
    if any("hik" in w and w != "hik" for w in words):
        return "'hik' inside a longer word"
    if any("zte" in w and w != "zte" for w in words):
        return "'zte' inside a longer word"
    return None


# Organisations that signatures.md section 2.1 maps to a family: checked for presence in the table.
RESEARCH_ORGS = {
    "HUAWEI TECHNOLOGIES CO.,LTD": "huawei", "Huawei Device Co., Ltd.": "huawei",
    "Huawei Technologies Co., Ltd.": "huawei", "Huawei Symantec Technologies Co.,Ltd.": "huawei",
    "Hisilicon Technologies Co., Ltd": "huawei", "zte corporation": "zte", "ZHONGXING TELECOM LTD.": "zte",
    "SHANGHAI ZTE TECHNOLOGIES CO.,LTD": "zte", "Nubia Technology Co.,Ltd.": "zte (affiliate, U)",
    "Hangzhou Hikvision Digital Technology Co.,Ltd.": "hikvision",
    "Prama Hikvision India Private Limited": "hikvision (JV, U)", "Hangzhou Ezviz Software Co.,Ltd.": "hikvision",
    "Hangzhou Hikrobot Technology Co., Ltd.": "hikvision", "Hangzhou Microimage Software Co., Ltd": "hikvision (U)",
    "Zhejiang Dahua Technology Co., Ltd.": "dahua", "ZHEJIANG DAHUA TECHNOLOGYCO.,LTD": "dahua",
    "ZHEJIANG DAHUA ZHILIAN CO.,LTD": "dahua (U)", "Hangzhou Huacheng Network Technology Co.,Ltd": "dahua",
    "hangzhou huacheng network technology co., ltd": "dahua", "Zhejiang HuaRay Technology Co.,Ltd": "dahua (U)",
    "Lorex Technology Inc.": "dahua (2018-2022)", "Hytera Communications Co .,ltd": "hytera",
    "Hytera Communications Corporation Limited": "hytera", "Sepura Limited": "hytera",
    "Teltronic S.A.U.": "hytera", "Norsat International Inc.": "hytera (U)", "Bytedance": "bytedance",
    "Douyin Vision Co., Ltd": "bytedance", "Kaspersky Lab Middle-East FZ-LLC": "kaspersky",
}


def network(matcher: Matcher, show: int) -> dict[str, tuple[int, int, int]]:
    print("=" * 100)
    print("B. NETWORK: IEEE assignments of the families, locally administered MACs, look-alikes")
    print("=" * 100)
    reg = matcher.registry
    ieee = ieee_rows()
    print(f"registry OUI table: {len(reg.oui)} assignments ({reg.oui_date or 'no date'}); "
          f"IEEE files: {len(ieee)} assignments in {IEEE_DIR} (ieee-data {ieee_version()})")
    print("  (look-alikes come from the local IEEE files; where they are older than the table's snapshot,")
    print("   newer look-alike blocks are not covered)\n")
    assigned = Counter()
    identified = Counter()
    missed: list[str] = []
    local_hits: list[str] = []
    local_checked = 0
    odd_ul: list[str] = []
    divested = [a for a in reg.oui if not current(reg, a.family, a.entity)]
    if divested:
        print(f"{len(divested)} assignments of entities that are not the family's on {AS_OF} are left to part F: "
              + ", ".join(sorted({f"{a.family}/{a.entity}" for a in divested})) + "\n")
    for a in reg.oui:
        if not current(reg, a.family, a.entity):
            continue
        assigned[a.family] += 1
        ok = True
        for mac in macs_in(a.prefix):
            if int(mac[:2], 16) & 0x02:
                odd_ul.append(f"{a.prefix} {a.organization}")
                ok = False
                break
            dets = mac_dets(matcher, mac)
            if not any(d.family == a.family and d.confidence == Confidence.LIKELY for d in dets):
                ok = False
                got = ", ".join(f"{d.family}/{d.confidence.value}" for d in dets) or "nothing"
                missed.append(f"{a.registry} {a.prefix} {a.organization} ({a.family}) {fmt(mac)} -> {got}")
                break
            lm = local_variant(mac)
            local_checked += 1
            ldets = mac_dets(matcher, lm)
            if ldets:
                local_hits.append(f"{fmt(lm)} (from {a.prefix} {a.organization}) -> "
                                  + ", ".join(d.family for d in ldets))
        if ok:
            identified[a.family] += 1
    rows = [[f, assigned[f], identified[f], assigned[f] - identified[f], ratio(identified[f], assigned[f])]
            for f in sorted(assigned)]
    T, I = sum(assigned.values()), sum(identified.values())
    rows.append(["ALL", T, I, T - I, ratio(I, T)])
    print("Family assignments in the registry table (MAC padded with 0s and with Fs must give 'likely')")
    print(table(["family", "assignments", "identified", "missed", "rate"], rows))
    for m in missed[:show]:
        print("  missed:", m)
    for m in odd_ul[:show]:
        print("  block with the locally-administered bit set in its first octet:", m)
    print()
    print(f"Locally administered variants (first octet | 0x02) of those MACs: checked {local_checked}, "
          f"matched {len(local_hits)} (target 0)")
    for m in local_hits[:show]:
        print("  matched:", m)
    print()

    # completeness of the table against the organisations the research maps to the families
    table_orgs = Counter(a.organization for a in reg.oui)
    table_prefixes = {a.prefix for a in reg.oui}
    ieee_by_org: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r, p, o in ieee:
        ieee_by_org[o].append((r, p))
    crow = []
    for org, fam in RESEARCH_ORGS.items():
        blocks = ieee_by_org.get(org, [])
        notin = [p for _, p in blocks if p not in table_prefixes]
        crow.append([org[:48], fam, len(blocks), table_orgs.get(org, 0), len(notin)])
    print("IEEE organisations that signatures.md 2.1 maps to a family, against the registry table")
    print(table(["organisation (IEEE spelling)", "maps to", "in IEEE files", "in table", "IEEE not in table"], crow))
    print()

    groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    flagged: dict[str, Counter[str]] = defaultdict(Counter)
    flagged_list: list[str] = []
    for r, p, o in ieee:
        g = lookalike_group(o)
        if g is None:
            continue
        groups[g][o].append(p)
        for mac in macs_in(p):
            if int(mac[:2], 16) & 0x02:
                continue
            dets = [d for d in mac_dets(matcher, mac)]
            if dets:
                flagged[g][o] += 1
                flagged_list.append(f"{r} {p} {o!r} -> " + ", ".join(f"{d.family}/{d.confidence.value}" for d in dets))
                break
    lrows = []
    LA = LF = 0
    for g in sorted(groups):
        for o in sorted(groups[g], key=str.lower):
            n = len(groups[g][o])
            LA += n
            LF += flagged[g][o]
            lrows.append([g[:40], o[:52], n, flagged[g][o]])
    print("Look-alike organisations (any detection counts as flagged; target 0)")
    print(table(["group", "organisation", "assignments", "flagged"], lrows))
    print(f"  total: {LA} assignments of {len(lrows)} organisations, {LF} flagged")
    for m in flagged_list[:show]:
        print("  flagged:", m)
    print()
    return {"oui-identified": (I, 0, T - I), "oui-local": (0, len(local_hits), 0), "lookalike": (0, LF, 0)}


# =========================================================================== shared evaluator
LEVELS: tuple[tuple[str, tuple[Confidence, ...]], ...] = (
    ("likely+", (Confidence.LIKELY, Confidence.CERTAIN)),
    ("possible+", (Confidence.POSSIBLE, Confidence.LIKELY, Confidence.CERTAIN)),
)


@dataclass
class Item:
    """One labelled observation: ``expected`` is a family id or '-' (no family)."""

    obs: Observation
    expected: str
    rule: str
    show: str


@dataclass
class Result:
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    kind_tp: Counter[str] = field(default_factory=Counter)
    kind_fp: Counter[str] = field(default_factory=Counter)
    rule_fp: Counter[str] = field(default_factory=Counter)
    fps: list[str] = field(default_factory=list)
    fns: list[str] = field(default_factory=list)

    def totals(self) -> tuple[int, int, int]:
        return sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())


class Kinds:
    """Signature id -> signature kind (``oui`` for IEEE blocks)."""

    def __init__(self, reg) -> None:
        self.by_id = {s.id: s.kind for s in reg.signatures}

    def __call__(self, sid: str) -> str:
        if sid in self.by_id:
            return self.by_id[sid]
        if sid.startswith("ieee."):
            return "oui"
        parts = sid.split(".")
        return parts[1] if len(parts) >= 3 else parts[0]


def lead_kind(det, kinds: Kinds) -> str:
    """The kind of the leading evidence; for package metadata, with the field it was read in
    (``domain@homepage``: the homepage's registrable domain is the family's)."""
    if not det.evidence:
        return "?"
    e = det.evidence[0]
    k = kinds(e.signature)
    return f"{k}@{e.field}" if e.field in META_FIELDS else k


def evaluate(title: str, items: list[Item], matcher: Matcher, kinds: Kinds, show: int,
             product_target: bool = True) -> dict[str, Result]:
    """Precision and recall per confidence level, per family and per signature kind."""
    print("-" * 100)
    print(f"{title}: {len(items)} labelled observations, "
          f"{sum(1 for i in items if i.expected != '-')} expected positives")
    print("-" * 100)
    res = {name: Result() for name, _ in LEVELS}
    for it in items:
        dets = matcher.match(it.obs)
        for name, confs in LEVELS:
            r = res[name]
            got = {d.family: d for d in dets if d.confidence in confs}
            if it.expected != "-":
                if it.expected in got:
                    r.tp[it.expected] += 1
                    r.kind_tp[lead_kind(got[it.expected], kinds)] += 1
                else:
                    r.fn[it.expected] += 1
                    why = ", ".join(f"{d.family}/{d.confidence.value}" for d in dets) or "nothing"
                    r.fns.append(f"{it.show} expected={it.expected} -> {why}  [{it.rule}]")
            for fam, d in got.items():
                if fam != it.expected:
                    r.fp[fam] += 1
                    r.kind_fp[lead_kind(d, kinds)] += 1
                    r.rule_fp[it.rule.split(" ", 1)[0]] += 1
                    ev = ", ".join(e.signature for e in d.evidence[:2])
                    r.fps.append(f"{it.show} expected={it.expected} -> {fam}/{d.confidence.value} [{ev}]  [{it.rule}]")
    rows = []
    for name, _ in LEVELS:
        r = res[name]
        for f in sorted(set(r.tp) | set(r.fp) | set(r.fn)):
            tp, fp, fn = r.tp[f], r.fp[f], r.fn[f]
            rows.append([name, f, tp, fp, fn, ratio(tp, tp + fp), ratio(tp, tp + fn)])
        TP, FP, FN = r.totals()
        mark = target_mark(TP, TP + FP, TP, TP + FN) if (product_target and name == "likely+") else ""
        rows.append([name, "ALL", TP, FP, FN, ratio(TP, TP + FP), ratio(TP, TP + FN), mark])
    print("Per confidence level and family")
    print(table(["level", "family", "TP", "FP", "FN", "precision", "recall", "target"],
                [r + [""] * (8 - len(r)) for r in rows]))
    krows = []
    for name, _ in LEVELS:
        r = res[name]
        for k in sorted(set(r.kind_tp) | set(r.kind_fp)):
            tp, fp = r.kind_tp[k], r.kind_fp[k]
            krows.append([name, k, tp, fp, ratio(tp, tp + fp)])
    if krows:
        print("\nPer confidence level and signature kind (the kind of the leading evidence)")
        print(table(["level", "kind", "TP", "FP", "precision"], krows))
    fp_rules = res["likely+"].rule_fp
    if fp_rules:
        print("\nFalse positives at likely+ per labelling rule: "
              + ", ".join(f"{k} {v}" for k, v in fp_rules.most_common()))
    for name, _ in LEVELS:
        r = res[name]
        for what, lst in (("false positives", r.fps), ("false negatives", r.fns)):
            if lst and (name == "likely+" or what == "false positives"):
                print(f"\n{name} {what}: {len(lst)}" + (f" (first {show})" if len(lst) > show else ""))
                for line in lst[:show]:
                    print("  " + line[:220])
    print()
    return res


def _obs(kind: str, fields: dict[str, str], where: str) -> Observation:
    return Observation(kind, "bench", fields, Locator("bench", where))


# =========================================================================== C. winget index
def winget_items() -> list[Item]:
    items = []
    with WINGET_TSV.open(encoding="utf-8", newline="") as fh:
        header = fh.readline()
        print(header.strip("# \n"))
        for i, row in enumerate(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\")):
            fields = {F.ECOSYSTEM: "winget", F.PACKAGE: row["package_id"], F.NAME: row["name"]}
            items.append(Item(_obs("package", fields, f"winget {i}"), row["expected_family"], row["label_note"],
                              f"winget {row['package_id']!r} {row['name']!r}"))
    return items


def maven_items() -> list[Item]:
    items = []
    with MAVEN_TSV.open(encoding="utf-8", newline="") as fh:
        print(fh.readline().strip("# \n"))
        for i, row in enumerate(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)):
            if row["expected_family"] == "?":
                continue
            group, artifact = row["coordinate"].split(":", 1)
            fields = {F.ECOSYSTEM: "maven", F.PACKAGE: row["coordinate"], F.NAME: artifact,
                      F.PURL: f"pkg:maven/{group}/{artifact}"}
            items.append(Item(_obs("component", fields, f"maven {i}"), row["expected_family"], row["label_note"],
                              f"maven {row['coordinate']!r}"))
    return items


def homebrew_items() -> list[Item]:
    items = []
    with HOMEBREW_TSV.open(encoding="utf-8", newline="") as fh:
        print(fh.readline().strip("# \n"))
        for i, row in enumerate(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)):
            fields = {F.ECOSYSTEM: "homebrew", F.PACKAGE: row["token"], F.NAME: row["name"]}
            items.append(Item(_obs("package", fields, f"homebrew {i}"), row["expected_family"], row["label_note"],
                              f"homebrew {row['token']!r} {row['name']!r}"))
    return items


# =========================================================================== D. domains and the PSL
def domain_items(reg, seed: int = 20261201) -> tuple[list[Item], list[Item]]:
    """(positives from the community list, traps): traps are Honor's domains, family marks as a user's
    site under the PSL's private suffixes (shared hosting), family domains as a label inside someone
    else's domain, and 'not'+mark names."""
    from publicsuffixlist import PublicSuffixList

    psl = PublicSuffixList()
    t = reg.domains
    pos: list[Item] = []
    traps: list[Item] = []
    if t is None:
        print("no generated/domains.json in the registry")
        return pos, traps
    print(f"domain table: {len(t.domains)} domains from {t.repository} @{t.commit[:12]} ({t.data_date})")

    def dns(name: str, exp: str, rule: str) -> Item:
        return Item(_obs("dns", {F.DOMAIN: name}, name), exp, rule, f"dns {name!r}")

    for d in t.domains:
        pos.append(dns(d.domain, d.family, f"community-list ({d.list})"))
        if d.match == "subdomains":
            pos.append(dns(f"x1.{d.domain}", d.family, f"community-list ({d.list}, subdomain)"))
    for tr in t.traps:
        traps.append(dns(tr["domain"], "-", "trap-list (honor)"))
        traps.append(dns(f"www.{tr['domain']}", "-", "trap-list (honor)"))
    private = sorted(_private_suffixes())
    rng = random.Random(seed)
    marks = sorted({reg_label for d in t.domains
                    if (rd := psl.privatesuffix(d.domain)) and (reg_label := rd.split(".")[0]) in
                    {"kaspersky", "huawei", "hikvision", "bytedance", "tiktok", "deepseek", "zte", "douyin",
                     "feishu", "larksuite", "volcengine", "ezviz", "nubia", "huaweicloud", "capcut"}})
    for suffix in rng.sample(private, min(150, len(private))):
        for m in marks:
            traps.append(dns(f"{m}.{suffix}", "-", "psl-private-suffix (a user's site on shared hosting)"))
    regs = sorted({rd for d in t.domains if (rd := psl.privatesuffix(d.domain)) == d.domain})
    for rd in rng.sample(regs, min(200, len(regs))):
        traps.append(dns(f"{rd}.example.net", "-", "inside-another-domain"))
        traps.append(dns(f"{rd}.evil-cdn.com", "-", "inside-another-domain"))
        traps.append(dns(f"not{rd}", "-", "prefixed-look-alike"))
    return pos, traps


def _private_suffixes() -> set[str]:
    """The private-section suffixes of the PSL that publicsuffixlist ships (shared hosting, dynamic DNS)."""
    import publicsuffixlist

    path = Path(publicsuffixlist.__file__).parent / "public_suffix_list.dat"
    out: set[str] = set()
    private = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if "===BEGIN PRIVATE DOMAINS===" in line:
            private = True
        if not private or not line or line.startswith("//") or line[0] in "*!":
            continue
        if line.isascii():
            out.add(line.strip())
    return out


# =========================================================================== E. IANA enterprise numbers
FAMILY_WORDS = re.compile(r"huawei|hikvision|hikrobot|ezviz|dahua|hytera|kaspersky|bytedance|tiktok|deepseek|"
                          r"sepura|teltronic|norsat|sinclair tech|zhongxing|zte|\bhik|lorex|honor|h3c|uniview|"
                          r"hisilicon|imou|amcrest|nubia")


def pen_items(reg) -> tuple[list[Item], list[Item], list[Item], list[Item]]:
    """(family numbers, look-alike numbers, family names as organisation text, look-alike names)."""
    nums: list[Item] = []
    lnums: list[Item] = []
    names: list[Item] = []
    lnames: list[Item] = []
    t = reg.pen
    if t is None:
        print("no generated/pen.json in the registry")
        return nums, lnums, names, lnames
    print(f"enterprise-number table: {len(t.assignments)} numbers ({t.data_date}); look-alikes from {PEN_FILE}")
    mapped = {a.number: a for a in t.assignments}
    gone = [a for a in t.assignments if not current(reg, a.family, a.entity)]
    if gone:
        print(f"{len(gone)} numbers of entities that are not the family's on {AS_OF} are left to part F: "
              + ", ".join(f"{a.number} ({a.family}/{a.entity})" for a in gone))
    for a in t.assignments:
        if not current(reg, a.family, a.entity):
            continue
        oid = f"1.3.6.1.4.1.{a.number}.1.2"
        nums.append(Item(_obs("snmp", {F.SYS_OBJECT_ID: oid}, oid), a.family, "iana-table", f"sysObjectID {oid}"))
        names.append(Item(_obs("snmp", {F.PUBLISHER: a.organization}, a.organization), a.family, "iana-name",
                          f"organisation {a.organization!r}"))
    if not PEN_FILE.exists():
        print(f"missing {PEN_FILE} (apt-get install -y libwireshark-data): no look-alike numbers")
        return nums, lnums, names, lnames
    for line in PEN_FILE.read_text(encoding="utf-8").splitlines():
        num, _, org = line.partition("\t")
        if not num.isdigit() or int(num) in mapped or not FAMILY_WORDS.search(org.lower()):
            continue
        oid = f"1.3.6.1.4.1.{num}.1.2"
        lnums.append(Item(_obs("snmp", {F.SYS_OBJECT_ID: oid}, oid), "-", f"iana-look-alike ({org[:40]})",
                          f"sysObjectID {oid} ({org[:50]})"))
        lnames.append(Item(_obs("snmp", {F.PUBLISHER: org}, org), "-", "iana-look-alike-name",
                           f"organisation {org[:60]!r}"))
    return nums, lnums, names, lnames


def ieee_name_items(reg) -> tuple[list[Item], list[Item]]:
    """IEEE organisation names as organisation text: the table's organisations, and the look-alikes."""
    fam_orgs = {a.organization: a.family for a in reg.oui if current(reg, a.family, a.entity)}
    pos = [Item(_obs("device", {F.OUI_VENDOR: o}, o), f, "ieee-table-name", f"oui_vendor {o!r}")
           for o, f in sorted(fam_orgs.items())]
    traps = []
    all_orgs = {a.organization for a in reg.oui}
    for _, _, o in sorted(set(ieee_rows())):
        if o in all_orgs or lookalike_group(o) is None:
            continue
        traps.append(Item(_obs("device", {F.OUI_VENDOR: o}, o), "-", "ieee-look-alike-name", f"oui_vendor {o!r}"))
    uniq = {i.show: i for i in traps}
    return pos, list(uniq.values())


# =========================================================================== F. ownership over time
def make_matcher(reg, as_of: dt.date | None) -> Matcher:
    if as_of is not None and "as_of" in inspect.signature(Matcher).parameters:
        return Matcher(reg, as_of=as_of)  # type: ignore[call-arg]
    return Matcher(reg)


def dated(reg, show: int) -> tuple[int, int, int, int]:
    """For every entity with dates: its identifiers (IEEE blocks, enterprise numbers, its name) on days
    inside and outside its periods.  Outside: no likely+ detection of the family (target 0).  Inside:
    a likely+ detection (recall)."""
    print("=" * 100)
    print("F. OWNERSHIP OVER TIME: identifiers of dated entities inside and outside their periods")
    print("=" * 100)
    as_of_ok = "as_of" in inspect.signature(Matcher).parameters
    today = dt.date.today()
    if not as_of_ok:
        print("the matcher takes no as-of date: every day below is judged as the matcher judges today\n")
    cases: list[tuple[str, str, str, Observation]] = []  # family, entity, label, observation
    ents = [(f.id, e) for f in reg.families.values() for e in f.entities if any(a or b for a, b in e.spans())]
    for fid, e in ents:
        for a in reg.oui:
            if a.family == fid and a.entity == e.id:
                mac = fmt(macs_in(a.prefix)[0])
                cases.append((fid, e.id, f"MAC {mac} ({a.organization})", _obs("device", {F.MAC: mac}, mac)))
        for p in (reg.pen.assignments if reg.pen else []):
            if p.family == fid and p.entity == e.id:
                oid = f"1.3.6.1.4.1.{p.number}.1"
                cases.append((fid, e.id, f"sysObjectID {oid}", _obs("snmp", {F.SYS_OBJECT_ID: oid}, oid)))
        if "(" not in e.name:  # a descriptive entity name ("Honor (Huawei sub-brand ...)") is no publisher
            cases.append((fid, e.id, f"publisher {e.name!r}",
                          _obs("software", {F.NAME: "Device software", F.PUBLISHER: e.name}, e.name)))
    days_of: dict[str, list[dt.date]] = {}
    for _fid, e in ents:
        days: set[dt.date] = {today}
        for a, b in e.spans():
            if a:
                days |= {a - dt.timedelta(days=1), a}
            if b:
                days |= {b - dt.timedelta(days=1), b, b + dt.timedelta(days=365)}
        days_of[e.id] = sorted(d for d in days if d <= today)
    matchers: dict[dt.date, Matcher] = {}
    inside = inside_found = outside = outside_flagged = 0
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    bad: list[str] = []
    missed: list[str] = []
    for fid, eid, label, obs in cases:
        ent = reg.entity(fid, eid)
        for day in days_of[eid]:
            m = matchers.get(day) or matchers.setdefault(day, make_matcher(reg, day))
            dets = [d for d in m.match(obs) if d.family == fid]
            flagged = any(d.confidence in (Confidence.LIKELY, Confidence.CERTAIN) for d in dets)
            r = rows[f"{fid}/{eid}"]
            if ent.member_on(day):
                inside += 1
                r[0] += 1
                if flagged:
                    inside_found += 1
                    r[1] += 1
                else:
                    missed.append(f"{day} {fid}/{eid} {label} -> "
                                  + (", ".join(d.confidence.value for d in dets) or "nothing"))
            else:
                outside += 1
                r[2] += 1
                if flagged:
                    outside_flagged += 1
                    r[3] += 1
                    bad.append(f"{day} {fid}/{eid} {label} -> "
                               + ", ".join(f"{d.relation.value}/{d.confidence.value}" for d in dets))
    print(table(["entity", "checks in period", "found likely+", "checks outside", "flagged likely+"],
                [[k, *v] for k, v in sorted(rows.items())]))
    print(f"\noutside the periods: {outside} checks, {outside_flagged} flagged at likely+ (target 0)")
    for b in bad[:show]:
        print("  flagged:", b)
    print(f"inside the periods: {inside} checks, {inside_found} found at likely+")
    for m_ in missed[:show]:
        print("  missed:", m_)
    print()
    return inside, inside_found, outside, outside_flagged


def labelled_sets(reg, matcher: Matcher, show: int) -> dict[str, dict[str, Result]]:
    print("=" * 100)
    print("C-E. LABELLED REAL-WORLD SETS, per confidence level, family and kind")
    print("=" * 100)
    kinds = Kinds(reg)
    out: dict[str, dict[str, Result]] = {}
    rows = []
    with SOFTWARE_TSV.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
            if row["expected_family"] == "?":
                continue
            rows.append(Item(observation(row, i), row["expected_family"], row["label_note"].split(";", 1)[-1].strip(),
                             f"{row['ecosystem']} {row['name'][:60]!r}"))
    out["package lists and Windows samples (software.tsv)"] = evaluate(
        "A'. software.tsv (PyPI, npm, NuGet, Maven, Windows inventories)", rows, matcher, kinds, show)
    out["winget index"] = evaluate("C. winget package index (publisher namespace labels)", winget_items(), matcher,
                                   kinds, show)
    out["Maven coordinates"] = evaluate("C2. Maven coordinates from public pages (groupId ownership labels)",
                                        maven_items(), matcher, kinds, show)
    out["Homebrew casks"] = evaluate("C3. Homebrew casks (download and homepage ownership labels)",
                                     homebrew_items(), matcher, kinds, show)
    pos, traps = domain_items(reg)
    out["domains: community list"] = evaluate("D1. domains of the community list (table wiring)", pos, matcher,
                                              kinds, show)
    out["domains: PSL and look-alike traps"] = evaluate("D2. domain traps (Honor, PSL private suffixes, "
                                                        "look-alikes)", traps, matcher, kinds, show, False)
    nums, lnums, names, lnames = pen_items(reg)
    out["IANA numbers"] = evaluate("E1. IANA enterprise numbers of the families (sysObjectID)", nums, matcher,
                                   kinds, show)
    out["IANA look-alike numbers"] = evaluate("E2. IANA look-alike numbers", lnums, matcher, kinds, show, False)
    out["IANA names"] = evaluate("E3. IANA organisation names of the families (organisation text)", names,
                                 matcher, kinds, show)
    out["IANA look-alike names"] = evaluate("E4. IANA look-alike organisation names", lnames, matcher, kinds,
                                            show, False)
    ipos, itraps = ieee_name_items(reg)
    out["IEEE names"] = evaluate("E5. IEEE organisation names of the families (oui_vendor text)", ipos, matcher,
                                 kinds, show)
    out["IEEE look-alike names"] = evaluate("E6. IEEE look-alike organisation names", itraps, matcher, kinds,
                                            show, False)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("software", "network", "sets", "dates", "all"), default="all")
    ap.add_argument("--show", type=int, default=20, help="how many false positives/negatives to list")
    ap.add_argument("--as-of", type=dt.date.fromisoformat, default=None,
                    help="judge as of this day (default: today), when the matcher takes a date")
    ap.add_argument("--no-metadata", action="store_true",
                    help="read the package rows without accuracy/metadata.tsv (names only), for comparison")
    a = ap.parse_args(argv)
    global AS_OF, USE_METADATA
    USE_METADATA = not a.no_metadata
    AS_OF = a.as_of or dt.date.today()
    reg = load()
    matcher = make_matcher(reg, a.as_of)
    print(f"registry {reg.version} sha256 {reg.sha256[:12]}; {len(reg.signatures)} signatures, "
          f"{len(reg.oui)} OUI assignments; matcher "
          + ("as of " + str(getattr(matcher, "as_of", None)) if hasattr(matcher, "as_of") else "without dates")
          + "\n")
    res: dict[str, tuple[int, int, int]] = {}
    sets: dict[str, dict[str, Result]] = {}
    dates: tuple[int, int, int, int] | None = None
    if a.part in ("software", "all"):
        res.update(software(matcher, a.show))
    if a.part in ("network", "all"):
        res.update(network(matcher, a.show))
    if a.part in ("sets", "all"):
        sets = labelled_sets(reg, matcher, a.show)
    if a.part in ("dates", "all"):
        dates = dated(reg, a.show)
    print("=" * 100)
    print("OVERALL")
    print("=" * 100)
    if "software-family" in res:
        tp, fp, fn = res["software-family"]
        print(f"software, any family     : precision {ratio(tp, tp + fp)}  recall {ratio(tp, tp + fn)}  "
              f"(TP {tp}, FP {fp}, FN {fn})")
        tp, fp, fn = res["software-product"]
        print(f"software, products       : precision {ratio(tp, tp + fp)}  recall {ratio(tp, tp + fn)}  "
              f"(TP {tp}, FP {fp}, FN {fn})  target >= {TARGET_P} / >= {TARGET_R}: "
              f"{target_mark(tp, tp + fp, tp, tp + fn)}")
    if "oui-identified" in res:
        i, _, m = res["oui-identified"]
        print(f"OUI assignments (current): identified {i}, missed {m}  (target: missed 0)")
        print(f"locally administered MACs: matched {res['oui-local'][1]}  (target 0)")
        print(f"look-alike assignments   : flagged {res['lookalike'][1]}  (target 0)")
    if sets:
        rows = []
        for name, r in sets.items():
            for level, _ in LEVELS:
                tp, fp, fn = r[level].totals()
                rows.append([name, level, tp, fp, fn, ratio(tp, tp + fp), ratio(tp, tp + fn)])
        print()
        print(table(["set", "level", "TP", "FP", "FN", "precision", "recall"], rows))
        prod = [r["likely+"].totals() for n, r in sets.items()
                if n in ("package lists and Windows samples (software.tsv)", "winget index", "Maven coordinates",
                          "Homebrew casks")]
        tp, fp, fn = (sum(x[k] for x in prod) for k in range(3))
        print(f"\nproducts (software.tsv, winget, Maven, Homebrew) at likely+: precision {ratio(tp, tp + fp)} recall "
              f"{ratio(tp, tp + fn)}  target >= {TARGET_P} / >= {TARGET_R}: {target_mark(tp, tp + fp, tp, tp + fn)}")
        tp, _, fn = sets["IANA numbers"]["likely+"].totals()
        print(f"IANA numbers of the families' current entities found at likely+: {tp} of {tp + fn}  (target: all)")
        la = sum(sets[n]["possible+"].totals()[1] for n in sets if "look-alike" in n or "traps" in n)
        print(f"look-alikes flagged at any level (domains, IANA, IEEE names): {la}  (target 0)")
    if dates:
        inside, found, outside, flagged = dates
        print(f"dated entities: outside their periods flagged at likely+ {flagged} of {outside} (target 0); "
              f"inside found {found} of {inside}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
