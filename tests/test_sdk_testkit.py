"""The plugin author's test kit (``erp_sdk.testing``), used here as a plugin author would.

The kit is a pytest plugin loaded through its ``pytest11`` entry point, so its fixtures
are available in this suite too. The test plugin ``desk`` (tickets with a workflow,
roles and a record rule for customers) stands in for the author's plugin.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar import Litestar

import erp_sdk.testing
from erp_core.errors import PermissionDenied
from erp_core.migrations import check
from erp_sdk import Kernel, Principal

pytest_plugins = ["pytester"]

FIXTURE_PLUGINS = Path(__file__).parent / "fixtures" / "plugins"
ON_POSTGRES = bool(os.environ.get("ERP_TEST_DATABASE_URL"))


@pytest.fixture(autouse=True)
def desk_installed(use_plugins) -> None:
    """The author's plugin is installed; autouse, so it is there before any kit fixture."""
    use_plugins("desk", "drift", "shop")


def open_ticket(kernel: Kernel, customer_id: int, title: str = "printer jam") -> int:
    with kernel.context() as ctx:
        return ctx.records("desk.ticket").create(
            {"title": title, "customer_id": customer_id})["id"]


def test_the_kit_is_a_pytest_plugin_loaded_through_its_entry_point(pytestconfig):
    assert pytestconfig.pluginmanager.get_plugin("erp_sdk") is erp_sdk.testing


def test_the_kit_registers_its_marker(pytestconfig):
    assert any(line.startswith("erp_plugins(") for line in pytestconfig.getini("markers"))


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite only")
def test_the_database_is_a_fresh_sqlite_file_in_the_tests_temporary_directory(
        erp_database_url, tmp_path):
    assert erp_database_url == f"sqlite:///{tmp_path / 'erp.db'}"
    assert not (tmp_path / "erp.db").exists()


@pytest.mark.skipif(not ON_POSTGRES, reason="needs ERP_TEST_DATABASE_URL")
def test_on_postgresql_the_database_is_an_empty_schema_of_the_tests_own(erp_database_url):
    url = sa.make_url(erp_database_url)
    schema = url.query["options"].removeprefix("-csearch_path=")
    assert schema.startswith("erp_test_")
    engine = sa.create_engine(url)
    try:
        assert sa.inspect(engine).get_table_names(schema=schema) == []
    finally:
        engine.dispose()


def test_the_factory_enables_the_plugins_it_is_given_and_boots(erp_kernel_factory):
    kernel = erp_kernel_factory("desk")
    assert kernel.enabled == ("desk",)
    assert "desk.ticket" in kernel.entities
    assert open_ticket(kernel, customer_id=7) == 1


def test_the_factory_without_plugins_gives_a_booted_kernel_with_none(erp_kernel_factory):
    kernel = erp_kernel_factory()
    assert kernel.enabled == ()
    assert kernel.pm is not None


def test_kernels_of_one_test_share_its_database(erp_kernel_factory):
    first = erp_kernel_factory("desk")
    open_ticket(first, customer_id=7)
    second = erp_kernel_factory()
    assert second.enabled == ("desk",)
    with second.context() as ctx:
        assert len(ctx.records("desk.ticket").list([])["items"]) == 1


def test_without_marker_or_ini_option_the_kernel_enables_nothing(erp_kernel):
    assert erp_kernel.enabled == ()


@pytest.mark.erp_plugins("desk")
def test_the_marker_names_the_plugins_the_kernel_enables(erp_kernel):
    assert erp_kernel.enabled == ("desk",)


@pytest.mark.erp_plugins("desk")
class TestAMarkerOnAClass:
    def test_applies_to_its_tests(self, erp_kernel):
        assert erp_kernel.enabled == ("desk",)

    @pytest.mark.erp_plugins()
    def test_unless_a_test_has_its_own(self, erp_kernel):
        assert erp_kernel.enabled == ()


@pytest.mark.erp_plugins("desk")
def test_a_principal_holds_exactly_the_permissions_of_its_roles(erp_kernel, erp_principal):
    viewer = erp_principal("desk.viewer")
    assert isinstance(viewer, Principal)
    assert viewer.roles == {"desk.viewer"}
    assert viewer.permissions == {"desk.ticket.read"}


@pytest.mark.erp_plugins("desk")
def test_a_principal_is_held_to_its_permissions_by_the_services(erp_kernel, erp_principal):
    open_ticket(erp_kernel, customer_id=7)
    with erp_kernel.context(erp_principal("desk.viewer")) as ctx:
        assert len(ctx.records("desk.ticket").list([])["items"]) == 1
        with pytest.raises(PermissionDenied, match=r"desk\.ticket\.create"):
            ctx.records("desk.ticket").create({"title": "mine", "customer_id": 7})


