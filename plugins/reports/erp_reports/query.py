"""A report: what the client asks (``ReportRequest``), checked against the metrics the
plugins define, run on the reports database, and answered as rows plus the definitions
used.

A metric needs its permission; every dimension and filter must be one that each asked
metric can be cut by (a figure silently not filtered would be a wrong figure). Money is
reported in one currency (the company's unless asked): amounts in others are converted
at the kernel's exchange rates (``erp_reports.conversion``). Periods are counted in the
company's time zone unless asked for another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa

from erp_reports.combined import Combined, combine
from erp_reports.compiler import (
    LABEL_SUFFIX,
    PERIOD,
    CompiledSource,
    Filter,
    ReportQuery,
    compile_source,
)
from erp_reports.replica import reports_engine
from erp_reports.settings import ReportSettings, zone
from erp_reports.time_buckets import TimeGrain
from erp_sdk import Integer as IntegerType
from erp_sdk import (
    Kernel,
    ListOf,
    Nested,
    PermissionDenied,
    Principal,
    RegisteredMetric,
    Unit,
    ValidationError,
    boolean,
    registered_metrics,
    text,
    typed_field,
)

MAX_ROWS = 10_000
"""The most rows a report answers over HTTP; an export streams any number."""

RATIO_QUANTUM = Decimal("0.0001")
NAME = text(120)


@attrs.frozen
class FilterRequest:
    """Keep the rows whose ``dimension`` is one of ``values`` (ids or codes, as text)."""

    dimension: str = typed_field(NAME)
    values: tuple[str, ...] = typed_field(ListOf(text(200), min_items=1, max_items=1000))


@attrs.frozen
class ReportRequest:
    """``metrics`` by full name (``orders.net_sales``), cut by ``dimensions`` and by
    ``time_grain`` periods, within ``date_from``..``date_to`` (local dates, inclusive)."""

    metrics: tuple[str, ...] = typed_field(ListOf(NAME, min_items=1, max_items=20))
    dimensions: tuple[str, ...] = typed_field(ListOf(NAME, max_items=5), default=())
    filters: tuple[FilterRequest, ...] = typed_field(
        ListOf(Nested(FilterRequest), max_items=20), default=())
    time_grain: str | None = typed_field(text(choices=[g.value for g in TimeGrain]),
                                         default=None, nullable=True)
    date_from: str | None = typed_field(text(10), default=None, nullable=True)
    date_to: str | None = typed_field(text(10), default=None, nullable=True)
    time_zone: str | None = typed_field(text(64), default=None, nullable=True)
    currency: str | None = typed_field(text(3), default=None, nullable=True)
    order_by: str | None = typed_field(NAME, default=None, nullable=True)
    descending: bool = typed_field(boolean(), default=True)
    limit: int | None = typed_field(IntegerType(bits=32, minimum=1),
                                    default=None, nullable=True)


def _date(name: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{name}: {value!r} is not a date (YYYY-MM-DD)",
                              {name: "not a date (YYYY-MM-DD)"}) from None


def _typed_values(metrics: Sequence[RegisteredMetric], name: str,
                  values: Sequence[str]) -> tuple[Any, ...]:
    """Filter values as the dimension's column holds them (ids are integers)."""
    dimension = metrics[0].metric.source.dimension(name)
    assert dimension is not None
    try:
        python_type = dimension.expression.type.python_type
    except NotImplementedError:
        return tuple(values)
    if python_type is int:
        try:
            return tuple(int(v) for v in values)
        except ValueError:
            raise ValidationError(f"filter {name!r}: its values are ids (whole numbers)",
                                  {"filters": f"{name}: ids are whole numbers"}) from None
    return tuple(values)


