"""Splitting and merging orders (ORD-3): quantities, money and reservations stay exact."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from erp_core.api import create_app
from erp_core.events.outbox import OutboxEvent
from erp_core.kernel import Kernel
from erp_core.security.accounts import create_token, create_user
from erp_inventory.ledger import StockLevel
from erp_inventory.movements import receive
from erp_inventory.reservations import Reservation
from erp_orders.fulfilment import line_origin
from erp_orders.money import line_amounts
from erp_orders.order import Order, OrderLine
from erp_orders.placing import LineRequest, OrderRequest, place_order
from erp_orders.split_merge import (
    LineNeed,
    LineSplit,
    Unservable,
    merge_orders,
    merged_orders,
    plan_by_availability,
    split_by_availability,
    split_discount,
    split_order,
)
from erp_orders.timeline import order_timeline
from erp_sdk import ConflictError, PermissionDenied, Principal, ValidationError

D = Decimal
CLERK = Principal("clerk", permissions={"orders.order.read", "orders.order.create",
                                        "orders.order.confirm"})


# -- helpers --------------------------------------------------------------------------

def place(kernel: Kernel, shop: dict[str, int], *lines: tuple[str | int, str], **extra: Any
          ) -> int:
    """Place an order of ``(product, quantity)`` lines, or of ``LineRequest``s."""
    requests = [line if isinstance(line, LineRequest) else
                LineRequest(shop[line[0]] if isinstance(line[0], str) else line[0], D(line[1]))
                for line in lines]
    with kernel.context() as ctx:
        order_id, _ = place_order(ctx, OrderRequest(
            channel_id=extra.pop("channel", shop["channel"]),
            customer_id=extra.pop("customer", shop["customer"]), lines=requests, **extra))
    return order_id


def fire(kernel: Kernel, order_id: int, transition: str, data: Any = None) -> dict[str, Any]:
    with kernel.context() as ctx:
        return ctx.fire("orders.order", order_id, transition, data)


def order(kernel: Kernel, order_id: int) -> dict[str, Any]:
    with kernel.context() as ctx:
        return ctx.records("orders.order").get(order_id)


def lines_of(kernel: Kernel, order_id: int) -> list[OrderLine]:
    with kernel.transaction() as session:
        return list(session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order_id)
                                    .order_by(OrderLine.id)))


def line_by_sku(kernel: Kernel, order_id: int, sku: str) -> OrderLine:
    return next(line for line in lines_of(kernel, order_id) if line.sku == sku)


def stock(kernel: Kernel, product: int, warehouse: int) -> tuple[Decimal, Decimal]:
    """(reserved, available) of a product in a warehouse."""
    with kernel.transaction() as session:
        row = session.execute(sa.select(StockLevel.reserved, StockLevel.available).where(
            StockLevel.product_id == product, StockLevel.warehouse_id == warehouse)).first()
        return (row[0], row[1]) if row else (D(0), D(0))


def held(kernel: Kernel, line_id: int) -> tuple[Decimal, int | None]:
    """(units the line's active reservations hold, their warehouse)."""
    with kernel.transaction() as session:
        rows = session.execute(sa.select(Reservation.remaining, Reservation.warehouse_id).where(
            Reservation.origin == line_origin(line_id), Reservation.state == "active")).all()
    return sum((r[0] for r in rows), D(0)), (rows[0][1] if rows else None)


def split(kernel: Kernel, order_id: int, *moves: tuple[int, str],
          principal: Principal | None = None) -> Any:
    with kernel.context(principal) as ctx:
        return split_order(ctx, order_id, [LineSplit(line, D(q)) for line, q in moves])


def merge(kernel: Kernel, *order_ids: int, into: int | None = None,
          principal: Principal | None = None) -> Any:
    with kernel.context(principal) as ctx:
        return merge_orders(ctx, order_ids, into)


def timeline(kernel: Kernel, order_id: int) -> list[str]:
    with kernel.context() as ctx:
        return [e["action"] for e in order_timeline(ctx, order_id)
                if e["entity"] == "orders.order"]


def orders_count(kernel: Kernel) -> int:
    with kernel.transaction() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Order))


@pytest.fixture
def stock_up(kernel: Kernel) -> Callable[[int, int, str], None]:
    def add(warehouse: int, product: int, quantity: str) -> None:
        with kernel.context() as ctx:
            receive(ctx, warehouse, product, D(quantity), D("1.00"))

    return add


