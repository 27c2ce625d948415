"""Column types shared by every plugin: exact money and quantities, aware UTC timestamps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, Numeric, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import mapped_column


def utcnow() -> dt.datetime:
    """The current time as an aware UTC datetime (the only kind the ERP stores)."""
    return dt.datetime.now(dt.UTC)


class AwareDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC and always returns them aware in UTC.

    SQLite keeps no zone, PostgreSQL ``timestamptz`` does; this type makes both behave
    the same and refuses naive datetimes, which would be ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None,
                             dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class ExactNumeric(TypeDecorator[Decimal]):
    """``Numeric`` returned as ``Decimal``, exact on SQLite too.

    PostgreSQL uses a real ``NUMERIC(precision, scale)``. SQLite has no decimal type: it
    would round through a float, and text would compare and sort as text (``"9" > "10"``).
    There the value is stored as an integer count of the smallest unit (``12.5`` with
    scale 4 is ``125000``), so SQL comparisons, ``ORDER BY``, ``SUM`` and additions such as
    ``available - :quantity`` stay exact; precision 18 fits a 64-bit integer.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision, self.scale = precision, scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect):  # type: ignore[no-untyped-def]
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("floats are not accepted for money or quantities: use Decimal")
        quantised = Decimal(value)
        if not quantised.is_finite() or quantised.adjusted() >= self.precision - self.scale:
            raise ValueError(f"{value!r} does not fit NUMERIC({self.precision},"
                             f" {self.scale}); check values with their field type first")
        quantised = quantised.quantize(self._quantum)
        if dialect.name == "sqlite":
            return int(quantised.scaleb(self.scale))
        return quantised

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale).quantize(self._quantum)  # type: ignore[call-overload]
        return Decimal(str(value)).quantize(self._quantum)


MONEY_PRECISION, MONEY_SCALE = 18, 4
QUANTITY_PRECISION, QUANTITY_SCALE = 18, 4

NON_NEGATIVE = {"sign": "non_negative"}
"""Column ``info`` of a money or quantity column that may not be negative:
``mapped_column(info=NON_NEGATIVE)``; the API and services refuse a negative value."""

POSITIVE = {"sign": "positive"}
"""Column ``info`` of a money or quantity column that must be more than zero."""

Money = Annotated[Decimal, mapped_column(ExactNumeric(MONEY_PRECISION, MONEY_SCALE))]
"""An amount of money (``Decimal``, four decimal places); pair it with a currency column."""

Quantity = Annotated[Decimal, mapped_column(ExactNumeric(QUANTITY_PRECISION, QUANTITY_SCALE))]
"""A quantity of goods (``Decimal``, four decimal places)."""

Rate = Annotated[Decimal, mapped_column(
    ExactNumeric(MONEY_PRECISION, MONEY_SCALE),
    info={"minimum": 0, "maximum": 1, "description": "A fraction: 0.19 is 19 %."})]
"""A rate (tax, commission) as a fraction from 0 to 1: ``0.19`` is 19 %."""

UtcDateTime = Annotated[dt.datetime, mapped_column(AwareDateTime())]
"""A timezone-aware UTC timestamp."""
