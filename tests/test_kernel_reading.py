"""``Kernel.reading()``: single reads outside any transaction, and ``create(computed=...)``.

A read on ``reading()`` needs no transaction, so on SQLite it neither queues behind the
writer nor issues ``BEGIN IMMEDIATE``, and it leaves the pool's connections as the
kernel's transactions expect them.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from erp_core.kernel import Kernel


@pytest.fixture
def desk(use_plugins, kernel: Kernel) -> Kernel:
    use_plugins("desk")
    kernel.enable(["desk"])
    kernel.boot()
    return kernel


def test_a_read_sees_committed_data_and_begins_no_transaction(desk):
    with desk.context() as ctx:
        ctx.records("desk.ticket").create({"title": "jam", "customer_id": 1})
    with desk.reading() as connection:
        titles = connection.execute(sa.text("SELECT title FROM desk_ticket")).scalars().all()
        driver = connection.connection.driver_connection
        if desk.engine.dialect.name == "postgresql":
            assert driver.autocommit  # psycopg sends no BEGIN
    assert titles == ["jam"]
    sent = _statements(desk, lambda: _read(desk))
    assert not any(s.upper().startswith(("BEGIN", "COMMIT")) for s in sent), sent


def test_a_read_does_not_wait_for_a_writer(desk):
    writing, done = threading.Event(), threading.Event()

    def writer() -> None:
        with desk.context() as ctx:
            ctx.records("desk.ticket").create({"title": "slow", "customer_id": 1})
            writing.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(10)
        answered: list[int] = []
        reader = threading.Thread(target=lambda: answered.append(_read(desk)))
        reader.start()
        reader.join(5)
        assert answered == [0], "the read waited for the writer's transaction"
    finally:
        done.set()
        thread.join(10)


def test_after_a_read_the_next_transaction_still_begins_as_the_kernel_expects(desk):
    _read(desk)
    with desk.transaction() as session:
        driver = session.connection().connection.driver_connection
        if desk.engine.dialect.name == "sqlite":
            assert driver.isolation_level is None  # BEGIN IMMEDIATE comes from the kernel
            assert driver.in_transaction
        else:
            assert not driver.autocommit


def test_computed_values_are_written_in_the_insert_but_never_the_kernels_columns(desk):
    with desk.context() as ctx:
        tickets = ctx.records("desk.ticket")
        created = tickets.create({"title": "jam", "customer_id": 1},
                                 computed={"state": "working"})
        assert created["state"] == "working"
        for column in ("id", "version", "nonsense"):
            with pytest.raises(ValueError, match=repr(column)):
                tickets.create({"title": "x", "customer_id": 1}, computed={column: 1})
        with pytest.raises(ValueError, match="'state' is a SQL expression"):
            tickets.create({"title": "x", "customer_id": 1},
                           computed={"state": sa.literal("working")})
    with desk.context() as ctx:
        assert [t["title"] for t in ctx.records("desk.ticket").list([])["items"]] == ["jam"]


def _read(kernel: Kernel) -> int:
    with kernel.reading() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM desk_ticket")).scalar_one()


def _statements(kernel: Kernel, action) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:
        seen.append(statement)

    sa.event.listen(kernel.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(kernel.engine, "before_cursor_execute", record)
    return seen
