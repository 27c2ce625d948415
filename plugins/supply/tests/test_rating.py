"""A supplier's rating per month, over the months with activity only."""

from decimal import Decimal

import pytest
from supply_helpers import API, ok

pytestmark = pytest.mark.erp_plugins("supply")


def rated_supplier(erp_client, make_supplier, make_order, make_product):
    """January: 10 due on the 15th, all received on the 10th. March: 10 due on the 10th,
    6 accepted and 2 rejected on the 20th (late), 6 billed at 2.10 instead of 2.00."""
    supplier = make_supplier(bill_price_tolerance="0.1")
    product = make_product()
    january = make_order(supplier, [(product, "10", "2")], expected_date="2026-01-15")
    ok(erp_client.post(f"{API}/purchase-orders/{january['id']}/receive", json={
        "lines": [{"line_id": january["lines"][0]["id"], "quantity": "10"}],
        "received_on": "2026-01-10"}), 201)
    march = make_order(supplier, [(product, "10", "2")], expected_date="2026-03-10")
    line = march["lines"][0]
    ok(erp_client.post(f"{API}/purchase-orders/{march['id']}/receive", json={
        "lines": [{"line_id": line["id"], "quantity": "6", "rejected_quantity": "2"}],
        "received_on": "2026-03-20"}), 201)
    bill = ok(erp_client.post(f"{API}/bills", json={
        "supplier_id": supplier["id"], "purchase_order_id": march["id"],
        "bill_date": "2026-03-25"}), 201)
    ok(erp_client.post(f"{API}/bill-lines", json={
        "bill_id": bill["id"], "order_line_id": line["id"], "quantity": "6",
        "unit_price": "2.10"}), 201)
    assert ok(erp_client.post(f"{API}/bills/{bill['id']}/match"))["state"] == "approved"
    return supplier


def test_the_rating_covers_the_months_with_activity_only(
        erp_client, make_supplier, make_order, make_product):
    supplier = rated_supplier(erp_client, make_supplier, make_order, make_product)

    rating = ok(erp_client.get(f"{API}/suppliers/{supplier['id']}/rating"))

    assert rating["periods"] == [
        {"period": "2026-01", "lines_due": 1, "on_time_in_full": "1.0000",
         "fill_rate": "1.0000", "quality_acceptance": "1.0000", "price_variance": None},
        {"period": "2026-03", "lines_due": 1, "on_time_in_full": "0.0000",
         "fill_rate": "0.6000", "quality_acceptance": "0.7500", "price_variance": "0.0500"},
    ]


def test_a_supplier_without_activity_has_no_rating(erp_client, make_supplier):
    supplier = make_supplier()
    assert ok(erp_client.get(f"{API}/suppliers/{supplier['id']}/rating"))["periods"] == []


@pytest.mark.erp_plugins("supply", "reports")
def test_the_reports_api_rates_each_supplier_per_month_with_activity(
        erp_client, make_supplier, make_order, make_product):
    supplier = rated_supplier(erp_client, make_supplier, make_order, make_product)
    rated_supplier(erp_client, make_supplier, make_order, make_product)  # another supplier

    answer = ok(erp_client.post("/api/v1/reports/query", json={
        "metrics": ["supply.on_time_in_full", "supply.lines_due", "supply.fill_rate",
                    "supply.quality_acceptance_rate", "supply.price_variance"],
        "dimensions": ["supplier"],
        "filters": [{"dimension": "supplier", "values": [str(supplier["id"])]}],
        "time_grain": "month", "time_zone": "America/New_York"}))

    rows = {row["period"]: row for row in answer["rows"]}
    assert sorted(rows) == ["2026-01-01", "2026-03-01"]  # nothing in February
    assert {row["supplier_label"] for row in rows.values()} == {supplier["name"]}
    january, march = rows["2026-01-01"], rows["2026-03-01"]
    assert january["supply.lines_due"] == march["supply.lines_due"] == 1
    assert [Decimal(january[f"supply.{name}"]) for name in (
        "on_time_in_full", "fill_rate", "quality_acceptance_rate")] == [1, 1, 1]
    assert january["supply.price_variance"] is None
    assert [Decimal(march[f"supply.{name}"]) for name in (
        "on_time_in_full", "fill_rate", "quality_acceptance_rate", "price_variance")] == [
        0, Decimal("0.6"), Decimal("0.75"), Decimal("0.05")]
