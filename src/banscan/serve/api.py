"""``/api/v1``: upload, read and decide.

Every route needs an API token with the scope it declares (``x-required-scope`` in the OpenAPI
description): ``ingest`` to upload inputs, ``read`` to read, ``decide`` to record decisions,
``admin`` for tokens and evaluations.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from banscan import report as reports
from banscan.errors import BanscanError
from banscan.serve import audit
from banscan.serve.auth import require, scope_doc, service
from banscan.serve.tokens import Principal

router = APIRouter(prefix="/api/v1")

Read = Annotated[Principal, Depends(require("read"))]
Decide = Annotated[Principal, Depends(require("decide"))]
Ingest = Annotated[Principal, Depends(require("ingest"))]
Admin = Annotated[Principal, Depends(require("admin"))]

STATUSES = ("open", "planned", "resolved", "waived", "false-positive")


def _err(e: BanscanError, code: int = 400) -> HTTPException:
    return HTTPException(code, "; ".join(e.problems))


def _not_found(e: BanscanError) -> HTTPException:
    msg = "; ".join(e.problems)
    return HTTPException(404 if msg.startswith("unknown") else 400, msg)


# --------------------------------------------------------------------------- findings


@router.get("/findings", openapi_extra=scope_doc("read"),
            summary="Findings, in the shape of 'banscan findings --format json'")
def list_findings(
    request: Request, response: Response, _p: Read,
    status: Annotated[list[str] | None, Query()] = None,
    asset: str | None = None, family: str | None = None, profile: str | None = None,
    overdue: bool = False, all: bool = False,  # noqa: A002 - the CLI's --all
) -> dict[str, Any]:
    svc = service(request)
    for s in status or []:
        if s not in STATUSES:
            raise HTTPException(400, f"status: unknown status '{s}' (choose from {', '.join(STATUSES)})")
    rows = svc.store.findings(statuses=status, asset=asset, family=family, overdue=overdue, all=all,
                              profile=profile)
    from banscan.serve import inbox

    # how fresh: osquery batches received but not yet applied or evaluated (POST /api/v1/osquery/flush waits)
    pending = inbox.status(svc)
    response.headers["X-Banscan-Pending"] = \
        f"inbox={pending['inbox_pending']}, evaluation={pending['evaluation_pending']}"
    return {"registry": svc.registry.meta(), "findings": rows}


@router.get("/findings/{ident}", openapi_extra=scope_doc("read"), summary="One finding with its history")
def get_finding(request: Request, ident: str, _p: Read) -> dict[str, Any]:
    svc = service(request)
    try:
        row = svc.store.finding(ident)
    except BanscanError as e:
        raise _not_found(e) from None
    return {"finding": row, "events": svc.store.events(key=ident),
            "audit": audit.entries(svc.store.engine, target=ident)}


class Decision(BaseModel):
    status: str = Field(description="planned, waived, false-positive or open")
    owner: str | None = None
    due: dt.date | None = None
    note: str | None = None
    reason: str | None = None
    approver: str | None = None
    expires: dt.date | None = Field(None, description="last day a waiver holds")


@router.post("/findings/{ident}/decision", openapi_extra=scope_doc("decide"),
             summary="Set a finding's status, owner, due date or waiver (audited)")
def decide(request: Request, ident: str, body: Decision, p: Decide) -> dict[str, Any]:
    svc = service(request)
    try:
        row = audit.decide(svc.store_as(p.name), ident, body.status, actor=p.name, reason=body.reason,
                           owner=body.owner, due=body.due, note=body.note,
                           approver=body.approver or (p.name if body.status == "waived" else None),
                           expires=body.expires)
    except BanscanError as e:
        raise _not_found(e) from None
    return {"finding": row}


# --------------------------------------------------------------------------- assets, history, coverage


@router.get("/assets", openapi_extra=scope_doc("read"), summary="Assets, as 'banscan assets --format json'")
def list_assets(request: Request, _p: Read) -> dict[str, Any]:
    return {"assets": service(request).store.assets()}


@router.get("/history", openapi_extra=scope_doc("read"), summary="What changed for an asset, scan by scan")
def history(request: Request, asset: str, _p: Read) -> dict[str, Any]:
    try:
        return dict(service(request).store.history(asset))
    except BanscanError as e:
        raise _not_found(e) from None


@router.get("/coverage", openapi_extra=scope_doc("read"),
            summary="Per asset: the evidence classes seen and when each was last refreshed")
def coverage(request: Request, _p: Read) -> dict[str, Any]:
    svc = service(request)
    store = svc.store
    if hasattr(store, "coverage"):
        from banscan.coverage import public

        return {"as_of": svc.today().isoformat(), **public(store.coverage())}
    today = svc.today()
    out = []
    for a in store.assets():
        ev = {}
        for cls, info in a["evidence"].items():
            age = (today - dt.date.fromisoformat(str(info["at"])[:10])).days if info.get("at") else None
            ev[cls] = {"scan": info["scan"], "at": info["at"], "age_days": age}
        out.append({"asset": a["asset"], "evidence": ev, "open_findings": a["open_findings"]})
    return {"as_of": today.isoformat(), "assets": out}


# --------------------------------------------------------------------------- report, explain


@router.get("/report", openapi_extra=scope_doc("read"),
            summary="The latest stored scans of every asset (or one) in a report format")
def report(request: Request, _p: Read, format: str = "json", asset: str | None = None) -> Response:  # noqa: A002
    svc = service(request)
    allowed = [n for n in reports.names() if n != "table"]
    if format not in allowed:
        raise HTTPException(400, f"format: unknown format '{format}' (choose from {', '.join(allowed)})")
    reporter = reports.by_name(format)
    result = svc.store.latest_result(asset)
    if result is None:
        raise HTTPException(404, "no scan recorded" + (f" for asset '{asset}'" if asset else ""))
    out = io.StringIO()
    try:
        reporter.write(result, svc.registry, out, {"settings": None, "far": svc.config.far})
    except BanscanError as e:
        raise _err(e) from None
    media = reporter.media_type
    if media.startswith("text/") and "charset" not in media:
        media += "; charset=utf-8"
    return Response(out.getvalue(), media_type=media,
                    headers={"Content-Disposition": f'inline; filename="banscan-report{reporter.suffix}"'})


@router.get("/explain/{ident}", openapi_extra=scope_doc("read"),
            summary="Why a finding or detection is flagged: evidence, signature, entity, restriction")
def explain(request: Request, ident: str, _p: Read) -> dict[str, Any]:
    from banscan.cli.policy_cmd import explanation
    from banscan.store.core import Store

    svc = service(request)
    store = svc.store
    asset = None
    target = ident
    try:
        row = store.finding(ident)
    except BanscanError:
        row = None
    if row is not None:
        asset = row["asset"]
    result = store.latest_result(asset)
    if result is None:
        raise HTTPException(404, f"unknown finding or detection '{ident}'")
    if row is not None:  # a lifecycle id: explain the policy finding(s) behind it
        group = Store._group(result).get(ident)
        if group is None or not group.members:
            return {"finding": row, "explanation": None,
                    "note": "no longer seen by the latest scans of its asset"}
        target = group.members[0][0].id
    try:
        x = explanation(target, result, svc.registry)
    except BanscanError as e:
        raise _not_found(e) from None
    return {"finding": row, "explanation": x}


# --------------------------------------------------------------------------- audit


@router.get("/audit", openapi_extra=scope_doc("read"),
            summary="The append-only audit log: who decided what, when, old and new values, why")
def audit_log(request: Request, _p: Read, target: str | None = None, action: str | None = None,
              after: int | None = None, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> dict[str, Any]:
    return {"entries": audit.entries(service(request).store.engine, target=target, action=action, after=after,
                                     limit=limit)}


# --------------------------------------------------------------------------- upload


def _status(result: Any, fail_on: str) -> str:
    from banscan.cli.scan_cmd import exit_code

    return {0: "clean", 1: "findings", 2: "input-error"}[exit_code(result, fail_on)]


@router.post("/inputs", openapi_extra=scope_doc("ingest") | {
    "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                                "multipart/form-data": {"schema": {"type": "object", "properties": {
                                    "file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}},
                    "description": "An input in any format 'banscan sources' lists: the raw body, or files "
                                   "in a multipart form"}},
    summary="Scan an uploaded inventory exactly as 'banscan scan' would; the report plus status")
async def upload(request: Request, p: Ingest, asset: str | None = None, name: str | None = None,
                 input_format: str | None = None, fail_on: str | None = None) -> JSONResponse:
    from banscan.model import Requirement
    from banscan.sources import names as source_names

    svc = service(request)
    if input_format and input_format not in source_names():
        raise HTTPException(400, f"input_format: unknown format '{input_format}' (see 'banscan sources')")
    level = fail_on or svc.config.fail_on
    try:
        Requirement(level)
    except ValueError:
        raise HTTPException(400, f"fail_on: unknown level '{level}'") from None
    streams: list[tuple[str, Any]] = []
    ctype = request.headers.get("content-type", "")
    try:
        if ctype.startswith("multipart/form-data"):
            form = await request.form(max_files=100, max_fields=100)
            for key, value in form.multi_items():
                if not isinstance(value, str):
                    streams.append((f"upload:{value.filename or key}", value.file))
            if not streams:
                raise HTTPException(400, "the form holds no file")
        else:
            spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
            async for chunk in request.stream():
                spool.write(chunk)
            spool.seek(0)
            streams.append((f"upload:{name or asset or 'input'}", spool))
        result = await run_in_threadpool(svc.scan_streams, streams, asset, input_format)
    finally:
        for _, s in streams:
            s.close()

    def _record() -> int:
        return int(svc.store_as(p.name).record(result, svc.registry))

    scan_id = await run_in_threadpool(_record)
    body = result.to_dict()
    body["scan_id"] = scan_id
    body["status"] = _status(result, level)
    return JSONResponse(body)


# --------------------------------------------------------------------------- admin


class TokenRequest(BaseModel):
    name: str
    scopes: list[str]


@router.post("/tokens", openapi_extra=scope_doc("admin"), summary="Create an API token (shown once)")
def create_token(request: Request, body: TokenRequest, p: Admin) -> dict[str, Any]:
    from banscan.serve.tokens import create_token as create
    from banscan.serve.tokens import parse_scopes

    try:
        scopes = parse_scopes(",".join(body.scopes))
        token = create(service(request).store.engine, body.name, scopes, created_by=p.name)
    except BanscanError as e:
        raise _err(e) from None
    return {"name": body.name, "scopes": scopes, "token": token}


@router.get("/tokens", openapi_extra=scope_doc("admin"), summary="API tokens (never their secrets)")
def tokens(request: Request, _p: Admin) -> dict[str, Any]:
    from banscan.serve.tokens import list_tokens

    return {"tokens": list_tokens(service(request).store.engine)}


@router.delete("/tokens/{tid}", openapi_extra=scope_doc("admin"), summary="Revoke an API token")
def revoke(request: Request, tid: str, p: Admin) -> dict[str, Any]:
    from banscan.serve.tokens import revoke_token

    if not revoke_token(service(request).store.engine, tid, p.name):
        raise HTTPException(404, f"no active token '{tid}'")
    return {"revoked": tid}


@router.post("/registry/update", openapi_extra=scope_doc("admin") | {
    "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                    "description": "A registry bundle (.tar.gz or .zip), as for 'banscan registry update'"}},
    summary="Install a registry bundle (its SHA-256 must match), re-evaluate the estate, audit what changed")
async def registry_update(request: Request, p: Admin, sha256: Annotated[str, Query(pattern="^[0-9a-fA-F]{64}$")],
                          name: str = "bundle.tar.gz") -> dict[str, Any]:
    import os
    from pathlib import Path

    from banscan.registry import load
    from banscan.serve.registry_update import apply_registry
    from banscan.store.bundle import install_bundle

    svc = service(request)
    suffix = ".zip" if name.endswith(".zip") else ".tar.gz"
    fd, tmp = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            async for chunk in request.stream():
                f.write(chunk)

        def _install() -> dict[str, Any]:
            inst = install_bundle(Path(tmp), None, sha256.lower())
            new = load(svc.config.registry, data_dir=inst.path)
            info = {"version": inst.version, "sha256": inst.sha256, "bundle_sha256": inst.bundle_sha256,
                    "previous": inst.previous, "notes": list(inst.notes)}
            return apply_registry(svc, new, p.name, installed=info)

        try:
            return await run_in_threadpool(_install)
        except BanscanError as e:
            raise _err(e) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


@router.post("/evaluate", openapi_extra=scope_doc("admin"),
             summary="Run the continuous evaluation now (waivers, deadlines passed)")
def evaluate_now(request: Request, p: Admin) -> dict[str, Any]:
    from banscan.serve.evaluation import evaluate

    return evaluate(service(request), actor=p.name)


# --------------------------------------------------------------------------- osquery nodes


@router.get("/nodes", openapi_extra=scope_doc("read"), summary="Enrolled osquery nodes and their last check-in")
def nodes(request: Request, _p: Read) -> dict[str, Any]:
    from sqlalchemy import select

    from banscan.store import db
    from banscan.store.service_tables import osquery_nodes as t

    svc = service(request)
    with db.reading(svc.store.engine) as conn:
        rows = conn.execute(select(t.c.id, t.c.asset, t.c.platform, t.c.enrolled_at, t.c.last_seen_at, t.c.dirty,
                                   t.c.scan_requested).order_by(t.c.asset)).all()
    return {"nodes": [{"id": r.id, "asset": r.asset, "platform": r.platform, "enrolled_at": r.enrolled_at,
                       "last_seen_at": r.last_seen_at, "evaluation_pending": bool(r.dirty),
                       "scan_requested": bool(r.scan_requested)} for r in rows]}


@router.post("/nodes/{asset}/scan", openapi_extra=scope_doc("decide"),
             summary="Scan now: the node runs every inventory query at its next distributed read")
def scan_now(request: Request, asset: str, p: Decide) -> dict[str, Any]:
    from sqlalchemy import update

    from banscan.store import db
    from banscan.store.service_tables import osquery_nodes as t

    svc = service(request)

    def _tx(conn: Any) -> int:
        n = conn.execute(update(t).where(t.c.asset == asset).values(scan_requested=1)).rowcount or 0
        if n:
            audit.append(conn, actor=p.name, action="scan-requested", target=f"asset:{asset}")
        return int(n)

    if not db.write(svc.store.engine, _tx):
        raise HTTPException(404, f"no enrolled osquery node for asset '{asset}'")
    from banscan.serve.osquery import nodes_of

    nodes_of(svc).scan_requested = None  # reload the requests from the database at the next read
    return {"asset": asset, "scan_requested": True}


@router.get("/osquery/status", openapi_extra=scope_doc("read"),
            summary="How fresh the osquery evidence is: batches received but not applied yet, nodes "
                    "waiting for evaluation")
def osquery_status(request: Request, _p: Read) -> dict[str, Any]:
    from banscan.serve import inbox

    return inbox.status(service(request))


@router.post("/osquery/flush", openapi_extra=scope_doc("read"),
             summary="Wait until every osquery batch received so far is applied and evaluated "
                     "(at most 'timeout' seconds); 'complete' tells whether it was")
async def osquery_flush(request: Request, _p: Read,
                        timeout: Annotated[float, Query(ge=0, le=300)] = 30.0) -> dict[str, Any]:
    from banscan.serve import inbox

    return await inbox.flush(service(request), timeout)
