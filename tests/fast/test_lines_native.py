"""The block scanner's line scans: the C extension computes exactly what the Python functions
compute, on generated blocks built from the forms the scanner meets (osqueryd events, Zeek TSV
rows) and their broken neighbours (blank, header, short, cut, CRLF, escaped and quoted lines)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banscan.fast import lines

native = pytest.importorskip("banscan.fast._lines", reason="the C extension is not built here")

HOSTS = ["host-1", "host-2.corp", "h\u00e9", "", 'a"b', "a\\b"]
QUERIES = ["pack_inventory_programs", "deb_packages", "", "q\\x"]


def _event(q: str, h: str, tail: str) -> str:
    return f'{{"name":"{q}","hostIdentifier":"{h}","calendarTime":"x","columns":{{"name":"p"}}{tail}'


osq_line = st.one_of(
    st.builds(_event, st.sampled_from(QUERIES), st.sampled_from(HOSTS),
              st.sampled_from([',"action":"added"}', ',"action":"added"}\r', ',"action":"removed"}',
                               ',"action":"added"} ', ',"columns":{},"action":"added"}', ""])),
    st.sampled_from(["", "\r", "{}", '{"name":"q"', '{"name":"q","hostIdentifier":"h"',
                     '{"name":"q","hostIdentifier":"h",}"action":"added"}', '"columns":{"action":"added"}']),
    st.text(alphabet='{}":,\\\r\tabcn', max_size=40),
)
tsv_line = st.one_of(
    st.lists(st.sampled_from(["1.5", "10.0.0.1", "-", "", "x\ry", "k\u00e9", "#c"]), min_size=0, max_size=6)
    .map("\t".join),
    st.sampled_from(["", "\r", "#fields\tts", "#close", "a\tb\r"]),
)

# DNS query log lines: the BIND and dnsmasq forms built from parts, each part right or a near miss
# (a blank missing or doubled or a tab, "@0x" without hex or a blank after it, no address or port,
# an unclosed parenthesis, a view name with colons, a second "client" or "dnsmasq", log-queries=extra,
# a trailing carriage return, a control byte, a character beyond ASCII), and pieces joined at random
def _form(parts: list[list[str]]) -> st.SearchStrategy[str]:
    """Lines joined from parts: each part's first choice is right, the others are near misses;
    none, one or two parts are near misses."""
    return st.lists(st.integers(0, len(parts) - 1), max_size=2).flatmap(
        lambda bad: st.tuples(*(st.sampled_from(p[1:]) if i in bad and len(p) > 1 else st.just(p[0])
                                for i, p in enumerate(parts))).map("".join))


_WS = [" ", "\t", "  ", "", " \t"]
bind_line = _form([
    ["01-May-2024 00:00:00.003 queries: info: ", "", "my", "client x "], ["client"], _WS,
    ["@0x7f3a2c0a8b60 ", "", "@0x ", "@0xZZ ", "@0x7f3a", "@0x1\t"], ["10.4.148.85", "fe80::1", "", "10.0.0.1 "],
    ["#", "", "#x"], ["11982", "", "1a"], [" (en.wikipedia.org)", "", " (a", " ()", "(a)"], [":", "", ")"], _WS,
    ["", "view internal: ", "view a:b: ", "view : ", "view x ", "view\tv:\t", "viewx: "],
    ["query:", "query", "queries:"], _WS, ["en.wikipedia.org", "x\u00e9", "a."], _WS, ["IN", ""], _WS,
    ["A", "AAAA", ""], [" +E(0)K (10.0.0.53)", "", " client", "\r", "\x0b", " "],
])
dnsmasq_line = _form([
    ["May  1 00:00:00 ", "", "client ", "x"], ["dnsmasq"], ["[1234]", "", "[]", "[x]", "[12"], [":", ""], _WS,
    ["", "12 ", "10.0.0.1/5353 "], ["query[", "query", "forwarded "], ["A", "", "A A", "HTTPS"], ["]", ""], _WS,
    ["b.example", "", "dnsmasq.example", "fe80::1"], _WS, ["from", "to", "fromm"], _WS,
    ["10.0.0.2", "fe80::2", "", "x", "10.0.0.2x"], ["", " ", "\t", " extra", "\r", "\u00e9"],
])
DNS_PIECES = ["client", "client ", "@0x7f3a ", "10.0.0.1", "#53", " (a.example)", ": query: a.example IN A",
              "query", "query[A] ", "dnsmasq[12]: ", " from ", "\tfrom\t", "x.example", " ", "\t", "\r"]
dns_line = st.one_of(bind_line, dnsmasq_line, st.lists(st.sampled_from(DNS_PIECES), max_size=8).map("".join),
                     st.sampled_from(["", "  ", "\t", "\r", "May  1 dnsmasq[1]: forwarded b.example to 8.8.8.8"]))
# Zeek JSON lines: compact flat objects and their near misses (a nested object, whitespace, an escape,
# a number cut short, a duplicate or non-string address, a trailing comma, non-ASCII, a control byte)
_KEYS = ['"id.orig_h"', '"query"', '"ts"', '"_path"', '"a"']
_VALUES = ['"10.0.0.1"', '""', '1', '-0.5e+3', '01', '1.', 'true', 'null', 'nul', '[]', '["x",1,false]', '[1,]',
           '{"b":1}', '"a\\"b"', '"\u00e9"', '"\x0b"', ' 1', '"a b"']
json_line = st.one_of(
    st.lists(st.tuples(st.sampled_from(_KEYS), st.sampled_from(_VALUES)), max_size=5)
    .map(lambda kv: "{" + ",".join(f"{k}:{v}" for k, v in kv) + "}"),
    st.lists(st.sampled_from(["{", "}", '"id.orig_h"', ":", ",", '"x"', "1", "[", "]", " ", "\r"]), max_size=10)
    .map("".join),
    st.sampled_from(["", " ", "\t", "\r", '{"id.orig_h":"10.0.0.2","query":"a.example"}\r']),
)


def _block(ls: list[str], end: str) -> bytes:
    return ("\n".join(ls) + end).encode("utf-8")


def _skip(block: bytes, pick: list[bool]) -> list[int]:
    """Some line starts of ``block`` (the candidates a scan would leave to the reader)."""
    starts = [0] + [i + 1 for i, c in enumerate(block) if c == 0x0A and i + 1 < len(block)]
    return [s for s, p in zip(starts, pick) if p]


@settings(max_examples=400, deadline=None)
@given(st.lists(osq_line, max_size=12), st.sampled_from(["", "\n"]), st.lists(st.booleans(), max_size=12))
def test_osquery_events_native_equals_python(ls: list[str], end: str, pick: list[bool]) -> None:
    block = _block(ls, end)
    skip = _skip(block, pick)
    assert native.osquery_events(block) == lines.osquery_events_py(block)
    assert native.osquery_events(block, skip) == lines.osquery_events_py(block, skip)
    assert lines.osquery_events_py(block, skip) == lines.osquery_events_py(lines.without(block, skip))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000))
def test_osquery_events_of_many_hosts_native_equals_python(seed: int, hosts: int) -> None:
    """Thousands of distinct (query, host) pairs in a block, some repeated, in any order: the
    same counts and hosts, and the queries in the order first seen.  (The thousands of choices
    come from a seeded generator, not from Hypothesis's own data, which they would exhaust.)"""
    rnd = random.Random(seed)
    ls = [_event(rnd.choice(QUERIES[:2] + [f"q{rnd.randrange(40)}"]), f"host-{rnd.randrange(hosts)}",
                 ',"action":"added"}') for _ in range(rnd.randrange(1, 6000))]
    block = _block(ls, "\n")
    skip = _skip(block, [rnd.random() < 0.1 for _ in ls])
    for sk in (None, skip):
        got, want = native.osquery_events(block, sk), lines.osquery_events_py(block, sk)
        assert got == want and list(got) == list(want)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_osquery_events_with_a_memo_kept_between_blocks_equals_python(seed: int) -> None:
    """One memo through a run of blocks sharing most of their (query, host) pairs, hosts with
    bytes that are not UTF-8 among them, and a block that is not all events between them: every
    block's result is the Python twin's, queries in the order first seen."""
    rnd = random.Random(seed)
    memo = native.span_memo()
    hosts = [f"host-{i}" for i in range(rnd.randrange(1, 300))] + HOSTS[:3]
    for _ in range(8):
        ls = [_event(rnd.choice(QUERIES + ["q1"]), rnd.choice(hosts), ',"action":"added"}')
              for _ in range(rnd.randrange(0, 800))]
        block = _block(ls, "\n")
        if rnd.random() < 0.3:  # a host that is not UTF-8
            block += b'{"name":"q1","hostIdentifier":"h\xff\xfe","columns":{"n":"1"},"action":"added"}\n'
        if rnd.random() < 0.15:  # the reader's block: None, and the memo still right afterwards
            block += b'{"name":"q1","hostIdentifier":"h","columns":{"n":"1"},"action":"removed"}\n'
        skip = _skip(block, [rnd.random() < 0.1 for _ in range(block.count(b"\n"))])
        for sk in (None, skip):
            got, want = native.osquery_events(block, sk, memo), lines.osquery_events_py(block, sk)
            assert got == want and (got is None or list(got) == list(want))


def test_osquery_events_memo_emptied_when_full_keeps_results_right() -> None:
    """More distinct (query, host) pairs than the memo keeps (65,536), in one block and across
    blocks: the memo empties itself and every result is still the Python twin's."""
    memo = native.span_memo()
    many = _block([_event("q", f"h{i}", ',"action":"added"}') for i in range(70_000)], "\n")
    few = _block([_event("q", f"h{i}", ',"action":"added"}') for i in range(0, 70_000, 7)], "\n")
    for block in (many, few, many):
        got = native.osquery_events(block, None, memo)
        assert got == lines.osquery_events_py(block)
    assert got is not None and got[b"q"][0] == 70_000 and len(got[b"q"][1]) == 70_000


def test_the_module_osquery_events_keeps_its_memo() -> None:
    """banscan.fast.lines.osquery_events passes one memo (made on first use) to every call."""
    if not lines.NATIVE:
        pytest.skip("the C extension is not used here")
    block = _block([_event("q", "h1", ',"action":"added"}')], "\n")
    assert lines.osquery_events(block) == {b"q": (1, {"h1"})}
    memo = lines._SPAN_MEMO
    assert memo is not None
    assert lines.osquery_events(block) == {b"q": (1, {"h1"})} and lines._SPAN_MEMO is memo


@settings(max_examples=400, deadline=None)
@given(st.lists(tsv_line, max_size=12), st.sampled_from(["", "\n", "\r\n"]), st.integers(0, 4),
       st.lists(st.booleans(), max_size=12), st.integers(-1, 6))
def test_tsv_column_native_equals_python(ls: list[str], end: str, index: int, pick: list[bool], nfields: int) -> None:
    block = _block(ls, end)
    skip = _skip(block, pick)
    assert native.tsv_column(block, index) == lines.tsv_column_py(block, index)
    assert native.tsv_column(block, index, skip) == lines.tsv_column_py(block, index, skip)
    assert native.tsv_column(block, index, skip, nfields) == lines.tsv_column_py(block, index, skip, nfields)


@settings(max_examples=600, deadline=None)
@given(st.lists(dns_line, max_size=12), st.sampled_from(["", "\n", "\r\n"]), st.lists(st.booleans(), max_size=12))
def test_dns_clients_native_equals_python(ls: list[str], end: str, pick: list[bool]) -> None:
    block = _block(ls, end)
    skip = _skip(block, pick)
    assert native.dns_clients(block) == lines.dns_clients_py(block)
    assert native.dns_clients(block, skip) == lines.dns_clients_py(block, skip)


@settings(max_examples=1500, deadline=None)
@given(dns_line)
def test_dns_line_judged_as_the_reader_matches(text: str) -> None:
    """A line the block scanner judges itself covers the client the reader's own patterns find
    (BIND, then dnsmasq), or none when they match nothing."""
    from banscan.sources.dnslog import BIND, DNSMASQ

    line = text.encode("utf-8").rstrip(b"\r")
    if not lines._PRINTABLE.fullmatch(line) or not line.strip(b" \t"):
        assert native.dns_clients(line) in (None, (0, set(), []))
        return
    kind, client = lines.dns_line_py(line)
    if kind == 2:
        return
    m = BIND.search(text) or DNSMASQ.search(text)
    assert (client.decode() if client else None) == (m.group("ip") if m else None)
    assert (kind == 1) == (m is not None)


def test_dns_clients_count_lines_and_the_clients_of_queries() -> None:
    block = (b"01-May-2024 queries: info: client @0x7f3a 10.0.0.1#53 (a.example): query: a.example IN A +E(0)K\n"
             b"May  1 dnsmasq[1]: query[A] b.example from 10.0.0.2\r\n"
             b"May  1 dnsmasq[1]: forwarded b.example to 8.8.8.8\n"
             b"May  1 dnsmasq[1]: reply b.example is 1.2.3.4 from 10.0.0.3\n"  # (no "query": covers nothing)
             b" \t\n"
             b"client 10.0.0.4#53: view internal: query: c IN A\n"
             b"May  1 dnsmasq[1]: 12 10.0.0.5/53 query[A] d.example from 10.0.0.5\n"  # (log-queries=extra)
             b"dnsmasq: query[A] clients.example from 10.0.0.6\n"  # (BIND matches from no "client")
             b"client x client 10.0.0.7#53: query: e IN A")  # (BIND may match from the second)
    last = block.index(b"client x client")
    want = (7, {b"10.0.0.1", b"10.0.0.2", b"10.0.0.4", b"10.0.0.5", b"10.0.0.6"}, [last])
    assert native.dns_clients(block) == lines.dns_clients_py(block) == want
    # a line with a control byte or beyond ASCII: the reader reads the block
    for bad in (block + b"\nquery\x0b from 10.0.0.5", block.replace(b"a.example", "\u00e9.example".encode())):
        assert native.dns_clients(bad) is None and lines.dns_clients_py(bad) is None


@settings(max_examples=800, deadline=None)
@given(st.lists(json_line, max_size=10), st.sampled_from(["", "\n", "\r\n"]), st.lists(st.booleans(), max_size=10),
       st.sampled_from([b"id.orig_h", b"a", None]))
def test_zeek_json_native_equals_python(ls: list[str], end: str, pick: list[bool], col: bytes | None) -> None:
    block = _block(ls, end)
    skip = _skip(block, pick)
    assert native.zeek_json(block, None, col) == lines.zeek_json_py(block, None, col)
    assert native.zeek_json(block, skip, col) == lines.zeek_json_py(block, skip, col)


@settings(max_examples=800, deadline=None)
@given(json_line)
def test_zeek_json_line_counted_only_when_json_reads_it_so(text: str) -> None:
    """A line counted without parsing is a JSON object that json reads (so the reader would not
    report it), flat (nothing for the reader to flatten), with its address as the value given."""
    import json

    line = text.encode("utf-8").rstrip(b"\r")
    got = lines.zeek_json_line_py(line, b"id.orig_h")
    if got is None:
        return
    rec = json.loads(line)
    assert isinstance(rec, dict) and not any(isinstance(v, dict) for v in rec.values())
    assert rec.get("id.orig_h", "").encode() == got


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b'"_path":"', b'"_path":', b"_path", b'"', b"x", b'"_path":""_path":"']),
                max_size=12).map(b"".join))
