"""JSON text on hot paths (a credit decision writes four documents and reads one): orjson,
about six times faster than the standard library here. Compact output (no spaces), UTF-8
text as is, insertion order kept; keys that are not strings are written as strings, as
`json.dumps` does. Read back with `json.loads` or `loads` alike."""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    """`value` as JSON text."""
    return orjson.dumps(value, option=_OPTIONS).decode("utf-8")


def loads(text: str | bytes) -> Any:
    """The value of JSON text."""
    return orjson.loads(text)