@pytest.fixture
def client(kernel: Kernel) -> Iterator[Callable[..., TestClient]]:
    """``client(role)``: an HTTP client acting as a new user with that role."""
    opened: list[TestClient] = []

    def open_client(role: str = "orders.manager") -> TestClient:
        name = f"user{len(opened) + 1}"
        with kernel.transaction() as session:
            create_user(session, name, [role])
            _token, secret = create_token(session, name)
        http = TestClient(create_app(kernel))
        http.__enter__()
        http.headers["Authorization"] = f"Bearer {secret}"
        opened.append(http)
        return http

    yield open_client
    for http in opened:
        http.__exit__(None, None, None)


# -- split by hand --------------------------------------------------------------------

def test_splitting_a_draft_moves_the_chosen_quantities_to_a_new_draft_for_the_same_customer(
        kernel, shop):
    source = place(kernel, shop, ("tea", "3"), ("mug", "2"), shipping_amount=D("4.90"),
                   notes="ring twice", external_reference="web-77")
    tea = line_by_sku(kernel, source, "TEA-1")
    result = split(kernel, source, (tea.id, "1"))
    new, old = order(kernel, result.order_id), order(kernel, source)
    assert (new["state"], new["split_from_id"], new["customer_id"], new["channel_id"]) == (
        "draft", source, shop["customer"], shop["channel"])
    assert (new["ship_line1"], new["ship_city"], new["bill_line1"], new["currency"],
            new["warehouse_id"], new["notes"]) == (old["ship_line1"], "Paris",
                                                   old["bill_line1"], "EUR", shop["warehouse"],
                                                   "ring twice")
    assert new["external_reference"] is None and new["number"].startswith("SO-")
    assert [(ln.sku, ln.quantity) for ln in lines_of(kernel, result.order_id)] == [
        ("TEA-1", D(1))]
    assert [(ln.sku, ln.quantity) for ln in lines_of(kernel, source)] == [
        ("TEA-1", D(2)), ("MUG-1", D(2))]
    assert (new["total"], old["total"]) == ("4.2000", "38.3000")  # shipping stays on source
    assert result.rounding_difference == 0


def test_a_cut_line_discount_is_split_proportionally_to_the_cent_and_adds_up_exactly(
        kernel, shop):
    assert split_discount(D("1.00"), D(3), D(1)) == D("0.33")
    assert split_discount(D("1.00"), D(3), D(2)) == D("0.67")
    assert split_discount(D("0.05"), D(2), D(1)) == D("0.03")  # half up
    source = place(kernel, shop, LineRequest(shop["tea"], D(3), D("4.20"), D("1.00")))
    [line] = lines_of(kernel, source)
    result = split(kernel, source, (line.id, "1"))
    [moved], [kept] = lines_of(kernel, result.order_id), lines_of(kernel, source)
    assert (moved.discount, kept.discount) == (D("0.33"), D("0.67"))
    assert (moved.line_total, kept.line_total) == (D("3.87"), D("7.73"))
    assert D(order(kernel, source)["total"]) + D(order(kernel, result.order_id)["total"]) == \
        D("11.60")


def test_splitting_a_confirmed_order_moves_its_reservations_with_the_quantities(kernel, shop):
    source = place(kernel, shop, ("tea", "5"), ("mug", "2"))
    fire(kernel, source, "confirm")
    before = stock(kernel, shop["tea"], shop["warehouse"]), stock(kernel, shop["mug"],
                                                                  shop["warehouse"])
    tea = line_by_sku(kernel, source, "TEA-1")
    result = split(kernel, source, (tea.id, "2"))
    assert order(kernel, result.order_id)["state"] == "confirmed"
    assert (stock(kernel, shop["tea"], shop["warehouse"]),
            stock(kernel, shop["mug"], shop["warehouse"])) == before == (
        (D(5), D(5)), (D(2), D(8)))
    [moved] = lines_of(kernel, result.order_id)
    assert held(kernel, tea.id) == (D(3), shop["warehouse"])
    assert held(kernel, moved.id) == (D(2), shop["warehouse"])


def test_a_line_moved_whole_keeps_its_row_and_its_reservation(kernel, shop):
    source = place(kernel, shop, ("tea", "2"), ("mug", "1"))
    fire(kernel, source, "confirm")
    mug = line_by_sku(kernel, source, "MUG-1")
    with kernel.transaction() as session:
        reservation_ids = set(session.scalars(sa.select(Reservation.id)))
    result = split(kernel, source, (mug.id, "1"))
    assert [line.id for line in lines_of(kernel, result.order_id)] == [mug.id]
    assert held(kernel, mug.id) == (D(1), shop["warehouse"])
    with kernel.transaction() as session:
        assert set(session.scalars(sa.select(Reservation.id).where(
            Reservation.state == "active"))) == reservation_ids


