"""The carrier driver conformance kit: the behaviour every ``Carrier`` driver owes the
ERP, as tests a driver's own test suite inherits (re-exported by ``erp_sdk.testing``).

Subclass ``CarrierDriverConformance`` in a test module (name the subclass ``Test...``)
and give it three fixtures:

``carrier``
    the driver, built as the ERP builds it (``kernel.drivers.load`` or the class itself)
    and talking to the service or to its fake;
``shipment_request``
    a ``ShipmentRequest`` the carrier can quote and label (without idempotency key: the
    kit sets one per test);
``tracking_webhook``
    ``tracking_webhook(tracking_number, status_code) -> WebhookRequest``: an authentic
    webhook, signed as the carrier signs them, reporting one scan of the parcel
    (``status_code`` is the carrier's own code for "in transit").

Each test says one promise: rates in ``Decimal`` with a currency; a purchase repeated with
the same idempotency key books one label; a purchase is found by its key and an unknown
key finds nothing; a voided label is not found any more; tracking has aware UTC times,
oldest first; an authentic webhook is read and a forged one refused.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal

import attrs
import pytest

from erp_sdk.drivers import (
    Carrier,
    ShipmentRequest,
    TrackingEvent,
    WebhookRejected,
    WebhookRequest,
)


def _keyed(request: ShipmentRequest) -> ShipmentRequest:
    key = f"conformance-{uuid.uuid4().hex}"
    return attrs.evolve(request, idempotency_key=key, reference=key)


class CarrierDriverConformance:
    """Inherit, and give the fixtures ``carrier``, ``shipment_request`` and
    ``tracking_webhook`` (see the module's docstring)."""

    tracking_webhook_status_code = "in_transit"
    """The carrier's code for a parcel in transit, passed to ``tracking_webhook``."""

    def test_it_implements_the_carrier_protocol(self, carrier: Carrier) -> None:
        assert isinstance(carrier, Carrier)

    def test_it_quotes_decimal_amounts_with_a_currency_cheapest_first(
            self, carrier: Carrier, shipment_request: ShipmentRequest) -> None:
        quotes = list(carrier.quote(shipment_request))
        assert quotes, "the example request must be quotable"
        for quote in quotes:
            assert isinstance(quote.amount.value, Decimal)
            assert len(quote.amount.currency) == 3
            assert quote.service
        amounts = [quote.amount.value for quote in quotes]
        assert amounts == sorted(amounts)

    def test_a_purchase_repeated_with_its_idempotency_key_books_one_label(
            self, carrier: Carrier, shipment_request: ShipmentRequest) -> None:
        request = _keyed(shipment_request)
        first = carrier.create_shipment(request)
        again = carrier.create_shipment(request)
        assert first.tracking_number
        assert again.tracking_number == first.tracking_number

    def test_a_purchase_is_found_by_its_key_and_an_unknown_key_finds_nothing(
            self, carrier: Carrier, shipment_request: ShipmentRequest) -> None:
        request = _keyed(shipment_request)
        label = carrier.create_shipment(request)
        found = carrier.find_shipment(request.idempotency_key or "")
        assert found is not None and found.tracking_number == label.tracking_number
        assert carrier.find_shipment(f"never-used-{uuid.uuid4().hex}") is None

    def test_a_voided_label_is_not_found_any_more(
            self, carrier: Carrier, shipment_request: ShipmentRequest) -> None:
        request = _keyed(shipment_request)
        label = carrier.create_shipment(request)
        carrier.void_shipment(label.tracking_number)
        assert carrier.find_shipment(request.idempotency_key or "") is None

    def test_tracking_is_oldest_first_in_aware_utc(
            self, carrier: Carrier, shipment_request: ShipmentRequest) -> None:
        label = carrier.create_shipment(_keyed(shipment_request))
        events: list[TrackingEvent] = list(carrier.track(label.tracking_number))
        for event in events:
            assert event.at.utcoffset() == dt.timedelta(0)
            assert event.tracking_number == label.tracking_number
        assert [e.at for e in events] == sorted(e.at for e in events)

    def test_an_authentic_webhook_is_read_and_a_forged_one_refused(
            self, carrier: Carrier, shipment_request: ShipmentRequest,
            tracking_webhook: Callable[[str, str], WebhookRequest]) -> None:
        label = carrier.create_shipment(_keyed(shipment_request))
        webhook = tracking_webhook(label.tracking_number, self.tracking_webhook_status_code)
        events = list(carrier.parse_tracking_webhook(webhook))
        assert [event.tracking_number for event in events] == [label.tracking_number]
        assert events[0].at.utcoffset() == dt.timedelta(0)
        forged = WebhookRequest(webhook.headers, webhook.body.replace(b"}", b" }", 1))
        with pytest.raises(WebhookRejected):
            carrier.parse_tracking_webhook(forged)
        with pytest.raises(WebhookRejected):
            carrier.parse_tracking_webhook(WebhookRequest({}, webhook.body))
