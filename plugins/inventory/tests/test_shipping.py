"""Shipping reservations in one batch: all or nothing, in a fixed number of statements."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa
from test_ledger import assert_caches_match_ledger

from erp_inventory.catalogue import Product
from erp_inventory.exceptions import InsufficientStock
from erp_inventory.ledger import Balance, Ledger, Move, StockLevel
from erp_inventory.movements import receive
from erp_inventory.reservations import (
    Reservation,
    ReservationLine,
    ReservationState,
    reserve,
    ship_origins,
    ship_reservations,
    ship_reserved,
)
from erp_inventory.warehouses import Location, LocationKind, warehouse_location
from erp_sdk import ConflictError, NotFoundError, PermissionDenied, Principal, ValidationError


@pytest.fixture
def stocked(run, warehouse, make_product):
    """``stocked(quantity, sku)``: a product with ``quantity`` received in the warehouse."""
    def make(quantity: str, sku: str | None = None) -> int:
        product = make_product(sku, cost="2.50")
        run(receive, warehouse, product, Decimal(quantity), Decimal("2.50"))
        return product
    return make


@pytest.fixture
def reserved(run, warehouse):
    """``reserved(product, quantity, origin)``: the id of a new reservation."""
    def make(product: int, quantity: str, origin: str = "doc:1") -> int:
        [reservation_id] = run(reserve, warehouse,
                               [ReservationLine(product, Decimal(quantity), origin)])
        return reservation_id
    return make


def snapshot(kernel):
    """Everything a shipment writes, to compare before and after."""
    with kernel.transaction() as session:
        return (
            session.scalar(sa.select(sa.func.count()).select_from(Move)),
            sorted(session.execute(sa.select(Balance.product_id, Balance.location_id,
                                             Balance.quantity)).all()),
            sorted(session.execute(sa.select(StockLevel.product_id, StockLevel.on_hand,
                                             StockLevel.reserved)).all()),
            sorted(session.execute(sa.select(Reservation.id, Reservation.remaining,
                                             Reservation.state)).all()),
        )


def reservation(kernel, reservation_id):
    with kernel.transaction() as session:
        found = session.get(Reservation, reservation_id)
        return found.remaining, found.state


def count_statements(kernel, function, *args, **kwargs):
    """How many statements ``function(ctx, *args)`` sends to the database."""
    return len(statements_of(kernel, function, *args, **kwargs))


def statements_of(kernel, function, *args, **kwargs):
    """The statements ``function(ctx, *args)`` sends to the database."""
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with kernel.context() as ctx:
        ctx.session.connection()  # the transaction's own BEGIN is not the function's
        sa.event.listen(kernel.engine, "before_cursor_execute", count)
        try:
            function(ctx, *args, **kwargs)
        finally:
            sa.event.remove(kernel.engine, "before_cursor_execute", count)
    return statements


def test_shipping_several_reservations_writes_one_move_each_in_the_items_order(
        kernel, run, stocked, reserved):
    tea, coffee = stocked("10", "TEA"), stocked("10", "COFFEE")
    tea_line, coffee_line = reserved(tea, "3", "order:1"), reserved(coffee, "4", "order:2")
    move_ids = run(ship_reservations, [(coffee_line, None), (tea_line, Decimal(3))],
                   origin="shipment:7")
    with kernel.transaction() as session:
        moves = [session.get(Move, move_id) for move_id in move_ids]
        assert [(move.product_id, move.quantity) for move in moves] == [
            (coffee, Decimal(4)), (tea, Decimal(3))]
        assert {move.origin for move in moves} == {"shipment:7"}
        assert {move.unit_cost for move in moves} == {Decimal("2.50")}
    assert reservation(kernel, tea_line) == (Decimal(0), ReservationState.CONSUMED)
    assert reservation(kernel, coffee_line) == (Decimal(0), ReservationState.CONSUMED)
    assert_caches_match_ledger(kernel)


def test_a_partial_quantity_keeps_the_rest_of_the_reservation_active(
        kernel, run, warehouse, stocked, reserved):
    tea = stocked("10")
    line = reserved(tea, "5")
    run(ship_reservations, [(line, Decimal(2))])
    assert reservation(kernel, line) == (Decimal(3), ReservationState.ACTIVE)
    with kernel.transaction() as session:
        level = session.execute(sa.select(StockLevel.on_hand, StockLevel.reserved).where(
            StockLevel.product_id == tea, StockLevel.warehouse_id == warehouse)).one()
    assert tuple(level) == (Decimal(8), Decimal(3))
    [move_id] = run(ship_reservations, [(line, None)])
    with kernel.transaction() as session:
        assert session.get(Move, move_id).origin == "doc:1"  # the reservation's own origin
    assert reservation(kernel, line) == (Decimal(0), ReservationState.CONSUMED)


def test_the_same_reservation_twice_in_one_call_ships_both_quantities(
        kernel, run, stocked, reserved):
    line = reserved(stocked("10"), "5")
    assert len(run(ship_reservations, [(line, Decimal(2)), (line, None)])) == 2
    assert reservation(kernel, line) == (Decimal(0), ReservationState.CONSUMED)
    assert_caches_match_ledger(kernel)


def test_a_shortfall_on_one_product_refuses_the_whole_shipment_and_writes_nothing(
        kernel, warehouse, stocked, reserved):
    tea, coffee = stocked("10", "TEA"), stocked("10", "COFFEE")
    tea_line, coffee_line = reserved(tea, "3"), reserved(coffee, "8")
    with kernel.transaction() as session:  # 4 coffees leave storage for the output bay
        ledger = Ledger(session)
        ledger.post(session.get(Product, coffee), Decimal(4),
                    warehouse_location(session, warehouse).id,
                    warehouse_location(session, warehouse, LocationKind.OUTPUT).id)
    before = snapshot(kernel)
    with kernel.context() as ctx:
        with pytest.raises(InsufficientStock) as refused:
            ship_reservations(ctx, [(tea_line, None), (coffee_line, None)])
        ctx.session.flush()  # a caller going on in the same transaction finds nothing written
    assert refused.value.shortfalls == {"COFFEE": Decimal(2)}
    assert "COFFEE short by 2" in refused.value.message
    assert snapshot(kernel) == before


@pytest.mark.parametrize(("item", "error", "message"), [
    ((999_999, None), NotFoundError, "reservation 999999 does not exist"),
    ((None, Decimal(6)), ValidationError, "can ship between 0 and 5"),
    ((None, Decimal(0)), ValidationError, "quantity: must be positive"),
])
def test_an_invalid_item_refuses_the_whole_shipment(kernel, run, stocked, reserved, item,
                                                    error, message):
    good, bad = reserved(stocked("10"), "5"), reserved(stocked("10"), "5", "doc:2")
    before = snapshot(kernel)
    with pytest.raises(error, match=message):
        run(ship_reservations, [(good, None), (item[0] or bad, item[1])])
    assert snapshot(kernel) == before


def test_a_consumed_reservation_cannot_ship_again(run, stocked, reserved):
    line = reserved(stocked("10"), "2")
    run(ship_reserved, line)
    with pytest.raises(ConflictError, match=f"reservation {line} is consumed"):
        run(ship_reservations, [(line, None)])


def test_shipping_needs_the_ship_permission(run, stocked, reserved):
    line = reserved(stocked("10"), "2")
    clerk = Principal(name="clerk", permissions=frozenset({"inventory.stock.reserve"}))
    with pytest.raises(PermissionDenied):
        run(ship_reservations, [(line, None)], principal=clerk)


def test_reservations_loaded_in_the_session_show_what_was_shipped(kernel, stocked, reserved):
    line = reserved(stocked("10"), "5")
    with kernel.context() as ctx:
        loaded = ctx.session.get(Reservation, line)
        ship_reservations(ctx, [(line, Decimal(5))])
        assert (loaded.remaining, loaded.state) == (Decimal(0), ReservationState.CONSUMED)


def test_the_statements_do_not_grow_with_the_lines(
        kernel, stocked, reserved):
    products = [stocked("100") for _ in range(3)]
    two_lines = [(reserved(product, "1", f"a:{n}"), None) for n, product in
                 enumerate(products[:2])]
    six_lines = [(reserved(product, "1", f"b:{n}"), None) for n, product in
                 enumerate(products[:2] * 3)]
    three_products = [(reserved(product, "1", f"c:{n}"), None) for n, product in
                      enumerate(products)]
    # the first shipment ever creates the customer location, and the next one reads the
    # locations again (they changed): not part of the comparison
    count_statements(kernel, ship_reserved, reserved(products[0], "1", "first"))
    count_statements(kernel, ship_reserved, reserved(products[0], "1", "second"))
    two = count_statements(kernel, ship_reservations, two_lines)
    assert count_statements(kernel, ship_reservations, six_lines) == two
    # PostgreSQL updates every stock row in one statement; SQLite, in process, sends one
    # conditional update per stock row
    per_product = 0 if kernel.engine.dialect.name == "postgresql" else 1
    assert count_statements(kernel, ship_reservations, three_products) == two + per_product


def test_concurrent_shipments_of_the_same_products_in_any_order_never_deadlock(
        kernel, stocked, reserved):
    products = [stocked("100") for _ in range(3)]
    workers = 6
    orders = [[reserved(product, "2", f"race:{n}") for product in products]
              for n in range(workers)]
    barrier = threading.Barrier(workers)

    def ship(index: int) -> None:
        lines = orders[index] if index % 2 else list(reversed(orders[index]))
        barrier.wait()
        with kernel.context() as ctx:
            ship_reservations(ctx, [(line, None) for line in lines])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(ship, range(workers)))
    with kernel.transaction() as session:
        on_hand = session.scalars(sa.select(StockLevel.on_hand).where(
            StockLevel.product_id.in_(products))).all()
    assert on_hand == [Decimal(100 - 2 * workers)] * 3
    assert_caches_match_ledger(kernel)


def test_shipping_by_origin_finds_and_locks_the_active_reservations(
        kernel, run, stocked, reserved):
    tea, coffee = stocked("10", "TEA"), stocked("10", "COFFEE")
    first, second = reserved(tea, "4", "order_line:1"), reserved(coffee, "3", "order_line:2")
    run(ship_origins, {"order_line:1": Decimal(1), "order_line:2": None}, origin="order:1")
    assert reservation(kernel, first) == (Decimal(3), ReservationState.ACTIVE)
    assert reservation(kernel, second) == (Decimal(0), ReservationState.CONSUMED)
    with kernel.transaction() as session:
        assert sorted(session.execute(sa.select(Move.product_id, Move.quantity)
                                      .where(Move.origin == "order:1")).all()) == sorted(
            [(tea, Decimal(1)), (coffee, Decimal(3))])


def test_shipping_an_origin_without_an_active_reservation_ships_nothing(
        kernel, run, stocked, reserved):
    tea = stocked("10", "TEA")
    reserved(tea, "4", "order_line:1")
    before = snapshot(kernel)
    with pytest.raises(NotFoundError, match="order_line:9"):
        run(ship_origins, {"order_line:1": None, "order_line:9": None})
    assert snapshot(kernel) == before


def test_shipping_reads_the_locations_only_after_they_changed(kernel, stocked, reserved):
    product = stocked("100")
    ship_reserved_now = [reserved(product, "1", f"o:{n}") for n in range(4)]

    def location_reads(reservation_id):
        return [s for s in statements_of(kernel, ship_reserved, reservation_id)
                if re.search(r"\bFROM inventory_location\b", s)]

    location_reads(ship_reserved_now[0])  # creates the customer location
    assert location_reads(ship_reserved_now[1]) != []  # locations changed: read again
    assert location_reads(ship_reserved_now[2]) == []  # kept by the process since
    with kernel.context() as ctx:  # a change to any location: read again
        ctx.records("inventory.location").create(
            {"code": "EXTRA", "name": "Extra", "kind": "damaged"})
    assert location_reads(ship_reserved_now[3]) != []


def test_virtual_locations_below_zero_never_refuse_a_move(kernel, run, warehouse, stocked,
                                                          reserved):
    """Only the locations goods are taken from must hold them: a virtual location is the
    other side of moves and may stand below zero (units found by an adjustment, more
    returned by customers than shipped to them)."""
    from erp_inventory.movements import adjust, return_to_stock

    product = stocked("10")
    run(adjust, warehouse, product, Decimal(5), "found")  # the adjustment location: -5
    run(adjust, warehouse, product, Decimal(-2), "lost")  # taken from storage, to it
    run(return_to_stock, warehouse, product, Decimal(4))  # the customer location: -4
    run(ship_reserved, reserved(product, "3", "o:1"))  # to the customer location
    with kernel.transaction() as session:
        by_kind = dict(session.execute(
            sa.select(Location.kind, Balance.quantity)
            .join(Location, Location.id == Balance.location_id)
            .where(Balance.product_id == product,
                   Location.kind.in_(["storage", "adjustment", "customer"]))).all())
    assert by_kind == {"storage": Decimal(14), "adjustment": Decimal(-3),
                       "customer": Decimal(-1)}
    assert_caches_match_ledger(kernel)


def test_a_location_with_stock_history_keeps_its_kind_warehouse_and_virtual_code(
        kernel, warehouse, stocked, reserved, run):
    """The ledger and the locations each process keeps depend on them."""
    product = stocked("5")
    run(ship_reserved, reserved(product, "1", "o:1"))
    with kernel.context() as ctx:
        storage = warehouse_location(ctx.session, warehouse).id
        customer = ctx.records("inventory.location").list(
            [("code", "virtual/customer")])["items"][0]["id"]
        empty = ctx.records("inventory.location").create(
            {"code": "W-NEW", "name": "New", "kind": "storage", "warehouse_id": warehouse})["id"]
    for location, change in ((storage, {"kind": "output"}), (storage, {"warehouse_id": None}),
                             (customer, {"code": "virtual/client"})):
        with kernel.context() as ctx, pytest.raises(ConflictError, match="stock history"):
            ctx.records("inventory.location").update(location, change)
    with kernel.context() as ctx:  # what the ledger does not depend on may change
        assert ctx.records("inventory.location").update(storage, {"name": "Main shelf",
                                                                  "code": "W-MAIN"})
        assert ctx.records("inventory.location").update(empty, {"kind": "output"})
