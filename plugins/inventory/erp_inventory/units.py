"""Quantities of stock in their products' units."""

from __future__ import annotations

from decimal import Decimal

from erp_sdk import FieldValueError, ValidationError, check_quantity, quantity

STOCK_QUANTITY = quantity("positive")
"""A quantity of goods moved, received or reserved: more than zero."""


def check_unit(unit: str, value: Decimal, field: str = "quantity") -> None:
    """Refuse a quantity with more decimals than ``unit`` allows (1.5 ``pcs``)."""
    try:
        check_quantity(value, unit)
    except FieldValueError as exc:
        raise ValidationError(f"{field}: {exc}", {field: str(exc)}) from None
