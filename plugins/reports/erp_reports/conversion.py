"""Money in other currencies converted into the report's, in SQL, with the kernel's
exchange rates (``kernel.exchange_rate``).

An amount is converted at the rate of its currency on its day, the day its source dates
it in the report's time zone (a snapshot, such as stock value, at today's rate): the rate
entered for that day or the latest before it, as everywhere in the kernel. A figure is
the exact sum of the converted amounts, rounded once, half away from zero, to the money
columns' four places, so every figure is right to the cent. PostgreSQL computes with its
exact ``numeric``; SQLite, whose decimals are integers scaled by 10^4 and rates by 10^10,
splits each product so that no 64-bit integer overflows (up to about nine billion units
per figure).

A day with amounts in a currency that has no rate into the report's currency on or before
it is an error, a 422 naming the currency and the first such day, before any row is sent
(an export never stops half-way): a figure silently missing amounts, or converted at a
made-up rate, would be a wrong figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import sqlalchemy as sa

from erp_reports.time_buckets import TimeGrain, bucket
from erp_sdk import ExchangeRate, ValidationError

RATE_SCALE = 10
_SPLIT = 10**5  # a rate's scaled integer split in two halves of five digits
_UNIT = 10**RATE_SCALE


def local_day(time: sa.ColumnElement[Any] | None, zone: ZoneInfo, dialect: str,
              start: dt.datetime, end: dt.datetime) -> sa.ColumnElement[Any]:
    """The day of an instant in ``zone``, as the rates' ``rate_date`` compares with it;
    today for a snapshot."""
    if time is None:
        return sa.literal(dt.datetime.now(zone).date(), sa.Date)
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone(zone.key, time), sa.Date)
    return bucket(time, TimeGrain.DAY, zone, dialect, start, end)


@attrs.frozen
class Conversion:
    """Amounts in ``currency`` (an expression over the rows) dated ``day``, converted
    into ``target``."""

    currency: sa.ColumnElement[str]
    day: sa.ColumnElement[Any]
    target: str
    dialect: str
    home_only: bool = False  # no amount in another currency: none to convert

    def rate(self) -> sa.ScalarSelect[Any]:
        table = ExchangeRate.__table__
        return (sa.select(table.c.rate)
                .where(table.c.currency == self.currency, table.c.quote_currency == self.target,
                       table.c.rate_date <= self.day)
                .order_by(table.c.rate_date.desc()).limit(1).scalar_subquery())

    def sum(self, amount: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """``SUM`` of ``amount`` converted row by row, rounded once."""
        kind = amount.type
        home = self.currency == self.target
        if self.home_only:
            return sa.func.sum(sa.case((home, amount)))
        if self.dialect == "postgresql":
            converted = sa.case((home, amount), else_=amount * self.rate())
            return sa.type_coerce(sa.func.round(sa.func.sum(converted), 4), kind)
        # SQLite: a (amount x 10^4) times r (rate x 10^10) = q x 10^10 + f, summed apart
        a = sa.type_coerce(amount, sa.BigInteger)
        r = sa.type_coerce(self.rate(), sa.BigInteger)
        sign = sa.case((a < 0, -1), else_=1)
        size = sa.func.abs(a)
        # ``//`` is SQLite's integer division (truncating: the terms are not negative)
        high = size * (r // _SPLIT)
        whole = sa.case((home, a), else_=sign * (high // _SPLIT))
        fraction = sa.case((home, 0), else_=sign * ((high % _SPLIT) * _SPLIT
                                                    + size * (r % _SPLIT)))
        parts = sa.func.sum(fraction)
        rounded = sa.case((parts >= 0, (parts + _UNIT // 2) // _UNIT),  # half away from 0
                          else_=-((_UNIT // 2 - parts) // _UNIT))
        total = sa.func.sum(whole) + rounded
        return sa.type_coerce(total, kind)


def check_rates(connection: sa.Connection, from_: sa.FromClause,
                conditions: Sequence[sa.ColumnElement[bool]], conversion: Conversion
                ) -> set[str]:
    """The other currencies of the amounts read, each with a rate for every day it has
    amounts on; else a 422 naming the first day an amount lacks a rate."""
    first = (sa.select(conversion.currency, sa.func.min(conversion.day))
             .select_from(from_).where(*conditions, conversion.currency != conversion.target)
             .group_by(conversion.currency))
    table = ExchangeRate.__table__
    found = set()
    for currency, day in connection.execute(first):
        if day is None:
            continue
        found.add(currency)
        if isinstance(day, str):
            day = dt.date.fromisoformat(day[:10])
        elif isinstance(day, dt.datetime):
            day = day.date()
        since = connection.scalar(sa.select(sa.func.min(table.c.rate_date)).where(
            table.c.currency == currency, table.c.quote_currency == conversion.target))
        if isinstance(since, str):
            since = dt.date.fromisoformat(since)
        if since is None or since > day:
            raise ValidationError(
                f"no exchange rate for {currency} in {conversion.target} on or before"
                f" {day.isoformat()}, a day with amounts in {currency}: enter one"
                " (POST /api/v1/kernel/exchange-rates, or erp rates set), or ask for the"
                f" report in {currency}", {"currency": f"no rate for {currency}"})
    return found
