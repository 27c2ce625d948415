"""The audit log and the event outbox: written in the transaction of the change they report.

A committed change leaves exactly one audit row and one outbox event; a rolled-back one
(veto, failing reaction, invalid input, stale version) leaves neither, and ``erp_on_commit``
(implemented by the ``desk_watch`` test plugin, which records each call) hears only
committed events.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from kernel_testing import bearer
from litestar.testing import TestClient

from erp_core.api import create_app
from erp_core.audit import AuditEntry
from erp_core.errors import ErpError
from erp_core.events.outbox import OutboxEvent
from erp_core.kernel import Kernel
from erp_core.security.principal import Principal

TICKETS = "/api/v1/desk/tickets"


@pytest.fixture(autouse=True)
def forget_reactions() -> Iterator[None]:
    yield
    for module, recorded in (("erp_test_desk_notes.plugin", "SEEN"),
                             ("erp_test_desk_watch.plugin", "COMMITS")):
        if module in sys.modules:
            getattr(sys.modules[module], recorded).clear()


@pytest.fixture
def desk(use_plugins, kernel: Kernel) -> Kernel:
    use_plugins("desk", "desk_notes", "desk_guard", "desk_watch", "desk_roles")
    kernel.enable(["desk_notes", "desk_guard", "desk_watch", "desk_roles"])
    kernel.boot()
    commits().clear()
    return kernel


@pytest.fixture
def client(desk: Kernel) -> Iterator[TestClient]:
    with TestClient(app=create_app(desk)) as client:
        yield client


def commits() -> list[tuple[Any, ...]]:
    from erp_test_desk_watch.plugin import COMMITS

    return COMMITS


def open_ticket(kernel: Kernel, title: str = "printer jam", customer_id: int = 7) -> int:
    with kernel.context() as ctx:
        return ctx.records("desk.ticket").create({"title": title, "customer_id": customer_id})["id"]


def audit_rows(kernel: Kernel) -> list[AuditEntry]:
    with kernel.transaction() as session:
        return list(session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


def outbox(kernel: Kernel) -> list[OutboxEvent]:
    with kernel.transaction() as session:
        return list(session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)))


def agent() -> Principal:
    return Principal(name="dana", user_id=42, roles={"desk.agent"},
                     permissions={"desk.ticket.read", "desk.ticket.create", "desk.ticket.update",
                                  "desk.ticket.delete", "desk.ticket.start", "desk.ticket.close",
                                  "desk.ticket.cancel"})


# -- audit rows ---------------------------------------------------------------------------------


def test_creating_writes_an_audit_row_with_the_new_values(desk):
    ticket_id = open_ticket(desk)
    [row] = audit_rows(desk)
    assert (row.entity, row.record_id, row.action) == ("desk.ticket", ticket_id, "created")
    assert row.changes == {"title": {"old": None, "new": "printer jam"},
                           "customer_id": {"old": None, "new": 7},
                           "state": {"old": None, "new": "open"}}


def test_updating_writes_an_audit_row_with_the_old_and_new_values_of_changed_fields(desk):
    ticket_id = open_ticket(desk)
    with desk.context() as ctx:
        ctx.records("desk.ticket").update(ticket_id, {"title": "paper jam", "customer_id": 7})
    row = audit_rows(desk)[-1]
    assert (row.record_id, row.action) == (ticket_id, "updated")
    assert row.changes == {"title": {"old": "printer jam", "new": "paper jam"}}


def test_deleting_writes_an_audit_row_with_the_old_values(desk):
    ticket_id = open_ticket(desk)
    with desk.context() as ctx:
        ctx.records("desk.ticket").delete(ticket_id)
    row = audit_rows(desk)[-1]
    assert (row.record_id, row.action) == (ticket_id, "deleted")
    assert row.changes["title"] == {"old": "printer jam", "new": None}
    assert row.changes["state"] == {"old": "open", "new": None}


def test_a_transition_writes_an_audit_row_with_the_state_change(desk):
    ticket_id = open_ticket(desk)
    with desk.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "start")
    row = audit_rows(desk)[-1]
    assert (row.entity, row.record_id, row.action) == ("desk.ticket", ticket_id, "start")
    assert row.changes == {"state": {"old": "open", "new": "working"}}


def test_an_audit_row_names_the_principal_and_the_time(desk):
    before = dt.datetime.now(dt.UTC)
    with desk.context(agent()) as ctx:
        ctx.records("desk.ticket").create({"title": "jam", "customer_id": 7})
    [row] = audit_rows(desk)
    assert (row.principal, row.user_id) == ("dana", 42)
    assert row.at.tzinfo is not None
    assert before - dt.timedelta(seconds=5) <= row.at <= dt.datetime.now(dt.UTC)


def test_a_change_over_the_api_is_audited_as_the_tokens_user(desk, client, make_token):
    response = client.post(TICKETS, json={"title": "jam", "customer_id": 7},
                           headers=bearer(make_token(desk, "desk.agent", name="sam")))
    assert response.status_code == 201
    assert [(row.principal, row.action) for row in audit_rows(desk)] == [("sam", "created")]


@pytest.mark.parametrize("role", ["desk_roles.auditor", "admin"])
def test_the_audit_log_is_readable_through_the_api_with_its_read_permission(
        desk, client, make_token, role):
    ticket_id = open_ticket(desk)
    response = client.get("/api/v1/kernel/audit", headers=bearer(make_token(desk, role)))
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert {k: item[k] for k in ("principal", "entity", "record_id", "action")} == {
        "principal": "system", "entity": "desk.ticket", "record_id": ticket_id,
        "action": "created"}
    assert item["changes"]["title"] == {"old": None, "new": "printer jam"}
    assert "at" in item


def test_one_audit_entry_is_readable_by_its_id(desk, client, make_token):
    ticket_id = open_ticket(desk)
    entry_id = audit_rows(desk)[0].id
    response = client.get(f"/api/v1/kernel/audit/{entry_id}",
                          headers=bearer(make_token(desk, "desk_roles.auditor")))
    assert response.status_code == 200
    assert (response.json()["record_id"], response.json()["action"]) == (ticket_id, "created")


def test_the_audit_log_is_403_without_its_read_permission(desk, client, make_token):
    open_ticket(desk)
    for path in ("/api/v1/kernel/audit", "/api/v1/kernel/audit/1"):
        response = client.get(path, headers=bearer(make_token(desk, "desk.agent")))
        assert response.status_code == 403
        assert "kernel.audit_entry.read" in response.json()["detail"]


def test_the_audit_log_filters_by_entity_record_and_action(desk, client, make_token):
    first, second = open_ticket(desk), open_ticket(desk)
    with desk.context() as ctx:
        ctx.fire("desk.ticket", second, "start")
    response = client.get(f"/api/v1/kernel/audit?entity=desk.ticket&record_id={second}",
                          headers=bearer(make_token(desk, "desk_roles.auditor")))
    assert [item["action"] for item in response.json()["items"]] == ["created", "start"]
    response = client.get("/api/v1/kernel/audit?action=created",
                          headers=bearer(make_token(desk, "desk_roles.auditor")))
    assert [item["record_id"] for item in response.json()["items"]] == [first, second]


def test_the_audit_log_cannot_be_changed_through_the_api(desk, client, make_token):
    open_ticket(desk)
    headers = bearer(make_token(desk, "admin"))
    assert client.post("/api/v1/kernel/audit", json={}, headers=headers).status_code == 405
    assert client.patch("/api/v1/kernel/audit/1", json={}, headers=headers).status_code == 405
    assert client.delete("/api/v1/kernel/audit/1", headers=headers).status_code == 405
    assert len(audit_rows(desk)) == 1


# -- outbox events ------------------------------------------------------------------------------


def test_each_committed_change_writes_exactly_one_outbox_event(desk):
    ticket_id = open_ticket(desk)
    with desk.context() as ctx:
        ctx.records("desk.ticket").update(ticket_id, {"title": "paper jam"})
    with desk.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "start")
    with desk.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "close")
    with desk.context() as ctx:
        ctx.records("desk.ticket").delete(ticket_id)
    assert [(event.name, event.entity, event.record_id) for event in outbox(desk)] == [
        ("desk.ticket.created", "desk.ticket", ticket_id),
        ("desk.ticket.updated", "desk.ticket", ticket_id),
        ("desk.ticket.start", "desk.ticket", ticket_id),
        ("desk.ticket.closed", "desk.ticket", ticket_id),
        ("desk.ticket.deleted", "desk.ticket", ticket_id),
    ]
    assert all(event.published_at is None for event in outbox(desk))


def test_a_transition_event_carries_the_record_id_and_the_state_change(desk):
    ticket_id = open_ticket(desk)
    with desk.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "start")
    event = outbox(desk)[-1]
    assert {k: event.payload[k] for k in ("id", "transition", "from", "to")} == {
        "id": ticket_id, "transition": "start", "from": "open", "to": "working"}
    assert event.payload["record"]["state"] == "working"


def test_a_created_event_carries_the_new_record(desk):
    ticket_id = open_ticket(desk)
    [event] = outbox(desk)
    assert event.payload["id"] == ticket_id
    assert event.payload["record"]["title"] == "printer jam"


def test_the_outbox_is_readable_through_the_api_with_its_read_permission(desk, client, make_token):
    ticket_id = open_ticket(desk)
    response = client.get("/api/v1/kernel/events",
                          headers=bearer(make_token(desk, "desk_roles.auditor")))
    assert response.status_code == 200
    assert [(item["name"], item["record_id"]) for item in response.json()["items"]] == [
        ("desk.ticket.created", ticket_id)]
    forbidden = client.get("/api/v1/kernel/events", headers=bearer(make_token(desk, "desk.agent")))
    assert forbidden.status_code == 403


def veto(kernel: Kernel) -> None:
    ticket_id = open_ticket(kernel, title="veto this")
    with kernel.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "start")


def failing_reaction(kernel: Kernel) -> None:
    ticket_id = open_ticket(kernel, title="explode on start")
    with kernel.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "start")


def invalid_input(kernel: Kernel) -> None:
    open_ticket(kernel)
    with kernel.context() as ctx:
        ctx.records("desk.ticket").create({"title": "no customer"})


def stale_version(kernel: Kernel) -> None:
    ticket_id = open_ticket(kernel)
    with kernel.context() as ctx:
        ctx.records("desk.ticket").update(ticket_id, {"title": "late", "version": 7})


def failure_after_a_write(kernel: Kernel) -> None:
    ticket_id = open_ticket(kernel)
    with kernel.context() as ctx:
        ctx.records("desk.ticket").update(ticket_id, {"title": "renamed"})
        ctx.fire("desk.ticket", ticket_id, "close")


ROLLED_BACK: dict[str, Callable[[Kernel], None]] = {
    "veto": veto, "failing reaction": failing_reaction, "invalid input": invalid_input,
    "stale version": stale_version, "failure after a write": failure_after_a_write,
}


@pytest.mark.parametrize("change", ROLLED_BACK.values(), ids=ROLLED_BACK.keys())
def test_a_rolled_back_change_leaves_no_audit_row_and_no_outbox_event(desk, change):
    with pytest.raises(ErpError):
        change(desk)
    assert [row.action for row in audit_rows(desk)] == ["created"]
    assert [event.name for event in outbox(desk)] == ["desk.ticket.created"]


@pytest.mark.parametrize("change", ROLLED_BACK.values(), ids=ROLLED_BACK.keys())
def test_erp_on_commit_does_not_hear_a_rolled_back_change(desk, change):
    with pytest.raises(ErpError):
        change(desk)
    assert [[event.name for event in batch] for batch in commits()] == [["desk.ticket.created"]]


def test_a_rolled_back_change_over_the_api_leaves_no_outbox_event(desk, client, make_token):
    headers = bearer(make_token(desk, "desk.agent"))
    ticket_id = open_ticket(desk, title="veto this")
    assert client.post(f"{TICKETS}/{ticket_id}/start", headers=headers).status_code == 409
    assert client.post(TICKETS, json={"title": "x"}, headers=headers).status_code == 422
    assert [event.name for event in outbox(desk)] == ["desk.ticket.created"]


# -- erp_on_commit -----------------------------------------------------------------------------


def test_erp_on_commit_receives_the_committed_events(desk):
    ticket_id = open_ticket(desk)
    with desk.context() as ctx:
        ctx.fire("desk.ticket", ticket_id, "start")
    stored = outbox(desk)
    heard = [event for batch in commits() for event in batch]
    assert [(e.id, e.name, e.entity, e.record_id) for e in heard] == [
        (e.id, e.name, e.entity, e.record_id) for e in stored]
    assert heard[1].payload == stored[1].payload


def test_erp_on_commit_receives_the_events_of_one_transaction_together_in_order(desk):
    with desk.context() as ctx:
        records = ctx.records("desk.ticket")
        first = records.create({"title": "one", "customer_id": 7})["id"]
        second = records.create({"title": "two", "customer_id": 7})["id"]
        ctx.fire("desk.ticket", first, "start")
        assert commits() == [], "nothing is heard before the commit"
    assert [[(e.name, e.record_id) for e in batch] for batch in commits()] == [[
        ("desk.ticket.created", first), ("desk.ticket.created", second),
        ("desk.ticket.start", first)]]


def test_erp_on_commit_waits_for_the_outer_commit_when_a_savepoint_is_released(desk):
    """Releasing a savepoint commits nothing: the events written inside it are heard once,
    with the rest of the transaction, when the transaction commits."""
    with desk.context() as ctx:
        records = ctx.records("desk.ticket")
        with ctx.session.begin_nested():
            first = records.create({"title": "one", "customer_id": 7})["id"]
        assert commits() == [], "a released savepoint is not a commit"
        second = records.create({"title": "two", "customer_id": 7})["id"]
    assert [[(e.name, e.record_id) for e in batch] for batch in commits()] == [[
        ("desk.ticket.created", first), ("desk.ticket.created", second)]]


def test_erp_on_commit_is_not_called_for_a_transaction_without_events(desk):
    ticket_id = open_ticket(desk)
    commits().clear()
    with desk.context() as ctx:
        ctx.records("desk.ticket").get(ticket_id)
    assert commits() == []


def test_erp_on_commit_hears_changes_made_over_the_api(desk, client, make_token):
    response = client.post(TICKETS, json={"title": "jam", "customer_id": 7},
                           headers=bearer(make_token(desk, "desk.agent")))
    assert [[(e.name, e.record_id) for e in batch] for batch in commits()] == [
        [("desk.ticket.created", response.json()["id"])]]
