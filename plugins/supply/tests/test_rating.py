"""A supplier's rating per month, over the months with activity only."""

import pytest
from supply_helpers import API, ok

pytestmark = pytest.mark.erp_plugins("supply")


def test_the_rating_covers_the_months_with_activity_only(
        erp_client, make_supplier, make_order, make_product):
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
