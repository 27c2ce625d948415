"""What a plugin declares so that its data can be measured (``erp_register_metrics``).

A metric is defined once, by the plugin that owns the data, as plain SQLAlchemy
expressions over its own tables (and those of the plugins it depends on): a ``Measure``
(sum, count, count of distinct values, average, or the ratio of two measures), the
``MetricSource`` its rows come from (a table, the joins every row needs, a condition, the
time column and the entities whose record rules narrow the rows), and the ``Dimension``s
it can be cut by. A reporting plugin compiles queries from these definitions without
knowing the plugin that made them; two metrics of two plugins share a dimension when
they give it the same name (``"warehouse"``, ``"product"``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from erp_core.db.types import AwareDateTime
from erp_core.errors import PluginError

if TYPE_CHECKING:
    from erp_core.context import KernelServices

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Aggregation(enum.StrEnum):
    """How a ``Measure`` folds a source's rows into one value per group."""

    SUM = "sum"
    COUNT = "count"
    COUNT_DISTINCT = "count_distinct"
    AVERAGE = "average"
    RATIO = "ratio"


class Unit(enum.StrEnum):
    """How a metric's values read: a reporting plugin formats money with its currency,
    a share as a percentage, a count and a quantity as numbers."""

    MONEY = "money"
    QUANTITY = "quantity"
    COUNT = "count"
    SHARE = "share"
    NUMBER = "number"


class exact_product(FunctionElement[Any]):
    """``left * right`` of two exact numbers (a quantity times a unit cost), typed as
    ``left``: on PostgreSQL the plain product; on SQLite, where both are integers scaled
    by their column's scale, the product scaled back (rounded half away from zero) so a
    money column's type reads it right."""

    inherit_cache = True
    name = "exact_product"

    def __init__(self, left: sa.ColumnElement[Any], right: sa.ColumnElement[Any]) -> None:
        super().__init__(left, right)
        self.type = left.type


@compiles(exact_product)
def _product(element: exact_product, compiler: Any, **kw: Any) -> str:
    left, right = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({left} * {right})"


@compiles(exact_product, "sqlite")
def _scaled_product(element: exact_product, compiler: Any, **kw: Any) -> str:
    clauses = list(element.clauses)
    left, right = (compiler.process(clause, **kw) for clause in clauses)
    unit = 10 ** int(getattr(clauses[1].type, "scale", 0) or 0)
    product, half = f"({left} * {right})", unit // 2
    if unit == 1:
        return product
    return (f"(CASE WHEN {product} >= 0 THEN ({product} + {half}) / {unit}"
            f" ELSE ({product} - {half}) / {unit} END)")


class day_as_time(FunctionElement[Any]):
    """A calendar date (a due date, a bill date) as an aware UTC instant, noon of that
    day, so a source dated by a day can name it as its ``time``: cut by day, week or month
    in any time zone within eleven hours of UTC, a row stays on its own day."""

    inherit_cache = True
    name = "day_as_time"

    def __init__(self, day: sa.ColumnElement[Any]) -> None:
        super().__init__(day)
        self.type = AwareDateTime()


@compiles(day_as_time)
def _noon(element: day_as_time, compiler: Any, **kw: Any) -> str:
    [day] = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((CAST({day} AS TIMESTAMP) + INTERVAL '12 hours') AT TIME ZONE 'UTC')"


@compiles(day_as_time, "sqlite")
def _sqlite_noon(element: day_as_time, compiler: Any, **kw: Any) -> str:
    [day] = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"datetime({day}, '+12 hours')"


@attrs.frozen
class Join:
    """A table joined to a source's rows on ``on``; ``outer`` keeps rows without a match."""

    table: sa.FromClause
    on: sa.ColumnElement[bool] = attrs.field(eq=False)
    outer: bool = True


