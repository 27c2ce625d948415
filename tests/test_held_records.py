"""Records a transaction holds are not read again, unless something may have changed them.

The ``desk_stamp`` test plugin rewrites a closed ticket's title from a reaction, through
``text()``, Core or the ORM, as the title asks; its ``desk_stamp.label`` entity derives
its ``code`` from the new id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from erp_core.db.writes import ANY_TABLE, writes_to, written_tables
from erp_core.errors import ConflictError, NotFoundError, PluginError, ValidationError
from erp_core.kernel import Kernel
from erp_core.security.principal import Principal


@pytest.fixture
def desk(use_plugins, kernel: Kernel) -> Kernel:
    use_plugins("desk", "desk_stamp")
    kernel.enable(["desk_stamp"])
    return kernel.boot()


@pytest.fixture
def ticket_reads(desk: Kernel) -> Iterator[list[str]]:
    """The statements that read a ticket, as they are sent."""
    reads: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:
        if statement.startswith("SELECT") and "FROM desk_ticket" in statement:
            reads.append(statement)

    sa.event.listen(desk.engine, "before_cursor_execute", record)
    yield reads
    sa.event.remove(desk.engine, "before_cursor_execute", record)


def working_ticket(kernel: Kernel, title: str) -> int:
    with kernel.context() as ctx:
        ticket_id = ctx.records("desk.ticket").create({"title": title, "customer_id": 7})["id"]
        ctx.fire("desk.ticket", ticket_id, "start")
    return ticket_id


@pytest.mark.parametrize("title", ["rewrite with text", "rewrite with core",
                                   "rewrite with the orm", "rewrite with the orm, unflushed"])
def test_a_reaction_writing_the_record_behind_the_service_is_seen(desk, title):
    ticket_id = working_ticket(desk, title)
    with desk.context() as ctx:
        closed = ctx.fire("desk.ticket", ticket_id, "close")
        assert closed["title"] == "rewritten" and closed["state"] == "closed"
        assert ctx.records("desk.ticket").get(ticket_id)["title"] == "rewritten"


def test_a_before_hook_writing_the_record_is_in_the_transitions_result(desk):
    with desk.context() as ctx:
        ticket_id = ctx.records("desk.ticket").create({"title": "retitle before",
                                                       "customer_id": 7})["id"]
        started = ctx.fire("desk.ticket", ticket_id, "start")
        assert started["title"] == "retitled" and started["state"] == "working"
        assert ctx.records("desk.ticket").get(ticket_id) == started


def test_nested_values_handed_out_are_the_callers_own(desk):
    from erp_core.entities.held import recall, remember

    entity = desk.entities.get("desk.ticket")
    with desk.context() as ctx:
        remember(ctx.session, entity, {"id": 1, "title": "x", "tags": {"a": [1]}})
        recall(ctx.session, entity, 1)["tags"]["a"].append(2)
        assert recall(ctx.session, entity, 1)["tags"] == {"a": [1]}


def test_a_reaction_that_leaves_the_record_alone_costs_no_read_back(desk, ticket_reads):
    ticket_id = working_ticket(desk, "quiet")
    ticket_reads.clear()
    with desk.context() as ctx:
        closed = ctx.fire("desk.ticket", ticket_id, "close")  # the reaction ran, wrote nothing
        again = ctx.records("desk.ticket").get(ticket_id)
    assert closed["state"] == again["state"] == "closed" and closed == again
    # nothing after the change; before it, the lock (PostgreSQL takes it in the change's
    # own statement when no before-hook needs the record first)
    assert len(ticket_reads) == (0 if desk.engine.dialect.name == "postgresql" else 1)
    with desk.context() as ctx:
        assert ctx.records("desk.ticket").get(ticket_id) == closed


def test_a_record_read_without_a_lock_is_read_again(desk, ticket_reads):
    ticket_id = working_ticket(desk, "unlocked")
    ticket_reads.clear()
    with desk.context() as ctx:
        ctx.records("desk.ticket").get(ticket_id)
        ctx.records("desk.ticket").get(ticket_id)
    assert len(ticket_reads) == 2  # another transaction may change it between the two


def test_a_rolled_back_savepoint_forgets_what_it_held(desk):
    ticket_id = working_ticket(desk, "savepoint")
    with desk.context() as ctx:
        savepoint = ctx.session.begin_nested()
        assert ctx.fire("desk.ticket", ticket_id, "close")["state"] == "closed"
        savepoint.rollback()
        assert ctx.records("desk.ticket").get(ticket_id)["state"] == "working"
        assert ctx.records("desk.ticket").get(ticket_id, lock=True)["state"] == "working"


def test_the_next_transaction_reads_afresh(desk, ticket_reads):
    ticket_id = working_ticket(desk, "fresh")
    with desk.context() as ctx:
        ctx.records("desk.ticket").get(ticket_id, lock=True)
    with desk.transaction() as session:
        session.execute(sa.text("UPDATE desk_ticket SET title = 'changed' WHERE id = :id"),
                        {"id": ticket_id})
    ticket_reads.clear()
    with desk.context() as ctx:
        assert ctx.records("desk.ticket").get(ticket_id, lock=True)["title"] == "changed"
    assert len(ticket_reads) == 1


def test_record_rules_still_apply_to_a_held_record(desk):
    ticket_id = working_ticket(desk, "someone else's")  # customer 7
    customer = Principal(name="customer 8", roles=("desk.customer",),
                         scope={"customer_id": [8]},
                         permissions=desk.permissions.permissions_of(["desk.customer"]))
    with desk.context() as ctx:
        ctx.records("desk.ticket").get(ticket_id, lock=True)
        with pytest.raises(NotFoundError):
            ctx.as_principal(customer).records("desk.ticket").get(ticket_id)


def test_create_hands_back_the_record_as_a_read_would_show_it(desk):
    with desk.context() as ctx:
        created = ctx.records("desk_stamp.label").create({"name": "fragile"})
        assert created == ctx.records("desk_stamp.label").get(created["id"])
    assert created["note"] == "none"  # a server default, from RETURNING
    assert created["code"] == f"L-{created['id']:04d}"
    with desk.context() as ctx:
        assert ctx.records("desk_stamp.label").get(created["id"]) == created


def test_a_derived_field_is_in_the_create_event_and_audit_and_not_writable(desk):
    with desk.context() as ctx:
        label_id = ctx.records("desk_stamp.label").create({"name": "glass"})["id"]
        with pytest.raises(ValidationError, match="code: is read-only"):
            ctx.records("desk_stamp.label").create({"name": "x", "code": "L-9999"})
    with desk.transaction() as session:
        payload = session.execute(sa.text(
            "SELECT payload FROM kernel_outbox_event WHERE name = 'desk_stamp.label.created'"
            " AND record_id = :id"), {"id": label_id}).scalar_one()
        changes = session.execute(sa.text(
            "SELECT changes FROM kernel_audit_entry WHERE entity = 'desk_stamp.label'"
            " AND record_id = :id"), {"id": label_id}).scalar_one()
    payload = payload if isinstance(payload, dict) else json.loads(payload)
    changes = changes if isinstance(changes, dict) else json.loads(changes)
    assert payload["record"]["code"] == f"L-{label_id:04d}"
    assert changes["code"] == {"old": None, "new": f"L-{label_id:04d}"}


def test_derived_fields_are_checked_at_boot(use_plugins, make_kernel):
    from erp_core.entities.declaration import Entity
    from erp_core.entities.registry import EntityRegistry
    use_plugins("desk", "desk_stamp")
    from erp_test_desk_stamp.plugin import Label

    with pytest.raises(PluginError, match=r"derived_from_id.*'serial'"):
        EntityRegistry.build([("desk_stamp", [Entity("label", Label,
                                                     derived_from_id={"serial": str})])])
    with pytest.raises(PluginError, match="not a function"):
        EntityRegistry.build([("desk_stamp", [Entity("label", Label,
                                                     derived_from_id={"code": "L-"})])])


@pytest.mark.parametrize(("statement", "tables"), [
    ("SELECT a FROM t WHERE id = 1 FOR UPDATE", ()),
    ("  select 1", ()),
    ("BEGIN IMMEDIATE", ()),
    ('SAVEPOINT "sa_savepoint_1"', ()),
    ('RELEASE SAVEPOINT "sa_savepoint_1"', ()),
    ("WITH RECURSIVE chain(id) AS (SELECT 1) SELECT id FROM chain FOR NO KEY UPDATE OF c",
     ()),
    ("WITH c AS (SELECT 1 FROM t FOR UPDATE SKIP LOCKED) SELECT * FROM c", ()),
    ("INSERT INTO kernel_audit_entry (at) VALUES (1)", ("kernel_audit_entry",)),
    ("INSERT OR REPLACE INTO t (a) VALUES (1)", ("t",)),
    ("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2", ("t",)),
    ('UPDATE "desk_ticket" SET title = 1', ("desk_ticket",)),
    ("UPDATE public.desk_ticket SET title = 1", ("desk_ticket",)),
    ("DELETE FROM desk_ticket WHERE id = 1", ("desk_ticket",)),
    ("WITH moved AS (UPDATE stock SET q = 0 RETURNING id) SELECT id FROM moved", ("stock",)),
    ("WITH a AS (INSERT INTO kernel_audit_entry (x) SELECT 1) INSERT INTO"
     " kernel_outbox_event (y) SELECT 2 RETURNING id", ("kernel_audit_entry",
                                                       "kernel_outbox_event")),
    ("WITH s AS (SELECT 1) MERGE INTO t USING s ON true WHEN MATCHED THEN DO NOTHING",
     (ANY_TABLE,)),
    ('ROLLBACK TO SAVEPOINT "sa_savepoint_1"', (ANY_TABLE,)),
    ("REPLACE INTO t (a) VALUES (1)", (ANY_TABLE,)),
    ("TRUNCATE desk_ticket", (ANY_TABLE,)),
])
def test_statements_are_classified_by_what_they_may_write(statement, tables):
    assert written_tables(statement) == tables


def test_every_connection_counts_its_own_writes(desk):
    with desk.engine.connect() as one, desk.engine.connect() as other:
        before = writes_to(one, ["desk_ticket"])
        other.execute(sa.text("UPDATE desk_ticket SET title = 'x' WHERE id = -1"))
        other.commit()  # SQLite: one writer at a time
        assert writes_to(one, ["desk_ticket"]) == before
        one.execute(sa.text("UPDATE desk_ticket SET title = 'x' WHERE id = -1"))
        assert writes_to(one, ["desk_ticket"]) != before
        marked = writes_to(one, ["desk_ticket"])
        one.execute(sa.text("UPDATE desk_stamp_label SET name = 'x' WHERE id = -1"))
        assert writes_to(one, ["desk_ticket"]) == marked
        one.execute(sa.text("DELETE FROM desk_stamp_label WHERE id IN"
                            " (WITH gone AS (SELECT -1) SELECT * FROM gone)"))
        assert writes_to(one, ["desk_ticket"]) == marked
        one.rollback()


def test_an_extended_entity_is_not_held(use_plugins, kernel):
    use_plugins("shop", "shopx")
    kernel.enable(["shopx"])
    kernel.boot()
    from erp_core.entities.held import HELD

    with kernel.context() as ctx:
        product = ctx.records("shop.product").create({"sku": "T-1", "name": "Tea",
                                                      "price": "4.50"})
        ctx.records("shop.product").get(product["id"], lock=True)
        assert not ctx.session.info.get(HELD)  # its extension rows are not locked with it


def test_a_write_reaching_a_record_through_a_foreign_key_action_counts(desk):
    entity = desk.entities.get("desk_stamp.label")
    assert entity.tables == ("desk_stamp_label", "desk_ticket")  # ON DELETE SET NULL
    ticket_id = working_ticket(desk, "labelled")
    with desk.context() as ctx:
        label = ctx.records("desk_stamp.label").create({"name": "tag", "ticket_id": ticket_id})
        assert label["ticket_id"] == ticket_id
        ctx.session.execute(sa.text("DELETE FROM desk_ticket WHERE id = :id"), {"id": ticket_id})
        assert ctx.records("desk_stamp.label").get(label["id"])["ticket_id"] is None


@pytest.mark.parametrize(("change", "lock"), [
    ({"note": "fragile"}, "FOR NO KEY UPDATE"), ({"name": "renamed"}, "FOR UPDATE"),
    (None, "FOR UPDATE")])
def test_a_change_of_a_unique_column_or_a_delete_takes_the_key_lock(desk, change, lock):
    if desk.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its writers take turns")
    locks: list[str] = []
    sa.event.listen(desk.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: locks.extend(
        [m for m in ("FOR NO KEY UPDATE", "FOR UPDATE") if sql.endswith(m) or f"{m} OF" in sql]))
    with desk.context() as ctx:
        label_id = ctx.records("desk_stamp.label").create({"name": "box"})["id"]
    with desk.context() as ctx:
        if change is None:
            ctx.records("desk_stamp.label").delete(label_id)
        else:
            ctx.records("desk_stamp.label").update(label_id, change)
    assert locks == [lock]


def test_a_held_record_becomes_its_model_object_without_a_read(desk, ticket_reads):
    from erp_test_desk.plugin import Ticket

    with desk.context() as ctx:
        created = ctx.records("desk.ticket").create({"title": "jam", "customer_id": 4})
        started = ctx.fire("desk.ticket", created["id"], "start")
        ticket = ctx.records("desk.ticket").instance(started)
        assert isinstance(ticket, Ticket)
        assert (ticket.id, ticket.title, ticket.state, ticket.version) == (
            created["id"], "jam", "working", started["version"])
        assert ticket.created_at.isoformat() == started["created_at"]
        assert ticket_reads == []
        assert ctx.records("desk.ticket").instance(started) is ticket
        ticket.title = "paper jam"  # an object of the session: its changes are written
    with desk.context() as ctx:
        assert ctx.records("desk.ticket").get(created["id"])["title"] == "paper jam"


def test_a_reference_the_caller_vouches_for_is_not_checked_again(desk):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    with desk.context() as ctx:
        ticket = ctx.records("desk.ticket").create({"title": "jam", "customer_id": 1})
        labels = ctx.records("desk_stamp.label")
        sa.event.listen(desk.engine, "before_cursor_execute", record)
        try:
            checked = labels.create({"name": "checked", "ticket_id": ticket["id"]})
            checks = [s for s in statements if "FROM desk_ticket" in s]
            statements.clear()
            vouched = labels.create({"name": "vouched"}, computed={"ticket_id": ticket["id"]})
        finally:
            sa.event.remove(desk.engine, "before_cursor_execute", record)
        assert len(checks) == 1  # the reference given in the payload is checked
        assert not [s for s in statements if "FROM desk_ticket" in s]
        assert checked["ticket_id"] == vouched["ticket_id"] == ticket["id"]
    # the foreign key still refuses a vouched reference to nothing
    with pytest.raises(ConflictError, match="refers to a record that does not exist"), \
            desk.context() as ctx:
        ctx.records("desk_stamp.label").create({"name": "dangling"},
                                               computed={"ticket_id": 999_999})
    with desk.context() as ctx:
        assert [label["name"] for label in ctx.records("desk_stamp.label").list([])["items"]] \
            == ["checked", "vouched"]


def test_a_subscription_to_every_transition_of_an_entity_sees_each_one(desk):
    from erp_test_desk_stamp.plugin import TRANSITIONS

    TRANSITIONS.clear()
    with desk.context() as ctx:
        ticket_id = ctx.records("desk.ticket").create({"title": "jam", "customer_id": 4})["id"]
        ctx.fire("desk.ticket", ticket_id, "start")
        ctx.fire("desk.ticket", ticket_id, "close")
    assert [name for record_id, name in TRANSITIONS if record_id == ticket_id] == [
        "start", "close"]


def test_a_record_written_since_it_was_held_becomes_its_object_by_a_read(desk, ticket_reads):
    with desk.context() as ctx:
        created = ctx.records("desk.ticket").create({"title": "jam", "customer_id": 4})
        ctx.session.execute(sa.text("UPDATE desk_ticket SET title = 'rewritten' WHERE id = :id"),
                            {"id": created["id"]})
        ticket = ctx.records("desk.ticket").instance(created)
        assert ticket.title == "rewritten"
    assert len(ticket_reads) == 1


def test_attach_loaded_gives_objects_without_a_query_and_prefers_the_held_one(desk,
                                                                              ticket_reads):
    from erp_core.db.loaded import attach_loaded
    from erp_test_desk.plugin import Ticket

    with desk.context() as ctx:
        first, second = (ctx.records("desk.ticket").create({"title": t, "customer_id": 7})
                         for t in ("kept", "held"))
    with desk.transaction() as session:
        rows = [dict(row) for row in session.execute(
            sa.select(*Ticket.__table__.c).order_by(Ticket.id)).mappings()]
    ticket_reads.clear()
    with desk.transaction() as session:
        held = session.get(Ticket, second["id"])
        held.title = "changed here"
        kept, again = attach_loaded(session, Ticket, rows)
        assert again is held and again.title == "changed here"  # the session's own wins
        assert (kept.id, kept.title, kept.version) == (first["id"], "kept", 1)
        assert session.get(Ticket, first["id"]) is kept
        assert kept not in session.dirty  # the attached object has nothing to flush
        kept.title = "changed too"
    assert [s for s in ticket_reads if "WHERE desk_ticket.id" in s] == [ticket_reads[0]]
    with desk.context() as ctx:
        assert ctx.records("desk.ticket").get(first["id"])["title"] == "changed too"


def test_values_kept_across_calls_are_handed_out_unshared_only_when_they_can_change():
    import datetime as dt
    from decimal import Decimal

    from erp_core.db.loaded import unshared

    nested = {"lines": [{"sku": "A", "quantity": "2"}]}
    copied = unshared(nested)
    copied["lines"][0]["quantity"] = "3"
    assert nested == {"lines": [{"sku": "A", "quantity": "2"}]}
    for value in (7, 2.5, "x", b"x", Decimal("1.10"), dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                  dt.date(2026, 1, 1), None):
        assert unshared(value) is value
