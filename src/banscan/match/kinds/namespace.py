"""Namespaces a vendor owns in a package ecosystem, compared the way each ecosystem's tools do.

A signature's ``ecosystem`` says how its values are read:

* ``maven``: a groupId prefix (``com.bytedance``): the group itself and every group below it on
  ``.`` boundaries (``com.bytedance.ies.ugc.aweme:opensdk``); Maven Central only publishes a
  groupId under a reversed domain to whoever proves they own the domain;
* ``npm``: a scope (``@douyinfe``): every package of the scope;
* ``nuget``: a reserved ID prefix (``Huawei.Agconnect``): the id itself and ids below it on ``.``;
* ``go``: a module path prefix (``github.com/bytedance``) on ``/`` boundaries;
* ``docker`` / ``oci``: an image namespace (``docker.io/bytedance``, ``ghcr.io/volcengine``); image
  references are completed the way Docker does (``bytedance/x:1`` is ``docker.io/bytedance/x``);
* ``bundle``: an Android / Apple bundle-id prefix (``com.huawei``) on ``.`` boundaries;
* ``winget``: a publisher segment of package identifiers (``Tencent`` for ``Tencent.COSBrowser``);
  winget-pkgs moderates but does not verify it, so such signatures are usually ``medium``;
* ``pypi`` (no namespaces): a vendor mark.  Names are compared as PEP 503 canonical names
  (``packaging.utils.canonicalize_name``: ``Volcengine_Python_SDK`` is ``volcengine-python-sdk``);
  a name that *begins* with the mark followed by a separator (or is the mark) is one step weaker
  than the signature (``likely`` for a strong one); the mark as a later word of the name is weak
  (``possible``).

Elsewhere a hit has the signature's strength: ``strong`` (``certain``) when the namespace is the
vendor's.  Values are read from the ``package`` field (with ``ecosystem``), from ``purl`` and,
for ``bundle``, from ``bundle_id``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qs, unquote

from banscan.match.anchoring import Anchor, id_anchor
from banscan.match.base import EXTRA_KEY, Hit, signatures_of
from banscan.match.normalize import pypi_name
from banscan.match.purls import purl_core, purl_package
from banscan.match.rules import WEAKER
from banscan.model import F, Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("namespace",)
FIELDS = frozenset({F.PACKAGE, F.PURL, F.BUNDLE_ID})

# ecosystem spellings of observations and purl types -> the namespace table they use
_ECO = {
    "maven": "maven", "gradle": "maven",
    "npm": "npm",
    "nuget": "nuget",
    "go": "go", "golang": "go",
    "docker": "docker", "oci": "docker", "container": "docker",
    "pypi": "pypi", "python": "pypi",
    "bundle": "bundle", "android": "bundle", "ios": "bundle", "apple": "bundle",
    "winget": "winget",
}
_SEP = {"maven": ".", "nuget": ".", "go": "/", "docker": "/", "bundle": ".", "winget": "."}


def canonical_image(ref: str) -> str:
    """``registry/namespace/name`` of an image reference, without tag or digest, lower-case."""
    r = ref.strip().lower().split("@", 1)[0]
    head, _, last = r.rpartition("/")
    last = last.split(":", 1)[0]
    r = f"{head}/{last}" if head else last
    first = r.split("/", 1)[0]
    if "/" not in r:
        return f"docker.io/library/{r}"
    if "." in first or ":" in first or first == "localhost":
        return r.replace("index.docker.io/", "docker.io/", 1)
    return f"docker.io/{r}"


def canonical(eco: str, name: str) -> str:
    """A package name as its ecosystem's tools compare it (``eco`` is a table name)."""
    n = name.strip()
    if eco == "pypi":
        return pypi_name(n)
    if eco == "maven":
        return n.lower().split(":", 1)[0].replace("/", ".")  # the groupId
    if eco == "docker":
        return canonical_image(n)
    return n.lower()


def _table() -> defaultdict[str, list[CompiledSignature]]:
    return defaultdict(list)


