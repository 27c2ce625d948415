"""Long exports, run by the worker and downloaded when done.

An export too long to wait for in one request is queued (``POST /exports``); the job
``reports.run_exports`` of ``erp worker`` takes queued exports one at a time (a
conditional update claims each, so several workers never run one twice), runs the report
as the user who asked for it, with the permissions and record rules that user has then,
and writes the file, in constant memory, to ``ERP_REPORTS_EXPORT_DIR``. The user sees
its own exports and downloads a finished one's file.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import secrets
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_reports.exports import csv_chunks, header, xlsx_chunks
from erp_reports.query import ReportRequest, report_stream
from erp_reports.settings import ReportSettings
from erp_sdk import (
    Base,
    Entity,
    ErpError,
    Job,
    Kernel,
    RecordMixin,
    RecordRule,
    UtcDateTime,
    read_body,
    utcnow,
)

log = logging.getLogger("erp.reports.exports")

BUDGET_SECONDS = 50
"""How long one run of the job keeps taking queued exports before it yields."""


class ExportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {ExportFormat.CSV: "text/csv; charset=utf-8",
               ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument"
                                  ".spreadsheetml.sheet"}


class ExportJob(RecordMixin, Base):
    __tablename__ = "reports_export_job"

    state: Mapped[str] = mapped_column(sa.String(16), default=ExportState.QUEUED, index=True)
    format: Mapped[str] = mapped_column(sa.String(8))
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    requested_by: Mapped[int] = mapped_column(index=True)
    row_count: Mapped[int | None]
    file_name: Mapped[str | None] = mapped_column(sa.String(200))
    error: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[UtcDateTime | None]
    finished_at: Mapped[UtcDateTime | None]


EXPORT_JOB = Entity(
    "export_job", ExportJob, operations={"list", "get"}, filterable=["state", "format"],
    sortable=["created_at"], read_only=["file_name"],
    description="Exports run by the worker: queued, running, done (download its file) or"
                " failed (with the error).")

RULES = [RecordRule("reports.export_job", "reports.viewer",
                    lambda table, principal: table.c.requested_by == principal.user_id,
                    "the exports it asked for")]


def queue_export(kernel: Kernel, user_id: int, request_json: dict[str, Any],
                 export_format: ExportFormat) -> dict[str, Any]:
    table = ExportJob.__table__
    now = utcnow()
    with kernel.transaction() as session:
        export_id = session.execute(sa.insert(table).values(
            state=ExportState.QUEUED, format=export_format, definition=request_json,
            requested_by=user_id, version=1, created_at=now, updated_at=now)
            .returning(table.c.id)).scalar_one()
    return {"id": export_id, "state": str(ExportState.QUEUED), "format": str(export_format)}


def _claim(kernel: Kernel) -> Any | None:
    """The oldest queued export, now running for this runner; ``None`` when none is left."""
    table = ExportJob.__table__
    with kernel.transaction() as session:
        candidate = session.execute(sa.select(table.c.id).where(
            table.c.state == ExportState.QUEUED).order_by(table.c.id).limit(1)).scalar()
        if candidate is None:
            return None
        claimed = session.execute(sa.update(table).where(
            table.c.id == candidate, table.c.state == ExportState.QUEUED).values(
            state=ExportState.RUNNING, started_at=utcnow(), version=table.c.version + 1))
        if claimed.rowcount != 1:
            return False  # another runner took it first: look again
        return session.execute(sa.select(table).where(table.c.id == candidate)).one()


def _finish(kernel: Kernel, export_id: int, **values: Any) -> None:
    table = ExportJob.__table__
    with kernel.transaction() as session:
        session.execute(sa.update(table).where(table.c.id == export_id).values(
            finished_at=utcnow(), updated_at=utcnow(), version=table.c.version + 1, **values))


def export_path(settings: ReportSettings, file_name: str) -> Path:
    return settings.export_dir / file_name


def write_export(kernel: Kernel, export: Any, settings: ReportSettings) -> tuple[str, int]:
    """Run one export as its requester and write its file; the file's name and rows."""
    principal = kernel.principal_of_user(export.requested_by)
    request = read_body(ReportRequest, json.dumps(export.definition))
    stream = report_stream(kernel, principal, request, settings)
    titles = header(stream.columns, stream.query.zone.key)
    counted = 0

    def rows() -> Any:
        nonlocal counted
        for row in stream.rows():
            counted += 1
            yield row

    export_format = ExportFormat(export.format)
    chunks = (csv_chunks(titles, stream.names, rows()) if export_format is ExportFormat.CSV
              else xlsx_chunks(titles, stream.names, rows(), row_limit=settings.xlsx_row_limit,
                               csv_hint="queue the same export with format csv"))
    settings.export_dir.mkdir(parents=True, exist_ok=True)
    file_name = f"report-{export.id}-{secrets.token_hex(8)}.{export_format.value}"
    partial = export_path(settings, file_name + ".part")
    with partial.open("wb") as file:
        for chunk in chunks:
            file.write(chunk)
    partial.rename(export_path(settings, file_name))
    return file_name, counted


def run_exports(kernel: Kernel) -> str:
    """The job: run queued exports until none is left or the run's budget is spent."""
    settings = ReportSettings.from_env()
    deadline = time.monotonic() + BUDGET_SECONDS
    done = failed = 0
    while time.monotonic() < deadline:
        export = _claim(kernel)
        if export is None:
            break
        if export is False:
            continue
        try:
            file_name, count = write_export(kernel, export, settings)
        except ErpError as exc:  # the user lost a permission, the definition went stale
            _finish(kernel, export.id, state=ExportState.FAILED, error=exc.message)
            failed += 1
            continue
        except Exception as exc:
            log.exception("export %s failed", export.id)
            _finish(kernel, export.id, state=ExportState.FAILED, error=str(exc)[:500])
            failed += 1
            continue
        _finish(kernel, export.id, state=ExportState.DONE, file_name=file_name,
                row_count=count)
        done += 1
    return f"{done} exports written, {failed} failed"


JOBS = [Job("run_exports", run_exports, every=dt.timedelta(seconds=15),
            description="Write the queued report exports (CSV, XLSX) to files")]