def test_the_part_split_from_an_order_in_review_or_on_hold_is_in_the_same_state(kernel, shop):
    with kernel.context() as ctx:
        ctx.records("orders.review_policy").create({"rule": "large_amount", "threshold": "20"})
    in_review = place(kernel, shop, ("mug", "2"))
    fire(kernel, in_review, "confirm")
    result = split(kernel, in_review, (lines_of(kernel, in_review)[0].id, "1"))
    part = order(kernel, result.order_id)
    assert (part["state"], part["review_reasons"]) == (
        "review", order(kernel, in_review)["review_reasons"])
    assert stock(kernel, shop["mug"], shop["warehouse"]) == (D(0), D(10))
    on_hold = place(kernel, shop, ("tea", "2"))
    fire(kernel, on_hold, "confirm")
    fire(kernel, on_hold, "hold")
    held_part = split(kernel, on_hold, (lines_of(kernel, on_hold)[0].id, "1"))
    assert order(kernel, held_part.order_id)["state"] == "on_hold"
    assert held(kernel, lines_of(kernel, held_part.order_id)[0].id)[0] == D(1)
    assert stock(kernel, shop["tea"], shop["warehouse"]) == (D(2), D(8))


def test_a_split_reports_the_cent_that_per_line_tax_rounding_changes(kernel, shop):
    source = place(kernel, shop, LineRequest(shop["mug"], D(3), D("19.99"), tax_rate=D("0.2")))
    assert order(kernel, source)["tax_total"] == "11.9900"  # 59.97 x 20 % = 11.994
    result = split(kernel, source, (lines_of(kernel, source)[0].id, "1"))
    assert (order(kernel, source)["tax_total"], order(kernel, result.order_id)["tax_total"]) \
        == ("8.0000", "4.0000")
    assert result.rounding_difference == D("0.01")
    with kernel.context() as ctx:
        [entry] = [e for e in order_timeline(ctx, source) if e["action"] == "split"]
    assert entry["changes"]["rounding_difference"]["new"] == "0.0100"
    with kernel.transaction() as session:
        [payload] = session.scalars(sa.select(OutboxEvent.payload).where(
            OutboxEvent.name == "orders.order.split"))
    assert (payload["order_id"], payload["rounding_difference"]) == (result.order_id, "0.0100")


def test_splitting_refuses_a_quantity_beyond_the_line_or_the_whole_order(kernel, shop):
    source = place(kernel, shop, ("tea", "2"), ("mug", "1"))
    tea, mug = lines_of(kernel, source)
    with pytest.raises(ValidationError, match="has 2 units"):
        split(kernel, source, (tea.id, "3"))
    with pytest.raises(ValidationError, match="has 2 units"):
        split(kernel, source, (tea.id, "0"))
    with pytest.raises(ValidationError, match="leave at least one unit"):
        split(kernel, source, (tea.id, "2"), (mug.id, "1"))
    with pytest.raises(ValidationError, match="not on order"):
        split(kernel, source, (tea.id + 1000, "1"))
    assert orders_count(kernel) == 1


def test_an_order_that_started_shipping_cannot_be_split(kernel, shop):
    source = place(kernel, shop, ("tea", "2"))
    fire(kernel, source, "confirm")
    [line] = lines_of(kernel, source)
    fire(kernel, source, "ship", {"lines": [{"line_id": line.id, "quantity": "1"}]})
    with pytest.raises(ConflictError, match="only an unshipped order"):
        split(kernel, source, (line.id, "1"))


def test_splitting_needs_the_split_permission(kernel, shop):
    source = place(kernel, shop, ("tea", "2"))
    with pytest.raises(PermissionDenied, match=r"orders\.order\.split"):
        split(kernel, source, (lines_of(kernel, source)[0].id, "1"), principal=CLERK)


def test_a_split_that_finds_the_reserved_stock_gone_changes_nothing(kernel, shop):
    source = place(kernel, shop, ("tea", "3"))
    fire(kernel, source, "confirm")
    [line] = lines_of(kernel, source)
    with kernel.transaction() as session:  # a broken reservation, and no stock to spare
        session.execute(sa.update(Reservation).values(state="released", remaining=0))
        session.execute(sa.update(StockLevel).where(StockLevel.product_id == shop["tea"])
                        .values(reserved=StockLevel.on_hand, available=0))
    with pytest.raises(ConflictError, match="TEA-1 short by"):
        split(kernel, source, (line.id, "1"))
    assert orders_count(kernel) == 1
    assert lines_of(kernel, source)[0].quantity == D(3)


