"""``Context.cached``: seldom-changing data read once per process, never stale for the
process that changed it, and at most ``ERP_CACHE_SECONDS`` stale for the others."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from erp_core.kernel import Kernel

TITLES = sa.text("SELECT title FROM desk_ticket ORDER BY id")


@pytest.fixture
def make_desk(boot_plugins):
    return lambda **settings: boot_plugins("desk", **settings)


def _titles(kernel: Kernel, loads: list[int]) -> tuple[str, ...]:
    with kernel.context() as ctx:
        return ctx.cached("titles", ["desk_ticket"], lambda: (
            loads.append(1), tuple(ctx.session.scalars(TITLES)))[1])


def _add(ctx, title: str) -> None:
    ctx.records("desk.ticket").create({"title": title, "customer_id": 1})


def test_a_value_is_loaded_once_and_reloaded_after_this_process_commits_a_write(make_desk):
    desk, loads = make_desk(), []
    assert _titles(desk, loads) == ()
    assert _titles(desk, loads) == ()
    assert len(loads) == 1
    with desk.context() as ctx:
        _add(ctx, "jam")
    assert _titles(desk, loads) == ("jam",)
    assert len(loads) == 2


def test_a_transaction_sees_its_own_writes_and_a_rollback_leaves_nothing_cached(make_desk):
    desk, loads = make_desk(), []
    assert _titles(desk, loads) == ()
    with pytest.raises(RuntimeError), desk.context() as ctx:
        _add(ctx, "draft")
        assert ctx.cached("titles", ["desk_ticket"], lambda: tuple(
            ctx.session.scalars(TITLES))) == ("draft",)
        raise RuntimeError("roll back")
    assert _titles(desk, loads) == ()


def test_a_value_read_while_a_writer_was_open_is_dropped_when_it_commits(make_desk):
    desk = make_desk()

    def read() -> tuple[str, ...]:  # outside any transaction: SQLite lets it past the writer
        def load() -> tuple[str, ...]:
            with desk.reading() as connection:
                return tuple(connection.execute(TITLES).scalars())
        return desk.committed.get("titles", ["desk_ticket"], load)

    with desk.context() as writer:
        _add(writer, "late")
        writer.session.flush()
        assert read() == ()  # the write is not committed yet
    assert read() == ("late",)


def test_other_processes_writes_are_seen_after_the_cache_seconds(make_desk):
    desk, other, loads = make_desk(cache_seconds=0.3), make_desk(), []
    assert _titles(desk, loads) == ()
    with other.context() as ctx:  # another kernel stands for another process
        _add(ctx, "elsewhere")
    assert _titles(desk, loads) == ()  # not seen yet: at most cache_seconds stale
    time.sleep(0.4)
    assert _titles(desk, loads) == ("elsewhere",)


def test_no_cache_seconds_reads_every_time(make_desk):
    desk, loads = make_desk(cache_seconds=0), []
    for _ in range(3):
        assert _titles(desk, loads) == ()
    assert len(loads) == 3


def test_the_cache_seconds_come_from_the_environment():
    from erp_core.errors import ConfigurationError
    from erp_core.settings import Settings

    assert Settings.from_env({"ERP_CACHE_SECONDS": "0.5"}).cache_seconds == 0.5
    with pytest.raises(ConfigurationError, match="ERP_CACHE_SECONDS"):
        Settings.from_env({"ERP_CACHE_SECONDS": "soon"})


def test_changes_not_flushed_yet_are_this_transactions_own_and_never_cached(make_desk):
    from erp_test_desk.plugin import Ticket

    desk, loads = make_desk(), []
    assert _titles(desk, loads) == ()
    def outside() -> tuple[str, ...]:  # another reader of the process, meanwhile
        def load() -> tuple[str, ...]:
            with desk.reading() as connection:
                return tuple(connection.execute(TITLES).scalars())
        return desk.committed.get("titles", ["desk_ticket"], load)

    with pytest.raises(RuntimeError), desk.context() as ctx:
        ctx.session.add(Ticket(title="pending", customer_id=1, version=1))  # not flushed
        assert ctx.cached("titles", ["desk_ticket"], lambda: tuple(
            ctx.session.scalars(TITLES))) == ("pending",)
        assert outside() == ()
        raise RuntimeError("roll back")
    assert _titles(desk, loads) == ()


def test_the_hooks_after_a_commit_read_what_it_wrote(make_desk):
    desk, loads = make_desk(), []
    assert _titles(desk, loads) == ()
    seen: list[tuple[str, ...]] = []

    def after_commit(session) -> None:  # as erp_on_commit hooks run: before the checkin
        def load() -> tuple[str, ...]:
            with desk.reading() as connection:
                return tuple(connection.execute(TITLES).scalars())
        seen.append(desk.committed.get("titles", ["desk_ticket"], load))

    with desk.context() as ctx:
        sa.event.listen(ctx.session, "after_commit", after_commit)
        _add(ctx, "fresh")
    assert seen == [("fresh",)]


def test_code_given_only_a_session_shares_the_kernels_cache(make_desk):
    from sqlalchemy.orm import Session

    from erp_sdk import cached

    desk, loads = make_desk(), []

    def titles(session) -> tuple[str, ...]:
        return cached(session, "titles", ["desk_ticket"], lambda: (
            loads.append(1), tuple(session.scalars(TITLES)))[1])

    with desk.transaction() as session:
        assert titles(session) == ()
    with desk.transaction() as session:
        assert titles(session) == ()
    assert len(loads) == 1
    with desk.context() as ctx:
        _add(ctx, "jam")
        assert titles(ctx.session) == ("jam",)  # its own write, read on its session
    with desk.transaction() as session:
        assert titles(session) == ("jam",)
    assert len(loads) == 3
    with Session(desk.engine) as session:  # not a session of the kernel: no cache
        assert titles(session) == titles(session) == ("jam",)
    assert len(loads) == 5
