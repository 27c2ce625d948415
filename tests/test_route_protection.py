"""Every route of the app needs a token and a permission, except ``/health``, ``/schema``
and the inbound webhooks, whose callers prove themselves by signature (their own tests
check it).

The walks read the routes from the app's own OpenAPI document, so a route added later
(by the kernel or by any test plugin) is walked without touching these tests; path
parameters are filled with the id of an existing record of the route's entity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from kernel_testing import bearer
from litestar.testing import TestClient

from erp_core.api import create_app
from erp_core.errors import PluginError
from erp_core.events.delivery import EventDelivery
from erp_core.kernel import Kernel
from erp_core.plugins.state import record_enabled

PUBLIC = {("/health", "get"), ("/", "get"), ("/api/v1", "get"),
          ("/api/v1/hooks/{driver}/{account}", "post")}
PATH_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
EVERY_TEST_PLUGIN = ("alpha", "beta", "bare", "shop", "shopx", "desk", "desk_notes", "desk_guard",
                     "desk_watch", "desk_roles")
SAMPLES: dict[str, dict[str, Any]] = {
    "desk.ticket": {"title": "printer jam", "customer_id": 7},
    "shop.category": {"name": "printers"},
    "shop.product": {"sku": "P-1", "name": "Printer", "price": "99.00"},
    "kernel.webhook": {"url": "http://127.0.0.1:9/hooks", "patterns": ["desk.*"],
                       "secret": "whsec_route_protection_0123", "active": True},
    "kernel.event_sink": {"name": "bus", "driver": "nats", "settings": {}, "secrets": {},
                          "patterns": ["*"], "active": True},
    "kernel.exchange_rate": {"currency": "USD", "quote_currency": "EUR",
                             "rate_date": "2026-01-01", "rate": "0.9"},
    "kernel.exchange_rate_source": {"name": "bank", "driver": "centralbank",
                                    "quote_currency": "EUR", "settings": {}, "secrets": {},
                                    "active": True},
}
"""One valid record per entity with a create operation, so every ``{record_id}`` exists."""


@pytest.fixture
def everything(use_plugins, kernel: Kernel) -> Kernel:
    """A kernel with every working test plugin enabled and one record of each entity."""
    use_plugins(*EVERY_TEST_PLUGIN)
    kernel.enable(EVERY_TEST_PLUGIN)
    kernel.boot()
    with kernel.context() as ctx:
        for entity in kernel.entities:
            if "create" in entity.declaration.operations:
                assert entity.name in SAMPLES, f"add a sample record of {entity.name} to SAMPLES"
                ctx.records(entity.name).create(SAMPLES[entity.name])
        ctx.session.add(EventDelivery(event_id=1, target="webhook:1", state="retrying",
                                      attempts=1))
    return kernel


@pytest.fixture
def client(everything: Kernel) -> Iterator[TestClient]:
    with TestClient(app=create_app(everything)) as client:
        yield client


@pytest.fixture
def routes(client: TestClient, everything: Kernel) -> list[tuple[str, str]]:
    """Every (method, concrete path) of the OpenAPI document but the public ones."""
    document = client.get("/schema/openapi.json").json()
    existing = existing_ids(everything)
    found = []
    for path, operations in document["paths"].items():
        for method in operations:
            if method in {"get", "post", "put", "patch", "delete"} and (path, method) not in PUBLIC:
                found.append((method.upper(), fill(path, existing)))
    return found


def existing_ids(kernel: Kernel) -> dict[str, int]:
    """The path of each entity's collection -> the id of one of its records."""
    ids = {}
    with kernel.transaction() as session:
        for entity in kernel.entities:
            record_id = session.scalar(sa.select(sa.func.min(entity.id_column)))
            assert record_id is not None, f"{entity.name} has no record to walk its routes with"
            ids[f"/api/v1/{entity.plugin}/{entity.collection}/"] = record_id
    return ids


def fill(path: str, existing: dict[str, int]) -> str:
    owners = [prefix for prefix in existing if path.startswith(prefix)]
    record_id = existing[max(owners, key=len)] if owners else 1
    return PATH_PARAMETER.sub(str(record_id), path)


