"""Exports for teams already on osquery packs or Fleet, generated from the registry.

* :func:`osquery_pack`: an osquery query pack (https://osquery.readthedocs.io/en/stable/deployment/configuration/#query-packs)
  with one query per family, platform and table, returning the rows that carry a signature of the
  family (installed software, browser extensions, processes, services, drivers, kernel modules).
* :func:`fleet_policies`: Fleet policies (https://fleetdm.com/docs/configuration/yaml-files#policies),
  one per family and platform, that pass when no product of the family is installed.

Only the registry's software signatures translate into osquery SQL: package names per ecosystem
(deb, rpm, pypi, npm, homebrew), product names and publishers (``programs``, ``apps``, package
maintainers and vendors), bundle identifiers, process, service, driver and kernel-module names,
browser-extension identifiers.  Network signatures (domains, banners, MAC prefixes, SNMP) and
SBOM purls have no osquery table to look in and are left out.  Comparisons are case-insensitive
(``LIKE`` with wildcards escaped); product names and publishers match as substrings, as the
matcher matches them inside longer names.

The family's negative signatures (known look-alikes: another company's package or publisher of a
similar name) are applied as the matcher applies them: a row that a negative signature of the
family matches is not the family's product (``WHERE (positives) AND NOT (negatives)``, per table).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from banscan.registry import Registry

PLATFORMS = ("windows", "darwin", "linux")
ALL = PLATFORMS


@dataclass(frozen=True)
class Cond:
    """One column test in one table: exact (case-insensitive), prefix or substring."""

    table: str
    column: str
    value: str
    mode: str  # exact | prefix | contains | suffix


def lit(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def like(s: str, mode: str) -> str:
    esc = s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pat = {"exact": esc, "prefix": esc + "%", "contains": "%" + esc + "%", "suffix": "%" + esc}[mode]
    return f"{lit(pat)} ESCAPE '\\'"


# (platforms, table) that each signature maps to
_PACKAGE_TABLES = {
    "deb": (("linux",), "deb_packages", "name"),
    "rpm": (("linux",), "rpm_packages", "name"),
    "pypi": (ALL, "python_packages", "name"),
    "npm": (ALL, "npm_packages", "name"),
    "homebrew": (("darwin",), "homebrew_packages", "name"),
}
# tables that need the users table joined (per-user data)
_USER_TABLES = {"chrome_extensions", "firefox_addons"}
# the columns each table query returns (beside the family)
_COLUMNS = {
    "programs": "name, version, publisher, install_location",
    "apps": "name, bundle_identifier, bundle_short_version, path",
    "deb_packages": "name, version, maintainer",
    "rpm_packages": "name, version, vendor",
    "python_packages": "name, version, path",
    "npm_packages": "name, version, path",
    "homebrew_packages": "name, version, path",
    "processes": "pid, name, path",
    "services": "name, display_name, path",
    "drivers": "device_name, image, service, provider",
    "kernel_modules": "name, status",
    "chrome_extensions": "identifier, name, version, path",
    "firefox_addons": "identifier, name, version, path",
}


def conditions(sig: Any) -> list[tuple[tuple[str, ...], Cond]]:
    """What one registry signature looks for, as (platforms, condition) pairs."""
    kind = sig.kind
    out: list[tuple[tuple[str, ...], Cond]] = []
    for raw in sig.values:
        v = raw.strip()
        if not v:
            continue
        if kind == "package":
            t = _PACKAGE_TABLES.get((sig.ecosystem or "").lower())
            if t is None:
                continue
            mode = "prefix" if v.endswith(("*", ".", "/", ":")) else "exact"
            out.append((t[0], Cond(t[1], t[2], v.rstrip("*"), mode)))
        elif kind == "product-name":
            out.append((("windows",), Cond("programs", "name", v, "contains")))
            out.append((("darwin",), Cond("apps", "name", v, "contains")))
        elif kind == "publisher":
            out.append((("windows",), Cond("programs", "publisher", v, "contains")))
            out.append((("linux",), Cond("deb_packages", "maintainer", v, "contains")))
            out.append((("linux",), Cond("rpm_packages", "vendor", v, "contains")))
        elif kind == "bundle-id":
            b = v.rstrip("*")
            out.append((("darwin",), Cond("apps", "bundle_identifier", b, "prefix" if b.endswith(".") or v.endswith("*")
                                           else "exact")))
        elif kind == "process":
            out.append((ALL, Cond("processes", "name", v, "exact")))
        elif kind == "service":
            out.append((("windows",), Cond("services", "name", v, "exact")))
        elif kind == "driver":
            stem = v.rsplit(".", 1)[0] if v.lower().endswith(".sys") else v
            out.append((("windows",), Cond("drivers", "image", "\\" + v if "." in v else v, "suffix")))
            out.append((("windows",), Cond("drivers", "service", stem, "exact")))
        elif kind == "kernel-module":
            out.append((("linux",), Cond("kernel_modules", "name", v, "exact")))
        elif kind == "browser-extension":
            out.append((ALL, Cond("chrome_extensions", "identifier", v, "exact")))
    return out


def family_conditions(reg: Registry, family: str, negative: bool = False) -> dict[str, dict[str, list[Cond]]]:
    """platform -> table -> conditions, for one family's positive signatures (``negative``: for
    its negative signatures, the look-alikes that are not the family's products)."""
    out: dict[str, dict[str, list[Cond]]] = {}
    fam = reg.family(family)
    for sig in (fam.negatives if negative else fam.signatures):
        for platforms, c in conditions(sig):
            for p in platforms:
                lst = out.setdefault(p, {}).setdefault(c.table, [])
                if c not in lst:
                    lst.append(c)
    return out


