"""Reservations: units promised to a document line, taken out of ``available``.

A reservation is made for an ``origin`` (a document line, e.g. ``orders.order_line:42``),
released when that document is cancelled and consumed when its goods ship. Reserving
several products for one document locks their stock rows in product-id order, so two
documents reserving the same products can never deadlock; and it is all or nothing:
one missing unit refuses the whole request, naming every shortfall.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_inventory.alerts import check_alerts
from erp_inventory.catalogue import Product
from erp_inventory.exceptions import InsufficientStock
from erp_inventory.ledger import (
    ZERO,
    Ledger,
    Posting,
    available_quantity,
    change_stock,
    change_stocks,
)
from erp_inventory.units import STOCK_QUANTITY, check_unit
from erp_inventory.warehouses import (
    LocationKind,
    look_up_locations,
    virtual_location,
    warehouse_location,
)
from erp_sdk import (
    Base,
    ConflictError,
    Context,
    NotFoundError,
    Quantity,
    RecordMixin,
    ValidationError,
    check_value,
    identifier,
    keep_loaded,
    text,
    typed_field,
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

    product_id: int = typed_field(identifier())
    quantity: Decimal = typed_field(STOCK_QUANTITY)
    origin: str = typed_field(text(120))


_RESERVATIONS = Reservation.__table__
_INSERT_RESERVATIONS = sa.insert(_RESERVATIONS).returning(_RESERVATIONS.c.id)


def reserve(ctx: Context, warehouse_id: int, lines: Sequence[ReservationLine]) -> list[int]:
    """Reserve every line in one warehouse, or nothing; returns the reservation ids."""
    ctx.principal.require("inventory.stock.reserve")
    if not lines:
        return []
    fractional = {line.product_id for line in lines
                  if line.quantity != line.quantity.to_integral_value()}
    if fractional:  # whole quantities fit every unit: only these need the products' units
        units = {row.id: row.unit for row in ctx.session.execute(
            sa.select(Product.id, Product.unit).where(Product.id.in_(sorted(fractional))))}
        for line in lines:
            if line.product_id in units:
                check_unit(units[line.product_id], line.quantity)
    # The reservation rows go in first: the stock rows below are the contended lock, and
    # every statement done before taking them shortens the time they are held.
    now = utcnow()
    rows = [{"product_id": line.product_id, "warehouse_id": warehouse_id,
             "quantity": line.quantity, "remaining": line.quantity, "origin": line.origin,
             "state": ReservationState.ACTIVE, "version": 1, "created_at": now,
             "updated_at": now} for line in lines]
    try:
        ids = list(ctx.session.scalars(_INSERT_RESERVATIONS, rows))
    except sa.exc.IntegrityError:
        raise ValidationError("a reserved product or the warehouse does not exist",
                              {"product_id": "does not exist"}) from None
    wanted: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
    for line in lines:
        on_hand, reserved = wanted.get((line.product_id, warehouse_id), (ZERO, ZERO))
        wanted[line.product_id, warehouse_id] = (on_hand, reserved + line.quantity)
    try:
        changed = change_stocks(ctx.session, wanted)
    except InsufficientStock:
        # Undo this call's own writes (the stock rows are put back already), so a caller
        # that catches the error and goes on in the same transaction (trying another
        # warehouse) is left with nothing reserved.
        ctx.session.execute(sa.delete(_RESERVATIONS).where(_RESERVATIONS.c.id.in_(ids)))
        raise
    changes = {product_id: change for (product_id, _), change in sorted(changed.items())}
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
                                    .with_for_update(key_share=True)))


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


# Built once: SQLAlchemy then computes their cache keys once, not on every shipment.
_SHIPPING = (
    sa.select(Reservation.id, Reservation.product_id, Reservation.warehouse_id,
              Reservation.remaining, Reservation.state, Reservation.origin, Product.sku,
              Product.cost, Product.unit)
    .join(Product, Product.id == Reservation.product_id)
    .order_by(Reservation.product_id, Reservation.id)
    .with_for_update(of=Reservation, key_share=True))
_LOCK_FOR_SHIPPING = _SHIPPING.where(Reservation.id.in_(sa.bindparam("ids", expanding=True)))
_LOCK_ACTIVE_OF_ORIGINS = _SHIPPING.where(
    Reservation.origin.in_(sa.bindparam("origins", expanding=True)),
    Reservation.state == ReservationState.ACTIVE)
_CONSUME = (sa.update(_RESERVATIONS)
            .where(_RESERVATIONS.c.id == sa.bindparam("reservation"))
            .values(remaining=sa.bindparam("left"), state=sa.bindparam("new_state"),
                    updated_at=sa.bindparam("now")))


def ship_reservations(ctx: Context, items: Sequence[tuple[int, Decimal | None]],
                      origin: str | None = None) -> list[int]:
    """Ship units of reservations to the customer, all or nothing: consumes them and
    writes one outgoing move per item (at the product's average cost, with ``origin`` or
    else the reservation's); returns the move ids in the items' order.

    An item is ``(reservation id, quantity)``, ``None`` shipping all that remains. The
    number of statements does not grow with the items (aside from one per product whose
    stock row changes), and the reservations are locked in (product, id) order, the order
    every shipment takes, so two shipments never deadlock.
    """
    ctx.principal.require("inventory.stock.ship")
    if not items:
        return []
    ids = sorted({reservation_id for reservation_id, _ in items})
    found = {row.id: row for row in ctx.session.execute(_LOCK_FOR_SHIPPING, {"ids": ids})}
    return _ship(ctx, found, items, origin)


def ship_origins(ctx: Context, quantities: Mapping[str, Decimal | None],
                 origin: str | None = None) -> list[int]:
    """``ship_reservations`` for the active reservations of the given origins (one per
    origin, e.g. an order line), ``quantities`` mapping each origin to what to ship
    (``None``: all that remains): it finds and locks them in the same statement.
    Raises ``NotFoundError`` for an origin with no active reservation."""
    ctx.principal.require("inventory.stock.ship")
    if not quantities:
        return []
    found = {row.id: row for row in ctx.session.execute(
        _LOCK_ACTIVE_OF_ORIGINS, {"origins": sorted(quantities)})}
    by_origin = {row.origin: row.id for row in found.values()}
    missing = sorted(set(quantities) - set(by_origin))
    if missing:
        raise NotFoundError(f"no active reservation for {', '.join(missing)}")
    if len(by_origin) != len(found):
        raise ConflictError("an origin has more than one active reservation: ship them by id")
    return _ship(ctx, found, [(by_origin[name], quantity) for name, quantity
                              in quantities.items()], origin)


def _ship(ctx: Context, found: Mapping[int, Any], items: Sequence[tuple[int, Decimal | None]],
          origin: str | None) -> list[int]:
    """Ship ``items`` of the reservations ``found`` (locked rows, by id): see
    ``ship_reservations``."""
    session = ctx.session
    ids = sorted({reservation_id for reservation_id, _ in items})
    left = {reservation_id: row.remaining for reservation_id, row in found.items()}
    quantities = []
    for reservation_id, asked in items:
        row = found.get(reservation_id)
        if row is None:
            raise NotFoundError(f"reservation {reservation_id} does not exist")
        if row.state != ReservationState.ACTIVE:
            raise ConflictError(f"reservation {reservation_id} is {row.state}")
        remaining = left[reservation_id]
        quantity = remaining if asked is None else check_value(
            "quantity", STOCK_QUANTITY, asked)
        check_unit(row.unit, quantity)
        if quantity <= 0 or quantity > remaining:
            raise ValidationError(f"can ship between 0 and {remaining:f} of reservation"
                                  f" {reservation_id}", {"quantity": "out of range"})
        left[reservation_id] = remaining - quantity
        quantities.append(quantity)
    look_up_locations(ctx, {row.warehouse_id for row in found.values()},
                      virtual=[LocationKind.CUSTOMER])
    customer = virtual_location(session, LocationKind.CUSTOMER).id
    rows = [found[reservation_id] for reservation_id, _ in items]
    move_ids, changes = Ledger(session).post_many([
        Posting(row.product_id, row.sku, quantity,
                warehouse_location(session, row.warehouse_id).id, customer, row.cost,
                origin=origin or row.origin, from_reserved=True)
        for row, quantity in zip(rows, quantities, strict=True)])
    now = utcnow()
    shipped = [(reservation_id, left[reservation_id],
                ReservationState.CONSUMED if left[reservation_id] == 0 else ReservationState.ACTIVE)
               for reservation_id in ids]
    session.execute(_CONSUME, [{"reservation": reservation_id, "left": remaining,
                                "new_state": state, "now": now}
                               for reservation_id, remaining, state in shipped])
    keep_loaded(session, Reservation, {
        reservation_id: {"remaining": remaining, "state": state, "updated_at": now}
        for reservation_id, remaining, state in shipped})
    for product_id, change in changes:
        check_alerts(ctx, product_id, change)
    return move_ids


def ship_reserved(ctx: Context, reservation_id: int, quantity: Decimal | None = None,
                  origin: str | None = None) -> int:
    """Ship units of one reservation (all that remains when ``quantity`` is None); returns
    the move id. See ``ship_reservations``."""
    return ship_reservations(ctx, [(reservation_id, quantity)], origin)[0]


__all__ = ["Reservation", "ReservationLine", "ReservationState", "available_quantity",
           "release", "reserve", "ship_origins", "ship_reservations", "ship_reserved"]
