"""Products and their category tree."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import NON_NEGATIVE, UNIT_OF_MEASURE, Base, Money, Quantity, RecordMixin


class Category(RecordMixin, Base):
    """A node of the category tree (``parent_id`` NULL at the top)."""

    __tablename__ = "inventory_category"

    name: Mapped[str] = mapped_column(sa.String(120))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_category.id"),
                                                  index=True)


class Product(RecordMixin, Base):
    """A stock-keeping unit. ``cost`` is the moving average cost, kept by the ledger.
    ``unit`` is a unit of measure (``pcs``, ``kg``...): it says how many decimals a
    quantity of the product may have (``pcs``: whole units only); ``list_price`` is in
    ``currency``."""

    __tablename__ = "inventory_product"

    sku: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_category.id"),
                                                    index=True)
    unit: Mapped[str] = mapped_column(sa.String(16), default="pcs", info=UNIT_OF_MEASURE)
    list_price: Mapped[Money] = mapped_column(default=Decimal(0), info=NON_NEGATIVE)
    cost: Mapped[Money] = mapped_column(default=Decimal(0), info=NON_NEGATIVE)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    barcode: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    weight_kg: Mapped[Quantity | None] = mapped_column(info=NON_NEGATIVE)
    listed: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
