"""Cheap ``cursor.description`` for psycopg 3.

SQLAlchemy reads ``cursor.description`` after every statement, and psycopg builds a
``Column`` object per result column for it, each looking its type up in the adapters
map: 7% of the client's instructions on the order flow, most of it for the columns a
``RETURNING`` sends back. The cursor here builds plain named tuples from the
result's names and type oids instead; SQLAlchemy reads nothing else from them. The
fields psycopg would compute from the type (display size, precision, scale) are
``None``, which DB-API 2 allows.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import psycopg
from psycopg.pq import ExecStatus

_RESULTS_WITH_ROWS = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class ColumnDescription(NamedTuple):
    """One column of ``cursor.description``, indexed and named as DB-API 2 says."""

    name: str
    type_code: int
    display_size: int | None = None
    internal_size: int | None = None
    precision: int | None = None
    scale: int | None = None
    null_ok: bool | None = None


class LeanDescriptionCursor(psycopg.Cursor[Any]):
    """A psycopg cursor whose ``description`` costs a tuple per column."""

    @property
    def description(self) -> list[ColumnDescription] | None:  # type: ignore[override]
        result = self.pgresult
        if not result or not (result.nfields or result.status in _RESULTS_WITH_ROWS):
            return None
        encoding = self._encoding
        return [ColumnDescription(_name(result.fname(index), index, encoding),
                                  result.ftype(index))
                for index in range(result.nfields)]


def _name(raw: bytes | None, index: int, encoding: str) -> str:
    return raw.decode(encoding) if raw else f"column_{index + 1}"  # as psycopg names it


def use_lean_descriptions(dbapi_connection: Any, _record: Any) -> None:
    """Engine ``connect`` listener: new client-side cursors are lean ones."""
    dbapi_connection.cursor_factory = LeanDescriptionCursor
