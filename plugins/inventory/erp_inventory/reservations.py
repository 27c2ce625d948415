"""Reservations: units promised to a document line, taken out of ``available``.

A reservation is made for an ``origin`` (a document line, e.g. ``orders.order_line:42``),
released when that document is cancelled and consumed when its goods ship. Reserving
several products for one document locks their stock rows in product-id order, so two
documents reserving the same products can never deadlock; and it is all or nothing:
one missing unit refuses the whole request, naming every shortfall.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from decimal import Decimal

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_inventory.alerts import check_alerts
from erp_inventory.catalogue import Product
from erp_inventory.exceptions import InsufficientStock
from erp_inventory.ledger import ZERO, Ledger, available_quantity, change_stock
from erp_inventory.warehouses import LocationKind, virtual_location, warehouse_location
from erp_sdk import (
    Base,
    ConflictError,
    Context,
    NotFoundError,
    Quantity,
    RecordMixin,
    ValidationError,
    utcnow,
)


class ReservationState(enum.StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    CONSUMED = "consumed"


class Reservation(RecordMixin, Base):
    __tablename__ = "inventory_reservation"
    __table_args__ = (sa.CheckConstraint("remaining >= 0", name="remaining_not_negative"),)

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"))
    quantity: Mapped[Quantity]
    remaining: Mapped[Quantity]
    origin: Mapped[str] = mapped_column(sa.String(120), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=ReservationState.ACTIVE)


@attrs.frozen
class ReservationLine:
    """A request to reserve ``quantity`` of ``product_id`` for ``origin``."""

    product_id: int
    quantity: Decimal
    origin: str


def reserve(ctx: Context, warehouse_id: int, lines: Sequence[ReservationLine]) -> list[int]:
    """Reserve every line in one warehouse, or nothing; returns the reservation ids."""
    ctx.principal.require("inventory.stock.reserve")
    if not lines:
        return []
    for line in lines:
        if line.quantity <= 0:
            raise ValidationError("reserved quantities must be positive",
                                  {"quantity": "must be > 0"})
    # The reservation rows go in first: the stock rows below are the contended lock, and
    # every statement done before taking them shortens the time they are held.
    now = utcnow()
    rows = [{"product_id": line.product_id, "warehouse_id": warehouse_id,
             "quantity": line.quantity, "remaining": line.quantity, "origin": line.origin,
             "state": ReservationState.ACTIVE, "version": 1, "created_at": now,
             "updated_at": now} for line in lines]
    table = Reservation.__table__
    try:
        ids = list(ctx.session.scalars(sa.insert(table).returning(table.c.id), rows))
    except sa.exc.IntegrityError:
        raise ValidationError("a reserved product or the warehouse does not exist",
                              {"product_id": "does not exist"}) from None
    wanted: dict[int, Decimal] = {}
    for line in lines:
        wanted[line.product_id] = wanted.get(line.product_id, ZERO) + line.quantity
    shortfalls: dict[str, Decimal] = {}
    where = str(warehouse_id)
    changes = {}
    for product_id in sorted(wanted):  # fixed lock order: no deadlock between documents
        try:
            changes[product_id] = change_stock(ctx.session, product_id, warehouse_id,
                                               reserved=wanted[product_id])
        except InsufficientStock as exc:
            shortfalls.update(exc.shortfalls)
            where = exc.warehouse
    if shortfalls:
        # Undo this call's own writes, so a caller that catches the error and goes on in
        # the same transaction (trying another warehouse) is left with nothing reserved.
        for product_id in changes:
            change_stock(ctx.session, product_id, warehouse_id, reserved=-wanted[product_id])
        ctx.session.execute(sa.delete(table).where(table.c.id.in_(ids)))
        raise InsufficientStock(where, shortfalls)
    for product_id, change in changes.items():
        check_alerts(ctx, product_id, change)
    return ids


def _active(ctx: Context, ids: Sequence[int] | None, origin: str | None) -> list[Reservation]:
    statement = sa.select(Reservation).where(Reservation.state == ReservationState.ACTIVE)
    if ids is not None:
        statement = statement.where(Reservation.id.in_(ids))
    if origin is not None:
        statement = statement.where(Reservation.origin == origin)
    return list(ctx.session.scalars(statement.order_by(Reservation.product_id, Reservation.id)
                                    .with_for_update()))


def release(ctx: Context, *, ids: Sequence[int] | None = None,
            origin: str | None = None) -> Decimal:
    """Give back what active reservations still hold; returns the quantity released."""
    ctx.principal.require("inventory.stock.release")
    if ids is None and origin is None:
        raise ValidationError("say which reservations to release: ids or origin")
    released = ZERO
    for reservation in _active(ctx, ids, origin):
        if reservation.remaining > 0:
            change = change_stock(ctx.session, reservation.product_id, reservation.warehouse_id,
                                  reserved=-reservation.remaining)
            check_alerts(ctx, reservation.product_id, change)
            released += reservation.remaining
        reservation.remaining = ZERO
        reservation.state = ReservationState.RELEASED
    ctx.session.flush()
    return released


def ship_reserved(ctx: Context, reservation_id: int, quantity: Decimal | None = None,
                  origin: str | None = None) -> int:
    """Ship units of a reservation to the customer: consumes it and writes the outgoing
    move (at the product's average cost); returns the move id."""
    ctx.principal.require("inventory.stock.ship")
    reservation = ctx.session.scalar(sa.select(Reservation).where(
        Reservation.id == reservation_id).with_for_update())
    if reservation is None:
        raise NotFoundError(f"reservation {reservation_id} does not exist")
    if reservation.state != ReservationState.ACTIVE:
        raise ConflictError(f"reservation {reservation_id} is {reservation.state}")
    quantity = reservation.remaining if quantity is None else quantity
    if quantity <= 0 or quantity > reservation.remaining:
        raise ValidationError(f"can ship between 0 and {reservation.remaining:f} of reservation"
                              f" {reservation_id}", {"quantity": "out of range"})
    product = ctx.session.get(Product, reservation.product_id)
    ledger = Ledger(ctx.session)
    move, changes = ledger.post(
        product, quantity, warehouse_location(ctx.session, reservation.warehouse_id).id,
        virtual_location(ctx.session, LocationKind.CUSTOMER).id,
        origin=origin or reservation.origin, from_reserved=True)
    reservation.remaining -= quantity
    if reservation.remaining == 0:
        reservation.state = ReservationState.CONSUMED
    for change in changes:
        check_alerts(ctx, product.id, change)
    ctx.session.flush()
    return move.id


__all__ = ["Reservation", "ReservationLine", "ReservationState", "available_quantity",
           "release", "reserve", "ship_reserved"]
