"""POST /api/v1/reports/query: metrics defined by orders, inventory and crm, compiled into
SQL on this test's database (SQLite, or PostgreSQL with ERP_TEST_DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from reports_testing import PG_URL
from sales_data import at, rows_by

from erp_reports.replica import close_reports_engine

QUERY = "/api/v1/reports/query"


def test_net_sales_orders_and_average_order_value_by_channel(shop, admin):
    shop.order(at("2026-03-02 10:00"), "web", "Ada", [("TEA-1", "2", "4.50"), ("MUG-1", "1", "12")],
               discount="1")
    shop.order(at("2026-03-03 10:00"), "web", "Bo", [("TEA-2", "1", "7.25")])
    shop.order(at("2026-03-03 11:00"), "market", "Cy", [("MUG-1", "3", "10")])
    shop.order(at("2026-03-04 11:00"), "market", "Cy", [("MUG-1", "9", "10")], state="cancelled")
    answer = admin.post(QUERY, json={
        "metrics": ["orders.gross_sales", "orders.net_sales", "orders.orders", "orders.units",
                    "orders.average_order_value"],
        "dimensions": ["channel"]}).json()
    rows = rows_by(answer, "channel_label")
    assert Decimal(rows["Web"]["orders.gross_sales"]) == Decimal("28.25")
    assert Decimal(rows["Web"]["orders.net_sales"]) == Decimal("27.25")
    assert rows["Web"]["orders.orders"] == 2
    assert Decimal(rows["Web"]["orders.units"]) == 4
    assert Decimal(rows["Web"]["orders.average_order_value"]) == Decimal("13.625")
    assert Decimal(rows["Market"]["orders.net_sales"]) == 30  # the cancelled order is no sale
    assert rows["Market"]["orders.orders"] == 1
    assert {m["name"] for m in answer["metrics"]} >= {"orders.net_sales", "orders.orders"}
    assert next(m for m in answer["metrics"] if m["name"] == "orders.average_order_value")[
        "terms"] == ["sum", "count_distinct"]


def test_sales_by_category_and_product_label_each_group(shop, admin):
    shop.order(at("2026-03-02 10:00"), "web", "Ada", [("TEA-1", "2", "5"), ("TEA-2", "1", "3"),
                                                      ("MUG-1", "1", "12")])
    answer = admin.post(QUERY, json={"metrics": ["orders.net_sales"],
                                          "dimensions": ["category"],
                                          "order_by": "orders.net_sales"}).json()
    assert [(r["category_label"], Decimal(r["orders.net_sales"])) for r in answer["rows"]] == [
        ("Tea", 13), ("Ware", 12)]


@pytest.mark.parametrize(("zone", "days"), [
    ("Europe/Paris", {"2026-03-29": 2, "2026-03-30": 1}),
    ("UTC", {"2026-03-28": 1, "2026-03-29": 2}),
])
def test_days_are_counted_in_the_time_zone_across_the_spring_clock_change(
        shop, admin, zone, days):
    # Paris moves from UTC+1 to UTC+2 at 01:00 UTC on 29 March 2026
    shop.order(at("2026-03-28 23:30"), "web", "Ada", [("TEA-1", "1", "1")])  # 00:30 on the 29th
    shop.order(at("2026-03-29 21:30"), "web", "Ada", [("TEA-1", "1", "1")])  # 23:30 on the 29th
    shop.order(at("2026-03-29 22:30"), "web", "Ada", [("TEA-1", "1", "1")])  # 00:30 on the 30th
    answer = admin.post(QUERY, json={"metrics": ["orders.orders"], "time_grain": "day",
                                          "time_zone": zone}).json()
    assert {r["period"]: r["orders.orders"] for r in answer["rows"]} == days
    assert answer["time_zone"] == zone


def test_a_date_range_is_of_local_days_and_autumn_weeks_start_on_monday(shop, admin):
    # Paris moves back from UTC+2 to UTC+1 at 01:00 UTC on 25 October 2026 (a Sunday)
    shop.order(at("2026-10-25 22:30"), "web", "Ada", [("TEA-1", "1", "1")])  # Sun 23:30 local
    shop.order(at("2026-10-25 23:30"), "web", "Ada", [("TEA-1", "1", "1")])  # Mon 00:30 local
    shop.order(at("2026-10-18 22:30"), "web", "Ada", [("TEA-1", "1", "1")])  # Mon 19th 00:30
    answer = admin.post(QUERY, json={
        "metrics": ["orders.orders"], "time_grain": "week", "time_zone": "Europe/Paris",
        "date_from": "2026-10-19", "date_to": "2026-10-26"}).json()
    assert {r["period"]: r["orders.orders"] for r in answer["rows"]} == {
        "2026-10-19": 2, "2026-10-26": 1}


def test_metrics_of_two_plugins_combine_on_a_shared_dimension(shop, admin):
    shop.order(at("2026-03-02 10:00"), "web", "Ada", [("TEA-1", "2", "5")])
    shop.order(at("2026-03-02 11:00"), "web", "Bo", [("TEA-1", "1", "5")])
    answer = admin.post(QUERY, json={
        "metrics": ["orders.net_sales", "crm.customers"], "dimensions": ["customer_tier"],
        "order_by": "customer_tier", "descending": False}).json()
    rows = rows_by(answer, "customer_tier")
    assert Decimal(rows["gold"]["orders.net_sales"]) == 10 and rows["gold"]["crm.customers"] == 1
    assert Decimal(rows["silver"]["orders.net_sales"]) == 5
    assert rows["silver"]["crm.customers"] == 2  # Cy bought nothing but is a silver customer
    assert {m["plugin"] for m in answer["metrics"]} == {"orders", "crm"}


def test_money_is_reported_in_one_currency_and_counts_keep_every_order(shop, admin, kernel):
    from erp_sdk import set_exchange_rate

    shop.order(at("2026-03-02 10:00"), "web", "Ada", [("TEA-1", "1", "5")])
    shop.order(at("2026-03-02 11:00"), "web", "Ada", [("TEA-1", "1", "7")], currency="USD")
    with kernel.transaction() as session:
        set_exchange_rate(session, "USD", "EUR", dt.date(2026, 3, 1), Decimal("0.9"))
    both = {"metrics": ["orders.net_sales", "orders.orders"]}
    euros = admin.post(QUERY, json=both).json()["rows"][0]
    assert Decimal(euros["orders.net_sales"]) == Decimal("11.3") and euros["orders.orders"] == 2
    in_dollars = admin.post(QUERY, json={**both, "currency": "usd"})
    assert in_dollars.status_code == 422  # no rate of EUR in USD
    assert "no exchange rate for EUR in USD on or before 2026-03-02" in in_dollars.text
    dollars = admin.post(QUERY, json={**both, "currency": "usd", "filters": [
        {"dimension": "currency", "values": ["USD"]}]}).json()
    assert Decimal(dollars["rows"][0]["orders.net_sales"]) == 7 and dollars["currency"] == "USD"


def test_returns_rate_and_filters(shop, admin):
    shop.order(at("2026-03-02 10:00"), "web", "Ada", [("MUG-1", "4", "10")], returned="1")
    shop.order(at("2026-03-02 10:00"), "market", "Ada", [("MUG-1", "4", "10")], returned="4")
    answer = admin.post(QUERY, json={
        "metrics": ["orders.returns_rate", "orders.units_returned"],
        "filters": [{"dimension": "channel", "values": [str(shop.channels["web"])]}]}).json()
    assert Decimal(answer["rows"][0]["orders.returns_rate"]) == Decimal("0.25")


def test_a_scoped_user_counts_only_the_rows_its_record_rules_let_it_read(shop, client_for):
    shop.order(at("2026-03-02 10:00"), "web", "Ada", [("TEA-1", "1", "5")])
    shop.order(at("2026-03-02 10:00"), "market", "Ada", [("TEA-1", "1", "50")])
    agent = client_for("channel_scope.agent", scope={"channel_id": [shop.channels["web"]]})
    answer = agent.post(QUERY, json={"metrics": ["orders.net_sales"],
                                     "dimensions": ["channel"]}).json()
    assert [(r["channel_label"], Decimal(r["orders.net_sales"])) for r in answer["rows"]] == [
        ("Web", 5)]


def test_a_metric_needs_its_permission(shop, client_for):
    agent = client_for("channel_scope.agent", scope={"channel_id": [1]})
    response = agent.post(QUERY, json={"metrics": ["inventory.stock_value"]})
    assert response.status_code == 403
    assert "inventory.stock_level.read" in response.json()["detail"]
    listed = {m["name"] for m in agent.get("/api/v1/reports/metrics").json()["items"]}
    assert "orders.net_sales" in listed and "inventory.stock_value" not in listed


@pytest.mark.parametrize(("body", "field"), [
    ({"metrics": ["orders.nothing"]}, "metrics"),
    ({"metrics": ["orders.net_sales"], "dimensions": ["reason"]}, "dimensions"),
    ({"metrics": ["inventory.stock_value"], "time_grain": "day"}, "time_grain"),
    ({"metrics": ["orders.net_sales"], "time_zone": "Mars/Olympus"}, None),
    ({"metrics": ["orders.net_sales"], "date_from": "2026-13-01"}, "date_from"),
    ({"metrics": ["orders.net_sales"], "order_by": "orders.units"}, "order_by"),
    ({"metrics": ["orders.net_sales"], "filters": [{"dimension": "channel",
                                                   "values": ["web"]}]}, "filters"),
    ({"metrics": []}, "metrics"),
])
def test_a_report_that_cannot_be_answered_is_a_422_naming_what_is_wrong(admin, body, field):
    response = admin.post(QUERY, json=body)
    assert response.status_code == 422, response.text
    if field is not None:
        assert field in response.json()["errors"]


@pytest.mark.skipif(bool(PG_URL), reason="copies a SQLite file to stand for the replica")
def test_reports_read_the_replica_named_by_erp_reports_database_url(
        shop, admin, kernel, module_database_url, tmp_path, monkeypatch):
    shop.order(at("2026-03-02 10:00"), "web", "Ada", [("TEA-1", "1", "5")])
    replica = tmp_path / "replica.db"
    with kernel.reading() as connection:  # a consistent copy of the database
        connection.exec_driver_sql(f"VACUUM INTO '{replica}'")
    shop.order(at("2026-03-02 11:00"), "web", "Ada", [("TEA-1", "1", "7")])  # not replicated
    body = {"metrics": ["orders.net_sales"]}
    assert Decimal(admin.post(QUERY, json=body).json()["rows"][0]["orders.net_sales"]) == 12
    monkeypatch.setenv("ERP_REPORTS_DATABASE_URL", f"sqlite:///{replica}")
    close_reports_engine(kernel)
    try:
        assert Decimal(admin.post(QUERY, json=body).json()["rows"][0]["orders.net_sales"]) == 5
    finally:
        close_reports_engine(kernel)


def test_days_of_cover_and_turnover_compare_stock_with_the_last_30_days_shipments(
        shop, admin, kernel):
    from erp_inventory.movements import receive
    from erp_inventory.reservations import ReservationLine, reserve, ship_reserved

    with kernel.context() as ctx:
        moving, idle = (ctx.records("inventory.product").create(
            {"sku": f"COVER-{uuid.uuid4().hex[:8]}", "name": name})["id"]
            for name in ("Moving", "Idle"))
        warehouse = shop.warehouses["main"]
        receive(ctx, warehouse, moving, Decimal(100), Decimal(2))
        receive(ctx, warehouse, idle, Decimal(10), Decimal(3))
        [reservation] = reserve(ctx, warehouse, [ReservationLine(moving, Decimal(30), "cover")])
        ship_reserved(ctx, reservation)
    answer = admin.post(QUERY, json={
        "metrics": ["inventory.days_of_cover", "inventory.turnover", "inventory.stock_value"],
        "dimensions": ["product"],
        "filters": [{"dimension": "product", "values": [str(moving), str(idle)]}]}).json()
    rows = rows_by(answer, "product_label")
    assert Decimal(rows["Moving"]["inventory.days_of_cover"]) == 70  # 70 left, 1 a day
    # 60 of cost went out in 30 days against 140 of stock: 60 x 365 / 30 / 140 a year
    assert Decimal(rows["Moving"]["inventory.turnover"]) == Decimal("5.2143")
    assert Decimal(rows["Moving"]["inventory.stock_value"]) == 140
    assert rows["Idle"]["inventory.days_of_cover"] is None  # nothing shipped: no pace


def test_rfm_movement_counts_customers_moving_between_segments(shop, admin, kernel):
    from erp_crm.behaviour import Behaviour
    from erp_crm.rfm import RfmChange, RfmScore, score_rfm

    def summarise(figures: dict[str, tuple[int, str, str]]) -> None:
        """Each customer's purchases summed up, as the CRM keeps them."""
        with kernel.transaction() as session:
            session.execute(sa.delete(Behaviour))
            for name, (count, total, last) in figures.items():
                session.add(Behaviour(
                    customer_id=shop.customers[name], currency="EUR", purchase_count=count,
                    total_spend=Decimal(total), average_spend=Decimal(total) / count,
                    first_purchase_at=at("2026-01-01 10:00"), last_purchase_at=at(last),
                    favourite_categories=[], updated_at=at(last)))

    try:
        summarise({"Ada": (5, "500", "2026-02-27 10:00"), "Bo": (2, "100", "2026-02-20 10:00"),
                   "Cy": (1, "10", "2026-01-10 10:00")})
        with kernel.transaction() as session:
            score_rfm(session, at("2026-03-01 03:00"))  # champions, loyal, lost
        summarise({"Ada": (5, "500", "2026-02-27 10:00"), "Bo": (2, "100", "2026-02-20 10:00"),
                   "Cy": (7, "1010", "2026-03-07 10:00")})
        with kernel.transaction() as session:
            score_rfm(session, at("2026-03-08 03:00"))
        answer = admin.post(QUERY, json={
            "metrics": ["crm.rfm_movements", "crm.customers_moved"],
            "dimensions": ["from_segment", "rfm_segment"],
            "date_from": "2026-03-02", "date_to": "2026-03-31"}).json()
        assert {(r["from_segment"], r["rfm_segment"]): r["crm.rfm_movements"]
                for r in answer["rows"]} == {("champions", "loyal"): 1, ("loyal", "lost"): 1,
                                             ("lost", "champions"): 1}
        moved = admin.post(QUERY, json={"metrics": ["crm.customers_moved"],
                                        "date_from": "2026-03-01"}).json()
        assert moved["rows"][0]["crm.customers_moved"] == 3  # first scored, then moved
        now = admin.post(QUERY, json={"metrics": ["crm.rfm_customers"],
                                      "dimensions": ["rfm_segment"]}).json()
        assert {r["rfm_segment"]: r["crm.rfm_customers"] for r in now["rows"]} == {
            "champions": 1, "loyal": 1, "lost": 1}
    finally:
        with kernel.transaction() as session:
            for model in (RfmChange, RfmScore, Behaviour):
                session.execute(sa.delete(model))
