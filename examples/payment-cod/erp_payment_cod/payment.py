"""A cash-on-delivery payment and the rules that move it from promise to cash and back.

The functions here are pure: each takes the payment as the ledger holds it and returns
the new one, or raises without changing anything. The ledger applies them atomically, so
the rules are the same whichever ledger keeps the payments.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from erp_payment_cod.exceptions import PaymentNotFound, PaymentStateConflict
from erp_sdk import ValidationError
from erp_sdk.drivers import Amount, PaymentRequest, PaymentStatus

ZERO = Decimal("0")


@attrs.frozen
class CodPayment:
    """One payment: the promise to pay ``authorized`` at delivery, the cash the courier
    ``captured`` (once), and what was ``refunded`` since (possibly in several parts)."""

    provider_reference: str
    order_reference: str
    currency: str
    authorized: Decimal
    captured: Decimal = ZERO
    refunded: Decimal = ZERO
    voided: bool = False
    settled_by: str | None = None
    """The id of the courier's notification that captured or voided it, if any."""

    @property
    def status(self) -> PaymentStatus:
        if self.voided:
            return PaymentStatus.VOIDED
        if not self.captured:
            return PaymentStatus.AUTHORIZED
        if not self.refunded:
            return PaymentStatus.CAPTURED
        if self.refunded == self.captured:
            return PaymentStatus.REFUNDED
        return PaymentStatus.PARTIALLY_REFUNDED

    def amount(self, value: Decimal) -> Amount:
        return Amount(value, self.currency)


def provider_reference_for(order_reference: str) -> str:
    """The payment's reference in the ledger: one cash-on-delivery payment per order."""
    return f"cod:{order_reference}"


def _money(payment: CodPayment, value: Decimal) -> str:
    return f"{value} {payment.currency}"


def _checked_amount(payment: CodPayment, amount: Amount, action: str) -> Decimal:
    if amount.currency != payment.currency:
        raise ValidationError(
            f"cannot {action} {amount.value} {amount.currency} on {payment.provider_reference}:"
            f" it is in {payment.currency}", {"amount": f"must be in {payment.currency}"})
    if not amount.value.is_finite() or amount.value <= 0:
        raise ValidationError(f"cannot {action} {amount.value} {amount.currency}: the amount"
                              " must be positive", {"amount": "must be greater than 0"})
    return amount.value


def _existing(payment: CodPayment | None, provider_reference: str) -> CodPayment:
    if payment is None:
        raise PaymentNotFound(f"no cash-on-delivery payment {provider_reference!r}: it was"
                              " never authorized through this account's ledger")
    return payment


def authorize(payment: CodPayment | None, request: PaymentRequest) -> CodPayment:
    """Record the promise to pay ``request.amount`` at delivery. Authorizing the same
    order for the same amount again returns the payment unchanged (a safe retry)."""
    reference = provider_reference_for(request.reference)
    if payment is None:
        return CodPayment(provider_reference=reference, order_reference=request.reference,
                          currency=request.amount.currency, authorized=request.amount.value)
    if (payment.status is PaymentStatus.AUTHORIZED
            and payment.amount(payment.authorized) == request.amount):
        return payment
    raise PaymentStateConflict(
        f"order {request.reference!r} already has a cash-on-delivery payment of"
        f" {_money(payment, payment.authorized)} ({payment.status}); it cannot be authorized"
        f" again for {request.amount.value} {request.amount.currency}")


def capture(payment: CodPayment | None, provider_reference: str, amount: Amount, *,
            settled_by: str | None = None) -> CodPayment:
    """The courier collected ``amount`` in cash: at most what was authorized, and once."""
    payment = _existing(payment, provider_reference)
    value = _checked_amount(payment, amount, "capture")
    if payment.voided:
        raise PaymentStateConflict(f"{provider_reference} was voided (the delivery was"
                                   " refused): there is no cash to capture")
    if payment.captured:
        raise PaymentStateConflict(
            f"{provider_reference} was already captured ({_money(payment, payment.captured)}):"
            " cash on delivery is collected once")
    if value > payment.authorized:
        raise PaymentStateConflict(
            f"cannot capture {_money(payment, value)} on {provider_reference}: only"
            f" {_money(payment, payment.authorized)} was authorized")
    return attrs.evolve(payment, captured=value, settled_by=settled_by)


def refund(payment: CodPayment | None, provider_reference: str, amount: Amount) -> CodPayment:
    """Give back part or all of the captured cash; refunds add up to at most the capture."""
    payment = _existing(payment, provider_reference)
    value = _checked_amount(payment, amount, "refund")
    if not payment.captured:
        raise PaymentStateConflict(
            f"cannot refund {provider_reference}: nothing was captured yet ({payment.status});"
            " a refund gives back cash the courier collected")
    left = payment.captured - payment.refunded
    if value > left:
        raise PaymentStateConflict(
            f"cannot refund {_money(payment, value)} on {provider_reference}: only"
            f" {_money(payment, left)} of the {_money(payment, payment.captured)} captured"
            " is left to refund")
    return attrs.evolve(payment, refunded=payment.refunded + value)


def void(payment: CodPayment | None, provider_reference: str, *,
         settled_by: str | None = None) -> CodPayment:
    """The customer refused the parcel: the promise lapses, nothing will be collected."""
    payment = _existing(payment, provider_reference)
    if payment.voided:
        return payment
    if payment.captured:
        raise PaymentStateConflict(
            f"{provider_reference} was already captured ({_money(payment, payment.captured)}):"
            " a refused delivery cannot void it; refund it instead")
    return attrs.evolve(payment, voided=True, settled_by=settled_by)
