"""Transfers between warehouses through the transit location.

``ship`` takes the goods out of the source warehouse's available stock into transit;
``receive`` puts them into the destination. Between the two they are in transit: not
on hand anywhere, visible per transfer and as the transit location's balance.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_inventory.catalogue import Product
from erp_inventory.movements import post_and_alert
from erp_inventory.warehouses import LocationKind, virtual_location, warehouse_location
from erp_sdk import (
    POSITIVE,
    Base,
    ConflictError,
    Context,
    Quantity,
    RecordMixin,
    Transition,
    TransitionEvent,
    TransitionVetoed,
    UtcDateTime,
    Workflow,
    WriteEvent,
    on_transition,
    on_write,
    utcnow,
)


class TransferState(enum.StrEnum):
    DRAFT = "draft"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CANCELLED = "cancelled"


TRANSFER_WORKFLOW = Workflow(
    states=TransferState,
    initial=TransferState.DRAFT,
    transitions=[
        Transition("ship", [TransferState.DRAFT], TransferState.SHIPPED, event="shipped"),
        Transition("receive", [TransferState.SHIPPED], TransferState.RECEIVED, event="received"),
        Transition("cancel", [TransferState.DRAFT], TransferState.CANCELLED),
    ],
)


class Transfer(RecordMixin, Base):
    __tablename__ = "inventory_transfer"

    from_warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"))
    to_warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default=TransferState.DRAFT)
    shipped_at: Mapped[UtcDateTime | None]
    received_at: Mapped[UtcDateTime | None]


class TransferLine(RecordMixin, Base):
    __tablename__ = "inventory_transfer_line"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="positive_quantity"),)

    transfer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("inventory_transfer.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"))
    quantity: Mapped[Quantity] = mapped_column(info=POSITIVE)


def _lines(ctx: Context, transfer_id: int) -> list[TransferLine]:
    return list(ctx.session.scalars(sa.select(TransferLine).where(
        TransferLine.transfer_id == transfer_id).order_by(TransferLine.product_id,
                                                          TransferLine.id)))


@on_transition("inventory.transfer", "ship", when="before")
def refuse_empty_or_circular(ctx: Context, event: TransitionEvent) -> None:
    record = event.record
    if record["from_warehouse_id"] == record["to_warehouse_id"]:
        raise TransitionVetoed("a transfer needs two different warehouses")
    if not _lines(ctx, event.record_id):
        raise TransitionVetoed(f"transfer {event.record_id} has no lines")


@on_transition("inventory.transfer", "ship", when="after")
def ship_to_transit(ctx: Context, event: TransitionEvent) -> None:
    transfer = ctx.session.get(Transfer, event.record_id)
    source = warehouse_location(ctx.session, transfer.from_warehouse_id).id
    transit = virtual_location(ctx.session, LocationKind.TRANSIT).id
    for line in _lines(ctx, transfer.id):
        post_and_alert(ctx, ctx.session.get(Product, line.product_id), line.quantity, source,
                       transit, origin=f"inventory.transfer:{transfer.id}")
    transfer.shipped_at = utcnow()


@on_transition("inventory.transfer", "receive", when="after")
def receive_from_transit(ctx: Context, event: TransitionEvent) -> None:
    transfer = ctx.session.get(Transfer, event.record_id)
    target = warehouse_location(ctx.session, transfer.to_warehouse_id).id
    transit = virtual_location(ctx.session, LocationKind.TRANSIT).id
    for line in _lines(ctx, transfer.id):
        post_and_alert(ctx, ctx.session.get(Product, line.product_id), line.quantity, transit,
                       target, origin=f"inventory.transfer:{transfer.id}")
    transfer.received_at = utcnow()


@on_write("inventory.transfer_line", when="before")
def lines_change_only_in_draft(ctx: Context, event: WriteEvent) -> None:
    transfer_id = (event.before or {}).get("transfer_id") or event.changes.get("transfer_id")
    state = ctx.session.scalar(sa.select(Transfer.state).where(Transfer.id == transfer_id))
    if state is not None and state != TransferState.DRAFT:
        raise ConflictError(f"transfer {transfer_id} is {state}: its lines are fixed")


def in_transit(ctx: Context) -> list[dict[str, object]]:
    """What is on its way: one entry per line of every shipped transfer."""
    rows = ctx.session.execute(
        sa.select(Transfer.id, Transfer.from_warehouse_id, Transfer.to_warehouse_id,
                  Transfer.shipped_at, TransferLine.product_id, TransferLine.quantity)
        .join(TransferLine, TransferLine.transfer_id == Transfer.id)
        .where(Transfer.state == TransferState.SHIPPED)
        .order_by(Transfer.id, TransferLine.product_id)).all()
    return [{"transfer_id": r.id, "from_warehouse_id": r.from_warehouse_id,
             "to_warehouse_id": r.to_warehouse_id, "shipped_at": r.shipped_at.isoformat(),
             "product_id": r.product_id, "quantity": str(r.quantity)} for r in rows]
