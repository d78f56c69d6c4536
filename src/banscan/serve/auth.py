"""Bearer-token authentication with scopes, as FastAPI dependencies.

``require(scope)`` refuses a request without a valid ``Authorization: Bearer TOKEN`` (401), over
its token's rate limit (429) or whose token lacks ``scope`` (403; ``admin`` holds every scope).
Each route declares its scope in the OpenAPI description as ``x-required-scope``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request

from banscan.serve.tokens import SCOPES, Principal

_DEPS: dict[str, Callable[[Request], Principal]] = {}


def service(request: Request) -> Any:
    return request.app.state.service


def bearer(request: Request) -> Principal:
    svc = service(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    principal = svc.verifier.verify(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if principal is None:
        raise HTTPException(401, "a valid API token is required (Authorization: Bearer TOKEN)",
                            headers={"WWW-Authenticate": "Bearer"})
    wait = svc.token_limiter.allow(f"token:{principal.token_id}")
    if wait:
        raise HTTPException(429, "rate limit exceeded for this token", headers={"Retry-After": str(int(wait) + 1)})
    return principal


def require(scope: str) -> Callable[[Request], Principal]:
    """The dependency checking ``scope`` (one object per scope, so FastAPI runs it once per request)."""
    if scope not in SCOPES:
        raise ValueError(scope)
    dep = _DEPS.get(scope)
    if dep is None:
        def dep(request: Request) -> Principal:
            p = bearer(request)
            if not p.has(scope):
                raise HTTPException(403, f"this token lacks the '{scope}' scope")
            return p

        dep.__name__ = f"require_{scope}"
        _DEPS[scope] = dep
    return dep


def scope_doc(scope: str) -> dict[str, Any]:
    """``openapi_extra`` for a route needing ``scope``."""
    return {"x-required-scope": scope, "security": [{"bearer": []}]}
