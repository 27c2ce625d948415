"""Rounding money to the cent, in one place."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)


def cents(value: Decimal) -> Decimal:
    """Half up to the cent: the rounding of every amount the books record."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
