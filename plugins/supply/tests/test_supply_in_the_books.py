"""With finance enabled, the goods a purchase order receives and the bill that follows go
into the books: the receipt credits goods received not invoiced, the posted bill clears it
against payables. Finance imports nothing of supply: this is the contract between them."""

from decimal import Decimal

import pytest
from supply_helpers import API, ok

pytestmark = pytest.mark.erp_plugins("supply", "finance")

FINANCE = "/api/v1/finance"


def balances(client, today):
    """The closing balance (debit - credit) per account code, from the trial balance."""
    statement = ok(client.get(f"{FINANCE}/statements/trial-balance", params={
        "date_from": today.replace(month=1, day=1).isoformat(),
        "date_to": today.isoformat()}))
    return {row["account"]: Decimal(row["closing"])
            for row in statement["rows"]}


def test_a_posted_bill_books_payables_and_input_tax_and_clears_goods_received(
        erp_client, erp_client_for, make_supplier, make_order, make_product, today):
    ok(erp_client.post(f"{FINANCE}/setup", json={
        "template": "generic", "currency": "EUR", "year": today.year}), 201)
    supplier = make_supplier()
    order = make_order(supplier, [(make_product(), "10", "5.00")])
    [line] = order["lines"]
    ok(erp_client.post(f"{API}/purchase-orders/{order['id']}/receive", json={
        "lines": [{"line_id": line["id"], "quantity": "10"}]}), 201)
    ok(erp_client.post(f"{FINANCE}/stock/book"))  # the receipt's stock move, booked
    assert balances(erp_client, today).get("2150") == Decimal("-50.00")

    bill = ok(erp_client.post(f"{API}/bills", json={
        "supplier_id": supplier["id"], "purchase_order_id": order["id"],
        "supplier_reference": "S-77", "bill_date": today.isoformat()}), 201)
    ok(erp_client.post(f"{API}/bill-lines", json={
        "bill_id": bill["id"], "order_line_id": line["id"], "quantity": "10",
        "unit_price": "5.00", "tax_rate": "0.2"}), 201)
    assert ok(erp_client.post(f"{API}/bills/{bill['id']}/match"))["state"] == "approved"
    ok(erp_client_for("supply.manager").post(f"{API}/bills/{bill['id']}/post"))

    [entry] = ok(erp_client.get(f"{FINANCE}/entries", params={
        "origin": f"supply.bill:{bill['id']}"}))["items"]
    assert entry["name"].startswith("PUR/")
    after = balances(erp_client, today)
    assert after.get("2150", Decimal(0)) == 0  # goods received, now invoiced
    assert after["2100"] == Decimal("-60.00")  # owed to the supplier
    assert after["1400"] == Decimal("10.00")  # input tax to reclaim
    assert sum(after.values()) == 0

    # the bill is owed until its due date (the supplier's payment terms) and paid from bank
    posted = ok(erp_client.get(f"{API}/bills/{bill['id']}"))
    [payable] = ok(erp_client.get(f"{FINANCE}/payables", params={
        "origin": f"supply.bill:{bill['id']}"}))["items"]
    assert (payable["supplier_id"], payable["due_date"]) == (supplier["id"], posted["due_date"])
    assert Decimal(payable["residual"]) == Decimal("60.00")
    aging = ok(erp_client.get(f"{FINANCE}/statements/payable-aging",
                              params={"date_to": today.isoformat()}))
    assert [Decimal(row["total"]) for row in aging["rows"]] == [Decimal("60.00")]
    paid = ok(erp_client.post(f"{FINANCE}/payables/{payable['id']}/pay",
                              json={"date": today.isoformat()}), 201)
    assert Decimal(paid["residual"]) == 0
    assert balances(erp_client, today).get("2100", Decimal(0)) == 0
