"""Splitting an amount over lines to the cent (to the currency's minor unit).

A discount that applies across lines is shared in proportion to what each line still
costs, by largest remainder: every line gets the floor of its exact share in minor
units, and the units left over go to the largest remainders (the earlier line on a tie).
The shares add up to the amount exactly, and no share exceeds its line's base as long as
the amount does not exceed the sum of the bases.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

ZERO = Decimal(0)

# ISO 4217 currencies whose minor unit is not the cent.
_MINOR_DIGITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency``: 0.01 for most, 1 for JPY, 0.001 for KWD.
    Order amounts are kept in cents, so no currency is finer than the cent here."""
    return Decimal(1).scaleb(-min(2, _MINOR_DIGITS.get(currency.upper(), 2)))


def round_money(value: Decimal, unit: Decimal) -> Decimal:
    return value.quantize(unit, rounding=ROUND_HALF_UP)


def floor_money(value: Decimal, unit: Decimal) -> Decimal:
    return value.quantize(unit, rounding=ROUND_DOWN)


def largest_remainder(amount: Decimal, weights: Sequence[Decimal], unit: Decimal
                      ) -> list[Decimal]:
    """``amount`` (a multiple of ``unit``) split in proportion to ``weights`` (multiples of
    ``unit`` too), in whole minor units: integer arithmetic, exact."""
    scaled = [int(weight / unit) for weight in weights]
    total = sum(scaled)
    if amount <= 0 or total <= 0:
        return [ZERO] * len(weights)
    units = int(amount / unit)
    shares, remainders = [], []
    for weight in scaled:
        share, remainder = divmod(units * weight, total)
        shares.append(share)
        remainders.append(remainder)
    left = units - sum(shares)
    if left:
        by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
        for index in by_remainder[:left]:
            shares[index] += 1
    return [unit * share for share in shares]
