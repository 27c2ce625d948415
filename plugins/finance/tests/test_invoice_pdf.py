"""An invoice as a PDF through the API, read back with a PDF library: the customer (a name
outside Latin-1), number, dates, lines, taxes and totals are in the text."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from erp_finance.invoices import Invoice, InvoiceKind
from erp_orders.returns import ReturnLineRequest, request_return

NAME = "Zoë Łukasiewicz 李雷"


def _text(pdf_bytes: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_bytes))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def invoiced(books, shop, place, ship):
    """4 tea at 4.20 and 1 mug at 12.50, 19 % tax, 4.90 shipping, shipped: one invoice."""
    with books.context() as ctx:
        ctx.records("crm.customer").update(shop["customer"], {"name": NAME})
    order = place([(shop["tea"], "4", "4.20", "0.19"), (shop["mug"], "1", "12.50", "0.19")],
                  shipping="4.90")
    ship(order["id"])
    with books.transaction() as session:
        invoice = session.scalar(sa.select(Invoice).where(Invoice.order_id == order["id"]))
        session.expunge(invoice)
    return order, invoice


def test_an_invoice_is_a_pdf_with_its_customer_lines_taxes_and_totals(invoiced, erp_client):
    order, invoice = invoiced
    response = erp_client.get(f"/api/v1/finance/invoices/{invoice.id}/pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = _text(response.content)
    flat = re.sub(r"[\s\x00]+", "", text)
    assert "Łukasiewicz" in text and "Zoë" in text
    assert "李雷" in flat  # CJK text comes from the fallback font, in runs of its own
    assert f"Invoice {invoice.number}" in text
    assert f"Date: {invoice.date.isoformat()}" in text
    assert f"Due date: {invoice.due_date.isoformat()}" in text
    assert f"Order: {order['number']}" in text
    assert "1 Main St" in text and "75001 Paris" in text
    assert "Tax 19 %" in text
    # 16.80 + 12.50 at 19 % (3.19 + 2.38 per line) and 4.90 shipping untaxed
    assert (invoice.untaxed, invoice.tax, invoice.total) == (
        Decimal("34.20"), Decimal("5.57"), Decimal("39.77"))
    assert "Tax 19 % on 29.30 5.57" in text
    assert "Untaxed 34.20" in text and "Total EUR 39.77" in text
    assert "Paid 0.00" in text and "Open 39.77" in text
    assert "4 4.20 19 % 16.80 3.19" in text and "1 12.50 19 % 12.50 2.38" in text


def test_a_credit_note_pdf_names_the_invoice_it_refers_to(invoiced, books, erp_client):
    order, invoice = invoiced
    with books.context() as ctx:
        lines = ctx.records("orders.order_line").list([("order_id", str(order["id"]))])["items"]
        returned = request_return(ctx, order["id"], [ReturnLineRequest(lines[0]["id"],
                                                                        Decimal(1))])
        for transition in ("approve", "receive", "refund"):
            ctx.fire("orders.return_request", returned["id"], transition)
    with books.transaction() as session:
        credit_note = session.scalar(sa.select(Invoice).where(
            Invoice.kind == InvoiceKind.CREDIT_NOTE))
        number, total = credit_note.number, credit_note.total
    response = erp_client.get(f"/api/v1/finance/invoices/{credit_note.id}/pdf")
    text = _text(response.content)
    assert f"Credit note {number}" in text
    assert f"Refers to invoice: {invoice.number}" in text
    assert f"{total:,.2f}" in text


def test_the_pdf_route_declares_its_media_type_and_refuses_unknown_invoices(
        invoiced, erp_client, erp_client_for):
    schema = erp_client.get("/schema/openapi.json").json()
    route = schema["paths"]["/api/v1/finance/invoices/{invoice_id}/pdf"]["get"]
    assert "application/pdf" in route["responses"]["200"]["content"]
    missing = erp_client.get("/api/v1/finance/invoices/999999/pdf")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    _, invoice = invoiced
    assert erp_client_for("finance.viewer").get(
        f"/api/v1/finance/invoices/{invoice.id}/pdf").status_code == 200
    assert erp_client_for().get(f"/api/v1/finance/invoices/{invoice.id}/pdf"
                                ).status_code == 403
