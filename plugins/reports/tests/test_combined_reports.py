"""Reports of several metric sources, and reports sorted by a ratio: joined, sorted and
cut by the database in one statement, with the rows the in-memory merge gives."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from sales_data import at

from erp_reports.query import (
    FilterRequest,
    ReportRequest,
    check_request,
    compile_report,
    merged_rows,
)
from erp_reports.settings import ReportSettings
from erp_sdk import Principal

REPORTS: list[dict[str, Any]] = [
    {"metrics": ("orders.net_sales", "crm.customers"), "dimensions": ("customer_tier",),
     "order_by": "crm.customers"},
    {"metrics": ("orders.net_sales", "crm.customers"), "dimensions": ("customer_tier",),
     "order_by": "orders.net_sales", "descending": False, "limit": 1},
    {"metrics": ("orders.average_order_value", "orders.orders"), "dimensions": ("channel",),
     "order_by": "orders.average_order_value"},
    {"metrics": ("orders.average_order_value",), "dimensions": ("customer",),
     "order_by": "orders.average_order_value", "descending": False, "limit": 2},
    {"metrics": ("orders.returns_rate", "orders.units"), "dimensions": ("product",),
     "order_by": "orders.returns_rate", "limit": 2},
    {"metrics": ("orders.net_sales", "orders.orders_placed"), "dimensions": ("channel",),
     "time_grain": "day", "order_by": "orders.orders_placed", "limit": 3},
    {"metrics": ("orders.orders_placed", "orders.average_order_value", "orders.tickets"),
     "dimensions": ("channel",), "time_grain": "month", "order_by": "period"},
    {"metrics": ("orders.net_sales", "orders.open_tickets"), "dimensions": ("channel",),
     "order_by": "orders.open_tickets", "filters": (("channel", ("1", "2")),)},
]


@pytest.fixture
def sales(shop):
    shop.order(at("2026-03-02 10:00"), "web", "Ada", [("TEA-1", "2", "4.50"),
                                                      ("MUG-1", "1", "12")], discount="1")
    shop.order(at("2026-03-02 11:00"), "web", "Bo", [("TEA-2", "3", "7.25")], returned="1")
    shop.order(at("2026-03-03 09:00"), "market", "Cy", [("MUG-1", "3", "10")], returned="2")
    shop.order(at("2026-03-03 12:00"), "market", "Bo", [("TEA-1", "1", "3")])
    shop.order(at("2026-04-03 12:00"), "market", "Cy", [("TEA-1", "7", "3")], state="cancelled")
    return shop


def rows(kernel, body: dict[str, Any], *, in_sql: bool) -> tuple[list[dict[str, Any]], int]:
    """The report's rows, and how many statements read them."""
    body = dict(body)
    body["filters"] = tuple(FilterRequest(d, v) for d, v in body.get("filters", ()))
    principal = Principal.system()
    query = check_request(kernel, principal, ReportRequest(**body), ReportSettings())
    query = attrs.evolve(query, in_sql=in_sql)
    statements = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    with kernel.engine.connect() as connection:
        sources = compile_report(connection, kernel, principal, query)
        sa.event.listen(connection, "before_cursor_execute", count)
        try:
            found = list(merged_rows(connection, sources, query))
        finally:
            sa.event.remove(connection, "before_cursor_execute", count)
    return found, len(statements)


@pytest.mark.parametrize("body", REPORTS, ids=lambda body: "+".join(body["metrics"]))
def test_the_database_joins_sorts_and_cuts_as_the_in_memory_merge_does(kernel, sales, body):
    in_memory, _reads = rows(kernel, body, in_sql=False)
    in_sql, reads = rows(kernel, body, in_sql=True)
    assert in_sql == in_memory
    assert in_sql
    assert reads == 1  # one statement, whatever the number of sources


def test_a_ratio_sorts_by_its_value_and_the_limit_is_the_databases(kernel, sales):
    found, reads = rows(kernel, REPORTS[4], in_sql=True)
    assert reads == 1
    # Black tea: 1 of 3 returned; mug: 2 of 4; green tea: none of 3
    assert [(r["product_label"], Decimal(r["orders.returns_rate"])) for r in found] == [
        ("Mug", Decimal("0.5")), ("Black tea", Decimal("0.3333"))]


def test_sources_without_a_row_for_a_key_give_zero_and_nothing_for_a_ratio(kernel, sales):
    found, _reads = rows(kernel, {"metrics": ("orders.net_sales", "crm.customers",
                                              "orders.average_order_value"),
                                  "dimensions": ("customer_tier",),
                                  "order_by": "orders.average_order_value"}, in_sql=True)
    by_tier = {r["customer_tier"]: r for r in found}
    assert by_tier["gold"]["crm.customers"] == 1
    assert Decimal(by_tier["gold"]["orders.net_sales"]) == 20
    assert Decimal(by_tier["silver"]["orders.average_order_value"]) == Decimal("18.25")
    assert [r["customer_tier"] for r in found] == ["gold", "silver"]
