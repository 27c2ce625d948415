"""Money, quantities, rates and ids on the order routes: every bad value is a 422
problem naming the field, and nothing is written (on SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from erp_orders.order import Order, OrderLine
from erp_orders.placing import LineRequest, OrderRequest, place_order
from erp_sdk import ValidationError

pytestmark = pytest.mark.erp_plugins("orders")


@pytest.fixture
def kernel(erp_kernel):
    """The kernel ``erp_client`` talks to, for the shop fixture."""
    return erp_kernel


def _counts(kernel):
    with kernel.transaction() as session:
        return (session.scalar(sa.select(sa.func.count()).select_from(Order)),
                session.scalar(sa.select(sa.func.count()).select_from(OrderLine)))


def _place(client, shop, line=None, **order):
    body = {"channel_id": shop["channel"], "customer_id": shop["customer"],
            "lines": [{"product_id": shop["tea"], "quantity": "2", **(line or {})}], **order}
    return client.post("/api/v1/orders/place", json=body)


def _refused(response, field, words):
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert field in problem["errors"], problem
    assert words in problem["errors"][field], problem
    return problem


BAD_PRICES = [
    ("NaN", "not a finite number"), ("Infinity", "not a finite number"),
    ("-Infinity", "not a finite number"), ("sNaN", "not a finite number"),
    ("1e400", "too large"), ("123456789012345678901234567890", "too large"),
    ("0.00000000000000000000000001", "more than 4 decimal places"),
    ("-1", "may not be negative"), ("4.20001", "more than 4 decimal places"),
]


@pytest.mark.parametrize(("price", "words"), BAD_PRICES)
def test_a_bad_unit_price_on_place_is_a_422_naming_the_line_and_nothing_is_stored(
        erp_client, kernel, shop, price, words):
    before = _counts(kernel)
    _refused(_place(erp_client, shop, {"unit_price": price}), "lines[0].unit_price", words)
    assert _counts(kernel) == before


def test_a_huge_json_number_as_price_is_refused_too(erp_client, kernel, shop):
    body = (b'{"channel_id": %d, "customer_id": %d, "lines": [{"product_id": %d,'
            b' "quantity": 1, "unit_price": 1e400}]}'
            % (shop["channel"], shop["customer"], shop["tea"]))
    response = erp_client.post("/api/v1/orders/place", content=body,
                               headers={"content-type": "application/json"})
    _refused(response, "lines[0].unit_price", "too large")


@pytest.mark.parametrize(("field", "value", "words"), [
    ("quantity", "NaN", "not a finite number"), ("quantity", "1e400", "too large"),
    ("quantity", "0", "must be positive"), ("quantity", "-2", "must be positive"),
    ("quantity", "1.5", "whole units"),
    ("discount", "-1", "may not be negative"), ("discount", "8.41", "more than the line"),
    ("tax_rate", "19", "may not be more than 1"), ("tax_rate", "-0.1", "may not be negative"),
    ("tax_rate", "Infinity", "not a finite number"),
    ("product_id", 2 ** 62, "out of range"), ("product_id", 0, "out of range"),
])
def test_bad_line_values_are_422_naming_the_field(erp_client, kernel, shop, field, value, words):
    before = _counts(kernel)
    _refused(_place(erp_client, shop, {field: value}), f"lines[0].{field}", words)
    assert _counts(kernel) == before


def test_a_negative_shipping_amount_is_refused(erp_client, kernel, shop):
    _refused(_place(erp_client, shop, shipping_amount="-5"), "shipping_amount",
             "may not be negative")


def test_ids_out_of_the_columns_range_are_422_not_a_database_error(erp_client, shop):
    _refused(_place(erp_client, shop, customer_id=2 ** 62), "customer_id", "out of range")


def test_a_tax_rate_is_a_fraction_and_documented_as_one(erp_client, shop):
    placed = _place(erp_client, shop, {"tax_rate": "0.19", "unit_price": "10.00"})
    assert placed.status_code == 201, placed.text
    assert (placed.json()["subtotal"], placed.json()["tax_total"]) == ("20.0000", "3.8000")
    schema = erp_client.get("/schema/openapi.json").json()
    line = schema["components"]["schemas"]["OrdersOrderLine"]["properties"]["tax_rate"]
    assert (line["minimum"], line["maximum"]) == (0, 1)
    assert "0.19 is 19 %" in line["description"]
    place = schema["paths"]["/api/v1/orders/place"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    price = place["properties"]["lines"]["items"]["properties"]["unit_price"]
    assert price["format"] == "decimal" and price["pattern"].startswith(r"^\d")
    assert place["properties"]["lines"]["items"]["properties"]["tax_rate"]["maximum"] == 1


def test_a_price_below_the_precision_is_refused_not_rounded(erp_client, kernel, shop):
    _refused(_place(erp_client, shop, {"unit_price": "0.00001"}), "lines[0].unit_price",
             "more than 4 decimal places")
    line = erp_client.get("/api/v1/orders/order-lines?limit=1").json()
    assert line["items"] == []


def test_a_product_priced_in_another_currency_is_refused(erp_client, kernel, shop):
    before = _counts(kernel)
    problem = _refused(_place(erp_client, shop, currency="USD"), "lines[0].product_id",
                       "priced in EUR")
    assert "USD" in problem["errors"]["lines[0].product_id"]
    assert _counts(kernel) == before


def test_half_a_piece_is_refused_and_kilograms_take_decimals(erp_client, kernel, shop):
    _refused(_place(erp_client, shop, {"quantity": "1.5"}), "lines[0].quantity", "pcs")
    erp_client.patch(f"/api/v1/inventory/products/{shop['tea']}",
                     json={"unit": "kg"}).raise_for_status()
    assert _place(erp_client, shop, {"quantity": "1.5"}).status_code == 201


def test_a_negative_list_price_and_an_unknown_unit_are_refused(erp_client, shop):
    response = erp_client.patch(f"/api/v1/inventory/products/{shop['tea']}",
                                json={"list_price": "-1"})
    _refused(response, "list_price", "may not be negative")
    _refused(erp_client.patch(f"/api/v1/inventory/products/{shop['tea']}",
                              json={"unit": "bushel"}), "unit", "must be one of")


def test_a_line_edited_through_the_generic_api_obeys_the_same_rules(erp_client, shop):
    order = _place(erp_client, shop).json()
    line = erp_client.get(f"/api/v1/orders/order-lines?order_id={order['id']}").json()[
        "items"][0]
    url = f"/api/v1/orders/order-lines/{line['id']}"
    _refused(erp_client.patch(url, json={"unit_price": "-1"}), "unit_price",
             "may not be negative")
    _refused(erp_client.patch(url, json={"quantity": "0.5"}), "quantity", "whole units")
    _refused(erp_client.patch(url, json={"discount": "100"}), "discount",
             "more than the line")
    _refused(erp_client.patch(url, json={"tax_rate": "5"}), "tax_rate", "more than 1")


def test_services_called_from_python_apply_the_same_checks(kernel, shop):
    with pytest.raises(ValidationError) as raised:
        LineRequest(shop["tea"], Decimal("NaN"))
    assert raised.value.errors == {"quantity": "'NaN' is not a finite number"}
    with pytest.raises(ValidationError) as raised:
        LineRequest(2 ** 62, Decimal(1))
    assert "product_id" in raised.value.errors
    with pytest.raises(ValidationError) as raised:
        OrderRequest(shop["channel"], shop["customer"], [LineRequest(shop["tea"], 1)],
                     shipping_amount=Decimal(-1))
    assert raised.value.errors == {"shipping_amount": "may not be negative"}
    with pytest.raises(ValidationError) as raised, kernel.context() as ctx:
        place_order(ctx, OrderRequest(shop["channel"], shop["customer"],
                                      [LineRequest(shop["tea"], Decimal("1.5"))]))
    assert "whole units" in raised.value.errors["lines[0].quantity"]


def test_split_and_merge_bodies_are_typed_and_half_a_piece_cannot_be_split_off(erp_client,
                                                                              shop):
    order = _place(erp_client, shop).json()
    line = erp_client.get(f"/api/v1/orders/order-lines?order_id={order['id']}").json()[
        "items"][0]
    url = f"/api/v1/orders/orders/{order['id']}/split"
    for quantity, words in (("0.5", "whole units"), ("NaN", "not a finite number"),
                            ("1e400", "too large"), ("-1", "must be positive")):
        response = erp_client.post(url, json={"lines": [{"line_id": line["id"],
                                                         "quantity": quantity}]})
        _refused(response, "lines[0].quantity", words)
    _refused(erp_client.post("/api/v1/orders/merge", json={"order_ids": [order["id"], 2 ** 62]}),
             "order_ids[1]", "out of range")
