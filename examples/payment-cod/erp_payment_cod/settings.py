"""A payment account's settings and secrets, checked once when the driver is built.

Every problem is reported together in one ``ValidationError`` whose ``errors`` map the
setting to what is wrong with it; unknown keys are errors too, so a typo is not ignored.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from erp_sdk import ValidationError

DEFAULT_TOLERANCE_SECONDS = 300
_KEYS = {"currency", "max_amount", "ledger_path", "webhook_tolerance_seconds"}


@attrs.frozen
class CodSettings:
    currency: str
    max_amount: Decimal | None
    ledger_path: str | None
    webhook_tolerance: dt.timedelta
    webhook_secret: str


def read_settings(settings: Mapping[str, Any], secrets: Mapping[str, Any]) -> CodSettings:
    """Check and convert an account's settings and secrets; raise ``ValidationError``
    naming every problem."""
    errors: dict[str, str] = {}
    if not isinstance(settings, Mapping):
        errors["settings"] = f"must be a mapping, not {type(settings).__name__}"
        settings = {}
    if not isinstance(secrets, Mapping):
        errors["secrets"] = f"must be a mapping, not {type(secrets).__name__}"
        secrets = {}
    for key in sorted(set(settings) - _KEYS, key=str):
        errors[str(key)] = f"unknown setting; allowed: {', '.join(sorted(_KEYS))}"

    currency = settings.get("currency")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency.strip().upper()):
        errors["currency"] = "required: the ISO 4217 code of the cash the courier collects"
        currency = "XXX"

    max_amount = settings.get("max_amount")
    if max_amount is not None:
        max_amount = _positive_decimal(max_amount, "max_amount", errors)

    ledger_path = settings.get("ledger_path")
    if ledger_path is not None and (not isinstance(ledger_path, str) or not ledger_path.strip()):
        errors["ledger_path"] = "must be the path of a SQLite file, e.g. /var/lib/erp/cod.sqlite"

    tolerance = settings.get("webhook_tolerance_seconds", DEFAULT_TOLERANCE_SECONDS)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 1:
        errors["webhook_tolerance_seconds"] = "must be a whole number of seconds, at least 1"
        tolerance = DEFAULT_TOLERANCE_SECONDS

    secret = secrets.get("webhook_secret")
    if not isinstance(secret, str) or not secret:
        errors["secrets.webhook_secret"] = ("required: the shared secret the courier signs"
                                            " delivery notifications with")

    if errors:
        detail = "; ".join(f"{path}: {message}" for path, message in errors.items())
        raise ValidationError(f"invalid cash-on-delivery settings: {detail}", errors)
    return CodSettings(currency=currency.strip().upper(), max_amount=max_amount,
                       ledger_path=ledger_path, webhook_secret=str(secret),
                       webhook_tolerance=dt.timedelta(seconds=tolerance))


def _positive_decimal(value: Any, key: str, errors: dict[str, str]) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        hint = ' (write it as a string, e.g. "500.00")' if isinstance(value, float) else ""
        errors[key] = f"must be a decimal string, not {type(value).__name__}{hint}"
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except decimal.InvalidOperation:
        errors[key] = f"{value!r} is not a decimal number"
        return None
    if not number.is_finite() or number <= 0:
        errors[key] = f"must be greater than 0, not {value}"
        return None
    return number
