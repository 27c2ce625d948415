"""What the supply tests share beyond fixtures: the API's prefix, a response check, and
sharing one kernel per test module."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from erp_core.kernel import Kernel

NUMBERS = itertools.count(1)
"""Numbers for codes, SKUs and user names, unique across the session."""

API = "/api/v1/supply"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def share_the_kernel_per_module() -> tuple[Any, Any, Any]:
    """``erp_kernel, erp_app, erp_token = share_the_kernel_per_module()`` at the top of a
    test module: the SDK kit's ``erp_kernel`` and ``erp_app`` (and so ``erp_client``)
    become one per module, and the users ``erp_token`` makes get names unique across
    it."""

    @pytest.fixture(scope="module")
    def erp_kernel(shared_kernel: Kernel) -> Kernel:
        return shared_kernel

    @pytest.fixture(scope="module")
    def erp_app(shared_app: Any) -> Any:
        return shared_app

    @pytest.fixture
    def erp_token(erp_token: Callable[..., str]) -> Callable[..., str]:
        def make(*roles: str, scope: Any = None, name: str | None = None) -> str:
            return erp_token(*roles, scope=scope, name=name or f"tester-{next(NUMBERS)}")

        return make

    return erp_kernel, erp_app, erp_token
