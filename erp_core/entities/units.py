"""Units of measure, each with the number of decimals a quantity in it may have.

A quantity of goods is only meaningful in its unit: 1.5 ``pcs`` is not a thing anyone
can pick from a shelf, 1.5 ``kg`` is. A column that names a unit declares
``info=UNIT_OF_MEASURE`` (its values are then limited to the known codes), and code
that takes a quantity of something measured in a unit checks it with
``check_quantity``, on every route and in every service alike.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Self

import attrs
import sqlalchemy as sa

from erp_core.entities.field_types import FieldValueError, Text, register_field_type


@attrs.frozen
class UnitOfMeasure:
    """A unit: its code (``pcs``), how many decimals a quantity in it may have (0:
    whole units only) and its name."""

    code: str
    decimals: int
    name: str


UNITS: dict[str, UnitOfMeasure] = {unit.code: unit for unit in (
    UnitOfMeasure("pcs", 0, "pieces"),
    UnitOfMeasure("pair", 0, "pairs"),
    UnitOfMeasure("set", 0, "sets"),
    UnitOfMeasure("box", 0, "boxes"),
    UnitOfMeasure("pack", 0, "packs"),
    UnitOfMeasure("roll", 0, "rolls"),
    UnitOfMeasure("kg", 3, "kilograms"),
    UnitOfMeasure("g", 1, "grams"),
    UnitOfMeasure("l", 3, "litres"),
    UnitOfMeasure("ml", 0, "millilitres"),
    UnitOfMeasure("m", 3, "metres"),
    UnitOfMeasure("cm", 1, "centimetres"),
    UnitOfMeasure("m2", 3, "square metres"),
    UnitOfMeasure("m3", 3, "cubic metres"),
    UnitOfMeasure("h", 2, "hours"),
)}
"""The known units by code."""

UNIT_OF_MEASURE = {"unit_of_measure": True}
"""Column ``info`` of a column holding a unit code (``mapped_column(info=UNIT_OF_MEASURE)``)."""


def unit_of_measure(code: str) -> UnitOfMeasure:
    try:
        return UNITS[code]
    except KeyError:
        raise FieldValueError(f"{code!r} is not a known unit of measure (units:"
                              f" {', '.join(UNITS)})") from None


def check_quantity(quantity: Decimal, unit: str) -> Decimal:
    """``quantity`` if a quantity in ``unit`` may have its decimals, else ``FieldValueError``
    (``1.5`` of ``pcs``: whole units only)."""
    found = unit_of_measure(unit)
    exponent = quantity.normalize().as_tuple().exponent if quantity.is_finite() else 0
    if isinstance(exponent, int) and -exponent > found.decimals:
        raise FieldValueError(
            f"{quantity} {unit}: {found.name} are counted in whole units" if not found.decimals
            else f"{quantity} {unit}: at most {found.decimals} decimal places in {found.name}")
    return quantity


@register_field_type
@attrs.frozen
class UnitCode(Text):
    """The code of a unit of measure; one of ``UNITS``."""

    @classmethod
    def for_column(cls, column: sa.Column[Any]) -> Self | None:
        if column.info.get("unit_of_measure") and isinstance(column.type, sa.String):
            return cls(max_length=column.type.length, choices=tuple(UNITS))
        return None
