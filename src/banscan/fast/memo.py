"""The matcher, memoised on the fields it reads.

A product seen on 10,000 hosts is normalised and matched once: :meth:`Matcher.hits` depends only
on the observation's kind and fields (not on its asset, place or time), so its result is cached
under them.  The key holds only the fields some signature kind declares it reads (its ``FIELDS``)
and those the matcher reads itself (:data:`MATCHER_READS`), so a DNS query's answers, timestamps
or ports do not split it; when a kind declares no ``FIELDS``, every field but those the matcher
never reads (:data:`NOT_READ`: the version, an MSI product code, a serial number) is in the key.
tests/fast checks both against the match package's source.  Detections are built once per key
too: another observation with the same key gets copies with its own id, asset and observation
(records carrying a MAC address are matched afresh: the MAC is not in the key).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from banscan.keys import detection_id
from banscan.match import Hit, Matcher
from banscan.model import Detection, F, Observation
from banscan.registry import Registry

NOT_READ = frozenset({F.VERSION, "product_code", F.SERIAL})
# fields the matcher and kinds read besides the kinds' own FIELDS (the ecosystem qualifies names)
MATCHER_READS = frozenset({F.ECOSYSTEM, F.PURL})
MAX_ENTRIES = 200_000


class MemoMatcher(Matcher):
    def __init__(self, registry: Registry, *args: Any, max_entries: int = MAX_ENTRIES, **kw: Any) -> None:
        super().__init__(registry, *args, **kw)
        self._memo: dict[tuple[Any, ...], list[Hit]] = {}
        self._detections: dict[tuple[Any, ...], list[Detection]] = {}
        declared = [fields for _plugin, _index, fields in self._plugins]
        self.reads: frozenset[str] | None = None
        if all(f is not None for f in declared):
            self.reads = MATCHER_READS.union(*(f for f in declared if f is not None))
        self._max = max_entries
        self.memo_hits = 0

    def _key(self, obs: Observation) -> tuple[Any, ...]:
        reads = self.reads
        if reads is None:
            return (obs.kind, *sorted((k, v) for k, v in obs.fields.items() if k not in NOT_READ))
        return (obs.kind, *sorted((k, v) for k, v in obs.fields.items() if k in reads))

    def match(self, obs: Observation) -> list[Detection]:
        if F.MAC in obs.fields:
            return super().match(obs)
        key = self._key(obs)
        done = self._detections.get(key)
        if done is None:
            out = super().match(obs)
            if len(self._detections) >= self._max:
                self._detections.clear()
            self._detections[key] = [dataclasses.replace(d, evidence=list(d.evidence), notes=list(d.notes))
                                     for d in out]
            return out
        self.memo_hits += 1
        src = obs.source
        return [dataclasses.replace(d, id=detection_id(obs.asset, d.family, d.product_id, src.path, src.locator),
                                    asset=obs.asset, observation=obs, evidence=list(d.evidence), notes=list(d.notes))
                for d in done]

    def hits(self, obs: Observation) -> list[Hit]:
        key = self._key(obs)
        got = self._memo.get(key)
        if got is not None:
            self.memo_hits += 1
            return list(got)
        out = super().hits(obs)
        if len(self._memo) >= self._max:
            self._memo.clear()  # bounded memory: start again rather than grow without limit
        self._memo[key] = out
        return list(out)
