"""Booking shipments: tracking numbers, labels, retries, and refusals."""

from __future__ import annotations

import pytest
from tablerate_fixtures import *  # noqa: F403  (the fixtures)

from erp_sdk import ConflictError
from erp_sdk.drivers import Amount, DriverFailure, TrackingStatus


def test_booking_uses_the_cheapest_service_and_returns_a_text_label(carrier, make_shipment):
    label = carrier.create_shipment(make_shipment("0.8", "2"))

    assert label.service == "standard"
    assert label.amount == Amount("12.40", "EUR")
    assert label.label_format == "txt"
    text = label.label.decode()
    assert f"Tracking: {label.tracking_number}" in text
    assert "Reference: SO-1001" in text
    assert "To: Camille Martin, 12 rue Mercière, 69002 Lyon, FR" in text
    assert "Parcels: 2, 2.800 kg" in text
    assert "Postage: 12.40 EUR" in text


def test_booking_uses_the_service_the_request_names(carrier, make_shipment):
    label = carrier.create_shipment(make_shipment("0.8", service="express"))

    assert (label.service, label.amount) == ("express", Amount("11.40", "EUR"))


def test_the_tracking_number_is_deterministic_per_reference(make_carrier, make_shipment):
    first = make_carrier().create_shipment(make_shipment("1", reference="SO-1"))
    again = make_carrier().create_shipment(make_shipment("1", reference="SO-1"))

    assert first.tracking_number == again.tracking_number
    assert first.tracking_number.startswith("TR")
    assert len(first.tracking_number) == 15 and first.tracking_number[2:].isdigit()


def test_tracking_numbers_are_unique_across_references(carrier, make_shipment):
    numbers = {carrier.create_shipment(make_shipment("1", reference=f"SO-{n}")).tracking_number
               for n in range(2000)}

    assert len(numbers) == 2000


def test_the_tracking_number_ends_with_a_luhn_check_digit(carrier, make_shipment):
    digits = carrier.create_shipment(make_shipment("1")).tracking_number[2:]

    total = sum(sum(divmod(int(d) * (2 if i % 2 else 1), 10))
                for i, d in enumerate(reversed(digits)))
    assert total % 10 == 0


def test_the_tracking_prefix_comes_from_the_settings(make_carrier, make_shipment):
    label = make_carrier(tracking_prefix="LUM").create_shipment(make_shipment("1"))

    assert label.tracking_number.startswith("LUM")


def test_booking_the_same_request_again_returns_the_same_label(carrier, make_shipment):
    request = make_shipment("1")

    assert carrier.create_shipment(request) == carrier.create_shipment(request)
    assert len(carrier.track(carrier.create_shipment(request).tracking_number)) == 1


def test_booking_another_request_under_a_used_reference_is_a_conflict(carrier, make_shipment):
    carrier.create_shipment(make_shipment("1"))

    with pytest.raises(ConflictError, match="'SO-1001' is already booked"):
        carrier.create_shipment(make_shipment("3"))


def test_booking_to_an_unserved_destination_is_a_driver_failure(carrier, make_shipment):
    with pytest.raises(DriverFailure, match="cannot ship 'SO-1001' to DE 10115"):
        carrier.create_shipment(make_shipment("1", country="DE", postal_code="10115"))


def test_booking_a_service_that_does_not_serve_the_zone_is_a_driver_failure(
        carrier, make_shipment):
    with pytest.raises(DriverFailure, match="with service 'express' to BE 1000"):
        carrier.create_shipment(make_shipment("1", country="BE", postal_code="1000",
                                              service="express"))


def test_a_booked_shipment_is_tracked_as_pending(carrier, make_shipment, clock):
    label = carrier.create_shipment(make_shipment("1"))

    [event] = carrier.track(label.tracking_number)
    assert (event.status, event.at) == (TrackingStatus.PENDING, clock.now)
    assert event.description == "label created for SO-1001"


def test_tracking_an_unknown_shipment_is_a_driver_failure(carrier):
    with pytest.raises(DriverFailure, match="knows no shipment 'TR000000000000'"):
        carrier.track("TR000000000000")


def test_tracking_is_kept_per_driver_instance(make_carrier, make_shipment):
    label = make_carrier().create_shipment(make_shipment("1"))

    with pytest.raises(DriverFailure):
        make_carrier().track(label.tracking_number)