@attrs.frozen
class Measure:
    """One aggregate over a source's rows; build it with the class methods."""

    aggregation: Aggregation
    expression: sa.ColumnElement[Any] | None = attrs.field(default=None, eq=False)
    numerator: Measure | None = None
    denominator: Measure | None = None

    @classmethod
    def sum(cls, expression: sa.ColumnElement[Any]) -> Measure:
        return cls(Aggregation.SUM, expression)

    @classmethod
    def count(cls, expression: sa.ColumnElement[Any] | None = None) -> Measure:
        """Rows, or the rows where ``expression`` is not null."""
        return cls(Aggregation.COUNT, expression)

    @classmethod
    def count_distinct(cls, expression: sa.ColumnElement[Any]) -> Measure:
        return cls(Aggregation.COUNT_DISTINCT, expression)

    @classmethod
    def average(cls, expression: sa.ColumnElement[Any]) -> Measure:
        return cls(Aggregation.AVERAGE, expression)

    @classmethod
    def ratio(cls, numerator: Measure, denominator: Measure) -> Measure:
        """``numerator / denominator`` per group (empty where the denominator is zero)."""
        if Aggregation.RATIO in (numerator.aggregation, denominator.aggregation):
            raise ValueError("a ratio's terms are plain measures, not ratios")
        return cls(Aggregation.RATIO, numerator=numerator, denominator=denominator)

    def parts(self) -> tuple[Measure, ...]:
        """The plain aggregates a query selects to compute this measure."""
        if self.aggregation is Aggregation.RATIO:
            assert self.numerator is not None and self.denominator is not None
            return (self.numerator, self.denominator)
        return (self,)


@attrs.frozen
class Dimension:
    """A way to cut a metric: ``expression`` over the source's tables, plus the ``joins``
    it needs beyond the source's own. ``label`` is a readable value to show beside the
    key (a product's name beside its id). Time is not a dimension of its own: every
    source with a ``time`` column can be cut by day, week or month in a time zone."""

    name: str
    expression: sa.ColumnElement[Any] = attrs.field(eq=False)
    joins: tuple[Join, ...] = attrs.field(default=(), converter=tuple, eq=False)
    label: sa.ColumnElement[Any] | None = attrs.field(default=None, eq=False)
    title: str = ""


@attrs.frozen
class Rollup:
    """A pre-aggregation a reporting plugin may keep of a source: its rows summed per
    UTC hour of its ``time`` and per value of ``keys`` (columns of the source's own
    tables, such as the channel or the product of an order line), so that a report over
    a year reads thousands of summed rows instead of a million.

    A report is answered from a rollup only when every dimension, filter and record rule
    it needs is an expression of the keys (a category is the product's, joined to the
    rollup's product key), and every measure adds up across groups: sums, counts and
    averages always; a count of distinct values only for an expression named in
    ``distinct``, which declares that every key (and the hour) is a function of that
    value, so each value lies in one group (an order's id decides its channel and hour,
    not its product). Otherwise the report reads the rows, as without a rollup.

    ``grain`` is ``"hour"`` (UTC hours: they answer days, weeks and months in any zone
    of whole-hour offsets) or ``"day"`` (days in the reporting plugin's time zone, the
    company's: fewer rows when there are many keys, such as products, but only reports
    counted in that zone). A source with rollups names its ``changed`` columns (see
    ``MetricSource``); a row's ``time`` must not change once the row counts (an order's
    ``placed_at``)."""

    name: str
    keys: tuple[sa.ColumnElement[Any], ...] = attrs.field(converter=tuple, eq=False)
    distinct: tuple[sa.ColumnElement[Any], ...] = attrs.field(default=(), converter=tuple,
                                                             eq=False)
    grain: str = "hour"


