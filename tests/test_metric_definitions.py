"""Metric definitions (``erp_register_metrics``): collected under ``<plugin>.<name>``, a
mistake refused naming the plugin, and the exact product of two stored decimals."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
import sqlalchemy as sa

from erp_core.db.types import MONEY_PRECISION, MONEY_SCALE, ExactNumeric
from erp_core.errors import PluginError
from erp_core.metric_definitions import (
    Measure,
    Metric,
    MetricSource,
    Rollup,
    Unit,
    exact_product,
)
from erp_core.metric_definitions import registered_metrics as collect


@pytest.fixture
def gauges(boot_plugins):
    kernel = boot_plugins("gauges")
    import erp_test_gauges as plugin  # on the path once boot_plugins put it there

    saved = list(plugin.METRICS)
    yield kernel, plugin
    plugin.METRICS[:] = saved


def test_a_plugins_metrics_are_registered_under_its_name(gauges):
    kernel, _ = gauges
    metrics = collect(kernel)
    assert list(metrics) == ["gauges.readings"]
    assert metrics["gauges.readings"].plugin == "gauges"
    assert metrics["gauges.readings"].metric.dimensions == ("site",)


@pytest.mark.parametrize(("mistake", "message"), [
    ("twice", "declares the metric 'readings' twice"),
    ("permission", "unknown permission 'gauges.nothing.read'"),
    ("money", "names its currency column"),
    ("name", "lower-case letters"),
    ("object", "must return erp_sdk.Metric objects"),
    ("rollup", "names its time and the columns that say when its rows changed"),
    ("grain", "the grain 'hour' or 'day'"),
])
def test_a_faulty_metric_is_refused_naming_its_plugin(gauges, mistake, message):
    kernel, plugin = gauges
    good = plugin.METRICS[0]
    source = good.source
    plugin.METRICS[:] = {
        "twice": [good, good],
        "permission": [Metric("readings", "R", Measure.count(), source, "gauges.nothing.read")],
        "money": [Metric("worth", "W", Measure.sum(source.table.c.id), source,
                         "kernel.plugin.read", Unit.MONEY)],
        "name": [Metric("Bad Name", "B", Measure.count(), source, "kernel.plugin.read")],
        "object": [{"name": "readings"}],
        "rollup": [attrs.evolve(good, source=attrs.evolve(
            source, rollups=[Rollup("by_site", [source.table.c.id])]))],
        "grain": [attrs.evolve(good, source=attrs.evolve(
            source, time=source.table.c.id, changed=[source.table.c.id],
            rollups=[Rollup("by_site", [source.table.c.id], grain="week")]))],
    }[mistake]
    with pytest.raises(PluginError, match=message) as raised:
        collect(kernel)
    assert raised.value.plugin == "gauges"


def test_a_ratio_is_of_plain_measures():
    count = Measure.count()
    with pytest.raises(ValueError, match="plain measures"):
        Measure.ratio(Measure.ratio(count, count), count)
    assert Measure.ratio(count, count).parts() == (count, count)


def test_the_product_of_a_cost_and_a_quantity_is_exact_on_the_database(make_kernel):
    engine = make_kernel().engine
    table = sa.Table("stock_test", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("cost", ExactNumeric(MONEY_PRECISION, MONEY_SCALE)),
                     sa.Column("quantity", ExactNumeric(MONEY_PRECISION, MONEY_SCALE)))
    table.create(engine)
    rows = [("2.3333", "3"), ("0.0001", "0.5"), ("10.5", "-2.25"), ("123456.7891", "1000")]
    with engine.begin() as connection:
        connection.execute(table.insert(), [{"cost": Decimal(c), "quantity": Decimal(q)}
                                            for c, q in rows])
        total = connection.execute(
            sa.select(sa.func.sum(exact_product(table.c.cost, table.c.quantity)))).scalar_one()
    # 6.9999 + 0.00005 - 23.625 + 123456789.1: SQLite rounds each product to four
    # decimals (0.0001), PostgreSQL the exact sum; both read 123456772.4750
    assert total == Decimal("123456772.4750")


def test_a_source_finds_its_dimensions_by_name():
    table = sa.table("t", sa.column("a"))
    source = MetricSource("s", table)
    assert source.dimension("a") is None
