"""Signed attestations: "as of DATE, under PROFILE and registry VERSION, these assets were scanned
and no finding at or above *remove* is open" (or: exactly these are).  The statement carries the
coverage (``coverage``: per asset the evidence classes and their last-seen days, and the ``gaps``
an absence claim cannot cover, see :mod:`banscan.coverage`); banscan refuses to write it while
there are gaps unless they are accepted and listed.

File format (one line of canonical JSON, then a newline)::

    {"signature":{"algorithm":"Ed25519","key_id":"sha256:<hex>","public_key":"<base64 raw key>",
                  "value":"<base64 signature>"},
     "statement":{...}}

Canonical JSON is ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``.
The signature covers the canonical bytes of ``statement``; a verifier also checks that the whole
file is the canonical serialisation of the envelope, so no byte of the file (whitespace
included) can change without the check failing.  ``key_id`` is the SHA-256 of the raw public
key.  The embedded key only proves integrity: check it against a trusted copy (``--key``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from banscan import __version__
from banscan.errors import BanscanError
from banscan.model import Requirement

STATEMENT_TYPE = "https://banscan.dev/attestation/v1"
THRESHOLD = Requirement.REMOVE
_ACTIVE = ("open", "planned")


class AttestRefused(BanscanError):
    """The estate cannot be attested as asked (exit 1)."""

    exit_code = 1


# --------------------------------------------------------------------------- keys


def keygen(out: Path, force: bool = False) -> tuple[Path, Path, str]:
    """Write an Ed25519 private key (PEM, mode 0600) to ``out`` and its public key to ``out.pub``."""
    pub_path = Path(str(out) + ".pub")
    if not force:
        for p in (out, pub_path):
            if p.exists():
                raise BanscanError(f"{p}: already exists (use --force to overwrite)")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    out.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if force else os.O_EXCL)
    fd = os.open(out, flags, 0o600)
    try:
        os.write(fd, pem)
    finally:
        os.close(fd)
    os.chmod(out, 0o600)
    pub = key.public_key()
    pub_path.write_bytes(pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return out, pub_path, key_id(pub)


def _raw(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(pub: Ed25519PublicKey) -> str:
    return "sha256:" + hashlib.sha256(_raw(pub)).hexdigest()


def load_private_key(path: Path) -> Ed25519PrivateKey:
    from banscan.safeio import read_limited

    data = read_limited(path, 1 << 20, "key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise BanscanError(f"{path}: not an unencrypted PEM private key: {e}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BanscanError(f"{path}: not an Ed25519 key (make one with 'banscan keygen')")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A PEM public key, a PEM private key (its public half) or a base64 raw 32-byte key."""
    from banscan.safeio import read_limited

    data = read_limited(path, 1 << 20, "key")
    key: Any = None
    try:
        if b"PRIVATE KEY" in data:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        elif b"-----BEGIN" in data:
            key = serialization.load_pem_public_key(data)
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(data.strip(), validate=True))
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise BanscanError(f"{path}: not an Ed25519 public key")
    return key


# --------------------------------------------------------------------------- statement


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def _finding_entry(f: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "status", "asset", "family", "product", "restriction", "requirement", "deadline",
            "citation", "first_seen", "last_seen", "last_scan", "owner", "due")
    return {k: f.get(k) for k in keys}


def build_statement(store: Any, registry: Any, profile: str, as_of: dt.date | None = None,
                    include_open: bool = False, *, max_age: int | None = None,
                    accept_gaps: bool = False) -> dict[str, Any]:
    """The statement for ``profile`` on ``as_of`` (default: today) from the store's history.

    The estate is stated as it stood at the end of ``as_of``: the scans recorded by then, each
    finding's status then (:meth:`~banscan.store.core.Store.findings_as_of`).  Refuses (exit 1) a
    clean claim while findings at or above the threshold are open, and any statement while the
    coverage has gaps (:func:`banscan.coverage.gaps`: an asset with no software inventory, or one
    older than ``max_age`` days), unless ``accept_gaps``: then the gaps are listed in the
    statement under ``coverage.gaps`` and the claim says so.
    """
    return _statement(store, registry, profile, as_of, include_open, max_age, accept_gaps, first=None)


def preview(store: Any, registry: Any, profile: str, as_of: dt.date | None = None, *,
            max_age: int | None = None, first: int = 20) -> dict[str, Any]:
    """What :func:`build_statement` with ``include_open`` and ``accept_gaps`` would state, for a
    reader to look at before signing: the same ``threshold``, ``clean``, ``claim``, ``summary`` and
    ``coverage`` (its ``gaps`` in full), but ``open_findings`` holds only the first ``first`` open
    findings (``summary.open`` counts them all), and the per-asset ``assets``, ``coverage.assets``
    and ``waived_findings`` lists are left out (``summary.assets`` and ``summary.waived`` count
    them).  The same code computes both, without building an entry per finding and asset here."""
    return _statement(store, registry, profile, as_of, True, max_age, True, first=max(first, 0))