@attrs.frozen
class MetricSource:
    """The rows a group of metrics aggregates: ``table`` with the ``joins`` every row
    needs, narrowed by ``condition``; ``time`` is the aware UTC timestamp that dates a
    row (``None``: the source is a snapshot, cut by no time). ``entities`` maps each
    entity whose record rules apply to the table of it in the query, so a scoped user
    counts only the rows it may read. ``currency`` is the column holding the ISO code of
    its money measures. ``record`` is the entity a row belongs to and its id column,
    so a reporting plugin can list the records behind a figure (a drill-down).

    ``rollups`` are pre-aggregations a reporting plugin may keep (see ``Rollup``);
    ``changed`` the indexed columns holding when each of the source's rows last changed
    (each table's ``updated_at``): rows changed after a rollup was last brought up to date
    are read from the tables, so a rollup never shows stale figures."""

    name: str
    table: sa.FromClause
    joins: tuple[Join, ...] = attrs.field(default=(), converter=tuple, eq=False)
    condition: sa.ColumnElement[bool] | None = attrs.field(default=None, eq=False)
    time: sa.ColumnElement[Any] | None = attrs.field(default=None, eq=False)
    entities: Mapping[str, sa.Table] = attrs.field(factory=dict, eq=False)
    dimensions: tuple[Dimension, ...] = attrs.field(default=(), converter=tuple)
    currency: sa.ColumnElement[str] | None = attrs.field(default=None, eq=False)
    record: tuple[str, sa.ColumnElement[Any]] | None = attrs.field(default=None, eq=False)
    rollups: tuple[Rollup, ...] = attrs.field(default=(), converter=tuple)
    changed: tuple[sa.ColumnElement[Any], ...] = attrs.field(default=(), converter=tuple,
                                                            eq=False)

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.name == name), None)


@attrs.frozen
class Metric:
    """A named measure over a source. Registered as ``<plugin>.<name>``; a principal
    sees it only with ``permission``. ``unit`` says how its values read."""

    name: str
    title: str
    measure: Measure
    source: MetricSource
    permission: str
    unit: Unit = Unit.NUMBER
    description: str = ""

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.source.dimensions)


@attrs.frozen
class RegisteredMetric:
    """A metric under its full name, ``<plugin>.<name>``."""

    name: str
    plugin: str
    metric: Metric


def _check(plugin: str, metric: Metric) -> None:
    def fail(message: str) -> PluginError:
        return PluginError(f"plugin {plugin!r}, metric {metric.name!r}: {message}",
                           plugin=plugin)

    if not _NAME.match(metric.name):
        raise fail("a metric's name is lower-case letters, digits and underscores")
    seen: set[str] = set()
    for dimension in metric.source.dimensions:
        if not _NAME.match(dimension.name):
            raise fail(f"dimension {dimension.name!r}: lower-case letters, digits and"
                       " underscores")
        if dimension.name in seen:
            raise fail(f"its source declares the dimension {dimension.name!r} twice")
        seen.add(dimension.name)
    if metric.unit is Unit.MONEY and metric.source.currency is None:
        raise fail("a money metric's source names its currency column")
    source = metric.source
    if source.rollups and (source.time is None or not source.changed):
        raise fail(f"source {source.name!r} has rollups, so it names its time and the"
                   " columns that say when its rows changed")
    for rollup in source.rollups:
        if not _NAME.match(rollup.name) or not rollup.keys or rollup.grain not in (
                "hour", "day"):
            raise fail(f"rollup {rollup.name!r}: a lower-case name, at least one key and"
                       " the grain 'hour' or 'day'")


def registered_metrics(kernel: KernelServices) -> dict[str, RegisteredMetric]:
    """Every metric the enabled plugins declare, by full name; a mistake stops with a
    ``PluginError`` naming the plugin."""
    found: dict[str, RegisteredMetric] = {}
    contributions: Sequence[tuple[str, Any]] = kernel.contribute("erp_register_metrics")
    for plugin, metrics in contributions:
        for metric in metrics or ():
            if not isinstance(metric, Metric):
                raise PluginError(f"plugin {plugin!r}: erp_register_metrics must return"
                                  f" erp_sdk.Metric objects, not {type(metric).__name__}",
                                  plugin=plugin)
            _check(plugin, metric)
            name = f"{plugin}.{metric.name}"
            if name in found:
                raise PluginError(f"plugin {plugin!r} declares the metric {metric.name!r}"
                                  " twice", plugin=plugin)
            if metric.permission not in kernel.permissions.permissions:
                raise PluginError(f"plugin {plugin!r}, metric {metric.name!r}: unknown"
                                  f" permission {metric.permission!r}", plugin=plugin)
            found[name] = RegisteredMetric(name, plugin, metric)
    return found

