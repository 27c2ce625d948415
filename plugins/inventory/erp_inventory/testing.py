"""Pytest fixtures for tests of inventory and of the plugins built on it.

They expect a ``kernel`` fixture (a booted kernel with inventory enabled) from the test
folder's ``conftest.py``, which imports them with ``from erp_inventory.testing import *``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from erp_inventory.catalogue import Product
from erp_inventory.warehouses import create_warehouse
from erp_sdk import Kernel, Principal

__all__ = ["make_product", "other_warehouse", "run", "system", "warehouse"]


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
