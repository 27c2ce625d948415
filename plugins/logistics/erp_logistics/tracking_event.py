"""A tracking event as received: the normalised status, when it happened by the carrier's
clock, and the carrier's raw event. ``event_key`` (the carrier's event id, or a digest of
the event) is unique per account, so an event pushed and pulled, or pushed twice, is kept
once."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import Base, RecordMixin, UtcDateTime


class TrackingRecord(RecordMixin, Base):
    __tablename__ = "logistics_tracking_event"
    __table_args__ = (sa.UniqueConstraint("carrier_account_id", "event_key"),)

    carrier_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("logistics_carrier_account.id"))
    shipment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("logistics_shipment.id", ondelete="CASCADE"), index=True)
    package_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("logistics_package.id", ondelete="CASCADE"))
    tracking_number: Mapped[str] = mapped_column(sa.String(60), index=True)
    event_key: Mapped[str] = mapped_column(sa.String(120))
    status: Mapped[str] = mapped_column(sa.String(20))
    occurred_at: Mapped[UtcDateTime]
    location: Mapped[str | None] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.String(500))
    raw: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    applied: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(sa.String(10), default="webhook")
