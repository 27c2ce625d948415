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

import datetime as dt
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
    lock_document,
    match,
    record_payment,
)
from erp_sdk import (
    Base,
    ConflictError,
    Context,
    InboundWebhook,
    Kernel,
    Money,
    NotFoundError,
    Principal,
    RecordMixin,
    VerifiedWebhook,
    WebhookReceiver,
    utcnow,
)
from erp_sdk.drivers import (
    Amount,
    PaymentPayouts,
    PaymentRequest,
    PaymentStatus,
    WebhookRequest,
)


class PaymentAccount(RecordMixin, Base):
    __tablename__ = "finance_payment_account"

    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    driver: Mapped[str] = mapped_column(sa.String(60))
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    secrets: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)


class PaymentAuthorization(RecordMixin, Base):
    """An invoice's amount a provider has authorised and will capture later (cash on
    delivery: when the courier collects): its notification records the payment."""

    __tablename__ = "finance_payment_authorization"
    __table_args__ = (sa.UniqueConstraint("account", "provider_reference"),)

    account: Mapped[str] = mapped_column(sa.String(60))
    provider_reference: Mapped[str] = mapped_column(sa.String(120))
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_invoice.id"), index=True)
    amount: Mapped[Money]
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(20))


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
        if existing is None:
            lock_document(ctx.session, invoice_id)
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


def authorize_invoice(kernel: Kernel, principal: Principal, account_name: str,
                      invoice_id: int) -> dict[str, Any]:
    """Ask the provider to authorise an invoice's open amount, to be captured later (its
    notification, through ``PAYMENT_WEBHOOKS``, then records and matches the payment)."""
    principal.require("finance.payment.record")
    invoice = _invoice(kernel, invoice_id)
    if invoice.kind != InvoiceKind.INVOICE or invoice.residual <= 0:
        raise ConflictError(f"{invoice.number} has nothing open to authorise")
    driver, account = _driver(kernel, account_name)
    result = driver.authorize(PaymentRequest(invoice.number, Amount(invoice.residual,
                                                                    invoice.currency),
                                             customer_reference=str(invoice.customer_id)))
    if result.status != PaymentStatus.AUTHORIZED:
        raise ConflictError(f"{account.name} declined {invoice.number}: {result.message}")

    def work(ctx: Context) -> dict[str, Any]:
        existing = ctx.session.scalar(sa.select(PaymentAuthorization).where(
            PaymentAuthorization.account == account.name,
            PaymentAuthorization.provider_reference == result.provider_reference))
        if existing is None:
            ctx.session.add(PaymentAuthorization(
                account=account.name, provider_reference=result.provider_reference,
                invoice_id=invoice.id, amount=invoice.residual, currency=invoice.currency,
                status=PaymentStatus.AUTHORIZED, version=1))
            ctx.session.flush()
        return {"provider_reference": result.provider_reference, "status": result.status.value,
                "message": result.message}

    return kernel.run(work, principal)


def import_provider_payouts(kernel: Kernel, principal: Principal, account_name: str,
                            since: dt.date) -> dict[str, Any]:
    """Fetch the account's payouts arriving on or after ``since`` from its provider and
    import those not imported yet (``payouts``)."""
    from erp_finance.payouts import import_payouts

    principal.require("finance.payment.record")
    driver, account = _driver(kernel, account_name)
    if not isinstance(driver, PaymentPayouts):
        raise ConflictError(f"the {account.driver} driver of {account.name} does not list"
                            " payouts: import them from a CSV file")
    payouts = driver.fetch_payouts(since)
    return kernel.run(lambda ctx: import_payouts(ctx.session, account.name, payouts,
                                                 "provider"), principal)


def verify_payment_webhook(kernel: Kernel, webhook: InboundWebhook) -> VerifiedWebhook | None:
    """An authentic notification for one of finance's payment accounts (``None`` for an
    account finance does not have); the driver checks the signature."""
    with kernel.transaction() as session:
        account = session.scalar(sa.select(PaymentAccount).where(
            PaymentAccount.name == webhook.account, PaymentAccount.driver == webhook.driver,
            PaymentAccount.active.is_(True)))
        if account is None:
            return None
        session.expunge(account)
    driver = kernel.drivers.load("payment_provider", account.driver, settings=account.settings,
                                 secrets=account.secrets)
    notification = driver.parse_notification(WebhookRequest(headers=webhook.headers,
                                                             body=webhook.body))
    # The provider's event id, where it gives one, recognises a notification sent again
    # even with another body (a new timestamp); without one the body's hash does.
    return VerifiedWebhook((account.name, notification),
                           event_id=getattr(notification, "event_id", "") or None)


def record_notified_payment(ctx: Context, verified: VerifiedWebhook) -> dict[str, Any]:
    """A capture records the payment on the clearing account and matches the invoice; a
    void closes the authorisation. The kernel hands each event over once."""
    account, notification = verified.content
    authorization = ctx.session.scalar(sa.select(PaymentAuthorization).where(
        PaymentAuthorization.account == account,
        PaymentAuthorization.provider_reference == notification.provider_reference
    ).with_for_update(key_share=True))
    if authorization is None:
        return {"ignored": f"no authorisation {notification.provider_reference}"}
    if authorization.status != PaymentStatus.AUTHORIZED:
        return {"ignored": f"authorisation is {authorization.status}"}
    authorization.status = notification.status.value
    authorization.version += 1
    if notification.status != PaymentStatus.CAPTURED:
        ctx.session.flush()
        return {"status": authorization.status}
    lock_document(ctx.session, authorization.invoice_id)
    invoice = ctx.session.get(Invoice, authorization.invoice_id)
    payment = record_payment(ctx.session, PaymentDraft(
        invoice.customer_id, notification.amount.value, notification.amount.currency,
        notification.at.date(), reference=invoice.number,
        account_role=AccountRole.PROVIDER_CLEARING, provider=account,
        provider_reference=notification.provider_reference))
    matched = match(ctx.session, payment.id, invoice.id,
                    min(notification.amount.value, invoice.residual))
    return {"status": authorization.status, "payment": payment.number,
            "matched": f"{matched.amount:f}"}


PAYMENT_WEBHOOKS = WebhookReceiver(verify_payment_webhook, record_notified_payment)