@dataclass
class Index:
    prefixes: dict[str, dict[str, list[CompiledSignature]]] = field(
        default_factory=lambda: defaultdict(_table))  # a named function: the index can be pickled
    marks: dict[tuple[str, ...], list[CompiledSignature]] = field(default_factory=lambda: defaultdict(list))
    anchors: set[Anchor] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        eco = _ECO.get((sig.ecosystem or "").lower())
        if eco is None:
            continue
        for raw in sig.values:
            v = raw.strip().rstrip("*").rstrip("./")
            if not v:
                continue
            if eco == "pypi":
                ix.marks[tuple(pypi_name(v).split("-"))].append(sig)
            elif eco == "docker":
                ix.prefixes[eco][v.lower().replace("index.docker.io/", "docker.io/")].append(sig)
            elif eco == "npm":
                ix.prefixes[eco]["@" + v.lower().lstrip("@")].append(sig)
            else:
                ix.prefixes[eco][v.lower()].append(sig)
            # the rarest alphanumeric run: present however the raw text spells separators or
            # escapes "/" (the registry host of an image is not: the namespace is); a namespace
            # starts a name and ends on a separator (a PyPI mark is a whole word)
            ns = v.split("/", 1)[1] if eco == "docker" and "/" in v else v.lstrip("@")
            a = id_anchor(ns, True, True)
            if not sig.negative and a is not None:
                ix.anchors.add(a)
    return ix


def _prefix_hits(ix: Index, eco: str, name: str, fld: str, value: str, out: list[Hit]) -> None:
    table = ix.prefixes.get(eco)
    if not table:
        return
    c = canonical(eco, name)
    if eco == "npm":
        if c.startswith("@") and "/" in c:
            for s in table.get(c.split("/", 1)[0], ()):
                out.append(Hit(s, fld, value, s.strength, f"ns:{c}"))
        return
    sep = _SEP[eco]
    # every prefix of the name ending on a separator, and the name itself: one look-up each
    i = c.find(sep)
    while i != -1:
        for s in table.get(c[:i], ()):
            out.append(Hit(s, fld, value, s.strength, f"ns:{c}"))
        i = c.find(sep, i + 1)
    for s in table.get(c, ()):
        out.append(Hit(s, fld, value, s.strength, f"ns:{c}"))


@lru_cache(maxsize=65536)
def _words(name: str) -> tuple[str, ...]:
    return tuple(pypi_name(name).split("-"))


def _mark_hits(ix: Index, name: str, fld: str, value: str, out: list[Hit]) -> None:
    if not ix.marks:
        return
    words = _words(name)
    first: dict[str, tuple[int, CompiledSignature]] = {}  # signature id -> earliest position of a mark
    for mark, sigs in ix.marks.items():
        n = len(mark)
        pos = next((i for i in range(len(words) - n + 1) if words[i:i + n] == mark), None)
        if pos is None:
            continue
        for s in sigs:
            if s.id not in first or pos < first[s.id][0]:
                first[s.id] = (pos, s)
    canon = "-".join(words)
    for pos, s in first.values():
        if pos == 0:
            out.append(Hit(s, fld, value, WEAKER[s.strength], f"ns:{canon}"))
        else:  # a mark later in the name: possible, and no extra weight to other hits on it
            out.append(Hit(s, fld, value, "weak", f"{EXTRA_KEY}{canon}"))


def _purl_name(purl: str) -> tuple[str, str] | None:
    """(table, name) of a purl; container images are completed from ``repository_url``."""
    core = purl_core(purl)
    parsed = purl_package(purl)
    if core is None or parsed is None:
        return None
    typ = core[4:].partition("/")[0]
    eco = _ECO.get(parsed[0])
    if eco is None:
        return None
    if eco in ("docker", "go"):
        path = unquote(core[4:].partition("/")[2].split("@", 1)[0])
        if eco == "docker":
            q = parse_qs(purl.split("?", 1)[1].split("#", 1)[0]) if "?" in purl else {}
            repo = unquote(q.get("repository_url", [""])[0]).strip().rstrip("/").lower()
            if repo:  # oci: the whole repository; docker: the registry
                path = repo if typ == "oci" else f"{repo}/{path}"
        return eco, path
    return eco, parsed[1]


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    if not ix.prefixes and not ix.marks:
        return out
    eco = _ECO.get((obs.first(F.ECOSYSTEM) or "").lower())
    names: list[tuple[str, str, str, str]] = []  # (table, name, field, observed value)
    if eco is not None:
        names += [(eco, p, F.PACKAGE, p) for p in obs.values(F.PACKAGE)]
    for purl in obs.values(F.PURL):
        got = _purl_name(purl)
        if got is not None:
            names.append((got[0], got[1], F.PURL, purl))
    names += [("bundle", b, F.BUNDLE_ID, b) for b in obs.values(F.BUNDLE_ID)]
    for table, name, fld, value in names:
        if table == "pypi":
            _mark_hits(ix, name, fld, value, out)
        else:
            _prefix_hits(ix, table, name, fld, value, out)
    return out


def anchors(ix: Index) -> Iterable[Anchor]:
    return ix.anchors
