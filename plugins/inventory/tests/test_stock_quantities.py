"""Quantities and costs on the stock operations: checked by the kernel's field types and
the product's unit, over HTTP and from Python; a bad one changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from erp_inventory.ledger import Move
from erp_inventory.movements import adjust, receive
from erp_inventory.reservations import ReservationLine, reserve
from erp_sdk import ValidationError

pytestmark = pytest.mark.erp_plugins("inventory")


@pytest.fixture
def kernel(erp_kernel):
    return erp_kernel


def _moves(kernel):
    with kernel.transaction() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Move))


@pytest.mark.parametrize(("field", "value", "words"), [
    ("quantity", "NaN", "not a finite number"), ("quantity", "Infinity", "not a finite number"),
    ("quantity", "1e400", "too large"), ("quantity", "123456789012345678901234567890",
                                          "too large"),
    ("quantity", "0.00000000000000000000000001", "more than 4 decimal places"),
    ("quantity", "-3", "must be positive"), ("quantity", "1.5", "whole units"),
    ("unit_cost", "NaN", "not a finite number"), ("unit_cost", "-1", "may not be negative"),
    ("unit_cost", "1e400", "too large"), ("product_id", 2 ** 62, "out of range"),
])
def test_receiving_a_bad_value_is_a_422_naming_it_and_moves_nothing(
        erp_client, kernel, warehouse, make_product, field, value, words):
    body = {"warehouse_id": warehouse, "product_id": make_product(), "quantity": "2",
            "unit_cost": "1.00", field: value}
    before = _moves(kernel)
    response = erp_client.post("/api/v1/inventory/stock/receive", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.json()["errors"][field]
    assert _moves(kernel) == before


def test_the_other_stock_operations_refuse_half_a_piece(erp_client, kernel, warehouse,
                                                        make_product):
    product = make_product()
    with kernel.context() as ctx:
        receive(ctx, warehouse, product, Decimal(5), Decimal(1))
    for path, body in [
        ("adjust", {"warehouse_id": warehouse, "product_id": product, "delta": "-0.5",
                    "reason": "broken"}),
        ("reserve", {"warehouse_id": warehouse,
                     "lines": [{"product_id": product, "quantity": "1.5", "origin": "x"}]}),
    ]:
        response = erp_client.post(f"/api/v1/inventory/stock/{path}", json=body)
        assert response.status_code == 422, response.text
        assert "whole units" in str(response.json()["errors"])
    response = erp_client.post("/api/v1/inventory/stock/reserve", json={
        "warehouse_id": warehouse,
        "lines": [{"product_id": product, "quantity": "NaN", "origin": "x"}]})
    assert response.json()["errors"] == {"lines[0].quantity": "'NaN' is not a finite number"}


def test_the_stock_routes_document_quantities_as_decimal_strings(erp_client):
    schema = erp_client.get("/schema/openapi.json").json()
    body = schema["paths"]["/api/v1/inventory/stock/receive"]["post"]["requestBody"][
        "content"]["application/json"]["schema"]
    assert body["properties"]["quantity"]["format"] == "decimal"
    assert body["properties"]["quantity"]["exclusiveMinimum"] == 0
    assert body["properties"]["unit_cost"]["minimum"] == 0
    assert body["additionalProperties"] is False


def test_services_called_from_python_check_the_same(kernel, warehouse, make_product):
    product = make_product()
    with pytest.raises(ValidationError) as raised, kernel.context() as ctx:
        receive(ctx, warehouse, product, Decimal("Infinity"), Decimal(1))
    assert "quantity" in raised.value.errors
    with pytest.raises(ValidationError) as raised, kernel.context() as ctx:
        receive(ctx, warehouse, product, Decimal("1.5"), Decimal(1))
    assert "whole units" in raised.value.errors["quantity"]
    with pytest.raises(ValidationError) as raised, kernel.context() as ctx:
        adjust(ctx, warehouse, 2 ** 62, Decimal(1), "found")
    assert "product_id" in raised.value.errors
    with pytest.raises(ValidationError):
        ReservationLine(product, Decimal("NaN"), "x")
    with kernel.context() as ctx:
        receive(ctx, warehouse, product, Decimal(3), Decimal(1))
    with pytest.raises(ValidationError) as raised, kernel.context() as ctx:
        reserve(ctx, warehouse, [ReservationLine(product, Decimal("0.5"), "x")])
    assert "whole units" in raised.value.errors["quantity"]
