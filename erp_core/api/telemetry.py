"""Per-request telemetry: the request id in every log line, request metrics and an
access log line.

The request's id (``erp_core.api.request_ids``: the caller's sane ``X-Request-ID`` or a
new one, answered in the ``X-Request-ID`` header) is set in ``erp_core.logs.REQUEST_ID``
for the request's duration, so every log line written on its behalf carries it (the
worker threads that run handlers inherit it). Each answered request counts in
``erp_http_requests_total{method,route,status}`` and its latency in
``erp_http_request_duration_seconds``, by route template (``/api/v1/orders/orders/{id}``)
so that the number of series stays bounded.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from erp_core import metrics
from erp_core.api.request_ids import request_id
from erp_core.logs import REQUEST_ID

log = logging.getLogger("erp.access")

class RequestTelemetry:
    """ASGI middleware: the request id in logs, metrics and an access log line for each
    request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = REQUEST_ID.set(request_id(scope))
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
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
