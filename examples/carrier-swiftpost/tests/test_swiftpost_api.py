"""What the SwiftPost driver does beyond the kit, against the fake API over HTTP."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from swiftpost_fixtures import *  # noqa: F403
from swiftpost_fixtures import request_to_lyon

from erp_sdk.drivers import DriverFailure, OutcomeUnknown, TrackingStatus


def test_the_label_is_a_pdf_and_its_price_the_quoted_one(carrier):
    [cheapest, *_] = carrier.quote(request_to_lyon("2"))
    label = carrier.create_shipment(request_to_lyon("2", key="k-pdf"))
    assert label.label.startswith(b"%PDF-1.4") and label.label.rstrip().endswith(b"%%EOF")
    assert label.amount.value == cheapest.amount.value == Decimal("7.10")


def test_a_timed_out_purchase_is_unknown_and_found_by_its_key(carrier, fake_api):
    fake_api.purchase_fault = "timeout"
    with pytest.raises(OutcomeUnknown):
        carrier.create_shipment(request_to_lyon("1", key="k-timeout"))
    fake_api.purchase_fault = None
    found = carrier.find_shipment("k-timeout")
    assert found is not None and fake_api.purchases == 1


def test_a_server_error_is_an_unknown_outcome(carrier, fake_api):
    fake_api.purchase_fault = "server_error"
    with pytest.raises(OutcomeUnknown):
        carrier.create_shipment(request_to_lyon("1", key="k-503"))


def test_a_collected_parcel_cannot_be_voided(carrier, fake_api):
    label = carrier.create_shipment(request_to_lyon("1", key="k-void"))
    fake_api.scan(label.tracking_number, "picked_up", push=False)
    with pytest.raises(DriverFailure):
        carrier.void_shipment(label.tracking_number)


def test_scan_codes_are_normalised_and_the_raw_scan_kept(carrier, fake_api):
    label = carrier.create_shipment(request_to_lyon("1", key="k-track"))
    fake_api.scan(label.tracking_number, "delivery_attempt_failed", location="Lyon",
                  push=False)
    events = carrier.track(label.tracking_number)
    assert [e.status for e in events] == [TrackingStatus.PENDING,
                                          TrackingStatus.FAILED_ATTEMPT]
    assert events[1].raw["code"] == "delivery_attempt_failed" and events[1].event_id


def test_invoices_carry_the_deliberate_discrepancies(carrier):
    labels = [carrier.create_shipment(request_to_lyon("1", key=f"k-inv-{n}")) for n in range(3)]
    [invoice] = carrier.fetch_invoices(dt.datetime.now(dt.UTC).date())
    billed = [(line.tracking_number, line.amount.value) for line in invoice.lines]
    assert billed[2] == (labels[2].tracking_number, labels[2].amount.value + Decimal("1.25"))
    assert billed[3][0] == labels[0].tracking_number  # billed twice
    assert billed[4][0] == "SP9999999999"  # never labelled


def test_a_wrong_api_key_is_a_driver_failure(fake_api):
    from erp_carrier_swiftpost import SwiftPostCarrier

    carrier = SwiftPostCarrier({"base_url": fake_api.url}, {"api_key": "wrong",
                                                            "webhook_secret": "x"})
    with pytest.raises(DriverFailure):
        carrier.quote(request_to_lyon("1"))