def test_occurrences_native_equals_bytes_count(b: bytes) -> None:
    for lit in (b'"_path":"', b"_path", b'""'):
        assert native.occurrences(b, lit) == b.count(lit)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 12).map(lambda n: "x" * n), max_size=10), st.sampled_from(["", "\n"]),
       st.integers(0, 10))
def test_long_lines_native_equals_python(ls: list[str], end: str, size: int) -> None:
    block = _block(ls, end)
    assert native.long_lines(block, size) == lines.long_lines_py(block, size)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60).map(lambda b: b.replace(b"x", b"\n")), st.integers(-70, 70), st.integers(-70, 70))
def test_newlines_native_equals_bytes_count(b: bytes, start: int, end: int) -> None:
    assert native.newlines(b, start, end) == b.count(b"\n", start, end)
    assert native.newlines(b) == b.count(b"\n")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([b"\n", b"a", b"\n" * 17, b"b" * 15, b"\n" * 4100, b"c" * 4081]), max_size=12),
       st.integers(-9000, 9000), st.integers(-9000, 9000))
def test_newlines_of_any_buffer_and_length(pieces: list[bytes], start: int, end: int) -> None:
    """Both twins count the same in any bytes-like object (the parent of --jobs counts in its read
    buffer), also over runs of newlines longer than the C function's step counters hold."""
    import mmap

    b = b"".join(pieces)
    want = b.count(b"\n", start, end)
    for form in (b, bytearray(b), memoryview(b)):
        assert native.newlines(form, start, end) == lines.newlines_py(form, start, end) == want
        assert native.newlines(form) == lines.newlines_py(form) == b.count(b"\n")
    if b:
        with mmap.mmap(-1, len(b)) as m:
            m.write(b)
            assert native.newlines(m, start, end) == lines.newlines_py(m, start, end) == want


