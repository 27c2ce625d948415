"""Cheap ``cursor.description`` for psycopg 3.

SQLAlchemy reads ``cursor.description`` after every statement, and psycopg builds a
``Column`` object per result column for it, each looking its type up in the adapters
map: 7% of the client's instructions on the order flow, most of it for the columns a
``RETURNING`` sends back. Yet SQLAlchemy looks into the description only for a
statement whose result columns it has not met before; for the others it only asks
whether there is one. The cursor here hands out a description built on first use, of
plain named tuples from the result's names and type oids, the only fields SQLAlchemy
reads. The other five (display size, internal size, precision, scale, null_ok) are
``None``, which DB-API 2 allows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, overload

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


class Description(Sequence[ColumnDescription]):
    """A result's ``cursor.description``, built on first use: SQLAlchemy looks into it
    only for a statement whose result columns it has not seen before, and otherwise
    only asks whether there is one."""

    __slots__ = ("_built", "_encoding", "_result")

    def __init__(self, result: Any, encoding: str) -> None:
        self._result, self._encoding = result, encoding
        self._built: list[ColumnDescription] | None = None

    def _columns(self) -> list[ColumnDescription]:
        if self._built is None:
            result, encoding = self._result, self._encoding
            self._built = [ColumnDescription(_name(result.fname(index), index, encoding),
                                             result.ftype(index))
                           for index in range(result.nfields)]
        return self._built

    def __len__(self) -> int:
        return self._result.nfields if self._built is None else len(self._built)

    @overload
    def __getitem__(self, index: int) -> ColumnDescription: ...
    @overload
    def __getitem__(self, index: slice) -> list[ColumnDescription]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return self._columns()[index]

    def __iter__(self) -> Iterator[ColumnDescription]:
        return iter(self._columns())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return self._columns() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared by value, like the list it stands for

    def __repr__(self) -> str:
        return repr(self._columns())


class LeanDescriptionCursor(psycopg.Cursor[Any]):
    """A psycopg cursor whose ``description`` costs nothing until it is read."""

    @property
    def description(self) -> Description | None:  # type: ignore[override]
        result = self.pgresult
        if not result or not (result.nfields or result.status in _RESULTS_WITH_ROWS):
            return None
        return Description(result, self._encoding)


def _name(raw: bytes | None, index: int, encoding: str) -> str:
    return raw.decode(encoding) if raw else f"column_{index + 1}"  # as psycopg names it


def use_lean_descriptions(dbapi_connection: Any, _record: Any) -> None:
    """Engine ``connect`` listener: new client-side cursors are lean ones."""
    dbapi_connection.cursor_factory = LeanDescriptionCursor
