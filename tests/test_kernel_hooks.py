"""Contribution hooks and after-commit events in less common shapes."""

from __future__ import annotations

import sqlalchemy as sa

from erp_core.events.outbox import emit


def test_every_implementation_of_a_hook_in_one_plugin_contributes(use_plugins, kernel):
    use_plugins("twohooks")
    kernel.enable(["twohooks"])
    kernel.boot()
    assert {"twohooks.first", "twohooks.second"} <= set(kernel.permissions.permissions)


def test_a_rolled_back_savepoint_forgets_only_its_own_events(kernel, monkeypatch):
    kernel.boot()
    delivered = []
    monkeypatch.setattr(kernel, "contribute", lambda hook, **kwargs: delivered.extend(
        event.name for event in kwargs.get("events", ())) or [])
    with kernel.transaction() as session:
        emit(session, "test.kept.before", "test", 1, {})
        savepoint = session.begin_nested()
        emit(session, "test.dropped", "test", 2, {})
        savepoint.rollback()
        emit(session, "test.kept.after", "test", 3, {})
    assert delivered == ["test.kept.before", "test.kept.after"]
    with kernel.transaction() as session:
        names = session.scalars(sa.text("SELECT name FROM kernel_outbox_event ORDER BY id"))
        assert list(names) == ["test.kept.before", "test.kept.after"]