def test_splits_racing_confirmations_for_the_last_units_never_oversell(kernel, shop):
    big = place(kernel, shop, ("tea", "6"))
    fire(kernel, big, "confirm")
    [line] = lines_of(kernel, big)
    rivals = [place(kernel, shop, ("tea", "2")) for _ in range(4)]  # 8 wanted, 4 left
    barrier = threading.Barrier(len(rivals) + 1)

    def confirm(order_id: int) -> str:
        barrier.wait()
        try:
            return fire(kernel, order_id, "confirm")["state"]
        except ConflictError:
            return "refused"

    def split_big() -> str:
        barrier.wait()
        return str(split(kernel, big, (line.id, "3")).order_id)

    with ThreadPoolExecutor(max_workers=len(rivals) + 1) as pool:
        outcomes = [pool.submit(confirm, rival) for rival in rivals]
        new = int(pool.submit(split_big).result())
    assert sorted(outcome.result() for outcome in outcomes) == [
        "confirmed", "confirmed", "refused", "refused"]
    assert stock(kernel, shop["tea"], shop["warehouse"]) == (D(10), D(0))
    assert (held(kernel, line.id)[0], held(kernel, lines_of(kernel, new)[0].id)[0]) == (
        D(3), D(3))


def test_both_timelines_show_the_split(kernel, shop):
    source = place(kernel, shop, ("tea", "2"))
    fire(kernel, source, "confirm")
    result = split(kernel, source, (lines_of(kernel, source)[0].id, "1"))
    assert timeline(kernel, source) == ["created", "confirm", "approve", "split"]
    assert timeline(kernel, result.order_id) == ["created", "split_from"]


# -- split by warehouse availability --------------------------------------------------

def test_the_availability_plan_prefers_the_warehouse_serving_the_most_lines_in_full():
    needs = [LineNeed(1, 10, D(2)), LineNeed(2, 20, D(2)), LineNeed(3, 30, D(2))]
    available = {1: {10: D(5)}, 2: {20: D(5), 30: D(5), 10: D(1)}}
    assert plan_by_availability(needs, available, home=1) == {
        2: {2: D(2), 3: D(2)}, 1: {1: D(2)}}


def test_the_availability_plan_cuts_a_line_only_when_no_warehouse_holds_it_whole():
    plan = plan_by_availability([LineNeed(1, 10, D(8))], {1: {10: D(5)}, 2: {10: D(6)}}, 1)
    assert plan == {2: {1: D(6)}, 1: {1: D(2)}}
    with pytest.raises(Unservable):
        plan_by_availability([LineNeed(1, 10, D(12))], {1: {10: D(5)}, 2: {10: D(6)}}, 1)


def test_a_draft_is_split_into_one_order_per_warehouse_that_can_serve_it(
        kernel, shop, other_warehouse, make_product, stock_up):
    cup, pot = make_product("CUP-1"), make_product("POT-1")
    stock_up(other_warehouse, cup, "5")
    stock_up(other_warehouse, pot, "5")
    source = place(kernel, shop, ("tea", "2"), (cup, "2"), (pot, "2"))
    with kernel.context() as ctx:
        result = split_by_availability(ctx, source)
    [new] = result.created_ids
    assert result.order_ids == (source, new)
    assert result.warehouses == {source: shop["warehouse"], new: other_warehouse}
    assert [ln.sku for ln in lines_of(kernel, source)] == ["TEA-1"]
    assert [ln.sku for ln in lines_of(kernel, new)] == ["CUP-1", "POT-1"]
    assert (order(kernel, new)["warehouse_id"], order(kernel, new)["split_from_id"],
            order(kernel, new)["state"]) == (other_warehouse, source, "draft")
    assert fire(kernel, new, "confirm")["state"] == "confirmed"
    assert fire(kernel, source, "confirm")["state"] == "confirmed"


