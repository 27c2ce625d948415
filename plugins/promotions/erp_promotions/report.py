"""What promotions gave and brought: per promotion and per campaign, the discount given
(less what returns gave back), the orders that used them and those orders' revenue.
Released redemptions (cancelled orders) count for nothing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from erp_orders.order import Order
from erp_promotions.promotion import Campaign, Promotion
from erp_promotions.redemption import Redemption
from erp_sdk import Context


def promotion_results(ctx: Context) -> dict[str, Any]:
    ctx.records("promotions.promotion").list([])  # read permission
    live = Redemption.released_at.is_(None)
    given = sa.func.sum(Redemption.amount - Redemption.returned_amount)
    per_promotion = ctx.session.execute(
        sa.select(Promotion.id, Promotion.name, Redemption.currency, given,
                  sa.func.count(sa.distinct(Redemption.order_id)), sa.func.sum(Order.total))
        .join(Redemption, Redemption.promotion_id == Promotion.id)
        .join(Order, Order.id == Redemption.order_id).where(live)
        .group_by(Promotion.id, Promotion.name, Redemption.currency).order_by(Promotion.id)).all()
    per_order = (sa.select(Redemption.order_id, Redemption.campaign_id,
                           Redemption.currency, given.label("given"))
                 .where(live, Redemption.campaign_id.is_not(None))
                 .group_by(Redemption.order_id, Redemption.campaign_id, Redemption.currency)
                 .subquery())
    per_campaign = ctx.session.execute(
        sa.select(Campaign.id, Campaign.name, per_order.c.currency,
                  sa.func.sum(per_order.c.given), sa.func.count(per_order.c.order_id),
                  sa.func.sum(Order.total))
        .join(per_order, per_order.c.campaign_id == Campaign.id)
        .join(Order, Order.id == per_order.c.order_id)
        .group_by(Campaign.id, Campaign.name, per_order.c.currency).order_by(Campaign.id)).all()

    def row(values: Any, key: str) -> dict[str, Any]:
        ident, name, currency, discount, orders, revenue = values
        return {key: ident, "name": name, "currency": currency,
                "discount_given": f"{discount:.2f}", "orders": orders,
                "revenue": f"{revenue:.2f}"}

    return {"promotions": [row(r, "promotion_id") for r in per_promotion],
            "campaigns": [row(r, "campaign_id") for r in per_campaign]}
