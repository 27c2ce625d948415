"""Suppliers, the products they sell (their SKU, price breaks, lead time, minimum order)
and the history of prices actually paid.

A supplier product may have several rows over time (validity dates): the price that
applies on a day is the one of the row valid that day, at the largest price break not
above the quantity ordered.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_sdk import (
    NON_NEGATIVE,
    POSITIVE,
    Base,
    Money,
    Quantity,
    Rate,
    RecordMixin,
    UtcDateTime,
    ValidationError,
    utcnow,
)


class Supplier(RecordMixin, Base):
    __tablename__ = "supply_supplier"

    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    payment_terms_days: Mapped[int] = mapped_column(
        default=30, info={"minimum": 0, "maximum": 365,
                          "description": "Days after the bill date the bill is due"})
    over_receipt_tolerance: Mapped[Rate] = mapped_column(
        default=Decimal("0.05"),
        info={"description": "Fraction more than ordered that a receipt may accept"})
    bill_quantity_tolerance: Mapped[Rate] = mapped_column(
        default=Decimal(0),
        info={"description": "Fraction more than received that a bill may charge"})
    bill_price_tolerance: Mapped[Rate] = mapped_column(
        default=Decimal("0.02"),
        info={"description": "Fraction a billed unit price may differ from the ordered one"})
    active: Mapped[bool] = mapped_column(default=True)


class SupplierProduct(RecordMixin, Base):
    """What a supplier sells of one product, on what terms, from when until when."""

    __tablename__ = "supply_supplier_product"

    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_supplier.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"), index=True)
    supplier_sku: Mapped[str | None] = mapped_column(sa.String(64))
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    minimum_order_quantity: Mapped[Quantity] = mapped_column(default=Decimal(1), info=POSITIVE)
    lead_time_days: Mapped[int] = mapped_column(default=7, info={"minimum": 0, "maximum": 365})
    freight_per_unit: Mapped[Money] = mapped_column(
        default=Decimal(0), info={**NON_NEGATIVE, "description": "Expected freight per unit,"
                                  " in the supplier product's currency"})
    duty_rate: Mapped[Rate] = mapped_column(
        default=Decimal(0), info={"description": "Import duty as a fraction of the price"})
    valid_from: Mapped[dt.date | None]
    valid_to: Mapped[dt.date | None]


class PriceBreak(RecordMixin, Base):
    """From ``minimum_quantity`` units on, each costs ``unit_price``."""

    __tablename__ = "supply_price_break"
    __table_args__ = (sa.UniqueConstraint("supplier_product_id", "minimum_quantity"),)

    supplier_product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("supply_supplier_product.id", ondelete="CASCADE"), index=True)
    minimum_quantity: Mapped[Quantity] = mapped_column(default=Decimal(0), info=NON_NEGATIVE)
    unit_price: Mapped[Money] = mapped_column(info=NON_NEGATIVE)


class PricePaid(Base):
    """One price actually paid: written when goods of a purchase order are received."""

    __tablename__ = "supply_price_paid"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_supplier.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"), index=True)
    purchase_order_id: Mapped[int] = mapped_column(sa.ForeignKey("supply_purchase_order.id"))
    quantity: Mapped[Quantity]
    unit_price: Mapped[Money]
    currency: Mapped[str] = mapped_column(sa.String(3))
    unit_cost: Mapped[Money] = mapped_column(
        info={"description": "Landed unit cost in the company currency"})
    received_at: Mapped[UtcDateTime] = mapped_column(default=utcnow, index=True)


@attrs.frozen
class Offer:
    """A supplier's terms for a product on a day: the row and its price breaks."""

    supplier_product_id: int
    supplier_id: int
    currency: str
    minimum_order_quantity: Decimal
    lead_time_days: int
    freight_per_unit: Decimal
    duty_rate: Decimal
    breaks: tuple[tuple[Decimal, Decimal], ...]  # (minimum quantity, unit price), ascending

    def unit_price(self, quantity: Decimal) -> Decimal:
        """The price of the largest break not above ``quantity`` (the first one below)."""
        price = self.breaks[0][1]
        for minimum, unit_price in self.breaks:
            if minimum <= quantity:
                price = unit_price
        return price


def _valid(query: Any, on: dt.date) -> Any:
    sp = SupplierProduct
    return (query.join(Supplier, Supplier.id == sp.supplier_id)
            .where(Supplier.active.is_(True),
                   sa.or_(sp.valid_from.is_(None), sp.valid_from <= on),
                   sa.or_(sp.valid_to.is_(None), sp.valid_to >= on)))


def longest_lead_times(session: Session, product_ids: list[int] | None, on: dt.date
                       ) -> dict[int, int]:
    """The longest lead time of the offers valid on ``on``, per product: a bound that
    lets a replenishment run skip pricing products that need nothing."""
    sp = SupplierProduct
    query = _valid(sa.select(sp.product_id, sa.func.max(sp.lead_time_days)), on).group_by(
        sp.product_id)
    if product_ids is not None:
        query = query.where(sp.product_id.in_(product_ids))
    return dict(session.execute(query).all())


def offers(session: Session, product_ids: list[int] | None, on: dt.date) -> dict[int, list[Offer]]:
    """The offers of active suppliers valid on ``on`` and having a price, per product."""
    sp, pb = SupplierProduct, PriceBreak
    query = _valid(sa.select(sp.id, sp.supplier_id, sp.product_id, sp.currency,
                             sp.minimum_order_quantity, sp.lead_time_days, sp.freight_per_unit,
                             sp.duty_rate, pb.minimum_quantity, pb.unit_price)
                   .join(pb, pb.supplier_product_id == sp.id), on).order_by(
        sp.product_id, sp.id, pb.minimum_quantity)
    if product_ids is not None:
        query = query.where(sp.product_id.in_(product_ids))
    rows: dict[int, list[Any]] = {}
    for row in session.execute(query):
        rows.setdefault(row.id, []).append(row)
    found: dict[int, list[Offer]] = {}
    for breaks in rows.values():
        first = breaks[0]
        found.setdefault(first.product_id, []).append(Offer(
            first.id, first.supplier_id, first.currency, first.minimum_order_quantity,
            first.lead_time_days, first.freight_per_unit, first.duty_rate,
            tuple((row.minimum_quantity, row.unit_price) for row in breaks)))
    return found


def offer_for(session: Session, supplier_id: int, product_id: int, on: dt.date) -> Offer:
    """The supplier's offer for a product on a day, or a 422 saying there is none."""
    for offer in offers(session, [product_id], on).get(product_id, []):
        if offer.supplier_id == supplier_id:
            return offer
    raise ValidationError(f"supplier {supplier_id} has no price for product {product_id}"
                          f" valid on {on.isoformat()}", {"product_id": "no supplier price"})
