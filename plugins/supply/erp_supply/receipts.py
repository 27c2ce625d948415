"""Receiving a purchase order: goods into stock through the inventory ledger, rejected
goods to the damaged (quarantine) location, prices paid into the history.

Accepted units enter the warehouse as inventory moves with ``reason="purchase"`` and the
order as ``origin``, at the landed unit cost in the company currency: the line's price
plus its share of the order's freight and duty (spread by value), at the exchange rate
of the receipt's day. The inventory ledger re-averages the product's cost from it. A
line may receive more than ordered within the supplier's over-receipt tolerance.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_inventory.movements import post_and_alert, product
from erp_inventory.warehouses import LocationKind, virtual_location, warehouse_location
from erp_sdk import (
    Base,
    ConflictError,
    Context,
    ExactNumeric,
    Money,
    Quantity,
    RecordMixin,
    UtcDateTime,
    ValidationError,
    identifier,
    quantity,
    typed_field,
    utcnow,
)
from erp_supply.currencies import rate_on, to_company
from erp_supply.purchase_orders import (
    RECEIVABLE_STATES,
    PurchaseOrder,
    due_quantity,
    order_lines,
    split_backorder,
)
from erp_supply.suppliers import PricePaid, Supplier

ZERO = Decimal(0)
RECEIVED_QUANTITY = quantity("non_negative")
PURCHASE_REASON = "purchase"
REJECTION_REASON = "purchase rejected"


class Receipt(RecordMixin, Base):
    __tablename__ = "supply_receipt"

    number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    purchase_order_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_purchase_order.id"),
                                                   index=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_supplier.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"))
    notice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supply_shipping_notice.id"))
    received_on: Mapped[dt.date]
    exchange_rate: Mapped[Decimal] = mapped_column(ExactNumeric(20, 10))
    """The rate of the receipt's day, as the kernel keeps it (ten places, exact)."""
    received_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)


class ReceiptLine(RecordMixin, Base):
    __tablename__ = "supply_receipt_line"

    receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_receipt.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("supply_purchase_order_line.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"), index=True)
    quantity: Mapped[Quantity] = mapped_column(info={"description": "Accepted into stock"})
    rejected_quantity: Mapped[Quantity] = mapped_column(
        default=ZERO, info={"description": "Refused by quality control, sent to damaged"})
    unit_cost: Mapped[Money] = mapped_column(
        info={"description": "Landed unit cost in the company currency"})
    lead_time_days: Mapped[int] = mapped_column(
        info={"description": "Days from sending the order to this receipt"})
    on_time: Mapped[bool]
    move_id: Mapped[int | None]
    rejected_move_id: Mapped[int | None]


@attrs.frozen
class ReceiveLine:
    """Units of one order line that arrived: accepted and rejected by quality control."""

    line_id: int = typed_field(identifier())
    quantity: Decimal = typed_field(RECEIVED_QUANTITY, default=ZERO)
    rejected_quantity: Decimal = typed_field(RECEIVED_QUANTITY, default=ZERO)


