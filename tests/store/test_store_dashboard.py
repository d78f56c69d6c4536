"""The dashboard's database queries (banscan.store.dashboard, Store.findings_as_of, Store.loads) give
exactly what the pages computed before in Python from every finding and scan.

The store is seeded with three scans over a month (findings resolved, reopened, not seen by a
narrower scan), decisions (planned with owners and due dates, waivers expired and valid, false
positives), requirements and deadlines of every kind, and asset names that sort differently by
code point than by a locale (upper/lower case, accents, the Kelvin sign); the reference functions
below are the pages' former code, run against the same store.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from collections import Counter
from typing import Any

import pytest
from storekit import Clock, detection

from banscan.model import EvidenceClass, Finding, Requirement, stable_id
from banscan.scan import InputReport, ScanResult
from banscan.store import dashboard, open_store
from banscan.store.core import ACTIVE, loads
from banscan.web import charts

ASSETS = ["ws-01", "WS-02", "Ws-03", "Ässet-ß", "asset-é", "zeta", "ZETA", "kelvin-\u212a", "İstanbul", "a b",
          "<img src=x onerror=alert(1)>", "m-10", "m-9", "M-100", "émile", "Émile", "_under", "~tilde"] + \
    [f"host-{i:02d}" for i in range(30)]
RESTRICTIONS = [("us-dhs-bod-17-01", Requirement.REMOVE), ("us-ndaa18-s1634", Requirement.PROHIBITED),
                ("us-far-52-204-23", Requirement.REPORT), ("x-advice", Requirement.ADVISORY),
                ("x-procure", Requirement.DO_NOT_PROCURE)]
DEADLINES = [None, "2025-06-01", "2026-01-20", "2026-02-15", "2026-02-25", "2026-12-31"]
FAMILIES = [("kaspersky", "kaspersky-endpoint-security"), ("huawei", None), ("zte", "zte-router")]


def _result(rng: random.Random, assets: list[str], day: str, ec: EvidenceClass = EvidenceClass.INSTALLED,
            keep: float = 1.0) -> ScanResult:
    dets, fs = [], []
    for a in assets:
        for fam, prod in FAMILIES:
            if rng.random() > 0.6 * keep:
                continue
            d = detection(a, fam, prod, ec, path=f"inv-{day}.csv")
            dets.append(d)
            for rid, req in rng.sample(RESTRICTIONS, rng.randint(1, 3)):
                fs.append(Finding(id=stable_id("X", d.id, rid), detection=d.id, restriction=rid, instrument="I",
                                  citation=f"Cite {rid} §{rng.randint(1, 9)}", sources=["https://example.org/x"],
                                  requirement=req, deadline=rng.choice(DEADLINES), profile="us-federal-agency",
                                  legal_force="binding-law", action="Remove it.", asset=a, family=fam))
    ir = InputReport(path=f"inv-{day}.csv", format="csv-inventory", observations=len(dets) + 1,
                     sha256=stable_id("h", day, ec.value)[2:].ljust(64, "0"), assets={a: [ec.value] for a in assets})
    return ScanResult(registry={"version": "test", "sha256": "0" * 64}, profiles=["us-federal-agency"],
                      as_of=dt.date.fromisoformat(day), started_at=f"{day}T09:00:00+00:00",
                      finished_at=f"{day}T09:00:05+00:00", inputs=[ir], detections=dets, findings=fs)


@pytest.fixture
def seeded(store_url: str) -> Any:
    rng = random.Random(14)
    clock = Clock("2026-01-10T09:00:00+00:00")
    st = open_store(store_url, clock=clock)
    st.record(_result(rng, ASSETS, "2026-01-10"))
    clock.advance(days=2)
    keys = [f["id"] for f in st.findings()]
    rng.shuffle(keys)
    for i, k in enumerate(keys[:40]):
        kind = i % 4
        if kind == 0:
            st.set_status(k, "planned", owner=rng.choice(["it", "IT", "Ops", "ïnfra"]),
                          due=dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 80)))
        elif kind == 1:
            st.set_status(k, "waived", reason="accepted", approver="ciso",
                          expires=dt.date(2026, 1, 15) + dt.timedelta(days=rng.randint(0, 60)))
        elif kind == 2:
            st.set_status(k, "false-positive", reason="lab machine")
        else:
            st.set_status(k, "planned", owner="it", due=dt.date(2026, 2, 1))
            clock.advance(hours=1)
            st.set_status(k, "open", note="back")
    clock.advance(days=8)
    st.record(_result(rng, ASSETS[:30], "2026-01-20", keep=0.5))  # resolves what it no longer sees
    st.record(_result(rng, ASSETS[10:20], "2026-01-20", EvidenceClass.NETWORK_DEVICE))
    clock.advance(days=10)
    st.record(_result(rng, ASSETS[:15], "2026-01-30"))  # reopens some
    clock.advance(days=16)  # 2026-02-15: some waivers have expired, the first scan's evidence is stale
    yield st, clock
    st.close()


# --------------------------------------------------------------------------- the former page code


def _date(v: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(v)[:10]) if v else None
    except ValueError:
        return None


def old_evidence(store: Any) -> dict[str, dict[str, tuple[int, str | None]]]:
    latest = store.latest_per_asset_class()
    finished = {s["id"]: s.get("finished_at") for s in store.scans()}
    out: dict[str, dict[str, tuple[int, str | None]]] = {}
    for (asset, cls), sid in sorted(latest.items()):
        out.setdefault(asset, {})[cls] = (sid, finished.get(sid))
    return out


def old_overview(store: Any) -> dict[str, Any]:
    today = store.today()
    rows = store.findings(all=True)
    active = [f for f in rows if f["status"] in ACTIVE]
    by_req = Counter(f["requirement"] for f in active)
    soon = today + dt.timedelta(days=30)
    overdue = [f for f in active if f["overdue"]]
    due_soon = [f for f in active if not f["overdue"] and any(
        d is not None and today <= d <= soon for d in (_date(f["deadline"]), _date(f["due"])))]
    evidence = old_evidence(store)
    per_class: Counter[str] = Counter()
    stale = []
    for name, classes in evidence.items():
        for cls in classes:
            per_class[cls] += 1
        dates = [d for _sid, at in classes.values() if (d := _date(at)) is not None]
        newest = max(dates, default=None)
        if newest is None or (today - newest).days > 30:
            stale.append(name)
    return {"total_active": len(active),
            "by_req": [(r, by_req.get(r, 0)) for r in dashboard.REQUIREMENTS], "overdue": len(overdue),
            "due_soon": len(due_soon), "waived": sum(1 for f in rows if f["status"] == "waived"),
            "by_family": Counter(f["family"] for f in active).most_common(),
            "by_restriction": Counter(f["restriction"] for f in active).most_common(15),
            "deadlines": sorted({d for f in active if (d := _date(f["deadline"])) is not None}),
            "assets": len(evidence), "per_class": sorted(per_class.items()), "stale": len(stale)}


def old_filtered(store: Any, flt: dict[str, str], today: dt.date) -> list[dict[str, Any]]:
    status = flt.get("status", "active")
    rows = store.findings(all=True, family=flt.get("family") or None, asset=flt.get("asset") or None)
    soon = today + dt.timedelta(days=30)
    out = []
    text = flt.get("q", "").lower()
    for f in rows:
        if status == "active" and f["status"] not in ACTIVE:
            continue
        if status not in ("active", "all") and f["status"] != status:
            continue
        if flt.get("restriction") and f["restriction"] != flt["restriction"]:
            continue
        if flt.get("requirement") and f["requirement"] != flt["requirement"]:
            continue
        if flt.get("owner") and (f["owner"] or "") != flt["owner"]:
            continue
        if flt.get("overdue") == "yes" and not f["overdue"]:
            continue
        if flt.get("overdue") == "30d" and not any(
                d is not None and d <= soon for d in (_date(f["deadline"]), _date(f["due"]))):
            continue
        if text and not any(text in str(f.get(k) or "").lower() for k in ("asset", "product", "family", "restriction",
                                                                       "owner", "id", "citation")):
            continue
        out.append(f)
    key = flt["sort"] if flt.get("sort") in dashboard.SORTS else "deadline"
    rank = {r: i for i, r in enumerate(dashboard.REQUIREMENTS)}
    out.sort(key=lambda f: (f.get(key) is None, rank.get(f[key], 9) if key == "requirement" else str(f.get(key) or ""),
                            f["asset"], f["id"]), reverse=flt.get("dir") == "desc")
    return out


def old_findings_as_of(store: Any, day: dt.date, profile: str | None = None) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from banscan.store import db
    from banscan.store.core import _day_after, _unj, effective_status
    from banscan.store.tables import finding_events, findings

    end = _day_after(day)
    with db.reading(store.engine) as conn:
        rows = conn.execute(select(findings).where(findings.c.first_seen < end)
                            .order_by(findings.c.asset, findings.c.id)).all()
        evs = conn.execute(select(finding_events.c.finding_key, finding_events.c.to_status,
                                  finding_events.c.event, finding_events.c.detail)
                           .where(finding_events.c.at < end).order_by(finding_events.c.id)).all()
    state: dict[str, tuple[str, dt.date | None]] = {}
    for e in evs:
        if e.to_status is None:
            continue
        expires = state.get(e.finding_key, (None, None))[1]
        if e.to_status == "waived":
            expires = _date(json.loads(e.detail).get("expires"))
        state[e.finding_key] = (e.to_status, expires)
    out = []
    for r in rows:
        d = store._row_dict(r, day)
        if r.id in state:
            status, expires = state[r.id]
            d["status"] = effective_status(status, expires, day)
            d["waiver_expires"] = expires.isoformat() if expires else None
            d["overdue"] = d["status"] in ACTIVE and any(x is not None and x < day for x in (r.deadline, r.due))
        if d["status"] != "resolved":
            d["resolved_at"] = d["resolved_scan"] = None
        if profile and profile not in d["profiles"]:
            continue
        out.append(d)
    assert _unj  # the row decoding is shared
    return out


# --------------------------------------------------------------------------- the comparisons


def test_seeded_store_has_every_case(seeded):
    st, _ = seeded
    statuses = Counter(f["status"] for f in st.findings(all=True))
    assert all(statuses[s] for s in ("open", "planned", "resolved", "waived", "false-positive")), statuses
    assert sum(1 for f in st.findings(all=True) if f["status"] == "open" and f["waiver_expires"])  # expired waiver
    assert any(e["event"] == "reopened" for e in st.events())


def test_overview_counts_match_the_python_computation(seeded):
    st, clock = seeded
    first = old_overview(st)
    assert first["total_active"] and first["overdue"] and first["due_soon"] and first["stale"] and first["waived"]
    for _ in range(3):
        assert dashboard.overview(st, st.today()) == old_overview(st)
        clock.advance(days=20)


def test_burndown_counts_match_the_events(seeded):
    st, _ = seeded
    want = charts.open_per_day(st.events())
    assert len(want) >= 4
    assert dashboard.open_per_day(st) == want
    assert charts.burndown(None, st.today(), [], per_day=dashboard.open_per_day(st)) == \
        charts.burndown(st.events(), st.today(), [])


def test_asset_evidence_matches(seeded):
    st, _ = seeded
    old = old_evidence(st)
    for a in [*ASSETS, "nowhere"]:
        assert dashboard.asset_evidence(st, a) == old.get(a, {})


FILTERS: list[dict[str, str]] = [
    {}, {"status": "all"}, {"status": "waived"}, {"status": "open"}, {"status": "resolved"}, {"status": "bogus"},
    {"status": "false-positive", "sort": "owner"}, {"family": "huawei"}, {"asset": "Ässet-ß", "status": "all"},
    {"restriction": "us-far-52-204-23"}, {"requirement": "remove", "status": "all"}, {"owner": "it"},
    {"owner": "ïnfra", "status": "all"}, {"overdue": "yes"}, {"overdue": "30d", "status": "all"},
    {"q": "STANBUL"}, {"q": "k"}, {"q": "cite us-ndaa"}, {"q": "endpoint", "status": "all"}, {"q": "é"},
    {"q": "<img"}, {"q": "f-"}, {"family": "zte", "q": "ws", "status": "all"},
]


def test_findings_table_matches_for_every_filter_sort_and_page(seeded):
    st, _ = seeded
    today = st.today()
    for flt, sort, desc in itertools.product(FILTERS, [None, *dashboard.SORTS, "nonsense"], (False, True)):
        f = dict(flt)
        if sort:
            f["sort"] = sort
        if desc:
            f["dir"] = "desc"
        want = old_filtered(st, f, today)
        rows, total, page = dashboard.find(st, f, today)
        assert (rows, total, page) == (want, len(want), 1), f
        if sort not in (None, "owner", "requirement", "status") or not want:
            continue
        for p in (2, 99, 0):
            rows, total, page = dashboard.find(st, f, today, p, 7)
            pages = max(1, (len(want) + 6) // 7)
            shown = min(max(1, p), pages)
            assert (rows, total, page) == (want[(shown - 1) * 7:shown * 7], len(want), shown), (f, p)


def test_text_search_reads_json_the_database_refuses(seeded):
    from sqlalchemy import update

    from banscan.store import db
    from banscan.store.tables import findings

    st, _ = seeded
    key = st.findings(all=True)[3]["id"]
    db.write(st.engine, lambda c: c.execute(update(findings).where(findings.c.id == key).values(
        data='{"product_name": "Zed Ω", "citation": "Sec. 9", "ratio": NaN, "n": 123456789012345678901}')))
    today = st.today()
    for q in ("zed ω", "sec. 9", "ws"):
        flt = {"q": q, "status": "all"}
        want = old_filtered(st, flt, today)
        assert dashboard.find(st, flt, today) == (want, len(want), 1)
        assert want
    assert dashboard.find(st, {"q": "zed ω", "status": "all"}, today)[0][0]["product"] == "Zed Ω"


def test_findings_filters_are_not_all_empty(seeded):
    st, _ = seeded
    today = st.today()
    empty = [f for f in FILTERS if not old_filtered(st, f, today)]
    assert [f for f in empty if f.get("status") != "bogus"] == []


def test_findings_as_of_matches_the_event_replay(seeded):
    st, _ = seeded
    days = ("2026-01-09", "2026-01-10", "2026-01-12", "2026-01-20", "2026-01-25", "2026-02-15", "2026-06-01")
    for day, profile in itertools.product(days, (None, "us-federal-agency", "eu-nis2")):
        d = dt.date.fromisoformat(day)
        assert st.findings_as_of(d, profile=profile) == old_findings_as_of(st, d, profile), (day, profile)


BIG = ["18446744073709551615", "18446744073709551616", "-9223372036854775808", "-9223372036854775809",
       "123456789012345678901234567890", "-0", "0.1", "1e400", "-1e400", "1e-400", "NaN", "Infinity", "-Infinity",
       '"\\ud800"', '"x:1234567890123456789012"', "[1,\n 99999999999999999999]", '{"a": 1, "a": 2}',
       '{"n": 12345678901234567890123, "s": "é\\u00e9"}', "[" * 200 + "]" * 200, '"\\u0000"', " [1] "]


@pytest.mark.parametrize("text", BIG)
def test_loads_is_json_loads(text):
    want = json.loads(text)
    got = loads(text)
    assert json.dumps(got) == json.dumps(want)
    assert repr(got) == repr(want)
    got_b = loads(text.encode())
    assert repr(got_b) == repr(want)


def test_loads_random_documents_keep_integers_and_floats():
    rng = random.Random(7)
    for _ in range(300):
        v = [rng.choice([rng.randint(-2**70, 2**70), rng.randint(-100, 100), rng.random() * 10 ** rng.randint(-30, 30),
                         2**64 - 1, 2**64, -2**63, -2**63 - 1, "é\u212a", None, True]) for _ in range(rng.randint(0, 8))]
        text = json.dumps({"v": v, "k": str(v)})
        assert repr(loads(text)) == repr(json.loads(text))


def test_one_assets_latest_report_from_parts_is_the_whole_reports_cut(seeded, monkeypatch):
    from sqlalchemy import delete

    from banscan.store import db
    from banscan.store.core import Store
    from banscan.store.tables import scan_report_parts

    st, clock = seeded
    # an upcoming obligation holding an integer beyond 64 bits and a NaN (json.dumps writes both)
    r = _result(random.Random(1), ["odd-host", "ws-01"], "2026-02-15")
    r.upcoming.append({"asset": "odd-host", "size": 2 ** 70, "ratio": float("nan"), "text": "é\u212a"})
    r.upcoming.append({"asset": "ws-01", "size": 2 ** 64 + 1})
    r.upcoming.append({"asset": None, "note": "no asset"})
    st.record(r)

    def whole(asset: str) -> str:
        with monkeypatch.context() as m:
            m.setattr(Store, "_asset_results", lambda self, sids, a: None)
            res = st.latest_result(asset)
        return json.dumps(res.to_dict() if res else None, sort_keys=True)

    assert "1180591620717411303424" in whole("odd-host") and "NaN" in whole("odd-host")
    cut = 0
    for a in [*ASSETS, "odd-host", "nowhere"]:
        res = st.latest_result(a)
        assert json.dumps(res.to_dict() if res else None, sort_keys=True) == whole(a), a
        cut += bool(res and res.findings)
    assert cut > 10
    # scans recorded before parts were kept are read from their whole report
    with db.reading(st.engine) as conn:
        assert conn.execute(scan_report_parts.select()).first() is not None
    db.write(st.engine, lambda c: c.execute(delete(scan_report_parts)))
    for a in ASSETS[:5]:
        res = st.latest_result(a)
        assert json.dumps(res.to_dict() if res else None, sort_keys=True) == whole(a), a


def test_asset_group_filter_matches_the_membership_test(seeded):
    from banscan.web import groups, pages

    st, _ = seeded
    groups.save_group(st.engine, "desks", "ws-*\nÄ*", "zeta\nİstanbul\nnot-an-asset", actor="tester")
    groups.save_group(st.engine, "none", "nothing-*", "", actor="tester")
    member = groups.Membership(groups.list_groups(st.engine))
    today = st.today()

    class Svc:
        store = st

        def today(self) -> dt.date:
            return today

    for flt in ({"group": "desks"}, {"group": "desks", "status": "all", "sort": "asset", "dir": "desc"},
                {"group": "none"}, {"group": "nosuch", "status": "all"}, {"group": "desks", "q": "ws-0"}):
        want = [r for r in old_filtered(st, flt, today) if flt["group"] in member.of(r["asset"])]
        assert pages._filtered(Svc(), dict(flt)) == (want, len(want), 1)  # type: ignore[arg-type]
        assert want or flt["group"] != "desks"


# --------------------------------------------------------------------------- the proof page's preview


def old_build_statement(store: Any, registry: Any, profile: str, as_of: dt.date, max_age: int) -> dict[str, Any]:
    """The former build_statement(include_open=True, accept_gaps=True): every finding's row built."""
    from banscan import __version__
    from banscan import coverage as cov
    from banscan.attest import STATEMENT_TYPE, THRESHOLD, _asset_entry, _finding_entry

    prof = registry.profile(profile)
    coverage = store.coverage(as_of=as_of)
    gaps = cov.gaps(coverage, as_of, max_age)
    rows = store.findings_as_of(as_of, profile=prof.id)
    at_or_above = [f for f in rows if Requirement(f["requirement"]).rank >= THRESHOLD.rank]
    open_ = [f for f in at_or_above if f["status"] in ACTIVE]
    waived = [f for f in at_or_above if f["status"] == "waived"]
    clean = not open_
    claim = (f"No finding at or above '{THRESHOLD.value}' is open on the assets listed."
             if clean else f"The {len(open_)} finding(s) at or above '{THRESHOLD.value}' listed are open.")
    if gaps:
        claim += (f" This says nothing about the software on the {len(gaps)} asset(s) listed under coverage.gaps "
                  f"(no software inventory newer than {max_age} days).")
    return {
        "type": STATEMENT_TYPE, "generated_at": store.now(), "as_of": as_of.isoformat(),
        "profile": {"id": prof.id, "name": prof.name}, "registry": registry.meta(),
        "tool": {"name": "banscan", "version": __version__}, "threshold": THRESHOLD.value, "clean": clean,
        "claim": claim, "assets": [_asset_entry(a) for a in sorted(coverage, key=lambda a: a["asset"])],
        "coverage": {"as_of": as_of.isoformat(), "max_age_days": max_age,
                     "software_inventory": list(cov.SOFTWARE_INVENTORY), "assets": cov.public(coverage)["assets"],
                     "gaps": gaps, "gaps_accepted": bool(gaps)},
        "open_findings": [_finding_entry(f) for f in open_],
        "waived_findings": [{**_finding_entry(f), "reason": f["reason"], "approver": f["approver"],
                             "expires": f["waiver_expires"]} for f in waived],
        "summary": {"assets": len(coverage), "gaps": len(gaps), "open": len(open_), "waived": len(waived),
                    "false_positive": sum(1 for f in at_or_above if f["status"] == "false-positive"),
                    "resolved": sum(1 for f in at_or_above if f["status"] == "resolved")},
    }


