"""The stock ledger: moves, per-location balances and per-warehouse stock levels.

Every change of stock is a ``Move`` (immutable, ``done`` when written). Two caches are
updated in the same transaction, by the same function (``post_move``), so they can never
drift from the ledger: ``Balance`` (on hand per product and location, virtual locations
included) and ``StockLevel`` (on hand, reserved and available per product and
warehouse). ``StockLevel`` is where overselling is prevented: every decrement of
``available`` is a conditional ``UPDATE ... WHERE available >= :quantity``, one atomic
statement, so concurrent writers serialise on the row and the loser sees the winner's
result (PostgreSQL re-checks the condition after the row lock; SQLite's write
transaction is exclusive). CHECK constraints make a negative availability impossible
even for code that forgets the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_inventory.alerts import StockLimit
from erp_inventory.catalogue import Product
from erp_inventory.exceptions import InsufficientStock
from erp_inventory.warehouses import INTERNAL_KINDS, Location, LocationKind, Warehouse
from erp_sdk import Base, Money, Quantity, UtcDateTime, ValidationError, utcnow

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


def _insert(session: Session, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))


def ensure_stock_row(session: Session, product_id: int, warehouse_id: int) -> None:
    """Create the product's stock row in a warehouse if missing (race-free upsert)."""
    session.execute(_insert(session, StockLevel.__table__).values(
        product_id=product_id, warehouse_id=warehouse_id, on_hand=ZERO, reserved=ZERO,
        available=ZERO, updated_at=utcnow()).on_conflict_do_nothing())


def _add_balance(session: Session, product_id: int, location_id: int, delta: Decimal) -> None:
    table = Balance.__table__
    statement = _insert(session, table).values(
        product_id=product_id, location_id=location_id, quantity=delta)
    session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.product_id, table.c.location_id],
        set_={"quantity": table.c.quantity + delta}))


def _take_balance(session: Session, product_id: int, location: Location, quantity: Decimal,
                  sku: str) -> None:
    taken = session.execute(
        sa.update(Balance).where(Balance.product_id == product_id,
                                 Balance.location_id == location.id,
                                 Balance.quantity >= quantity)
        .values(quantity=Balance.quantity - quantity))
    if taken.rowcount != 1:
        raise InsufficientStock(location.code, {sku: quantity - location_quantity(
            session, product_id, location.id)})


def location_quantity(session: Session, product_id: int, location_id: int) -> Decimal:
    return session.scalar(sa.select(Balance.quantity).where(
        Balance.product_id == product_id, Balance.location_id == location_id)) or ZERO


def available_quantity(session: Session, product_id: int, warehouse_id: int) -> Decimal:
    """Units of a product that can still be promised in a warehouse."""
    return session.scalar(sa.select(StockLevel.available).where(
        StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id)) or ZERO


@attrs.frozen
class StockChange:
    """What one update did to a stock row: available before and after, and the row's
    alert limits (read in the same statement, so checking alerts costs no query)."""

    warehouse_id: int
    before: Decimal
    after: Decimal
    minimum: Decimal | None
    maximum: Decimal | None


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
            .returning(table.c.available, limit(StockLimit.minimum),
                       limit(StockLimit.maximum)))


_QUANTITY = StockLevel.__table__.c.available.type
_CHANGE = _change_statement()


def change_stock(session: Session, product_id: int, warehouse_id: int, *,
                 on_hand: Decimal = ZERO, reserved: Decimal = ZERO) -> StockChange:
    """Apply a change to a stock row in one atomic statement.

    ``available`` changes by ``on_hand - reserved``. When that is negative the update is
    conditional and raises ``InsufficientStock`` (naming the SKU and the shortfall)
    instead of going below zero; a negative ``reserved`` change needs that much reserved.
    """
    delta_available = on_hand - reserved
    if on_hand > 0:
        ensure_stock_row(session, product_id, warehouse_id)
    row = session.execute(_CHANGE, {
        "product": product_id, "warehouse": warehouse_id,
        "need_available": max(-delta_available, ZERO), "need_reserved": max(-reserved, ZERO),
        "d_on_hand": on_hand, "d_reserved": reserved, "d_available": delta_available,
        "now": utcnow()}).first()
    if row is None:
        have = available_quantity(session, product_id, warehouse_id)
        shortfall = (-delta_available - have) if delta_available < 0 else -reserved
        sku = session.scalar(sa.select(Product.sku).where(Product.id == product_id))
        code = session.scalar(sa.select(Warehouse.code).where(Warehouse.id == warehouse_id))
        if sku is None or code is None:
            raise ValidationError(
                f"{'product' if sku is None else 'warehouse'}"
                f" {product_id if sku is None else warehouse_id} does not exist",
                {"product_id" if sku is None else "warehouse_id": "does not exist"})
        raise InsufficientStock(code, {sku: shortfall})
    after = row[0]
    return StockChange(warehouse_id, after - delta_available, after, row[1], row[2])


