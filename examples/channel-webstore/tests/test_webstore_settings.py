"""The account configuration is checked when the driver is built."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import pytest

from erp_channel_webstore import WebStoreChannel
from erp_sdk import ValidationError
from erp_sdk.drivers import SalesChannel

SECRETS = {"api_key": "key-123", "webhook_secret": "whsec-456"}


def build(settings: dict[str, Any], secrets: dict[str, Any] = SECRETS) -> WebStoreChannel:
    return WebStoreChannel(settings=settings, secrets=secrets)


def errors_of(settings: dict[str, Any], secrets: dict[str, Any] = SECRETS) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        build(settings, secrets)
    return raised.value.errors


def test_a_base_url_and_two_secrets_are_enough() -> None:
    channel = build({"base_url": "https://webstore_shop.example/api/"})

    assert channel.settings.base_url == "https://webstore_shop.example/api"
    assert (channel.settings.page_size, channel.settings.timeout_seconds,
            channel.settings.webhook_tolerance_seconds) == (50, 10.0, 300)


def test_numbers_given_as_text_are_accepted() -> None:
    channel = build({"base_url": "http://localhost:8080", "page_size": "25",
                     "timeout_seconds": "2.5"})

    assert (channel.settings.page_size, channel.settings.timeout_seconds) == (25, 2.5)


def test_every_missing_field_is_reported_at_once() -> None:
    errors = errors_of({}, {})

    assert set(errors) == {"settings.base_url", "secrets.api_key", "secrets.webhook_secret"}


@pytest.mark.parametrize("base_url", [
    "webstore_shop.example", "ftp://webstore_shop.example", "https://", "https://webstore_shop.example/api?x=1",
    "https://user:pw@webstore_shop.example", 42,
])
def test_a_base_url_that_is_not_an_http_address_is_refused(base_url: Any) -> None:
    assert list(errors_of({"base_url": base_url})) == ["settings.base_url"]


@pytest.mark.parametrize(("name", "value"), [
    ("page_size", 0), ("page_size", 501), ("page_size", "many"), ("page_size", True),
    ("page_size", 2.5), ("timeout_seconds", 0), ("timeout_seconds", -1),
    ("timeout_seconds", "soon"), ("timeout_seconds", 3600), ("timeout_seconds", "inf"),
    ("webhook_tolerance_seconds", 0),
])
def test_an_out_of_range_number_is_refused(name: str, value: Any) -> None:
    assert list(errors_of({"base_url": "https://webstore_shop.example", name: value})) == [
        f"settings.{name}"]


def test_a_misspelt_setting_is_refused_with_the_known_names() -> None:
    errors = errors_of({"base_url": "https://webstore_shop.example", "pagesize": 10})

    assert "page_size" in errors["settings.pagesize"]


def test_an_empty_secret_is_refused() -> None:
    errors = errors_of({"base_url": "https://webstore_shop.example"}, {**SECRETS, "api_key": " "})

    assert list(errors) == ["secrets.api_key"]


def test_secrets_appear_neither_in_errors_nor_in_the_drivers_repr() -> None:
    with pytest.raises(ValidationError) as raised:
        build({"base_url": "nope"})
    channel = build({"base_url": "https://webstore_shop.example"})

    for text in (raised.value.message, repr(channel), repr(channel.settings)):
        assert "key-123" not in text and "whsec-456" not in text


def test_the_driver_is_installed_under_the_sales_channel_namespace() -> None:
    (entry_point,) = entry_points(group="erp.sales_channels", name="webstore")

    assert entry_point.load() is WebStoreChannel
    assert entry_point.dist is not None and entry_point.dist.name == "erp-channel-webstore"


def test_the_driver_implements_the_sales_channel_protocol() -> None:
    assert isinstance(build({"base_url": "https://webstore_shop.example"}), SalesChannel)
