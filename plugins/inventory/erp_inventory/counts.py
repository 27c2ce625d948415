"""Stock counts: a count sheet per warehouse, its variance, and the adjustments it posts.

``start`` takes the snapshot: each line's ``expected`` quantity is what the storage
location holds at that moment (lines added beforehand limit the count to those
products; otherwise every product stocked there is counted). People then fill in
``counted``. ``post`` adjusts on hand by ``counted - expected`` per line, so goods moved
between the snapshot and the posting are neither lost nor counted twice.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_inventory.ledger import Balance
from erp_inventory.movements import adjust
from erp_inventory.warehouses import warehouse_location
from erp_sdk import (
    NON_NEGATIVE,
    Base,
    ConflictError,
    Context,
    Quantity,
    RecordMixin,
    Transition,
    TransitionEvent,
    UtcDateTime,
    Workflow,
    WriteEvent,
    on_transition,
    on_write,
    utcnow,
)


class CountState(enum.StrEnum):
    DRAFT = "draft"
    COUNTING = "counting"
    POSTED = "posted"
    CANCELLED = "cancelled"


COUNT_WORKFLOW = Workflow(
    states=CountState,
    initial=CountState.DRAFT,
    transitions=[
        Transition("start", [CountState.DRAFT], CountState.COUNTING,
                   description="Take the snapshot of expected quantities"),
        Transition("post", [CountState.COUNTING], CountState.POSTED, event="posted",
                   description="Post adjustments for the variances"),
        Transition("cancel", [CountState.DRAFT, CountState.COUNTING], CountState.CANCELLED),
    ],
)


class StockCount(RecordMixin, Base):
    __tablename__ = "inventory_count"

    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default=CountState.DRAFT)
    note: Mapped[str | None] = mapped_column(sa.String(200))
    snapshot_at: Mapped[UtcDateTime | None]
    posted_at: Mapped[UtcDateTime | None]


class StockCountLine(RecordMixin, Base):
    __tablename__ = "inventory_count_line"
    __table_args__ = (sa.UniqueConstraint("count_id", "product_id"),)

    count_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_count.id", ondelete="CASCADE"),
                                          index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"))
    expected: Mapped[Quantity | None]
    counted: Mapped[Quantity | None] = mapped_column(info=NON_NEGATIVE)
    variance: Mapped[Quantity | None]


@on_transition("inventory.count", "start", when="after")
def take_snapshot(ctx: Context, event: TransitionEvent) -> None:
    count = ctx.session.get(StockCount, event.record_id)
    storage = warehouse_location(ctx.session, count.warehouse_id).id
    held = dict(ctx.session.execute(sa.select(Balance.product_id, Balance.quantity).where(
        Balance.location_id == storage)).all())
    lines = list(ctx.session.scalars(sa.select(StockCountLine).where(
        StockCountLine.count_id == count.id)))
    if not lines:
        lines = [StockCountLine(count_id=count.id, product_id=product_id, version=1)
                 for product_id, quantity in sorted(held.items()) if quantity != 0]
        ctx.session.add_all(lines)
    for line in lines:
        line.expected = held.get(line.product_id, Decimal(0))
    count.snapshot_at = utcnow()
    ctx.session.flush()


@on_transition("inventory.count", "post", when="after")
def post_variances(ctx: Context, event: TransitionEvent) -> None:
    count = ctx.session.get(StockCount, event.record_id)
    lines = ctx.session.scalars(sa.select(StockCountLine).where(
        StockCountLine.count_id == count.id).order_by(StockCountLine.product_id))
    for line in lines:
        if line.counted is None:
            continue
        line.variance = line.counted - (line.expected or Decimal(0))
        adjust(ctx, count.warehouse_id, line.product_id, line.variance,
               reason=f"count {count.id}", origin=f"inventory.count:{count.id}")
    count.posted_at = utcnow()
    ctx.session.flush()


@on_write("inventory.count_line", actions=("create", "update", "delete"), when="before")
def lines_change_only_while_open(ctx: Context, event: WriteEvent) -> None:
    """Lines are added before the snapshot, counted during it, and frozen after."""
    count_id = (event.before or {}).get("count_id") or event.changes.get("count_id")
    state = ctx.session.scalar(sa.select(StockCount.state).where(StockCount.id == count_id))
    allowed = {"create": {CountState.DRAFT}, "delete": {CountState.DRAFT},
               "update": {CountState.DRAFT, CountState.COUNTING}}[event.action]
    if state is not None and state not in allowed:
        raise ConflictError(f"count {count_id} is {state}: its lines can no longer be"
                            f" {event.action}d")
