"""Exchange rates fetched from published feeds (kernel entity ``kernel.exchange_rate_source``).

A source is a driver of the ``erp.exchange_rate_sources`` namespace (a central bank's
daily reference rates, say) with its ``settings``, write-only ``secrets`` and the
``quote_currency`` its rates are stored in, like any driver account. The kernel job
``kernel.fetch_exchange_rates`` (daily) and ``erp rates fetch`` ask every active source
for a day's rates and store them through ``set_exchange_rate`` with the driver's name as
their ``source``: entering a rate twice for a currency and day corrects it, so fetching a
day again writes nothing new.

A day's rates of one source are kept all or none. The feed is read outside any
transaction; every rate is checked (a known currency code, a positive number that fits a
rate's ten decimal places) before the first is written; then they are written in one
transaction. A source that fails records its error on its account and in the outcome,
and does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_core.db.base import Base
from erp_core.db.types import UtcDateTime, utcnow
from erp_core.entities.declaration import RecordMixin
from erp_core.errors import ErpError, ValidationError
from erp_core.exchange_rates import (
    CURRENCY_CODE,
    checked_rate,
    currency_code,
    set_exchange_rate,
)

if TYPE_CHECKING:
    from erp_core.context import KernelServices

log = logging.getLogger("erp.exchange_rates")

DRIVER_KIND = "exchange_rate_source"
MAX_ERROR_LENGTH = 2000


class ExchangeRateSourceAccount(RecordMixin, Base):
    """A configured feed of exchange rates: which driver, with what, quoted in what."""

    __tablename__ = "kernel_exchange_rate_source"

    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    driver: Mapped[str] = mapped_column(sa.String(40), info={
        "description": "An installed erp.exchange_rate_sources driver; rates it fetches are"
                       " stored with this name as their source"})
    quote_currency: Mapped[str] = mapped_column(sa.String(3), info={
        **CURRENCY_CODE, "description": "The currency the fetched rates are expressed in"})
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    secrets: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    last_fetched_at: Mapped[UtcDateTime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)


@attrs.frozen
class SourceFetch:
    """What fetching one day from one source did: rates stored, or the error."""

    source: str
    driver: str
    day: dt.date
    stored: int = 0
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def describe(self) -> str:
        if self.error is not None:
            return f"{self.source} ({self.driver}): failed: {self.error}"
        return f"{self.source} ({self.driver}): {self.stored} rates for {self.day.isoformat()}"


class ExchangeRateFetchFailed(ErpError):
    """One or more sources could not be fetched (the others' rates are stored)."""

    status_code = 502
    title = "Exchange rates not fetched"


def _checked(fetched: Iterable[Any], quote_currency: str) -> dict[str, Decimal]:
    """The fetched rates by currency, or ``ValidationError`` on the first bad one."""
    rates: dict[str, Decimal] = {}
    for item in fetched:
        currency = currency_code(getattr(item, "currency", None), "currency")  # type: ignore[arg-type]
        rate = checked_rate(getattr(item, "rate", None), currency)
        if currency == quote_currency:
            continue  # a feed may list its own currency at 1
        if currency in rates and rates[currency] != rate:
            raise ValidationError(f"the feed gives two rates for {currency}",
                                  {"currency": "listed twice"})
        rates[currency] = rate
    return rates


def _fetch_one(kernel: KernelServices, account: sa.Row[Any], day: dt.date) -> SourceFetch:
    try:
        source = kernel.drivers.load(DRIVER_KIND, account.driver, settings=account.settings,
                                     secrets=account.secrets)
        rates = _checked(source.fetch(day, account.quote_currency), account.quote_currency)

        def store(ctx: Any) -> None:
            for currency, rate in sorted(rates.items()):
                set_exchange_rate(ctx.session, currency, account.quote_currency, day, rate,
                                  account.driver)
            ctx.session.execute(sa.update(ExchangeRateSourceAccount).where(
                ExchangeRateSourceAccount.id == account.id).values(
                    last_fetched_at=utcnow(), last_error=None))

        kernel.run(store)
        return SourceFetch(account.name, account.driver, day, stored=len(rates))
    except Exception as exc:
        error = (exc.message if isinstance(exc, ErpError)
                 else f"{type(exc).__name__}: {exc}")[:MAX_ERROR_LENGTH]
        log.warning("exchange-rate source %s (%s) failed for %s: %s", account.name,
                    account.driver, day.isoformat(), error)
        kernel.run(lambda ctx: ctx.session.execute(sa.update(ExchangeRateSourceAccount).where(
            ExchangeRateSourceAccount.id == account.id).values(last_error=error)))
        return SourceFetch(account.name, account.driver, day, error=error)


def fetch_exchange_rates(kernel: KernelServices, day: dt.date,
                         names: Sequence[str] = ()) -> list[SourceFetch]:
    """Fetch ``day``'s rates from every active source (or the ones named), each stored all
    or none; one ``SourceFetch`` per source, in name order. A failed source does not stop
    the others."""
    table = ExchangeRateSourceAccount
    query = sa.select(table.id, table.name, table.driver, table.settings, table.secrets,
                      table.quote_currency).order_by(table.name)
    query = query.where(table.name.in_(names)) if names else query.where(table.active)
    with kernel.reading() as connection:
        accounts = list(connection.execute(query))
    missing = sorted(set(names) - {account.name for account in accounts})
    if missing:
        from erp_core.errors import NotFoundError

        raise NotFoundError(f"no exchange-rate source named {', '.join(missing)}")
    return [_fetch_one(kernel, account, day) for account in accounts]


def fetch_todays_exchange_rates(kernel: KernelServices) -> str:
    """The job: today's (UTC) rates from every active source; fails, naming each source
    that failed, when any did (after storing the others')."""
    day = utcnow().date()
    fetches = fetch_exchange_rates(kernel, day)
    if not fetches:
        return "no active exchange-rate sources"
    summary = "; ".join(fetch.describe() for fetch in fetches)
    if any(fetch.failed for fetch in fetches):
        raise ExchangeRateFetchFailed(summary)
    return summary
