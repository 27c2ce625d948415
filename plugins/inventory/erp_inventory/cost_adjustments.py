"""Cost that reaches goods after they arrived, kept as a record of its own.

Freight or duty known only after a receipt changes what the units received are worth
without moving any of them, so no move carries it. Each such change is a cost adjustment:
the value it added to the units still on hand (their average cost rose or fell with it)
and the share of the units already gone, which belongs to the cost of what was sold.
Created through the entity service, so others (the books) hear of it in its
transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import Base, Money, Quantity, UtcDateTime, utcnow


class CostAdjustment(Base):
    """``unit_amount`` more (or less) for each of ``units`` received earlier: ``on_hand``
    of them still in stock carry ``value`` (at the product's cost), the rest were gone and
    account for ``value_gone``."""

    __tablename__ = "inventory_cost_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"), index=True)
    units: Mapped[Quantity]
    on_hand: Mapped[Quantity]
    unit_amount: Mapped[Money]
    value: Mapped[Money]
    value_gone: Mapped[Money]
    cost_before: Mapped[Money]
    cost: Mapped[Money]
    origin: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    done_at: Mapped[UtcDateTime] = mapped_column(default=utcnow, index=True)
