"""The administration page: users and roles (add, change role, disable), API tokens (created and
shown once, revoked), the osquery enroll secret (rotated, shown once), asset groups, enrolled nodes
and their last check-in, the recent audit log.  Admins only; every form checks its CSRF token;
every change is audited (by the functions it calls)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.engine import Engine
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


class _Refused(Exception):
    """An admin form's change refused before it is tried: the page again with the reason."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def _submit(request: Request, sess: Session,
                  change: Callable[[FormData, Engine, str], Response]) -> Response:
    """Read the form and make its change (``change(form, engine, actor)``, which returns the
    response); a refusal or a :class:`BanscanError` shows the page again with the reason (400, or
    the refusal's status)."""
    form = await request.form()
    try:
        return change(form, _svc(request).store.engine, f"web:{sess.user.name}")
    except _Refused as e:
        return _page(request, sess, status=e.status, error=str(e))
    except BanscanError as e:
        return _page(request, sess, status=400, error="; ".join(e.problems))


@router.post("/admin/users")
async def add_user(request: Request, sess: AdminForm) -> Response:
    def change(form: FormData, engine: Engine, actor: str) -> Response:
        name, role = _text(form, "name"), _text(form, "role")
        pw = form.get("password")
        accounts.create_user(engine, name, role, pw if isinstance(pw, str) else "", actor)
        return _done(f"user {name} added as {role}")

    return await _submit(request, sess, change)


@router.post("/admin/users/role")
async def change_role(request: Request, sess: AdminForm) -> Response:
    def change(form: FormData, engine: Engine, actor: str) -> Response:
        name, role = _text(form, "name"), _text(form, "role")
        if name == sess.user.name and role != "admin":
            raise _Refused("you cannot lower your own role (ask another admin)")
        accounts.set_role(engine, name, role, actor)
        return _done(f"user {name} is now {role}")

    return await _submit(request, sess, change)


@router.post("/admin/users/disabled")
async def disable_user(request: Request, sess: AdminForm) -> Response:
    def change(form: FormData, engine: Engine, actor: str) -> Response:
        name, disabled = _text(form, "name"), _text(form, "disabled") == "yes"
        if name == sess.user.name and disabled:
            raise _Refused("you cannot disable yourself (ask another admin)")
        accounts.set_disabled(engine, name, disabled, actor)
        return _done(f"user {name} {'disabled' if disabled else 'enabled'}")

    return await _submit(request, sess, change)


@router.post("/admin/tokens")
async def create_token(request: Request, sess: AdminForm) -> Response:
    from banscan.serve.tokens import SCOPES, create_token

    def change(form: FormData, engine: Engine, actor: str) -> Response:
        name = _text(form, "name")
        scopes = [s for s in SCOPES if s in form.getlist("scopes")]
        if not scopes:
            raise _Refused("scopes: choose at least one")
        token = create_token(engine, name, scopes, actor)
        return _page(request, sess, shown={"what": f"API token '{name}' ({', '.join(scopes)})", "value": token})

    return await _submit(request, sess, change)


@router.post("/admin/tokens/revoke")
async def revoke_token(request: Request, sess: AdminForm) -> Response:
    from banscan.serve.tokens import revoke_token

    def change(form: FormData, engine: Engine, actor: str) -> Response:
        tid = _text(form, "id")
        if not revoke_token(engine, tid, actor):
            raise _Refused(f"no active token '{tid}'", 404)
        return _done(f"token {tid} revoked")

    return await _submit(request, sess, change)


@router.post("/admin/enroll-secret")
async def rotate_enroll_secret(request: Request, sess: AdminForm) -> Response:
    from banscan.serve.enroll import rotate

    secret = rotate(_svc(request).store.engine, f"web:{sess.user.name}")
    return _page(request, sess, shown={"what": "osquery enroll secret (the previous one no longer enrolls nodes)",
                                       "value": secret})


@router.post("/admin/groups")
async def save_group(request: Request, sess: AdminForm) -> Response:
    def change(form: FormData, engine: Engine, actor: str) -> Response:
        name = _text(form, "name")
        groups.save_group(engine, name, _text(form, "patterns"), _text(form, "members"), actor)
        return _done(f"asset group {name} saved")

    return await _submit(request, sess, change)


@router.post("/admin/groups/delete")
async def delete_group(request: Request, sess: AdminForm) -> Response:
    def change(form: FormData, engine: Engine, actor: str) -> Response:
        name = _text(form, "name")
        if not groups.delete_group(engine, name, actor):
            raise _Refused(f"no asset group '{name}'", 404)
        return _done(f"asset group {name} deleted")

    return await _submit(request, sess, change)


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
