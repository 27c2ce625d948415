"""The plugin author's test kit: a pytest plugin, loaded automatically once ``erp-sdk`` is
installed (entry point ``pytest11``).

Each test gets a database of its own: a SQLite file in the test's temporary directory, or
a fresh schema in the PostgreSQL database named by ``ERP_TEST_DATABASE_URL`` (dropped
after the test). A set of plugins is migrated once per test process: later tests asking
for the same set start from a copy of exactly what its migrations left
(``erp_sdk.migrated_copies``). Fixtures, all prefixed ``erp_``:

``erp_database_url``
    the URL of that empty database.
``erp_kernel_factory``
    ``erp_kernel_factory("shelf", ...)``: a kernel on that database with those plugins
    (and their dependencies) enabled through their migrations, booted; closed at the end.
``erp_kernel``
    the kernel of the plugins named by ``@pytest.mark.erp_plugins("shelf", ...)`` on the
    test (or its class or module), else by the ini option ``erp_plugins``.
``erp_principal``
    ``erp_principal("shelf.viewer", scope={"customer_id": [7]})``: a ``Principal`` with
    those roles' permissions, for ``erp_kernel.context(principal)``.
``erp_token``
    ``erp_token("shelf.viewer")``: a new user with those roles, and its bearer token.
``erp_app``, ``erp_client``, ``erp_client_for``
    the HTTP API of ``erp_kernel``; a Litestar ``TestClient`` on it sending an
    administrator's token; ``erp_client_for("shelf.viewer")``, one sending the token of a
    new user with those roles.

``assert_migrations_match_models(kernel, "shelf")`` fails listing every difference
between the tables the plugin's migrations create and the ones its models declare.
``serve(app)`` serves an app for real (uvicorn on a free local port, in a thread) and
yields its base URL, for tests whose behaviour is about HTTP itself.
``CarrierDriverConformance``: the tests every carrier driver passes, inherited by a
test class of the driver's own suite (see ``erp_sdk.conformance``).
``wait_for_lock_waiters(kernel)`` returns once another session of the PostgreSQL
database waits for a lock, for tests that hold a lock until a concurrent transaction
queues behind it.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from erp_core.migrations.check import assert_migrations_match_models
from erp_sdk import migrated_copies
from erp_sdk.conformance import CarrierDriverConformance

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import TestClient

    from erp_core.kernel import Kernel
    from erp_core.security.principal import Principal

__all__ = [  # noqa: RUF022  (plain sorted order, as tests/test_sdk_surface.py checks)
           "ADMIN_ROLE", "CarrierDriverConformance", "DATABASE_URL_VARIABLE",
           "assert_migrations_match_models", "serve", "wait_for_lock_waiters"]

DATABASE_URL_VARIABLE = "ERP_TEST_DATABASE_URL"
"""The environment variable naming a PostgreSQL database to test on instead of SQLite."""

ADMIN_ROLE = "admin"
"""The role holding every permission; ``erp_client`` sends the token of a user with it."""

_MARKER = "erp_plugins"
_INI = "erp_plugins"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(_INI, type="args", default=[],
                  help="plugins the erp_kernel fixture enables when a test has no"
                       " erp_plugins marker (erp_sdk.testing)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{_MARKER}(*names): plugins the erp_kernel fixture enables for this test"
                   " (with their dependencies)")


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(DATABASE_URL_VARIABLE)
    return "erp_sdk.testing database: " + (
        f"PostgreSQL {_hide_password(url)}" if url
        else f"SQLite (set {DATABASE_URL_VARIABLE}=postgresql://... for PostgreSQL)")


def _hide_password(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


@pytest.fixture
def erp_database_url(tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of this test's own (SQLite, or a PostgreSQL schema)."""
    postgres = os.environ.get(DATABASE_URL_VARIABLE)
    if not postgres:
        yield f"sqlite:///{tmp_path / 'erp.db'}"
        return
    from erp_core.db.engine import normalise_url

    schema = f"erp_test_{uuid.uuid4().hex[:12]}"
    server = migrated_copies.libpq_url(normalise_url(postgres))
    with migrated_copies.connect(server) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
        connection.commit()
    try:
        # Every connection of the kernel then creates and finds its tables in the schema.
        yield normalise_url(postgres).update_query_dict(
            {"options": f"{migrated_copies.SCHEMA_OPTION}{schema}"}).render_as_string(
            hide_password=False)
    finally:
        migrated_copies.POSTGRES.release_or_drop(server, schema)


@pytest.fixture
def erp_kernel_factory(erp_database_url: str) -> Iterator[Callable[..., Kernel]]:
    """``erp_kernel_factory(*plugins)``: a booted kernel on this test's database with
    ``plugins`` and their dependencies enabled (their migrations run as on a seller's
    database). Every kernel it made is closed when the test ends."""
    from erp_core.kernel import Kernel
    from erp_core.settings import Settings

    kernels: list[Kernel] = []

    def make(*plugins: str) -> Kernel:
        # The first kernel of a test starts from a copy of the plugin set's migrated
        # database when this process made one already (erp_sdk.migrated_copies).
        key = migrated_copies.key_of(plugins)
        fresh = not kernels and migrated_copies.is_empty(erp_database_url)
        copied = fresh and migrated_copies.start_from_copy(key, erp_database_url)
        # The settings ignore ERP_* variables of the environment: a test never touches
        # the database a developer's shell points at.
        kernel = Kernel(Settings.from_env({}, database_url=erp_database_url))
        kernels.append(kernel)
        if not copied:
            kernel.initialise()
            if plugins:
                kernel.enable(plugins)
            if fresh:
                migrated_copies.keep_copy(key, erp_database_url)
        return kernel.boot()

    yield make
    for kernel in reversed(kernels):
        kernel.close()