@pytest.mark.erp_plugins("desk")
def test_a_principals_scope_feeds_the_record_rules(erp_kernel, erp_principal):
    own = open_ticket(erp_kernel, customer_id=7)
    open_ticket(erp_kernel, customer_id=8)
    customer = erp_principal("desk.customer", scope={"customer_id": [7]})
    with erp_kernel.context(customer) as ctx:
        assert [t["id"] for t in ctx.records("desk.ticket").list([])["items"]] == [own]


@pytest.mark.erp_plugins("desk")
def test_an_unknown_role_is_an_error_naming_it(erp_principal, erp_token):
    with pytest.raises(LookupError, match=r"unknown role 'desk\.viewr'"):
        erp_principal("desk.viewr")
    with pytest.raises(LookupError, match=r"desk\.viewer"):
        erp_token("desk.viewr")


@pytest.mark.erp_plugins("desk")
def test_the_app_is_the_kernels_http_api(erp_app, erp_kernel):
    assert isinstance(erp_app, Litestar)
    assert erp_app.state.kernel is erp_kernel


@pytest.mark.erp_plugins("desk")
def test_the_client_acts_as_an_administrator(erp_client):
    created = erp_client.post("/api/v1/desk/tickets", json={"title": "jam", "customer_id": 7})
    assert created.status_code == 201, created.text
    started = erp_client.post(f"/api/v1/desk/tickets/{created.json()['id']}/start")
    assert started.json()["state"] == "working"
    assert erp_client.get("/api/v1/plugins").status_code == 200


@pytest.mark.erp_plugins("desk")
def test_a_client_for_a_role_gets_403_for_what_the_role_lacks(erp_client_for):
    viewer = erp_client_for("desk.viewer")
    assert viewer.get("/api/v1/desk/tickets").status_code == 200
    refused = viewer.post("/api/v1/desk/tickets", json={"title": "jam", "customer_id": 7})
    assert refused.status_code == 403
    assert "desk.ticket.create" in refused.json()["detail"]


@pytest.mark.erp_plugins("desk")
def test_a_client_for_a_role_with_a_scope_sees_only_its_records(erp_kernel, erp_client_for):
    own = open_ticket(erp_kernel, customer_id=7)
    open_ticket(erp_kernel, customer_id=8)
    customer = erp_client_for("desk.customer", scope={"customer_id": {7}})
    assert [t["id"] for t in customer.get("/api/v1/desk/tickets").json()["items"]] == [own]


@pytest.mark.erp_plugins("desk")
def test_clients_for_different_roles_are_different_users(erp_client_for):
    viewer, agent = erp_client_for("desk.viewer"), erp_client_for("desk.agent")
    assert viewer.headers["Authorization"] != agent.headers["Authorization"]
    assert agent.post("/api/v1/desk/tickets",
                      json={"title": "jam", "customer_id": 7}).status_code == 201


@pytest.mark.erp_plugins("desk")
def test_a_token_is_a_bearer_token_of_a_new_user(erp_app, erp_token):
    from litestar.testing import TestClient

    with TestClient(app=erp_app) as client:
        response = client.get("/api/v1/desk/tickets",
                              headers={"Authorization": f"Bearer {erp_token('desk.viewer')}"})
    assert response.status_code == 200


def test_the_migration_check_is_the_kernels(erp_kernel_factory):
    assert erp_sdk.testing.assert_migrations_match_models is check.assert_migrations_match_models
    # (shop, not desk: other tests of this process load desk_* plugins, whose models stay
    # on the shared metadata and would look like desk's when those are not installed)
    erp_sdk.testing.assert_migrations_match_models(erp_kernel_factory(), "shop")


def test_the_migration_check_fails_listing_what_drifted(erp_kernel_factory):
    with pytest.raises(AssertionError, match=r"column drift_record\.note: the models declare it"):
        erp_sdk.testing.assert_migrations_match_models(erp_kernel_factory(), "drift")


def test_a_project_names_its_plugins_once_in_its_ini_file(pytester, monkeypatch):
    """In a project of its own (as a plugin's repository is), with ``--strict-markers``."""
    monkeypatch.setenv("PYTHONPATH", str(FIXTURE_PLUGINS / "desk"))
    pytester.makeini(textwrap.dedent("""
        [pytest]
        addopts = --strict-markers
        erp_plugins = desk
    """))
    pytester.makepyfile(test_desk=textwrap.dedent("""
        import pytest

        def test_the_ini_option_names_the_plugins(erp_kernel):
            assert erp_kernel.enabled == ("desk",)

        @pytest.mark.erp_plugins()
        def test_a_marker_overrides_it(erp_kernel):
            assert erp_kernel.enabled == ()

        def test_the_api_answers(erp_client):
            assert erp_client.get("/api/v1/desk/tickets").json()["items"] == []
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["erp_sdk.testing database: *"])
