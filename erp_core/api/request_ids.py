"""Every request gets an id, and every response the headers a browser and a proxy need.

The id is the client's ``X-Request-ID`` when it sent a sane one (up to 128 letters,
digits and ``-_.:@/+=``), so that a request can be followed from the client's logs into
ours; otherwise a new random one. It is answered in ``X-Request-ID``, written in every
log line the API writes about the request and given in the body of a 500, so that an
operator finds the exception (which is never sent to the client) from what a client
reports.

Every response says ``X-Content-Type-Options: nosniff``; a response to a request that
carried credentials says ``Cache-Control: no-store`` unless its route chose a caching
policy, so that no shared cache keeps one user's data for another.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
from typing import Any

from litestar.types import Message, Scope

REQUEST_ID_HEADER = "X-Request-ID"
_SCOPE_KEY = "erp.request_id"
_SANE_ID = re.compile(r"[A-Za-z0-9\-_.:@/+=]{1,128}")
# A new id is this process's random prefix and a counter: unique across processes and
# machines without asking the operating system for randomness on every request.
_PROCESS_PREFIX = secrets.token_hex(6)
_NUMBERS = itertools.count(1)


def _new_process() -> None:
    global _PROCESS_PREFIX
    _PROCESS_PREFIX = secrets.token_hex(6)


os.register_at_fork(after_in_child=_new_process)  # a forked server worker: its own prefix


def request_id(scope: Any) -> str:
    """The id of the request of ``scope``: decided on first use, the same afterwards."""
    known = scope.get(_SCOPE_KEY)
    if known is None:
        known = _incoming_id(scope) or f"{_PROCESS_PREFIX}{next(_NUMBERS):020x}"
        scope[_SCOPE_KEY] = known
    return known


def _incoming_id(scope: Any) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1").strip()
            return text if _SANE_ID.fullmatch(text) else None
    return None


def _carries_credentials(scope: Any) -> bool:
    return any(name in (b"authorization", b"cookie") for name, _ in scope.get("headers", ()))


async def stamp_response_headers(message: Message, scope: Scope) -> None:
    """Litestar ``before_send`` hook: the request id and the safety headers on every
    response, the routes' own, the problems and Litestar's 404 and 405 alike."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers") or ())
    present = {bytes(name).lower() for name, _ in headers}
    headers.append((b"x-request-id", request_id(scope).encode()))
    if b"x-content-type-options" not in present:
        headers.append((b"x-content-type-options", b"nosniff"))
    if b"cache-control" not in present and _carries_credentials(scope):
        headers.append((b"cache-control", b"no-store"))
    message["headers"] = headers  # type: ignore[typeddict-item]
