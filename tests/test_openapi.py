"""The OpenAPI document generated from the registry, and a schemathesis run against it.

The document at ``/schema/openapi.json`` must validate as OpenAPI 3.1, describe every
generated route with its real schemas (named components with properties, never a bare
``object``), include extension fields while their plugin is enabled, and tell the truth:
schemathesis sends generated requests and checks that the app never answers 5xx and that
every response matches the document.
"""

from __future__ import annotations

from typing import Any

import pytest
from api_client import *  # noqa: F403  (fixtures of the shop app)
from api_client import OPENAPI
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ENTITY_PATHS = ("/api/v1/shop/categories", "/api/v1/shop/categories/{record_id}",
                "/api/v1/shop/products", "/api/v1/shop/products/{record_id}")
LOYALTY_FIELDS = {"loyalty_points", "gift_note"}


@pytest.fixture
def document(shop_client) -> dict[str, Any]:
    response = shop_client.get(OPENAPI)
    assert response.status_code == 200
    return response.json()


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/components/schemas/Name``) to the schema it names."""
    reference = schema["$ref"]
    assert reference.startswith("#/components/schemas/"), reference
    return document["components"]["schemas"][reference.rsplit("/", 1)[1]]


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation)
            for path in ENTITY_PATHS
            for method, operation in document["paths"][path].items()]


def success(operation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return next((status, response) for status, response in operation["responses"].items()
                if status.startswith("2"))


def test_the_document_validates_as_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_entity_gets_its_five_routes(document):
    assert set(ENTITY_PATHS) <= document["paths"].keys()
    for collection in ("categories", "products"):
        assert set(document["paths"][f"/api/v1/shop/{collection}"]) == {"get", "post"}
        assert set(document["paths"][f"/api/v1/shop/{collection}/{{record_id}}"]) == {
            "get", "patch", "delete"}


def test_every_generated_response_refers_to_a_named_schema_with_properties(document):
    for path, method, operation in operations(document):
        status, response = success(operation)
        if status == "204":
            continue
        schema = resolve(document, response["content"]["application/json"]["schema"])
        assert schema["type"] == "object" and schema["properties"], (path, method)


def test_every_generated_request_body_refers_to_a_named_schema_with_properties(document):
    bodies = [(path, method, operation["requestBody"])
              for path, method, operation in operations(document) if method in ("post", "patch")]
    assert len(bodies) == 4
    for path, method, body in bodies:
        schema = resolve(document, body["content"]["application/json"]["schema"])
        assert schema["type"] == "object" and schema["properties"], (path, method)
        assert schema["additionalProperties"] is False


def test_a_page_schema_lists_items_of_the_record_schema(document):
    page_ref = success(document["paths"]["/api/v1/shop/products"]["get"])[1]
    page = resolve(document, page_ref["content"]["application/json"]["schema"])
    assert {"items", "next_cursor", "total"} <= page["properties"].keys()
    item = resolve(document, page["properties"]["items"]["items"])
    assert {"sku", "price", "category_id"} <= item["properties"].keys()


def test_field_schemas_say_what_each_field_holds(document):
    product = document["components"]["schemas"]["ShopProduct"]["properties"]
    assert product["price"]["type"] == "string" and product["price"]["format"] == "decimal"
    assert product["barcode"]["type"] == ["string", "null"]
    assert product["created_at"]["format"] == "date-time"
    assert product["active"]["type"] == "boolean"


def test_the_create_schema_requires_the_required_fields_and_omits_server_set_ones(document):
    create = document["components"]["schemas"]["ShopProductCreate"]
    assert set(create["required"]) == {"sku", "name", "price"}
    assert not {"id", "version", "created_at", "updated_at"} & create["properties"].keys()


def test_every_error_response_is_a_problem(document):
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    for _path, _method, operation in operations(document):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                schema = response["content"]["application/problem+json"]["schema"]
                assert resolve(document, schema) is problem


def test_extension_fields_are_in_the_entity_schemas_and_filters(document):
    schemas = document["components"]["schemas"]
    for name in ("ShopProduct", "ShopProductCreate", "ShopProductUpdate"):
        assert schemas[name]["properties"].keys() >= LOYALTY_FIELDS, name
    filters = {parameter["name"] for parameter
               in document["paths"]["/api/v1/shop/products"]["get"]["parameters"]}
    assert {"loyalty_points", "loyalty_points__gte", "gift_note__contains"} <= filters


def test_without_the_extending_plugin_the_document_has_no_extension_fields(
        boot_shop, api_client):
    text = api_client(boot_shop(with_loyalty=False)).get(OPENAPI).text
    assert "loyalty_points" not in text and "gift_note" not in text


def test_disabling_the_extending_plugin_removes_its_fields_from_the_document(
        shop_kernel, api_client):
    assert "loyalty_points" in api_client(shop_kernel).get(OPENAPI).text
    shop_kernel.disable(["shopx"])
    document = api_client(shop_kernel).get(OPENAPI).json()
    assert "loyalty_points" not in str(document)
    validate(document, cls=OpenAPIV31SpecValidator)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION_AND_MODE = 25


def test_generated_requests_get_no_5xx_and_responses_that_match_the_document(
        shop_api_schema, shop_api_headers):
    """Valid and invalid requests generated from the document, for every operation; each
    failing operation is reported with schemathesis's description and a curl command."""
    failures = []
    for result in shop_api_schema.get_all_operations():
        operation = result.ok()
        has_inputs = any(operation.iter_parameters()) or bool(operation.body)
        for mode in [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if has_inputs else [])]:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_OPERATION_AND_MODE, deadline=None,
                      derandomize=True, database=None, suppress_health_check=list(HealthCheck),
                      print_blob=False)
            def responds_as_documented(case: Any) -> None:
                case.call_and_validate(headers=dict(shop_api_headers), checks=CHECKS)

            try:
                responds_as_documented()
            except (Exception, BaseExceptionGroup) as exc:  # report every failing operation
                failures.append(f"{operation.label} ({mode.value} data): {exc}")
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
