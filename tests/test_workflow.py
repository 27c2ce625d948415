"""Workflows: declared as data, checked at boot, fired from Python and over the API.

The ``desk`` test plugin declares ``desk.ticket`` (open -> working -> closed, cancel from
open or working); ``desk_guard`` vetoes starting a ticket titled 'veto' and, like
``desk_notes``, writes a row of its own after 'start'; ``desk_notes`` fails after 'start'
when the title contains 'explode'. Subscriber order: ``guard_start`` (priority 100)
before ``note_start`` (200); ``desk_watch`` (priority 10) before both.
"""

from __future__ import annotations

import datetime as dt
import enum
import sys
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from kernel_testing import bearer
from litestar.testing import TestClient

from erp_core.api import create_app
from erp_core.errors import ConflictError, NotFoundError, PermissionDenied, PluginError
from erp_core.hook_events import TransitionVetoed
from erp_core.kernel import Kernel
from erp_core.plugins.state import record_enabled
from erp_core.security.principal import Principal
from erp_core.workflow import Transition, Workflow

PROBLEM = "application/problem+json"
DESK_FOLDERS = ("desk", "desk_notes", "desk_guard", "desk_watch", "desk_roles")


@pytest.fixture(autouse=True)
def forget_reactions() -> Iterator[None]:
    """The subscriber plugins record what ran in a module-level list; start each test empty."""
    yield
    notes = sys.modules.get("erp_test_desk_notes.plugin")
    if notes is not None:
        notes.SEEN.clear()
        notes.CLOSE_CAUSES.clear()


@pytest.fixture
def desk(use_plugins, kernel: Kernel) -> Kernel:
    """A booted kernel with desk and its two subscriber plugins enabled."""
    use_plugins(*DESK_FOLDERS)
    kernel.enable(["desk_notes", "desk_guard"])
    return kernel.boot()


@pytest.fixture
def client(desk: Kernel) -> Iterator[TestClient]:
    with TestClient(app=create_app(desk)) as client:
        yield client


def open_ticket(kernel: Kernel, title: str = "printer jam", customer_id: int = 7) -> int:
    with kernel.context() as ctx:
        return ctx.records("desk.ticket").create({"title": title, "customer_id": customer_id})["id"]


def ticket(kernel: Kernel, ticket_id: int) -> dict:
    with kernel.context() as ctx:
        return ctx.records("desk.ticket").get(ticket_id)


def count(kernel: Kernel, table: str, **where: object) -> int:
    statement = sa.select(sa.func.count()).select_from(sa.table(table))
    for column, value in where.items():
        statement = statement.where(sa.column(column) == value)
    with kernel.transaction() as session:
        return session.scalar(statement)


def principal(kernel: Kernel, *roles: str, **scope: list[object]) -> Principal:
    return Principal(name="tester", roles=roles, scope=scope,
                     permissions=kernel.permissions.permissions_of(roles))


def reactions(kernel: Kernel, ticket_id: int) -> tuple[int, int]:
    """Rows the two subscriber plugins wrote for a ticket: (desk_guard, desk_notes)."""
    return (count(kernel, "desk_guard_reaction", ticket_id=ticket_id),
            count(kernel, "desk_notes_reaction", ticket_id=ticket_id))


def enabled_in_the_database(kernel: Kernel, name: str) -> None:
    """Mark an installed plugin enabled without the checks of ``Kernel.enable``, as when
    an upgrade of an enabled plugin breaks it: only the boot can stop it then."""
    with kernel.engine.begin() as connection:
        record_enabled(connection, name, kernel.plugins.get(name).version, True)


def seen() -> list[str]:
    from erp_test_desk_notes.plugin import SEEN

    return list(SEEN)


# -- declarations ---------------------------------------------------------------------------


def test_every_registered_workflow_is_sound(use_plugins, kernel):
    use_plugins(*DESK_FOLDERS)
    kernel.enable(["desk_notes", "desk_guard", "desk_watch", "desk_roles"])
    kernel.boot()
    workflows = {entity.name: entity.declaration.workflow for entity in kernel.entities
                 if entity.declaration.workflow is not None}
    assert workflows, "no enabled test plugin declares a workflow"
    assert {name: workflow.problems() for name, workflow in workflows.items()} == {
        name: [] for name in workflows}
    for workflow in workflows.values():
        states = {state.value for state in workflow.states}
        assert all({*t.sources, t.target} <= states for t in workflow.transitions)


