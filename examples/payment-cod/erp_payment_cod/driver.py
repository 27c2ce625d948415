"""``CashOnDelivery``: the ``cod`` driver of the ``erp.payment_providers`` namespace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from erp_payment_cod import payment as rules
from erp_payment_cod.exceptions import PaymentNotFound
from erp_payment_cod.ledger import Ledger, MemoryLedger, SqliteLedger
from erp_payment_cod.notifications import (
    DeliveryEvent,
    read_delivery_notice,
    verify_delivery_notification,
)
from erp_payment_cod.payment import CodPayment, provider_reference_for
from erp_payment_cod.settings import read_settings
from erp_sdk import ValidationError
from erp_sdk.drivers import (
    Amount,
    PaymentNotification,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    WebhookRequest,
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CashOnDelivery:
    """Cash on delivery: the customer promises at order and pays the courier in cash.

    - ``authorize`` records the promise (``authorized``), or declines (``failed``) an order
      in another currency or above ``max_amount``;
    - the payment is captured once, when the cash is collected: by the courier's signed
      ``cash_collected`` notification (``parse_notification``), or by ``capture`` when the
      seller confirms the collection itself; at most the authorized amount;
    - ``refund`` gives back captured cash, in parts, never more than was captured.

    ``settings`` and ``secrets`` are the account's (see the package README) and are checked
    here. State lives in a ledger: a SQLite file when ``ledger_path`` is set, otherwise this
    instance's memory; ``ledger`` and ``clock`` can also be passed, for tests.
    """

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, Any], *,
                 clock: Callable[[], dt.datetime] = _utcnow,
                 ledger: Ledger | None = None) -> None:
        self._settings = read_settings(settings, secrets)
        self._clock = clock
        if ledger is None:
            path = self._settings.ledger_path
            ledger = SqliteLedger(path) if path else MemoryLedger()
        self.ledger = ledger

    def payment(self, provider_reference: str) -> CodPayment:
        """The payment as the ledger holds it (authorized, captured and refunded amounts)."""
        found = self.ledger.get(provider_reference)
        if found is None:
            raise PaymentNotFound(f"no cash-on-delivery payment {provider_reference!r}")
        return found

    def authorize(self, request: PaymentRequest) -> PaymentResult:
        """Record the promise to pay ``request.amount`` at delivery; the provider reference is
        ``cod:<order reference>``. Authorizing the same order for the same amount again is
        a safe retry; for another amount it is a ``PaymentStateConflict``."""
        reference = provider_reference_for(request.reference)
        amount, settings = request.amount, self._settings
        if not amount.value.is_finite() or amount.value <= 0:
            raise ValidationError(f"cannot authorize {amount.value} {amount.currency}: the"
                                  " amount must be positive", {"amount": "must be positive"})
        if amount.currency != settings.currency:
            return PaymentResult(reference, PaymentStatus.FAILED, amount,
                                 f"cash on delivery is collected in {settings.currency} only,"
                                 f" not {amount.currency}")
        if settings.max_amount is not None and amount.value > settings.max_amount:
            return PaymentResult(reference, PaymentStatus.FAILED, amount,
                                 f"cash on delivery is limited to {settings.max_amount}"
                                 f" {settings.currency}; this order is {amount.value}"
                                 f" {amount.currency}")
        payment = self.ledger.change(reference, lambda current: rules.authorize(current, request))
        return PaymentResult(reference, payment.status, amount,
                             f"collect {amount.value} {amount.currency} in cash at delivery")

    def capture(self, provider_reference: str, amount: Amount) -> PaymentResult:
        """The seller confirms the cash was collected: ``amount``, at most the authorized
        amount, once. The result's amount is the captured amount."""
        payment = self.ledger.change(provider_reference, lambda current: rules.capture(
            current, provider_reference, amount))
        return PaymentResult(provider_reference, payment.status, amount,
                             f"collected {amount.value} {amount.currency} in cash")

    def refund(self, provider_reference: str, amount: Amount) -> PaymentResult:
        """Give back ``amount`` of the captured cash. The result's amount is this refund;
        its status is ``refunded`` once everything captured was given back, else
        ``partially_refunded``."""
        payment = self.ledger.change(provider_reference, lambda current: rules.refund(
            current, provider_reference, amount))
        return PaymentResult(
            provider_reference, payment.status, amount,
            f"refunded {amount.value} {amount.currency}; {payment.refunded} of"
            f" {payment.captured} {payment.currency} captured is refunded")

    def parse_notification(self, request: WebhookRequest) -> PaymentNotification:
        """Apply the courier's signed delivery notification to the ledger and report it.

        ``cash_collected`` captures the collected amount (status ``captured``);
        ``delivery_refused`` voids the promise (status ``voided``). A notification delivered
        again (same ``event_id``) changes nothing and gets the same answer. Raises
        ``WebhookRejected`` when it is not authentic or stale, ``ValidationError`` when its
        body is malformed, ``PaymentNotFound`` or ``PaymentStateConflict`` when the ledger
        cannot take it (a second collection, more cash than authorized)."""
        verify_delivery_notification(request, self._settings.webhook_secret, now=self._clock(),
                                     tolerance=self._settings.webhook_tolerance)
        notice = read_delivery_notice(request.body)
        reference = notice.provider_reference

        def settle(current: CodPayment | None) -> CodPayment:
            if current is not None and current.settled_by == notice.event_id:
                return current
            if notice.collected is not None:
                return rules.capture(current, reference, notice.collected,
                                     settled_by=notice.event_id)
            return rules.void(current, reference, settled_by=notice.event_id)

        payment = self.ledger.change(reference, settle)
        if notice.event is DeliveryEvent.CASH_COLLECTED:
            return PaymentNotification(reference, PaymentStatus.CAPTURED,
                                       payment.amount(payment.captured), notice.at)
        return PaymentNotification(reference, PaymentStatus.VOIDED,
                                   payment.amount(payment.authorized), notice.at)
