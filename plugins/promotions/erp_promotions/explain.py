"""Explaining promotions: a dry run over a cart, and what an order's lines received.

A dry run evaluates a cart exactly as placing it would (the same rules, conditions and
stacking) without taking anything: it says which promotions apply, how much each takes
off which line, and why each of the others does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from erp_orders.order import Order, OrderLine
from erp_orders.pricing import Cart
from erp_promotions.engine import Outcome
from erp_promotions.pricing import evaluate_cart
from erp_promotions.promotion import Promotion
from erp_promotions.redemption import Application
from erp_sdk import Context

ZERO = Decimal(0)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def describe(cart: Cart, outcome: Outcome, unknown: Sequence[str] = ()) -> dict[str, Any]:
    """An outcome as the API shows it."""
    bases = [line.base for line in cart.lines]
    lines = []
    by_line: dict[int | None, list[Any]] = {}
    for share in outcome.shares:
        by_line.setdefault(share.line, []).append(share)
    for index, line in enumerate(cart.lines):
        shares = by_line.get(index, ())
        lines.append({"index": index, "product_id": line.product_id,
                      "base": _money(bases[index]),
                      "discount": _money(outcome.line_discounts[index]),
                      "net": _money(bases[index] - outcome.line_discounts[index]),
                      "promotions": [{"promotion_id": s.rule_id, "level": s.level,
                                      "amount": _money(s.amount)} for s in shares]})
    return {
        "currency": cart.currency,
        "subtotal": _money(sum(bases, ZERO)),
        "discount": _money(outcome.discount),
        "order_discount": _money(outcome.order_discount),
        "shipping_discount": _money(outcome.shipping_discount),
        "lines": lines,
        "gifts": [{"promotion_id": rule_id, "product_id": product,
                   "quantity": f"{quantity:f}"} for rule_id, product, quantity in outcome.gifts],
        "applied": [{"promotion_id": v.rule.id, "name": v.rule.name,
                     "coupon_code": v.rule.coupon_code, "amount": _money(v.amount)}
                    for v in outcome.verdicts if v.applied],
        "not_applied": [{"promotion_id": v.rule.id, "name": v.rule.name,
                         "coupon_code": v.rule.coupon_code, "reason": v.reason}
                        for v in outcome.verdicts if not v.applied],
        "unknown_codes": list(unknown),
    }


def dry_run(ctx: Context, cart: Cart) -> dict[str, Any]:
    outcome, unknown = evaluate_cart(ctx, cart)
    return describe(cart, outcome, unknown)


def order_explanation(ctx: Context, order_id: int) -> dict[str, Any]:
    """Every line of an order with the promotions that discounted it, and by how much."""
    ctx.records("orders.order").get(order_id)  # read permission; 404 for an unknown order
    names = dict(ctx.session.execute(sa.select(Promotion.id, Promotion.name).join(
        Application, Application.promotion_id == Promotion.id).where(
        Application.order_id == order_id)).all())
    applications = ctx.session.execute(sa.select(Application).where(
        Application.order_id == order_id).order_by(Application.id)).scalars().all()
    lines = ctx.session.execute(sa.select(OrderLine).where(
        OrderLine.order_id == order_id).order_by(OrderLine.id)).scalars().all()
    order = ctx.session.get(Order, order_id)

    def entry(app: Application) -> dict[str, Any]:
        return {"promotion_id": app.promotion_id, "name": names.get(app.promotion_id),
                "coupon_id": app.coupon_id, "level": app.level, "amount": _money(app.amount)}

    return {
        "order_id": order_id,
        "discount_total": _money(order.discount_total),
        "shipping_discount": _money(order.shipping_discount),
        "lines": [{"order_line_id": line.id, "sku": line.sku, "gift": line.gift,
                   "promotion_discount": _money(line.promotion_discount),
                   "promotions": [entry(a) for a in applications
                                  if a.order_line_id == line.id]} for line in lines],
        "shipping": [entry(a) for a in applications if a.level == "shipping"],
        "gifts": [entry(a) for a in applications if a.level == "gift"],
    }
