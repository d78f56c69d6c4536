"""Organisation names: the registry's entities (names and aliases in every script) and their marks.

The registry compiles one ``organisation`` signature per entity (its name and aliases); a family
file may add more.  Every value is read by :mod:`banscan.match.orgnames` into bare words and a
distinctive core, and an observed name (publisher, SBOM supplier/manufacturer/author, IEEE and
IANA organisation, TLS organisation; names and banners one step weaker) is, best first:

1. the same organisation: the same bare words ("Huawei Technologies Company" = "HUAWEI
   TECHNOLOGIES CO.,LTD") with agreeing legal forms ("LARK Technologies, Inc" is not "Lark
   Technologies Pte. Ltd."): strong;
2. the family by its mark: its core is an entity's distinctive core, whatever business words and
   places surround it ("Huawei Software Technologies Co., Ltd.", "Huawei Device (Dongguan)",
   "АО Лаборатория Касперского", 杭州海康威视数字技术股份有限公司): strong;
3. an entity's full name inside a longer text ("Copyright by Huawei Technologies Co., Ltd."): medium;
4. a mark inside a longer name ("Hikvision ISAPI client"): weak (possible on its own).

Cores that are ordinary words (``orgnames.COMMON_WORDS``: Lark, Spring, Honor, Sinclair …) are never
marks; their entities match by full name only.  Negative ``organisation`` signatures refuse
look-alikes by their words *with* legal forms ("Teltronic AG", "Shanghai Dahua Scale").
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import ahocorasick

from banscan.match.anchoring import Anchor, dotted, token_anchor
from banscan.match.base import EXTRA_KEY, Hit, field_items, signatures_of
from banscan.match.orgnames import COMMON_WORDS, MAX_CHARS, compatible, is_cjk, parse
from banscan.match.rules import PUBLISHER_FIELDS, TEXT_FIELDS
from banscan.model import Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("organisation",)

_HOME = frozenset(PUBLISHER_FIELDS)
_TEXT_FIELDS = frozenset(TEXT_FIELDS)
FIELDS = _TEXT_FIELDS
# strength of each way of matching: (in a publisher-like field, elsewhere)
_STRENGTH = {"exact": ("strong", "medium"), "core": ("strong", "medium"), "name-inside": ("medium", "medium"),
             "mark-inside": ("weak", "weak")}
_RANK = {"exact": 4, "core": 3, "name-inside": 2, "mark-inside": 1}


@dataclass(frozen=True, slots=True)
class _Entry:
    sig: CompiledSignature
    entity: str
    legal: frozenset[str]


@dataclass
class Index:
    names: dict[str, list[_Entry]] = field(default_factory=lambda: defaultdict(list))
    full_names: dict[str, list[_Entry]] = field(default_factory=lambda: defaultdict(list))
    marks: dict[str, list[_Entry]] = field(default_factory=lambda: defaultdict(list))
    inside: ahocorasick.Automaton = field(default_factory=ahocorasick.Automaton)
    inside_entries: dict[str, list[tuple[str, _Entry]]] = field(default_factory=lambda: defaultdict(list))
    quick: ahocorasick.Automaton = field(default_factory=ahocorasick.Automaton)
    negatives: dict[str, list[tuple[tuple[str, ...], CompiledSignature]]] = field(
        default_factory=lambda: defaultdict(list))
    words: set[str] = field(default_factory=set)  # the quick test's words
    anchors: set[Anchor] = field(default_factory=set)


def _is_mark(core: tuple[str, ...]) -> bool:
    """A core distinctive enough to name the family with any business words around it."""
    if not core:
        return False
    if len(core) == 1:
        c = core[0]
        if is_cjk(c):
            return len(c) >= 2
        return len(c) >= 3 and c not in COMMON_WORDS and not c.isdigit()
    return not all(c in COMMON_WORDS for c in core)


def _inside_key(tokens: tuple[str, ...]) -> str | None:
    """The automaton key for finding ``tokens`` inside a longer name, or None when too weak."""
    if len(tokens) == 1:
        t = tokens[0]
        if is_cjk(t):
            return t if len(t) >= 3 else None  # two-character words are everywhere in Chinese
        return f" {t} "
    return " " + " ".join(tokens) + " "


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        for raw in sig.values:
            o = parse(raw.strip())
            if not o.bare:
                continue
            if sig.negative:
                ix.negatives[o.full[0]].append((o.full, sig))
                continue
            e = _Entry(sig, sig.entity, o.legal)
            # any text whose bare words (or core) match contains each of them, NFKC-case-folded
            ix.words.add(max(o.bare, key=len))
            # a matching name holds every bare word (exact, full and inside matches) or every
            # core word (mark matches; the core is part of the bare words)
            _add_anchor(ix, o.core if _is_mark(o.core) and (sig.product is None or o.core == o.bare) else o.bare)
            if len(o.bare) == 1 and o.bare[0] in COMMON_WORDS:
                # "SPRING (SG) PTE. LTD.": an ordinary word only names the entity spelled in full
                ix.full_names[" ".join(o.full)].append(e)
                continue
            ix.names[o.bare_key].append(e)
            # a full name inside a longer text, when the name has a distinctive core ("Pacific
            # Networks" is inside "First Pacific Networks, Inc.", another company)
            if _is_mark(o.core) and (len(o.bare) >= 2 or (is_cjk(o.bare[0]) and len(o.bare[0]) >= 3)):
                k = _inside_key(o.bare)
                if k:
                    ix.inside_entries[k].append(("name-inside", e))
            # a product's mark names the product only as spelled ("Huawei Cloud" is not every "Huawei ...")
            if _is_mark(o.core) and (sig.product is None or o.core == o.bare):
                ix.marks[o.core_key].append(e)
                k = _inside_key(o.core)
                if k:
                    ix.inside_entries[k].append(("mark-inside", e))
                ix.words.add(max(o.core, key=len))
    for k in ix.inside_entries:
        ix.inside.add_word(k, k)
    if ix.inside_entries:
        ix.inside.make_automaton()
    # a value that contains none of these words cannot match: most values are ruled out here
    for w in ix.words | {max(words, key=len) for negs in ix.negatives.values() for words, _ in negs}:
        ix.quick.add_word(w, w)
    if len(ix.quick):
        ix.quick.make_automaton()
    return ix


def _add_anchor(ix: Index, tokens: tuple[str, ...]) -> None:
    """The prefilter anchor of a name whose matches all hold ``tokens``: the rarest one, a whole
    alphanumeric run (a substring within a Chinese or Japanese run), or its dotted spelling."""
    plain = [t for t in tokens if not is_cjk(t)]
    a = token_anchor(plain) if plain else token_anchor(tokens, bounded=False)
    if a is None:
        return
    ix.anchors.add(a)
    d = dotted(a[0])
    if d is not None:
        ix.anchors.add(d)


def _may_match(ix: Index, value: str) -> bool:
    v = value[:MAX_CHARS]
    v = v.lower() if v.isascii() else unicodedata.normalize("NFKC", v).casefold()
    for _ in ix.quick.iter(v):
        return True
    return False


def _negated(ix: Index, full: tuple[str, ...]) -> list[CompiledSignature]:
    out = []
    for i, tok in enumerate(full):
        for words, sig in ix.negatives.get(tok, ()):
            if full[i:i + len(words)] == words:
                out.append(sig)
    return out


def _best(found: dict[tuple[str, str], tuple[str, _Entry]], how: str, e: _Entry) -> None:
    k = (e.sig.family, e.entity)
    if k not in found or _RANK[how] > _RANK[found[k][0]]:
        found[k] = (how, e)


def _value_hits(ix: Index, fld: str, value: str, out: list[Hit]) -> None:
    o = parse(value)
    if not o.bare:
        return
    for neg in _negated(ix, o.full) if ix.negatives else ():
        out.append(Hit(neg, fld, value, "strong", f"org:{value}"))
    found: dict[tuple[str, str], tuple[str, _Entry]] = {}
    for e in ix.names.get(o.bare_key, ()):
        if compatible(o.legal, e.legal):
            _best(found, "exact", e)
    for e in ix.full_names.get(" ".join(o.full), ()):
        _best(found, "exact", e)
    for e in ix.marks.get(o.core_key, ()):
        _best(found, "core", e)
    if ix.inside_entries:
        for _, k in ix.inside.iter(" " + o.bare_key + " "):
            for how, e in ix.inside_entries[k]:
                _best(found, how, e)
    best: dict[str, tuple[str, _Entry]] = {}  # one hit per family and value
    for (fam, _), (how, e) in found.items():
        if fam not in best or _RANK[how] > _RANK[best[fam][0]]:
            best[fam] = (how, e)
    home = fld in _HOME
    for how, e in best.values():
        strength = _STRENGTH[how][0 if home else 1]
        # outside publisher-like fields an organisation name is corroboration only: it adds
        # nothing to another signature's hit on the same value (see base.EXTRA_KEY)
        key = f"org:{value}" if home else f"{EXTRA_KEY}{value}"
        out.append(Hit(e.sig, fld, value, strength, key, e.entity))


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    if len(ix.quick):
        for fld, value in field_items(obs, _TEXT_FIELDS):
            if _may_match(ix, value):
                _value_hits(ix, fld, value, out)
    return out


def anchors(ix: Index) -> Iterable[Anchor]:
    return ix.anchors
