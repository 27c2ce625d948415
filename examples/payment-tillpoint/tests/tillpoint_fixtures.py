"""Fixtures: the fake Tillpoint API served on a local port, and a driver talking to it.

Not a ``conftest.py``: modules import them with ``from tillpoint_fixtures import *``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from erp_payment_tillpoint import FakeTillpoint, TillpointProvider

__all__ = ["fake_api", "provider"]


@pytest.fixture
def fake_api() -> Iterator[FakeTillpoint]:
    with FakeTillpoint(decline_amounts=("66.60",)) as api:
        yield api


@pytest.fixture
def provider(fake_api: FakeTillpoint) -> TillpointProvider:
    return TillpointProvider(settings={"base_url": fake_api.url, "timeout_seconds": 2},
                             secrets={"api_key": fake_api.api_key,
                                      "webhook_secret": fake_api.webhook_secret})
