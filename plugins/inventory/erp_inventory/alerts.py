"""Stock alerts: minimum and maximum available quantity per product and warehouse.

Crossing a limit (not merely being beyond it) raises an alert and emits
``inventory.stock.low`` or ``inventory.stock.high``; crossing back clears it. The check
runs in the transaction that changed the stock, so an alert exists exactly when the
change does.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import NON_NEGATIVE, Base, Context, Quantity, RecordMixin, UtcDateTime, utcnow


@attrs.frozen
class StockChange:
    """What one update did to a stock row: available before and after, and the row's
    alert limits (read in the same statement, so checking alerts costs no query)."""

    warehouse_id: int
    before: Decimal
    after: Decimal
    minimum: Decimal | None
    maximum: Decimal | None


class StockLimit(RecordMixin, Base):
    __tablename__ = "inventory_stock_limit"
    __table_args__ = (sa.UniqueConstraint("product_id", "warehouse_id"),)

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"))
    minimum: Mapped[Quantity | None] = mapped_column(info=NON_NEGATIVE)
    maximum: Mapped[Quantity | None] = mapped_column(info=NON_NEGATIVE)


class StockAlert(Base):
    __tablename__ = "inventory_stock_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"))
    kind: Mapped[str] = mapped_column(sa.String(8))
    limit_quantity: Mapped[Quantity]
    available: Mapped[Quantity]
    raised_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)
    cleared_at: Mapped[UtcDateTime | None] = mapped_column(index=True)


def _raise(ctx: Context, product_id: int, warehouse_id: int, kind: str, limit: Decimal,
           available: Decimal) -> None:
    alert = StockAlert(product_id=product_id, warehouse_id=warehouse_id, kind=kind,
                       limit_quantity=limit, available=available, raised_at=utcnow())
    ctx.session.add(alert)
    ctx.session.flush()
    ctx.emit(f"inventory.stock.{kind}", "inventory.stock_alert", alert.id, {
        "product_id": product_id, "warehouse_id": warehouse_id, "limit": str(limit),
        "available": str(available)})


def _clear(ctx: Context, product_id: int, warehouse_id: int, kind: str) -> None:
    ctx.session.execute(sa.update(StockAlert).where(
        StockAlert.product_id == product_id, StockAlert.warehouse_id == warehouse_id,
        StockAlert.kind == kind, StockAlert.cleared_at.is_(None)).values(cleared_at=utcnow()))


def check_alerts(ctx: Context, product_id: int, change: StockChange) -> None:
    """Raise or clear alerts after a stock change (its limits came with it)."""
    before, after, minimum, maximum = change.before, change.after, change.minimum, change.maximum
    warehouse_id = change.warehouse_id
    if before == after or (minimum is None and maximum is None):
        return
    if minimum is not None:
        if before >= minimum > after:
            _raise(ctx, product_id, warehouse_id, "low", minimum, after)
        elif before < minimum <= after:
            _clear(ctx, product_id, warehouse_id, "low")
    if maximum is not None:
        if before <= maximum < after:
            _raise(ctx, product_id, warehouse_id, "high", maximum, after)
        elif before > maximum >= after:
            _clear(ctx, product_id, warehouse_id, "high")
