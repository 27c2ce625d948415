"""Carrier rules: what the seller wants rate shopping to choose, as data.

A rule matches a shipment by destination country, channel and weight band (each blank
matches all) and says what to do: ``cheapest`` or ``fastest`` among the rates left,
``prefer`` one account, ``exclude`` one account, and optionally a ``max_price`` no chosen
rate may exceed. Every matching ``exclude`` and ``max_price`` applies; the first matching
rule by ``sequence`` that can decide (a preferred account that quoted) decides; without
one, the cheapest rate wins.
"""

from __future__ import annotations

import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import NON_NEGATIVE, Base, Money, Quantity, RecordMixin


class RuleAction(enum.StrEnum):
    CHEAPEST = "cheapest"
    FASTEST = "fastest"
    PREFER = "prefer"
    EXCLUDE = "exclude"


class CarrierRule(RecordMixin, Base):
    __tablename__ = "logistics_carrier_rule"

    name: Mapped[str] = mapped_column(sa.String(120))
    sequence: Mapped[int] = mapped_column(default=100, info={"minimum": 0, "maximum": 100000})
    action: Mapped[str] = mapped_column(sa.String(20), default=RuleAction.CHEAPEST)
    carrier_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("logistics_carrier_account.id", ondelete="CASCADE"))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    channel_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders_channel.id"))
    min_weight_kg: Mapped[Quantity | None] = mapped_column(info=NON_NEGATIVE)
    max_weight_kg: Mapped[Quantity | None] = mapped_column(info=NON_NEGATIVE)
    max_price: Mapped[Money | None] = mapped_column(info=NON_NEGATIVE)
    active: Mapped[bool] = mapped_column(default=True)

    def matches(self, country: str, channel_id: int | None, weight_kg: Decimal) -> bool:
        return (self.active
                and (self.country is None or self.country.upper() == country.upper())
                and (self.channel_id is None or self.channel_id == channel_id)
                and (self.min_weight_kg is None or weight_kg >= self.min_weight_kg)
                and (self.max_weight_kg is None or weight_kg <= self.max_weight_kg))
