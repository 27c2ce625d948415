"""The kernel's own routes: health, metrics, and the lists of plugins and drivers."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from erp_core.api.problems import PROBLEM_MEDIA_TYPE, problem
from erp_core.api.request_ids import request_id
from erp_core.kernel import Kernel
from erp_core.metrics import CONTENT_TYPE, render
from erp_core.plugins.report import plugin_report

log = logging.getLogger("erp.api")

PROTECTED_RESPONSES = {
    401: ResponseSpec(data_container=dict[str, Any], description="No valid token",
                      media_type=PROBLEM_MEDIA_TYPE, generate_examples=False),
    403: ResponseSpec(data_container=dict[str, Any], description="Missing the permission",
                      media_type=PROBLEM_MEDIA_TYPE, generate_examples=False),
}


@get("/health", sync_to_thread=True, summary="Liveness and database check",
     tags=["system"], security=[], opt={"public": True})
def health(request: Request[Any, Any, Any],
           kernel: NamedDependency[Kernel]) -> Response[dict[str, Any]]:
    """200 when the database answers, 503 (problem+json) when it does not; the driver's
    error goes to the log under the request id, not to whoever asks."""
    try:
        kernel.check_database()
    except Exception as exc:
        rid = request_id(request.scope)
        log.error("request %s: the database does not answer: %s", rid, exc)
        return problem(503, "Service unavailable", "the database does not answer",
                       request_id=rid)
    return Response({"status": "ok", "database": "ok", "version": kernel.version})


@get("/metrics", sync_to_thread=True, summary="Prometheus metrics", tags=["system"],
     opt={"permission": "kernel.metrics.read"}, responses=PROTECTED_RESPONSES,
     media_type=CONTENT_TYPE)
def prometheus_metrics(kernel: NamedDependency[Kernel]) -> Response[bytes]:
    """Requests, latencies, database pool, outbox backlog, deliveries, job runs and
    inbound webhooks in the Prometheus text format (see ``erp_core.metrics``)."""
    return Response(render(kernel), media_type=CONTENT_TYPE)


@get("/api/v1/plugins", sync_to_thread=True, summary="Installed plugins", tags=["system"],
     opt={"permission": "kernel.plugin.read"}, responses=PROTECTED_RESPONSES)
def list_plugins(kernel: NamedDependency[Kernel]) -> list[dict[str, Any]]:
    """Every installed plugin with version, distribution, dependencies and whether it is
    enabled; broken ones with their error (the same facts as `erp plugins list`)."""
    return plugin_report(kernel.plugins, list(kernel.enabled))


@get("/api/v1/drivers", sync_to_thread=True, summary="Installed drivers", tags=["system"],
     opt={"permission": "kernel.driver.read"}, responses=PROTECTED_RESPONSES)
def list_drivers(kernel: NamedDependency[Kernel]) -> list[dict[str, Any]]:
    """Every installed driver (carriers, payment providers, sales channels, event sinks)
    with its distribution; one that fails to import carries its error."""
    return [info.as_dict() for info in kernel.drivers.list()]


SYSTEM_ROUTES = [health, prometheus_metrics, list_plugins, list_drivers]
