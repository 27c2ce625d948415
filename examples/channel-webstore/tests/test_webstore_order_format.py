"""Reading the shop's order document: exact to the cent, strict where the ERP relies on it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from erp_channel_webstore.exact_json import dumps_exact, loads_exact
from erp_channel_webstore.orders import read_order, read_orders
from erp_sdk import ValidationError
from erp_sdk.drivers import Address, ChannelCustomer, ChannelOrderLine

ORDER: dict[str, Any] = {
    "id": "WS-1001",
    "placed_at": "2026-03-01T10:15:00+02:00",
    "currency": "eur",
    "customer": {"id": "C-17", "name": "Ada Lovelace", "email": "ada@example.com"},
    "shipping_address": {"name": "Ada Lovelace", "line1": "12 Analytical Row",
                         "city": "London", "postal_code": "N1 7AA", "country": "gb"},
    "billing_address": None,
    "lines": [{"sku": "TEE-M", "quantity": 2, "unit_price": Decimal("19.99"),
               "discount": Decimal("1.50"), "tax_rate": Decimal("0.20")},
              {"sku": "MUG", "quantity": "1", "unit_price": "7.10"}],
    "shipping_amount": Decimal("4.90"),
    "notes": "Leave at the door",
}


def over_the_wire(document: dict[str, Any]) -> Any:
    """The document as the driver receives it: written by the shop, read back exactly."""
    return loads_exact(dumps_exact(document))


def with_changes(**changes: Any) -> dict[str, Any]:
    return over_the_wire({**ORDER, **changes})


def test_json_numbers_become_exact_decimals() -> None:
    order = read_order(over_the_wire(ORDER))

    tee = order.lines[0]
    assert (tee.unit_price, tee.discount, tee.tax_rate) == (
        Decimal("19.99"), Decimal("1.50"), Decimal("0.20"))
    assert str(tee.unit_price) == "19.99"
    assert order.shipping_amount == Decimal("4.90")


def test_amounts_sent_as_text_are_read_exactly_with_their_cents() -> None:
    order = read_order(over_the_wire(ORDER))

    assert order.lines[1].unit_price == Decimal("7.10")
    assert str(order.lines[1].unit_price) == "7.10"
    assert order.lines[1].quantity == Decimal(1)


def test_cents_add_up_without_binary_rounding() -> None:
    lines = [{"sku": f"S{n}", "quantity": 1, "unit_price": Decimal("0.10")} for n in range(3)]

    order = read_order(with_changes(lines=lines))

    assert sum(line.unit_price for line in order.lines) == Decimal("0.30")


def test_the_whole_order_is_read_with_its_customer_and_address() -> None:
    order = read_order(over_the_wire(ORDER))

    assert order.external_reference == "WS-1001"
    assert order.placed_at == dt.datetime(2026, 3, 1, 8, 15, tzinfo=dt.UTC)
    assert order.currency == "EUR"
    assert order.customer == ChannelCustomer("C-17", "Ada Lovelace", email="ada@example.com")
    assert order.shipping_address == Address("Ada Lovelace", "12 Analytical Row", "London",
                                              "N1 7AA", "GB")
    assert order.billing_address is None
    assert order.lines[1] == ChannelOrderLine("MUG", Decimal(1), Decimal("7.10"))
    assert order.notes == "Leave at the door"


def test_a_billing_address_is_read_when_given() -> None:
    billing = {**ORDER["shipping_address"], "name": "Lovelace Ltd", "line2": "Floor 2"}

    order = read_order(with_changes(billing_address=billing))

    assert order.billing_address is not None
    assert (order.billing_address.name, order.billing_address.line2) == ("Lovelace Ltd",
                                                                         "Floor 2")


def test_a_numeric_order_id_is_kept_as_text() -> None:
    assert read_order(with_changes(id=1001)).external_reference == "1001"


def test_fields_the_driver_does_not_know_are_ignored() -> None:
    order = read_order(with_changes(gift_wrap=True, channel_tags=["sale"]))

    assert order.external_reference == "WS-1001"


@pytest.mark.parametrize(("changes", "where"), [
    ({"placed_at": "2026-03-01T10:15:00"}, "order.placed_at"),
    ({"placed_at": "yesterday"}, "order.placed_at"),
    ({"currency": "euro"}, "order.currency"),
    ({"lines": []}, "order.lines"),
    ({"id": ""}, "order.id"),
    ({"customer": "C-17"}, "order.customer"),
    ({"shipping_address": {**ORDER["shipping_address"], "country": "GBR"}},
     "order.shipping_address.country"),
    ({"shipping_amount": "-1.00"}, "order.shipping_amount"),
    ({"lines": [{"sku": "TEE", "quantity": 0, "unit_price": "1.00"}]},
     "order.lines[0].quantity"),
    ({"lines": [{"sku": "TEE", "quantity": 1, "unit_price": "cheap"}]},
     "order.lines[0].unit_price"),
    ({"lines": [{"sku": "TEE", "quantity": 1, "unit_price": "NaN"}]},
     "order.lines[0].unit_price"),
    ({"lines": [{"sku": "TEE", "quantity": 1, "unit_price": True}]},
     "order.lines[0].unit_price"),
    ({"lines": [{"quantity": 1, "unit_price": "1.00"}]}, "order.lines[0].sku"),
    ({"lines": [{"sku": "TEE", "quantity": 1, "unit_price": "1.00", "tax_rate": "20"}]},
     "order.lines[0].tax_rate"),
    ({"lines": [{"sku": "TEE", "quantity": 1, "unit_price": "1e400"}]},
     "order.lines[0].unit_price"),
])
def test_a_malformed_order_is_refused_naming_the_field(changes: dict[str, Any],
                                                       where: str) -> None:
    with pytest.raises(ValidationError) as raised:
        read_order(with_changes(**changes))

    assert list(raised.value.errors) == [where]
    assert raised.value.message.startswith(where)


def test_a_float_never_stands_for_an_amount() -> None:
    document = {**ORDER, "lines": [{"sku": "TEE", "quantity": 1, "unit_price": 19.99}]}

    with pytest.raises(ValidationError, match=r"lines\[0\]\.unit_price"):
        read_order(document)


def test_a_batch_names_the_order_at_fault() -> None:
    good, bad = over_the_wire(ORDER), with_changes(currency=None)

    with pytest.raises(ValidationError, match=r"^orders\[1\]\.currency"):
        read_orders({"orders": [good, bad]})


def test_json_without_an_orders_list_is_refused() -> None:
    with pytest.raises(ValidationError, match="orders: required"):
        read_orders({"order": ORDER})


def test_nan_and_infinity_are_not_json_numbers() -> None:
    with pytest.raises(ValueError, match="NaN"):
        loads_exact(b'{"unit_price": NaN}')


def test_exact_json_writes_decimals_as_they_are_and_refuses_floats() -> None:
    assert dumps_exact({"a": Decimal("19.90"), "b": [1, "x", None]}) == \
        b'{"a":19.90,"b":[1,"x",null]}'
    with pytest.raises(TypeError, match="never float"):
        dumps_exact({"a": 0.1})
