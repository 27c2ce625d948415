"""The driver against the fake Tillpoint API on a local port: payments, refunds, payouts
and signed webhooks, as the ERP's protocols describe them."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from tillpoint_fixtures import *  # noqa: F403

from erp_payment_tillpoint import TillpointProvider
from erp_sdk import ValidationError
from erp_sdk.drivers import (
    Amount,
    DriverFailure,
    OutcomeUnknown,
    PaymentPayouts,
    PaymentProvider,
    PaymentRequest,
    PaymentStatus,
    PayoutLineKind,
    WebhookRejected,
    WebhookRequest,
)

D = Decimal


def test_the_driver_is_a_payment_provider_that_lists_payouts(provider):
    assert isinstance(provider, PaymentProvider)
    assert isinstance(provider, PaymentPayouts)


def test_an_account_without_url_or_secrets_is_refused_naming_each_problem():
    with pytest.raises(ValidationError) as refused:
        TillpointProvider(settings={"base_url": "ftp://x"}, secrets={})
    assert set(refused.value.errors) == {"base_url", "api_key", "webhook_secret"}


def test_a_payment_is_authorised_captured_and_refunded_in_parts(provider, fake_api):
    authorised = provider.authorize(PaymentRequest("INV-1", Amount("50.00", "EUR"),
                                                   customer_reference="7"))
    assert authorised.status == PaymentStatus.AUTHORIZED
    captured = provider.capture(authorised.provider_reference, Amount("50.00", "EUR"))
    assert captured.status == PaymentStatus.CAPTURED
    first = provider.refund(captured.provider_reference, Amount("20.00", "EUR"))
    assert first.status == PaymentStatus.PARTIALLY_REFUNDED
    rest = provider.refund(captured.provider_reference, Amount("30.00", "EUR"))
    assert rest.status == PaymentStatus.REFUNDED
    too_much = provider.refund(captured.provider_reference, Amount("0.01", "EUR"))
    assert too_much.status == PaymentStatus.FAILED and "invalid_amount" in too_much.message
    assert fake_api.payments[captured.provider_reference]["refunded"] == "50.00"


def test_a_declined_card_is_a_failed_result_with_the_reason(provider):
    declined = provider.authorize(PaymentRequest("INV-2", Amount("66.60", "EUR")))
    assert declined.status == PaymentStatus.FAILED
    assert declined.message.startswith("card_declined")


def test_amounts_finer_than_cents_are_refused_not_rounded(provider, fake_api):
    with pytest.raises(ValidationError, match="whole cents"):
        provider.authorize(PaymentRequest("INV-9", Amount("1.005", "EUR")))
    assert fake_api.payments == {}


def test_a_wrong_api_key_and_an_unreachable_api_are_driver_failures(fake_api):
    wrong = TillpointProvider(settings={"base_url": fake_api.url},
                              secrets={"api_key": "nope", "webhook_secret": "s"})
    with pytest.raises(DriverFailure, match="unauthorized"):
        wrong.authorize(PaymentRequest("INV-3", Amount("5.00", "EUR")))
    fake_api.stop()
    gone = TillpointProvider(settings={"base_url": fake_api.url, "timeout_seconds": 1},
                             secrets={"api_key": "k", "webhook_secret": "s"})
    with pytest.raises(OutcomeUnknown):
        gone.authorize(PaymentRequest("INV-3", Amount("5.00", "EUR")))


def test_a_refund_retried_with_the_same_key_is_done_once(provider, fake_api):
    payment = fake_api.create_payment({"reference": "INV-4", "amount": "10.00",
                                       "currency": "EUR", "capture": True})
    import urllib.request

    def refund_call() -> dict:
        request = urllib.request.Request(
            f"{fake_api.url}/v1/payments/{payment['id']}/refunds",
            data=b'{"amount": "4.00"}', method="POST",
            headers={"Authorization": f"Bearer {fake_api.api_key}",
                     "Content-Type": "application/json", "Idempotency-Key": "k-1"})
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    assert refund_call() == refund_call()
    assert fake_api.payments[payment["id"]]["refunded"] == "4.00"


def test_a_signed_webhook_is_read_and_a_forged_or_stale_one_rejected(provider, fake_api):
    payment = fake_api.create_payment({"reference": "INV-5", "amount": "12.00",
                                       "currency": "EUR"})
    fake_api.capture(payment["id"])
    body, headers = fake_api.sent[-1]
    notification = provider.parse_notification(WebhookRequest(headers, body))
    assert notification.status == PaymentStatus.CAPTURED
    assert notification.provider_reference == payment["id"]
    assert notification.amount == Amount("12.00", "EUR")
    assert notification.event_id == json.loads(body)["id"]
    with pytest.raises(WebhookRejected):
        provider.parse_notification(WebhookRequest(headers, body.replace(b"12.00", b"99.00")))
    stale = fake_api.signed_headers(body, timestamp=int(dt.datetime.now(dt.UTC).timestamp())
                                    - 3600)
    with pytest.raises(WebhookRejected, match="ago"):
        provider.parse_notification(WebhookRequest(stale, body))


def test_payouts_list_sales_fees_refunds_and_reserves_that_add_up(provider, fake_api):
    """Sales 100.00 and 40.00, 15.00 refunded: fees 1.40 + 0.25 and 0.56 + 0.25, a 10 %
    reserve of 14.00; the next payout releases it."""
    first = fake_api.create_payment({"reference": "INV-6", "amount": "100.00",
                                     "currency": "EUR", "capture": True})
    fake_api.create_payment({"reference": "INV-7", "amount": "40.00", "currency": "EUR",
                             "capture": True})
    fake_api.refund(first["id"], D("15.00"))
    today = dt.date(2026, 3, 2)
    fake_api.pay_out(today)
    fake_api.pay_out(today + dt.timedelta(days=7), release_reserves=True)

    [payout, release] = provider.fetch_payouts(today)
    kinds: dict[PayoutLineKind, Decimal] = {}
    for line in payout.lines:
        kinds[line.kind] = kinds.get(line.kind, D(0)) + line.amount
    assert kinds == {PayoutLineKind.SALE: D("140.00"), PayoutLineKind.REFUND: D("-15.00"),
                     PayoutLineKind.FEE: D("-2.46"), PayoutLineKind.RESERVE: D("-14.00")}
    assert payout.amount == D("108.54") == sum(line.amount for line in payout.lines)
    assert {line.order_reference for line in payout.lines if line.kind == "sale"} == {
        "INV-6", "INV-7"}
    assert [(line.kind, line.amount) for line in release.lines] == [
        (PayoutLineKind.RESERVE_RELEASE, D("14.00"))]
    assert provider.fetch_payouts(today + dt.timedelta(days=1)) == [release]
