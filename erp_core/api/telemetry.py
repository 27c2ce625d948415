"""Per-request telemetry: a request id, request metrics and a log line.

Every request gets an id: the caller's ``X-Request-ID`` when it sends a sane one (so a
proxy's id follows the request through), otherwise a new one. It is answered in the
``X-Request-ID`` header and set in ``erp_core.logs.REQUEST_ID`` for the request's
duration, so every log line written on its behalf carries it (the worker threads that
run handlers inherit it). Each answered request counts in
``erp_http_requests_total{method,route,status}`` and its latency in
``erp_http_request_duration_seconds``, by route template (``/api/v1/orders/orders/{id}``)
so that the number of series stays bounded.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from erp_core import metrics
from erp_core.logs import REQUEST_ID

log = logging.getLogger("erp.access")

REQUEST_ID_HEADER = "x-request-id"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            given = value.decode("latin-1").strip()
            if _SANE_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex


class RequestTelemetry:
    """ASGI middleware: request id, metrics and an access log line for each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers") or [])
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}  # type: ignore[typeddict-item]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            method = scope.get("method", "")
            metrics.HTTP_REQUESTS.labels(method, route, str(status["code"])).inc()
            metrics.HTTP_REQUEST_SECONDS.labels(method, route).observe(elapsed)
            log.info("%s %s %s", method, scope.get("path", ""), status["code"],
                     extra={"method": method, "route": route, "path": scope.get("path", ""),
                            "status": status["code"],
                            "duration_ms": round(elapsed * 1000, 2)})
            REQUEST_ID.reset(token)
