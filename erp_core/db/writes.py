"""Which tables a connection has written: a counter per table, bumped by every statement.

A record the current transaction has locked or written cannot be changed by anyone
else until the transaction ends, so a copy of it stays exact as long as this
connection has not written its tables since the copy was taken. The counters tell
that without parsing statements in the callers: every statement sent on a connection
of an engine given to ``track_writes`` is classified once per distinct SQL text (ORM
flushes, Core statements, ``text()`` and driver SQL alike):

- ``SELECT`` and transaction control (``BEGIN``, ``SAVEPOINT``, ``RELEASE``, ``COMMIT``,
  ``SET``, ``SHOW``, ``PRAGMA``) write nothing;
- a ``WITH`` query that has no ``INSERT INTO``, ``DELETE FROM`` or ``UPDATE t SET`` in
  it is a read too (``FOR UPDATE`` is not a write);
- ``INSERT INTO t``, ``UPDATE t``, ``DELETE FROM t`` write ``t``;
- anything else (a data-modifying ``WITH``, ``ROLLBACK TO SAVEPOINT``, DDL, ...) may
  write anything: it bumps every table at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

WRITES = "erp_table_writes"
ANY_TABLE = "*"

_READS = re.compile(r"\s*(SELECT|BEGIN|SAVEPOINT|RELEASE|COMMIT|SET|SHOW|PRAGMA)\b",
                    re.IGNORECASE)
_WRITES = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?([\w.]+)"?',
                     re.IGNORECASE)
_WITH = re.compile(r"\s*WITH\b", re.IGNORECASE)
_MODIFIES = re.compile(r'\b(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+"?[\w.]+"?\s+SET)\b',
                       re.IGNORECASE)
_classified: dict[str, str | None] = {}


def written_table(statement: str) -> str | None:
    """The table a statement writes, ``None`` for one that writes nothing, and
    ``ANY_TABLE`` when that cannot be told from its text."""
    try:
        return _classified[statement]
    except KeyError:
        pass
    if _READS.match(statement) or (_WITH.match(statement)
                                   and not _MODIFIES.search(statement)):
        table: str | None = None
    else:
        match = _WRITES.match(statement)
        table = match.group(1).rpartition(".")[2] if match else ANY_TABLE
    if len(_classified) < 10_000:  # statements are few and reused; text built per call is not
        _classified[statement] = table
    return table


def _count(conn: sa.Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    table = written_table(statement)
    if table is not None:
        writes = conn.info.get(WRITES)
        if writes is None:
            writes = conn.info[WRITES] = {}
        writes[table] = writes.get(table, 0) + 1


def track_writes(engine: sa.Engine) -> None:
    """Count the writes of every connection of ``engine`` (see ``writes_to``)."""
    if not sa.event.contains(engine, "before_cursor_execute", _count):
        sa.event.listen(engine, "before_cursor_execute", _count)


def writes_to(connection: sa.Connection, tables: Iterable[str]) -> tuple[int, ...]:
    """A mark of what ``connection`` has written to ``tables`` so far: two equal marks
    mean no statement between them may have written any of the tables."""
    writes = connection.info.get(WRITES) or {}
    return (writes.get(ANY_TABLE, 0), *(writes.get(table, 0) for table in tables))
