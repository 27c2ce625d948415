"""Which tables a connection has written: a counter per table, bumped by every statement.

A record the current transaction has locked or written cannot be changed by anyone
else until the transaction ends, so a copy of it stays exact as long as this
connection has not written its tables since the copy was taken. The counters tell
that without parsing statements in the callers: every statement sent on a connection
of an engine given to ``track_writes`` is classified once per distinct SQL text (ORM
flushes, Core statements, ``text()`` and driver SQL alike):

- ``SELECT`` and transaction control (``BEGIN``, ``SAVEPOINT``, ``RELEASE``, ``COMMIT``,
  ``SET``, ``SHOW``, ``PRAGMA``) write nothing;
- a ``WITH`` statement writes the tables named by the ``INSERT INTO``, ``UPDATE`` and
  ``DELETE FROM`` in it (none: a read; ``FOR UPDATE`` is no write), any with a ``MERGE``;
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
_MODIFIES = re.compile(r'\b(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE(?!\s+(?:OF|NOWAIT|SKIP|SET)\b))'
                       r'\s+"?(?:\w+\.)?(\w+)', re.IGNORECASE)
_MERGE = re.compile(r"\bMERGE\b", re.IGNORECASE)
_classified: dict[str, tuple[str, ...]] = {}


def written_tables(statement: str) -> tuple[str, ...]:
    """The tables a statement writes: none for a read, ``(ANY_TABLE,)`` when that cannot
    be told from its text."""
    try:
        return _classified[statement]
    except KeyError:
        pass
    tables: tuple[str, ...]
    if _READS.match(statement):
        tables = ()
    elif _WITH.match(statement):
        found = _MODIFIES.findall(statement)
        tables = (ANY_TABLE,) if _MERGE.search(statement) else tuple(sorted(set(found)))
    else:
        match = _WRITES.match(statement)
        tables = (match.group(1).rpartition(".")[2],) if match else (ANY_TABLE,)
    if len(_classified) < 10_000:  # statements are few and reused; text built per call is not
        _classified[statement] = tables
    return tables


def _count(conn: sa.Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    tables = written_tables(statement)
    if tables:
        writes = conn.info.get(WRITES)
        if writes is None:
            writes = conn.info[WRITES] = {}
        for table in tables:
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
