"""Requests run again when the database aborted their transaction for a transient
conflict (see ``erp_core.db.transient``), so that a client sees the deadlock of two
concurrent requests only as a slower answer.

The request's body is read before the first attempt and replayed to each. An attempt
that ends in ``TransientConflict`` produces its problem response as usual; the exception
handler marks the scope, and the response is dropped unsent unless it was the last
attempt, which the client then receives (503 with ``Retry-After``). Nothing of a dropped
attempt reaches the client, and its transaction was rolled back, so running it again is
safe for every route whose work is all in the database.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from erp_core.db.transient import pause_before

TRANSIENT_SCOPE_KEY = "erp.transient_conflict"
MAX_KEPT_BODY = 10_000_000
"""Bytes of a request body kept for another attempt: Litestar's default
``request_max_body_size``, past which it refuses the request anyway."""


def mark_transient(scope: Any) -> None:
    """Called by the exception handler of ``TransientConflict``: this attempt may be
    dropped and run again."""
    scope[TRANSIENT_SCOPE_KEY] = True


class RetryTransient:
    """ASGI middleware running an HTTP request up to ``attempts`` times."""

    def __init__(self, app: ASGIApp, attempts: int) -> None:
        self.app = app
        self.attempts = attempts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request, whole = await _read_request(receive)
        if not whole:  # too large to keep for another attempt: Litestar refuses it (413)
            await self.app(scope, _replay(request, receive), send)
            return
        for attempt in range(1, self.attempts + 1):
            scope.pop(TRANSIENT_SCOPE_KEY, None)  # type: ignore[misc]
            gate = _Gate(scope, send, last=attempt == self.attempts)
            await self.app(scope, _replay(request, receive), gate)
            if not gate.dropped:
                return
            await anyio.sleep(pause_before(attempt))


async def _read_request(receive: Receive) -> tuple[list[Message], bool]:
    """The request's messages, and whether that is all of it: reading stops past
    ``MAX_KEPT_BODY`` bytes, Litestar's own limit for a request body."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            return messages, True
        size += len(message.get("body", b""))
        if size > MAX_KEPT_BODY:
            return messages, False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Any:
        return pending.pop(0) if pending else await receive()

    return replay


class _Gate:
    """The ``send`` of one attempt: passes the response on, unless it is the problem
    response of a transient conflict and another attempt follows."""

    def __init__(self, scope: Scope, send: Send, *, last: bool) -> None:
        self.scope, self.send, self.last = scope, send, last
        self.dropped = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start" and not self.last:
            self.dropped = bool(self.scope.get(TRANSIENT_SCOPE_KEY))  # type: ignore[misc]
        if not self.dropped:
            await self.send(message)
