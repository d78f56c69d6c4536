"""Fast JSON writing: one orjson call and one write, the stdlib only for what orjson refuses
(lone surrogates, integers beyond 64 bits, non-string keys)."""

from __future__ import annotations

import json
from typing import Any, TextIO


def _orjson(obj: Any, indent: bool) -> str:
    """One orjson call; ImportError, TypeError or ValueError where it cannot."""
    import orjson

    return orjson.dumps(obj, option=orjson.OPT_INDENT_2 if indent else 0).decode("utf-8")


def dumps(obj: Any, indent: bool = True) -> str:
    try:
        return _orjson(obj, indent)
    except (ImportError, TypeError, ValueError):
        return json.dumps(obj, indent=2 if indent else None, ensure_ascii=False)


def dump(obj: Any, out: TextIO, indent: bool = True) -> None:
    out.write(dumps(obj, indent) + "\n")


def dumps_encodable(obj: Any, indent: bool = True) -> str:
    """``dumps(scrub(obj))`` (banscan.textsafe.scrub: every string made encodable), in one orjson
    pass where orjson takes ``obj`` as it is: it refuses lone surrogates, so then every string is
    encodable and scrub would have given ``obj`` itself.  Anything orjson refuses goes the long
    way, scrubbed first."""
    try:
        return _orjson(obj, indent)
    except (ImportError, TypeError, ValueError):
        from banscan.textsafe import scrub

        return dumps(scrub(obj), indent)
