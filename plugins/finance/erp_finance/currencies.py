"""Exchange rates by date: how many units of the functional currency one unit is worth.

A document in a foreign currency is converted at the latest rate on or before its date;
a missing rate is an error that names the currency and the date, never a silent 1.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_finance.accounts import books
from erp_sdk import Base, ExactNumeric, ValidationError

RATE_TYPE = ExactNumeric(20, 10)


class CurrencyRate(Base):
    __tablename__ = "finance_currency_rate"

    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    rate: Mapped[Decimal] = mapped_column(RATE_TYPE, info={"minimum": 0})
    source: Mapped[str | None] = mapped_column(sa.String(40))


def set_rate(session: Session, currency: str, day: dt.date, rate: Decimal,
             source: str | None = "manual") -> None:
    if not rate.is_finite() or rate <= 0:
        raise ValidationError("a rate is a positive number", {"rate": "must be > 0"})
    existing = session.get(CurrencyRate, (currency.upper(), day))
    if existing is None:
        session.add(CurrencyRate(currency=currency.upper(), day=day, rate=rate, source=source))
    else:
        existing.rate, existing.source = rate, source
    session.flush()


def rate_on(session: Session, currency: str, day: dt.date) -> Decimal:
    """Functional units per unit of ``currency`` on ``day`` (1 for the functional one)."""
    if currency.upper() == books(session).currency:
        return Decimal(1)
    found = session.scalar(sa.select(CurrencyRate.rate).where(
        CurrencyRate.currency == currency.upper(), CurrencyRate.day <= day)
        .order_by(CurrencyRate.day.desc()).limit(1))
    if found is None:
        raise ValidationError(f"no exchange rate for {currency} on or before {day}",
                              {"currency": "no rate"})
    return Decimal(found)
