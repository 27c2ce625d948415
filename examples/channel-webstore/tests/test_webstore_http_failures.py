"""Every way the shop can fail becomes one clear DriverFailure."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from erp_channel_webstore import WebStoreChannel
from erp_channel_webstore.fakeshop import FakeShop
from erp_sdk.drivers import DriverFailure, StockLevel

pytest_plugins = ["erp_channel_webstore.testing"]


def test_a_server_error_is_a_driver_failure_with_the_shops_message(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    webstore_shop.fail_next(503, '{"error": "database is down"}')

    with pytest.raises(DriverFailure, match=r"GET /orders with HTTP 503.*database is down"):
        webstore_channel.fetch_orders(None)


def test_a_failed_stock_push_is_a_driver_failure(webstore_shop: FakeShop,
                                                 webstore_channel: WebStoreChannel) -> None:
    webstore_shop.fail_next(500)

    with pytest.raises(DriverFailure, match="POST /stock with HTTP 500"):
        webstore_channel.push_stock([StockLevel("TEE", 1)])


def test_a_shop_that_does_not_answer_in_time_is_a_driver_failure(
        webstore_shop: FakeShop, make_webstore_channel: Any) -> None:
    webstore_channel = make_webstore_channel(timeout_seconds="0.2")
    webstore_shop.stall_next(30)
    started = time.monotonic()

    with pytest.raises(DriverFailure, match=r"did not answer GET /orders within 0\.2 s"):
        webstore_channel.fetch_orders(None)
    assert time.monotonic() - started < 5


def test_a_shop_that_cannot_be_reached_is_a_driver_failure() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webstore_channel = WebStoreChannel(settings={"base_url": f"http://127.0.0.1:{port}"},
                              secrets={"api_key": "k", "webhook_secret": "s"})

    with pytest.raises(DriverFailure, match="cannot reach the web shop"):
        webstore_channel.fetch_orders(None)


def test_a_redirect_is_not_followed(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    webstore_shop.answer_next(302, "")

    with pytest.raises(DriverFailure, match=r"HTTP 302.*base_url"):
        webstore_channel.fetch_orders(None)
    assert len(webstore_shop.requests) == 1


def test_failure_messages_never_show_the_secrets(webstore_shop: FakeShop,
                                                 webstore_channel: WebStoreChannel) -> None:
    webstore_shop.fail_next(401, "unauthorized")

    with pytest.raises(DriverFailure) as raised:
        webstore_channel.push_stock([StockLevel("TEE", 1)])
    assert webstore_shop.api_key not in raised.value.message
    assert webstore_shop.webhook_secret not in raised.value.message
