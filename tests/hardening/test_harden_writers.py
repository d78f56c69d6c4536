"""Issue 15 class 3, writer side: a lone surrogate in any string of a result (an osquery host or a
Zeek field) is encoded by every report writer and by the store (replaced), even if a reader lets
it through."""

from __future__ import annotations

import io
import json

import pytest
from sharedsamples import shared_sample

from banscan import report
from banscan.registry import load
from banscan.scan import ScanRequest, run
from banscan.textsafe import scrub

BAD = "\udc80"


@pytest.fixture(scope="module")
def reg():
    return load()


@pytest.fixture(scope="module")
def poisoned(reg, tmp_path_factory):
    """A real scan of a shared sample with a Kaspersky row, then every string poisoned."""
    tmp = tmp_path_factory.mktemp("w")
    inv = tmp / "inv.csv"
    inv.write_text(shared_sample("windows/uninstall-keys-export-csv.csv").read_text(encoding="utf-8")
                   + '"Kaspersky Endpoint Security for Windows","AO Kaspersky Lab","12.3",,\n', encoding="utf-8")
    res = run(ScanRequest(inputs=(str(inv),), profiles=("us-federal-contractor",), asset="pc1"), reg)
    assert res.detections and res.findings

    def poison(obj):
        if isinstance(obj, str):
            return obj + BAD
        if isinstance(obj, dict):
            return {k: poison(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [poison(v) for v in obj]
        return obj

    d = res.to_dict()
    for det in d["detections"]:
        det["asset"] += BAD
        det["product"] = (det["product"] or "") + BAD
        det["entity"] += BAD
        det["observation"]["fields"] = poison(det["observation"]["fields"])
        det["source"]["path"] += BAD
        det["evidence"] = [{**e, "value": e["value"] + BAD} for e in det["evidence"]]
    for f in d["findings"]:
        f["asset"] += BAD
        f["action"] += BAD
    for i in d["inputs"]:
        i["path"] += BAD
        i["errors"].append(f"{i['path']}: bad record {BAD}")
        i["assets"] = {k + BAD: v for k, v in i["assets"].items()}
    from banscan.scan import ScanResult

    return ScanResult.from_dict(d)


@pytest.mark.parametrize("name", [r.name for r in report.REPORTERS])
def test_every_writer_encodes_surrogates(reg, poisoned, name):
    buf = io.StringIO()
    report.by_name(name).write(poisoned, reg, buf, {})
    text = buf.getvalue()
    text.encode("utf-8")  # strict: no surrogate left
    assert "\ufffd" in text or "\\udc80" in text
    if name in ("json", "sarif", "oscal"):
        json.loads(text)


def test_store_records_surrogates(poisoned, reg, tmp_path):
    from banscan.store import open_store

    with open_store(f"sqlite:///{tmp_path / 'db.sqlite'}") as st:
        st.record(poisoned, reg)
        assets = [a["asset"] for a in st.assets()]
        rows = st.findings(all=True)
    assert any("\ufffd" in a for a in assets)
    assert rows and all(isinstance(r["asset"], str) for r in rows)


def test_scrub_keeps_identity_when_clean(poisoned):
    clean = scrub(poisoned)
    assert clean is not poisoned
    assert scrub(clean) is clean


def test_scrub_keeps_an_evidence_collector_and_still_replaces_lone_surrogates() -> None:
    """A scan result holding its evidence is checked in one pass (no full walk), and a lone
    surrogate elsewhere is still replaced."""
    from banscan.evidence import EvidenceCollector
    from banscan.textsafe import _all_encodable, scrub

    ev = EvidenceCollector()
    clean = {"inputs": ["a"], "evidence": ev}
    assert _all_encodable(clean) and scrub(clean) is clean
    dirty = {"inputs": ["a\udc80"], "evidence": ev}
    out = scrub(dirty)
    assert out["inputs"] == ["a\ufffd"] and out["evidence"] is ev


def test_json_writer_is_the_scrubbed_dump_in_one_pass(reg, poisoned):
    """The JSON writer dumps the result's dict in one orjson pass when every string is encodable
    and scrubs it first otherwise: the text is what scrubbing every time gave, for a clean
    result, a poisoned one, and a dict orjson refuses for another reason (an integer beyond 64
    bits)."""
    from banscan.fast.jsonout import dump, dumps_encodable

    clean = run(ScanRequest(inputs=(str(shared_sample("windows/uninstall-keys-export-csv.csv")),),
                            profiles=("us-federal-contractor",), asset="pc1"), reg)
    for result in (clean, poisoned):
        buf, old = io.StringIO(), io.StringIO()
        report.by_name("json").write(result, reg, buf, {})
        dump(scrub(result.to_dict()), old)
        assert buf.getvalue() == old.getvalue()
    huge = {"n": 1 << 70, "s": "x" + BAD}
    old = io.StringIO()
    dump(scrub(huge), old)
    assert dumps_encodable(huge) + "\n" == old.getvalue() and dumps_encodable(huge, indent=False) == json.dumps(
        scrub(huge), ensure_ascii=False)


@pytest.mark.parametrize("hosts", [("pc-a", "pc-b"), ("pc-" + BAD, "pc-\ue000x"), ("pc-\ue000x", "pc-b" + BAD)])
def test_no_store_json_report_is_the_scrubbed_results(reg, tmp_path, capsys, monkeypatch, hosts):
    """``scan --no-store -f json`` checks the report's dict and scrubs the result only where a
    string is not encodable: its report is the one made from the scrubbed result, for a clean
    result and for results whose hosts hold a lone surrogate (the readers replace them, so the
    scan's result is made so here: the scrubbed name, with U+FFFD, sorts after "pc-\\ue000x",
    the raw one before, and the report's assets show which was sorted)."""
    from hardkit import cli

    import banscan.cli.scan_cmd as scan_cmd
    from banscan.scan import ScanResult

    log = tmp_path / "osqueryd.results.log"
    rows = [{"name": "pack_inventory_programs", "hostIdentifier": f"host-{i}", "unixTime": 1700000000 + i,
             "columns": {"name": "Kaspersky Endpoint Security for Windows", "publisher": "AO Kaspersky Lab",
                         "version": "12.3", "install_location": "C:\\Apps"}, "action": "added"}
            for i in range(2)]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    text = json.dumps(run(ScanRequest(inputs=(str(log),), keep_evidence=False), reg).to_dict())
    for i, h in enumerate(hosts):
        text = text.replace(f"host-{i}", json.dumps(h)[1:-1])
    result = ScanResult.from_dict(json.loads(text))
    assert (result.input_errors, len(result.detections)) == (False, 2)
    monkeypatch.setattr(scan_cmd, "run", lambda *a, **k: result)
    code, out, err = cli(capsys, "scan", "--no-store", "-f", "json", str(log))
    assert code == 1, err
    got = json.loads(out)
    assert got == json.loads(json.dumps(scrub(result).to_dict()))
    assert [a["asset"] for a in got["assets"]] == sorted(h.replace(BAD, "\ufffd") for h in hosts)