class Door(enum.StrEnum):
    SHUT = "shut"
    OPEN = "open"
    BRICKED = "bricked"


def test_a_state_no_transition_reaches_is_a_problem():
    workflow = Workflow(Door, Door.SHUT, [Transition("open", [Door.SHUT], Door.OPEN),
                                          Transition("shut", [Door.OPEN], Door.SHUT)])
    assert workflow.problems() == ["state 'bricked' cannot be reached from 'shut'"]


def test_a_transition_naming_an_unknown_state_is_a_problem():
    workflow = Workflow(Door, Door.SHUT, [Transition("open", [Door.SHUT], Door.OPEN),
                                          Transition("brick", [Door.OPEN], Door.BRICKED),
                                          Transition("fly", ["ajar"], "airborne")])
    assert workflow.problems() == ["transition 'fly' names unknown state 'ajar'",
                                   "transition 'fly' names unknown state 'airborne'"]


def test_an_initial_state_that_is_not_a_state_is_a_problem():
    workflow = Workflow(Door, "ajar", [Transition("open", [Door.SHUT], Door.OPEN)])
    assert "initial state 'ajar' is not a state" in workflow.problems()


def test_a_transition_declared_twice_or_named_history_is_a_problem():
    workflow = Workflow(Door, Door.SHUT, [Transition("open", [Door.SHUT], Door.OPEN),
                                          Transition("open", [Door.OPEN], Door.BRICKED),
                                          Transition("history", [Door.OPEN], Door.SHUT)])
    assert workflow.problems() == ["transition 'open' is declared twice",
                                   "transition name 'history' is not allowed"]


def test_a_broken_workflow_declaration_stops_the_boot_naming_the_plugin(use_plugins, kernel):
    use_plugins("badflow")
    enabled_in_the_database(kernel, "badflow")
    with pytest.raises(PluginError, match=r"plugin 'badflow'.*'lost' cannot be reached") as caught:
        kernel.boot()
    assert caught.value.plugin == "badflow"


def test_a_subscription_to_a_transition_that_does_not_exist_stops_the_boot_naming_the_plugin(
        use_plugins, kernel):
    use_plugins("desk", "badsub")
    kernel.enable(["desk"])
    enabled_in_the_database(kernel, "badsub")
    with pytest.raises(PluginError, match=r"plugin 'badsub'.*'fly', which does not exist"
                       ) as caught:
        kernel.boot()
    assert caught.value.plugin == "badsub"


# -- firing ------------------------------------------------------------------------------------


def test_a_new_record_starts_in_the_initial_state(desk):
    assert ticket(desk, open_ticket(desk))["state"] == "open"


def test_firing_from_python_changes_the_state_and_keeps_it_after_commit(desk):
    ticket_id = open_ticket(desk)
    with desk.context(principal(desk, "desk.agent")) as ctx:
        assert ctx.fire("desk.ticket", ticket_id, "start")["state"] == "working"
    assert ticket(desk, ticket_id)["state"] == "working"
    assert ticket(desk, ticket_id)["version"] == 2


def test_firing_over_the_api_returns_the_record_in_its_new_state(desk, client, make_token):
    ticket_id = open_ticket(desk)
    response = client.post(f"/api/v1/desk/tickets/{ticket_id}/start",
                           headers=bearer(make_token(desk, "desk.agent")))
    assert response.status_code == 200
    assert response.json()["state"] == "working"
    assert response.headers["etag"] == '"2"'
    assert ticket(desk, ticket_id)["state"] == "working"


def test_the_state_field_changes_only_through_transitions(desk, client, make_token):
    ticket_id = open_ticket(desk)
    response = client.patch(f"/api/v1/desk/tickets/{ticket_id}", json={"state": "closed"},
                            headers=bearer(make_token(desk, "desk.agent")))
    assert response.status_code == 422
    assert "transitions" in response.json()["errors"]["state"]
    assert ticket(desk, ticket_id)["state"] == "open"


def test_without_the_permission_firing_is_403_even_in_the_wrong_state(desk, client, make_token):
    ticket_id = open_ticket(desk)
    response = client.post(f"/api/v1/desk/tickets/{ticket_id}/close",
                           headers=bearer(make_token(desk, "desk.viewer")))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "desk.ticket.close" in response.json()["detail"]


def test_without_the_permission_firing_from_python_is_refused(desk):
    ticket_id = open_ticket(desk)
    with (pytest.raises(PermissionDenied, match=r"desk\.ticket\.start"),
          desk.context(principal(desk, "desk.viewer")) as ctx):
        ctx.fire("desk.ticket", ticket_id, "start")
    assert ticket(desk, ticket_id)["state"] == "open"


