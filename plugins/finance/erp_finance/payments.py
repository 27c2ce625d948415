"""Payments received and made, and their matching with invoices and credit notes.

A payment posts at once: bank (or cash, or a provider's clearing account) against the
customer's receivable. Matching applies part of a payment to a document: both sides'
open amounts go down by the matched amount and never below zero (the rows are locked
and the amount checked against both, so concurrent matches cannot overdraw either).
A document in a foreign currency carries the rate of its date; a payment of it at
another rate leaves a realized exchange difference on the receivable, posted when they
are matched: gain or loss, with the document's currency and no amount in it.

Automatic matching pairs a payment with the open document of the same customer whose
number or order number is the payment's reference and whose open amount is the
payment's (in full or what the payment still holds).
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from erp_finance.accounts import AccountRole, book_settings, role_accounts
from erp_finance.currencies import RATE_TYPE, rate_on
from erp_finance.invoices import Invoice, InvoiceKind, InvoiceState
from erp_finance.ledger import (
    Document,
    EntryDraft,
    LineDraft,
    post_entry,
    post_prepared,
    prepare_entry,
)
from erp_finance.money import ZERO, cents
from erp_orders.order import Order
from erp_sdk import (
    NON_NEGATIVE,
    Base,
    ConflictError,
    Money,
    NotFoundError,
    RecordMixin,
    UtcDateTime,
    ValidationError,
    attach_loaded,
    insert_rows,
    utcnow,
)

BANK_JOURNAL = "BNK"


class PaymentDirection(enum.StrEnum):
    RECEIVED = "received"
    PAID = "paid"


class Payment(RecordMixin, Base):
    __tablename__ = "finance_payment"
    __table_args__ = (sa.UniqueConstraint("provider", "provider_reference"),
                      sa.CheckConstraint("unmatched >= 0", name="unmatched_not_negative"),)

    # Both written by the posting of the payment's entry, in its transaction (``receive_payment``).
    number: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    direction: Mapped[str] = mapped_column(sa.String(16))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("crm_customer.id"), index=True)
    amount: Mapped[Money] = mapped_column(info=NON_NEGATIVE)
    currency: Mapped[str] = mapped_column(sa.String(3))
    rate: Mapped[Decimal] = mapped_column(RATE_TYPE)
    date: Mapped[dt.date]
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_account.id"))
    reference: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    provider: Mapped[str | None] = mapped_column(sa.String(60))
    provider_reference: Mapped[str | None] = mapped_column(sa.String(120))
    unmatched: Mapped[Money]
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finance_entry.id"))


class PaymentMatch(Base):
    __tablename__ = "finance_payment_match"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="positive_amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_payment.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_invoice.id"), index=True)
    amount: Mapped[Money]
    exchange_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finance_entry.id"))
    matched_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)


@attrs.frozen
class PaymentDraft:
    customer_id: int
    amount: Decimal
    currency: str
    date: dt.date
    direction: PaymentDirection = PaymentDirection.RECEIVED
    reference: str | None = None
    account_role: AccountRole = AccountRole.BANK
    provider: str | None = None
    provider_reference: str | None = None


def record_payment(session: Session, draft: PaymentDraft) -> Payment:
    """Post a payment: bank (or the given role's account) against the receivable."""
    return receive_payment(session, draft, match=False)[0]


def receive_payment(session: Session, draft: PaymentDraft, *, match: bool
                    ) -> tuple[Payment, list[PaymentMatch]]:
    """Post a payment and, with ``match``, match it by its reference (``auto_match``).

    The payment is written (and, in the books' currency, matched) before the statement
    that takes the bank journal's number, which numbers it (``ledger.Document``): the
    journal's sequence, where concurrent payments queue, is held for that statement and
    the commit. A foreign payment is numbered before it is matched, since its exchange
    difference, posted by the matching, names it."""
    if draft.amount <= 0 or draft.amount != draft.amount.quantize(Decimal("0.01")):
        raise ValidationError("a payment is a positive amount in cents",
                              {"amount": "positive, at most 2 decimals"})
    roles = role_accounts(session)
    rate = rate_on(session, draft.currency, draft.date)
    functional = cents(draft.amount * rate)
    received = draft.direction == PaymentDirection.RECEIVED
    money_account = roles[draft.account_role]
    receivable = roles[AccountRole.RECEIVABLE]
    lines = [LineDraft(money_account, debit=functional if received else ZERO,
                       credit=ZERO if received else functional,
                       amount=draft.amount if received else -draft.amount,
                       label=draft.reference),
             LineDraft(receivable, debit=ZERO if received else functional,
                       credit=functional if received else ZERO,
                       amount=-draft.amount if received else draft.amount,
                       partner_id=draft.customer_id, label=draft.reference)]
    entry = prepare_entry(session, EntryDraft(BANK_JOURNAL, draft.date, lines,
                                              currency=draft.currency, ref=draft.reference))
    now = utcnow()
    values = {"number": None, "direction": draft.direction, "customer_id": draft.customer_id,
              "amount": draft.amount, "currency": draft.currency.upper(), "rate": rate,
              "date": draft.date, "account_id": money_account, "reference": draft.reference,
              "provider": draft.provider, "provider_reference": draft.provider_reference,
              "unmatched": draft.amount, "entry_id": None, "version": 1, "created_at": now,
              "updated_at": now}
    [values["id"]] = insert_rows(session, Payment, [values])
    [payment] = attach_loaded(session, Payment, [values])
    document = Document(Payment.__table__, values["id"])
    matches: list[PaymentMatch] = []
    foreign = entry.currency != book_settings(session).currency
    if match and not foreign:
        matches = _auto_match(session, payment)
    [posted] = post_prepared(session, [(entry, document)])
    set_committed_value(payment, "number", posted.name)
    set_committed_value(payment, "entry_id", posted.id)
    if match and foreign:
        matches = _auto_match(session, payment)
    return payment, matches


_LOCKED = {"key_share": True}


def lock_document(session: Session, invoice_id: int) -> None:
    """Lock an invoice or credit note before a payment of it takes the bank journal's
    number: every path that records and matches a payment (``receive_payment`` too) takes
    the document first and the journal second, so two never wait on each other."""
    session.execute(sa.select(Invoice.id).where(Invoice.id == invoice_id)
                    .with_for_update(**_LOCKED))


def match(session: Session, payment_id: int, invoice_id: int,
          amount: Decimal | None = None) -> PaymentMatch:
    """Apply (part of) a payment to an invoice or credit note; ``None``: as much as both
    still hold. Posts the realized exchange difference of a foreign document."""
    payment = session.get(Payment, payment_id, with_for_update=_LOCKED, populate_existing=True)
    if payment is None:
        raise NotFoundError(f"payment {payment_id} does not exist")
    invoice = session.get(Invoice, invoice_id, with_for_update=_LOCKED, populate_existing=True)
    if invoice is None:
        raise NotFoundError(f"invoice {invoice_id} does not exist")
    return _apply(session, payment, invoice, amount)


def _settle(table: sa.Table, *columns: str) -> sa.Update:
    return (sa.update(table).where(table.c.id == sa.bindparam("record"))
            .values({name: sa.bindparam(name, type_=table.c[name].type) for name in columns}))


_SETTLE_PAYMENT = _settle(Payment.__table__, "unmatched", "version", "updated_at")
_SETTLE_INVOICE = _settle(Invoice.__table__, "residual", "state", "version", "updated_at")


def _apply(session: Session, payment: Payment, invoice: Invoice,
           amount: Decimal | None) -> PaymentMatch:
    """``match`` of a payment and a document both locked and read as they are now."""
    expected = (PaymentDirection.RECEIVED if invoice.kind == InvoiceKind.INVOICE
                else PaymentDirection.PAID)
    if payment.direction != expected:
        raise ConflictError(f"a {payment.direction} payment does not settle a {invoice.kind}")
    if payment.customer_id != invoice.customer_id:
        raise ConflictError(f"payment {payment.number} and {invoice.number} are of different"
                            " customers")
    if payment.currency != invoice.currency:
        raise ConflictError(f"payment {payment.number} is in {payment.currency},"
                            f" {invoice.number} in {invoice.currency}")
    amount = min(payment.unmatched, invoice.residual) if amount is None else amount
    if amount <= 0 or amount > payment.unmatched or amount > invoice.residual:
        raise ConflictError(f"can match between 0 and {min(payment.unmatched, invoice.residual)}"
                            f" of {payment.number} with {invoice.number}")
    exchange_entry = _realized_exchange(session, payment, invoice, amount)
    now = utcnow()
    left = invoice.residual - amount
    changes = [(payment, _SETTLE_PAYMENT, {"unmatched": payment.unmatched - amount,
                                           "version": payment.version + 1, "updated_at": now}),
               (invoice, _SETTLE_INVOICE, {"residual": left, "version": invoice.version + 1,
                                           "updated_at": now, "state": InvoiceState.PAID
                                           if left == 0 else invoice.state})]
    session.flush()  # written by statements of their own, after anything pending of them
    for record, statement, values in changes:
        session.execute(statement, {"record": record.id, **values})
        for name, value in values.items():
            set_committed_value(record, name, value)
    row = {"payment_id": payment.id, "invoice_id": invoice.id, "amount": amount,
           "exchange_entry_id": exchange_entry, "matched_at": now}
    [row["id"]] = insert_rows(session, PaymentMatch, [row])
    [matched] = attach_loaded(session, PaymentMatch, [row])
    return matched


def _realized_exchange(session: Session, payment: Payment, invoice: Invoice,
                       amount: Decimal) -> int | None:
    difference = cents(amount * payment.rate) - cents(amount * invoice.rate)
    if not difference:
        return None
    roles = role_accounts(session)
    # Received: the receivable was debited at the invoice's rate and credited at the
    # payment's; a higher payment rate over-credited it (a gain). Paid: the reverse.
    gain = difference > 0 if payment.direction == PaymentDirection.RECEIVED else difference < 0
    size = abs(difference)
    receivable = LineDraft(roles[AccountRole.RECEIVABLE], debit=size if gain else ZERO,
                           credit=ZERO if gain else size, amount=ZERO,
                           partner_id=payment.customer_id, order_id=invoice.order_id,
                           label=f"exchange difference {invoice.number}")
    result = LineDraft(roles[AccountRole.EXCHANGE_GAIN if gain else AccountRole.EXCHANGE_LOSS],
                       debit=ZERO if gain else size, credit=size if gain else ZERO,
                       amount=ZERO, order_id=invoice.order_id,
                       label=f"exchange difference {invoice.number}")
    posted = post_entry(session, EntryDraft(BANK_JOURNAL, max(payment.date, invoice.date),
                                            [receivable, result], currency=invoice.currency,
                                            ref=f"{payment.number} / {invoice.number}"))
    return posted.id


_CANDIDATES = (
    # locked and read as they are now by the statement that finds them
    sa.select(Invoice).outerjoin(Order, Order.id == Invoice.order_id)
    .where(Invoice.customer_id == sa.bindparam("customer"), Invoice.kind == sa.bindparam("kind"),
           Invoice.currency == sa.bindparam("currency"), Invoice.residual > 0,
           sa.or_(Invoice.number == sa.bindparam("reference"),
                  Order.number == sa.bindparam("reference")))
    .order_by(Invoice.date, Invoice.id).with_for_update(key_share=True, of=Invoice)
    .execution_options(populate_existing=True))


def auto_match(session: Session, payment_id: int) -> list[PaymentMatch]:
    """Match a payment with the open document of its customer named by its reference (the
    document's or its order's number) whose open amount it covers."""
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFoundError(f"payment {payment_id} does not exist")
    return _auto_match(session, payment, lock=True)


def _auto_match(session: Session, payment: Payment, *, lock: bool = False
                ) -> list[PaymentMatch]:
    """``auto_match``; ``lock``: lock the payment's row and read it as it is now, which a
    payment written by this transaction needs not."""
    if not payment.reference or not payment.unmatched:
        return []
    kind = (InvoiceKind.INVOICE if payment.direction == PaymentDirection.RECEIVED
            else InvoiceKind.CREDIT_NOTE)
    candidates = session.scalars(_CANDIDATES, {
        "customer": payment.customer_id, "kind": kind, "currency": payment.currency,
        "reference": payment.reference}).all()
    if not candidates:
        return []
    if lock:
        session.get(Payment, payment.id, with_for_update=_LOCKED, populate_existing=True)
    matches = []
    for invoice in candidates:
        if payment.unmatched == 0:
            break
        if invoice.residual <= payment.unmatched:
            matches.append(_apply(session, payment, invoice, invoice.residual))
    if not matches and len(candidates) == 1 and candidates[0].residual >= payment.unmatched:
        matches.append(_apply(session, payment, candidates[0], payment.unmatched))
    return matches


def receivable_residuals(session: Session) -> Decimal:
    """Open invoices less open credit notes and unmatched payments, in the functional
    currency at the documents' rates: what the receivable account holds when every
    difference of rate was realized."""
    total = ZERO
    for invoice in session.scalars(sa.select(Invoice).where(Invoice.residual != 0)):
        sign = 1 if invoice.kind == InvoiceKind.INVOICE else -1
        total += sign * cents(invoice.residual * invoice.rate)
    for payment in session.scalars(sa.select(Payment).where(Payment.unmatched != 0)):
        sign = -1 if payment.direction == PaymentDirection.RECEIVED else 1
        total += sign * cents(payment.unmatched * payment.rate)
    return total
