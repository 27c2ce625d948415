"""Exchange rates by date (kernel entity ``kernel.exchange_rate``, table ``kernel_exchange_rate``).

Money in the kernel is a ``Decimal`` with an ISO currency code; converting it between
currencies is the one other piece of money infrastructure several plugins need (finance
posts foreign documents in its functional currency, supply costs foreign purchases in the
company currency). The rates live here, once, so a rate entered for one plugin is the
rate every plugin converts with, whichever of them are enabled.

A rate says how many units of ``quote_currency`` one unit of ``currency`` is worth from
``rate_date`` on; the rate of a day is the latest one entered on or before it. Rates are
entered through the API (``/api/v1/kernel/exchange-rates``), the command line
(``erp rates set``) or by a plugin's service (``set_exchange_rate``); ``source`` says
where a rate came from. A missing rate is an error naming the currencies and the day,
never a silent 1.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Self

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_core.db.base import Base
from erp_core.db.types import ExactNumeric
from erp_core.entities.declaration import RecordMixin
from erp_core.entities.field_types import FieldValueError, Text, register_field_type
from erp_core.errors import ValidationError

RATE_TYPE = ExactNumeric(20, 10)
"""The SQL type of a rate: ten decimal places, as central banks quote small currencies."""

CURRENCY_CODE = {"currency_code": True}
"""Column ``info`` of a column holding an ISO 4217 code: three letters, stored upper-case."""


def currency_code(value: str, field: str = "currency") -> str:
    """``value`` as an upper-case ISO currency code, or ``ValidationError`` naming ``field``."""
    if not isinstance(value, str) or len(value) != 3 or not value.isascii() \
            or not value.isalpha():
        raise ValidationError(f"{field} must be an ISO currency code such as EUR",
                              {field: "not a currency code"})
    return value.upper()


@register_field_type
@attrs.frozen
class CurrencyCode(Text):
    """An ISO currency code; ``usd`` is taken as ``USD``."""

    @classmethod
    def for_column(cls, column: sa.Column[Any]) -> Self | None:
        if column.info.get("currency_code") and isinstance(column.type, sa.String):
            return cls(max_length=3)
        return None

    def from_text(self, text: str) -> str:
        if len(text) != 3 or not text.isascii() or not text.isalpha():
            raise FieldValueError("must be an ISO currency code such as EUR")
        return text.upper()

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": "^[A-Za-z]{3}$"}


class ExchangeRate(RecordMixin, Base):
    """A rate entered for a day: read it through ``exchange_rate``, write it through
    ``set_exchange_rate`` (or the generic API), never by hand-built queries."""

    __tablename__ = "kernel_exchange_rate"
    __table_args__ = (sa.UniqueConstraint("currency", "quote_currency", "rate_date"),)

    currency: Mapped[str] = mapped_column(sa.String(3), info={
        **CURRENCY_CODE, "description": "The currency one unit of which is quoted"})
    quote_currency: Mapped[str] = mapped_column(sa.String(3), info={
        **CURRENCY_CODE, "description": "The currency the rate is expressed in"})
    rate_date: Mapped[dt.date] = mapped_column(info={"description": "Valid from this day"})
    rate: Mapped[Decimal] = mapped_column(RATE_TYPE, info={
        "sign": "positive", "description": "Units of `quote_currency` per unit of `currency`"})
    source: Mapped[str | None] = mapped_column(sa.String(40), info={
        "description": "Where the rate came from: manual, or a plugin or service's name"})


def checked_rate(rate: object, currency: str) -> Decimal:
    """``rate`` when it is a positive ``Decimal`` that a rate column keeps exactly (at most
    ten decimal places), else ``ValidationError`` naming ``currency``: the one check of
    every rate, entered or fetched, so none is rounded or refused by the database."""
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise ValidationError(f"a rate is a positive number; the rate of {currency} is"
                              f" {rate!r}", {"rate": "must be > 0"})
    if rate.as_tuple().exponent < -RATE_TYPE.scale or \
            rate.adjusted() >= RATE_TYPE.precision - RATE_TYPE.scale:  # type: ignore[operator]
        raise ValidationError(f"the rate of {currency}, {rate}, does not fit a rate's"
                              f" {RATE_TYPE.scale} decimal places", {"rate": "out of range"})
    return rate


def set_exchange_rate(session: Session, currency: str, quote_currency: str, day: dt.date,
                      rate: Decimal, source: str | None = "manual") -> ExchangeRate:
    """Enter (or correct) the rate of ``currency`` in ``quote_currency`` from ``day`` on."""
    currency, quote = currency_code(currency), currency_code(quote_currency, "quote_currency")
    if currency == quote:
        raise ValidationError("a currency has no rate into itself",
                              {"quote_currency": "same as currency"})
    rate = checked_rate(rate, currency)
    existing = session.scalar(sa.select(ExchangeRate).where(
        ExchangeRate.currency == currency, ExchangeRate.quote_currency == quote,
        ExchangeRate.rate_date == day))
    if existing is None:
        existing = ExchangeRate(currency=currency, quote_currency=quote, rate_date=day,
                                rate=rate, source=source)
        session.add(existing)
    else:
        existing.rate, existing.source = rate, source
    session.flush()
    return existing


def exchange_rate(session: Session, currency: str, quote_currency: str,
                  day: dt.date) -> Decimal:
    """Units of ``quote_currency`` per unit of ``currency`` on ``day`` (1 for the same
    currency); ``ValidationError`` (422) when no rate was entered on or before ``day``."""
    currency, quote = currency.upper(), quote_currency.upper()
    if currency == quote:
        return Decimal(1)
    found = session.scalar(sa.select(ExchangeRate.rate).where(
        ExchangeRate.currency == currency, ExchangeRate.quote_currency == quote,
        ExchangeRate.rate_date <= day).order_by(ExchangeRate.rate_date.desc()).limit(1))
    if found is None:
        raise ValidationError(f"no exchange rate for {currency} in {quote} on or before"
                              f" {day.isoformat()}", {"currency": "no exchange rate"})
    return Decimal(found)


def exchange_rates(session: Session, quote_currency: str, day: dt.date) -> dict[str, Decimal]:
    """The rate on ``day`` of every currency that has one in ``quote_currency`` (and 1 for
    ``quote_currency`` itself): one query for a run that prices many amounts at once."""
    quote = quote_currency.upper()
    rate = ExchangeRate
    latest = (sa.select(rate.currency, sa.func.max(rate.rate_date).label("day"))
              .where(rate.quote_currency == quote, rate.rate_date <= day)
              .group_by(rate.currency).subquery())
    rows = session.execute(sa.select(rate.currency, rate.rate).where(
        rate.quote_currency == quote).join(latest, sa.and_(
            latest.c.currency == rate.currency, latest.c.day == rate.rate_date)))
    found = {currency: Decimal(value) for currency, value in rows}
    found[quote] = Decimal(1)
    return found
