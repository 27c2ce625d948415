"""Fixtures for the logistics plugin's tests: a kernel with logistics (and so orders,
inventory and crm) enabled on a fresh database (SQLite, or a PostgreSQL schema with
ERP_TEST_DATABASE_URL), a shop with a confirmed order, and carrier accounts on the
example carriers (SwiftPost through its fake API served on a local port)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from erp_carrier_swiftpost import FakeSwiftPost
from erp_core.kernel import Kernel
from erp_inventory.testing import *  # noqa: F403  (system, run, warehouse, make_product, ...)

TABLERATE_SETTINGS = {
    "carrier": "Tablerate Express", "currency": "EUR",
    "zones": {"domestic": {"destinations": ["FR"],
                           "brackets": {"1": "4.90", "5": "7.50", "20": "12.00"}},
              "europe": {"destinations": ["DE", "BE"], "brackets": {"5": "14.00"}}},
    "services": {"standard": {"transit_days": 3},
                 "express": {"transit_days": 1, "surcharge": "6.50", "zones": ["domestic"]}},
}
SHIP_FROM = {"name": "Atelier Lumen", "line1": "3 rue Oberkampf", "city": "Paris",
             "postal_code": "75011", "country": "FR"}


@pytest.fixture
def erp_kernel(erp_kernel_factory: Callable[..., Kernel]) -> Kernel:
    return erp_kernel_factory("logistics")


@pytest.fixture
def kernel(erp_kernel: Kernel) -> Kernel:
    return erp_kernel


@pytest.fixture
def shop(kernel: Kernel, warehouse: int, make_product: Callable[..., int]) -> dict[str, int]:
    """A channel, a customer, two products with 10 units each (TEA-1 at 4.20, MUG-1 at
    12.50), review rules off."""
    from erp_inventory.movements import receive

    tea, mug = make_product("TEA-1", price="4.20"), make_product("MUG-1", price="12.50")
    with kernel.context() as ctx:
        channel = ctx.records("orders.channel").create(
            {"code": "web", "name": "Web shop", "kind": "own_site", "warehouse_id": warehouse,
             "settings": {}, "secrets": {}})
        customer = ctx.records("crm.customer").create({"name": "Ada", "kind": "person"})
        for product in (tea, mug):
            receive(ctx, warehouse, product, Decimal(10), Decimal("1.00"))
        for rule in ("first_order", "address_mismatch"):
            ctx.records("orders.review_policy").create({"rule": rule, "enabled": False})
    return {"channel": channel["id"], "customer": customer["id"], "tea": tea, "mug": mug,
            "warehouse": warehouse}


@pytest.fixture
def place_order(erp_client: Any, shop: dict[str, int]) -> Callable[..., dict[str, Any]]:
    """``place_order(country="FR", tea=2, mug=1)``: a confirmed order, as the API returns it."""

    def place(country: str = "FR", tea: int = 2, mug: int = 1) -> dict[str, Any]:
        lines = [{"product_id": shop["tea"], "quantity": str(tea)}] if tea else []
        lines += [{"product_id": shop["mug"], "quantity": str(mug)}] if mug else []
        response = erp_client.post("/api/v1/orders/place", json={
            "channel_id": shop["channel"], "customer_id": shop["customer"], "lines": lines,
            "shipping_address": {"name": "Camille", "line1": "12 rue Merciere",
                                 "city": "Lyon", "postal_code": "69002", "country": country},
            "confirm": True})
        assert response.status_code == 201, response.text
        order = response.json()
        assert order["state"] == "confirmed", order
        return order

    return place


@pytest.fixture
def fake_swiftpost() -> Iterator[FakeSwiftPost]:
    with FakeSwiftPost() as api:
        yield api


@pytest.fixture
def swiftpost(erp_client: Any, fake_swiftpost: FakeSwiftPost) -> dict[str, Any]:
    """A SwiftPost carrier account on the fake API (its purchases time out after 1 s)."""
    response = erp_client.post("/api/v1/logistics/carrier-accounts", json={
        "name": "swiftpost", "driver": "swiftpost", "ship_from": SHIP_FROM,
        "settings": {"base_url": fake_swiftpost.url, "timeout_seconds": 1},
        "secrets": {"api_key": fake_swiftpost.api_key,
                    "webhook_secret": fake_swiftpost.webhook_secret}})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def tablerate(erp_client: Any) -> dict[str, Any]:
    response = erp_client.post("/api/v1/logistics/carrier-accounts", json={
        "name": "tablerate", "driver": "tablerate", "ship_from": SHIP_FROM,
        "settings": TABLERATE_SETTINGS, "secrets": {"webhook_secret": "tr-secret"}})
    assert response.status_code == 201, response.text
    return response.json()
