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
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import sqlalchemy as sa

from erp_reports import rollups
from erp_reports.conversion import Conversion, check_rates, local_day
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
    rollups: bool = True  # may be answered from a rollup
    in_sql: bool = True  # several sources joined, and ratios sorted, by the database


@attrs.frozen
class CompiledSource:
    """The statement of one source and how to read its columns back."""

    source: MetricSource
    statement: sa.Select[Any]
    metrics: tuple[RegisteredMetric, ...]
    parts: tuple[tuple[str, ...], ...]  # per metric, the labels of its aggregates
    ordered: bool  # ORDER BY and LIMIT are in the statement
    rollup: str | None = None  # the rollup it reads, if any


def _aggregate(measure: Measure, conversion: Conversion | None
               ) -> list[sa.ColumnElement[Any]]:
    """The SQL aggregates a measure needs (two for an average: sum and count); a money
    sum converted into the report's currency."""
    expression = measure.expression
    match measure.aggregation:
        case "sum":
            return [_sum(expression, conversion)]  # type: ignore[arg-type]
        case "count":
            return [sa.func.count(expression) if expression is not None else sa.func.count()]
        case "count_distinct":
            return [sa.func.count(sa.distinct(expression))]
        case "average":
            return [_sum(expression, conversion), sa.func.count(expression)]  # type: ignore[arg-type]
    raise AssertionError(measure.aggregation)  # pragma: no cover


def _sum(expression: sa.ColumnElement[Any], conversion: Conversion | None
         ) -> sa.ColumnElement[Any]:
    return sa.func.sum(expression) if conversion is None else conversion.sum(expression)


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
                   query: ReportQuery, *, single: bool, prefix: str = "") -> CompiledSource:
    """The ``SELECT ... GROUP BY`` of ``metrics`` (all over ``source``) for ``query``: from
    one of the source's rollups when one can answer it, else from the source's rows."""
    if query.rollups and source.rollups:
        compiled = _from_rollup(connection, kernel, principal, source, metrics, query,
                                single=single, prefix=prefix)
        if compiled is not None:
            return compiled
    return _compile(connection, kernel, principal, _rows_frame(source, query), metrics, query,
                    single=single, prefix=prefix)


@attrs.frozen
class Frame:
    """What a statement reads: the source's rows, or a rollup of them. ``rewrite`` maps an
    expression over the source's tables to one over the frame; ``aggregate`` gives the
    SQL aggregates of a plain measure (given the conversion of money, if any)."""

    source: MetricSource
    from_: sa.FromClause
    time: sa.ColumnElement[Any] | None
    rewrite: Callable[[sa.ColumnElement[Any]], sa.ColumnElement[Any]]
    aggregate: Callable[[Measure, Conversion | None], list[sa.ColumnElement[Any]]]
    condition: sa.ColumnElement[bool] | None
    span: Callable[[sa.Connection], tuple[dt.datetime, dt.datetime]] | None = None
    rollup: str | None = None


def _rows_frame(source: MetricSource, query: ReportQuery) -> Frame:
    filter_names = [f.dimension for f in query.filters]
    from_ = _joined(source, [*query.dimensions, *filter_names])
    return Frame(source, from_, source.time, lambda expression: expression, _aggregate,
                 source.condition,
                 span=lambda connection: _data_span(connection, source, from_))


