"""``banscan export osquery-pack`` and ``banscan export fleet-policies``: generated from the
registry, valid osquery SQL (run here on SQLite, osquery's SQL engine, against tables with
osquery's columns), and a Fleet policy that fails exactly when a product of the family is there."""

from __future__ import annotations

import json
import sqlite3

import pytest
import yaml

from banscan.registry import load

# the osquery tables the exports read, with the columns they use (https://osquery.io/schema/)
TABLES = {
    "programs": "name, version, publisher, install_location",
    "apps": "name, bundle_identifier, bundle_short_version, path",
    "deb_packages": "name, version, maintainer, arch, source, revision",
    "rpm_packages": "name, version, vendor, release, arch",
    "python_packages": "name, version, path",
    "npm_packages": "name, version, path",
    "homebrew_packages": "name, version, path",
    "processes": "pid, name, path, cmdline",
    "services": "name, display_name, path",
    "drivers": "device_name, image, service, provider",
    "kernel_modules": "name, status",
    "chrome_extensions": "uid, identifier, name, version, path",
    "firefox_addons": "uid, identifier, name, version, path",
    "users": "uid, username",
}


def osquery_db() -> sqlite3.Connection:
    c = sqlite3.connect(":memory:")
    for t, cols in TABLES.items():
        c.execute(f"CREATE TABLE {t} ({cols})")
    return c


@pytest.fixture(scope="module")
def reg():
    return load([])


def test_osquery_pack_queries_run_and_find_the_family(reg, capsys) -> None:
    from servekit import cli

    code, out, err = cli(capsys, "export", "osquery-pack")
    assert code == 0, err
    pack = json.loads(out)
    queries = pack["queries"]
    assert len(queries) > 20
    db = osquery_db()
    for name, q in queries.items():
        assert q["platform"] in ("windows", "darwin", "linux"), name
        db.execute(q["query"]).fetchall()  # valid SQL against osquery's columns
    db.execute("INSERT INTO deb_packages VALUES ('kesl', '12.0.0.6672', 'AO Kaspersky Lab', 'amd64', '', '')")
    db.execute("INSERT INTO deb_packages VALUES ('bash', '5.2', 'Debian', 'amd64', '', '')")
    rows = db.execute(queries["banscan_kaspersky_linux_deb_packages"]["query"]).fetchall()
    assert [r[1] for r in rows] == ["kesl"] and rows[0][0] == "kaspersky"


def test_fleet_policy_passes_only_without_the_family(reg, capsys, tmp_path) -> None:
    from servekit import cli

    out_file = tmp_path / "banscan.policies.yml"
    code, _, err = cli(capsys, "export", "fleet-policies", "--output", str(out_file))
    assert code == 0, err
    policies = yaml.safe_load(out_file.read_text())
    assert isinstance(policies, list)
    names = [p["name"] for p in policies]
    assert len(names) == len(set(names))
    for p in policies:
        assert set(p) >= {"name", "query", "platform", "description", "resolution"}
    by = {(p["name"]): p for p in policies}
    windows = by["banscan: no Kaspersky products (windows)"]
    linux = by["banscan: no Kaspersky products (linux)"]
    db = osquery_db()
    for p in policies:  # a clean machine passes every policy
        assert db.execute(p["query"]).fetchall() == [(1,)], p["name"]
    db.execute("INSERT INTO programs VALUES ('Kaspersky Endpoint Security for Windows', '12.3', "
               "'AO Kaspersky Lab', 'C:\\Program Files (x86)\\Kaspersky Lab')")
    assert db.execute(windows["query"]).fetchall() == []
    assert db.execute(linux["query"]).fetchall() == [(1,)]  # the Linux policy does not read programs
    assert db.execute(by["banscan: no Huawei products (windows)"]["query"]).fetchall() == [(1,)]


def test_sql_literals_are_quoted() -> None:
    from banscan.serve.exports import like, lit

    db = sqlite3.connect(":memory:")
    assert db.execute(f"SELECT {lit(chr(39) + '; DROP TABLE x; --')}").fetchone() == ("'; DROP TABLE x; --",)
    assert db.execute(f"SELECT 'a_b' LIKE {like('a_b', 'exact')}, 'axb' LIKE {like('a_b', 'exact')}").fetchone() == (1, 0)
    assert db.execute(f"SELECT '50%off' LIKE {like('50%', 'prefix')}, '50xoff' LIKE {like('50%', 'prefix')}").fetchone() == (1, 0)


def test_exports_apply_the_registry_negatives_to_look_alikes(reg, capsys, tmp_path) -> None:
    """UltraEdit's name contains "trae" (ByteDance's Trae editor); the registry lists it as a
    negative of the family, so neither the pack query nor the Fleet policy may report it, while
    Trae itself is still reported."""
    from servekit import cli

    from banscan.serve.exports import family_conditions, table_query

    code, out, err = cli(capsys, "export", "osquery-pack")
    assert code == 0, err
    query = json.loads(out)["queries"]["banscan_bytedance_windows_programs"]["query"]
    out_file = tmp_path / "p.yml"
    assert cli(capsys, "export", "fleet-policies", "--output", str(out_file))[0] == 0
    policy = {p["name"]: p for p in yaml.safe_load(out_file.read_text())}["banscan: no ByteDance products (windows)"]
    db = osquery_db()
    db.execute("INSERT INTO programs VALUES ('UltraEdit', '2025.0', 'IDM Computer Solutions, Inc.', "
               "'C:\\Program Files\\IDM Computer Solutions\\UltraEdit')")
    db.execute("INSERT INTO programs VALUES ('UltraCompare', '24.0', 'IDM Computer Solutions, Inc.', '')")
    # the positive signatures alone would take the look-alikes for the family
    positives = family_conditions(reg, "bytedance")["windows"]["programs"]
    assert db.execute(table_query("programs", positives, "name")).fetchall()
    assert db.execute(query).fetchall() == []
    assert db.execute(policy["query"]).fetchall() == [(1,)]
    db.execute("INSERT INTO programs VALUES ('Trae', '1.0.0', 'SPRING (SG) PTE. LTD.', '')")
    assert [r[1] for r in db.execute(query).fetchall()] == ["Trae"]
    assert db.execute(policy["query"]).fetchall() == []
