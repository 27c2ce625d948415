"""The app with every installed plugin enabled and its demo data, as ``erp demo`` serves it.

The tests of the whole API (its OpenAPI document, its reference page, the bad-input suite
and the schemathesis run) use it; ``from first_party_api import *`` brings the fixtures,
the rest is imported by name.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from kernel_testing import bearer
from litestar.testing import TestClient

from erp_core.api.app import create_app
from erp_core.kernel import Kernel
from erp_sdk import migrated_copies

FIRST_PARTY = ("inventory", "orders", "crm", "finance", "logistics", "supply", "reports",
               "promotions")
OPENAPI = "/schema/openapi.json"

__all__ = ["full_admin_headers", "full_app", "full_client", "full_document", "full_kernel",
           "full_server"]


@pytest.fixture
def full_kernel(make_kernel: Callable[..., Kernel], database_url: str) -> Kernel:
    """A booted kernel with every installed plugin enabled (the first-party ones at least)
    and their demo data loaded, as ``erp demo`` prepares it. Loading the demo data is most
    of the cost, so a test process does it once and later tests start from a copy of
    that database (``erp_sdk.migrated_copies``, as the kit does for migrations)."""
    key = migrated_copies.key_of(("every installed plugin, with its demo data",))
    fresh = migrated_copies.is_empty(database_url)
    copied = fresh and migrated_copies.start_from_copy(key, database_url)
    kernel = make_kernel()
    if copied:
        kernel.boot()
    else:
        kernel.initialise()
        kernel.enable(list(kernel.plugins.order))
        kernel.boot()
        with kernel.transaction() as session:
            kernel.contribute("erp_load_demo_data", session=session, kernel=kernel)
        if fresh:
            migrated_copies.keep_copy(key, database_url)
    assert set(FIRST_PARTY) <= set(kernel.enabled), kernel.enabled
    return kernel


@pytest.fixture
def full_app(full_kernel: Kernel) -> Any:
    return create_app(full_kernel)


@pytest.fixture
def full_admin_headers(full_kernel: Kernel, make_token: Callable[..., str]) -> dict[str, str]:
    """The Authorization header of an ``admin`` of the app with every plugin."""
    return bearer(make_token(full_kernel, "admin", name="admin"))


@pytest.fixture
def full_client(full_app: Any, full_admin_headers: dict[str, str]) -> Iterator[TestClient]:
    """An admin's client of the app with every plugin."""
    with TestClient(full_app) as client:
        client.headers.update(full_admin_headers)
        yield client


@pytest.fixture
def full_document(full_client: TestClient) -> dict[str, Any]:
    response = full_client.get(OPENAPI)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def full_server(full_app: Any) -> Iterator[str]:
    """The app behind a real uvicorn server on a free local port; yields its base URL."""
    config = uvicorn.Config(full_app, host="127.0.0.1", port=0, log_level="warning",
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the server did not start")
        threading.Event().wait(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def database_fingerprint(kernel: Kernel) -> Callable[[], dict[str, tuple[int, str]]]:
    """A function returning every table's row count and a hash of its rows in primary-key
    order, for the tables of ``kernel``'s database now: equal fingerprints mean nothing
    was written."""
    metadata = sa.MetaData()
    metadata.reflect(kernel.engine)
    statements = {name: sa.select(table).order_by(
        *(list(table.primary_key.columns) or list(table.columns)))
        for name, table in sorted(metadata.tables.items())}

    def fingerprint() -> dict[str, tuple[int, str]]:
        prints = {}
        with kernel.engine.connect() as connection:
            for name, statement in statements.items():
                rows = connection.execute(statement).all()
                digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
                prints[name] = (len(rows), digest)
        return prints

    return fingerprint
