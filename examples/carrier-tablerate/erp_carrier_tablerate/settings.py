"""A carrier account's settings and secrets, checked once when the driver is built.

Every problem is collected and reported together in one ``ValidationError`` whose
``errors`` map a dotted settings path (``zones.domestic.brackets``) to what is wrong, so a
seller fixes a configuration in one go. Unknown keys are errors too: a typo such as
``per_kg_abvoe`` must not silently drop a surcharge.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from erp_carrier_tablerate.rate_table import (
    CENT,
    Bracket,
    RateTable,
    Service,
    Zone,
    destination_key,
    normalize_postal_code,
)
from erp_sdk import ValidationError

DEFAULT_TOLERANCE_SECONDS = 300
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PREFIX = re.compile(r"^[A-Z0-9]{1,6}$")
_SETTINGS_KEYS = {"carrier", "currency", "zones", "services", "tracking_prefix",
                  "webhook_tolerance_seconds"}
_ZONE_KEYS = {"destinations", "brackets", "per_kg_above"}
_SERVICE_KEYS = {"transit_days", "surcharge", "zones"}


@attrs.frozen
class CarrierSettings:
    rate_table: RateTable
    tracking_prefix: str
    webhook_tolerance: dt.timedelta
    webhook_secret: str


class _Problems:
    """Collects ``path -> message`` while the settings are read."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.add(path, f"must be a mapping, not {type(value).__name__}")
            return {}
        return value

    def unknown_keys(self, value: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in sorted(set(value) - allowed, key=str):
            self.add(f"{path}.{key}" if path else str(key),
                     f"unknown setting; allowed: {', '.join(sorted(allowed))}")

    def decimal(self, value: Any, path: str, *, positive: bool = False,
                cents: bool = False) -> Decimal | None:
        """A Decimal from a string or an integer; floats are refused, they are inexact."""
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            hint = " (write it as a string, e.g. \"4.90\")" if isinstance(value, float) else ""
            self.add(path, f"must be a decimal string, not {type(value).__name__}{hint}")
            return None
        try:
            number = Decimal(value.strip() if isinstance(value, str) else value)
        except decimal.InvalidOperation:
            self.add(path, f"{value!r} is not a decimal number")
            return None
        if not number.is_finite():
            self.add(path, f"{value!r} is not a finite number")
        elif positive and number <= 0:
            self.add(path, f"must be greater than 0, not {number}")
        elif number < 0:
            self.add(path, f"must not be negative, not {number}")
        elif cents and number != number.quantize(CENT):
            self.add(path, f"{number} has more than two decimals; prices are in cents")
        else:
            return number
        return None

    def integer(self, value: Any, path: str, *, minimum: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"must be a whole number, not {type(value).__name__}")
            return None
        if value < minimum:
            self.add(path, f"must be at least {minimum}, not {value}")
            return None
        return value

    def text(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.add(path, "must be a non-empty string")
            return None
        return value.strip()

    def string_list(self, value: Any, path: str) -> list[str]:
        if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
            self.add(path, "must be a non-empty list of strings")
            return []
        if not all(isinstance(item, str) for item in value):
            self.add(path, "must be a list of strings")
            return []
        return [item.strip() for item in value]


def read_settings(settings: Mapping[str, Any], secrets: Mapping[str, Any]) -> CarrierSettings:
    """Check and convert an account's settings and secrets; raise ``ValidationError``
    naming every problem."""
    problems = _Problems()
    settings = problems.mapping(settings, "settings")
    secrets = problems.mapping(secrets, "secrets")
    problems.unknown_keys(settings, _SETTINGS_KEYS, "")

    carrier = problems.text(settings.get("carrier", "tablerate"), "carrier") or "tablerate"
    currency = settings.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency.strip().upper()):
        problems.add("currency", "required: an ISO 4217 code such as EUR")
        currency = "XXX"
    currency = currency.strip().upper()

    zones, destinations = _read_zones(problems, settings.get("zones"))
    raw_zones = settings.get("zones")
    zone_names = set(raw_zones) if isinstance(raw_zones, Mapping) else set()
    services = _read_services(problems, settings.get("services"), zone_names)

    prefix = settings.get("tracking_prefix", "TR")
    if not isinstance(prefix, str) or not re.fullmatch(r"[A-Z]{1,4}", prefix):
        problems.add("tracking_prefix", "must be 1 to 4 capital letters, such as TR")
        prefix = "TR"
    tolerance = problems.integer(settings.get("webhook_tolerance_seconds",
                                              DEFAULT_TOLERANCE_SECONDS),
                                 "webhook_tolerance_seconds", minimum=1)

    secret = secrets.get("webhook_secret")
    if not isinstance(secret, str) or not secret:
        problems.add("secrets.webhook_secret",
                     "required: the shared secret the carrier signs tracking webhooks with")

    if problems.errors:
        detail = "; ".join(f"{path}: {message}" for path, message in problems.errors.items())
        raise ValidationError(f"invalid tablerate carrier settings: {detail}", problems.errors)
    return CarrierSettings(
        rate_table=RateTable(carrier=carrier, currency=currency, zones=zones,
                             destinations=destinations, services=tuple(services)),
        tracking_prefix=prefix,
        webhook_tolerance=dt.timedelta(seconds=tolerance or DEFAULT_TOLERANCE_SECONDS),
        webhook_secret=str(secret),
    )


def _read_zones(problems: _Problems, value: Any) -> tuple[dict[str, Zone], dict[str, str]]:
    if value is None:
        problems.add("zones", "required: at least one zone with destinations and brackets")
        return {}, {}
    raw_zones = problems.mapping(value, "zones")
    if isinstance(value, Mapping) and not raw_zones:
        problems.add("zones", "required: at least one zone with destinations and brackets")
    zones: dict[str, Zone] = {}
    destinations: dict[str, str] = {}
    for name, raw in raw_zones.items():
        path = f"zones.{name}"
        raw = problems.mapping(raw, path)
        if not raw:
            continue
        problems.unknown_keys(raw, _ZONE_KEYS, path)
        for destination in problems.string_list(raw.get("destinations"), f"{path}.destinations"):
            key = _read_destination(problems, destination, f"{path}.destinations")
            if key is None:
                continue
            if key in destinations:
                problems.add(f"{path}.destinations",
                             f"{key} is already in zone {destinations[key]!r}")
            destinations.setdefault(key, name)
        brackets = _read_brackets(problems, raw.get("brackets"), f"{path}.brackets")
        per_kg = raw.get("per_kg_above")
        per_kg_above = (None if per_kg is None
                        else problems.decimal(per_kg, f"{path}.per_kg_above"))
        if brackets:
            zones[name] = Zone(name=name, brackets=brackets, per_kg_above=per_kg_above)
    return zones, destinations


def _read_destination(problems: _Problems, destination: str, path: str) -> str | None:
    """``FR`` (a country) or ``FR:20`` (postal codes of FR starting with 20)."""
    country, _, prefix = destination.upper().partition(":")
    prefix = normalize_postal_code(prefix)
    if not _COUNTRY.match(country.strip()) or (":" in destination and not _PREFIX.match(prefix)):
        problems.add(path, f"{destination!r} is not a destination: write a country code"
                           " (FR) or a country and a postal-code prefix (FR:20)")
        return None
    return destination_key(country.strip(), prefix)


def _read_brackets(problems: _Problems, value: Any, path: str) -> tuple[Bracket, ...]:
    """``{"1": "4.90", "5": "7.50"}``: up to 1 kg costs 4.90, up to 5 kg 7.50."""
    if not isinstance(value, Mapping) or not value:
        problems.add(path, 'required: a mapping of max_kg to price, e.g. {"1": "4.90"}')
        return ()
    brackets: list[Bracket] = []
    for max_kg, price in value.items():
        weight = problems.decimal(max_kg, f"{path}.{max_kg}", positive=True)
        amount = problems.decimal(price, f"{path}.{max_kg}", cents=True)
        if weight is not None and amount is not None:
            brackets.append(Bracket(max_kg=weight, price=amount))
    brackets.sort(key=lambda bracket: bracket.max_kg)
    for lower, upper in itertools.pairwise(brackets):
        if lower.max_kg == upper.max_kg:
            problems.add(path, f"two brackets end at {upper.max_kg} kg")
        elif lower.price > upper.price:
            problems.add(path, f"the bracket up to {upper.max_kg} kg ({upper.price}) is cheaper"
                               f" than the one up to {lower.max_kg} kg ({lower.price})")
    return tuple(brackets)


def _read_services(problems: _Problems, value: Any, zone_names: set[str]) -> list[Service]:
    if not isinstance(value, Mapping) or not value:
        problems.add("services", 'required: at least one service, e.g.'
                                 ' {"standard": {"transit_days": 3}}')
        return []
    services = []
    for name, raw in value.items():
        path = f"services.{name}"
        raw = problems.mapping(raw, path)
        problems.unknown_keys(raw, _SERVICE_KEYS, path)
        transit_days = problems.integer(raw.get("transit_days"), f"{path}.transit_days",
                                        minimum=0)
        surcharge = problems.decimal(raw.get("surcharge", "0"), f"{path}.surcharge", cents=True)
        zones = None
        if "zones" in raw:
            zones = frozenset(problems.string_list(raw["zones"], f"{path}.zones"))
            for unknown in sorted(zones - zone_names):
                problems.add(f"{path}.zones", f"no zone named {unknown!r}")
        if transit_days is not None and surcharge is not None:
            services.append(Service(name=name, transit_days=transit_days, surcharge=surcharge,
                                    zones=zones))
    return services
