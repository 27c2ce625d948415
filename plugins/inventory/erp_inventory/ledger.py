"""The stock ledger: moves, per-location balances and per-warehouse stock levels.

Every change of stock is a ``Move`` (immutable, ``done`` when written). Two caches are
updated in the same transaction, by the same method (``Ledger.post_many``), so they can
never drift from the ledger: ``Balance`` (on hand per product and location, virtual
locations included) and ``StockLevel`` (on hand, reserved and available per product and
warehouse). ``StockLevel`` is where overselling is prevented: every decrement of
``available`` is a conditional ``UPDATE ... WHERE available >= :quantity``, one atomic
statement, so concurrent writers serialise on the row and the loser sees the winner's
result (PostgreSQL re-checks the condition after the row lock; SQLite's write
transaction is exclusive). CHECK constraints make a negative availability impossible
even for code that forgets the rule. An internal location's balance never goes below
zero either: the rows a posting takes from are locked and checked before anything is
written.

A batch of moves costs a fixed number of statements (one per stock row changed aside):
the statements are built once and run with many parameter sets, because on the order
pipeline's hot path the number of statements, not their size, is what costs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_inventory.alerts import StockChange, StockLimit
from erp_inventory.catalogue import Product
from erp_inventory.exceptions import InsufficientStock
from erp_inventory.warehouses import (
    INTERNAL_KINDS,
    VIRTUAL_KINDS,
    Location,
    LocationKind,
    Warehouse,
    location_by_id,
)
from erp_sdk import (
    Base,
    ConflictError,
    Context,
    Money,
    Quantity,
    Upsert,
    UtcDateTime,
    ValidationError,
    WriteEvent,
    on_write,
    utcnow,
)

ZERO = Decimal(0)
COST_QUANTUM = Decimal("0.0001")


class Move(Base):
    """One ledger line: ``quantity`` of a product went from one location to another."""

    __tablename__ = "inventory_move"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="positive_quantity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"), index=True)
    quantity: Mapped[Quantity]
    from_location_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_location.id"))
    to_location_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_location.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default="done")
    unit_cost: Mapped[Money]
    done_at: Mapped[UtcDateTime] = mapped_column(index=True)
    origin: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    reason: Mapped[str | None] = mapped_column(sa.String(200))


class Balance(Base):
    """On hand per product and location, derived from done moves."""

    __tablename__ = "inventory_balance"

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"),
                                            primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_location.id"),
                                             primary_key=True)
    quantity: Mapped[Quantity]


class StockLevel(Base):
    """On hand, reserved and available per product and warehouse (the reservation lock)."""

    __tablename__ = "inventory_stock"
    __table_args__ = (
        sa.UniqueConstraint("product_id", "warehouse_id"),
        sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        sa.CheckConstraint("available >= 0", name="available_not_negative"),
        sa.CheckConstraint("on_hand = reserved + available", name="on_hand_is_sum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_product.id"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("inventory_warehouse.id"),
                                              index=True)
    on_hand: Mapped[Quantity]
    reserved: Mapped[Quantity]
    available: Mapped[Quantity]
    updated_at: Mapped[UtcDateTime] = mapped_column(default=utcnow)


_ENSURE_STOCK_ROW = Upsert(lambda insert: insert(StockLevel.__table__).on_conflict_do_nothing())


def ensure_stock_row(session: Session, product_id: int, warehouse_id: int) -> None:
    """Create the product's stock row in a warehouse if missing (race-free upsert)."""
    session.execute(_ENSURE_STOCK_ROW.on(session), {
        "product_id": product_id, "warehouse_id": warehouse_id, "on_hand": ZERO,
        "reserved": ZERO, "available": ZERO, "updated_at": utcnow()})


def location_quantity(session: Session, product_id: int, location_id: int) -> Decimal:
    return session.scalar(sa.select(Balance.quantity).where(
        Balance.product_id == product_id, Balance.location_id == location_id)) or ZERO


def available_quantity(session: Session, product_id: int, warehouse_id: int) -> Decimal:
    """Units of a product that can still be promised in a warehouse."""
    return session.scalar(sa.select(StockLevel.available).where(
        StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id)) or ZERO


