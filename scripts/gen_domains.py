#!/usr/bin/env python3
"""Generate src/banscan/registry/data/generated/domains.json from v2fly/domain-list-community.

Reads the community's per-company lists (``data/<list>``) from a git checkout or a bare clone, keeps
the lists that scripts/domain-lists.yaml maps to a registry family, and writes every kept domain with
its family, entity, service, product, the list it came from and its v2fly attributes (``@cn``,
``@!cn``, ``@ads``).  Never edit the JSON by hand.

    python scripts/gen_domains.py --repo /path/to/domain-list-community        # a checkout or bare clone
    python scripts/gen_domains.py --repo DIR --commit c975ccef                  # a given commit

Rules (each exclusion is written to the JSON with its reason):

1. ``domain:`` (or bare) entries match the name and its subdomains; ``full:`` entries match one host.
   ``keyword:`` and ``regexp:`` entries are not domain names and are skipped.
2. ``include:`` is followed only into lists that the mapping names (selective includes honour their
   ``@attr`` / ``@-attr`` filters); other included lists are recorded under ``not_followed``.
   Affiliations (``&list`` on an entry in any file) count as entries of the target list.
3. A third party's host is not the family's: an entry whose registrable domain (Public Suffix List,
   ``publicsuffixlist``) is not the entry itself and is not a ``domain:`` entry of the same family is
   excluded (e.g. ``full:bytedance.map.fastly.net``: a host on Fastly's domain).
4. An entry that is itself a public suffix (or has no registrable part) is excluded.
5. A registrable domain claimed by two families, or present in a ``traps`` list (Honor after its
   sale), is excluded from every family; the generator fails when a trap list overlaps a family.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from publicsuffixlist import PublicSuffixList

ROOT = Path(__file__).resolve().parent.parent
MAPPING = Path(__file__).resolve().parent / "domain-lists.yaml"
OUT = ROOT / "src" / "banscan" / "registry" / "data" / "generated" / "domains.json"
REPO_URL = "https://github.com/v2fly/domain-list-community"


@dataclass
class Rule:
    kind: str  # domain | full | keyword | regexp | include
    value: str
    attrs: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    include_filter: tuple[str, ...] = ()


@dataclass
class Source:
    """Read files at one commit of a checkout or bare clone."""

    repo: Path
    commit: str
    _cache: dict[str, list[Rule]] = field(default_factory=dict)

    def git(self, *args: str) -> str:
        return subprocess.run(["git", f"--git-dir={self.git_dir()}", *args], capture_output=True, text=True,
                              check=True).stdout

    def git_dir(self) -> Path:
        return self.repo / ".git" if (self.repo / ".git").exists() else self.repo

    def names(self) -> list[str]:
        return [n for n in self.git("ls-tree", "--name-only", f"{self.commit}:data").splitlines() if n]

    def rules(self, name: str) -> list[Rule]:
        if name not in self._cache:
            self._cache[name] = parse(self.git("show", f"{self.commit}:data/{name}"))
        return self._cache[name]


def parse(text: str) -> list[Rule]:
    out: list[Rule] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        head, rest = parts[0], parts[1:]
        attrs = tuple(p[1:] for p in rest if p.startswith("@"))
        affs = tuple(p[1:] for p in rest if p.startswith("&"))
        kind, _, value = head.partition(":") if ":" in head else ("domain", "", head)
        if kind == "include":
            out.append(Rule("include", value, include_filter=attrs))
        else:
            out.append(Rule(kind, value.lower().rstrip("."), attrs, affs))
    return out


def selected(rule: Rule, filt: tuple[str, ...]) -> bool:
    for f in filt:
        if f.startswith("-"):
            if f[1:] in rule.attrs:
                return False
        elif f not in rule.attrs:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, required=True, help="domain-list-community checkout or bare clone")
    ap.add_argument("--commit", default="HEAD")
    ap.add_argument("--mapping", type=Path, default=MAPPING)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)

    mapping = yaml.safe_load(args.mapping.read_text(encoding="utf-8"))
    lists: dict[str, dict[str, str]] = mapping["lists"]
    per_domain: dict[str, dict[str, str]] = mapping.get("entities") or {}
    traps: dict[str, str] = mapping.get("traps") or {}
    src = Source(args.repo, args.commit)
    commit = src.git("rev-parse", args.commit).strip()
    src.commit = commit
    commit_date = src.git("log", "-1", "--format=%cI", commit).strip()
    available = set(src.names())
    for name in [*lists, *traps]:
        if name not in available:
            raise SystemExit(f"{name}: no such list in data/ at {commit[:12]}")

    # affiliations: entries elsewhere that add themselves to a mapped or trap list
    affiliated: dict[str, list[tuple[str, Rule]]] = {}
    for name in sorted(available):
        for r in src.rules(name):
            for target in r.affiliations:
                affiliated.setdefault(target, []).append((name, r))

    psl = PublicSuffixList()
    not_followed: list[dict[str, str]] = []
    excluded: list[dict[str, object]] = []

    def expand(name: str, filt: tuple[str, ...], seen: set[str]) -> list[tuple[str, Rule]]:
        """(list the entry is written in, rule) for a mapped list, following includes into mapped lists."""
        if name in seen:
            return []
        seen = seen | {name}
        got: list[tuple[str, Rule]] = []
        for r in src.rules(name) + [r for _, r in affiliated.get(name, [])]:
            if r.kind == "include":
                if r.value in lists or r.value in traps and name in traps:
                    got += [(n, x) for n, x in expand(r.value, r.include_filter, seen) if selected(x, filt)]
                else:
                    not_followed.append({"list": name, "include": r.value})
            elif selected(r, filt):
                got.append((name, r))
        return got

    # owner of each list: the list itself if mapped, else the mapped list that included it
    entries: dict[str, list[tuple[str, Rule]]] = {}  # family -> [(list, rule)]
    seen_pairs: set[tuple[str, str, str]] = set()
    for name, m in lists.items():
        for lst, r in expand(name, (), set()):
            owner = lst if lst in lists else name
            if lists[owner]["family"] != m["family"]:
                continue
            key = (m["family"], r.kind, r.value)
            if key in seen_pairs:
                continue
            seen_pairs.add(key)
            entries.setdefault(m["family"], []).append((owner, r))
    trap_domains: dict[str, str] = {}
    for name, why in traps.items():
        for _, r in expand(name, (), set()):
            if r.kind in ("domain", "full"):
                trap_domains[psl.privatesuffix(r.value) or r.value] = f"trap list '{name}': {why}"

    # registrable domains each family claims with a domain: entry
    claims: dict[str, set[str]] = {}
    for fam, es in entries.items():
        for _, r in es:
            if r.kind == "domain":
                reg = psl.privatesuffix(r.value)
                if reg == r.value:
                    claims.setdefault(reg, set()).add(fam)

    rows: list[dict[str, object]] = []
    for fam in sorted(entries):
        for lst, r in entries[fam]:
            base = {"entry": f"{r.kind}:{r.value}", "list": lst, "family": fam}
            if r.kind not in ("domain", "full"):
                excluded.append({**base, "reason": f"{r.kind} rule, not a domain name"})
                continue
            reg = psl.privatesuffix(r.value)
            if reg is None:
                excluded.append({**base, "reason": "a public suffix, not a registrable domain"})
                continue
            if reg in trap_domains:
                raise SystemExit(f"{lst}: {r.value} is in a trap list ({trap_domains[reg]})")
            owners = claims.get(reg, set())
            if len(owners) > 1:
                excluded.append({**base, "reason": f"registrable domain {reg} claimed by {sorted(owners)}"})
                continue
            if reg != r.value and fam not in owners:
                excluded.append({**base, "reason": f"host under {reg}, which is not the family's (third party)"})
                continue
            m = {**lists[lst], **per_domain.get(reg, {})}
            row: dict[str, object] = {
                "domain": r.value,
                "match": "subdomains" if r.kind == "domain" else "exact",
                "family": fam,
                "entity": m.get("entity"),
                "service": m["service"],
                "product": m.get("product") if reg not in per_domain else None,
                "list": lst,
                "attributes": sorted(r.attrs),
            }
            rows.append({k: v for k, v in row.items() if v not in (None, [])})
    rows.sort(key=lambda d: (str(d["family"]), str(d["list"]), str(d["domain"])))
    counts: dict[str, int] = {}
    for d in rows:
        counts[str(d["family"])] = counts.get(str(d["family"]), 0) + 1
    table = {
        "source": f"{mapping['source']} at commit {commit}",
        "repository": REPO_URL,
        "commit": commit,
        "data_date": commit_date[:10],
        "generated_by": "scripts/gen_domains.py",
        "mapping": "scripts/domain-lists.yaml",
        "psl": f"publicsuffixlist {_psl_version()}",
        "domains": rows,
        "excluded": excluded,
        "not_followed": sorted({(d["list"], d["include"]) for d in not_followed}),
        # registrable domains of the trap lists: never a family's (bench/accuracy.py checks it)
        "traps": [{"domain": d, "reason": why} for d, why in sorted(trap_domains.items())],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(rows)} domains, {len(excluded)} excluded, commit {commit[:12]} ({commit_date})",
          file=sys.stderr)
    for fam, n in sorted(counts.items()):
        print(f"  {fam}: {n}", file=sys.stderr)
    return 0


def _psl_version() -> str:
    from importlib.metadata import version

    return version("publicsuffixlist")


if __name__ == "__main__":
    raise SystemExit(main())
