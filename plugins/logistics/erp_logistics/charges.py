"""The customer's shipping charge, applied once per order when its first outbound
shipment is labelled (the label's cost is then known).

The policy of the order's channel (or the one without channel) says: ``flat`` amount,
``free_above`` a threshold of the order's subtotal (the flat amount below it), or
``cost_plus`` the labels' cost plus ``margin``. The charge becomes the order's
``shipping_amount`` (through the orders plugin's service, which recomputes its totals)
and is kept in ``logistics_order_shipping_charge``, whose key is the order: a second
shipment, a voided and re-bought label or a retry never applies the margin again. An
order whose channel already charged shipping (its ``shipping_amount`` is not zero) keeps
that charge.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from erp_logistics.freight import ChargeKind, OrderShippingCharge, ShippingChargePolicy
from erp_logistics.shipment import Package, Shipment, ShipmentKind
from erp_orders.order import Order
from erp_sdk import Context, Principal, TransitionEvent, on_transition

CENT = Decimal("0.01")


def shipping_charge(policy: ShippingChargePolicy, subtotal: Decimal, cost: Decimal) -> Decimal:
    if policy.kind == ChargeKind.FREE_ABOVE:
        return Decimal(0) if policy.threshold is not None and subtotal >= policy.threshold \
            else policy.flat_amount
    if policy.kind == ChargeKind.COST_PLUS:
        return (cost * (1 + policy.margin)).quantize(CENT, rounding=ROUND_HALF_UP)
    return policy.flat_amount


def _policy(ctx: Context, channel_id: int) -> ShippingChargePolicy | None:
    policies = {p.channel_id: p for p in ctx.session.scalars(
        sa.select(ShippingChargePolicy).where(sa.or_(
            ShippingChargePolicy.channel_id == channel_id,
            ShippingChargePolicy.channel_id.is_(None))))}
    return policies.get(channel_id) or policies.get(None)


@on_transition("logistics.shipment", "mark_labelled")
def charge_shipping_once(ctx: Context, event: TransitionEvent) -> None:
    if event.record["kind"] != ShipmentKind.OUTBOUND:
        return
    order_id = event.record["order_id"]
    if ctx.session.get(OrderShippingCharge, order_id) is not None:
        return
    order = ctx.session.get(Order, order_id)
    assert order is not None
    policy = _policy(ctx, order.channel_id)
    if policy is None:
        return
    cost = ctx.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Package.label_amount), 0))
                              .join(Shipment, Shipment.id == Package.shipment_id)
                              .where(Shipment.id == event.record_id))
    cost = Decimal(str(cost))
    if order.shipping_amount:
        ctx.session.add(OrderShippingCharge(order_id=order_id, policy_kind="channel", cost=cost,
                                            charged=order.shipping_amount))
        ctx.session.flush()
        return
    charged = shipping_charge(policy, order.subtotal - order.discount_total, cost)
    ctx.session.add(OrderShippingCharge(order_id=order_id, policy_kind=policy.kind, cost=cost,
                                        charged=charged))
    ctx.session.flush()
    if charged:
        system = ctx.as_principal(Principal.system("shipping charge"))
        system.records("orders.order").update(order_id, {"shipping_amount": str(charged)})
