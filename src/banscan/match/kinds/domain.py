"""DNS names: listed domains (and their subdomains, on label boundaries), and family marks as the
registrable label under any public suffix.

A value ``kaspersky.com`` matches ``kaspersky.com`` and ``*.kaspersky.com``.  A value
``kaspersky.*`` matches every name whose registrable domain, by the Public Suffix List's ICANN
section, is ``kaspersky.<suffix>`` (``kaspersky.com.br``, ``update.kaspersky.it``) and never
``notkaspersky.com``, ``kaspersky.com.example.net`` or a name under a private suffix
(``kaspersky.github.io`` is anyone's).  Work per name is linear in its length.

The same table says who controls a site, which is what package metadata tells about a package's
publisher.  The host of a ``homepage``, ``repository`` or ``download_url`` (parsed as a URL:
``https://huawei.com@evil.net/`` is on ``evil.net``; ``git@host:path`` and a bare ``host/path``
are read too) and the domain of an ``author_email`` or ``maintainer_email`` are looked up like a
DNS name, and a hit is marked as naming the package's *publisher* (``Hit.publisher``), not one of
the family's products or services:

* a URL on the family's domain (``https://code.byted.org/infra/bytedbolt``,
  ``https://developer.huawei.com/...``): ``medium`` (likely) at most -- the publisher controls
  that site, but package metadata is written by whoever uploads the package and no registry
  checks it, so it is never certain on its own.  Several such URLs count once per family;
* an e-mail on the family's domain: ``weak`` (possible), and it adds nothing to other evidence
  (``Matcher``): an employee's address on a private project does not make it the company's.
  Only a homepage on the family's domain makes such a package likely.

Hosts under shared hosting (``bytedance.github.io``, ``github.com/bytedance``), placeholders
(``example.com``) and look-alikes are nobody's in the table and give nothing.  A negative domain
(a trap: Honor's sites after the sale) only keeps that URL from counting; since anyone can write
any URL into metadata, it never suppresses the family's other evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from banscan.match.anchoring import Anchor, free, id_anchor
from banscan.match.base import Hit, signatures_of
from banscan.match.normalize import anchor
from banscan.model import F, Observation
from banscan.registry import CompiledSignature, Registry

KINDS = ("domain",)
SITE_FIELDS = (F.HOMEPAGE, F.REPOSITORY, F.DOWNLOAD_URL)
MAIL_FIELDS = (F.AUTHOR_EMAIL, F.MAINTAINER_EMAIL)
FIELDS = frozenset({F.DOMAIN, *SITE_FIELDS, *MAIL_FIELDS})
MAX_VALUE = 2048  # a longer URL or address list is cut (its host comes first anyway)
MAX_NAME = 253  # RFC 1035: longer is not a DNS name; only its last labels could matter anyway


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    """The ICANN section of the Public Suffix List bundled with ``publicsuffixlist``, parsed once
    and kept in the compiled cache (keyed by the list file's bytes and the package's version)."""
    import publicsuffixlist

    from banscan.fast.regcache import cached, key_of

    def build() -> PublicSuffixList:
        return PublicSuffixList(only_icann=True)

    version = str(getattr(publicsuffixlist, "__version__", "")).encode()
    psl = cached("psl", key_of([version, b"only_icann"], [Path(publicsuffixlist.PSLFILE)], code=False), build)
    return psl if isinstance(psl, PublicSuffixList) else build()


def clean(name: str) -> str:
    """Lower-case, without the root dot, cut to the last MAX_NAME characters on a label boundary."""
    d = name.strip().lower().rstrip(".")
    if len(d) > MAX_NAME:
        tail = d[-MAX_NAME:]
        d = tail.split(".", 1)[1] if "." in tail else tail
    return d


def registrable(name: str) -> str | None:
    """The registrable domain of ``name`` under the ICANN public suffixes, or None."""
    d = clean(name)
    if not d or "." not in d:
        return None
    try:
        return _psl().privatesuffix(d)
    except (ValueError, UnicodeError):
        return None


@dataclass
class Index:
    listed: dict[str, list[CompiledSignature]] = field(default_factory=lambda: defaultdict(list))
    marks: dict[str, list[CompiledSignature]] = field(default_factory=lambda: defaultdict(list))
    max_labels: int = 0
    anchors: set[Anchor] = field(default_factory=set)


def compile(registry: Registry) -> Index:
    ix = Index()
    for sig in signatures_of(registry, KINDS):
        for raw in sig.values:
            v = raw.strip().lower().strip(".")
            if not v:
                continue
            if v.endswith(".*"):
                mark = v[:-2]
                ix.marks[mark].append(sig)
                if not sig.negative:
                    # the registrable label: a dot (or the end) follows it; no boundary before it,
                    # as a name cut to its last 253 characters may start inside a label
                    ix.anchors.add((mark, False, True) if mark.isascii() else free(anchor(mark)))
                continue
            ix.listed[v].append(sig)
            ix.max_labels = max(ix.max_labels, v.count(".") + 1)
            if not sig.negative:
                # the name and its subdomains: it ends the name (a dot or the end follows it)
                a = (v, False, True) if len(v) <= 40 and v.isascii() else id_anchor(v, False, True)
                if a is not None:
                    ix.anchors.add(a)
    return ix


def _suffixes(d: str, most: int) -> Iterable[str]:
    """``d`` and its parent domains, at most ``most`` labels long, shortest last."""
    ends: list[int] = []
    i = len(d)
    for _ in range(most):
        j = d.rfind(".", 0, i)
        if j == -1:
            ends.append(0)
            break
        ends.append(j + 1)
        i = j
    return (d[k:] for k in reversed(ends))


def domain_hits(ix: Index, name: str, fld: str, out: list[Hit]) -> None:
    d = clean(name)
    if not d:
        return
    if ix.listed:
        for suffix in _suffixes(d, ix.max_labels):
            for s in ix.listed.get(suffix, ()):
                out.append(Hit(s, fld, name, s.strength, f"domain:{d}"))
    if ix.marks:
        reg = registrable(d)
        if reg:
            label = reg.split(".", 1)[0]
            for s in ix.marks.get(label, ()):
                out.append(Hit(s, fld, name, s.strength, f"domain:{d}"))


@lru_cache(maxsize=65536)
def url_host(url: str) -> str | None:
    """The host of a URL as a browser or git would contact it, lower-case; None when there is none.

    ``https://user@huawei.com:8443/x`` -> ``huawei.com``; ``https://huawei.com@evil.net/`` ->
    ``evil.net`` (the part before ``@`` is a user name); ``git+https://...`` and ``git@host:path``
    (scp-like git) are read; a value without a scheme is read as ``host/path``
    (``www.huawei.com/x``).  npm shorthands (``github:user/repo``) have no host.
    """
    u = url.strip()[:MAX_VALUE]
    if not u or any(c.isspace() for c in u):
        return None
    if "://" not in u:
        head = u.split("/", 1)[0]
        if "@" in head and ":" in head.rsplit("@", 1)[1]:  # git@host:owner/repo.git
            scp_host = head.rsplit("@", 1)[1].split(":", 1)[0]
            return scp_host.lower().rstrip(".") or None
        if ":" in head and not head.split(":", 1)[1][:1].isdigit():
            return None  # a scheme without authority (github:user/repo, mailto:, file:)
        u = "//" + u
    try:
        host = urlsplit(u).hostname
    except ValueError:  # an unbalanced IPv6 bracket
        return None
    return host.rstrip(".") if host else None


@lru_cache(maxsize=65536)
def mail_domains(value: str) -> tuple[str, ...]:
    """The domains of the addresses in an e-mail field (``A <a@x.org>, b@y.com``), lower-case."""
    from email.utils import getaddresses  # only inputs with e-mail fields need it

    out: list[str] = []
    for _, addr in getaddresses([value[:MAX_VALUE]]):
        local, at, dom = addr.rpartition("@")
        dom = dom.strip().lower().rstrip(".")
        if at and local and dom and dom not in out:
            out.append(dom)
    return tuple(out)


def _publisher_hits(ix: Index, obs: Observation, out: list[Hit]) -> None:
    """Hits naming the publisher of a package from its metadata URLs and e-mails (best per family)."""
    best: dict[tuple[str, str], Hit] = {}  # (family, "site" | "mail") -> the strongest hit
    for kind, flds in (("site", SITE_FIELDS), ("mail", MAIL_FIELDS)):
        for fld in flds:
            for value in obs.values(fld):
                host = url_host(value) if kind == "site" else None
                names = ((host,) if host else ()) if kind == "site" else mail_domains(value)
                for name in names:
                    found: list[Hit] = []
                    domain_hits(ix, name, fld, found)
                    # a negative (a trap domain: Honor's sites are not Huawei's) only says that this
                    # site is not the family's; self-declared metadata never vetoes other evidence
                    negated = {h.sig.family for h in found if h.sig.negative}
                    for h in found:
                        if h.sig.negative or h.sig.family in negated:
                            continue
                        strength = ("weak" if h.sig.strength == "weak" else "medium") if kind == "site" else "weak"
                        hit = Hit(h.sig, fld, value, strength, f"{kind}:{registrable(name) or name}",
                                  publisher=kind)
                        k = (h.sig.family, kind)
                        if k not in best or (best[k].strength == "weak" and strength != "weak"):
                            best[k] = hit
    out.extend(best.values())


def lookup(ix: Index, obs: Observation) -> list[Hit]:
    out: list[Hit] = []
    for name in obs.values(F.DOMAIN):
        domain_hits(ix, name, F.DOMAIN, out)
    if any(f in obs.fields for f in SITE_FIELDS + MAIL_FIELDS):
        _publisher_hits(ix, obs, out)
    return out


def anchors(ix: Index) -> Iterable[Anchor]:
    return ix.anchors
