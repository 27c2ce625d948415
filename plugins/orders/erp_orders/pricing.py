"""Pricing an order through the plugins that implement ``erp_orders_price_order``.

The orders plugin knows nothing of promotions: when an order is placed, or the lines or
shipping of a draft change, it hands the order as a ``Cart`` to the pricing hook and
stores what comes back: a promotion discount per line (the item-level discounts and the
line's share of order-level ones, already allocated to the cent), the order-level part
of those for display, a discount on shipping and gift lines added at a price of zero.
Whatever a pricing plugin answers, a line's discount never exceeds what the line costs
after its own discount, and the shipping discount never exceeds the shipping: a bad
answer is refused, never stored. ``erp_orders_order_priced`` then tells the plugin which
order lines its answer went to, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa

from erp_inventory.catalogue import Product
from erp_orders.money import ZERO, to_cents
from erp_sdk import Context, PluginError


@attrs.frozen
class CartLine:
    """One line as the pricing plugin sees it; ``discount`` is the line's own (manual)
    discount, which promotions apply on top of."""

    product_id: int
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = ZERO
    tax_rate: Decimal = ZERO
    category_id: int | None = None
    order_line_id: int | None = None

    @property
    def base(self) -> Decimal:
        """What the line costs before promotions, to the cent."""
        return max(ZERO, to_cents(self.quantity * self.unit_price - self.discount))


@attrs.frozen
class Cart:
    """An order to price: ``order_id`` is ``None`` while it is being placed."""

    channel_id: int
    customer_id: int
    currency: str
    placed_at: dt.datetime
    lines: tuple[CartLine, ...]
    shipping_amount: Decimal = ZERO
    coupon_codes: tuple[str, ...] = ()
    order_id: int | None = None


@attrs.frozen
class GiftLine:
    """A product added to the order at a price of zero."""

    product_id: int
    quantity: Decimal


@attrs.frozen
class Pricing:
    """A pricing plugin's answer: ``line_discounts`` has one amount per cart line, in the
    cart's order (item-level plus the line's share of order-level discounts);
    ``order_discount`` is the part of their sum that came from order-level discounts;
    ``details`` is the plugin's own, handed back to it in ``erp_orders_order_priced``."""

    line_discounts: tuple[Decimal, ...]
    order_discount: Decimal = ZERO
    shipping_discount: Decimal = ZERO
    gift_lines: tuple[GiftLine, ...] = ()
    details: Any = None


def cart_lines(session: Any, rows: Sequence[dict[str, Any]]) -> tuple[CartLine, ...]:
    """Cart lines of line rows (``product_id``, ``quantity``, ``unit_price``,
    ``discount``, ``tax_rate``, optionally ``id``), with each product's category."""
    ids = sorted({row["product_id"] for row in rows})
    categories = dict(session.execute(sa.select(Product.id, Product.category_id)
                                      .where(Product.id.in_(ids))).all()) if ids else {}
    return tuple(CartLine(row["product_id"], row["quantity"], row["unit_price"],
                          row.get("discount") or ZERO, row.get("tax_rate") or ZERO,
                          categories.get(row["product_id"]), row.get("id"))
                 for row in rows)


def price_cart(ctx: Context, cart: Cart) -> Pricing | None:
    """The pricing hook's answer for ``cart`` (``None`` when no plugin prices orders),
    checked: one discount per line, none negative or above the line's base."""
    pricing = ctx.kernel.hook.erp_orders_price_order(ctx=ctx, cart=cart)
    if pricing is None:
        return None
    problems = []
    if len(pricing.line_discounts) != len(cart.lines):
        problems.append(f"{len(pricing.line_discounts)} line discounts for"
                        f" {len(cart.lines)} lines")
    for number, (line, amount) in enumerate(zip(cart.lines, pricing.line_discounts,
                                                strict=False)):
        if amount < 0 or amount > line.base or amount != to_cents(amount):
            problems.append(f"line {number + 1}: discount {amount} is not a cent amount"
                            f" from 0 to {line.base}")
    if not ZERO <= pricing.shipping_discount <= cart.shipping_amount:
        problems.append(f"shipping discount {pricing.shipping_discount} is not from 0 to"
                        f" {cart.shipping_amount}")
    if not ZERO <= pricing.order_discount <= sum(pricing.line_discounts, ZERO):
        problems.append(f"order discount {pricing.order_discount} is not within the line"
                        " discounts")
    if problems:
        raise PluginError("the pricing hook answered an impossible pricing: "
                          + "; ".join(problems))
    return pricing
