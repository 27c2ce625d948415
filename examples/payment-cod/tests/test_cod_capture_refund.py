"""Capturing the cash once, refunding it in parts, and the amounts exact to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cod_fixtures import *  # noqa: F403  (the fixtures)

from erp_payment_cod.exceptions import PaymentNotFound, PaymentStateConflict
from erp_sdk import ValidationError
from erp_sdk.drivers import Amount, PaymentResult, PaymentStatus


def eur(value: str) -> Amount:
    return Amount(value, "EUR")


def test_capturing_the_authorized_amount_captures_the_payment(cod, authorized):
    result = cod.capture(authorized, eur("49.90"))

    assert result == PaymentResult(authorized, PaymentStatus.CAPTURED, eur("49.90"),
                                   "collected 49.90 EUR in cash")
    assert cod.payment(authorized).captured == Decimal("49.90")


def test_capturing_less_than_authorized_is_allowed(cod, authorized):
    assert cod.capture(authorized, eur("45.00")).status is PaymentStatus.CAPTURED


def test_capturing_more_than_authorized_is_refused(cod, authorized):
    with pytest.raises(PaymentStateConflict, match=r"cannot capture 49.91 EUR on cod:SO-1001:"
                                                   r" only 49.90 EUR was authorized"):
        cod.capture(authorized, eur("49.91"))

    assert cod.payment(authorized).status is PaymentStatus.AUTHORIZED


def test_capturing_twice_is_refused(cod, captured):
    with pytest.raises(PaymentStateConflict, match=r"already captured \(49.90 EUR\): cash on"
                                                   " delivery is collected once"):
        cod.capture(captured, eur("1.00"))


def test_capturing_an_unknown_payment_is_not_found(cod):
    with pytest.raises(PaymentNotFound, match="no cash-on-delivery payment 'cod:SO-9'"):
        cod.capture("cod:SO-9", eur("1.00"))


def test_capturing_in_another_currency_is_invalid(cod, authorized):
    with pytest.raises(ValidationError, match="it is in EUR"):
        cod.capture(authorized, Amount("49.90", "USD"))


def test_refunding_before_the_capture_is_refused(cod, authorized):
    with pytest.raises(PaymentStateConflict, match="nothing was captured yet"):
        cod.refund(authorized, eur("10.00"))


def test_a_partial_refund_leaves_the_payment_partially_refunded(cod, captured):
    result = cod.refund(captured, eur("10.00"))

    assert (result.status, result.amount) == (PaymentStatus.PARTIALLY_REFUNDED, eur("10.00"))
    assert result.message == "refunded 10.00 EUR; 10.00 of 49.90 EUR captured is refunded"


def test_a_full_refund_leaves_the_payment_refunded(cod, captured):
    assert cod.refund(captured, eur("49.90")).status is PaymentStatus.REFUNDED


def test_partial_refunds_add_up_to_a_full_refund(cod, captured):
    cod.refund(captured, eur("20.00"))
    cod.refund(captured, eur("29.80"))

    assert cod.refund(captured, eur("0.10")).status is PaymentStatus.REFUNDED
    assert cod.payment(captured).refunded == Decimal("49.90")


def test_refunding_more_than_captured_is_refused(cod, captured):
    with pytest.raises(PaymentStateConflict, match=r"cannot refund 49.91 EUR on cod:SO-1001: only"
                                                   r" 49.90 EUR of the 49.90 EUR captured is"
                                                   r" left to refund"):
        cod.refund(captured, eur("49.91"))


def test_refunds_never_add_up_to_more_than_captured(cod, captured):
    cod.refund(captured, eur("40.00"))

    with pytest.raises(PaymentStateConflict, match=r"only 9.90 EUR of the 49.90 EUR captured"):
        cod.refund(captured, eur("9.91"))
    assert cod.payment(captured).refunded == Decimal("40.00")


def test_refunding_a_fully_refunded_payment_is_refused(cod, captured):
    cod.refund(captured, eur("49.90"))

    with pytest.raises(PaymentStateConflict, match=r"only 0.00 EUR"):
        cod.refund(captured, eur("0.01"))


def test_refunds_are_capped_by_the_captured_not_the_authorized_amount(cod, authorized):
    cod.capture(authorized, eur("45.00"))

    with pytest.raises(PaymentStateConflict, match=r"only 45.00 EUR"):
        cod.refund(authorized, eur("49.90"))


@pytest.mark.parametrize("amount", ["0", "-1.00"])
def test_a_non_positive_refund_is_invalid(cod, captured, amount):
    with pytest.raises(ValidationError, match="must be positive"):
        cod.refund(captured, eur(amount))


def test_amounts_stay_exact_decimals_to_the_cent(cod, make_order):
    reference = cod.authorize(make_order("0.30", reference="SO-7")).provider_reference
    cod.capture(reference, eur("0.30"))
    cod.refund(reference, eur("0.10"))
    cod.refund(reference, eur("0.20"))   # 0.1 + 0.2 is 0.3 exactly: nothing is left over

    payment = cod.payment(reference)
    assert payment.status is PaymentStatus.REFUNDED
    assert (payment.captured, payment.refunded) == (Decimal("0.30"), Decimal("0.30"))
    with pytest.raises(PaymentStateConflict, match=r"only 0.00 EUR"):
        cod.refund(reference, eur("0.01"))


def test_thirds_of_a_payment_refund_it_to_the_cent(cod, make_order):
    reference = cod.authorize(make_order("99.99", reference="SO-8")).provider_reference
    cod.capture(reference, eur("99.99"))
    for _ in range(3):
        cod.refund(reference, eur("33.33"))

    assert str(cod.payment(reference).refunded) == "99.99"
    assert cod.payment(reference).status is PaymentStatus.REFUNDED


def test_amounts_with_more_precision_than_cents_are_kept_exactly(cod, make_order):
    reference = cod.authorize(make_order("10.005", reference="SO-9")).provider_reference

    with pytest.raises(PaymentStateConflict, match=r"only 10.005 EUR was authorized"):
        cod.capture(reference, eur("10.0051"))
    cod.capture(reference, eur("10.005"))
    assert cod.payment(reference).captured == Decimal("10.005")
