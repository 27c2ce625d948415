"""Quotes: zones by destination, weight brackets, the per-kg surcharge, Decimal to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tablerate_fixtures import *  # noqa: F403  (the fixtures)

from erp_sdk import ValidationError
from erp_sdk.drivers import Amount, RateQuote


def prices(quotes) -> dict[str, Decimal]:
    return {quote.service: quote.amount.value for quote in quotes}


def test_a_domestic_parcel_gets_one_quote_per_service_cheapest_first(carrier, make_shipment):
    quotes = carrier.quote(make_shipment("0.8"))

    assert quotes == [
        RateQuote("Tablerate Express", "standard", Amount("4.90", "EUR"), transit_days=3),
        RateQuote("Tablerate Express", "express", Amount("11.40", "EUR"), transit_days=1),
    ]


@pytest.mark.parametrize(("weight", "price"), [
    ("0.001", "4.90"),
    ("1", "4.90"),          # a bracket's bound is inclusive
    ("1.000", "4.90"),
    ("1.0001", "7.50"),     # rounded up to 1.001 kg: the next bracket
    ("1.001", "7.50"),
    ("4.9999999999", "7.50"),
    ("5.0000000001", "12.00"),
    ("20", "12.00"),
])
def test_a_parcel_is_priced_by_the_first_bracket_that_holds_its_weight(
        carrier, make_shipment, weight, price):
    assert prices(carrier.quote(make_shipment(weight)))["standard"] == Decimal(price)


@pytest.mark.parametrize(("weight", "price"), [
    ("21", "12.45"),            # 12.00 + 1 kg x 0.45
    ("20.5", "12.23"),          # 12.00 + 0.225 -> 12.225 -> 12.23 (half up)
    ("20.0001", "12.00"),       # rounded up to 20.001 kg: 12.00045 -> 12.00
    ("20.0111", "12.01"),       # 20.012 kg: 12.0054 -> 12.01
    ("20.01111111111", "12.01"),
    ("31.1", "17.00"),          # 12.00 + 11.1 x 0.45 = 16.995 -> 17.00 (half up)
])
def test_above_the_last_bracket_each_extra_kg_costs_the_surcharge_rounded_half_up(
        carrier, make_shipment, weight, price):
    assert prices(carrier.quote(make_shipment(weight)))["standard"] == Decimal(price)


def test_a_quote_is_exact_to_the_cent_for_several_parcels(carrier, make_shipment):
    quote = carrier.quote(make_shipment("0.3333333", "1.0000001", "22.2222222"))

    # 4.90 + 7.50 (1.001 kg) + (12.00 + 2.223 x 0.45 = 13.00035 -> 13.00)
    assert prices(quote) == {"standard": Decimal("25.40"), "express": Decimal("31.90")}
    assert [str(each.amount.value) for each in quote] == ["25.40", "31.90"]


def test_a_postal_code_prefix_zone_wins_over_its_country(carrier, make_shipment):
    assert prices(carrier.quote(make_shipment("2", postal_code="20000"))) == {
        "standard": Decimal("11.00")}
    assert prices(carrier.quote(make_shipment("2", postal_code="2 0090"))) == {
        "standard": Decimal("11.00")}
    assert prices(carrier.quote(make_shipment("2", postal_code="21000")))["standard"] == \
        Decimal("7.50")


def test_the_longest_matching_postal_prefix_wins(make_carrier, settings, make_shipment):
    zones = {**settings["zones"],
             "ajaccio": {"destinations": ["FR:200"], "brackets": {"5": "9.00"}}}
    carrier = make_carrier(zones=zones)

    assert prices(carrier.quote(make_shipment("2", postal_code="20090"))) == {
        "standard": Decimal("9.00")}
    assert prices(carrier.quote(make_shipment("2", postal_code="20290"))) == {
        "standard": Decimal("11.00")}


def test_a_service_limited_to_some_zones_is_not_quoted_elsewhere(carrier, make_shipment):
    assert prices(carrier.quote(make_shipment("3", country="BE", postal_code="1000"))) == {
        "standard": Decimal("15.90")}


def test_an_unserved_country_gets_no_quote(carrier, make_shipment):
    assert carrier.quote(make_shipment("1", country="DE", postal_code="10115")) == []


def test_a_parcel_above_the_last_bracket_without_surcharge_gets_no_quote(
        carrier, make_shipment):
    assert carrier.quote(make_shipment("5.001", postal_code="20000")) == []
    assert carrier.quote(make_shipment("1", "10.5", country="NL", postal_code="1012")) == []


def test_asking_for_one_service_quotes_only_that_service(carrier, make_shipment):
    assert prices(carrier.quote(make_shipment("1", service="express"))) == {
        "express": Decimal("11.40")}


def test_asking_for_an_unknown_service_names_the_services(carrier, make_shipment):
    with pytest.raises(ValidationError, match="no service 'overnight'; services: standard,"
                                              " express"):
        carrier.quote(make_shipment("1", service="overnight"))


@pytest.mark.parametrize("weight", ["0", "-1", "NaN"])
def test_a_parcel_without_a_positive_weight_is_refused(carrier, make_shipment, weight):
    with pytest.raises(ValidationError, match="must weigh more than 0 kg"):
        carrier.quote(make_shipment(weight))


def test_quotes_with_equal_prices_are_sorted_fastest_first(make_carrier, make_shipment):
    carrier = make_carrier(services={"slow": {"transit_days": 5},
                                     "fast": {"transit_days": 2},
                                     "also-fast": {"transit_days": 2}})

    assert [quote.service for quote in carrier.quote(make_shipment("1"))] == [
        "also-fast", "fast", "slow"]
