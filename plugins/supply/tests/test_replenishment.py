"""Replenishment through the API: the worked example on real receipts and shipments, the
draft purchase orders it proposes, its explanation, and stock alerts triggering it."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from supply_helpers import API, ok

from erp_core.cli import main
from erp_core.jobs import registered_jobs
from erp_inventory.movements import receive
from erp_inventory.reservations import ReservationLine, reserve, ship_reserved
from erp_supply.cli import replenish_everything

pytestmark = pytest.mark.erp_plugins("supply")


def ship(run, warehouse, product, quantity):
    [reservation] = run(reserve, warehouse, [ReservationLine(product, Decimal(quantity),
                                                              "test:sale")])
    run(ship_reserved, reservation)


@pytest.fixture
def worked_example(erp_client, run, warehouse, make_product, make_supplier, make_offer,
                   make_order, today):
    """Three receipts of 40 from supplier A after 8, 10 and 12 days (sigma 2 days); 90
    shipped in the last 30 days (3 a day); 5 reserved (30 on hand, 25 available); 10 due
    from supplier B in 5 days and 100 in 30 days; A offers 10 days, minimum 20, 4.00 and
    3.50 from 40 on."""
    product = make_product()
    a, b = make_supplier(), make_supplier()
    make_offer(a, product, {"0": "4.00", "40": "3.50"}, lead_time_days=10,
               minimum_order_quantity="20")
    for days in (8, 10, 12):
        order = make_order(a, [(product, "40", "3.50")])
        ok(erp_client.post(f"{API}/purchase-orders/{order['id']}/receive", json={
            "lines": [{"line_id": order["lines"][0]["id"], "quantity": "40"}],
            "received_on": (today + dt.timedelta(days=days)).isoformat()}), 201)
    ship(run, warehouse, product, "90")
    run(reserve, warehouse, [ReservationLine(product, Decimal(5), "test:held")])
    for days, quantity in ((5, "10"), (30, "100")):
        make_order(b, [(product, quantity, "9")],
                   expected_date=(today + dt.timedelta(days=days)).isoformat())
    rule = ok(erp_client.post(f"{API}/reorder-rules", json={
        "product_id": product, "warehouse_id": warehouse, "velocity_days": 30,
        "review_days": 14, "service_factor": "1.65"}), 201)
    return {"product": product, "a": a, "b": b, "rule": rule}


def test_the_worked_example_proposes_a_draft_order_that_explains_itself(
        erp_client, worked_example, warehouse, today):
    summary = ok(erp_client.post(f"{API}/replenish", json={}))

    assert (summary["rules"], summary["suggestions"], len(summary["purchase_orders"])) == (
        1, 1, 1)
    [suggestion] = ok(erp_client.get(f"{API}/suggestions"))["items"]
    assert (suggestion["quantity"], suggestion["reorder_point"], suggestion["target"],
            suggestion["safety_stock"], suggestion["incoming"], suggestion["position"]) == (
        "47.0000", "39.9000", "81.9000", "9.9000", "10.0000", "35.0000")
    explanation = ok(erp_client.get(f"{API}/suggestions/{suggestion['id']}/explanation"))
    assert explanation["velocity"] == {
        "shipped": "90.0000", "days": 30, "per_day": "3.0000", "stock_lasts_days": "8.3333",
        "by_channel": {"unknown": {"shipped": "90.0000", "per_day": "3.0000", "counted": True}},
        "channels_counted": None}
    assert explanation["lead_time"] == {"days": 10, "stddev_days": "2.0000",
                                        "receipts_measured": 3}
    assert explanation["stock"] == {"on_hand": "30.0000", "reserved": "5.0000",
                                    "available": "25.0000"}
    assert explanation["incoming"]["beyond_lead_time"] == "100.0000"
    assert explanation["rule"]["id"] == worked_example["rule"]["id"]
    assert [row["supplier_id"] for row in explanation["suppliers"]] == [
        worked_example["a"]["id"]]
    order = ok(erp_client.get(f"{API}/purchase-orders/{summary['purchase_orders'][0]}"))
    assert (order["state"], order["supplier_id"], order["warehouse_id"]) == (
        "draft", worked_example["a"]["id"], warehouse)
    [line] = ok(erp_client.get(f"{API}/purchase-order-lines",
                               params={"order_id": order["id"]}))["items"]
    assert (line["quantity"], line["unit_price"], line["expected_date"]) == (
        "47.0000", "3.5000", (today + dt.timedelta(days=10)).isoformat())
    assert order["untaxed_amount"] == "164.5000"


def test_a_proposed_draft_order_counts_as_incoming_on_the_next_run(erp_client, worked_example):
    ok(erp_client.post(f"{API}/replenish", json={}))
    again = ok(erp_client.post(f"{API}/replenish", json={}))
    assert (again["suggestions"], again["purchase_orders"]) == (0, [])


def test_suggestions_without_orders_replace_the_previous_ones(erp_client, worked_example):
    for _ in range(2):
        summary = ok(erp_client.post(f"{API}/replenish", json={"create_orders": False}))
        assert (summary["suggestions"], summary["purchase_orders"]) == (1, [])
    items = ok(erp_client.get(f"{API}/suggestions"))["items"]
    assert [(item["state"], item["purchase_order_id"]) for item in items] == [
        ("proposed", None)]


def test_the_periodic_job_replenishes_every_rule(erp_kernel, worked_example):
    job = registered_jobs(erp_kernel)["supply.replenish"]
    assert job.job.run is replenish_everything
    assert job.job.run(erp_kernel) == "1 suggestions from 1 rules, 1 draft purchase orders"


def test_a_low_stock_alert_replenishes_its_product(
        erp_client, erp_kernel, run, warehouse, make_product, make_supplier, make_offer):
    product = make_product()
    make_offer(make_supplier(), product, {"0": "2.00"}, lead_time_days=3)
    run(receive, warehouse, product, Decimal(20), Decimal(2))
    ok(erp_client.post("/api/v1/inventory/stock-limits", json={
        "product_id": product, "warehouse_id": warehouse, "minimum": "10"}), 201)
    ok(erp_client.post(f"{API}/reorder-rules", json={
        "product_id": product, "warehouse_id": warehouse, "method": "fixed",
        "minimum": "10", "maximum": "50"}), 201)
    assert ok(erp_client.get(f"{API}/suggestions"))["items"] == []

    ship(run, warehouse, product, "12")  # 8 left: below the limit of 10

    [suggestion] = ok(erp_client.get(f"{API}/suggestions"))["items"]
    assert (suggestion["product_id"], suggestion["quantity"], suggestion["state"]) == (
        product, "42.0000", "ordered")


def test_the_command_line_suggests_without_ordering(erp_client, worked_example,
                                                    erp_database_url):
    result = CliRunner().invoke(main, ["--database-url", erp_database_url, "supply",
                                       "replenish", "--no-orders", "--json"],
                                env={"ERP_DATABASE_URL": None})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"rules": 1, "suggestions": 1, "purchase_orders": [],
                                         "without_supplier": 0}
    [suggestion] = ok(erp_client.get(f"{API}/suggestions"))["items"]
    assert (suggestion["state"], suggestion["quantity"]) == ("proposed", "47.0000")


def test_an_offer_outside_its_validity_dates_is_not_used(
        erp_client, warehouse, make_product, make_supplier, make_offer, today):
    product = make_product()
    make_offer(make_supplier(), product, {"0": "1.00"},
               valid_to=(today - dt.timedelta(days=1)).isoformat())
    make_offer(make_supplier(), product, {"0": "2.00"},
               valid_from=(today + dt.timedelta(days=1)).isoformat())
    ok(erp_client.post(f"{API}/reorder-rules", json={
        "product_id": product, "warehouse_id": warehouse, "method": "fixed", "minimum": "5",
        "maximum": "20"}), 201)
    summary = ok(erp_client.post(f"{API}/replenish", json={}))
    assert (summary["suggestions"], summary["without_supplier"]) == (0, 1)

    current = make_supplier()
    make_offer(current, product, {"0": "3.00"}, valid_from=today.isoformat(),
               valid_to=today.isoformat())
    summary = ok(erp_client.post(f"{API}/replenish", json={}))
    [suggestion] = ok(erp_client.get(f"{API}/suggestions"))["items"]
    assert (suggestion["supplier_id"], suggestion["quantity"], suggestion["unit_price"]) == (
        current["id"], "20.0000", "3.0000")


@pytest.mark.erp_plugins("supply", "orders")
def test_the_velocity_is_told_per_channel_and_a_rule_counts_only_its_channels(
        erp_client, kernel, run, warehouse, make_product, make_supplier, make_offer):
    """In the last 30 days 60 units left through orders of channel web, 30 through orders
    of channel shop and 15 by a shipment no order made; the rule counts web only: velocity
    2 a day, so with 10 days of lead time the reorder point is 20 and, from 10 on hand,
    the target 20 + 2 x 14 = 48 asks for 38."""
    product = make_product()
    make_offer(make_supplier(), product, {"0": "4.00"}, lead_time_days=10)
    run(receive, warehouse, product, Decimal(115), Decimal(2))
    with kernel.context() as ctx:
        customer = ctx.records("crm.customer").create({"name": "Ada", "kind": "person"})["id"]
        origins = {}
        for code in ("web", "shop"):
            channel = ctx.records("orders.channel").create(
                {"code": code, "name": code, "kind": "manual", "warehouse_id": warehouse,
                 "settings": {}, "secrets": {}})["id"]
            order = ctx.records("orders.order").create(
                {"channel_id": channel, "customer_id": customer, "warehouse_id": warehouse})
            origins[code] = f"orders.order:{order['id']}"
    for origin, quantity in ((origins["web"], 60), (origins["shop"], 30), ("test:sale", 15)):
        [reservation] = run(reserve, warehouse, [ReservationLine(product, Decimal(quantity),
                                                                  origin)])
        run(ship_reserved, reservation)
    ok(erp_client.post(f"{API}/reorder-rules", json={
        "product_id": product, "warehouse_id": warehouse, "velocity_days": 30,
        "review_days": 14, "service_factor": "1.65", "channels": ["web"]}), 201)

    ok(erp_client.post(f"{API}/replenish", json={"create_orders": False}))

    [suggestion] = ok(erp_client.get(f"{API}/suggestions",
                                     params={"product_id": product}))["items"]
    velocity = ok(erp_client.get(f"{API}/suggestions/{suggestion['id']}/explanation"))[
        "velocity"]
    assert velocity["by_channel"] == {
        "shop": {"shipped": "30.0000", "per_day": "1.0000", "counted": False},
        "unknown": {"shipped": "15.0000", "per_day": "0.5000", "counted": False},
        "web": {"shipped": "60.0000", "per_day": "2.0000", "counted": True}}
    assert (velocity["channels_counted"], velocity["shipped"], velocity["per_day"]) == (
        ["web"], "60.0000", "2.0000")
    assert (suggestion["reorder_point"], suggestion["quantity"]) == ("20.0000", "38.0000")
