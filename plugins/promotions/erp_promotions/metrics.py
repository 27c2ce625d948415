"""What promotions gave and brought, defined once for the reports plugin.

An order counts from its confirmation on, as a sale counts in the orders plugin's
figures (``erp_orders.metrics.SOLD_STATES``); a promotion counts on it while its
redemption is not released (a cancelled order gives it back). The discount given is net
of what refunded returns gave back; revenue is the orders' totals (tax and shipping
included, after every discount), as the orders plugin's ``order_value``.

Discounts are summed over redemptions (one per order and promotion). Orders and revenue
are summed over orders, each once: cut by promotion or by campaign, an order joins the
distinct promotions or campaigns it used, so an order with two promotions of one
campaign counts once for that campaign.
"""

from __future__ import annotations

import sqlalchemy as sa

from erp_orders.channel import Channel
from erp_orders.metrics import SOLD_STATES
from erp_orders.order import Order
from erp_promotions.promotion import Campaign, Promotion
from erp_promotions.redemption import Redemption
from erp_sdk import Dimension, Join, Measure, Metric, MetricSource, Unit, hookimpl

order = Order.__table__
redemption = Redemption.__table__
promotion = Promotion.__table__
campaign = Campaign.__table__
channel = Channel.__table__

_LIVE = redemption.c.released_at.is_(None)
_SOLD = order.c.state.in_(SOLD_STATES)
_CHANNEL = Dimension("channel", order.c.channel_id,
                     joins=[Join(channel, channel.c.id == order.c.channel_id)],
                     label=channel.c.name, title="Channel")

REDEMPTIONS = MetricSource(
    "promotion_redemptions",
    redemption,
    joins=[Join(order, order.c.id == redemption.c.order_id, outer=False)],
    condition=sa.and_(_LIVE, _SOLD),
    time=order.c.placed_at,
    entities={"orders.order": order},
    currency=redemption.c.currency,
    record=("orders.order", order.c.id),
    dimensions=[
        Dimension("promotion", redemption.c.promotion_id,
                  joins=[Join(promotion, promotion.c.id == redemption.c.promotion_id)],
                  label=promotion.c.name, title="Promotion"),
        Dimension("campaign", redemption.c.campaign_id,
                  joins=[Join(campaign, campaign.c.id == redemption.c.campaign_id,
                              outer=False)],
                  label=campaign.c.name, title="Campaign"),
        _CHANNEL,
        Dimension("currency", redemption.c.currency, title="Currency"),
    ],
)

_order_promotions = (sa.select(redemption.c.order_id, redemption.c.promotion_id)
                     .where(_LIVE).distinct().subquery("promotions_order_promotion"))
_order_campaigns = (sa.select(redemption.c.order_id, redemption.c.campaign_id)
                    .where(_LIVE, redemption.c.campaign_id.is_not(None)).distinct()
                    .subquery("promotions_order_campaign"))
_promoted = sa.exists().where(redemption.c.order_id == order.c.id, _LIVE)

PROMOTED_ORDERS = MetricSource(
    "promoted_orders",
    order,
    condition=sa.and_(_SOLD, _promoted),
    time=order.c.placed_at,
    entities={"orders.order": order},
    currency=order.c.currency,
    record=("orders.order", order.c.id),
    dimensions=[
        Dimension("promotion", _order_promotions.c.promotion_id,
                  joins=[Join(_order_promotions, _order_promotions.c.order_id == order.c.id,
                              outer=False),
                         Join(promotion, promotion.c.id == _order_promotions.c.promotion_id)],
                  label=promotion.c.name, title="Promotion"),
        Dimension("campaign", _order_campaigns.c.campaign_id,
                  joins=[Join(_order_campaigns, _order_campaigns.c.order_id == order.c.id,
                              outer=False),
                         Join(campaign, campaign.c.id == _order_campaigns.c.campaign_id)],
                  label=campaign.c.name, title="Campaign"),
        _CHANNEL,
        Dimension("currency", order.c.currency, title="Currency"),
    ],
)

_RESULTS = "promotions.results.read"


@hookimpl
def erp_register_metrics():
    given = sa.type_coerce(redemption.c.amount - redemption.c.returned_amount,
                           redemption.c.amount.type)
    return [
        Metric("discount_given", "Discount given", Measure.sum(given), REDEMPTIONS, _RESULTS,
               Unit.MONEY, "What promotions took off sold orders, less what returns gave"
                           " back"),
        Metric("orders_with_promotion", "Orders with a promotion",
               Measure.count_distinct(order.c.id), PROMOTED_ORDERS, _RESULTS, Unit.COUNT,
               "Sold orders that at least one promotion applied to"),
        Metric("revenue_with_promotion", "Revenue with a promotion",
               Measure.sum(order.c.total), PROMOTED_ORDERS, _RESULTS, Unit.MONEY,
               "Totals (tax and shipping included) of those orders"),
    ]