def test_a_line_is_cut_across_warehouses_when_none_holds_it_whole(
        kernel, shop, other_warehouse, stock_up):
    stock_up(other_warehouse, shop["tea"], "5")
    source = place(kernel, shop, LineRequest(shop["tea"], D(13), discount=D("1.00")))
    with kernel.context() as ctx:
        result = split_by_availability(ctx, source)
    [new] = result.created_ids
    assert [ln.quantity for ln in lines_of(kernel, source)] == [D(10)]
    assert [(ln.quantity, ln.discount) for ln in lines_of(kernel, new)] == [(D(3), D("0.23"))]
    assert lines_of(kernel, source)[0].discount == D("0.77")
    assert D(order(kernel, source)["total"]) + D(order(kernel, new)["total"]) == D("53.60")


def test_an_order_whose_warehouse_has_nothing_moves_to_one_that_has(
        kernel, shop, other_warehouse, make_product, stock_up):
    cup = make_product("CUP-1")
    stock_up(other_warehouse, cup, "5")
    source = place(kernel, shop, (cup, "2"))
    with kernel.context() as ctx:
        result = split_by_availability(ctx, source)
    assert (result.order_ids, result.created_ids) == ((source,), ())
    assert order(kernel, source)["warehouse_id"] == other_warehouse
    assert timeline(kernel, source) == ["created", "allocated"]


def test_an_order_its_warehouse_serves_in_full_is_left_as_it_is(kernel, shop):
    source = place(kernel, shop, ("tea", "2"))
    version = order(kernel, source)["version"]
    with kernel.context() as ctx:
        result = split_by_availability(ctx, source)
    assert (result.order_ids, result.created_ids) == ((source,), ())
    assert order(kernel, source)["version"] == version


def test_splitting_by_availability_refuses_when_no_combination_can_serve_the_order(
        kernel, shop, other_warehouse, stock_up):
    stock_up(other_warehouse, shop["tea"], "2")
    source = place(kernel, shop, ("tea", "15"), ("mug", "3"))
    with pytest.raises(ConflictError, match=r"no combination of warehouses can serve order"
                                            r" SO-\d+: TEA-1 short by 3"), kernel.context() as ctx:
        split_by_availability(ctx, source)
    assert orders_count(kernel) == 1


def test_only_a_draft_is_split_by_availability(kernel, shop):
    source = place(kernel, shop, ("tea", "2"))
    fire(kernel, source, "confirm")
    with pytest.raises(ConflictError, match="only a draft"), kernel.context() as ctx:
        split_by_availability(ctx, source)


# -- merge ----------------------------------------------------------------------------

def test_merging_moves_every_line_and_the_shipping_into_the_oldest_order_to_the_cent(
        kernel, shop):
    first = place(kernel, shop, ("tea", "1"), shipping_amount=D("4.90"))
    second = place(kernel, shop, ("tea", "2"), ("mug", "1"), shipping_amount=D("2.50"))
    totals = D(order(kernel, first)["total"]) + D(order(kernel, second)["total"])
    result = merge(kernel, second, first)
    assert (result.order_id, result.merged_ids) == (first, (second,))
    survivor = order(kernel, first)
    assert D(survivor["total"]) == totals == D("32.50")
    assert D(survivor["shipping_amount"]) == D("7.40")
    assert [(ln.sku, ln.quantity) for ln in lines_of(kernel, first)] == [
        ("TEA-1", D(1)), ("TEA-1", D(2)), ("MUG-1", D(1))]  # lines are kept as they were
    gone = order(kernel, second)
    assert (gone["state"], gone["merged_into_id"], gone["total"]) == ("merged", first, "0.0000")
    assert lines_of(kernel, second) == []


def test_merging_confirmed_orders_keeps_every_reservation_exact(kernel, shop):
    first, second = place(kernel, shop, ("tea", "2")), place(kernel, shop, ("tea", "3"),
                                                             ("mug", "1"))
    fire(kernel, first, "confirm")
    fire(kernel, second, "confirm")
    before = stock(kernel, shop["tea"], shop["warehouse"]), stock(kernel, shop["mug"],
                                                                  shop["warehouse"])
    merge(kernel, first, second, into=second)
    assert (stock(kernel, shop["tea"], shop["warehouse"]),
            stock(kernel, shop["mug"], shop["warehouse"])) == before == (
        (D(5), D(5)), (D(1), D(9)))
    for line in lines_of(kernel, second):
        assert held(kernel, line.id) == (line.quantity, shop["warehouse"])
    assert order(kernel, second)["state"] == "confirmed"


