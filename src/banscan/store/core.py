"""The store: record scans and keep the findings lifecycle.

Lifecycle of a finding (one row per ``asset + family + product + restriction``):

``open``
    seen by a scan and nothing decided yet.
``planned``
    someone owns the removal (owner, due date, note).
``resolved``
    set by a later scan that covers the same asset with the evidence class(es) the finding was
    seen through and no longer sees it; the row names that scan.  Each row keeps the set of
    evidence classes that still see it: a scan covering class C without the finding removes C,
    a scan seeing it adds the classes it was seen through; the finding resolves when the set is
    empty.  So an SBOM scan never resolves a finding seen on the network.  Only scans evaluated
    under one of the finding's profiles can resolve it (a scan without a profile has no findings).
``waived``
    accepted for now (reason, approver, expiry).  A waiver is valid through its expiry date;
    from the day after, the finding reads as ``open`` and the next write (scan or command)
    records the reopening.
``false-positive``
    not what it seems (reason); later scans seeing the same key keep it suppressed.

A resolved finding seen again reopens.  Every change is an event in ``finding_events``
(append-only: who, when, which scan, from and to which status, details).  The rules are one
function, :func:`banscan.store.lifecycle.transition`; every status change goes through
:meth:`Store._transition`.

One representation: a scan is its ``scans`` row (metadata and the report JSON every read
rebuilds a :class:`~banscan.scan.ScanResult` from), its ``inputs``, the ``scan_assets`` it
covered (with the evidence set it read and the inputs), and the lifecycle rows it updated.
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from banscan import __version__
from banscan.errors import ProfileError, StoreError
from banscan.evidence import EvidenceSet
from banscan.keys import lifecycle_key, product_key
from banscan.model import Detection, Finding
from banscan.scan import ScanResult
from banscan.store import db
from banscan.store.lifecycle import (  # noqa: F401 - STATUSES, ACTIVE and effective_status are read from here
    ACTIVE,
    DECISIONS,
    RESOLVABLE,
    STATUSES,
    effective_status,
    transition,
)
from banscan.store.tables import (
    evidence_filters,
    evidence_sets,
    finding_events,
    findings,
    inputs,
    products_seen,
    scan_assets,
    scan_report_parts,
    scans,
)


def _j(v: Any) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)


# orjson reads an integer beyond 64 bits as a float, where the json module keeps it an int: text with
# a run of 19 or more ASCII digits (which any such integer has) goes to the json module.  Found by
# mapping every ASCII digit to "0" and everything else to "x" (bytes.translate: far quicker than a regex).
_DIGITS = bytes(48 if 48 <= i <= 57 else 120 for i in range(256))
_LONG_RUN = b"0" * 19


def loads(text: str | bytes) -> Any:
    """``json.loads(text)``, with orjson where it gives the same result: text that may hold an
    integer beyond 64 bits, NaN or infinities, a lone surrogate escape or deep nesting (orjson
    refuses those or reads big integers as floats) is read by the json module."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if _LONG_RUN not in raw.translate(_DIGITS):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _past(deadline: dt.date | None, due: dt.date | None, today: dt.date) -> bool:
    """Whether the deadline or the due date (either may be unset) is before ``today``."""
    return (deadline is not None and deadline < today) or (due is not None and due < today)


def _unj(v: str | None, default: Any = None) -> Any:
    if v is None:
        return default
    return loads(v)


@functools.lru_cache(maxsize=4096)
def _str_list(text: str) -> tuple[str, ...] | None:
    v = loads(text)
    return tuple(v) if isinstance(v, list) and all(isinstance(x, str) for x in v) else None


def _unj_list(v: str | None) -> Any:
    """``_unj(v, [])`` for the short JSON lists of names a finding row keeps (its profiles and
    evidence classes): few distinct texts, each read once (a fresh list each time)."""
    if v is None:
        return []
    t = _str_list(v) if len(v) <= 512 else None
    return list(t) if t is not None else loads(v)


_SCAN_META = [c for c in scans.c if c.name != "report"]  # a scan's row without its (large) report
# what a finding's status on a day is read from (Store.findings_as_of_in_part)
_FINDING_STATE = [findings.c.id, findings.c.asset, findings.c.requirement, findings.c.status, findings.c.expires,
                  findings.c.profiles]


class FindingAsOf(NamedTuple):
    """A finding's state at the end of a day (:meth:`Store.findings_as_of_in_part`)."""

    id: str
    asset: str
    requirement: str
    status: str


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _date(v: Any) -> dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _day_after(d: dt.date) -> str:
    """Recorded times are ISO strings: those of day ``d`` and before sort below this."""
    return (d + dt.timedelta(days=1)).isoformat()


def finding_key(asset: str, family: str, product: str, restriction: str) -> str:
    """The stable id of a lifecycle finding (:func:`banscan.keys.lifecycle_key`)."""
    return lifecycle_key(asset, family, product, restriction)


def default_actor() -> str:
    env = os.environ.get("BANSCAN_ACTOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass
class _Seen:
    """All of a scan's findings that share one lifecycle key."""

    key: str
    asset: str
    family: str
    product: str
    restriction: str
    classes: set[str] = field(default_factory=set)
    profiles: set[str] = field(default_factory=set)
    best: Finding | None = None
    product_name: str | None = None
    members: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, detection id)

    def add(self, f: Finding, ec: str | None, det_id: str) -> None:
        if ec:
            self.classes.add(ec)
        self.profiles.add(f.profile)
        self.members.append((f, det_id))
        b = self.best
        if (b is None or f.requirement.rank > b.requirement.rank
                or (f.requirement.rank == b.requirement.rank
                    and (f.deadline or "9999") < (b.deadline or "9999"))):
            self.best = f


