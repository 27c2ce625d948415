"""Stock levels and shipments pushed to the shop arrive signed and exact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from erp_channel_webstore import WebStoreChannel
from erp_channel_webstore.driver import STOCK_LEVELS_PER_REQUEST
from erp_channel_webstore.fakeshop import FakeShop
from erp_channel_webstore.signing import verify_signed_request
from erp_sdk import ValidationError
from erp_sdk.drivers import DriverFailure, ShipmentNotice, StockLevel

pytest_plugins = ["erp_channel_webstore.testing"]


def test_stock_levels_arrive_at_the_shop(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    webstore_channel.push_stock([StockLevel("TEE-M", 12), StockLevel("FLOUR-KG", "2.5")])

    assert webstore_shop.stock == {"TEE-M": Decimal(12), "FLOUR-KG": Decimal("2.5")}
    assert webstore_shop.stock_updates == [{"levels": [{"sku": "TEE-M", "available": "12"},
                                              {"sku": "FLOUR-KG", "available": "2.5"}]}]


def test_a_stock_push_carries_a_valid_signature_and_the_api_key(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    webstore_channel.push_stock([StockLevel("TEE-M", 1)])

    (request,) = webstore_shop.requests
    assert (request.method, request.path, request.status) == ("POST", "/stock", 200)
    assert request.headers["x-api-key"] == webstore_shop.api_key
    assert request.headers["content-type"] == "application/json"
    verify_signed_request(webstore_shop.webhook_secret, request.headers, request.body)


def test_a_stock_push_signed_with_the_wrong_secret_is_refused_by_the_shop(
        webstore_shop: FakeShop) -> None:
    secrets = {**webstore_shop.channel_secrets(), "webhook_secret": "old"}
    channel = WebStoreChannel(settings=webstore_shop.channel_settings(), secrets=secrets)

    with pytest.raises(DriverFailure, match="POST /stock with HTTP 401"):
        channel.push_stock([StockLevel("TEE-M", 1)])
    assert webstore_shop.stock_updates == []


def test_an_empty_stock_push_sends_nothing(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    webstore_channel.push_stock([])

    assert webstore_shop.requests == []


def test_a_large_catalogue_is_pushed_in_several_requests(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    count = 2 * STOCK_LEVELS_PER_REQUEST + 1

    webstore_channel.push_stock([StockLevel(f"SKU-{n}", n) for n in range(count)])

    assert [len(update["levels"]) for update in webstore_shop.stock_updates] == [
        STOCK_LEVELS_PER_REQUEST, STOCK_LEVELS_PER_REQUEST, 1]
    assert len(webstore_shop.stock) == count


def test_a_shipment_arrives_at_the_shop_signed(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    webstore_shop.add_order("WS-1001")
    shipped_at = dt.datetime(2026, 3, 2, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))

    webstore_channel.push_shipment(ShipmentNotice("WS-1001", "dhl", "JJD000123", shipped_at))

    assert webstore_shop.shipments == [{"order_id": "WS-1001", "carrier": "dhl",
                               "tracking_number": "JJD000123",
                               "shipped_at": "2026-03-02T14:30:00Z"}]
    (request,) = webstore_shop.requests
    verify_signed_request(webstore_shop.webhook_secret, request.headers, request.body)


def test_a_shipment_for_an_order_the_shop_does_not_know_is_a_driver_failure(
        webstore_channel: WebStoreChannel) -> None:
    notice = ShipmentNotice("WS-404", "dhl", "JJD1", dt.datetime.now(dt.UTC))

    with pytest.raises(DriverFailure, match=r"HTTP 404.*WS-404"):
        webstore_channel.push_shipment(notice)


def test_a_shipment_time_without_a_zone_is_refused_before_sending(
        webstore_shop: FakeShop, webstore_channel: WebStoreChannel) -> None:
    notice = ShipmentNotice("WS-1", "dhl", "JJD1", dt.datetime(2026, 3, 2, 16, 30))  # noqa: DTZ001

    with pytest.raises(ValidationError, match="timezone-aware"):
        webstore_channel.push_shipment(notice)
    assert webstore_shop.requests == []