def receive_order(ctx: Context, order_id: int, lines: list[ReceiveLine] | None = None, *,
                  notice_id: int | None = None, received_on: dt.date | None = None,
                  split: bool = False) -> dict[str, Any]:
    """Receive goods of a confirmed purchase order (the lines given, or those of a
    shipping notice), then fire ``receive_part`` or ``receive_all``; ``split`` moves what
    is still due to a backorder. Returns the receipt with its lines."""
    ctx.principal.require("supply.purchase_order.receive")
    order_record = ctx.records("supply.purchase_order").get(order_id, lock=True)
    if order_record["state"] not in RECEIVABLE_STATES:
        raise ConflictError(f"purchase order {order_record['number']} is"
                            f" {order_record['state']}: only a confirmed order is received")
    order = ctx.session.get(PurchaseOrder, order_id)
    if notice_id is not None and not lines:
        lines = _notice_lines(ctx, order_id, notice_id)
    if not lines or all(line.quantity == 0 and line.rejected_quantity == 0 for line in lines):
        raise ValidationError("a receipt needs a quantity on at least one line",
                              {"lines": "nothing received"})
    received_on = received_on or utcnow().date()
    supplier = ctx.session.get(Supplier, order.supplier_id)
    rate = rate_on(ctx.session, order.currency or supplier.currency, received_on)
    order_lines_by_id = {line.id: line for line in order_lines(ctx.session, order_id, lock=True)}
    ordered_value = sum((line.quantity * line.unit_price for line in order_lines_by_id.values()),
                        ZERO)
    landed_share = (order.freight + order.duty) / ordered_value if ordered_value else ZERO
    receipt = Receipt(purchase_order_id=order_id, supplier_id=order.supplier_id,
                      warehouse_id=order.warehouse_id, notice_id=notice_id,
                      received_on=received_on, exchange_rate=rate, received_at=utcnow())
    ctx.session.add(receipt)
    ctx.session.flush()
    receipt.number = f"RC-{receipt.id:06d}"
    supplier_location = virtual_location(ctx.session, LocationKind.SUPPLIER).id
    storage = warehouse_location(ctx.session, order.warehouse_id).id
    damaged = virtual_location(ctx.session, LocationKind.DAMAGED).id
    origin = f"supply.purchase_order:{order_id}"
    sent_on = (order.sent_at.date() if order.sent_at else order.order_date)
    written = []
    for index, wanted in enumerate(lines):
        line = order_lines_by_id.get(wanted.line_id)
        if line is None:
            raise ValidationError(f"line {wanted.line_id} is not on {order.number}",
                                  {f"lines[{index}].line_id": "not a line of this order"})
        limit = line.quantity * (1 + supplier.over_receipt_tolerance)
        if line.received_quantity + wanted.quantity > limit:
            raise ConflictError(
                f"line {line.id} would receive {line.received_quantity + wanted.quantity} of"
                f" {line.quantity} ordered: beyond the over-receipt tolerance of"
                f" {supplier.over_receipt_tolerance * 100:.1f} %")
        unit_cost = to_company(line.unit_price * (1 + landed_share), rate)
        item = product(ctx, line.product_id)
        move_id = rejected_move_id = None
        if wanted.quantity > 0:
            move_id = post_and_alert(ctx, item, wanted.quantity, supplier_location, storage,
                                     origin=origin, reason=PURCHASE_REASON, unit_cost=unit_cost)
            ctx.session.add(PricePaid(
                supplier_id=order.supplier_id, product_id=line.product_id,
                purchase_order_id=order_id, quantity=wanted.quantity,
                unit_price=line.unit_price, currency=order.currency, unit_cost=unit_cost,
                received_at=receipt.received_at))
        if wanted.rejected_quantity > 0:
            rejected_move_id = post_and_alert(
                ctx, item, wanted.rejected_quantity, supplier_location, damaged, origin=origin,
                reason=REJECTION_REASON, unit_cost=unit_cost)
        line.received_quantity += wanted.quantity
        line.rejected_quantity += wanted.rejected_quantity
        expected = line.expected_date or order.expected_date
        written.append(ReceiptLine(
            receipt_id=receipt.id, order_line_id=line.id, product_id=line.product_id,
            quantity=wanted.quantity, rejected_quantity=wanted.rejected_quantity,
            unit_cost=unit_cost, lead_time_days=(received_on - sent_on).days,
            on_time=expected is None or received_on <= expected, move_id=move_id,
            rejected_move_id=rejected_move_id))
    ctx.session.add_all(written)
    ctx.session.flush()
    if notice_id is not None:
        from erp_supply.shipping_notices import mark_received

        mark_received(ctx, notice_id, receipt.id)
    everything_in = all(due_quantity(line) == 0 for line in order_lines_by_id.values())
    transition = ("receive_all" if everything_in else
                  "receive_part" if any(line.received_quantity > 0
                                        for line in order_lines_by_id.values()) else None)
    if transition is not None:
        ctx.fire("supply.purchase_order", order_id, transition, read_back=False)
    backorder = None
    if split and not everything_in and transition == "receive_part":
        backorder = split_backorder(ctx, order_id)
    ctx.emit("supply.receipt.received", "supply.receipt", receipt.id, {
        "purchase_order_id": order_id, "supplier_id": order.supplier_id,
        "warehouse_id": order.warehouse_id,
        "lines": [{"product_id": line.product_id, "quantity": str(line.quantity),
                   "rejected_quantity": str(line.rejected_quantity),
                   "unit_cost": str(line.unit_cost), "move_id": line.move_id}
                  for line in written]})
    result = ctx.records("supply.receipt").get(receipt.id)
    result["lines"] = [ctx.records("supply.receipt_line").get(line.id) for line in written]
    result["backorder"] = backorder
    return result


def _notice_lines(ctx: Context, order_id: int, notice_id: int) -> list[ReceiveLine]:
    from erp_supply.shipping_notices import NoticeState, ShippingNotice, ShippingNoticeLine

    notice = ctx.session.get(ShippingNotice, notice_id)
    if notice is None or notice.purchase_order_id != order_id:
        raise ValidationError(f"shipping notice {notice_id} is not for this order",
                              {"notice_id": "not a notice of this order"})
    if notice.state != NoticeState.ANNOUNCED:
        raise ConflictError(f"shipping notice {notice_id} is {notice.state}")
    return [ReceiveLine(line.order_line_id, line.quantity) for line in ctx.session.scalars(
        sa.select(ShippingNoticeLine).where(ShippingNoticeLine.notice_id == notice_id)
        .order_by(ShippingNoticeLine.id))]
