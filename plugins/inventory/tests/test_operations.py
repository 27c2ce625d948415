"""Alerts, counts and transfers, through the kernel's workflows and the API."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from erp_core.api import create_app
from erp_core.security.accounts import create_token, create_user
from erp_inventory.alerts import StockAlert, StockLimit
from erp_inventory.catalogue import Product
from erp_inventory.cost_adjustments import CostAdjustment
from erp_inventory.ledger import StockLevel
from erp_inventory.movements import add_cost_to_stock, receive
from erp_inventory.reservations import ReservationLine, release, reserve, ship_reserved
from erp_inventory.warehouses import Location, LocationKind
from erp_sdk import ConflictError, ValidationError


def level(kernel, product, warehouse):
    with kernel.transaction() as session:
        row = session.execute(sa.select(StockLevel.on_hand, StockLevel.reserved,
                                        StockLevel.available).where(
            StockLevel.product_id == product, StockLevel.warehouse_id == warehouse)).first()
        return tuple(row) if row else (Decimal(0),) * 3


def events(kernel, name):
    with kernel.transaction() as session:
        return list(session.execute(sa.text(
            "SELECT name, payload FROM kernel_outbox_event WHERE name = :n ORDER BY id"),
            {"n": name}))


@pytest.fixture
def token(kernel):
    def make(*roles):
        with kernel.transaction() as session:
            name = f"u{len(roles)}{'-'.join(roles)}".replace(".", "_")[:70]
            create_user(session, name, roles)
            return create_token(session, name)[1]
    return make


@pytest.fixture
def client(kernel):
    with TestClient(app=create_app(kernel)) as test_client:
        yield test_client


def test_crossing_the_minimum_raises_a_low_alert_and_event_once(
        kernel, run, warehouse, make_product):
    product = make_product()
    with kernel.transaction() as session:
        session.add(StockLimit(product_id=product, warehouse_id=warehouse,
                               minimum=Decimal(5), maximum=None, version=1))
    run(receive, warehouse, product, Decimal(10), Decimal(1))
    run(reserve, warehouse, [ReservationLine(product, Decimal(4), "d:1")])
    assert events(kernel, "inventory.stock.low") == []
    run(reserve, warehouse, [ReservationLine(product, Decimal(2), "d:2")])
    run(reserve, warehouse, [ReservationLine(product, Decimal(1), "d:3")])
    low = events(kernel, "inventory.stock.low")
    assert len(low) == 1
    with kernel.transaction() as session:
        alert = session.scalar(sa.select(StockAlert))
        assert (alert.kind, alert.available, alert.cleared_at) == ("low", Decimal(4), None)


def test_crossing_back_clears_the_alert(kernel, run, warehouse, make_product):
    product = make_product()
    with kernel.transaction() as session:
        session.add(StockLimit(product_id=product, warehouse_id=warehouse,
                               minimum=Decimal(5), maximum=Decimal(20), version=1))
    run(receive, warehouse, product, Decimal(10), Decimal(1))
    run(reserve, warehouse, [ReservationLine(product, Decimal(6), "d:1")])
    with kernel.transaction() as session:
        assert session.scalar(sa.select(StockAlert.cleared_at)) is None
    run(release, origin="d:1")
    with kernel.transaction() as session:
        assert session.scalar(sa.select(StockAlert.cleared_at)) is not None
    run(receive, warehouse, product, Decimal(30), Decimal(1))
    assert len(events(kernel, "inventory.stock.high")) == 1


def test_alerts_are_listed_through_the_api(kernel, run, warehouse, make_product, client, token):
    product = make_product()
    with kernel.transaction() as session:
        session.add(StockLimit(product_id=product, warehouse_id=warehouse,
                               minimum=None, maximum=Decimal(2), version=1))
    run(receive, warehouse, product, Decimal(3), Decimal(1))
    response = client.get("/api/v1/inventory/stock-alerts?kind=high",
                          headers={"Authorization": f"Bearer {token('inventory.clerk')}"})
    assert response.status_code == 200
    assert [a["product_id"] for a in response.json()["items"]] == [product]


def test_a_count_posts_the_variance_against_its_snapshot_not_later_moves(
        kernel, run, warehouse, make_product):
    product = make_product()
    run(receive, warehouse, product, Decimal(10), Decimal(1))
    with kernel.context() as ctx:
        count = ctx.records("inventory.count").create({"warehouse_id": warehouse})
        ctx.fire("inventory.count", count["id"], "start")
    run(receive, warehouse, product, Decimal(5), Decimal(1))  # arrives while counting
    with kernel.context() as ctx:
        lines = ctx.records("inventory.count_line").list([("count_id", str(count["id"]))])
        [line] = lines["items"]
        assert Decimal(line["expected"]) == Decimal(10)
        ctx.records("inventory.count_line").update(line["id"], {"counted": "8"})
        ctx.fire("inventory.count", count["id"], "post")
        posted = ctx.records("inventory.count_line").get(line["id"])
    assert Decimal(posted["variance"]) == Decimal(-2)
    assert level(kernel, product, warehouse)[0] == Decimal(13)  # 10 + 5 - 2


def test_count_lines_are_frozen_once_posted(kernel, run, warehouse, make_product):
    product = make_product()
    run(receive, warehouse, product, Decimal(1), Decimal(1))
    with kernel.context() as ctx:
        count = ctx.records("inventory.count").create({"warehouse_id": warehouse})
        ctx.fire("inventory.count", count["id"], "start")
        ctx.fire("inventory.count", count["id"], "post")
        [line] = ctx.records("inventory.count_line").list(
            [("count_id", str(count["id"]))])["items"]
    with pytest.raises(ConflictError, match="can no longer be updated"), \
            kernel.context() as ctx:
        ctx.records("inventory.count_line").update(line["id"], {"counted": "3"})


def test_a_transfer_is_in_transit_between_shipping_and_receiving(
        kernel, run, warehouse, other_warehouse, make_product, client, token):
    product = make_product()
    run(receive, warehouse, product, Decimal(10), Decimal(1))
    with kernel.context() as ctx:
        transfer = ctx.records("inventory.transfer").create(
            {"from_warehouse_id": warehouse, "to_warehouse_id": other_warehouse})
        ctx.records("inventory.transfer_line").create(
            {"transfer_id": transfer["id"], "product_id": product, "quantity": "4"})
        ctx.fire("inventory.transfer", transfer["id"], "ship")
    assert level(kernel, product, warehouse)[0] == Decimal(6)
    assert level(kernel, product, other_warehouse)[0] == Decimal(0)
    headers = {"Authorization": f"Bearer {token('inventory.clerk')}"}
    in_transit = client.get("/api/v1/inventory/in-transit", headers=headers).json()["items"]
    assert [(i["transfer_id"], i["quantity"]) for i in in_transit] == [
        (transfer["id"], "4.0000")]
    response = client.post(f"/api/v1/inventory/transfers/{transfer['id']}/receive",
                           headers=headers)
    assert response.status_code == 200, response.text
    assert level(kernel, product, other_warehouse)[0] == Decimal(4)
    assert client.get("/api/v1/inventory/in-transit", headers=headers).json()["items"] == []
    with kernel.transaction() as session:
        transit = session.scalar(sa.select(Location.id).where(
            Location.kind == LocationKind.TRANSIT))
        assert session.execute(sa.text(
            "SELECT COUNT(*) FROM inventory_move WHERE to_location_id = :t"),
            {"t": transit}).scalar() == 1


def test_shipping_a_transfer_without_the_stock_refuses_it_and_changes_nothing(
        kernel, run, warehouse, other_warehouse, make_product):
    product = make_product()
    run(receive, warehouse, product, Decimal(1), Decimal(1))
    with kernel.context() as ctx:
        transfer = ctx.records("inventory.transfer").create(
            {"from_warehouse_id": warehouse, "to_warehouse_id": other_warehouse})
        ctx.records("inventory.transfer_line").create(
            {"transfer_id": transfer["id"], "product_id": product, "quantity": "2"})
    with pytest.raises(ConflictError, match="insufficient stock"), kernel.context() as ctx:
        ctx.fire("inventory.transfer", transfer["id"], "ship")
    with kernel.context() as ctx:
        assert ctx.records("inventory.transfer").get(transfer["id"])["state"] == "draft"
    assert level(kernel, product, warehouse) == (Decimal(1), Decimal(0), Decimal(1))


def test_reserving_through_the_api_refuses_the_shortfall_with_a_problem(
        kernel, run, warehouse, make_product, client, token):
    product = make_product("TEA-1")
    run(receive, warehouse, product, Decimal(2), Decimal(1))
    headers = {"Authorization": f"Bearer {token('inventory.clerk')}"}
    body = {"warehouse_id": warehouse,
            "lines": [{"product_id": product, "quantity": "3", "origin": "web:1"}]}
    response = client.post("/api/v1/inventory/stock/reserve", json=body, headers=headers)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "TEA-1 short by 1" in response.json()["detail"]
    body["lines"][0]["quantity"] = "2"
    response = client.post("/api/v1/inventory/stock/reserve", json=body, headers=headers)
    assert response.status_code == 201
    assert level(kernel, product, warehouse) == (Decimal(2), Decimal(2), Decimal(0))


def test_a_clerk_cannot_change_prices_but_a_manager_can(
        kernel, make_product, client, token):
    product = make_product()
    url = f"/api/v1/inventory/products/{product}"
    clerk = {"Authorization": f"Bearer {token('inventory.clerk')}"}
    manager = {"Authorization": f"Bearer {token('inventory.manager')}"}
    assert client.patch(url, json={"list_price": "12.50"}, headers=clerk).status_code == 403
    assert client.patch(url, json={"list_price": "12.50"}, headers=manager).status_code == 200
    history = client.get(f"{url}/price-history", headers=clerk).json()["items"]
    assert [(h["field"], h["old"], h["new"]) for h in history] == [
        ("list_price", "10.0000", "12.5000")]
    assert history[0]["principal"].startswith("u1inventory_manager")


def test_cost_added_after_a_receipt_is_carried_by_the_units_still_on_hand_only(
        kernel, run, warehouse, make_product, client, token):
    """10 received at 1.00, 6 shipped: 4 left. 0.50 more per unit for the 10 received
    adds 2.00 to the stock (4 x 0.50) and the cost becomes 1.50; the 3.00 of the units
    gone stays out. A credit that would make the stock worth less than nothing is refused."""
    product = make_product()
    run(receive, warehouse, product, Decimal(10), Decimal(1))
    [reservation] = run(reserve, warehouse, [ReservationLine(product, Decimal(6), "d:1")])
    run(ship_reserved, reservation)

    added = run(add_cost_to_stock, product, Decimal(10), Decimal("0.5"), origin="po:1")

    assert added == Decimal(2)
    with kernel.transaction() as session:
        assert session.get(Product, product).cost == Decimal("1.5")
    [(_name, payload)] = events(kernel, "inventory.product.cost_added")
    assert (json.loads(payload) if isinstance(payload, str) else payload) == {
        "product_id": product, "units": "4.0000", "unit_amount": "0.5", "value": "2.0000",
        "cost_before": "1.0000", "cost": "1.5000", "origin": "po:1"}
    with kernel.transaction() as session:
        [adjustment] = session.scalars(sa.select(CostAdjustment)).all()
        assert (adjustment.product_id, adjustment.units, adjustment.on_hand,
                adjustment.value, adjustment.value_gone, adjustment.origin) == (
            product, Decimal(10), Decimal(4), Decimal(2), Decimal(3), "po:1")
    listed = client.get("/api/v1/inventory/cost-adjustments", headers={
        "Authorization": f"Bearer {token('inventory.clerk')}"}).json()["items"]
    assert [(a["product_id"], a["value"], a["value_gone"]) for a in listed] == [
        (product, "2.0000", "3.0000")]
    with pytest.raises(ValidationError):
        run(add_cost_to_stock, product, Decimal(10), Decimal(-2))
    with kernel.transaction() as session:  # refused: nothing recorded
        assert session.scalar(sa.select(sa.func.count()).select_from(CostAdjustment)) == 1


def test_cost_added_once_every_unit_is_gone_is_all_the_cost_of_what_was_sold(
        kernel, run, warehouse, make_product):
    product = make_product()
    run(receive, warehouse, product, Decimal(5), Decimal(1))
    [reservation] = run(reserve, warehouse, [ReservationLine(product, Decimal(5), "d:1")])
    run(ship_reserved, reservation)

    assert run(add_cost_to_stock, product, Decimal(5), Decimal("0.2")) == Decimal(0)

    with kernel.transaction() as session:
        assert session.get(Product, product).cost == Decimal(1)
        [adjustment] = session.scalars(sa.select(CostAdjustment)).all()
        assert (adjustment.on_hand, adjustment.value, adjustment.value_gone) == (
            Decimal(0), Decimal(0), Decimal(1))
