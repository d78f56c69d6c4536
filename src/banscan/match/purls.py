"""Package URLs read the way the matcher compares them."""

from __future__ import annotations

from urllib.parse import unquote

# purl types whose ecosystem name in the registry differs
_ECO = {"gem": "rubygems", "golang": "go"}


def purl_core(purl: str) -> str | None:
    """``pkg:type/namespace/name@version`` lower-cased, without qualifiers and subpath; None if not a purl."""
    core = purl.strip().lower().split("?", 1)[0].split("#", 1)[0]
    if core.startswith("pkg:") and "/" in core:
        return core
    return None


def purl_package(purl: str) -> tuple[str, str] | None:
    """(ecosystem, package name as the ecosystem writes it) for a purl, or None.

    Maven ``group/artifact`` becomes ``group:artifact``; npm ``%40scope/name`` becomes ``@scope/name``.
    """
    core = purl_core(purl)
    if core is None:
        return None
    typ, _, rest = core[4:].partition("/")
    scoped = ""
    for at in ("%40", "@"):  # an npm scope, percent-encoded as the spec asks, or not
        if rest.startswith(at):
            scoped, rest = "@", rest[len(at):]
            break
    name = scoped + rest.split("@", 1)[0]
    if typ == "maven" and "/" in name:
        name = name.replace("/", ":", 1)
    return _ECO.get(typ, typ), unquote(name)
