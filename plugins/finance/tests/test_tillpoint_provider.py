"""Payments through the Tillpoint example provider, its fake API served on a local port,
through finance's API: an invoice's payment captured, a return refunded through the
provider that took the money, a provider-side capture notified by a signed webhook that is
verified and handled once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from finance_helpers import balance

from erp_finance.invoices import Invoice, InvoiceKind, InvoiceState
from erp_finance.payments import Payment
from erp_orders.returns import ReturnLineRequest, request_return
from erp_payment_tillpoint import FakeTillpoint

D = Decimal


@pytest.fixture
def tillpoint() -> Iterator[FakeTillpoint]:
    with FakeTillpoint() as api:
        yield api


@pytest.fixture
def account(books, erp_client, tillpoint) -> str:
    created = erp_client.post("/api/v1/finance/payment-accounts", json={
        "name": "cards", "driver": "tillpoint",
        "settings": {"base_url": tillpoint.url, "timeout_seconds": 5},
        "secrets": {"api_key": tillpoint.api_key, "webhook_secret": tillpoint.webhook_secret}})
    assert created.status_code == 201, created.text
    return "cards"


def _invoice_of(books, order_id: int) -> Invoice:
    with books.transaction() as session:
        invoice = session.scalar(sa.select(Invoice).where(Invoice.order_id == order_id,
                                                          Invoice.kind == InvoiceKind.INVOICE))
        session.expunge(invoice)
    return invoice


def test_a_payment_is_captured_and_a_return_refunded_through_the_provider_that_took_it(
        books, shop, place, ship, erp_client, tillpoint, account):
    order = place([(shop["tea"], "4", "4.20", "0.19")])  # 16.80 + 3.19 tax
    ship(order["id"])
    invoice = _invoice_of(books, order["id"])
    taken = erp_client.post(f"/api/v1/finance/invoices/{invoice.id}/take-payment",
                            json={"account": account})
    assert taken.status_code == 201, taken.text
    reference = taken.json()["provider_reference"]
    assert tillpoint.payments[reference]["status"] == "captured"
    assert tillpoint.payments[reference]["captured"] == "19.99"
    assert tillpoint.payments[reference]["reference"] == invoice.number

    with books.context() as ctx:
        [line] = ctx.records("orders.order_line").list([("order_id", str(order["id"]))])["items"]
        returned = request_return(ctx, order["id"], [ReturnLineRequest(line["id"], D(1))])
        for transition in ("approve", "receive", "refund"):
            ctx.fire("orders.return_request", returned["id"], transition)
    with books.transaction() as session:
        credit_note = session.scalar(sa.select(Invoice).where(
            Invoice.kind == InvoiceKind.CREDIT_NOTE))
        credit_note_id, refund = credit_note.id, credit_note.total
    refunded = erp_client.post(f"/api/v1/finance/invoices/{credit_note_id}/refund")
    assert refunded.status_code == 201, refunded.text
    assert D(tillpoint.payments[reference]["refunded"]) == refund == D("5.00")
    assert tillpoint.payments[reference]["status"] == "partially_refunded"
    assert erp_client.post(f"/api/v1/finance/invoices/{credit_note_id}/refund"
                           ).status_code == 409
    with books.transaction() as session:
        assert session.get(Invoice, invoice.id).state == InvoiceState.PAID
        assert session.get(Invoice, credit_note_id).residual == 0
        assert balance(session, "1150") == D("19.99") - D("5.00")


def test_a_declined_card_is_a_conflict_and_records_nothing(
        books, shop, place, ship, erp_client, tillpoint, account):
    order = place([(shop["mug"], "2", "12.50", "0.19")])  # 29.75
    ship(order["id"])
    invoice = _invoice_of(books, order["id"])
    tillpoint.decline_amounts.add(D("29.75"))
    declined = erp_client.post(f"/api/v1/finance/invoices/{invoice.id}/take-payment",
                               json={"account": account})
    assert declined.status_code == 409
    assert "card_declined" in declined.json()["detail"]
    with books.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


def test_a_provider_side_capture_arrives_as_a_signed_webhook_handled_once(
        books, shop, place, ship, erp_client, tillpoint, account):
    order = place([(shop["mug"], "2", "12.50", "0.19")])  # 29.75
    ship(order["id"])
    invoice = _invoice_of(books, order["id"])
    authorized = erp_client.post(f"/api/v1/finance/invoices/{invoice.id}/authorize",
                                 json={"account": account})
    assert authorized.status_code == 201, authorized.text
    reference = authorized.json()["provider_reference"]
    tillpoint.capture(reference)  # the customer completes the check at Tillpoint
    body, headers = tillpoint.sent[-1]
    assert json.loads(body)["type"] == "payment.captured"
    hook = f"/api/v1/hooks/tillpoint/{account}"

    forged = erp_client.post(hook, content=body.replace(b"29.75", b"99.75"), headers=headers)
    first = erp_client.post(hook, content=body, headers=headers)
    # sent again later: a new timestamp and signature, the same event id
    resent = erp_client.post(hook, content=body, headers=tillpoint.signed_headers(
        body, timestamp=int(headers["Tillpoint-Timestamp"]) + 5))

    assert forged.status_code == 401
    assert first.status_code == 200, first.text
    assert first.json()["duplicate"] is False
    assert first.json()["event_id"] == json.loads(body)["id"]  # the provider's event id
    assert resent.status_code == 200 and resent.json()["duplicate"] is True, resent.text
    with books.transaction() as session:
        assert session.get(Invoice, invoice.id).state == InvoiceState.PAID
        assert balance(session, "1150") == D("29.75")  # once
