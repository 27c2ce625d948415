"""Period-end revaluation of open foreign-currency documents, reversed the next day.

On the last day of a period every open invoice and credit note in a foreign currency is
valued again at that day's rate: the difference to the carrying amount (its open amount
at the document's own rate) goes to exchange gain or loss, against the receivable with
the customer as partner. The same entry is reversed on the first day of the next period,
so a later payment realizes its difference against the document's own rate exactly once
(ERPNext booked it twice or in the wrong direction: #56648, #43327, PR#57734). Revaluing a
day twice is refused.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_finance.accounts import AccountRole, books, role_accounts
from erp_finance.currencies import rate_on
from erp_finance.invoices import Invoice, InvoiceKind
from erp_finance.ledger import Entry, EntryDraft, LineDraft, PostedEntry, post_entry, reverse_entry
from erp_finance.money import ZERO, cents
from erp_sdk import ConflictError

GENERAL_JOURNAL = "GEN"


def revalue_open_items(session: Session, day: dt.date) -> list[PostedEntry]:
    """Post the revaluation on ``day`` (one entry per currency) and its reversal on the
    next day; returns the entries posted."""
    origin = f"finance.revaluation:{day.isoformat()}"
    if session.scalar(sa.select(Entry.id).where(Entry.origin == origin).limit(1)):
        raise ConflictError(f"open items were already revalued on {day}")
    functional = books(session).currency
    roles = role_accounts(session)
    by_currency: dict[str, list[LineDraft]] = {}
    for invoice in session.scalars(sa.select(Invoice).where(
            Invoice.residual > 0, Invoice.currency != functional, Invoice.date <= day)
            .order_by(Invoice.id)):
        sign = 1 if invoice.kind == InvoiceKind.INVOICE else -1
        carrying = cents(invoice.residual * invoice.rate)
        revalued = cents(invoice.residual * rate_on(session, invoice.currency, day))
        difference = (revalued - carrying) * sign
        if not difference:
            continue
        size = abs(difference)
        gain = difference > 0
        label = f"revaluation of {invoice.number}"
        by_currency.setdefault(invoice.currency, []).extend([
            LineDraft(roles[AccountRole.RECEIVABLE], debit=size if gain else ZERO,
                      credit=ZERO if gain else size, amount=ZERO,
                      partner_id=invoice.customer_id, order_id=invoice.order_id, label=label),
            LineDraft(roles[AccountRole.EXCHANGE_GAIN if gain else AccountRole.EXCHANGE_LOSS],
                      debit=ZERO if gain else size, credit=size if gain else ZERO,
                      amount=ZERO, order_id=invoice.order_id, label=label)])
    posted = []
    for currency, lines in sorted(by_currency.items()):
        entry = post_entry(session, EntryDraft(GENERAL_JOURNAL, day, lines, currency=currency,
                                               ref=f"revaluation {currency} {day}",
                                               origin=origin))
        posted.append(entry)
        posted.append(reverse_entry(session, entry.id, day + dt.timedelta(days=1),
                                    ref=f"reversal of the revaluation {currency} {day}"))
    return posted
