"""The shop's order document (README, "Order document") read into ``ChannelOrder``.

Webhooks and ``GET /orders`` carry the same document, so one reader serves both. It is
strict about what the ERP relies on (amounts are exact decimals, times carry a zone,
codes have their ISO shape) and ignores fields it does not know, so a shop may send
more. Each problem names where it is: ``orders[0].lines[1].unit_price``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from erp_sdk import DecimalNumber, FieldValueError, ValidationError, money, quantity, rate
from erp_sdk.drivers import Address, ChannelCustomer, ChannelOrder, ChannelOrderLine

AMOUNT = money("non_negative")
"""Prices, discounts and shipping: 0 or more, four decimals at most."""

QUANTITY = quantity("positive")
"""A line's quantity: more than 0."""

TAX_RATE = rate()
"""A tax rate as a fraction from 0 to 1: ``0.20`` is 20 %."""

_CURRENCY = re.compile(r"[A-Za-z]{3}")
_COUNTRY = re.compile(r"[A-Za-z]{2}")


class OrderDocumentError(ValidationError):
    """An order document breaks the format; ``where`` says which field."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}", errors={where: problem})
        self.where = where


def read_orders(document: Any, where: str = "") -> tuple[ChannelOrder, ...]:
    """The orders in ``{"orders": [...]}`` (a webhook body or a page of ``GET /orders``)."""
    body = _object(document, where or "body")
    orders = body.get("orders")
    if not isinstance(orders, list):
        raise OrderDocumentError(_at(where, "orders"), "required: a list of orders")
    return tuple(read_order(order, f"{_at(where, 'orders')}[{index}]")
                 for index, order in enumerate(orders))


def read_order(document: Any, where: str = "order") -> ChannelOrder:
    """One order document as a ``ChannelOrder``."""
    order = _object(document, where)
    lines = order.get("lines")
    if not isinstance(lines, list) or not lines:
        raise OrderDocumentError(f"{where}.lines", "required: a non-empty list of lines")
    billing = order.get("billing_address")
    return ChannelOrder(
        external_reference=_identifier(order, "id", where),
        placed_at=_aware_time(order.get("placed_at"), f"{where}.placed_at"),
        currency=_code(order.get("currency"), _CURRENCY, "an ISO 4217 currency code",
                       f"{where}.currency"),
        customer=_customer(order.get("customer"), f"{where}.customer"),
        shipping_address=_address(order.get("shipping_address"), f"{where}.shipping_address"),
        billing_address=None if billing is None else _address(billing,
                                                              f"{where}.billing_address"),
        lines=tuple(_line(line, f"{where}.lines[{index}]") for index, line in enumerate(lines)),
        shipping_amount=_decimal(order, "shipping_amount", where, default=Decimal(0)),
        notes=_text(order, "notes", where, required=False),
    )


def _line(document: Any, where: str) -> ChannelOrderLine:
    line = _object(document, where)
    return ChannelOrderLine(
        sku=_text(line, "sku", where),
        quantity=_decimal(line, "quantity", where, type_=QUANTITY),
        unit_price=_decimal(line, "unit_price", where),
        discount=_decimal(line, "discount", where, default=Decimal(0)),
        tax_rate=_decimal(line, "tax_rate", where, type_=TAX_RATE, default=Decimal(0)),
    )


def _customer(document: Any, where: str) -> ChannelCustomer:
    customer = _object(document, where)
    return ChannelCustomer(
        external_id=_identifier(customer, "id", where),
        name=_text(customer, "name", where),
        email=_text(customer, "email", where, required=False),
        phone=_text(customer, "phone", where, required=False),
    )


def _address(document: Any, where: str) -> Address:
    address = _object(document, where)
    return Address(
        name=_text(address, "name", where),
        line1=_text(address, "line1", where),
        line2=_text(address, "line2", where, required=False),
        city=_text(address, "city", where),
        postal_code=_text(address, "postal_code", where),
        region=_text(address, "region", where, required=False),
        country=_code(address.get("country"), _COUNTRY, "an ISO 3166-1 alpha-2 country code",
                      f"{where}.country"),
        phone=_text(address, "phone", where, required=False),
        email=_text(address, "email", where, required=False),
    )


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise OrderDocumentError(where, "must be a JSON object")
    return value


def _text(document: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> str:
    value = document.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise OrderDocumentError(f"{where}.{name}",
                                 "required: a non-empty text" if required else "must be text")
    return value.strip()


def _identifier(document: Mapping[str, Any], name: str, where: str) -> str:
    value = document.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(document, name, where)


def _code(value: Any, shape: re.Pattern[str], what: str, where: str) -> str:
    if not isinstance(value, str) or not shape.fullmatch(value):
        raise OrderDocumentError(where, f"required: {what}, got {value!r}")
    return value.upper()


def _decimal(document: Mapping[str, Any], name: str, where: str, *,
             type_: DecimalNumber = AMOUNT, default: Decimal | None = None) -> Decimal:
    """A decimal through the ERP's own field type: finite, within its precision and
    scale, not negative (or in the rate's bounds). A float can only come from a reader
    that did not use parse_float=Decimal: the type refuses it rather than carry its
    binary rounding into a price."""
    value = document.get(name)
    if value is None and default is not None:
        return default
    if value is None:
        raise OrderDocumentError(f"{where}.{name}", "required: a decimal number (or its text)")
    try:
        return type_.check(value)
    except FieldValueError as exc:
        raise OrderDocumentError(f"{where}.{name}", f"{exc}, got {value!r}") from None


def _aware_time(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise OrderDocumentError(where, "required: an ISO 8601 date and time with its offset")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise OrderDocumentError(where, f"{value!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise OrderDocumentError(where, f"{value!r} has no UTC offset (add Z or +02:00)")
    return moment.astimezone(dt.UTC)
