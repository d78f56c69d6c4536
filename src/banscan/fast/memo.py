"""The matcher, memoised on the fields it reads.

A product seen on 10,000 hosts is normalised and matched once: :meth:`Matcher.hits` depends only
on the observation's kind and fields (not on its asset, place or time), so its result is cached
under them.  Fields the matcher never reads and that differ from host to host (the version, an
MSI product code, a serial number) are left out of the key; every other field is in it, so a
signature kind that starts reading a new field stays correct (tests/fast checks that the match
package reads none of the left-out fields).  Detections are still built per observation.
"""

from __future__ import annotations

from typing import Any

from banscan.match import Hit, Matcher
from banscan.model import F, Observation
from banscan.registry import Registry

NOT_READ = frozenset({F.VERSION, "product_code", F.SERIAL})
MAX_ENTRIES = 200_000


class MemoMatcher(Matcher):
    def __init__(self, registry: Registry, *args: Any, max_entries: int = MAX_ENTRIES, **kw: Any) -> None:
        super().__init__(registry, *args, **kw)
        self._memo: dict[tuple[Any, ...], list[Hit]] = {}
        self._max = max_entries
        self.memo_hits = 0

    def hits(self, obs: Observation) -> list[Hit]:
        key = (obs.kind, *sorted((k, v) for k, v in obs.fields.items() if k not in NOT_READ))
        got = self._memo.get(key)
        if got is not None:
            self.memo_hits += 1
            return list(got)
        out = super().hits(obs)
        if len(self._memo) >= self._max:
            self._memo.clear()  # bounded memory: start again rather than grow without limit
        self._memo[key] = out
        return list(out)