def test_osquery_events_count_rows_and_hosts_per_query() -> None:
    ev = '{"name":"%s","hostIdentifier":"%s","columns":{"n":"1"},"action":"added"}'
    block = "\n".join([ev % ("q1", "a"), ev % ("q1", "a"), ev % ("q2", "b")]).encode() + b"\r\n"
    want = {b"q1": (2, {"a"}), b"q2": (1, {"b"})}
    assert native.osquery_events(block) == lines.osquery_events_py(block) == want
    # one line removed rather than added: the reader must read the block
    bad = block.replace(b'"added"}\r\n', b'"removed"}\r\n')
    assert native.osquery_events(bad) is None and lines.osquery_events_py(bad) is None


def test_tsv_column_refuses_blank_header_and_short_lines() -> None:
    rows = b"1\t10.0.0.1\tx\n2\t10.0.0.2\ty\n"
    assert native.tsv_column(rows, 1) == lines.tsv_column_py(rows, 1) == (2, {b"10.0.0.1", b"10.0.0.2"})
    for bad in (rows + b"\n", rows + b"#close\t2026\n", rows + b"3\n", b"\r\n" + rows):
        assert native.tsv_column(bad, 1) is None and lines.tsv_column_py(bad, 1) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"a" * 3, b"a" * 70, b"\n", b"xy\n", b"z" * 300]), max_size=30),
       st.integers(1, 200))