def _change_statement() -> Any:
    """The one statement every stock change uses, built once: it is the hot path of
    reservations, so it is compiled and cached once instead of rebuilt per call."""
    table = StockLevel.__table__

    def limit(column: Any) -> Any:
        return (sa.select(column).where(StockLimit.product_id == table.c.product_id,
                                        StockLimit.warehouse_id == table.c.warehouse_id)
                .scalar_subquery())

    return (sa.update(table)
            .where(table.c.product_id == sa.bindparam("product"),
                   table.c.warehouse_id == sa.bindparam("warehouse"),
                   table.c.available >= sa.bindparam("need_available", type_=_QUANTITY),
                   table.c.reserved >= sa.bindparam("need_reserved", type_=_QUANTITY))
            .values(on_hand=table.c.on_hand + sa.bindparam("d_on_hand", type_=_QUANTITY),
                    reserved=table.c.reserved + sa.bindparam("d_reserved", type_=_QUANTITY),
                    available=table.c.available + sa.bindparam("d_available",
                                                                type_=_QUANTITY),
                    updated_at=sa.bindparam("now", type_=StockLevel.__table__.c.updated_at.type))
            .returning(table.c.available, limit(StockLimit.minimum).label("minimum"),
                       limit(StockLimit.maximum).label("maximum")))


def _change_many_statement() -> Any:
    """PostgreSQL: ``_CHANGE`` for many rows in one statement, the rows' changes in one
    JSON parameter (the same SQL text however many rows: prepared once). The rows are
    locked first, in (product, warehouse) order, by a materialised CTE, which reads each
    row's latest version after any wait for its lock; the conditions are checked, and
    the new figures computed, on what it read. The UPDATE's own scan sees rows as the
    statement's snapshot did: it would refuse a row a concurrent release has just made
    enough available on, and its CHECK constraints would judge figures computed from
    that stale version before PostgreSQL re-reads the row."""
    stock = StockLevel.__table__.name
    limits = StockLimit.__table__.name
    quantity = "numeric"

    def limit(column: str) -> str:
        return (f"(SELECT {limits}.{column} FROM {limits} WHERE {limits}.product_id ="
                f" {stock}.product_id AND {limits}.warehouse_id = {stock}.warehouse_id)")

    return sa.text(
        f"WITH erp_changes AS (SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS"
        f" (product integer, warehouse integer, need_available {quantity},"
        f" need_reserved {quantity}, d_on_hand {quantity}, d_reserved {quantity},"
        f" d_available {quantity})),"
        f" erp_locked AS MATERIALIZED (SELECT {stock}.id, {stock}.on_hand,"
        f" {stock}.available, {stock}.reserved FROM {stock} JOIN erp_changes ON"
        f" {stock}.product_id = erp_changes.product AND {stock}.warehouse_id ="
        f" erp_changes.warehouse ORDER BY {stock}.product_id, {stock}.warehouse_id"
        f" FOR NO KEY UPDATE OF {stock})"
        f" UPDATE {stock} SET on_hand = erp_locked.on_hand + erp_changes.d_on_hand,"
        f" reserved = erp_locked.reserved + erp_changes.d_reserved,"
        f" available = erp_locked.available + erp_changes.d_available, updated_at = :now"
        f" FROM erp_changes, erp_locked WHERE {stock}.id = erp_locked.id"
        f" AND {stock}.product_id = erp_changes.product"
        f" AND {stock}.warehouse_id = erp_changes.warehouse"
        f" AND erp_locked.available >= erp_changes.need_available"
        f" AND erp_locked.reserved >= erp_changes.need_reserved"
        f" RETURNING {stock}.product_id, {stock}.warehouse_id, {stock}.available,"
        f" {limit('minimum')} AS minimum, {limit('maximum')} AS maximum"
    ).bindparams(sa.bindparam("now", type_=StockLevel.__table__.c.updated_at.type)
                 ).columns(product_id=sa.Integer, warehouse_id=sa.Integer,
                           available=StockLevel.__table__.c.available.type,
                           minimum=StockLimit.__table__.c.minimum.type,
                           maximum=StockLimit.__table__.c.maximum.type)


_QUANTITY = StockLevel.__table__.c.available.type
_CHANGE = _change_statement()
_CHANGE_MANY = _change_many_statement()


def change_stock(session: Session, product_id: int, warehouse_id: int, *,
                 on_hand: Decimal = ZERO, reserved: Decimal = ZERO) -> StockChange:
    """Apply a change to a stock row in one atomic statement.

    ``available`` changes by ``on_hand - reserved``. When that is negative the update is
    conditional and raises ``InsufficientStock`` (naming the SKU and the shortfall)
    instead of going below zero; a negative ``reserved`` change needs that much reserved.
    """
    return change_stocks(session, {(product_id, warehouse_id): (on_hand, reserved)})[
        product_id, warehouse_id]