def _statement(store: Any, registry: Any, profile: str, as_of: dt.date | None, include_open: bool,
               max_age: int | None, accept_gaps: bool, *, first: int | None) -> dict[str, Any]:
    """:func:`build_statement` (``first`` None) or :func:`preview` (the first ``first`` open findings)."""
    from banscan import coverage as cov

    prof = registry.profile(profile)
    as_of = as_of or store.today()
    max_age = cov.DEFAULT_MAX_AGE if max_age is None else max_age
    if max_age < 0:
        raise BanscanError(f"--max-age: {max_age} is not a number of days (0 or more)")
    coverage = store.coverage(as_of=as_of, with_inputs=first is None)
    if not coverage:
        raise AttestRefused("nothing to attest: no scans are recorded in this database"
                            + (f" by {as_of.isoformat()}" if as_of < store.today() else ""))
    gaps = cov.gaps(coverage, as_of, max_age)
    if gaps and not accept_gaps:
        raise AttestRefused([
            f"cannot attest absence: {len(gaps)} asset(s) lack software-inventory evidence newer than {max_age} "
            "days (scan them, or use --accept-gaps to list them in the statement):",
            *(cov.describe(g) for g in gaps)])
    picked: dict[str, list[str]] = {}  # the findings at or above the threshold, by status
    open_ids: list[str] = []
    rank = {r.value: r.rank for r in Requirement}

    def detail(states: list[Any]) -> list[str]:
        """Sort the findings by status; name the rows the statement lists."""
        for s in states:
            if (rank.get(s.requirement) or Requirement(s.requirement).rank) >= THRESHOLD.rank:
                picked.setdefault(s.status, []).append(s.id)
                if s.status in _ACTIVE:
                    open_ids.append(s.id)
        return open_ids + picked.get("waived", []) if first is None else open_ids[:first]

    states, rows = store.findings_as_of_in_part(as_of, profile=prof.id, detail=detail)
    open_count = len(open_ids)
    open_ = [rows[i] for i in open_ids if i in rows]
    if open_count and not include_open:
        raise AttestRefused(f"{open_count} finding(s) at or above '{THRESHOLD.value}' are open for profile "
                            f"{prof.id} (see 'banscan findings --profile {prof.id}'); remove them, or use "
                            "--include-open to attest exactly which are open")
    clean = not open_count
    claim = (f"No finding at or above '{THRESHOLD.value}' is open on the assets listed."
             if clean else f"The {open_count} finding(s) at or above '{THRESHOLD.value}' listed are open.")
    if gaps:
        claim += (f" This says nothing about the software on the {len(gaps)} asset(s) listed under coverage.gaps "
                  f"(no software inventory newer than {max_age} days).")
    out: dict[str, Any] = {
        "type": STATEMENT_TYPE,
        "generated_at": store.now(),
        "as_of": as_of.isoformat(),
        "profile": {"id": prof.id, "name": prof.name},
        "registry": registry.meta(),
        "tool": {"name": "banscan", "version": __version__},
        "threshold": THRESHOLD.value,
        "clean": clean,
        "claim": claim,
        "coverage": {
            "as_of": as_of.isoformat(),
            "max_age_days": max_age,
            "software_inventory": list(cov.SOFTWARE_INVENTORY),
            "gaps": gaps,
            "gaps_accepted": bool(gaps),
        },
        "open_findings": [_finding_entry(f) for f in open_],
        "summary": {"assets": len(coverage), "gaps": len(gaps), "open": open_count,
                    "waived": len(picked.get("waived", [])),
                    "false_positive": len(picked.get("false-positive", [])),
                    "resolved": len(picked.get("resolved", []))},
    }
    if first is not None:  # the preview: no per-asset or waived lists
        return out
    out["assets"] = [_asset_entry(a) for a in sorted(coverage, key=lambda a: a["asset"])]
    out["coverage"]["assets"] = cov.public(coverage)["assets"]
    out["waived_findings"] = [{**_finding_entry(f), "reason": f["reason"], "approver": f["approver"],
                               "expires": f["waiver_expires"]} for f in (rows[i] for i in picked.get("waived", []))]
    return out


def _asset_entry(a: dict[str, Any]) -> dict[str, Any]:
    ins = a["inputs"]
    last = max(((d, i["scan"]) for c, d in a["evidence"].items() for i in ins.get(c, [])), default=None)
    seen: set[tuple[Any, ...]] = set()
    inputs = []
    for c in sorted(ins):
        for i in ins[c]:
            k = (i["scan"], i["path"], i["format"])
            if k not in seen:
                seen.add(k)
                inputs.append({"scan": i["scan"], "path": i["path"], "format": i["format"], "sha256": i["sha256"]})
    return {"asset": a["asset"],
            "last_scan": {"id": last[1], "at": last[0]} if last else None,
            "evidence": {c: {"scan": ins[c][0]["scan"] if ins.get(c) else None, "at": d}
                         for c, d in a["evidence"].items()},
            "blind_spot": a["blind_spot"],
            "inputs": inputs}


