"""Reservations never oversell, even when many workers race for the last units."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa

from erp_inventory.catalogue import Product
from erp_inventory.exceptions import InsufficientStock
from erp_inventory.ledger import StockLevel
from erp_inventory.movements import receive
from erp_inventory.reservations import (
    Reservation,
    ReservationLine,
    ReservationState,
    release,
    reserve,
    ship_reserved,
)
from erp_sdk import PermissionDenied, Principal
from erp_sdk.testing import wait_for_lock_waiters


def level(kernel, product, warehouse):
    with kernel.transaction() as session:
        row = session.execute(sa.select(StockLevel.on_hand, StockLevel.reserved,
                                        StockLevel.available).where(
            StockLevel.product_id == product, StockLevel.warehouse_id == warehouse)).one()
        return tuple(row)


@pytest.fixture
def stocked(run, warehouse, make_product):
    def make(quantity: str, sku: str | None = None) -> int:
        product = make_product(sku)
        run(receive, warehouse, product, Decimal(quantity), Decimal("1.00"))
        return product
    return make


def test_reserving_moves_units_from_available_to_reserved(kernel, run, warehouse, stocked):
    product = stocked("10")
    run(reserve, warehouse, [ReservationLine(product, Decimal("4"), "doc:1")])
    assert level(kernel, product, warehouse) == (Decimal(10), Decimal(4), Decimal(6))


def test_one_missing_unit_refuses_the_whole_reservation_naming_product_and_shortfall(
        kernel, run, warehouse, stocked):
    tea, coffee = stocked("5", "TEA"), stocked("2", "COFFEE")
    with pytest.raises(InsufficientStock) as refused:
        run(reserve, warehouse, [ReservationLine(tea, Decimal("5"), "doc:1"),
                                 ReservationLine(coffee, Decimal("3"), "doc:1")])
    assert "insufficient stock" in refused.value.message
    assert "COFFEE short by 1" in refused.value.message
    assert refused.value.shortfalls == {"COFFEE": Decimal(1)}
    assert level(kernel, tea, warehouse) == (Decimal(5), Decimal(0), Decimal(5))


def test_releasing_gives_the_units_back(kernel, run, warehouse, stocked):
    product = stocked("10")
    run(reserve, warehouse, [ReservationLine(product, Decimal("4"), "doc:1")])
    assert run(release, origin="doc:1") == Decimal(4)
    assert level(kernel, product, warehouse) == (Decimal(10), Decimal(0), Decimal(10))
    assert run(release, origin="doc:1") == Decimal(0)


def test_shipping_consumes_the_reservation_and_takes_the_units_off_hand(
        kernel, run, warehouse, stocked):
    product = stocked("10")
    [reservation] = run(reserve, warehouse, [ReservationLine(product, Decimal("4"), "doc:1")])
    run(ship_reserved, reservation, Decimal("1"))
    assert level(kernel, product, warehouse) == (Decimal(9), Decimal(3), Decimal(6))
    run(ship_reserved, reservation)
    assert level(kernel, product, warehouse) == (Decimal(6), Decimal(0), Decimal(6))
    with kernel.transaction() as session:
        assert session.get(Reservation, reservation).state == ReservationState.CONSUMED


def test_reserving_needs_the_permission(run, warehouse, stocked):
    product = stocked("1")
    with pytest.raises(PermissionDenied, match=r"inventory\.stock\.reserve"):
        run(reserve, warehouse, [ReservationLine(product, Decimal("1"), "doc:1")],
            principal=Principal("nobody"))


def _race(kernel, workers: int, attempt) -> tuple[int, list[BaseException]]:
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work(index: int) -> bool:
        barrier.wait()
        try:
            with kernel.context(Principal.system()) as ctx:
                attempt(ctx, index)
            return True
        except InsufficientStock:
            return False
        except BaseException as exc:  # anything else is a bug (deadlock, constraint, ...)
            errors.append(exc)
            return False

    with ThreadPoolExecutor(max_workers=workers) as pool:
        succeeded = sum(pool.map(work, range(workers)))
    return succeeded, errors


def test_fifty_concurrent_workers_never_reserve_more_than_the_ten_in_stock(
        kernel, warehouse, stocked):
    product = stocked("10")

    def attempt(ctx, index):
        reserve(ctx, warehouse, [ReservationLine(product, Decimal(1), f"race:{index}")])

    succeeded, errors = _race(kernel, 50, attempt)
    assert errors == []
    assert succeeded == 10
    assert level(kernel, product, warehouse) == (Decimal(10), Decimal(10), Decimal(0))
    with kernel.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Reservation)) == 10


def test_documents_reserving_the_same_products_in_opposite_orders_do_not_deadlock(
        kernel, warehouse, stocked):
    first, second = stocked("100", "A"), stocked("100", "B")

    def attempt(ctx, index):
        lines = [ReservationLine(first, Decimal(1), f"d{index}"),
                 ReservationLine(second, Decimal(1), f"d{index}")]
        reserve(ctx, warehouse, lines if index % 2 else list(reversed(lines)))

    succeeded, errors = _race(kernel, 20, attempt)
    assert errors == []
    assert succeeded == 20
    assert level(kernel, first, warehouse)[1] == Decimal(20)
    assert level(kernel, second, warehouse)[1] == Decimal(20)


def test_available_can_never_go_negative_even_by_a_direct_update(kernel, warehouse, stocked):
    product = stocked("1")
    with pytest.raises(sa.exc.IntegrityError), kernel.transaction() as session:
        session.execute(sa.update(StockLevel).where(StockLevel.product_id == product)
                        .values(reserved=StockLevel.reserved + 2,
                                available=StockLevel.available - 2))


def test_a_refused_reservation_leaves_nothing_behind_in_the_callers_transaction(
        kernel, warehouse, stocked):
    tea, coffee = stocked("5", "TEA"), stocked("1", "COFFEE")
    with kernel.context(Principal.system()) as ctx:  # noqa: SIM117  (the context must commit)
        with pytest.raises(InsufficientStock):
            reserve(ctx, warehouse, [ReservationLine(tea, Decimal(2), "doc:1"),
                                     ReservationLine(coffee, Decimal(2), "doc:1")])
        # the caller goes on in the same transaction (e.g. to try another warehouse), commits
    assert level(kernel, tea, warehouse) == (Decimal(5), Decimal(0), Decimal(5))
    with kernel.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Reservation)) == 0


def test_every_product_short_is_named_and_nothing_is_reserved(kernel, run, warehouse, stocked):
    tea, coffee, sugar = stocked("5", "TEA"), stocked("2", "COFFEE"), stocked("1", "SUGAR")
    with pytest.raises(InsufficientStock) as refused:
        run(reserve, warehouse, [ReservationLine(tea, Decimal("4"), "doc:1"),
                                 ReservationLine(coffee, Decimal("3"), "doc:1"),
                                 ReservationLine(sugar, Decimal("4"), "doc:1")])
    assert refused.value.shortfalls == {"COFFEE": Decimal(1), "SUGAR": Decimal(3)}
    for product, quantity in ((tea, 5), (coffee, 2), (sugar, 1)):
        assert level(kernel, product, warehouse) == (Decimal(quantity), 0, Decimal(quantity))


def test_documents_of_several_products_racing_for_the_last_units_never_oversell(
        kernel, warehouse, stocked):
    first, second, third = stocked("7", "A"), stocked("5", "B"), stocked("100", "C")

    def attempt(ctx, index):
        lines = [ReservationLine(product, Decimal(1), f"d{index}")
                 for product in (first, second, third)]
        reserve(ctx, warehouse, lines[index % 3:] + lines[:index % 3])

    succeeded, errors = _race(kernel, 24, attempt)
    assert errors == []
    assert succeeded == 5  # the second product runs out first; a refused document holds none
    assert level(kernel, first, warehouse) == (Decimal(7), Decimal(5), Decimal(2))
    assert level(kernel, second, warehouse) == (Decimal(5), Decimal(5), Decimal(0))
    assert level(kernel, third, warehouse) == (Decimal(100), Decimal(5), Decimal(95))


def test_reserving_many_products_costs_no_statement_per_product_on_postgresql(
        kernel, warehouse, stocked):
    from test_shipping import count_statements

    products = [stocked("10") for _ in range(4)]

    def statements(count: int) -> int:
        return count_statements(kernel, reserve, warehouse, [
            ReservationLine(product, Decimal(1), f"n{count}") for product in products[:count]])

    one, four = statements(1), statements(4)
    per_product = 0 if kernel.engine.dialect.name == "postgresql" else 1
    assert four == one + 3 * per_product


def _while_waiting(kernel, holder_work, waiter_work) -> list[object]:
    """Run ``holder_work(ctx)`` in a transaction that stays open until ``waiter_work(ctx)``,
    in another thread and transaction, waits for a row lock; then commit the holder.
    Returns what the waiter returned or raised."""
    if kernel.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its writers take turns")
    outcome: list[object] = []

    def wait() -> None:
        try:
            with kernel.context(Principal.system()) as ctx:
                outcome.append(waiter_work(ctx))
        except Exception as exc:  # returned to the test
            outcome.append(exc)

    with kernel.context(Principal.system()) as holder:
        holder_work(holder)
        waiter = threading.Thread(target=wait)
        waiter.start()
        wait_for_lock_waiters(kernel)
    waiter.join(30)
    return outcome


def test_a_reservation_waiting_for_a_release_takes_the_units_it_frees(
        kernel, warehouse, stocked):
    """The stock rows' conditions and new figures come from the rows as the lock leaves
    them, not as the statement's snapshot saw them."""
    tea, coffee = stocked("5", "TEA"), stocked("5", "COFFEE")
    with kernel.context(Principal.system()) as ctx:
        reserve(ctx, warehouse, [ReservationLine(tea, Decimal(5), "first")])
    outcome = _while_waiting(
        kernel, lambda holder: release(holder, origin="first"),
        lambda ctx: len(reserve(ctx, warehouse, [ReservationLine(tea, Decimal(5), "second"),
                                                 ReservationLine(coffee, Decimal(1), "second")])))
    assert outcome == [2]
    assert level(kernel, tea, warehouse) == (Decimal(5), Decimal(5), Decimal(0))


