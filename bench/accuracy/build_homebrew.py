#!/usr/bin/env python3
"""Build bench/accuracy/homebrew.tsv: Homebrew casks labelled by the owner of their download and homepage.

``SEEN`` holds casks of Homebrew/homebrew-cask as read from the repository (file and commit per row:
token, display name, the ``url`` host and the ``homepage`` host).  The repository was too large to copy
here whole, so the set is small.  Label rule (independent of banscan's matcher): the registrable domain
(Public Suffix List) of the cask's download ``url`` or ``homepage`` is in a family's domain table generated
from the community list (``registry/data/generated/domains.json``): that family, relation ``product``;
otherwise ``-``.  Casks of families that have no domain table (Tencent's WeChat) are left out, because the
rule could not label them.

    python bench/accuracy/build_homebrew.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from publicsuffixlist import PublicSuffixList

HERE = Path(__file__).resolve().parent
DOMAINS = HERE.parents[1] / "src" / "banscan" / "registry" / "data" / "generated" / "domains.json"

# token, name, url host, homepage host, file@commit in Homebrew/homebrew-cask
SEEN = [
    ("lark", "Lark", "sf16-va.larksuitecdn.com", "www.larksuite.com", "Casks/l/lark.rb@0143d552"),
    ("feishu", "Feishu", "sf3-cn.feishucdn.com", "www.feishu.cn", "Casks/f/feishu.rb@01e5a01c"),
    ("capcut", "CapCut", "lf16-capcut.faceulv.com", "www.capcut.com", "Casks/c/capcut.rb@0178ee5c"),
    ("trae", "Trae", "lf-cdn.trae.ai", "www.trae.ai", "Casks/t/trae.rb@00260c63"),
    ("doubao", "doubao", "lf-flow-web-cdn.doubao.com", "www.doubao.com", "Casks/d/doubao.rb@01c57428"),
    ("lapce", "Lapce", "github.com", "lapce.dev", "Casks/l/lapce.rb@0bebb4bb"),
    ("lasso", "Lasso", "f003.backblazeb2.com", "thelasso.app", "Casks/l/lasso.rb@06ac0656"),
]


def main() -> int:
    psl = PublicSuffixList()
    table = json.loads(DOMAINS.read_text(encoding="utf-8"))
    owner = {d["domain"]: d["family"] for d in table["domains"] if d["match"] == "subdomains"}
    out = HERE / "homebrew.tsv"
    with out.open("w", encoding="utf-8") as fh:
        fh.write(f"# Homebrew/homebrew-cask casks (file@commit per row); labels from url/homepage ownership via "
                 f"generated/domains.json @{table['commit'][:12]}; built by bench/accuracy/build_homebrew.py\n")
        fh.write("token\tname\tseen_at\texpected_family\texpected_relation\tlabel_note\n")
        for token, name, url_host, home_host, seen in SEEN:
            fams = {(owner.get(psl.privatesuffix(h) or ""), psl.privatesuffix(h)) for h in (url_host, home_host)}
            hit = sorted((f, r) for f, r in fams if f)
            if hit:
                fam, reg = hit[0]
                row = (token, name, seen, fam, "product", f"download-owner ({reg} in the {fam} domain list)")
            else:
                row = (token, name, seen, "-", "-", f"other-owner ({url_host}, {home_host})")
            fh.write("\t".join(row) + "\n")
    print(f"{out}: {len(SEEN)} casks", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
