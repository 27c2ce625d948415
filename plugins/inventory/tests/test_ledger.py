"""The stock ledger: receipts, valuation, balances and stock levels stay consistent."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from erp_core.migrations.check import assert_migrations_match_models
from erp_inventory.catalogue import Product
from erp_inventory.ledger import Balance, Move, StockLevel, ledger_balances
from erp_inventory.movements import adjust, receive
from erp_inventory.reservations import ReservationLine, reserve, ship_reserved
from erp_inventory.warehouses import INTERNAL_KINDS, Location


def stock(kernel, product_id, warehouse_id):
    with kernel.transaction() as session:
        row = session.execute(sa.select(StockLevel.on_hand, StockLevel.reserved,
                                        StockLevel.available).where(
            StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id)).first()
        return tuple(row) if row else (Decimal(0), Decimal(0), Decimal(0))


def assert_caches_match_ledger(kernel):
    with kernel.transaction() as session:
        ledger = {k: v for k, v in ledger_balances(session).items() if v != 0}
        cached = {(b.product_id, b.location_id): b.quantity
                  for b in session.scalars(sa.select(Balance)) if b.quantity != 0}
        assert cached == ledger
        internal = {loc.id: loc.warehouse_id for loc in session.scalars(sa.select(Location))
                    if loc.kind in INTERNAL_KINDS}
        on_hand: dict[tuple[int, int], Decimal] = {}
        for (product_id, location_id), quantity in ledger.items():
            if location_id in internal:
                key = (product_id, internal[location_id])
                on_hand[key] = on_hand.get(key, Decimal(0)) + quantity
        levels = {(s.product_id, s.warehouse_id): s for s in session.scalars(sa.select(StockLevel))}
        for key, level in levels.items():
            assert level.on_hand == on_hand.get(key, Decimal(0))
            assert level.available == level.on_hand - level.reserved >= 0


def test_migrations_create_exactly_the_models(kernel):
    assert_migrations_match_models(kernel, "inventory")


def test_receiving_puts_stock_on_hand_and_available(kernel, run, warehouse, make_product):
    product = make_product()
    run(receive, warehouse, product, Decimal("12"), Decimal("2.50"))
    assert stock(kernel, product, warehouse) == (Decimal(12), Decimal(0), Decimal(12))
    assert_caches_match_ledger(kernel)


def test_incoming_moves_update_the_moving_average_cost_to_the_cent(
        kernel, run, warehouse, make_product):
    product = make_product()
    run(receive, warehouse, product, Decimal("10"), Decimal("2.00"))
    run(receive, warehouse, product, Decimal("30"), Decimal("3.00"))
    with kernel.transaction() as session:
        # (10 * 2.00 + 30 * 3.00) / 40 = 2.75
        assert session.get(Product, product).cost == Decimal("2.7500")
    run(receive, warehouse, product, Decimal("3"), Decimal("1.00"))
    with kernel.transaction() as session:
        # (40 * 2.75 + 3 * 1.00) / 43 = 2.627906... -> 2.6279
        assert session.get(Product, product).cost == Decimal("2.6279")


def test_each_outgoing_move_records_the_average_unit_cost(kernel, run, warehouse, make_product):
    product = make_product()
    run(receive, warehouse, product, Decimal("10"), Decimal("2.00"))
    run(receive, warehouse, product, Decimal("10"), Decimal("4.00"))
    [reservation] = run(reserve, warehouse, [ReservationLine(product, Decimal(5), "doc:1")])
    move_id = run(ship_reserved, reservation)
    with kernel.transaction() as session:
        assert session.get(Move, move_id).unit_cost == Decimal("3.0000")


def test_adjustments_correct_on_hand_through_the_adjustment_location(
        kernel, run, warehouse, make_product):
    product = make_product()
    run(receive, warehouse, product, Decimal("10"), Decimal("1"))
    run(adjust, warehouse, product, Decimal("-3"), "broken")
    run(adjust, warehouse, product, Decimal("1"), "found")
    assert stock(kernel, product, warehouse)[0] == Decimal(8)
    assert_caches_match_ledger(kernel)


def test_stock_is_never_edited_directly_through_the_api(kernel):
    stock_level = kernel.entities.get("inventory.stock_level")
    move = kernel.entities.get("inventory.move")
    assert stock_level.declaration.operations == {"list", "get"}
    assert move.declaration.operations == {"list", "get"}


def test_receiving_does_not_wait_for_a_reference_to_the_product_being_checked(
        kernel, system, warehouse, make_product):
    """Re-averaging locks the product with FOR NO KEY UPDATE: an order line or a
    reservation being inserted for it (a foreign key check, FOR KEY SHARE) goes on."""
    if kernel.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its writers take turns")
    product = make_product()
    with kernel.engine.connect() as other:
        other.execute(sa.text("SELECT 1 FROM inventory_product WHERE id = :id FOR KEY SHARE"),
                      {"id": product})
        with kernel.context(system) as ctx:
            ctx.session.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
            receive(ctx, warehouse, product, Decimal("4"), Decimal("2.00"))
        other.rollback()
    assert stock(kernel, product, warehouse) == (Decimal(4), Decimal(0), Decimal(4))
