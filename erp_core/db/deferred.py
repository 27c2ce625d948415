"""Rows written at commit: append-only rows buffered per transaction, one INSERT per table.

The audit log and the outbox get a row for nearly every change, often several per
transaction (a transition that fires another). Inserting each at once costs a round trip
and a statement build every time; buffering them in the session and inserting them just
before the commit costs one multi-row ``INSERT`` per table instead. What the caller sees
does not change:

- the rows are in the same transaction as the change, so they exist exactly when it is
  committed;
- a rolled-back savepoint forgets the rows buffered inside it, its enclosing transaction
  keeps its own;
- a statement run through the session that reads one of the buffered tables (a Core or
  ORM ``SELECT`` naming it anywhere, or a ``text()`` statement mentioning it) writes the
  buffer first (read-your-writes). A read on ``session.connection()`` or on another
  connection does not: call ``write_deferred(session)`` before it.

The listeners are on the ``Session`` class, so every session gets this behaviour, also
one a test or a script opens itself.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.util import find_tables

from erp_core.db.batch import insert_tables

PENDING = "erp_deferred_inserts"
WRITTEN = "erp_deferred_written_in_savepoints"

Written = Callable[[int, Mapping[str, Any], Any], None]


@attrs.frozen
class _Pending:
    transaction: SessionTransaction | None
    table: sa.Table
    values: Mapping[str, Any]
    written: Written | None


def current_transaction(session: Session) -> SessionTransaction | None:
    """The innermost transaction (a savepoint, or the session's transaction)."""
    return session.get_nested_transaction() or session.get_transaction()


def inside(transaction: Any, outer: Any) -> bool:
    """Whether ``transaction`` is ``outer`` or nested in it."""
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def frozen_json(value: Any, what: str) -> Any:
    """A deep copy of a JSON value, checked now: a value that is not JSON fails where it
    was given (naming ``what``), not at commit, and later changes to the caller's dicts do
    not reach the row written at commit."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from None


def defer_insert(session: Session, table: sa.Table, values: Mapping[str, Any],
                 written: Written | None = None) -> None:
    """Insert ``values`` into ``table`` before this transaction commits.

    Every row of one table must carry the same keys. ``written(id, values, transaction)``
    is called once the row is in, with its new primary key and the transaction (or
    savepoint) it was buffered in.
    """
    transaction = current_transaction(session)
    if transaction is None:
        session.connection()  # begin the transaction the rows belong to
        transaction = current_transaction(session)
    session.info.setdefault(PENDING, []).append(_Pending(transaction, table, values, written))


def write_deferred(session: Session) -> None:
    """Insert everything buffered in the session now: one statement for all the tables
    on PostgreSQL (when at most one of them needs its new ids), else one per table.

    Rows written inside a savepoint on behalf of an enclosing transaction (a read in the
    savepoint wanted to see them) are remembered: if that savepoint rolls back, the
    database forgets them, so they go back into the buffer to be written again.
    """
    pending: list[_Pending] = session.info.pop(PENDING, None) or []
    if not pending:
        return
    written_in = current_transaction(session)
    by_table: dict[sa.Table, list[_Pending]] = {}
    for item in pending:
        by_table.setdefault(item.table, []).append(item)
    results = insert_tables(session, [
        (table, [item.values for item in items], any(item.written for item in items))
        for table, items in by_table.items()])
    for items, new_ids in zip(by_table.values(), results, strict=True):
        for item, new_id in zip(items, new_ids or [None] * len(items), strict=True):
            if item.written:
                # The row lives as long as the innermost of the two transactions.
                deeper = written_in if inside(written_in, item.transaction) \
                    else item.transaction
                item.written(new_id, item.values, deeper)
    if written_in is not None and written_in.nested:
        session.info.setdefault(WRITTEN, []).extend((written_in, item) for item in pending)


_read_tables: weakref.WeakKeyDictionary[Any, frozenset[str]] = weakref.WeakKeyDictionary()
"""The table names a statement reads, found once per statement object (a statement built
once at import is checked once, not on every execution)."""


def _tables_read(statement: Any) -> frozenset[str]:
    names = _read_tables.get(statement)
    if names is None:
        names = frozenset(getattr(table, "name", "") for table in find_tables(
            statement, include_aliases=True, include_joins=True))
        _read_tables[statement] = names
    return names


def _reads_pending(statement: Any, pending: list[_Pending]) -> bool:
    read = _tables_read(statement)
    return any(item.table.name in read for item in pending)


@sa.event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(PENDING):
        session.flush()  # what the final flush would buffer is written too
        write_deferred(session)


@sa.event.listens_for(Session, "do_orm_execute")
def _read_your_writes(state: ORMExecuteState) -> None:
    pending = state.session.info.get(PENDING)
    if not pending:
        return
    statement = state.statement
    if isinstance(statement, sa.TextClause):
        reads = any(item.table.name in statement.text for item in pending)
    else:
        reads = state.is_select and _reads_pending(statement, pending)
    if reads:
        write_deferred(state.session)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    pending = session.info.get(PENDING)
    if pending:
        pending[:] = [item for item in pending if not inside(item.transaction, previous)]
    written = session.info.get(WRITTEN)
    if written:
        lost = [item for where, item in written
                if inside(where, previous) and not inside(item.transaction, previous)]
        written[:] = [(where, item) for where, item in written if not inside(where, previous)]
        if lost:  # an enclosing transaction's rows, gone with the savepoint: again, first
            session.info.setdefault(PENDING, [])[:0] = lost


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    """Nothing buffered outlives the session's transaction (a session closed without a
    rollback, then used again, starts empty)."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)
        session.info.pop(WRITTEN, None)
