"""A process's cache of values computed from committed rows that seldom change.

Some reads recur on every transaction of a kind and almost never change: the channels
that push stock, the review policies of orders. ``CommittedCache`` keeps such a value
per key, with the tables it was computed from, and forgets it:

- when a transaction of this process that wrote one of those tables commits: the
  connection's write counters (``erp_core.db.writes``) say which tables it wrote since
  the pool last had it back. They are read as the COMMIT is sent, for the hooks that
  run after it, and again when the pool gets the connection back, after the COMMIT
  finished, which drops a value loaded in between from what was not committed yet;
- after ``max_age`` seconds, for writes made by other processes (other server workers,
  the CLI), which this process cannot see: that is how stale a value may be;
- at once for a transaction that wrote one of the tables itself: it reads its own
  writes (the loader runs on its session, uncached).

Only committed data is ever kept, so a transaction rolled back leaves nothing behind.
Keep to values whose staleness for ``max_age`` seconds is harmless, never stock or
money; where a stale value would let a write through that the current rows refuse
(a closed period), the write itself checks the current rows and the cache only spares
the reads of the usual case.

Code that holds a session of the kernel rather than a ``Context`` reaches the same
cache with ``cached(session, ...)``: the kernel's sessions carry it in their ``info``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_core.db.writes import ANY_TABLE, WRITES

T = TypeVar("T")
_AT_CHECKIN = "erp_writes_at_checkin"
SESSION_CACHE = "erp_committed_cache"
"""The key of a kernel session's ``info`` that holds its kernel's ``CommittedCache``."""


class CommittedCache:
    """Values keyed by the caller, each dropped when its tables are written (see above)."""

    def __init__(self, engine: sa.Engine, max_age: float) -> None:
        self.max_age = max_age
        # Reentrant: the pool also takes back a connection that the garbage collector
        # found unclosed, which runs _checked_in wherever the collector runs.
        self._lock = threading.RLock()
        self._generations: dict[str, int] = {}
        self._entries: dict[Hashable, tuple[Any, tuple[int, ...], float]] = {}
        sa.event.listen(engine, "commit", self._committing)
        sa.event.listen(engine, "checkin", self._checked_in)

    def get(self, key: Hashable, tables: Sequence[str], load: Callable[[], T],
            session: Session | None = None) -> T:
        """The value of ``key``, computed by ``load`` from ``tables`` when not cached.

        ``session`` is the caller's transaction, if any: when it has written one of the
        tables, ``load`` runs (on it) and nothing is cached.
        """
        if session is not None and session.autoflush:
            session.flush()  # changes not flushed yet count as this transaction's writes
        if self.max_age <= 0 or (session is not None and _wrote(session, tables)):
            return load()
        now = time.monotonic()
        with self._lock:
            generation = self._generation(tables)
            entry = self._entries.get(key)
        if entry is not None and entry[1] == generation and now - entry[2] <= self.max_age:
            return entry[0]
        value = load()
        if session is not None and _wrote(session, tables):
            return value  # the load itself wrote them (a flush): not committed data
        with self._lock:
            self._entries[key] = (value, generation, now)
        return value

    def _generation(self, tables: Sequence[str]) -> tuple[int, ...]:
        return (self._generations.get(ANY_TABLE, 0),
                *(self._generations.get(table, 0) for table in tables))

    def _committing(self, connection: sa.Connection) -> None:
        """A COMMIT is about to be sent: the tables the transaction wrote get a new
        generation now, so the hooks that run after the commit load them afresh."""
        self._bump(connection.info, keep=False)

    def _checked_in(self, _dbapi_connection: Any, record: Any) -> None:
        """A connection came back: its transaction is over. The tables it wrote since
        it last came back get a new generation, which every value read from them
        before this moment no longer matches."""
        if record is not None:
            self._bump(record.info, keep=True)

    def _bump(self, info: dict[str, Any], keep: bool) -> None:
        """New generations for the tables written on a connection (``info``) since the
        pool last had it back; ``keep`` makes this moment the new starting point."""
        writes = info.get(WRITES)
        if not writes:
            return
        before = info.get(_AT_CHECKIN, {})
        changed = [table for table, count in writes.items() if before.get(table, 0) != count]
        if not changed:
            return
        if keep:
            info[_AT_CHECKIN] = dict(writes)
        with self._lock:
            for table in changed:
                self._generations[table] = self._generations.get(table, 0) + 1


def _wrote(session: Session, tables: Sequence[str]) -> bool:
    """Whether the session's transaction has written any of ``tables`` (or anything a
    statement's text could not tell)."""
    if not session.in_transaction():
        return False
    info = session.connection().info
    writes, before = info.get(WRITES) or {}, info.get(_AT_CHECKIN, {})
    return any(writes.get(table, 0) != before.get(table, 0) for table in (ANY_TABLE, *tables))


def cached(session: Session, key: Hashable, tables: Sequence[str], load: Callable[[], T]) -> T:
    """``Context.cached`` for code given a session rather than a context: the value of
    ``key`` computed by ``load`` from ``tables``, kept by the process of the session's
    kernel (see ``CommittedCache.get``). A session that is not the kernel's has no cache:
    ``load`` runs every time."""
    cache = session.info.get(SESSION_CACHE)
    if cache is None:
        return load()
    return cache.get(key, tables, load, session)
