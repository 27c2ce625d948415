"""The courier's delivery notification: how it is signed, verified and read.

When the courier hands over a cash-on-delivery parcel it POSTs JSON such as::

    {"event_id": "dlv-7781", "event": "cash_collected",
     "provider_reference": "cod:SO-1001", "amount": "49.90", "currency": "EUR",
     "at": "2026-03-02T15:05:00Z"}

``event`` is ``cash_collected`` (``amount`` and ``currency`` say what was collected) or
``delivery_refused`` (the customer refused the parcel; no amount). ``event_id`` is unique
per notification: the courier retries with the same one. Two headers come with it:

- ``x-cod-timestamp``: when it was sent, in whole Unix seconds;
- ``x-cod-signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the account's
  ``webhook_secret``, of the timestamp, a dot and the raw body.

The timestamp is signed with the body, so a captured notification cannot be replayed later
under a fresh timestamp; one further than the tolerance from the clock is refused as stale.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
from collections.abc import Mapping
from decimal import Decimal

import attrs

from erp_sdk import ValidationError
from erp_sdk.drivers import (
    Amount,
    WebhookRejected,
    WebhookRequest,
    hmac_sha256_hex,
    verify_hmac_sha256,
)

SIGNATURE_HEADER = "x-cod-signature"
TIMESTAMP_HEADER = "x-cod-timestamp"


class DeliveryEvent(enum.StrEnum):
    CASH_COLLECTED = "cash_collected"
    DELIVERY_REFUSED = "delivery_refused"


@attrs.frozen
class DeliveryNotice:
    """What an authentic notification says."""

    event_id: str
    event: DeliveryEvent
    provider_reference: str
    at: dt.datetime
    collected: Amount | None = None
    """Set for ``cash_collected``."""


def _signed_content(timestamp: str, body: bytes) -> bytes:
    return timestamp.encode() + b"." + body


def sign_delivery_notification(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers the courier sends with ``body`` at ``timestamp`` (Unix seconds): what a
    test, or a simulator of the courier, needs to produce an authentic notification."""
    signature = hmac_sha256_hex(secret, _signed_content(str(timestamp), body))
    return {SIGNATURE_HEADER: f"sha256={signature}", TIMESTAMP_HEADER: str(timestamp)}


def verify_delivery_notification(request: WebhookRequest, secret: str, *, now: dt.datetime,
                                 tolerance: dt.timedelta) -> None:
    """Raise ``WebhookRejected`` unless the request is signed with ``secret`` and was sent
    within ``tolerance`` of ``now``."""
    timestamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    if not timestamp:
        raise WebhookRejected(f"the delivery notification has no {TIMESTAMP_HEADER} header")
    if not timestamp.isdigit():
        raise WebhookRejected(f"the {TIMESTAMP_HEADER} header is not Unix seconds:"
                              f" {timestamp[:40]!r}")
    verify_hmac_sha256(secret, _signed_content(timestamp, request.body),
                       request.headers.get(SIGNATURE_HEADER))
    sent_at = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    if abs(now - sent_at) > tolerance:
        raise WebhookRejected(
            f"the delivery notification is stale: sent at {sent_at.isoformat()}, received at"
            f" {now.isoformat()}, more than {int(tolerance.total_seconds())} s apart")


def read_delivery_notice(body: bytes) -> DeliveryNotice:
    """The notice in an authentic body; ``ValidationError`` naming the field if malformed."""

    def fail(field: str, message: str) -> ValidationError:
        return ValidationError(f"delivery notification {field}: {message}", {field: message})

    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"the delivery notification is not JSON: {exc}") from None
    if not isinstance(document, Mapping):
        raise fail("body", "must be a JSON object")
    for field in ("event_id", "provider_reference"):
        if not isinstance(document.get(field), str) or not document[field]:
            raise fail(field, "required")
    try:
        event = DeliveryEvent(document.get("event"))
    except ValueError:
        events = ", ".join(event.value for event in DeliveryEvent)
        raise fail("event", f"{document.get('event')!r} is not one of {events}") from None
    try:
        at = dt.datetime.fromisoformat(str(document.get("at")))
    except ValueError:
        raise fail("at", "required: an ISO 8601 time with its offset") from None
    if at.tzinfo is None:
        raise fail("at", "the time has no UTC offset")
    collected = None
    if event is DeliveryEvent.CASH_COLLECTED:
        amount, currency = document.get("amount"), document.get("currency")
        if not isinstance(amount, str):
            raise fail("amount", "required: the collected amount as a decimal string")
        try:
            value = Decimal(amount)
        except decimal.InvalidOperation:
            raise fail("amount", f"{amount!r} is not a decimal number") from None
        if not isinstance(currency, str) or len(currency) != 3:
            raise fail("currency", "required: an ISO 4217 code")
        collected = Amount(value, currency)
    return DeliveryNotice(event_id=document["event_id"], event=event,
                          provider_reference=document["provider_reference"],
                          at=at.astimezone(dt.UTC), collected=collected)
