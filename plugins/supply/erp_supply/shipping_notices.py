"""Advance shipping notices: a supplier announces what it ships against a purchase order,
with quantities and the expected date; a receipt can start from one."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import (
    POSITIVE,
    Base,
    ConflictError,
    Context,
    Quantity,
    RecordMixin,
    ValidationError,
    WriteEvent,
    on_write,
)
from erp_supply.purchase_orders import (
    RECEIVABLE_STATES,
    OrderState,
    PurchaseOrder,
    PurchaseOrderLine,
)


class NoticeState(enum.StrEnum):
    ANNOUNCED = "announced"
    RECEIVED = "received"


class ShippingNotice(RecordMixin, Base):
    __tablename__ = "supply_shipping_notice"

    purchase_order_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_purchase_order.id"),
                                                   index=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_supplier.id"), index=True)
    reference: Mapped[str | None] = mapped_column(sa.String(64))
    expected_date: Mapped[dt.date]
    carrier_tracking: Mapped[str | None] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16), default=NoticeState.ANNOUNCED)
    receipt_id: Mapped[int | None]


class ShippingNoticeLine(RecordMixin, Base):
    __tablename__ = "supply_shipping_notice_line"

    notice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("supply_shipping_notice.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_purchase_order_line.id"))
    quantity: Mapped[Quantity] = mapped_column(info=POSITIVE)


@on_write("supply.shipping_notice", actions=("create", "update"), when="before")
def a_notice_belongs_to_its_suppliers_order(ctx: Context, event: WriteEvent) -> None:
    values = {**(event.before or {}), **event.changes}
    if (event.before or {}).get("state", NoticeState.ANNOUNCED) != NoticeState.ANNOUNCED:
        raise ConflictError("a received shipping notice cannot change")
    order = ctx.session.get(PurchaseOrder, values.get("purchase_order_id"))
    if order is None or order.supplier_id != values.get("supplier_id"):
        raise ValidationError("the purchase order is not one of this supplier's",
                              {"purchase_order_id": "not an order of the supplier"})
    if order.state not in (OrderState.SENT, *RECEIVABLE_STATES):
        raise ConflictError(f"purchase order {order.number} is {order.state}")


@on_write("supply.shipping_notice_line", when="before")
def a_notice_line_is_a_line_of_the_notices_order(ctx: Context, event: WriteEvent) -> None:
    values = {**(event.before or {}), **event.changes}
    notice = ctx.session.get(ShippingNotice, values.get("notice_id"))
    if notice is None:
        raise ValidationError("the shipping notice does not exist",
                              {"notice_id": "does not exist"})
    if notice.state != NoticeState.ANNOUNCED:
        raise ConflictError("a received shipping notice cannot change")
    if event.action == "delete":
        return
    order_id = ctx.session.scalar(sa.select(PurchaseOrderLine.order_id).where(
        PurchaseOrderLine.id == values.get("order_line_id")))
    if order_id != notice.purchase_order_id:
        raise ValidationError("the line is not on the notice's purchase order",
                              {"order_line_id": "not a line of the notice's order"})


def mark_received(ctx: Context, notice_id: int, receipt_id: int) -> None:
    ctx.session.execute(sa.update(ShippingNotice).where(ShippingNotice.id == notice_id)
                        .values(state=NoticeState.RECEIVED, receipt_id=receipt_id))
