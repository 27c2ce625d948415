"""Money in other currencies converted into the report's with the kernel's exchange rates,
in SQL, at the rate of each amount's local day, exact to the cent; a missing rate is a 422
naming the currency and the day."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sales_data import at, rows_by

from erp_reports import rollups
from erp_sdk import set_exchange_rate

QUERY = "/api/v1/reports/query"
RATE_1, RATE_3 = Decimal("0.9234567891"), Decimal("0.9111111111")


def rate(kernel, currency: str, quote: str, day: str, value: Decimal) -> None:
    with kernel.transaction() as session:
        set_exchange_rate(session, currency, quote, dt.date.fromisoformat(day), value)


def exact(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@pytest.fixture
def dollars(shop, kernel):
    """Euros and dollars over three days; the dollar's rate changes on the 3rd (rates are
    kept from test to test: each test converts a currency of its own)."""
    shop.order(at("2026-03-01 10:00"), "web", "Ada", [("TEA-1", "1", "10")])
    shop.order(at("2026-03-02 10:00"), "web", "Bo", [("TEA-1", "3", "1234567.8912")],
               currency="USD")
    shop.order(at("2026-03-02 11:00"), "market", "Cy", [("MUG-1", "1", "0.0003")],
               currency="USD")
    shop.order(at("2026-03-03 10:00"), "web", "Cy", [("MUG-1", "2", "19.99")], currency="USD")
    rate(kernel, "USD", "EUR", "2026-03-01", RATE_1)
    rate(kernel, "USD", "EUR", "2026-03-03", RATE_3)
    return shop


def expected_by_day() -> dict[str, Decimal]:
    return {"2026-03-01": Decimal(10),
            "2026-03-02": exact((3 * Decimal("1234567.8912") + Decimal("0.0003")) * RATE_1),
            "2026-03-03": exact(2 * Decimal("19.99") * RATE_3)}


@pytest.mark.parametrize("use_rollups", [False, True])
def test_amounts_are_converted_at_their_days_rate_exactly(kernel, admin, dollars,
                                                          use_rollups):
    if use_rollups:
        rollups.refresh_rollups(kernel)
    answer = admin.post(QUERY, json={"metrics": ["orders.net_sales", "orders.orders"],
                                     "time_grain": "day"}).json()
    by_day = rows_by(answer, "period")
    assert {day: Decimal(row["orders.net_sales"]) for day, row in by_day.items()} == \
        expected_by_day()
    assert by_day["2026-03-02"]["orders.orders"] == 2
    total = admin.post(QUERY, json={"metrics": ["orders.net_sales",
                                                "orders.average_order_value"]}).json()
    # one figure is the exact sum rounded once: the days' figures may differ from it by
    # a rounding of each, never by more than a ten-thousandth each
    whole = Decimal(total["rows"][0]["orders.net_sales"])
    assert whole == exact(10 + (3 * Decimal("1234567.8912") + Decimal("0.0003")) * RATE_1
                          + 2 * Decimal("19.99") * RATE_3)
    assert Decimal(total["rows"][0]["orders.average_order_value"]) == (whole / 4).quantize(
        Decimal("0.0001"))


def test_a_missing_rate_is_a_422_naming_the_currency_and_the_first_day(kernel, admin, shop):
    shop.order(at("2026-03-02 10:00"), "web", "Bo", [("TEA-1", "1", "5")], currency="GBP")
    shop.order(at("2026-03-05 10:00"), "web", "Bo", [("TEA-1", "1", "5")], currency="GBP")
    rate(kernel, "GBP", "EUR", "2026-03-04", Decimal("1.17"))  # too late for the 2nd
    answer = admin.post(QUERY, json={"metrics": ["orders.net_sales"]})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "no exchange rate for GBP in EUR on or before 2026-03-02" in answer.text
    later = admin.post(QUERY, json={"metrics": ["orders.net_sales"],
                                    "date_from": "2026-03-04"}).json()
    assert Decimal(later["rows"][0]["orders.net_sales"]) == Decimal("5.85")
    export = admin.post("/api/v1/reports/export", json={
        "report": {"metrics": ["orders.net_sales"]}, "format": "csv"})
    assert export.status_code == 422 and "GBP" in export.text
    counts = admin.post(QUERY, json={"metrics": ["orders.orders"]}).json()  # no money
    assert counts["rows"][0]["orders.orders"] == 2


def test_the_rates_day_is_the_amounts_day_in_the_reports_time_zone(kernel, admin, shop):
    # 23:30 UTC on the 1st is 00:30 on the 2nd in Paris
    shop.order(at("2026-03-01 23:30"), "web", "Bo", [("TEA-1", "1", "100")], currency="CHF")
    rate(kernel, "CHF", "EUR", "2026-03-02", Decimal("0.5"))
    paris = admin.post(QUERY, json={"metrics": ["orders.net_sales"],
                                    "time_zone": "Europe/Paris"}).json()
    assert Decimal(paris["rows"][0]["orders.net_sales"]) == 50
    utc = admin.post(QUERY, json={"metrics": ["orders.net_sales"], "time_zone": "UTC"})
    assert utc.status_code == 422 and "2026-03-01" in utc.text


def test_a_half_hour_zones_rates_are_read_by_the_amounts_own_day_even_with_rollups(
        kernel, admin, shop):
    """18:45 UTC on the 1st is 00:15 on the 2nd in Kolkata (UTC+5:30); its hour's bucket
    starts at 23:30 on the 1st there, so an hourly rollup cannot tell the amount's day: a
    report converting money in such a zone reads the order lines, with or without a time
    grain."""
    shop.order(at("2026-03-01 18:45"), "web", "Bo", [("TEA-1", "1", "100")], currency="CAD")
    rate(kernel, "CAD", "EUR", "2026-03-01", Decimal("1"))
    rate(kernel, "CAD", "EUR", "2026-03-02", Decimal("0.5"))
    rollups.refresh_rollups(kernel)
    kolkata = admin.post(QUERY, json={"metrics": ["orders.net_sales"],
                                      "time_zone": "Asia/Kolkata"}).json()
    assert Decimal(kolkata["rows"][0]["orders.net_sales"]) == 50