def test_proof_preview_states_what_the_signed_statement_does(seeded):
    """The proof page's preview (counts, gaps, the first open findings, without an entry per finding
    and asset) equals the statement's own figures, and the statement is what it was before."""
    from banscan import registry
    from banscan.attest import AttestRefused, build_statement, preview

    st, _ = seeded
    reg = registry.load()
    seen: Counter[str] = Counter()
    days = ("2026-01-09", "2026-01-10", "2026-01-12", "2026-01-20", "2026-01-25", "2026-02-15", "2026-06-01")
    for day, profile, max_age in itertools.product(days, ("us-federal-agency", "uk-government"), (30, 3)):
        d = dt.date.fromisoformat(day)
        try:
            full = build_statement(st, reg, profile, d, include_open=True, accept_gaps=True, max_age=max_age)
        except AttestRefused as e:
            assert "no scans are recorded" in str(e), (day, profile)
            with pytest.raises(AttestRefused):
                preview(st, reg, profile, d, max_age=max_age)
            continue
        assert full == old_build_statement(st, reg, profile, d, max_age), (day, profile, max_age)
        seen.update(k for k, v in full["summary"].items() if v)
        for first in (0, 1, 3, 20, 10_000):
            pv = preview(st, reg, profile, d, max_age=max_age, first=first)
            want = {k: v for k, v in full.items() if k not in ("assets", "waived_findings")}
            want["coverage"] = {k: v for k, v in full["coverage"].items() if k != "assets"}
            want["open_findings"] = full["open_findings"][:first]
            assert pv == want, (day, profile, max_age, first)
    # the comparisons covered open, waived, resolved and false-positive findings and gaps
    assert all(seen[k] for k in ("assets", "gaps", "open", "waived", "false_positive", "resolved")), seen
