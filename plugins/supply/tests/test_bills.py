"""Supplier bills matched three ways (ordered, received, billed), through the API."""

from decimal import Decimal

import pytest
from supply_helpers import API, ok, share_the_kernel_per_module

pytestmark = pytest.mark.erp_plugins("supply")
erp_kernel, erp_app, erp_token = share_the_kernel_per_module()


@pytest.fixture
def received_order(erp_client, make_supplier, make_order, make_product):
    """An order of 10 at 5.00 and 4 at 2.50, of which 6 and 4 were received."""
    supplier = make_supplier(bill_price_tolerance="0.02", bill_quantity_tolerance="0")
    order = make_order(supplier, [(make_product(), "10", "5.00"), (make_product(), "4", "2.50")])
    first, second = order["lines"]
    ok(erp_client.post(f"{API}/purchase-orders/{order['id']}/receive", json={"lines": [
        {"line_id": first["id"], "quantity": "6"}, {"line_id": second["id"], "quantity": "4"}]}),
        201)
    return supplier, order


def bill(client, supplier, order, lines, today):
    created = ok(client.post(f"{API}/bills", json={
        "supplier_id": supplier["id"], "purchase_order_id": order["id"],
        "supplier_reference": "INV-1", "bill_date": today.isoformat()}), 201)
    for line, quantity, price in lines:
        ok(client.post(f"{API}/bill-lines", json={
            "bill_id": created["id"], "order_line_id": line["id"], "quantity": quantity,
            "unit_price": price, "tax_rate": "0.2"}), 201)
    return created


def match(client, created):
    return ok(client.post(f"{API}/bills/{created['id']}/match"))


def test_a_bill_of_what_was_received_at_the_ordered_price_is_approved(
        erp_client, received_order, today):
    supplier, order = received_order
    first, second = order["lines"]
    created = bill(erp_client, supplier, order, [(first, "6", "5.00"), (second, "4", "2.50")],
                   today)

    matched = match(erp_client, created)

    assert matched["state"] == "approved"
    assert (matched["untaxed_amount"], matched["tax_amount"], matched["total"]) == (
        "40.0000", "8.0000", "48.0000")
    assert matched["currency"] == "EUR"
    assert matched["due_date"] is not None
    assert all(row["matches"] for row in matched["match_result"])


def test_a_price_within_tolerance_matches_and_one_beyond_is_held(
        erp_client, received_order, today):
    supplier, order = received_order
    first, _ = order["lines"]
    within = match(erp_client, bill(erp_client, supplier, order, [(first, "3", "5.10")], today))
    assert within["state"] == "approved"  # 2 % of 5.00 is 0.10

    beyond = match(erp_client, bill(erp_client, supplier, order, [(first, "3", "5.11")], today))
    assert beyond["state"] == "on_hold"
    assert "unit price 5.1100 differs from the ordered 5.0000" in beyond["hold_reason"]


def test_a_bill_for_everything_ordered_when_part_was_received_is_held(
        erp_client, received_order, today):
    """Billing the 10 ordered when 6 arrived is not a match, though it equals the order."""
    supplier, order = received_order
    first, second = order["lines"]
    created = bill(erp_client, supplier, order, [(first, "10", "5.00"), (second, "4", "2.50")],
                   today)

    held = match(erp_client, created)

    assert held["state"] == "on_hold"
    assert "billed 10.0000 (with earlier bills) but 6.0000 received of 10.0000 ordered" in \
        held["hold_reason"]
    queue = ok(erp_client.get(f"{API}/bills", params={
        "state": "on_hold", "purchase_order_id": order["id"]}))["items"]
    assert [row["id"] for row in queue] == [created["id"]]


def test_earlier_bills_count_against_what_was_received(erp_client, received_order, today):
    supplier, order = received_order
    first, _ = order["lines"]
    assert match(erp_client, bill(erp_client, supplier, order, [(first, "4", "5")],
                                  today))["state"] == "approved"
    assert match(erp_client, bill(erp_client, supplier, order, [(first, "2", "5")],
                                  today))["state"] == "approved"
    third = match(erp_client, bill(erp_client, supplier, order, [(first, "1", "5")], today))
    assert third["state"] == "on_hold"


def test_approving_a_bill_by_hand_runs_the_match(erp_client, received_order, today):
    supplier, order = received_order
    first, _ = order["lines"]
    created = bill(erp_client, supplier, order, [(first, "7", "5")], today)
    refused = erp_client.post(f"{API}/bills/{created['id']}/approve")
    assert refused.status_code == 409
    assert "does not match" in refused.json()["detail"]


def test_a_manager_releases_a_held_bill_and_it_is_posted_with_the_finance_attributes(
        erp_client, erp_client_for, received_order, today):
    supplier, order = received_order
    first, _ = order["lines"]
    held = match(erp_client, bill(erp_client, supplier, order, [(first, "7", "5")], today))
    buyer = erp_client_for("supply.buyer")
    assert buyer.post(f"{API}/bills/{held['id']}/release").status_code == 403
    assert buyer.post(f"{API}/bills/{held['id']}/post").status_code == 403

    manager = erp_client_for("supply.manager")
    ok(manager.post(f"{API}/bills/{held['id']}/release"))
    posted = ok(manager.post(f"{API}/bills/{held['id']}/post"))

    assert posted["state"] == "posted"
    assert {name: posted[name] for name in ("number", "supplier_id", "currency",
                                            "untaxed_amount", "tax_amount", "total",
                                            "bill_date")} == {
        "number": f"BILL-{held['id']:06d}", "supplier_id": supplier["id"], "currency": "EUR",
        "untaxed_amount": "35.0000", "tax_amount": "7.0000", "total": "42.0000",
        "bill_date": today.isoformat()}
    assert Decimal(posted["total"]) == Decimal(posted["untaxed_amount"]) + Decimal(
        posted["tax_amount"])


def test_a_bill_line_must_be_a_line_of_the_bills_order(
        erp_client, received_order, make_order, make_product, today):
    supplier, order = received_order
    other = make_order(supplier, [(make_product(), "1", "1")])
    created = bill(erp_client, supplier, order, [], today)
    refused = erp_client.post(f"{API}/bill-lines", json={
        "bill_id": created["id"], "order_line_id": other["lines"][0]["id"], "quantity": "1",
        "unit_price": "1"})
    assert refused.status_code == 422


def test_a_bill_is_for_an_order_of_its_supplier(erp_client, received_order, make_supplier,
                                                today):
    _, order = received_order
    refused = erp_client.post(f"{API}/bills", json={
        "supplier_id": make_supplier()["id"], "purchase_order_id": order["id"],
        "bill_date": today.isoformat()})
    assert refused.status_code == 422


def test_an_approved_bills_lines_no_longer_change(erp_client, received_order, today):
    supplier, order = received_order
    first, _ = order["lines"]
    created = match(erp_client, bill(erp_client, supplier, order, [(first, "1", "5")], today))
    line = ok(erp_client.get(f"{API}/bill-lines", params={"bill_id": created["id"]}))["items"][0]
    refused = erp_client.patch(f"{API}/bill-lines/{line['id']}", json={"quantity": "2"},
                               headers={"If-Match": str(line["version"])})
    assert refused.status_code == 409
