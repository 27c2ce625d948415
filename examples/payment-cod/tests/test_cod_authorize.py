"""Authorizing at order: the promise is recorded, or declined for its currency or size."""

from __future__ import annotations

import importlib.metadata

import pytest
from cod_fixtures import *  # noqa: F403  (the fixtures)

from erp_payment_cod import CashOnDelivery
from erp_payment_cod.exceptions import PaymentStateConflict
from erp_sdk import ValidationError
from erp_sdk.drivers import Amount, PaymentProvider, PaymentResult, PaymentStatus


def test_the_driver_is_registered_in_the_payment_providers_namespace():
    [entry_point] = importlib.metadata.entry_points(group="erp.payment_providers", name="cod")

    assert entry_point.load() is CashOnDelivery
    assert entry_point.dist.name == "erp-payment-cod"


def test_the_driver_implements_the_payment_provider_protocol(cod):
    assert isinstance(cod, PaymentProvider)


def test_authorizing_records_the_promise_to_pay_at_delivery(cod, make_order):
    result = cod.authorize(make_order("49.90"))

    assert result == PaymentResult("cod:SO-1001", PaymentStatus.AUTHORIZED,
                                   Amount("49.90", "EUR"),
                                   "collect 49.90 EUR in cash at delivery")
    payment = cod.payment("cod:SO-1001")
    assert (payment.order_reference, payment.authorized, payment.captured) == (
        "SO-1001", Amount("49.90", "EUR").value, 0)


def test_authorizing_the_same_order_again_is_a_safe_retry(cod, make_order):
    first = cod.authorize(make_order("49.90"))

    assert cod.authorize(make_order("49.90")) == first


def test_authorizing_an_order_again_for_another_amount_is_a_conflict(cod, make_order):
    cod.authorize(make_order("49.90"))

    with pytest.raises(PaymentStateConflict, match="already has a cash-on-delivery payment of"
                                                   r" 49.90 EUR \(authorized\)"):
        cod.authorize(make_order("59.90"))


def test_authorizing_a_captured_order_again_is_a_conflict(cod, make_order, captured):
    with pytest.raises(PaymentStateConflict, match="captured"):
        cod.authorize(make_order("49.90"))


def test_an_order_up_to_the_maximum_is_authorized(cod, make_order):
    assert cod.authorize(make_order("500.00")).status is PaymentStatus.AUTHORIZED


def test_an_order_above_the_maximum_is_declined_and_not_recorded(cod, make_order):
    result = cod.authorize(make_order("500.01"))

    assert result.status is PaymentStatus.FAILED
    assert result.message == ("cash on delivery is limited to 500.00 EUR; this order is"
                              " 500.01 EUR")
    assert cod.ledger.get("cod:SO-1001") is None


def test_without_a_maximum_any_amount_is_authorized(make_cod, settings, make_order):
    settings.pop("max_amount")

    assert make_cod().authorize(make_order("98765.43")).status is PaymentStatus.AUTHORIZED


def test_an_order_in_another_currency_is_declined(cod, make_order):
    result = cod.authorize(make_order("49.90", currency="GBP"))

    assert (result.status, result.message) == (
        PaymentStatus.FAILED, "cash on delivery is collected in EUR only, not GBP")


@pytest.mark.parametrize("amount", ["0", "-5.00"])
def test_a_non_positive_amount_is_invalid(cod, make_order, amount):
    with pytest.raises(ValidationError, match="must be positive"):
        cod.authorize(make_order(amount))
