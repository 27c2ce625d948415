"""One SQL statement for a report the statement of one source cannot finish: metrics of
several sources (each source's statement a subquery, joined on the report's keys), or an
order by a ratio or an average (computed in SQL from its two sums).

Sources are joined as a ``UNION ALL`` of their rows, each filling only its own metrics'
columns, grouped by the keys (period and dimensions): a full outer join on the keys that
SQLite and PostgreSQL both run, where a key one source has no row for keeps the others'
figures and its own are empty (zero for a sum or a count). The database sorts (a missing
figure last, ties by the keys) and cuts the list, so a top 20 of a million groups sends 20
rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from erp_reports.compiler import LABEL_SUFFIX, PERIOD, CompiledSource, ReportQuery
from erp_sdk import RegisteredMetric


@attrs.frozen
class Combined:
    """The statement and, per metric of the report, the labels of its aggregates."""

    statement: sa.Select[Any]
    metrics: tuple[RegisteredMetric, ...]
    parts: tuple[tuple[str, ...], ...]


def keys_of(query: ReportQuery) -> list[str]:
    return [PERIOD] * bool(query.time_grain) + list(query.dimensions)


def ratio(numerator: sa.ColumnElement[Any], denominator: sa.ColumnElement[Any],
          dialect: str) -> sa.ColumnElement[Any]:
    """``numerator / denominator`` in SQL, empty where the denominator is zero; exact on
    PostgreSQL, a float on SQLite (whose decimals are scaled integers: the scale is the
    same on every row, so the order is the same)."""
    kind: Any = sa.Numeric() if dialect == "postgresql" else sa.Float()
    return sa.cast(numerator, kind) / sa.func.nullif(denominator, 0)


def combine(sources: Sequence[CompiledSource], query: ReportQuery, dialect: str) -> Combined:
    """The report's statement over the sources' statements (unordered, uncut)."""
    keys = keys_of(query)
    labels = [d + LABEL_SUFFIX for d in query.dimensions
              if any(d + LABEL_SUFFIX in s.statement.selected_columns for s in sources)]
    by_metric = {m.name: (m, labels_) for s in sources
                 for m, labels_ in zip(s.metrics, s.parts, strict=True)}
    metrics = tuple(by_metric[m.name][0] for m in query.metrics)
    parts = tuple(by_metric[m.name][1] for m in query.metrics)
    value: Callable[[str], sa.ColumnElement[Any]]
    if len(sources) == 1:
        rows = sources[0].statement.subquery("report")
        statement = sa.select(*rows.c)
        key_columns = [rows.c[k] for k in keys]

        def value(label: str) -> sa.ColumnElement[Any]:
            return rows.c[label]
    else:
        types = {c.name: c.type for s in sources for c in s.statement.selected_columns}
        all_parts = [label for labels_ in parts for label in labels_]
        def empty(name: str) -> sa.ColumnElement[Any]:
            """A column a source lacks, typed (PostgreSQL matches a union's types)."""
            return sa.cast(sa.null(), types[name]).label(name)

        branches = []
        for source in sources:
            own = source.statement.subquery()
            branches.append(sa.select(
                *(own.c[k] for k in keys),
                *(own.c[name] if name in own.c else empty(name) for name in labels),
                *(own.c[name] if name in own.c else empty(name) for name in all_parts)))
        union = sa.union_all(*branches).subquery("sources")
        key_columns = [union.c[k] for k in keys]

        def value(label: str) -> sa.ColumnElement[Any]:
            """A source's figure (a count stays a whole number on PostgreSQL)."""
            total = sa.func.sum(union.c[label])
            return sa.cast(total, sa.BigInteger) if isinstance(types[label], sa.Integer) \
                else total

        statement = sa.select(*key_columns,
                              *(sa.func.max(union.c[n]).label(n) for n in labels),
                              *(value(n).label(n) for n in all_parts))
        if key_columns:
            statement = statement.group_by(*key_columns)

    order = query.order_by or (PERIOD if query.time_grain else None)
    ordering: list[sa.ColumnElement[Any]] = []
    key = None
    if order is not None:
        descending = query.descending if query.order_by else False
        if order in keys:
            key = key_columns[keys.index(order)]
        else:
            index = next(i for i, m in enumerate(metrics) if m.name == order)
            terms = [value(label) for label in parts[index]]
            key = ratio(*terms, dialect) if len(terms) == 2 else (
                terms[0] if len(sources) == 1 else sa.func.coalesce(terms[0], 0))
        ordering.append((key.desc() if descending else key.asc()).nulls_last())
    ordering += [column.asc().nulls_last() for column in key_columns if column is not key]
    statement = statement.order_by(*ordering)
    if query.limit is not None:
        statement = statement.limit(query.limit)
    return Combined(statement, metrics, parts)
