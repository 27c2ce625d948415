"""Pulling orders from the shop's API page by page, over real HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from erp_channel_webstore import WebStoreChannel
from erp_channel_webstore.fakeshop import FakeShop
from erp_sdk.drivers import DriverFailure, OrderBatch

pytest_plugins = ["erp_channel_webstore.testing"]


def drain(webstore_channel: WebStoreChannel, cursor: str | None) -> tuple[list[str], str | None]:
    """Fetch pages until an empty one, as an import job does; the references and the
    cursor to keep."""
    references: list[str] = []
    while True:
        batch = webstore_channel.fetch_orders(cursor)
        cursor = batch.next_cursor
        if not batch.orders:
            return references, cursor
        references += [order.external_reference for order in batch.orders]


def test_the_first_page_holds_the_oldest_orders_up_to_the_page_size(
        webstore_shop: FakeShop, make_webstore_channel: Any) -> None:
    for number in range(5):
        webstore_shop.add_order(f"WS-{number}")

    batch = make_webstore_channel(page_size=2).fetch_orders(None)

    assert isinstance(batch, OrderBatch)
    assert [order.external_reference for order in batch.orders] == ["WS-0", "WS-1"]
    assert batch.next_cursor


def test_following_the_cursor_returns_every_order_once_in_order(
        webstore_shop: FakeShop, make_webstore_channel: Any) -> None:
    for number in range(7):
        webstore_shop.add_order(f"WS-{number}")

    references, _ = drain(make_webstore_channel(page_size=3), None)

    assert references == [f"WS-{number}" for number in range(7)]


def test_resuming_from_a_kept_cursor_returns_only_new_orders(
        webstore_shop: FakeShop, make_webstore_channel: Any) -> None:
    webstore_channel = make_webstore_channel(page_size=2)
    for number in range(3):
        webstore_shop.add_order(f"WS-{number}")
    first, cursor = drain(webstore_channel, None)
    webstore_shop.add_order("WS-3")
    webstore_shop.add_order("WS-4")

    second, _ = drain(webstore_channel, cursor)

    assert (first, second) == (["WS-0", "WS-1", "WS-2"], ["WS-3", "WS-4"])


def test_polling_when_nothing_is_new_keeps_the_cursor(webstore_shop: FakeShop,
                                                     webstore_channel: WebStoreChannel) -> None:
    webstore_shop.add_order("WS-0")
    cursor = webstore_channel.fetch_orders(None).next_cursor

    batch = webstore_channel.fetch_orders(cursor)

    assert batch.orders == ()
    assert batch.next_cursor == cursor


def test_an_empty_shop_gives_an_empty_batch(webstore_channel: WebStoreChannel) -> None:
    assert webstore_channel.fetch_orders(None) == OrderBatch((), None)


def test_the_request_carries_the_api_key_page_size_and_cursor(
        webstore_shop: FakeShop, make_webstore_channel: Any) -> None:
    webstore_shop.add_order("WS-0")
    webstore_channel = make_webstore_channel(page_size=25)
    cursor = webstore_channel.fetch_orders(None).next_cursor

    webstore_channel.fetch_orders(cursor)

    first, second = webstore_shop.requests
    assert first.headers["x-api-key"] == webstore_shop.api_key
    assert first.query == {"limit": "25"}
    assert second.query == {"limit": "25", "after": cursor}


def test_pulled_orders_keep_their_amounts_to_the_cent(webstore_shop: FakeShop,
                                                      webstore_channel: WebStoreChannel) -> None:
    webstore_shop.add_order("WS-0", lines=[("TEE", 3, Decimal("19.99"), Decimal("0.01")),
                                  ("MUG", 1, "0.10")], shipping_amount=Decimal("4.95"))

    (order,) = webstore_channel.fetch_orders(None).orders

    assert [(line.unit_price, line.discount) for line in order.lines] == [
        (Decimal("19.99"), Decimal("0.01")), (Decimal("0.10"), Decimal(0))]
    assert order.shipping_amount == Decimal("4.95")


def test_a_wrong_api_key_is_a_driver_failure_that_does_not_show_the_key(
        webstore_shop: FakeShop) -> None:
    secrets = {**webstore_shop.channel_secrets(), "api_key": "stale-key-123"}
    channel = WebStoreChannel(settings=webstore_shop.channel_settings(), secrets=secrets)

    with pytest.raises(DriverFailure, match=r"HTTP 401.*api_key") as raised:
        channel.fetch_orders(None)
    assert "stale-key-123" not in raised.value.message


def test_an_order_the_erp_cannot_read_is_a_driver_failure_naming_it(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    webstore_shop.add_order_document({"id": "WS-BAD", "currency": "EUR", "lines": "none"})

    with pytest.raises(DriverFailure, match=r"GET /orders\.orders\[0\]\.lines"):
        webstore_channel.fetch_orders(None)


def test_a_page_that_is_not_json_is_a_driver_failure(webstore_shop: FakeShop,
                                                     webstore_channel: WebStoreChannel) -> None:
    webstore_shop.answer_next(200, "<html>maintenance</html>")

    with pytest.raises(DriverFailure, match=r"not valid JSON.*maintenance"):
        webstore_channel.fetch_orders(None)


def test_a_page_of_orders_without_a_next_cursor_is_a_driver_failure(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    order = webstore_shop.add_order("WS-0")
    _, body = webstore_shop.order_webhook([order])  # {"orders": [...]} and no next_cursor
    webstore_shop.answer_next(200, body)

    with pytest.raises(DriverFailure, match="without a next_cursor"):
        webstore_channel.fetch_orders(None)
