"""The reports API: the metrics a principal may see, and a report's rows."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import RawBody

from erp_reports.query import ReportRequest, definition, run_report
from erp_reports.settings import ReportSettings
from erp_sdk import (
    KernelDependency,
    PrincipalDependency,
    body_operation,
    read_body,
    registered_metrics,
)


@get("/metrics", sync_to_thread=True, opt={"permission": "reports.query"},
     summary="List the metrics you may report on, with their dimensions")
def list_metrics(kernel: KernelDependency, principal: PrincipalDependency) -> dict[str, Any]:
    metrics = registered_metrics(kernel)
    return {"items": [definition(m) for m in metrics.values()
                      if principal.can(m.metric.permission)]}


@post("/query", sync_to_thread=True, status_code=200,
      operation_class=body_operation(ReportRequest),
      opt={"permission": "reports.query"},
      summary="Run a report: metrics by dimensions and periods, with the definitions used",
      description="Periods are counted in `time_zone` (the company's by default); money is"
                  " reported in `currency` (the company's by default; amounts in other"
                  " currencies are left out). A metric needs its permission, and record"
                  " rules narrow the rows a scoped user's figures count.")
def query_report(body: RawBody, kernel: KernelDependency,
                 principal: PrincipalDependency) -> dict[str, Any]:
    request = read_body(ReportRequest, body)
    return run_report(kernel, principal, request, ReportSettings.from_env())


ROUTES = [list_metrics, query_report]
