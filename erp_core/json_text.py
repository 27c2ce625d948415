"""JSON request bodies as text: parsed once, with numbers that have a fraction as
``Decimal``, and refused (a ``ValidationError`` naming what is wrong) when empty, not
JSON, nested deeper than ``MAX_DEPTH`` or holding a NUL character in a string or key. The
API's body decoder (``erp_core.api.request_body``) and typed bodies
(``erp_core.entities.typed.read_body``) both parse through ``parse_json``.
"""

from __future__ import annotations

import json
from array import array
from decimal import Decimal
from itertools import accumulate
from typing import Any

from erp_core.errors import ValidationError

MAX_DEPTH = 32
"""Arrays and objects nested deeper than this are refused: no document of the API comes
near it, and parsers and the code walking a decoded body recurse once per level."""

_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[{]}")))


def parse_json(body: bytes | str) -> Any:
    """The JSON value of a request body, or a ``ValidationError``."""
    raw = body.encode() if isinstance(body, str) else body
    if not raw.strip():
        raise ValidationError("the request needs a JSON body", {"body": "missing"})
    try:
        value = json.loads(raw, parse_float=Decimal)
    except RecursionError:
        raise too_deep() from None
    except ValueError as exc:
        raise ValidationError(f"the body is not valid JSON: {str(exc)[:200]}",
                              {"body": "not JSON"}) from None
    check_decoded(raw, value)
    return value


def check_decoded(body: bytes, value: Any) -> None:
    """Refuse a body that parsed but nests too deep or holds a NUL character."""
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _depth(body) > MAX_DEPTH:
        raise too_deep()
    check_no_nul(body, value)


def too_deep() -> ValidationError:
    return ValidationError(f"the body is not valid JSON: it nests arrays and objects more"
                           f" than {MAX_DEPTH} deep",
                           {"body": "nesting too deep"})


def _depth(body: bytes) -> int:
    """How deep a body that parsed nests its arrays and objects, at the speed of bytes
    methods: in valid JSON a quote not escaped opens or closes a string, so the brackets
    outside strings are every other piece between quotes."""
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[::2])
    steps = array("b", outside.translate(_STEPS, _NOT_BRACKETS))  # +1 opens, -1 closes
    return max(accumulate(steps), default=0)


def check_no_nul(body: bytes, value: Any) -> None:
    """Refuse a decoded body with a NUL character in a string or key, naming where."""
    if b"\\u0000" not in body and b"\x00" not in body:
        return
    where = _nul_at(value, "")
    if where is not None:
        raise ValidationError("text must not contain NUL characters",
                              {where or "body": "contains a NUL character"})


def _nul_at(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return inner
            found = _nul_at(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_at(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
