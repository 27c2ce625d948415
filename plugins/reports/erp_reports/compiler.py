"""Compile a report (metrics, dimensions, filters, time grain) into one SQL statement per
metric source.

Metrics of one source share a ``SELECT ... GROUP BY`` over that source's rows; metrics of
several sources (of several plugins) are queried each from their own and joined on the
dimension values afterwards (see ``erp_reports.query``). Only the joins the asked
dimensions need are made. The principal's record rules narrow every entity a source
names, in the statement itself, so a scoped user's figures count only its rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import sqlalchemy as sa

from erp_reports.time_buckets import TimeGrain, bucket, keeps_one_offset, local_midnight
from erp_sdk import Kernel, Measure, MetricSource, Principal, RegisteredMetric, Unit

PERIOD = "period"
LABEL_SUFFIX = "_label"


@attrs.frozen
class Filter:
    """Rows whose ``dimension`` is one of ``values``."""

    dimension: str
    values: tuple[Any, ...]


@attrs.frozen
class ReportQuery:
    """A report as asked: checked names, an inclusive local date range, the zone."""

    metrics: tuple[RegisteredMetric, ...]
    dimensions: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    time_grain: TimeGrain | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    zone: ZoneInfo = attrs.field(factory=lambda: ZoneInfo("UTC"))
    currency: str = "EUR"
    order_by: str | None = None
    descending: bool = True
    limit: int | None = None


@attrs.frozen
class CompiledSource:
    """The statement of one source and how to read its columns back."""

    source: MetricSource
    statement: sa.Select[Any]
    metrics: tuple[RegisteredMetric, ...]
    parts: tuple[tuple[str, ...], ...]  # per metric, the labels of its aggregates
    ordered: bool  # ORDER BY and LIMIT are in the statement


def _aggregate(measure: Measure, currency: sa.ColumnElement[bool] | None
               ) -> list[sa.ColumnElement[Any]]:
    """The SQL aggregates a measure needs (two for an average: sum and count)."""
    expression = measure.expression
    if expression is not None and currency is not None:
        expression = sa.case((currency, expression))
    match measure.aggregation:
        case "sum":
            return [sa.func.sum(expression)]
        case "count":
            return [sa.func.count(expression) if expression is not None else sa.func.count()]
        case "count_distinct":
            return [sa.func.count(sa.distinct(expression))]
        case "average":
            return [sa.func.sum(expression), sa.func.count(expression)]
    raise AssertionError(measure.aggregation)  # pragma: no cover


def _joined(source: MetricSource, dimensions: Sequence[str]) -> sa.FromClause:
    from_: sa.FromClause = source.table
    made: list[sa.FromClause] = []
    for join in source.joins:
        from_ = from_.join(join.table, join.on, isouter=join.outer)
        made.append(join.table)
    for name in dimensions:
        dimension = source.dimension(name)
        assert dimension is not None
        for join in dimension.joins:
            if not any(join.table is table for table in made):
                from_ = from_.join(join.table, join.on, isouter=join.outer)
                made.append(join.table)
    return from_


def time_bounds(query: ReportQuery) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The UTC instants the local date range starts and ends at (end exclusive)."""
    start = local_midnight(query.date_from, query.zone) if query.date_from else None
    end = (local_midnight(query.date_to + dt.timedelta(days=1), query.zone)
           if query.date_to else None)
    return start, end


def _data_span(connection: sa.Connection, source: MetricSource, from_: sa.FromClause
               ) -> tuple[dt.datetime, dt.datetime]:
    """The first and last instants of a source, for SQLite's offset table."""
    assert source.time is not None
    first, last = connection.execute(
        sa.select(sa.func.min(source.time), sa.func.max(source.time)).select_from(from_)).one()
    now = dt.datetime.now(dt.UTC)
    return first or now, (last or now) + dt.timedelta(days=1)


