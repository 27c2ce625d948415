"""Fixtures: a EUR cash-on-delivery account on each kind of ledger, a settable clock, and
the courier's signed delivery notifications.

Not a ``conftest.py``: the repository's main test run collects these tests together with
its own ``tests/``, whose modules import from their ``conftest``; a second module of that
name would shadow it. Test modules take the fixtures with ``from cod_fixtures import *``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from erp_payment_cod import CashOnDelivery, MemoryLedger, SqliteLedger, sign_delivery_notification
from erp_sdk.drivers import Amount, PaymentRequest, WebhookRequest

__all__ = ["authorized", "captured", "clock", "cod", "ledger", "make_cod", "make_notification",
           "make_order", "settings"]

SECRET = "courier-and-shop-share-this"
NOW = dt.datetime(2026, 3, 2, 15, 10, tzinfo=dt.UTC)


class Clock:
    """The driver's clock, set by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def settings() -> dict[str, Any]:
    return {"currency": "EUR", "max_amount": "500.00"}


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryLedger | SqliteLedger:
    """Every behaviour is checked on both ledgers."""
    return MemoryLedger() if request.param == "memory" else SqliteLedger(tmp_path / "cod.sqlite")


@pytest.fixture
def make_cod(settings: dict[str, Any], clock: Clock,
             ledger: MemoryLedger | SqliteLedger) -> Callable[..., CashOnDelivery]:
    def make(**overrides: Any) -> CashOnDelivery:
        return CashOnDelivery(settings={**settings, **overrides},
                              secrets={"webhook_secret": SECRET}, clock=clock, ledger=ledger)

    return make


@pytest.fixture
def cod(make_cod: Callable[..., CashOnDelivery]) -> CashOnDelivery:
    return make_cod()


def eur(value: str) -> Amount:
    return Amount(value, "EUR")


def order(amount: str = "49.90", reference: str = "SO-1001", currency: str = "EUR"
          ) -> PaymentRequest:
    return PaymentRequest(reference=reference, amount=Amount(amount, currency))


@pytest.fixture
def authorized(cod: CashOnDelivery) -> str:
    """The provider reference of a 49.90 EUR order authorized for cash on delivery."""
    return cod.authorize(order("49.90")).provider_reference


@pytest.fixture
def captured(cod: CashOnDelivery, authorized: str) -> str:
    """The same payment, its 49.90 EUR collected."""
    cod.capture(authorized, eur("49.90"))
    return authorized


def delivery_notification(provider_reference: str = "cod:SO-1001", *,
                          event: str = "cash_collected", amount: str | None = "49.90",
                          currency: str = "EUR", event_id: str = "dlv-7781",
                          at: str = "2026-03-02T15:05:00Z", sent_at: dt.datetime = NOW,
                          secret: str = SECRET, body: bytes | None = None) -> WebhookRequest:
    """A notification the courier signed with ``secret`` at ``sent_at``."""
    if body is None:
        document: dict[str, str] = {"event_id": event_id, "event": event,
                                    "provider_reference": provider_reference, "at": at}
        if amount is not None:
            document.update(amount=amount, currency=currency)
        body = json.dumps(document).encode()
    return WebhookRequest(
        headers=sign_delivery_notification(secret, body, int(sent_at.timestamp())), body=body)


@pytest.fixture
def make_order() -> Callable[..., PaymentRequest]:
    return order


@pytest.fixture
def make_notification() -> Callable[..., WebhookRequest]:
    return delivery_notification
