"""Fixtures of the reports plugin's tests: one database per test module with orders (so
inventory and crm) and reports enabled and a shop's master data, cleared of orders before
each test; clients of its HTTP API with the tokens of new users.

Enabling the plugins runs every migration, several seconds on a busy machine, so a module
shares its database and each test starts from a shop without orders."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient
from reports_testing import PG_URL, new_token
from sales_data import Shop, make_shop

from erp_core.api import create_app
from erp_core.kernel import Kernel
from erp_core.settings import Settings

FIXTURE_PLUGINS = Path(__file__).parent / "fixtures" / "plugins"


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database for the module: a SQLite file, or a PostgreSQL schema."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('reports') / 'erp.db'}"
        return
    schema = f"erp_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(sa.make_url(PG_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield sa.make_url(PG_URL).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def kernel(module_database_url: str) -> Iterator[Kernel]:
    """Orders, reports, and a test plugin whose agents see only their channels' orders."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(FIXTURE_PLUGINS / "channel_scope"))
        kernel = Kernel(Settings.from_env({}, database_url=module_database_url))
        kernel.initialise()
        kernel.enable(["orders", "reports", "channel_scope"])
        kernel.boot()
        yield kernel
        kernel.close()


@pytest.fixture(scope="module")
def module_shop(kernel: Kernel) -> Shop:
    return make_shop(kernel)


@pytest.fixture
def shop(module_shop: Shop, kernel: Kernel) -> Shop:
    """The module's shop, without any order, ticket or saved report yet, nor rollups (the
    orders are deleted behind the plugins' backs, which a rollup does not see)."""
    with kernel.transaction() as session:
        for table in ("orders_ticket_message", "orders_ticket", "orders_order_line",
                      "orders_order", "reports_rollup"):
            session.execute(sa.text(f"DELETE FROM {table}"))
    return module_shop


@pytest.fixture(scope="module")
def app(kernel: Kernel) -> Any:
    return create_app(kernel)


@pytest.fixture
def client_for(app: Any, kernel: Kernel) -> Iterator[Callable[..., TestClient]]:
    """``client_for(*roles, scope=None)``: a client sending a new user's token."""
    with ExitStack() as stack:
        def make(*roles: str, scope: dict[str, Any] | None = None) -> TestClient:
            client = stack.enter_context(TestClient(app=app))
            client.headers["Authorization"] = f"Bearer {new_token(kernel, *roles, scope=scope)}"
            return client

        yield make


@pytest.fixture
def admin(client_for: Callable[..., TestClient]) -> TestClient:
    """A client sending an administrator's token."""
    return client_for("admin")
