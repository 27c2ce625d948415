"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when
``ERP_TEST_DATABASE_URL`` is set) and test plugins made visible through real entry points.

Test plugins live in ``tests/fixtures/plugins/<folder>/``, each folder holding a package
and its ``*.dist-info`` (with ``entry_points.txt``); a test puts the folders it wants on
``sys.path``, so discovery goes through importlib-metadata exactly as for a pip install.
Nothing there is on the path outside the tests, so a user never sees these plugins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from kernel_testing import FIXTURE_PLUGINS, PG_URL, bearer  # noqa: F401  (re-exported)

from erp_core.kernel import Kernel
from erp_core.settings import Settings


def pytest_report_header() -> str:
    where = f"PostgreSQL {PG_URL}" if PG_URL else "SQLite (set ERP_TEST_DATABASE_URL for PG)"
    return f"database: {where}"


@pytest.fixture
def database_url(erp_database_url: str) -> str:
    """A URL to an empty database of its own for this test (the SDK kit's fixture)."""
    return erp_database_url


@pytest.fixture
def postgres_url(database_url: str) -> str:
    """The test database, which must be PostgreSQL (the test is skipped on SQLite)."""
    if not PG_URL:
        pytest.skip("needs PostgreSQL: set ERP_TEST_DATABASE_URL")
    return database_url


@pytest.fixture
def use_plugins(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make test plugin folders visible to discovery: ``use_plugins("alpha", "beta")``."""

    def use(*folders: str) -> None:
        for folder in folders:
            path = FIXTURE_PLUGINS / folder
            assert path.is_dir(), f"no test plugin folder {folder}"
            monkeypatch.syspath_prepend(str(path))

    return use


@pytest.fixture
def make_kernel(database_url: str) -> Iterator[Callable[..., Kernel]]:
    """Build kernels on this test's database; all are closed at the end of the test."""
    kernels: list[Kernel] = []

    def make(**overrides: object) -> Kernel:
        kernel = Kernel(Settings.from_env({}, database_url=database_url, **overrides))
        kernels.append(kernel)
        return kernel

    yield make
    for kernel in kernels:
        kernel.close()


@pytest.fixture
def boot_plugins(use_plugins: Callable[..., None], make_kernel: Callable[..., Kernel]
                 ) -> Callable[..., Kernel]:
    """``boot_plugins("desk", "flaky", cache_seconds=0)``: a booted kernel on this test's
    database with those test plugins enabled and those settings (each call a new one)."""

    def boot(*plugins: str, **settings: object) -> Kernel:
        use_plugins(*plugins)
        kernel = make_kernel(**settings)
        kernel.initialise()
        kernel.enable(list(plugins))
        return kernel.boot()

    return boot


@pytest.fixture
def kernel(make_kernel: Callable[..., Kernel]) -> Kernel:
    """An initialised kernel on this test's database, nothing enabled, not booted."""
    kernel = make_kernel()
    kernel.initialise()
    return kernel


@pytest.fixture
def make_token() -> Callable[..., str]:
    """``make_token(kernel, "desk.agent", scope={"customer_id": [7]})``: a new user with
    those roles and a bearer token for it (the secret is returned)."""
    from itertools import count

    from erp_core.security.accounts import create_token, create_user

    numbers = count(1)

    def make(kernel: Kernel, *roles: str, scope: dict[str, list[object]] | None = None,
             name: str | None = None) -> str:
        user = name or f"user{next(numbers)}"
        with kernel.transaction() as session:
            create_user(session, user, roles, scope)
            _token, secret = create_token(session, user)
        return secret

    return make

