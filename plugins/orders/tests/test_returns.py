"""Returns and exchanges (ORD-6): never more back than was shipped, stock back where it
belongs, refunds to the cent, replacements as new orders; through services and HTTP."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from decimal import Decimal

import pytest
import sqlalchemy as sa
from after_sales_helpers import client_for, order_line, outbox_events, shipped_order

from erp_core.api import create_app
from erp_core.migrations.check import assert_migrations_match_models
from erp_inventory.ledger import StockLevel, location_quantity
from erp_inventory.warehouses import LocationKind, virtual_location
from erp_orders.returns import ReturnLine, ReturnLineRequest, request_return
from erp_orders.timeline import order_timeline
from erp_sdk import ConflictError, ValidationError, utcnow

RETURNS = "/api/v1/orders/return-requests"


def ask(kernel, order_id, *lines, reason="does not fit"):
    """Request a return of ``(order line id, quantity[, damaged])`` lines."""
    with kernel.context() as ctx:
        return request_return(ctx, order_id, [
            ReturnLineRequest(line_id, Decimal(quantity), *damaged)
            for line_id, quantity, *damaged in lines], reason)


def fire(kernel, return_id, transition, data=None):
    with kernel.context() as ctx:
        return ctx.fire("orders.return_request", return_id, transition, data)


def returned(kernel, order_id, *lines, damaged=False):
    """A return of the lines, approved and received."""
    request = ask(kernel, order_id, *((line_id, qty, damaged) for line_id, qty in lines))
    fire(kernel, request["id"], "approve")
    return fire(kernel, request["id"], "receive")


def stock(kernel, product, warehouse):
    with kernel.transaction() as session:
        return tuple(session.execute(sa.select(StockLevel.on_hand, StockLevel.available).where(
            StockLevel.product_id == product, StockLevel.warehouse_id == warehouse)).one())


def damaged_quantity(kernel, product):
    with kernel.transaction() as session:
        location = virtual_location(session, LocationKind.DAMAGED)
        return location_quantity(session, product, location.id)


def refund_of_lines(kernel, return_id):
    with kernel.transaction() as session:
        return [(line.refund_amount, line.refund_tax) for line in session.scalars(
            sa.select(ReturnLine).where(ReturnLine.return_id == return_id)
            .order_by(ReturnLine.id))]


def test_migrations_still_create_exactly_the_models(kernel):
    assert_migrations_match_models(kernel, "orders")


def test_a_return_cannot_ask_for_more_than_was_shipped(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "4"), ship={"tea": 2})
    with pytest.raises(ValidationError, match="2 shipped, 0 already returned, 2 left"):
        ask(kernel, order_id, (lines["tea"], "3"))
    assert ask(kernel, order_id, (lines["tea"], "2"))["state"] == "requested"


def test_other_open_returns_count_against_what_is_left(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "3"))
    first = ask(kernel, order_id, (lines["tea"], "2"))
    with pytest.raises(ValidationError, match="1 left to return"):
        ask(kernel, order_id, (lines["tea"], "2"))
    fire(kernel, first["id"], "cancel")
    assert ask(kernel, order_id, (lines["tea"], "3"))["lines"][0]["quantity"] == "3.0000"


def test_raising_a_line_beyond_what_is_left_is_refused(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "3"))
    request = ask(kernel, order_id, (lines["tea"], "1"))
    with pytest.raises(ValidationError, match="cannot be returned"), kernel.context() as ctx:
        ctx.records("orders.return_line").update(request["lines"][0]["id"], {"quantity": "4"})


def test_approval_checks_again_against_the_other_approved_returns(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "3"))
    first = ask(kernel, order_id, (lines["tea"], "3"))
    # a concurrent writer that passed its own check at the same moment as the first
    with kernel.context() as ctx:
        second = ctx.records("orders.return_request").create({"order_id": order_id})
        ctx.session.execute(sa.insert(ReturnLine).values(
            return_id=second["id"], order_line_id=lines["tea"], quantity=Decimal(2),
            damaged=False, version=1, created_at=utcnow(), updated_at=utcnow()))
    fire(kernel, first["id"], "approve")
    with pytest.raises(ValidationError, match="0 left to return"):
        fire(kernel, second["id"], "approve")


def test_concurrent_approvals_of_one_line_never_promise_more_than_was_shipped(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "3"))
    requests = []
    with kernel.context() as ctx:  # written side by side, as concurrent clients could
        for _ in range(6):
            request = ctx.records("orders.return_request").create({"order_id": order_id})
            ctx.session.execute(sa.insert(ReturnLine).values(
                return_id=request["id"], order_line_id=lines["tea"], quantity=Decimal(2),
                damaged=False, version=1, created_at=utcnow(), updated_at=utcnow()))
            requests.append(request["id"])
    barrier = threading.Barrier(len(requests))
    errors = []

    def approve(return_id):
        barrier.wait()
        try:
            fire(kernel, return_id, "approve")
            return True
        except ValidationError:
            return False
        except BaseException as exc:
            errors.append(exc)
            return False

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        approved = sum(pool.map(approve, requests))
    assert (errors, approved) == ([], 1)


def test_only_shipped_orders_take_returns(kernel, shop):
    with kernel.context() as ctx:
        from erp_orders.placing import LineRequest, OrderRequest, place_order

        order_id, _ = place_order(ctx, OrderRequest(shop["channel"], shop["customer"],
                                                    [LineRequest(shop["tea"], Decimal(1))]))
    with pytest.raises(ConflictError, match="only shipped goods can be returned"):
        ask(kernel, order_id, (1, "1"))


def test_a_return_line_must_be_on_the_returns_order(kernel, shop):
    order_id, _ = shipped_order(kernel, shop, ("tea", "1"))
    _other, other_lines = shipped_order(kernel, shop, ("tea", "1"))
    with pytest.raises(ValidationError, match="is not on the order"):
        ask(kernel, order_id, (other_lines["tea"], "1"))


def test_rejecting_a_return_needs_a_reason(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "1"))
    request = ask(kernel, order_id, (lines["tea"], "1"))
    with pytest.raises(ValidationError, match="needs a reason"):
        fire(kernel, request["id"], "reject")
    assert fire(kernel, request["id"], "reject", {"reason": "worn"})["state"] == "rejected"
    assert ask(kernel, order_id, (lines["tea"], "1"))["state"] == "requested"


def test_receiving_puts_the_goods_back_into_the_orders_warehouse_storage(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "4"), ("mug", "2"))
    assert stock(kernel, shop["tea"], shop["warehouse"]) == (Decimal(6), Decimal(6))
    assert returned(kernel, order_id, (lines["tea"], "3"))["state"] == "received"
    assert stock(kernel, shop["tea"], shop["warehouse"]) == (Decimal(9), Decimal(9))
    assert stock(kernel, shop["mug"], shop["warehouse"]) == (Decimal(8), Decimal(8))
    assert order_line(kernel, lines["tea"])["quantity_returned"] == "3.0000"
    assert damaged_quantity(kernel, shop["tea"]) == 0


def test_damaged_goods_go_to_the_damaged_location_not_back_to_stock(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "4"), ("mug", "2"))
    request = ask(kernel, order_id, (lines["tea"], "2"), (lines["mug"], "1", True))
    fire(kernel, request["id"], "approve")
    fire(kernel, request["id"], "receive")
    assert stock(kernel, shop["tea"], shop["warehouse"]) == (Decimal(8), Decimal(8))
    assert stock(kernel, shop["mug"], shop["warehouse"]) == (Decimal(8), Decimal(8))
    assert damaged_quantity(kernel, shop["mug"]) == Decimal(1)
    assert order_line(kernel, lines["mug"])["quantity_returned"] == "1.0000"


def test_the_damaged_flag_may_still_be_set_once_approved_but_not_the_quantity(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "2"))
    request = ask(kernel, order_id, (lines["tea"], "2"))
    line_id = request["lines"][0]["id"]
    fire(kernel, request["id"], "approve")
    with pytest.raises(ConflictError, match="can no longer change"), kernel.context() as ctx:
        ctx.records("orders.return_line").update(line_id, {"quantity": "1"})
    with kernel.context() as ctx:
        ctx.records("orders.return_line").update(line_id, {"damaged": True})
    fire(kernel, request["id"], "receive")
    assert damaged_quantity(kernel, shop["tea"]) == Decimal(2)
    assert stock(kernel, shop["tea"], shop["warehouse"]) == (Decimal(8), Decimal(8))


def test_partial_returns_add_up_until_everything_shipped_is_back(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "3"))
    returned(kernel, order_id, (lines["tea"], "1"))
    returned(kernel, order_id, (lines["tea"], "2"))
    assert order_line(kernel, lines["tea"])["quantity_returned"] == "3.0000"
    with pytest.raises(ValidationError, match="3 already returned, 0 left"):
        ask(kernel, order_id, (lines["tea"], "1"))


def test_the_refund_is_the_returned_share_of_the_line_total_rounded_half_up(kernel, shop):
    # tea: 4 x 4.20 - 0.50 = 16.30 net, tax 5.5 % = 0.8965 -> 0.90, total 17.20
    order_id, lines = shipped_order(kernel, shop, ("tea", "4", "4.20", "0.50", "0.055"),
                                    ("mug", "1", "12.50", "0", "0.20"))
    request = returned(kernel, order_id, (lines["tea"], "1"), (lines["mug"], "1"))
    refunded = fire(kernel, request["id"], "refund")
    assert refunded["state"] == "refunded"
    # tea: 17.20 / 4 = 4.30, tax 0.90 / 4 = 0.225 -> 0.23; mug: 15.00, tax 2.50
    assert refund_of_lines(kernel, request["id"]) == [
        (Decimal("4.30"), Decimal("0.23")), (Decimal("15.00"), Decimal("2.50"))]
    assert (refunded["refund_amount"], refunded["refund_tax"], refunded["currency"]) == (
        "19.3000", "2.7300", "EUR")


def test_refunds_of_one_line_in_parts_add_up_to_exactly_its_total(kernel, shop):
    # 3 x 3.33 = 9.99 net, tax 20 % = 1.998 -> 2.00, total 11.99: thirds do not divide it
    order_id, lines = shipped_order(kernel, shop, ("tea", "3", "3.33", "0", "0.20"))
    amounts = []
    for _ in range(3):
        request = returned(kernel, order_id, (lines["tea"], "1"))
        refunded = fire(kernel, request["id"], "refund")
        amounts.append((Decimal(refunded["refund_amount"]), Decimal(refunded["refund_tax"])))
    assert amounts == [(Decimal("4.00"), Decimal("0.67")), (Decimal("3.99"), Decimal("0.66")),
                       (Decimal("4.00"), Decimal("0.67"))]
    assert sum(amount for amount, _tax in amounts) == Decimal("11.99")
    assert order_line(kernel, lines["tea"])["line_total"] == "11.9900"


def test_the_recorded_refund_is_announced_for_finance(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("mug", "2"))
    request = returned(kernel, order_id, (lines["mug"], "1"))
    fire(kernel, request["id"], "refund")
    [refunded] = outbox_events(kernel, "orders.return_request.refunded")
    assert (refunded["from"], refunded["to"]) == ("received", "refunded")
    [event] = outbox_events(kernel, "orders.return_request.refund_recorded")
    assert (event["amount"], event["tax"], event["currency"]) == ("12.50", "0.00", "EUR")
    assert (event["order_id"], event["customer_id"]) == (order_id, shop["customer"])
    assert [(line["order_line_id"], line["quantity"], line["amount"])
            for line in event["lines"]] == [(lines["mug"], "1.0000", "12.50")]
    names = [e["transition"] for name in ("approved", "received")
             for e in outbox_events(kernel, f"orders.return_request.{name}")]
    assert names == ["approve", "receive"]


def test_an_exchange_places_a_confirmed_replacement_order_at_price_zero(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "3"), ("mug", "2"))
    request = returned(kernel, order_id, (lines["tea"], "1"), (lines["mug"], "2"), damaged=True)
    exchanged = fire(kernel, request["id"], "exchange")
    assert exchanged["state"] == "exchanged"
    with kernel.context() as ctx:
        original = ctx.records("orders.order").get(order_id)
        replacement = ctx.records("orders.order").get(exchanged["replacement_order_id"])
        replacement_lines = ctx.records("orders.order_line").list(
            [("order_id", str(replacement["id"]))])["items"]
    assert replacement["state"] == "confirmed"
    for field in ("customer_id", "channel_id", "warehouse_id", "currency", "ship_line1"):
        assert replacement[field] == original[field]
    assert replacement["total"] == "0.0000"
    assert sorted((line["product_id"], line["quantity"], line["unit_price"])
                  for line in replacement_lines) == sorted(
        [(shop["tea"], "1.0000", "0.0000"), (shop["mug"], "2.0000", "0.0000")])
    assert exchanged["refund_amount"] is None
    [placed] = outbox_events(kernel, "orders.return_request.replacement_placed")
    assert placed["replacement_order_id"] == replacement["id"]
    # the damaged units left stock for good; the replacements are reserved from what is left
    with kernel.transaction() as session:
        mug = session.execute(sa.select(StockLevel.on_hand, StockLevel.reserved).where(
            StockLevel.product_id == shop["mug"])).one()
    assert tuple(mug) == (Decimal(8), Decimal(2))


def test_an_exchange_can_leave_the_replacement_order_in_draft(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "1"))
    request = returned(kernel, order_id, (lines["tea"], "1"))
    exchanged = fire(kernel, request["id"], "exchange", {"confirm": False})
    with kernel.context() as ctx:
        assert ctx.records("orders.order").get(
            exchanged["replacement_order_id"])["state"] == "draft"


def test_the_return_history_and_the_order_timeline_show_the_return(kernel, shop):
    order_id, lines = shipped_order(kernel, shop, ("tea", "2"))
    request = returned(kernel, order_id, (lines["tea"], "2"))
    fire(kernel, request["id"], "refund")
    with kernel.context() as ctx:
        from erp_core.api.entity_routes import history

        steps = [entry["action"] for entry in history(ctx, "orders.return_request",
                                                     request["id"])]
        timeline = order_timeline(ctx, order_id)
    assert steps == ["created", "approve", "receive", "refund"]
    [entry] = [e for e in timeline if e["action"] == "returned"]
    assert (entry["entity"], entry["record_id"]) == ("orders.order_line", lines["tea"])
    assert entry["changes"]["quantity_returned"] == {"old": "0.0000", "new": "2.0000"}


@pytest.fixture
def clients(kernel):
    app = create_app(kernel)
    with ExitStack() as stack:
        yield lambda *roles, name: client_for(kernel, app, stack, *roles, name=name)


def test_a_client_returns_goods_and_gets_a_refund_through_the_api(kernel, shop, clients):
    order_id, lines = shipped_order(kernel, shop, ("tea", "4"), ("mug", "1"))
    clerk, manager = clients("orders.clerk", name="clara"), clients("orders.manager", name="max")
    response = clerk.post(f"/api/v1/orders/orders/{order_id}/returns", json={
        "reason": "changed my mind", "lines": [
            {"order_line_id": lines["tea"], "quantity": "2"},
            {"order_line_id": lines["mug"], "quantity": "1", "damaged": True}]})
    assert response.status_code == 201, response.text
    request = response.json()
    assert [line["quantity"] for line in request["lines"]] == ["2.0000", "1.0000"]
    assert clerk.post(f"{RETURNS}/{request['id']}/approve").status_code == 403
    assert manager.post(f"{RETURNS}/{request['id']}/approve").status_code == 200
    received = clerk.post(f"{RETURNS}/{request['id']}/receive")
    assert received.json()["state"] == "received", received.text
    assert clerk.post(f"{RETURNS}/{request['id']}/refund").status_code == 403
    refunded = manager.post(f"{RETURNS}/{request['id']}/refund")
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["refund_amount"] == "20.9000"  # 2 x 4.20 + 12.50
    history = clerk.get(f"{RETURNS}/{request['id']}/history").json()["items"]
    assert [(e["action"], e["principal"]) for e in history] == [
        ("created", "clara"), ("approve", "max"), ("receive", "clara"), ("refund", "max")]
    assert stock(kernel, shop["tea"], shop["warehouse"]) == (Decimal(8), Decimal(8))
    assert damaged_quantity(kernel, shop["mug"]) == Decimal(1)


def test_an_over_return_through_the_api_is_a_422_naming_what_is_left(kernel, shop, clients):
    order_id, lines = shipped_order(kernel, shop, ("tea", "4"), ship={"tea": 1})
    clerk = clients("orders.clerk", name="clara")
    response = clerk.post(f"/api/v1/orders/orders/{order_id}/returns", json={
        "lines": [{"order_line_id": lines["tea"], "quantity": "2"}]})
    assert response.status_code == 422
    assert "1 left to return" in response.json()["detail"]
    with kernel.context() as ctx:
        assert ctx.records("orders.return_request").list([])["items"] == []


def test_a_client_builds_a_return_line_by_line_with_the_generic_api(kernel, shop, clients):
    order_id, lines = shipped_order(kernel, shop, ("tea", "2"))
    clerk = clients("orders.clerk", name="clara")
    request = clerk.post(RETURNS, json={"order_id": order_id, "reason": "too strong"}).json()
    line = clerk.post("/api/v1/orders/return-lines", json={
        "return_id": request["id"], "order_line_id": lines["tea"], "quantity": "3"})
    assert line.status_code == 422
    line = clerk.post("/api/v1/orders/return-lines", json={
        "return_id": request["id"], "order_line_id": lines["tea"], "quantity": "2"})
    assert line.status_code == 201, line.text
    manager = clients("orders.manager", name="max")
    assert manager.post(f"{RETURNS}/{request['id']}/approve").status_code == 200
    assert clerk.post(f"{RETURNS}/{request['id']}/receive").status_code == 200
    exchanged = manager.post(f"{RETURNS}/{request['id']}/exchange", json={"confirm": True})
    assert exchanged.status_code == 200, exchanged.text
    replacement = clerk.get(f"/api/v1/orders/orders/{exchanged.json()['replacement_order_id']}")
    assert (replacement.json()["state"], replacement.json()["total"]) == ("confirmed", "0.0000")


def test_a_role_without_return_permissions_gets_403(kernel, shop, clients):
    order_id, lines = shipped_order(kernel, shop, ("tea", "1"))
    reviewer = clients("orders.reviewer", name="rita")
    response = reviewer.post(f"/api/v1/orders/orders/{order_id}/returns", json={
        "lines": [{"order_line_id": lines["tea"], "quantity": "1"}]})
    assert response.status_code == 403
    assert reviewer.get(RETURNS).status_code == 403
    assert reviewer.post(RETURNS, json={"order_id": order_id}).status_code == 403
