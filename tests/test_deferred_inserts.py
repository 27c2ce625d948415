"""Audit rows and outbox events are buffered per transaction and written at commit.

One multi-row INSERT per table however many changes a transaction makes; rows readable
within the transaction that wrote them; a rolled-back savepoint loses only its own rows,
also when a read inside it wrote the enclosing transaction's; payloads checked and
frozen when emitted; ``erp_on_commit`` receives each event with the id of its row.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa

from erp_core.audit import AuditEntry
from erp_core.db.writes import written_tables
from erp_core.events.outbox import OutboxEvent, emit
from erp_core.kernel import Kernel


@pytest.fixture
def desk(use_plugins, kernel: Kernel) -> Iterator[Kernel]:
    use_plugins("desk", "desk_notes", "desk_watch")
    kernel.enable(["desk_watch"])
    kernel.boot()
    commits().clear()
    yield kernel
    commits().clear()


def commits() -> list:
    from erp_test_desk_watch.plugin import COMMITS

    return COMMITS


def inserts_into(kernel: Kernel) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:
        kernel_tables = [t for t in written_tables(statement) if t.startswith("kernel_")]
        if kernel_tables:
            seen.append(" + ".join(kernel_tables))

    sa.event.listen(kernel.engine, "before_cursor_execute", record)
    return seen


def names(session) -> list[str]:
    return list(session.scalars(sa.select(OutboxEvent.name).order_by(OutboxEvent.id)))


def test_a_transaction_writes_its_audit_rows_and_events_in_one_insert_each(desk):
    seen = inserts_into(desk)
    with desk.context() as ctx:
        for title in ("one", "two", "three"):
            ticket = ctx.records("desk.ticket").create({"title": title, "customer_id": 1})
            ctx.fire("desk.ticket", ticket["id"], "start")
        assert seen == []  # nothing written yet: all of it goes in at commit
    if desk.engine.dialect.name == "postgresql":  # one statement for both tables
        assert seen == ["kernel_audit_entry + kernel_outbox_event"]
    else:
        # SQLite does not promise the order of the ids a multi-row INSERT returns, so
        # SQLAlchemy inserts the events there one by one (in-process, no round trip).
        assert seen == ["kernel_audit_entry"] + ["kernel_outbox_event"] * 6
    with desk.transaction() as session:
        audited = session.execute(sa.select(AuditEntry.action, AuditEntry.record_id)
                                  .order_by(AuditEntry.id)).all()
        assert [action for action, _ in audited] == ["created", "start"] * 3
        assert names(session) == ["desk.ticket.created", "desk.ticket.start"] * 3


def test_rows_are_readable_in_the_transaction_that_wrote_them(desk):
    with desk.context() as ctx:
        ticket = ctx.records("desk.ticket").create({"title": "jam", "customer_id": 1})
        assert names(ctx.session) == ["desk.ticket.created"]
        history = ctx.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.record_id == ticket["id"])).all()
        assert history == ["created"]
        ctx.emit("desk.ticket.noted", "desk.ticket", ticket["id"], {"note": "x"})
        joined = ctx.session.execute(
            sa.select(OutboxEvent.name).join(AuditEntry, AuditEntry.record_id
                                             == OutboxEvent.record_id)
            .order_by(OutboxEvent.id)).scalars().all()
        assert joined == ["desk.ticket.created", "desk.ticket.noted"]


def test_a_rolled_back_savepoint_loses_only_its_own_rows(desk):
    with desk.context() as ctx:
        kept = ctx.records("desk.ticket").create({"title": "kept", "customer_id": 1})["id"]
        savepoint = ctx.session.begin_nested()
        ctx.records("desk.ticket").create({"title": "lost", "customer_id": 1})
        ctx.emit("desk.ticket.noted", "desk.ticket", None, {})
        savepoint.rollback()
        ctx.emit("desk.ticket.noted", "desk.ticket", kept, {"after": True})
    with desk.transaction() as session:
        assert names(session) == ["desk.ticket.created", "desk.ticket.noted"]
        assert session.scalars(sa.select(AuditEntry.record_id)).all() == [kept]
    assert [name for _id, name, _payload in committed()] == ["desk.ticket.created",
                                                              "desk.ticket.noted"]


def test_a_rolled_back_transaction_writes_nothing(desk):
    with pytest.raises(RuntimeError), desk.context() as ctx:
        ctx.records("desk.ticket").create({"title": "gone", "customer_id": 1})
        raise RuntimeError("changed my mind")
    with desk.transaction() as session:
        assert names(session) == []
        assert session.scalars(sa.select(AuditEntry)).all() == []
    assert committed() == []


def test_on_commit_hears_each_event_with_the_id_of_its_row(desk):
    with desk.context() as ctx:
        for title in ("a", "b"):
            ctx.records("desk.ticket").create({"title": title, "customer_id": 1})
    with desk.transaction() as session:
        rows = session.execute(sa.select(OutboxEvent.id, OutboxEvent.name)
                               .order_by(OutboxEvent.id)).all()
    assert [(event_id, name) for event_id, name, _ in committed()] == [tuple(r) for r in rows]


def committed() -> list[tuple[int, str, dict]]:
    return [(event.id, event.name, dict(event.payload))
            for call in commits() for event in call]



def test_a_read_in_a_savepoint_then_rolled_back_keeps_the_enclosing_transactions_rows(desk):
    with desk.context() as ctx:
        kept = ctx.records("desk.ticket").create({"title": "kept", "customer_id": 1})["id"]
        savepoint = ctx.session.begin_nested()
        assert ctx.session.scalars(sa.select(AuditEntry.record_id)).all() == [kept]
        savepoint.rollback()  # the rows written for that read are gone from the database
    with desk.transaction() as session:
        assert session.scalars(sa.select(AuditEntry.record_id)).all() == [kept]
        rows = session.execute(sa.select(OutboxEvent.id, OutboxEvent.name)).all()
    assert [tuple(row) for row in rows] == [(event_id, name)
                                            for event_id, name, _ in committed()]
    assert [name for _id, name, _ in committed()] == ["desk.ticket.created"]


def test_a_text_statement_through_the_session_sees_the_buffered_rows(desk):
    with desk.context() as ctx:
        ctx.emit("desk.ticket.noted", "desk.ticket", None, {})
        assert ctx.session.execute(sa.text("SELECT name FROM kernel_outbox_event")
                                   ).scalars().all() == ["desk.ticket.noted"]


def test_a_session_closed_without_a_rollback_forgets_what_it_buffered(desk):
    session = desk.sessions()
    emit(session, "desk.ticket.abandoned", "desk.ticket", None, {})
    session.close()
    emit(session, "desk.ticket.noted", "desk.ticket", None, {})
    session.commit()
    with desk.transaction() as check:
        assert names(check) == ["desk.ticket.noted"]


def test_an_event_payload_that_is_not_json_fails_where_it_is_emitted(desk):
    with pytest.raises(ValueError, match=r"desk\.ticket\.noted.*not JSON"), \
            desk.context() as ctx:
        ctx.emit("desk.ticket.noted", "desk.ticket", None, {"amount": Decimal("1.50")})


def test_a_payload_changed_after_emit_is_written_as_it_was_emitted(desk):
    payload = {"record": {"title": "jam"}}
    with desk.context() as ctx:
        ctx.emit("desk.ticket.noted", "desk.ticket", None, payload)
        payload["record"]["title"] = "changed later"
    with desk.transaction() as session:
        assert session.scalars(sa.select(OutboxEvent.payload)).all() == [
            {"record": {"title": "jam"}}]


def test_the_emitted_event_knows_its_id_once_asked(desk):
    with desk.context() as ctx:
        event = ctx.emit("desk.ticket.noted", "desk.ticket", None, {"n": 1})
        assert ctx.session.get(OutboxEvent, event.id).name == "desk.ticket.noted"
    assert [event_id for event_id, _, _ in committed()] == [event.id]
