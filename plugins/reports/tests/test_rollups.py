"""Rollups: reports answered from the pre-aggregations the orders plugin declares give the
figures the order lines give, to the cent, in the company's time zone and others, for a
scoped user, and right after orders change (before any refresh)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from sales_data import at

from erp_reports import rollups
from erp_reports.query import ReportRequest, check_request, compile_report, merged_rows
from erp_reports.settings import ReportSettings
from erp_sdk import Principal, set_exchange_rate

PARIS = "Europe/Paris"

REPORTS: list[dict[str, Any]] = [
    {"metrics": ["orders.net_sales", "orders.orders"], "date_from": "2026-03-28",
     "date_to": "2026-03-30"},
    {"metrics": ["orders.net_sales", "orders.orders", "orders.average_order_value"],
     "dimensions": ["channel"], "time_grain": "day"},
    {"metrics": ["orders.net_sales", "orders.gross_sales", "orders.units",
                 "orders.returns_rate"], "dimensions": ["product"],
     "order_by": "orders.net_sales", "limit": 2},
    {"metrics": ["orders.net_sales", "orders.discounts"], "dimensions": ["category"],
     "time_grain": "month"},
    {"metrics": ["orders.net_sales"], "dimensions": ["category"], "time_grain": "week",
     "filters": [{"dimension": "channel", "values": ["1"]}]},
    {"metrics": ["orders.orders_placed", "orders.order_value"], "dimensions": ["state"],
     "date_from": "2026-03-01", "date_to": "2026-03-31"},
    {"metrics": ["orders.net_sales", "orders.orders"], "time_grain": "day",
     "time_zone": "UTC"},
]


@pytest.fixture
def paris(monkeypatch):
    """The company counts its days in Paris (the daily rollup's zone)."""
    monkeypatch.setenv("ERP_REPORTS_TIME_ZONE", PARIS)
    return ReportSettings(time_zone=PARIS)


@pytest.fixture
def sales(shop, paris):
    """Orders around the spring clock change, in two currencies, one cancelled, one
    partly returned, with a discount."""
    shop.order(at("2026-03-28 23:30"), "web", "Ada", [("TEA-1", "2", "4.50"),
                                                      ("MUG-1", "1", "12")], discount="1")
    shop.order(at("2026-03-29 00:30"), "market", "Bo", [("TEA-2", "1", "7.25")],
               returned="1")
    shop.order(at("2026-03-29 21:30"), "web", "Cy", [("MUG-1", "3", "10.10")])
    shop.order(at("2026-03-29 22:30"), "web", "Ada", [("TEA-1", "1", "0.99")],
               currency="USD")
    shop.order(at("2026-03-30 09:15"), "market", "Cy", [("MUG-1", "9", "10")],
               state="cancelled")
    shop.order(at("2026-03-31 12:00"), "web", "Bo", [("TEA-2", "4", "3.33")])
    with shop.kernel.transaction() as session:  # dollars are converted at ten places
        set_exchange_rate(session, "USD", "EUR", dt.date(2026, 3, 1), Decimal("0.9234567891"))
    return shop


def answer(kernel, body: dict[str, Any], settings: ReportSettings, *, use_rollups: bool,
           principal: Any = None) -> tuple[list[dict[str, Any]], list[str | None]]:
    """A report's rows and the rollup each of its statements read (``None``: the rows)."""
    principal = principal or Principal.system()
    body = {k: tuple(v) if isinstance(v, list) and k != "filters" else v
            for k, v in body.items()}
    if "filters" in body:
        from erp_reports.query import FilterRequest

        body["filters"] = tuple(FilterRequest(f["dimension"], tuple(f["values"]))
                                for f in body["filters"])
    query = attrs.evolve(check_request(kernel, principal, ReportRequest(**body), settings),
                         rollups=use_rollups)
    with kernel.engine.connect() as connection:
        sources = compile_report(connection, kernel, principal, query)
        return list(merged_rows(connection, sources, query)), [s.rollup for s in sources]


def same_from_rollups(kernel, settings, principal: Any = None) -> list[str | None]:
    used = []
    for body in REPORTS:
        from_rows, none = answer(kernel, body, settings, use_rollups=False,
                                 principal=principal)
        from_rollup, read = answer(kernel, body, settings, use_rollups=True,
                                   principal=principal)
        assert none == [None]
        assert from_rollup == from_rows, body
        assert from_rows, body
        used += read
    return used


def test_reports_from_rollups_equal_reports_from_the_rows(kernel, sales, paris):
    assert rollups.refresh_rollups(kernel).count("built") == 3
    used = same_from_rollups(kernel, paris)
    assert used == ["orders.order_lines.by_order", "orders.order_lines.by_order",
                    "orders.order_lines.by_product", "orders.order_lines.by_product",
                    "orders.order_lines.by_product", "orders.orders.by_state",
                    "orders.order_lines.by_order"]
    # Paris days across the clock change, from an hourly rollup; the UTC report (last)
    # cannot read the daily rollup of Paris days but reads the hourly one
    rows, _read = answer(kernel, REPORTS[1], paris, use_rollups=True)
    assert {(r["period"], r["channel"]): r["orders.orders"] for r in rows} == {
        ("2026-03-29", sales.channels["web"]): 2, ("2026-03-29", sales.channels["market"]): 1,
        ("2026-03-30", sales.channels["web"]): 1, ("2026-03-31", sales.channels["web"]): 1}
    # average order value to the cent from summed rows: (20 + 30.30) / 2 web orders
    by_day = {r["period"]: r for r in rows if r["channel"] == sales.channels["web"]}
    assert Decimal(by_day["2026-03-29"]["orders.average_order_value"]) == Decimal("25.15")


def test_a_rollup_never_shows_stale_figures(kernel, sales, paris):
    from erp_orders.order import Order, OrderLine

    rollups.refresh_rollups(kernel)
    # after the refresh: a new order, an old one cancelled, a line returned, through the
    # models (their updated_at moves), and no refresh
    sales.order(at("2026-03-29 10:00"), "market", "Ada", [("MUG-1", "2", "10")])
    with kernel.transaction() as session:
        first = session.scalars(sa.select(Order).order_by(Order.id)).first()
        first.state = "cancelled"
        line = session.scalars(sa.select(OrderLine).where(
            OrderLine.product_id == sales.products["TEA-2"]).order_by(OrderLine.id)).first()
        line.quantity_returned = Decimal("1")
    used = same_from_rollups(kernel, paris)
    assert None not in used
    rows, _read = answer(kernel, REPORTS[0], paris, use_rollups=True)
    assert rows[0]["orders.orders"] == 4  # Bo's, Cy's, the USD and the new one, not Ada's
    # the refresh recomputes the changed hours (here all: every row is younger than the
    # clock margin) rather than building anew
    assert "orders.order_lines.by_order: 7 hours recomputed" in rollups.refresh_rollups(kernel)
    assert None not in same_from_rollups(kernel, paris)


def test_a_half_hour_zone_and_an_hourly_report_read_the_rows(kernel, sales, paris):
    rollups.refresh_rollups(kernel)
    for body in ({"metrics": ["orders.net_sales"], "time_grain": "day",
                  "time_zone": "Asia/Kolkata"},
                 {"metrics": ["orders.net_sales"], "dimensions": ["product"],
                  "time_grain": "hour"}):
        from_rows, _none = answer(kernel, body, paris, use_rollups=False)
        rows, read = answer(kernel, body, paris, use_rollups=True)
        assert read == [None] and rows == from_rows
    body = {"metrics": ["orders.net_sales"], "time_grain": "hour"}  # hourly rollup: fine
    rows, read = answer(kernel, body, paris, use_rollups=True)
    assert read == ["orders.order_lines.by_order"]
    assert rows == answer(kernel, body, paris, use_rollups=False)[0]


def test_a_scoped_user_gets_its_own_rows_from_a_rollup(kernel, sales, paris):
    from erp_core.security.principal import Principal as KernelPrincipal

    rollups.refresh_rollups(kernel)
    agent = KernelPrincipal(name="agent", roles={"channel_scope.agent"},
                            permissions={"orders.order.read", "orders.order_line.read",
                                         "reports.query"},
                            scope={"channel_id": [sales.channels["web"]]})
    web = [body for body in REPORTS if "state" not in body.get("dimensions", [])]
    for body in web:
        from_rows, _none = answer(kernel, body, paris, use_rollups=False, principal=agent)
        rows, read = answer(kernel, body, paris, use_rollups=True, principal=agent)
        assert rows == from_rows and read != [None], body
    rows, _read = answer(kernel, REPORTS[1], paris, use_rollups=True, principal=agent)
    assert {r["channel"] for r in rows} == {sales.channels["web"]}


def test_a_changed_definition_is_not_read_until_rebuilt(kernel, sales, paris):
    rollups.refresh_rollups(kernel)
    with kernel.engine.begin() as connection:
        connection.execute(rollups.STATE.update().values(signature="another definition"))
    _rows, read = answer(kernel, REPORTS[1], paris, use_rollups=True)
    assert read == [None]
    assert rollups.refresh_rollups(kernel).count("built") == 3
    assert answer(kernel, REPORTS[1], paris, use_rollups=True)[1] != [None]


def test_the_watermark_is_set_back_from_now(kernel, sales, paris):
    before = dt.datetime.now(dt.UTC)
    rollups.refresh_rollups(kernel)
    with kernel.engine.connect() as connection:
        marks = rollups.watermarks(connection, ["orders.orders.by_state"])
    assert marks["orders.orders.by_state"][1] <= before - rollups.CLOCK_MARGIN + dt.timedelta(
        seconds=5)