def sign(statement: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """The attestation file's bytes."""
    pub = key.public_key()
    envelope = {"statement": statement,
                "signature": {"algorithm": "Ed25519", "key_id": key_id(pub),
                              "public_key": base64.b64encode(_raw(pub)).decode(),
                              "value": base64.b64encode(key.sign(canonical(statement))).decode()}}
    return canonical(envelope) + b"\n"


# --------------------------------------------------------------------------- verification


@dataclass
class Verification:
    readable: bool
    problems: list[str] = field(default_factory=list)
    statement: dict[str, Any] | None = None
    key_id: str | None = None
    key_checked: bool = False  # the embedded key was compared with a trusted copy

    @property
    def valid(self) -> bool:
        return self.readable and not self.problems

    @property
    def exit_code(self) -> int:
        return 2 if not self.readable else (0 if self.valid else 1)

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "readable": self.readable, "problems": list(self.problems),
                "key_id": self.key_id, "key_checked_against_trusted_copy": self.key_checked,
                "statement": self.statement}


def schema_problems(env: Any) -> list[str]:
    """Where the envelope breaks the attestation JSON Schema (``banscan/schema/attestation.schema.json``):
    one reason per problem, naming the place (``statement.profile: [...] is not of type 'object'``)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(_attestation_schema())
    out = []
    for err in sorted(validator.iter_errors(env), key=lambda e: [str(p) for p in e.absolute_path])[:20]:
        where = ".".join(str(p) for p in err.absolute_path) or "(document)"
        msg = " ".join(err.message.split())
        out.append(f"{where}: {msg[:200]}")
    return out


def _attestation_schema() -> dict[str, Any]:
    from importlib import resources

    return json.loads((resources.files("banscan") / "schema" / "attestation.schema.json").read_text("utf-8"))


def verify(data: bytes, trusted_key: Ed25519PublicKey | None = None) -> Verification:
    try:
        env = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        return Verification(False, [f"not a JSON attestation: {e}"])
    shape = schema_problems(env)
    if shape:  # checked before the signature: a wrong-typed statement is invalid, never a crash
        return Verification(True, ["the file is not a valid banscan attestation: " + p for p in shape])
    if not isinstance(env, dict) or not isinstance(env.get("statement"), dict) \
            or not isinstance(env.get("signature"), dict):
        return Verification(False, ["not a banscan attestation (no statement and signature)"])
    v = Verification(True, statement=env["statement"])
    st, sig = env["statement"], env["signature"]
    try:
        if canonical(env) + b"\n" != data:
            v.problems.append("the file is not in canonical form: it was changed after signing")
    except ValueError as e:
        v.problems.append(f"the file cannot be serialised canonically: {e}")
    if set(env) != {"statement", "signature"}:
        v.problems.append(f"unexpected top-level keys: {', '.join(sorted(set(env) - {'statement', 'signature'}))}")
    pub: Ed25519PublicKey | None = None
    if sig.get("algorithm") != "Ed25519":
        v.problems.append(f"unsupported signature algorithm {sig.get('algorithm')!r}")
    try:
        pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(str(sig.get("public_key", "")), validate=True))
        v.key_id = key_id(pub)
    except ValueError:
        v.problems.append("the embedded public key is not a base64 Ed25519 key")
    if pub is not None:
        if sig.get("key_id") != v.key_id:
            v.problems.append("key_id does not match the embedded public key")
        try:
            pub.verify(base64.b64decode(str(sig.get("value", "")), validate=True), canonical(st))
        except (InvalidSignature, ValueError):
            v.problems.append("the signature does not match the statement")
        if trusted_key is not None:
            v.key_checked = True
            if _raw(trusted_key) != _raw(pub):
                v.problems.append(f"signed with {v.key_id}, not with the trusted key {key_id(trusted_key)}")
    v.problems.extend(_consistency(st))
    return v


def _consistency(st: dict[str, Any]) -> list[str]:
    out = []
    if st.get("type") != STATEMENT_TYPE:
        out.append(f"statement type is not {STATEMENT_TYPE}")
    open_ = st.get("open_findings")
    if not isinstance(open_, list):
        return [*out, "statement has no open_findings list"]
    if st.get("clean") is not (len(open_) == 0):
        out.append(f"the statement claims clean={st.get('clean')!r} but lists {len(open_)} open finding(s)")
    try:
        th = Requirement(st.get("threshold")).rank
        for f in open_:
            if Requirement(f.get("requirement")).rank < th or f.get("status") not in _ACTIVE:
                out.append(f"open finding {f.get('id')} is not an open finding at or above the threshold")
    except (ValueError, AttributeError):
        out.append("statement threshold or a finding's requirement is not a known requirement")
    summary = st.get("summary") or {}
    if summary.get("open") != len(open_):
        out.append("summary.open does not match the open findings listed")
    if summary.get("assets") != len(st.get("assets") or []):
        out.append("summary.assets does not match the assets listed")
    for k in ("as_of", "profile", "registry", "assets"):
        if not st.get(k):
            out.append(f"statement lacks '{k}'")
    cov = st.get("coverage")
    if cov is not None:
        gaps = cov.get("gaps") if isinstance(cov, dict) else None
        if not isinstance(gaps, list):
            out.append("statement coverage has no gaps list")
        else:
            if summary.get("gaps", len(gaps)) != len(gaps):
                out.append("summary.gaps does not match the coverage gaps listed")
            if gaps and cov.get("gaps_accepted") is not True:
                out.append("the statement lists coverage gaps that were not accepted")
    return out


def render(v: Verification) -> str:
    """The statement in words, for readers who will never run banscan."""
    lines: list[str] = []
    if not v.readable:
        return "UNREADABLE: " + "; ".join(v.problems)
    lines.append("VALID: the signature and the statement check out." if v.valid
                 else "INVALID: do not rely on this statement.")
    for p in v.problems:
        lines.append(f"  problem: {p}")
    if v.statement is None:
        return "\n".join(lines)
    if v.key_checked:
        lines.append(f"Signed with key {v.key_id}, which matches the trusted key given.")
    else:
        lines.append(f"Signed with key {v.key_id}. That key was NOT checked against a trusted copy "
                     "(give --key PUBLIC_KEY to check who signed it).")
    st = v.statement or {}
    prof = st.get("profile") or {}
    reg = st.get("registry") or {}
    lines += [
        "",
        f"Statement made {st.get('generated_at')} by banscan {(st.get('tool') or {}).get('version')}",
        f"  as of:     {st.get('as_of')}",
        f"  profile:   {prof.get('id')} ({prof.get('name')})",
        f"  registry:  version {reg.get('version')}, sha256 {reg.get('sha256')}",
        f"  claim:     {st.get('claim')}",
        "",
        f"Assets scanned ({len(st.get('assets') or [])}):",
    ]
    for a in st.get("assets") or []:
        last = a.get("last_scan") or {}
        ev = ", ".join(sorted((a.get("evidence") or {}).keys()))
        blind = " BLIND SPOT (no software inventory)" if a.get("blind_spot") else ""
        lines.append(f"  - {a.get('asset')}: last scan #{last.get('id')} at {last.get('at')} (evidence: {ev}){blind}")
        for i in a.get("inputs") or []:
            lines.append(f"      input {i.get('path')} [{i.get('format')}] sha256 {i.get('sha256')}")
    cov = st.get("coverage")
    if isinstance(cov, dict):
        gaps = cov.get("gaps") or []
        lines.append("")
        if gaps:
            lines.append(f"Coverage gaps ({len(gaps)}): the statement says nothing about the software on these "
                         f"assets (no software inventory newer than {cov.get('max_age_days')} days):")
            for g in gaps:
                stale = ", ".join(f"{c} last seen {d}" for c, d in (g.get("stale") or {}).items())
                lines.append(f"  - {g.get('asset')}: lacks {', '.join(g.get('lacks') or [])}"
                             + (f" ({stale})" if stale else "") + "; evidence: "
                             + (", ".join(f"{c} {d}" for c, d in (g.get("evidence") or {}).items()) or "none"))
        else:
            lines.append(f"Coverage: every asset has a software inventory newer than {cov.get('max_age_days')} days.")
    of = st.get("open_findings") or []
    lines.append("")
    lines.append(f"Open findings at or above '{st.get('threshold')}': {len(of) if of else 'none'}")
    for f in of:
        lines.append(f"  - {f.get('id')} {f.get('asset')}: {f.get('product') or f.get('family')} under "
                     f"{f.get('restriction')} ({f.get('requirement')}, deadline {f.get('deadline') or '-'}, "
                     f"status {f.get('status')}{', owner ' + f['owner'] if f.get('owner') else ''})")
    wf = st.get("waived_findings") or []
    if wf:
        lines.append(f"Waived findings ({len(wf)}):")
        for f in wf:
            lines.append(f"  - {f.get('id')} {f.get('asset')}: {f.get('product') or f.get('family')} under "
                         f"{f.get('restriction')}; waived by {f.get('approver')} until {f.get('expires')}: "
                         f"{f.get('reason')}")
    return "\n".join(lines)
