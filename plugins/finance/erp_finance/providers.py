"""Payments taken and refunded through payment-provider drivers (``erp.payment_providers``).

A ``PaymentAccount`` names a driver and its settings and secrets. Taking payment of an
invoice asks the driver to authorise and capture it, then records the payment on the
provider's clearing account and matches it with the invoice; refunding a credit note
goes back through the provider and the account that took the money for the invoice it
refers to. The provider is called outside the database transaction (a call that must
not be repeated if the transaction is run again); the recording is idempotent, keyed by
the provider's reference (unique per account), so a retry records nothing twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_finance.accounts import AccountRole
from erp_finance.invoices import Invoice, InvoiceKind
from erp_finance.payments import (
    Payment,
    PaymentDirection,
    PaymentDraft,
    PaymentMatch,
    match,
    record_payment,
)
from erp_sdk import Base, ConflictError, Kernel, NotFoundError, Principal, RecordMixin, utcnow
from erp_sdk.drivers import Amount, PaymentRequest, PaymentStatus


class PaymentAccount(RecordMixin, Base):
    __tablename__ = "finance_payment_account"

    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    driver: Mapped[str] = mapped_column(sa.String(60))
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    secrets: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)


def _driver(kernel: Kernel, account_name: str) -> tuple[Any, PaymentAccount]:
    with kernel.transaction() as session:
        account = session.scalar(sa.select(PaymentAccount).where(
            PaymentAccount.name == account_name, PaymentAccount.active.is_(True)))
        if account is None:
            raise NotFoundError(f"no active payment account {account_name!r}")
        session.expunge(account)
    return kernel.drivers.load("payment_provider", account.driver, settings=account.settings,
                               secrets=account.secrets), account


def _invoice(kernel: Kernel, invoice_id: int) -> Invoice:
    with kernel.transaction() as session:
        invoice = session.get(Invoice, invoice_id)
        if invoice is None:
            raise NotFoundError(f"invoice {invoice_id} does not exist")
        session.expunge(invoice)
    return invoice


def _record(kernel: Kernel, principal: Principal, draft: PaymentDraft, invoice_id: int
            ) -> dict[str, Any]:
    def work(ctx: Any) -> dict[str, Any]:
        existing = ctx.session.scalar(sa.select(Payment).where(
            Payment.provider == draft.provider,
            Payment.provider_reference == draft.provider_reference))
        payment = existing or record_payment(ctx.session, draft)
        if existing is None:
            match(ctx.session, payment.id, invoice_id)
        return {"payment_id": payment.id, "number": payment.number,
                "provider_reference": payment.provider_reference, "amount": payment.amount,
                "recorded": existing is None}

    return kernel.run(work, principal)


def take_payment(kernel: Kernel, principal: Principal, account_name: str, invoice_id: int,
                 amount: Decimal | None = None) -> dict[str, Any]:
    """Authorise and capture (part of) an invoice's open amount through the provider."""
    principal.require("finance.payment.record")
    invoice = _invoice(kernel, invoice_id)
    if invoice.kind != InvoiceKind.INVOICE:
        raise ConflictError(f"{invoice.number} is a credit note: refund it instead")
    amount = invoice.residual if amount is None else amount
    if amount <= 0 or amount > invoice.residual:
        raise ConflictError(f"{invoice.number} has {invoice.residual} open")
    driver, account = _driver(kernel, account_name)
    money = Amount(amount, invoice.currency)
    authorised = driver.authorize(PaymentRequest(invoice.number, money,
                                                 customer_reference=str(invoice.customer_id)))
    if authorised.status not in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED):
        raise ConflictError(f"{account.name} declined {invoice.number}: {authorised.message}")
    captured = authorised if authorised.status == PaymentStatus.CAPTURED else \
        driver.capture(authorised.provider_reference, money)
    if captured.status != PaymentStatus.CAPTURED:
        raise ConflictError(f"{account.name} did not capture {invoice.number}:"
                            f" {captured.message}")
    return _record(kernel, principal, PaymentDraft(
        invoice.customer_id, amount, invoice.currency, utcnow().date(),
        reference=invoice.number, account_role=AccountRole.PROVIDER_CLEARING,
        provider=account.name, provider_reference=captured.provider_reference), invoice.id)


def refund_credit_note(kernel: Kernel, principal: Principal, credit_note_id: int
                       ) -> dict[str, Any]:
    """Give a credit note's open amount back through the provider that took the money
    for the invoice it refers to."""
    principal.require("finance.payment.record")
    credit_note = _invoice(kernel, credit_note_id)
    if credit_note.kind != InvoiceKind.CREDIT_NOTE or credit_note.refers_to_id is None:
        raise ConflictError(f"{credit_note.number} is not a credit note of an invoice")
    if credit_note.residual <= 0:
        raise ConflictError(f"{credit_note.number} has nothing left to refund")
    with kernel.transaction() as session:
        taken = session.execute(
            sa.select(Payment.provider, Payment.provider_reference)
            .join(PaymentMatch, PaymentMatch.payment_id == Payment.id)
            .where(PaymentMatch.invoice_id == credit_note.refers_to_id,
                   Payment.provider.is_not(None))
            .order_by(Payment.id)).first()
    if taken is None:
        raise ConflictError(f"no provider took payment of the invoice {credit_note.number}"
                            " refers to: pay the refund by hand")
    driver, account = _driver(kernel, taken.provider)
    refunded = driver.refund(taken.provider_reference, Amount(credit_note.residual,
                                                              credit_note.currency))
    if refunded.status not in (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED):
        raise ConflictError(f"{account.name} did not refund {credit_note.number}:"
                            f" {refunded.message}")
    return _record(kernel, principal, PaymentDraft(
        credit_note.customer_id, credit_note.residual, credit_note.currency, utcnow().date(),
        direction=PaymentDirection.PAID, reference=credit_note.number,
        account_role=AccountRole.PROVIDER_CLEARING, provider=account.name,
        provider_reference=f"{taken.provider_reference}:refund:{credit_note.number}"),
        credit_note.id)
