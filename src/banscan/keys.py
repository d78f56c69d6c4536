"""Every record identity banscan computes, in one place.

Each key is a pure function of the fields named here; nothing else may build one.  Ids that
users see and script against keep the formats they have always had.

``detection_id(asset, family, product_id, path, locator)`` -> ``D-<12 hex>``
    One detection: a product (or family, when no product is identified) of a family on an asset,
    read at one place in one input.  The same inventory read under two asset names gives two
    detections; the same record read again at the same place gives the same id.

``finding_id(detection_id, restriction, requirement, profile, action[, index])`` -> ``F-<12 hex>``
    One obligation of a restriction for one detection under one profile (the policy engine's
    finding).  The obligation is its requirement and action text: two variants of one
    obligation that replace each other on a date (FAR 52.204-23's 1-business-day window, then
    3 business days) share the text and so the id.  ``index`` (the obligation's position in the
    restriction) is added only when two variants with the same text are active on one day.

``lifecycle_key(asset, family, product, restriction)`` -> ``F-<12 hex>``
    One row of the store's findings lifecycle: a product of a family on an asset under one
    restriction, whatever the locator, the profile or the obligation (report, then remove, are
    steps of one tracked finding).  ``product`` is the registry product id, or ``""``.

    Lifecycle keys and policy finding ids share the ``F-`` prefix (both formats predate this
    module and scripts depend on them): ``banscan findings`` and the store speak lifecycle keys,
    reports and ``banscan explain`` the policy engine's finding ids.

``product_key(asset, family, product)`` -> ``P-<12 hex>``
    A product of a family on an asset, for its first-seen date (report windows count from it).

``observation_digest(kind, evidence_class, fields)`` -> 64 hex
    The content of a normalised observation as the matcher reads it (``fields`` already reduced
    to the matched fields): observations with the same digest on one asset are stored once.

``sarif_fingerprint(asset, rule, product, obligation, profile, locator)`` -> 64 hex
    ``partialFingerprints["banscan/v2"]``: unique per asset, product, rule (the restriction, or
    the family without a profile), obligation (requirement and action; ``""`` for detections),
    profile and place in the input, so a code-scanning dashboard never merges two distinct
    alerts and recognises the same one from scan to scan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from banscan.model import stable_id

__all__ = [
    "detection_id",
    "finding_id",
    "lifecycle_key",
    "product_key",
    "observation_digest",
    "sarif_fingerprint",
    "SARIF_FINGERPRINT",
]

SARIF_FINGERPRINT = "banscan/v2"


def detection_id(asset: str, family: str, product_id: str | None, path: str, locator: str) -> str:
    return stable_id("D", asset, family, product_id, path, locator)


def finding_id(detection: str, restriction: str, requirement: str, profile: str, action: str,
               index: int | None = None) -> str:
    if index is None:
        return stable_id("F", detection, restriction, requirement, profile, action)
    return stable_id("F", detection, restriction, requirement, profile, action, index)


def lifecycle_key(asset: str, family: str, product: str, restriction: str) -> str:
    return stable_id("F", asset, family, product, restriction)


def product_key(asset: str, family: str, product: str) -> str:
    return stable_id("P", asset, family, product)


def observation_digest(kind: str, evidence_class: str, fields: Mapping[str, object]) -> str:
    doc = [kind, evidence_class, dict(sorted(fields.items()))]
    try:  # the same bytes as the stdlib's compact, non-ASCII-preserving form, faster
        import orjson

        raw = orjson.dumps(doc, default=str)
    except (ImportError, TypeError):  # lone surrogates, non-string keys, integers beyond 64 bits
        raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def sarif_fingerprint(asset: str, rule: str, product: str, obligation: str, profile: str, locator: str) -> str:
    body = "\x1f".join((asset, rule, product, obligation, profile, locator))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
