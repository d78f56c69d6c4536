"""Helpers shared by the software-inventory sources (not a source itself)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

import re2

if TYPE_CHECKING:
    import ijson
else:
    class _Ijson:
        """ijson, imported when a JSON document is first streamed: a scan of line-oriented logs
        imports the JSON readers to sniff its inputs but never streams one."""

        def __getattr__(self, name: str) -> Any:
            import ijson

            return getattr(ijson, name)

    ijson = _Ijson()

from banscan.model import F
from banscan.sources.limits import LimitExceeded, Limits, guard_json

# --------------------------------------------------------------------------------------------
# JSON


def ptr(*parts: object) -> str:
    """An RFC 6901 JSON Pointer from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class CountingReader:
    """Wraps a binary stream and counts the bytes handed to the parser.

    With ``limits``, the bytes are first checked by a :class:`~banscan.sources.limits.JsonGuard`
    (nesting, number and string sizes), so that the JSON parser never sees input past a limit.
    """

    def __init__(self, raw: BinaryIO | Any, limits: Limits | None = None) -> None:
        self.raw = guard_json(raw, limits) if limits is not None else raw
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        b = self.raw.read(n)
        self.pos += len(b)
        return b


def build(events: Iterator[tuple[str, str, Any]], event: str, value: Any) -> Any:
    """Build the JSON value that starts with (``event``, ``value``) from an ijson event stream."""
    if event not in ("start_map", "start_array"):
        return value
    b = ijson.ObjectBuilder()
    b.event(event, value)
    depth = 1
    for _prefix, ev, val in events:
        b.event(ev, val)
        if ev == "start_map" or ev == "start_array":
            depth += 1
        elif ev == "end_map" or ev == "end_array":
            depth -= 1
            if depth == 0:
                return b.value
    raise ijson.IncompleteJSONError("premature end of input")


def json_error_message(exc: Exception, reader: CountingReader) -> str:
    if isinstance(exc, LimitExceeded):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"invalid or truncated JSON near byte offset {reader.pos}: {text}"


def skip_bom(head: bytes) -> bytes:
    return head[3:] if head.startswith(b"\xef\xbb\xbf") else head


# --------------------------------------------------------------------------------------------
# field helpers


def s(v: Any) -> str:
    """A clean string for a scalar, '' for anything else or for NOASSERTION/NONE."""
    if v is None or isinstance(v, (dict, list, bool)):
        return ""
    t = str(v).strip()
    if t.upper() in ("NOASSERTION", "NONE"):
        return ""
    return t


