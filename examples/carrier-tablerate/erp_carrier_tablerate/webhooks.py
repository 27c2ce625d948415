"""The carrier's tracking webhook: how it is signed, verified and read.

The carrier POSTs JSON such as::

    {"events": [{"tracking_number": "TR4821093355127", "status": "in_transit",
                 "at": "2026-03-02T08:15:00Z", "location": "Lyon hub",
                 "description": "Arrived at hub"}]}

with two headers:

- ``x-tablerate-timestamp``: when it was sent, in whole Unix seconds;
- ``x-tablerate-signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the account's
  ``webhook_secret``, of the timestamp, a dot and the raw body (``b"1767225600." + body``).

The timestamp is inside the signature so that a captured request cannot be replayed later
with a fresh timestamp; a request whose timestamp is further than the tolerance (300 s by
default) from the receiver's clock, in either direction, is refused as stale. Replays
inside that window are harmless: an event already seen is not recorded twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from erp_sdk import ValidationError
from erp_sdk.drivers import (
    TrackingEvent,
    TrackingStatus,
    WebhookRejected,
    WebhookRequest,
    hmac_sha256_hex,
    verify_hmac_sha256,
)

SIGNATURE_HEADER = "x-tablerate-signature"
TIMESTAMP_HEADER = "x-tablerate-timestamp"


def _signed_content(timestamp: str, body: bytes) -> bytes:
    return timestamp.encode() + b"." + body


def sign_tracking_webhook(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers the carrier sends with ``body`` at ``timestamp`` (Unix seconds): what a
    test, or a simulator of the carrier, needs to produce an authentic webhook."""
    signature = hmac_sha256_hex(secret, _signed_content(str(timestamp), body))
    return {SIGNATURE_HEADER: f"sha256={signature}", TIMESTAMP_HEADER: str(timestamp)}


def verify_tracking_webhook(request: WebhookRequest, secret: str, *, now: dt.datetime,
                            tolerance: dt.timedelta) -> None:
    """Raise ``WebhookRejected`` unless the request is signed with ``secret`` and was sent
    within ``tolerance`` of ``now``."""
    timestamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    if not timestamp:
        raise WebhookRejected(f"the tracking webhook has no {TIMESTAMP_HEADER} header")
    if not timestamp.isdigit():
        raise WebhookRejected(f"the {TIMESTAMP_HEADER} header is not Unix seconds:"
                              f" {timestamp[:40]!r}")
    verify_hmac_sha256(secret, _signed_content(timestamp, request.body),
                       request.headers.get(SIGNATURE_HEADER))
    sent_at = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    if abs(now - sent_at) > tolerance:
        raise WebhookRejected(
            f"the tracking webhook is stale: sent at {sent_at.isoformat()}, received at"
            f" {now.isoformat()}, more than {int(tolerance.total_seconds())} s apart")


def read_tracking_events(body: bytes) -> list[TrackingEvent]:
    """The events of an authentic webhook body; ``ValidationError`` if it is malformed."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"the tracking webhook body is not JSON: {exc}") from None
    events = document.get("events") if isinstance(document, Mapping) else None
    if not isinstance(events, list):
        raise ValidationError('the tracking webhook body must be {"events": [...]}',
                              {"events": "required: a list of tracking events"})
    return [_read_event(raw, f"events[{index}]") for index, raw in enumerate(events)]


def _read_event(raw: Any, path: str) -> TrackingEvent:
    def fail(field: str, message: str) -> ValidationError:
        where = f"{path}.{field}" if field else path
        return ValidationError(f"tracking webhook {where}: {message}", {where: message})

    if not isinstance(raw, Mapping):
        raise fail("", "must be an object")
    tracking_number = raw.get("tracking_number")
    if not isinstance(tracking_number, str) or not tracking_number:
        raise fail("tracking_number", "required")
    try:
        status = TrackingStatus(raw.get("status"))
    except ValueError:
        statuses = ", ".join(status.value for status in TrackingStatus)
        raise fail("status", f"{raw.get('status')!r} is not one of {statuses}") from None
    try:
        at = dt.datetime.fromisoformat(str(raw.get("at")))
    except ValueError:
        raise fail("at", "required: an ISO 8601 time with its offset") from None
    if at.tzinfo is None:
        raise fail("at", "the time has no UTC offset")
    location, description = raw.get("location", ""), raw.get("description", "")
    if not isinstance(location, str) or not isinstance(description, str):
        raise fail("location", "location and description must be strings")
    return TrackingEvent(tracking_number=tracking_number, status=status,
                         at=at.astimezone(dt.UTC), location=location, description=description)


class TrackingLog:
    """The tracking events one driver instance has seen, per tracking number.

    Kept in memory: it lives as long as the driver object and is not shared between
    processes. That is enough for an example; a production carrier would be asked (its
    tracking API) or the ERP would keep the events it received from ``parse_tracking_webhook``.
    """

    def __init__(self) -> None:
        self._events: dict[str, list[TrackingEvent]] = {}

    def __contains__(self, tracking_number: str) -> bool:
        return tracking_number in self._events

    def record(self, events: Sequence[TrackingEvent]) -> list[TrackingEvent]:
        """Add the events not seen yet; return those that were new."""
        new = []
        for event in events:
            known = self._events.setdefault(event.tracking_number, [])
            if event not in known:
                known.append(event)
                new.append(event)
        return new

    def events(self, tracking_number: str) -> list[TrackingEvent]:
        """Oldest first; events at the same moment keep the order they arrived in."""
        return sorted(self._events[tracking_number], key=lambda event: event.at)
