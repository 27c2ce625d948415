"""The rounding rule of order amounts, in one place.

Amounts are rounded to the currency's cents (two decimals) half up, per line: a line's
net amount is ``quantity * unit_price - discount`` rounded, its tax is ``net * tax_rate``
rounded, its total the sum of the two. An order's totals are the sums of its lines'
rounded amounts plus shipping, so the lines always add up to the total exactly, to the
cent, and a document printed line by line matches the total charged.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import attrs

CENT = Decimal("0.01")
ZERO = Decimal(0)


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@attrs.frozen
class LineAmounts:
    net: Decimal
    tax: Decimal
    total: Decimal


def line_amounts(quantity: Decimal, unit_price: Decimal, discount: Decimal,
                 tax_rate: Decimal) -> LineAmounts:
    net = to_cents(quantity * unit_price - discount)
    tax = to_cents(net * tax_rate)
    return LineAmounts(net, tax, net + tax)


@attrs.frozen
class OrderAmounts:
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def order_amounts(lines: Iterable[tuple[Decimal, Decimal, Decimal, Decimal]],
                  shipping: Decimal) -> OrderAmounts:
    """Totals of ``(quantity, unit_price, discount, tax_rate)`` lines plus shipping."""
    subtotal = discount_total = tax_total = ZERO
    for quantity, unit_price, discount, tax_rate in lines:
        amounts = line_amounts(quantity, unit_price, discount, tax_rate)
        subtotal += amounts.net
        discount_total += to_cents(discount)
        tax_total += amounts.tax
    return OrderAmounts(subtotal, discount_total, tax_total, subtotal + tax_total + shipping)
