"""Shipments: the goods of an order (all or some of its lines) leaving in packages, or
coming back on a return label, and the workflow from draft to delivered.

A shipment is labelled when every package has its label, handed over when the carrier
collected it (which ships the order's lines, as the order's own ship does), and
delivered when tracking says every package arrived.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import (
    NON_NEGATIVE,
    POSITIVE,
    Base,
    Money,
    Quantity,
    RecordMixin,
    Transition,
    UtcDateTime,
    Workflow,
)


class ShipmentKind(enum.StrEnum):
    OUTBOUND = "outbound"
    RETURN = "return"


class ShipmentState(enum.StrEnum):
    DRAFT = "draft"
    LABELLED = "labelled"
    HANDED_OVER = "handed_over"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


S = ShipmentState
SHIPMENT_WORKFLOW = Workflow(
    states=ShipmentState,
    initial=S.DRAFT,
    transitions=[
        Transition("mark_labelled", [S.DRAFT], S.LABELLED, event="labelled",
                   permission="logistics.shipment.buy_labels",
                   description="Fired by the system when every package has its label"),
        Transition("unlabel", [S.LABELLED], S.DRAFT, event="unlabelled",
                   permission="logistics.shipment.void_labels",
                   description="Fired by the system when a label is voided"),
        Transition("hand_over", [S.LABELLED], S.HANDED_OVER, event="handed_over",
                   description="The carrier collected the packages: the order's lines ship"),
        Transition("deliver", [S.HANDED_OVER], S.DELIVERED, event="delivered",
                   description="Fired by tracking when every package is delivered"),
        Transition("cancel", [S.DRAFT], S.CANCELLED, event="cancelled",
                   description="Only a shipment without a label (void them first)"),
    ],
)


class LabelState(enum.StrEnum):
    TO_LABEL = "to_label"
    PURCHASING = "purchasing"
    UNKNOWN = "unknown"
    LABELLED = "labelled"


def shipment_number(shipment_id: int) -> str:
    return f"SH-{shipment_id:06d}"


class Shipment(RecordMixin, Base):
    """``rate_decision`` keeps every rate seen, the carriers skipped and why, and the
    rule that chose (``why this carrier``). ``transit_days`` (hand-over to delivery) and
    ``on_time`` (within ``promised_transit_days``; empty without a promise) are recorded
    when it is delivered."""

    __tablename__ = "logistics_shipment"

    number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(12), default=ShipmentKind.OUTBOUND)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id"), index=True)
    return_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("logistics_shipment.id"))
    state: Mapped[str] = mapped_column(sa.String(20), default=S.DRAFT, index=True)
    carrier_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("logistics_carrier_account.id"), index=True)
    service: Mapped[str | None] = mapped_column(sa.String(40))
    quoted_amount: Mapped[Money | None] = mapped_column(info=NON_NEGATIVE)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    promised_transit_days: Mapped[int | None]
    rate_decision: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    ship_country: Mapped[str | None] = mapped_column(sa.String(2))
    tracking_status: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    handed_over_at: Mapped[UtcDateTime | None]
    delivered_at: Mapped[UtcDateTime | None]
    transit_days: Mapped[Quantity | None] = mapped_column(info=NON_NEGATIVE)
    on_time: Mapped[bool | None]


class ShipmentLine(RecordMixin, Base):
    """What of an order line travels in the shipment, with its customs data (HS code,
    country of origin, declared value of the line) for cross-border parcels."""

    __tablename__ = "logistics_shipment_line"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="positive_quantity"),)

    shipment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("logistics_shipment.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order_line.id"),
                                               index=True)
    quantity: Mapped[Quantity] = mapped_column(info=POSITIVE)
    hs_code: Mapped[str | None] = mapped_column(sa.String(12))
    origin_country: Mapped[str | None] = mapped_column(sa.String(2))
    customs_value: Mapped[Money | None] = mapped_column(info=NON_NEGATIVE)


class Package(RecordMixin, Base):
    """A parcel of a shipment and its label. The label is bought exactly once: the
    purchase is recorded (``purchasing``, with ``idempotency_key``) before the carrier is
    called; a lost answer leaves it ``unknown`` until the carrier is asked."""

    __tablename__ = "logistics_package"

    shipment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("logistics_shipment.id", ondelete="CASCADE"), index=True)
    weight_kg: Mapped[Quantity] = mapped_column(info=POSITIVE)
    length_cm: Mapped[Quantity | None] = mapped_column(info=POSITIVE)
    width_cm: Mapped[Quantity | None] = mapped_column(info=POSITIVE)
    height_cm: Mapped[Quantity | None] = mapped_column(info=POSITIVE)
    contents: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON(none_as_null=True))
    label_state: Mapped[str] = mapped_column(sa.String(12), default=LabelState.TO_LABEL)
    purchase_attempt: Mapped[int] = mapped_column(default=0)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    purchase_started_at: Mapped[UtcDateTime | None]
    tracking_number: Mapped[str | None] = mapped_column(sa.String(60), index=True)
    label_amount: Mapped[Money | None] = mapped_column(info=NON_NEGATIVE)
    label_currency: Mapped[str | None] = mapped_column(sa.String(3))
    label_format: Mapped[str | None] = mapped_column(sa.String(8))
    label_data: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    tracking_status: Mapped[str | None] = mapped_column(sa.String(20))
    tracking_at: Mapped[UtcDateTime | None]


ZERO = Decimal(0)
