"""The reports API: the metrics a principal may see, a report's rows, a report (or a saved
one) exported as CSV or XLSX while it is read, and long exports queued for the worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs
from litestar import get, post
from litestar.params import FromPath, FromQuery, RawBody
from litestar.response import File, Stream

from erp_reports.export_jobs import (
    MEDIA_TYPES,
    ExportFormat,
    ExportState,
    export_path,
    queue_export,
)
from erp_reports.exports import csv_chunks, header, xlsx_chunks
from erp_reports.query import (
    ReportRequest,
    ReportStream,
    definition,
    report_stream,
    run_report,
)
from erp_reports.saved_reports import ChartKind, report_request, save_report
from erp_reports.settings import ReportSettings
from erp_sdk import (
    ConflictError,
    KernelDependency,
    ListOf,
    Nested,
    PrincipalDependency,
    ValidationError,
    body_operation,
    read_body,
    registered_metrics,
    text,
    typed_field,
)

FORMAT = text(choices=[f.value for f in ExportFormat])


@attrs.frozen
class ExportRequest:
    """A report to export in ``format`` (``csv`` or ``xlsx``)."""

    report: ReportRequest = typed_field(Nested(ReportRequest))
    format: str = typed_field(FORMAT, default="csv")


@attrs.frozen
class SaveReportRequest:
    """A report to save: its ``definition`` is a body of ``POST /query``."""

    name: str = typed_field(text(120))
    definition: ReportRequest = typed_field(Nested(ReportRequest))
    description: str | None = typed_field(text(2000), default=None, nullable=True)
    chart: str = typed_field(text(choices=[c.value for c in ChartKind]), default="table")
    shared_with: tuple[str, ...] = typed_field(ListOf(text(120), max_items=50), default=())


@post("/saved", sync_to_thread=True, status_code=201,
      operation_class=body_operation(SaveReportRequest),
      opt={"permission": "reports.saved_report.create"},
      summary="Save a report, shared with roles; you own it")
def save_saved_report(body: RawBody, kernel: KernelDependency,
                      principal: PrincipalDependency) -> dict[str, Any]:
    read_body(SaveReportRequest, body)
    payload = json.loads(body)
    with kernel.context(principal) as ctx:
        return save_report(ctx, payload)


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
                  " currencies are converted at the kernel's exchange rate of their day, and"
                  " a day without a rate is a 422 naming the currency and the day). A metric"
                  " needs its permission, and record rules narrow the rows a scoped user's"
                  " figures count.")
def query_report(body: RawBody, kernel: KernelDependency,
                 principal: PrincipalDependency) -> dict[str, Any]:
    request = read_body(ReportRequest, body)
    return run_report(kernel, principal, request, ReportSettings.from_env())


def export_response(stream: ReportStream, export_format: ExportFormat, name: str,
                    csv_hint: str) -> Stream:
    """The export as a streamed response: rows go out as the database gives them."""
    settings = ReportSettings.from_env()
    titles = header(stream.columns, stream.query.zone.key)
    chunks: Iterator[bytes] = (
        csv_chunks(titles, stream.names, stream.rows()) if export_format is ExportFormat.CSV
        else xlsx_chunks(titles, stream.names, stream.rows(),
                         row_limit=settings.xlsx_row_limit, csv_hint=csv_hint))
    return Stream(chunks, media_type=MEDIA_TYPES[export_format], headers={
        "Content-Disposition": f'attachment; filename="{name}.{export_format.value}"',
        "X-Report-Time-Zone": stream.query.zone.key})


@post("/export", sync_to_thread=True, status_code=200,
      operation_class=body_operation(ExportRequest),
      opt={"permission": "reports.export"}, media_type="text/csv",
      summary="Export a report as CSV or XLSX, streamed as it is read",
      description="Any number of rows in constant memory. An XLSX sheet stops at the"
                  " format's 1,048,576 rows and says so in its last row; the CSV has"
                  " every row.")
def export_report(body: RawBody, kernel: KernelDependency,
                  principal: PrincipalDependency) -> Stream:
    request = read_body(ExportRequest, body)
    stream = report_stream(kernel, principal, request.report, ReportSettings.from_env())
    return export_response(stream, ExportFormat(request.format), "report",
                           'POST /api/v1/reports/export with "format": "csv"')


@get("/saved/{report_id:int}/export", sync_to_thread=True,
     opt={"permission": "reports.export"}, media_type="text/csv",
     summary="Export a saved report as CSV or XLSX (`?format=xlsx`), streamed")
def export_saved_report(report_id: FromPath[int], kernel: KernelDependency,
                        principal: PrincipalDependency, format: FromQuery[str] = "csv") -> Stream:
    if format not in {f.value for f in ExportFormat}:
        raise ValidationError(f"format {format!r}: csv or xlsx", {"format": "csv or xlsx"})
    with kernel.context(principal) as ctx:
        saved = ctx.records("reports.saved_report").get(report_id)
    stream = report_stream(kernel, principal, report_request(saved["definition"]),
                           ReportSettings.from_env())
    return export_response(stream, ExportFormat(format), f"report-{report_id}",
                           f"GET /api/v1/reports/saved/{report_id}/export?format=csv")


@get("/saved/{report_id:int}/rows", sync_to_thread=True, opt={"permission": "reports.query"},
     summary="Run a saved report")
def run_saved_report(report_id: FromPath[int], kernel: KernelDependency,
                     principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        saved = ctx.records("reports.saved_report").get(report_id)
    answer = run_report(kernel, principal, report_request(saved["definition"]),
                        ReportSettings.from_env())
    return {"report": {k: saved[k] for k in ("id", "name", "description", "chart")}, **answer}


@post("/exports", sync_to_thread=True, status_code=202,
      operation_class=body_operation(ExportRequest),
      opt={"permission": "reports.export"},
      summary="Queue a long export for the worker; download it when it is done")
def queue_report_export(body: RawBody, kernel: KernelDependency,
                        principal: PrincipalDependency) -> dict[str, Any]:
    request = read_body(ExportRequest, body)
    report_stream(kernel, principal, request.report, ReportSettings.from_env())  # checked now
    if principal.user_id is None:
        raise ValidationError("only a user's export can be queued", {"body": "no user"})
    report_json = json.loads(body)["report"]
    return queue_export(kernel, principal.user_id, report_json, ExportFormat(request.format))


@get("/exports/{export_id:int}/file", sync_to_thread=True,
     opt={"permission": "reports.export_job.read"}, media_type="text/csv",
     summary="Download the file of a finished export")
def download_export(export_id: FromPath[int], kernel: KernelDependency,
                    principal: PrincipalDependency) -> File:
    with kernel.context(principal) as ctx:
        export = ctx.records("reports.export_job").get(export_id)
    if export["state"] != ExportState.DONE:
        raise ConflictError(f"export {export_id} is {export['state']}, not done"
                            + (f": {export['error']}" if export.get("error") else ""))
    file_name = export["file_name"]
    export_format = ExportFormat(export["format"])
    return File(export_path(ReportSettings.from_env(), file_name),
                filename=f"report-{export_id}.{export_format.value}",
                media_type=MEDIA_TYPES[export_format])


ROUTES = [list_metrics, query_report, save_saved_report, run_saved_report, export_report,
          export_saved_report, queue_report_export, download_export]
