"""The central bank source against a fake of the bank's feed on a local port."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from erp_rates_centralbank import CentralBankRates, FakeCentralBank
from erp_sdk import ValidationError
from erp_sdk.drivers import DRIVER_PROTOCOLS, DriverFailure, FetchedRate

MONDAY = dt.date(2026, 12, 7)


@pytest.fixture
def bank() -> Iterator[FakeCentralBank]:
    with FakeCentralBank(base="EUR", api_key="k-123") as feed:
        feed.publish(MONDAY, {"USD": "0.9234", "GBP": "1.1650", "JPY": ("0.6123", 100)})
        yield feed


@pytest.fixture
def source(bank: FakeCentralBank) -> CentralBankRates:
    return CentralBankRates(settings={"url": bank.url, "timeout_seconds": 2},
                            secrets={"api_key": bank.api_key})


def test_the_source_implements_the_sdk_protocol(source: CentralBankRates) -> None:
    assert isinstance(source, DRIVER_PROTOCOLS["exchange_rate_source"])


def test_rates_in_the_banks_own_currency_are_its_rates_per_unit(
        source: CentralBankRates) -> None:
    assert source.fetch(MONDAY, "eur") == [
        FetchedRate("GBP", "1.1650"), FetchedRate("JPY", "0.006123"),
        FetchedRate("USD", "0.9234")]


def test_rates_in_another_listed_currency_are_cross_rates_to_ten_places(
        source: CentralBankRates) -> None:
    rates = {rate.currency: rate.rate for rate in source.fetch(MONDAY, "USD")}

    assert rates == {"EUR": Decimal("1.0829542993"), "GBP": Decimal("1.2616417587"),
                     "JPY": Decimal("0.0066309292")}
    assert all(isinstance(rate, Decimal) for rate in rates.values())


def test_a_day_without_a_publication_gives_no_rates(source: CentralBankRates) -> None:
    assert source.fetch(MONDAY - dt.timedelta(days=1), "EUR") == []


def test_a_quote_currency_the_bank_does_not_list_is_a_driver_failure(
        source: CentralBankRates) -> None:
    with pytest.raises(DriverFailure, match="no rate for CHF"):
        source.fetch(MONDAY, "CHF")


def test_a_feed_that_fails_is_a_driver_failure(bank: FakeCentralBank,
                                               source: CentralBankRates) -> None:
    bank.fail_next(503)
    with pytest.raises(DriverFailure, match="answered 503"):
        source.fetch(MONDAY, "EUR")


def test_the_api_key_is_sent_and_a_wrong_one_is_refused(bank: FakeCentralBank) -> None:
    wrong = CentralBankRates(settings={"url": bank.url}, secrets={"api_key": "nope"})
    with pytest.raises(DriverFailure, match="answered 401"):
        wrong.fetch(MONDAY, "EUR")


def test_a_rate_sent_as_a_json_number_is_refused(bank: FakeCentralBank,
                                                 source: CentralBankRates) -> None:
    bank.tables[MONDAY.isoformat()][0]["rate"] = 0.9234
    with pytest.raises(DriverFailure, match="not a string"):
        source.fetch(MONDAY, "EUR")


def test_a_source_without_a_url_refuses_its_settings() -> None:
    with pytest.raises(ValidationError, match="url"):
        CentralBankRates(settings={}, secrets={})


def test_an_unreachable_feed_is_a_driver_failure() -> None:
    with FakeCentralBank() as gone:
        url = gone.url
    source = CentralBankRates(settings={"url": url, "timeout_seconds": 1}, secrets={})
    with pytest.raises(DriverFailure, match="cannot be reached"):
        source.fetch(MONDAY, "EUR")
