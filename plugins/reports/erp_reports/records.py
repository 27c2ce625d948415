"""The records behind a figure (a drill-down): the rows of a metric's source, grouped by
the record each belongs to (an order for a sales line), with the metric per record.

It is the same compiled query as a report's, cut by the source's record id and time, so
the permission, the record rules, the filters and the time zone are the report's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from erp_reports.compiler import ReportQuery
from erp_reports.query import (
    FilterRequest,
    ReportRequest,
    check_request,
    compile_report,
    merged_rows,
)
from erp_reports.replica import reports_engine
from erp_reports.settings import ReportSettings
from erp_sdk import Dimension, Kernel, Principal, RegisteredMetric, ValidationError

RECORD = "record"
RECORD_TIME = "record_time"


def _with_records(registered: RegisteredMetric) -> RegisteredMetric:
    """The metric over a copy of its source that can also be cut by record and time."""
    metric = registered.metric
    source = metric.source
    assert source.record is not None
    extra = [Dimension(RECORD, source.record[1], title="Record")]
    if source.time is not None:
        extra.append(Dimension(RECORD_TIME, source.time, title="Time"))
    widened = attrs.evolve(source, dimensions=(*source.dimensions, *extra))
    return attrs.evolve(registered, metric=attrs.evolve(metric, source=widened))


def records_behind(kernel: Kernel, principal: Principal, settings: ReportSettings,
                   metric: str, filters: tuple[FilterRequest, ...] = (),
                   date_from: dt.date | None = None, date_to: dt.date | None = None,
                   limit: int = 100) -> dict[str, Any]:
    """Up to ``limit`` records behind ``metric`` (newest first), with their API paths."""
    checked = check_request(kernel, principal, ReportRequest(
        metrics=(metric,), filters=filters,
        date_from=date_from.isoformat() if date_from else None,
        date_to=date_to.isoformat() if date_to else None), settings)
    registered = checked.metrics[0]
    if registered.metric.source.record is None:
        raise ValidationError(f"{metric} names no records to list", {"metric": "no records"})
    widened = _with_records(registered)
    by_time = widened.metric.source.time is not None
    query: ReportQuery = attrs.evolve(
        checked, metrics=(widened,), dimensions=(RECORD, *([RECORD_TIME] if by_time else [])),
        order_by=RECORD_TIME if by_time else RECORD, descending=True, limit=limit + 1)
    entity_name = registered.metric.source.record[0]  # type: ignore[index]
    entity = kernel.entities.get(entity_name)
    with reports_engine(kernel).connect() as connection:
        rows = list(merged_rows(connection, compile_report(connection, kernel, principal,
                                                           query), query))
    records = []
    for row in rows[:limit]:
        moment = row.get(RECORD_TIME)
        if isinstance(moment, str):
            moment = dt.datetime.fromisoformat(moment)
        if isinstance(moment, dt.datetime) and moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        records.append({"id": row[RECORD], "time": moment, "value": row[metric],
                        "path": f"/api/v1/{entity.plugin}/{entity.collection}/{row[RECORD]}"})
    return {"metric": registered, "unit": str(registered.metric.unit), "entity": entity_name,
            "records": records, "more": len(rows) > limit}