def check_request(kernel: Kernel, principal: Principal, request: ReportRequest,
                  settings: ReportSettings) -> ReportQuery:
    """The request as a ``ReportQuery``, or the error that says what is wrong with it."""
    known = registered_metrics(kernel)
    metrics: list[RegisteredMetric] = []
    for name in dict.fromkeys(request.metrics):
        registered = known.get(name)
        if registered is None:
            raise ValidationError(f"unknown metric {name!r}; GET /api/v1/reports/metrics"
                                  " lists them", {"metrics": f"unknown metric {name!r}"})
        if not principal.can(registered.metric.permission):
            raise PermissionDenied(f"{principal.name} lacks the permission"
                                   f" {registered.metric.permission!r} to see {name!r}")
        metrics.append(registered)
    dimensions = tuple(dict.fromkeys(request.dimensions))
    for name in (*dimensions, *(f.dimension for f in request.filters)):
        lacking = [m.name for m in metrics if m.metric.source.dimension(name) is None]
        if lacking:
            raise ValidationError(f"{', '.join(lacking)} cannot be cut by {name!r}",
                                  {"dimensions": f"{name!r} is not a dimension of"
                                                 f" {', '.join(lacking)}"})
    grain = TimeGrain(request.time_grain) if request.time_grain else None
    if grain is not None:
        timeless = [m.name for m in metrics if m.metric.source.time is None]
        if timeless:
            raise ValidationError(f"{', '.join(timeless)} is a snapshot, not cut by time",
                                  {"time_grain": "a snapshot metric has no periods"})
    date_from, date_to = _date("date_from", request.date_from), _date("date_to", request.date_to)
    if date_from and date_to and date_to < date_from:
        raise ValidationError("date_to is before date_from", {"date_to": "before date_from"})
    order_by = request.order_by
    if order_by is not None and order_by not in {*dimensions, *(m.name for m in metrics),
                                                 *([PERIOD] if grain else [])}:
        raise ValidationError(f"order_by {order_by!r} is not a dimension or metric of the"
                              " report", {"order_by": "not in the report"})
    currency = (request.currency or settings.currency).upper()
    if not (len(currency) == 3 and currency.isalpha()):
        raise ValidationError(f"currency {currency!r} is not an ISO code",
                              {"currency": "three letters"})
    filters = tuple(Filter(f.dimension, _typed_values(metrics, f.dimension, f.values))
                    for f in request.filters)
    return ReportQuery(metrics=tuple(metrics), dimensions=dimensions, filters=filters,
                       time_grain=grain, date_from=date_from, date_to=date_to,
                       zone=zone(request.time_zone or settings.time_zone), currency=currency,
                       order_by=order_by, descending=request.descending, limit=request.limit)


def compile_report(connection: sa.Connection, kernel: Kernel, principal: Principal,
                   query: ReportQuery) -> list[CompiledSource]:
    """One statement per source the report's metrics come from."""
    by_source: dict[int, list[RegisteredMetric]] = {}
    for registered in query.metrics:
        by_source.setdefault(id(registered.metric.source), []).append(registered)
    single = len(by_source) == 1
    return [compile_source(connection, kernel, principal, metrics[0].metric.source, metrics,
                           query, single=single, prefix="" if single else f"s{number}")
            for number, metrics in enumerate(by_source.values())]


def _value(registered: RegisteredMetric, values: Sequence[Any]) -> Any:
    """A metric's figure from its aggregates: a sum, a count, or a ratio (exact)."""
    measure = registered.metric.measure
    if measure.aggregation == "ratio":
        numerator, denominator = values
        if not denominator:
            return None
        return (Decimal(numerator or 0) / Decimal(denominator)).quantize(RATIO_QUANTUM)
    if measure.aggregation == "average":
        total, count = values
        return (Decimal(total or 0) / count).quantize(RATIO_QUANTUM) if count else None
    (value,) = values
    return value if value is not None else 0


def key_columns(query: ReportQuery) -> list[str]:
    return ([PERIOD] if query.time_grain else []) + list(query.dimensions)