def put(fields: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only when ``value`` is a non-empty string and the key is not set yet."""
    if key in fields:
        return
    v = s(value)
    if v:
        fields[key] = v


def put_all(fields: dict[str, Any], key: str, values: list[Any]) -> None:
    """Set ``key`` to every distinct non-empty value: one as a string, several as a tuple."""
    vs = list(dict.fromkeys(v for v in (s(x) for x in values) if v))
    if vs and key not in fields:
        fields[key] = vs[0] if len(vs) == 1 else tuple(vs)


# Package types whose namespace is part of the package's identity within the ecosystem.
_NS_SLASH = {"golang", "composer", "github", "bitbucket", "swift", "docker", "huggingface", "cocoapods"}


def purl_fields(fields: dict[str, Any], purl: Any) -> None:
    """Set purl, ecosystem and package from a Package URL (leniently: a bad purl is kept as-is)."""
    purl = s(purl)
    if not purl:
        return
    put(fields, F.PURL, purl)
    try:
        from packageurl import PackageURL

        p = PackageURL.from_string(purl)
    except Exception:  # noqa: BLE001 - an unparsable purl is still shown
        return
    put(fields, F.ECOSYSTEM, p.type)
    ns, name = p.namespace or "", p.name or ""
    if not name:
        return
    if p.type == "npm" and ns:
        pkg = f"{ns}/{name}" if ns.startswith("@") else f"@{ns}/{name}"
    elif p.type in ("maven", "gradle", "sbt") and ns:
        pkg = f"{ns}:{name}"
    elif p.type in _NS_SLASH and ns:
        pkg = f"{ns}/{name}"
    else:
        pkg = name
    put(fields, F.PACKAGE, pkg)


_X500_RE = re2.compile(r"(?i)(?:^|,)\s*(O|CN)\s*=\s*(\"[^\"]*\"|[^,]*)")
_GUIDISH = re2.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")


_X500_START = re2.compile(r"(?i)^\s*(CN|O|OU|L|S|C)\s*=")


def is_x500(value: str) -> bool:
    return bool(_X500_START.match(value))


def x500_org(value: str) -> str:
    """The organisation of an X.500 name (``CN=..., O=Microsoft Corporation, ...``): O= else CN=.

    A CN that is only a GUID (Store-signed AppX packages) names no organisation: ''.
    """
    found: dict[str, str] = {}
    for m in _X500_RE.finditer(value):
        found.setdefault(m.group(1).upper(), m.group(2).strip().strip('"').strip())
    org = found.get("O") or found.get("CN") or ""
    return "" if _GUIDISH.match(org) else org


_PARTY_RE = re2.compile(r"(?i)^\s*(Organization|Person|Tool)\s*:\s*")
_CONTACT_RE = re2.compile(r"\s*(\([^()]*\)|<[^<>]*>)\s*$")


def spdx_party(value: Any) -> str:
    """``Organization: Acme (x@y)`` -> ``Acme``; NOASSERTION -> ''."""
    v = s(value)
    if not v:
        return ""
    v = _PARTY_RE.sub("", v)
    v = _CONTACT_RE.sub("", v).strip()
    return s(v)


# --------------------------------------------------------------------------------------------
# package metadata: the sites and e-mail addresses of a package's publisher

# CycloneDX externalReferences types that are the component's own sites (documentation,
# issue trackers, advisories ... may well be someone else's: a client links to the API it calls)
CDX_REF_FIELDS = {"website": F.HOMEPAGE, "vcs": F.REPOSITORY, "distribution": F.DOWNLOAD_URL}

# Well-known Project-URL labels (PEP 753, https://packaging.python.org/en/latest/specifications/
# well-known-project-urls/) that name the project's own sites, after the spec's label normalisation.
_PROJECT_URL_FIELDS = {"homepage": F.HOMEPAGE, "source": F.REPOSITORY, "repository": F.REPOSITORY,
                       "sourcecode": F.REPOSITORY, "github": F.REPOSITORY, "download": F.DOWNLOAD_URL}
_LABEL_DROP = str.maketrans("", "", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\r\x0b\x0c")


def project_url_field(label: str) -> str | None:
    """The field of a Python ``Project-URL`` label (``Home-page`` -> homepage), None for the others."""
    return _PROJECT_URL_FIELDS.get(label.translate(_LABEL_DROP).lower())


def project_url(value: Any) -> tuple[str, str] | None:
    """(field, URL) of a core-metadata ``Project-URL`` value ``"Label, URL"``; None when not one of ours."""
    label, sep, url = s(value).partition(",")
    fld = project_url_field(label) if sep else None
    return (fld, url.strip()) if fld and url.strip() else None


def add_values(fields: dict[str, Any], key: str, values: Any) -> None:
    """Add the non-empty values (a string or a list) to ``key``, keeping values already there."""
    new = [values] if isinstance(values, str) else list(values or [])
    old = list(fields[key]) if isinstance(fields.get(key), tuple) else ([fields[key]] if key in fields else [])
    vs = list(dict.fromkeys(v for v in (s(x) for x in old + new) if v))
    if vs:
        fields[key] = vs[0] if len(vs) == 1 else tuple(vs)


_PARTY_MAIL_RE = re2.compile(r"[(<]\s*([^()<>\s]+@[^()<>\s]+)\s*[)>]\s*$")


def spdx_party_email(value: Any) -> str:
    """The e-mail of an SPDX 2 party: ``Person: Jane Doe (jane@x.org)`` -> ``jane@x.org``, else ''."""
    m = _PARTY_MAIL_RE.search(s(value))
    return m.group(1) if m else ""


_CONTACT_MAIL_RE = re2.compile(r"^(.*?)\s*[<(]\s*([^<>()\s]+@[^<>()\s]+)\s*[>)]\s*(?:\([^()]*\))?\s*$")
_BARE_MAIL_RE = re2.compile(r"^[^<>()\s]+@[^<>()\s]+$")


def split_contact(value: Any) -> tuple[str, str]:
    """(name, e-mail) of a person or organisation text: ``Jane <jane@x.org>``, ``Jane (jane@x.org)``,
    npm's ``Jane <jane@x.org> (https://x.org)``, or a bare ``jane@x.org``; ('text', '') otherwise.

    The name is publisher text; the address is e-mail evidence, read for its domain only (so a
    vendor word inside an address never counts as the vendor's name)."""
    v = s(value)
    if "@" not in v:
        return v, ""
    if _BARE_MAIL_RE.match(v):
        return "", v
    m = _CONTACT_MAIL_RE.match(v)
    if m:
        return m.group(1).strip(" ,;"), m.group(2)
    return v, ""


def python_metadata_fields(home_page: Any, download_url: Any, project_urls: Any, author_email: Any,
                           maintainer_email: Any) -> dict[str, Any]:
    """Observation fields from Python core metadata (``Home-page``, ``Download-URL``, the
    ``Project-URL`` values ``"Label, URL"`` with a well-known label, ``Author-email``,
    ``Maintainer-email``); the ``UNKNOWN`` that old setuptools wrote is no value."""
    fields: dict[str, Any] = {}
    urls = project_urls if isinstance(project_urls, list) else [project_urls]
    for fld, value in ((F.HOMEPAGE, home_page), (F.DOWNLOAD_URL, download_url)):
        if s(value) and s(value) != "UNKNOWN":
            add_values(fields, fld, [value])
    for value in urls:
        pu = project_url(value)
        if pu:
            add_values(fields, pu[0], [pu[1]])
    for fld, value in ((F.AUTHOR_EMAIL, author_email), (F.MAINTAINER_EMAIL, maintainer_email)):
        if "@" in s(value):
            add_values(fields, fld, [value])
    return fields
