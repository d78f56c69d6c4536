"""``jsonline.loads`` (orjson where it gives the same value) against ``json.loads``: the same
value, type for type, or the same error, on every line of the shared samples' JSON-lines files
and on the texts where the two parsers differ."""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path
from typing import Any

import pytest
from sharedsamples import SHARED_SAMPLES

from banscan.sources.jsonline import loads


def _outcome(f: Any, text: str) -> tuple[str, str]:
    try:
        return "value", _typed(f(text))
    except (ValueError, RecursionError) as e:
        return "error", f"{type(e).__name__}: {e}"


def _typed(v: Any) -> str:
    """``repr`` with every number's type, so that 1 and 1.0, and 0.0 and -0.0, differ."""
    if isinstance(v, dict):
        return "{" + ",".join(f"{k!r}:{_typed(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_typed(x) for x in v) + "]"
    return f"{type(v).__name__}({v!r})"


# where orjson and json differ: json's numbers beyond a double (inf), NaN/Infinity, lone
# surrogates, integers of 19 digits and more (orjson: a float), and their neighbours
EDGES = [
    '{"a":1e400}', '{"a":-1e309}', '{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}',
    '{"a":"\\ud800"}', '{"a":"\\uDE00\\uD83D"}', '{"a":"\\uD83D\\uDE00"}', '{"a":"\ud800"}',
    '{"a":123456789012345678901234567890}', '{"a":18446744073709551616}', '{"a":9223372036854775808}',
    '{"a":-9223372036854775809}', '{"a":1234567890123456789}', '{"a":999999999999999999}',
    '{"a":"1234567890123456789"}', '{"a":1e-400}', '{"a":-0.0}', '{"a":-0}', '{"a":0e0}', '{"a":1.}',
    '{"a":01}', '{"a":"x\ty"}', '{"a":"\x7f"}', '[1,]', '{"a":1} {"b":2}', '\x0c{"a":1}', '\ufeff{"a":1}',
    '{"a":1,"a":2}', '{"a":"\\/\\b\\f\\n\\r\\t\\u0000"}', '{"a":"\\x41"}', '{"a":true,"b":null,"c":false}',
    "[" * 3000 + "]" * 3000, '{"a":[' * 100 + "1" + "]}" * 100, '', ' ', '"x"', '1', 'null',
]


@pytest.mark.parametrize("text", EDGES)
def test_loads_equals_json_loads_where_the_parsers_differ(text: str) -> None:
    assert _outcome(loads, text) == _outcome(json.loads, text)


@pytest.mark.parametrize("raw", [e.encode("utf-8", "surrogatepass") for e in EDGES] + [
    b'{"a":"\xff"}', b'{"a":"x\xc3"}', b'{"a":"\xed\xa0\x80"}', b'\xef\xbb\xbf{"a":1}', b'{"a":1}\r\n',
    b'{"a":"\xc3\xa9"}\n'])
def test_loads_of_the_raw_bytes_equals_json_loads_of_their_text(raw: bytes) -> None:
    """With the bytes a line was decoded from (as a reader decodes it: bad bytes replaced)."""
    text = raw.decode("utf-8", "replace")
    assert _outcome(lambda t: loads(t, raw), text) == _outcome(json.loads, text)


def test_loads_equals_json_loads_on_generated_numbers() -> None:
    rnd = random.Random(7)
    for _ in range(3000):
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randrange(1, 26)))
        text = rnd.choice(["", "-"]) + digits.lstrip("0") or "0"
        text += rnd.choice(["", "." + digits[:rnd.randrange(1, 8)], "e" + str(rnd.randrange(-330, 330))])
        doc = f'{{"n":{text},"s":"{digits}"}}'
        assert _outcome(loads, doc) == _outcome(json.loads, doc), doc


def test_loads_equals_json_loads_on_the_shared_samples_json_lines() -> None:
    files = [p for p in sorted(Path(SHARED_SAMPLES).rglob("*")) if p.is_file() and p.suffix in (".log", ".json", ".jsonl", ".ndjson")]
    if not files:
        pytest.skip("shared samples not available")
    lines = 0
    for p in files:
        for raw in p.read_bytes().splitlines()[:20_000]:
            text = raw.decode("utf-8", "replace")
            want = _outcome(json.loads, text)
            assert _outcome(loads, text) == want, (p, text[:200])
            assert _outcome(functools.partial(loads, raw=raw), text) == want, (p, text[:200])
            lines += 1
    assert lines > 100
