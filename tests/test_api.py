"""The HTTP API built from a kernel, through Litestar's test client."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from kernel_testing import bearer
from litestar.testing import TestClient

from erp_core.api import create_app
from erp_core.cli import main
from erp_core.kernel import Kernel
from erp_core.security.permissions import ADMIN_ROLE

PROBLEM = "application/problem+json"


@pytest.fixture
def client(use_plugins, kernel: Kernel, make_token) -> Iterator[TestClient]:
    """The app of a kernel with alpha and beta enabled (and a broken plugin installed),
    called with an administrator's token."""
    use_plugins("alpha", "beta", "broken")
    kernel.enable(["beta"])
    with TestClient(app=create_app(kernel)) as client:
        client.headers.update(bearer(make_token(kernel, ADMIN_ROLE)))
        yield client


def test_health_is_200_when_the_database_answers(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "version": Kernel.version}


def test_health_needs_no_token(client):
    client.headers.pop("Authorization")
    assert client.get("/health").status_code == 200


def test_health_is_a_503_problem_when_the_database_does_not_answer(client, kernel, monkeypatch,
                                                                  caplog):
    unreachable = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/nowhere",
                                   connect_args={"connect_timeout": 5})
    try:
        with monkeypatch.context() as patch, caplog.at_level("ERROR", logger="erp.api"):
            patch.setattr(kernel, "engine", unreachable)
            response = client.get("/health")
    finally:
        unreachable.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"] == "the database does not answer"
    assert response.json()["request_id"] == response.headers["x-request-id"]
    for internal in ("127.0.0.1", "nobody", "nowhere", "psycopg", "connection"):
        assert internal not in response.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert response.headers["x-request-id"] in logged and "127.0.0.1" in logged


def test_plugins_endpoint_lists_the_same_facts_as_the_cli(client, database_url):
    response = client.get("/api/v1/plugins")
    assert response.status_code == 200
    listed = CliRunner().invoke(main, ["--database-url", database_url, "plugins", "list", "--json"],
                                env={"ERP_DATABASE_URL": None, "ERP_SKIP_BROKEN_PLUGINS": None})
    assert listed.exit_code == 0, listed.output
    assert response.json() == json.loads(listed.stdout)


def test_plugins_endpoint_needs_a_token(client):
    client.headers.pop("Authorization")
    response = client.get("/api/v1/plugins")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)


def test_plugins_endpoint_shows_enabled_and_broken_plugins(client):
    plugins = {item["name"]: item for item in client.get("/api/v1/plugins").json()}
    ours = {"alpha", "beta", "broken"}  # first-party plugins may be installed beside them
    assert {name: (item["enabled"], item["broken"]) for name, item in plugins.items()
            if name in ours} == {
        "alpha": (True, False), "beta": (True, False), "broken": (False, True)}
    assert plugins["alpha"]["version"] == "1.0"
    assert plugins["alpha"]["distribution"] == "erp_test_alpha"
    assert plugins["beta"]["depends"] == ["alpha"]
    assert "erp_test_module_that_does_not_exist" in plugins["broken"]["error"]


def test_a_plugins_routes_are_mounted_under_api_v1_and_its_name(client):
    response = client.get("/api/v1/alpha/greeting")
    assert response.status_code == 200
    assert response.json() == {"hello": "alpha", "extra": ["beta"], "items": 0}
    assert client.get("/greeting").status_code == 404


def test_a_plugin_that_is_not_enabled_contributes_no_routes(use_plugins, kernel, make_token):
    use_plugins("alpha", "bare")
    kernel.enable(["bare"])
    with TestClient(app=create_app(kernel)) as client:
        response = client.get("/api/v1/alpha/greeting",
                              headers=bearer(make_token(kernel, ADMIN_ROLE)))
        assert response.status_code == 404


def test_create_app_boots_a_kernel_that_is_not_booted(use_plugins, kernel):
    use_plugins("alpha")
    kernel.enable(["alpha"])
    assert kernel.pm is None
    create_app(kernel)
    assert kernel.enabled == ("alpha",)


def test_an_unknown_path_is_a_404_problem(client):
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["status"] == 404
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert problem["title"] == "Not Found"


def test_a_wrong_method_is_a_405_problem(client):
    response = client.post("/health")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["status"] == 405


def test_the_openapi_schema_is_served_and_lists_the_routes(client):
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["version"] == Kernel.version
    assert {"/health", "/api/v1/plugins", "/api/v1/alpha/greeting"} <= schema["paths"].keys()
    assert schema["paths"]["/api/v1/alpha/greeting"]["get"]["tags"] == ["alpha"]