def test_a_reservation_waiting_for_a_rival_that_took_the_units_is_refused_whole(
        kernel, warehouse, stocked):
    tea, coffee = stocked("5", "TEA"), stocked("5", "COFFEE")
    outcome = _while_waiting(
        kernel, lambda holder: reserve(holder, warehouse, [
            ReservationLine(tea, Decimal(4), "rival")]),
        lambda ctx: reserve(ctx, warehouse, [ReservationLine(tea, Decimal(2), "late"),
                                             ReservationLine(coffee, Decimal(1), "late")]))
    assert len(outcome) == 1 and isinstance(outcome[0], InsufficientStock)
    assert outcome[0].shortfalls == {"TEA": Decimal(1)}
    assert level(kernel, tea, warehouse) == (Decimal(5), Decimal(4), Decimal(1))
    assert level(kernel, coffee, warehouse) == (Decimal(5), Decimal(0), Decimal(5))


def test_a_move_waiting_for_a_location_emptied_meanwhile_is_refused(kernel, warehouse,
                                                                     stocked):
    """Each source location's balance is checked on the row as the lock leaves it: two
    moves of the same units out of one location cannot both pass (on PostgreSQL one
    statement locks, checks and adds)."""
    from erp_inventory.ledger import Balance, Ledger
    from erp_inventory.warehouses import warehouse_location

    tea = stocked("10", "TEA")
    with kernel.context(Principal.system()) as ctx:
        storage = warehouse_location(ctx.session, warehouse).id
        shelf = ctx.records("inventory.location").create(
            {"code": "W-SHELF", "name": "Shelf", "kind": "storage",
             "warehouse_id": warehouse})["id"]

    def move_all(ctx) -> int:
        product = ctx.session.get(Product, tea)
        return Ledger(ctx.session).post(product, Decimal(10), storage, shelf)[0]

    outcome = _while_waiting(kernel, move_all, move_all)
    assert len(outcome) == 1 and isinstance(outcome[0], InsufficientStock), outcome
    assert "TEA short by 10" in str(outcome[0])
    with kernel.context(Principal.system()) as ctx:
        balances = dict(ctx.session.execute(sa.select(Balance.location_id, Balance.quantity)
                                            .where(Balance.product_id == tea,
                                                   Balance.location_id.in_([storage, shelf]))
                                            ).all())
    assert balances == {storage: Decimal(0), shelf: Decimal(10)}