def test_lines_from_another_warehouse_are_reserved_again_in_the_survivors(
        kernel, shop, other_warehouse, stock_up):
    stock_up(other_warehouse, shop["tea"], "5")
    here = place(kernel, shop, ("tea", "1"))
    there = place(kernel, shop, ("tea", "4"), warehouse_id=other_warehouse)
    fire(kernel, here, "confirm")
    fire(kernel, there, "confirm")
    merge(kernel, here, there)
    assert stock(kernel, shop["tea"], shop["warehouse"]) == (D(5), D(5))
    assert stock(kernel, shop["tea"], other_warehouse) == (D(0), D(5))
    moved = lines_of(kernel, here)[1]
    assert held(kernel, moved.id) == (D(4), shop["warehouse"])


def test_a_merge_the_survivors_warehouse_cannot_serve_changes_nothing(
        kernel, shop, other_warehouse, stock_up):
    stock_up(other_warehouse, shop["tea"], "20")
    here = place(kernel, shop, ("tea", "1"))
    there = place(kernel, shop, ("tea", "12"), warehouse_id=other_warehouse)
    fire(kernel, here, "confirm")
    fire(kernel, there, "confirm")
    with pytest.raises(ConflictError, match="TEA-1 short by 3"):
        merge(kernel, here, there)
    assert order(kernel, there)["state"] == "confirmed"
    assert stock(kernel, shop["tea"], other_warehouse) == (D(12), D(8))
    assert len(lines_of(kernel, here)) == 1


def test_merged_orders_end_their_timelines_with_the_merge(kernel, shop):
    first, second = place(kernel, shop, ("tea", "1")), place(kernel, shop, ("mug", "1"))
    fire(kernel, first, "confirm")
    fire(kernel, second, "confirm")
    merge(kernel, first, second)
    assert timeline(kernel, second) == ["created", "confirm", "approve", "merge"]
    assert timeline(kernel, first)[-1] == "merged_in"
    with kernel.context() as ctx:
        [entry] = [e for e in order_timeline(ctx, second) if e["action"] == "merge"]
    assert entry["changes"]["merged_into_id"]["new"] == first


def test_the_survivor_shows_the_external_references_of_the_orders_merged_into_it(kernel, shop):
    first = place(kernel, shop, ("tea", "1"), external_reference="web-1")
    second = place(kernel, shop, ("tea", "1"), external_reference="web-2", notes="gift wrap")
    third = place(kernel, shop, ("tea", "1"), external_reference="web-3")
    merge(kernel, second, third, into=second)
    merge(kernel, first, second)
    notes = order(kernel, first)["notes"]
    assert "web-2" in notes and "web-3" in notes and "gift wrap" in notes
    with kernel.context() as ctx:
        references = [(o["id"], o["external_reference"]) for o in merged_orders(ctx, first)]
    assert references == [(second, "web-2"), (third, "web-3")]
    assert order(kernel, first)["external_reference"] == "web-1"


@pytest.mark.parametrize("difference", ["customer", "shipping address", "state", "channel"])
def test_only_orders_of_one_customer_channel_address_and_state_are_merged(
        kernel, shop, difference):
    first = place(kernel, shop, ("tea", "1"))
    extra: dict[str, Any] = {}
    with kernel.context() as ctx:
        if difference == "customer":
            extra["customer"] = ctx.records("crm.customer").create(
                {"name": "Bob", "kind": "person"})["id"]
        if difference == "channel":
            extra["channel"] = ctx.records("orders.channel").create(
                {"code": "market", "name": "Market", "kind": "marketplace",
                 "warehouse_id": shop["warehouse"], "settings": {}, "secrets": {}})["id"]
    if difference == "shipping address":
        extra["shipping_address"] = {"line1": "2 Side St", "city": "Lyon", "country": "FR"}
    second = place(kernel, shop, ("tea", "1"), **extra)
    if difference == "state":
        fire(kernel, second, "confirm")
    with pytest.raises(ConflictError, match=f"differ in {difference}"):
        merge(kernel, first, second)
    assert order(kernel, second)["merged_into_id"] is None


def test_merging_refuses_an_order_that_started_shipping(kernel, shop):
    first, second = place(kernel, shop, ("tea", "2")), place(kernel, shop, ("tea", "1"))
    fire(kernel, first, "confirm")
    fire(kernel, second, "confirm")
    [line] = lines_of(kernel, first)
    fire(kernel, first, "ship", {"lines": [{"line_id": line.id, "quantity": "1"}]})
    with pytest.raises(ConflictError, match="only an unshipped order"):
        merge(kernel, first, second)


