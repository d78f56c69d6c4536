"""What a signature-kind plug-in is, and what it returns.

A kind plug-in is a module under ``banscan.match.kinds`` with:

* ``KINDS``: the signature kinds (``registry/schema.py`` ``SignatureKind``) it handles;
* ``compile(registry) -> index``: build its look-up structure once from the registry's
  signatures of those kinds (positive and negative);
* ``lookup(index, obs) -> hits``: the hits of one observation;
* ``anchors(index) -> Iterable[Anchor | str]``: anchors ``(literal, left, right)``
  (``banscan.match.anchoring``) such that any ASCII raw input text containing something the kind
  would match holds at least one of them, case-insensitively, with a token boundary before it
  when ``left`` and after it when ``right``; a plain string is an anchor without boundaries.
  Negative signatures need no anchors (they only ever suppress);
* optionally ``FIELDS``: the observation fields ``lookup`` reads; an observation carrying none
  of them is not looked up (without it, every observation is).

The table of plug-ins is ``banscan.match.kinds.PLUGINS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from banscan.model import Observation
from banscan.registry import CompiledSignature, Registry

__all__ = ["Hit", "KindPlugin", "signatures_of", "field_items", "EXTRA_KEY"]

# A hit whose key starts with EXTRA_KEY only counts when no other hit is on the same value, in
# any field (an organisation's name inside a product name another signature already matched, or
# a vendor mark inside a package name whose display name matched, adds nothing).
EXTRA_KEY = "extra:"


@dataclass(frozen=True, slots=True)
class Hit:
    sig: CompiledSignature
    field: str
    value: str
    strength: str
    key: str = ""  # what matched: the same text matched by two signatures counts once
    entity: str | None = None  # the entity the hit names, when it is not the signature's own
    # "" (the hit identifies a product or service of the family, as the signature says), or what
    # the hit says about who *publishes* the observed item: "site" (its homepage, repository or
    # download URL is on the family's domain) or "mail" (an author's e-mail is).  Such a hit names
    # the publisher, not one of the family's products or services: see Matcher.
    publisher: str = ""


class KindPlugin(Protocol):
    """The shape of a kind module (modules satisfy protocols)."""

    __name__: str  # the module's name

    @property
    def KINDS(self) -> tuple[str, ...]: ...  # a module constant

    def compile(self, registry: Registry) -> Any: ...

    def lookup(self, index: Any, obs: Observation) -> Iterable[Hit]: ...

    def anchors(self, index: Any) -> Iterable[Any]: ...


def field_items(obs: Observation, wanted: frozenset[str]) -> Iterator[tuple[str, str]]:
    """(field, value) for every non-empty value of the observation's fields in ``wanted``."""
    for k, v in obs.fields.items():
        if k in wanted:
            if isinstance(v, str):
                if v:
                    yield k, v
            else:
                for x in v:
                    if x:
                        yield k, x


def signatures_of(registry: Registry, kinds: Iterable[str]) -> list[CompiledSignature]:
    """The registry's signatures (positive and negative) of the given kinds, in registry order."""
    want = frozenset(kinds)
    return [s for s in registry.signatures if s.kind in want]
