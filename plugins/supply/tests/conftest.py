"""Fixtures for the supply plugin's tests: a kernel with supply (and inventory) enabled on
a fresh database (SQLite, or a PostgreSQL schema when ERP_TEST_DATABASE_URL is set), and
factories that build suppliers, offers and purchase orders through the API.

A test module whose tests only add records of their own (their own suppliers, products
and orders, never counting what the whole database holds) shares one kernel and app for
all its tests (``share_the_kernel_per_module()``): booting and migrating a database is
most of a test's time. Codes and SKUs are numbered across the session so they never
collide in a shared database.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from supply_helpers import API, NUMBERS, ok

from erp_core.kernel import Kernel
from erp_core.settings import Settings
from erp_inventory.catalogue import Product
from erp_inventory.testing import run, system  # noqa: F401  (fixtures)
from erp_inventory.warehouses import Warehouse, create_warehouse
from erp_sdk import utcnow

pytestmark = pytest.mark.erp_plugins("supply")


@pytest.fixture
def kernel(erp_kernel: Kernel) -> Kernel:
    """The SDK kit's kernel (the one ``erp_client`` serves), for inventory's fixtures."""
    return erp_kernel


@pytest.fixture
def today() -> dt.date:
    return utcnow().date()


@pytest.fixture
def warehouse(kernel: Kernel) -> int:
    """The warehouse MAIN (made by the first test that needs it in a shared database)."""
    with kernel.transaction() as session:
        found = session.scalar(sa.select(Warehouse.id).where(Warehouse.code == "MAIN"))
        return found or create_warehouse(session, "MAIN", "Main").id


@pytest.fixture
def make_product(kernel: Kernel) -> Callable[..., int]:
    def make(cost: str = "0", price: str = "10") -> int:
        with kernel.transaction() as session:
            product = Product(sku=f"SUP-{next(NUMBERS)}", name="Thing", cost=Decimal(cost),
                              list_price=Decimal(price), version=1)
            session.add(product)
            session.flush()
            return product.id

    return make


@pytest.fixture(scope="module")
def shared_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database for a whole module: a SQLite file, or a PostgreSQL schema."""
    postgres = os.environ.get("ERP_TEST_DATABASE_URL")
    if not postgres:
        yield f"sqlite:///{tmp_path_factory.mktemp('supply') / 'erp.db'}"
        return
    schema = f"erp_test_{uuid.uuid4().hex[:12]}"
    server = sa.make_url(postgres).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(server)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        yield server.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(scope="module")
def shared_kernel(shared_database_url: str) -> Iterator[Kernel]:
    kernel = Kernel(Settings.from_env({}, database_url=shared_database_url))
    kernel.initialise()
    kernel.enable(["supply"])
    kernel.boot()
    yield kernel
    kernel.close()


@pytest.fixture(scope="module")
def shared_app(shared_kernel: Kernel) -> Any:
    from erp_core.api import create_app

    return create_app(shared_kernel)


@pytest.fixture
def make_supplier(erp_client: Any) -> Callable[..., dict[str, Any]]:
    def make(currency: str = "EUR", **fields: Any) -> dict[str, Any]:
        number = next(NUMBERS)
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
