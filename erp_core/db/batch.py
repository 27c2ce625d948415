"""Inserting many rows with one statement and getting their new ids back, in order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

_statements: dict[sa.Table, Any] = {}


def insert_rows(session: Session, table: Any, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert ``rows`` (mappings with the same keys) into ``table`` (a table or a model)
    and return their new ids in the order of ``rows``.

    PostgreSQL takes them in one statement; SQLite cannot promise the order of the ids a
    multi-row INSERT returns, so SQLAlchemy inserts row by row there (in-process, cheap).
    The statement is built once per table.
    """
    if not rows:
        return []
    table = getattr(table, "__table__", table)
    statement = _statements.get(table)
    if statement is None:
        statement = _statements[table] = sa.insert(table).returning(
            table.c.id, sort_by_parameter_order=True)
    return list(session.execute(statement, list(rows)).scalars())
