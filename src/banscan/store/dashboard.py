"""What the dashboard pages read, counted, filtered, sorted and paged in the database.

Each function gives what the page computed before from every finding (``Store.findings``) or
every scan, in Python, and gives exactly that (``tests/store/test_store_dashboard.py`` compares
them on a seeded store, on SQLite and PostgreSQL):

* a finding's status as read on a day is :func:`~banscan.store.lifecycle.effective_status` (a
  waiver past its expiry reads as open): :func:`status_on` is that as an SQL expression;
* where the pages sorted in Python (code point order), text is compared with the ``C`` collation on
  PostgreSQL (SQLite compares UTF-8 bytes, the same order);
* ties in counts keep the order of first appearance in ``ORDER BY asset, id`` (what a
  ``Counter(...).most_common()`` over ``Store.findings`` gave).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import JSON, and_, case, cast, func, literal, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ColumnElement

from banscan.store import db
from banscan.store.lifecycle import ACTIVE
from banscan.store.tables import finding_events, findings, scan_assets, scans

REQUIREMENTS = ("prohibited", "remove", "do-not-procure", "report", "advisory")
SORTS = ("asset", "family", "restriction", "requirement", "deadline", "status", "owner", "due", "first_seen")
SEARCHED = ("asset", "product", "family", "restriction", "owner", "id", "citation")
f = findings.c


def status_on(today: dt.date) -> ColumnElement[Any]:
    """The status as read on ``today`` (:func:`~banscan.store.lifecycle.effective_status`)."""
    return case((and_(f.status == "waived", f.expires.isnot(None), f.expires < today), literal("open")),
                else_=f.status)


def active_on(today: dt.date) -> ColumnElement[bool]:
    return or_(f.status.in_(ACTIVE), and_(f.status == "waived", f.expires < today))


def overdue_on(today: dt.date) -> ColumnElement[bool]:
    """Active and past its deadline or due date (``overdue`` of a finding row)."""
    return and_(active_on(today), or_(f.deadline < today, f.due < today))


def _text(conn: Connection, col: Any) -> Any:
    """``col`` compared in code point order (as Python compares strings)."""
    return col.collate("C") if conn.dialect.name == "postgresql" else col


def _ranked(conn: Connection, col: Any, where: ColumnElement[bool], limit: int | None) -> list[tuple[str, int]]:
    """``Counter(col of the rows matching where).most_common(limit)``, rows in (asset, id) order."""
    pos = func.row_number().over(order_by=(f.asset, f.id)).label("pos")
    inner = select(col.label("k"), pos).where(where).subquery()
    rows = conn.execute(select(inner.c.k, func.count().label("n"), func.min(inner.c.pos).label("first"))
                        .group_by(inner.c.k)).all()
    ranked = sorted(rows, key=lambda r: (-r.n, r.first))
    return [(r.k, int(r.n)) for r in (ranked if limit is None else ranked[:limit])]


def overview(store: Any, today: dt.date) -> dict[str, Any]:
    """The overview page's counts over every finding and every scanned asset."""
    act = active_on(today)
    soon = today + dt.timedelta(days=30)
    overdue = overdue_on(today)
    due_soon = and_(act, ~func.coalesce(overdue, False), or_(f.deadline.between(today, soon),
                                                              f.due.between(today, soon)))
    with db.reading(store.engine) as conn:
        by_req: dict[str, int] = {r: int(n) for r, n in conn.execute(
            select(f.requirement, func.count()).where(act).group_by(f.requirement))}
        counts = conn.execute(select(
            func.count().filter(act), func.count().filter(overdue), func.count().filter(due_soon),
            func.count().filter(and_(f.status == "waived", or_(f.expires.is_(None), f.expires >= today))),
        )).one()
        by_family = _ranked(conn, f.family, act, None)
        by_restriction = _ranked(conn, f.restriction, act, 15)
        deadlines = sorted(d for (d,) in conn.execute(select(f.deadline).where(act, f.deadline.isnot(None))
                                                      .distinct()))
        ev = evidence_summary(conn, today)
    return {"total_active": int(counts[0]), "by_req": [(r, int(by_req.get(r, 0))) for r in REQUIREMENTS],
            "overdue": int(counts[1]), "due_soon": int(counts[2]), "waived": int(counts[3]),
            "by_family": by_family, "by_restriction": by_restriction, "deadlines": deadlines, **ev}