def compile_source(connection: sa.Connection, kernel: Kernel, principal: Principal,
                   source: MetricSource, metrics: Sequence[RegisteredMetric],
                   query: ReportQuery, *, single: bool) -> CompiledSource:
    """The ``SELECT ... GROUP BY`` of ``metrics`` (all over ``source``) for ``query``."""
    filter_names = [f.dimension for f in query.filters]
    from_ = _joined(source, [*query.dimensions, *filter_names])
    columns: list[sa.ColumnElement[Any]] = []
    groups: list[sa.ColumnElement[Any]] = []
    start, end = time_bounds(query)
    conditions: list[sa.ColumnElement[bool]] = []
    if source.condition is not None:
        conditions.append(source.condition)
    if source.time is not None:
        if start is not None:
            conditions.append(source.time >= start)
        if end is not None:
            conditions.append(source.time < end)
    if query.time_grain is not None:
        assert source.time is not None
        dialect = connection.dialect.name
        if dialect == "sqlite" and (start is None or end is None) and not keeps_one_offset(
                query.zone):
            first, last = _data_span(connection, source, from_)
            start, end = start or first, end or last
        period = bucket(source.time, query.time_grain, query.zone, dialect,
                        start or dt.datetime.now(dt.UTC), end or dt.datetime.now(dt.UTC))
        columns.append(period.label(PERIOD))
        groups.append(period)
    for name in query.dimensions:
        dimension = source.dimension(name)
        assert dimension is not None
        columns.append(dimension.expression.label(name))
        groups.append(dimension.expression)
        if dimension.label is not None:
            columns.append(dimension.label.label(name + LABEL_SUFFIX))
            groups.append(dimension.label)
    for item in query.filters:
        dimension = source.dimension(item.dimension)
        assert dimension is not None
        conditions.append(dimension.expression.in_(item.values))
    for entity, table in source.entities.items():
        narrowing = kernel.permissions.row_filter(entity, table, principal)
        if narrowing is not None:
            conditions.append(narrowing)
    money = [m.metric.unit is Unit.MONEY for m in metrics]
    in_currency = None
    if source.currency is not None and any(money):
        if all(money):
            conditions.append(source.currency == query.currency)
        else:  # counts keep every row; only money is summed in the report's currency
            in_currency = source.currency == query.currency
    parts: list[tuple[str, ...]] = []
    for index, registered in enumerate(metrics):
        labels: list[str] = []
        for term, measure in enumerate(registered.metric.measure.parts()):
            currency = in_currency if registered.metric.unit is Unit.MONEY else None
            for position, aggregate in enumerate(_aggregate(measure, currency)):
                label = f"m{index}_{term}_{position}"
                columns.append(aggregate.label(label))
                labels.append(label)
        parts.append(tuple(labels))
    statement = sa.select(*columns).select_from(from_).where(*conditions)
    if groups:
        statement = statement.group_by(*groups)
    ordered = False
    if single:
        ordering = _sql_ordering(query, metrics, parts)
        if ordering is not None:
            statement = statement.order_by(ordering)
            ordered = True
            if query.limit is not None:
                statement = statement.limit(query.limit)
    return CompiledSource(source, statement, tuple(metrics), tuple(parts), ordered)


def _sql_ordering(query: ReportQuery, metrics: Sequence[RegisteredMetric],
                  parts: Sequence[tuple[str, ...]]) -> sa.ColumnElement[Any] | None:
    """ORDER BY for a one-source report, when SQL can sort it (not by a ratio)."""
    if query.order_by is None:
        key: sa.ColumnElement[Any] | None = sa.literal_column(PERIOD) if query.time_grain else None
        return key.asc() if key is not None else None
    if query.order_by == PERIOD or query.order_by in query.dimensions:
        key = sa.literal_column(query.order_by)
    else:
        index = next(i for i, m in enumerate(metrics) if m.name == query.order_by)
        if len(parts[index]) != 1:
            return None
        key = sa.literal_column(parts[index][0])
    return key.desc() if query.descending else key.asc()
