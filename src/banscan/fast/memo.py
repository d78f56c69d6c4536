"""The matcher, memoised on the fields it reads.

A product seen on 10,000 hosts is normalised and matched once: :meth:`Matcher.hits` depends only
on the observation's kind and fields (not on its asset, place or time), so its result is cached
under them.  The key holds only the fields some signature kind declares it reads (its ``FIELDS``)
and those the matcher reads itself (:data:`MATCHER_READS`), so a DNS query's answers, timestamps
or ports do not split it; when a kind declares no ``FIELDS``, every field but those the matcher
never reads (:data:`NOT_READ`: the version, an MSI product code, a serial number) is in the key.
tests/fast checks both against the match package's source.  Detections are still built per
observation.
"""

from __future__ import annotations

from typing import Any

from banscan.match import Hit, Matcher
from banscan.model import F, Observation
from banscan.registry import Registry

NOT_READ = frozenset({F.VERSION, "product_code", F.SERIAL})
# fields the matcher and kinds read besides the kinds' own FIELDS (the ecosystem qualifies names)
MATCHER_READS = frozenset({F.ECOSYSTEM, F.PURL})
MAX_ENTRIES = 200_000


class MemoMatcher(Matcher):
    def __init__(self, registry: Registry, *args: Any, max_entries: int = MAX_ENTRIES, **kw: Any) -> None:
        super().__init__(registry, *args, **kw)
        self._memo: dict[tuple[Any, ...], list[Hit]] = {}
        declared = [fields for _plugin, _index, fields in self._plugins]
        self.reads: frozenset[str] | None = None
        if all(f is not None for f in declared):
            self.reads = MATCHER_READS.union(*(f for f in declared if f is not None))
        self._max = max_entries
        self.memo_hits = 0

    def hits(self, obs: Observation) -> list[Hit]:
        reads = self.reads
        if reads is None:
            key = (obs.kind, *sorted((k, v) for k, v in obs.fields.items() if k not in NOT_READ))
        else:
            key = (obs.kind, *sorted((k, v) for k, v in obs.fields.items() if k in reads))
        got = self._memo.get(key)
        if got is not None:
            self.memo_hits += 1
            return list(got)
        out = super().hits(obs)
        if len(self._memo) >= self._max:
            self._memo.clear()  # bounded memory: start again rather than grow without limit
        self._memo[key] = out
        return list(out)
