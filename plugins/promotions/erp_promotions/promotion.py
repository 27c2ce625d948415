"""Promotions and the campaigns that hold their budgets.

A promotion is a rule: conditions on the cart (channel, customer tier or segment,
products or categories, a minimum subtotal or quantity, a first order, a window of local
dates in a time zone) and one action (a percentage or an amount off items or the order,
a fixed price, buy X get Y, free shipping, a gift). An ``automatic`` promotion applies by
itself; any other needs one of its coupon codes. A campaign groups promotions under a
budget on spend and on uses, which the orders that use them take atomically.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import NON_NEGATIVE, POSITIVE, Base, Money, Quantity, Rate, RecordMixin


class PromotionStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class Action(enum.StrEnum):
    PERCENTAGE_OFF = "percentage_off"
    AMOUNT_OFF = "amount_off"
    FIXED_PRICE = "fixed_price"
    BUY_X_GET_Y = "buy_x_get_y"
    FREE_SHIPPING = "free_shipping"
    GIFT = "gift"


class Target(enum.StrEnum):
    ITEMS = "items"
    ORDER = "order"


class Allocation(enum.StrEnum):
    EACH = "each"
    ACROSS = "across"
    ONCE = "once"


def _choice(values: type[enum.StrEnum]) -> sa.Enum:
    return sa.Enum(*(value.value for value in values), native_enum=False, length=20)


class Campaign(RecordMixin, Base):
    __tablename__ = "promotions_campaign"

    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    budget_amount: Mapped[Money | None] = mapped_column(info=NON_NEGATIVE)
    budget_uses: Mapped[int | None] = mapped_column(info=NON_NEGATIVE)
    spent: Mapped[Money] = mapped_column(default=Decimal(0))
    uses: Mapped[int] = mapped_column(default=0)


class Promotion(RecordMixin, Base):
    __tablename__ = "promotions_promotion"
    __table_args__ = (sa.Index("ix_promotions_promotion_candidates", "automatic", "status"),)

    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str | None] = mapped_column(sa.Text)
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("promotions_campaign.id"), index=True)
    status: Mapped[str] = mapped_column(_choice(PromotionStatus), default=PromotionStatus.DRAFT)
    automatic: Mapped[bool] = mapped_column(default=False)
    priority: Mapped[int] = mapped_column(default=0)
    exclusive: Mapped[bool] = mapped_column(default=False)
    action: Mapped[str] = mapped_column(_choice(Action))
    target: Mapped[str] = mapped_column(_choice(Target), default=Target.ITEMS)
    allocation: Mapped[str] = mapped_column(_choice(Allocation), default=Allocation.EACH)
    percentage: Mapped[Rate | None]
    amount: Mapped[Money | None] = mapped_column(info=NON_NEGATIVE)
    buy_quantity: Mapped[int | None] = mapped_column(info=POSITIVE)
    get_quantity: Mapped[int | None] = mapped_column(info=POSITIVE)
    get_product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_product.id"))
    gift_product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_product.id"))
    gift_quantity: Mapped[Quantity | None] = mapped_column(info=POSITIVE)
    channel_ids: Mapped[list[int] | None] = mapped_column(sa.JSON(none_as_null=True))
    customer_tiers: Mapped[list[str] | None] = mapped_column(sa.JSON(none_as_null=True))
    segment_ids: Mapped[list[int] | None] = mapped_column(sa.JSON(none_as_null=True))
    product_ids: Mapped[list[int] | None] = mapped_column(sa.JSON(none_as_null=True))
    category_ids: Mapped[list[int] | None] = mapped_column(sa.JSON(none_as_null=True))
    min_subtotal: Mapped[Money | None] = mapped_column(info=NON_NEGATIVE)
    min_quantity: Mapped[Quantity | None] = mapped_column(info=NON_NEGATIVE)
    first_order: Mapped[bool] = mapped_column(default=False)
    starts_on: Mapped[dt.date | None]
    ends_on: Mapped[dt.date | None]
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    per_customer_limit: Mapped[int | None] = mapped_column(info=POSITIVE)
