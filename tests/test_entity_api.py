"""The generic HTTP API built from the registry, on the shop test plugins.

``shop`` declares ``shop.category`` and ``shop.product`` (a foreign key to its category, a
money ``price``, a nullable ``barcode``); ``shopx`` adds ``loyalty_points`` and
``gift_note`` to products in its own side table. Optimistic concurrency and
``Idempotency-Key`` are in ``test_entity_concurrency.py``, the OpenAPI document in
``test_openapi.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from api_client import *  # noqa: F403  (fixtures of the shop app)
from api_client import CATEGORIES, PRODUCTS, assert_problem

from erp_core.kernel import Kernel


def listed(client: Any, **params: Any) -> dict[str, Any]:
    response = client.get(PRODUCTS, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def listed_skus(client: Any, **params: Any) -> list[str]:
    return [item["sku"] for item in listed(client, **params)["items"]]


def every_page(client: Any, **params: Any) -> list[dict[str, Any]]:
    """Follow ``next_cursor`` to the end; the items of every page in order."""
    items: list[dict[str, Any]] = []
    page = listed(client, **params)
    while True:
        items += page["items"]
        if page["next_cursor"] is None:
            return items
        page = listed(client, **params, cursor=page["next_cursor"])


def side_table_row(kernel: Kernel, product_id: int) -> Any:
    with kernel.engine.connect() as connection:
        return connection.execute(sa.text(
            "SELECT loyalty_points, gift_note FROM shopx_product_loyalty"
            " WHERE product_id = :id"), {"id": product_id}).first()


def product_count(kernel: Kernel) -> int:
    with kernel.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM shop_product")).scalar_one()


# Reading and writing records

def test_creating_a_record_answers_201_with_the_record_its_location_and_etag(shop_client):
    response = shop_client.post(PRODUCTS, json={"sku": "TEA-1", "name": "Green tea",
                                                "price": "4.50"})
    assert response.status_code == 201
    product = response.json()
    assert product["sku"] == "TEA-1" and product["version"] == 1
    assert response.headers["location"] == f"{PRODUCTS}/{product['id']}"
    assert response.headers["etag"] == '"1"'


def test_a_created_record_has_its_defaults_and_server_set_fields(make_product):
    product = make_product()
    assert product["active"] is True and product["barcode"] is None
    assert product["created_at"].endswith("+00:00")
    assert product["created_at"] == product["updated_at"]


def test_getting_a_record_returns_it_with_its_etag(shop_client, make_product):
    product = make_product(name="Black tea")
    response = shop_client.get(f"{PRODUCTS}/{product['id']}")
    assert response.status_code == 200
    assert response.json() == product
    assert response.headers["etag"] == '"1"'


def test_getting_a_missing_record_is_a_404_problem(shop_client):
    problem = assert_problem(shop_client.get(f"{PRODUCTS}/4242"), 404)
    assert "4242" in problem["detail"]


def test_patching_changes_only_the_given_fields_and_moves_to_the_next_version(
        shop_client, make_product):
    product = make_product(name="Old name", barcode="123")
    response = shop_client.patch(f"{PRODUCTS}/{product['id']}", json={"name": "New name"})
    assert response.status_code == 200
    updated = response.json()
    assert updated["name"] == "New name" and updated["barcode"] == "123"
    assert updated["version"] == 2 and response.headers["etag"] == '"2"'
    assert shop_client.get(f"{PRODUCTS}/{product['id']}").json() == updated


def test_patching_a_field_to_null_clears_it(shop_client, make_product):
    product = make_product(barcode="123")
    response = shop_client.patch(f"{PRODUCTS}/{product['id']}", json={"barcode": None})
    assert response.json()["barcode"] is None


def test_deleting_a_record_answers_204_and_it_is_gone(shop_client, make_product):
    product = make_product()
    response = shop_client.delete(f"{PRODUCTS}/{product['id']}")
    assert response.status_code == 204
    assert_problem(shop_client.get(f"{PRODUCTS}/{product['id']}"), 404)


def test_deleting_a_missing_record_is_a_404_problem(shop_client):
    assert_problem(shop_client.delete(f"{PRODUCTS}/4242"), 404)


def test_deleting_a_category_its_products_still_refer_to_is_a_409_and_deletes_nothing(
        shop_client, make_category, make_product):
    category = make_category()
    make_product(category_id=category["id"])
    assert_problem(shop_client.delete(f"{CATEGORIES}/{category['id']}"), 409)
    assert shop_client.get(f"{CATEGORIES}/{category['id']}").status_code == 200


def test_a_product_refers_to_its_category_by_id(shop_client, make_category, make_product):
    category = make_category(name="Tea")
    product = make_product(category_id=category["id"])
    assert shop_client.get(f"{PRODUCTS}/{product['id']}").json()["category_id"] == category["id"]


def test_referring_to_a_missing_category_is_refused_naming_the_field(shop_client):
    response = shop_client.post(PRODUCTS, json={"sku": "A", "name": "A", "price": "1",
                                                "category_id": 4242})
    problem = assert_problem(response, 422, "category_id")
    assert "does not exist" in problem["errors"]["category_id"]


def test_a_duplicate_unique_value_is_a_409_problem_naming_the_field(shop_client, make_product):
    make_product(sku="DUP")
    response = shop_client.post(PRODUCTS, json={"sku": "DUP", "name": "Again", "price": "1"})
    problem = assert_problem(response, 409)
    assert "sku" in problem["detail"]


def test_every_missing_required_field_is_reported_at_once(shop_client):
    problem = assert_problem(shop_client.post(PRODUCTS, json={}), 422, "sku", "name", "price")
    assert "category_id" not in problem["errors"] and "barcode" not in problem["errors"]


def test_server_set_fields_cannot_be_written(shop_client, make_product):
    response = shop_client.post(PRODUCTS, json={"sku": "A", "name": "A", "price": "1",
                                                "id": 7, "created_at": "2020-01-01T00:00:00Z"})
    assert_problem(response, 422, "id", "created_at")
    product = make_product()
    assert_problem(shop_client.patch(f"{PRODUCTS}/{product['id']}", json={"id": 99}), 422, "id")


# Extension fields (shopx) behave like native fields

def test_extension_fields_are_written_and_read_like_native_fields(shop_client):
    response = shop_client.post(PRODUCTS, json={"sku": "A", "name": "A", "price": "1",
                                                "loyalty_points": 5, "gift_note": "Enjoy"})
    assert response.status_code == 201, response.text
    product = response.json()
    assert (product["loyalty_points"], product["gift_note"]) == (5, "Enjoy")
    fetched = shop_client.get(f"{PRODUCTS}/{product['id']}").json()
    assert (fetched["loyalty_points"], fetched["gift_note"]) == (5, "Enjoy")


def test_extension_fields_are_stored_in_the_extending_plugins_side_table(
        shop_kernel, make_product):
    product = make_product(loyalty_points=5, gift_note="Enjoy")
    assert tuple(side_table_row(shop_kernel, product["id"])) == (5, "Enjoy")


def test_a_record_without_extension_values_shows_its_extension_fields_as_null(make_product):
    product = make_product()
    assert product["loyalty_points"] is None and product["gift_note"] is None


def test_patching_extension_fields_updates_them_and_the_record_version(shop_client, make_product):
    product = make_product()
    response = shop_client.patch(f"{PRODUCTS}/{product['id']}", json={"loyalty_points": 7})
    assert response.status_code == 200, response.text
    assert response.json()["loyalty_points"] == 7 and response.json()["version"] == 2
    response = shop_client.patch(f"{PRODUCTS}/{product['id']}", json={"loyalty_points": 9,
                                                                      "name": "Renamed"})
    assert (response.json()["loyalty_points"], response.json()["name"]) == (9, "Renamed")


def test_extension_fields_are_validated_like_native_fields(shop_client):
    response = shop_client.post(PRODUCTS, json={"sku": "A", "name": "A", "price": "1",
                                                "loyalty_points": "many",
                                                "gift_note": "x" * 201})
    assert_problem(response, 422, "loyalty_points", "gift_note")


def test_extension_fields_filter_like_native_fields(shop_client, make_product):
    make_product(sku="NONE")
    make_product(sku="FEW", loyalty_points=2, gift_note="Happy birthday")
    make_product(sku="MANY", loyalty_points=50, gift_note="Merry Christmas")
    assert listed_skus(shop_client, loyalty_points__gte=10) == ["MANY"]
    assert listed_skus(shop_client, loyalty_points=2) == ["FEW"]
    assert listed_skus(shop_client, loyalty_points__in="2,50") == ["FEW", "MANY"]
    assert listed_skus(shop_client, gift_note__contains="birthday") == ["FEW"]
    assert listed_skus(shop_client, loyalty_points="") == ["NONE"]


def test_extension_fields_sort_like_native_fields(shop_client, make_product):
    make_product(sku="NONE")
    make_product(sku="FEW", loyalty_points=2)
    make_product(sku="MANY", loyalty_points=50)
    assert listed_skus(shop_client, sort="loyalty_points") == ["NONE", "FEW", "MANY"]
    assert listed_skus(shop_client, sort="-loyalty_points") == ["MANY", "FEW", "NONE"]


def test_disabling_the_extending_plugin_removes_its_fields_from_the_api(
        shop_kernel, api_client, make_product):
    product = make_product(loyalty_points=5)
    shop_kernel.disable(["shopx"])
    client = api_client(shop_kernel)
    fetched = client.get(f"{PRODUCTS}/{product['id']}").json()
    assert "loyalty_points" not in fetched and "gift_note" not in fetched
    assert all("loyalty_points" not in item for item in client.get(PRODUCTS).json()["items"])
    assert_problem(client.post(PRODUCTS, json={"sku": "B", "name": "B", "price": "1",
                                               "loyalty_points": 1}), 422, "loyalty_points")
    assert_problem(client.get(PRODUCTS, params={"loyalty_points": 5}), 422, "loyalty_points")
    assert_problem(client.get(PRODUCTS, params={"sort": "loyalty_points"}), 422, "sort")


def test_disabling_the_extending_plugin_keeps_its_data(shop_kernel, api_client, make_product):
    product = make_product(loyalty_points=5, gift_note="Enjoy")
    shop_kernel.disable(["shopx"])
    client = api_client(shop_kernel)
    assert client.patch(f"{PRODUCTS}/{product['id']}", json={"name": "Renamed"}).status_code == 200
    assert tuple(side_table_row(shop_kernel, product["id"])) == (5, "Enjoy")


def test_re_enabling_the_extending_plugin_brings_its_fields_and_values_back(
        shop_kernel, api_client, make_product):
    product = make_product(loyalty_points=5, gift_note="Enjoy")
    shop_kernel.disable(["shopx"])
    created_meanwhile = api_client(shop_kernel).post(
        PRODUCTS, json={"sku": "MEANWHILE", "name": "B", "price": "1"}).json()
    shop_kernel.enable(["shopx"])
    client = api_client(shop_kernel)
    fetched = client.get(f"{PRODUCTS}/{product['id']}").json()
    assert (fetched["loyalty_points"], fetched["gift_note"]) == (5, "Enjoy")
    assert client.get(f"{PRODUCTS}/{created_meanwhile['id']}").json()["loyalty_points"] is None


def test_deleting_a_record_while_the_extending_plugin_is_disabled_removes_its_side_row(
        shop_kernel, api_client, make_product):
    product = make_product(loyalty_points=5)
    shop_kernel.disable(["shopx"])
    assert api_client(shop_kernel).delete(f"{PRODUCTS}/{product['id']}").status_code == 204
    assert side_table_row(shop_kernel, product["id"]) is None


# Filters

@pytest.fixture
def teas(make_category, make_product) -> dict[str, dict[str, Any]]:
    """Five products, prices with the same number of digits, two in category Tea."""
    tea = make_category(name="Tea")
    return {product["sku"]: product for product in (
        make_product(sku="GREEN", name="Green tea", price="12.00", barcode="4001",
                     category_id=tea["id"]),
        make_product(sku="BLACK", name="Black tea", price="15.50", barcode=None,
                     category_id=tea["id"]),
        make_product(sku="MUG", name="Mug 50%", price="15.50", barcode="4003"),
        make_product(sku="POT", name="Tea pot", price="39.90", barcode=None, active=False),
        make_product(sku="CUP", name="Cup_1", price="20.00", barcode="4005"),
    )}


def test_a_field_filter_matches_equal_values(shop_client, teas):
    assert listed_skus(shop_client, sku="MUG") == ["MUG"]
    assert listed_skus(shop_client, active="false") == ["POT"]


def test_range_filters_select_greater_and_smaller_values(shop_client, teas):
    assert listed_skus(shop_client, price__gte="15.50") == ["BLACK", "MUG", "POT", "CUP"]
    assert listed_skus(shop_client, price__gt="15.50") == ["POT", "CUP"]
    assert listed_skus(shop_client, price__lte="15.50") == ["GREEN", "BLACK", "MUG"]
    assert listed_skus(shop_client, price__lt="15.50") == ["GREEN"]


def test_an_in_filter_matches_any_of_its_comma_separated_values(shop_client, teas):
    assert listed_skus(shop_client, sku__in="MUG,CUP,NOPE") == ["MUG", "CUP"]


def test_a_contains_filter_matches_part_of_a_text(shop_client, teas):
    assert listed_skus(shop_client, name__contains="ea") == ["GREEN", "BLACK", "POT"]


def test_a_contains_filter_takes_percent_and_underscore_literally(
        shop_client, teas, make_product):
    make_product(sku="DECOY", name="Mug 500 ml, Cupx1")
    assert listed_skus(shop_client, name__contains="50%") == ["MUG"]
    assert listed_skus(shop_client, name__contains="p_1") == ["CUP"]


def test_a_contains_filter_is_case_sensitive_on_every_database(shop_client, teas):
    # `__contains` follows the Django-style operator names: it matches case for case, as
    # PostgreSQL's LIKE does; SQLite's LIKE ignores ASCII case unless told otherwise.
    assert listed_skus(shop_client, name__contains="Tea") == ["POT"]


def test_an_empty_filter_value_matches_null(shop_client, teas):
    assert listed_skus(shop_client, barcode="") == ["BLACK", "POT"]


def test_a_filter_on_the_foreign_key_selects_the_records_of_one_related_record(
        shop_client, teas):
    category_id = teas["GREEN"]["category_id"]
    assert listed_skus(shop_client, category_id=category_id) == ["GREEN", "BLACK"]


def test_a_timestamp_filter_compares_instants(shop_client, teas):
    created = teas["MUG"]["created_at"]
    assert listed_skus(shop_client, created_at__gte=created) == ["MUG", "POT", "CUP"]


def test_several_filters_must_all_match(shop_client, teas):
    assert listed_skus(shop_client, price__gte="15", barcode__in="4003,4005") == ["MUG", "CUP"]


def test_filters_on_the_second_entity_work_the_same(shop_client, make_category):
    make_category(name="Tea")
    make_category(name="Coffee")
    response = shop_client.get(CATEGORIES, params={"name__contains": "off"})
    assert [c["name"] for c in response.json()["items"]] == ["Coffee"]


# Sorting

def test_sort_orders_by_each_field_in_turn_minus_meaning_descending(shop_client, teas):
    assert listed_skus(shop_client, sort="-price,name") == ["POT", "CUP", "BLACK", "MUG",
                                                           "GREEN"]


def test_without_sort_records_come_in_creation_order(shop_client, teas):
    assert listed_skus(shop_client) == ["GREEN", "BLACK", "MUG", "POT", "CUP"]


def test_nulls_sort_first_ascending_and_last_descending(shop_client, teas):
    assert listed_skus(shop_client, sort="barcode") == ["BLACK", "POT", "GREEN", "MUG", "CUP"]
    assert listed_skus(shop_client, sort="-barcode") == ["CUP", "MUG", "GREEN", "BLACK", "POT"]


def test_money_sorts_by_amount_not_by_its_digits(shop_client, make_product):
    for sku, price in (("NINE", "9.99"), ("HUNDRED", "100.00"), ("TEN", "10.00"),
                       ("MINUS_FIFTY", "-50.00"), ("MINUS_FIVE", "-5.00")):
        make_product(sku=sku, price=price)
    assert listed_skus(shop_client, sort="price") == ["MINUS_FIFTY", "MINUS_FIVE", "NINE",
                                                      "TEN", "HUNDRED"]


def test_money_range_filters_compare_amounts_not_digits(shop_client, make_product):
    for sku, price in (("NINE", "9.99"), ("HUNDRED", "100.00"), ("TEN", "10.00")):
        make_product(sku=sku, price=price)
    assert listed_skus(shop_client, price__gte="10") == ["HUNDRED", "TEN"]
    assert listed_skus(shop_client, price__lt="10") == ["NINE"]


# Cursor pagination, limit, total

def test_a_page_holds_at_most_limit_items_and_a_cursor_to_the_next(shop_client, teas):
    page = listed(shop_client, limit=2)
    assert len(page["items"]) == 2 and isinstance(page["next_cursor"], str)


def test_following_cursors_lists_every_record_once_in_order(shop_client, make_product):
    for number in range(23):
        make_product(price=f"{10 + number % 5}.00")
    everything = listed(shop_client, sort="-price,name", limit=100)["items"]
    assert every_page(shop_client, sort="-price,name", limit=4) == everything
    assert len(everything) == 23


def test_the_last_page_has_no_next_cursor(shop_client, teas):
    assert listed(shop_client, limit=5)["next_cursor"] is None
    assert listed(shop_client, limit=500)["next_cursor"] is None


@pytest.mark.parametrize("sort", ["barcode", "-barcode", "loyalty_points", "-loyalty_points",
                                  "created_at", "-name"])
def test_cursors_page_through_nullable_extension_and_timestamp_sorts(
        shop_client, make_product, sort):
    for number in range(9):
        make_product(barcode=None if number % 3 == 0 else f"B{number % 4}",
                     loyalty_points=None if number % 2 else number % 4)
    everything = listed(shop_client, sort=sort, limit=100)["items"]
    assert every_page(shop_client, sort=sort, limit=2) == everything


def test_cursor_pages_stay_stable_when_records_are_inserted_between_pages(
        shop_client, make_product):
    originals = {make_product(name=f"Item {n:02d}", price=f"{20 + n % 4}.00")["id"]
                 for n in range(12)}
    seen: list[dict[str, Any]] = []
    inserted_ahead: set[int] = set()
    page = listed(shop_client, sort="-price,name", limit=5)
    for round_ in range(10):
        seen += page["items"]
        if page["next_cursor"] is None:
            break
        make_product(name=f"Early {round_}", price="99.00")  # sorts before the cursor
        inserted_ahead.add(make_product(name=f"Late {round_}", price="11.00")["id"])
        page = listed(shop_client, sort="-price,name", limit=5, cursor=page["next_cursor"])
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)), "a record was listed twice"
    assert originals <= set(ids), "a record that existed all along was skipped"
    assert inserted_ahead <= set(ids), "a record inserted ahead of the cursor was skipped"
    assert not any(item["name"].startswith("Early") for item in seen)
    assert seen == sorted(seen, key=lambda item: (-Decimal(item["price"]), item["name"]))


def test_the_limit_is_capped(shop_client):
    problem = assert_problem(shop_client.get(PRODUCTS, params={"limit": 501}), 422, "limit")
    assert "500" in problem["errors"]["limit"]
    assert shop_client.get(PRODUCTS, params={"limit": 500}).status_code == 200


def test_the_total_is_given_only_on_request_and_counts_every_matching_record(
        shop_client, teas):
    assert "total" not in listed(shop_client, limit=1)
    page = listed(shop_client, limit=1, with_total="true", price__gte="15")
    assert page["total"] == 4 and len(page["items"]) == 1
    assert listed(shop_client, limit=1, with_total="true", cursor=page["next_cursor"],
                  price__gte="15")["total"] == 4


def test_total_still_asks_for_the_count_on_an_entity_without_a_total_field(shop_client, teas):
    assert listed(shop_client, limit=1, total="true", price__gte="15")["total"] == 4


def test_a_cursor_made_for_another_sort_order_is_refused(shop_client, teas):
    cursor = listed(shop_client, sort="name", limit=1)["next_cursor"]
    response = shop_client.get(PRODUCTS, params={"sort": "-price", "cursor": cursor})
    assert "sort" in assert_problem(response, 422, "cursor")["detail"]


# Errors: always problem+json with a clear message, never a 500

def _cursor(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


VALID = {"sku": "OK-1", "name": "Fine", "price": "1.00"}

BAD_REQUESTS = [
    # (id, method, where, request arguments, status, fields named in `errors`)
    ("unknown-field", "POST", "list", {"json": {**VALID, "colour": "red"}}, 422, ["colour"]),
    ("text-for-integer", "POST", "list", {"json": {**VALID, "category_id": "abc"}}, 422,
     ["category_id"]),
    ("number-for-text", "POST", "list", {"json": {**VALID, "name": 5}}, 422, ["name"]),
    ("text-for-boolean", "POST", "list", {"json": {**VALID, "active": "yes"}}, 422, ["active"]),
    ("fraction-for-integer", "POST", "list", {"json": {**VALID, "loyalty_points": 1.5}}, 422,
     ["loyalty_points"]),
    ("integer-out-of-range", "POST", "list", {"json": {**VALID, "loyalty_points": 2**40}}, 422,
     ["loyalty_points"]),
    ("boolean-for-decimal", "POST", "list", {"json": {**VALID, "price": True}}, 422, ["price"]),
    ("decimal-with-too-many-places", "POST", "list", {"json": {**VALID, "price": "1.00001"}},
     422, ["price"]),
    ("decimal-that-is-not-a-number", "POST", "list", {"json": {**VALID, "price": "abc"}}, 422,
     ["price"]),
    ("decimal-too-large-as-text", "POST", "list", {"json": {**VALID, "price": "1e400"}}, 422,
     ["price"]),
    ("decimal-too-large-as-json-number", "POST", "list",
     {"content": b'{"sku": "A", "name": "A", "price": 1e400}'}, 422, ["price"]),
    ("decimal-with-too-many-digits", "POST", "list",
     {"json": {**VALID, "price": "100000000000000"}}, 422, ["price"]),
    ("decimal-nan", "POST", "list", {"json": {**VALID, "price": "NaN"}}, 422, ["price"]),
    ("decimal-infinity", "POST", "list", {"json": {**VALID, "price": "Infinity"}}, 422,
     ["price"]),
    ("json-nan-literal", "POST", "list",
     {"content": b'{"sku": "A", "name": "A", "price": NaN}'}, 422, ["price"]),
    ("text-too-long", "POST", "list", {"json": {**VALID, "name": "x" * 121}}, 422, ["name"]),
    ("text-with-nul", "POST", "list", {"json": {**VALID, "name": "a\x00b"}}, 422, ["name"]),
    ("text-with-lone-surrogate", "POST", "list",
     {"content": b'{"sku": "A", "name": "\\ud800", "price": "1"}'}, 422, ["name"]),
    ("null-for-required", "POST", "list", {"json": {**VALID, "name": None}}, 422, ["name"]),
    ("malformed-json", "POST", "list", {"content": b'{"sku": "A", '}, 422, []),
    ("empty-body", "POST", "list", {"content": b""}, 422, []),
    ("json-that-is-not-an-object", "POST", "list", {"content": b'["sku"]'}, 422, []),
    ("body-not-declared-json", "POST", "list",
     {"content": b'{"sku": "A", "name": "A", "price": "1"}',
      "headers": {"Content-Type": "text/plain"}}, 415, []),
    ("body-nested-too-deep", "POST", "list", {"content": b"[" * 100_000}, 422, ["body"]),
    ("idempotency-key-too-long", "POST", "list",
     {"json": VALID, "headers": {"Idempotency-Key": "k" * 201}}, 422, ["Idempotency-Key"]),
    ("unknown-filter-operator", "GET", "list", {"params": {"price__like": "1"}}, 422,
     ["price__like"]),
    ("unknown-filter-field", "GET", "list", {"params": {"colour": "red"}}, 422, ["colour"]),
    ("filter-on-unfilterable-field", "GET", "list", {"params": {"version": "1"}}, 422,
     ["version"]),
    ("bad-decimal-filter", "GET", "list", {"params": {"price": "abc"}}, 422, ["price"]),
    ("bad-integer-in-filter", "GET", "list", {"params": {"category_id__in": "1,x"}}, 422,
     ["category_id__in"]),
    ("bad-boolean-filter", "GET", "list", {"params": {"active": "maybe"}}, 422, ["active"]),
    ("bad-timestamp-filter", "GET", "list", {"params": {"created_at__gte": "yesterday"}}, 422,
     ["created_at__gte"]),
    ("naive-timestamp-filter", "GET", "list",
     {"params": {"created_at__gte": "2026-01-01T00:00:00"}}, 422, ["created_at__gte"]),
    ("range-on-a-boolean", "GET", "list", {"params": {"active__lte": "true"}}, 422,
     ["active__lte"]),
    ("contains-on-a-number", "GET", "list", {"params": {"price__contains": "1"}}, 422,
     ["price__contains"]),
    ("contains-with-nul", "GET", "list", {"params": {"name__contains": "a\x00"}}, 422,
     ["name__contains"]),
    ("unknown-sort-field", "GET", "list", {"params": {"sort": "colour"}}, 422, ["sort"]),
    ("sort-field-twice", "GET", "list", {"params": {"sort": "name,-name"}}, 422, ["sort"]),
    ("cursor-not-base64-json", "GET", "list", {"params": {"cursor": "zzz"}}, 422, ["cursor"]),
    ("cursor-without-values", "GET", "list", {"params": {"cursor": _cursor({})}}, 422,
     ["cursor"]),
    ("cursor-with-wrong-value-type", "GET", "list",
     {"params": {"cursor": _cursor({"s": "id", "v": ["one"]})}}, 422, ["cursor"]),
    ("limit-above-maximum", "GET", "list", {"params": {"limit": "501"}}, 422, ["limit"]),
    ("limit-zero", "GET", "list", {"params": {"limit": "0"}}, 422, ["limit"]),
    ("limit-not-a-number", "GET", "list", {"params": {"limit": "ten"}}, 422, ["limit"]),
    ("limit-given-twice", "GET", "list", {"params": [("limit", "1"), ("limit", "2")]}, 422,
     ["limit"]),
    ("with-total-not-a-boolean", "GET", "list", {"params": {"with_total": "maybe"}}, 422,
     ["with_total"]),
    ("legacy-total-not-a-boolean", "GET", "list", {"params": {"total": "maybe"}}, 422,
     ["total"]),
    ("total-given-under-both-names", "GET", "list",
     {"params": [("with_total", "true"), ("total", "true")]}, 422, []),
    ("id-beyond-the-id-column", "GET", "record-3000000000", {}, 404, []),
    ("id-beyond-any-integer", "GET", "record-99999999999999999999", {}, 404, []),
    ("malformed-if-match", "PATCH", "record",
     {"json": {"name": "B"}, "headers": {"If-Match": "abc"}}, 422, ["If-Match"]),
    ("if-match-beyond-any-version", "PATCH", "record",
     {"json": {"name": "B"}, "headers": {"If-Match": '"999999999999"'}}, 412, []),
    ("version-not-an-integer", "PATCH", "record", {"json": {"version": "1"}}, 422, ["version"]),
    ("version-beyond-any-version", "PATCH", "record", {"json": {"version": 10**20}}, 409, []),
    ("unknown-field-in-patch", "PATCH", "record", {"json": {"colour": "red"}}, 422, ["colour"]),
    ("malformed-if-match-on-delete", "DELETE", "record", {"headers": {"If-Match": "W/x"}}, 422,
     ["If-Match"]),
]


@pytest.mark.parametrize(("method", "where", "arguments", "status", "fields"),
                         [case[1:] for case in BAD_REQUESTS],
                         ids=[case[0] for case in BAD_REQUESTS])
def test_a_bad_request_gets_a_problem_saying_what_is_wrong_and_changes_nothing(
        shop_client, make_product, method, where, arguments, status, fields):
    product = make_product()
    path = {"list": PRODUCTS, "record": f"{PRODUCTS}/{product['id']}"}.get(
        where, f"{PRODUCTS}/{where.removeprefix('record-')}")
    if "content" in arguments:  # a raw body is sent as JSON unless the case says otherwise
        arguments = {**arguments, "headers": {"Content-Type": "application/json",
                                              **arguments.get("headers", {})}}
    assert_problem(shop_client.request(method, path, **arguments), status, *fields)
    assert listed(shop_client)["items"] == [product]


# One transaction per write

@pytest.fixture
def refused_gift_note(shop_kernel: Kernel) -> str:
    """A gift note the database refuses though the API accepts it, so that writing a
    product's side-table row (the second write of a create or update) fails."""
    note = "refused by the database"
    with shop_kernel.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            for event in ("INSERT", "UPDATE"):
                connection.exec_driver_sql(
                    f"CREATE TRIGGER refuse_gift_note_{event.lower()} BEFORE {event}"
                    f" ON shopx_product_loyalty WHEN NEW.gift_note = '{note}'"
                    " BEGIN SELECT RAISE(ABORT, 'gift note refused'); END")
        else:
            connection.exec_driver_sql(
                "ALTER TABLE shopx_product_loyalty ADD CONSTRAINT ck_refuse_gift_note"
                f" CHECK (gift_note <> '{note}')")
    return note


