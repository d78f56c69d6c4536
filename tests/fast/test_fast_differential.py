"""Fast paths only skip work: the block scanner, prefilter and memo (on) give the same detections
as every line through the reader and the plain matcher (off); ``--jobs 4`` the same as
``--jobs 1``; both engines mark the same lines.

Inputs: every sample under ../shared/samples, and generated osqueryd results logs, Zeek
dns.logs (TSV and JSON), DNS server query logs (BIND, dnsmasq) and software CSV exports built from every signature value of the bundled registry with random case, separators,
Unicode forms, JSON escapes and near-miss neighbours.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sharedsamples import SHARED_SAMPLES

from banscan.fast import blocks as fb
from banscan.fast.engine import compile_engine, hyperscan_available
from banscan.match import Matcher
from banscan.model import F
from banscan.registry import Registry, load
from banscan.scan import ScanRequest, ScanResult, run
from banscan.sources import by_name
from banscan.sources.limits import Limits

AS_OF = dt.date(2026, 11, 1)
NEAR_MISSES = ["ztest", "tiktoken", "clark", "@aztec", "Aztech", "hikvisionary", "kasperskyish",
               "Zoom Video Communications, Inc.", "Group Policy", "Lenovo Hi Suite Helper", "deepseeker"]
SEPARATORS = [" ", "  ", "-", "_", "+", "\u2013", ".", "/", "\t", " (", ", ", "\\", ""]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load()


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fb, "BLOCK_BYTES", 2048)  # many blocks: every boundary case is exercised


def key(r: ScanResult) -> list[tuple[Any, ...]]:
    return sorted((d.id, d.family, d.product_id, d.confidence.value, d.relation.value, d.source.locator,
                   tuple((e.field, e.value, e.signature, e.strength) for e in d.evidence))
                  for d in r.detections)


def inputs_key(r: ScanResult) -> list[tuple[Any, ...]]:
    return [(i.path, i.format, i.observations, tuple(sorted(i.assets.items(), key=str)), i.sha256)
            for i in r.inputs]


def same_order(d: dict[str, Any]) -> dict[str, Any]:
    """An input's report entry with its deviation notes in one order (blocks may meet them in
    another order than a single pass)."""
    return {**d, "deviations": sorted(d["deviations"])}


def scan(registry: Registry, paths: list[str], limits: Limits | None = None, **kw: Any) -> ScanResult:
    return run(ScanRequest(inputs=tuple(paths), as_of=AS_OF, **({"limits": limits} if limits else {})), registry, **kw)


# ---------------------------------------------------------------------------------- samples


def all_samples() -> list[Path]:
    if not SHARED_SAMPLES.exists():
        return []
    return sorted(p for p in SHARED_SAMPLES.rglob("*") if p.is_file() and not p.name.startswith("."))


def test_samples_fast_equals_slow(registry: Registry) -> None:
    samples = all_samples()
    if not samples:
        pytest.skip("../shared/samples not available")
    for p in samples:
        fast = scan(registry, [str(p)])
        slow = scan(registry, [str(p)], fast=False)
        assert key(fast) == key(slow), p
        assert [i.assets for i in fast.inputs] == [i.assets for i in slow.inputs], p
        fmt = fast.inputs[0].format
        if fmt and fb.plan_for(by_name(fmt), p.read_bytes()[:65536]):
            # block-scanned inputs count what they skip as the reader's own prefilter does (a Zeek
            # x509 record it skips counts once; read in full, once per SAN name)
            lines = scan(registry, [str(p)], blocks=False)
            assert inputs_key(fast) == inputs_key(lines), p
            assert [same_order(i.to_dict()) for i in fast.inputs] == [same_order(i.to_dict()) for i in lines.inputs], p


def test_samples_jobs_4_equals_jobs_1(registry: Registry) -> None:
    samples = [str(p) for p in all_samples()]
    if not samples:
        pytest.skip("../shared/samples not available")
    one = scan(registry, samples)
    four = scan(registry, samples, jobs=4)
    assert key(one) == key(four)
    assert [i.to_dict() for i in one.inputs] == [i.to_dict() for i in four.inputs]


# ---------------------------------------------------------------------------------- generated

_FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"}


def variant(value: str, rnd: random.Random) -> str:
    v = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in value)
    if rnd.random() < 0.5:
        v = v.replace(" ", rnd.choice(SEPARATORS))
    r = rnd.random()
    if r < 0.1:
        v = "".join(_FULLWIDTH.get(c, c) for c in v)
    elif r < 0.2:
        v = rnd.choice(["z", "a", "@a", "x", "\u00e9"]) + v  # a neighbour that must not match
    elif r < 0.3:
        v = v + rnd.choice(["ken", "st", "s", "ish", "\u00e9"])
    elif r < 0.4:
        v = "Ltd " + v + " Inc."
    elif r < 0.45 and v.isalpha() and len(v) <= 6:
        v = "".join(c + "." for c in v)  # a dotted abbreviation: "Z.T.E."
    elif r < 0.5:
        v = rnd.choice(["\n", "\t", "%2F", "%40", "x\\"]) + v  # a JSON escape or %XX before it
    return v


def signature_values(registry: Registry) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in registry.signatures:
        out.setdefault(s.kind, []).extend(v.rstrip("*") for v in s.values if v.strip())
    return out


def osquery_log(path: Path, values: dict[str, list[str]], rnd: random.Random, rows: int,
                broken: bool = False) -> None:
    names = values.get("product-name", []) + values.get("publisher", []) + NEAR_MISSES
    pkgs = values.get("package", []) + ["ztest", "tiktoken", "clarkd", "libaztec1"]
    procs = values.get("process", []) + ["ztest.exe", "clark"]
    libs = library_names(load(), rnd)
    with path.open("w", encoding="utf-8", newline="") as fh:
        for i in range(rows):
            r = rnd.random()
            if r < 0.5:
                q = "pack_inventory_programs"
                cols = {"name": variant(rnd.choice(names), rnd), "version": "1.0",
                        "install_location": "C:\\Program Files\\" + variant(rnd.choice(names), rnd),
                        "publisher": variant(rnd.choice(names + ["Mozilla", "Microsoft Corporation"]), rnd),
                        "identifying_number": "{0000}"}
            elif r < 0.6:
                eco, lib = rnd.choice(libs)
                lib = "".join(c.upper() if rnd.random() < 0.2 else c for c in lib)
                if eco == "npm":
                    q = "pack_inventory_npm_packages"
                    cols = {"name": lib, "version": "1.0", "path": "/usr/lib/node_modules/" + lib, "homepage": ""}
                else:
                    q = "pack_inventory_python_packages"
                    cols = {"name": lib, "version": "1.0", "summary": "", "path": "/usr/lib/python3", "author": ""}
            elif r < 0.8:
                q = "pack_inventory_deb_packages"
                cols = {"name": variant(rnd.choice(pkgs), rnd).replace(" ", "-"), "version": "1.0-1",
                        "arch": "amd64", "source": "", "revision": "1", "maintainer": variant(rnd.choice(names), rnd)}
            elif r < 0.95:
                q = "pack_processes"
                cols = {"pid": str(i), "name": variant(rnd.choice(procs), rnd), "path": "/usr/bin/x", "cmdline": ""}
            else:
                q = "pack_osquery_info"  # a table that lists no software
                cols = {"version": "5.12.1", "build_platform": "ubuntu"}
            doc = {"name": q, "hostIdentifier": f"host-{rnd.randrange(7)}", "calendarTime": "Mon Nov 23 10:00:00 2026 UTC",
                   "unixTime": 1795000000 + i, "epoch": 0, "counter": 0, "numerics": False, "columns": cols,
                   "action": "removed" if rnd.random() < 0.03 else "added"}
            line = json.dumps(doc, separators=(",", ":"), ensure_ascii=rnd.random() < 0.3)
            if broken and rnd.random() < 0.02:
                line = line[: len(line) // 2]  # a broken line
            fh.write(line + ("\r\n" if rnd.random() < 0.05 else "\n"))
            if rnd.random() < 0.01:
                fh.write("\n")


def library_names(registry: Registry, rnd: random.Random) -> list[tuple[str, str]]:
    """(ecosystem, name) of npm and PyPI packages in the registry's packages and namespaces, and
    of near-miss neighbours, with PyPI separators spelled at random."""
    out = [("npm", "@aztec/core"), ("npm", "tiktoken"), ("pypi", "lark"), ("pypi", "python-clark")]
    for sig in registry.signatures:
        eco = (sig.ecosystem or "").lower()
        if sig.kind not in ("package", "namespace") or eco not in ("npm", "pypi"):
            continue
        for v in sig.values:
            name = v.strip().rstrip("*./")
            if eco == "npm" and sig.kind == "namespace":
                name = "@" + name.lstrip("@") + "/" + rnd.choice(["x", "core", "zte"])
            if eco == "pypi":
                name = name.replace("-", rnd.choice(["-", "_", ".", "__"]))
                name = rnd.choice(["", "py-", "x"]) + name + rnd.choice(["", "-sdk", "ish"])
            out.append((eco, name))
    return out


def zeek_dns_log(path: Path, values: dict[str, list[str]], rnd: random.Random, rows: int) -> None:
    doms = values.get("domain", []) + ["ztest.com", "tiktoken.dev", "clark.edu", "aztec.example", "example.org"]
    fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id", "query",
              "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name", "answers"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n")
        fh.write("#fields\t" + "\t".join(fields) + "\n")
        for i in range(rows):
            d = rnd.choice(doms)
            q = ("www." if rnd.random() < 0.5 else "") + "".join(c.upper() if rnd.random() < 0.3 else c for c in d)
            if rnd.random() < 0.05:
                q = q.replace(".", "\\x2e", 1)
            host = rnd.choice(["10.0.0.1", "10.0.0.2", "-", "10.0.0.3"])
            fh.write("\t".join([f"{1795000000 + i}.0", f"C{i}", host, "5353", "10.0.0.53", "53", "udp", "1", q,
                                "1", "C_INTERNET", "1", "A", "0", "NOERROR", "-"]) + "\n")
        fh.write("#close\t2026-11-23-10-00-00\n")


def dns_query_log(path: Path, values: dict[str, list[str]], rnd: random.Random, rows: int) -> None:
    """BIND query log and dnsmasq log-queries lines, among the other lines dnsmasq writes, blank
    lines, CRLF endings, fullwidth (non-ASCII) names and a line with a control byte."""
    doms = values.get("domain", []) + ["ztest.com", "tiktoken.dev", "clark.edu", "aztec.example", "example.org"]
    clients = ["10.0.0.1", "10.0.0.2", "fe80::1", "192.168.1.10"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        for i in range(rows):
            q = ("www." if rnd.random() < 0.5 else "") + "".join(
                c.upper() if rnd.random() < 0.3 else c for c in rnd.choice(doms))
            if rnd.random() < 0.05:
                q = "".join(_FULLWIDTH.get(c, c) for c in q)
            c = rnd.choice(clients)
            r = rnd.random()
            if r < 0.4:
                line = (f"01-May-2026 10:00:{i % 60:02d}.003 queries: info: client @0x7f3a2c0a8b60 {c}#{1024 + i} "
                        f"({q}): query: {q} IN A +E(0)K (10.0.0.53)")
            elif r < 0.8:
                line = f"May  1 10:00:00 dnsmasq[1234]: query[{rnd.choice(['A', 'AAAA', 'HTTPS'])}] {q} from {c}"
            elif r < 0.9:
                line = f"May  1 10:00:00 dnsmasq[1234]: forwarded {q} to 10.0.0.53"
            elif r < 0.95:
                line = f"May  1 10:00:00 dnsmasq[1234]: reply {q} is 1.2.3.4"
            else:
                line = rnd.choice(["", "  ", f"client 10.0.0.7#53: query: {q} IN A", "query\x0b from 10.0.0.8",
                                   f"{q} from {c}"])
            fh.write(line + rnd.choice(["\n", "\n", "\r\n"]))


def zeek_json_log(path: Path, values: dict[str, list[str]], rnd: random.Random, rows: int, with_path: bool) -> None:
    """A Zeek JSON dns.log (``_path`` on every line, or on none), with lines of other shapes: an
    address as a number or in a nested object, an escaped quote, invalid JSON, blank lines,
    leading spaces, CRLF endings, a record of an unknown ``_path`` and a conn record (the records
    after it are taken for conn records when they name no ``_path``)."""
    doms = values.get("domain", []) + ["ztest.com", "tiktoken.dev", "clark.edu", "aztec.example", "example.org"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        for i in range(rows):
            q = ("www." if rnd.random() < 0.5 else "") + "".join(
                c.upper() if rnd.random() < 0.3 else c for c in rnd.choice(doms))
            rec: dict[str, Any] = {"_path": "dns"} if with_path else {}
            rec.update({"ts": 1795000000 + i / 7, "uid": f"C{i}", "id.orig_h": rnd.choice(["10.0.0.1", "10.0.0.2",
                        "fe80::1", ""]), "id.orig_p": 5353, "id.resp_h": "10.0.0.53", "id.resp_p": 53,
                        "proto": "udp", "trans_id": i, "query": q, "qclass": 1, "qtype_name": "A",
                        "answers": ["1.2.3.4", "x.example"], "TTLs": [60.0, 1e3], "rejected": False})
            r = rnd.random() if i > 2 else 1.0  # (the first lines as Zeek writes them: the input is sniffed)
            if r < 0.03:
                rec["id.orig_h"] = 167772161
            elif r < 0.05:
                del rec["id.orig_h"]
                rec["id"] = {"orig_h": "10.0.0.9"}
            elif r < 0.07:
                rec["uid"] = 'C"q'
            elif r < 0.08:
                rec.pop("id.orig_h")
            line = json.dumps(rec, separators=(",", ":"))
            r = rnd.random() if i > 2 else 1.0
            if r < 0.02:
                line = line[:-1]
            elif r < 0.04:
                line = ""
            elif r < 0.05:
                line = "  " + line
            elif r < 0.06:
                line = json.dumps({"_path": "unknown", "ts": 1, "query": q} if with_path else {"ts": 1, "x": q},
                                  separators=(",", ":"))
            elif r < 0.062:
                line = "#close\t2026-11-23-10-00-00"  # (not JSON: an error, whichever line a block starts with)
            elif r < 0.065 and i > rows // 2:
                line = json.dumps({**({"_path": "conn"} if with_path else {}), "ts": 1, "id.orig_h": "10.0.0.5",
                                   "conn_state": "SF", "history": "Dd"}, separators=(",", ":"))
            fh.write(line + rnd.choice(["\n", "\n", "\r\n"]))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_generated_fast_equals_slow(tmp_path: Path, registry: Registry, seed: int) -> None:
    rnd = random.Random(seed)
    values = signature_values(registry)
    osq = tmp_path / f"osq-{seed}.log"
    dns = tmp_path / f"dns-{seed}.log"
    queries = tmp_path / f"queries-{seed}.log"
    osquery_log(osq, values, rnd, 400)
    zeek_dns_log(dns, values, rnd, 300)
    dns_query_log(queries, values, rnd, 300)
    jsons = [tmp_path / f"dns-json-{seed}.log", tmp_path / f"dns-json-path-{seed}.log"]
    zeek_json_log(jsons[0], values, rnd, 300, with_path=False)
    zeek_json_log(jsons[1], values, rnd, 300, with_path=True)
    paths = [str(osq), str(dns), str(queries), *map(str, jsons)]
    fast = scan(registry, paths)
    assert [i.format for i in fast.inputs] == ["osquery", "zeek", "dns-query-log", "zeek", "zeek"]
    slow = scan(registry, paths, fast=False)
    assert key(fast) == key(slow)
    assert [i.observations for i in fast.inputs] == [i.observations for i in slow.inputs]
    assert [i.assets for i in fast.inputs] == [i.assets for i in slow.inputs]
    lines = scan(registry, paths, blocks=False)
    assert [same_order(i.to_dict()) for i in fast.inputs] == [same_order(i.to_dict()) for i in lines.inputs]
    four = scan(registry, paths, jobs=4)
    assert key(four) == key(fast)
    assert [i.to_dict() for i in four.inputs] == [i.to_dict() for i in fast.inputs]


def test_generated_with_broken_lines(tmp_path: Path, registry: Registry) -> None:
    """Broken lines: the same detections and the same errors (a reader's own prefilter counts a
    broken line it skips as a row, and may take its query's table from it, so counts may differ)."""
    rnd = random.Random(3)
    values = signature_values(registry)
    osq = tmp_path / "osq.log"
    osquery_log(osq, values, rnd, 500, broken=True)
    fast = scan(registry, [str(osq)])
    slow = scan(registry, [str(osq)], fast=False)
    lines = scan(registry, [str(osq)], blocks=False)
    assert key(fast) == key(slow)
    assert fast.inputs[0].errors == lines.inputs[0].errors
    assert fast.inputs[0].errors  # the broken lines are reported


def test_generated_detects_something(tmp_path: Path, registry: Registry) -> None:
    """The generated logs do reach the matcher (so the comparison above is not vacuous)."""
    rnd = random.Random(1)
    values = signature_values(registry)
    osq = tmp_path / "osq.log"
    osquery_log(osq, values, rnd, 400)
    r = scan(registry, [str(osq)])
    assert len(r.detections) > 50
    assert r.inputs[0].observations == 400 + 0  # every line is counted, none lost
    queries = tmp_path / "queries.log"
    dns_query_log(queries, values, rnd, 400)
    r = scan(registry, [str(queries)])
    assert len(r.detections) > 20
    # every line but the blank ones is counted; the queries cover their clients
    text = queries.read_text(encoding="utf-8")
    assert r.inputs[0].observations == sum(1 for ln in text.split("\n") if ln.strip())
    assert {"10.0.0.1", "fe80::1"} <= set(r.inputs[0].assets)
    for with_path in (False, True):
        log = tmp_path / f"dns-{with_path}.json"
        zeek_json_log(log, values, rnd, 400, with_path)
        r = scan(registry, [str(log)])
        assert len(r.detections) > 20 and r.inputs[0].errors  # (the invalid lines are reported)
        # the address in a nested object is the record's asset, as with no prefilter
        assert "10.0.0.9" in r.inputs[0].assets


def test_values_cut_inside_a_word_fast_equals_slow(tmp_path: Path, registry: Registry) -> None:
    """A value cut to max_field_chars may end inside a word ("...kasperskyfoo" read as
    "...kaspersky"): such lines are not ruled out by a bounded anchor."""
    cap = 40
    osq = tmp_path / "cut.log"
    rows = []
    for i, (word, tail) in enumerate([("Kaspersky", "foo"), ("Huawei", "xyz Technologies"), ("Hikvision", "Z"),
                                      ("Firefox", "")]):
        name = "x" * (cap - len(word) - 1) + " " + word + tail  # the cut falls right after the word
        rows.append(json.dumps({"name": "pack_inventory_programs", "hostIdentifier": f"h{i}", "unixTime": i,
                                "columns": {"name": name, "publisher": name, "version": "1", "install_location": "",
                                            "identifying_number": "{0}"}, "action": "added"}))
    osq.write_text("\n".join(rows) + "\n")
    req = ScanRequest(inputs=(str(osq),), as_of=AS_OF, limits=Limits(max_field_chars=cap))
    fast, slow = run(req, registry), run(req, registry, fast=False)
    assert {d.family for d in slow.detections} >= {"kaspersky", "huawei", "hikvision"}  # the cut words match
    assert key(fast) == key(slow)
    lines = run(req, registry, blocks=False)
    assert key(lines) == key(slow)


def test_near_misses_do_not_pass_the_prefilter(registry: Registry) -> None:
    """Bounded anchors: names that merely contain a vendor's mark are not read at all (so the
    prefilter actually skips work), by both engines."""
    m = Matcher(registry)
    lines = [json.dumps({"columns": {"name": n, "publisher": p}}) for n, p in [
        ("ztest", "Ztest Project"), ("python3-tiktoken", ""), ("Clark Desktop", "Clark Labs"),
        ("node-aztec", "Aztec Software @aztec"), ("TikTokenizer Tools", "Example Labs"),
        ("Zoom Workplace", "Zoom Video Communications, Inc."), ("Group Policy Management Console", "Microsoft"),
        ("hikvisionary", "kasperskyish"), ("deepseeker", "Aztech")]]
    for line in lines:
        assert not m.prefilter(line), line
    block = ("\n".join(lines) + "\n").encode()
    engines = ["aho-corasick"] + (["hyperscan"] if hyperscan_available() else [])
    for name in engines:
        assert compile_engine(m.anchors(), name).candidate_lines(block) == [], name
    # ... while the real names and the generic-word phrases pass
    for n in ["Kaspersky Endpoint Security", "ZTE", "TikTok", "Lark", "Group-IB", "HiSuite", "Z.T.E. Corp."]:
        assert m.prefilter(json.dumps({"columns": {"name": n}})), n


def test_escapes_and_percent_encoding_before_a_token_pass(registry: Registry) -> None:
    m = Matcher(registry)
    for raw in ['{"name": "x\\nKaspersky"}', '{"purl": "pkg:npm/%40douyinfe/semi-ui@2"}',
                '{"path": "C:\\\\Program Files\\\\Kaspersky Lab\\\\"}', "x\tKASPERSKY\t1"]:
        assert m.prefilter(raw), raw


def test_backslash_runs_before_u_and_x_fast_equals_slow(tmp_path: Path, registry: Registry) -> None:
    """An escape is a backslash run of odd length before u/x: ``\\\\u004b`` in JSON text (or
    ``\\\\x4b`` in a Zeek log) is an escaped backslash and letters, so the line need not be read,
    while ``\\u004b`` and ``\\\\\\u004b`` hide a letter that may complete a vendor's name."""
    osq, dns = tmp_path / "osq.log", tmp_path / "dns.log"
    ev = ('{"name":"pack_inventory_programs","hostIdentifier":"h%d","calendarTime":"Mon Nov 23 10:00:00 2026 UTC",'
          '"unixTime":1795000000,"epoch":0,"counter":0,"numerics":false,"columns":{"name":"%s","version":"1",'
          '"install_location":"C:\\\\Users\\\\x\\\\","publisher":"%s"},"action":"added"}\n')
    names = [("\\u004baspersky Endpoint Security", "\\u0041O Kaspersky Lab"),  # real escapes: found
             ("\\\\u004baspersky Endpoint Security", "Mozilla"),  # an escaped backslash: not a name
             ("\\\\\\u004baspersky Endpoint Security", "x"),  # a backslash, then an escape: found
             ("Firefox", "Mozilla"), ("HiSuite", "Huawei Technologies Co., Ltd.")]
    osq.write_text("".join(ev % (i, n, p) for i, (n, p) in enumerate(names * 3)), encoding="utf-8")
    fields = ["ts", "uid", "id.orig_h", "query", "qtype_name"]
    rows = ["\\x6baspersky.com", "\\\\x6baspersky.com", "\\\\\\x6baspersky.com", "example.org", "\\x7ate.com.cn"]
    dns.write_text("#separator \\x09\n#path\tdns\n#fields\t" + "\t".join(fields) + "\n"
                   + "".join(f"1795000000.{i}\tC{i}\t10.0.0.{i}\t{q}\tA\n" for i, q in enumerate(rows * 3)),
                   encoding="utf-8")
    fast = scan(registry, [str(osq), str(dns)])
    slow = scan(registry, [str(osq), str(dns)], fast=False)
    assert key(fast) == key(slow)
    assert [i.to_dict() for i in fast.inputs] == [i.to_dict() for i in slow.inputs]
    found = {d.source.locator for d in fast.detections}
    assert len(found) >= 4  # the escaped names are found (the comparison is not vacuous)


@pytest.mark.parametrize("phrase", ["Group  IB", "Group+IB", "Group\u2013IB", "GROUP_IB", "Hi  Suite", "hi+suite"])
def test_generic_word_phrases_pass_the_prefilter(registry: Registry, phrase: str) -> None:
    m = Matcher(registry)
    line = json.dumps({"columns": {"name": phrase}})
    assert m.prefilter(line)


def test_engines_mark_the_same_lines(tmp_path: Path, registry: Registry) -> None:
    if not hyperscan_available():
        pytest.skip("hyperscan does not work here")
    rnd = random.Random(5)
    values = signature_values(registry)
    osq = tmp_path / "osq.log"
    osquery_log(osq, values, rnd, 600)
    data = osq.read_bytes()
    anchors = Matcher(registry).anchors()
    hs = compile_engine(anchors, "hyperscan")
    ac = compile_engine(anchors, "aho-corasick")
    assert hs.name == "hyperscan" and ac.name == "aho-corasick"
    lines_hs = hs.candidate_lines(data)
    assert lines_hs == ac.candidate_lines(data)
    assert 0 < len(lines_hs) < data.count(b"\n")
    for raw in data.splitlines()[:200]:
        assert hs.search(raw) == ac.search(raw)


def test_aho_corasick_engine_scan_equals_slow(tmp_path: Path, registry: Registry,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The portable engine behind the same interface gives the same detections."""
    import banscan.fast.engine as eng

    real = eng.compile_engine
    monkeypatch.setattr(eng, "compile_engine", lambda anchors, prefer=None: real(anchors, "aho-corasick"))
    rnd = random.Random(9)
    values = signature_values(registry)
    osq = tmp_path / "osq.log"
    osquery_log(osq, values, rnd, 400)
    fast = scan(registry, [str(osq)])
    slow = scan(registry, [str(osq)], fast=False)
    assert key(fast) == key(slow)


def test_memo_key_leaves_out_only_fields_the_matcher_never_reads() -> None:
    import banscan.match as match_pkg
    from banscan.fast.memo import NOT_READ

    root = Path(match_pkg.__file__).parent
    source = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))
    names = {getattr(F, a): a for a in dir(F) if not a.startswith("_")}
    for field in NOT_READ:
        assert f'"{field}"' not in source, field
        if field in names:
            assert f"F.{names[field]}" not in source, field


def test_memo_key_holds_every_field_the_match_package_reads(registry: Registry) -> None:
    """The memo key keeps only the fields the kinds declare (FIELDS) and MATCHER_READS: every
    field the match package's source names must be among them, or a cached result could be
    reused for an observation that differs in a field that matters."""
    import re

    import banscan.match as match_pkg
    from banscan.fast.memo import MemoMatcher

    reads = MemoMatcher(registry).reads
    assert reads is not None and F.DOMAIN in reads and F.NAME in reads
    root = Path(match_pkg.__file__).parent
    named: set[str] = set()
    for p in [root / "__init__.py", *sorted((root / "kinds").glob("*.py"))]:
        src = p.read_text(encoding="utf-8")
        named.update(getattr(F, a) for a in re.findall(r"\bF\.([A-Z_]+)\b", src))
        named.update(re.findall(r"\bobs\.(?:values|first)\(\s*\"([a-z_]+)\"", src))
        named.update(re.findall(r"\.fields(?:\.get\(|\[)\s*\"([a-z_]+)\"", src))
    assert named, "no field references found: the scan of the source is broken"
    missing = named - reads - {F.MAC}  # the MAC is read by Matcher.match, outside the memo
    assert not missing, missing


def test_memo_gives_the_same_detections_for_repeated_products(registry: Registry) -> None:
    from banscan.fast.memo import MemoMatcher
    from banscan.model import EvidenceClass, Locator, Observation

    plain, memo = Matcher(registry), MemoMatcher(registry)
    rows = [{"name": "Kaspersky Endpoint Security", "publisher": "AO Kaspersky Lab", "version": f"12.{i}"}
            for i in range(5)] + [{"name": "HiSuite", "publisher": "Huawei"}, {"name": "Firefox"}] * 3
    for i, f in enumerate(rows):
        o = Observation("software", f"pc-{i}", dict(f), Locator("x.csv", f"line {i + 2}"), EvidenceClass.INSTALLED)
        assert [d.to_dict() for d in memo.match(o)] == [d.to_dict() for d in plain.match(o)]
    assert memo.memo_hits == len(rows) - 3
    # a DNS query's other fields (answers, type) do not split the memo, and do not change the result
    q = [Observation("dns", f"10.0.0.{i}", {F.DOMAIN: "www.kaspersky.com", "qtype": t, "answers": str(i)},
                     Locator("dns.log", f"line {i}"), EvidenceClass.NETWORK_TRAFFIC) for i, t in enumerate("A" * 4)]
    before = memo.memo_hits
    for o in q:
        assert [d.to_dict() for d in memo.match(o)] == [d.to_dict() for d in plain.match(o)]
    assert memo.memo_hits == before + 3


def test_zeek_dns_blocks_use_only_the_anchors_of_kinds_reading_their_fields(tmp_path: Path,
                                                                            registry: Registry) -> None:
    """A dns.log record carries a domain (and answers): a banner's or a product name's anchor
    ("login", "ivms", "hisuite") does not make its line a candidate, a listed domain does; and
    the scan still equals the slow one."""
    header = [b"#separator \\x09\n", b"#path\tdns\n",
              b"#fields\tts\tuid\tid.orig_h\tid.orig_p\tquery\tanswers\n"]
    plan = fb.ZeekTsvPlan()
    fields = plan.fields(header)
    assert fields is not None and F.DOMAIN in fields
    assert plan.fields([b"#separator \\x09\n", b"#path\tssl\n", b"#fields\tts\tuid\tserver_name\n"]) is None
    m = Matcher(registry)
    rows = [b"1.0\tC1\t10.0.0.1\t53\tlogin.microsoftonline.com\t-\n",
            b"1.0\tC2\t10.0.0.2\t53\tivms-4200.hisuite.example.org\t-\n",
            b"1.0\tC3\t10.0.0.3\t53\tupdate.kaspersky.com\t-\n"]
    block = b"".join(rows)
    assert m.engine.candidate_lines(block) == [0, len(rows[0]), len(rows[0]) + len(rows[1])]
    assert m.engine_for(fields).candidate_lines(block) == [len(rows[0]) + len(rows[1])]
    log = tmp_path / "dns.log"
    log.write_bytes(b"".join(header) + block * 50)
    fast, slow = scan(registry, [str(log)]), scan(registry, [str(log)], fast=False)
    assert len(slow.detections) == 50
    assert key(fast) == key(slow)
    assert [i.to_dict() for i in fast.inputs] == [i.to_dict() for i in slow.inputs]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_unicode_filter_in_one_pass_equals_line_by_line(registry: Registry, seed: int) -> None:
    """The folded non-ASCII lines of a block, scanned together, are marked exactly as one by one."""
    rnd = random.Random(seed)
    values = [v for vs in signature_values(registry).values() for v in vs]
    uf = Matcher(registry).unicode_filter
    lines = []
    for _ in range(40):
        v = variant(rnd.choice(values + NEAR_MISSES), rnd)
        pre = rnd.choice(["\u00e9 ", "\u83ef\u70ba", "x", "\\\\u0041", "\\u0041", "\\\\\\u0041", "%40", "\u212a"])
        line = json.dumps({"columns": {"name": pre + v}}, ensure_ascii=False)
        # combining characters at a line's edges (folding joined lines must not compose them)
        line = rnd.choice(["", "\u0301", "\u1161"]) + line + rnd.choice(["", "\u1100", "e"])
        lines.append(line.encode("utf-8") + rnd.choice([b"\n", b"", b"\r\n", b"\n", b"\n"]))
        if rnd.random() < 0.02:
            lines[-1] += b"\xff"  # not UTF-8: the block goes line by line
    assert uf.needing(lines) == [uf.needs_bytes(x) for x in lines]
    assert any(uf.needing(lines)) and not all(uf.needing(lines))


def test_jobs_workers_read_blocks_from_the_file_and_notice_a_change(tmp_path: Path, registry: Registry,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """With --jobs, workers read each block of a regular file at its offset: the same results as
    one process (above and here), and a block whose bytes differ from what the parent read (the
    file rewritten meanwhile) is an error naming the line, not a silent scan of other bytes."""
    import banscan.fast.parallel as par

    rnd = random.Random(5)
    osq = tmp_path / "osq.log"
    osquery_log(osq, signature_values(registry), rnd, 300)
    one = scan(registry, [str(osq)])
    two = scan(registry, [str(osq)], jobs=2)
    assert key(one) == key(two) and one.detections
    assert [i.to_dict() for i in one.inputs] == [i.to_dict() for i in two.inputs]

    real = os.pread

    def rewritten(fd: int, n: int, offset: int) -> bytes:
        data = real(fd, n, offset)
        return data if offset == 0 else data[:-1] + b"?"

    monkeypatch.setattr(par.os, "pread", rewritten)  # the forked workers inherit it
    bad = scan(registry, [str(osq)], jobs=2)
    assert any("changed while being read" in e for e in bad.inputs[0].errors)
    import multiprocessing

    assert not multiprocessing.active_children()  # the scan stopped at that block: its workers too


def _log_and_middle_block(tmp_path: Path, registry: Registry, seed: int) -> tuple[Path, tuple[int, int, int]]:
    """A generated osqueryd log of several blocks, and (first line, offset, length) of its middle one."""
    osq = tmp_path / "osq.log"
    osquery_log(osq, signature_values(registry), random.Random(seed), 300)
    with osq.open("rb") as fh:
        spans = list(fb.iter_spans(fh))
    first, offset, length, _edges = spans[len(spans) // 2]
    return osq, (first, offset, length)


def _worker_entry(monkeypatch: pytest.MonkeyPatch, chained: bool, reads: bool) -> tuple[str, int]:
    """The worker function that reads (``reads``) or scans a block at its offset, and the place
    of the offset in its arguments: with ``chained`` the workers count lines and hash block after
    block (banscan.fast.shachain), reading a block as its task comes and scanning it in turn;
    else the parent does, reading the file (forced here), and a worker reads and scans a block
    in one function."""
    from banscan.fast import shachain

    if chained:
        assert shachain.available()  # (this machine's Python links OpenSSL's libcrypto)
        return ("_read_chained" if reads else "_scan_chained"), 3
    monkeypatch.setattr(shachain, "available", lambda: False)
    return "_work_at", 4


@pytest.mark.parametrize("chained", [True, False], ids=["workers-hash", "parent-hashes"])
def test_jobs_worker_that_dies_is_an_error_naming_the_block(tmp_path: Path, registry: Registry,
                                                            monkeypatch: pytest.MonkeyPatch, chained: bool) -> None:
    """A worker process that ends without a result (killed, crashed) stops that input with an
    error naming the first line of the block it had, not a traceback or a hang; the workers are
    gone afterwards."""
    import multiprocessing

    import banscan.fast.parallel as par

    osq, victim = _log_and_middle_block(tmp_path, registry, 6)
    name, at = _worker_entry(monkeypatch, chained, reads=False)
    real = getattr(par, name)

    def dies(*args: Any) -> fb.BlockResult:
        if args[at] == victim[1]:  # the block at this offset
            os._exit(3)
        return real(*args)

    monkeypatch.setattr(par, name, dies)  # the forked workers inherit it
    bad = scan(registry, [str(osq)], jobs=2)
    errors = bad.inputs[0].errors
    assert errors == [f"{bad.inputs[0].path}: cannot scan from line {victim[0]}: a worker process stopped "
                      f"(exit code 3)"], errors
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("chained", [True, False], ids=["workers-hash", "parent-hashes"])
def test_jobs_file_truncated_while_scanned_is_an_error(tmp_path: Path, registry: Registry,
                                                       monkeypatch: pytest.MonkeyPatch, chained: bool) -> None:
    """A regular file cut short while the workers read it (after the parent cut it): the first
    block past the new end is an error naming its first line, and the blocks before it are
    scanned as usual."""
    import banscan.fast.parallel as par

    osq, cut = _log_and_middle_block(tmp_path, registry, 7)
    name, at = _worker_entry(monkeypatch, chained, reads=True)
    real = getattr(par, name)

    def truncating(*args: Any) -> fb.BlockResult:
        if args[at] >= cut[1]:
            os.truncate(osq, cut[1] + cut[2] // 2)  # the middle of that block
        return real(*args)

    monkeypatch.setattr(par, name, truncating)
    got = scan(registry, [str(osq)], jobs=2)
    assert got.inputs[0].errors == [f"{got.inputs[0].path}: cannot read from line {cut[0]}: changed while being read"]
    assert got.detections and all(int(d.source.locator.split()[-1]) < cut[0] for d in got.detections)


def test_zeek_json_blocks_count_the_records_no_prefilter_lets_through(tmp_path: Path, registry: Registry) -> None:
    """After the first block, the records of a Zeek JSON dns.log are counted, not parsed: only
    candidates and lines of another shape reach the reader; the kind is handed on from block to
    block (a conn record without _path makes the records after it conn records, as for the reader)."""
    rnd = random.Random(5)
    log = tmp_path / "dns.json"
    zeek_json_log(log, {"domain": ["kaspersky.com"]}, rnd, 300, with_path=False)  # (most names: near misses)
    data = log.read_bytes()
    matcher = Matcher(registry)
    plan = fb.plan_for(by_name("zeek"), data[:65536])
    assert isinstance(plan, fb.ZeekJsonPlan)
    header: list[bytes] = []
    candidates = rows = 0
    with log.open("rb") as fh:
        for first, block in fb.iter_blocks(fh):
            res = fb.scan_block(by_name("zeek"), plan, matcher, header, block, first, str(log), "sensor")
            if header:
                candidates += res.candidates
                rows += block.count(b"\n")
            header = plan.after_headers(header, block)
    assert header in ([b"dns\n"], [b"conn\n"])
    assert 0 < candidates < rows / 2


@pytest.mark.parametrize("form", ["osquery", "zeek-tsv", "zeek-json", "dnsmasq"])
def test_line_longer_than_max_line_bytes_is_skipped_in_blocks_too(tmp_path: Path, registry: Registry,
                                                                 form: str) -> None:
    """A line longer than max_line_bytes is skipped and noted, not read, in a block-scanned log as
    when the reader reads the input itself (the lines a block feeds its reader are cut as a
    file's are)."""
    rnd = random.Random(7)
    values = signature_values(registry)
    log = tmp_path / f"{form}.log"
    if form == "osquery":
        osquery_log(log, values, rnd, 60)
    elif form == "zeek-tsv":
        zeek_dns_log(log, values, rnd, 60)
    elif form == "zeek-json":
        zeek_json_log(log, values, rnd, 60, with_path=False)
    else:
        dns_query_log(log, values, rnd, 60)
    lines = log.read_bytes().splitlines(keepends=True)
    line = lines[20].rstrip(b"\r\n")
    cut = max(line.rfind(b" "), line.rfind(b","), line.rfind(b"\t"))  # (a place that keeps the line's form)
    long = line[:cut + 1] + b"x" * 5000 + line[cut + 1:]
    log.write_bytes(b"".join(lines[:20] + [long + b"\n"] + lines[21:]))
    limits = Limits(max_line_bytes=4096)
    fast = scan(registry, [str(log)], limits=limits)
    slow = scan(registry, [str(log)], fast=False, limits=limits)
    assert key(fast) == key(slow)
    assert [same_order(i.to_dict()) for i in fast.inputs] == [same_order(i.to_dict()) for i in slow.inputs]
    assert any("line 21" in d and "max_line_bytes" in d for d in fast.inputs[0].deviations)


def software_csv(path: Path, values: dict[str, list[str]], rnd: random.Random, rows: int) -> None:
    """An installed-software CSV export (Intune-like columns) built from the product names and
    publishers of every signature with random case, separators, Unicode forms and near misses,
    and rows of other shapes: mobile rows (a platform or a bundle id), rows without a name, a
    quoted cell holding a newline, the delimiter or quotes, a short row, blank rows, hostile asset
    names."""
    names = values.get("product-name", []) + values.get("app-name", []) + NEAR_MISSES + ["Firefox", "7-Zip"]
    pubs = values.get("publisher", []) + ["Mozilla", "Igor Pavlov", "Zoom Video Communications, Inc."]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Device name", "Application Name", "Publisher", "Version", "Platform", "Bundle ID"])
        for i in range(rows):
            name = variant(rnd.choice(names), rnd) if rnd.random() < 0.5 else rnd.choice(["Firefox", "Notepad++"])
            pub = variant(rnd.choice(pubs), rnd) if rnd.random() < 0.5 else "Mozilla"
            host = rnd.choice(["pc-1", "pc-2", "phone-1", " pc-3 ", "", "x\x00y", "NONE"])
            platform = rnd.choice(["Windows", "Windows", "iOS", "Android", ""])
            bundle = rnd.choice(["", "", "", "com.example.app", "com.huawei.hwid"])
            r = rnd.random()
            if r < 0.05:
                name, bundle = "", ""
            elif r < 0.08:
                name = name + "\nsecond line, \"quoted\""
            row = [host, name, pub, f"{i % 9}.0", platform, bundle]
            if rnd.random() < 0.03:
                row = row[:3]
            if rnd.random() < 0.02:
                row = ["", "", "", "", "", ""]
            w.writerow(row)


def test_generated_software_csv_fast_equals_slow(tmp_path: Path, registry: Registry) -> None:
    """A row the prefilter rules out is counted for the asset and evidence class its observation
    would have had; the same detections, counts and coverage as with every row read."""
    rnd = random.Random(17)
    values = signature_values(registry)
    path = tmp_path / "software.csv"
    software_csv(path, values, rnd, 600)
    fast = scan(registry, [str(path)])
    slow = scan(registry, [str(path)], fast=False)
    assert fast.inputs[0].format == "software-csv"
    assert len(fast.detections) > 20
    assert key(fast) == key(slow)
    assert [same_order(i.to_dict()) for i in fast.inputs] == [same_order(i.to_dict()) for i in slow.inputs]
    assert {"pc-1", "phone-1"} <= set(fast.inputs[0].assets)


_ODD_CELLS = ["\u00a0", "\u3000pc-9\u2028", " NONE ", "NOA\u00dfERTION", "noassertion", "\u00a0NONE",
              "\u0414\u0440\u0430\u0439\u0432\u0435\u0440", "\u017f", "ios\u00a0", "Android 14", "iPadOS"]


def software_csv_raw(path: Path, values: dict[str, list[str]], rnd: random.Random, rows: int,
                     delim: str = ",") -> None:
    """A CSV export written line by line, as exports and hostile hands write them: rows quoted
    by the csv module (minimal or all), with doubled quotes, stray quotes (in a cell, after a
    closing quote), a bare carriage return, bytes that are not UTF-8, cells of Unicode spaces,
    NONE / NOASSERTION in any case and in letters that upper-case to them, quoted cells holding
    newlines (some over many lines, one quote never closed), blank and whitespace-only lines."""
    names = values.get("product-name", []) + values.get("app-name", []) + NEAR_MISSES + ["Firefox", "7-Zip"]
    pubs = values.get("publisher", []) + ["Mozilla", "CN=\"Acme, Inc.\", O=Acme"]
    out: list[bytes] = []

    def write(row: list[str], quoting: int = csv.QUOTE_MINIMAL) -> None:
        buf = io.StringIO()
        csv.writer(buf, delimiter=delim, quoting=quoting, lineterminator=rnd.choice(["\n", "\r\n"])).writerow(row)
        out.append(buf.getvalue().encode("utf-8"))

    write(["ComputerName", "DisplayName", "Publisher", "DisplayVersion", "Platform", "BundleId"], csv.QUOTE_ALL)
    for i in range(rows):
        name = variant(rnd.choice(names), rnd) if rnd.random() < 0.4 else rnd.choice(["Firefox", "Notepad++", "7-Zip"])
        host = rnd.choice(["pc-1", "pc-2", " pc-3 ", "", "NONE", "pc-\u00e9"])
        row = [host, name, rnd.choice(pubs), f"{i % 7}.0", rnd.choice(["Windows", "", "Windows"]), ""]
        r = rnd.random()
        if r < 0.08:
            row[rnd.choice([0, 1, 3, 4, 5])] = rnd.choice(_ODD_CELLS)
        elif r < 0.11:
            row[1] = row[1] + rnd.choice(["\n", "\r\n", "\n\n\n", "\r"]) + "second, \"line\""
        if rnd.random() < 0.3:
            write(row, csv.QUOTE_ALL)
            continue
        r = rnd.random()
        d = delim.encode()
        raw = [c.encode("utf-8") for c in row]
        if r < 0.03:
            out.append(d.join(raw[:1] + [b'5" ' + raw[1]] + raw[2:]) + b"\n")  # a stray quote in a cell
        elif r < 0.05:
            out.append(d.join(raw[:1] + [b'"' + raw[1] + b'"x'] + raw[2:]) + b"\n")  # a byte after a closing quote
        elif r < 0.07:
            out.append(d.join(raw[:1] + [b'"' + raw[1] + b' ""Pro""\"'] + raw[2:]) + b"\n")  # doubled quotes
        elif r < 0.08:
            out.append(d.join(raw[:1] + [raw[1] + b"\rmore"] + raw[2:]) + b"\n")  # a bare carriage return
        elif r < 0.10:
            out.append(d.join(raw[:1] + [raw[1] + b" \xe9dition \x81"] + raw[2:]) + b"\n")  # not UTF-8
        elif r < 0.12:
            out.append(rnd.choice([b"\n", b" \t \r\n", d * 5 + b"\n", (d + b" ") * 5 + b"\n"]))
        else:
            write(row)
    if rnd.random() < 0.5:
        out.insert(len(out) // 2, b'pc-1,"never closed\n' + b"x,y\n" * 40)
    path.write_bytes(b"".join(out))


@pytest.mark.parametrize("seed", range(6))
def test_generated_raw_software_csv_blocks_equal_the_reader(tmp_path: Path, registry: Registry, seed: int) -> None:
    """Hostile CSV exports, cut into many small blocks (a block's last record may go on in the
    next, over several blocks): the same detections, counts, coverage, errors and deviations as
    the reader reading the input line by line, with every row matched, and with --jobs 4."""
    rnd = random.Random(seed)
    values = signature_values(registry)
    path = tmp_path / "software.csv"
    software_csv_raw(path, values, rnd, 700, delim=[",", ";", "\t"][seed % 3])
    fast = scan(registry, [str(path)])
    assert fast.inputs[0].format == "software-csv"
    lines = scan(registry, [str(path)], blocks=False)
    slow = scan(registry, [str(path)], fast=False)
    four = scan(registry, [str(path)], jobs=4)
    assert len(fast.detections) > 10
    assert key(fast) == key(lines) == key(slow) == key(four)
    assert [same_order(i.to_dict()) for i in fast.inputs] == [same_order(i.to_dict()) for i in lines.inputs]
    assert [same_order(i.to_dict()) for i in fast.inputs] == [same_order(i.to_dict()) for i in slow.inputs]
    assert [i.to_dict() for i in four.inputs] == [i.to_dict() for i in fast.inputs]


def test_software_csv_blocks_are_counted_and_cut_where_records_end(tmp_path: Path, registry: Registry,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The CSV plan does count blocks (the comparison above is not all blocks read in full), and a
    record holding newlines that a block's window cuts is carried whole into the next block."""
    rnd = random.Random(11)
    path = tmp_path / "software.csv"
    software_csv_raw(path, signature_values(registry), rnd, 400)
    counted: list[bool] = []
    count = fb.SoftwareCsvPlan.count

    def spy(self: fb.SoftwareCsvPlan, *args: Any) -> bool:
        counted.append(count(self, *args))
        return counted[-1]

    monkeypatch.setattr(fb.SoftwareCsvPlan, "count", spy)
    scan(registry, [str(path)])
    assert True in counted and False in counted
    # a record whose first line ends before the first window's end (2048 bytes) and whose last after
    rows = [b"ComputerName,DisplayName,Publisher\n"]
    while sum(map(len, rows)) < 2000:
        rows.append(b"pc-1,Firefox,Mozilla\n")
    at = len(rows) + 1  # the record's first line
    rows += [b'pc-2,"Huawei\n', b"y" * 100 + b"\n", b'HiSuite",Huawei\n'] + [b"pc-3,7-Zip,Igor Pavlov\n"] * 200
    data = b"".join(rows)
    path.write_bytes(data)
    windows = [b for _first, b in fb.iter_blocks(io.BytesIO(data))]
    cut = list(fb.SoftwareCsvPlan().recut(fb.iter_blocks(io.BytesIO(data))))
    assert windows[0].endswith(b'pc-2,"Huawei\n')
    assert cut[0][1].endswith(b"pc-1,Firefox,Mozilla\n") and cut[1][1].startswith(b'pc-2,"Huawei\n')
    assert b"".join(b for _f, b in cut) == data
    line = 1
    for first, block in cut:
        assert first == line
        line += block.count(b"\n")
    fast = scan(registry, [str(path)])
    assert [(d.asset, d.source.locator) for d in fast.detections if d.family == "huawei"] == [("pc-2", f"line {at}")]
    assert [same_order(i.to_dict()) for i in fast.inputs] == [
        same_order(i.to_dict()) for i in scan(registry, [str(path)], blocks=False).inputs]


def test_software_csv_record_over_the_field_limit_and_long_lines(tmp_path: Path, registry: Registry) -> None:
    """A quoted cell that never closes ends at the csv module's field limit (an error, the rest of
    that line dropped), and a line longer than max_line_bytes inside a quoted cell is skipped, as
    when the reader reads the file itself."""
    body = [b"ComputerName,DisplayName,Publisher\n", b"pc-1,Kaspersky Endpoint Security,AO Kaspersky Lab\n",
            b'pc-2,"open\n']
    body += [b"a" * 490 + b",Huawei\n"] * 280  # past the field limit (131072 characters)
    body += [b"pc-3,Kaspersky Free,Kaspersky\n", b'pc-4,"two\n', b"x" * 700 + b"\n", b'lines",ZTE\n']
    body += [b"pc-5,Hikvision iVMS-4200,Hikvision\n"] * 30
    path = tmp_path / "software.csv"
    path.write_bytes(b"".join(body))
    limits = Limits(max_line_bytes=512)
    fast = scan(registry, [str(path)], limits=limits)
    lines = scan(registry, [str(path)], blocks=False, limits=limits)
    assert key(fast) == key(lines)
    assert [same_order(i.to_dict()) for i in fast.inputs] == [same_order(i.to_dict()) for i in lines.inputs]
    got = fast.inputs[0].to_dict()
    assert any("field larger than field limit" in d for d in got["deviations"]), got["deviations"]
    assert any("max_line_bytes" in d for d in got["deviations"])
    found = {(d.asset, d.source.locator) for d in fast.detections}
    assert {("pc-1", "line 2"), ("pc-3", "line 284")} <= found
    # line numbers are the file's, the skipped line 286 counted
    assert min(int(loc.split()[1]) for a, loc in found if a == "pc-5") == 288


def test_software_csv_open_quote_does_not_carry_long_lines(tmp_path: Path, registry: Registry) -> None:
    """A quoted cell left open before lines longer than max_line_bytes ends at the first of them
    (the reader skips such a line, and the record it falls in ends there): the blocks stay the
    size of their windows (the parent does not hold the long lines in memory), and the results are
    the reader's."""
    data = (b"ComputerName,DisplayName,Publisher\npc-1,Kaspersky Free,Kaspersky\npc-2,\"open\n"
            + (b"z" * 600 + b"\n") * 60 + b"pc-3,ZTE NetNumen,ZTE\n" * 50)
    path = tmp_path / "software.csv"
    path.write_bytes(data)
    plan = fb.SoftwareCsvPlan()
    plan.limits = Limits(max_line_bytes=512)
    cut = list(plan.recut(fb.iter_blocks(io.BytesIO(data))))
    assert b"".join(b for _f, b in cut) == data
    assert max(len(b) for _f, b in cut) <= 2048 + 600
    limits = Limits(max_line_bytes=512)
    fast = scan(registry, [str(path)], limits=limits)
    lines = scan(registry, [str(path)], blocks=False, limits=limits)
    assert key(fast) == key(lines) and {d.asset for d in fast.detections} == {"pc-1", "pc-3"}
    assert [same_order(i.to_dict()) for i in fast.inputs] == [same_order(i.to_dict()) for i in lines.inputs]
    assert any("line 3: record skipped: a quoted cell goes on past" in d for d in fast.inputs[0].deviations)


def test_software_csv_notes_are_the_same_in_blocks_and_line_by_line(tmp_path: Path, registry: Registry) -> None:
    """Found by fuzzing the CSV block scanner: a header line that is not UTF-8 is noted once (not
    again, as "line 0", by every later block that reads it first), and a NUL in a row that no
    signature can match is noted as replaced whether the row was read, skipped by the reader's
    prefilter, or counted in a block (in its asset name or in a cell its observation keeps)."""
    rows = [b"ComputerName,DisplayName,Publisher,Notes \xe9\n"]
    for i in range(120):
        rows.append(b"pc-%d,Firefox,Mozilla,x\n" % (i % 7))
        if i == 60:
            rows += [b"pc-1,Fire\x00fox,Mozilla,x\n", b'pc-2,"Notepad\n++",Don Ho,x\n', b"pc\x00-3,7-Zip,Igor Pavlov,x\n"]
        if i == 100:
            rows.append(b"pc-4,Kaspersky Free,Kaspersky,x\n")
    path = tmp_path / "software.csv"
    path.write_bytes(b"".join(rows))
    fast = scan(registry, [str(path)])
    lines = scan(registry, [str(path)], blocks=False)
    slow = scan(registry, [str(path)], fast=False)
    assert key(fast) == key(lines) == key(slow) and {d.asset for d in fast.detections} == {"pc-4"}
    got = same_order(fast.inputs[0].to_dict())
    assert got == same_order(lines.inputs[0].to_dict()) == same_order(slow.inputs[0].to_dict())
    assert "line 1 is not UTF-8; decoded as Windows-1252" in got["deviations"]
    assert not [d for d in got["deviations"] if "line 0" in d]
    assert any("were replaced with U+FFFD" in d for d in got["deviations"])
    assert "pc\ufffd-3" in got["assets"]


def _event(i: int, table: str, columns: dict[str, str], host: str = "host-1") -> bytes:
    line = {"name": f"pack_inventory_{table}", "hostIdentifier": host, "calendarTime": "Mon Nov 23 10:00:00 2026 UTC",
            "unixTime": 1795000000 + i, "epoch": 0, "counter": 0, "numerics": False, "columns": columns,
            "action": "added"}
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def test_osquery_log_whose_first_short_line_is_not_an_event(tmp_path: Path, registry: Registry) -> None:
    """Found by the differential campaign (bench/blocks_differential.py): the reader decides how
    to read a results log by its first line that is not longer than max_line_bytes (it skips the
    longer ones); when that line is not a JSON object it reads JSON documents.  The block plan took
    the first line whatever its length, read the log as one event a line and lost its detections."""
    prog = {"name": "Kaspersky Endpoint Security", "version": "12.0", "install_location": "C:\\x",
            "publisher": "AO Kaspersky Lab", "identifying_number": "{0}" + "x" * 120}
    lines = [_event(i, "programs", prog) for i in range(3)]
    lines += [b'{"name":"pack_processes","hostIdentifier":"host-2","calendarTime"\n',
              b':"x","unixTime":1,"columns":{"pid":"1","name":"kavremover","path":"/x","cmdline":""},"action":"added"}\n']
    lines += [_event(10 + i, "programs", prog, "host-3") for i in range(3)]
    log = tmp_path / "osqueryd.results.log"
    log.write_bytes(b"".join(lines))
    limits = Limits(max_line_bytes=200)
    fast = scan(registry, [str(log)], limits=limits)
    by_line = scan(registry, [str(log)], blocks=False, limits=limits)
    slow = scan(registry, [str(log)], fast=False, limits=limits)
    assert key(fast) == key(by_line) == key(slow) and {d.asset for d in fast.detections} == {"host-3"}
    assert [same_order(i.to_dict()) for i in fast.inputs] == [same_order(i.to_dict()) for i in by_line.inputs]


def test_osquery_row_table_is_its_own_wherever_it_is_read(tmp_path: Path, registry: Registry) -> None:
    """Found by the differential campaign: the reader took a row's table from the first row of its
    query it had read, so a row whose columns name no table (a broken key) was read as its query's
    table in one pass over the file, and not in a block where it came first: the block scanner
    missed its detections.  Now every row's table is its own (its columns and query name)."""
    good = {"name": "hello", "version": "1.0-1", "arch": "amd64", "source": "", "revision": "1", "maintainer": "x"}
    broken = {"name": "tiktok-opensdk-react-native", "version,": "1.0-1", "arch": "amd64", "source": "",
              "revision": "1", "maintainer": "ZTE Corporation"}
    lines = [_event(i, "deb_packages", good) for i in range(20)] + [_event(20, "deb_packages", broken)]
    lines += [_event(21 + i, "deb_packages", {**good, "name": "tiktok-opensdk-react-native"}) for i in range(3)]
    log = tmp_path / "osqueryd.results.log"
    log.write_bytes(b"".join(lines))
    fast = scan(registry, [str(log)])  # (2048-byte blocks: the broken row starts one)
    by_line = scan(registry, [str(log)], blocks=False)
    slow = scan(registry, [str(log)], fast=False)
    assert key(fast) == key(by_line) == key(slow)
    assert {d.source.locator for d in fast.detections} == {"line 22", "line 23", "line 24"}


def test_zeek_tsv_line_of_another_width_is_reported_in_blocks_too(tmp_path: Path, registry: Registry) -> None:
    """Found by the differential campaign: a Zeek TSV line with fewer (or more) fields than the
    header declares is an error when read; the block scanner counted it as a row when no anchor
    marked it, and so did the reader's own prefilter.  Both now leave it to be read and reported."""
    rnd = random.Random(3)
    log = tmp_path / "dns.log"
    zeek_dns_log(log, signature_values(registry), rnd, 120)
    lines = log.read_bytes().split(b"\n")
    i = next(i for i in range(40, len(lines)) if not lines[i].startswith(b"#") and lines[i].count(b"\t") == 15)
    cut = lines[i].split(b"\t")[:9]
    cut[2], cut[8] = b"10.0.0.9", b"www.example.org"  # a cut line (9 fields) that no anchor marks
    lines[i] = b"\t".join(cut)
    assert not Matcher(registry).prefilter(lines[i].decode())
    log.write_bytes(b"\n".join(lines))
    fast = scan(registry, [str(log)])
    by_line = scan(registry, [str(log)], blocks=False)
    slow = scan(registry, [str(log)], fast=False)
    want = f"line {i + 1}: Zeek dns record has 9 fields, the header declares 16"
    for r in (fast, by_line, slow):
        assert any(e.endswith(want) for e in r.inputs[0].errors), r.inputs[0].errors
    assert key(fast) == key(by_line) == key(slow)
    assert [same_order(x.to_dict()) for x in fast.inputs] == [same_order(x.to_dict()) for x in by_line.inputs]


def test_a_record_whose_strings_are_cleaned_is_counted_once(tmp_path: Path, registry: Registry) -> None:
    """Found by the differential campaign: a reader that counts its own observations (Zeek) gave
    one whose query held a NUL; cleaned, it became another object, which the scanner counted again."""
    rnd = random.Random(4)
    log = tmp_path / "dns.log"
    zeek_dns_log(log, signature_values(registry), rnd, 60)
    lines = log.read_bytes().split(b"\n")
    i = next(i for i in range(20, len(lines)) if lines[i].count(b"\t") == 15)
    cut = lines[i].split(b"\t")
    cut[8] = b"kaspersky\x00.com"
    lines[i] = b"\t".join(cut)
    log.write_bytes(b"\n".join(lines))
    rows = sum(1 for ln in lines if ln and not ln.startswith(b"#"))
    for kw in ({}, {"blocks": False}, {"fast": False}):
        r = scan(registry, [str(log)], **kw)
        assert r.inputs[0].observations == rows, kw
        assert any("were replaced with U+FFFD" in d for d in r.inputs[0].deviations), kw


def test_file_lines_cut_at_newlines_only() -> None:
    """Lines are cut as a file's readline cuts them (a block read in full is fed to its reader as a
    file; a Spark executor splits the header lines it is handed so): at newlines only (a carriage
    return inside a line, as in a CSV cell, does not start another; see
    test_generated_raw_software_csv_blocks_equal_the_reader)."""
    assert fb.file_lines(b"") == []
    assert fb.file_lines(b"a\rb\nc") == [b"a\rb\n", b"c"]
    assert fb.file_lines(b"a\r\n\rb\n\n") == [b"a\r\n", b"\rb\n", b"\n"]


def test_zeek_json_block_starting_with_a_line_that_is_not_json(registry: Registry) -> None:
    """A block's reader reads JSON whatever its first line (a line starting with "#" is an
    invalid JSON record, as line by line, not the start of a Zeek TSV header)."""
    block = (b"#close\t2026\n"
             b'{"ts":1,"id.orig_h":"10.0.0.1","query":"a.example","qtype_name":"A"}\n'
             b'{"ts":2,"id.orig_h":"10.0.0.2","query":"b.example","qtype_name":"A"}\n')
    res = fb.scan_block(by_name("zeek"), fb.ZeekJsonPlan(), Matcher(registry), [b"dns\n"], block, 10, "p", "a")
    assert [e for e in res.errors if "line 10" in e and "invalid JSON" in e]
    assert res.observations == 2


def test_pure_python_twins_scan_as_the_c_extension(tmp_path: Path, registry: Registry,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the C extension (BANSCAN_PURE_PYTHON=1, or no compiler) every block-scanned form
    gives the same report as with it: the Python twins are wired in where the scans are called."""
    from banscan.fast import lines

    rnd = random.Random(23)
    values = signature_values(registry)
    paths = [tmp_path / n for n in ("osq.log", "dns.log", "queries.log", "dns.json", "dns-path.json", "software.csv")]
    osquery_log(paths[0], values, rnd, 200)
    zeek_dns_log(paths[1], values, rnd, 200)
    dns_query_log(paths[2], values, rnd, 200)
    zeek_json_log(paths[3], values, rnd, 200, with_path=False)
    zeek_json_log(paths[4], values, rnd, 200, with_path=True)
    software_csv_raw(paths[5], values, rnd, 300)
    native = scan(registry, [str(p) for p in paths])
    for name in ("newlines", "long_lines", "osquery_events", "tsv_column", "dns_clients", "zeek_json", "csv_open_line",
                 "csv_rows"):
        monkeypatch.setattr(lines, name, getattr(lines, name + "_py"))
    monkeypatch.setattr(lines, "occurrences", bytes.count)
    monkeypatch.setattr(lines, "_C", None)
    pure = scan(registry, [str(p) for p in paths])
    assert key(pure) == key(native) and len(native.detections) > 50
    assert [i.to_dict() for i in pure.inputs] == [i.to_dict() for i in native.inputs]
