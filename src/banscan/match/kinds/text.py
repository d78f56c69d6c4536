"""Phrase kinds: organisation strings, product names and banner phrases in text fields.

All phrases compile into one Aho-Corasick automaton over normalised text, padded with spaces
so that hits fall on token boundaries ("zte" never matches inside "Aztech").  Scripts written
without spaces (Chinese, Japanese, Korean) match without boundaries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick

from banscan.match.anchoring import Anchor, token_anchor
from banscan.match.base import Hit, field_items, signatures_of
from banscan.match.normalize import normalize, spaceless
from banscan.match.rules import DEFAULT_FIELDS, TEXT_FIELDS, strength_in
from banscan.model import Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("publisher", "product-name", "banner")
_TEXT_FIELDS = frozenset(TEXT_FIELDS)
FIELDS = _TEXT_FIELDS


@dataclass
class Index:
    automaton: ahocorasick.Automaton = field(default_factory=ahocorasick.Automaton)
    entries: dict[str, list[CompiledSignature]] = field(default_factory=lambda: defaultdict(list))
    anchors: set[Anchor] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        for raw in sig.values:
            n = normalize(raw.strip())
            if not n:
                continue
            key = n if spaceless(n) else f" {n} "
            ix.entries[key].append(sig)
            if not sig.negative:
                # every token of n is a whole run of any text that normalises to contain it
                # (inside a run of a script written without spaces: anywhere)
                a = token_anchor(n.split(), bounded=not spaceless(n))
                if a is not None:
                    ix.anchors.add(a)
    for k in ix.entries:
        ix.automaton.add_word(k, k)
    if ix.entries:
        ix.automaton.make_automaton()
    return ix


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    if not ix.entries:
        return out
    for fld, value in field_items(obs, _TEXT_FIELDS):
        n = normalize(value)
        if not n:
            continue
        for _, key in ix.automaton.iter(f" {n} "):
            for s in ix.entries[key]:
                allowed = s.fields or DEFAULT_FIELDS.get(s.kind, ())
                if fld in allowed:
                    # an organisation name in one field value is one piece of evidence,
                    # however many of its spellings (or the organisation kind) match it
                    k = f"org:{value}" if s.kind == "publisher" else key
                    out.append(Hit(s, fld, value, strength_in(s.kind, fld, s.strength), k))
    return out


def anchors(ix: Index) -> Iterable[Anchor]:
    return ix.anchors