def test_the_wrong_state_is_a_409_naming_the_current_state_and_the_allowed_transitions(
        desk, client, make_token):
    ticket_id = open_ticket(desk)
    response = client.post(f"/api/v1/desk/tickets/{ticket_id}/close",
                           headers=bearer(make_token(desk, "desk.agent")))
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM)
    detail = response.json()["detail"]
    assert "is 'open'" in detail
    assert "Allowed now: start, cancel" in detail


def test_a_record_in_a_final_state_allows_no_transition(desk):
    ticket_id = open_ticket(desk)
    with desk.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "cancel")
    with (pytest.raises(ConflictError, match=r"is 'cancelled'.*Allowed now: none"),
          desk.context() as ctx):
        ctx.fire("desk.ticket", ticket_id, "start")


def test_the_state_check_comes_before_the_before_hooks(desk, client, make_token):
    ticket_id = open_ticket(desk, title="veto this")
    with desk.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "cancel")
    response = client.post(f"/api/v1/desk/tickets/{ticket_id}/start",
                           headers=bearer(make_token(desk, "desk.agent")))
    assert response.status_code == 409
    assert "is 'cancelled'" in response.json()["detail"]
    assert "desk_guard" not in response.json()["detail"]


def test_a_veto_is_a_409_with_the_reason(desk, client, make_token):
    ticket_id = open_ticket(desk, title="veto this")
    response = client.post(f"/api/v1/desk/tickets/{ticket_id}/start",
                           headers=bearer(make_token(desk, "desk.agent")))
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["title"] == "Transition refused"
    assert response.json()["detail"] == "desk_guard: tickets titled 'veto' cannot start"


def test_a_veto_changes_nothing(desk):
    ticket_id = open_ticket(desk, title="veto this")
    before = ticket(desk, ticket_id)
    with pytest.raises(TransitionVetoed), desk.context(principal(desk, "desk.agent")) as ctx:
        ctx.fire("desk.ticket", ticket_id, "start")
    assert ticket(desk, ticket_id) == before
    assert reactions(desk, ticket_id) == (0, 0)
    assert seen() == []
    assert count(desk, "kernel_audit_entry", record_id=ticket_id, action="start") == 0
    assert count(desk, "kernel_outbox_event", name="desk.ticket.start") == 0


def test_a_failing_after_hook_is_a_500_whose_log_names_the_plugin(desk, client, make_token,
                                                                  caplog):
    ticket_id = open_ticket(desk, title="explode on start")
    with caplog.at_level("ERROR", logger="erp.api"):
        response = client.post(f"/api/v1/desk/tickets/{ticket_id}/start",
                               headers=bearer(make_token(desk, "desk.agent")))
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "desk_notes" not in response.text  # the client gets only the request id
    assert response.json()["request_id"] == response.headers["x-request-id"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert response.headers["x-request-id"] in logged
    assert "desk_notes" in logged and "nothing was changed" in logged


def test_a_failing_after_hook_keeps_nothing(desk):
    ticket_id = open_ticket(desk, title="explode on start")
    before = ticket(desk, ticket_id)
    with (pytest.raises(PluginError, match="desk_notes") as caught,
          desk.context(principal(desk, "desk.agent")) as ctx):
        ctx.fire("desk.ticket", ticket_id, "start")
    assert caught.value.plugin == "desk_notes"
    assert seen() == ["guard:start", "notes:start"], "both after-hooks ran before the failure"
    assert ticket(desk, ticket_id) == before
    assert reactions(desk, ticket_id) == (0, 0)
    assert count(desk, "kernel_audit_entry", record_id=ticket_id, action="start") == 0
    assert count(desk, "kernel_outbox_event", name="desk.ticket.start") == 0


def test_firing_an_unknown_transition_is_not_found(desk):
    ticket_id = open_ticket(desk)
    with pytest.raises(NotFoundError, match="no transition 'fly'"), desk.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "fly")


def test_firing_on_a_record_that_does_not_exist_is_a_404(desk, client, make_token):
    response = client.post("/api/v1/desk/tickets/999/start",
                           headers=bearer(make_token(desk, "desk.agent")))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)


# -- subscribers -------------------------------------------------------------------------------


def test_every_subscriber_to_a_transition_reacts(desk):
    ticket_id = open_ticket(desk)
    with desk.context(principal(desk, "desk.agent")) as ctx:
        ctx.fire("desk.ticket", ticket_id, "start")
    assert reactions(desk, ticket_id) == (1, 1)


