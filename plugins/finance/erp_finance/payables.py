"""What the company owes: supplier bills and carrier invoices as open items, and paying them.

Booking a bill or a carrier invoice (``purchases``) opens a ``Payable`` for its total,
with its creditor, date and due date. Paying it (by bank or cash) posts payable against
the money account and lowers its open amount, which never goes below zero (the row is
locked and the amount checked; a CHECK constraint backs it). A payable in a foreign
currency was booked at the rate of its date; paying it at another rate books the realized
exchange gain or loss in the same entry. The payable aging (``statements``) reads these
open amounts, as the receivable aging reads the invoices'.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_finance.accounts import AccountRole, role_accounts
from erp_finance.currencies import RATE_TYPE, rate_on
from erp_finance.ledger import EntryDraft, LineDraft, post_entry
from erp_finance.money import ZERO, cents
from erp_sdk import (
    NON_NEGATIVE,
    Base,
    ConflictError,
    Money,
    NotFoundError,
    RecordMixin,
    ValidationError,
)

BANK_JOURNAL = "BNK"


class Payable(RecordMixin, Base):
    """An amount owed to a creditor: a supplier (``supplier_id``, the supply plugin's) or a
    carrier (by name), from the document ``origin`` names."""

    __tablename__ = "finance_payable"
    __table_args__ = (sa.UniqueConstraint("origin"),
                      sa.CheckConstraint("residual >= 0", name="residual_not_negative"),
                      sa.CheckConstraint("residual <= total", name="residual_within_total"))

    origin: Mapped[str] = mapped_column(sa.String(80))
    number: Mapped[str] = mapped_column(sa.String(120), index=True)
    creditor: Mapped[str] = mapped_column(sa.String(120), index=True)
    supplier_id: Mapped[int | None] = mapped_column(index=True)
    date: Mapped[dt.date]
    due_date: Mapped[dt.date] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    rate: Mapped[Decimal] = mapped_column(RATE_TYPE)
    total: Mapped[Money] = mapped_column(info=NON_NEGATIVE)
    residual: Mapped[Money] = mapped_column(info=NON_NEGATIVE)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_entry.id"))


class PayablePayment(Base):
    """One payment of (part of) a payable, with the entry that posted it."""

    __tablename__ = "finance_payable_payment"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="positive_amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payable_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_payable.id"), index=True)
    amount: Mapped[Money]
    rate: Mapped[Decimal] = mapped_column(RATE_TYPE)
    date: Mapped[dt.date]
    reference: Mapped[str | None] = mapped_column(sa.String(120))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_entry.id"))


@attrs.frozen
class PayableDraft:
    origin: str
    number: str
    creditor: str
    date: dt.date
    due_date: dt.date
    currency: str
    rate: Decimal
    total: Decimal
    entry_id: int
    supplier_id: int | None = None


def open_payable(session: Session, draft: PayableDraft) -> Payable:
    payable = Payable(origin=draft.origin, number=draft.number, creditor=draft.creditor,
                      supplier_id=draft.supplier_id, date=draft.date,
                      due_date=max(draft.due_date, draft.date), currency=draft.currency.upper(),
                      rate=draft.rate, total=draft.total, residual=draft.total,
                      entry_id=draft.entry_id, version=1)
    session.add(payable)
    session.flush()
    return payable


def pay_payable(session: Session, payable_id: int, amount: Decimal | None, day: dt.date,
                account_role: AccountRole = AccountRole.BANK,
                reference: str | None = None) -> PayablePayment:
    """Pay (part of) a payable from the bank or cash account; ``None``: all that is open."""
    payable = session.get(Payable, payable_id, with_for_update={"key_share": True})
    if payable is None:
        raise NotFoundError(f"payable {payable_id} does not exist")
    session.refresh(payable)
    amount = payable.residual if amount is None else amount
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError("a payment is in cents", {"amount": "at most 2 decimals"})
    if amount <= 0 or amount > payable.residual:
        raise ConflictError(f"{payable.number} has {payable.residual} open: pay between 0"
                            f" and {payable.residual}")
    if day < payable.date:
        raise ValidationError(f"{payable.number} is dated {payable.date}: it is paid on or"
                              " after", {"date": "before the payable"})
    roles = role_accounts(session)
    rate = rate_on(session, payable.currency, day)
    carried, paid = cents(amount * payable.rate), cents(amount * rate)
    label = f"{payable.creditor} {payable.number}"[:200]
    lines = [LineDraft(roles[AccountRole.PAYABLE], debit=carried, amount=amount,
                       partner_id=payable.supplier_id, label=label),
             LineDraft(roles[account_role], credit=paid, amount=-amount, label=label)]
    # Owing at the booked rate and paying at today's: paying more is a loss.
    if paid != carried:
        loss = paid > carried
        size = abs(paid - carried)
        lines.append(LineDraft(roles[AccountRole.EXCHANGE_LOSS if loss
                                     else AccountRole.EXCHANGE_GAIN],
                               debit=size if loss else ZERO, credit=ZERO if loss else size,
                               amount=ZERO, label=f"exchange difference {payable.number}"))
    posted = post_entry(session, EntryDraft(BANK_JOURNAL, day, lines, currency=payable.currency,
                                            ref=(reference or payable.number)[:120]))
    payable.residual -= amount
    payable.version += 1
    payment = PayablePayment(payable_id=payable.id, amount=amount, rate=rate, date=day,
                             reference=reference, entry_id=posted.id)
    session.add(payment)
    session.flush()
    return payment
