"""Warehouses and locations created and edited through the API and the ``erp`` command,
under the rules the ledger relies on."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from erp_core.cli import main
from erp_inventory.movements import receive

pytestmark = pytest.mark.erp_plugins("inventory")

WAREHOUSES = "/api/v1/inventory/warehouses"
LOCATIONS = "/api/v1/inventory/locations"


@pytest.fixture
def kernel(erp_kernel):
    """The kernel behind ``erp_client``, for the inventory fixtures (``make_product``)."""
    return erp_kernel


@pytest.fixture
def erp(erp_kernel, erp_database_url):
    """``erp(*args)``: run ``erp --database-url <this test's database> ARGS`` in-process."""
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, ["--database-url", erp_database_url, *args],
                             env={"ERP_DATABASE_URL": None})

    return run


def create(client, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def locations_of(client, warehouse_id: int) -> dict[str, dict]:
    response = client.get(LOCATIONS, params={"warehouse_id": warehouse_id})
    assert response.status_code == 200, response.text
    return {location["kind"]: location for location in response.json()["items"]}


def test_a_warehouse_created_through_the_api_gets_storage_input_and_output(erp_client):
    north = create(erp_client, WAREHOUSES, {"code": "NORTH", "name": "North hub"})
    found = locations_of(erp_client, north["id"])
    assert {kind: location["code"] for kind, location in found.items()} == {
        "storage": "NORTH/storage", "input": "NORTH/input", "output": "NORTH/output"}


def test_a_new_warehouse_takes_stock_at_once(erp_client, erp_kernel, make_product):
    north = create(erp_client, WAREHOUSES, {"code": "NORTH", "name": "North hub"})
    tea = make_product("TEA-1")
    with erp_kernel.context() as ctx:
        receive(ctx, north["id"], tea, Decimal(5), Decimal("1.00"))
    response = erp_client.get("/api/v1/inventory/stock-levels",
                              params={"warehouse_id": north["id"], "product_id": tea})
    assert [level["on_hand"] for level in response.json()["items"]] == ["5.0000"]


def test_a_warehouse_code_is_unique(erp_client):
    create(erp_client, WAREHOUSES, {"code": "NORTH", "name": "North hub"})
    response = erp_client.post(WAREHOUSES, json={"code": "NORTH", "name": "Again"})
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert erp_client.get(WAREHOUSES, params={"code": "NORTH"}).json()["items"][0]["name"] \
        == "North hub"


def test_a_warehouse_is_renamed_and_closed_through_the_api(erp_client):
    north = create(erp_client, WAREHOUSES, {"code": "NORTH", "name": "North hub"})
    response = erp_client.patch(f"{WAREHOUSES}/{north['id']}",
                                json={"name": "North", "active": False})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["active"]) == ("North", False)


def test_a_location_is_added_to_a_warehouse(erp_client):
    north = create(erp_client, WAREHOUSES, {"code": "NORTH", "name": "North hub"})
    shelf = create(erp_client, LOCATIONS, {"code": "NORTH/shelf-2", "name": "Shelf 2",
                                           "kind": "storage", "warehouse_id": north["id"]})
    assert (shelf["kind"], shelf["warehouse_id"]) == ("storage", north["id"])


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "shelf", "warehouse_id": None}, "kind"),
    ({"kind": "storage", "warehouse_id": None}, "warehouse_id"),
    ({"kind": "transit", "warehouse_id": "north"}, "warehouse_id"),
])
def test_a_location_must_fit_its_kind(erp_client, body, field):
    north = create(erp_client, WAREHOUSES, {"code": "NORTH", "name": "North hub"})
    if body["warehouse_id"] == "north":
        body = {**body, "warehouse_id": north["id"]}
    response = erp_client.post(LOCATIONS, json={"code": "X", "name": "X", **body})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.json()["errors"]
    assert erp_client.get(LOCATIONS, params={"code": "X"}).json()["items"] == []