def _from_rollup(connection: sa.Connection, kernel: Kernel, principal: Principal,
                 source: MetricSource, metrics: Sequence[RegisteredMetric],
                 query: ReportQuery, *, single: bool, prefix: str) -> CompiledSource | None:
    """The statement over the first of the source's rollups (fewest keys first) that is
    built, up to date with this definition and able to answer the report; ``None``
    when none can."""
    # A rollup's buckets must fall on the report's days when the report cuts by time, and
    # when it converts money too: each amount is converted at the rate of its local day.
    converts = source.currency is not None and any(m.metric.unit is Unit.MONEY
                                                   for m in metrics)
    timed = query.time_grain is not None or query.date_from or query.date_to or converts
    specs = [spec for spec in rollups.rollup_tables(kernel, connection.dialect)
             if spec.source is source and (not timed or (
                 rollups.whole_hour_zone(query.zone.key) if spec.zone is None
                 else spec.zone.key == query.zone.key and query.time_grain != "hour"))]
    built = rollups.watermarks(connection, [spec.name for spec in specs])
    for spec in sorted(specs, key=lambda spec: len(spec.rollup.keys)):
        state = built.get(spec.name)
        if state is None or state[0] != spec.signature:
            continue
        try:
            frame = _rollup_frame(connection, spec, state[1], source, query)
            return _compile(connection, kernel, principal, frame, metrics, query,
                            single=single, prefix=prefix)
        except rollups.Unanswerable:
            continue
    return None


def _rollup_frame(connection: sa.Connection, spec: rollups.RollupTable,
                  watermark: dt.datetime, source: MetricSource, query: ReportQuery) -> Frame:
    rows = rollups.frame(connection, spec, watermark, time_bounds(query))
    rewrite = rollups.rewriter(spec, rows)
    from_: sa.FromClause = rows
    made: list[sa.FromClause] = []
    for name in [*query.dimensions, *(f.dimension for f in query.filters)]:
        dimension = source.dimension(name)
        assert dimension is not None
        for join in dimension.joins:
            if any(join.table is table for table in rollups.source_tables(source)):
                raise rollups.Unanswerable(join.table)  # the rows themselves, not kept
            if not any(join.table is table for table in made):
                from_ = from_.join(join.table, rewrite(join.on), isouter=join.outer)
                made.append(join.table)
    dialect = connection.dialect

    def aggregate(measure: Measure, conversion: Conversion | None
                  ) -> list[sa.ColumnElement[Any]]:
        parts = rollups.measure_parts(measure, spec.rollup, dialect)
        if parts is None or any(p.signature not in spec.parts for p in parts):
            raise rollups.Unanswerable(measure)
        out = []
        for part in parts:
            column: sa.ColumnElement[Any] = rows.c[spec.parts[part.signature]]
            if part.aggregation == "sum":
                out.append(_sum(column, conversion))
            else:
                out.append(sa.cast(sa.func.coalesce(sa.func.sum(column), 0), sa.BigInteger))
        return out

    bucket = rows.c[rollups.BUCKET]

    def span(connection: sa.Connection) -> tuple[dt.datetime, dt.datetime]:
        first, last = connection.execute(
            sa.select(sa.func.min(bucket), sa.func.max(bucket)).select_from(rows)).one()
        now = dt.datetime.now(dt.UTC)
        return first or now, (last or now) + dt.timedelta(days=1)

    return Frame(source, from_, bucket, rewrite, aggregate, None, span=span,
                 rollup=spec.name)