class Ledger:
    """Posts moves for one transaction; caches locations and products it has looked up."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._locations: dict[int, Location] = {}

    def location(self, location_id: int) -> Location:
        if location_id not in self._locations:
            location = self.session.get(Location, location_id)
            if location is None:
                raise ValidationError(f"location {location_id} does not exist",
                                      {"location_id": "does not exist"})
            self._locations[location_id] = location
        return self._locations[location_id]

    def post(self, product: Product, quantity: Decimal, from_location_id: int,
             to_location_id: int, *, origin: str | None = None, reason: str | None = None,
             unit_cost: Decimal | None = None, from_reserved: bool = False,
             ) -> tuple[Move, list[StockChange]]:
        """Write one done move and update balances, stock levels and the average cost.

        ``from_reserved`` takes the units out of what is reserved (a shipment consuming a
        reservation) instead of out of what is available. Returns the move and, per
        warehouse whose availability changed, ``(warehouse_id, before, after)``.
        """
        if quantity <= 0:
            raise ValidationError("a move needs a positive quantity", {"quantity": "must be > 0"})
        source, target = self.location(from_location_id), self.location(to_location_id)
        if source.id == target.id:
            raise ValidationError("a move needs two different locations")
        changes: list[StockChange] = []
        incoming_cost = self._incoming_cost(product, quantity, source, target, unit_cost)
        if source.kind in INTERNAL_KINDS:
            _take_balance(self.session, product.id, source, quantity, product.sku)
        else:
            _add_balance(self.session, product.id, source.id, -quantity)
        _add_balance(self.session, product.id, target.id, quantity)
        source_home = source.warehouse_id if source.kind in INTERNAL_KINDS else None
        target_home = target.warehouse_id if target.kind in INTERNAL_KINDS else None
        if source_home is not None and source_home != target_home:
            changes.append(change_stock(
                self.session, product.id, source_home, on_hand=-quantity,
                reserved=-quantity if from_reserved else ZERO))
        if target_home is not None and target_home != source_home:
            changes.append(change_stock(self.session, product.id, target_home,
                                        on_hand=quantity))
        move = Move(product_id=product.id, quantity=quantity, from_location_id=source.id,
                    to_location_id=target.id, state="done", done_at=utcnow(), origin=origin,
                    reason=reason,
                    unit_cost=incoming_cost if incoming_cost is not None else product.cost)
        self.session.add(move)
        self.session.flush()
        return move, changes

    def _incoming_cost(self, product: Product, quantity: Decimal, source: Location,
                       target: Location, unit_cost: Decimal | None) -> Decimal | None:
        """Moving average cost: units arriving from outside (a supplier, or found in a
        count) at ``unit_cost`` re-average the product's cost over all units on hand."""
        if target.kind not in INTERNAL_KINDS or source.kind in INTERNAL_KINDS \
                or source.kind == LocationKind.TRANSIT or unit_cost is None:
            return None
        self.session.refresh(product, with_for_update=True)  # serialise re-averaging
        on_hand = self.session.scalar(sa.select(sa.func.coalesce(
            sa.func.sum(StockLevel.on_hand), 0)).where(StockLevel.product_id == product.id))
        on_hand = Decimal(str(on_hand or 0))
        if on_hand <= 0:
            average = unit_cost
        else:
            average = (product.cost * on_hand + unit_cost * quantity) / (on_hand + quantity)
        product.cost = average.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
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
