"""Transient conflicts: the database errors that mean "run the same work again".

PostgreSQL aborts one of two transactions that wait for each other's locks (deadlock)
and, under stricter isolation, one that read what another changed (serialization
failure). Neither says anything about the request: the transaction was rolled back,
and the same work run again from its start normally succeeds. Such errors are raised as
``TransientConflict`` so that the runners that own a whole unit of work (``Kernel.run``,
each HTTP request) run it again, with a short random pause so that the two transactions
that clashed do not meet again at once, as Odoo and Tryton do; unless the work had
already committed a transaction that wrote (``committed_writes``), which running it
again would repeat.

A connection lost in the middle of the work (the server restarted, an administrator ran
``pg_terminate_backend``) is one too: its transaction is gone, uncommitted, and the pool
opens another connection for the next attempt. And a value the database refuses (SQLSTATE
class 22: an integer out of its column's range, a NUL character in text) is the caller's
bad input, raised as ``ValidationError`` with the database's one-line reason (never the
statement or its parameters), so it is a 422 and not a 500; so is an integer too large
for SQLite's driver to send.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa

from erp_core.db.writes import WRITES
from erp_core.errors import ErpError, TransientConflict, ValidationError

# deadlock_detected, serialization_failure
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def translate_transient(context: Any) -> ErpError | None:
    """SQLAlchemy ``handle_error`` listener: a transient error of the driver, or a lost
    connection, becomes a ``TransientConflict``, a refused value a ``ValidationError``
    (the driver's error stays their ``__cause__``)."""
    original = context.original_exception
    if context.is_disconnect:
        lost = TransientConflict(
            "the connection to the database was lost in the middle of this request; send"
            " it again (with an Idempotency-Key, a repeat does nothing twice)")
        lost.__cause__ = original
        return lost
    if isinstance(context.sqlalchemy_exception, sa.exc.DataError) or isinstance(
            original, OverflowError):  # SQLite's driver: an integer beyond 64 bits
        refused = ValidationError(
            f"the database refuses a value of this request: {_first_line(original)}",
            {"body": _first_line(original)})
        refused.__cause__ = original
        return refused
    if getattr(original, "sqlstate", None) not in TRANSIENT_SQLSTATES:
        return None
    first_line = _first_line(original) if str(original).strip() else ""
    conflict = TransientConflict(
        f"the database stopped this transaction because it clashed with a concurrent one"
        f" ({first_line}); it was rolled back, send the same request again")
    conflict.__cause__ = original
    return conflict


def pause_before(attempt: int) -> float:
    """Seconds to wait before running work again after its ``attempt``-th try failed:
    random, growing with the attempts (at most 0.4 s after the fourth)."""
    return random.uniform(0.0, 0.025 * 2 ** min(attempt, 4))


_COMMITS: ContextVar[tuple[list[None], ...]] = ContextVar("erp_committed_writes", default=())
_WRITES_AT_BEGIN = "erp_writes_at_begin"


@contextmanager
def committed_writes() -> Iterator[list[None]]:
    """A list that gets an item for each transaction that wrote and committed while the
    block runs, in its thread or in threads it starts (``anyio.to_thread`` carries the
    context), nested blocks included: a runner may not run work again once part of it
    is committed. A COMMIT that fails counts too (the event comes before it is sent),
    which errs on the side of not running work again."""
    commits: list[None] = []
    token = _COMMITS.set((*_COMMITS.get(), commits))
    try:
        yield commits
    finally:
        _COMMITS.reset(token)


def _writes(connection: sa.Connection) -> int:
    return sum((connection.info.get(WRITES) or {}).values())


def _begin(connection: sa.Connection) -> None:
    if _COMMITS.get():
        connection.info[_WRITES_AT_BEGIN] = _writes(connection)


def _commit(connection: sa.Connection) -> None:
    watching = _COMMITS.get()
    if watching and _writes(connection) != connection.info.get(_WRITES_AT_BEGIN):
        for commits in watching:
            commits.append(None)


def track_commits(engine: sa.Engine) -> None:
    """Let ``committed_writes`` see the transactions of ``engine`` (whose writes
    ``erp_core.db.writes.track_writes`` counts)."""
    sa.event.listen(engine, "begin", _begin)
    sa.event.listen(engine, "commit", _commit)
