"""Purchase orders: draft -> sent -> confirmed (by the supplier, perhaps with other dates
or quantities) -> partially received -> received -> closed, or cancelled.

The receiving states follow the receipts: ``receive_part`` and ``receive_all`` are fired
by the receipt service and refused when the lines' received quantities do not say so,
so firing them by hand can never make an order claim goods it has not got. What is still
due on a partially received order is its backorder; ``split_backorder`` moves it to an
order of its own and closes the first.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_sdk import (
    NON_NEGATIVE,
    POSITIVE,
    Base,
    ConflictError,
    Context,
    Money,
    Principal,
    Quantity,
    RecordMixin,
    Transition,
    TransitionEvent,
    TransitionVetoed,
    UtcDateTime,
    ValidationError,
    Workflow,
    WriteEvent,
    on_transition,
    on_write,
    utcnow,
)

CENT = Decimal("0.01")
ZERO = Decimal(0)


class OrderState(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    CONFIRMED = "confirmed"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


S = OrderState
OPEN_STATES = (S.DRAFT, S.SENT, S.CONFIRMED, S.PARTIALLY_RECEIVED)
RECEIVABLE_STATES = (S.CONFIRMED, S.PARTIALLY_RECEIVED)

PURCHASE_ORDER_WORKFLOW = Workflow(
    states=OrderState,
    initial=S.DRAFT,
    transitions=[
        Transition("send", [S.DRAFT], S.SENT, event="sent",
                   description="Sent to the supplier; needs at least one line"),
        Transition("confirm", [S.DRAFT, S.SENT], S.CONFIRMED, event="confirmed",
                   description="The supplier accepted (see supplier-confirmation for changes)"),
        Transition("receive_part", list(RECEIVABLE_STATES), S.PARTIALLY_RECEIVED,
                   description="Fired by receipts while goods are still due"),
        Transition("receive_all", list(RECEIVABLE_STATES), S.RECEIVED, event="received",
                   description="Fired by receipts once every line is received"),
        Transition("close", [S.PARTIALLY_RECEIVED, S.RECEIVED], S.CLOSED, event="closed",
                   description="Nothing more is expected: what is still due is cancelled"),
        Transition("cancel", [S.DRAFT, S.SENT, S.CONFIRMED], S.CANCELLED, event="cancelled",
                   description="Refused once anything was received"),
    ],
)


def purchase_order_number(order_id: int) -> str:
    return f"PO-{order_id:06d}"


class PurchaseOrder(RecordMixin, Base):
    __tablename__ = "supply_purchase_order"

    number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_supplier.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"))
    currency: Mapped[str | None] = mapped_column(
        sa.String(3), info={"description": "Defaults to the supplier's currency"})
    state: Mapped[str] = mapped_column(sa.String(24), default=S.DRAFT, index=True)
    order_date: Mapped[dt.date] = mapped_column(default=lambda: utcnow().date())
    expected_date: Mapped[dt.date | None]
    freight: Mapped[Money] = mapped_column(
        default=ZERO, info={**NON_NEGATIVE, "description": "Landed cost, in the order's"
                            " currency, spread over the lines by value"})
    duty: Mapped[Money] = mapped_column(
        default=ZERO, info={**NON_NEGATIVE, "description": "Landed cost like `freight`"})
    untaxed_amount: Mapped[Money] = mapped_column(default=ZERO)
    sent_at: Mapped[UtcDateTime | None]
    confirmed_at: Mapped[UtcDateTime | None]
    backorder_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supply_purchase_order.id"))
    note: Mapped[str | None] = mapped_column(sa.String(1000))


class PurchaseOrderLine(RecordMixin, Base):
    __tablename__ = "supply_purchase_order_line"

    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("supply_purchase_order.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"), index=True)
    quantity: Mapped[Quantity] = mapped_column(info=POSITIVE)
    unit_price: Mapped[Money] = mapped_column(info=NON_NEGATIVE)
    expected_date: Mapped[dt.date | None]
    original_quantity: Mapped[Quantity | None] = mapped_column(
        info={"description": "What was ordered before the supplier changed it"})
    original_expected_date: Mapped[dt.date | None]
    received_quantity: Mapped[Quantity] = mapped_column(default=ZERO)
    rejected_quantity: Mapped[Quantity] = mapped_column(default=ZERO)
    cancelled_quantity: Mapped[Quantity] = mapped_column(default=ZERO)
    amount: Mapped[Money] = mapped_column(default=ZERO)


LINE_READ_ONLY = ("original_quantity", "original_expected_date", "received_quantity",
                  "rejected_quantity", "cancelled_quantity", "amount")


def due_quantity(line: PurchaseOrderLine) -> Decimal:
    """What is still expected of a line (never negative after an over-receipt)."""
    return max(line.quantity - line.received_quantity - line.cancelled_quantity, ZERO)


def order_lines(session: Session, order_id: int, *, lock: bool = False
                ) -> list[PurchaseOrderLine]:
    query = (sa.select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == order_id)
             .order_by(PurchaseOrderLine.id))
    if lock:
        query = query.with_for_update(key_share=True)
    return list(session.scalars(query))


def refresh_amount(session: Session, order_id: int) -> None:
    total = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(PurchaseOrderLine.amount), 0))
                           .where(PurchaseOrderLine.order_id == order_id))
    session.execute(sa.update(PurchaseOrder).where(PurchaseOrder.id == order_id)
                    .values(untaxed_amount=Decimal(str(total or 0))))


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


@on_write("supply.purchase_order", actions=("create",))
def take_the_suppliers_currency(ctx: Context, event: WriteEvent) -> None:
    from erp_supply.suppliers import Supplier

    order = ctx.session.get(PurchaseOrder, event.record_id)
    if order is not None and order.currency is None:
        order.currency = ctx.session.get(Supplier, order.supplier_id).currency
        ctx.session.flush()


@on_write("supply.purchase_order", actions=("update",), when="before")
def terms_change_only_in_draft(ctx: Context, event: WriteEvent) -> None:
    """Once sent, the supplier holds the terms: supplier, warehouse and currency stay."""
    fixed = [name for name in ("supplier_id", "warehouse_id", "currency")
             if name in event.changes and event.changes[name] != (event.before or {}).get(name)]
    if fixed and (event.before or {}).get("state") != S.DRAFT:
        raise ConflictError(f"the {' and '.join(fixed)} of a sent purchase order cannot change")


@on_write("supply.purchase_order_line", when="before")
def lines_change_only_in_draft(ctx: Context, event: WriteEvent) -> None:
    order_id = (event.changes.get("order_id") if event.action == "create"
                else (event.before or {}).get("order_id"))
    if event.action == "update" and "order_id" in event.changes \
            and event.changes["order_id"] != order_id:
        raise ConflictError("a line cannot move to another purchase order")
    state = ctx.session.scalar(sa.select(PurchaseOrder.state).where(PurchaseOrder.id == order_id))
    if state is None:
        raise ValidationError(f"purchase order {order_id} does not exist",
                              {"order_id": "does not exist"})
    if state != S.DRAFT:
        raise ConflictError(f"the lines of a {state} purchase order cannot change")


@on_write("supply.purchase_order_line")
def keep_amounts(ctx: Context, event: WriteEvent) -> None:
    record = event.after or event.before or {}
    if event.action != "delete":
        line = ctx.session.get(PurchaseOrderLine, event.record_id)
        line.amount = line_amount(line.quantity, line.unit_price)
        ctx.session.flush()
    refresh_amount(ctx.session, record["order_id"])


@on_transition("supply.purchase_order", "send", when="before")
def refuse_sending_an_empty_order(ctx: Context, event: TransitionEvent) -> None:
    if not ctx.session.scalar(sa.select(sa.func.count()).where(
            PurchaseOrderLine.order_id == event.record_id)):
        raise TransitionVetoed(f"purchase order {event.record_id} has no lines")


@on_transition("supply.purchase_order", "send")
def stamp_sent(ctx: Context, event: TransitionEvent) -> None:
    ctx.session.execute(sa.update(PurchaseOrder).where(PurchaseOrder.id == event.record_id)
                        .values(sent_at=utcnow()))


@on_transition("supply.purchase_order", "confirm")
def stamp_confirmed(ctx: Context, event: TransitionEvent) -> None:
    ctx.session.execute(sa.update(PurchaseOrder).where(PurchaseOrder.id == event.record_id)
                        .values(confirmed_at=utcnow(), sent_at=sa.func.coalesce(
                            PurchaseOrder.sent_at, utcnow())))


@on_transition("supply.purchase_order", "receive_part", when="before")
def partly_received_only_when_it_is(ctx: Context, event: TransitionEvent) -> None:
    lines = order_lines(ctx.session, event.record_id)
    if not any(line.received_quantity > 0 for line in lines):
        raise TransitionVetoed("nothing of this purchase order has been received")
    if all(due_quantity(line) == 0 for line in lines):
        raise TransitionVetoed("everything of this purchase order has been received")


@on_transition("supply.purchase_order", "receive_all", when="before")
def received_only_when_nothing_is_due(ctx: Context, event: TransitionEvent) -> None:
    if any(due_quantity(line) > 0 for line in order_lines(ctx.session, event.record_id)):
        raise TransitionVetoed("goods of this purchase order are still due")


@on_transition("supply.purchase_order", "cancel", when="before")
def refuse_cancelling_what_was_received(ctx: Context, event: TransitionEvent) -> None:
    if any(line.received_quantity > 0 or line.rejected_quantity > 0
           for line in order_lines(ctx.session, event.record_id)):
        raise TransitionVetoed("goods of this purchase order were received: close it instead")


@on_transition("supply.purchase_order", "close")
def cancel_what_is_still_due(ctx: Context, event: TransitionEvent) -> None:
    for line in order_lines(ctx.session, event.record_id, lock=True):
        line.cancelled_quantity += due_quantity(line)
    ctx.session.flush()


def confirm_with_changes(ctx: Context, order_id: int, changes: list[dict[str, Any]],
                         expected_date: dt.date | None) -> dict[str, Any]:
    """The supplier confirms, perhaps with other quantities or dates per line: the
    changes become the order's terms, the originals are kept on the lines, and the
    buyer sees them in the audit log and the ``supply.purchase_order.confirmed`` event."""
    order = ctx.records("supply.purchase_order").get(order_id, lock=True)  # scope: 404
    if order["state"] not in (S.DRAFT, S.SENT):
        raise ConflictError(f"purchase order {order['number']} is {order['state']}:"
                            " only a sent order can be confirmed")
    lines = {line.id: line for line in order_lines(ctx.session, order_id, lock=True)}
    for index, change in enumerate(changes):
        line = lines.get(change["line_id"])
        if line is None:
            raise ValidationError(f"line {change['line_id']} is not on {order['number']}",
                                  {f"lines[{index}].line_id": "not a line of this order"})
        before = {"quantity": str(line.quantity), "expected_date": _iso(line.expected_date)}
        if change.get("quantity") is not None and change["quantity"] != line.quantity:
            line.original_quantity = line.original_quantity or line.quantity
            line.quantity = change["quantity"]
            line.amount = line_amount(line.quantity, line.unit_price)
        if change.get("expected_date") is not None \
                and change["expected_date"] != line.expected_date:
            line.original_expected_date = line.original_expected_date or line.expected_date
            line.expected_date = change["expected_date"]
        after = {"quantity": str(line.quantity), "expected_date": _iso(line.expected_date)}
        if after != before:
            ctx.audit("supply.purchase_order_line", line.id, "update", before, after)
    if expected_date is not None:
        ctx.session.execute(sa.update(PurchaseOrder).where(PurchaseOrder.id == order_id)
                            .values(expected_date=expected_date))
    ctx.session.flush()
    refresh_amount(ctx.session, order_id)
    return ctx.fire("supply.purchase_order", order_id, "confirm")


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def split_backorder(ctx: Context, order_id: int) -> dict[str, Any]:
    """Move what is still due on a partially received order to a new confirmed order
    (same supplier, warehouse, prices and dates) and close this one."""
    order = ctx.records("supply.purchase_order").get(order_id, lock=True)
    if order["state"] != S.PARTIALLY_RECEIVED:
        raise ConflictError(f"purchase order {order['number']} is {order['state']}:"
                            " only a partially received order has a backorder")
    due = [(line, due_quantity(line)) for line in order_lines(ctx.session, order_id)]
    system = ctx.as_principal(Principal.system("supply"))
    backorder = system.records("supply.purchase_order").create({
        "supplier_id": order["supplier_id"], "warehouse_id": order["warehouse_id"],
        "currency": order["currency"], "expected_date": order["expected_date"],
        "note": f"Backorder of {order['number']}"},
        computed={"backorder_of_id": order_id})
    lines = system.records("supply.purchase_order_line")
    for line, quantity in due:
        if quantity > 0:
            lines.create({"order_id": backorder["id"], "product_id": line.product_id,
                          "quantity": quantity, "unit_price": line.unit_price,
                          "expected_date": _iso(line.expected_date)})
    system.fire("supply.purchase_order", backorder["id"], "confirm", read_back=False)
    ctx.fire("supply.purchase_order", order_id, "close", read_back=False)
    return system.records("supply.purchase_order").get(backorder["id"])
