"""Requests run again when the database aborted their transaction for a transient
conflict (see ``erp_core.db.transient``), so that a client sees the deadlock of two
concurrent requests only as a slower answer.

An attempt that ends in ``TransientConflict`` produces its problem response as usual;
the exception handler marks the scope, and the response is dropped unsent when another
attempt may follow, which the next one then replaces. Another attempt follows only if
running the request again is safe and possible:

- nothing of the request is committed: an attempt during which a transaction that wrote
  committed (a route that commits in several steps) is answered as it is;
- its body is replayable: the messages the app read are recorded as it reads them (the
  guard refuses a request without a token before any is read) and replayed to the next
  attempt, up to ``MAX_KEPT_BODY`` bytes; past that the request gets one attempt;
- there are attempts left (``ERP_TRANSACTION_ATTEMPTS``).

Litestar caches what it parsed of the request (body, form, uploaded files) and what it
sent in the scope's state; each attempt starts from the state the request arrived with.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import anyio
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, Send
from litestar.utils.scope.state import CONNECTION_STATE_KEY

from erp_core.api.request_ids import request_id
from erp_core.db.transient import committed_writes, pause_before

log = logging.getLogger("erp.api")

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
        arrived = _ArrivedState(scope)
        body = _RecordedBody(receive)
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                arrived.restore(scope)
            scope.pop(TRANSIENT_SCOPE_KEY, None)  # type: ignore[misc]
            with committed_writes() as commits:
                gate = _Gate(scope, send, body, commits, last=attempt == self.attempts)
                await self.app(scope, body.replay(), gate)
            if not gate.dropped:
                if scope.get(TRANSIENT_SCOPE_KEY):  # type: ignore[misc]
                    log.warning("request %s: %s %s: transient conflict answered after %d"
                                " attempt(s)", request_id(scope), scope["method"],
                                scope["path"], attempt)
                return
            log.warning("request %s: %s %s: transient conflict, running the request again"
                        " (attempt %d)", request_id(scope), scope["method"], scope["path"],
                        attempt + 1)
            await anyio.sleep(pause_before(attempt))


class _ArrivedState:
    """The scope's state as the request arrived at this middleware, restored before each
    further attempt: the application's ``request.state`` and Litestar's connection state,
    rebuilt with the fields it had (the router's exception handlers, say) and none of
    what an attempt cached. Only the fields set on arrival are kept: few, so that the
    requests that need no second attempt, nearly all, pay little."""

    def __init__(self, scope: Scope) -> None:
        state = scope.setdefault("state", {})  # type: ignore[misc]
        self.state = dict(state)
        connection = state.get(CONNECTION_STATE_KEY)
        self.kind = None if connection is None else type(connection)
        self.fields = [] if connection is None else [
            (name, _copied(value)) for name in type(connection).__slots__
            if (value := getattr(connection, name)) is not Empty and value is not False
            and not (isinstance(value, dict | list) and not value)]

    def restore(self, scope: Scope) -> None:
        state = scope["state"] = dict(self.state)  # type: ignore[typeddict-unknown-key]
        if self.kind is not None:
            connection = state[CONNECTION_STATE_KEY] = self.kind()
            for name, value in self.fields:
                setattr(connection, name, _copied(value))


def _copied(value: Any) -> Any:
    return copy.copy(value) if isinstance(value, dict | list) else value


class _RecordedBody:
    """The request's messages, recorded as the app reads them and replayed to the next
    attempt before anything more is read from the client."""

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.messages: list[Message] = []
        self.size = 0
        self.replayable = True

    def replay(self) -> Receive:
        pending = list(self.messages)

        async def receive() -> Any:
            if pending:
                return pending.pop(0)
            message = await self.receive()
            if self.replayable:
                self.size += len(message.get("body", b""))
                if self.size > MAX_KEPT_BODY:
                    self.replayable, self.messages = False, []
                else:
                    self.messages.append(message)
            return message

        return receive


class _Gate:
    """The ``send`` of one attempt: passes the response on, unless it is the problem
    response of a transient conflict and another attempt can follow."""

    def __init__(self, scope: Scope, send: Send, body: _RecordedBody, commits: list[None],
                 *, last: bool) -> None:
        self.scope, self.send, self.body, self.commits, self.last = scope, send, body, commits, last
        self.dropped = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.dropped = bool(self.scope.get(TRANSIENT_SCOPE_KEY)  # type: ignore[misc]
                                and not self.last and self.body.replayable and not self.commits)
        if not self.dropped:
            await self.send(message)
