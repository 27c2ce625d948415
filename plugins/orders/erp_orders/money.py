"""The rounding rule of order amounts, in one place.

Amounts are rounded to the currency's cents (two decimals) half up, per line: a line's
net amount is ``quantity * unit_price - discount - promotion_discount`` rounded (never
below zero), its tax is ``net * tax_rate`` rounded (so tax is computed on the discounted
base and is never negative), its total the sum of the two. An order's totals are the sums
of its lines' rounded amounts plus shipping less the shipping discount, so the lines
always add up to the total exactly, to the cent, and a document printed line by line
matches the total charged.
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
                 tax_rate: Decimal, promotion_discount: Decimal = ZERO) -> LineAmounts:
    net = max(ZERO, to_cents(quantity * unit_price - discount - promotion_discount))
    tax = max(ZERO, to_cents(net * tax_rate))
    return LineAmounts(net, tax, net + tax)


@attrs.frozen
class OrderAmounts:
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def order_amounts(lines: Iterable[tuple[Decimal, ...]], shipping: Decimal,
                  shipping_discount: Decimal = ZERO) -> OrderAmounts:
    """Totals of ``(quantity, unit_price, discount, tax_rate[, promotion_discount])``
    lines plus shipping less its discount (never more than the shipping itself)."""
    subtotal = discount_total = tax_total = ZERO
    for quantity, unit_price, discount, tax_rate, *promotion in lines:
        amounts = line_amounts(quantity, unit_price, discount, tax_rate, *promotion)
        subtotal += amounts.net
        discount_total += to_cents(discount) + sum(promotion, ZERO)
        tax_total += amounts.tax
    shipping_discount = min(shipping_discount, shipping)
    return OrderAmounts(subtotal, discount_total + shipping_discount, tax_total,
                        subtotal + tax_total + shipping - shipping_discount)
