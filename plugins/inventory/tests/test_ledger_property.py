"""A property: whatever sequence of stock operations runs, availability never goes
negative and the cached balances and stock levels equal what the ledger says."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ledger import assert_caches_match_ledger

from erp_inventory.exceptions import InsufficientStock
from erp_inventory.movements import adjust, receive
from erp_inventory.reservations import Reservation, ReservationLine, release, reserve, ship_reserved
from erp_sdk import ConflictError, ValidationError

quantities = st.integers(min_value=1, max_value=20).map(Decimal)
operations = st.lists(st.one_of(
    st.tuples(st.just("receive"), st.integers(0, 1), st.integers(0, 1), quantities),
    st.tuples(st.just("reserve"), st.integers(0, 1), st.integers(0, 1), quantities),
    st.tuples(st.just("release"), st.integers(0, 1), st.integers(0, 1), quantities),
    st.tuples(st.just("ship"), st.integers(0, 1), st.integers(0, 1), quantities),
    st.tuples(st.just("adjust"), st.integers(0, 1), st.integers(0, 1),
              st.integers(-15, 15).map(Decimal)),
    st.tuples(st.just("transfer"), st.integers(0, 1), st.integers(0, 1), quantities),
), min_size=1, max_size=25)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=operations)
def test_random_operations_keep_the_ledger_and_its_caches_consistent(
        kernel, warehouse, other_warehouse, make_product, steps):
    products = [make_product(), make_product()]
    warehouses = [warehouse, other_warehouse]
    for number, (op, p, w, quantity) in enumerate(steps):
        product, place = products[p], warehouses[w]
        try:
            with kernel.context() as ctx:
                if op == "receive":
                    receive(ctx, place, product, quantity, Decimal("1.25"))
                elif op == "reserve":
                    reserve(ctx, place, [ReservationLine(product, quantity, f"p:{number}")])
                elif op == "release":
                    release(ctx, ids=[r.id for r in ctx.session.query(Reservation).filter_by(
                        product_id=product, warehouse_id=place, state="active").limit(1)])
                elif op == "ship":
                    active = ctx.session.query(Reservation).filter_by(
                        product_id=product, warehouse_id=place, state="active").first()
                    if active:
                        ship_reserved(ctx, active.id, min(quantity, active.remaining))
                elif op == "adjust":
                    adjust(ctx, place, product, quantity, "property")
                else:
                    transfer = ctx.records("inventory.transfer").create(
                        {"from_warehouse_id": place, "to_warehouse_id": warehouses[1 - w]})
                    ctx.records("inventory.transfer_line").create(
                        {"transfer_id": transfer["id"], "product_id": product,
                         "quantity": str(quantity)})
                    ctx.fire("inventory.transfer", transfer["id"], "ship")
                    if number % 2:
                        ctx.fire("inventory.transfer", transfer["id"], "receive")
        except (InsufficientStock, ConflictError, ValidationError):
            pass  # refused operations change nothing; the checks below prove it
        assert_caches_match_ledger(kernel)
