"""Detections cross from ``--jobs`` workers to the parent by pickle, as their constructor's
arguments (banscan.model._pickled_by_fields): every detection of a scan of the shared samples comes
back equal, of its type, with its observation, locator and evidence, and copies still work."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
from sharedsamples import SHARED_SAMPLES

from banscan.model import Detection, Evidence, Locator, Observation
from banscan.registry import load
from banscan.scan import Scanner


def _detections() -> list[Detection]:
    if not SHARED_SAMPLES.exists():
        pytest.skip("../shared/samples is absent")
    scanner = Scanner(load())
    out: list[Detection] = []
    for p in sorted(x for x in SHARED_SAMPLES.rglob("*") if x.is_file() and not x.name.startswith(".")):
        with Path(p).open("rb") as fh:
            _, dets = scanner.scan_stream(fh, str(p), None, None, walked=True)
        out.extend(dets)
    assert len(out) > 50
    return out


def test_detections_of_the_samples_survive_pickling_and_copying() -> None:
    dets = _detections()
    back = pickle.loads(pickle.dumps(dets, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == dets
    for a, b in zip(dets, back):
        assert type(b) is Detection and type(b.observation) is Observation and type(b.source) is Locator
        assert all(type(e) is Evidence for e in b.evidence)
        assert b.to_dict() == a.to_dict()
        assert b.observation.evidence_class is a.observation.evidence_class and b.relation is a.relation
    assert copy.deepcopy(dets) == dets and [copy.copy(d) for d in dets] == dets
    # one object per field value as before: a locator shared by two detections is shared again
    shared = [(i, j) for i in range(len(dets)) for j in range(i + 1, min(i + 5, len(dets)))
              if dets[i].observation is dets[j].observation]
    assert all(back[i].observation is back[j].observation for i, j in shared)


def test_a_frozen_locator_is_rebuilt_through_its_constructor() -> None:
    loc = Locator("a.log", "line 7")
    back = pickle.loads(pickle.dumps(loc))
    assert back == loc and hash(back) == hash(loc)
    with pytest.raises(AttributeError):
        back.path = "b"  # type: ignore[misc]