def test_spans_are_the_blocks_places(pieces: list[bytes], size: int) -> None:
    """iter_spans gives each block of iter_blocks by its place (first line, offset, length) and its
    ends as they are in the block, also for blocks shorter than the ends' length."""
    import io

    from banscan.fast import blocks as fb

    data = b"".join(pieces)
    blocks = list(fb.iter_blocks(io.BytesIO(data), size))
    spans = list(fb.iter_spans(io.BytesIO(data), size))
    assert b"".join(b for _, b in blocks) == data
    assert len(blocks) == len(spans)
    for (line, block), (first, at, n, (head, tail)) in zip(blocks, spans, strict=True):
        assert (first, data[at:at + n]) == (line, block)
        assert (head, tail) == (block[:fb.EDGE], block[-fb.EDGE:])


# CSV exports: pieces of cells as exports and hostile hands write them (quotes doubled and stray,
# carriage returns, Unicode spaces, letters that upper-case to NOASSERTION, bytes that are not UTF-8)
CSV_PIECES = [b"a", b"Zte", b" ", b"\t", b",", b";", b'"', b'""', b"\r", b"\n", b"\xc2\xa0", b"\xe3\x80\x80",
              b"\xe2\x80\xa8", b"\xc2\x85", b"\xe2\x80\x8b", b"\xd0\x9f", b"\xc3\x9f", b"\xc5\xbf", b"\xc4\xb1",
              b"\xef\xac\x85", b"NOA", b"ERTION", b"S", b"none", b"NoAssertion", b"ios", b"Android", b"\x00", b"\x1c",
              b"\x7f", b"\xff", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf0\x9f\x98\x80"]
csv_block = st.lists(st.sampled_from(CSV_PIECES), max_size=40).map(b"".join)
csv_layout = st.tuples(st.sampled_from([b",", b";", b"\t"]), st.integers(1, 5), st.integers(-1, 4), st.integers(-1, 4),
                       st.integers(-1, 4), st.integers(-1, 4), st.booleans())


@settings(max_examples=1500, deadline=None)
@given(csv_block, csv_layout, st.lists(st.booleans(), max_size=8))
def test_csv_rows_native_equals_python(block: bytes, layout: tuple[bytes, int, int, int, int, int, bool],
                                       pick: list[bool]) -> None:
    skip = _skip(block, pick)
    assert native.csv_rows(block, skip, *layout) == lines.csv_rows_py(block, skip, *layout)
    assert native.csv_rows(block, [], *layout) == lines.csv_rows_py(block, [], *layout)


@settings(max_examples=1500, deadline=None)
@given(csv_block, st.sampled_from([b",", b";", b"\t"]), st.integers(0, 3))
def test_csv_open_line_native_equals_python(block: bytes, delim: bytes, nth: int) -> None:
    starts = [0] + [i + 1 for i, c in enumerate(block) if c == 0x0A and i + 1 < len(block)]
    start = starts[min(nth, len(starts) - 1)]
    assert native.csv_open_line(block, delim, start) == lines.csv_open_line_py(block, delim, start)


def _csv_records(block: bytes, delim: bytes) -> list[int]:
    """How many of the lines of ``block`` each record takes, as Python's csv module reads them."""
    import csv

    reader = csv.reader(iter([x.decode("utf-8", errors="replace") for x in _file_lines(block)]),
                        delimiter=delim.decode())
    out, before = [], 0
    while True:
        try:
            next(reader)
        except csv.Error:
            pass
        except StopIteration:
            return out
        out.append(reader.line_num - before)
        before = reader.line_num


def _file_lines(b: bytes) -> list[bytes]:
    from banscan.fast.blocks import file_lines

    return file_lines(b)


@settings(max_examples=1500, deadline=None)
@given(csv_block, st.sampled_from([b",", b";", b"\t"]))
def test_csv_open_line_agrees_with_the_csv_module(block: bytes, delim: bytes) -> None:
    """Before the line csv_open_line gives, every line is a record of its own to the csv module;
    that line's record goes on in the next line."""
    block += b"\n"
    k = lines.csv_open_line_py(block, delim)
    takes = _csv_records(block, delim)
    before = block.count(b"\n", 0, k) if k >= 0 else block.count(b"\n")
    assert takes[:before] == [1] * before
    if k >= 0 and before + 1 < len(_file_lines(block)):
        assert takes[before] > 1


@settings(max_examples=1500, deadline=None)
@given(csv_block, csv_layout)
def test_csv_rows_count_a_line_as_the_reader_reads_it(block: bytes, layout: tuple[bytes, int, int, int, int, int, bool]
                                                       ) -> None:
    """A line counted is one record of ``width`` cells to the csv module, with a software name or
    bundle id and the asset cell given, cleaned as the reader cleans it."""
    import csv

    from banscan.sources._common import s

    delim, width, name, bundle, platform, asset, mobile_export = layout
    block = block.replace(b"\n", b"") + b"\n"  # one line
    n, values, more = lines.csv_rows_py(block, [], *layout)
    if not n:
        return
    row = next(csv.reader([block.decode("utf-8")], delimiter=delim.decode()))

    def cell(i: int) -> str:  # (as the reader's _cell: a column past the row's end is empty)
        return s(row[i]) if 0 <= i < len(row) else ""

    assert len(row) == width
    assert cell(name) or cell(bundle)
    assert values == {cell(asset).encode()}


@settings(max_examples=1500, deadline=None)
@given(csv_block, st.sampled_from([b",", b";", b"\t"]), st.integers(0, 3), st.integers(1, 12), st.integers(1, 12))
def test_csv_record_end_native_equals_python(block: bytes, delim: bytes, nth: int, max_line: int, limit: int) -> None:
    starts = [0] + [i + 1 for i, c in enumerate(block) if c == 0x0A and i + 1 < len(block)]
    start = starts[min(nth, len(starts) - 1)]
    assert (native.csv_record_end(block, delim, start, max_line, limit)
            == lines.csv_record_end_py(block, delim, start, max_line, limit))


@settings(max_examples=1500, deadline=None)
@given(csv_block, st.sampled_from([b",", b";", b"\t"]), st.integers(1, 30), st.integers(1, 30))
def test_csv_record_end_is_where_the_reader_ends_the_record(block: bytes, delim: bytes, max_line: int,
                                                           limit: int) -> None:
    """Where csv_record_end knows the end, it is the end the CSV reader's own reading gives (the
    csv module over the lines decoded as the reader decodes them, long lines skipped, with that
    field limit)."""
    import csv

    from banscan.fast.blocks import _csv_record_end
    from banscan.sources.limits import Limits

    got = lines.csv_record_end_py(block, delim, 0, max_line, limit)
    if got == -2:
        return
    cut = block.rfind(b"\n") + 1
    old = csv.field_size_limit(limit)
    try:
        want = _csv_record_end(block, 0, cut, delim, Limits(max_line_bytes=max_line))
    finally:
        csv.field_size_limit(old)
    assert got == want
