"""Pooled PostgreSQL connections are pinged after being idle, not on every checkout.

A ping is a round trip; on a busy server every transaction would pay it. A connection
given back a moment ago is alive; one left idle may have been closed by the server (a
restart, an idle timeout), and is replaced before anyone uses it.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from erp_core.db import engine as engine_module
from erp_core.db.engine import create_engine


@pytest.fixture
def engine(postgres_url):
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0)
    pings = []
    do_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: (pings.append(1), do_ping(dbapi_connection))
    engine.pings = pings
    yield engine
    engine.dispose()


def _backend(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_used_a_moment_ago_is_not_pinged(engine):
    first = _backend(engine)
    for _ in range(5):
        assert _backend(engine) == first
    assert engine.pings == []


def test_an_idle_dead_connection_is_replaced_before_use(engine, postgres_url, monkeypatch):
    first = _backend(engine)
    admin = sa.create_engine(sa.make_url(postgres_url).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"),
                                  {"pid": first}).scalar_one()
    admin.dispose()
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    second = _backend(engine)  # no error: the ping found it dead and the pool reconnected
    assert second != first
    assert len(engine.pings) >= 1
