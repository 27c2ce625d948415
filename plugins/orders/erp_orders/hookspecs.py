"""Hooks the orders plugin offers to the plugins that depend on it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from erp_sdk import Context, hookspec

if TYPE_CHECKING:
    from erp_orders.pricing import Cart, Pricing
    from erp_orders.review import ReviewRule


@hookspec
def erp_orders_review_rules() -> Sequence[ReviewRule]:
    """Add order review rules.

    Takes no argument.

    Return value: a sequence of ``erp_orders.review.ReviewRule``; each rule's check runs
    when an order is confirmed, and any reason it returns sends the order to review.
    """


@hookspec(firstresult=True)
def erp_orders_price_order(ctx: Context, cart: Cart) -> Pricing | None:
    """Price an order: called when an order is placed and when the lines or the shipping
    amount of a draft order change, in the transaction that writes them.

    :param ctx: the writing transaction's context; a pricing plugin may take what the
        pricing uses up (coupon uses, budgets) in it, so a failure undoes both.
    :param cart: the order as an ``erp_orders.pricing.Cart`` (its lines, customer,
        channel, currency, shipping amount and coupon codes; ``order_id`` is ``None``
        while the order is being placed).

    Return value: an ``erp_orders.pricing.Pricing`` (one discount per cart line, the
    shipping discount, gift lines), or ``None`` to leave the order unpriced; the first
    answer that is not ``None`` is used. The orders plugin refuses an answer whose
    discounts are negative or exceed what they apply to.
    """


@hookspec
def erp_orders_order_priced(ctx: Context, order_id: int, line_ids: Sequence[int],
                            pricing: Pricing) -> None:
    """Told after an order's pricing has been stored, in the same transaction.

    :param ctx: the writing transaction's context.
    :param order_id: the order priced.
    :param line_ids: the ids of the order lines the cart's lines became, in the cart's
        order (gift lines are not among them).
    :param pricing: the answer of ``erp_orders_price_order`` that was stored.

    Return value: none; raising undoes the whole write.
    """
