"""Order webhooks: only authentic, fresh ones are read, over real HTTP too."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from erp_channel_webstore import WebStoreChannel
from erp_channel_webstore.fakeshop import FakeShop
from erp_channel_webstore.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_headers,
)
from erp_sdk import ValidationError
from erp_sdk.drivers import ChannelOrder, WebhookRejected, WebhookRequest

pytest_plugins = ["erp_channel_webstore.testing"]


def webhook(shop: FakeShop, orders: list[dict[str, Any]], **signing: Any) -> WebhookRequest:
    headers, body = shop.order_webhook(orders, **signing)
    return WebhookRequest(headers=headers, body=body)


def test_a_signed_webhook_gives_its_orders(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    placed = [webstore_shop.add_order("WS-1"), webstore_shop.add_order("WS-2")]

    orders = webstore_channel.parse_order_webhook(webhook(webstore_shop, placed))

    assert [order.external_reference for order in orders] == ["WS-1", "WS-2"]
    assert all(isinstance(order, ChannelOrder) for order in orders)


def test_a_webhook_signed_with_another_secret_is_rejected(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    request = webhook(webstore_shop, [webstore_shop.add_order()], secret="not-the-shared-secret")

    with pytest.raises(WebhookRejected, match="signature does not match"):
        webstore_channel.parse_order_webhook(request)


def test_a_webhook_whose_body_was_altered_is_rejected(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    request = webhook(webstore_shop, [webstore_shop.add_order(lines=[("TEE", 1, "10.00")])])
    tampered = request.body.replace(b'"10.00"', b'"0.01"')

    with pytest.raises(WebhookRejected, match="signature does not match"):
        webstore_channel.parse_order_webhook(WebhookRequest(headers=request.headers, body=tampered))


def test_a_webhook_without_a_signature_is_rejected(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    request = webhook(webstore_shop, [webstore_shop.add_order()])
    headers = {k: v for k, v in request.headers.items() if k != SIGNATURE_HEADER.lower()}

    with pytest.raises(WebhookRejected, match=f"no {SIGNATURE_HEADER} header"):
        webstore_channel.parse_order_webhook(WebhookRequest(headers=headers, body=request.body))


def test_a_webhook_without_a_timestamp_is_rejected(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    request = webhook(webstore_shop, [webstore_shop.add_order()])
    headers = {k: v for k, v in request.headers.items() if k != TIMESTAMP_HEADER.lower()}

    with pytest.raises(WebhookRejected, match=f"no {TIMESTAMP_HEADER} header"):
        webstore_channel.parse_order_webhook(WebhookRequest(headers=headers, body=request.body))


def test_a_webhook_signed_longer_ago_than_the_tolerance_is_rejected(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    request = webhook(webstore_shop, [webstore_shop.add_order()], timestamp=int(time.time()) - 301)

    with pytest.raises(WebhookRejected, match="more than the 300 s allowed"):
        webstore_channel.parse_order_webhook(request)


def test_a_webhook_signed_a_little_while_ago_is_accepted(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    order = webstore_shop.add_order("WS-9")
    request = webhook(webstore_shop, [order], timestamp=int(time.time()) - 240)

    orders = webstore_channel.parse_order_webhook(request)

    assert [order.external_reference for order in orders] == ["WS-9"]


def test_a_webhook_from_the_future_is_rejected(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    request = webhook(webstore_shop, [webstore_shop.add_order()], timestamp=int(time.time()) + 3600)

    with pytest.raises(WebhookRejected, match="in the future"):
        webstore_channel.parse_order_webhook(request)


def test_a_replay_with_a_fresh_timestamp_is_rejected(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    order = webstore_shop.add_order()
    captured = webhook(webstore_shop, [order], timestamp=int(time.time()) - 3600)
    replayed = {**captured.headers, TIMESTAMP_HEADER.lower(): str(int(time.time()))}

    with pytest.raises(WebhookRejected, match="signature does not match"):
        webstore_channel.parse_order_webhook(WebhookRequest(headers=replayed, body=captured.body))


def test_the_freshness_tolerance_is_a_setting(
        webstore_shop: FakeShop, make_webstore_channel: Any) -> None:
    strict = make_webstore_channel(webhook_tolerance_seconds=60)
    request = webhook(webstore_shop, [webstore_shop.add_order()], timestamp=int(time.time()) - 120)

    with pytest.raises(WebhookRejected, match="more than the 60 s allowed"):
        strict.parse_order_webhook(request)


def test_a_timestamp_that_is_not_unix_seconds_is_rejected(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    request = webhook(webstore_shop, [webstore_shop.add_order()])
    headers = {**request.headers, TIMESTAMP_HEADER.lower(): "2026-01-01T00:00:00Z"}

    with pytest.raises(WebhookRejected, match="not a time in Unix seconds"):
        webstore_channel.parse_order_webhook(WebhookRequest(headers=headers, body=request.body))


def test_an_authentic_webhook_with_a_malformed_order_names_the_field(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    order = webstore_shop.add_order_document({"id": "WS-1", "currency": "EUR", "lines": []})

    with pytest.raises(ValidationError, match=r"orders\[0\]\.lines") as raised:
        webstore_channel.parse_order_webhook(webhook(webstore_shop, [order]))
    assert not isinstance(raised.value, WebhookRejected)


def test_an_authentic_webhook_that_is_not_json_is_a_validation_error(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    body = b"orders=WS-1"
    headers = signature_headers(webstore_shop.webhook_secret, body)

    with pytest.raises(ValidationError, match="not valid UTF-8 JSON"):
        webstore_channel.parse_order_webhook(WebhookRequest(headers=headers, body=body))


@pytest.fixture
def erp_endpoint(webstore_channel: WebStoreChannel) -> Iterator[tuple[str, list[ChannelOrder]]]:
    """A real HTTP endpoint that hands each request to ``parse_order_webhook`` as the ERP
    does: 200 with the orders kept, 401 when rejected."""
    received: list[ChannelOrder] = []

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                received.extend(webstore_channel.parse_order_webhook(
                    WebhookRequest(headers=dict(self.headers.items()), body=body)))
                status = 200
            except WebhookRejected:
                status = 401
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/webstore", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_shop_delivers_a_signed_webhook_over_http(
        webstore_shop: FakeShop, erp_endpoint: tuple[str, list[ChannelOrder]]) -> None:
    url, received = erp_endpoint
    order = webstore_shop.add_order("WS-77", lines=[("MUG", 3, "7.45")])

    delivery = webstore_shop.deliver_order_webhook(url, [order])

    assert delivery.status == 200
    assert [(o.external_reference, o.lines[0].unit_price) for o in received] == [
        ("WS-77", Decimal("7.45"))]


def test_a_webhook_delivered_with_the_wrong_secret_is_refused_over_http(
        webstore_shop: FakeShop, erp_endpoint: tuple[str, list[ChannelOrder]]) -> None:
    url, received = erp_endpoint

    order = webstore_shop.add_order()

    delivery = webstore_shop.deliver_order_webhook(url, [order], secret="guessed")

    assert delivery.status == 401
    assert received == []
