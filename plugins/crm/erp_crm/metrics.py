"""Customer figures, defined once for every report: who buys, who comes back, and how
the customers spread over the tiers.

A purchase is a returning customer's when it came after that customer's first purchase
in its currency; the first one makes a new customer. Cancelled purchases do not count.
"""

from __future__ import annotations

import sqlalchemy as sa

from erp_crm.behaviour import Behaviour
from erp_crm.customers import Customer
from erp_crm.purchase_records import Purchase
from erp_crm.rfm import RfmChange, RfmScore
from erp_crm.tiers import TierChange
from erp_sdk import Dimension, Join, Measure, Metric, MetricSource, Unit, hookimpl

purchase = Purchase.__table__
behaviour = Behaviour.__table__
customer = Customer.__table__
tier_change = TierChange.__table__
rfm_change = RfmChange.__table__
rfm_score = RfmScore.__table__

_CUSTOMER = Join(customer, customer.c.id == purchase.c.customer_id)

PURCHASES = MetricSource(
    "purchases",
    purchase,
    joins=[Join(behaviour, sa.and_(behaviour.c.customer_id == purchase.c.customer_id,
                                   behaviour.c.currency == purchase.c.currency), outer=False)],
    condition=purchase.c.cancelled_at.is_(None),
    time=purchase.c.occurred_at,
    entities={"crm.purchase": purchase},
    currency=purchase.c.currency,
    record=("crm.customer", purchase.c.customer_id),
    dimensions=[
        Dimension("customer", purchase.c.customer_id, joins=[_CUSTOMER], label=customer.c.name,
                  title="Customer"),
        Dimension("customer_tier", customer.c.tier, joins=[_CUSTOMER], title="Customer tier"),
        Dimension("currency", purchase.c.currency, title="Currency"),
    ],
)

CUSTOMERS = MetricSource(
    "customers",
    customer,
    condition=sa.and_(customer.c.active.is_(True), customer.c.merged_into_id.is_(None)),
    entities={"crm.customer": customer},
    record=("crm.customer", customer.c.id),
    dimensions=[Dimension("customer_tier", customer.c.tier, title="Customer tier")],
)

TIER_CHANGES = MetricSource(
    "tier_changes",
    tier_change,
    time=tier_change.c.changed_at,
    entities={"crm.tier_change": tier_change},
    record=("crm.customer", tier_change.c.customer_id),
    dimensions=[Dimension("from_tier", tier_change.c.old_tier, title="From tier"),
                Dimension("customer_tier", tier_change.c.new_tier, title="Customer tier")],
)

_RFM_CUSTOMER = Join(customer, customer.c.id == rfm_change.c.customer_id, outer=False)

RFM_CHANGES = MetricSource(
    "rfm_changes",
    rfm_change,
    joins=[_RFM_CUSTOMER],
    time=rfm_change.c.changed_at,
    entities={"crm.customer": customer},
    record=("crm.customer", rfm_change.c.customer_id),
    dimensions=[Dimension("from_segment", rfm_change.c.old_segment, title="From RFM segment"),
                Dimension("rfm_segment", rfm_change.c.new_segment, title="RFM segment"),
                Dimension("currency", rfm_change.c.currency, title="Currency"),
                Dimension("customer_tier", customer.c.tier, title="Customer tier")],
)

RFM_SEGMENTS = MetricSource(
    "rfm_segments",
    rfm_score,
    joins=[Join(customer, customer.c.id == rfm_score.c.customer_id, outer=False)],
    entities={"crm.customer": customer},
    record=("crm.customer", rfm_score.c.customer_id),
    dimensions=[Dimension("rfm_segment", rfm_score.c.segment, title="RFM segment"),
                Dimension("currency", rfm_score.c.currency, title="Currency"),
                Dimension("customer_tier", customer.c.tier, title="Customer tier")],
)

_BUYERS = Measure.count_distinct(purchase.c.customer_id)
_RETURNING = Measure.count_distinct(
    sa.case((purchase.c.occurred_at > behaviour.c.first_purchase_at, purchase.c.customer_id)))
_NEW = Measure.count_distinct(
    sa.case((purchase.c.occurred_at <= behaviour.c.first_purchase_at, purchase.c.customer_id)))


@hookimpl
def erp_register_metrics():
    return [
        Metric("buying_customers", "Buying customers", _BUYERS, PURCHASES, "crm.purchase.read",
               Unit.COUNT),
        Metric("new_customers", "New customers", _NEW, PURCHASES, "crm.purchase.read",
               Unit.COUNT, "Customers whose first purchase falls in the period"),
        Metric("returning_customers", "Returning customers", _RETURNING, PURCHASES,
               "crm.purchase.read", Unit.COUNT, "Customers who had bought before"),
        Metric("repeat_rate", "Repeat rate", Measure.ratio(_RETURNING, _BUYERS), PURCHASES,
               "crm.purchase.read", Unit.SHARE, "Returning customers per buying customer"),
        Metric("purchase_value", "Purchase value", Measure.sum(purchase.c.amount), PURCHASES,
               "crm.purchase.read", Unit.MONEY),
        Metric("customers", "Customers", Measure.count(customer.c.id), CUSTOMERS,
               "crm.customer.read", Unit.COUNT, "Active customers (cut by tier: the tier"
               " distribution)"),
        Metric("tier_changes", "Tier changes", Measure.count(tier_change.c.id), TIER_CHANGES,
               "crm.tier_change.read", Unit.COUNT, "Customers moved between tiers"),
        Metric("rfm_movements", "RFM movements", Measure.count(rfm_change.c.id), RFM_CHANGES,
               "crm.customer.read", Unit.COUNT, "RFM movement: moves of customers between"
               " RFM segments (cut by from_segment and rfm_segment)"),
        Metric("customers_moved", "Customers moved",
               Measure.count_distinct(rfm_change.c.customer_id), RFM_CHANGES,
               "crm.customer.read", Unit.COUNT, "Customers who changed RFM segment"),
        Metric("rfm_customers", "Customers by RFM segment", Measure.count(rfm_score.c.customer_id),
               RFM_SEGMENTS, "crm.customer.read", Unit.COUNT,
               "Customers in each RFM segment now (cut by rfm_segment)"),
    ]
