"""``TillpointProvider``: the ``tillpoint`` driver of the ``erp.payment_providers`` namespace.

settings: ``{"base_url": "https://api.tillpoint.example", "timeout_seconds": 10,
"webhook_tolerance_seconds": 300}``; secrets: ``{"api_key": "...", "webhook_secret":
"..."}``. Every call goes over HTTP to the Tillpoint API (the standard library's
``urllib``, nothing else to install).

A refund is sent with an ``Idempotency-Key`` made of the payment, the amount and how much
was refunded before, so a refund retried after a lost answer is done once. A call whose
answer is lost (timeout, broken connection, 5xx) raises ``OutcomeUnknown``: look the
payment up (``payment``) before asking again.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from erp_sdk import ValidationError
from erp_sdk.drivers import (
    DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
    Amount,
    DriverFailure,
    OutcomeUnknown,
    PaymentNotification,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    Payout,
    PayoutLine,
    PayoutLineKind,
    WebhookRequest,
    verify_signed_webhook,
)

SIGNATURE_HEADER = "Tillpoint-Signature"
TIMESTAMP_HEADER = "Tillpoint-Timestamp"
EVENTS = {"payment.captured": PaymentStatus.CAPTURED,
          "payment.refunded": PaymentStatus.PARTIALLY_REFUNDED,
          "payment.failed": PaymentStatus.FAILED,
          "payment.voided": PaymentStatus.VOIDED}
"""Tillpoint's payment events -> the ERP's statuses (a refund event says ``partially
refunded``: how much is left is the payment's to say)."""
LINE_KINDS = {"sale": PayoutLineKind.SALE, "refund": PayoutLineKind.REFUND,
              "fee": PayoutLineKind.FEE, "reserve": PayoutLineKind.RESERVE,
              "reserve_release": PayoutLineKind.RESERVE_RELEASE}
"""Tillpoint's payout line types -> the ERP's kinds (anything else: an adjustment)."""


CENT = Decimal("0.01")


def _cents(amount: Amount) -> str:
    """Tillpoint takes amounts as strings in cents ("19.99"); finer amounts are refused,
    never rounded."""
    if amount.value != amount.value.quantize(CENT):
        raise ValidationError(f"Tillpoint takes whole cents, not {amount.value}",
                              {"amount": "at most 2 decimals"})
    return f"{amount.value.quantize(CENT):f}"


class TillpointProvider:
    """Authorise, capture and refund card payments, read payouts, verify webhooks."""

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        errors = {}
        if not str(settings.get("base_url") or "").startswith(("http://", "https://")):
            errors["base_url"] = "an http(s) URL is required"
        for name in ("api_key", "webhook_secret"):
            if not secrets.get(name):
                errors[name] = "required secret"
        if errors:
            raise ValidationError("the Tillpoint account is not configured", errors)
        self._base = str(settings["base_url"]).rstrip("/")
        self._timeout = float(settings.get("timeout_seconds", 10))
        self._tolerance = float(settings.get("webhook_tolerance_seconds",
                                             DEFAULT_WEBHOOK_TOLERANCE_SECONDS))
        self._api_key = str(secrets["api_key"])
        self._webhook_secret = str(secrets["webhook_secret"])

    def _call(self, method: str, path: str, document: Any = None,
              idempotency_key: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        data = None
        if document is not None:
            data = json.dumps(document).encode()
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        request = urllib.request.Request(self._base + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            body = exc.read()
            if exc.code >= 500:
                raise OutcomeUnknown(f"Tillpoint answered {exc.code}") from None
            try:
                return exc.code, json.loads(body)
            except ValueError:
                raise DriverFailure(f"Tillpoint refused ({exc.code})") from None
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            raise OutcomeUnknown(f"Tillpoint did not answer: {exc}") from None

    @staticmethod
    def _refusal(status: int, answer: dict[str, Any]) -> str:
        error = answer.get("error") or {}
        return f"{error.get('code', status)}: {error.get('message', '')}".strip()

    def _result(self, status: int, answer: dict[str, Any], reference: str, amount: Amount,
                what: str) -> PaymentResult:
        if status >= 400:
            if status in (401, 404):
                raise DriverFailure(f"Tillpoint refused {what}: {self._refusal(status, answer)}")
            return PaymentResult(reference, PaymentStatus.FAILED, amount,
                                 self._refusal(status, answer))
        return PaymentResult(answer["id"], PaymentStatus(answer["status"]), amount, what)

    def authorize(self, request: PaymentRequest) -> PaymentResult:
        """Authorise ``request.amount``; the provider reference is Tillpoint's payment id.
        A decline is a ``failed`` result with Tillpoint's code and message."""
        status, answer = self._call("POST", "/v1/payments", {
            "reference": request.reference, "amount": _cents(request.amount),
            "currency": request.amount.currency, "customer": request.customer_reference,
            "capture": False})
        return self._result(status, answer, request.reference, request.amount,
                            f"authorised {request.amount.value} {request.amount.currency}")

    def capture(self, provider_reference: str, amount: Amount) -> PaymentResult:
        status, answer = self._call(
            "POST", f"/v1/payments/{urllib.parse.quote(provider_reference)}/capture",
            {"amount": _cents(amount)})
        return self._result(status, answer, provider_reference, amount,
                            f"captured {amount.value} {amount.currency}")

    def refund(self, provider_reference: str, amount: Amount) -> PaymentResult:
        """Give back ``amount``; the result's status is the payment's after it
        (``refunded`` when all that was captured is given back)."""
        quoted = urllib.parse.quote(provider_reference)
        before = self.payment(provider_reference)
        key = f"refund:{provider_reference}:{_cents(amount)}:{before['refunded']}"
        status, answer = self._call("POST", f"/v1/payments/{quoted}/refunds",
                                    {"amount": _cents(amount)}, idempotency_key=key)
        if status >= 400:
            return self._result(status, answer, provider_reference, amount, "refund")
        return PaymentResult(provider_reference, PaymentStatus(answer["payment_status"]),
                             amount, f"refund {answer['id']}")

    def payment(self, provider_reference: str) -> dict[str, Any]:
        """The payment as Tillpoint holds it (amounts authorised, captured, refunded)."""
        status, answer = self._call(
            "GET", f"/v1/payments/{urllib.parse.quote(provider_reference)}")
        if status >= 400:
            raise DriverFailure(f"Tillpoint: {self._refusal(status, answer)}")
        return answer

    def parse_notification(self, request: WebhookRequest) -> PaymentNotification:
        """A signed payment event: the signature (HMAC-SHA256 of the timestamp and the raw
        body) is checked before the body is read; ``WebhookRejected`` when it does not
        match or is stale, ``ValidationError`` for a body that is not a payment event."""
        verify_signed_webhook(self._webhook_secret, request.headers, request.body,
                              tolerance=self._tolerance, timestamp_header=TIMESTAMP_HEADER,
                              signature_header=SIGNATURE_HEADER)
        try:
            event = json.loads(request.body)
            status = EVENTS[event["type"]]
            data = event["data"]
            return PaymentNotification(
                data["payment"], status, Amount(Decimal(data["amount"]), data["currency"]),
                dt.datetime.fromisoformat(event["created"]), event_id=str(event["id"]))
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise ValidationError(f"not a Tillpoint payment event: {exc!r}") from None

    def fetch_payouts(self, since: dt.date) -> Sequence[Payout]:
        """The payouts arriving on or after ``since``, oldest first, line by line."""
        query = urllib.parse.urlencode({"since": since.isoformat()})
        status, answer = self._call("GET", f"/v1/payouts?{query}")
        if status >= 400:
            raise DriverFailure(f"Tillpoint: {self._refusal(status, answer)}")
        payouts = []
        for item in answer["payouts"]:
            lines = [PayoutLine(LINE_KINDS.get(line["type"], PayoutLineKind.ADJUSTMENT),
                                Decimal(line["amount"]), line.get("payment") or "",
                                line.get("reference") or "", line.get("description") or "")
                     for line in item["lines"]]
            payouts.append(Payout(item["id"], dt.date.fromisoformat(item["arrival_date"]),
                                  item["currency"], Decimal(item["amount"]), lines))
        return sorted(payouts, key=lambda payout: payout.arrival_date)
