"""The administration page: users and roles (add, change role, disable), API tokens (created and
shown once, revoked), the osquery enroll secret (rotated, shown once), asset groups, enrolled nodes
and their last check-in, the recent audit log.  Admins only; every form checks its CSRF token;
every change is audited (by the functions it calls)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from banscan.errors import BanscanError
from banscan.serve import audit
from banscan.web import accounts, groups
from banscan.web.accounts import Session
from banscan.web.auth import Admin, AdminForm, ReadForm, Viewer
from banscan.web.pages import _render, _svc

router = APIRouter(include_in_schema=False)


def _page(request: Request, sess: Session, status: int = 200, **extra: Any) -> Response:
    from sqlalchemy import select

    from banscan.serve.enroll import current
    from banscan.serve.tokens import SCOPES, list_tokens
    from banscan.store import db
    from banscan.store.service_tables import osquery_nodes as t

    svc = _svc(request)
    engine = svc.store.engine
    with db.reading(engine) as conn:
        nodes = conn.execute(select(t.c.asset, t.c.platform, t.c.enrolled_at, t.c.last_seen_at, t.c.dirty)
                             .order_by(t.c.asset)).all()
    rotated = current(engine)
    return _render(request, "admin.html", sess, status=status, users=accounts.list_users(engine),
                   roles=accounts.ROLES, scopes=SCOPES, tokens=list_tokens(engine), nodes=nodes,
                   enroll_secret=bool(svc.config.enroll_secret), rotated=rotated,
                   groups=groups.list_groups(engine),
                   recent=audit.entries(engine, limit=10_000)[-50:][::-1], **extra)


def _text(form: FormData, name: str) -> str:
    v = form.get(name)
    return v.strip() if isinstance(v, str) else ""


def _done(what: str) -> Response:
    from urllib.parse import urlencode

    return RedirectResponse("/admin?" + urlencode({"done": what}), status_code=303)


@router.get("/admin")
def admin_page(request: Request, sess: Admin) -> Response:
    return _page(request, sess, done=request.query_params.get("done"))


@router.post("/admin/users")
async def add_user(request: Request, sess: AdminForm) -> Response:
    form = await request.form()
    name, role = _text(form, "name"), _text(form, "role")
    pw = form.get("password")
    try:
        accounts.create_user(_svc(request).store.engine, name, role, pw if isinstance(pw, str) else "",
                             f"web:{sess.user.name}")
    except BanscanError as e:
        return _page(request, sess, status=400, error="; ".join(e.problems))
    return _done(f"user {name} added as {role}")


@router.post("/admin/users/role")
async def change_role(request: Request, sess: AdminForm) -> Response:
    form = await request.form()
    name, role = _text(form, "name"), _text(form, "role")
    if name == sess.user.name and role != "admin":
        return _page(request, sess, status=400, error="you cannot lower your own role (ask another admin)")
    try:
        accounts.set_role(_svc(request).store.engine, name, role, f"web:{sess.user.name}")
    except BanscanError as e:
        return _page(request, sess, status=400, error="; ".join(e.problems))
    return _done(f"user {name} is now {role}")


@router.post("/admin/users/disabled")
async def disable_user(request: Request, sess: AdminForm) -> Response:
    form = await request.form()
    name, disabled = _text(form, "name"), _text(form, "disabled") == "yes"
    if name == sess.user.name and disabled:
        return _page(request, sess, status=400, error="you cannot disable yourself (ask another admin)")
    try:
        accounts.set_disabled(_svc(request).store.engine, name, disabled, f"web:{sess.user.name}")
    except BanscanError as e:
        return _page(request, sess, status=400, error="; ".join(e.problems))
    return _done(f"user {name} {'disabled' if disabled else 'enabled'}")


@router.post("/admin/tokens")
async def create_token(request: Request, sess: AdminForm) -> Response:
    from banscan.serve.tokens import SCOPES, create_token

    form = await request.form()
    name = _text(form, "name")
    scopes = [s for s in SCOPES if s in form.getlist("scopes")]
    if not scopes:
        return _page(request, sess, status=400, error="scopes: choose at least one")
    try:
        token = create_token(_svc(request).store.engine, name, scopes, f"web:{sess.user.name}")
    except BanscanError as e:
        return _page(request, sess, status=400, error="; ".join(e.problems))
    return _page(request, sess, shown={"what": f"API token '{name}' ({', '.join(scopes)})", "value": token})


@router.post("/admin/tokens/revoke")
async def revoke_token(request: Request, sess: AdminForm) -> Response:
    from banscan.serve.tokens import revoke_token

    form = await request.form()
    tid = _text(form, "id")
    if not revoke_token(_svc(request).store.engine, tid, f"web:{sess.user.name}"):
        return _page(request, sess, status=404, error=f"no active token '{tid}'")
    return _done(f"token {tid} revoked")


@router.post("/admin/enroll-secret")
async def rotate_enroll_secret(request: Request, sess: AdminForm) -> Response:
    from banscan.serve.enroll import rotate

    secret = rotate(_svc(request).store.engine, f"web:{sess.user.name}")
    return _page(request, sess, shown={"what": "osquery enroll secret (the previous one no longer enrolls nodes)",
                                       "value": secret})


@router.post("/admin/groups")
async def save_group(request: Request, sess: AdminForm) -> Response:
    form = await request.form()
    name = _text(form, "name")
    try:
        groups.save_group(_svc(request).store.engine, name, _text(form, "patterns"), _text(form, "members"),
                          f"web:{sess.user.name}")
    except BanscanError as e:
        return _page(request, sess, status=400, error="; ".join(e.problems))
    return _done(f"asset group {name} saved")


@router.post("/admin/groups/delete")
async def delete_group(request: Request, sess: AdminForm) -> Response:
    form = await request.form()
    name = _text(form, "name")
    if not groups.delete_group(_svc(request).store.engine, name, f"web:{sess.user.name}"):
        return _page(request, sess, status=404, error=f"no asset group '{name}'")
    return _done(f"asset group {name} deleted")


# --------------------------------------------------------------------------- the user's own account


@router.get("/account")
def account_page(request: Request, sess: Viewer) -> Response:
    from zoneinfo import available_timezones

    return _render(request, "account.html", sess, zones=sorted(available_timezones()),
                   chosen=sess.user.time_zone or "", done=request.query_params.get("done"))


@router.post("/account/time-zone")
async def set_time_zone(request: Request, sess: ReadForm) -> Response:
    form = await request.form()
    zone = _text(form, "time_zone")
    try:
        accounts.set_time_zone(_svc(request).store.engine, sess.user.name, zone or None)
    except BanscanError as e:
        return _render(request, "error.html", sess, status=400, message="; ".join(e.problems))
    return RedirectResponse("/account?done=time+zone+saved", status_code=303)