def test_a_create_whose_extension_write_fails_leaves_no_record(
        shop_client, shop_kernel, refused_gift_note):
    response = shop_client.post(PRODUCTS, json={**VALID, "gift_note": refused_gift_note})
    assert_problem(response, 409)
    assert product_count(shop_kernel) == 0
    assert listed(shop_client, with_total="true")["total"] == 0


def test_an_update_whose_extension_write_fails_changes_nothing(
        shop_client, make_product, refused_gift_note):
    product = make_product(name="Before", gift_note="Fine")
    response = shop_client.patch(f"{PRODUCTS}/{product['id']}",
                                 json={"name": "After", "gift_note": refused_gift_note})
    assert_problem(response, 409)
    assert shop_client.get(f"{PRODUCTS}/{product['id']}").json() == product


# Money

@pytest.mark.parametrize(("sent", "shown"), [
    ("19.99", "19.9900"), ("0.01", "0.0100"), ("-5.1", "-5.1000"), ("1234.5678", "1234.5678"),
    ("99999999999999.9999", "99999999999999.9999"), ("7", "7.0000"),
])
def test_money_round_trips_exactly_as_a_decimal_string(shop_client, make_product, sent, shown):
    product = make_product(price=sent)
    assert product["price"] == shown
    assert shop_client.get(f"{PRODUCTS}/{product['id']}").json()["price"] == shown
    assert Decimal(shown) == Decimal(sent)


