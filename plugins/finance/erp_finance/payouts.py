"""Payouts of a payment provider or marketplace: split, posted and matched to invoices.

A payout is the money a provider sends the bank after keeping its fees and a reserve; its
lines (``erp_sdk.drivers.PayoutLine``) say what it is made of. Importing one (from the
provider's API through a driver implementing ``PaymentPayouts``, or from a CSV file the
marketplace gives) does, in one transaction:

- each **sale** is tied to the invoice it pays: through the payment finance recorded when
  it took that payment through the provider (same provider reference), or, for money
  finance did not see come in (a marketplace's sales), by the invoice or order number the
  line carries: then the payment is recorded on the provider's clearing account now and
  matched with the invoice;
- each **refund** is tied the same way to the refund payment finance recorded, or recorded
  now against the open credit note of the invoice the refunded payment paid;
- one entry then moves the payout out of the clearing account: bank (the payout's amount)
  and fees (an expense, ``payment_fees``) and reserves held (``provider_reserve``, an
  asset: money the provider still owes) against the clearing account (sales less refunds
  and adjustments); a reserve released is credited back to the reserve account.

What cannot be tied to a document stays on the clearing account and is reported as
unmatched, so the clearing account's balance is what is left to explain. A payout is
imported once per account (its provider id is unique there).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_finance.accounts import AccountRole, role_accounts
from erp_finance.charts import add_missing_role_accounts
from erp_finance.currencies import rate_on
from erp_finance.invoices import Invoice, InvoiceKind
from erp_finance.ledger import EntryDraft, LineDraft, post_entry
from erp_finance.money import ZERO, cents
from erp_finance.payments import (
    Payment,
    PaymentDirection,
    PaymentDraft,
    PaymentMatch,
    lock_document,
    match,
    record_payment,
)
from erp_orders.order import Order
from erp_sdk import Base, Money, RecordMixin, ValidationError
from erp_sdk.drivers import Payout, PayoutLine, PayoutLineKind

BANK_JOURNAL = "BNK"
K = PayoutLineKind


class ProviderPayout(RecordMixin, Base):
    """An imported payout and what it was made of (each sum signed as in the payout)."""

    __tablename__ = "finance_payout"
    __table_args__ = (sa.UniqueConstraint("account", "payout_id"),)

    account: Mapped[str] = mapped_column(sa.String(60))
    payout_id: Mapped[str] = mapped_column(sa.String(120))
    arrival_date: Mapped[dt.date] = mapped_column(index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[Money]
    sales: Mapped[Money]
    refunds: Mapped[Money]
    fees: Mapped[Money]
    reserves: Mapped[Money]
    """Held (negative) plus released (positive)."""
    adjustments: Mapped[Money]
    unmatched: Mapped[Money]
    """Sales and refunds tied to no document: left on the clearing account."""
    source: Mapped[str] = mapped_column(sa.String(16))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_entry.id"))


class ProviderPayoutLine(Base):
    __tablename__ = "finance_payout_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_payout.id",
                                                         ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    amount: Mapped[Money]
    payment_reference: Mapped[str | None] = mapped_column(sa.String(120))
    order_reference: Mapped[str | None] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.String(200))
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finance_payment.id"),
                                                   unique=True)
    """The payment this sale or refund is (one payout line per payment, ever)."""
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("finance_invoice.id"),
                                                   index=True)
    """The invoice (a sale) or credit note (a refund) it pays."""


def _linked(session: Session) -> Any:
    return sa.select(ProviderPayoutLine.payment_id).where(
        ProviderPayoutLine.payment_id.is_not(None))


def _document_named(session: Session, reference: str, kind: InvoiceKind) -> Invoice | None:
    """The open document of that kind whose number, or whose order's number, is
    ``reference``; the oldest first."""
    if not reference:
        return None
    return session.scalar(
        sa.select(Invoice).outerjoin(Order, Order.id == Invoice.order_id)
        .where(Invoice.kind == kind, Invoice.residual > 0,
               sa.or_(Invoice.number == reference, Order.number == reference))
        .order_by(Invoice.date, Invoice.id).limit(1))


def _first_match(session: Session, payment_id: int) -> int | None:
    return session.scalar(sa.select(PaymentMatch.invoice_id).where(
        PaymentMatch.payment_id == payment_id).order_by(PaymentMatch.id).limit(1))


def _tie_sale(session: Session, account: str, payout: Payout, index: int,
              line: PayoutLine) -> tuple[int | None, int | None]:
    """(payment, invoice) of a sale: the one finance recorded, or recorded now."""
    if line.payment_reference:
        known = session.scalar(sa.select(Payment).where(
            Payment.provider == account, Payment.provider_reference == line.payment_reference,
            Payment.direction == PaymentDirection.RECEIVED, Payment.id.not_in(_linked(session))))
        if known is not None:
            return known.id, _first_match(session, known.id)
    invoice = _document_named(session, line.order_reference, InvoiceKind.INVOICE)
    if invoice is None or invoice.currency != payout.currency:
        return None, None
    lock_document(session, invoice.id)
    payment = record_payment(session, PaymentDraft(
        invoice.customer_id, line.amount, payout.currency, payout.arrival_date,
        reference=invoice.number, account_role=AccountRole.PROVIDER_CLEARING,
        provider=account,
        provider_reference=line.payment_reference or f"{payout.payout_id}:{index}"))
    match(session, payment.id, invoice.id, min(line.amount, invoice.residual))
    return payment.id, invoice.id


def _tie_refund(session: Session, account: str, payout: Payout, index: int,
                line: PayoutLine) -> tuple[int | None, int | None]:
    """(payment, credit note) of a refund: the refund finance paid through the provider,
    or one recorded now against the credit note of the invoice the refunded sale paid."""
    amount = -line.amount
    if line.payment_reference:
        known = session.scalar(sa.select(Payment).where(
            Payment.provider == account,
            Payment.provider_reference.startswith(f"{line.payment_reference}:refund:"),
            Payment.direction == PaymentDirection.PAID, Payment.amount == amount,
            Payment.id.not_in(_linked(session))).order_by(Payment.id).limit(1))
        if known is not None:
            return known.id, _first_match(session, known.id)
    invoice_id = None
    if line.payment_reference:
        sale = session.scalar(sa.select(Payment.id).where(
            Payment.provider == account, Payment.provider_reference == line.payment_reference,
            Payment.direction == PaymentDirection.RECEIVED))
        invoice_id = _first_match(session, sale) if sale else None
    invoice = session.get(Invoice, invoice_id) if invoice_id else _document_named(
        session, line.order_reference, InvoiceKind.INVOICE)
    credit_note = session.scalar(
        sa.select(Invoice).where(Invoice.kind == InvoiceKind.CREDIT_NOTE,
                                 Invoice.refers_to_id == invoice.id, Invoice.residual > 0,
                                 Invoice.currency == payout.currency)
        .order_by(Invoice.id).limit(1)) if invoice is not None else None
    if credit_note is None:
        return None, None
    payment = record_payment(session, PaymentDraft(
        credit_note.customer_id, amount, payout.currency, payout.arrival_date,
        direction=PaymentDirection.PAID, reference=credit_note.number,
        account_role=AccountRole.PROVIDER_CLEARING, provider=account,
        provider_reference=f"{line.payment_reference or payout.payout_id}:refund:"
                           f"{payout.payout_id}:{index}"))
    match(session, payment.id, credit_note.id, min(amount, credit_note.residual))
    return payment.id, credit_note.id


def _check(payout: Payout) -> None:
    errors = {}
    total = sum((line.amount for line in payout.lines), ZERO)
    if total != payout.amount:
        errors["amount"] = f"the lines add up to {total}, not {payout.amount}"
    for index, line in enumerate(payout.lines):
        if line.amount != cents(line.amount):
            errors[f"lines[{index}].amount"] = "at most 2 decimals"
        wrong_sign = {K.SALE: line.amount < 0, K.RESERVE_RELEASE: line.amount < 0,
                      K.REFUND: line.amount > 0, K.FEE: line.amount > 0,
                      K.RESERVE: line.amount > 0}.get(line.kind, False)
        if wrong_sign:
            errors[f"lines[{index}].amount"] = f"a {line.kind.value} of {line.amount} has" \
                                               " the wrong sign"
    if errors:
        raise ValidationError(f"payout {payout.payout_id} does not add up", errors)


def import_payout(session: Session, account: str, payout: Payout, source: str = "provider"
                  ) -> ProviderPayout | None:
    """Tie, post and record one payout; ``None`` when it was imported before."""
    _check(payout)
    if session.scalar(sa.select(ProviderPayout.id).where(
            ProviderPayout.account == account,
            ProviderPayout.payout_id == payout.payout_id)) is not None:
        return None
    add_missing_role_accounts(session)
    roles = role_accounts(session)
    sums = dict.fromkeys(K, ZERO)
    tied: list[tuple[PayoutLine, int | None, int | None]] = []
    unmatched = ZERO
    for index, line in enumerate(payout.lines):
        sums[line.kind] += line.amount
        payment_id = invoice_id = None
        if line.kind == K.SALE:
            payment_id, invoice_id = _tie_sale(session, account, payout, index, line)
        elif line.kind == K.REFUND:
            payment_id, invoice_id = _tie_refund(session, account, payout, index, line)
        if line.kind in (K.SALE, K.REFUND) and payment_id is None:
            unmatched += line.amount
        tied.append((line, payment_id, invoice_id))
    rate = rate_on(session, payout.currency, payout.arrival_date)

    def post(role: AccountRole, amount: Decimal, label: str) -> LineDraft | None:
        """``amount`` in the payout's currency: positive a debit, negative a credit."""
        if not amount:
            return None
        functional = cents(abs(amount) * rate)
        return LineDraft(roles[role], debit=functional if amount > 0 else ZERO,
                         credit=functional if amount < 0 else ZERO, amount=amount,
                         label=f"{label} {payout.payout_id}"[:200])

    moved = sums[K.SALE] + sums[K.REFUND] + sums[K.ADJUSTMENT]
    lines = [post(AccountRole.BANK, payout.amount, "payout"),
             post(AccountRole.PAYMENT_FEES, -sums[K.FEE], "fees"),
             post(AccountRole.PROVIDER_RESERVE, -sums[K.RESERVE], "reserve held"),
             post(AccountRole.PROVIDER_RESERVE, -sums[K.RESERVE_RELEASE], "reserve released"),
             post(AccountRole.PROVIDER_CLEARING, -moved, "sales less refunds")]
    posted = post_entry(session, EntryDraft(
        BANK_JOURNAL, payout.arrival_date, [line for line in lines if line is not None],
        currency=payout.currency, ref=f"{account} {payout.payout_id}"[:120],
        origin=f"payout:{account}:{payout.payout_id}"[:80]))
    record = ProviderPayout(
        account=account, payout_id=payout.payout_id, arrival_date=payout.arrival_date,
        currency=payout.currency, amount=payout.amount, sales=sums[K.SALE],
        refunds=sums[K.REFUND], fees=sums[K.FEE],
        reserves=sums[K.RESERVE] + sums[K.RESERVE_RELEASE], adjustments=sums[K.ADJUSTMENT],
        unmatched=unmatched, source=source, entry_id=posted.id, version=1)
    session.add(record)
    session.flush()
    session.add_all(ProviderPayoutLine(
        payout_id=record.id, kind=line.kind.value, amount=line.amount,
        payment_reference=line.payment_reference or None,
        order_reference=line.order_reference or None, description=line.description or None,
        payment_id=payment_id, invoice_id=invoice_id) for line, payment_id, invoice_id in tied)
    session.flush()
    return record