def where(conds: list[Cond]) -> str:
    return " OR ".join(f"{c.column} LIKE {like(c.value, c.mode)}" for c in conds)


def table_query(table: str, conds: list[Cond], select: str, negatives: list[Cond] | None = None) -> str:
    """The rows of ``table`` matching one of ``conds`` and none of ``negatives``."""
    src = f"users CROSS JOIN {table} USING (uid)" if table in _USER_TABLES else table
    if negatives:
        return f"SELECT {select} FROM {src} WHERE ({where(conds)}) AND NOT ({where(negatives)})"
    return f"SELECT {select} FROM {src} WHERE {where(conds)}"


def osquery_pack(reg: Registry, interval: int = 3600) -> dict[str, Any]:
    queries: dict[str, Any] = {}
    for fid in sorted(reg.families):
        fam = reg.family(fid)
        negs = family_conditions(reg, fid, negative=True)
        for platform, tables in sorted(family_conditions(reg, fid).items()):
            for table, conds in sorted(tables.items()):
                name = f"banscan_{fid}_{platform}_{table}".replace("-", "_")
                queries[name] = {
                    "query": table_query(table, conds, f"{lit(fid)} AS banscan_family, {_COLUMNS[table]}",
                                         negs.get(platform, {}).get(table)) + ";",
                    "interval": interval,
                    "platform": platform,
                    "removed": True,
                    "description": f"{fam.name}: {table} rows carrying a product signature of the family "
                                   f"(banscan registry {reg.meta()['version']})",
                    "value": f"Finds {fam.name} products installed or running",
                }
    return {"queries": queries}


def fleet_policies(reg: Registry) -> list[dict[str, Any]]:
    out = []
    for fid in sorted(reg.families):
        fam = reg.family(fid)
        negs = family_conditions(reg, fid, negative=True)
        for platform, tables in sorted(family_conditions(reg, fid).items()):
            checks = " AND ".join(f"NOT EXISTS ({table_query(t, c, '1', negs.get(platform, {}).get(t))})"
                                  for t, c in sorted(tables.items()))
            names = sorted({p.name for p in fam.products})
            restrictions = [r.id for r in reg.restrictions_naming(fid)]
            out.append({
                "name": f"banscan: no {fam.name} products ({platform})",
                "query": f"SELECT 1 WHERE {checks};",
                "platform": platform,
                "description": (f"Passes when no product of the {fam.name} family is installed or running "
                                f"({', '.join(sorted(tables))}). Generated from the banscan registry "
                                f"{reg.meta()['version']}." + (f" Restrictions naming the family: "
                                                                f"{', '.join(restrictions)}." if restrictions else "")),
                "resolution": (f"Remove the {fam.name} products found"
                               + (f" (e.g. {', '.join(names[:5])})" if names else "")
                               + "; 'banscan explain' gives the restriction, deadline and sources for a finding."),
                "critical": False,
            })
    return out


def fleet_policies_yaml(reg: Registry) -> str:
    import yaml

    head = (f"# Fleet policies generated by banscan from registry {reg.meta()['version']} "
            f"(sha256 {reg.meta()['sha256']}).\n"
            "# Use as a Fleet GitOps policies file (lib/*.policies.yml) or under 'policies:'.\n")
    return head + yaml.safe_dump(fleet_policies(reg), sort_keys=False, allow_unicode=True, width=1_000_000)


def osquery_pack_json(reg: Registry, interval: int = 3600) -> str:
    return json.dumps(osquery_pack(reg, interval), indent=2, ensure_ascii=False) + "\n"