def _compile(connection: sa.Connection, kernel: Kernel, principal: Principal, frame: Frame,
             metrics: Sequence[RegisteredMetric], query: ReportQuery, *, single: bool,
             prefix: str) -> CompiledSource:
    source, rewrite = frame.source, frame.rewrite
    columns: list[sa.ColumnElement[Any]] = []
    groups: list[sa.ColumnElement[Any]] = []
    start, end = time_bounds(query)
    conditions: list[sa.ColumnElement[bool]] = []
    if frame.condition is not None:
        conditions.append(frame.condition)
    if frame.time is not None:
        if start is not None:
            conditions.append(frame.time >= start)
        if end is not None:
            conditions.append(frame.time < end)
    if query.time_grain is not None:
        assert frame.time is not None
        dialect = connection.dialect.name
        if dialect == "sqlite" and (start is None or end is None) and not keeps_one_offset(
                query.zone):
            assert frame.span is not None
            first, last = frame.span(connection)
            start, end = start or first, end or last
        period = bucket(frame.time, query.time_grain, query.zone, dialect,
                        start or dt.datetime.now(dt.UTC), end or dt.datetime.now(dt.UTC))
        columns.append(period.label(PERIOD))
        groups.append(period)
    for name in query.dimensions:
        dimension = source.dimension(name)
        assert dimension is not None
        expression = rewrite(dimension.expression)
        columns.append(expression.label(name))
        groups.append(expression)
        if dimension.label is not None:
            # a label is the key's (a product's name): grouped by the key alone
            columns.append(sa.func.max(rewrite(dimension.label)).label(name + LABEL_SUFFIX))
    for item in query.filters:
        dimension = source.dimension(item.dimension)
        assert dimension is not None
        conditions.append(rewrite(dimension.expression).in_(item.values))
    for entity, table in source.entities.items():
        narrowing = kernel.permissions.row_filter(entity, table, principal)
        if narrowing is not None:
            conditions.append(rewrite(narrowing))
    conversion = None
    if source.currency is not None and any(m.metric.unit is Unit.MONEY for m in metrics):
        dialect = connection.dialect.name
        first, last = start, end
        if dialect == "sqlite" and frame.time is not None and (first is None or last is None) \
                and not keeps_one_offset(query.zone):
            assert frame.span is not None
            spanned = frame.span(connection)  # SQLite's offsets need the instants read
            first, last = first or spanned[0], last or spanned[1]
        now = dt.datetime.now(dt.UTC)
        conversion = Conversion(rewrite(source.currency),
                                local_day(frame.time, query.zone, dialect, first or now,
                                          last or now), query.currency, dialect)
        if not check_rates(connection, frame.from_, conditions, conversion):
            # every amount read is in the report's currency: plain sums (a row in another
            # currency written since is left out, as it was not there when checked)
            if all(m.metric.unit is Unit.MONEY for m in metrics):
                conditions.append(conversion.currency == query.currency)
                conversion = None
            else:
                conversion = attrs.evolve(conversion, home_only=True)
    parts: list[tuple[str, ...]] = []
    for index, registered in enumerate(metrics):
        labels: list[str] = []
        money = conversion if registered.metric.unit is Unit.MONEY else None
        for term, measure in enumerate(registered.metric.measure.parts()):
            for position, aggregate in enumerate(frame.aggregate(measure, money)):
                label = f"{prefix}m{index}_{term}_{position}"
                columns.append(aggregate.label(label))
                labels.append(label)
        parts.append(tuple(labels))
    statement = sa.select(*columns).select_from(frame.from_).where(*conditions)
    if groups:
        statement = statement.group_by(*groups)
    ordered = False
    if single:
        ordering = _sql_ordering(query, metrics, parts)
        if ordering is not None:
            statement = statement.order_by(*ordering)
            ordered = True
            if query.limit is not None:
                statement = statement.limit(query.limit)
    return CompiledSource(source, statement, tuple(metrics), tuple(parts), ordered,
                          frame.rollup)


def _sql_ordering(query: ReportQuery, metrics: Sequence[RegisteredMetric],
                  parts: Sequence[tuple[str, ...]]) -> list[sa.ColumnElement[Any]] | None:
    """ORDER BY for a one-source report, when SQL can sort it (not by a ratio); ties are
    broken by the period and the dimensions, so a cut list (top 20) is always the same."""
    keys = [PERIOD] * bool(query.time_grain) + list(query.dimensions)
    if query.order_by is None:
        return [sa.literal_column(k).asc().nulls_last() for k in keys] or None
    if query.order_by == PERIOD or query.order_by in query.dimensions:
        key = sa.literal_column(query.order_by)
    else:
        index = next(i for i, m in enumerate(metrics) if m.name == query.order_by)
        if len(parts[index]) != 1:
            return None
        key = sa.literal_column(parts[index][0])
    return [(key.desc() if query.descending else key.asc()).nulls_last(),
            *(sa.literal_column(k).asc().nulls_last() for k in keys if k != query.order_by)]