StockKey = tuple[int, int]
"""A stock row: ``(product id, warehouse id)``."""


def change_stocks(session: Session, deltas: Mapping[StockKey, tuple[Decimal, Decimal]]
                  ) -> dict[StockKey, StockChange]:
    """Apply changes to several stock rows, all or nothing: ``deltas`` maps a row to its
    ``(on_hand, reserved)`` change, with the same rules as ``change_stock``.

    The rows are locked in (product, warehouse) order, the order every writer takes, so
    documents never deadlock on each other. On PostgreSQL it is one statement however
    many rows change (the hot path of reservations and shipments: rows cost round
    trips), and one row takes the plain conditional update, the lighter statement for
    the hottest path (one SKU in demand). When a row cannot take its change, the rows
    that could are put back and ``InsufficientStock`` names every SKU short and by how
    much.
    """
    keys = sorted(key for key, (on_hand, reserved) in deltas.items() if on_hand or reserved)
    if not keys:
        return {key: _unchanged(session, key) for key in deltas}
    for product_id, warehouse_id in keys:
        if deltas[product_id, warehouse_id][0] > 0:
            ensure_stock_row(session, product_id, warehouse_id)
    now = utcnow()
    parameters = [_parameters(key, *deltas[key], now) for key in keys]
    if len(keys) > 1 and session.get_bind().dialect.name == "postgresql":
        document = _json_rows([{k: v for k, v in p.items() if k != "now"}
                               for p in parameters])
        rows = {(row.product_id, row.warehouse_id): row for row in session.execute(
            _CHANGE_MANY, {"rows": document, "now": now})}
    else:
        rows = {}
        for key, values in zip(keys, parameters, strict=True):
            row = session.execute(_CHANGE, values).first()
            if row is not None:
                rows[key] = row
    short = [key for key in keys if key not in rows]
    if short:
        if rows:  # put back what this call changed: the caller may go on (another warehouse)
            change_stocks(session, {key: (-deltas[key][0], -deltas[key][1]) for key in rows})
        _refuse(session, short, deltas)
    changes = {}
    for key in keys:
        delta_available = deltas[key][0] - deltas[key][1]
        row = rows[key]
        changes[key] = StockChange(key[1], row.available - delta_available, row.available,
                                   row.minimum, row.maximum)
    return {key: changes.get(key) or _unchanged(session, key) for key in deltas}


