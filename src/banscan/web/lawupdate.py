"""/law: what a registry update would change before it is applied.

An admin uploads a registry bundle (or names one on the server's disk); the service verifies it
(its SHA-256 when given, its manifest and data) and runs the dry run of ``banscan registry update
--dry-run`` on the stored evidence: per asset, the new and dropped detections and the findings
gained, lost or changed.  Nothing is installed or recorded.  The verified bundle is kept, by its
SHA-256, in a private staging directory until an admin applies it: then it is installed, the estate
is re-evaluated and the audit log records the update (as ``POST /api/v1/registry/update`` does).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from banscan.errors import BanscanError
from banscan.web.auth import AdminForm
from banscan.web.pages import _render, _svc

router = APIRouter(include_in_schema=False)

MAX_BUNDLE = 64 << 20


def _staging(request: Request) -> Path:
    state = request.app.state
    d = getattr(state, "web_bundle_staging", None)
    if d is None or not Path(d).is_dir():
        d = state.web_bundle_staging = tempfile.mkdtemp(prefix="banscan-web-bundles-")
    return Path(d)


def _staged(request: Request, digest: str) -> Path | None:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None
    for suffix in (".tar.gz", ".zip"):
        p = _staging(request) / f"{digest}{suffix}"
        if p.is_file():
            return p
    return None


def _summary(impact: dict[str, Any]) -> dict[str, int]:
    assets = impact["assets"]
    return {"new_detections": sum(len(a["new_detections"]) for a in assets),
            "dropped_detections": sum(len(a["dropped_detections"]) for a in assets),
            "gained": sum(len(a["gained"]) for a in assets), "lost": sum(len(a["lost"]) for a in assets),
            "changed": sum(len(a["changed"]) for a in assets),
            "assets_affected": sum(1 for a in assets if a["gained"] or a["lost"] or a["changed"]
                                   or a["new_detections"] or a["dropped_detections"]),
            "evaluated_assets": int(impact["evaluated_assets"])}


def _page(request: Request, sess: Any, status: int = 200, **ctx: Any) -> Response:
    return _render(request, "law_update.html", sess, status=status, active=_svc(request).registry.meta(), **ctx)


@router.post("/law/preview")
async def preview(request: Request, sess: AdminForm) -> Response:
    from banscan.registry import load
    from banscan.store.bundle import preview_bundle
    from banscan.store.reeval import reevaluate

    svc = _svc(request)
    form = await request.form()
    upload, where = form.get("bundle"), form.get("path")
    expected = form.get("sha256")
    expected = expected.strip().lower() if isinstance(expected, str) and expected.strip() else None
    staging = _staging(request)
    fd, tmp_name = tempfile.mkstemp(dir=staging, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            if upload is not None and not isinstance(upload, str) and upload.filename:
                name = upload.filename
                size = 0
                while chunk := await upload.read(1 << 20):
                    size += len(chunk)
                    if size > MAX_BUNDLE:
                        return _page(request, sess, status=413, error="the bundle is larger than 64 MiB")
                    f.write(chunk)
            elif isinstance(where, str) and where.strip():
                src = Path(where.strip())
                name = src.name
                if not src.is_file():
                    return _page(request, sess, status=400, error=f"{where.strip()}: no such file on the server")
                if src.stat().st_size > MAX_BUNDLE:
                    return _page(request, sess, status=413, error="the bundle is larger than 64 MiB")
                with src.open("rb") as s:
                    shutil.copyfileobj(s, f)
            else:
                return _page(request, sess, status=400, error="choose a bundle file or give its path on the server")
        suffix = ".zip" if name.lower().endswith(".zip") else ".tar.gz"
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        staged = staging / f"{digest}{suffix}"
        os.replace(tmp, staged)

        def _dry_run() -> dict[str, Any]:
            with preview_bundle(staged, None, expected) as (_reg, inst):
                new = load(svc.config.registry, data_dir=inst.path)
                impact = reevaluate(svc.store, new, svc.store.today(), baseline_registry=svc.registry, record=False)
                return {"bundle": {"version": inst.version, "sha256": inst.sha256, "bundle_sha256": digest,
                                   "notes": list(inst.notes), "name": name}, "impact": impact.to_dict()}

        try:
            out = await run_in_threadpool(_dry_run)
        except BanscanError as e:
            staged.unlink(missing_ok=True)
            return _page(request, sess, status=400, error="; ".join(e.problems))
    finally:
        tmp.unlink(missing_ok=True)
    return _page(request, sess, preview=out, summary=_summary(out["impact"]),
                 changed=[a for a in out["impact"]["assets"] if a["gained"] or a["lost"] or a["changed"]
                          or a["new_detections"] or a["dropped_detections"]])


@router.post("/law/apply")
async def apply(request: Request, sess: AdminForm) -> Response:
    from banscan.registry import load
    from banscan.serve.registry_update import apply_registry
    from banscan.store.bundle import install_bundle

    svc = _svc(request)
    form = await request.form()
    digest = form.get("bundle_sha256")
    staged = _staged(request, digest.strip().lower()) if isinstance(digest, str) else None
    if staged is None:
        return _page(request, sess, status=404, error="no previewed bundle with that SHA-256: preview it again")

    def _install() -> dict[str, Any]:
        inst = install_bundle(staged, None, staged.name[:64])
        new = load(svc.config.registry, data_dir=inst.path)
        info = {"version": inst.version, "sha256": inst.sha256, "bundle_sha256": inst.bundle_sha256,
                "previous": inst.previous, "notes": list(inst.notes)}
        return apply_registry(svc, new, f"web:{sess.user.name}", installed=info)

    try:
        out = await run_in_threadpool(_install)
    except BanscanError as e:
        return _page(request, sess, status=400, error="; ".join(e.problems))
    finally:
        staged.unlink(missing_ok=True)
    return _page(request, sess, applied=out, summary=_summary(out["impact"]))