def _latest(asset: str | None = None) -> Any:
    """Per asset and evidence class: the newest scan (kind ``scan``) that covered it."""
    q = (select(scan_assets.c.asset, scan_assets.c.evidence_class, func.max(scan_assets.c.scan_id).label("sid"))
         .join(scans, scans.c.id == scan_assets.c.scan_id).where(scans.c.kind == "scan"))
    if asset is not None:
        q = q.where(scan_assets.c.asset == asset)
    return q.group_by(scan_assets.c.asset, scan_assets.c.evidence_class).subquery()


def evidence_summary(conn: Connection, today: dt.date, stale_days: int = 30) -> dict[str, Any]:
    """Scanned assets, how many have each evidence class, and how many have no evidence newer than
    ``stale_days`` (by the day their newest covering scan finished)."""
    latest = _latest()
    per_class = conn.execute(select(latest.c.evidence_class, func.count()).group_by(latest.c.evidence_class)
                             .order_by(latest.c.evidence_class)).all()
    newest = (select(latest.c.asset, func.max(func.substr(scans.c.finished_at, 1, 10)).label("day"))
              .join(scans, scans.c.id == latest.c.sid).group_by(latest.c.asset).subquery())
    cutoff = (today - dt.timedelta(days=stale_days)).isoformat()
    assets, stale = conn.execute(select(func.count(), func.count().filter(
        or_(newest.c.day.is_(None), newest.c.day < cutoff)))).one()
    return {"assets": int(assets), "stale": int(stale),
            "per_class": [(c, int(n)) for c, n in sorted(per_class, key=lambda r: r[0])]}


def asset_evidence(store: Any, asset: str) -> dict[str, tuple[int, str | None]]:
    """For one asset, per evidence class: the newest scan covering it and when it finished."""
    latest = _latest(asset)
    with db.reading(store.engine) as conn:
        rows = conn.execute(select(latest.c.evidence_class, latest.c.sid, scans.c.finished_at)
                            .join(scans, scans.c.id == latest.c.sid)).all()
    return {r.evidence_class: (int(r.sid), r.finished_at) for r in sorted(rows, key=lambda r: r.evidence_class)}


def open_per_day(store: Any) -> dict[dt.date, int]:
    """Open (or planned) findings at the end of each day that has events, from the recorded
    events: :func:`banscan.web.charts.open_counts` before the days between are filled in."""
    ev = finding_events.c
    with db.reading(store.engine) as conn:
        at = _text(conn, ev.at)
        was = func.lag(ev.to_status).over(partition_by=ev.finding_key, order_by=(at, ev.id))
        delta = (case((ev.to_status.in_(ACTIVE), 1), else_=0) - case((was.in_(ACTIVE), 1), else_=0)).label("d")
        inner = (select(func.substr(ev.at, 1, 10).label("day"), delta)
                 .join(findings, findings.c.id == ev.finding_key)
                 .where(ev.to_status.isnot(None), ev.to_status != "").subquery())
        rows = conn.execute(select(inner.c.day, func.sum(inner.c.d)).group_by(inner.c.day)
                            .order_by(inner.c.day)).all()
    out: dict[dt.date, int] = {}
    total = 0
    for day, d in rows:
        total += int(d)
        try:
            out[dt.date.fromisoformat(day)] = total
        except ValueError:
            continue
    return out


# --------------------------------------------------------------------------- the findings table


def _where(conn: Connection, flt: Mapping[str, str], today: dt.date) -> list[ColumnElement[bool]]:
    status = flt.get("status", "active")
    where: list[ColumnElement[bool]] = []
    if status == "active":
        where.append(active_on(today))
    elif status != "all":
        where.append(status_on(today) == status)
    for k in ("family", "asset", "restriction", "requirement"):
        if flt.get(k):
            where.append(getattr(f, k) == flt[k])
    if flt.get("owner"):
        where.append(func.coalesce(f.owner, "") == flt["owner"])
    if flt.get("overdue") == "yes":
        where.append(overdue_on(today))
    elif flt.get("overdue") == "30d":
        soon = today + dt.timedelta(days=30)
        where.append(or_(f.deadline <= soon, f.due <= soon))
    return where


