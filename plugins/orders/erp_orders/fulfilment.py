"""What the order workflow does: review, reserve, ship, cancel, complete (ORD-2, ORD-5).

Every reaction runs in the transition's transaction: if the stock for one line is
missing, the approval fails as a whole and the order stays where it was. Stock effects
go through the inventory plugin's services, acting as the system on the order's behalf
(the order permission already authorised the business action).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from erp_crm.services import cancel_purchase, record_purchase
from erp_inventory.catalogue import Category, Product
from erp_inventory.reservations import ReservationLine, release, reserve, ship_origins
from erp_orders.delivery import require_shipping_address
from erp_orders.order import OrderLine, OrderState
from erp_orders.review import review_reasons
from erp_sdk import (
    Context,
    Principal,
    TransitionEvent,
    TransitionVetoed,
    ValidationError,
    keep_loaded,
    on_transition,
    utcnow,
)

ORDER = "orders.order"


def line_origin(line_id: int) -> str:
    return f"orders.order_line:{line_id}"


def _system(ctx: Context) -> Context:
    return ctx.as_principal(Principal.system(f"orders for {ctx.principal.name}"))


def _lines(ctx: Context, order_id: int) -> list[OrderLine]:
    return list(ctx.session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order_id)
                                    .order_by(OrderLine.id)))


_ANY_LINE = sa.select(OrderLine.id).where(OrderLine.order_id == sa.bindparam("order")).limit(1)
_UNSHIPPED = (sa.select(OrderLine.id, OrderLine.product_id,
                        OrderLine.quantity - OrderLine.quantity_shipped)
              .where(OrderLine.order_id == sa.bindparam("order"),
                     OrderLine.quantity > OrderLine.quantity_shipped)
              .order_by(OrderLine.id))


def _no_lines(event: TransitionEvent) -> TransitionVetoed:
    return TransitionVetoed(f"order {event.record['number']} has no lines")


@on_transition(ORDER, "confirm", when="after")
def review_or_approve(ctx: Context, event: TransitionEvent) -> None:
    """Send the order to review when a rule matches; otherwise approve it at once.

    An order without a shipping address is refused (unless its channel's goods are
    collected in store, see ``erp_orders.delivery``), and so is one without lines, and
    the whole confirmation with it. The checks are here, after the change, rather than in
    a before-hook: with nothing to run before it, the confirmation locks, checks and
    changes the order in one statement, and approving checks the lines in the read that
    reserves them."""
    require_shipping_address(ctx, event.record,
                             f"order {event.record['number']} cannot be confirmed without a"
                             " shipping address", TransitionVetoed)
    order = ctx.records(ORDER).instance(event.record)
    reasons = review_reasons(ctx, order)
    if reasons and ctx.session.scalar(_ANY_LINE, {"order": event.record_id}) is None:
        raise _no_lines(event)
    order.review_reasons = reasons or None
    ctx.session.flush()
    if not reasons:
        _system(ctx).fire(ORDER, order.id, "approve", {"reason": "no review rule matched"},
                          read_back=False)


@on_transition(ORDER, "approve", when="after")
def reserve_stock(ctx: Context, event: TransitionEvent) -> None:
    """Reserve what the order has left to ship; an order with nothing left (no lines)
    is refused."""
    lines = [ReservationLine(product_id, quantity, line_origin(line_id))
             for line_id, product_id, quantity in ctx.session.execute(
                 _UNSHIPPED, {"order": event.record_id})]
    if not lines:
        raise _no_lines(event)
    reserve(_system(ctx), event.record["warehouse_id"], lines)


@on_transition(ORDER, "reject", when="before")
def rejection_needs_a_reason(ctx: Context, event: TransitionEvent) -> None:
    if not str(event.data.get("reason") or "").strip():
        raise ValidationError("rejecting an order needs a reason: {\"reason\": \"...\"}",
                              {"reason": "required"})


@on_transition(ORDER, "cancel", when="after")
def release_stock(ctx: Context, event: TransitionEvent) -> None:
    system = _system(ctx)
    for line in _lines(ctx, event.record_id):
        release(system, origin=line_origin(line.id))
    cancel_purchase(ctx, event.record["number"])


def _shipment(event: TransitionEvent, lines: Sequence[Any]) -> dict[int, Decimal]:
    """Quantities to ship per line: what the caller asked for, or everything remaining."""
    remaining = {line.id: line.quantity - line.quantity_shipped for line in lines}
    asked = event.data.get("lines")
    if asked is None:
        return {line_id: qty for line_id, qty in remaining.items() if qty > 0}
    if not isinstance(asked, list):
        raise ValidationError("lines must be a list of {line_id, quantity}", {"lines": "invalid"})
    wanted: dict[int, Decimal] = {}
    for item in asked:
        try:
            line_id, quantity = int(item["line_id"]), Decimal(str(item["quantity"]))
        except (KeyError, TypeError, ValueError, ArithmeticError):
            raise ValidationError("each line needs line_id and quantity",
                                  {"lines": "invalid"}) from None
        if line_id not in remaining:
            raise ValidationError(f"line {line_id} is not on this order", {"lines": "unknown"})
        if not 0 < quantity <= remaining[line_id] - wanted.get(line_id, Decimal(0)):
            raise ValidationError(f"line {line_id} has {remaining[line_id]:f} left to ship",
                                  {"lines": "quantity out of range"})
        wanted[line_id] = wanted.get(line_id, Decimal(0)) + quantity
    if not wanted:
        raise ValidationError("nothing to ship", {"lines": "empty"})
    return wanted


_LINES = OrderLine.__table__
_SHIPPING_LINES = (sa.select(OrderLine.id, OrderLine.quantity, OrderLine.quantity_shipped)
                   .where(OrderLine.order_id == sa.bindparam("order")).order_by(OrderLine.id))
"""Model attributes, not table columns: the session flushes changed lines before it."""
_RECORD_SHIPPED = (sa.update(_LINES).where(_LINES.c.id == sa.bindparam("line"))
                   .values(quantity_shipped=sa.bindparam("shipped"),
                           updated_at=sa.bindparam("now")))


@on_transition(ORDER, "ship", when="after")
def ship_lines(ctx: Context, event: TransitionEvent) -> None:
    """Ship the asked lines in one call to inventory and record what each line shipped,
    in a fixed number of statements however many lines the order has."""
    lines = ctx.session.execute(_SHIPPING_LINES, {"order": event.record_id}).all()
    shipment = _shipment(event, lines)
    shipping = [line for line in lines if shipment.get(line.id)]
    ship_origins(_system(ctx), {line_origin(line.id): shipment[line.id] for line in shipping},
                 origin=f"orders.order:{event.record_id}")
    now = utcnow()
    shipped = {line.id: line.quantity_shipped + shipment[line.id] for line in shipping}
    if shipped:
        ctx.session.execute(_RECORD_SHIPPED, [{"line": line_id, "shipped": quantity, "now": now}
                                              for line_id, quantity in shipped.items()])
    keep_loaded(ctx.session, OrderLine, {line_id: {"quantity_shipped": quantity,
                                                   "updated_at": now}
                                         for line_id, quantity in shipped.items()})
    if all(shipped.get(line.id, line.quantity_shipped) >= line.quantity for line in lines):
        _system(ctx).fire(ORDER, event.record_id, "finish_shipping", read_back=False)


_CATEGORIES = (sa.select(Category.name).join(Product, Product.category_id == Category.id)
               .join(OrderLine, OrderLine.product_id == Product.id)
               .where(OrderLine.order_id == sa.bindparam("order")).distinct())


@on_transition(ORDER, "deliver", when="after")
@on_transition(ORDER, "complete", when="after")
def record_the_purchase(ctx: Context, event: TransitionEvent) -> None:
    """The CRM learns of the purchase when the goods arrived (``deliver``) or the order
    completes without a tracked delivery, once, from the order as the transition left it
    (its JSON record), so it costs no second read of the order."""
    if event.transition == "complete" and event.source == OrderState.DELIVERED:
        return
    order = event.record
    placed_at = order.get("placed_at")
    record_purchase(ctx, order["customer_id"], order["number"], Decimal(order["total"]),
                    order["currency"], dt.datetime.fromisoformat(placed_at) if placed_at
                    else utcnow(), list(ctx.session.scalars(_CATEGORIES,
                                                            {"order": event.record_id})))


@on_transition(ORDER, "hold", when="before")
def nothing_shipped_yet(ctx: Context, event: TransitionEvent) -> None:
    if any(line.quantity_shipped for line in _lines(ctx, event.record_id)):
        raise TransitionVetoed("an order that started shipping cannot be held")

