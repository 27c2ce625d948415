"""The purchase rows: what each customer bought, the figures behind behaviour and tiers.

Kept apart from ``erp_crm.purchases`` (recording and cancelling them), which updates
behaviour and tiers, since those read the rows back.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import Base, Money, UtcDateTime, utcnow


class Purchase(Base):
    __tablename__ = "crm_purchase"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(120), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("crm_customer.id"), index=True)
    amount: Mapped[Money]
    currency: Mapped[str] = mapped_column(sa.String(3))
    occurred_at: Mapped[UtcDateTime]
    cancelled_at: Mapped[UtcDateTime | None]
    recorded_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)
    updated_at: Mapped[UtcDateTime] = mapped_column(default=utcnow, onupdate=utcnow)


class PurchaseCategory(Base):
    """The product categories of a purchase, one row each (for favourites and analysis)."""

    __tablename__ = "crm_purchase_category"

    purchase_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_purchase.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
