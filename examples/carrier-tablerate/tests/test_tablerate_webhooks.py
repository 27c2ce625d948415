"""Tracking webhooks: signature and freshness checks, parsing, and what track() returns."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tablerate_fixtures import *  # noqa: F403  (the fixtures)
from tablerate_fixtures import NOW

from erp_sdk import ValidationError
from erp_sdk.drivers import (
    DriverFailure,
    TrackingEvent,
    TrackingStatus,
    WebhookRejected,
    WebhookRequest,
)

IN_TRANSIT = {"tracking_number": "TR4821093355127", "status": "in_transit",
              "at": "2026-03-02T08:15:00+00:00", "location": "Lyon hub",
              "description": "Arrived at hub"}
DELIVERED = {"tracking_number": "TR4821093355127", "status": "delivered",
             "at": "2026-03-02T10:40:00+01:00", "location": "Lyon"}


def test_an_authentic_webhook_yields_its_tracking_events(carrier, make_webhook):
    events = carrier.parse_tracking_webhook(make_webhook(IN_TRANSIT, DELIVERED))

    assert events == [
        TrackingEvent("TR4821093355127", TrackingStatus.IN_TRANSIT,
                      dt.datetime(2026, 3, 2, 8, 15, tzinfo=dt.UTC), "Lyon hub",
                      "Arrived at hub"),
        TrackingEvent("TR4821093355127", TrackingStatus.DELIVERED,
                      dt.datetime(2026, 3, 2, 9, 40, tzinfo=dt.UTC), "Lyon"),
    ]


def test_track_returns_the_events_webhooks_brought_oldest_first(carrier, make_webhook):
    carrier.parse_tracking_webhook(make_webhook(DELIVERED))
    carrier.parse_tracking_webhook(make_webhook(IN_TRANSIT))

    assert [event.status for event in carrier.track("TR4821093355127")] == [
        TrackingStatus.IN_TRANSIT, TrackingStatus.DELIVERED]


def test_webhook_events_follow_the_booking_event(carrier, make_shipment, make_webhook, clock):
    number = carrier.create_shipment(make_shipment("1")).tracking_number
    clock.now += dt.timedelta(hours=2)
    carrier.parse_tracking_webhook(make_webhook(
        {"tracking_number": number, "status": "out_for_delivery",
         "at": "2026-03-02T10:00:00Z"}, sent_at=clock.now))

    assert [event.status for event in carrier.track(number)] == [
        TrackingStatus.PENDING, TrackingStatus.OUT_FOR_DELIVERY]


def test_a_webhook_delivered_twice_records_its_events_once(carrier, make_webhook):
    webhook = make_webhook(IN_TRANSIT)
    carrier.parse_tracking_webhook(webhook)
    carrier.parse_tracking_webhook(webhook)

    assert len(carrier.track("TR4821093355127")) == 1


def test_header_names_are_case_insensitive(carrier, make_webhook):
    webhook = make_webhook(IN_TRANSIT)
    shouted = WebhookRequest(headers={k.upper(): v for k, v in webhook.headers.items()},
                             body=webhook.body)

    assert len(carrier.parse_tracking_webhook(shouted)) == 1


def test_a_webhook_signed_with_another_secret_is_rejected(carrier, make_webhook):
    with pytest.raises(WebhookRejected, match="signature does not match"):
        carrier.parse_tracking_webhook(make_webhook(IN_TRANSIT, secret="not-the-secret"))


def test_a_webhook_whose_body_was_changed_is_rejected(carrier, make_webhook):
    webhook = make_webhook(IN_TRANSIT)
    forged = WebhookRequest(headers=webhook.headers,
                            body=webhook.body.replace(b"in_transit", b"delivered"))

    with pytest.raises(WebhookRejected, match="signature does not match"):
        carrier.parse_tracking_webhook(forged)


def test_a_webhook_without_a_signature_is_rejected(carrier, make_webhook):
    webhook = make_webhook(IN_TRANSIT)
    headers = {"x-tablerate-timestamp": webhook.headers["x-tablerate-timestamp"]}

    with pytest.raises(WebhookRejected, match="has no signature"):
        carrier.parse_tracking_webhook(WebhookRequest(headers=headers, body=webhook.body))


def test_a_webhook_without_a_timestamp_is_rejected(carrier, make_webhook):
    webhook = make_webhook(IN_TRANSIT)
    headers = {"x-tablerate-signature": webhook.headers["x-tablerate-signature"]}

    with pytest.raises(WebhookRejected, match="no x-tablerate-timestamp header"):
        carrier.parse_tracking_webhook(WebhookRequest(headers=headers, body=webhook.body))


def test_a_webhook_with_a_malformed_timestamp_is_rejected(carrier, make_webhook):
    webhook = make_webhook(IN_TRANSIT)
    headers = {**webhook.headers, "x-tablerate-timestamp": "yesterday"}

    with pytest.raises(WebhookRejected, match="not Unix seconds"):
        carrier.parse_tracking_webhook(WebhookRequest(headers=headers, body=webhook.body))


def test_a_stale_webhook_is_rejected(carrier, make_webhook):
    sent_at = NOW - dt.timedelta(seconds=301)

    with pytest.raises(WebhookRejected, match=r"stale.*more than 300 s apart"):
        carrier.parse_tracking_webhook(make_webhook(IN_TRANSIT, sent_at=sent_at))


def test_a_webhook_from_the_future_is_rejected(carrier, make_webhook):
    with pytest.raises(WebhookRejected, match="stale"):
        carrier.parse_tracking_webhook(make_webhook(IN_TRANSIT,
                                                    sent_at=NOW + dt.timedelta(minutes=6)))


def test_a_webhook_just_inside_the_tolerance_is_accepted(carrier, make_webhook):
    sent_at = NOW - dt.timedelta(seconds=300)

    assert carrier.parse_tracking_webhook(make_webhook(IN_TRANSIT, sent_at=sent_at))


def test_the_tolerance_comes_from_the_settings(make_carrier, make_webhook):
    carrier = make_carrier(webhook_tolerance_seconds=30)

    with pytest.raises(WebhookRejected, match="more than 30 s apart"):
        carrier.parse_tracking_webhook(make_webhook(IN_TRANSIT,
                                                    sent_at=NOW - dt.timedelta(seconds=31)))


def test_replaying_a_captured_webhook_with_a_fresh_timestamp_is_rejected(
        carrier, make_webhook):
    captured = make_webhook(IN_TRANSIT, sent_at=NOW - dt.timedelta(hours=1))
    replayed = WebhookRequest(
        headers={**captured.headers, "x-tablerate-timestamp": str(int(NOW.timestamp()))},
        body=captured.body)

    with pytest.raises(WebhookRejected, match="signature does not match"):
        carrier.parse_tracking_webhook(replayed)


def test_a_rejected_webhook_records_nothing(carrier, make_webhook):
    with pytest.raises(WebhookRejected):
        carrier.parse_tracking_webhook(make_webhook(IN_TRANSIT, secret="wrong"))

    with pytest.raises(DriverFailure, match="knows no shipment"):
        carrier.track("TR4821093355127")


@pytest.mark.parametrize(("body", "message"), [
    (b"not json", "not JSON"),
    (b"[]", "must be"),
    (json.dumps({"events": [{"status": "in_transit"}]}).encode(),
     r"events\[0\]\.tracking_number: required"),
    (json.dumps({"events": [{**IN_TRANSIT, "status": "lost"}]}).encode(),
     r"events\[0\]\.status: 'lost' is not one of pending, in_transit"),
    (json.dumps({"events": [{**IN_TRANSIT, "at": "2026-03-02T08:15:00"}]}).encode(),
     "has no UTC offset"),
    (json.dumps({"events": [IN_TRANSIT, "x"]}).encode(), r"events\[1\]: must be an object"),
])
def test_an_authentic_but_malformed_body_is_a_validation_error(
        carrier, make_webhook, body, message):
    with pytest.raises(ValidationError, match=message):
        carrier.parse_tracking_webhook(make_webhook(body=body))
