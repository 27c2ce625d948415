"""Rollups: the pre-aggregations of metric sources that the reports plugin keeps, and how
a report is answered from one.

A plugin declares a ``Rollup`` on a source (keys such as the channel or the product of an
order line); this plugin keeps a table of the source's rows summed per UTC hour and per
key, with one column per aggregate the source's metrics need. The job
``reports.refresh_rollups`` (and ``refresh_rollups``) builds a table the first time and
after that recomputes only the hours holding rows changed since its last run.

Never stale: each rollup has a watermark, an instant before which every row it summed
had last changed. A report finds the hours of the rows changed after the watermark (the
source's ``changed`` columns are indexed), reads the rollup for every other hour and the
rows themselves for those, in one statement. On PostgreSQL the watermark is also held
back to the start of the oldest transaction open when the rollup was refreshed, so a row
written by a transaction that committed later is never missed; ``CLOCK_MARGIN`` covers
the clocks of the processes that stamp ``updated_at``. Rows deleted from a source's
tables outside the plugins' services are not seen: ``refresh_rollups(rebuild=True)``
rebuilds.

Time: an hour in UTC is an hour in any zone whose offsets are whole hours (most of the
world), so a rollup answers days, weeks and months in any such zone, across daylight
saving changes; a report in a zone with a half-hour offset reads the rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import weakref
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import visitors

from erp_reports.settings import ReportSettings
from erp_reports.time_buckets import TimeGrain, bucket, local_midnight, offset_spans
from erp_sdk import (
    AwareDateTime,
    Base,
    Job,
    Kernel,
    Measure,
    MetricSource,
    RegisteredMetric,
    Rollup,
    registered_metrics,
)

log = logging.getLogger("erp.reports.rollups")

HOUR = dt.timedelta(hours=1)
CLOCK_MARGIN = dt.timedelta(minutes=2)
"""How far the watermark is set back for the clocks of the processes writing rows."""
MAX_CHANGED_BUCKETS = 1000
"""Past this many hours (days) with changed rows a report reads the rows (a refresh is
due)."""
BUCKET = "bucket"



class RollupState(Base):
    """A rollup this plugin keeps: its table, the signature of the definition it was
    built from (another definition is rebuilt, and never read meanwhile), and its
    watermark."""

    __tablename__ = "reports_rollup"

    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    table_name: Mapped[str] = mapped_column(sa.String(63))
    signature: Mapped[str] = mapped_column(sa.String(64))
    watermark: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    refreshed_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    row_count: Mapped[int] = mapped_column(sa.BigInteger())


STATE: sa.Table = RollupState.__table__  # type: ignore[assignment]


class Unanswerable(Exception):
    """The report needs something the rollup does not keep."""


@attrs.frozen
class Part:
    """One aggregate a rollup keeps: ``sum``, ``count`` or ``count_distinct`` of an
    expression (none: rows), added back up by a sum."""

    aggregation: str
    expression: sa.ColumnElement[Any] | None = attrs.field(eq=False)
    signature: str


@attrs.frozen
class RollupTable:
    """A rollup of a source as this plugin keeps it for one database."""

    name: str  # <plugin>.<source>.<rollup>
    source: MetricSource = attrs.field(eq=False)
    rollup: Rollup = attrs.field(eq=False)
    table: sa.Table = attrs.field(eq=False)
    parts: dict[str, str] = attrs.field(eq=False)  # part signature -> column name
    part_list: tuple[Part, ...] = attrs.field(eq=False)
    signature: str
    zone: ZoneInfo | None = attrs.field(default=None, eq=False)  # a daily rollup's zone

    def buckets_of_hours(self, hours: Sequence[dt.datetime]) -> list[dt.datetime]:
        """The buckets holding any instant of these UTC hours."""
        if self.zone is None:
            return sorted(set(hours))
        found = set()
        for hour in hours:
            for instant in (hour, hour + HOUR - dt.timedelta(microseconds=1)):
                found.add(local_midnight(instant.astimezone(self.zone).date(), self.zone))
        return sorted(found)

    def bucket_end(self, start: dt.datetime) -> dt.datetime:
        if self.zone is None:
            return start + HOUR
        return local_midnight(start.astimezone(self.zone).date() + dt.timedelta(days=1),
                              self.zone)

    def bucket_of(self, time: sa.ColumnElement[Any], dialect: str, start: dt.datetime,
                  end: dt.datetime) -> sa.ColumnElement[Any]:
        """The bucket of an instant (the start of its hour, or of its local day), as an
        instant; ``start`` and ``end`` bound the instants read (SQLite's offsets)."""
        if self.zone is None:
            return hour_of(time, dialect)
        if dialect == "postgresql":
            key = self.zone.key
            midnight = sa.func.timezone(key, sa.func.date_trunc("day", sa.func.timezone(key,
                                                                                         time)))
            return sa.type_coerce(midnight, AwareDateTime())
        start, end = start - dt.timedelta(days=1), end + dt.timedelta(days=1)
        spans = offset_spans(self.zone, start, end)
        day = bucket(time, TimeGrain.DAY, self.zone, dialect, start, end)

        def at(offset: int) -> sa.ColumnElement[Any]:
            return sa.func.strftime("%Y-%m-%d %H:%M:%S.000000", day, f"{-offset:+d} seconds")

        whens = [(at(offset) >= start_utc.strftime("%Y-%m-%d %H:%M:%S.000000"), at(offset))
                 for start_utc, offset in reversed(spans[1:])]
        midnight = sa.case(*whens, else_=at(spans[0][1])) if whens else at(spans[0][1])
        return sa.type_coerce(midnight, AwareDateTime())


def sql_of(expression: sa.ClauseElement, dialect: sa.Dialect) -> str | None:
    """An expression's SQL with its values written in: what identifies it; ``None`` for
    one whose values are computed when it runs."""
    try:
        return str(expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    except Exception:  # a value bound at run time: no fixed SQL, so never kept
        return None


def measure_parts(measure: Measure, rollup: Rollup, dialect: sa.Dialect
                  ) -> list[Part] | None:
    """The parts a plain measure is summed from, or ``None`` when a rollup cannot keep it."""
    expression = measure.expression
    sql = "*" if expression is None else sql_of(expression, dialect)
    if sql is None:
        return None
    match measure.aggregation:
        case "sum" | "count":
            return [Part(str(measure.aggregation), expression, f"{measure.aggregation}:{sql}")]
        case "average":
            return [Part("sum", expression, f"sum:{sql}"), Part("count", expression,
                                                               f"count:{sql}")]
        case "count_distinct":
            if sql in {sql_of(e, dialect) for e in rollup.distinct}:
                return [Part("count_distinct", expression, f"count_distinct:{sql}")]
    return None


def hour_of(time: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """The UTC hour an instant falls in, as an instant."""
    if dialect == "postgresql":
        hour = sa.func.date_trunc("hour", time, "UTC")
    else:  # SQLite keeps instants as UTC text in SQLAlchemy's format
        hour = sa.func.strftime("%Y-%m-%d %H:00:00.000000", time)
    return sa.type_coerce(hour, AwareDateTime())


def source_tables(source: MetricSource) -> list[sa.FromClause]:
    return [source.table, *(join.table for join in source.joins)]


def source_from(source: MetricSource) -> sa.FromClause:
    from_: sa.FromClause = source.table
    for join in source.joins:
        from_ = from_.join(join.table, join.on, isouter=join.outer)
    return from_


def _raw_aggregate(part: Part) -> sa.ColumnElement[Any]:
    if part.aggregation == "sum":
        return sa.func.sum(part.expression)
    if part.aggregation == "count":
        return sa.func.count(part.expression) if part.expression is not None else sa.func.count()
    return sa.func.count(sa.distinct(part.expression))


def _column_type(part: Part) -> Any:
    if part.aggregation == "sum":
        assert part.expression is not None
        return part.expression.type
    return sa.BigInteger()


_SPECS: weakref.WeakKeyDictionary[Kernel, dict[str, list[RollupTable]]] = (
    weakref.WeakKeyDictionary())


def rollup_tables(kernel: Kernel, dialect: sa.Dialect) -> list[RollupTable]:
    """Every rollup the enabled plugins declare, with the parts all the metrics of its
    source need (worked out once per kernel and database kind)."""
    known = _SPECS.setdefault(kernel, {})
    zone_name = ReportSettings.from_env().time_zone
    cache = f"{dialect.name} {zone_name}"
    if cache not in known:
        by_source: dict[int, list[RegisteredMetric]] = {}
        for registered in registered_metrics(kernel).values():
            if registered.metric.source.rollups:
                by_source.setdefault(id(registered.metric.source), []).append(registered)
        found = []
        for registered_list in by_source.values():
            source = registered_list[0].metric.source
            for rollup in source.rollups:
                found.append(_rollup_table(registered_list[0].plugin, source, rollup,
                                           [m.metric.measure for m in registered_list],
                                           dialect, ZoneInfo(zone_name)))
        known[cache] = found
    return known[cache]


@functools.lru_cache(maxsize=64)
def _cached_table(name: str, signature: str, key_types: tuple[Any, ...],
                  part_types: tuple[tuple[str, Any], ...]) -> sa.Table:
    table_name = "reports_rollup_" + hashlib.sha1(name.encode()).hexdigest()[:12]
    metadata = sa.MetaData()
    columns = [sa.Column(BUCKET, AwareDateTime(), nullable=False)]
    columns += [sa.Column(f"k{i}", kind) for i, kind in enumerate(key_types)]
    columns += [sa.Column(column, kind) for column, kind in part_types]
    table = sa.Table(table_name, metadata, *columns)
    sa.Index(f"ix_{table_name}_bucket", table.c[BUCKET])
    return table


def _rollup_table(plugin: str, source: MetricSource, rollup: Rollup,
                  measures: Sequence[Measure], dialect: sa.Dialect, zone: ZoneInfo
                  ) -> RollupTable:
    name = f"{plugin}.{source.name}.{rollup.name}"
    parts: dict[str, Part] = {}
    for measure in measures:
        for term in measure.parts():
            for part in measure_parts(term, rollup, dialect) or ():
                parts.setdefault(part.signature, part)
    ordered = sorted(parts.values(), key=lambda p: p.signature)
    described = [sql_of(k, dialect) or "?" for k in rollup.keys]
    described += [p.signature for p in ordered]
    described += [sql_of(source_from(source), dialect) or "?",
                  sql_of(source.condition, dialect) or "" if source.condition is not None
                  else "", sql_of(source.time, dialect) or "?",  # type: ignore[arg-type]
                  rollup.grain, zone.key if rollup.grain == "day" else "UTC"]
    signature = hashlib.sha256("\n".join(described).encode()).hexdigest()
    columns = {p.signature: f"p{i}" for i, p in enumerate(ordered)}
    table = _cached_table(name, signature, tuple(k.type for k in rollup.keys),
                          tuple((columns[p.signature], _column_type(p)) for p in ordered))
    return RollupTable(name, source, rollup, table, columns, tuple(ordered), signature,
                       zone if rollup.grain == "day" else None)


def rows_select(spec: RollupTable, dialect: str, span: tuple[dt.datetime, dt.datetime],
                where: Sequence[sa.ColumnElement[bool]] = (), *, ordered: bool = False
                ) -> sa.Select[Any]:
    """The source's rows (their instants within ``span``) summed per bucket and key, as
    the rollup table holds them; ``ordered`` in time order, to write the table as it is
    read, a period's rows side by side."""
    source = spec.source
    assert source.time is not None
    hour = spec.bucket_of(source.time, dialect, *span)
    columns = [hour.label(BUCKET)]
    columns += [key.label(f"k{i}") for i, key in enumerate(spec.rollup.keys)]
    columns += [_raw_aggregate(p).label(spec.parts[p.signature]) for p in spec.part_list]
    conditions = [source.time.is_not(None), *where]
    if source.condition is not None:
        conditions.append(source.condition)
    statement = (sa.select(*columns).select_from(source_from(source)).where(*conditions)
                 .group_by(hour, *spec.rollup.keys))
    return statement.order_by(hour) if ordered else statement


def changed_buckets(connection: sa.Connection, spec: RollupTable, since: dt.datetime
                    ) -> list[dt.datetime]:
    """The buckets holding rows of the source changed after ``since`` (whatever their
    state now: a cancelled order leaves its hour)."""
    source = spec.source
    assert source.time is not None
    hour = hour_of(source.time, connection.dialect.name)
    found: set[dt.datetime] = set()
    for column in source.changed:
        found.update(connection.scalars(
            sa.select(hour).distinct().select_from(source_from(source))
            .where(column > since, source.time.is_not(None))))
    return spec.buckets_of_hours(sorted(found))


def bucket_ranges(spec: RollupTable, buckets: Sequence[dt.datetime]
                  ) -> list[tuple[dt.datetime, dt.datetime]]:
    """Consecutive buckets merged into ``[start, end)`` ranges of instants."""
    ranges: list[tuple[dt.datetime, dt.datetime]] = []
    for start in buckets:
        end = spec.bucket_end(start)
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def in_ranges(time: sa.ColumnElement[Any], ranges: Sequence[tuple[dt.datetime, dt.datetime]]
              ) -> sa.ColumnElement[bool]:
    return sa.or_(*(sa.and_(time >= start, time < end) for start, end in ranges))


def _watermark(connection: sa.Connection) -> dt.datetime:
    """The instant before which every row visible now had last changed, less the margin."""
    now = dt.datetime.now(dt.UTC)
    if connection.dialect.name == "postgresql":
        started, oldest = connection.execute(sa.text(
            "SELECT now(), (SELECT min(xact_start) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid())")).one()
        now = min(now, started, oldest or started)
    return now - CLOCK_MARGIN


def refresh_rollups(kernel: Kernel, *, rebuild: bool = False) -> str:
    """Bring every rollup up to date: build its table when it has none or its definition
    changed (or ``rebuild``), else recompute the hours with rows changed since its
    watermark. Each rollup in a transaction of its own; the summary says what was done."""
    done = []
    engine = kernel.engine
    for spec in rollup_tables(kernel, engine.dialect):
        options = ({"isolation_level": "REPEATABLE READ"}
                   if engine.dialect.name == "postgresql" else {})
        with engine.connect().execution_options(**options) as connection, connection.begin():
            done.append(_refresh(connection, spec, rebuild))
    return "; ".join(done) or "no rollups"


def _refresh(connection: sa.Connection, spec: RollupTable, rebuild: bool) -> str:
    dialect = connection.dialect.name
    watermark = _watermark(connection)
    state = connection.execute(sa.select(STATE).where(STATE.c.name == spec.name)).one_or_none()
    table = spec.table
    if rebuild or state is None or state.signature != spec.signature:
        table.drop(connection, checkfirst=True)
        table.create(connection)
        assert spec.source.time is not None
        first, last = connection.execute(sa.select(
            sa.func.min(spec.source.time), sa.func.max(spec.source.time))
            .select_from(source_from(spec.source))).one()
        now = dt.datetime.now(dt.UTC)
        connection.execute(table.insert().from_select(
            [c.name for c in table.columns],
            rows_select(spec, dialect, (first or now, last or now), ordered=True)))
        what = "built"
    else:
        buckets = changed_buckets(connection, spec, state.watermark)
        for start in range(0, len(buckets), 500):
            chunk = buckets[start:start + 500]
            ranges = bucket_ranges(spec, chunk)
            connection.execute(table.delete().where(table.c[BUCKET].in_(chunk)))
            assert spec.source.time is not None
            connection.execute(table.insert().from_select(
                [c.name for c in table.columns],
                rows_select(spec, dialect, (ranges[0][0], ranges[-1][1]),
                            [in_ranges(spec.source.time, ranges)], ordered=True)))
        what = f"{len(buckets)} {spec.rollup.grain}s recomputed"
    if state is not None and what.startswith("0 "):  # nothing changed: only the watermark
        count = state.row_count
    else:
        if dialect == "postgresql":
            connection.exec_driver_sql(f'ANALYZE "{table.name}"')
        count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    values = {"table_name": table.name, "signature": spec.signature, "watermark": watermark,
              "refreshed_at": dt.datetime.now(dt.UTC), "row_count": count}
    if state is None:
        connection.execute(STATE.insert().values(name=spec.name, **values))
    else:
        connection.execute(STATE.update().where(STATE.c.name == spec.name).values(**values))
    log.info("rollup %s: %s, %d rows", spec.name, what, count)
    return f"{spec.name}: {what}"


def watermarks(connection: sa.Connection, names: Sequence[str]
               ) -> dict[str, tuple[str, dt.datetime]]:
    """The signature and watermark of each built rollup of ``names``."""
    if not names:
        return {}
    return {row.name: (row.signature, row.watermark) for row in connection.execute(
        sa.select(STATE.c.name, STATE.c.signature, STATE.c.watermark)
        .where(STATE.c.name.in_(names)))}


@functools.lru_cache(maxsize=64)
def whole_hour_zone(key: str) -> bool:
    """Whether ``key`` has kept to whole-hour offsets, changed on the hour, from 1990 on
    (and as far as its rules go): then a UTC hour lies in one local hour."""
    zone = ZoneInfo(key)
    spans = offset_spans(zone, dt.datetime(1990, 1, 1, tzinfo=dt.UTC),
                         dt.datetime(dt.datetime.now(dt.UTC).year + 10, 1, 1, tzinfo=dt.UTC))
    return all(offset % 3600 == 0 and start.minute == 0 for start, offset in spans)


def rewriter(spec: RollupTable, frame: sa.FromClause
             ) -> Callable[[sa.ColumnElement[Any]], sa.ColumnElement[Any]]:
    """Maps an expression over the source's tables to one over the rollup's rows: each
    key column becomes the rollup's; any other column of the source's tables makes the
    report ``Unanswerable`` from this rollup."""
    keys = {id(key): frame.c[f"k{i}"] for i, key in enumerate(spec.rollup.keys)}
    tables = {id(table) for table in source_tables(spec.source)}

    def replace(element: Any) -> Any:
        if id(element) in keys:
            return keys[id(element)]
        if isinstance(element, sa.Column) and id(element.table) in tables:
            raise Unanswerable(element)
        return None

    def rewrite(expression: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return visitors.replacement_traverse(expression, {}, replace)  # type: ignore[return-value]

    return rewrite


def frame(connection: sa.Connection, spec: RollupTable, watermark: dt.datetime,
          bounds: tuple[dt.datetime | None, dt.datetime | None]) -> sa.FromClause:
    """The rollup's rows as of now: its own for every hour without changed rows, the
    source's rows summed for the others (within ``bounds``)."""
    buckets = changed_buckets(connection, spec, watermark)
    if len(buckets) > MAX_CHANGED_BUCKETS:
        raise Unanswerable("too many changed buckets: a refresh is due")
    start, end = bounds
    buckets = [b for b in buckets if (start is None or spec.bucket_end(b) > start)
               and (end is None or b < end)]
    if not buckets:
        return spec.table
    table = spec.table
    time = spec.source.time
    assert time is not None
    ranges = bucket_ranges(spec, buckets)
    kept = sa.select(*table.columns).where(table.c[BUCKET].not_in(buckets))
    fresh = rows_select(spec, connection.dialect.name, (ranges[0][0], ranges[-1][1]),
                        [in_ranges(time, ranges)])
    return sa.union_all(kept, fresh).subquery("rollup_rows")


JOBS = [Job("refresh_rollups", refresh_rollups, every=dt.timedelta(minutes=5),
            description="Bring the reports' rollups up to date (the hours with changed rows)")]
