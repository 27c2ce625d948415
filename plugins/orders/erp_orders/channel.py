"""Sales channels: the own site, marketplaces and stores that orders come from."""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import Base, RecordMixin


class ChannelKind(enum.StrEnum):
    OWN_SITE = "own_site"
    MARKETPLACE = "marketplace"
    STORE = "store"
    MANUAL = "manual"


class Channel(RecordMixin, Base):
    """A channel; ``driver`` names its ``erp.sales_channels`` driver (none for manual
    entry), configured by ``settings`` and ``secrets`` (never returned by the API).
    ``collected_in_store``: its customers take the goods with them (a shop counter), so
    its orders are confirmed without a shipping address."""

    __tablename__ = "orders_channel"

    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(20), default=ChannelKind.MANUAL)
    driver: Mapped[str | None] = mapped_column(sa.String(60))
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    secrets: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    warehouse_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_warehouse.id"))
    import_cursor: Mapped[str | None] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    collected_in_store: Mapped[bool] = mapped_column(default=False,
                                                     server_default=sa.false())


ORDER_ORIGIN = "orders.order:"
"""How the stock moves of an order's shipment name it (``orders.order:12``)."""


def channels_of_origins(session: Any, origins: Any) -> dict[str, str]:
    """The code of the channel that sold each shipment, by the origin of its stock moves
    (origins that are not an order's are left out)."""
    from erp_orders.order import Order

    ids = {}
    for origin in origins:
        number = origin[len(ORDER_ORIGIN):] if origin.startswith(ORDER_ORIGIN) else ""
        if number.isdigit():
            ids[int(number)] = origin
    found: dict[str, str] = {}
    keys = sorted(ids)
    for start in range(0, len(keys), 5_000):
        rows = session.execute(sa.select(Order.id, Channel.code).join(
            Channel, Channel.id == Order.channel_id).where(
                Order.id.in_(keys[start:start + 5_000])))
        found.update({ids[order_id]: code for order_id, code in rows})
    return found
