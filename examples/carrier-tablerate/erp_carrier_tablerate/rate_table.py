"""The rate table: which zone a destination falls in and what a parcel costs there.

The rounding rule, which is the contract a seller can check a quote against by hand:

1. a parcel's weight is rounded UP to the next gram (0.001 kg, ``ROUND_CEILING``): 1.0001 kg
   is priced as 1.001 kg, while 1.000 kg stays 1.000 kg;
2. the parcel falls in the first bracket whose ``max_kg`` is at least that weight (bounds
   are inclusive: a 1.000 kg parcel is in the "up to 1 kg" bracket, 1.001 kg is not);
3. above the last bracket, ``per_kg_above`` is charged pro rata for the weight beyond the
   last bound: ``last price + per_kg_above * (weight - last max_kg)``; without
   ``per_kg_above`` such a parcel cannot be shipped in that zone;
4. each parcel's price is quantized to 0.01 with ``ROUND_HALF_UP``; a shipment costs the sum
   of its parcels plus the service's surcharge.

Everything is ``Decimal``; no float is ever involved.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import attrs

from erp_sdk import ValidationError
from erp_sdk.drivers import Address, Amount, Parcel, RateQuote

GRAM = Decimal("0.001")
CENT = Decimal("0.01")


def billable_weight(parcel: Parcel) -> Decimal:
    """The parcel's weight rounded up to the next gram (rule 1)."""
    weight = parcel.weight_kg
    if not weight.is_finite() or weight <= 0:
        raise ValidationError(f"a parcel must weigh more than 0 kg, not {weight}",
                              {"parcels": "weight_kg must be a positive number"})
    with decimal.localcontext() as context:
        context.prec = 60  # enough for any weight a person could type, so quantize never traps
        return weight.quantize(GRAM, rounding=ROUND_CEILING)


@attrs.frozen
class Bracket:
    """Parcels up to ``max_kg`` (inclusive) cost ``price``."""

    max_kg: Decimal
    price: Decimal


@attrs.frozen
class Zone:
    name: str
    brackets: tuple[Bracket, ...]
    """Sorted by ``max_kg``, strictly increasing."""
    per_kg_above: Decimal | None = None

    def parcel_price(self, parcel: Parcel) -> Decimal | None:
        """The price of one parcel in this zone (rules 1 to 4), ``None`` if it is too heavy."""
        weight = billable_weight(parcel)
        with decimal.localcontext() as context:
            context.prec = 60
            for bracket in self.brackets:
                if weight <= bracket.max_kg:
                    price = bracket.price
                    break
            else:
                if self.per_kg_above is None:
                    return None
                last = self.brackets[-1]
                price = last.price + self.per_kg_above * (weight - last.max_kg)
            return price.quantize(CENT, rounding=ROUND_HALF_UP)


@attrs.frozen
class Service:
    name: str
    transit_days: int
    surcharge: Decimal = Decimal("0")
    zones: frozenset[str] | None = None
    """The zones it serves; ``None``: every zone."""

    def serves(self, zone: Zone) -> bool:
        return self.zones is None or zone.name in self.zones


def destination_key(country: str, postal_prefix: str = "") -> str:
    """How a destination is written in the settings: ``FR`` or ``FR:20``."""
    return f"{country}:{postal_prefix}" if postal_prefix else country


def normalize_postal_code(postal_code: str) -> str:
    """Postal codes compare without spaces or dashes and in upper case."""
    return "".join(ch for ch in postal_code.upper() if ch.isalnum())


@attrs.frozen
class RateTable:
    """A carrier account's prices: zones reached by destination, services on top."""

    carrier: str
    currency: str
    zones: Mapping[str, Zone]
    destinations: Mapping[str, str]
    """``destination_key`` -> zone name."""
    services: tuple[Service, ...]

    def zone_for(self, address: Address) -> Zone | None:
        """The zone of the longest postal-code prefix that matches the address, else the
        zone of its country, else ``None`` (not served)."""
        postal_code = normalize_postal_code(address.postal_code)
        for length in range(len(postal_code), 0, -1):
            name = self.destinations.get(destination_key(address.country, postal_code[:length]))
            if name is not None:
                return self.zones[name]
        name = self.destinations.get(address.country)
        return self.zones[name] if name is not None else None

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        known = ", ".join(service.name for service in self.services)
        raise ValidationError(f"{self.carrier} has no service {name!r}; services: {known}",
                              {"service": f"unknown service; use one of: {known}"})

    def quotes(self, recipient: Address, parcels: Sequence[Parcel],
               service: str | None = None) -> list[RateQuote]:
        """A quote per service that can ship the parcels to ``recipient`` (only
        ``service`` when given), cheapest first, then fastest, then by name."""
        if not parcels:
            raise ValidationError("a shipment needs at least one parcel",
                                  {"parcels": "give at least one parcel"})
        services = [self.service(service)] if service is not None else list(self.services)
        zone = self.zone_for(recipient)
        if zone is None:
            return []
        prices = [zone.parcel_price(parcel) for parcel in parcels]
        if any(price is None for price in prices):
            return []
        base = sum((price for price in prices if price is not None), Decimal("0.00"))
        quotes = [
            RateQuote(carrier=self.carrier, service=each.name,
                      amount=Amount(base + each.surcharge, self.currency),
                      transit_days=each.transit_days)
            for each in services if each.serves(zone)
        ]
        return sorted(quotes, key=lambda quote: (quote.amount.value, quote.transit_days or 0,
                                                 quote.service))
