"""Helpers the reports plugin's tests import by name (several test folders have a
``conftest.py``; importing one by name would find whichever came first on ``sys.path``)."""

from __future__ import annotations

import os
import uuid
from typing import Any

from erp_core.kernel import Kernel
from erp_core.security.accounts import create_token, create_user

PG_URL = os.environ.get("ERP_TEST_DATABASE_URL")


def new_token(kernel: Kernel, *roles: str, scope: dict[str, Any] | None = None) -> str:
    """The bearer token of a new user holding ``roles`` within ``scope``."""
    name = f"user-{uuid.uuid4().hex[:10]}"
    with kernel.transaction() as session:
        create_user(session, name, roles, scope or {})
        _row, secret = create_token(session, name)
    return secret