class Store:
    """A banscan database.  Use :func:`banscan.store.open_store`."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] | None = None,
                 actor: str | None = None) -> None:
        self.engine = engine
        self.clock = clock or _utcnow
        self.actor = actor or default_actor()

    @classmethod
    def open(cls, url: str, clock: Callable[[], dt.datetime] | None = None, actor: str | None = None) -> Store:
        engine = db.make_engine(url)
        try:
            db.migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock=clock, actor=actor)

    # ---- context manager
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    # ---- time
    def now(self) -> str:
        return self.clock().astimezone(dt.UTC).isoformat(timespec="seconds")

    def today(self) -> dt.date:
        return self.clock().date()

    # ---- recording
    def record(self, result: ScanResult, registry: Any = None, *, kind: str = "scan",
               based_on: Iterable[int] = (), note: str | None = None, lifecycle: bool = True) -> int:
        """:meth:`record_report`'s scan id."""
        return self.record_report(result, registry, kind=kind, based_on=based_on, note=note, lifecycle=lifecycle)[0]

    def record_report(self, result: ScanResult, registry: Any = None, *, kind: str = "scan",
                      based_on: Iterable[int] = (), note: str | None = None,
                      lifecycle: bool = True) -> tuple[int, dict[str, Any]]:
        """Record a scan (or a re-evaluation) in one transaction and update the findings lifecycle.

        Sets ``status`` on ``result.findings`` to their lifecycle status.  Returns the scan id and
        the report stored with it: ``result.to_dict()`` made once those statuses were set, its
        ``registry`` the registry's meta, and ``scan_id`` added (the caller may reuse it, not change it).
        ``lifecycle=False`` records the scan and its findings without touching the lifecycle
        (a re-evaluation for another date).

        Also recorded: the scan's normalised evidence (``result.evidence``, from
        ``ScanRequest(keep_evidence=True)``) as one evidence set per asset and class, and the
        inputs that covered each; the day each product was first seen on each asset.  When
        ``registry`` is a :class:`~banscan.registry.Registry` and the result has profiles, the
        findings are evaluated again with report windows counted from the day each product was
        first seen (the stored history; today for a product seen for the first time, or the
        as-of date when that is earlier).
        """
        reg_meta = registry.meta() if registry is not None else dict(result.registry)
        based = list(based_on)

        def _tx(conn: Connection) -> tuple[int, dict[str, Any]]:
            if result.profiles and hasattr(registry, "restrictions"):
                self._apply_first_seen(conn, result, registry)
            return self._record(conn, result, reg_meta, kind, based, note, lifecycle)

        return db.write(self.engine, _tx)

    def _record(self, conn: Connection, result: ScanResult, reg_meta: dict[str, str], kind: str,
                based_on: list[int], note: str | None, lifecycle: bool) -> tuple[int, dict[str, Any]]:
        now = self.now()
        today = self.today()
        scan_id = conn.execute(scans.insert().values(  # type: ignore[index]
            kind=kind, started_at=result.started_at or now, finished_at=result.finished_at or now,
            recorded_at=now, registry_version=str(reg_meta.get("version", "")),
            registry_sha256=str(reg_meta.get("sha256", "")), profiles=_j(list(result.profiles)),
            as_of=result.as_of, tool_version=__version__, based_on=_j(based_on) if based_on else None,
            note=note, report="{}",
        )).inserted_primary_key[0]  # type: ignore[index]
        in_rows = [dict(scan_id=scan_id, path=i.path, format=i.format, sha256=i.sha256,
                        observations=i.observations, errors=_j(i.errors), deviations=_j(i.deviations),
                        skipped=i.skipped) for i in result.inputs]
        if in_rows:
            conn.execute(inputs.insert(), in_rows)
        covered = result.assets()
        sets = self._store_evidence(conn, result) if kind == "scan" else {}
        by_input: dict[tuple[str, str], list[list[str | None]]] = {}  # [[path, format, sha256]]
        for i in result.inputs:
            for a, cs in i.assets.items():
                for c in cs:
                    by_input.setdefault((a, c), []).append([i.path, i.format, i.sha256])
        filtered = self._store_filters(conn, result) if kind == "scan" else {}
        asset_rows = [dict(scan_id=scan_id, asset=a, evidence_class=c, evidence_set=sets.get((a, c)),
                           inputs=_j(by_input.get((a, c), [])), evidence_filter=filtered.get((a, c)))
                      for a, cs in sorted(covered.items()) for c in sorted(cs)]
        if asset_rows:
            conn.execute(scan_assets.insert(), asset_rows)
        if lifecycle:  # a re-evaluation for another date is a what-if: it sees nothing
            self._products_seen(conn, result, scan_id, now)

        seen = self._group(result)
        if lifecycle:
            self._expire_waivers(conn, today, now, scan_id)
            self._lifecycle(conn, result, seen, covered, scan_id, now, kind, reg_meta)
        else:
            self._ensure_rows(conn, seen, scan_id, now)
        status = self._statuses(conn, [s.key for s in seen.values()], today)
        for s in seen.values():
            for f, _det_id in s.members:
                f.status = status.get(s.key, "open")
        report = result.to_dict()
        report["registry"] = dict(reg_meta)
        report["scan_id"] = scan_id
        text = _j(report)
        conn.execute(update(scans).where(scans.c.id == scan_id).values(report=text))
        self._store_report_parts(conn, scan_id, report, exact_floats="NaN" not in text and "Infinity" not in text)
        return int(scan_id), report

    @staticmethod
    def _store_report_parts(conn: Connection, scan_id: int, report: dict[str, Any], exact_floats: bool) -> None:
        """The report's head and each asset's part (``scan_report_parts``).  orjson writes them when
        it writes what json.dumps would read back the same (``exact_floats``: no NaN or infinity,
        which orjson writes as null; it refuses integers beyond 64 bits and lone surrogates)."""
        def dump(v: Any) -> str:
            if exact_floats:
                try:
                    return orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode("utf-8")
                except TypeError:
                    pass
            return _j(v)

        head = {k: v for k, v in report.items() if k not in ("detections", "findings", "upcoming", "assets")}
        parts: dict[str, dict[str, list[Any]]] = {}
        det_asset: dict[str, str] = {}
        for d in report.get("detections", []):
            parts.setdefault(d["asset"], {"detections": [], "findings": [], "upcoming": []})["detections"].append(d)
            det_asset.setdefault(d["id"], d["asset"])
        for f in report.get("findings", []):
            a = det_asset.get(f.get("detection"))
            if a is not None:
                parts[a]["findings"].append(f)
        for u in report.get("upcoming", []):
            a = u.get("asset") if isinstance(u, dict) else None
            if isinstance(a, str):
                parts.setdefault(a, {"detections": [], "findings": [], "upcoming": []})["upcoming"].append(u)
        rows = [dict(scan_id=scan_id, part="head", asset="", data=dump(head))]
        rows += [dict(scan_id=scan_id, part="asset", asset=a, data=dump(p)) for a, p in sorted(parts.items())]
        for i in range(0, len(rows), 1000):
            conn.execute(scan_report_parts.insert(), rows[i:i + 1000])

    def _asset_results(self, scan_ids: list[int], asset: str) -> dict[int, ScanResult] | None:
        """Each scan's report cut down to ``asset``'s detections, their findings and its upcoming
        obligations (what :meth:`latest_result` keeps of them), from the stored parts; None when a
        scan has none (recorded before parts were kept)."""
        with db.reading(self.engine) as conn:
            rows = conn.execute(select(scan_report_parts.c.scan_id, scan_report_parts.c.part,
                                       scan_report_parts.c.data)
                                .where(scan_report_parts.c.scan_id.in_(scan_ids),
                                       or_(scan_report_parts.c.part == "head",
                                           and_(scan_report_parts.c.part == "asset",
                                                scan_report_parts.c.asset == asset)))).all()
        heads = {r.scan_id: r.data for r in rows if r.part == "head"}
        if set(heads) != set(scan_ids):
            return None
        mine = {r.scan_id: loads(r.data) for r in rows if r.part == "asset"}
        empty: dict[str, list[Any]] = {"detections": [], "findings": [], "upcoming": []}
        return {sid: ScanResult.from_dict({**loads(heads[sid]), **mine.get(sid, empty)}) for sid in scan_ids}

    @staticmethod
    def _store_evidence(conn: Connection, result: ScanResult) -> dict[tuple[str, str], int]:
        """Store each distinct evidence set once; return (asset, class) -> set id."""
        if result.evidence is None:
            return {}
        import hashlib
        import zlib

        sets = result.evidence.sets()
        raw = {key: es.canonical() for key, es in sets.items()}  # once for the digest and the data
        digests = {key: hashlib.sha256(r).hexdigest() for key, r in raw.items()}
        have: dict[tuple[str, str, str], int] = {}
        keys = sorted(sets)
        for i in range(0, len(keys), 500):
            chunk = {digests[k] for k in keys[i:i + 500]}
            for r in conn.execute(select(evidence_sets.c.id, evidence_sets.c.asset, evidence_sets.c.evidence_class,
                                         evidence_sets.c.digest).where(evidence_sets.c.digest.in_(sorted(chunk)))):
                have[(r.asset, r.evidence_class, r.digest)] = int(r.id)
        new: list[dict[str, Any]] = [dict(asset=sets[k].asset, evidence_class=sets[k].evidence_class, digest=digests[k],
                    records=len(sets[k].records), data=zlib.compress(raw[k], 1))
               for k in keys if (sets[k].asset, sets[k].evidence_class, digests[k]) not in have]
        if new:
            conn.execute(evidence_sets.insert(), new)
            for i in range(0, len(new), 500):
                digs = sorted({str(n["digest"]) for n in new[i:i + 500]})
                for r in conn.execute(select(evidence_sets.c.id, evidence_sets.c.asset,
                                             evidence_sets.c.evidence_class, evidence_sets.c.digest)
                                      .where(evidence_sets.c.digest.in_(digs))):
                    have[(r.asset, r.evidence_class, r.digest)] = int(r.id)
        return {k: have[(sets[k].asset, sets[k].evidence_class, digests[k])] for k in keys}

    @staticmethod
    def _store_filters(conn: Connection, result: ScanResult) -> dict[tuple[str, str], str]:
        """Store each filter block-scanned evidence was selected with once; return (asset, class) ->
        its digest (banscan.fast.evfilter)."""
        ev = result.evidence
        if ev is None or not ev.filtered:
            return {}
        import zlib

        from banscan.fast.jsonout import dumps

        digests = sorted(ev.filters)
        have = set(conn.execute(select(evidence_filters.c.digest)
                                .where(evidence_filters.c.digest.in_(digests))).scalars())
        new = [dict(digest=d, spec=zlib.compress(dumps(ev.filters[d], indent=False).encode("utf-8"), 6))
               for d in digests if d not in have]
        if new:
            conn.execute(evidence_filters.insert(), new)
        return dict(ev.filtered)

    def evidence_filter(self, digest: str) -> dict[str, Any] | None:
        """A recorded evidence filter's spec (banscan.fast.evfilter), or None."""
        import zlib

        with db.reading(self.engine) as conn:
            data = conn.execute(select(evidence_filters.c.spec)
                                .where(evidence_filters.c.digest == digest)).scalar()
        if data is None:
            return None
        spec: dict[str, Any] = json.loads(zlib.decompress(data).decode("utf-8"))
        return spec

    def _rows_of_scans(self, latest: dict[tuple[str, str], int], column: Any, *where: Any) -> list[Any]:
        """The ``scan_assets`` rows (scan_id, asset, evidence_class, ``column``) of the scans in
        ``latest``'s values that match ``where``."""
        if not latest:
            return []
        with db.reading(self.engine) as conn:
            return list(conn.execute(select(scan_assets.c.scan_id, scan_assets.c.asset,
                                            scan_assets.c.evidence_class, column)
                                     .where(scan_assets.c.scan_id.in_(sorted(set(latest.values()))), *where)))

    def latest_filters(self) -> dict[tuple[str, str], str]:
        """For each (asset, evidence class) whose newest scan kept only filtered evidence: the
        filter's digest."""
        latest = self.latest_per_asset_class()
        rows = self._rows_of_scans(latest, scan_assets.c.evidence_filter, scan_assets.c.evidence_filter.is_not(None))
        return {(r.asset, r.evidence_class): str(r.evidence_filter) for r in rows
                if latest.get((r.asset, r.evidence_class)) == r.scan_id}

    @staticmethod
    def _product_of(d: Detection) -> tuple[str, str, str]:
        return d.asset, d.family, d.product_id or ""

    def _products_seen(self, conn: Connection, result: ScanResult, scan_id: int, now: str) -> None:
        keys = {product_key(*self._product_of(d)): self._product_of(d) for d in result.detections}
        if not keys:
            return
        have = set(conn.execute(select(products_seen.c.key).where(products_seen.c.key.in_(list(keys)))).scalars())
        new = [dict(key=k, asset=a, family=f, product=p, first_seen=now, first_scan=scan_id, last_seen=now,
                    last_scan=scan_id) for k, (a, f, p) in sorted(keys.items()) if k not in have]
        if new:
            conn.execute(products_seen.insert(), new)
        if have:
            conn.execute(update(products_seen).where(products_seen.c.key.in_(sorted(have))).values(
                last_seen=now, last_scan=scan_id))

    def _first_seen(self, conn: Connection, dets: Iterable[Detection]) -> dict[str, dt.date]:
        """Detection id -> the day its product was first seen on its asset (today if never)."""
        dets = list(dets)
        keys = {d.id: product_key(*self._product_of(d)) for d in dets}
        rows = {r.key: r.first_seen for r in conn.execute(
            select(products_seen.c.key, products_seen.c.first_seen)
            .where(products_seen.c.key.in_(sorted(set(keys.values())))))} if keys else {}
        today = self.today()
        return {i: (_date(rows[k]) or today) if k in rows else today for i, k in keys.items()}

    def first_seen(self, dets: Iterable[Detection]) -> dict[str, dt.date]:
        """For each detection id: the day its product was first seen on its asset (stored history),
        or today for a product never seen before."""
        with db.reading(self.engine) as conn:
            return self._first_seen(conn, dets)

    def _apply_first_seen(self, conn: Connection, result: ScanResult, registry: Any) -> None:
        from banscan import policy

        seen = self._first_seen(conn, result.detections)
        identified = {i: min(d, result.as_of) for i, d in seen.items()}
        if all(d == result.as_of for d in identified.values()):
            return  # what the scan evaluated with
        try:
            profiles = [registry.profile(p) for p in result.profiles]
        except ProfileError:
            return
        policy.apply(result, registry, profiles, identified_on=identified)

    @staticmethod
    def _group(result: ScanResult) -> dict[str, _Seen]:
        dets = {d.id: d for d in result.detections}
        out: dict[str, _Seen] = {}
        for f in result.findings:
            d = dets.get(f.detection)
            asset = f.asset or (d.asset if d else "")
            family = f.family or (d.family if d else "")
            product = (d.product_id or d.product or "") if d else ""
            key = finding_key(asset, family, product, f.restriction)
            s = out.get(key)
            if s is None:
                s = out[key] = _Seen(key, asset, family, product, f.restriction)
            s.add(f, d.observation.evidence_class.value if d else None, f.detection)
            if d and d.product and not s.product_name:
                s.product_name = d.product
        return out

    def _event(self, conn: Connection, key: str, event: str, frm: str | None, to: str | None,
               at: str, scan_id: int | None = None, **detail: Any) -> None:
        conn.execute(finding_events.insert().values(
            finding_key=key, scan_id=scan_id, at=at, actor=self.actor, event=event,
            from_status=frm, to_status=to, detail=_j({k: v for k, v in detail.items() if v is not None}),
        ))

    def _transition(self, conn: Connection, key: str, status: str | None, cause: str, now: str,
                    scan_id: int | None, values: dict[str, Any] | None = None, **detail: Any) -> str:
        """Apply :func:`~banscan.store.lifecycle.transition` to the finding ``key`` (whose status is
        ``status``; None: not tracked yet, ``values`` then hold the new row), write ``values`` with
        it, and record the event.  The one place a finding's status changes."""
        to, event = transition(status, cause)
        vals = dict(values or {})
        if event is not None:
            vals.update(status=to, updated_at=now)
            if to == "resolved":
                vals.update(resolved_at=now, resolved_scan=scan_id)
            elif status == "resolved" and to != "false-positive":
                vals.update(resolved_at=None, resolved_scan=None)
        if status is None:
            conn.execute(findings.insert().values(id=key, **vals))
        elif vals:
            conn.execute(update(findings).where(findings.c.id == key).values(**vals))
        if event is not None:
            self._event(conn, key, event, status, to, now, scan_id, **detail)
        return to

    def _expire_waivers(self, conn: Connection, today: dt.date, now: str, scan_id: int | None) -> int:
        rows = conn.execute(select(findings.c.id, findings.c.status, findings.c.expires).where(
            and_(findings.c.status == "waived", findings.c.expires < today))).all()
        for r in rows:
            self._transition(conn, r.id, r.status, "waiver-expired", now, scan_id, expired=r.expires.isoformat())
        return len(rows)

    def _row_values(self, s: _Seen, now: str, scan_id: int) -> dict[str, Any]:
        assert s.best is not None
        data = s.best.to_dict()
        data["product_name"] = s.product_name
        return dict(requirement=s.best.requirement.value, deadline=_date(s.best.deadline),
                    last_seen=now, last_scan=scan_id, updated_at=now, data=_j(data))

    def _ensure_rows(self, conn: Connection, seen: dict[str, _Seen], scan_id: int, now: str) -> None:
        """Create lifecycle rows for keys never seen before, without changing existing ones."""
        if not seen:
            return
        have = set(conn.execute(select(findings.c.id).where(findings.c.id.in_(list(seen)))).scalars())
        for s in seen.values():
            if s.key not in have:
                self._insert(conn, s, scan_id, now)

    def _insert(self, conn: Connection, s: _Seen, scan_id: int, now: str) -> None:
        self._transition(conn, s.key, None, "seen", now, scan_id, dict(
            asset=s.asset, family=s.family, product=s.product, restriction=s.restriction,
            profiles=_j(sorted(s.profiles)), evidence_classes=_j(sorted(s.classes)),
            first_seen=now, first_scan=scan_id, **self._row_values(s, now, scan_id)))

    def _lifecycle(self, conn: Connection, result: ScanResult, seen: dict[str, _Seen],
                   covered: dict[str, set[str]], scan_id: int, now: str, kind: str,
                   reg_meta: dict[str, str]) -> None:
        existing = {r.id: r for r in conn.execute(select(findings).where(findings.c.id.in_(list(seen)))).all()} \
            if seen else {}
        for s in seen.values():
            r = existing.get(s.key)
            if r is None:
                self._insert(conn, s, scan_id, now)
                continue
            vals = self._row_values(s, now, scan_id)
            old_classes = set(_unj(r.evidence_classes, []))
            vals["evidence_classes"] = _j(sorted(s.classes | (old_classes - covered.get(s.asset, set()))))
            vals["profiles"] = _j(sorted(set(_unj(r.profiles, [])) | s.profiles))
            self._transition(conn, s.key, r.status, "seen", now, scan_id, vals, resolved_by_scan=r.resolved_scan)

        # what this scan covered but no longer sees
        profiles = set(result.profiles)
        if not covered or not profiles:
            return
        candidates = conn.execute(select(findings).where(and_(
            findings.c.asset.in_(list(covered)), findings.c.status.in_(RESOLVABLE)))).all()
        for r in candidates:
            if r.id in seen or not (set(_unj(r.profiles, [])) & profiles):
                continue
            cls = covered.get(r.asset, set())
            old = set(_unj(r.evidence_classes, []))
            if not (old & cls):
                continue  # this scan did not look where the finding was seen
            left = old - cls
            if left:
                conn.execute(update(findings).where(findings.c.id == r.id).values(
                    evidence_classes=_j(sorted(left)), updated_at=now))
                continue
            why = ("not seen by this scan" if kind == "scan"
                   else f"no longer a finding under registry {reg_meta.get('version')} as of {result.as_of}")
            self._transition(conn, r.id, r.status, "not-seen", now, scan_id, dict(evidence_classes=_j([])),
                             reason=why, evidence_classes=sorted(old))

    def _statuses(self, conn: Connection, keys: list[str], today: dt.date) -> dict[str, str]:
        if not keys:
            return {}
        rows = conn.execute(select(findings.c.id, findings.c.status, findings.c.expires)
                            .where(findings.c.id.in_(keys))).all()
        return {r.id: effective_status(r.status, r.expires, today) for r in rows}

    # ---- decisions
    def set_status(self, key: str, status: str, *, owner: str | None = None, due: dt.date | None = None,
                   note: str | None = None, reason: str | None = None, approver: str | None = None,
                   expires: dt.date | None = None,
                   also: Callable[[Connection, dict[str, Any], dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Record a decision on a finding (planned, waived, false-positive, open).

        ``also(conn, before, after)`` runs inside the same transaction with the finding before and
        after the decision (e.g. to append the audit row): if it fails, the decision is not taken."""
        if status not in DECISIONS:
            raise StoreError(f"--status: '{status}' cannot be set by hand "
                             "(choose open, planned, waived or false-positive)")
        missing = {
            "planned": [n for n, v in (("--owner", owner), ("--due", due)) if not v],
            "waived": [n for n, v in (("--reason", reason), ("--approver", approver), ("--expires", expires)) if not v],
            "false-positive": [n for n, v in (("--reason", reason),) if not v],
            "open": [],
        }[status]
        if missing:
            raise StoreError(f"--status {status} needs {', '.join(missing)}")

        def _tx(conn: Connection) -> dict[str, Any]:
            now, today = self.now(), self.today()
            self._expire_waivers(conn, today, now, None)
            r = conn.execute(select(findings).where(findings.c.id == key)).first()
            if r is None:
                raise StoreError(f"unknown finding '{key}' (see 'banscan findings --all')")
            vals: dict[str, Any] = {}
            detail: dict[str, Any] = {}
            if status == "planned":
                vals.update(owner=owner, due=due, note=note)
                detail = dict(owner=owner, due=due.isoformat() if due else None, note=note)
            elif status == "waived":
                vals.update(reason=reason, approver=approver, expires=expires, note=note)
                detail = dict(reason=reason, approver=approver, expires=expires.isoformat() if expires else None)
            elif status == "false-positive":
                vals.update(reason=reason, note=note)
                detail = dict(reason=reason)
            else:
                if note is not None:
                    vals["note"] = note
                detail = dict(note=note)
            before = self._row_dict(r, today)
            self._transition(conn, key, r.status, f"decide:{status}", now, None, vals, **detail)
            after = self._row_dict(conn.execute(select(findings).where(findings.c.id == key)).one(), today)
            if also is not None:
                also(conn, before, after)
            return after

        return db.write(self.engine, _tx)

    def expire_waivers(self) -> int:
        """Reopen findings whose waiver has expired (also done on every scan)."""
        return db.write(self.engine, lambda c: self._expire_waivers(c, self.today(), self.now(), None))

    # ---- reading
    @staticmethod
    def _row_dict(row: Any, today: dt.date) -> dict[str, Any]:
        r = row._mapping  # by key: far quicker than a Row's attribute per column
        data = _unj(r["data"], {})
        st = effective_status(r["status"], r["expires"], today)
        deadline, due, expires = r["deadline"], r["due"], r["expires"]
        return {
            "id": r["id"], "status": st, "asset": r["asset"], "family": r["family"],
            "product": data.get("product_name") or r["product"] or None, "product_id": r["product"] or None,
            "restriction": r["restriction"], "requirement": r["requirement"],
            "deadline": deadline.isoformat() if deadline else None,
            "first_seen": r["first_seen"], "last_seen": r["last_seen"],
            "first_scan": r["first_scan"], "last_scan": r["last_scan"],
            "resolved_at": r["resolved_at"], "resolved_scan": r["resolved_scan"],
            "evidence_classes": _unj_list(r["evidence_classes"]), "profiles": _unj_list(r["profiles"]),
            "owner": r["owner"], "due": due.isoformat() if due else None, "note": r["note"],
            "reason": r["reason"], "approver": r["approver"],
            "waiver_expires": expires.isoformat() if expires else None,
            "overdue": st in ACTIVE and _past(deadline, due, today),
            "citation": data.get("citation"), "instrument": data.get("instrument"),
            "action": data.get("action"),
        }

    def findings(self, *, statuses: Iterable[str] | None = None, asset: str | None = None,
                 family: str | None = None, overdue: bool = False, all: bool = False,  # noqa: A002
                 profile: str | None = None, as_of: dt.date | None = None) -> list[dict[str, Any]]:
        today = as_of or self.today()
        q = select(findings)
        if asset:
            q = q.where(findings.c.asset == asset)
        if family:
            q = q.where(findings.c.family == family)
        with db.reading(self.engine) as conn:
            rows = [self._row_dict(r, today) for r in conn.execute(q.order_by(findings.c.asset, findings.c.id))]
        wanted = set(statuses) if statuses else (None if all else set(ACTIVE))
        out = []
        for r in rows:
            if wanted is not None and r["status"] not in wanted:
                continue
            if overdue and not r["overdue"]:
                continue
            if profile and profile not in r["profiles"]:
                continue
            out.append(r)
        return out

    def findings_as_of(self, day: dt.date, *, profile: str | None = None) -> list[dict[str, Any]]:
        """Every finding as it stood at the end of ``day``, from the stored history: findings first
        seen later are left out, and each status is the one its events (``finding_events``) had
        reached by then (a waiver is judged on ``day``).  Requirement, deadline, owner and the
        other fields are the row's current values."""
        states, rows = self.findings_as_of_in_part(day, profile=profile)
        return [rows[s.id] for s in states]

    def findings_as_of_in_part(self, day: dt.date, *, profile: str | None = None,
                               detail: Callable[[list[FindingAsOf]], Iterable[str]] | None = None,
                               ) -> tuple[list[FindingAsOf], dict[str, dict[str, Any]]]:
        """:meth:`findings_as_of` in two parts read together: the state of every finding then (id,
        asset, requirement, status; in asset and id order), and the full rows, by id, of those
        ``detail(states)`` names (of all when ``detail`` is None).  A reader that needs counts and a
        few rows does not decode every finding's JSON; the statuses are the same in both parts."""
        end = _day_after(day)
        ev = finding_events.c

        def last_event(column: Any, *where: Any) -> Any:
            """Per finding, ``column`` of its newest event (by id) recorded before ``end`` that
            matches ``where``."""
            newest = (select(ev.finding_key, func.max(ev.id).label("last"))
                      .where(ev.to_status.isnot(None), ev.at < end, *where).group_by(ev.finding_key).subquery())
            return select(ev.finding_key, column).join(newest, newest.c.last == ev.id)

        with db.reading(self.engine) as conn:
            light = conn.execute(select(*_FINDING_STATE).where(findings.c.first_seen < end)
                                 .order_by(findings.c.asset, findings.c.id)).all()
            last = dict(conn.execute(last_event(ev.to_status)).all())
            waived = {k: _date(_unj(detail, {}).get("expires"))
                      for k, detail in conn.execute(last_event(ev.detail, ev.to_status == "waived")).all()}
            # each finding's status then is its newest event's; the waiver expiry its newest waiver's
            state = {k: (st, waived.get(k)) for k, st in last.items()}
            states: list[FindingAsOf] = []
            for key, asset, requirement, status, expires, profiles in light:
                if profile and profile not in _unj_list(profiles):
                    continue
                status, expires = state.get(key, (status, expires))
                states.append(FindingAsOf(key, asset, requirement, effective_status(status, expires, day)))
            ids = {s.id for s in states}
            wanted = ids if detail is None else set(detail(states)) & ids
            rows = self._finding_rows(conn, wanted, end)
        out: dict[str, dict[str, Any]] = {}
        for s in states:
            if s.id not in wanted:
                continue
            r = rows[s.id]
            d = self._row_dict(r, day)
            d["status"] = s.status
            d["overdue"] = s.status in ACTIVE and _past(r.deadline, r.due, day)
            if s.id in state:
                expires = state[s.id][1]
                d["waiver_expires"] = expires.isoformat() if expires else None
            if s.status != "resolved":
                d["resolved_at"] = d["resolved_scan"] = None
            out[s.id] = d
        return states, out

    @staticmethod
    def _finding_rows(conn: Connection, ids: set[str], end: str) -> dict[str, Any]:
        """The rows of the findings ``ids`` (all first seen before ``end``), by id."""
        if len(ids) > 2000:  # most of them: one pass over the table, the others skipped here
            return {r.id: r for r in conn.execute(select(findings).where(findings.c.first_seen < end))
                    if r.id in ids}
        out: dict[str, Any] = {}
        order = sorted(ids)
        for i in range(0, len(order), 500):
            out.update((r.id, r) for r in conn.execute(select(findings).where(findings.c.id.in_(order[i:i + 500]))))
        return out

    def finding(self, key: str) -> dict[str, Any]:
        with db.reading(self.engine) as conn:
            r = conn.execute(select(findings).where(findings.c.id == key)).first()
        if r is None:
            raise StoreError(f"unknown finding '{key}' (see 'banscan findings --all')")
        return self._row_dict(r, self.today())

    def events(self, key: str | None = None, asset: str | None = None) -> list[dict[str, Any]]:
        q = select(finding_events, findings.c.asset, findings.c.restriction, findings.c.family,
                   findings.c.product).join(findings, findings.c.id == finding_events.c.finding_key)
        if key:
            q = q.where(finding_events.c.finding_key == key)
        if asset:
            q = q.where(findings.c.asset == asset)
        with db.reading(self.engine) as conn:
            rows = conn.execute(q.order_by(finding_events.c.id)).all()
        return [{"id": r.id, "finding": r.finding_key, "scan": r.scan_id, "at": r.at, "actor": r.actor,
                 "event": r.event, "from": r.from_status, "to": r.to_status, "detail": _unj(r.detail, {}),
                 "asset": r.asset, "family": r.family, "product": r.product or None,
                 "restriction": r.restriction} for r in rows]

    def scan(self, scan_id: int) -> dict[str, Any]:
        with db.reading(self.engine) as conn:
            r = conn.execute(select(scans).where(scans.c.id == scan_id)).first()
            if r is None:
                raise StoreError(f"unknown scan {scan_id}")
            ins = conn.execute(select(inputs).where(inputs.c.scan_id == scan_id).order_by(inputs.c.id)).all()
        return self._scan_dict(r, ins)

    @staticmethod
    def _scan_dict(r: Any, ins: Iterable[Any] = ()) -> dict[str, Any]:
        return {"id": r.id, "kind": r.kind, "started_at": r.started_at, "finished_at": r.finished_at,
                "recorded_at": r.recorded_at,
                "registry": {"version": r.registry_version, "sha256": r.registry_sha256},
                "profiles": _unj(r.profiles, []), "as_of": r.as_of.isoformat(), "tool_version": r.tool_version,
                "based_on": _unj(r.based_on, None), "note": r.note,
                "inputs": [{"path": i.path, "format": i.format, "sha256": i.sha256,
                            "observations": i.observations, "errors": _unj(i.errors, []),
                            "deviations": _unj(i.deviations, [])} for i in ins]}

    def scan_result(self, scan_id: int) -> ScanResult:
        """Rebuild the full report of a recorded scan."""
        with db.reading(self.engine) as conn:
            rep = conn.execute(select(scans.c.report).where(scans.c.id == scan_id)).scalar()
        if rep is None:
            raise StoreError(f"unknown scan {scan_id}")
        return ScanResult.from_dict(loads(rep))

    def scans(self, kind: str | None = "scan") -> list[dict[str, Any]]:
        q = select(*_SCAN_META).order_by(scans.c.id)
        if kind:
            q = q.where(scans.c.kind == kind)
        with db.reading(self.engine) as conn:
            return [self._scan_dict(r) for r in conn.execute(q)]

    def assets(self, as_of: dt.date | None = None) -> list[dict[str, Any]]:
        """Every asset a scan covered: its last scan, evidence classes, inputs and open findings."""
        today = as_of or self.today()
        with db.reading(self.engine) as conn:
            q = (select(scan_assets.c.asset, scan_assets.c.evidence_class, scans.c.id, scans.c.finished_at)
                 .join(scans, scans.c.id == scan_assets.c.scan_id).where(scans.c.kind == "scan"))
            if as_of is not None:
                q = q.where(scans.c.as_of <= as_of)
            rows = conn.execute(q.order_by(scan_assets.c.asset, scans.c.id)).all()
            frows = [self._row_dict(r, today) for r in conn.execute(select(findings))]
            latest: dict[str, dict[str, Any]] = {}
            for r in rows:
                a = latest.setdefault(r.asset, {"asset": r.asset, "classes": {}, "scans": set()})
                a["classes"][r.evidence_class] = (r.id, r.finished_at)  # later scans overwrite
                a["scans"].add(r.id)
            scan_ids = {sid for a in latest.values() for sid, _ in a["classes"].values()}
            ins: dict[int, list[Any]] = {}
            if scan_ids:
                for i in conn.execute(select(inputs).where(inputs.c.scan_id.in_(sorted(scan_ids)))
                                      .order_by(inputs.c.id)):
                    ins.setdefault(i.scan_id, []).append(i)
        open_by_asset: dict[str, list[dict[str, Any]]] = {}
        for f in frows:
            if f["status"] in ACTIVE:
                open_by_asset.setdefault(f["asset"], []).append(f)
        out = []
        for name, a in sorted(latest.items()):
            last_id, last_time = max(a["classes"].values())
            open_f = open_by_asset.get(name, [])
            per_scan = sorted({sid for sid, _ in a["classes"].values()})
            out.append({
                "asset": name, "last_scan": last_id, "last_scan_at": last_time,
                "evidence": {c: {"scan": sid, "at": t} for c, (sid, t) in sorted(a["classes"].items())},
                "scans": len(a["scans"]),
                "inputs": [{"scan": sid, "path": i.path, "format": i.format, "sha256": i.sha256}
                           for sid in per_scan for i in ins.get(sid, [])],
                "open_findings": len(open_f),
                "findings": [f["id"] for f in open_f],
            })
        return out

    def coverage(self, as_of: dt.date | None = None, *, with_inputs: bool = True) -> list[dict[str, Any]]:
        """What the stored scans can see of each asset (:func:`banscan.coverage.build`): per
        evidence class the day of the newest scan, and its inputs.  ``as_of``: only scans recorded
        on or before that day (the estate as it stood then).  ``with_inputs=False``: every class's
        inputs are left empty (for readers of the evidence days only, such as the gaps)."""
        from banscan import coverage

        cols = [scan_assets.c.asset, scan_assets.c.evidence_class, scans.c.id, scans.c.recorded_at]
        if with_inputs:
            cols.append(scan_assets.c.inputs)
        q = select(*cols).join(scans, scans.c.id == scan_assets.c.scan_id).where(scans.c.kind == "scan")
        if as_of is not None:
            q = q.where(scans.c.recorded_at < _day_after(as_of))
        with db.reading(self.engine) as conn:
            rows = conn.execute(q).all()
        # a scan's rows share its time and mostly its inputs: each distinct text read once
        # (coverage.build only reads the lists it is given)
        days: dict[str, dt.date] = {}
        ins: dict[str | None, Any] = {None: []}
        for r in rows:
            if r.recorded_at not in days:
                days[r.recorded_at] = _date(r.recorded_at) or self.today()
            if with_inputs and r.inputs not in ins:
                ins[r.inputs] = _unj(r.inputs, [])
        return coverage.build((r.asset, r.evidence_class, days[r.recorded_at], int(r.id),
                               ins[r.inputs] if with_inputs else ins[None]) for r in rows)

    def latest_per_asset_class(self, asset: str | None = None) -> dict[tuple[str, str], int]:
        """For each (asset, evidence class) ever covered, the newest scan that covered it (of
        ``asset`` only when given)."""
        q = (select(scan_assets.c.asset, scan_assets.c.evidence_class, func.max(scan_assets.c.scan_id))
             .join(scans, scans.c.id == scan_assets.c.scan_id).where(scans.c.kind == "scan"))
        if asset is not None:
            q = q.where(scan_assets.c.asset == asset)
        with db.reading(self.engine) as conn:
            rows = conn.execute(q.group_by(scan_assets.c.asset, scan_assets.c.evidence_class)).all()
        return {(r[0], r[1]): int(r[2]) for r in rows}

    def latest_evidence(self) -> dict[tuple[str, str], tuple[int, int | None]]:
        """For each (asset, evidence class) ever scanned: (the newest scan covering it, the id of the
        evidence set that scan stored for it, or None when it kept none)."""
        latest = self.latest_per_asset_class()
        rows = self._rows_of_scans(latest, scan_assets.c.evidence_set)
        sets = {(r.asset, r.evidence_class, r.scan_id): r.evidence_set for r in rows}
        return {(a, c): (sid, sets.get((a, c, sid))) for (a, c), sid in latest.items()}

    def evidence_set(self, set_id: int) -> EvidenceSet:
        """A stored evidence set (the distinct observations of one asset and class)."""
        found = self.evidence_sets([set_id])
        if set_id not in found:
            raise StoreError(f"unknown evidence set {set_id}")
        return found[set_id]

    def evidence_sets(self, set_ids: Iterable[int]) -> dict[int, EvidenceSet]:
        """Stored evidence sets by id (ids not stored are left out)."""
        ids = sorted(set(set_ids))
        out: dict[int, EvidenceSet] = {}
        with db.reading(self.engine) as conn:
            for i in range(0, len(ids), 500):
                for r in conn.execute(select(evidence_sets).where(evidence_sets.c.id.in_(ids[i:i + 500]))):
                    out[int(r.id)] = EvidenceSet.from_compressed(r.asset, r.evidence_class, bytes(r.data))
        return out

    def latest_result(self, asset: str | None = None) -> ScanResult | None:
        """The newest scan of each asset and evidence class merged into one report, each finding
        carrying its lifecycle status (for ``banscan report``)."""
        latest = self.latest_per_asset_class(asset)
        wanted = {(a, c): sid for (a, c), sid in latest.items() if asset is None or a == asset}
        if not wanted:
            return None
        sids = sorted(set(wanted.values()))
        parts = (self._asset_results(sids, asset) if asset is not None else None) or \
            {sid: self.scan_result(sid) for sid in sids}
        keep = {a for a, _ in wanted}
        newest = parts[max(parts)]
        merged = ScanResult(registry=newest.registry, profiles=[], as_of=newest.as_of,
                            started_at=min(p.started_at for p in parts.values()),
                            finished_at=max(p.finished_at for p in parts.values()),
                            inputs=[], detections=[], findings=[])
        seen_d: set[str] = set()
        seen_f: set[str] = set()
        for sid, part in sorted(parts.items()):
            for prof in part.profiles:
                if prof not in merged.profiles:
                    merged.profiles.append(prof)
            for i in part.inputs:
                if any(a in keep for a in i.assets) or not i.assets:
                    merged.inputs.append(i)
            dets = [d for d in part.detections if d.asset in keep
                    and wanted.get((d.asset, d.observation.evidence_class.value)) == sid
                    and d.id not in seen_d]
            ids = {d.id for d in dets}
            seen_d |= ids
            merged.detections.extend(dets)
            for f in part.findings:
                if f.detection in ids and f.id not in seen_f:
                    seen_f.add(f.id)
                    merged.findings.append(f)
            merged.upcoming.extend(u for u in part.upcoming if u.get("asset") in keep)
            for fam, info in part.information.items():
                merged.information.setdefault(fam, info)
        groups = self._group(merged)
        with db.reading(self.engine) as conn:
            statuses = self._statuses(conn, list(groups), self.today())
        for key, g in groups.items():
            for f, _ in g.members:
                f.status = statuses.get(key, f.status)
        return merged

    def history(self, asset: str) -> dict[str, Any]:
        """The scans that covered ``asset`` and what changed for its findings at each."""
        with db.reading(self.engine) as conn:
            sids = [r[0] for r in conn.execute(select(scan_assets.c.scan_id).where(scan_assets.c.asset == asset)
                                               .distinct().order_by(scan_assets.c.scan_id))]
            srows = conn.execute(select(*_SCAN_META).where(scans.c.id.in_(sids)).order_by(scans.c.id)).all() \
                if sids else []
            irows = conn.execute(select(inputs).where(inputs.c.scan_id.in_(sids)).order_by(inputs.c.id)).all() \
                if sids else []
            classes = conn.execute(select(scan_assets).where(scan_assets.c.asset == asset)).all()
        if not sids:
            if not self.findings(asset=asset, all=True):
                raise StoreError(f"unknown asset '{asset}' (see 'banscan assets')")
        ev = self.events(asset=asset)
        by_scan: dict[int | None, list[dict[str, Any]]] = {}
        for e in ev:
            by_scan.setdefault(e["scan"], []).append(e)
        out_scans = []
        prev_inputs: set[tuple[str, str | None]] = set()
        for s in srows:
            ins = [i for i in irows if i.scan_id == s.id]
            d = self._scan_dict(s, ins)
            d["evidence"] = sorted(c.evidence_class for c in classes if c.scan_id == s.id)
            cur = {(i.path, i.sha256) for i in ins}
            d["inputs_changed"] = {"added": sorted(p for p, _ in cur - prev_inputs),
                                   "removed": sorted(p for p, _ in prev_inputs - cur)} if prev_inputs else None
            prev_inputs = cur
            d["changes"] = by_scan.pop(s.id, [])
            out_scans.append(d)
        other = [e for k, v in by_scan.items() for e in v]
        return {"asset": asset, "scans": out_scans, "other_events": other}
