"""Fixtures: a French carrier account, a settable clock, shipment requests and webhooks.

Not a ``conftest.py``: the repository's main test run collects these tests together with
its own ``tests/``, whose modules import from their ``conftest``; a second module of that
name would shadow it. Test modules take the fixtures with ``from tablerate_fixtures import *``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from erp_carrier_tablerate import TableRateCarrier, sign_tracking_webhook
from erp_sdk.drivers import Address, Parcel, ShipmentRequest, WebhookRequest

__all__ = ["carrier", "clock", "make_carrier", "make_shipment", "make_webhook", "settings"]

SECRET = "s3cr3t-shared-with-the-carrier"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class Clock:
    """The driver's clock, set by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def settings() -> dict[str, Any]:
    return {
        "carrier": "Tablerate Express",
        "currency": "EUR",
        "zones": {
            "domestic": {
                "destinations": ["FR"],
                "brackets": {"1": "4.90", "5": "7.50", "20": "12.00"},
                "per_kg_above": "0.45",
            },
            "corsica": {"destinations": ["FR:20"], "brackets": {"5": "11.00"}},
            "benelux": {"destinations": ["BE", "NL", "LU"],
                        "brackets": {"2": "9.90", "10": "15.90"}},
        },
        "services": {
            "standard": {"transit_days": 3},
            "express": {"transit_days": 1, "surcharge": "6.50", "zones": ["domestic"]},
        },
    }


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def make_carrier(settings: dict[str, Any], clock: Clock) -> Callable[..., TableRateCarrier]:
    def make(**overrides: Any) -> TableRateCarrier:
        return TableRateCarrier(settings={**settings, **overrides},
                                secrets={"webhook_secret": SECRET}, clock=clock)

    return make


@pytest.fixture
def carrier(make_carrier: Callable[..., TableRateCarrier]) -> TableRateCarrier:
    return make_carrier()


def address(country: str = "FR", postal_code: str = "69002", **fields: str) -> Address:
    defaults = {"name": "Camille Martin", "line1": "12 rue Mercière", "city": "Lyon"}
    return Address(country=country, postal_code=postal_code, **{**defaults, **fields})


def shipment(*weights: str, country: str = "FR", postal_code: str = "69002",
             reference: str = "SO-1001", service: str | None = None) -> ShipmentRequest:
    return ShipmentRequest(
        reference=reference,
        sender=address("FR", "75011", name="Atelier Lumen", line1="3 rue Oberkampf",
                       city="Paris"),
        recipient=address(country, postal_code),
        parcels=[Parcel(weight_kg=weight) for weight in weights or ("1",)],
        service=service,
    )


def tracking_webhook(*events: dict[str, str], sent_at: dt.datetime = NOW,
                     secret: str = SECRET, body: bytes | None = None) -> WebhookRequest:
    """A webhook the carrier signed with ``secret`` at ``sent_at``: ``{"events": events}``,
    or ``body`` as given."""
    if body is None:
        body = json.dumps({"events": list(events)}).encode()
    return WebhookRequest(
        headers=sign_tracking_webhook(secret, body, int(sent_at.timestamp())), body=body)


@pytest.fixture
def make_shipment() -> Callable[..., ShipmentRequest]:
    return shipment


@pytest.fixture
def make_webhook() -> Callable[..., WebhookRequest]:
    return tracking_webhook
