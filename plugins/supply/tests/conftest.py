"""Fixtures for the supply plugin's tests: a kernel with supply (and inventory) enabled on
a fresh database (SQLite, or a PostgreSQL schema when ERP_TEST_DATABASE_URL is set), and
factories that build suppliers, offers and purchase orders through the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from erp_core.kernel import Kernel
from erp_inventory.testing import *  # noqa: F403  (system, run, warehouse, make_product, ...)
from erp_sdk import utcnow

pytestmark = pytest.mark.erp_plugins("supply")

API = "/api/v1/supply"


@pytest.fixture
def kernel(erp_kernel: Kernel) -> Kernel:
    """The SDK kit's kernel (the one ``erp_client`` serves), for inventory's fixtures."""
    return erp_kernel


@pytest.fixture
def today() -> dt.date:
    return utcnow().date()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def make_supplier(erp_client: Any) -> Callable[..., dict[str, Any]]:
    numbers = iter(range(1, 1000))

    def make(currency: str = "EUR", **fields: Any) -> dict[str, Any]:
        number = next(numbers)
        return ok(erp_client.post(f"{API}/suppliers", json={
            "code": f"S{number}", "name": f"Supplier {number}", "currency": currency,
            **fields}), 201)

    return make


@pytest.fixture
def make_offer(erp_client: Any) -> Callable[..., dict[str, Any]]:
    def make(supplier: dict[str, Any], product_id: int, breaks: dict[str, str],
             **fields: Any) -> dict[str, Any]:
        offer = ok(erp_client.post(f"{API}/supplier-products", json={
            "supplier_id": supplier["id"], "product_id": product_id,
            "currency": supplier["currency"], **fields}), 201)
        for minimum, price in breaks.items():
            ok(erp_client.post(f"{API}/price-breaks", json={
                "supplier_product_id": offer["id"], "minimum_quantity": minimum,
                "unit_price": price}), 201)
        return offer

    return make


@pytest.fixture
def make_order(erp_client: Any, warehouse: int) -> Callable[..., dict[str, Any]]:
    """``make_order(supplier, [(product_id, quantity, unit_price), ...], state=...)``."""

    def make(supplier: dict[str, Any], lines: list[tuple[int, str, str]], *,
             state: str = "confirmed", **fields: Any) -> dict[str, Any]:
        order = ok(erp_client.post(f"{API}/purchase-orders", json={
            "supplier_id": supplier["id"], "warehouse_id": fields.pop("warehouse_id", warehouse),
            **fields}), 201)
        order["lines"] = [ok(erp_client.post(f"{API}/purchase-order-lines", json={
            "order_id": order["id"], "product_id": product_id, "quantity": quantity,
            "unit_price": price, **({"expected_date": fields["expected_date"]}
                                    if "expected_date" in fields else {})}), 201)
            for product_id, quantity, price in lines]
        for transition in {"draft": [], "sent": ["send"],
                           "confirmed": ["send", "confirm"]}[state]:
            ok(erp_client.post(f"{API}/purchase-orders/{order['id']}/{transition}"))
        return order

    return make
