"""The row lock the kernel takes on a record it is about to change leaves the rows that
refer to it free.

A foreign key check (inserting an order line for an order, an order for a customer)
takes ``FOR KEY SHARE`` on the referenced row. The kernel locks a record with ``FOR NO
KEY UPDATE``, which does not conflict with that; a plain ``FOR UPDATE`` would make every
such insert wait for the lock holder, and with three transactions of one customer in
flight, deadlock. PostgreSQL only: SQLite has no row locks, its writers take turns.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from erp_core.kernel import Kernel
from erp_sdk.testing import wait_for_lock_waiters


@pytest.fixture
def desk(use_plugins, kernel: Kernel) -> Kernel:
    if kernel.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: its writers take turns")
    use_plugins("desk")
    kernel.enable(["desk"])
    return kernel.boot()


def test_a_transition_does_not_wait_for_a_reference_being_checked(desk):
    with desk.context() as ctx:
        ticket_id = ctx.records("desk.ticket").create({"title": "jam", "customer_id": 7})["id"]
    with desk.engine.connect() as other:
        other.execute(sa.text("SELECT 1 FROM desk_ticket WHERE id = :id FOR KEY SHARE"),
                      {"id": ticket_id})  # what a foreign key check of a new row takes
        with desk.context() as ctx:
            ctx.session.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
            assert ctx.fire("desk.ticket", ticket_id, "start")["state"] == "working"
            assert ctx.records("desk.ticket").update(ticket_id, {"title": "paper jam"})
        other.rollback()


def test_the_lock_still_serialises_writers_of_the_record(desk):
    with desk.context() as ctx:
        ticket_id = ctx.records("desk.ticket").create({"title": "jam", "customer_id": 7})["id"]
    with desk.context() as holder:
        holder.records("desk.ticket").get(ticket_id, lock=True)
        with desk.context() as ctx, pytest.raises(sa.exc.OperationalError, match="lock"):
            ctx.session.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
            ctx.fire("desk.ticket", ticket_id, "start")


def test_concurrent_transitions_of_one_record_let_exactly_one_through(desk):
    """With no before-hook, the lock, the state check and the change are one statement:
    the transitions that waited for the lock see the state the winner left and refuse."""
    import threading

    from erp_core.errors import ConflictError

    with desk.context() as ctx:
        ticket_id = ctx.records("desk.ticket").create({"title": "jam", "customer_id": 7})["id"]
        ctx.fire("desk.ticket", ticket_id, "start")
    transitions = ["close", "cancel"] * 4
    barrier = threading.Barrier(len(transitions), timeout=30)
    outcomes: list[str] = []

    def fire(name: str) -> None:
        with desk.context() as ctx:
            barrier.wait()
            try:
                ctx.fire("desk.ticket", ticket_id, name)
                outcomes.append(name)
            except ConflictError as exc:  # names the state the winner left
                outcomes.append("refused" if " is 'closed';" in exc.message
                                or " is 'cancelled';" in exc.message else exc.message)

    threads = [threading.Thread(target=fire, args=(name,)) for name in transitions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes).count("refused") == len(transitions) - 1
    [winner] = [o for o in outcomes if o != "refused"]
    with desk.context() as ctx:
        record = ctx.records("desk.ticket").get(ticket_id)
        changes = ctx.session.execute(sa.text(
            "SELECT action FROM kernel_audit_entry WHERE entity = 'desk.ticket'"
            " AND record_id = :id ORDER BY id"), {"id": ticket_id}).scalars().all()
    assert record["state"] == {"close": "closed", "cancel": "cancelled"}[winner]
    assert record["version"] == 3
    assert changes == ["created", "start", winner]


def test_a_transition_waiting_for_the_lock_sees_the_state_the_holder_committed(desk):
    """The state is checked on the row as the lock left it, not as the statement's
    snapshot saw it: 'close' waits while another transaction starts the ticket, then
    closes the working ticket instead of refusing an 'open' one."""
    import threading

    with desk.context() as ctx:
        ticket_id = ctx.records("desk.ticket").create({"title": "jam", "customer_id": 7})["id"]
    outcome: list[object] = []

    def close() -> None:
        try:
            with desk.context() as ctx:
                outcome.append(ctx.fire("desk.ticket", ticket_id, "close")["state"])
        except Exception as exc:  # reported by the assertion below
            outcome.append(exc)

    with desk.context() as holder:
        holder.fire("desk.ticket", ticket_id, "start")
        holder.records("desk.ticket").update(ticket_id, {"title": "paper jam"})
        closer = threading.Thread(target=close)
        closer.start()
        wait_for_lock_waiters(desk)
    closer.join(30)
    assert outcome == ["closed"]
    with desk.context() as ctx:  # the change went onto the row the holder left
        ticket = ctx.records("desk.ticket").get(ticket_id)
    assert (ticket["title"], ticket["state"], ticket["version"]) == ("paper jam", "closed", 4)