def _json_rows(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows for a statement's ``json_to_recordset`` parameter: decimals travel as text,
    which ``numeric`` reads exactly."""
    return json.dumps([{k: str(v) if isinstance(v, Decimal) else v for k, v in row.items()}
                       for row in rows])


def _parameters(key: StockKey, on_hand: Decimal, reserved: Decimal,
                now: dt.datetime) -> dict[str, Any]:
    delta_available = on_hand - reserved
    return {"product": key[0], "warehouse": key[1],
            "need_available": max(-delta_available, ZERO), "need_reserved": max(-reserved, ZERO),
            "d_on_hand": on_hand, "d_reserved": reserved, "d_available": delta_available,
            "now": now}


def _unchanged(session: Session, key: StockKey) -> StockChange:
    """A row asked to change by nothing, as it stands."""
    available = available_quantity(session, *key)
    return StockChange(key[1], available, available, None, None)


def _refuse(session: Session, short: Sequence[StockKey],
            deltas: Mapping[StockKey, tuple[Decimal, Decimal]]) -> None:
    """Raise why the ``short`` rows could not take their change."""
    shortfalls: dict[str, Decimal] = {}
    where = None
    for product_id, warehouse_id in short:
        on_hand, reserved = deltas[product_id, warehouse_id]
        delta_available = on_hand - reserved
        have = available_quantity(session, product_id, warehouse_id)
        sku = session.scalar(sa.select(Product.sku).where(Product.id == product_id))
        code = session.scalar(sa.select(Warehouse.code).where(Warehouse.id == warehouse_id))
        if sku is None or code is None:
            raise ValidationError(
                f"{'product' if sku is None else 'warehouse'}"
                f" {product_id if sku is None else warehouse_id} does not exist",
                {"product_id" if sku is None else "warehouse_id": "does not exist"})
        shortfalls[sku] = (-delta_available - have) if delta_available < 0 else -reserved
        where = where or code
    raise InsufficientStock(where or "", shortfalls)


@attrs.frozen
class Posting:
    """One move to write: ``quantity`` of a product from one location to another.

    ``unit_cost`` is what the move records (the product's average cost for goods
    leaving, the purchase cost for goods arriving); ``sku`` names the product when a
    source is short. ``from_reserved`` takes the units out of what is reserved (a
    shipment consuming a reservation) instead of out of what is available.
    """

    product_id: int
    sku: str
    quantity: Decimal
    from_location_id: int
    to_location_id: int
    unit_cost: Decimal
    origin: str | None = None
    reason: str | None = None
    from_reserved: bool = False


def _upsert_balances(insert: Any) -> Any:
    table = Balance.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.product_id, table.c.location_id],
        set_={"quantity": table.c.quantity + statement.excluded.quantity})


# Built once: SQLAlchemy then computes their cache keys once, not on every posting.
_BALANCES = Balance.__table__
_LOCK_BALANCES = (
    sa.select(_BALANCES.c.location_id, _BALANCES.c.product_id, _BALANCES.c.quantity)
    .where(sa.tuple_(_BALANCES.c.location_id, _BALANCES.c.product_id)
           .in_(sa.bindparam("keys", expanding=True)))
    .order_by(_BALANCES.c.location_id, _BALANCES.c.product_id)
    .with_for_update(key_share=True))
_ADD_TO_BALANCES = Upsert(_upsert_balances)


def _take_and_add_statement() -> Any:
    """PostgreSQL: ``_LOCK_BALANCES``, the check that every source holds what is taken
    from it, and ``_ADD_TO_BALANCES`` in one statement, the rows' changes in one JSON
    parameter. A materialised CTE locks the rows that exist in (location, product)
    order and reads each one's latest version after any wait for its lock; the check
    is made on what it read, for the rows something is taken from (a virtual location,
    which may stand below zero, is only added to). When a source is short nothing is
    written and the statement returns every shortfall; otherwise it returns nothing."""
    balance = _BALANCES.name
    return sa.text(
        "WITH erp_changes AS (SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS"
        " (location integer, product integer, delta numeric, take numeric)),"
        f" erp_locked AS MATERIALIZED (SELECT {balance}.location_id, {balance}.product_id,"
        f" {balance}.quantity FROM {balance} JOIN erp_changes ON"
        f" {balance}.location_id = erp_changes.location"
        f" AND {balance}.product_id = erp_changes.product"
        f" ORDER BY {balance}.location_id, {balance}.product_id FOR NO KEY UPDATE OF {balance}),"
        " erp_short AS (SELECT erp_changes.location, erp_changes.product,"
        " erp_changes.take - coalesce(erp_locked.quantity, 0) AS short FROM erp_changes"
        " LEFT JOIN erp_locked ON erp_locked.location_id = erp_changes.location"
        " AND erp_locked.product_id = erp_changes.product"
        " WHERE erp_changes.take > 0 AND coalesce(erp_locked.quantity, 0) < erp_changes.take),"
        f" erp_added AS (INSERT INTO {balance} (product_id, location_id, quantity)"
        " SELECT product, location, delta FROM erp_changes"
        " WHERE NOT EXISTS (SELECT 1 FROM erp_short) ORDER BY location, product"
        f" ON CONFLICT (product_id, location_id) DO UPDATE"
        f" SET quantity = {balance}.quantity + excluded.quantity)"
        " SELECT location, product, short FROM erp_short ORDER BY location, product"
    ).columns(location=sa.Integer, product=sa.Integer, short=_BALANCES.c.quantity.type)


_TAKE_AND_ADD = _take_and_add_statement()
# PostgreSQL returns the new ids in the rows' order. SQLAlchemy can only promise that
# order on SQLite by inserting one row per statement, so there the ids are sorted
# instead: SQLite gives each new row a rowid above every existing one, so the rows of
# one INSERT get increasing ids in the order they are listed.
_INSERT_MOVES = {
    "postgresql": sa.insert(Move.__table__).returning(Move.__table__.c.id,
                                                      sort_by_parameter_order=True),
    "sqlite": sa.insert(Move.__table__).returning(Move.__table__.c.id)}


class Ledger:
    """Posts moves for one transaction; locations come from the transaction's cache."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def location(self, location_id: int) -> Location:
        return location_by_id(self.session, location_id)

    def post(self, product: Product, quantity: Decimal, from_location_id: int,
             to_location_id: int, *, origin: str | None = None, reason: str | None = None,
             unit_cost: Decimal | None = None, from_reserved: bool = False,
             ) -> tuple[int, list[StockChange]]:
        """Write one done move and update balances, stock levels and the average cost.

        Returns the move id and the change of each warehouse's stock row it touched.
        """
        if quantity <= 0:
            raise ValidationError("a move needs a positive quantity", {"quantity": "must be > 0"})
        source, target = self.location(from_location_id), self.location(to_location_id)
        incoming_cost = self._incoming_cost(product, quantity, source, target, unit_cost)
        [move_id], changes = self.post_many([Posting(
            product.id, product.sku, quantity, source.id, target.id,
            incoming_cost if incoming_cost is not None else product.cost, origin=origin,
            reason=reason, from_reserved=from_reserved)])
        return move_id, [change for _product_id, change in changes]

    def post_many(self, postings: Sequence[Posting],
                  ) -> tuple[list[int], list[tuple[int, StockChange]]]:
        """Write done moves and update balances and stock levels, in a number of
        statements that does not grow with the postings (except one per stock row).

        Every internal source must hold what the batch takes from it; if one does not,
        ``InsufficientStock`` names each SKU short and by how much, and nothing has been
        written. Balance rows are locked in (location, product) order and stock rows in
        (product, warehouse) order whatever the order of the postings, so batches never
        deadlock on each other. Average costs are not re-averaged here (``post`` does it
        for goods arriving). Returns the move ids in the postings' order and, per
        (product, warehouse) stock row changed, ``(product_id, change)`` for alerts.
        """
        if not postings:
            return [], []
        deltas: dict[tuple[int, int], Decimal] = {}  # (location, product) -> change
        takes: dict[tuple[int, int], Decimal] = {}  # from internal locations only
        stock: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}  # (product, warehouse)
        skus: dict[int, str] = {}
        for posting in postings:
            product_id, quantity = posting.product_id, posting.quantity
            if quantity <= 0:
                raise ValidationError("a move needs a positive quantity",
                                      {"quantity": "must be > 0"})
            source = self.location(posting.from_location_id)
            target = self.location(posting.to_location_id)
            if source.id == target.id:
                raise ValidationError("a move needs two different locations")
            skus[product_id] = posting.sku
            deltas[source.id, product_id] = deltas.get((source.id, product_id), ZERO) - quantity
            deltas[target.id, product_id] = deltas.get((target.id, product_id), ZERO) + quantity
            source_home = source.warehouse_id if source.kind in INTERNAL_KINDS else None
            target_home = target.warehouse_id if target.kind in INTERNAL_KINDS else None
            if source_home is not None:
                takes[source.id, product_id] = takes.get((source.id, product_id), ZERO) + quantity
                if source_home != target_home:
                    on_hand, reserved = stock.get((product_id, source_home), (ZERO, ZERO))
                    stock[product_id, source_home] = (
                        on_hand - quantity, reserved - quantity if posting.from_reserved
                        else reserved)
            if target_home is not None and target_home != source_home:
                on_hand, reserved = stock.get((product_id, target_home), (ZERO, ZERO))
                stock[product_id, target_home] = (on_hand + quantity, reserved)
        keys = sorted(deltas)
        dialect = self.session.get_bind().dialect.name
        if takes and dialect == "postgresql":
            self._take_and_add(keys, deltas, takes, skus)
        else:
            if takes:
                self._check_sources(keys, takes, skus)
            self.session.execute(_ADD_TO_BALANCES.on(self.session), [
                {"location_id": location_id, "product_id": product_id,
                 "quantity": deltas[location_id, product_id]}
                for location_id, product_id in keys])
        changed = change_stocks(self.session, {key: delta for key, delta in stock.items()
                                               if delta[0] or delta[1]})
        changes = [(product_id, change) for (product_id, _), change in sorted(changed.items())]
        now = utcnow()
        move_ids = list(self.session.scalars(_INSERT_MOVES[dialect], [
            {"product_id": posting.product_id, "quantity": posting.quantity,
             "from_location_id": posting.from_location_id,
             "to_location_id": posting.to_location_id, "state": "done",
             "unit_cost": posting.unit_cost, "done_at": now, "origin": posting.origin,
             "reason": posting.reason} for posting in postings]))
        if dialect == "sqlite":
            move_ids.sort()
        return move_ids, changes

    def _check_sources(self, keys: list[tuple[int, int]], takes: Mapping[tuple[int, int], Decimal],
                       skus: Mapping[int, str]) -> None:
        """Lock every balance row the batch touches (in ``keys`` order, the lock order)
        and refuse, before anything is written, when an internal source would go below
        zero. The rows stay locked until the transaction ends, so the unconditional
        upsert that follows cannot take what another transaction took meanwhile."""
        held = {(location_id, product_id): quantity for location_id, product_id, quantity
                in self.session.execute(_LOCK_BALANCES, {"keys": keys})}
        shortfalls: dict[str, Decimal] = {}
        short_at: Location | None = None
        for (location_id, product_id), quantity in takes.items():
            have = held.get((location_id, product_id), ZERO)
            if have < quantity:
                shortfalls[skus[product_id]] = quantity - have
                short_at = short_at or self.location(location_id)
        if short_at is not None:
            raise InsufficientStock(short_at.code, shortfalls)

    def _take_and_add(self, keys: list[tuple[int, int]],
                      deltas: Mapping[tuple[int, int], Decimal],
                      takes: Mapping[tuple[int, int], Decimal], skus: Mapping[int, str]
                      ) -> None:
        """PostgreSQL: ``_check_sources`` and the balances' update in one statement (a
        shipment's round trips are most of its cost)."""
        document = _json_rows([{"location": location_id, "product": product_id,
                                "delta": deltas[location_id, product_id],
                                "take": takes.get((location_id, product_id), ZERO)}
                               for location_id, product_id in keys])
        short = self.session.execute(_TAKE_AND_ADD, {"rows": document}).all()
        if short:
            raise InsufficientStock(self.location(short[0].location).code,
                                    {skus[row.product]: row.short for row in short})

    def _incoming_cost(self, product: Product, quantity: Decimal, source: Location,
                       target: Location, unit_cost: Decimal | None) -> Decimal | None:
        """Moving average cost: units arriving from outside (a supplier, or found in a
        count) at ``unit_cost`` re-average the product's cost over all units on hand."""
        if target.kind not in INTERNAL_KINDS or source.kind in INTERNAL_KINDS \
                or source.kind == LocationKind.TRANSIT or unit_cost is None:
            return None
        self.session.refresh(product, with_for_update={"key_share": True})  # serialise re-averaging
        on_hand = self.session.scalar(sa.select(sa.func.coalesce(
            sa.func.sum(StockLevel.on_hand), 0)).where(StockLevel.product_id == product.id))
        on_hand = Decimal(str(on_hand or 0))
        if on_hand <= 0:
            average = unit_cost
        else:
            average = (product.cost * on_hand + unit_cost * quantity) / (on_hand + quantity)
        product.cost = average.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
        # The ledger writes with Core statements, which do not flush the session: write
        # the new cost now, while the product row is locked for it.
        self.session.flush()
        return unit_cost


