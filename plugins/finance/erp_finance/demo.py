"""Demo data for ``erp demo``: books that have something real to show.

The generic chart in EUR with this year's fiscal year; the opening stock the inventory
demo received is booked; then the first ten confirmed demo orders are shipped through
the order workflow (so they are invoiced and their cost of goods sold is booked, as any
shipment is), two thirds of those invoices are paid, and a manual entry records the
owners' capital. Where orders ship only through another plugin (logistics refuses the
order's own ``ship``: its goods leave in shipments), that plugin's demo ships them and
their invoices stay open. ``erp finance verify`` and every statement then have real entries.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_finance.accounts import AccountRole, Books, account_by_code, role_account
from erp_finance.charts import setup_books
from erp_finance.invoices import Invoice, InvoiceKind
from erp_finance.ledger import EntryDraft, LineDraft, post_entry
from erp_finance.payments import PaymentDraft, auto_match, record_payment
from erp_finance.stock import book_pending_moves
from erp_orders.order import Order, OrderState
from erp_sdk import Context, Kernel, Principal, TransitionVetoed, utcnow

SHIPPED_ORDERS = 10
CAPITAL = Decimal("50000.00")


def load_demo_data(session: Session, kernel: Kernel) -> None:
    if session.scalar(sa.select(Books.id).limit(1)) is not None:
        return
    today = utcnow().date()
    setup_books(session, "generic", currency="EUR", year=today.year,
                company_name="Demo Trading Ltd")
    post_entry(session, EntryDraft("GEN", today.replace(month=1, day=1), [
        LineDraft(role_account(session, AccountRole.BANK), debit=CAPITAL, label="capital paid in"),
        LineDraft(account_by_code(session, "3100").id, credit=CAPITAL, label="share capital")],
        ref="opening capital"))
    book_pending_moves(session)
    ctx = Context(kernel, session, Principal.system("demo"))
    confirmed = session.scalars(sa.select(Order.id).where(Order.state == OrderState.CONFIRMED)
                                .order_by(Order.id).limit(SHIPPED_ORDERS)).all()
    for order_id in confirmed:
        try:
            ctx.fire("orders.order", order_id, "ship", read_back=False)
        except TransitionVetoed:  # refused before anything was written
            break
    invoices = session.scalars(sa.select(Invoice).where(Invoice.kind == InvoiceKind.INVOICE)
                               .order_by(Invoice.id)).all()
    for index, invoice in enumerate(invoices):
        if index % 3 == 2:
            continue
        payment = record_payment(session, PaymentDraft(
            invoice.customer_id, invoice.total, invoice.currency, invoice.date,
            reference=invoice.number))
        auto_match(session, payment.id)
    session.flush()
