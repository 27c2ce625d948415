"""Inserting many rows with one statement, with or without their new ids back in order.

On PostgreSQL the rows travel as one JSON document (``json_to_recordset``): the SQL text
is the same however many rows there are, so the server prepares it once and the client
neither renders a ``VALUES`` list nor binds a parameter per value; ids come back from
``RETURNING`` and are put in the rows' order (the rows are inserted in that order, so
their new ids grow with it, which is also how SQLAlchemy's own "insertmanyvalues"
orders them). Other databases get SQLAlchemy's ``executemany`` (SQLite cannot promise
the order of the ids a multi-row INSERT returns, so it inserts row by row there: in
process, cheap). Values go through each column type's bind processing either way.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

_statements: dict[tuple[sa.Table, bool], Any] = {}
_documents: dict[tuple[sa.Table, tuple[str, ...], bool, str], _JsonRows] = {}
_combined: dict[str, Any] = {}


def insert_rows(session: Session, table: Any, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert ``rows`` (mappings with the same keys) into ``table`` (a table or a model)
    and return their new ids in the order of ``rows``."""
    return _insert(session, table, rows, returning=True) or []


def _insert(session: Session, table: Any, rows: Sequence[Mapping[str, Any]],
            returning: bool) -> list[int] | None:
    if not rows:
        return []
    table = getattr(table, "__table__", table)
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        document = _json_rows(table, tuple(rows[0]), returning, dialect)
        if document is not None and document.carries(rows):
            return document.insert(session, rows)
    statement = _statements.get((table, returning))
    if statement is None:
        statement = sa.insert(table)
        if returning:
            statement = statement.returning(table.c.id, sort_by_parameter_order=True)
        _statements[table, returning] = statement
    result = session.execute(statement, list(rows))
    return list(result.scalars()) if returning else None


def insert_tables(session: Session, batches: Sequence[tuple[Any, Sequence[Mapping[str, Any]],
                                                           bool]]) -> list[list[int] | None]:
    """Insert rows into several tables: ``(table, rows, returning)`` each, at most one of
    them with ``returning``; gives each batch's new ids (``None`` without ``returning``).

    On PostgreSQL it is one statement for all the tables (the others as data-modifying
    ``WITH`` parts of the one whose ids come back), so writing the audit rows and the
    events of a transaction costs one round trip.
    """
    batches = [(getattr(table, "__table__", table), rows, returning)
               for table, rows, returning in batches]
    if not all(rows for _, rows, _ in batches):
        raise ValueError("every batch needs rows")
    dialect = session.get_bind().dialect
    documents = [_json_rows(table, tuple(rows[0]), returning, dialect)
                 for table, rows, returning in batches] if dialect.name == "postgresql" else []
    together = (len(batches) > 1 and dialect.name == "postgresql" and all(documents)
                and sum(returning for _, _, returning in batches) <= 1
                and all(document.carries(rows)
                        for document, (_, rows, _) in zip(documents, batches, strict=True)))
    if not together:
        return [_insert(session, table, rows, returning) for table, rows, returning in batches]
    main = next((i for i, (_, _, returning) in enumerate(batches) if returning),
                len(batches) - 1)
    parts = [f"erp_part_{i} AS ({document.sql(f'rows_{i}')})"
             for i, document in enumerate(documents) if i != main]
    sql = f"WITH {', '.join(parts)} {documents[main].sql(f'rows_{main}')}"
    statement = _combined.get(sql)
    if statement is None:
        statement = _combined[sql] = sa.text(sql)
    result = session.execute(statement, {f"rows_{i}": document.document(rows) for i, (document, (
        _, rows, _)) in enumerate(zip(documents, batches, strict=True))})
    ids = sorted(result.scalars()) if batches[main][2] else None
    return [ids if i == main else None for i in range(len(batches))]


def _json_rows(table: sa.Table, keys: tuple[str, ...], returning: bool,
               dialect: Dialect) -> _JsonRows | None:
    """The JSON-document INSERT of these columns, built once; ``None`` when a column's
    default must be computed by SQLAlchemy."""
    document = _documents.get((table, keys, returning, dialect.name))
    if document is None:
        document = _documents[table, keys, returning, dialect.name] = _JsonRows(
            table, keys, returning, dialect)
    return document if document.defaults is not None else None


