"""The courier's signed delivery notification captures (or voids) the payment."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from cod_fixtures import *  # noqa: F403  (the fixtures)
from cod_fixtures import NOW

from erp_payment_cod.exceptions import PaymentNotFound, PaymentStateConflict
from erp_sdk import ValidationError
from erp_sdk.drivers import (
    Amount,
    PaymentNotification,
    PaymentStatus,
    WebhookRejected,
    WebhookRequest,
)

COLLECTED_AT = dt.datetime(2026, 3, 2, 15, 5, tzinfo=dt.UTC)


def test_a_cash_collected_notification_captures_the_payment(cod, authorized,
                                                            make_notification):
    notification = cod.parse_notification(make_notification(authorized, amount="49.90"))

    assert notification == PaymentNotification(authorized, PaymentStatus.CAPTURED,
                                               Amount("49.90", "EUR"), COLLECTED_AT)
    assert cod.payment(authorized).captured == Decimal("49.90")


def test_a_captured_payment_can_then_be_refunded(cod, authorized, make_notification):
    cod.parse_notification(make_notification(authorized))

    assert cod.refund(authorized, Amount("9.90", "EUR")).status is \
        PaymentStatus.PARTIALLY_REFUNDED


def test_the_same_notification_delivered_again_changes_nothing(cod, authorized,
                                                               make_notification):
    webhook = make_notification(authorized)
    first = cod.parse_notification(webhook)

    assert cod.parse_notification(webhook) == first
    assert cod.payment(authorized).captured == Decimal("49.90")


def test_a_second_collection_for_the_same_payment_is_refused(cod, authorized,
                                                             make_notification):
    cod.parse_notification(make_notification(authorized, event_id="dlv-1"))

    with pytest.raises(PaymentStateConflict, match="already captured"):
        cod.parse_notification(make_notification(authorized, event_id="dlv-2"))


def test_a_collection_after_a_capture_by_the_seller_is_refused(cod, captured,
                                                               make_notification):
    with pytest.raises(PaymentStateConflict, match="already captured"):
        cod.parse_notification(make_notification(captured))


def test_collecting_more_than_authorized_is_refused(cod, authorized, make_notification):
    with pytest.raises(PaymentStateConflict, match=r"only 49.90 EUR was authorized"):
        cod.parse_notification(make_notification(authorized, amount="50.00"))

    assert cod.payment(authorized).status is PaymentStatus.AUTHORIZED


def test_a_collection_for_an_unknown_payment_is_not_found(cod, make_notification):
    with pytest.raises(PaymentNotFound):
        cod.parse_notification(make_notification("cod:SO-404"))


def test_a_refused_delivery_voids_the_payment(cod, authorized, make_notification):
    notification = cod.parse_notification(make_notification(
        authorized, event="delivery_refused", amount=None))

    assert notification == PaymentNotification(authorized, PaymentStatus.VOIDED,
                                               Amount("49.90", "EUR"), COLLECTED_AT)
    with pytest.raises(PaymentStateConflict, match="voided"):
        cod.capture(authorized, Amount("49.90", "EUR"))


def test_a_refused_delivery_cannot_void_a_captured_payment(cod, captured, make_notification):
    with pytest.raises(PaymentStateConflict, match="refund it instead"):
        cod.parse_notification(make_notification(captured, event="delivery_refused",
                                                 amount=None))


def test_a_notification_signed_with_another_secret_is_rejected(cod, authorized,
                                                               make_notification):
    with pytest.raises(WebhookRejected, match="signature does not match"):
        cod.parse_notification(make_notification(authorized, secret="guessed"))

    assert cod.payment(authorized).status is PaymentStatus.AUTHORIZED


def test_a_notification_whose_amount_was_changed_is_rejected(cod, authorized,
                                                             make_notification):
    webhook = make_notification(authorized, amount="9.90")
    forged = WebhookRequest(headers=webhook.headers,
                            body=webhook.body.replace(b"9.90", b"49.90"))

    with pytest.raises(WebhookRejected, match="signature does not match"):
        cod.parse_notification(forged)


def test_a_notification_without_a_signature_is_rejected(cod, authorized, make_notification):
    webhook = make_notification(authorized)
    headers = {"x-cod-timestamp": webhook.headers["x-cod-timestamp"]}

    with pytest.raises(WebhookRejected, match="has no signature"):
        cod.parse_notification(WebhookRequest(headers=headers, body=webhook.body))


def test_a_notification_without_a_timestamp_is_rejected(cod, authorized, make_notification):
    webhook = make_notification(authorized)
    headers = {"x-cod-signature": webhook.headers["x-cod-signature"]}

    with pytest.raises(WebhookRejected, match="no x-cod-timestamp header"):
        cod.parse_notification(WebhookRequest(headers=headers, body=webhook.body))


def test_a_stale_notification_is_rejected(cod, authorized, make_notification):
    with pytest.raises(WebhookRejected, match=r"stale.*more than 300 s apart"):
        cod.parse_notification(make_notification(
            authorized, sent_at=NOW - dt.timedelta(seconds=301)))

    assert cod.payment(authorized).status is PaymentStatus.AUTHORIZED


def test_a_notification_from_the_future_is_rejected(cod, authorized, make_notification):
    with pytest.raises(WebhookRejected, match="stale"):
        cod.parse_notification(make_notification(
            authorized, sent_at=NOW + dt.timedelta(seconds=301)))


def test_a_notification_just_inside_the_tolerance_is_accepted(cod, authorized,
                                                              make_notification):
    notification = cod.parse_notification(make_notification(
        authorized, sent_at=NOW - dt.timedelta(seconds=300)))

    assert notification.status is PaymentStatus.CAPTURED


def test_replaying_a_captured_notification_under_a_fresh_timestamp_is_rejected(
        cod, authorized, make_notification):
    old = make_notification(authorized, sent_at=NOW - dt.timedelta(days=1))
    replayed = WebhookRequest(
        headers={**old.headers, "x-cod-timestamp": str(int(NOW.timestamp()))}, body=old.body)

    with pytest.raises(WebhookRejected, match="signature does not match"):
        cod.parse_notification(replayed)


def test_the_tolerance_comes_from_the_settings(make_cod, authorized, make_notification):
    cod = make_cod(webhook_tolerance_seconds=60)

    with pytest.raises(WebhookRejected, match="more than 60 s apart"):
        cod.parse_notification(make_notification(
            authorized, sent_at=NOW - dt.timedelta(seconds=61)))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(event="lost"), "event: 'lost' is not one of cash_collected"),
    (lambda d: d.pop("event_id"), "event_id: required"),
    (lambda d: d.pop("provider_reference"), "provider_reference: required"),
    (lambda d: d.update(at="2026-03-02T15:05:00"), "at: the time has no UTC offset"),
    (lambda d: d.update(at="tuesday"), "at: required"),
    (lambda d: d.update(amount=49.9), "amount: required: the collected amount as a decimal"),
    (lambda d: d.update(amount="forty"), "amount: 'forty' is not a decimal number"),
    (lambda d: d.pop("currency"), "currency: required"),
])
def test_an_authentic_but_malformed_notification_is_a_validation_error(
        cod, authorized, make_notification, change, message):
    document = {"event_id": "dlv-1", "event": "cash_collected",
                "provider_reference": authorized, "amount": "49.90", "currency": "EUR",
                "at": "2026-03-02T15:05:00Z"}
    change(document)

    with pytest.raises(ValidationError, match=message):
        cod.parse_notification(make_notification(body=json.dumps(document).encode()))


def test_a_notification_that_is_not_json_is_a_validation_error(cod, make_notification):
    with pytest.raises(ValidationError, match="not JSON"):
        cod.parse_notification(make_notification(body=b"<xml/>"))
