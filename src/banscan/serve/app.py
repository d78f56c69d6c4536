"""The ASGI application: ``create_app`` builds it from a :class:`ServeConfig`.

Other parts of banscan (the web dashboard) add themselves through ``routers``, ``mounts`` and
``extensions`` (callables receiving the app and the :class:`Service`); everything shares one
store, registry and scanner.  The OpenAPI description is at ``/api/openapi.json`` (read scope).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banscan import __version__
from banscan.registry import Registry
from banscan.serve.auth import bearer
from banscan.serve.limits import BodyLimit
from banscan.serve.service import ServeConfig, Service
from banscan.store.core import Store

log = logging.getLogger("banscan.serve")

Extension = Callable[[FastAPI, Service], None]


async def _periodic(svc: Service) -> None:
    from banscan.serve.evaluation import evaluate

    every = svc.config.evaluate_every
    if svc.config.evaluate_at_startup:
        try:  # the registry was loaded a moment ago: no need to check it for changes
            await asyncio.to_thread(evaluate, svc, check_registry=False)
        except Exception:  # noqa: BLE001 - keep serving; the next round retries
            log.exception("evaluation at startup failed")
    while every > 0:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(evaluate, svc)
        except Exception:  # noqa: BLE001
            log.exception("periodic evaluation failed")


async def _after(delay: float, work: Coroutine[Any, Any, None]) -> None:
    """``work``, begun ``delay`` seconds from now."""
    try:
        if delay > 0:
            await asyncio.sleep(delay)
    except BaseException:
        work.close()
        raise
    await work


async def _warm_routes(app: ASGIApp) -> None:
    """Send the app a request for a path no route has, once through the osquery nodes' middleware
    stack and once through the full one: FastAPI builds each included router's routes (their
    parameter models) at the first request that looks for a route, which would otherwise hold up
    the first requests of a (re)start."""
    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: Message) -> None:
        return None

    for path in (NODE_PATHS + "~", "/~"):
        scope: Scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
                        "query_string": b"", "headers": [], "client": ("127.0.0.1", 0),
                        "server": ("127.0.0.1", 0), "state": {}}
        try:
            await app(scope, receive, send)
        except Exception:  # noqa: BLE001 - only a warm-up: the real requests build what is left
            log.exception("warming up the routes failed")


def create_app(config: ServeConfig, *, store: Store | None = None, registry: Registry | None = None,
               routers: Sequence[APIRouter] = (), mounts: Sequence[tuple[str, ASGIApp]] = (),
               extensions: Sequence[Extension] = ()) -> FastAPI:
    from banscan.registry import load
    from banscan.store import open_store

    if registry is None:
        registry = load(config.registry)
    for p in config.profiles:
        registry.profile(p)  # unknown profile: ProfileError now, not at the first scan
    own_store = store is None
    st = store if store is not None else open_store(config.db, actor="banscan-serve")
    svc = Service(config, st, registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from banscan.serve import inbox, osquery, worker

        # before the port is bound: the first requests after a (re)start find the nodes in memory
        # and the routes built, instead of queueing behind that work
        try:
            await asyncio.to_thread(osquery.nodes_of(svc).preload, svc)
        except Exception:  # noqa: BLE001 - the nodes are then looked up one by one
            log.exception("could not load the osquery nodes")
        await _warm_routes(app)
        delay = svc.config.background_delay
        tasks = [asyncio.create_task(_after(delay, _periodic(svc)))]

        if osquery._mode(svc) == "process":  # batches applied and nodes evaluated in a worker process
            tasks.append(asyncio.create_task(_after(delay, worker.supervise(svc))))
            tasks.append(asyncio.create_task(osquery.checkins(svc)))
        else:
            tasks.append(asyncio.create_task(_after(delay, osquery.evaluator(svc))))
            tasks.append(asyncio.create_task(_after(delay, inbox.worker(svc))))
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            await asyncio.to_thread(inbox.inbox_of(svc).stop)
            await asyncio.to_thread(osquery.drain, svc)
            if own_store:
                st.close()

    app = _App(title="banscan", version=__version__, lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None,
                  description="Findings of restricted vendors' products across an estate: osquery fleets and "
                              "uploads report in; findings, decisions and the audit log are read and set here. "
                              "Every route needs an API token (Authorization: Bearer TOKEN) with the scope it "
                              "names in x-required-scope; osquery nodes use their node key.")
    app.state.service = svc

    from banscan.serve import api, osquery

    app.include_router(api.router)
    app.include_router(osquery.router)
    app.node_endpoints = dict(osquery.NODE_ENDPOINTS)

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(_p: Any = Depends(bearer)) -> JSONResponse:
        schema = app.openapi()
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
            "type": "http", "scheme": "bearer"}
        return JSONResponse(schema)

    app.add_middleware(ApiHeaders)

    for r in routers:
        app.include_router(r)
    for path, sub in mounts:
        app.mount(path, sub)
    for ext in extensions:
        ext(app, svc)
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    return app


# the osquery node endpoints: thousands of nodes call them; they skip the middlewares that
# extensions add for their own pages (which leave /api/ responses alone anyway)
NODE_PATHS = "/api/osquery/"


class _App(FastAPI):
    """FastAPI with a lean middleware stack for osquery's node endpoints: the service's own
    middlewares (body limit, security headers) and FastAPI's, without the extensions' (e.g. the
    web dashboard's decorator-style HTTP middleware, which costs a task and streams per request).

    The node endpoints themselves (``POST`` to a path of ``node_endpoints``) are called directly,
    behind the service's own middlewares: thousands of nodes call them, and FastAPI's routing and
    dependency machinery would cost more than the endpoints' own work.  They stay FastAPI routes
    too (the OpenAPI description; any other method on their paths is answered by FastAPI)."""

    node_endpoints: dict[str, Callable[[Request], Awaitable[Any]]] = {}

    def build_middleware_stack(self) -> ASGIApp:
        full = super().build_middleware_stack()
        saved = self.user_middleware
        kept = [m for m in saved if m.cls in (BodyLimit, ApiHeaders)]
        self.user_middleware = kept
        try:
            lean = super().build_middleware_stack()
        finally:
            self.user_middleware = saved
        direct: ASGIApp = _NodeEndpoints(self.node_endpoints)
        for m in reversed(kept):  # the same order as in the stacks above
            direct = m.cls(direct, *m.args, **m.kwargs)  # type: ignore[call-arg]
        direct = ServerErrorMiddleware(direct)
        endpoints = self.node_endpoints

        async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and str(scope.get("path", "")).startswith(NODE_PATHS):
                if scope.get("method") == "POST" and scope["path"] in endpoints:
                    await direct(scope, receive, send)
                else:
                    await lean(scope, receive, send)
            else:
                await full(scope, receive, send)

        return dispatch


class _NodeEndpoints:
    """Calls ``endpoints[path](request)`` and answers its result as JSON; an ``HTTPException``
    is answered as FastAPI answers it (``{"detail": …}``, its status and headers)."""

    def __init__(self, endpoints: dict[str, Callable[[Request], Awaitable[Any]]]) -> None:
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        response: Response
        try:
            response = JSONResponse(await self.endpoints[scope["path"]](request))
        except HTTPException as e:
            response = JSONResponse({"detail": e.detail}, status_code=e.status_code, headers=e.headers)
        await response(scope, receive, send)


_API_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"),
                (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"))


class ApiHeaders:
    """Security headers on every /api/ response (unless the route set them), as plain ASGI
    middleware: no per-request task or stream as a decorator-style HTTP middleware would add."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _API_HEADERS if k not in have]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, _send)


def default_extensions() -> list[Extension]:
    """The web dashboard, when installed: ``banscan.web.install(app, service)``."""
    try:
        import banscan.web as web  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError as e:
        if e.name not in ("banscan.web",):
            raise
        return []
    install = getattr(web, "install", None)
    return [install] if callable(install) else []


def api_routes(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    """Every HTTP route of ``app`` as (method, path, openapi_extra), including routers it includes
    (for tests and documentation: each route must declare the scope it needs)."""
    from fastapi.routing import APIRoute

    out: list[tuple[str, str, dict[str, Any]]] = []

    def walk(routes: Any, prefix: str) -> None:
        for r in routes:
            inner = getattr(r, "original_router", None)
            if inner is not None:  # FastAPI >= 0.120 keeps included routers as branches
                ctx = getattr(r, "include_context", None)
                walk(inner.routes, prefix + (getattr(ctx, "prefix", "") or ""))
            elif isinstance(r, APIRoute):
                for m in sorted(r.methods or ()):
                    out.append((m, prefix + r.path, dict(r.openapi_extra or {})))

    walk(app.routes, "")
    return out
