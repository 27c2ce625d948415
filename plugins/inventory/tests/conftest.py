"""Fixtures for the inventory plugin's tests: a kernel with inventory enabled on a fresh
database (SQLite, or a PostgreSQL schema when ERP_TEST_DATABASE_URL is set)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from erp_core.kernel import Kernel
from erp_inventory.testing import *  # noqa: F403  (system, run, warehouse, make_product, ...)


@pytest.fixture
def kernel(erp_kernel_factory: Callable[..., Kernel]) -> Kernel:
    """A booted kernel with inventory (and what it depends on) enabled, from the SDK's kit."""
    return erp_kernel_factory("inventory")
