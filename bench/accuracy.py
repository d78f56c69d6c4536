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
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from banscan.match import Matcher
from banscan.model import Confidence, F, Locator, Observation
from banscan.registry import load

HERE = Path(__file__).resolve().parent
SOFTWARE_TSV = HERE / "accuracy" / "software.tsv"
IEEE_DIR = Path("/usr/share/ieee-data")
IEEE_FILES = ("oui.csv", "mam.csv", "oui36.csv", "iab.csv")
TARGET_P = 0.98
TARGET_R = 0.98
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
def observation(row: dict[str, str], i: int) -> Observation:
    eco, name, pub = row["ecosystem"], row["name"], row["publisher_or_author"]
    loc = Locator(str(SOFTWARE_TSV.name), f"line {i}")
    if eco == "windows-arp":
        fields = {F.NAME: name}
        if pub:
            fields[F.PUBLISHER] = pub
        return Observation("software", "bench", fields, loc)
    fields = {F.ECOSYSTEM: eco, F.PACKAGE: name}
    if eco != "winget":
        fields[F.NAME] = name
    if pub:
        fields[F.PUBLISHER] = pub
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
    for a in reg.oui:
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("software", "network", "all"), default="all")
    ap.add_argument("--show", type=int, default=20, help="how many false positives/negatives to list")
    a = ap.parse_args(argv)
    reg = load()
    matcher = Matcher(reg)
    print(f"registry {reg.version} sha256 {reg.sha256[:12]}; {len(reg.signatures)} signatures, "
          f"{len(reg.oui)} OUI assignments\n")
    res: dict[str, tuple[int, int, int]] = {}
    if a.part in ("software", "all"):
        res.update(software(matcher, a.show))
    if a.part in ("network", "all"):
        res.update(network(matcher, a.show))
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
        print(f"OUI assignments          : identified {i}, missed {m}  (target: missed 0)")
        print(f"locally administered MACs: matched {res['oui-local'][1]}  (target 0)")
        print(f"look-alike assignments   : flagged {res['lookalike'][1]}  (target 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