def test_merging_needs_the_merge_permission_and_two_orders(kernel, shop):
    first, second = place(kernel, shop, ("tea", "1")), place(kernel, shop, ("tea", "1"))
    with pytest.raises(PermissionDenied, match=r"orders\.order\.merge"):
        merge(kernel, first, second, principal=CLERK)
    with pytest.raises(ValidationError, match="at least two"):
        merge(kernel, first, first)
    with pytest.raises(ValidationError, match="not among the orders"):
        merge(kernel, first, second, into=second + 1)


# -- over HTTP ------------------------------------------------------------------------

def test_splitting_over_http(kernel, shop, client):
    source = place(kernel, shop, ("tea", "3"), ("mug", "1"))
    http = client()
    fire(kernel, source, "confirm")
    tea = line_by_sku(kernel, source, "TEA-1")
    response = http.post(f"/api/v1/orders/orders/{source}/split",
                         json={"lines": [{"line_id": tea.id, "quantity": "1"}]})
    assert response.status_code == 201, response.text
    body = response.json()
    new = body["order"]
    assert response.headers["location"] == f"/api/v1/orders/orders/{new['id']}"
    assert (new["state"], new["split_from_id"], new["total"]) == ("confirmed", source, "4.2000")
    assert (body["source"]["total"], body["rounding_difference"]) == ("20.9000", "0.0000")
    assert stock(kernel, shop["tea"], shop["warehouse"]) == (D(3), D(7))
    got = http.get(f"/api/v1/orders/orders/{new['id']}").json()
    assert got["split_from_id"] == source


def test_an_invalid_split_over_http_is_a_problem_naming_the_line(kernel, shop, client):
    source = place(kernel, shop, ("tea", "3"))
    [line] = lines_of(kernel, source)
    response = client().post(f"/api/v1/orders/orders/{source}/split",
                             json={"lines": [{"line_id": line.id, "quantity": "5"}]})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "has 3 units" in response.json()["detail"]


def test_splitting_and_merging_over_http_need_their_permissions(kernel, shop, client):
    source = place(kernel, shop, ("tea", "3"))
    http = client("orders.clerk")
    [line] = lines_of(kernel, source)
    assert http.post(f"/api/v1/orders/orders/{source}/split",
                     json={"lines": [{"line_id": line.id, "quantity": "1"}]}).status_code == 403
    assert http.post(f"/api/v1/orders/orders/{source}/split-by-availability"
                     ).status_code == 403
    assert http.post("/api/v1/orders/merge", json={"order_ids": [source, source]}
                     ).status_code == 403


def test_splitting_by_availability_over_http(kernel, shop, other_warehouse, stock_up, client):
    stock_up(other_warehouse, shop["mug"], "4")
    source = place(kernel, shop, ("tea", "1"), ("mug", "12"))
    response = client().post(f"/api/v1/orders/orders/{source}/split-by-availability")
    assert response.status_code == 201, response.text
    body = response.json()
    assert [o["warehouse_id"] for o in body["orders"]] == [shop["warehouse"], other_warehouse]
    assert body["created"] == [body["orders"][1]["id"]]
    refused = client().post(f"/api/v1/orders/orders/{source}/split-by-availability")
    assert refused.status_code == 200 and refused.json()["created"] == []
    too_much = place(kernel, shop, ("mug", "30"))
    response = client().post(f"/api/v1/orders/orders/{too_much}/split-by-availability")
    assert response.status_code == 409
    assert "MUG-1 short by" in response.json()["detail"]


