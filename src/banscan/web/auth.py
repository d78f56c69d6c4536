"""Who is asking: one FastAPI dependency per role for pages and for forms.

Every page route takes ``Viewer``, ``Decider`` or ``Admin`` (roles are ordered viewer < decider <
admin): without a session the browser is sent to ``/login``; with a role below the route's, 403.
Every form route takes ``ReadForm``, ``DecideForm`` or ``AdminForm``: without a session 403, then
the POSTed ``csrf_token`` must be the session's (403 otherwise), then the role is checked.

Single sign-on: with ``ServeConfig.sso_header`` set (``banscan serve --sso-header X-Remote-User
--trusted-proxy 127.0.0.1/32``), a request whose TCP peer is one of the trusted proxy addresses
and that carries the header is the named user (created as a viewer on first sight; a disabled
user is refused).  The header from any other peer is ignored.  Such a user's CSRF token is an HMAC
of the user name under a key drawn when the service starts (no cookie is needed).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from banscan.web import accounts
from banscan.web.accounts import Session

COOKIE = "banscan_session"


class LoginRequired(Exception):
    """Raised by page dependencies without a session; answered with a redirect to /login."""


def _svc(request: Request) -> Any:
    return request.app.state.service


def _trusted(request: Request) -> bool:
    cfg = _svc(request).config
    proxies = getattr(cfg, "trusted_proxies", None) or []
    peer = request.client.host if request.client else None
    if not peer or not proxies:
        return False
    try:
        addr = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(p, strict=False) for p in proxies)


def _sso_key(request: Request) -> bytes:
    state = request.app.state
    key = getattr(state, "web_sso_key", None)
    if key is None:
        key = state.web_sso_key = secrets.token_bytes(32)
    return key  # type: ignore[no-any-return]


def sso_session(request: Request) -> Session | None:
    """The session of the user named by the trusted proxy's header, or None."""
    header = getattr(_svc(request).config, "sso_header", None)
    if not header:
        return None
    name = request.headers.get(header)
    if name is None or not _trusted(request):
        return None
    name = name.strip()
    if not name:
        return None
    try:
        user = accounts.sso_user(_svc(request).store.engine, name)
    except accounts.ConfigError:
        return None
    if user is None:
        return None
    csrf = hmac.new(_sso_key(request), f"sso:{user.name}".encode(), hashlib.sha256).hexdigest()
    return Session(user, csrf, "")


def current(request: Request) -> Session | None:
    """The request's session: the trusted proxy's user, else the session cookie's."""
    if hasattr(request.state, "web_session"):
        cached: Session | None = request.state.web_session
        return cached
    sess = sso_session(request) or accounts.session(_svc(request).store.engine, request.cookies.get(COOKIE))
    if sess is not None:
        accounts.touch_visit(_svc(request).store.engine, sess.user.name)
    request.state.web_session = sess
    return sess


def page(action: str) -> Callable[[Request], Session]:
    def dep(request: Request) -> Session:
        sess = current(request)
        if sess is None:
            raise LoginRequired()
        if not sess.user.can(action):
            raise HTTPException(403, f"the role '{sess.user.role}' cannot {action}")
        return sess

    return dep


def form(action: str) -> Callable[[Request], Awaitable[Session]]:
    async def dep(request: Request) -> Session:
        sess = current(request)
        if sess is None:
            raise HTTPException(403, "log in first")
        data = await request.form()  # Starlette keeps it: the route reads the same form
        token = data.get("csrf_token")
        if not isinstance(token, str) or not secrets.compare_digest(token, sess.csrf):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
        if not sess.user.can(action):
            raise HTTPException(403, f"the role '{sess.user.role}' cannot {action}")
        return sess

    return dep


Viewer = Annotated[Session, Depends(page("read"))]
Decider = Annotated[Session, Depends(page("decide"))]
Admin = Annotated[Session, Depends(page("admin"))]
ReadForm = Annotated[Session, Depends(form("read"))]
DecideForm = Annotated[Session, Depends(form("decide"))]
AdminForm = Annotated[Session, Depends(form("admin"))]
