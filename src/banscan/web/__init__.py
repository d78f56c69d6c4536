"""The web dashboard of ``banscan serve``: server-rendered pages for the people who answer for a ban.

``install(app, service)`` (called by :func:`banscan.serve.app.default_extensions`) adds the pages,
the static files (CSS and one small script, shipped in the package; no CDN) and the security
headers (a strict Content-Security-Policy: no inline script or style) to the service's app.
Pages need a local account (``banscan user add``); every form carries its session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from banscan.serve.service import Service

STATIC = Path(__file__).parent / "static"

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def install(app: FastAPI, service: Service) -> None:
    from fastapi.responses import RedirectResponse

    from banscan.web import admin, lawupdate, pages
    from banscan.web.auth import LoginRequired

    app.include_router(pages.router)
    app.include_router(admin.router)
    app.include_router(lawupdate.router)
    app.add_exception_handler(LoginRequired, lambda _request, _exc: RedirectResponse("/login", status_code=303))
    app.mount("/static", StaticFiles(directory=STATIC), name="web-static")

    @app.middleware("http")
    async def _web_headers(request: Request, call_next: Callable[[Request], Any]) -> Any:
        response = await call_next(request)
        if not request.url.path.startswith("/api/"):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("X-Frame-Options", "DENY")
            if not request.url.path.startswith("/static/"):
                response.headers.setdefault("Cache-Control", "no-store")
        return response