def test_merging_over_http_and_reading_the_merged_references(kernel, shop, client):
    first = place(kernel, shop, ("tea", "1"), external_reference="web-1")
    second = place(kernel, shop, ("mug", "1"), external_reference="web-2")
    http = client()
    response = http.post("/api/v1/orders/merge", json={"order_ids": [first, second]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["order"]["id"] == first and body["order"]["total"] == "16.7000"
    assert [(o["id"], o["state"]) for o in body["merged"]] == [(second, "merged")]
    assert "web-2" in http.get(f"/api/v1/orders/orders/{first}").json()["notes"]
    items = http.get(f"/api/v1/orders/orders/{first}/merged").json()["items"]
    assert [(i["id"], i["external_reference"]) for i in items] == [(second, "web-2")]
    again = http.post("/api/v1/orders/merge", json={"order_ids": [first, second]})
    assert again.status_code == 409


# -- properties -----------------------------------------------------------------------

TAX_RATES = [D(0), D("0.055"), D("0.1"), D("0.2")]


@st.composite
def order_lines(draw: Any) -> list[tuple[int, Decimal, Decimal, Decimal, Decimal]]:
    """Lines as ``(product index, quantity, unit price, discount, tax rate)``: cent prices,
    whole quantities, a discount of at most the line's gross amount."""
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        quantity = D(draw(st.integers(1, 6)))
        price = D(draw(st.integers(1, 4000))) / 100
        discount = D(draw(st.integers(0, int(quantity * price * 100)))) / 100 \
            if draw(st.booleans()) else D(0)
        lines.append((draw(st.integers(0, 2)), quantity, price, discount,
                      draw(st.sampled_from(TAX_RATES))))
    return lines


def _totals(kernel: Kernel, order_ids: list[int]) -> dict[str, Decimal]:
    with kernel.transaction() as session:
        rows = session.execute(sa.select(Order.subtotal, Order.discount_total, Order.tax_total,
                                         Order.total).where(Order.id.in_(order_ids))).all()
    return {name: sum((row[i] for row in rows), D(0)) for i, name in
            enumerate(["subtotal", "discount_total", "tax_total", "total"])}


def _quantities(kernel: Kernel, order_ids: list[int]) -> dict[int, Decimal]:
    found: dict[int, Decimal] = {}
    for order_id in order_ids:
        for line in lines_of(kernel, order_id):
            found[line.product_id] = found.get(line.product_id, D(0)) + line.quantity
            assert held(kernel, line.id)[0] == line.quantity  # every open unit reserved
    return found


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(orders=st.lists(order_lines(), min_size=2, max_size=3), data=st.data())
def test_split_and_merge_preserve_quantities_money_and_reserved_stock(
        kernel, shop, make_product, stock_up, orders, data):
    products = [make_product() for _ in range(3)]
    for product in products:
        stock_up(shop["warehouse"], product, "100")
    placed = [place(kernel, shop, *[LineRequest(products[p], q, price, discount, rate)
                                    for p, q, price, discount, rate in lines])
              for lines in orders]
    for order_id in placed:
        assert fire(kernel, order_id, "confirm")["state"] in {"confirmed", "review"}
        if order(kernel, order_id)["state"] == "review":
            fire(kernel, order_id, "approve")
    totals, quantities = _totals(kernel, placed), _quantities(kernel, placed)
    reserved = [stock(kernel, p, shop["warehouse"]) for p in products]

    source = placed[0]
    moves, cut = [], 0
    for line in lines_of(kernel, source):
        moved = data.draw(st.integers(0, int(line.quantity)), label=f"move from {line.id}")
        if moved:
            moves.append((line.id, str(moved)))
            cut += moved < line.quantity
    everything = all(any(m[0] == ln.id and D(m[1]) == ln.quantity for m in moves)
                     for ln in lines_of(kernel, source))
    expected_difference = D(0)
    for line_id, moved in moves:
        line = next(ln for ln in lines_of(kernel, source) if ln.id == line_id)
        part = split_discount(line.discount, line.quantity, D(moved))
        whole = line_amounts(line.quantity, line.unit_price, line.discount, line.tax_rate)
        a = line_amounts(D(moved), line.unit_price, part, line.tax_rate)
        b = line_amounts(line.quantity - D(moved), line.unit_price, line.discount - part,
                         line.tax_rate)
        expected_difference += a.total + b.total - whole.total
    resulting = list(placed)
    if moves and not everything:
        result = split(kernel, source, *moves)
        resulting.append(result.order_id)
        assert result.rounding_difference == expected_difference
        event(f"split cutting {cut} line(s), rounding difference {result.rounding_difference}")
        assert abs(result.rounding_difference) <= D("0.01") * cut
        after = _totals(kernel, resulting)
        assert after["subtotal"] == totals["subtotal"]
        assert after["discount_total"] == totals["discount_total"]
        assert after["total"] == totals["total"] + result.rounding_difference
        assert after["tax_total"] == totals["tax_total"] + result.rounding_difference
        totals = after
    assert _quantities(kernel, resulting) == quantities
    assert [stock(kernel, p, shop["warehouse"]) for p in products] == reserved

    merge(kernel, *resulting)
    survivor = min(resulting)
    assert _totals(kernel, [survivor]) == totals
    assert _totals(kernel, resulting) == totals
    assert _quantities(kernel, [survivor]) == quantities
    assert [stock(kernel, p, shop["warehouse"]) for p in products] == reserved
    fire(kernel, survivor, "cancel")
