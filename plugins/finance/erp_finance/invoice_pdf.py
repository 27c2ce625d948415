"""An invoice or credit note as a PDF document (fpdf2): the company, the customer and its
billing address, number and dates, lines, taxes per rate, totals, what is paid and open.

Names and addresses are anyone's script, so the text is set in a Unicode TrueType font
(embedded, subset to the characters used): the file ``ERP_FINANCE_INVOICE_FONT`` names,
else DejaVu Sans where the system has it; Chinese, Japanese and Korean text falls back to
Noto Sans CJK (Debian's ``fonts-noto-cjk``), loaded only for a document that needs it.
Without any of them the PDF core font Helvetica is used, which covers Latin-1 only
(other characters print as ``?``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_crm.customers import Customer
from erp_finance.accounts import books
from erp_finance.invoices import Invoice, InvoiceKind, InvoiceLine
from erp_finance.money import ZERO
from erp_orders.order import Order
from erp_sdk import NotFoundError

MEDIA_TYPE = "application/pdf"
FONT_SETTING = "ERP_FINANCE_INVOICE_FONT"
FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
         "/usr/share/fonts/dejavu/DejaVuSans.ttf",
         "/usr/share/fonts/TTF/DejaVuSans.ttf")
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc")
CJK_SIMPLIFIED_CHINESE = 2
"""The face of the Noto Sans CJK collection with the simplified Chinese glyph forms."""


def _first_file(paths: Iterable[str | None]) -> str | None:
    return next((path for path in paths if path and Path(path).is_file()), None)


def _needs_cjk(texts: Iterable[str]) -> bool:
    return any(ord(char) >= 0x2E80 for text in texts for char in text)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"


def invoice_document(session: Session, invoice_id: int) -> dict[str, Any]:
    """What the PDF shows, read from the books (also what a test compares it with)."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFoundError(f"invoice {invoice_id} does not exist")
    customer = session.get(Customer, invoice.customer_id)
    order = session.get(Order, invoice.order_id) if invoice.order_id else None
    address: list[str] = []
    if order is not None:
        prefix = "bill" if order.bill_line1 else "ship"

        def part(name: str) -> str | None:
            return getattr(order, f"{prefix}_{name}")

        address = [line for line in (
            part("name"), part("line1"), part("line2"),
            " ".join(p for p in (part("postal_code"), part("city")) if p),
            part("region"), part("country")) if line]
    refers_to = session.get(Invoice, invoice.refers_to_id) if invoice.refers_to_id else None
    lines = session.scalars(sa.select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                            .order_by(InvoiceLine.id)).all()
    taxes: dict[Decimal, list[Decimal]] = {}
    for line in lines:
        net_and_tax = taxes.setdefault(line.tax_rate, [ZERO, ZERO])
        net_and_tax[0] += line.net
        net_and_tax[1] += line.tax
    return {
        "title": "Credit note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "Invoice",
        "number": invoice.number, "date": invoice.date, "due_date": invoice.due_date,
        "company": books(session).company_name,
        "customer": customer.name if customer else f"customer {invoice.customer_id}",
        "address": address, "order": order.number if order else None,
        "refers_to": refers_to.number if refers_to else None, "currency": invoice.currency,
        "lines": [{"description": line.description or "", "quantity": line.quantity,
                   "unit_price": (line.net / line.quantity if line.quantity else line.net),
                   "tax_rate": line.tax_rate, "net": line.net, "tax": line.tax}
                  for line in lines],
        "taxes": [{"rate": rate, "base": base, "tax": tax}
                  for rate, (base, tax) in sorted(taxes.items())],
        "untaxed": invoice.untaxed, "tax": invoice.tax, "total": invoice.total,
        "paid": invoice.total - invoice.residual, "open": invoice.residual,
    }


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"


def render_invoice_pdf(document: dict[str, Any]) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format="A4")
    pdf.set_title(f"{document['title']} {document['number']}")
    pdf.set_creator("erp-finance")
    font = _first_file([os.environ.get(FONT_SETTING), *FONTS])
    texts = [document["customer"], document["company"], *document["address"],
             *(line["description"] for line in document["lines"])]
    family = "Helvetica"
    if font:
        pdf.add_font("text", fname=font)
        family = "text"
        cjk = _first_file(CJK_FONTS) if _needs_cjk(texts) else None
        if cjk:
            pdf.add_font("cjk", fname=cjk, collection_font_number=CJK_SIMPLIFIED_CHINESE)
            pdf.set_fallback_fonts(["cjk"])
    else:
        texts_latin = {text: text.encode("latin-1", "replace").decode("latin-1")
                       for text in texts}
        document = {**document, "customer": texts_latin[document["customer"]],
                    "company": texts_latin[document["company"]],
                    "address": [texts_latin[a] for a in document["address"]],
                    "lines": [{**line, "description": texts_latin[line["description"]]}
                              for line in document["lines"]]}
    currency = document["currency"]
    pdf.add_page()
    pdf.set_auto_page_break(True, margin=15)
    width = pdf.epw
    below = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

    pdf.set_font(family, size=16)
    pdf.cell(width, 9, f"{document['title']} {document['number']}", **below)
    pdf.set_font(family, size=10)
    pdf.cell(width, 6, document["company"], **below)
    pdf.ln(4)
    pdf.cell(width / 2, 5, "Bill to:")
    pdf.cell(width / 2, 5, f"Date: {document['date'].isoformat()}", **below)
    details = [f"Due date: {document['due_date'].isoformat()}"]
    if document["order"]:
        details.append(f"Order: {document['order']}")
    if document["refers_to"]:
        details.append(f"Refers to invoice: {document['refers_to']}")
    details.append(f"Currency: {currency}")
    left = [document["customer"], *document["address"]]
    for row in range(max(len(left), len(details))):
        pdf.cell(width / 2, 5, left[row] if row < len(left) else "")
        pdf.cell(width / 2, 5, details[row] if row < len(details) else "", **below)
    pdf.ln(6)

    columns = (("Description", 0.40, "L"), ("Quantity", 0.12, "R"), ("Unit price", 0.14, "R"),
               ("Tax", 0.10, "R"), ("Net", 0.12, "R"), ("Tax amount", 0.12, "R"))
    pdf.set_fill_color(230, 230, 230)
    for title, share, align in columns:
        pdf.cell(width * share, 6, title, border="B", align=align, fill=True)
    pdf.ln()
    for line in document["lines"]:
        values = (line["description"], _quantity(line["quantity"]),
                  _money(line["unit_price"]), _percent(line["tax_rate"]), _money(line["net"]),
                  _money(line["tax"]))
        for value, (_, share, align) in zip(values, columns, strict=True):
            pdf.cell(width * share, 6, value, align=align)
        pdf.ln()
    pdf.ln(4)

    label, amount = width * 0.76, width * 0.24
    for tax in document["taxes"]:
        pdf.cell(label, 5, f"Tax {_percent(tax['rate'])} on {_money(tax['base'])}",
                 align="R")
        pdf.cell(amount, 5, _money(tax["tax"]), align="R", **below)
    totals = [("Untaxed", document["untaxed"]), ("Tax", document["tax"]),
              (f"Total {currency}", document["total"]), ("Paid", document["paid"]),
              ("Open", document["open"])]
    for name, value in totals:
        pdf.cell(label, 6, name, align="R")
        pdf.cell(amount, 6, _money(value), align="R", **below)
    return bytes(pdf.output())
