"""The whole API as an integrator meets it: a valid OpenAPI document with every plugin,
each operation describing its body and the problems it answers, a discoverable root,
and a reference page that renders without internet access."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import httpx
import pytest
from first_party_api import *  # noqa: F403  (the app with every plugin)
from litestar.routes import HTTPRoute
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from erp_core.api.reference import REDOC_SCRIPT

PROBLEM = {"$ref": "#/components/schemas/Problem"}
METHODS = ("get", "post", "put", "patch", "delete")


def each_operation(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in METHODS]


def test_the_document_with_every_first_party_plugin_validates_as_openapi_3_1(full_document):
    assert full_document["openapi"].startswith("3.1")
    validate(full_document, cls=OpenAPIV31SpecValidator)
    assert {"/api/v1/orders/place", "/api/v1/crm/customers/{customer_id}/merge",
            "/api/v1/inventory/stock/receive"} <= full_document["paths"].keys()


def test_no_operation_declares_a_parameter_twice(full_document):
    for path, method, operation in each_operation(full_document):
        names = [(p["name"], p["in"]) for p in operation.get("parameters", [])]
        assert len(names) == len(set(names)), (path, method)


def test_the_orders_list_filters_on_total_and_counts_with_with_total(full_client):
    orders = full_client.get("/api/v1/orders/orders", params={"limit": 500}).json()["items"]
    assert orders, "the demo data places orders"
    total = orders[0]["total"]
    page = full_client.get("/api/v1/orders/orders",
                           params={"total": total, "with_total": "true", "limit": 1}).json()
    assert page["items"] and all(o["total"] == total for o in page["items"])
    matching = full_client.get("/api/v1/orders/orders",
                               params={"total": total, "limit": 500}).json()["items"]
    assert page["total"] == len(matching) == sum(o["total"] == total for o in matching)


def body_parameters(app: Any) -> dict[tuple[str, str], str]:
    """(path, method) of every API route handler that reads a request body -> its
    parameter (web pages, left out of the document, are left out here too)."""
    reading = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():  # web pages, not the API's
                continue
            names = handler.parsed_fn_signature.parameters.keys() & {"data", "body"}
            for method in handler.http_methods - {"HEAD", "OPTIONS"}:
                if names:
                    reading[(route.path_format, method.lower())] = names.pop()
    return reading


def test_every_operation_that_reads_a_body_documents_it_with_a_schema(full_app, full_document):
    reading = body_parameters(full_app)
    assert len(reading) > 30
    for (path, method) in reading:
        operation = full_document["paths"][path][method]
        assert "requestBody" in operation, (path, method)
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = full_document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        assert schema["type"] == "object", (path, method)
        assert schema.get("properties") or schema.get("description"), (path, method)


def test_every_error_an_operation_documents_is_a_problem(full_document):
    for path, method, operation in each_operation(full_document):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                content = response["content"]
                assert list(content) == ["application/problem+json"], (path, method, status)
                assert content["application/problem+json"]["schema"] == PROBLEM


def test_every_operation_documents_the_statuses_its_declarations_can_answer(full_document):
    for path, method, operation in each_operation(full_document):
        statuses = operation["responses"].keys()
        public = operation.get("security") == []
        if not public:
            assert {"401", "403"} <= statuses, (path, method)
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            assert "404" in statuses, (path, method)
        if "requestBody" in operation:
            assert {"404", "415", "422"} <= statuses, (path, method)
        if method != "get":
            assert "409" in statuses, (path, method)


def test_public_operations_say_so_and_answer_without_a_token(full_document, full_server):
    public = {(path, method) for path, method, operation in each_operation(full_document)
              if operation.get("security") == []}
    assert {("/health", "get"), ("/", "get"), ("/api/v1", "get"),
            ("/api/v1/hooks/{driver}/{account}", "post")} <= public
    for path in ("/health", "/", "/api/v1"):
        assert httpx.get(full_server + path, timeout=10).status_code == 200


def test_a_method_a_path_does_not_allow_is_a_405_naming_the_allowed_ones(full_client):
    response = full_client.put("/health")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET"}


@pytest.mark.parametrize("index", ["/", "/api/v1"])
def test_the_index_links_the_reference_the_document_health_and_the_enabled_plugins(
        full_server, full_kernel, index):
    answer = httpx.get(full_server + index, timeout=10)
    assert answer.status_code == 200
    links = answer.json()["links"]
    assert {"reference", "openapi", "health"} <= links.keys()
    assert httpx.get(full_server + links["reference"]["href"], timeout=10).headers[
        "content-type"].startswith("text/html")
    assert httpx.get(full_server + links["openapi"]["href"], timeout=10).json()["openapi"]
    assert httpx.get(full_server + links["health"]["href"], timeout=10).status_code == 200
    plugins = {plugin["name"]: plugin["href"] for plugin in answer.json()["plugins"]}
    assert plugins.keys() == set(full_kernel.enabled)
    assert plugins["orders"] == "/api/v1/orders"


def test_the_reference_page_loads_its_script_from_this_server(full_server):
    page = httpx.get(f"{full_server}/schema", timeout=10).text
    assert f'src="{REDOC_SCRIPT}"' in page
    assert "https://" not in page.split("<body>")[0] and "fonts.googleapis" not in page
    script = httpx.get(full_server + REDOC_SCRIPT, timeout=10)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert b"ReDoc" in script.content[:4096] or b"Redoc" in script.content[:4096]
    licence = httpx.get(f"{full_server}/schema/assets/LICENSE-redoc", timeout=10)
    assert licence.status_code == 200 and "MIT" in licence.text


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian: apt-get install chromium);"
                    " .ci/run installs it")
def test_the_reference_renders_every_plugins_operations_in_a_browser_without_internet(
        full_server, tmp_path):
    """Headless Chromium with every host but this machine unreachable renders the
    reference: the operations of the plugins are on the page, not a blank one."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
               "--virtual-time-budget=30000", "--dump-dom", f"{full_server}/schema"]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=180).stdout
    for summary in ("Place an order with its lines", "Merge a duplicate customer into this one",
                    "Receive goods from a supplier", "List orders"):
        assert summary in dom, f"{summary!r} is not on the rendered page"