def _order(conn: Connection, flt: Mapping[str, str], today: dt.date) -> list[Any]:
    key = flt["sort"] if flt.get("sort") in SORTS else "deadline"
    desc = flt.get("dir") == "desc"
    keys: list[Any]
    if key == "requirement":  # never NULL
        keys = [case(*[(f.requirement == r, i) for i, r in enumerate(REQUIREMENTS)], else_=9)]
    elif key == "status":
        keys = [_text(conn, status_on(today))]
    else:
        raw = getattr(f, key)
        keys = [case((raw.is_(None), 1), else_=0),
                raw if key in ("deadline", "due") else _text(conn, func.coalesce(raw, ""))]
    keys += [_text(conn, f.asset), _text(conn, f.id)]
    return [k.desc() if desc else k.asc() for k in keys]


def finding_assets(store: Any) -> list[str]:
    """Every asset that has a finding."""
    with db.reading(store.engine) as conn:
        return [a for (a,) in conn.execute(select(f.asset).distinct())]


def find(store: Any, flt: Mapping[str, str], today: dt.date, page: int | None = None,
         page_size: int = 50, *, assets: Collection[str] | None = None) -> tuple[list[dict[str, Any]], int, int]:
    """The findings table: ``(rows, total, page)`` for the filters ``flt`` (status, family,
    restriction, requirement, asset, owner, q, overdue, sort, dir, as the page reads them), sorted;
    ``page`` (1-based, clamped to the pages there are) of ``page_size`` rows, or every row when
    None.  ``q`` matches, case-insensitively as Python lowers text, the asset, product, family,
    restriction, owner, id or citation.  ``assets``: only findings on these assets (an asset group)."""
    text = flt.get("q", "").lower()
    with db.reading(store.engine) as conn:
        where = _where(conn, flt, today)
        if assets is not None:
            where.append(f.asset.in_(sorted(assets)))
        order = _order(conn, flt, today)
        if text:
            # the case-insensitive match is Python's (str.lower), over the fields read from each row
            # (product name and citation out of its JSON, by the database); the rest is filtered in SQL
            ids = _searched(store, where, order, text)
            total = len(ids)
            page = _clamp(page, total, page_size)
            shown = ids if page is None else ids[(page - 1) * page_size:page * page_size]
            rows = {r.id: r for r in _fetch(conn, shown)}
            out = [store._row_dict(rows[i], today) for i in shown]
            return out, total, page or 1
        total = int(conn.execute(select(func.count()).select_from(findings).where(*where)).scalar() or 0)
        page = _clamp(page, total, page_size)
        q = select(findings).where(*where).order_by(*order)
        if page is not None:
            q = q.limit(page_size).offset((page - 1) * page_size)
        return [store._row_dict(r, today) for r in conn.execute(q)], total, page or 1


def _clamp(page: int | None, total: int, page_size: int) -> int | None:
    if page is None:
        return None
    return min(max(1, page), max(1, (total + page_size - 1) // page_size))


def _fetch(conn: Connection, ids: list[str]) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(ids), 500):
        out.extend(conn.execute(select(findings).where(f.id.in_(ids[i:i + 500]))).all())
    return out


def _json_text(conn: Connection, key: str) -> Any:
    """The string ``data[key]`` of a finding row's JSON, read by the database."""
    if conn.dialect.name == "postgresql":
        return func.json_extract_path_text(cast(f.data, JSON), key)
    return func.json_extract(f.data, f"$.{key}")


def _searched(store: Any, where: list[ColumnElement[bool]], order: list[Any], text: str) -> list[str]:
    """The ids, in order, of the rows matching ``where`` whose asset, product, family,
    restriction, owner, id or citation contains ``text`` (lowered as Python lowers)."""
    from banscan.store.core import _unj

    cols = (f.id, f.asset, f.family, f.restriction, f.owner, f.product)
    try:
        with db.reading(store.engine) as conn:
            rows = [(*r[:6], r[6], r[7]) for r in conn.execute(
                select(*cols, _json_text(conn, "product_name"), _json_text(conn, "citation"))
                .where(*where).order_by(*order))]
    except DBAPIError:  # JSON the database will not read (NaN): read it here
        with db.reading(store.engine) as conn:
            rows = [(*r[:6], d.get("product_name"), d.get("citation"))
                    for r in conn.execute(select(*cols, f.data).where(*where).order_by(*order))
                    for d in (_unj(r[6], {}),)]
    out = []
    for key, asset, family, restriction, owner, product, name, citation in rows:
        shown = name or product or None  # what a finding row shows as its product
        if any(text in str(v or "").lower() for v in (asset, shown, family, restriction, owner, key, citation)):
            out.append(key)
    return out


