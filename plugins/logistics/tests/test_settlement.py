"""Freight settlement (LOG-3): carrier invoices imported as CSV or through the driver,
matched line by line, discrepancies flagged; the customer's shipping charge applied once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from test_shipments import API, label_and_hand_over, make_shipment


def shipped(client, place_order, count):
    numbers = []
    for _ in range(count):
        shipment = make_shipment(client, place_order(tea=1, mug=0)["id"])
        label_and_hand_over(client, shipment["id"])
        details = client.get(f"{API}/shipments/{shipment['id']}/details").json()
        numbers.append((details, details["packages"][0]))
    return numbers


def invoice_lines(client, invoice_id):
    return client.get(f"{API}/carrier-invoice-lines",
                      params={"invoice_id": invoice_id, "limit": "50"}).json()["items"]


def test_a_csv_invoice_is_matched_and_its_discrepancies_flagged(
        erp_client, place_order, swiftpost):
    (first, a), (_second, b) = shipped(erp_client, place_order, 2)
    csv = ("invoice_number,invoice_date,currency,tracking_number,amount,description\n"
           f"INV-1,2026-11-30,EUR,{a['tracking_number']},{a['label_amount']},standard\n"
           f"INV-1,2026-11-30,EUR,{b['tracking_number']},"
           f"{Decimal(b['label_amount']) + Decimal('2.10')},weight correction\n"
           f"INV-1,2026-11-30,EUR,{a['tracking_number']},{a['label_amount']},again\n"
           "INV-1,2026-11-30,EUR,SP0000000404,5.00,unknown parcel\n")
    imported = erp_client.post(f"{API}/carrier-invoices/import", json={
        "carrier_account_id": swiftpost["id"], "csv": csv, "tolerance": "0.50"})
    assert imported.status_code == 201, imported.text
    [invoice] = imported.json()["items"]

    lines = invoice_lines(erp_client, invoice["id"])
    assert [line["flag"] for line in lines] == [None, "over_tolerance", "duplicate",
                                                "no_shipment"]
    assert lines[0]["shipment_id"] == first["id"] and lines[0]["order_id"] == first["order_id"]
    assert lines[1]["quoted_amount"] == b["label_amount"]
    assert Decimal(lines[1]["difference"]) == Decimal("2.10")
    assert invoice["flagged_lines"] == 3 and invoice["carrier"] == "swiftpost"
    assert Decimal(invoice["total"]) == 2 * Decimal(a["label_amount"]) + \
        Decimal(b["label_amount"]) + Decimal("7.10")

    again = erp_client.post(f"{API}/carrier-invoices/import", json={
        "carrier_account_id": swiftpost["id"], "csv": csv})
    assert again.status_code == 409


def test_an_invoice_is_approved_once_its_flagged_lines_are_reviewed(
        erp_client, kernel, place_order, swiftpost):
    [(_, package)] = shipped(erp_client, place_order, 1)
    csv = ("invoice_number,invoice_date,currency,tracking_number,amount\n"
           f"INV-2,2026-11-30,EUR,{package['tracking_number']},99.00\n")
    [invoice] = erp_client.post(f"{API}/carrier-invoices/import", json={
        "carrier_account_id": swiftpost["id"], "csv": csv}).json()["items"]

    refused = erp_client.post(f"{API}/carrier-invoices/{invoice['id']}/approve")
    assert refused.status_code == 409 and "not reviewed" in refused.json()["detail"]
    [line] = invoice_lines(erp_client, invoice["id"])
    reviewed = erp_client.patch(f"{API}/carrier-invoice-lines/{line['id']}",
                                json={"reviewed": True},
                                headers={"If-Match": f'"{line["version"]}"'})
    assert reviewed.status_code == 200, reviewed.text
    approved = erp_client.post(f"{API}/carrier-invoices/{invoice['id']}/approve")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"

    from erp_logistics.freight import CarrierInvoice

    with kernel.transaction() as session:  # what finance reads from the record
        record = session.get(CarrierInvoice, invoice["id"])
        assert (record.number, record.carrier, record.currency) == ("INV-2", "swiftpost",
                                                                    "EUR")
        assert record.invoice_date == dt.date(2026, 11, 30) and record.total == Decimal(99)
        [booked] = record.lines
        assert booked.billed_amount == Decimal(99)
        assert booked.quoted_amount == Decimal(package["label_amount"])
        assert booked.order_id is not None and booked.shipment_id is not None


def test_the_driver_s_invoices_carry_the_fake_carrier_s_discrepancies(
        erp_client, place_order, swiftpost):
    shipped(erp_client, place_order, 3)
    fetched = erp_client.post(f"{API}/carrier-invoices/fetch", json={
        "carrier_account_id": swiftpost["id"], "since": dt.datetime.now(dt.UTC).date().isoformat()})
    assert fetched.status_code == 201, fetched.text
    [invoice] = fetched.json()["items"]
    flags = [line["flag"] for line in invoice_lines(erp_client, invoice["id"])]
    assert flags == [None, None, "over_tolerance", "duplicate", "no_shipment"]


def test_a_bad_csv_row_is_named(erp_client, swiftpost):
    refused = erp_client.post(f"{API}/carrier-invoices/import", json={
        "carrier_account_id": swiftpost["id"],
        "csv": "invoice_number,invoice_date,currency,tracking_number,amount\n"
               "INV-3,30/11/2026,EUR,SP1,1.00\n"})
    assert refused.status_code == 422 and "csv.row2" in refused.json()["errors"]


def test_cost_plus_margin_is_charged_once_per_order(erp_client, place_order, swiftpost, shop):
    erp_client.post(f"{API}/shipping-charge-policies",
                    json={"kind": "cost_plus", "margin": "0.2"})
    order = place_order(tea=2, mug=1)
    lines = erp_client.get("/api/v1/orders/order-lines",
                           params={"order_id": order["id"]}).json()["items"]
    first = make_shipment(erp_client, order["id"],
                          [{"order_line_id": lines[0]["id"]}], [{"weight_kg": "1"}])
    label_and_hand_over(erp_client, first["id"])
    charged = erp_client.get(f"/api/v1/orders/orders/{order['id']}").json()
    assert Decimal(charged["shipping_amount"]) == Decimal("7.20")  # 6.00 x 1.2

    second = make_shipment(erp_client, order["id"], packages=[{"weight_kg": "3"}])
    label_and_hand_over(erp_client, second["id"])
    after = erp_client.get(f"/api/v1/orders/orders/{order['id']}").json()
    assert Decimal(after["shipping_amount"]) == Decimal("7.20")
    assert Decimal(after["total"]) == Decimal(charged["total"])


def test_shipping_is_free_above_the_threshold(erp_client, place_order, swiftpost):
    erp_client.post(f"{API}/shipping-charge-policies",
                    json={"kind": "free_above", "threshold": "20", "flat_amount": "4.90"})
    small = place_order(tea=1, mug=0)
    large = place_order(tea=1, mug=2)
    for order in (small, large):
        label_and_hand_over(erp_client, make_shipment(erp_client, order["id"])["id"])
    assert erp_client.get(f"/api/v1/orders/orders/{small['id']}").json()[
        "shipping_amount"] == "4.9000"
    assert erp_client.get(f"/api/v1/orders/orders/{large['id']}").json()[
        "shipping_amount"] == "0.0000"
