"""JSON that keeps decimal numbers exact, in both directions.

Money and quantities must never pass through ``float``: reading, every JSON number with
a fraction or exponent becomes a ``Decimal``; writing, a ``Decimal`` is written as the
exact number it holds. ``NaN`` and ``Infinity`` (which Python's json accepts by default)
are refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def loads_exact(body: bytes | str) -> Any:
    """Parse ``body`` (UTF-8) with fractional numbers as ``Decimal``; raises ``ValueError``."""
    return json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)


def dumps_exact(value: Any) -> bytes:
    """Serialise ``value`` (dicts, lists, tuples, str, int, bool, None, ``Decimal``) as
    compact UTF-8 JSON; ``float`` is refused so that an inexact number is never sent."""
    return _encode(value).encode("utf-8")


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as a JSON number")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("use Decimal (or a string), never float, for an exact JSON number")
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(key), ensure_ascii=False)}:{_encode(item)}"
                 for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
