"""The contract every input reader follows.

A source is a small object with a ``name``, a ``description``, the ``documentation_url`` of the
format it reads, a ``sniff(head, path)`` that recognises the format from the first bytes of the
input (never from the file name alone), and a ``read(stream, ctx)`` generator that streams
:class:`~banscan.model.Observation` and :class:`~banscan.model.Problem` items.

Rules for ``read``:

* Stream: never load a whole file when records can be read one at a time.
* Every observation carries a Locator: an RFC 6901 JSON Pointer for JSON documents
  (``/components/12``), ``line N`` (1-based) for line-oriented files, an XPath-like path for XML.
* A bad record yields a ``Problem`` and reading goes on; an unreadable input yields one
  ``Problem(fatal=True)`` naming the place (line or byte offset) and stops.
* Where the input bends its specification but its meaning is clear, read it and call
  ``ctx.deviation(...)`` so the input's report entry says so.
* Line-oriented sources may call ``ctx.prefilter(raw_line)``: when it returns False no
  signature can match the record, and the source may skip parsing it, calling
  ``ctx.skipped(asset)`` instead so that counts and covered assets stay right.
* XML is parsed only with defusedxml (entity expansion and external entities refused).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol, runtime_checkable

from banscan.model import EvidenceClass, Locator, Observation, Problem
from banscan.sources.limits import Limits

HEAD_BYTES = 65536
MAX_RECORD_NOTES = 20  # record-level errors noted one by one; the rest are counted


@dataclass
class ReadContext:
    path: str  # the input's name as shown to the user ("-" for stdin)
    asset: str  # default asset name for single-asset inputs (--asset, else derived from the path)
    prefilter: Callable[[str], bool] | None = None
    observations: int = 0  # records read, including skipped ones
    assets: dict[str, set[str]] = field(default_factory=dict)  # asset -> evidence classes seen
    deviations: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    records_skipped: int = 0  # records skipped for a record-level error (noted in deviations)
    # a reader that keeps state from line to line starts from this one (the block scanner's note of
    # the state in force where its block starts; banscan.fast.blocks)
    resume: dict[str, Any] | None = None
    _last_seen: Observation | None = field(default=None, repr=False)

    def loc(self, locator: str) -> Locator:
        return Locator(self.path, locator)

    def skipped(self, asset: str, evidence_class: EvidenceClass, n: int = 1) -> None:
        """Count ``n`` records that were read but could not match any signature."""
        self.observations += n
        self.assets.setdefault(asset, set()).add(evidence_class.value)

    def seen(self, obs: Observation) -> None:
        """Count an observation (the scanner calls this for every one a source yields; a source
        may call it too: the same object is counted once)."""
        if obs is self._last_seen:
            return
        self._last_seen = obs
        self.observations += 1
        self.assets.setdefault(obs.asset, set()).add(obs.evidence_class.value)

    def deviation(self, message: str) -> None:
        if message not in self.deviations:
            self.deviations.append(message)

    def long_line(self, lineno: int) -> None:
        """Line ``lineno`` is longer than max_line_bytes: it is skipped, noted as a record skipped."""
        from banscan.sources.limits import long_line_message

        self.record_error(f"line {lineno}", long_line_message(lineno, self.limits))

    def record_error(self, locator: str, message: str) -> None:
        """One record could not be read: it is skipped, the rest of the input is read, and the
        input's deviations say so (the first few one by one, then a count)."""
        self.records_skipped += 1
        if self.records_skipped <= MAX_RECORD_NOTES:
            self.deviation(f"{locator}: record skipped: {message}")

    def finish_notes(self) -> None:
        """Called once the input is read: the count of record-level errors not listed."""
        more = self.records_skipped - MAX_RECORD_NOTES
        if more > 0:
            self.deviation(f"{more} more record(s) skipped for errors like the ones above")


@runtime_checkable
class Source(Protocol):
    name: str
    description: str
    documentation_url: str

    def sniff(self, head: bytes, path: str) -> bool:
        """True when ``head`` (the first bytes of the input) is this format."""
        ...

    def read(self, stream: BinaryIO, ctx: ReadContext) -> Iterator[Observation | Problem]:
        """Stream observations and problems from ``stream``."""
        ...


def text_head(head: bytes) -> str:
    """The head decoded leniently, without a BOM, for sniffing."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head.decode("utf-16", errors="replace")
        except Exception:  # noqa: BLE001 - sniffing never fails
            return ""
    return head.decode("utf-8", errors="replace")


def read_lines(stream: BinaryIO, ctx: ReadContext) -> Iterator[tuple[int, bytes]]:
    """``(line number, raw line)`` of a line-oriented input, each at most ``max_line_bytes``
    long: a longer line is skipped (never held in memory) and noted as a record-level error."""
    from banscan.sources.limits import bounded_lines

    for lineno, raw in bounded_lines(stream, ctx.limits):
        if raw is None:
            ctx.long_line(lineno)
            continue
        yield lineno, raw