def test_money_sent_as_a_json_number_keeps_its_exact_decimal_value(shop_client):
    response = shop_client.post(PRODUCTS, content=b'{"sku": "A", "name": "A", "price": 0.30}',
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["price"] == "0.3000"


def test_money_filters_match_the_same_amount_written_differently(shop_client, make_product):
    make_product(sku="A", price="12.3")
    assert listed_skus(shop_client, price="12.30") == ["A"]
    assert listed_skus(shop_client, price__gte="12.300", price__lte="12.3") == ["A"]


def test_an_in_filter_on_money_matches_any_of_the_amounts(shop_client, make_product):
    make_product(sku="A", price="12.3")
    make_product(sku="B", price="1")
    make_product(sku="C", price="2")
    assert listed_skus(shop_client, price__in="12.3000,1") == ["A", "B"]


# No N+1

@contextmanager
def statements_on(kernel: Kernel) -> Iterator[list[str]]:
    """Every SQL statement the kernel's engine sends while the block runs."""
    statements: list[str] = []

    def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(kernel.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(kernel.engine, "before_cursor_execute", record)


def statements_to_list(kernel: Kernel, client: Any) -> list[str]:
    """The statements of one request for a page of up to 100 products with its total."""
    with statements_on(kernel) as statements:
        page = listed(client, limit=100, with_total="true", sort="-loyalty_points")
    assert page["total"] == len(page["items"])
    return statements


def test_listing_records_with_extension_fields_costs_a_fixed_number_of_queries(
        shop_client, shop_kernel, make_category, make_product):
    categories = [make_category()["id"] for _ in range(3)]

    def add_products(count: int) -> None:
        for number in range(count):
            make_product(category_id=categories[number % 3], loyalty_points=number,
                         gift_note=f"note {number}")

    add_products(10)
    for_ten = statements_to_list(shop_kernel, shop_client)
    add_products(90)
    for_a_hundred = statements_to_list(shop_kernel, shop_client)
    assert len(for_a_hundred) == len(for_ten) <= 6
    reading_products = [s for s in for_a_hundred if "shop_product" in s]
    assert len(reading_products) == 2  # the page, extension tables joined in; the total
