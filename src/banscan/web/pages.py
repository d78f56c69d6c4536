"""The dashboard's pages and forms.

Reads go through the store's and the registry's Python APIs; every decision goes through
:func:`banscan.serve.audit.decide` (the store's one transition function plus the audit log), exactly
as ``POST /api/v1/findings/{id}/decision`` does.  Every POST checks the session's CSRF token and the
user's role (403 otherwise).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from banscan.errors import BanscanError
from banscan.serve import audit
from banscan.serve.service import Service
from banscan.store import dashboard
from banscan.web import accounts, changes, charts, groups, timefmt
from banscan.web.accounts import Session
from banscan.web.auth import COOKIE, DecideForm, ReadForm, Viewer

router = APIRouter(include_in_schema=False)

LOGIN_COOKIE = "banscan_login"
REQUIREMENTS = dashboard.REQUIREMENTS
STATUSES = ("open", "planned", "resolved", "waived", "false-positive")
PAGE_SIZE = 50
SORTS = dashboard.SORTS

env = Environment(loader=PackageLoader("banscan.web", "templates"), autoescape=select_autoescape(default=True),
                  trim_blocks=True, lstrip_blocks=True)
env.filters["when"] = timefmt.when


def _svc(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def _render(request: Request, template: str, sess: Session | None, status: int = 200, **ctx: Any) -> HTMLResponse:
    ctx.setdefault("tz", timefmt.zone_of(request, sess))
    html = env.get_template(template).render(request=request, session=sess, user=sess.user if sess else None,
                                         csrf=sess.csrf if sess else "", path=request.url.path, **ctx)
    return HTMLResponse(html, status_code=status)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


# --------------------------------------------------------------------------- login


@router.get("/login")
def login_form(request: Request) -> Response:
    token = secrets.token_urlsafe(32)
    resp = _render(request, "login.html", None, login_csrf=token, error=None)
    resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/login")
    return resp


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    token, cookie = form.get("csrf_token"), request.cookies.get(LOGIN_COOKIE)
    if not isinstance(token, str) or not cookie or not secrets.compare_digest(token, cookie):
        raise HTTPException(403, "missing or wrong CSRF token: reload the login page and try again")
    name, password = form.get("username"), form.get("password")
    user: accounts.User | None = None
    if isinstance(name, str) and isinstance(password, str):
        user = accounts.authenticate(_svc(request).store.engine, name, password)
    if user is None:
        fresh = secrets.token_urlsafe(32)
        page = _render(request, "login.html", None, status=401, login_csrf=fresh,
                       error="Unknown user name or wrong password.")
        page.set_cookie(LOGIN_COOKIE, fresh, httponly=True, samesite="strict", secure=_secure(request), path="/login")
        return page
    session_token = accounts.open_session(_svc(request).store.engine, user)
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(COOKIE, session_token, httponly=True, samesite="strict", secure=_secure(request), path="/",
                    max_age=accounts.SESSION_HOURS * 3600)
    resp.delete_cookie(LOGIN_COOKIE, path="/login")
    return resp


@router.post("/logout")
async def logout(request: Request, sess: ReadForm) -> Response:
    accounts.close_session(_svc(request).store.engine, sess.token_hash)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


# --------------------------------------------------------------------------- overview


def _date(v: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(v)[:10]) if v else None
    except ValueError:
        return None


@router.get("/")
def overview(request: Request, sess: Viewer) -> Response:
    svc = _svc(request)
    store = svc.store
    today = store.today()
    o = dashboard.overview(store, today)  # counted in the database
    svg = charts.burndown(None, today, o["deadlines"], per_day=dashboard.open_per_day(store))
    since = accounts.visit_since(store.engine, sess.user.name)
    first_visit = since is None
    if since is None:
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=7)).isoformat(timespec="seconds")
    changed = changes.since(store.engine, since)
    return _render(request, "overview.html", sess, today=today, total_active=o["total_active"],
                   by_req=o["by_req"], overdue=o["overdue"], due_soon=o["due_soon"],
                   by_family=o["by_family"], by_restriction=o["by_restriction"], assets=o["assets"],
                   per_class=o["per_class"], stale=o["stale"], burndown=svg, waived=o["waived"],
                   changed=changed, first_visit=first_visit)


# --------------------------------------------------------------------------- findings


def _filters(request: Request) -> dict[str, str]:
    return _filter_map(request.query_params)


def _filter_map(q: Any) -> dict[str, str]:
    keys = ("status", "family", "restriction", "requirement", "asset", "group", "owner", "q", "overdue", "sort",
            "dir")
    return {k: q.get(k, "").strip()[:200] for k in keys if q.get(k, "").strip()}


def _filtered(svc: Service, flt: dict[str, str], page: int | None = None) -> tuple[list[dict[str, Any]], int, int]:
    """(the findings matching the filters, sorted: page ``page`` of PAGE_SIZE or all, how many match,
    the page shown): filtered, sorted and paged in the database (an asset group: its assets)."""
    within = None
    if flt.get("group"):
        member = groups.Membership(groups.list_groups(svc.store.engine))
        within = {a for a in dashboard.finding_assets(svc.store) if flt["group"] in member.of(a)}
    return dashboard.find(svc.store, flt, svc.today(), page, PAGE_SIZE, assets=within)


@router.get("/findings")
def findings_page(request: Request, sess: Viewer) -> Response:
    svc = _svc(request)
    flt = _filters(request)
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    shown, total, page = _filtered(svc, flt, page)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    families = sorted(svc.registry.families)
    restrictions = sorted(svc.registry.restrictions)
    membership = groups.Membership(groups.list_groups(svc.store.engine))

    def link(**over: Any) -> str:
        d: dict[str, Any] = {**flt, **over}
        return "/findings?" + urlencode({k: v for k, v in d.items() if v not in (None, "")})

    return _render(request, "findings.html", sess, rows=shown, total=total, page=page, pages=pages, flt=flt,
                   link=link, families=families, restrictions=restrictions, requirements=REQUIREMENTS,
                   statuses=STATUSES, sorts=SORTS, groups_of=membership.of, group_names=membership.names(),
                   back=str(request.url.path) + (
                       "?" + request.url.query if request.url.query else ""),
                   csv_link="/findings.csv?" + urlencode(flt), message=request.query_params.get("done"))


@router.get("/findings.csv")
def findings_csv(request: Request, sess: Viewer) -> Response:
    from banscan.textsafe import csv_cell

    rows = _filtered(_svc(request), _filters(request))[0]
    cols = ("id", "status", "asset", "family", "product", "restriction", "requirement", "deadline", "owner", "due",
            "waiver_expires", "reason", "first_seen", "last_seen", "citation", "groups")
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(cols)
    membership = groups.Membership(groups.list_groups(_svc(request).store.engine))
    for f in rows:
        values = [f.get(c) for c in cols[:-1]] + [" ".join(membership.of(f["asset"])) or None]  # groups last
        w.writerow([csv_cell(v) if v is not None else "" for v in values])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="banscan-findings.csv"'})


def _back(v: Any) -> str:
    s = v if isinstance(v, str) else ""
    return s if s.startswith("/findings") and not s.startswith("//") and "\\" not in s else "/findings"


@router.post("/findings/decide")
async def decide(request: Request, sess: DecideForm) -> Response:
    form = await request.form()
    svc = _svc(request)
    ids = [i for i in form.getlist("ids") if isinstance(i, str)]
    action = form.get("action")
    back = _back(form.get("back"))
    if form.get("scope") == "filter":  # every finding of the filter the form was shown with
        from urllib.parse import parse_qsl, urlsplit

        ids = [f["id"] for f in _filtered(svc, _filter_map(dict(parse_qsl(urlsplit(back).query))))[0]]
    if not ids:
        raise HTTPException(400, "select at least one finding")

    def field(name: str) -> str | None:
        v = form.get(name)
        return v.strip() if isinstance(v, str) and v.strip() else None

    def day(name: str) -> dt.date | None:
        v = field(name)
        if v is None:
            return None
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise HTTPException(400, f"{name}: not a date (YYYY-MM-DD): {v!r}") from None

    owner, due, reason, expires = field("owner"), day("due"), field("reason"), day("expires")
    store = svc.store_as(f"web:{sess.user.name}")
    done = 0
    try:
        for key in ids:
            cur = svc.store.finding(key)
            if action == "assign":
                if not owner:
                    raise HTTPException(400, "assign: an owner is needed")
                d = due or _date(cur["due"]) or _date(cur["deadline"])
                if d is None:
                    raise HTTPException(400, f"assign: finding {key} has no due date or deadline; set a due date")
                audit.decide(store, key, "planned", actor=f"web:{sess.user.name}", owner=owner, due=d,
                             note=cur.get("note"))
            elif action == "due":
                if due is None:
                    raise HTTPException(400, "due: a date is needed")
                audit.decide(store, key, "planned", actor=f"web:{sess.user.name}",
                             owner=owner or cur["owner"] or sess.user.name, due=due, note=cur.get("note"))
            elif action == "waive":
                if not reason or expires is None:
                    raise HTTPException(400, "waive: a reason and the last day of the waiver are needed")
                audit.decide(store, key, "waived", actor=f"web:{sess.user.name}", reason=reason,
                             approver=sess.user.name, expires=expires)
            else:
                raise HTTPException(400, "action: choose assign, due or waive")
            done += 1
    except BanscanError as e:
        raise HTTPException(400, "; ".join(e.problems)) from None
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}{urlencode({'done': f'{action}: {done} finding(s)'})}", status_code=303)


# --------------------------------------------------------------------------- one finding


def _explain(svc: Service, row: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    from banscan.cli.policy_cmd import explanation
    from banscan.store.core import Store

    result = svc.store.latest_result(row["asset"])
    if result is None:
        return None, "no scan of this asset is recorded"
    group = Store._group(result).get(row["id"])
    if group is None or not group.members:
        return None, "no longer seen by the latest scans of its asset"
    try:
        return explanation(group.members[0][0].id, result, svc.registry), None
    except BanscanError as e:
        return None, "; ".join(e.problems)


@router.get("/findings/{ident}")
def finding_page(request: Request, ident: str, sess: Viewer) -> Response:
    svc = _svc(request)
    try:
        row = svc.store.finding(ident)
    except BanscanError as e:
        return _render(request, "error.html", sess, status=404, message="; ".join(e.problems))
    x, note = _explain(svc, row)
    return _render(request, "finding.html", sess, f=row, x=x, note=note,
                   events=svc.store.events(key=ident), trail=audit.entries(svc.store.engine, target=ident),
                   back=f"/findings/{ident}")


# --------------------------------------------------------------------------- proof

MAX_STATEMENT_BYTES = 64 << 20
PROOF_OPEN_SHOWN = 20  # the open findings the proof page lists (it counts them all)


def _attest_key() -> Any:
    """The service's Ed25519 signing key (``BANSCAN_ATTEST_KEY``: a file made by 'banscan keygen'), or None."""
    import os
    from pathlib import Path

    from banscan.attest import load_private_key

    path = os.environ.get("BANSCAN_ATTEST_KEY")
    return load_private_key(Path(path)) if path else None


