"""What the shipment workflow does to the order: handing a shipment over ships its lines
through the order's own ``ship`` transition (so the stock moves and the order's state
follow exactly as when an order ships without logistics, and the sales channel hears of
the tracking number), and the delivery of every shipment delivers the order.

With logistics enabled that hand-over is the only way an order ships: the order's own
``ship``, fired by anyone else (its API route, the CLI, another plugin), is refused. An
order cancelled cancels its draft shipments; one with a label bought (or being bought)
is refused until the labels are voided, so no paid label is forgotten."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from erp_logistics.carriers import CarrierAccount
from erp_logistics.shipment import (
    LabelState,
    Package,
    Shipment,
    ShipmentKind,
    ShipmentLine,
    ShipmentState,
)
from erp_orders.order import Order, OrderState
from erp_sdk import (
    Context,
    Principal,
    TransitionEvent,
    TransitionVetoed,
    on_transition,
    utcnow,
)

SHIPMENT = "logistics.shipment"
ORDER = "orders.order"


DAY_QUANTUM = Decimal("0.0001")


def days_between(start: dt.datetime, end: dt.datetime) -> Decimal:
    """Exact days from ``start`` to ``end``, to a ten-thousandth (no float on the way)."""
    delta = end - start
    seconds = Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)
    return (seconds / 86400).quantize(DAY_QUANTUM)


def _system(ctx: Context, why: str) -> Context:
    return ctx.as_principal(Principal.system(f"{why} for {ctx.principal.name}"))


@on_transition(ORDER, "ship", when="before")
def ship_only_by_handing_over_a_shipment(ctx: Context, event: TransitionEvent) -> None:
    """The goods leave in a shipment: the order ships when one is handed over. The
    kernel says which transition fired this one (``event.cause``), which a caller
    cannot claim through the transition's data."""
    if not event.caused_by(SHIPMENT, "hand_over"):
        raise TransitionVetoed(
            f"order {event.record['number']} ships through a shipment while logistics is"
            " enabled: make one (POST /api/v1/logistics/shipments/from-order), label it"
            " and hand it over")


@on_transition(SHIPMENT, "cancel", when="before")
def cancel_only_without_labels(ctx: Context, event: TransitionEvent) -> None:
    """A label bought, being bought or of unknown outcome is money the carrier may
    charge: it is voided (``POST .../labels/void``) before the shipment goes."""
    labelled = ctx.session.scalar(sa.select(sa.func.count()).select_from(Package).where(
        Package.shipment_id == event.record_id, Package.label_state != LabelState.TO_LABEL))
    if labelled:
        raise TransitionVetoed(f"shipment {event.record['number']} has {labelled} package(s)"
                               " with a label bought or being bought: void them first")


@on_transition(ORDER, "cancel")
def cancel_the_draft_shipments(ctx: Context, event: TransitionEvent) -> None:
    """The order's shipments not yet labelled are cancelled with it; a labelled one
    refuses the cancellation (void its labels first), and so does a draft one whose
    label purchase started (see ``cancel_only_without_labels``)."""
    open_shipments = ctx.session.execute(
        sa.select(Shipment.id, Shipment.number, Shipment.state)
        .where(Shipment.order_id == event.record_id,
               Shipment.state.in_([ShipmentState.DRAFT, ShipmentState.LABELLED]))
        .order_by(Shipment.id)).all()
    labelled = [number for _, number, state in open_shipments
                if state == ShipmentState.LABELLED]
    if labelled:
        raise TransitionVetoed(
            f"order {event.record['number']} has labelled shipment(s) {', '.join(labelled)}:"
            " void their labels (POST /api/v1/logistics/shipments/{id}/labels/void) before"
            " cancelling it")
    system = _system(ctx, "order cancellation")
    for shipment_id, _, _ in open_shipments:
        system.fire(SHIPMENT, shipment_id, "cancel",
                    {"reason": f"order {event.record['number']} cancelled"}, read_back=False)


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
def deliver_the_order(ctx: Context, event: TransitionEvent) -> None:
    """An order whose goods all left (``shipped``) and whose every outbound shipment is
    delivered is delivered (completing it stays the seller's step)."""
    shipment = ctx.session.get(Shipment, event.record_id)
    assert shipment is not None
    if shipment.delivered_at is None:
        shipment.delivered_at = utcnow()
    if shipment.handed_over_at is not None:
        shipment.transit_days = days_between(shipment.handed_over_at, shipment.delivered_at)
        if shipment.promised_transit_days is not None:
            shipment.on_time = shipment.transit_days <= shipment.promised_transit_days
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
        _system(ctx, "delivery").fire(ORDER, shipment.order_id, "deliver",
                                      {"reason": "every shipment delivered"}, read_back=False)