def _normal(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def stream_rows(connection: sa.Connection, compiled: CompiledSource | Combined,
                query: ReportQuery) -> Iterator[dict[str, Any]]:
    """The rows of a statement as dictionaries, read in batches."""
    keys = key_columns(query)
    result = connection.execution_options(stream_results=True, yield_per=2000).execute(
        compiled.statement)
    for row in result.mappings():
        out: dict[str, Any] = {key: _normal(row[key]) for key in keys}
        for name in query.dimensions:
            if name + LABEL_SUFFIX in row:
                out[name + LABEL_SUFFIX] = row[name + LABEL_SUFFIX]
        for registered, labels in zip(compiled.metrics, compiled.parts, strict=True):
            out[registered.name] = _value(registered, [row[label] for label in labels])
        yield out


def merged_rows(connection: sa.Connection, sources: Sequence[CompiledSource],
                query: ReportQuery) -> Iterator[dict[str, Any]]:
    """The report's rows: one source's as they stream, several sources' joined on their
    dimension values (a figure a source has no row for is its zero), sorted and cut; by
    the database (``combined``), or here when ``query.in_sql`` is off (the reference the
    tests hold the database's answer to)."""
    if len(sources) == 1 and (sources[0].ordered or query.order_by is None):
        yield from stream_rows(connection, sources[0], query)
        return
    if query.in_sql:
        yield from stream_rows(connection, combine(sources, query, connection.dialect.name),
                               query)
        return
    keys = key_columns(query)
    table: dict[tuple[Any, ...], dict[str, Any]] = {}
    for compiled in sources:
        for row in stream_rows(connection, compiled, query):
            merged = table.setdefault(tuple(row[k] for k in keys), {})
            for name, value in row.items():
                if merged.get(name) is None:
                    merged[name] = value
    names = [m.name for m in query.metrics]
    rows = []
    for row in table.values():
        for registered in query.metrics:
            if registered.name not in row:
                row[registered.name] = (None if registered.metric.measure.aggregation
                                        in ("ratio", "average") else 0)
        rows.append({**{k: row.get(k) for k in row if k not in names},
                     **{n: row[n] for n in names}})
    rows.sort(key=lambda r: [(r[k] is None, r[k]) for k in keys])  # ties: by the keys
    order = query.order_by or (PERIOD if query.time_grain else None)
    if order is not None:
        descending = query.descending if query.order_by else False
        present = [r for r in rows if r.get(order) is not None]
        absent = [r for r in rows if r.get(order) is None]
        rows = sorted(present, key=lambda r: r[order], reverse=descending) + absent
    yield from rows[:query.limit] if query.limit else rows


def definition(registered: RegisteredMetric) -> dict[str, Any]:
    """What a metric is, as the API and the dashboard show it."""
    metric = registered.metric
    measure = metric.measure
    return {"name": registered.name, "plugin": registered.plugin, "title": metric.title,
            "description": metric.description, "unit": str(metric.unit),
            "aggregation": str(measure.aggregation),
            "terms": [str(p.aggregation) for p in measure.parts()]
            if measure.aggregation == "ratio" else [],
            "source": metric.source.name, "permission": metric.permission,
            "by_time": metric.source.time is not None,
            "dimensions": [{"name": d.name, "title": d.title or d.name,
                            "labelled": d.label is not None}
                           for d in metric.source.dimensions]}


def columns(query: ReportQuery) -> list[dict[str, Any]]:
    """The report's columns in order: period, dimensions (each with its label), metrics."""
    out: list[dict[str, Any]] = []
    if query.time_grain:
        out.append({"name": PERIOD, "kind": "period", "grain": str(query.time_grain)})
    for name in query.dimensions:
        dimension = query.metrics[0].metric.source.dimension(name)
        assert dimension is not None
        out.append({"name": name, "kind": "dimension", "title": dimension.title or name})
        if dimension.label is not None:
            out.append({"name": name + LABEL_SUFFIX, "kind": "label",
                        "title": dimension.title or name})
    for registered in query.metrics:
        out.append({"name": registered.name, "kind": "metric", "title": registered.metric.title,
                    "unit": str(registered.metric.unit),
                    **({"currency": query.currency}
                       if registered.metric.unit is Unit.MONEY else {})})
    return out


def run_report(kernel: Kernel, principal: Principal, request: ReportRequest,
               settings: ReportSettings) -> dict[str, Any]:
    """The answer of ``POST /api/v1/reports/query``."""
    query = check_request(kernel, principal, request, settings)
    limit = min(query.limit or MAX_ROWS, MAX_ROWS)
    query = attrs.evolve(query, limit=limit + 1)  # one more tells the answer was cut
    with reports_engine(kernel).connect() as connection:
        sources = compile_report(connection, kernel, principal, query)
        rows = list(merged_rows(connection, sources, query))
    return {"columns": columns(query), "rows": rows[:limit], "truncated": len(rows) > limit,
            "time_zone": query.zone.key, "currency": query.currency,
            "metrics": [definition(m) for m in query.metrics]}


@attrs.frozen
class ReportStream:
    """A checked report ready to be read row by row (an export): its columns, and rows
    read from the reports database only as they are iterated."""

    query: ReportQuery
    columns: list[dict[str, Any]]
    kernel: Kernel
    principal: Principal

    @property
    def names(self) -> list[str]:
        return [column["name"] for column in self.columns]

    def rows(self) -> Iterator[dict[str, Any]]:
        with reports_engine(self.kernel).connect() as connection:
            sources = compile_report(connection, self.kernel, self.principal, self.query)
            yield from merged_rows(connection, sources, self.query)


def report_stream(kernel: Kernel, principal: Principal, request: ReportRequest,
                  settings: ReportSettings) -> ReportStream:
    """The report checked now (a mistake, or a missing exchange rate, is an error before
    anything is sent)."""
    query = check_request(kernel, principal, request, settings)
    with reports_engine(kernel).connect() as connection:
        compile_report(connection, kernel, principal, query)
    return ReportStream(query, columns(query), kernel, principal)
