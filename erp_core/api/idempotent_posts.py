"""``Idempotency-Key`` on every POST route, the generic ones and those plugins write.

Middleware around each route (outside the retrying of transient conflicts, so that the
key's own transactions are not mistaken for part of the request): a POST with the header
claims the key (``erp_core.idempotency``), runs, and has its answer stored; a repeat gets
that answer again with ``Idempotent-Replayed: true``. The key belongs to the credentials
that sent it (the ``Authorization`` header); on a route that needs a token, a key is
claimed or replayed only while they authenticate, so a request with bad credentials
stores nothing and gets its 401. A request without the header costs nothing here.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from erp_core.api.auth import resolve_principal
from erp_core.db.transient import committed_writes
from erp_core.errors import ErpError
from erp_core.idempotency import Claim, StoredResponse, claim, fingerprint, scoped_key

_KEPT_HEADERS = frozenset({b"content-type", b"location", b"etag"})


class IdempotentPosts:
    """ASGI middleware honouring ``Idempotency-Key`` on POST requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        key = headers.get(b"idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        kernel = scope["app"].state.kernel
        credentials = headers.get(b"authorization", b"").decode("latin-1")
        print_key = scoped_key(credentials, key.decode("latin-1"))
        handler = scope.get("route_handler")
        public = handler is not None and handler.opt.get("public")
        if not public and not await _authenticates(kernel, credentials):
            # answered as any request with bad credentials, and no key is stored for it
            await self.app(scope, receive, send)
            return
        body, replay = await _read_body(receive)
        found = await anyio.to_thread.run_sync(
            claim, kernel.engine, print_key, fingerprint("POST", scope["path"], body),
            kernel.settings.idempotency_ttl_seconds)
        if isinstance(found, StoredResponse):
            await _send_stored(found, send)
            return
        await self._run_claimed(found, scope, replay, send)

    async def _run_claimed(self, claimed: Claim, scope: Scope, receive: Receive,
                           send: Send) -> None:
        answer = _Answer(send)
        try:
            with committed_writes() as commits:
                await self.app(scope, receive, answer)
        finally:
            keep = answer.status is not None and (200 <= answer.status < 300 or bool(commits))
            stored = StoredResponse(answer.status or 500, b"".join(answer.body),
                                    answer.kept_headers) if keep else None
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(claimed.finish, stored)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (the fingerprint needs it), and a ``receive`` that gives it again."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")

    async def replay() -> Any:
        return messages.pop(0) if messages else await receive()

    return body, replay


async def _authenticates(kernel: Any, credentials: str) -> bool:
    try:
        await anyio.to_thread.run_sync(resolve_principal, kernel, credentials)
    except ErpError:
        return False
    return True


async def _send_stored(stored: StoredResponse, send: Send) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1"))
               for name, value in stored.headers.items()]
    await send({"type": "http.response.start", "status": stored.status_code,
                "headers": [*headers, (b"idempotent-replayed", b"true")]})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


class _Answer:
    """The ``send`` of the claimed request: passes the response on and keeps a copy."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status: int | None = None
        self.kept_headers: dict[str, str] = {}
        self.body: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.kept_headers = {bytes(name).decode("latin-1").lower():
                                 bytes(value).decode("latin-1")
                                 for name, value in message.get("headers", ())
                                 if bytes(name).lower() in _KEPT_HEADERS}
        elif message["type"] == "http.response.body":
            self.body.append(message.get("body", b""))
        await self.send(message)
