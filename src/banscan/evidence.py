"""The normalised evidence of a scan, kept compactly so that a newer registry can match it again.

A scan that is recorded keeps, for every asset and evidence class, the distinct observations it
read, reduced to what the matcher reads (the fields named in :class:`banscan.model.F`, plus the
observation's kind).  Observations with the same content on one asset are kept once, with the
place they were first read (input path and locator, which the detection id is built from) and
how many times they were read.  One asset's records for one class form an :class:`EvidenceSet`;
the store keeps each distinct set once (content-addressed by its digest), so re-scanning an
unchanged inventory adds no data.

Record layout (a JSON array, sorted by digest)::

    [digest, kind, {field: value, ...}, path, locator, count]

Collecting evidence reads every record of every input, except in the block scanner (osqueryd
results logs, Zeek TSV logs: :mod:`banscan.fast.evfilter`): there only the candidate lines are
kept, and the collector records, for each asset and class, the filter (the registry's anchors)
they were selected with, so that a later registry whose anchors that filter does not cover is
reported as a coverage gap needing a rescan instead of being matched against partial evidence.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from banscan.keys import observation_digest
from banscan.model import EvidenceClass, F, Locator, Observation

__all__ = ["MATCHED_FIELDS", "EvidenceCollector", "EvidenceSet", "matched_fields", "observations"]


def _field_names() -> frozenset[str]:
    try:  # an enum of fields
        return frozenset(str(getattr(f, "value", f)) for f in F)  # type: ignore[attr-defined]
    except TypeError:  # a namespace of constants
        return frozenset(v for k, v in vars(F).items() if k.isupper() and isinstance(v, str))


MATCHED_FIELDS = _field_names()


def matched_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an observation's fields the matcher reads, in JSON form (one value: a string;
    several: a list)."""
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if k not in MATCHED_FIELDS or v is None or v == "":
            continue
        if not isinstance(v, str):
            v = [x for x in v if x]
            if not v:
                continue
        out[str(k)] = v
    return out


def obs_digest(o: Observation) -> str:
    return observation_digest(o.kind, o.evidence_class.value, matched_fields(o.fields))


@dataclass
class EvidenceSet:
    """One asset's distinct observations of one evidence class."""

    asset: str
    evidence_class: str
    records: list[list[Any]] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    def canonical(self) -> bytes:
        rows = sorted(self.records, key=lambda r: r[0])
        try:  # the same bytes as the stdlib's compact, non-ASCII-preserving form, faster
            import orjson

            return orjson.dumps(rows, default=str)
        except (ImportError, TypeError):  # lone surrogates, integers beyond 64 bits
            return json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")

    def compressed(self) -> bytes:
        return zlib.compress(self.canonical(), 6)

    @classmethod
    def from_compressed(cls, asset: str, evidence_class: str, data: bytes) -> EvidenceSet:
        return cls(asset, evidence_class, json.loads(zlib.decompress(data).decode("utf-8")))


def observations(es: EvidenceSet) -> Iterator[Observation]:
    """The stored records as observations for the matcher (one per distinct record)."""
    ec = EvidenceClass(es.evidence_class)
    for _digest, kind, fields, path, locator, _count in es.records:
        yield Observation(kind=kind, asset=es.asset,
                          fields={k: v if isinstance(v, str) else tuple(v) for k, v in fields.items()},
                          source=Locator(path, locator), evidence_class=ec)


class EvidenceCollector:
    """Collects a scan's observations, deduplicated per asset and evidence class."""

    scrub_opaque = True  # banscan.textsafe.scrub keeps it as it is (its observations were cleaned when read)

    def __init__(self) -> None:
        self._sets: dict[tuple[str, str], dict[str, list[Any]]] = {}
        # (asset, class) -> digest of the filter its block-scanned records were selected with
        self.filtered: dict[tuple[str, str], str] = {}
        self.filters: dict[str, dict[str, Any]] = {}  # digest -> spec (banscan.fast.evfilter)

    def mark_filtered(self, asset: str, evidence_class: str, digest: str, spec: dict[str, Any]) -> None:
        """Only the candidate records of (``asset``, ``evidence_class``) were kept, under filter ``spec``."""
        self.filters.setdefault(digest, spec)
        self.filtered[(asset, evidence_class)] = digest

    def add(self, o: Observation) -> None:
        fields = matched_fields(o.fields)
        ec = o.evidence_class.value
        d = observation_digest(o.kind, ec, fields)
        recs = self._sets.setdefault((o.asset, ec), {})
        r = recs.get(d)
        if r is None:
            recs[d] = [d, o.kind, fields, o.source.path, o.source.locator, 1]
        else:
            r[5] += 1

    def merge(self, other: EvidenceCollector) -> None:
        for k, recs in other._sets.items():
            mine = self._sets.setdefault(k, {})
            for d, r in recs.items():
                if d in mine:
                    mine[d][5] += r[5]
                else:
                    mine[d] = list(r)
        self.filters.update(other.filters)
        self.filtered.update(other.filtered)

    def sets(self) -> dict[tuple[str, str], EvidenceSet]:
        """The sets, one per (asset, class) with records (a filtered (asset, class) without any:
        no candidate line, nothing to match again while its filter covers the registry)."""
        return {k: EvidenceSet(k[0], k[1], list(v.values())) for k, v in self._sets.items()}

    def __len__(self) -> int:
        return sum(len(v) for v in self._sets.values())


def rematch(sets: Iterable[EvidenceSet], registry: Any, as_of: dt.date | None = None) -> list[Any]:
    """Match stored evidence with ``registry`` (entity ownership as of ``as_of``); detections
    deduplicated and sorted as a scan's."""
    from banscan.match import Matcher
    from banscan.scan import _dedupe

    m = Matcher(registry, as_of=as_of)
    dets = []
    for es in sets:
        for o in observations(es):
            dets.extend(m.match(o))
    return _dedupe(dets)
