"""Warehouses and locations, internal (storage, input, output) and virtual.

Virtual locations (supplier, customer, adjustment, transit, damaged) belong to no
warehouse; stock there is the other side of a move, not stock on hand. Internal ones
belong to exactly one warehouse. A new warehouse gets its storage, input and output
locations in the transaction that creates it, however it is created (the API, the CLI
or ``create_warehouse``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_sdk import (
    Base,
    Context,
    NotFoundError,
    Principal,
    RecordMixin,
    Upsert,
    ValidationError,
    WriteEvent,
    attach_loaded,
    on_write,
    utcnow,
)


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
    """Locations looked up earlier in this transaction (they are read on every move).

    The cache lives in ``session.info``: a session is one transaction in the kernel, and
    a rollback empties it (a location created in a rolled-back savepoint is gone). What
    outlives the transaction is the process's copy that ``look_up_locations`` keeps.
    """
    return session.info.get(_CACHE, {}).get(key)


def _remember(session: Session, key: tuple[object, ...], location: Location) -> Location:
    cache = session.info.setdefault(_CACHE, {})
    cache[key] = cache["id", location.id] = location
    return location


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_locations(session: Session, previous: object) -> None:
    session.info.pop(_CACHE, None)


def location_by_id(session: Session, location_id: int) -> Location:
    """A location by id, from this transaction's cache when it was looked up before."""
    known = _cached(session, ("id", location_id))
    if known is not None:
        return known
    location = session.get(Location, location_id)
    if location is None:
        raise ValidationError(f"location {location_id} does not exist",
                              {"location_id": "does not exist"})
    return _remember(session, ("id", location_id), location)


_COLUMNS = tuple(Location.__table__.c)
_FIRST_OF_KIND = (sa.select(*_COLUMNS).where(Location.warehouse_id == sa.bindparam("warehouse"),
                                             Location.kind == sa.bindparam("kind"))
                  .order_by(Location.id).limit(1))
_BY_CODE = sa.select(*_COLUMNS).where(Location.code == sa.bindparam("code"))


def look_up_locations(ctx: Context, warehouse_ids: Iterable[int],
                      kind: LocationKind = LocationKind.STORAGE,
                      virtual: Iterable[LocationKind] = ()) -> None:
    """Load into this transaction's cache the warehouses' (first) locations of a kind and
    the virtual locations a batch is about to use; ``warehouse_location`` and
    ``virtual_location`` then answer without a query (a missing virtual location is
    still created by ``virtual_location``).

    They come from the process's copy of the committed locations (``Context.cached``,
    one entry per warehouse and kind and per virtual location): no query while nobody
    changes locations, which shipping needs on every order. A change made by another
    process is seen within the cache's seconds, one made by this transaction at once;
    what the ledger relies on (kind, warehouse, a virtual location's code) cannot change
    once stock moved through the location."""
    session = ctx.session

    def look_up(key: tuple[object, ...], statement: Any, **params: Any) -> None:
        if _cached(session, key) is not None:
            return
        rows = ctx.cached(("inventory.location", *key), [Location.__tablename__], lambda: tuple(
            dict(row) for row in session.execute(statement, params).mappings()))
        for location in attach_loaded(session, Location, rows):
            _remember(session, key, location)

    for warehouse_id in set(warehouse_ids):
        look_up(("warehouse", warehouse_id, kind), _FIRST_OF_KIND, warehouse=warehouse_id,
                kind=kind)
    for code in {f"virtual/{v}" for v in virtual}:
        look_up(("virtual", code), _BY_CODE, code=code)


_ADD_LOCATION = Upsert(lambda insert: insert(Location.__table__)
                       .on_conflict_do_nothing(index_elements=["code"]))


def virtual_location(session: Session, kind: LocationKind) -> Location:
    """The virtual location of a kind, created on first use (race-free: concurrent first
    uses insert it once)."""
    code = f"virtual/{kind}"
    known = _cached(session, ("virtual", code))
    if known is not None:
        return known
    location = session.scalar(sa.select(Location).where(Location.code == code))
    if location is None:
        now = utcnow()
        session.execute(_ADD_LOCATION.on(session), {
            "code": code, "name": kind.capitalize(), "kind": kind, "version": 1,
            "created_at": now, "updated_at": now})
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
    for values in _warehouse_locations(warehouse.id, code, name):
        session.add(Location(**values))
    session.flush()
    return warehouse


WAREHOUSE_LOCATION_KINDS = (LocationKind.STORAGE, LocationKind.INPUT, LocationKind.OUTPUT)
"""The locations every warehouse gets: stock operations use its first of each kind."""


def _warehouse_locations(warehouse_id: int, code: str, name: str) -> list[dict[str, Any]]:
    return [{"code": f"{code}/{kind}", "name": f"{name} {kind}", "kind": kind,
             "warehouse_id": warehouse_id} for kind in WAREHOUSE_LOCATION_KINDS]


@on_write("inventory.warehouse", actions=("create",), when="after")
def give_the_warehouse_its_locations(ctx: Context, event: WriteEvent) -> None:
    """A warehouse created through the entity service (API, CLI) gets its storage, input
    and output locations, written by the system on the creator's behalf (creating the
    warehouse is what the caller was allowed to do)."""
    warehouse = event.after or {}
    locations = ctx.as_principal(Principal.system(f"inventory for {ctx.principal.name}")
                                 ).records("inventory.location")
    for values in _warehouse_locations(warehouse["id"], warehouse["code"], warehouse["name"]):
        locations.create(values)


@on_write("inventory.location", actions=("create", "update"))
def locations_fit_their_kind(ctx: Context, event: WriteEvent) -> None:
    """A location's kind is one of ``LocationKind``; storage, input and output locations
    belong to a warehouse, virtual ones to none (422 naming the field)."""
    location = {**(event.before or {}), **event.changes}
    kind = location.get("kind")
    if kind not in set(LocationKind):
        raise ValidationError(
            f"invalid inventory.location: kind {kind!r} is not one of"
            f" {', '.join(LocationKind)}", {"kind": f"must be one of {', '.join(LocationKind)}"})
    if kind in INTERNAL_KINDS and location.get("warehouse_id") is None:
        raise ValidationError(f"invalid inventory.location: a {kind} location belongs to a"
                              " warehouse", {"warehouse_id": f"is required for a {kind} location"})
    if kind in VIRTUAL_KINDS and location.get("warehouse_id") is not None:
        raise ValidationError(f"invalid inventory.location: a {kind} location is virtual and"
                              " belongs to no warehouse",
                              {"warehouse_id": f"must be null for a {kind} location"})
