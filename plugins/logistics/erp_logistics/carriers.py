"""Carrier accounts: a driver of ``erp.carriers`` with its settings and secrets, and the
services of that account the seller uses (standard, express, ...)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import Base, RecordMixin


class CarrierAccount(RecordMixin, Base):
    """A contract with a carrier. ``secrets`` are written through the API and never
    returned (nor audited, nor put in events). ``rate_timeout_ms`` bounds how long rate
    shopping waits for this carrier; ``pull_tracking``: the carrier sends no webhooks, so
    the periodic job asks it for the tracking of parcels on their way. ``ship_from``: the
    sender's address on labels (``name``, ``line1``, ``city``, ``postal_code``,
    ``country``)."""

    __tablename__ = "logistics_carrier_account"

    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    driver: Mapped[str] = mapped_column(sa.String(60))
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    secrets: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    rate_timeout_ms: Mapped[int] = mapped_column(default=2000,
                                                 info={"minimum": 10, "maximum": 60000})
    pull_tracking: Mapped[bool] = mapped_column(default=False)
    ship_from: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))


class CarrierService(RecordMixin, Base):
    """A service of an account the seller uses, with the transit time it promises (the
    on-time rate is measured against it). An account without services offers every
    service its carrier quotes; one with services offers only the active ones."""

    __tablename__ = "logistics_carrier_service"
    __table_args__ = (sa.UniqueConstraint("carrier_account_id", "code"),)

    carrier_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("logistics_carrier_account.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str | None] = mapped_column(sa.String(120))
    promised_transit_days: Mapped[int | None] = mapped_column(
        info={"minimum": 0, "maximum": 365})
    active: Mapped[bool] = mapped_column(default=True)
