"""Fixtures: the fake SwiftPost API served on a local port, and a driver talking to it.

Not a ``conftest.py`` (see the table-rate example): modules import them with
``from swiftpost_fixtures import *``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from erp_carrier_swiftpost import FakeSwiftPost, SwiftPostCarrier
from erp_sdk.drivers import Address, Parcel, ShipmentRequest

__all__ = ["carrier", "fake_api", "request_to_lyon"]

SELLER = Address("Atelier Lumen", "3 rue Oberkampf", "Paris", "75011", "FR")
BUYER = Address("Camille Martin", "12 rue Merciere", "Lyon", "69002", "FR")


@pytest.fixture
def fake_api() -> Iterator[FakeSwiftPost]:
    with FakeSwiftPost() as api:
        yield api


@pytest.fixture
def carrier(fake_api: FakeSwiftPost) -> SwiftPostCarrier:
    return SwiftPostCarrier(settings={"base_url": fake_api.url, "timeout_seconds": 2},
                            secrets={"api_key": fake_api.api_key,
                                     "webhook_secret": fake_api.webhook_secret})


def request_to_lyon(*weights: str, key: str | None = None) -> ShipmentRequest:
    return ShipmentRequest(reference=key or "SO-1", sender=SELLER, recipient=BUYER,
                           parcels=[Parcel(w) for w in weights or ("1.2",)],
                           idempotency_key=key)
