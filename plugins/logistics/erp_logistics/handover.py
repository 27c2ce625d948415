"""What the shipment workflow does to the order: handing a shipment over ships its lines
through the order's own ``ship`` transition (so the stock moves and the order's state
follow exactly as when an order ships without logistics, and the sales channel hears of
the tracking number), and the delivery of every shipment completes the order."""

from __future__ import annotations

import sqlalchemy as sa

from erp_logistics.carriers import CarrierAccount
from erp_logistics.shipment import (
    Package,
    Shipment,
    ShipmentKind,
    ShipmentLine,
    ShipmentState,
)
from erp_orders.order import Order, OrderState
from erp_sdk import Context, Principal, TransitionEvent, on_transition, utcnow

SHIPMENT = "logistics.shipment"
ORDER = "orders.order"


def _system(ctx: Context, why: str) -> Context:
    return ctx.as_principal(Principal.system(f"{why} for {ctx.principal.name}"))


@on_transition(SHIPMENT, "hand_over")
def ship_the_order_lines(ctx: Context, event: TransitionEvent) -> None:
    """Ship the shipment's quantities of the order's lines, in this transaction: if the
    order cannot ship them (its stock reservation is gone), the hand-over fails too."""
    shipment = ctx.session.get(Shipment, event.record_id)
    assert shipment is not None
    shipment.handed_over_at = utcnow()
    if shipment.tracking_status is None:
        shipment.tracking_status = "pending"
    ctx.session.flush()
    if shipment.kind != ShipmentKind.OUTBOUND:
        return
    lines = [{"line_id": line_id, "quantity": str(quantity)}
             for line_id, quantity in ctx.session.execute(
                 sa.select(ShipmentLine.order_line_id, ShipmentLine.quantity)
                 .where(ShipmentLine.shipment_id == shipment.id).order_by(ShipmentLine.id))]
    tracking = list(ctx.session.scalars(sa.select(Package.tracking_number).where(
        Package.shipment_id == shipment.id, Package.tracking_number.is_not(None))
        .order_by(Package.id)))
    carrier = ctx.session.scalar(sa.select(CarrierAccount.name).where(
        CarrierAccount.id == shipment.carrier_account_id))
    _system(ctx, "hand-over").fire(
        ORDER, shipment.order_id, "ship",
        {"lines": lines, "carrier": carrier, "tracking_number": ", ".join(tracking),
         "shipment_id": shipment.id, "shipment": shipment.number}, read_back=False)


@on_transition(SHIPMENT, "deliver")
def complete_a_delivered_order(ctx: Context, event: TransitionEvent) -> None:
    """An order whose goods all left (``shipped``) and whose every outbound shipment is
    delivered is complete."""
    shipment = ctx.session.get(Shipment, event.record_id)
    assert shipment is not None
    if shipment.delivered_at is None:
        shipment.delivered_at = utcnow()
        ctx.session.flush()
    if shipment.kind != ShipmentKind.OUTBOUND:
        return
    state = ctx.session.scalar(sa.select(Order.state).where(Order.id == shipment.order_id))
    if state != OrderState.SHIPPED:
        return
    undelivered = ctx.session.scalar(sa.select(sa.func.count()).select_from(Shipment).where(
        Shipment.order_id == shipment.order_id, Shipment.kind == ShipmentKind.OUTBOUND,
        Shipment.state.not_in([ShipmentState.DELIVERED, ShipmentState.CANCELLED])))
    if not undelivered:
        _system(ctx, "delivery").fire(ORDER, shipment.order_id, "complete",
                                      {"reason": "every shipment delivered"}, read_back=False)
