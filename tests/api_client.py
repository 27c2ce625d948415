"""The shop test app and the one way tests talk to its HTTP API.

The app serves the test plugins ``shop`` (``shop.category`` and ``shop.product``) and
``shopx`` (loyalty fields added to ``shop.product`` in its own side table). Every HTTP
client of the entity tests comes from ``api_client`` (``shop_client`` is the usual one,
built on it), and the schemathesis run sends ``shop_api_headers`` with every generated
request; both take their credentials from ``api_credentials``, the one place that knows
how a test authenticates (a bearer token of an ``admin`` user).

Test modules take the fixtures with ``from api_client import *`` (``__all__`` lists only
fixtures) and the constants and helpers by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from kernel_testing import bearer
from litestar.testing import TestClient

from erp_core.api.app import create_app
from erp_core.kernel import Kernel

SHOP_PLUGINS = ("shop", "shopx")
CATEGORIES = "/api/v1/shop/categories"
PRODUCTS = "/api/v1/shop/products"
OPENAPI = "/schema/openapi.json"
PROBLEM_JSON = "application/problem+json"

__all__ = ["api_client", "api_credentials", "boot_shop", "make_category", "make_product",
           "shop_api_headers", "shop_api_schema", "shop_client", "shop_kernel"]
"""The fixtures, for ``from api_client import *`` in test modules (pytest finds fixtures
only in a module's own namespace or in conftest.py); import the rest by name."""


@pytest.fixture
def api_credentials(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """``api_credentials(kernel, user="admin")``: the headers that authenticate a request to
    the API of a kernel as ``user``, an ``admin`` of its database (made on first use)."""
    tokens: dict[tuple[str, str], str] = {}

    def credentials(kernel: Kernel, user: str = "admin") -> dict[str, str]:
        key = (kernel.engine.url.render_as_string(hide_password=False), user)
        if key not in tokens:
            tokens[key] = make_token(kernel, "admin", name=user)
        return bearer(tokens[key])

    return credentials


@pytest.fixture
def boot_shop(use_plugins: Callable[..., None],
              make_kernel: Callable[..., Kernel]) -> Callable[..., Kernel]:
    """Boot a kernel on this test's database with ``shop`` enabled, and ``shopx`` too unless
    ``with_loyalty=False``; keyword arguments are settings (``idempotency_ttl_seconds=1``)."""
    use_plugins(*SHOP_PLUGINS)

    def boot(*, with_loyalty: bool = True, **settings: Any) -> Kernel:
        kernel = make_kernel(**settings)
        kernel.initialise()
        kernel.enable(["shopx" if with_loyalty else "shop"])
        return kernel.boot()

    return boot


@pytest.fixture
def shop_kernel(boot_shop: Callable[..., Kernel]) -> Kernel:
    """A booted kernel with ``shop`` and ``shopx`` enabled."""
    return boot_shop()


@pytest.fixture
def api_client(api_credentials: Callable[..., dict[str, str]]
               ) -> Iterator[Callable[..., TestClient]]:
    """``api_client(kernel, user="admin")``: an HTTP client of the app of a booted kernel,
    acting as ``user``. An app reflects the plugins enabled when it is built: open a new
    client after enabling or disabling one."""
    clients: list[TestClient] = []

    def open_client(kernel: Kernel, user: str = "admin") -> TestClient:
        client = TestClient(create_app(kernel))
        client.__enter__()
        client.headers.update(api_credentials(kernel, user))
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def shop_client(shop_kernel: Kernel, api_client: Callable[..., TestClient]) -> TestClient:
    """A client of the app with ``shop`` and ``shopx`` enabled."""
    return api_client(shop_kernel)


@pytest.fixture
def shop_api_headers(shop_kernel: Kernel,
                     api_credentials: Callable[..., dict[str, str]]) -> dict[str, str]:
    """Headers for the schemathesis run: pass them with each call
    (``case.call_and_validate(headers=dict(shop_api_headers))``)."""
    return api_credentials(shop_kernel)


@pytest.fixture
def shop_api_schema(shop_kernel: Kernel, shop_api_headers: dict[str, str]) -> Any:
    """The schemathesis schema of the shop app, loaded from its own OpenAPI document."""
    return schemathesis.openapi.from_asgi(OPENAPI, create_app(shop_kernel),
                                          headers=dict(shop_api_headers))


@pytest.fixture
def make_category(shop_client: TestClient) -> Callable[..., dict[str, Any]]:
    """Create a category through the API and return it as the API shows it."""
    count = 0

    def make(**fields: Any) -> dict[str, Any]:
        nonlocal count
        count += 1
        response = shop_client.post(CATEGORIES, json={"name": f"Category {count}", **fields})
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture
def make_product(shop_client: TestClient) -> Callable[..., dict[str, Any]]:
    """Create a product through the API and return it as the API shows it."""
    count = 0

    def make(**fields: Any) -> dict[str, Any]:
        nonlocal count
        count += 1
        body = {"sku": f"SKU-{count:04d}", "name": f"Product {count:04d}", "price": "10.00",
                **fields}
        response = shop_client.post(PRODUCTS, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return make


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """Check an error response: problem+json with ``type``, ``title``, ``status`` and a
    ``detail`` a person can read (no stack trace), and an entry in ``errors`` for each
    field named; returns the problem."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    assert "Traceback" not in response.text
    for field in fields:
        assert field in problem.get("errors", {}), problem
    return problem
