"""A stored scan takes the fast paths and finds exactly what ``--no-store`` and the slow path find.

A stored scan (``ScanRequest(keep_evidence=True)``) runs the block scanner, prefilter and
``--jobs`` like ``--no-store``, keeping the candidate lines' observations as evidence and
recording the filter they were selected with (banscan.fast.evfilter).  Checked here: detections
and input reports equal to ``--no-store`` and to the slow path (every record through the reader
and the plain matcher, every observation kept); ``--jobs 4`` equal to ``--jobs 1`` (evidence
included); the kept evidence matched again gives the scan's detections; the coverage test of a
later registry's anchors.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fast_differential import (
    all_samples,
    key,
    osquery_log,
    same_order,
    signature_values,
    zeek_dns_log,
)

from banscan.evidence import obs_digest, rematch
from banscan.fast import blocks as fb
from banscan.fast.evfilter import _implies, spec_of, uncovered
from banscan.match import Matcher
from banscan.registry import Registry, load
from banscan.scan import ScanRequest, ScanResult, run

AS_OF = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load()


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fb, "BLOCK_BYTES", 2048)  # many blocks, so --jobs really splits


def scan(registry: Registry, paths: list[str], keep: bool, **kw: Any) -> ScanResult:
    return run(ScanRequest(inputs=tuple(paths), as_of=AS_OF, keep_evidence=keep), registry, **kw)


def reports(r: ScanResult) -> list[dict[str, Any]]:
    return [same_order(i.to_dict()) for i in r.inputs]


def content(dets: Any) -> set[tuple[str, str, str, str]]:
    """Detections by what re-matching compares: asset, family, product, observation content."""
    return {(d.asset, d.family, d.product_id or "", obs_digest(d.observation)) for d in dets}


def evidence_digests(r: ScanResult) -> dict[tuple[str, str], set[str]]:
    assert r.evidence is not None
    return {k: {rec[0] for rec in es.records} for k, es in r.evidence.sets().items()}


def check(registry: Registry, paths: list[str]) -> tuple[ScanResult, ScanResult]:
    stored = scan(registry, paths, True)
    no_store = scan(registry, paths, False)
    slow = scan(registry, paths, True, fast=False)
    assert key(stored) == key(no_store) == key(slow), paths
    assert reports(stored) == reports(no_store), paths
    assert [i.assets for i in stored.inputs] == [i.assets for i in slow.inputs], paths
    # the kept evidence is part of what the slow path keeps, and matched again gives the detections
    full = evidence_digests(slow)
    for k, digests in evidence_digests(stored).items():
        assert digests <= full.get(k, set()), (paths, k)
    assert content(rematch(stored.evidence.sets().values(), registry, AS_OF)) == content(stored.detections), paths
    assert slow.evidence is not None and not slow.evidence.filtered  # the slow path keeps everything
    return stored, slow


def test_samples_stored_equals_no_store_and_slow(registry: Registry) -> None:
    samples = all_samples()
    if not samples:
        pytest.skip("../shared/samples not available")
    filtered = 0
    for p in samples:
        stored, _ = check(registry, [str(p)])
        assert stored.evidence is not None
        filtered += bool(stored.evidence.filtered)
        # only block-scanned inputs keep filtered evidence; every asset and class they cover is marked
        for k in stored.evidence.filtered:
            assert k[1] in stored.inputs[0].assets.get(k[0], [])
    assert filtered  # the osqueryd and Zeek TSV samples are block-scanned


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_generated_stored_equals_no_store_slow_and_jobs(tmp_path: Path, registry: Registry, seed: int) -> None:
    rnd = random.Random(seed)
    values = signature_values(registry)
    osq = tmp_path / f"osq-{seed}.log"
    dns = tmp_path / f"dns-{seed}.log"
    osquery_log(osq, values, rnd, 400)
    zeek_dns_log(dns, values, rnd, 300)
    paths = [str(osq), str(dns)]
    stored, slow = check(registry, paths)
    assert stored.detections  # not vacuous
    assert stored.evidence is not None and stored.evidence.filtered
    four = scan(registry, paths, True, jobs=4)
    assert key(four) == key(stored)
    assert [i.to_dict() for i in four.inputs] == [i.to_dict() for i in stored.inputs]
    assert four.evidence is not None
    assert {k: es.canonical() for k, es in four.evidence.sets().items()} == \
        {k: es.canonical() for k, es in stored.evidence.sets().items()}
    assert four.evidence.filtered == stored.evidence.filtered


# ---------------------------------------------------------------------------------- coverage


def test_implies_follows_the_engine_boundaries() -> None:
    assert _implies(("kaspersky", False, False), ("kaspersky endpoint", True, True))
    assert _implies(("kaspersky", True, True), ("kaspersky", True, True))
    assert not _implies(("kaspersky", True, True), ("kaspersky", False, True))  # laxer left edge
    assert _implies(("lab", True, True), ("kaspersky lab", True, True))  # inner boundary is a space
    assert not _implies(("lab", True, True), ("kaspersky lab", True, False))  # laxer right edge
    assert not _implies(("lab", True, True), ("kasperskylab", True, True))  # inner neighbour is a letter
    assert not _implies(("zte", False, False), ("huawei", False, False))
    assert _implies(("\u534e\u4e3a", False, False), ("\u534e\u4e3a", False, False))
    assert not _implies(("\u534e\u4e3a", False, False), ("\u534e\u4e3a\u4e91", False, False))


def _with_signature(tmp_path: Path, value: str, kind: str = "product-name") -> Registry:
    overlay = tmp_path / f"overlay-{abs(hash(value))}.yaml"
    overlay.write_text(yaml.safe_dump({"signatures": [
        {"family": "kaspersky", "kind": kind, "values": [value], "strength": "strong",
         "sources": ["https://example.org/test-only-signature"]}]}))
    try:
        return load([str(overlay)])
    except Exception as e:  # noqa: BLE001 - overlays may not take signatures
        pytest.skip(f"overlay registries do not take signatures here: {e}")


def test_a_registry_with_new_anchors_is_not_covered(tmp_path: Path, registry: Registry) -> None:
    digest, spec = spec_of(Matcher(registry))
    assert uncovered(spec, Matcher(registry)) == []
    assert spec_of(Matcher(registry))[0] == digest  # the same registry, the same filter
    newer = _with_signature(tmp_path, "Zorblax Widget Manager")
    missing = uncovered(spec, Matcher(newer))
    assert missing and all(("zorblax" in m or "widget" in m or "manager" in m) for m in missing)
    # a signature whose anchors the recorded ones imply needs no rescan
    again = _with_signature(tmp_path, "Kaspersky Endpoint Security")
    assert uncovered(spec, Matcher(again)) == []
    # a filter recorded under another meaning of an anchor covers nothing
    assert uncovered({**spec, "semantics": "something else"}, Matcher(registry))
