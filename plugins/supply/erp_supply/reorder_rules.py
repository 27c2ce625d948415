"""Reorder rules per product and warehouse: fixed (order up to ``maximum`` when the stock
position falls to ``minimum``) or computed from sales velocity and lead times (see
``erp_supply.replenishment``)."""

from __future__ import annotations

import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import (
    NON_NEGATIVE,
    Base,
    Context,
    ExactNumeric,
    Quantity,
    RecordMixin,
    ValidationError,
    WriteEvent,
    on_write,
)


class ReorderMethod(enum.StrEnum):
    FIXED = "fixed"
    COMPUTED = "computed"


class ReorderRule(RecordMixin, Base):
    __tablename__ = "supply_reorder_rule"
    __table_args__ = (sa.UniqueConstraint("product_id", "warehouse_id"),)

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"),
                                              index=True)
    method: Mapped[str] = mapped_column(
        sa.String(16), default=ReorderMethod.COMPUTED,
        info={"description": "`fixed` (minimum, maximum) or `computed`"})
    minimum: Mapped[Quantity | None] = mapped_column(
        info={**NON_NEGATIVE, "description": "Fixed: the reorder point"})
    maximum: Mapped[Quantity | None] = mapped_column(
        info={**NON_NEGATIVE, "description": "Fixed: the stock an order brings the position to"})
    velocity_days: Mapped[int] = mapped_column(
        default=90, info={"minimum": 1, "maximum": 730,
                          "description": "Computed: days of shipments the sales velocity"
                                         " is measured over"})
    review_days: Mapped[int] = mapped_column(
        default=14, info={"minimum": 0, "maximum": 365,
                          "description": "Computed: days of demand an order covers beyond"
                                         " the reorder point (target = reorder point +"
                                         " velocity x review days)"})
    service_factor: Mapped[Decimal] = mapped_column(
        ExactNumeric(6, 3), default=Decimal("1.65"),
        info={"minimum": 0, "maximum": 5, "description": "Computed: safety factor z"
              " (1.65 is about 95 % of lead times covered)"})
    max_lead_time_days: Mapped[int | None] = mapped_column(
        info={"minimum": 0, "maximum": 365,
              "description": "Suppliers slower than this are not chosen"})
    channels: Mapped[list[str] | None] = mapped_column(
        sa.JSON, info={"description": "Computed: measure the velocity over the shipments of"
                                      " these sales channels only (their codes); empty or"
                                      " null: every channel"})
    active: Mapped[bool] = mapped_column(default=True)


@on_write("supply.reorder_rule", actions=("create", "update"), when="before")
def a_rule_has_what_its_method_needs(ctx: Context, event: WriteEvent) -> None:
    values = {**(event.before or {}), **event.changes}
    method = values.get("method") or ReorderMethod.COMPUTED
    if method not in set(ReorderMethod):
        raise ValidationError(f"unknown method {method!r}", {"method": "fixed or computed"})
    channels = values.get("channels")
    if channels is not None and (not isinstance(channels, list) or not all(
            isinstance(code, str) and code.strip() for code in channels)):
        raise ValidationError("channels is a list of sales channel codes",
                              {"channels": "a list of codes"})
    if method == ReorderMethod.FIXED:
        minimum, maximum = values.get("minimum"), values.get("maximum")
        if minimum is None or maximum is None:
            raise ValidationError("a fixed rule needs a minimum and a maximum",
                                  {"minimum" if minimum is None else "maximum": "required"})
        if Decimal(str(maximum)) < Decimal(str(minimum)):
            raise ValidationError("the maximum is below the minimum",
                                  {"maximum": "must be at least the minimum"})