def ledger_balances(session: Session) -> Mapping[tuple[int, int], Decimal]:
    """On hand per (product, location) recomputed from the moves alone (for checks)."""
    totals: dict[tuple[int, int], Decimal] = {}
    rows = session.execute(sa.select(Move.product_id, Move.from_location_id, Move.to_location_id,
                                     Move.quantity).where(Move.state == "done"))
    for product_id, source, target, quantity in rows:
        totals[(product_id, source)] = totals.get((product_id, source), ZERO) - quantity
        totals[(product_id, target)] = totals.get((product_id, target), ZERO) + quantity
    return totals


_HAS_STOCK_HISTORY = sa.select(sa.literal(1)).where(
    Balance.location_id == sa.bindparam("location")).limit(1)


@on_write("inventory.location", actions=("update",), when="before")
def locations_keep_their_place_in_the_ledger(ctx: Context, event: WriteEvent) -> None:
    """A location's kind and warehouse say which stock its moves change, and a virtual
    location is found by its code: once goods have moved through a location they stay
    as they are (create another location instead), so the ledger, the stock levels and
    the locations the process keeps (``look_up_locations``) can never disagree."""
    before = event.before or {}
    fixed = [name for name in ("kind", "warehouse_id", "code")
             if name in event.changes and event.changes[name] != before.get(name)
             and (name != "code" or before.get("kind") in VIRTUAL_KINDS)]
    if fixed and ctx.session.scalar(_HAS_STOCK_HISTORY, {"location": event.record_id}):
        raise ConflictError(
            f"location {before.get('code')} has stock history: its"
            f" {' and '.join(fixed)} cannot change (create another location instead)")
