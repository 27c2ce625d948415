"""Sales orders, their lines, and the workflow from draft to completed.

``delivered`` is the order's goods arrived, as a tracker of parcels says (the logistics
plugin fires ``deliver`` when every shipment is delivered); an order whose deliveries
nobody tracks goes from ``shipped`` to ``completed`` as before."""

from __future__ import annotations

import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import (
    NON_NEGATIVE,
    POSITIVE,
    Base,
    Money,
    Quantity,
    Rate,
    RecordMixin,
    Transition,
    UtcDateTime,
    Workflow,
    utcnow,
)


class OrderState(enum.StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    CONFIRMED = "confirmed"
    ON_HOLD = "on_hold"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    MERGED = "merged"


S = OrderState
ORDER_WORKFLOW = Workflow(
    states=OrderState,
    initial=S.DRAFT,
    transitions=[
        Transition("confirm", [S.DRAFT], S.REVIEW, event="submitted",
                   description="Check review rules; without a match the order is approved"
                               " at once and its stock reserved"),
        Transition("approve", [S.REVIEW], S.CONFIRMED, event="confirmed",
                   description="Approve after review: reserves the stock, all or nothing"),
        Transition("reject", [S.REVIEW], S.CANCELLED, event="rejected",
                   description="Reject after review, with a reason"),
        Transition("hold", [S.CONFIRMED], S.ON_HOLD, event="held"),
        Transition("release", [S.ON_HOLD], S.CONFIRMED, event="released"),
        Transition("ship", [S.CONFIRMED, S.PARTIALLY_SHIPPED], S.PARTIALLY_SHIPPED,
                   event="shipment_sent",
                   description="Ship some or all remaining quantities"),
        Transition("finish_shipping", [S.PARTIALLY_SHIPPED], S.SHIPPED, event="shipped",
                   permission="orders.order.ship",
                   description="Fired by the system when nothing remains to ship"),
        Transition("deliver", [S.SHIPPED], S.DELIVERED, event="delivered",
                   description="Every parcel arrived: fired by the plugin that tracks them"
                               " (logistics), or by hand"),
        Transition("complete", [S.SHIPPED, S.DELIVERED], S.COMPLETED, event="completed"),
        Transition("cancel", [S.DRAFT, S.REVIEW, S.CONFIRMED, S.ON_HOLD], S.CANCELLED,
                   event="cancelled", description="Releases every reservation"),
        Transition("merge", [S.DRAFT, S.REVIEW, S.CONFIRMED, S.ON_HOLD], S.MERGED,
                   event="merged", permission="orders.order.merge",
                   description="Fired by the merge service on the orders merged away"),
    ],
)

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "region", "country")


def order_number(order_id: int) -> str:
    """Readable and unique under any concurrency: derived from the primary key (the
    entity declares it ``derived_from_id``, so the kernel writes it on create)."""
    return f"SO-{order_id:06d}"


class Order(RecordMixin, Base):
    __tablename__ = "orders_order"
    __table_args__ = (sa.UniqueConstraint("channel_id", "external_reference"),
                      # reports read the orders changed since a rollup was brought up to date
                      sa.Index("ix_orders_order_updated_at", "updated_at"))

    number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_channel.id"), index=True)
    external_reference: Mapped[str | None] = mapped_column(sa.String(120))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("crm_customer.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"))
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    state: Mapped[str] = mapped_column(sa.String(20), default=S.DRAFT, index=True)
    ship_name: Mapped[str | None] = mapped_column(sa.String(200))
    ship_line1: Mapped[str | None] = mapped_column(sa.String(200))
    ship_line2: Mapped[str | None] = mapped_column(sa.String(200))
    ship_city: Mapped[str | None] = mapped_column(sa.String(100))
    ship_postal_code: Mapped[str | None] = mapped_column(sa.String(20))
    ship_region: Mapped[str | None] = mapped_column(sa.String(100))
    ship_country: Mapped[str | None] = mapped_column(sa.String(2))
    bill_name: Mapped[str | None] = mapped_column(sa.String(200))
    bill_line1: Mapped[str | None] = mapped_column(sa.String(200))
    bill_line2: Mapped[str | None] = mapped_column(sa.String(200))
    bill_city: Mapped[str | None] = mapped_column(sa.String(100))
    bill_postal_code: Mapped[str | None] = mapped_column(sa.String(20))
    bill_region: Mapped[str | None] = mapped_column(sa.String(100))
    bill_country: Mapped[str | None] = mapped_column(sa.String(2))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    shipping_amount: Mapped[Money] = mapped_column(default=Decimal(0), info=NON_NEGATIVE)
    shipping_discount: Mapped[Money] = mapped_column(default=Decimal(0))
    order_discount: Mapped[Money] = mapped_column(default=Decimal(0))
    coupon_codes: Mapped[list[str] | None] = mapped_column(sa.JSON(none_as_null=True))
    subtotal: Mapped[Money] = mapped_column(default=Decimal(0))
    discount_total: Mapped[Money] = mapped_column(default=Decimal(0))
    tax_total: Mapped[Money] = mapped_column(default=Decimal(0))
    total: Mapped[Money] = mapped_column(default=Decimal(0))
    review_reasons: Mapped[list[str] | None] = mapped_column(sa.JSON(none_as_null=True))
    placed_at: Mapped[UtcDateTime | None] = mapped_column(default=utcnow, index=True)
    split_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders_order.id"))
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders_order.id"))


class OrderLine(RecordMixin, Base):
    __tablename__ = "orders_order_line"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="positive_quantity"),
        sa.CheckConstraint("quantity_shipped <= quantity", name="not_over_shipped"),
        sa.Index("ix_orders_order_line_updated_at", "updated_at"),
    )

    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders_order.id", ondelete="CASCADE"),
                                          index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"))
    sku: Mapped[str | None] = mapped_column(sa.String(64))
    description: Mapped[str | None] = mapped_column(sa.String(200))
    quantity: Mapped[Quantity] = mapped_column(info=POSITIVE)
    unit_price: Mapped[Money] = mapped_column(info=NON_NEGATIVE)
    discount: Mapped[Money] = mapped_column(default=Decimal(0), info=NON_NEGATIVE)
    promotion_discount: Mapped[Money] = mapped_column(default=Decimal(0))
    gift: Mapped[bool] = mapped_column(default=False)
    tax_rate: Mapped[Rate] = mapped_column(default=Decimal(0))
    line_net: Mapped[Money] = mapped_column(default=Decimal(0))
    line_tax: Mapped[Money] = mapped_column(default=Decimal(0))
    line_total: Mapped[Money] = mapped_column(default=Decimal(0))
    quantity_shipped: Mapped[Quantity] = mapped_column(default=Decimal(0))
    quantity_returned: Mapped[Quantity] = mapped_column(default=Decimal(0))
