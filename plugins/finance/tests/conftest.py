"""Fixtures for the finance plugin's tests: a kernel with finance (and so orders, inventory
and crm) enabled, books set up from the generic chart in EUR, and a shop to sell from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from erp_core.kernel import Kernel
from erp_inventory.testing import *  # noqa: F403  (system, run, warehouse, make_product, ...)

TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture
def kernel(erp_kernel_factory: Callable[..., Kernel]) -> Kernel:
    return erp_kernel_factory("finance")


@pytest.fixture
def books(kernel: Kernel) -> Kernel:
    """The generic chart in EUR with this year's fiscal year."""
    from erp_finance.charts import setup_books

    with kernel.transaction() as session:
        setup_books(session, "generic", currency="EUR", year=TODAY.year)
    return kernel


@pytest.fixture
def shop(books: Kernel, warehouse: int, make_product: Callable[..., int]) -> dict[str, int]:
    """A channel serving the warehouse, a customer in France, two products received at
    cost (TEA-1: 10 at 1.00 then 10 at 2.00, so an average of 1.50; MUG-1: 10 at 5.00)."""
    from erp_finance.stock import book_pending_moves
    from erp_inventory.movements import receive

    tea, mug = make_product("TEA-1", price="4.20"), make_product("MUG-1", price="12.50")
    with books.context() as ctx:
        channel = ctx.records("orders.channel").create(
            {"code": "web", "name": "Web shop", "kind": "own_site", "warehouse_id": warehouse,
             "settings": {}, "secrets": {}})
        customer = ctx.records("crm.customer").create({"name": "Ada", "kind": "person"})
        address = ctx.records("crm.address").create(
            {"customer_id": customer["id"], "line1": "1 Main St", "city": "Paris",
             "country": "FR", "postal_code": "75001"})
        ctx.records("crm.customer").update(customer["id"],
                                           {"default_shipping_address_id": address["id"]})
        receive(ctx, warehouse, tea, Decimal(10), Decimal("1.00"))
        receive(ctx, warehouse, tea, Decimal(10), Decimal("2.00"))
        receive(ctx, warehouse, mug, Decimal(10), Decimal("5.00"))
        book_pending_moves(ctx.session)
        for rule in ("first_order", "address_mismatch"):
            ctx.records("orders.review_policy").create({"rule": rule, "enabled": False})
    return {"channel": channel["id"], "customer": customer["id"], "tea": tea, "mug": mug,
            "warehouse": warehouse}


@pytest.fixture
def place(books: Kernel, shop: dict[str, int]) -> Callable[..., dict[str, Any]]:
    """``place([(product, quantity, unit_price, tax_rate)], confirm=True)``: an order."""
    from erp_orders.placing import LineRequest, OrderRequest, place_order

    def make(lines: list[tuple[int, str, str, str]], *, confirm: bool = True,
             currency: str = "EUR", shipping: str = "0") -> dict[str, Any]:
        with books.context() as ctx:
            order_id, _ = place_order(ctx, OrderRequest(
                channel_id=shop["channel"], customer_id=shop["customer"],
                currency=currency, shipping_amount=Decimal(shipping),
                lines=[LineRequest(product, Decimal(quantity), unit_price=Decimal(price),
                                   tax_rate=Decimal(rate))
                       for product, quantity, price, rate in lines]))
            if confirm:
                ctx.fire("orders.order", order_id, "confirm")
            return ctx.records("orders.order").get(order_id)

    return make


@pytest.fixture
def ship(books: Kernel) -> Callable[..., dict[str, Any]]:
    def do(order_id: int, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        with books.context() as ctx:
            return ctx.fire("orders.order", order_id, "ship",
                            {"lines": lines} if lines is not None else None)

    return do
