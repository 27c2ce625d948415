"""``TableRateCarrier``: the ``tablerate`` driver of the ``erp.carriers`` namespace."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from erp_carrier_tablerate.rate_table import billable_weight
from erp_carrier_tablerate.settings import read_settings
from erp_carrier_tablerate.webhooks import (
    TrackingLog,
    read_tracking_events,
    verify_tracking_webhook,
)
from erp_sdk import ConflictError
from erp_sdk.drivers import (
    Address,
    DriverFailure,
    RateQuote,
    ShipmentLabel,
    ShipmentRequest,
    TrackingEvent,
    TrackingStatus,
    WebhookRequest,
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _luhn_check_digit(digits: str) -> str:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


class TableRateCarrier:
    """A carrier priced from the rate table in its account's settings.

    ``settings`` and ``secrets`` are the account's (see the package README); they are
    checked here, so a wrong configuration fails when the ERP loads the driver, with every
    problem named. ``clock`` returns the current aware UTC time; tests pass their own.

    State: shipments booked and tracking events received are kept in memory, per instance
    (see ``TrackingLog``); ``track`` knows only what this instance has seen.
    """

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, Any], *,
                 clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self._settings = read_settings(settings, secrets)
        self._table = self._settings.rate_table
        self._clock = clock
        self._tracking = TrackingLog()
        self._bookings: dict[str, tuple[ShipmentRequest, ShipmentLabel]] = {}
        self._references: dict[str, str] = {}
        self._by_key: dict[str, str] = {}
        self._voided: set[str] = set()

    @property
    def name(self) -> str:
        return self._table.carrier

    def quote(self, request: ShipmentRequest) -> Sequence[RateQuote]:
        """One quote per service that reaches the recipient's zone (only ``request.service``
        when it is set), cheapest first; empty for a destination outside every zone or a
        parcel heavier than the zone's table allows."""
        return self._table.quotes(request.recipient, request.parcels, request.service)

    def create_shipment(self, request: ShipmentRequest) -> ShipmentLabel:
        """Book ``request`` with its service (the cheapest when it names none).

        The tracking number is derived from the carrier name and ``request.reference``:
        booking the same request again returns the same label, so a retried call never
        books twice; booking a different request under a reference already used is a
        ``ConflictError``. Raises ``DriverFailure`` when no service can ship it."""
        booked = self._bookings.get(request.reference)
        if booked is not None:
            if booked[0] != request:
                raise ConflictError(
                    f"shipment {request.reference!r} is already booked with {self.name}"
                    f" as {booked[1].tracking_number} with other details; use a new reference")
            return booked[1]
        quotes = self.quote(request)
        if not quotes:
            wanted = f" with service {request.service!r}" if request.service else ""
            raise DriverFailure(
                f"{self.name} cannot ship {request.reference!r}{wanted} to"
                f" {_destination(request.recipient)}: no zone serves it or a parcel is"
                " heavier than its rate table allows")
        chosen = quotes[0]
        tracking_number = self._tracking_number(request.reference)
        label = ShipmentLabel(tracking_number=tracking_number, service=chosen.service,
                              amount=chosen.amount, label=self._label(request, chosen,
                                                                      tracking_number),
                              label_format="txt")
        self._bookings[request.reference] = (request, label)
        self._references[tracking_number] = request.reference
        if request.idempotency_key:
            self._by_key[request.idempotency_key] = request.reference
        self._tracking.record([TrackingEvent(
            tracking_number=tracking_number, status=TrackingStatus.PENDING, at=self._clock(),
            description=f"label created for {request.reference}")])
        return label

    def track(self, tracking_number: str) -> Sequence[TrackingEvent]:
        """The events of a shipment this instance booked or received webhooks for, oldest
        first; ``DriverFailure`` for a tracking number it has never seen."""
        if tracking_number not in self._tracking:
            raise DriverFailure(
                f"{self.name} knows no shipment {tracking_number!r}: it was not booked"
                " through this account and no tracking webhook mentioned it (tracking is"
                " kept in memory, so it is also lost when the ERP restarts)")
        return self._tracking.events(tracking_number)

    def parse_tracking_webhook(self, request: WebhookRequest) -> Sequence[TrackingEvent]:
        """The events in an authentic tracking webhook, which are also recorded for
        ``track``. ``WebhookRejected`` when the signature is missing or wrong or the
        request is stale; ``ValidationError`` when an authentic body is malformed."""
        verify_tracking_webhook(request, self._settings.webhook_secret, now=self._clock(),
                                tolerance=self._settings.webhook_tolerance)
        events = read_tracking_events(request.body)
        self._tracking.record(events)
        return events

    def find_shipment(self, idempotency_key: str) -> ShipmentLabel | None:
        """The label booked with ``idempotency_key`` by this instance (or under that
        reference), ``None`` when there is none or it was voided."""
        reference = self._by_key.get(idempotency_key, idempotency_key)
        booked = self._bookings.get(reference)
        if booked is None or booked[1].tracking_number in self._voided:
            return None
        return booked[1]

    def void_shipment(self, tracking_number: str) -> None:
        """Cancel a label this instance booked; ``DriverFailure`` for one it does not
        know or whose parcel has moved past pre-transit."""
        if tracking_number not in self._references:
            raise DriverFailure(f"{self.name} knows no label {tracking_number!r}")
        events = self._tracking.events(tracking_number)
        if any(event.status != TrackingStatus.PENDING for event in events):
            raise DriverFailure(f"{self.name} cannot void {tracking_number}: the parcel has"
                                " been collected")
        self._voided.add(tracking_number)
        reference = self._references[tracking_number]
        self._bookings.pop(reference, None)
        self._by_key = {k: v for k, v in self._by_key.items() if v != reference}

    def _tracking_number(self, reference: str) -> str:
        """Prefix, 12 digits from a hash of carrier and reference, and a Luhn check digit:
        the same reference always gets the same number; two references getting the same
        one (a one-in-10**12 chance per pair) is refused rather than merged."""
        digest = hashlib.sha256(f"{self.name}\n{reference}".encode()).hexdigest()
        digits = f"{int(digest, 16) % 10**12:012d}"
        number = f"{self._settings.tracking_prefix}{digits}{_luhn_check_digit(digits)}"
        owner = self._references.get(number)
        if owner is not None and owner != reference:
            raise DriverFailure(f"tracking number {number} of {reference!r} is already used by"
                                f" {owner!r}; book it under another reference")
        return number

    def _label(self, request: ShipmentRequest, quote: RateQuote, tracking_number: str) -> bytes:
        weight = sum(billable_weight(parcel) for parcel in request.parcels)
        lines = [
            f"{self.name} - {quote.service}",
            f"Tracking: {tracking_number}",
            f"Reference: {request.reference}",
            f"From: {_postal(request.sender)}",
            f"To: {_postal(request.recipient)}",
            f"Parcels: {len(request.parcels)}, {weight} kg",
            f"Postage: {quote.amount.value} {quote.amount.currency}",
        ]
        return ("\n".join(lines) + "\n").encode()


def _destination(address: Address) -> str:
    return f"{address.country} {address.postal_code}".strip()


def _postal(address: Address) -> str:
    parts = [address.name, address.line1, address.line2,
             f"{address.postal_code} {address.city}", address.country]
    return ", ".join(part for part in parts if part)