def test_after_subscribers_run_in_priority_order(desk):
    assert desk.workflows.subscribers("after", "desk.ticket", "start") == [
        "desk_guard:guard_start", "desk_notes:note_start"]
    with desk.context() as ctx:
        ctx.fire("desk.ticket", open_ticket(desk), "start")
    assert seen() == ["guard:start", "notes:start"]


def test_priority_beats_registration_order(use_plugins, kernel):
    use_plugins(*DESK_FOLDERS)
    kernel.enable(["desk_notes", "desk_guard", "desk_watch"])
    kernel.boot()
    assert kernel.enabled.index("desk_watch") > kernel.enabled.index("desk_notes")
    assert kernel.workflows.subscribers("after", "desk.ticket", "start") == [
        "desk_watch:watch_start", "desk_guard:guard_start", "desk_notes:note_start"]
    with kernel.context() as ctx:
        ctx.fire("desk.ticket", open_ticket(kernel), "start")
    assert seen() == ["watch:start", "guard:start", "notes:start"]


def test_subscribers_only_hear_the_transition_they_subscribed_to(desk):
    assert desk.workflows.subscribers("before", "desk.ticket", "close") == [
        "desk_notes:check_close"]
    assert desk.workflows.subscribers("after", "desk.ticket", "cancel") == []
    with desk.context() as ctx:
        ctx.fire("desk.ticket", open_ticket(desk), "cancel")
    assert seen() == []


def test_an_after_subscriber_acts_as_the_principal_who_fired(desk, client, make_token):
    ticket_id = open_ticket(desk)
    client.post(f"/api/v1/desk/tickets/{ticket_id}/start",
                headers=bearer(make_token(desk, "desk.agent", name="dana")))
    with desk.transaction() as session:
        note = session.execute(sa.text("SELECT what FROM desk_notes_reaction")).scalar_one()
    assert note == "started by dana"


def test_a_transition_fired_by_a_subscriber_names_its_cause(desk):
    ticket_id = open_ticket(desk, title="start and close")
    with desk.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "start")
    assert ticket(desk, ticket_id)["state"] == "closed"
    from erp_test_desk_notes.plugin import CLOSE_CAUSES

    assert CLOSE_CAUSES == [("desk.ticket", "start")]


def test_a_transition_fired_by_a_caller_has_no_cause_whatever_its_data_says(desk):
    ticket_id = open_ticket(desk)
    with desk.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "start")
        ctx.fire("desk.ticket", ticket_id, "close", {"cause": "desk.ticket start"})
    from erp_test_desk_notes.plugin import CLOSE_CAUSES

    assert CLOSE_CAUSES == [None]


# -- history -----------------------------------------------------------------------------------


def test_history_lists_the_records_changes_with_who_and_when(desk, client, make_token):
    headers = bearer(make_token(desk, "desk.agent", name="dana"))
    started = dt.datetime.now(dt.UTC)
    ticket_id = client.post("/api/v1/desk/tickets", json={"title": "jam", "customer_id": 7},
                            headers=headers).json()["id"]
    client.post(f"/api/v1/desk/tickets/{ticket_id}/start", headers=headers)
    client.post(f"/api/v1/desk/tickets/{ticket_id}/close", headers=headers)
    response = client.get(f"/api/v1/desk/tickets/{ticket_id}/history", headers=headers)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["action"] for item in items] == ["created", "start", "close"]
    assert {item["principal"] for item in items} == {"dana"}
    times = [dt.datetime.fromisoformat(item["at"]) for item in items]
    assert times == sorted(times)
    assert all(started - dt.timedelta(seconds=5) <= t <= dt.datetime.now(dt.UTC) for t in times)
    assert items[2]["changes"] == {"state": {"old": "working", "new": "closed"}}


def test_history_needs_read_access_to_the_record(desk, client, make_token):
    ticket_id = open_ticket(desk, customer_id=8)
    path = f"/api/v1/desk/tickets/{ticket_id}/history"
    assert client.get(path, headers=bearer(make_token(desk))).status_code == 403
    outsider = make_token(desk, "desk.customer", scope={"customer_id": [7]})
    assert client.get(path, headers=bearer(outsider)).status_code == 404
    owner = make_token(desk, "desk.customer", scope={"customer_id": [8]})
    assert client.get(path, headers=bearer(owner)).status_code == 200
