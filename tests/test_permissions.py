"""Permissions, roles and record rules, through the API and through the service layer.

``desk`` declares the roles ``desk.agent`` (every ticket permission), ``desk.viewer``
(read) and ``desk.customer`` (read, create, update, cancel; a record rule keeps it to the
tickets whose ``customer_id`` is in its scope). ``desk_roles`` adds ``desk_roles.owner``:
every ticket permission, delete included, under the same kind of rule.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kernel_testing import bearer
from litestar.testing import TestClient

from erp_core.api import create_app
from erp_core.errors import NotFoundError, PermissionDenied, PluginError
from erp_core.kernel import Kernel
from erp_core.plugins.state import record_enabled
from erp_core.security.principal import Principal

TICKET_ACTIONS = {"read", "create", "update", "delete", "start", "close", "cancel"}


@pytest.fixture
def desk(use_plugins, kernel: Kernel) -> Kernel:
    use_plugins("desk", "desk_roles", "alpha")
    kernel.enable(["desk_roles", "alpha"])
    return kernel.boot()


@pytest.fixture
def client(desk: Kernel) -> Iterator[TestClient]:
    with TestClient(app=create_app(desk)) as client:
        yield client


@pytest.fixture
def tickets(desk: Kernel) -> dict[str, int]:
    """One ticket of customer 7 ('own') and one of customer 8 ('other')."""
    with desk.context() as ctx:
        records = ctx.records("desk.ticket")
        return {"own": records.create({"title": "mine", "customer_id": 7})["id"],
                "other": records.create({"title": "theirs", "customer_id": 8})["id"]}


def principal(kernel: Kernel, *roles: str, **scope: list[object]) -> Principal:
    return Principal(name="tester", roles=roles, scope=scope,
                     permissions=kernel.permissions.permissions_of(roles))


def enabled_in_the_database(kernel: Kernel, name: str) -> None:
    """Mark an installed plugin enabled without the checks of ``Kernel.enable``, as when
    an upgrade of an enabled plugin breaks it: only the boot can stop it then."""
    with kernel.engine.begin() as connection:
        record_enabled(connection, name, kernel.plugins.get(name).version, True)


def listed(client: TestClient, token: str) -> list[int]:
    response = client.get("/api/v1/desk/tickets", headers=bearer(token))
    assert response.status_code == 200
    return [item["id"] for item in response.json()["items"]]


# -- permission names and roles --------------------------------------------------------------


def test_every_entity_gets_read_create_update_delete_and_one_permission_per_transition(desk):
    assert {name for name in desk.permissions.permissions if name.startswith("desk.ticket.")} == {
        f"desk.ticket.{action}" for action in TICKET_ACTIONS}


def test_an_entity_gets_no_permission_for_an_operation_it_does_not_offer(desk):
    assert {name for name in desk.permissions.permissions if name.startswith("kernel.audit_entry.")
            } == {"kernel.audit_entry.read"}


def test_permissions_a_plugin_declares_are_known(desk):
    assert "alpha.greeting.read" in desk.permissions.permissions


def test_a_role_bundles_the_permissions_its_patterns_match(desk):
    assert desk.permissions.expand("desk.agent") == {f"desk.ticket.{a}" for a in TICKET_ACTIONS}
    assert desk.permissions.expand("desk.viewer") == {"desk.ticket.read"}


def test_admin_has_every_permission(desk):
    assert desk.permissions.expand("admin") == set(desk.permissions.permissions)


def test_a_role_no_enabled_plugin_declares_grants_nothing(desk):
    assert desk.permissions.expand("orders.clerk") == frozenset()


def test_a_role_naming_an_unknown_permission_stops_the_boot_naming_the_plugin(use_plugins, kernel):
    use_plugins("badrole")
    enabled_in_the_database(kernel, "badrole")
    with pytest.raises(PluginError, match=r"'badrole\.clerk' names 'badrole\.invoice\.approve'"
                       ) as caught:
        kernel.boot()
    assert caught.value.plugin == "badrole"


def test_admin_may_do_everything_to_any_ticket(desk, client, make_token, tickets):
    headers = bearer(make_token(desk, "admin"))
    other = tickets["other"]
    assert client.get(f"/api/v1/desk/tickets/{other}", headers=headers).status_code == 200
    assert client.patch(f"/api/v1/desk/tickets/{other}", json={"title": "x"},
                        headers=headers).status_code == 200
    assert client.post(f"/api/v1/desk/tickets/{other}/start", headers=headers).status_code == 200
    assert client.get("/api/v1/kernel/audit", headers=headers).status_code == 200
    assert client.delete(f"/api/v1/desk/tickets/{other}", headers=headers).status_code == 204


def test_a_user_with_no_role_can_do_nothing(desk, client, make_token, tickets):
    headers = bearer(make_token(desk))
    own = tickets["own"]
    for method, path, body in [
            ("GET", "/api/v1/desk/tickets", None),
            ("POST", "/api/v1/desk/tickets", {"title": "new", "customer_id": 7}),
            ("GET", f"/api/v1/desk/tickets/{own}", None),
            ("PATCH", f"/api/v1/desk/tickets/{own}", {"title": "changed"}),
            ("DELETE", f"/api/v1/desk/tickets/{own}", None),
            ("POST", f"/api/v1/desk/tickets/{own}/start", None),
            ("GET", "/api/v1/kernel/audit", None),
            ("GET", "/api/v1/alpha/greeting", None)]:
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)


def test_a_permission_denied_answer_names_the_missing_permission(desk, client, make_token, tickets):
    response = client.delete(f"/api/v1/desk/tickets/{tickets['own']}",
                             headers=bearer(make_token(desk, "desk.customer")))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "'desk.ticket.delete'" in response.json()["detail"]


# -- record rules over the API ----------------------------------------------------------------


def test_a_record_rule_narrows_the_list_to_the_rows_in_scope(desk, client, make_token, tickets):
    token = make_token(desk, "desk.customer", scope={"customer_id": [7]})
    assert listed(client, token) == [tickets["own"]]


def test_a_role_without_a_rule_sees_every_row(desk, client, make_token, tickets):
    assert sorted(listed(client, make_token(desk, "desk.viewer"))) == sorted(tickets.values())


def test_a_principal_with_several_roles_sees_what_any_of_them_allows(desk, client, make_token,
                                                                     tickets):
    token = make_token(desk, "desk.customer", "desk.viewer", scope={"customer_id": [7]})
    assert sorted(listed(client, token)) == sorted(tickets.values())


def test_an_empty_scope_sees_no_row(desk, client, make_token, tickets):
    assert listed(client, make_token(desk, "desk.customer")) == []


def test_a_record_rule_filters_the_total_too(desk, client, make_token, tickets):
    token = make_token(desk, "desk.customer", scope={"customer_id": [7]})
    response = client.get("/api/v1/desk/tickets?with_total=true", headers=bearer(token))
    assert response.json()["total"] == 1


@pytest.mark.parametrize(("method", "suffix", "body", "in_scope_status"), [
    ("GET", "", None, 200),
    ("PATCH", "", {"title": "renamed"}, 200),
    ("DELETE", "", None, 204),
    ("POST", "/start", None, 200),
    ("POST", "/cancel", None, 200),
    ("GET", "/history", None, 200),
])
def test_a_row_outside_the_rule_is_404_and_a_row_inside_is_allowed(
        desk, client, make_token, tickets, method, suffix, body, in_scope_status):
    headers = bearer(make_token(desk, "desk_roles.owner", scope={"customer_id": [7]}))
    outside = client.request(method, f"/api/v1/desk/tickets/{tickets['other']}{suffix}",
                             json=body, headers=headers)
    assert outside.status_code == 404, outside.text
    assert outside.headers["content-type"].startswith("application/problem+json")
    inside = client.request(method, f"/api/v1/desk/tickets/{tickets['own']}{suffix}",
                            json=body, headers=headers)
    assert inside.status_code == in_scope_status, inside.text


def test_a_row_outside_the_rule_is_left_unchanged(desk, client, make_token, tickets):
    headers = bearer(make_token(desk, "desk_roles.owner", scope={"customer_id": [7]}))
    other = tickets["other"]
    client.patch(f"/api/v1/desk/tickets/{other}", json={"title": "renamed"}, headers=headers)
    client.post(f"/api/v1/desk/tickets/{other}/start", headers=headers)
    client.delete(f"/api/v1/desk/tickets/{other}", headers=headers)
    with desk.context() as ctx:
        record = ctx.records("desk.ticket").get(other)
    assert (record["title"], record["state"], record["version"]) == ("theirs", "open", 1)


def test_the_permission_check_comes_before_the_record_rule(desk, client, make_token, tickets):
    headers = bearer(make_token(desk, "desk.customer", scope={"customer_id": [7]}))
    response = client.post(f"/api/v1/desk/tickets/{tickets['other']}/start", headers=headers)
    assert response.status_code == 403


def test_creating_a_row_outside_the_scope_is_403_and_stores_nothing(desk, client, make_token):
    headers = bearer(make_token(desk, "desk.customer", scope={"customer_id": [7]}))
    response = client.post("/api/v1/desk/tickets", json={"title": "x", "customer_id": 8},
                           headers=headers)
    assert response.status_code == 403
    with desk.context() as ctx:
        assert ctx.records("desk.ticket").list([])["items"] == []
        assert ctx.records("kernel.audit_entry").list([])["items"] == []


def test_moving_a_row_out_of_the_scope_is_403_and_changes_nothing(desk, client, make_token,
                                                                  tickets):
    headers = bearer(make_token(desk, "desk.customer", scope={"customer_id": [7]}))
    response = client.patch(f"/api/v1/desk/tickets/{tickets['own']}", json={"customer_id": 8},
                            headers=headers)
    assert response.status_code == 403
    with desk.context() as ctx:
        record = ctx.records("desk.ticket").get(tickets["own"])
    assert (record["customer_id"], record["version"]) == (7, 1)


# -- the same rules in the service layer --------------------------------------------------------


def test_the_service_layer_applies_record_rules_to_a_principal_from_python(desk, tickets):
    with desk.context(principal(desk, "desk_roles.owner", customer_id=[7])) as ctx:
        records = ctx.records("desk.ticket")
        assert [item["id"] for item in records.list([])["items"]] == [tickets["own"]]
        assert records.get(tickets["own"])["title"] == "mine"
        with pytest.raises(NotFoundError):
            records.get(tickets["other"])
        with pytest.raises(NotFoundError):
            records.update(tickets["other"], {"title": "renamed"})
        with pytest.raises(NotFoundError):
            records.delete(tickets["other"])
        with pytest.raises(NotFoundError):
            ctx.fire("desk.ticket", tickets["other"], "start")


def test_the_service_layer_refuses_what_the_principal_may_not_do(desk, tickets):
    with desk.context(principal(desk, "desk.viewer")) as ctx:
        records = ctx.records("desk.ticket")
        assert len(records.list([])["items"]) == 2
        with pytest.raises(PermissionDenied, match=r"desk\.ticket\.create"):
            records.create({"title": "x", "customer_id": 7})
        with pytest.raises(PermissionDenied, match=r"desk\.ticket\.update"):
            records.update(tickets["own"], {"title": "renamed"})
        with pytest.raises(PermissionDenied, match=r"desk\.ticket\.delete"):
            records.delete(tickets["own"])
        with pytest.raises(PermissionDenied, match=r"desk\.ticket\.cancel"):
            ctx.fire("desk.ticket", tickets["own"], "cancel")


def test_a_principal_with_no_role_can_do_nothing_from_python(desk, tickets):
    with desk.context(Principal(name="nobody")) as ctx:
        records = ctx.records("desk.ticket")
        for attempt in (lambda: records.list([]), lambda: records.get(tickets["own"]),
                        lambda: records.create({"title": "x", "customer_id": 7}),
                        lambda: records.update(tickets["own"], {"title": "x"}),
                        lambda: records.delete(tickets["own"]),
                        lambda: ctx.fire("desk.ticket", tickets["own"], "start"),
                        lambda: ctx.records("kernel.audit_entry").list([])):
            with pytest.raises(PermissionDenied):
                attempt()


def test_the_system_principal_bypasses_every_check(desk, tickets):
    with desk.context(Principal.system()) as ctx:
        assert len(ctx.records("desk.ticket").list([])["items"]) == 2
        ctx.fire("desk.ticket", tickets["other"], "start")
