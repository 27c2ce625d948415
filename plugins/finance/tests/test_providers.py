"""Payments through a payment-provider driver (the cash-on-delivery example, as installed):
taking an invoice's payment and refunding a credit note through the same provider."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from helpers import balance

from erp_finance.invoices import Invoice, InvoiceKind, InvoiceState
from erp_orders.returns import ReturnLineRequest, request_return

D = Decimal


def test_an_invoice_is_paid_through_the_provider_and_a_refund_goes_back_through_it(
        books, shop, place, ship, erp_client, tmp_path):
    created = erp_client.post("/api/v1/finance/payment-accounts", json={
        "name": "cod", "driver": "cod",
        "settings": {"currency": "EUR", "ledger_path": str(tmp_path / "cod.sqlite")},
        "secrets": {"webhook_secret": "s3cret"}})
    assert created.status_code == 201, created.text
    assert "secrets" not in created.json()
    order = place([(shop["tea"], "4", "4.20", "0.19")])
    ship(order["id"])
    with books.transaction() as session:
        invoice = session.scalar(sa.select(Invoice).where(Invoice.order_id == order["id"]))
    taken = erp_client.post(f"/api/v1/finance/invoices/{invoice.id}/take-payment",
                            json={"account": "cod"})
    assert taken.status_code == 201, taken.text
    assert taken.json()["provider_reference"].startswith("cod:")

    with books.context() as ctx:
        [line] = ctx.records("orders.order_line").list([("order_id", str(order["id"]))])["items"]
        returned = request_return(ctx, order["id"], [ReturnLineRequest(line["id"], D(1))])
        for transition in ("approve", "receive", "refund"):
            ctx.fire("orders.return_request", returned["id"], transition)
    with books.transaction() as session:
        credit_note = session.scalar(sa.select(Invoice).where(
            Invoice.kind == InvoiceKind.CREDIT_NOTE))
    refunded = erp_client.post(f"/api/v1/finance/invoices/{credit_note.id}/refund")
    assert refunded.status_code == 201, refunded.text
    again = erp_client.post(f"/api/v1/finance/invoices/{credit_note.id}/refund")
    assert again.status_code == 409  # nothing left to refund

    with books.transaction() as session:
        assert session.get(Invoice, invoice.id).state == InvoiceState.PAID
        assert session.get(Invoice, credit_note.id).residual == 0
        # the provider holds what it took less what it gave back
        assert balance(session, "1150") == D("19.99") - D("5.00")
        assert balance(session, "1200") == 0


def test_a_provider_notification_of_the_collected_cash_pays_the_invoice_once(
        books, shop, place, ship, erp_client, tmp_path):
    import datetime as dt
    import json

    from erp_payment_cod.notifications import sign_delivery_notification

    erp_client.post("/api/v1/finance/payment-accounts", json={
        "name": "courier", "driver": "cod",
        "settings": {"currency": "EUR", "ledger_path": str(tmp_path / "cod.sqlite")},
        "secrets": {"webhook_secret": "s3cret"}})
    order = place([(shop["mug"], "2", "12.50", "0.19")])
    ship(order["id"])
    with books.transaction() as session:
        invoice = session.scalar(sa.select(Invoice).where(Invoice.order_id == order["id"]))
    authorized = erp_client.post(f"/api/v1/finance/invoices/{invoice.id}/authorize",
                                 json={"account": "courier"})
    assert authorized.status_code == 201, authorized.text
    body = json.dumps({"event_id": "dlv-1", "event": "cash_collected",
                       "provider_reference": authorized.json()["provider_reference"],
                       "amount": "29.75", "currency": "EUR",
                       "at": dt.datetime.now(dt.UTC).isoformat()}).encode()
    headers = sign_delivery_notification("s3cret", body, int(dt.datetime.now(dt.UTC).timestamp()))

    first = erp_client.post("/api/v1/hooks/cod/courier", content=body, headers=headers)
    again = erp_client.post("/api/v1/hooks/cod/courier", content=body, headers=headers)
    forged = erp_client.post("/api/v1/hooks/cod/courier", content=body,
                             headers={**headers, "x-cod-signature": "sha256=00"})

    assert first.status_code == 200, first.text
    assert again.status_code == 200 and again.json().get("duplicate") is True, again.text
    assert forged.status_code == 401
    with books.transaction() as session:
        assert session.get(Invoice, invoice.id).state == InvoiceState.PAID
        assert balance(session, "1150") == D("29.75")  # once
