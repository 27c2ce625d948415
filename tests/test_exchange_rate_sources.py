"""Exchange rates fetched through a named driver (``kernel.exchange_rate_source``): the
daily job and ``erp rates fetch`` store a day's rates from each active source once, all or
none per source, and finance books a foreign bill at the rate fetched. The source is the
example ``centralbank`` driver against its fake of a central bank's feed on a local port."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from erp_core.cli import main
from erp_core.db.types import utcnow
from erp_core.exchange_rate_sources import ExchangeRateSourceAccount, fetch_exchange_rates
from erp_core.exchange_rates import ExchangeRate, exchange_rate
from erp_core.jobs.runs import JobOutcome, run_job
from erp_core.kernel import Kernel
from erp_rates_centralbank import FakeCentralBank

DAY = dt.date(2026, 12, 7)
SOURCES = "/api/v1/kernel/exchange-rate-sources"


@pytest.fixture
def bank() -> Iterator[FakeCentralBank]:
    with FakeCentralBank(base="EUR", api_key="k-123") as feed:
        feed.publish(DAY, {"USD": "0.9234", "GBP": "1.1650", "JPY": ("0.6123", 100)})
        yield feed


@pytest.fixture
def kernel(make_kernel: Callable[..., Kernel]) -> Kernel:
    made = make_kernel()
    made.initialise()
    return made.boot()


def add_source(kernel: Kernel, name: str, feed: FakeCentralBank, quote: str = "EUR",
               active: bool = True) -> int:
    with kernel.context() as erp:
        return erp.records("kernel.exchange_rate_source").create(
            {"name": name, "driver": "centralbank", "quote_currency": quote,
             "settings": {"url": feed.url, "timeout_seconds": 2},
             "secrets": {"api_key": feed.api_key} if feed.api_key else {},
             "active": active})["id"]


def stored(kernel: Kernel) -> dict[tuple[str, str, dt.date], tuple[Decimal, str | None]]:
    with kernel.transaction() as session:
        return {(r.currency, r.quote_currency, r.rate_date): (r.rate, r.source)
                for r in session.scalars(sa.select(ExchangeRate))}


def test_erp_rates_fetch_stores_the_days_rates_once_however_often_it_runs(
        make_kernel: Callable[..., Kernel], database_url: str, bank: FakeCentralBank) -> None:
    make_kernel().initialise()
    runner = CliRunner()

    def erp(*args: str) -> str:
        result = runner.invoke(main, ["--database-url", database_url, *args],
                               env={"ERP_DATABASE_URL": None})
        assert result.exit_code == 0, result.output
        return result.output

    erp("rates", "sources", "add", "ecb", "--driver", "centralbank", "--in", "eur",
        "--setting", f"url={bank.url}", "--secret", "api_key=k-123")
    assert "ecb (centralbank): 3 rates for 2026-12-07" in erp(
        "rates", "fetch", "--date", "2026-12-07")
    erp("rates", "fetch", "--date", "2026-12-07")

    rates = stored(make_kernel())
    assert rates == {("GBP", "EUR", DAY): (Decimal("1.1650"), "centralbank"),
                     ("JPY", "EUR", DAY): (Decimal("0.006123"), "centralbank"),
                     ("USD", "EUR", DAY): (Decimal("0.9234"), "centralbank")}
    assert "2026-12-07  1 USD = 0.9234000000 EUR  (centralbank)" in erp("rates", "list")
    assert "last fetched: 20" in erp("rates", "sources", "list")


def test_the_daily_job_fetches_todays_rates_from_every_active_source(
        kernel: Kernel, bank: FakeCentralBank) -> None:
    today = utcnow().date()
    bank.publish(today, {"USD": "0.9300"})
    add_source(kernel, "ecb", bank)
    add_source(kernel, "ecb-in-usd", bank, quote="USD", active=False)

    run = run_job(kernel, "kernel.fetch_exchange_rates")

    assert run.outcome is JobOutcome.SUCCEEDED, run.error
    assert run.summary == f"ecb (centralbank): 1 rates for {today.isoformat()}"
    assert stored(kernel) == {("USD", "EUR", today): (Decimal("0.9300"), "centralbank")}


def test_a_failing_source_fails_the_job_naming_it_and_the_others_are_stored(
        kernel: Kernel, bank: FakeCentralBank) -> None:
    today = utcnow().date()
    bank.publish(today, {"USD": "0.9300"})
    with FakeCentralBank() as down:
        add_source(kernel, "ecb", bank)
        add_source(kernel, "down", down)
        down.fail_next(503)

        run = run_job(kernel, "kernel.fetch_exchange_rates")

    assert run.outcome is JobOutcome.FAILED
    assert "down (centralbank): failed: the central bank's feed answered 503" in run.error
    assert "ecb (centralbank): 1 rates" in run.error
    assert list(stored(kernel)) == [("USD", "EUR", today)]
    with kernel.transaction() as session:
        errors = dict(session.execute(sa.select(ExchangeRateSourceAccount.name,
                                                ExchangeRateSourceAccount.last_error)).all())
    assert errors["ecb"] is None and "answered 503" in errors["down"]


def test_a_day_with_one_bad_rate_writes_none_of_that_sources_rates(
        kernel: Kernel, bank: FakeCentralBank) -> None:
    bank.publish(DAY, {"USD": "0.9234", "GBP": "-1.1650"})
    add_source(kernel, "ecb", bank)

    [fetch] = fetch_exchange_rates(kernel, DAY)

    assert fetch.failed and "GBP" in fetch.error
    assert stored(kernel) == {}


def test_a_day_without_a_publication_stores_nothing_and_the_earlier_rate_holds(
        kernel: Kernel, bank: FakeCentralBank) -> None:
    add_source(kernel, "ecb", bank)
    fetch_exchange_rates(kernel, DAY)
    saturday = DAY + dt.timedelta(days=5)

    [fetch] = fetch_exchange_rates(kernel, saturday)

    assert not fetch.failed and fetch.stored == 0
    with kernel.transaction() as session:
        assert exchange_rate(session, "USD", "EUR", saturday) == Decimal("0.9234")


@pytest.mark.erp_plugins()
def test_a_sources_secrets_are_written_through_the_api_and_never_returned(
        erp_client: Any, bank: FakeCentralBank) -> None:
    created = erp_client.post(SOURCES, json={
        "name": "ecb", "driver": "centralbank", "quote_currency": "eur",
        "settings": {"url": bank.url}, "secrets": {"api_key": "k-123"}, "active": True})
    assert created.status_code == 201, created.text
    assert "secrets" not in created.json() and created.json()["quote_currency"] == "EUR"
    listed = erp_client.get(SOURCES).json()["items"]
    assert [row["name"] for row in listed] == ["ecb"] and "secrets" not in listed[0]


def test_finance_books_a_usd_bill_at_the_fetched_rate(
        erp_kernel_factory: Callable[..., Kernel], bank: FakeCentralBank) -> None:
    from erp_finance.charts import setup_books
    from erp_finance.ledger import EntryLine
    from erp_finance.payables import Payable
    from erp_finance.purchases import book_supplier_bill

    kernel = erp_kernel_factory("finance")
    with kernel.transaction() as session:
        setup_books(session, "generic", currency="EUR", year=DAY.year)
    add_source(kernel, "ecb", bank)
    fetch_exchange_rates(kernel, DAY)

    posted = kernel.run(lambda ctx: book_supplier_bill(ctx, {
        "id": 1, "number": "BILL-USD", "supplier_id": 3, "currency": "USD",
        "untaxed_amount": Decimal("100.00"), "tax_amount": Decimal("0"),
        "total": Decimal("100.00"), "bill_date": DAY, "due_date": DAY}))

    with kernel.transaction() as session:
        payable = session.scalar(sa.select(Payable).where(Payable.entry_id == posted.id))
        credited = session.scalar(sa.select(sa.func.sum(EntryLine.credit)).where(
            EntryLine.entry_id == posted.id))
    assert (payable.currency, payable.rate, payable.total) == (
        "USD", Decimal("0.9234"), Decimal("100.00"))
    assert credited == Decimal("92.34")