CSV_COLUMNS = ("payout_id", "arrival_date", "currency", "kind", "amount")
"""Required; ``payment_reference``, ``order_reference`` and ``description`` may follow."""


def payouts_from_csv(text: str) -> list[Payout]:
    """A marketplace's payout report, one row per line: ``payout_id, arrival_date
    (YYYY-MM-DD), currency, kind (sale, refund, fee, reserve, reserve_release,
    adjustment), amount`` (signed as it moves the seller's money), and optionally
    ``payment_reference, order_reference, description``; a payout's amount is the sum of
    its rows. Every bad row is named (422)."""
    try:
        return _read_payouts_csv(text)
    except csv.Error as exc:
        raise ValidationError(f"the payout CSV cannot be read: {exc}",
                              {"csv": "not CSV"}) from None


LARGEST = Decimal(10) ** 13
"""A payout line's amount is less than this (the money columns' range)."""


def _read_payouts_csv(text: str) -> list[Payout]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [name for name in CSV_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(f"the payout CSV lacks the columns {', '.join(missing)}",
                              {"csv": f"columns: {', '.join(CSV_COLUMNS)}"})
    grouped: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for number, row in enumerate(reader, start=2):
        try:
            line = PayoutLine(K(row["kind"].strip()), Decimal(row["amount"].strip()),
                              (row.get("payment_reference") or "").strip(),
                              (row.get("order_reference") or "").strip(),
                              (row.get("description") or "").strip())
            if not line.amount.is_finite() or abs(line.amount) >= LARGEST:
                raise InvalidOperation
            day = dt.date.fromisoformat(row["arrival_date"].strip())
            currency = row["currency"].strip().upper()
            if len(currency) != 3 or not currency.isalpha():
                raise ValueError(currency)
        except (ValueError, InvalidOperation, AttributeError):
            errors[f"row {number}"] = "kind, amount, currency or arrival_date is not valid"
            continue
        key = (row["payout_id"] or "").strip()
        texts = {"payout_id": (key, 120), "payment_reference": (line.payment_reference, 120),
                 "order_reference": (line.order_reference, 120),
                 "description": (line.description, 200)}
        bad = [name for name, (value, size) in texts.items()
               if len(value) > size or not value.isprintable()] + ([] if key else ["payout_id"])
        if bad:
            errors[f"row {number}"] = f"{', '.join(bad)}: printable text, not too long"
            continue
        payout = grouped.setdefault(key, {"day": day, "currency": currency, "lines": []})
        if (payout["day"], payout["currency"]) != (day, currency):
            errors[f"row {number}"] = f"payout {key} has another date or currency above"
        payout["lines"].append(line)
    if errors:
        raise ValidationError("the payout CSV has bad rows", errors)
    return [Payout(key, item["day"], item["currency"],
                   sum((line.amount for line in item["lines"]), ZERO), item["lines"])
            for key, item in grouped.items()]


def payout_json(session: Session, record: ProviderPayout) -> dict[str, Any]:
    lines = session.scalars(sa.select(ProviderPayoutLine).where(
        ProviderPayoutLine.payout_id == record.id).order_by(ProviderPayoutLine.id))
    return {"id": record.id, "account": record.account, "payout_id": record.payout_id,
            "arrival_date": record.arrival_date, "currency": record.currency,
            "amount": record.amount, "sales": record.sales, "refunds": record.refunds,
            "fees": record.fees, "reserves": record.reserves,
            "adjustments": record.adjustments, "unmatched": record.unmatched,
            "entry_id": record.entry_id,
            "lines": [{"kind": line.kind, "amount": line.amount,
                       "payment_reference": line.payment_reference,
                       "order_reference": line.order_reference,
                       "payment_id": line.payment_id, "invoice_id": line.invoice_id}
                      for line in lines]}


def import_payouts(session: Session, account: str, payouts: Sequence[Payout],
                   source: str) -> dict[str, Any]:
    imported, skipped = [], []
    for payout in payouts:
        record = import_payout(session, account, payout, source)
        if record is None:
            skipped.append(payout.payout_id)
        else:
            imported.append(payout_json(session, record))
    return {"imported": imported, "already_imported": skipped}

