"""Fixtures for the inventory plugin's tests: a kernel with inventory enabled on a fresh
database (SQLite, or a PostgreSQL schema when ERP_TEST_DATABASE_URL is set)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from erp_core.kernel import Kernel
from erp_inventory.catalogue import Product
from erp_inventory.warehouses import create_warehouse
from erp_sdk import Principal


@pytest.fixture
def kernel(erp_kernel_factory: Callable[..., Kernel]) -> Kernel:
    """A booted kernel with inventory (and what it depends on) enabled, from the SDK's kit."""
    return erp_kernel_factory("inventory")


@pytest.fixture
def system() -> Principal:
    return Principal.system("test")


@pytest.fixture
def run(kernel: Kernel, system: Principal) -> Callable[..., object]:
    """``run(fn, *args)``: call ``fn(ctx, *args)`` in its own committed transaction."""

    def call(function: Callable[..., object], *args: object, principal: Principal | None = None,
             **kwargs: object) -> object:
        with kernel.context(principal or system) as ctx:
            return function(ctx, *args, **kwargs)

    return call


@pytest.fixture
def warehouse(kernel: Kernel) -> int:
    with kernel.transaction() as session:
        return create_warehouse(session, "MAIN", "Main").id


@pytest.fixture
def other_warehouse(kernel: Kernel) -> int:
    with kernel.transaction() as session:
        return create_warehouse(session, "EAST", "East").id


@pytest.fixture
def make_product(kernel: Kernel) -> Callable[..., int]:
    numbers = iter(range(1, 10_000))

    def make(sku: str | None = None, cost: str = "0", price: str = "10") -> int:
        with kernel.transaction() as session:
            product = Product(sku=sku or f"SKU-{next(numbers)}", name="Thing",
                              cost=Decimal(cost), list_price=Decimal(price), version=1)
            session.add(product)
            session.flush()
            return product.id

    return make


