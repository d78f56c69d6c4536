"""The contract every report format follows.

A reporter has a ``name`` (the ``--format`` value), a ``media_type``, a file ``suffix`` and
``write(result, registry, out, options)`` that streams the rendering of a
:class:`~banscan.scan.ScanResult` into a text stream.  Inventory strings are hostile: escape
them for the format written (HTML, Markdown, CSV formulas, terminal markup).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TextIO, runtime_checkable

if TYPE_CHECKING:
    from banscan.registry import Registry
    from banscan.scan import ScanResult


@runtime_checkable
class Reporter(Protocol):
    name: str
    description: str
    media_type: str
    suffix: str

    def write(self, result: ScanResult, registry: Registry, out: TextIO, options: dict[str, Any]) -> None:
        ...
