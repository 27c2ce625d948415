"""Exchange rates by date, kept once by the kernel (``erp_sdk.exchange_rate``) and shared by
every plugin: entered through the API, the command line or a plugin's service; finance's and
supply's old tables of their own are moved into it by their migrations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from erp_core.cli import main
from erp_core.db.types import AwareDateTime, ExactNumeric
from erp_core.errors import ValidationError
from erp_core.exchange_rates import ExchangeRate, exchange_rate, exchange_rates, set_exchange_rate
from erp_core.kernel import Kernel

RATES = "/api/v1/kernel/exchange-rates"
JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)


@pytest.mark.erp_plugins()
def test_the_rate_of_a_day_is_the_latest_entered_on_or_before_it(erp_kernel: Kernel) -> None:
    with erp_kernel.transaction() as session:
        set_exchange_rate(session, "usd", "EUR", JAN, Decimal("0.9"))
        set_exchange_rate(session, "USD", "EUR", MAR, Decimal("0.95"))
        set_exchange_rate(session, "USD", "GBP", FEB, Decimal("0.8"))
    with erp_kernel.transaction() as session:
        assert exchange_rate(session, "USD", "EUR", FEB) == Decimal("0.9")
        assert exchange_rate(session, "USD", "eur", MAR) == Decimal("0.95")
        assert exchange_rate(session, "USD", "GBP", MAR) == Decimal("0.8")
        assert exchange_rate(session, "EUR", "EUR", JAN) == 1
        assert exchange_rates(session, "EUR", FEB) == {"USD": Decimal("0.9"), "EUR": 1}
        assert exchange_rates(session, "GBP", JAN) == {"GBP": 1}


@pytest.mark.erp_plugins()
def test_entering_a_rate_again_for_the_same_day_corrects_it(erp_kernel: Kernel) -> None:
    with erp_kernel.transaction() as session:
        set_exchange_rate(session, "USD", "EUR", JAN, Decimal("0.9"))
        set_exchange_rate(session, "USD", "EUR", JAN, Decimal("0.91"), source="ecb")
    with erp_kernel.transaction() as session:
        rows = session.execute(sa.select(ExchangeRate.rate, ExchangeRate.source)).all()
    assert rows == [(Decimal("0.91"), "ecb")]


@pytest.mark.erp_plugins()
def test_a_missing_rate_is_an_error_naming_the_currencies_and_the_day(
        erp_kernel: Kernel) -> None:
    with erp_kernel.transaction() as session:
        set_exchange_rate(session, "USD", "EUR", FEB, Decimal("0.9"))
        with pytest.raises(ValidationError, match="no exchange rate for USD in EUR on or"
                                                  " before 2026-01-31"):
            exchange_rate(session, "USD", "EUR", dt.date(2026, 1, 31))
        with pytest.raises(ValidationError, match="a rate is a positive number"):
            set_exchange_rate(session, "USD", "EUR", FEB, Decimal(0))
        with pytest.raises(ValidationError, match="does not fit a rate's 10 decimal places"):
            set_exchange_rate(session, "USD", "EUR", FEB, Decimal("0.12345678901"))


@pytest.mark.erp_plugins()
def test_rates_are_entered_through_the_api_with_checked_codes_and_rates(
        erp_client: Any) -> None:
    created = erp_client.post(RATES, json={"currency": "usd", "quote_currency": "EUR",
                                           "rate_date": "2026-01-01", "rate": "0.9123456789"})
    assert created.status_code == 201, created.text
    assert (created.json()["currency"], created.json()["rate"]) == ("USD", "0.9123456789")
    for bad in ({"currency": "US"}, {"currency": "U$D"}, {"rate": "0"}, {"rate": "-1"}):
        refused = erp_client.post(RATES, json={
            "currency": "JPY", "quote_currency": "EUR", "rate_date": "2026-01-01",
            "rate": "0.006", **bad})
        assert refused.status_code == 422, (bad, refused.text)
    listed = erp_client.get(RATES, params={"currency": "USD"}).json()["items"]
    assert [row["rate_date"] for row in listed] == ["2026-01-01"]


def test_erp_rates_set_enters_and_corrects_a_rate(
        make_kernel: Callable[..., Kernel], database_url: str) -> None:
    make_kernel().initialise()
    runner = CliRunner()

    def erp(*args: str) -> str:
        result = runner.invoke(main, ["--database-url", database_url, *args],
                               env={"ERP_DATABASE_URL": None})
        assert result.exit_code == 0, result.output
        return result.output

    assert "1 USD = 0.9 EUR from 2026-01-01" in erp("rates", "set", "USD", "0.9", "--in", "eur",
                                                   "--date", "2026-01-01")
    erp("rates", "set", "USD", "0.92", "--in", "EUR", "--date", "2026-01-01")
    assert "2026-01-01  1 USD = 0.9200000000 EUR  (manual)" in erp("rates", "list")
    with make_kernel().transaction() as session:
        assert exchange_rate(session, "USD", "EUR", FEB) == Decimal("0.92")


def test_a_rate_entered_in_finance_is_the_one_supply_costs_with(
        erp_kernel_factory: Callable[..., Kernel]) -> None:
    from erp_finance.charts import setup_books
    from erp_finance.currencies import rate_on as finance_rate
    from erp_finance.currencies import set_rate
    from erp_supply.currencies import rate_on as supply_rate

    kernel = erp_kernel_factory("finance", "supply")
    with kernel.transaction() as session:
        setup_books(session, "generic", currency="EUR", year=2026)
        set_rate(session, "USD", JAN, Decimal("0.9"))
    with kernel.transaction() as session:
        assert supply_rate(session, "USD", FEB) == finance_rate(session, "USD", FEB) \
            == Decimal("0.9")


def table(name: str, stamped: bool = True, **columns: Any) -> sa.TableClause:
    """A table of an old revision, with its columns' types (rates are exact integers on
    SQLite, so they are written through ``ExactNumeric`` as the models would)."""
    stamps = [sa.column("version", sa.Integer()), sa.column("created_at", AwareDateTime()),
              sa.column("updated_at", AwareDateTime())] if stamped else []
    return sa.table(name, sa.column("currency", sa.String()),
                    *(sa.column(key, kind) for key, kind in columns.items() if key != "currency"),
                    *stamps)


def test_the_migrations_move_finances_and_supplys_rates_into_the_kernels(
        make_kernel: Callable[..., Kernel]) -> None:
    """A database made before the move (finance at fin0003, supply at sup0001) keeps its
    rates: both sets arrive in the kernel's table, finance's winning where both have a day
    (whichever plugin migrates first)."""
    from alembic import command

    kernel = make_kernel()
    kernel.initialise()
    before = {"finance": "fin0003", "supply": "sup0001"}
    plugins = kernel.plugins.with_dependencies(["finance", "supply"])
    with kernel.engine.begin() as connection:
        for name in plugins:
            branch = kernel.branch(name)
            command.upgrade(kernel.migrator._config(branch, connection),
                            before.get(name, "heads"))
        now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        stamps = {"version": 1, "created_at": now, "updated_at": now}
        connection.execute(table("finance_books", company_name=sa.String(), currency=sa.String(),
                                 template=sa.String(), tax_rounding=sa.String()).insert(),
                           [{"company_name": "Shop", "currency": "EUR", "template": "generic",
                             "tax_rounding": "line", **stamps}])
        connection.execute(table("finance_currency_rate", day=sa.Date(), rate=ExactNumeric(20, 10),
                                 source=sa.String(), stamped=False).insert(),
                           [{"currency": "USD", "day": JAN, "rate": Decimal("0.9"),
                             "source": "manual"},
                            {"currency": "GBP", "day": JAN, "rate": Decimal("1.15"),
                             "source": "manual"}])
        connection.execute(table("supply_exchange_rate", rate_date=sa.Date(),
                                 rate=ExactNumeric(18, 8)).insert(),
                           [{"currency": "USD", "rate_date": JAN, "rate": Decimal("0.5"),
                             **stamps},
                            {"currency": "USD", "rate_date": FEB, "rate": Decimal("0.92"),
                             **stamps}])
    kernel.enable(["finance", "supply"])

    with kernel.transaction() as session:
        moved = session.execute(sa.select(
            ExchangeRate.currency, ExchangeRate.quote_currency, ExchangeRate.rate_date,
            ExchangeRate.rate).order_by(ExchangeRate.currency, ExchangeRate.rate_date)).all()
        tables = set(sa.inspect(session.connection()).get_table_names())
    assert moved == [("GBP", "EUR", JAN, Decimal("1.15")), ("USD", "EUR", JAN, Decimal("0.9")),
                     ("USD", "EUR", FEB, Decimal("0.92"))]
    assert not tables & {"finance_currency_rate", "supply_exchange_rate"}
