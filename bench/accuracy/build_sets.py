"""Build bench/accuracy/software.tsv: a labelled set of real package and program names.

    python bench/accuracy/build_sets.py            # rewrites bench/accuracy/software.tsv

Inputs (read-only, none written by this project):
  * public registry name lists: pypi.tsv, npm.tsv, nuget.tsv, maven-partial.tsv
    (default folder /work/.library/env/packages, or --lists DIR)
  * installed-software inventories: shared/samples/windows/*.csv (DisplayName/Publisher) and
    winget-export-*.json (PackageIdentifier)

Rows:
  1. every package whose name or summary mentions a restricted-vendor family, one of its
     brands or products (CANDIDATE_WORDS below), labelled by the rules in ``label()``;
  2. a fixed-seed random sample of other rows of each list (negatives);
  3. the Windows inventory rows (negatives; none of them names a family).

Labels: expected_family is a family id, ``-`` (not a product of any family) or ``?``
(provenance not settled: excluded from scoring, reported separately).  expected_relation is
``product`` or ``-``.  label_note says which rule decided, so a reviewer can check it.
The output is the same for the same inputs.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LISTS = Path("/work/.library/env/packages")
SAMPLES = ROOT.parent / "shared" / "samples" / "windows"
SEED = 20261127
NEGATIVES_PER_LIST = 5000
SUMMARY_MAX = 80

# Words whose presence marks a row as a candidate.  Long, distinctive words count as substrings
# of the name or summary; short ones (which occur inside unrelated words) count as substrings of
# the name only -- deliberately, so that names like "aztec", "hamcrest", "clark" and "imouse"
# end up in the set as hard negatives -- and as whole tokens of the summary.
CANDIDATE_WORDS = [
    "kaspersky", "opentip", "huawei", "hisilicon", "hmscore", "agconnect", "hikvision",
    "hik-connect", "hikconnect", "ezviz", "dahua", "lechange", "amcrest", "hytera", "sepura",
    "teltronic", "bytedance", "tiktok", "douyin", "capcut", "larksuite", "feishu", "volcengine",
    "byteplus", "doubao", "deepseek", "pangle",
]
SHORT_WORDS = ["zte", "imou", "lorex", "lark", "byted", "pangle"]
# Official packages that mention no family word (added by name).
EXTRA_NAMES = {
    "pypi": {"esdk-obs-python", "torch-npu", "ascend-cann-toolkit", "ascend-cann-nnrt", "lark-oapi"},
}

PLACEHOLDER = "reserved placeholder package to mitigate dependency confusion"


# --------------------------------------------------------------------------- labelling rules
# Each rule: (rule id, predicate(eco, name, summary) -> bool, family, relation).  The first
# rule that matches decides.  OVERRIDES, keyed by (ecosystem, lower-case name), come first.

OVERRIDES: dict[tuple[str, str], tuple[str, str, str]] = {
    # (family, relation, note)
    ("pypi", "agconnect"): ("huawei", "product", "AppGallery Connect Server SDK (Huawei AGC)"),
    ("pypi", "lark-oapi"): ("bytedance", "product", "Lark/Feishu OpenAPI SDK published by Lark (signatures.md 9.5)"),
    ("pypi", "volcengine"): ("bytedance", "product", "Volcano Engine SDK (signatures.md 9.5)"),
    ("pypi", "volcengine-python-sdk"): ("bytedance", "product", "Volcano Engine SDK (signatures.md 9.5)"),
    ("pypi", "esdk-obs-python"): ("huawei", "product", "Huawei Cloud OBS SDK (signatures.md 4.3)"),
    ("pypi", "torch-npu"): ("huawei", "product", "Ascend NPU adapter for PyTorch (signatures.md 4.3/4.9)"),
    ("pypi", "ascend-cann-toolkit"): ("huawei", "product", "Ascend CANN (signatures.md 4.3/4.9)"),
    ("pypi", "ascend-cann-nnrt"): ("huawei", "product", "Ascend CANN (signatures.md 4.3/4.9)"),
    ("pypi", "byteplus-sdk"): ("bytedance", "product", "BytePlus (ByteDance cloud) SDK"),
    ("pypi", "byteplus-python-sdk-v2"): ("bytedance", "product", "BytePlus (ByteDance cloud) SDK"),
    # provenance not settled -> excluded from scoring
    ("pypi", "bytedance"): ("?", "-", "ownership unverified (signatures.md 9.5 'U')"),
    ("pypi", "bytedance-douyinpay"): ("?", "-", "publisher unverified"),
    ("pypi", "hytera"): ("?", "-", "'Hytera-specific toolkit', publisher unknown"),
    ("pypi", "networking-zte"): ("?", "-", "OpenStack Neutron plug-in, vendor-maintained or not unverified"),
    ("pypi", "networking-huawei"): ("?", "-", "OpenStack Neutron plug-in, vendor-maintained or not unverified"),
    ("pypi", "python-ibmcclient"): ("?", "-", "Huawei iBMC client, publisher unverified"),
    ("pypi", "byteplus"): ("?", "-", "publisher unverified"),
    ("pypi", "byteplus-rec"): ("?", "-", "publisher unverified"),
    ("pypi", "byteplus-rec-core"): ("?", "-", "publisher unverified"),
    ("pypi", "larksuite-oapi"): ("?", "-", "possibly the vendor's older SDK name, unverified"),
    ("pypi", "larksuite-cli"): ("?", "-", "placeholder pointing to @larksuite/cli; publisher unverified"),
    ("pypi", "byteplus-py"): ("-", "-", "third-party BytePlus ModelArk client"),
    ("pypi", "huawei"): ("-", "-", "unrelated personal upload (summary is a person's name)"),
    ("pypi", "dahua"): ("-", "-", "unrelated joke package (Chinese 'slacker' message)"),
    ("pypi", "zteb"): ("-", "-", "homonym: 'Tony's Electronic Birthday-Card'"),
    ("npm", "tiktok-opensdk-react-native"): ("bytedance", "product", "TikTok OpenSDK (signatures.md 9.5)"),
    ("npm", "tiktok-business-api-sdk-official"): ("bytedance", "product", "TikTok Business API SDK (signatures.md 9.5)"),
    ("npm", "deepseek"): ("-", "-", "no official DeepSeek npm package (signatures.md 10.2)"),
}


def _n(name: str) -> str:
    return name.lower()


RULES: list[tuple[str, object, str, str]] = [
    # --- Kaspersky: vendor npm scope; every PyPI hit is a third-party client or tool
    ("kaspersky-npm-scope: @kaspersky/* is the vendor's scope (signatures.md 3.6)",
     lambda e, n, s: e == "npm" and _n(n).startswith("@kaspersky/"), "kaspersky", "product"),
    # --- Huawei: Huawei Cloud SDKs and HMS / AGC bindings published by Huawei
    ("huawei-cloud-sdk: huaweicloudsdk* published by Huawei Cloud (signatures.md 4.3)",
     lambda e, n, s: e == "pypi" and _n(n).startswith("huaweicloudsdk"), "huawei", "product"),
    ("huawei-npm-scope: @huaweicloud/*, @hmscore/*, @agconnect/*, @react-native-agconnect/* (signatures.md 4.3/4.5)",
     lambda e, n, s: e == "npm" and _n(n).startswith(("@huaweicloud/", "@hmscore/", "@agconnect/",
                                                      "@react-native-agconnect/")), "huawei", "product"),
    ("huawei-legacy-sdk: older 'huaweicloud-sdk-python*' uploads, publisher unverified",
     lambda e, n, s: e == "pypi" and _n(n).startswith(("huaweicloud-sdk-python", "huaweicloud-python-sdk")),
     "?", "-"),
    # --- ByteDance: Volcano Engine / BytePlus SDKs, Lark/TikTok npm scopes, name reservations
    ("bytedance-volcengine-sdk: volcenginesdk* 'Volcengine X SDK for Python' by Volcano Engine",
     lambda e, n, s: e == "pypi" and _n(n).startswith("volcenginesdk") and "volcengine" in s.lower()
     and "sdk for python" in s.lower(), "bytedance", "product"),
    ("bytedance-byteplus-sdk: byteplussdk* 'Byteplus X SDK for Python' by BytePlus",
     lambda e, n, s: e == "pypi" and _n(n).startswith("byteplussdk") and "sdk for python" in s.lower(),
     "bytedance", "product"),
    ("bytedance-npm-scope: @larksuiteoapi, @lark-apaas, @lark-opdev, @lark-project, @lark-base-open, "
     "@volcengine, @byteplus, @tiktok-service (signatures.md 9.5)",
     lambda e, n, s: e == "npm" and _n(n).startswith(("@larksuiteoapi/", "@lark-apaas/", "@lark-opdev/",
                                                      "@lark-project/", "@lark-base-open/", "@volcengine/",
                                                      "@byteplus/", "@tiktok-service/")), "bytedance", "product"),
    ("bytedance-reservation: byted*/bytedance-* placeholder published by ByteDance to reserve an internal "
     "name (signatures.md 9.5)",
     lambda e, n, s: e == "pypi" and _n(n).startswith("byted") and PLACEHOLDER in s.lower(), "bytedance", "product"),
    ("bytedance-internal-prefix: byted-*/bytedance-* name or 'ByteDance ...' package of unverified provenance",
     lambda e, n, s: e == "pypi" and (_n(n).startswith(("byted-", "bytedance-", "byted_"))
                                      or (_n(n).startswith("byted") and "bytedance" in s.lower())), "?", "-"),
    ("bytedance-oss: ByteDance-developed open source (@douyinfe Semi Design, @douyin-microapp typings); "
     "authorship C, policy open (signatures.md 9.5)",
     lambda e, n, s: e == "npm" and _n(n).startswith(("@douyinfe/", "@douyin-microapp/")), "?", "-"),
    ("hikvision-ezuikit: @ezuikit/* EZVIZ player controls, publisher unverified",
     lambda e, n, s: e == "npm" and _n(n).startswith("@ezuikit/"), "?", "-"),
    # --- everything else mentioning a family is not the family's product
    ("third-party-deepseek: DeepSeek API wrappers/MCP servers/adapters; DeepSeek publishes no package "
     "(signatures.md 10.2)",
     lambda e, n, s: "deepseek" in (n + " " + s).lower(), "-", "-"),
    ("third-party-tiktoken: tiktoken tokenizer family, not TikTok (signatures.md 9.7)",
     lambda e, n, s: "tiktoken" in (n + " " + s).lower() or "tokenizer" in s.lower(), "-", "-"),
    ("third-party-tiktok: TikTok scrapers, downloaders, embeds, pixel wrappers (signatures.md 9.7)",
     lambda e, n, s: "tiktok" in (n + " " + s).lower() or "douyin" in (n + " " + s).lower(), "-", "-"),
    ("third-party-lark: Feishu/Lark bots, doc converters, adapters by third parties (signatures.md 9.7)",
     lambda e, n, s: re.search(r"feishu|飞书|larksuite|lark[-_ ]?(oapi|open|bot|api|sdk|webhook|cli|mcp|doc|"
                               r"sheet|agent|bridge|client|helper|notify|base)", (n + " " + s).lower())
     is not None, "-", "-"),
    ("homonym-lark: the 'lark' parser and names containing 'lark' (clark, skylark, malarkey, "
     "digitalarkivet) (signatures.md 9.7)",
     lambda e, n, s: "lark" in (n + " " + s).lower(), "-", "-"),
    ("third-party-bytedance-services: clients of Volcano Engine/BytePlus/Doubao/CapCut APIs and "
     "integrations (LangChain, Pulumi, LiveKit, MCP servers)",
     lambda e, n, s: re.search(r"volcengine|byteplus|doubao|capcut|bytedance|火山|豆包|剪映",
                               (n + " " + s).lower()) is not None, "-", "-"),
    ("third-party-kaspersky: OpenTIP clients, KPM export tools (signatures.md 3.10)",
     lambda e, n, s: re.search(r"kaspersky|opentip", (n + " " + s).lower()) is not None, "-", "-"),
    ("third-party-hikvision: ISAPI/SDK wrappers, downloaders, Hik-Connect/EZVIZ clients "
     "(signatures.md 6.3/6.5)",
     lambda e, n, s: re.search(r"hikvision|hik-connect|hikconnect|ezviz|hikvison|海康", (n + " " + s).lower())
     is not None, "-", "-"),
    ("third-party-dahua: Dahua/Imou/Amcrest/Lorex API wrappers (signatures.md 7.3/7.5)",
     lambda e, n, s: re.search(r"dahua|imou|lechange|amcrest|lorex", (n + " " + s).lower()) is not None
     and re.search(r"camera|nvr|dvr|api|device|rpc|imou life|open ?api|sdk", (n + " " + s).lower()) is not None,
     "-", "-"),
    ("third-party-hytera: Hytera radio bridges and DMR libraries (signatures.md 8.4)",
     lambda e, n, s: "hytera" in (n + " " + s).lower(), "-", "-"),
    ("third-party-huawei: device/router/modem/inverter/cloud clients and integrations by third parties "
     "(signatures.md 4.9)",
     lambda e, n, s: re.search(r"huawei|hisilicon|hmscore|agconnect|华为", (n + " " + s).lower()) is not None,
     "-", "-"),
    ("third-party-zte: ZTE router/ONT/modem tools by third parties (signatures.md 5.4)",
     lambda e, n, s: re.search(r"\bzte\b", re.sub(r"[^a-z0-9]+", " ", (n + " " + s).lower())) is not None,
     "-", "-"),
    ("substring-homonym: family word inside another word (aztec, hamcrest, imouse, colorex, spangle, "
     "yugabytedb, lechange ...) (signatures.md 0 rule 2)",
     lambda e, n, s: True, "-", "-"),
]


def label(eco: str, name: str, summary: str) -> tuple[str, str, str]:
    o = OVERRIDES.get((eco, name.lower()))
    if o:
        return o[0], o[1], "override: " + o[2]
    for rid, pred, fam, rel in RULES:
        if pred(eco, name, summary):  # type: ignore[operator]
            return fam, rel, rid.split(":", 1)[0]
    raise AssertionError("the last rule matches everything")


def rule_texts() -> list[str]:
    return [r[0] for r in RULES]


# --------------------------------------------------------------------------- readers
def _tokens(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", text.lower()))


def is_candidate(eco: str, name: str, summary: str) -> bool:
    n, s = name.lower(), summary.lower()
    if name.lower() in EXTRA_NAMES.get(eco, set()):
        return True
    if any(w in n or w in s for w in CANDIDATE_WORDS):
        return True
    st = _tokens(s)
    return any(w in n or w in st for w in SHORT_WORDS)


def read_list(path: Path, eco: str) -> list[tuple[str, str]]:
    """(name, summary) of every row of one registry list."""
    rows: list[tuple[str, str]] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if eco == "pypi":
            si = next(i for i, h in enumerate(header) if h.startswith("summary"))
        elif eco == "npm":
            si = next(i for i, h in enumerate(header) if h.startswith("summary"))
        elif eco == "nuget":
            si = 3  # name, version, licence, summary [tags], versions
        else:
            si = None  # maven-partial: group:artifact, version, versions (no summary)
        for line in fh:
            p = line.rstrip("\n").split("\t")
            if not p or not p[0]:
                continue
            summary = p[si] if si is not None and len(p) > si else ""
            rows.append((p[0], summary))
    return rows


def windows_rows() -> list[tuple[str, str, str, str]]:
    """(ecosystem, name, publisher, source file) of the sample Windows inventories."""
    out: list[tuple[str, str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for p in sorted(SAMPLES.glob("*.csv")):
        with p.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            rd = csv.DictReader(fh)
            if "DisplayName" not in (rd.fieldnames or []):
                continue  # pnp-devices-history.csv is a device list, not installed software
            for row in rd:
                n = (row.get("DisplayName") or "").strip()
                pub = (row.get("Publisher") or "").strip()
                if n and ("windows-arp", n, pub) not in seen:
                    seen.add(("windows-arp", n, pub))
                    out.append(("windows-arp", n, pub, p.name))
    for p in sorted(SAMPLES.glob("winget-export-*.json")):
        doc = json.loads(p.read_text(encoding="utf-8-sig"))
        for src in doc.get("Sources", []):
            for pkg in src.get("Packages", []):
                pid = pkg.get("PackageIdentifier", "")
                if pid and ("winget", pid, "") not in seen:
                    seen.add(("winget", pid, ""))
                    out.append(("winget", pid, "", p.name))
    return out


def clean(text: str, limit: int | None = None) -> str:
    t = " ".join(text.replace("\t", " ").split())
    return t[:limit] if limit else t


def build(lists: Path, out: Path) -> dict[str, int]:
    rnd = random.Random(SEED)
    counts: dict[str, int] = {}
    rows: list[list[str]] = []
    for eco, fname in (("pypi", "pypi.tsv"), ("npm", "npm.tsv"), ("nuget", "nuget.tsv"),
                       ("maven", "maven-partial.tsv")):
        path = lists / fname
        if not path.exists():
            print(f"missing {path}", file=sys.stderr)
            continue
        data = read_list(path, eco)
        cands = [(n, s) for n, s in data if is_candidate(eco, n, s)]
        cset = {n for n, _ in cands}
        others = [(n, s) for n, s in data if n not in cset]
        sample = rnd.sample(others, min(NEGATIVES_PER_LIST, len(others)))
        for n, s in cands:
            fam, rel, note = label(eco, n, s)
            rows.append([eco, n, "", clean(s, SUMMARY_MAX), fam, rel, "candidate; " + note])
        for n, s in sorted(sample):
            rows.append([eco, n, "", clean(s, SUMMARY_MAX), "-", "-", f"random negative ({fname})"])
        counts[f"{eco} candidates"] = len(cands)
        counts[f"{eco} random negatives"] = len(sample)
    win = windows_rows()
    for eco, n, pub, src in win:
        if is_candidate(eco, n, pub):
            fam, rel, note = label(eco, n, pub)
            note = "candidate; " + note
        else:
            fam, rel, note = "-", "-", "real inventory row"
        rows.append([eco, clean(n), clean(pub), "", fam, rel, f"{note} ({src})"])
    counts["windows rows"] = len(win)
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write("ecosystem\tname\tpublisher_or_author\tsummary\texpected_family\texpected_relation\tlabel_note\n")
        for r in rows:
            fh.write("\t".join(r) + "\n")
    counts["rows"] = len(rows)
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lists", type=Path, default=LISTS, help="folder holding pypi.tsv, npm.tsv, ...")
    ap.add_argument("-o", "--out", type=Path, default=HERE / "software.tsv")
    a = ap.parse_args(argv)
    counts = build(a.lists, a.out)
    for k, v in counts.items():
        print(f"{k:28} {v}")
    print(f"wrote {a.out} ({a.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
