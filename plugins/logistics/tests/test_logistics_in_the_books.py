"""With finance enabled, an approved carrier invoice goes into the books: each parcel's
quoted freight and its variance against what was billed, with the parcel's order as a
dimension (so the order's margin carries its freight), owed to the carrier on payables.
Finance imports nothing of logistics: this is the contract between them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_settlement import invoice_lines, shipped

from erp_sdk import utcnow

API = "/api/v1/logistics"
FINANCE = "/api/v1/finance"


@pytest.fixture
def erp_kernel(erp_kernel_factory):
    return erp_kernel_factory("logistics", "finance")


def test_an_approved_carrier_invoice_books_freight_and_its_variance_per_order(
        erp_client, place_order, swiftpost):
    today = utcnow().date()
    answer = erp_client.post(f"{FINANCE}/setup", json={
        "template": "generic", "currency": "EUR", "year": today.year})
    assert answer.status_code == 201, answer.text
    [(shipment, package)] = shipped(erp_client, place_order, 1)
    quoted = Decimal(package["label_amount"])
    csv = ("invoice_number,invoice_date,currency,tracking_number,amount\n"
           f"F-9,{today.isoformat()},EUR,{package['tracking_number']},{quoted + 2}\n")
    [invoice] = erp_client.post(f"{API}/carrier-invoices/import", json={
        "carrier_account_id": swiftpost["id"], "csv": csv}).json()["items"]
    [line] = invoice_lines(erp_client, invoice["id"])
    assert erp_client.patch(f"{API}/carrier-invoice-lines/{line['id']}",
                            json={"reviewed": True},
                            headers={"If-Match": f'"{line["version"]}"'}).status_code == 200
    approved = erp_client.post(f"{API}/carrier-invoices/{invoice['id']}/approve")
    assert approved.status_code == 200, approved.text

    [entry] = erp_client.get(f"{FINANCE}/entries", params={
        "origin": f"logistics.carrier_invoice:{invoice['id']}"}).json()["items"]
    lines = erp_client.get(f"{FINANCE}/entries/{entry['id']}/lines").json()["lines"]
    accounts = {row["id"]: row["code"] for row in erp_client.get(
        f"{FINANCE}/accounts", params={"limit": "200"}).json()["items"]}
    booked = {(accounts[row["account_id"]], row["order_id"]):
              Decimal(row["debit"]) - Decimal(row["credit"]) for row in lines}
    order = shipment["order_id"]
    assert booked == {("5300", order): quoted, ("5310", order): Decimal(2),
                      ("2100", None): -(quoted + 2)}
