"""Saved reports: a report's definition (metrics, dimensions, filters, period), its chart,
and the roles it is shared with.

Its owner is whoever saved it; it sees and changes it, and the holders of a role it is
shared with see it (and may run and export it) without changing it. The roles live in
a table of their own beside the report, kept in step with its ``shared_with`` list, so
the record rule narrowing what a user sees is one indexed condition.
"""

from __future__ import annotations

import enum
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_reports.query import ReportRequest, check_request
from erp_reports.settings import ReportSettings
from erp_sdk import (
    Base,
    Context,
    Entity,
    PermissionDenied,
    RecordMixin,
    RecordRule,
    ValidationError,
    WriteEvent,
    on_write,
    read_body,
)

ADMIN = "admin"
VIEWER = "reports.viewer"


class ChartKind(enum.StrEnum):
    TABLE = "table"
    LINE = "line"
    BAR = "bar"
    PIE = "pie"


class SavedReport(RecordMixin, Base):
    __tablename__ = "reports_saved_report"

    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.Text)
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    chart: Mapped[str] = mapped_column(
        sa.Enum(*(kind.value for kind in ChartKind), native_enum=False, length=16),
        default=ChartKind.TABLE)
    shared_with: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    owner: Mapped[str | None] = mapped_column(sa.String(80), index=True)


class SavedReportRole(Base):
    """A role a saved report is shared with."""

    __tablename__ = "reports_saved_report_role"

    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reports_saved_report.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(120), primary_key=True, index=True)


def _own_or_shared(table: sa.Table, principal: Any) -> sa.ColumnElement[bool]:
    roles = SavedReportRole.__table__
    shared = sa.select(roles.c.report_id).where(roles.c.role.in_(sorted(principal.roles)))
    return sa.or_(table.c.owner == principal.name, table.c.id.in_(shared))


SAVED_REPORT = Entity(
    "saved_report", SavedReport, read_only=["owner"],
    operations={"list", "get", "update", "delete"}, filterable=["name", "owner", "chart"],
    sortable=["name", "created_at"],
    description="Saved reports: `definition` is the body of POST /api/v1/reports/query;"
                " `shared_with` names the roles that may see and run it. Save one with"
                " POST /api/v1/reports/saved.")

RULES = [RecordRule("reports.saved_report", VIEWER, _own_or_shared,
                    "its own reports and those shared with one of its roles")]


def report_request(definition: Any) -> ReportRequest:
    """A saved definition as a report request; ``ValidationError`` saying what is wrong."""
    try:
        return read_body(ReportRequest, json.dumps(definition))
    except ValidationError as exc:
        raise ValidationError(f"definition: {exc.message}", {"definition": exc.message}
                              ) from None


@on_write("reports.saved_report", when="before")
def check_saved_report(ctx: Context, event: WriteEvent) -> None:
    """A definition must be a report the query API would take; only its owner (or an
    administrator) changes or deletes a report."""
    if "definition" in event.changes:
        request = report_request(event.changes["definition"])
        try:
            check_request(ctx.kernel, ctx.principal, request, ReportSettings.from_env())
        except ValidationError as exc:
            raise ValidationError(f"definition: {exc.message}", {"definition": exc.message}
                                  ) from None
    if "shared_with" in event.changes:
        roles = event.changes["shared_with"] or []
        unknown = [r for r in roles if r not in ctx.kernel.permissions.roles]
        if unknown:
            raise ValidationError(f"shared_with: unknown role {unknown[0]!r}",
                                  {"shared_with": f"unknown role {unknown[0]!r}"})
    principal = ctx.principal
    if (event.action != "create" and event.before is not None and not principal.is_system
            and ADMIN not in principal.roles and event.before.get("owner") != principal.name):
        raise PermissionDenied(f"only {event.before.get('owner')!r}, who saved the report,"
                               " changes it")


@on_write("reports.saved_report")
def share_with_roles(ctx: Context, event: WriteEvent) -> None:
    """The report's roles table follows its ``shared_with`` list."""
    if event.after is None or event.record_id is None:
        return
    roles = SavedReportRole.__table__
    ctx.session.execute(sa.delete(roles).where(roles.c.report_id == event.record_id))
    shared = sorted(set(event.after.get("shared_with") or []))
    if shared:
        ctx.session.execute(sa.insert(roles), [{"report_id": event.record_id, "role": role}
                                               for role in shared])


def save_report(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    """A new saved report owned by the principal saving it."""
    return ctx.records("reports.saved_report").create(
        payload, computed={"owner": ctx.principal.name})
