"""Warehouses and locations, internal (storage, input, output) and virtual.

Virtual locations (supplier, customer, adjustment, transit, damaged) belong to no
warehouse; stock there is the other side of a move, not stock on hand.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_sdk import Base, NotFoundError, RecordMixin, utcnow


class LocationKind(enum.StrEnum):
    STORAGE = "storage"
    INPUT = "input"
    OUTPUT = "output"
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    ADJUSTMENT = "adjustment"
    TRANSIT = "transit"
    DAMAGED = "damaged"


INTERNAL_KINDS = frozenset({LocationKind.STORAGE, LocationKind.INPUT, LocationKind.OUTPUT})
VIRTUAL_KINDS = frozenset(LocationKind) - INTERNAL_KINDS


class Warehouse(RecordMixin, Base):
    __tablename__ = "inventory_warehouse"

    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(default=True)


class Location(RecordMixin, Base):
    __tablename__ = "inventory_location"

    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(16))
    warehouse_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inventory_warehouse.id"),
                                                     index=True)

    @property
    def internal(self) -> bool:
        return self.kind in INTERNAL_KINDS


_CACHE = "inventory_locations"


def _cached(session: Session, key: tuple[object, ...]) -> Location | None:
    """Locations looked up earlier in this transaction (they are read on every move)."""
    return session.info.get(_CACHE, {}).get(key)


def _remember(session: Session, key: tuple[object, ...], location: Location) -> Location:
    session.info.setdefault(_CACHE, {})[key] = location
    return location


def virtual_location(session: Session, kind: LocationKind) -> Location:
    """The virtual location of a kind, created on first use (race-free: concurrent first
    uses insert it once)."""
    code = f"virtual/{kind}"
    known = _cached(session, ("virtual", code))
    if known is not None:
        return known
    location = session.scalar(sa.select(Location).where(Location.code == code))
    if location is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        now = utcnow()
        session.execute(insert(Location).values(
            code=code, name=kind.capitalize(), kind=kind, version=1, created_at=now,
            updated_at=now).on_conflict_do_nothing(index_elements=["code"]))
        location = session.scalar(sa.select(Location).where(Location.code == code))
    return _remember(session, ("virtual", code), location)


def warehouse_location(session: Session, warehouse_id: int,
                       kind: LocationKind = LocationKind.STORAGE) -> Location:
    """A warehouse's location of a kind (its first, by id)."""
    known = _cached(session, ("warehouse", warehouse_id, kind))
    if known is not None:
        return known
    location = session.scalar(sa.select(Location).where(
        Location.warehouse_id == warehouse_id, Location.kind == kind).order_by(Location.id))
    if location is None:
        raise NotFoundError(f"warehouse {warehouse_id} has no {kind} location")
    return _remember(session, ("warehouse", warehouse_id, kind), location)


def create_warehouse(session: Session, code: str, name: str) -> Warehouse:
    """A warehouse with its storage, input and output locations."""
    warehouse = Warehouse(code=code, name=name)
    session.add(warehouse)
    session.flush()
    for kind in (LocationKind.STORAGE, LocationKind.INPUT, LocationKind.OUTPUT):
        session.add(Location(code=f"{code}/{kind}", name=f"{name} {kind}", kind=kind,
                             warehouse_id=warehouse.id))
    session.flush()
    return warehouse