def test_a_storage_location_cannot_become_virtual_while_it_names_a_warehouse(erp_client):
    north = create(erp_client, WAREHOUSES, {"code": "NORTH", "name": "North hub"})
    storage = locations_of(erp_client, north["id"])["storage"]
    response = erp_client.patch(f"{LOCATIONS}/{storage['id']}", json={"kind": "transit"})
    assert response.status_code == 422, response.text
    assert "warehouse_id" in response.json()["errors"]


def test_a_location_with_stock_history_keeps_its_kind_and_warehouse(
        erp_client, erp_kernel, make_product):
    north = create(erp_client, WAREHOUSES, {"code": "NORTH", "name": "North hub"})
    south = create(erp_client, WAREHOUSES, {"code": "SOUTH", "name": "South hub"})
    storage = locations_of(erp_client, north["id"])["storage"]
    with erp_kernel.context() as ctx:
        receive(ctx, north["id"], make_product("TEA-1"), Decimal(5), Decimal("1.00"))
    for change in ({"kind": "input"}, {"warehouse_id": south["id"]}):
        response = erp_client.patch(f"{LOCATIONS}/{storage['id']}", json=change)
        assert response.status_code == 409, response.text
        assert "stock history" in response.json()["detail"]
    renamed = erp_client.patch(f"{LOCATIONS}/{storage['id']}", json={"name": "Main floor"})
    assert renamed.status_code == 200, renamed.text


def test_a_virtual_location_with_stock_history_keeps_its_code(erp_client, erp_kernel,
                                                              make_product):
    north = create(erp_client, WAREHOUSES, {"code": "NORTH", "name": "North hub"})
    with erp_kernel.context() as ctx:
        receive(ctx, north["id"], make_product("TEA-1"), Decimal(5), Decimal("1.00"))
    [supplier] = erp_client.get(LOCATIONS, params={"code": "virtual/supplier"}).json()["items"]
    response = erp_client.patch(f"{LOCATIONS}/{supplier['id']}", json={"code": "vendors"})
    assert response.status_code == 409, response.text


def test_the_cli_creates_lists_and_updates_warehouses(erp):
    created = erp("inventory", "warehouses", "create", "NORTH", "North hub")
    assert created.exit_code == 0, created.output
    assert "NORTH/storage" in created.output
    assert erp("inventory", "warehouses", "update", "NORTH", "--name", "North",
               "--inactive").exit_code == 0
    listed = erp("inventory", "warehouses", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [(w["code"], w["name"], w["active"]) for w in json.loads(listed.output)] == [
        ("NORTH", "North", False)]


def test_the_cli_creates_lists_and_updates_locations(erp):
    assert erp("inventory", "warehouses", "create", "NORTH", "North hub").exit_code == 0
    created = erp("inventory", "locations", "create", "NORTH/cold", "Cold room",
                  "--kind", "storage", "--warehouse", "NORTH")
    assert created.exit_code == 0, created.output
    assert erp("inventory", "locations", "update", "NORTH/cold", "--name",
               "Cold store").exit_code == 0
    listed = erp("inventory", "locations", "list", "--warehouse", "NORTH", "--json")
    assert listed.exit_code == 0, listed.output
    assert {(loc["code"], loc["name"]) for loc in json.loads(listed.output)} >= {
        ("NORTH/cold", "Cold store"), ("NORTH/storage", "North hub storage")}
    text = erp("inventory", "locations", "list")
    assert "NORTH/cold  storage  Cold store" in text.output


def test_the_cli_refuses_a_location_that_does_not_fit_its_kind(erp):
    result = erp("inventory", "locations", "create", "NOWHERE", "Nowhere", "--kind", "storage")
    assert result.exit_code == 1
    assert "belongs to a warehouse" in result.output
    assert "NOWHERE" not in erp("inventory", "locations", "list").output


def test_the_cli_names_an_unknown_warehouse(erp):
    result = erp("inventory", "warehouses", "update", "NOPE", "--name", "x")
    assert result.exit_code == 1
    assert "no warehouse has the code 'NOPE'" in result.output
