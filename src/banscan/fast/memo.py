"""The matcher, memoised on the tuple of fields it reads.

A product seen on 10,000 hosts is normalised and matched once: :meth:`Matcher.hits` depends only
on the observation's matchable fields, so its result is cached under their values.  Detections
are still built per observation (asset, locator and id differ).
"""

from __future__ import annotations

from banscan.match import Hit, Matcher
from banscan.match.rules import TEXT_FIELDS
from banscan.model import F, Observation
from banscan.registry import Registry

# every field Matcher.hits reads
READ_FIELDS: tuple[str, ...] = tuple(dict.fromkeys((
    *TEXT_FIELDS, F.ECOSYSTEM, F.PACKAGE, F.PURL, F.BUNDLE_ID, F.PROCESS, F.SERVICE, F.DRIVER,
    F.KERNEL_MODULE, F.EXTENSION_ID, F.PATH, F.SYS_OBJECT_ID, F.DOMAIN, F.HOSTNAME,
)))
MAX_ENTRIES = 200_000


class MemoMatcher(Matcher):
    def __init__(self, registry: Registry, max_entries: int = MAX_ENTRIES) -> None:
        super().__init__(registry)
        self._memo: dict[tuple[str | None, ...], list[Hit]] = {}
        self._max = max_entries
        self.memo_hits = 0

    def hits(self, obs: Observation) -> list[Hit]:
        get = obs.fields.get
        key = (obs.kind, *[get(f) for f in READ_FIELDS])
        got = self._memo.get(key)
        if got is not None:
            self.memo_hits += 1
            return list(got)
        out = super().hits(obs)
        if len(self._memo) >= self._max:
            self._memo.clear()  # bounded memory: start again rather than grow without limit
        self._memo[key] = out
        return list(out)
