"""Rules an integrator meets through the API: an order's warehouse moves its reservations
or stays, a confirmed order has a shipping address (unless collected in store), review
reasons are a JSON array, and the timeline speaks the history's field names."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from erp_core.migrations.runner import schema_transaction
from erp_inventory.movements import receive

pytestmark = pytest.mark.erp_plugins("orders")

ORDERS = "/api/v1/orders/orders"
PROBLEM = "application/problem+json"


@pytest.fixture
def kernel(erp_kernel):
    """The kernel behind ``erp_client``, for the shop fixtures."""
    return erp_kernel


@pytest.fixture
def east(kernel, other_warehouse, shop):
    """A second warehouse holding 10 TEA-1 and 1 MUG-1."""
    with kernel.context() as ctx:
        receive(ctx, other_warehouse, shop["tea"], Decimal(10), Decimal("1.00"))
        receive(ctx, other_warehouse, shop["mug"], Decimal(1), Decimal("1.00"))
    return other_warehouse


def place(client, shop, *lines, **fields) -> dict:
    body = {"channel_id": shop["channel"], "customer_id": shop["customer"],
            "lines": [{"product_id": shop[name], "quantity": qty} for name, qty in lines],
            **fields}
    response = client.post(f"{ORDERS.rsplit('/', 1)[0]}/place", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def fire(client, order_id: int, transition: str, body: dict | None = None):
    return client.post(f"{ORDERS}/{order_id}/{transition}", json=body or {})


def stock(client, product: int, warehouse: int) -> tuple[str, str]:
    """(on hand, reserved) of a product in a warehouse, as the API shows them."""
    response = client.get("/api/v1/inventory/stock-levels",
                          params={"product_id": product, "warehouse_id": warehouse})
    assert response.status_code == 200, response.text
    [level] = response.json()["items"] or [{"on_hand": "0.0000", "reserved": "0.0000"}]
    return level["on_hand"], level["reserved"]


def reservations(client, warehouse: int) -> list[tuple[int, str, str]]:
    response = client.get("/api/v1/inventory/reservations",
                          params={"warehouse_id": warehouse, "state": "active"})
    return sorted((r["product_id"], r["remaining"], r["origin"])
                  for r in response.json()["items"])


def is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.json()


# -- the warehouse of an order ------------------------------------------------------------


def test_moving_a_confirmed_order_moves_its_reservations_and_it_ships_from_the_new_one(
        erp_client, shop, east):
    order = place(erp_client, shop, ("tea", "3"), confirm=True)
    assert order["state"] == "confirmed"
    moved = erp_client.patch(f"{ORDERS}/{order['id']}", json={"warehouse_id": east})
    assert moved.status_code == 200, moved.text
    assert stock(erp_client, shop["tea"], shop["warehouse"]) == ("10.0000", "0.0000")
    assert stock(erp_client, shop["tea"], east) == ("10.0000", "3.0000")
    assert fire(erp_client, order["id"], "ship").json()["state"] == "shipped"
    assert stock(erp_client, shop["tea"], shop["warehouse"]) == ("10.0000", "0.0000")
    assert stock(erp_client, shop["tea"], east) == ("7.0000", "0.0000")


def test_an_order_on_hold_moves_its_reservations_too(erp_client, shop, east):
    order = place(erp_client, shop, ("tea", "2"), confirm=True)
    assert fire(erp_client, order["id"], "hold").status_code == 200
    assert erp_client.patch(f"{ORDERS}/{order['id']}",
                            json={"warehouse_id": east}).status_code == 200
    assert stock(erp_client, shop["tea"], east) == ("10.0000", "2.0000")
    assert stock(erp_client, shop["tea"], shop["warehouse"]) == ("10.0000", "0.0000")


def test_an_order_stays_when_the_new_warehouse_lacks_stock(erp_client, shop, east):
    order = place(erp_client, shop, ("tea", "1"), ("mug", "2"), confirm=True)
    held = reservations(erp_client, shop["warehouse"])
    problem = is_problem(erp_client.patch(f"{ORDERS}/{order['id']}",
                                          json={"warehouse_id": east}), 409)
    assert "stays in its warehouse" in problem["detail"]
    assert "MUG-1 short by 1" in problem["detail"]
    after = erp_client.get(f"{ORDERS}/{order['id']}").json()
    assert (after["warehouse_id"], after["version"]) == (shop["warehouse"], order["version"])
    assert reservations(erp_client, shop["warehouse"]) == held
    assert reservations(erp_client, east) == []
    assert stock(erp_client, shop["mug"], east) == ("1.0000", "0.0000")


def test_a_partly_shipped_order_keeps_its_warehouse(erp_client, shop, east):
    order = place(erp_client, shop, ("tea", "2"), ("mug", "1"), confirm=True)
    [tea_line] = [line for line in erp_client.get(
        "/api/v1/orders/order-lines", params={"order_id": order["id"]}).json()["items"]
        if line["product_id"] == shop["tea"]]
    shipped = fire(erp_client, order["id"], "ship",
                   {"lines": [{"line_id": tea_line["id"], "quantity": "1"}]})
    assert shipped.json()["state"] == "partially_shipped", shipped.text
    problem = is_problem(erp_client.patch(f"{ORDERS}/{order['id']}",
                                          json={"warehouse_id": east}), 409)
    assert "only until it starts shipping" in problem["detail"]
    assert stock(erp_client, shop["tea"], shop["warehouse"]) == ("9.0000", "1.0000")


def test_a_draft_order_changes_warehouse_and_confirming_reserves_there(erp_client, shop,
                                                                        east):
    order = place(erp_client, shop, ("tea", "4"))
    assert erp_client.patch(f"{ORDERS}/{order['id']}",
                            json={"warehouse_id": east}).status_code == 200
    assert fire(erp_client, order["id"], "confirm").json()["state"] == "confirmed"
    assert stock(erp_client, shop["tea"], east) == ("10.0000", "4.0000")
    assert stock(erp_client, shop["tea"], shop["warehouse"]) == ("10.0000", "0.0000")


# -- the shipping address -----------------------------------------------------------------


@pytest.fixture
def walk_in(kernel):
    """A customer with no address on file."""
    with kernel.context() as ctx:
        return ctx.records("crm.customer").create({"name": "Walk-in", "kind": "person"})["id"]


def test_an_order_without_a_shipping_address_cannot_be_confirmed(erp_client, shop, walk_in):
    order = place(erp_client, {**shop, "customer": walk_in}, ("tea", "1"))
    assert order["ship_line1"] is None
    problem = is_problem(fire(erp_client, order["id"], "confirm"), 409)
    assert "cannot be confirmed without a shipping address" in problem["detail"]
    assert "collected_in_store" in problem["detail"]
    assert erp_client.get(f"{ORDERS}/{order['id']}").json()["state"] == "draft"
    assert stock(erp_client, shop["tea"], shop["warehouse"]) == ("10.0000", "0.0000")


def test_placing_and_confirming_without_an_address_leaves_no_order(erp_client, shop, walk_in):
    response = erp_client.post("/api/v1/orders/place", json={
        "channel_id": shop["channel"], "customer_id": walk_in, "confirm": True,
        "lines": [{"product_id": shop["tea"], "quantity": "1"}]})
    is_problem(response, 409)
    assert erp_client.get(ORDERS, params={"customer_id": walk_in}).json()["items"] == []


def test_an_order_given_an_address_is_confirmed(erp_client, shop, walk_in):
    order = place(erp_client, {**shop, "customer": walk_in}, ("tea", "1"),
                  shipping_address={"name": "Walk-in", "line1": "2 Rue Neuve",
                                    "city": "Lyon", "country": "FR"})
    assert fire(erp_client, order["id"], "confirm").json()["state"] == "confirmed"


def test_a_channel_whose_goods_are_collected_in_store_confirms_without_an_address(
        erp_client, shop, walk_in):
    store = erp_client.post("/api/v1/orders/channels", json={
        "code": "shop", "name": "City store", "kind": "store", "collected_in_store": True,
        "warehouse_id": shop["warehouse"], "settings": {}, "secrets": {}})
    assert store.status_code == 201, store.text
    order = place(erp_client, {**shop, "customer": walk_in, "channel": store.json()["id"]},
                  ("tea", "1"), confirm=True)
    assert order["state"] == "confirmed"
    assert stock(erp_client, shop["tea"], shop["warehouse"]) == ("10.0000", "1.0000")


def test_a_new_channel_ships_its_goods_unless_it_says_otherwise(erp_client):
    channel = erp_client.post("/api/v1/orders/channels", json={
        "code": "web2", "name": "Web", "settings": {}, "secrets": {}})
    assert channel.json()["collected_in_store"] is False


def test_a_confirmed_order_cannot_lose_its_address(erp_client, shop):
    order = place(erp_client, shop, ("tea", "1"), confirm=True)
    problem = is_problem(erp_client.patch(f"{ORDERS}/{order['id']}",
                                          json={"ship_line1": None}), 409)
    assert "needs a shipping address" in problem["detail"]
    changed = erp_client.patch(f"{ORDERS}/{order['id']}", json={"ship_line1": "3 Main St"})
    assert changed.status_code == 200, changed.text


def test_a_draft_order_may_lose_its_address(erp_client, shop):
    order = place(erp_client, shop, ("tea", "1"))
    assert erp_client.patch(f"{ORDERS}/{order['id']}",
                            json={"ship_line1": None}).status_code == 200


# -- review reasons and the timeline ------------------------------------------------------


def test_review_reasons_are_a_json_array(erp_client, kernel, shop):
    with kernel.context() as ctx:
        ctx.records("orders.review_policy").create({"rule": "large_amount", "threshold": "30"})
    order = place(erp_client, shop, ("mug", "3"), confirm=True)
    assert order["state"] == "review"
    assert order["review_reasons"] == ["large_amount: total 37.50 EUR is above 30.00"]
    fetched = erp_client.get(f"{ORDERS}/{order['id']}").json()
    assert fetched["review_reasons"] == order["review_reasons"]
    approved = fire(erp_client, order["id"], "approve").json()
    assert approved["review_reasons"] == order["review_reasons"]


def test_an_order_approved_at_once_has_no_review_reasons(erp_client, shop):
    assert place(erp_client, shop, ("tea", "1"), confirm=True)["review_reasons"] is None


def test_upgrading_keeps_review_reasons_stored_as_text(erp_client, kernel, shop):
    """ord0003 turns the text column into JSON: arrays written as text come back as
    arrays, and orders without reasons keep none."""
    with kernel.context() as ctx:
        ctx.records("orders.review_policy").create({"rule": "large_amount", "threshold": "30"})
    reviewed = place(erp_client, shop, ("mug", "3"), confirm=True)["id"]
    plain = place(erp_client, shop, ("tea", "1"), confirm=True)["id"]
    with schema_transaction(kernel.engine) as connection:  # ord0003 and later undone
        kernel.migrator.downgrade(kernel.branch("orders"), connection, "ord0002")
        stored = dict(connection.execute(sa.text(
            "SELECT id, review_reasons FROM orders_order")).all())
    assert json.loads(stored[reviewed]) == ["large_amount: total 37.50 EUR is above 30.00"]
    assert stored[plain] is None
    assert kernel.pending_migrations() == ["orders"]

    kernel.migrate()

    assert erp_client.get(f"{ORDERS}/{reviewed}").json()["review_reasons"] == [
        "large_amount: total 37.50 EUR is above 30.00"]
    assert erp_client.get(f"{ORDERS}/{plain}").json()["review_reasons"] is None


def test_the_timeline_uses_the_field_names_of_the_history(erp_client, shop):
    order = place(erp_client, shop, ("tea", "1"))
    [line] = erp_client.get("/api/v1/orders/order-lines",
                            params={"order_id": order["id"]}).json()["items"]
    assert erp_client.patch(f"/api/v1/orders/order-lines/{line['id']}",
                            json={"quantity": "2"}).status_code == 200
    assert fire(erp_client, order["id"], "confirm").status_code == 200
    history = erp_client.get(f"{ORDERS}/{order['id']}/history").json()["items"]
    timeline = erp_client.get(f"{ORDERS}/{order['id']}/timeline").json()["items"]
    assert {tuple(sorted(entry)) for entry in timeline} == {tuple(sorted(history[0]))}
    assert [e for e in timeline if e["entity"] == "orders.order"] == history
    assert [(e["entity"], e["action"]) for e in timeline] == [
        ("orders.order", "created"), ("orders.order_line", "updated"),
        ("orders.order", "confirm"), ("orders.order", "approve")]


def test_patching_the_shipping_amount_of_a_draft_updates_its_totals(erp_client, shop):
    order = place(erp_client, shop, ("tea", "2"))  # 2 x 4.20, no tax
    assert order["total"] == "8.4000"

    patched = erp_client.patch(f"{ORDERS}/{order['id']}", json={"shipping_amount": "5.90"},
                               headers={"If-Match": f'"{order["version"]}"'})

    assert patched.status_code == 200, patched.text
    stored = erp_client.get(f"{ORDERS}/{order['id']}").json()
    assert (stored["shipping_amount"], stored["total"]) == ("5.9000", "14.3000")
