"""The account configuration of a web shop channel, checked once when the driver is built.

Every problem is reported at once, keyed by where it is (``settings.base_url``), so a
seller fixes a configuration in one go; secret values never appear in a message.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from erp_channel_webstore.signing import DEFAULT_TOLERANCE_SECONDS
from erp_sdk import ValidationError

MAX_PAGE_SIZE = 500
MAX_TIMEOUT_SECONDS = 300


@attrs.frozen
class WebStoreSettings:
    """Where the shop is and how to talk to it."""

    base_url: str
    page_size: int = 50
    timeout_seconds: float = 10.0
    webhook_tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS


@attrs.frozen
class WebStoreSecrets:
    """``api_key`` authenticates the ERP to the shop's API; ``webhook_secret`` signs
    requests in both directions."""

    api_key: str = attrs.field(repr=False)
    webhook_secret: str = attrs.field(repr=False)


_SETTING_NAMES = tuple(field.name for field in attrs.fields(WebStoreSettings))
_SECRET_NAMES = tuple(field.name for field in attrs.fields(WebStoreSecrets))


def read_configuration(settings: Mapping[str, Any] | None,
                       secrets: Mapping[str, Any] | None
                       ) -> tuple[WebStoreSettings, WebStoreSecrets]:
    """Validate a driver account's ``settings`` and ``secrets``; raise ``ValidationError``
    naming every field that is missing, unknown or wrong."""
    settings = dict(settings or {})
    secrets = dict(secrets or {})
    errors: dict[str, str] = {}
    for name in sorted(set(settings) - set(_SETTING_NAMES)):
        errors[f"settings.{name}"] = f"unknown setting; known: {', '.join(_SETTING_NAMES)}"
    for name in sorted(set(secrets) - set(_SECRET_NAMES)):
        errors[f"secrets.{name}"] = f"unknown secret; known: {', '.join(_SECRET_NAMES)}"

    base_url = _base_url(settings.get("base_url"), errors)
    page_size = _integer(settings, "page_size", 50, 1, MAX_PAGE_SIZE, errors)
    timeout = _seconds(settings.get("timeout_seconds", 10), errors)
    tolerance = _integer(settings, "webhook_tolerance_seconds", DEFAULT_TOLERANCE_SECONDS,
                         1, 24 * 3600, errors)
    api_key = _secret(secrets, "api_key", errors)
    webhook_secret = _secret(secrets, "webhook_secret", errors)

    if errors:
        listed = "; ".join(f"{where}: {what}" for where, what in errors.items())
        raise ValidationError(f"the webstore channel's configuration is invalid: {listed}",
                              errors=errors)
    return (WebStoreSettings(base_url, page_size, timeout, tolerance),
            WebStoreSecrets(api_key, webhook_secret))


def _base_url(value: Any, errors: dict[str, str]) -> str:
    where = "settings.base_url"
    if value is None or value == "":
        errors[where] = "required: the shop's API address, such as https://shop.example/api"
        return ""
    if not isinstance(value, str):
        errors[where] = "must be a text URL"
        return ""
    parts = urllib.parse.urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors[where] = f"{value!r} is not an http:// or https:// URL with a host"
    elif parts.query or parts.fragment:
        errors[where] = f"{value!r} must not have a query or fragment"
    elif parts.username or parts.password:
        errors[where] = "must not hold credentials; the API key goes in secrets.api_key"
    return value.strip().rstrip("/")


def _integer(settings: Mapping[str, Any], name: str, default: int, low: int, high: int,
             errors: dict[str, str]) -> int:
    value = settings.get(name, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        errors[f"settings.{name}"] = f"must be a whole number, got {value!r}"
        return default
    if not low <= value <= high:
        errors[f"settings.{name}"] = f"must be between {low} and {high}, got {value}"
    return value


def _seconds(value: Any, errors: dict[str, str]) -> float:
    where = "settings.timeout_seconds"
    try:
        if isinstance(value, bool):
            raise TypeError
        seconds = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except (TypeError, ValueError, InvalidOperation):
        errors[where] = f"must be a number of seconds, got {value!r}"
        return 0.0
    if not seconds.is_finite() or not 0 < seconds <= MAX_TIMEOUT_SECONDS:
        errors[where] = f"must be more than 0 and at most {MAX_TIMEOUT_SECONDS}, got {value}"
    return float(seconds) if seconds.is_finite() else 0.0


def _secret(secrets: Mapping[str, Any], name: str, errors: dict[str, str]) -> str:
    value = secrets.get(name)
    if not isinstance(value, str) or not value.strip():
        errors[f"secrets.{name}"] = "required: a non-empty text"
        return ""
    return value