def _proof_page(request: Request, sess: Session, status: int = 200, **extra: Any) -> HTMLResponse:
    from banscan.attest import preview as statement_preview

    svc = _svc(request)
    q = request.query_params
    profiles = sorted(svc.registry.profiles)
    profile = q.get("profile") or extra.pop("profile", None) or (svc.config.profiles or profiles or [""])[0]
    as_of = _date(q.get("as_of")) or extra.pop("as_of", None) or svc.today()
    preview: dict[str, Any] | None = None
    problem = None
    if profile in svc.registry.profiles:
        try:
            preview = statement_preview(svc.store, svc.registry, profile, as_of, first=PROOF_OPEN_SHOWN)
        except BanscanError as e:
            problem = "; ".join(e.problems)
    coverage = (preview or {}).get("coverage") or {}
    return _render(request, "proof.html", sess, status=status, profiles=profiles, profile=profile, as_of=as_of,
                   preview=preview, problem=problem, gaps=coverage.get("gaps") or [],
                   max_age=coverage.get("max_age_days"),
                   has_key=_attest_key() is not None, **extra)


@router.get("/proof")
def proof(request: Request, sess: Viewer) -> Response:
    return _proof_page(request, sess, verification=None)


@router.post("/proof/attest")
async def proof_attest(request: Request, sess: DecideForm) -> Response:
    from banscan.attest import build_statement, sign

    form = await request.form()
    svc = _svc(request)
    key = _attest_key()
    if key is None:
        raise HTTPException(409, "no signing key: start the service with BANSCAN_ATTEST_KEY set to a key "
                                 "made by 'banscan keygen'")
    profile = form.get("profile")
    as_of = _date(form.get("as_of")) or svc.today()
    if not isinstance(profile, str) or profile not in svc.registry.profiles:
        raise HTTPException(400, "profile: unknown profile")
    try:
        svc.store.expire_waivers()
        st = build_statement(svc.store, svc.registry, profile, as_of, include_open=form.get("include_open") == "yes",
                             accept_gaps=form.get("accept_gaps") == "yes")
    except BanscanError as e:
        return _proof_page(request, sess, status=409, verification=None, refused="; ".join(e.problems),
                           profile=profile, as_of=as_of)
    data = sign(st, key)
    audit.record(svc.store.engine, actor=f"web:{sess.user.name}", action="attestation-signed",
                 target=f"profile:{profile}", new={"as_of": as_of.isoformat(), "clean": st["clean"]},
                 sha256=__import__("hashlib").sha256(data).hexdigest())
    name = f"banscan-attestation-{profile}-{as_of.isoformat()}.json"
    return Response(data, media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/proof/verify")
async def proof_verify(request: Request, sess: ReadForm) -> Response:
    from banscan.attest import Verification, render, verify

    form = await request.form()
    upload = form.get("statement")
    if upload is None or isinstance(upload, str):
        raise HTTPException(400, "statement: choose a file")
    data = await upload.read(MAX_STATEMENT_BYTES + 1)
    if len(data) > MAX_STATEMENT_BYTES:
        v = Verification(False, ["the statement is larger than 64 MiB"])
    else:
        key = _attest_key()
        v = verify(data, key.public_key() if key is not None else None)
    return _proof_page(request, sess, verification={"valid": v.valid, "readable": v.readable, "text": render(v)})


# --------------------------------------------------------------------------- asset


@router.get("/assets/{name:path}")
def asset_page(request: Request, name: str, sess: Viewer) -> Response:
    svc = _svc(request)
    store = svc.store
    today = store.today()
    try:
        hist = store.history(name)
    except BanscanError as e:
        return _render(request, "error.html", sess, status=404, message="; ".join(e.problems))
    evidence = []
    latest_scans = set()
    for cls, (sid, at) in sorted(dashboard.asset_evidence(store, name).items()):
        d = _date(at)
        latest_scans.add(sid)
        evidence.append({"class": cls, "scan": sid, "at": at, "age": (today - d).days if d else None})
    inputs = [{"scan": s["id"], **i} for s in hist["scans"] if s["id"] in latest_scans for i in s.get("inputs", [])]
    rows = store.findings(asset=name, all=True)
    return _render(request, "asset.html", sess, name=name, evidence=evidence, findings=rows, hist=hist,
                   inputs=inputs)


# --------------------------------------------------------------------------- law


@router.get("/law")
def law_page(request: Request, sess: Viewer) -> Response:
    from banscan.cli.registry_cmd import restriction_json
    from banscan.policy.timeline import timeline_rows

    svc = _svc(request)
    reg = svc.registry
    q = request.query_params
    text = q.get("q", "").strip().lower()[:200]
    family = q.get("family", "")
    profile_id = q.get("profile", "")
    profile = reg.profiles.get(profile_id)
    families = [{"id": f.id, "name": f.name, "country": f.country} for f in
                sorted(reg.families.values(), key=lambda f: f.id)]
    restrictions = []
    for r in sorted(reg.restrictions.values(), key=lambda r: r.id):
        j = restriction_json(r)
        hay = " ".join(str(j.get(k) or "") for k in ("id", "title", "jurisdiction", "citation", "instrument",
                                                      "families", "authority")).lower()
        if text and text not in hay:
            continue
        if family and family not in (j.get("families") or []):
            continue
        restrictions.append(j)
    timeline = None
    if family in reg.families:
        rows = sorted(timeline_rows(family, reg, profile), key=lambda r: (r["effective"], r["id"]))
        timeline = {"rows": rows, "chart": charts.timeline(rows, svc.today())}
    return _render(request, "law.html", sess, families=families, restrictions=restrictions, family=family,
                   profiles=sorted(reg.profiles), profile=profile_id, q=q.get("q", ""), timeline=timeline,
                   active_registry=reg.meta())