def send(client: TestClient, method: str, path: str, token: str | None = None) -> Any:
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    return client.request(method, path, json=body, headers=bearer(token) if token else {})


def stored_changes(kernel: Kernel) -> tuple[int, int]:
    with kernel.transaction() as session:
        return (session.scalar(sa.text("SELECT count(*) FROM kernel_audit_entry")),
                session.scalar(sa.text("SELECT count(*) FROM kernel_outbox_event")))


def test_the_walk_covers_the_routes_of_every_entity_plugin_and_the_kernel(routes):
    paths = {path for _method, path in routes}
    assert {"/api/v1/plugins", "/api/v1/alpha/greeting", "/api/v1/kernel/audit"} <= paths
    assert any(path.startswith("/api/v1/desk/tickets/") and path.endswith("/start")
               for path in paths)
    assert any(path.startswith("/api/v1/shop/products/") for path in paths)


def test_the_openapi_document_lists_every_route_the_app_serves(client):
    document = client.get("/schema/openapi.json").json()
    documented = {(path, method.upper()) for path, operations in document["paths"].items()
                  for method in operations}
    served = {(PATH_PARAMETER.sub(r"{\1}", route.path), method)
              for route in client.app.routes if not route.path.startswith("/schema")
              for method in getattr(route, "methods", ()) if method not in {"HEAD", "OPTIONS"}}
    assert served - documented == set()


def test_every_route_but_the_public_ones_is_401_without_a_token(client, routes):
    answers = {(method, path): send(client, method, path) for method, path in routes}
    assert {key: r.status_code for key, r in answers.items() if r.status_code != 401} == {}
    assert all(r.headers["content-type"].startswith("application/problem+json")
               for r in answers.values())


def test_every_route_is_401_with_an_unknown_token(client, routes):
    answers = {(method, path): send(client, method, path, "erp_unknown").status_code
               for method, path in routes}
    assert {key: status for key, status in answers.items() if status != 401} == {}


def test_health_and_the_openapi_document_need_no_token(client):
    assert client.get("/health").status_code == 200
    assert client.get("/schema/openapi.json").status_code == 200


def test_no_route_succeeds_for_a_user_without_permissions(client, routes, everything, make_token):
    token = make_token(everything)
    before = stored_changes(everything)
    answers = {(method, path): send(client, method, path, token).status_code
               for method, path in routes}
    assert {key: status for key, status in answers.items() if status not in (403, 404)} == {}
    assert stored_changes(everything) == before


def test_admin_can_read_through_every_route(client, routes, everything, make_token):
    token = make_token(everything, "admin")
    answers = {path: send(client, "GET", path, token).status_code
               for method, path in routes if method == "GET"}
    assert {path: status for path, status in answers.items() if status != 200} == {}


def test_a_plugin_route_answers_only_with_its_declared_permission(client, everything, make_token):
    path = "/api/v1/alpha/greeting"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer(make_token(everything, "desk.agent"))).status_code == 403
    greeter = make_token(everything, "alpha.greeter")
    assert client.get(path, headers=bearer(greeter)).status_code == 200


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/desk/tickets"),
    ("PATCH", "/api/v1/desk/tickets/1"),
])
def test_without_the_permission_a_malformed_body_is_still_403(client, everything, make_token,
                                                              method, path):
    response = client.request(method, path, content=b"not json",
                              headers=bearer(make_token(everything, "desk.viewer")))
    assert response.status_code == 403


def test_a_plugin_route_that_declares_no_permission_stops_the_app_naming_the_plugin(
        use_plugins, kernel):
    use_plugins("openroute")
    with kernel.engine.begin() as connection:  # enabled as is, whatever `enable` checks
        record_enabled(connection, "openroute", "1.0", True)
    with pytest.raises(PluginError, match="route /api/v1/openroute/secrets declares no"
                       " permission") as caught:
        create_app(kernel)
    assert caught.value.plugin == "openroute"
