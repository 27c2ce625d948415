"""Exchange rates into the company currency, entered per date.

A rate says how many units of the company currency one unit of ``currency`` is worth
from ``rate_date`` on; the rate of a day is the latest one entered on or before it. The
company currency is ``ERP_COMPANY_CURRENCY`` (default EUR) and needs no rate.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_sdk import POSITIVE, Base, ExactNumeric, RecordMixin, ValidationError

COST_QUANTUM = Decimal("0.0001")


def company_currency() -> str:
    return os.environ.get("ERP_COMPANY_CURRENCY", "EUR").upper()


class ExchangeRate(RecordMixin, Base):
    __tablename__ = "supply_exchange_rate"
    __table_args__ = (sa.UniqueConstraint("currency", "rate_date"),)

    currency: Mapped[str] = mapped_column(sa.String(3))
    rate_date: Mapped[dt.date]
    rate: Mapped[Decimal] = mapped_column(
        ExactNumeric(18, 8), info={**POSITIVE, "description": "Company currency units per unit"
                                   " of `currency`"})


def rate_on(session: Session, currency: str, on: dt.date) -> Decimal:
    """The rate of ``currency`` on a day; 1 for the company currency; 422 when none."""
    if currency.upper() == company_currency():
        return Decimal(1)
    rate = session.scalar(sa.select(ExchangeRate.rate).where(
        ExchangeRate.currency == currency.upper(), ExchangeRate.rate_date <= on)
        .order_by(ExchangeRate.rate_date.desc()).limit(1))
    if rate is None:
        raise ValidationError(f"no exchange rate for {currency} on or before {on.isoformat()}",
                              {"currency": "no exchange rate"})
    return rate


def rates_on(session: Session, on: dt.date) -> dict[str, Decimal]:
    """Every currency's rate on a day (for runs that price many offers at once)."""
    latest = (sa.select(ExchangeRate.currency, sa.func.max(ExchangeRate.rate_date).label("day"))
              .where(ExchangeRate.rate_date <= on).group_by(ExchangeRate.currency).subquery())
    rows = session.execute(sa.select(ExchangeRate.currency, ExchangeRate.rate).join(
        latest, sa.and_(latest.c.currency == ExchangeRate.currency,
                        latest.c.day == ExchangeRate.rate_date)))
    rates = {currency: rate for currency, rate in rows}
    rates[company_currency()] = Decimal(1)
    return rates


def to_company(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
