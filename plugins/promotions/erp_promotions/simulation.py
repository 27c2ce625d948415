"""Running a promotion (a draft too) over the orders of a date range, as if it had been
on: which orders it would have applied to, what it would have cost, and how the revenue
would have changed. It applies alone, on the orders' prices before their own promotions,
and nothing is written."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from erp_orders.order import Order, OrderLine, OrderState
from erp_orders.pricing import Cart, cart_lines
from erp_promotions.engine import evaluate
from erp_promotions.pricing import shopper_for
from erp_promotions.rules import rules_by_id
from erp_sdk import Context, NotFoundError

ZERO = Decimal(0)
MAX_ORDERS = 20_000
SKIPPED_STATES = (OrderState.CANCELLED, OrderState.MERGED, OrderState.DRAFT)


def simulate(ctx: Context, promotion_id: int, start: dt.date, end: dt.date,
             zone: dt.tzinfo = dt.UTC) -> dict[str, Any]:
    ctx.records("promotions.promotion").get(promotion_id)
    rules = rules_by_id(ctx, [promotion_id])
    if not rules:
        raise NotFoundError(f"promotion {promotion_id} does not exist")
    rule = rules[0]
    since = dt.datetime.combine(start, dt.time(), zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone)
    orders = ctx.session.execute(sa.select(Order).where(
        Order.placed_at >= since, Order.placed_at < until,
        Order.state.not_in(SKIPPED_STATES)).order_by(Order.id).limit(MAX_ORDERS)
        ).scalars().all()
    lines: dict[int, list[dict[str, Any]]] = {}
    for line in ctx.session.execute(sa.select(OrderLine).where(
            OrderLine.order_id.in_([o.id for o in orders]), OrderLine.gift.is_(False))
            .order_by(OrderLine.id)).scalars() if orders else ():
        lines.setdefault(line.order_id, []).append(
            {"id": line.id, "product_id": line.product_id, "quantity": line.quantity,
             "unit_price": line.unit_price, "discount": line.discount,
             "tax_rate": line.tax_rate})
    matched = 0
    cost = revenue_before = ZERO
    reasons: Counter[str] = Counter()
    for order in orders:
        rows = lines.get(order.id)
        if not rows:
            continue
        cart = Cart(order.channel_id, order.customer_id, order.currency, order.placed_at,
                    cart_lines(ctx.session, rows), order.shipping_amount, (), order.id)
        outcome = evaluate(cart, rules, shopper_for(ctx, cart, rules), drafts=True)
        [verdict] = outcome.verdicts
        if verdict.applied:
            matched += 1
            cost += outcome.discount + (rule.gift_value if outcome.gifts else ZERO)
            revenue_before += sum((line.base for line in cart.lines), ZERO) \
                + cart.shipping_amount
        else:
            reasons[verdict.reason or ""] += 1
    return {"promotion_id": promotion_id, "from": start.isoformat(), "to": end.isoformat(),
            "orders_considered": len(orders), "orders_matched": matched,
            "cost": f"{cost:.2f}", "revenue_before": f"{revenue_before:.2f}",
            "revenue_after": f"{revenue_before - cost:.2f}",
            "truncated": len(orders) == MAX_ORDERS,
            "not_matched": [{"reason": reason, "orders": count}
                            for reason, count in reasons.most_common(10)]}
