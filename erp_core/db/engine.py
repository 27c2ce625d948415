"""Engines for the embedded SQLite default and for PostgreSQL through psycopg 3."""

from __future__ import annotations

import threading
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from erp_core.db.transient import track_commits, translate_transient
from erp_core.db.writes import track_writes
from erp_core.errors import ConfigurationError

_SUPPORTED = ("sqlite", "postgresql")


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL; plain ``postgresql://`` means psycopg 3."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(
            f"ERP_DATABASE_URL {str(url)!r} is not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend not in _SUPPORTED:
        raise ConfigurationError(
            f"database {backend!r} is not supported: use sqlite:///PATH or postgresql://..."
        )
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is switched off (isolation_level=None) so
    # that SQLAlchemy's "begin" event can issue BEGIN IMMEDIATE: writers then queue on
    # the database lock up front instead of failing with "database is locked" on upgrade.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _driver_transactions_off(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # SQLAlchemy restores its default isolation level when a connection that ran in
    # AUTOCOMMIT returns to the pool, which sets the driver's isolation_level to "";
    # every checkout puts back the None the "begin" event relies on.
    if dbapi_connection.isolation_level is not None:
        dbapi_connection.isolation_level = None


class _WriterTurns:
    """One SQLite write transaction at a time per engine, queued in-process.

    SQLite allows a single writer; when several threads of one process contend, SQLite's
    busy handler sleeps in growing steps (up to 100 ms) before retrying, which wastes
    most of the time. Taking turns on a lock first keeps the database busy instead. The
    wait is bounded: past it, SQLite's own busy timeout takes over (other processes
    contend through that alone).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: set[int] = set()

    def begin(self, connection: sa.Connection) -> None:
        if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
            return  # a read outside any transaction (Kernel.reading): no turn, no BEGIN
        if self._lock.acquire(timeout=30):
            self._holders.add(id(connection))
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def end(self, connection: sa.Connection) -> None:
        if id(connection) in self._holders:
            self._holders.discard(id(connection))
            self._lock.release()


PING_AFTER_IDLE_SECONDS = 5.0
"""A pooled PostgreSQL connection unused for longer than this is pinged before use."""

_LAST_USED = "erp_last_used"


def _mark_used(_dbapi_connection: Any, record: Any, *_args: Any) -> None:
    record.info[_LAST_USED] = time.monotonic()


def _pinger(engine: Engine) -> Any:
    """Check, on checkout, that a connection left idle is still alive; one given back a
    moment ago is not pinged. A dead one raises ``InvalidatePoolError``, on which the
    pool drops it and every connection older than it and opens another (SQLAlchemy's
    ``pool_pre_ping``, without the round trip on every transaction of a busy server).
    A server restart is thus noticed by the first transaction after an idle spell;
    transactions on connections used in the last few seconds fail once, then the pool
    is renewed."""

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is not None and time.monotonic() - last <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # As pool_pre_ping does: the server likely restarted, so every connection
            # opened before now is dropped, not only this one.
            raise sa.exc.InvalidatePoolError(f"a pooled connection is dead: {exc}") from exc
        record.info[_LAST_USED] = time.monotonic()

    return ping_if_idle


def create_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine with the kernel's settings for the URL's database."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.pop("pool_size", None)  # SQLite serialises writers; its pool needs no tuning
        kwargs.pop("max_overflow", None)
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
        engine = sa.create_engine(parsed, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "checkout", _driver_transactions_off)
        turns = _WriterTurns()
        sa.event.listen(engine, "begin", turns.begin)
        sa.event.listen(engine, "commit", turns.end)
        sa.event.listen(engine, "rollback", turns.end)
    else:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        engine = sa.create_engine(parsed, **kwargs)
        # psycopg is imported with the first PostgreSQL engine, not with the kernel: a
        # command on SQLite does not pay for it
        from erp_core.db.descriptions import use_lean_descriptions

        sa.event.listen(engine, "connect", use_lean_descriptions)
        if not kwargs.get("pool_pre_ping"):
            sa.event.listen(engine, "connect", _mark_used)
            sa.event.listen(engine, "checkin", _mark_used)
            sa.event.listen(engine, "checkout", _pinger(engine))
        sa.event.listen(engine, "handle_error", translate_transient)
    track_writes(engine)
    track_commits(engine)
    return engine