def _takes_context(default: Any) -> bool:
    """Whether a callable column default wants the statement's context (SQLAlchemy wraps
    a function of no arguments into one that ignores it, and keeps the original)."""
    return default.arg is getattr(default, "_fn", default.arg)


def _json_value(value: Any) -> Any:
    """A value JSON has no type for, as the text PostgreSQL reads for its column."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return f"{value.days} days {value.seconds} seconds {value.microseconds} microseconds"
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot send {type(value).__name__} {value!r} in a JSON row")


class _JsonRows:
    """The INSERT of one table and one set of columns, its rows in one JSON parameter."""

    def __init__(self, table: sa.Table, keys: tuple[str, ...], returning: bool,
                 dialect: Dialect) -> None:
        self.defaults: dict[str, Callable[[], Any]] | None = {}
        if any(table.c[key].name != key for key in keys):
            self.defaults = None  # a column named otherwise than its key: SQLAlchemy maps it
            return
        # JSON null becomes SQL NULL in json_to_recordset; SQLAlchemy stores JSON null for
        # None unless the type says none_as_null: rows with such a None go the other way.
        self.json_nulls = [key for key in keys if isinstance(table.c[key].type, sa.JSON)
                           and not table.c[key].type.none_as_null]
        for column in table.c:
            default = column.default
            if column.key in keys or default is None or default.is_sequence:
                continue
            if default.is_scalar:
                self.defaults[column.key] = lambda value=default.arg: value
            elif default.is_callable and not _takes_context(default):
                self.defaults[column.key] = lambda call=default.arg: call(None)
            else:  # a SQL expression, or a function of the statement's context
                self.defaults = None  # SQLAlchemy's own executemany does those
                return
        keys = (*keys, *self.defaults)
        quote = dialect.identifier_preparer.quote
        columns = ", ".join(quote(key) for key in keys)
        types = ", ".join(f"{quote(key)} {table.c[key].type.compile(dialect=dialect)}"
                          for key in keys)
        self._sql = (
            f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({columns})"
            f" SELECT {columns} FROM ROWS FROM (json_to_recordset(CAST(:{{rows}} AS json))"
            f" AS ({types})) WITH ORDINALITY AS erp_rows({columns}, erp_row)"
            " ORDER BY erp_row" + (f" RETURNING {quote(table.c.id.name)}" if returning else ""))
        self.statement = sa.text(self.sql("rows"))
        self.key_set, self.returning = frozenset(keys) - set(self.defaults), returning
        self.processors: list[tuple[str, Callable[[Any], Any]]] = []
        for key in keys:
            column_type = table.c[key].type
            if isinstance(column_type, sa.JSON | sa.LargeBinary):
                continue  # JSON already, or bytes the driver would wrap: sent as they are
            processor = column_type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors.append((key, processor))

    def carries(self, rows: Sequence[Mapping[str, Any]]) -> bool:
        """Whether these rows travel as JSON unchanged (no None for a JSON column that
        stores it as JSON null)."""
        return not self.json_nulls or all(
            row.get(key) is not None for row in rows for key in self.json_nulls)

    def sql(self, parameter: str) -> str:
        """The INSERT, taking its rows from the bind parameter ``parameter``."""
        return self._sql.format(rows=parameter)

    def insert(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int] | None:
        result = session.execute(self.statement, {"rows": self.document(rows)})
        return sorted(result.scalars()) if self.returning else None

    def document(self, rows: Sequence[Mapping[str, Any]]) -> str:
        """The rows as the JSON the statement takes, each value through its column type."""
        prepared = []
        for row in rows:
            if row.keys() != self.key_set:
                raise ValueError(f"every row must have the same keys: {sorted(self.key_set)},"
                                 f" not {sorted(row)}")
            values = dict(row)
            for key, default in self.defaults.items():
                values[key] = default()
            for key, processor in self.processors:
                try:
                    values[key] = processor(values[key])
                except Exception as exc:  # as SQLAlchemy reports a value its type refuses
                    raise sa.exc.StatementError(
                        f"({type(exc).__name__}) {exc} (column {key!r})",
                        str(self.statement), None, exc) from exc
            prepared.append(values)
        return json.dumps(prepared, default=_json_value, separators=(",", ":"))
