"""The reader registry (banscan.sources): readers are imported when first needed, and the cheap
head tests that let ``detect`` pass a reader by without importing it never change its answer."""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest
from sharedsamples import SHARED_SAMPLES

import banscan.sources as sources
from banscan.sources import HEAD_BYTES, SOURCES, Source, by_name, detect, names, text_head

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _files() -> list[Path]:
    roots = [FIXTURES] + ([SHARED_SAMPLES] if SHARED_SAMPLES.is_dir() else [])
    return sorted(p for r in roots for p in r.rglob("*") if p.is_file())


def _heads() -> list[tuple[str, bytes]]:
    """Every fixture's and shared sample's head, as is and as other encodings and layouts of the
    same text would present it (BOMs, UTF-16, leading blank lines, a cut head)."""
    out: list[tuple[str, bytes]] = []
    for p in _files():
        head = p.read_bytes()[:HEAD_BYTES]
        out.append((str(p), head))
        if b"\x00" not in head[:4096]:
            text = head.decode("utf-8", errors="replace")
            out.append((f"{p} (BOM)", codecs.BOM_UTF8 + head))
            out.append((f"{p} (UTF-16)", text.encode("utf-16")))
            out.append((f"{p} (leading blank lines)", b"\n \r\n\t" + head))
            out.append((f"{p} (first 300 bytes)", head[:300]))
    rnd = random.Random(11)
    out += [("random", rnd.randbytes(4096)), ("empty", b""), ("spaces", b"   \n\n"), ("brace", b"{"),
            ("xml", b"<x/>"), ("array", b"[]")]
    return out


HEADS = _heads()


def _reference(head: bytes, path: str) -> Source | None:
    """``detect`` as it was before head tests: the first source whose sniff says yes."""
    for s in SOURCES:
        try:
            if s.sniff(head, path):
                return s
        except Exception:  # noqa: BLE001 - as detect: a failing sniffer does not recognise the input
            continue
    return None


def test_every_registered_reader_loads_as_the_source_it_names() -> None:
    assert names() == [s.name for s in SOURCES]
    assert len(set(names())) == len(SOURCES)
    for s in SOURCES:
        assert by_name(s.name) is s
        assert isinstance(s, Source)
    with pytest.raises(KeyError):
        by_name("no-such-format")


def test_head_tests_are_implied_by_the_sniffers() -> None:
    """A head test may say no only where the reader's own sniff says no."""
    assert len(HEADS) > 50
    tested = 0
    for reader in sources.READERS:
        if reader.head_test is None:
            continue
        src = reader.load()
        for where, head in HEADS:
            try:
                yes = src.sniff(head, where)
            except Exception:  # noqa: BLE001
                yes = False
            if yes:
                tested += 1
                assert reader.head_test(text_head(head)), (reader.name, where)
    assert tested > 20


def test_detect_picks_what_sniffing_every_reader_in_order_picks() -> None:
    picked = set()
    for where, head in HEADS:
        got = detect(head, where)
        assert got is _reference(head, where), where
        if got is not None:
            picked.add(got.name)
    assert {"osquery", "cyclonedx-json", "cyclonedx-xml", "zeek", "nmap"} <= picked