@pytest.fixture
def erp_kernel(request: pytest.FixtureRequest,
               erp_kernel_factory: Callable[..., Kernel]) -> Kernel:
    """A booted kernel with the plugins of the closest ``erp_plugins`` marker enabled, or
    else those of the ini option ``erp_plugins``."""
    marker = request.node.get_closest_marker(_MARKER)
    plugins = marker.args if marker is not None else request.config.getini(_INI)
    return erp_kernel_factory(*plugins)


def _check_roles(kernel: Kernel, roles: Iterable[str]) -> list[str]:
    roles = list(roles)
    unknown = [role for role in roles if role not in kernel.permissions.roles]
    if unknown:
        raise LookupError(
            f"unknown role {unknown[0]!r}; the enabled plugins ({', '.join(kernel.enabled)})"
            f" declare: {', '.join(sorted(kernel.permissions.roles))}")
    return roles


@pytest.fixture
def erp_principal(erp_kernel: Kernel) -> Callable[..., Principal]:
    """``erp_principal(*roles, scope=None, name="tester")``: a principal holding exactly the
    permissions ``erp_kernel`` grants those roles; ``scope`` gives the values record rules
    compare with. An unknown role raises ``LookupError`` (a typo must not silently grant
    nothing)."""
    from erp_core.security.principal import Principal

    def make(*roles: str, scope: Mapping[str, Any] | None = None,
             name: str = "tester") -> Principal:
        roles_ = _check_roles(erp_kernel, roles)
        return Principal(name=name, roles=frozenset(roles_),
                         permissions=erp_kernel.permissions.permissions_of(roles_),
                         scope=dict(scope or {}))

    return make


@pytest.fixture
def erp_token(erp_kernel: Kernel) -> Callable[..., str]:
    """``erp_token(*roles, scope=None, name=None)``: creates a user with those roles in
    ``erp_kernel``'s database and returns a bearer token for it."""
    from erp_core.security.accounts import create_token, create_user

    numbers = itertools.count(1)

    def make(*roles: str, scope: Mapping[str, Any] | None = None,
             name: str | None = None) -> str:
        roles_ = _check_roles(erp_kernel, roles)
        user = name or f"tester{next(numbers)}"
        with erp_kernel.transaction() as session:
            create_user(session, user, roles_, _json_scope(scope))
            _row, secret = create_token(session, user)
        return secret

    return make


@pytest.fixture
def erp_app(erp_kernel: Kernel) -> Litestar:
    """The HTTP API of ``erp_kernel`` (``create_app``), exactly as ``erp serve`` builds it."""
    from erp_core.api import create_app

    return create_app(erp_kernel)


@pytest.fixture
def erp_client_for(erp_app: Litestar, erp_token: Callable[..., str]
                   ) -> Iterator[Callable[..., TestClient]]:
    """``erp_client_for(*roles, scope=None)``: a test client of ``erp_app`` that sends the
    bearer token of a new user with those roles. Closed when the test ends."""
    from litestar.testing import TestClient

    with ExitStack() as stack:
        def make(*roles: str, scope: Mapping[str, Any] | None = None) -> TestClient:
            client = stack.enter_context(TestClient(app=erp_app))
            client.headers["Authorization"] = f"Bearer {erp_token(*roles, scope=scope)}"
            return client

        yield make


@pytest.fixture
def erp_client(erp_client_for: Callable[..., TestClient]) -> TestClient:
    """A test client of ``erp_app`` sending an administrator's bearer token."""
    return erp_client_for(ADMIN_ROLE)


def _json_scope(scope: Mapping[str, Any] | None) -> dict[str, Any]:
    """A scope as the user table stores it: JSON, so sets become sorted lists."""
    return {key: sorted(value) if isinstance(value, set | frozenset)
            else list(value) if isinstance(value, tuple) else value
            for key, value in dict(scope or {}).items()}


@contextmanager
def serve(app: Litestar) -> Iterator[str]:
    """Serve ``app`` for real, with uvicorn on a free port of 127.0.0.1 in a thread of this
    process, and yield its base URL (``http://127.0.0.1:PORT``); stopped on exit."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not server.started:
            raise RuntimeError("the API server did not start")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def wait_for_lock_waiters(kernel: Kernel, count: int = 1, timeout: float = 10) -> None:
    """Return once ``count`` sessions of the kernel's PostgreSQL database wait for a lock
    (a row lock another transaction holds); ``AssertionError`` after ``timeout`` seconds."""
    import sqlalchemy as sa

    deadline = time.monotonic() + timeout
    with kernel.engine.connect() as watcher:
        while True:
            waiting = watcher.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()")).scalar_one()
            watcher.rollback()
            if waiting >= count:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} session(s) never waited for a lock"
                                     f" ({waiting} did)")
            time.sleep(0.02)
