"""Bad input on the hand-written order and stock routes: each is a 4xx problem keyed by
field, as on the generic routes, changes nothing and logs no traceback; and
``Idempotency-Key`` makes a repeated ``POST /orders/place`` place one order."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from erp_core.api.app import create_app
from erp_core.security.accounts import create_token, create_user
from erp_core.security.permissions import ADMIN_ROLE

PLACE = "/api/v1/orders/place"
RECEIVE = "/api/v1/inventory/stock/receive"
JSON = {"Content-Type": "application/json"}
TABLES = ("orders_order", "orders_order_line", "inventory_move", "inventory_reservation")


@pytest.fixture
def client(kernel) -> Iterator[TestClient]:
    with kernel.transaction() as session:
        create_user(session, "boss", [ADMIN_ROLE])
        _row, secret = create_token(session, "boss")
    with TestClient(app=create_app(kernel)) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client


def order_body(shop: dict[str, int], **fields: Any) -> dict[str, Any]:
    return {"channel_id": shop["channel"], "customer_id": shop["customer"],
            "lines": [{"product_id": shop["tea"], "quantity": "2"}], **fields}


def receipt(shop: dict[str, int], **fields: Any) -> dict[str, Any]:
    return {"warehouse_id": shop["warehouse"], "product_id": shop["tea"], "quantity": "5",
            "unit_cost": "1.00", **fields}


def fingerprint(kernel) -> dict[str, int]:
    with kernel.reading() as connection:
        return {table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in TABLES}


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    for field in fields:
        assert field in problem.get("errors", {}), problem
    return problem


@pytest.fixture
def no_errors_logged(caplog) -> Iterator[None]:
    with caplog.at_level(logging.WARNING):
        yield
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize("path", [PLACE, RECEIVE])
def test_deeply_nested_brackets_are_a_422_not_a_recursion_error(
        kernel, shop, client, no_errors_logged, path):
    before = fingerprint(kernel)
    assert_problem(client.post(path, content=b"[" * 100_000, headers=JSON), 422, "body")
    assert fingerprint(kernel) == before


def test_a_nul_in_the_external_reference_is_a_422_naming_it(kernel, shop, client,
                                                             no_errors_logged):
    before = fingerprint(kernel)
    response = client.post(PLACE, json=order_body(shop, external_reference="web-\x00-1"))
    assert_problem(response, 422, "external_reference")
    assert fingerprint(kernel) == before


def test_a_nul_in_the_origin_of_a_receipt_is_a_422_naming_it(kernel, shop, client,
                                                             no_errors_logged):
    before = fingerprint(kernel)
    assert_problem(client.post(RECEIVE, json=receipt(shop, origin="PO\x00-7")), 422, "origin")
    assert fingerprint(kernel) == before


def test_a_nul_in_a_webhooks_account_is_a_4xx_without_a_token_or_a_traceback(
        kernel, shop, client, no_errors_logged):
    client.headers.pop("Authorization")
    response = client.post("/api/v1/hooks/webstore/we%00b", content=b"{}", headers=JSON)
    assert_problem(response, 422, "account")


@pytest.mark.parametrize(("change", "field"), [
    ({"channel_id": "web"}, "channel_id"),
    ({"customer_id": None}, "customer_id"),
    ({"lines": "tea"}, "lines"),
    ({"lines": [{"product_id": 1, "quantity": ["2"]}]}, "lines[0].quantity"),
    ({"lines": [{"quantity": "2"}]}, "lines[0].product_id"),
    ({"confirm": "yes"}, "confirm"),
    ({"colour": "red"}, "colour"),
])
def test_a_wrong_type_is_a_422_keyed_by_the_field(kernel, shop, client, change, field):
    before = fingerprint(kernel)
    problem = assert_problem(client.post(PLACE, json={**order_body(shop), **change}), 422, field)
    assert problem["type"].endswith("/validation")
    assert fingerprint(kernel) == before


def test_a_missing_field_is_a_422_naming_it(kernel, shop, client):
    body = order_body(shop)
    del body["customer_id"]
    assert_problem(client.post(PLACE, json=body), 422, "customer_id")


def test_malformed_json_and_a_body_not_declared_json_are_refused(kernel, shop, client):
    before = fingerprint(kernel)
    assert_problem(client.post(PLACE, content=b'{"channel_id": 1,', headers=JSON), 422, "body")
    assert_problem(client.post(RECEIVE, content=b'{"warehouse_id": 1}',
                               headers={"Content-Type": "text/plain"}), 415)
    assert_problem(client.post(PLACE, content=b'{"channel_id": 1}'), 415)
    assert fingerprint(kernel) == before


@pytest.mark.parametrize("product_id", [2 ** 31, 2 ** 62, 2 ** 70])
def test_a_product_id_beyond_any_id_is_a_4xx(kernel, shop, client, product_id):
    before = fingerprint(kernel)
    body = order_body(shop, lines=[{"product_id": product_id, "quantity": "1"}])
    response = client.post(PLACE, json=body)
    assert 400 <= response.status_code < 500, response.text
    response = client.post(RECEIVE, json=receipt(shop, product_id=product_id))
    assert 400 <= response.status_code < 500, response.text
    assert fingerprint(kernel) == before


def test_placing_twice_with_one_idempotency_key_places_one_order(kernel, shop, client):
    body = order_body(shop)
    first = client.post(PLACE, json=body, headers={"Idempotency-Key": "checkout-1"})
    again = client.post(PLACE, json=body, headers={"Idempotency-Key": "checkout-1"})
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert fingerprint(kernel)["orders_order"] == 1
    other = client.post(PLACE, json=body, headers={"Idempotency-Key": "checkout-2"})
    assert other.status_code == 201 and fingerprint(kernel)["orders_order"] == 2


def test_an_idempotency_key_reused_for_another_order_is_422(kernel, shop, client):
    client.post(PLACE, json=order_body(shop), headers={"Idempotency-Key": "checkout-1"})
    changed = order_body(shop, lines=[{"product_id": shop["mug"], "quantity": "1"}])
    assert_problem(client.post(PLACE, json=changed, headers={"Idempotency-Key": "checkout-1"}),
                   422, "Idempotency-Key")
    assert fingerprint(kernel)["orders_order"] == 1
