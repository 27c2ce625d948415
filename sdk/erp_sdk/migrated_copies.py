"""Migrated test databases, made once per test process and plugin set, then reused.

Running a plugin set's migrations is most of what a test's set-up costs (dozens of
``CREATE TABLE`` statements, seconds on PostgreSQL). The test kit's
``erp_kernel_factory`` therefore migrates a set once and starts every later test asking
for the same set from exactly what those migrations produced:

- SQLite: the migrated file is kept and copied (SQLite's backup API) over the test's
  new, empty database file.
- PostgreSQL: a finished test's schema is restored to what the migrations left (every
  table emptied, the rows the migrations wrote copied back, every sequence set back)
  and renamed to the schema of the next test that asks for the set. A schema whose
  test changed its tables, or that cannot be restored within a few seconds (a
  connection still holds a lock on it), is dropped instead, as before.

A set is told apart by the plugins asked for and by ``sys.path``, since a test that puts
other plugin folders on it discovers other code.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

Key = tuple[object, ...]


SCHEMA_OPTION = "-csearch_path="
"""How a test's PostgreSQL URL names its schema: ``?options=-csearch_path=NAME``."""


def key_of(plugins: Iterable[str]) -> Key:
    return tuple(sorted(plugins)), tuple(sys.path)


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) else None


def libpq_url(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def connect(server: str) -> Any:
    import psycopg

    return psycopg.connect(server)


def postgres_schema(url: str) -> tuple[str, str] | None:
    """The server (a libpq URL) and the schema of a test's PostgreSQL URL."""
    parsed = sa.make_url(url)
    options = parsed.query.get("options")
    if parsed.get_backend_name() != "postgresql" or not isinstance(options, str) \
            or not options.startswith(SCHEMA_OPTION):
        return None
    return libpq_url(parsed.difference_update_query(["options"])), options[len(SCHEMA_OPTION):]


def is_empty(url: str) -> bool:
    """Whether the test database of ``url`` has nothing in it yet."""
    database = _sqlite_file(url)
    if database is not None:
        return not database.exists()
    found = postgres_schema(url)
    if found is None:
        return False
    server, schema = found
    with connect(server) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s", (schema,)).fetchone()[0] == 0


def start_from_copy(key: Key, url: str) -> bool:
    """Make the empty test database of ``url`` a copy of the set's migrated one, if this
    process has one; ``False`` when it has none yet."""
    database = _sqlite_file(url)
    if database is not None:
        return SQLITE.restore(key, database)
    found = postgres_schema(url)
    if found is None:
        return False
    server, schema = found
    with connect(server) as connection:
        return POSTGRES.take(connection, key, schema)


def keep_copy(key: Key, url: str) -> None:
    """The test database of ``url`` was just migrated for the set: keep what that made."""
    database = _sqlite_file(url)
    if database is not None:
        SQLITE.keep(key, database)
        return
    found = postgres_schema(url)
    if found is not None:
        server, schema = found
        with connect(server) as connection:
            POSTGRES.migrated(connection, key, schema)


class SqliteCopies:
    """Migrated SQLite files by plugin set."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._files: dict[Key, Path] = {}

    def restore(self, key: Key, database: Path) -> bool:
        kept = self._files.get(key)
        if kept is None:
            return False
        _copy_sqlite(kept, database)
        return True

    def keep(self, key: Key, database: Path) -> None:
        if key in self._files:
            return
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="erp-migrated-"))
            atexit.register(shutil.rmtree, self._folder, True)
        kept = self._folder / f"{len(self._files)}.db"
        _copy_sqlite(database, kept)
        self._files[key] = kept


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (which reads through the WAL)."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as copy:
        reading.backup(copy)


@attrs.frozen
class Snapshot:
    """What a plugin set's migrations leave in a schema: its tables in an order that
    satisfies their foreign keys, the rows of those that have any (``COPY`` text), and
    every sequence's position."""

    tables: tuple[str, ...]
    rows: dict[str, bytes]
    sequences: dict[str, tuple[int, bool]]


_TABLES = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') ORDER BY c.relname"""
_FOREIGN_KEYS = """
    SELECT child.relname, parent.relname FROM pg_constraint k
    JOIN pg_class child ON child.oid = k.conrelid
    JOIN pg_class parent ON parent.oid = k.confrelid
    JOIN pg_namespace n ON n.oid = child.relnamespace
    WHERE k.contype = 'f' AND n.nspname = %(schema)s"""
_SEQUENCES = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = %(schema)s AND c.relkind = 'S' ORDER BY c.relname"""


def _quoted(schema: str, name: str) -> str:
    return '"{}"."{}"'.format(schema.replace('"', '""'), name.replace('"', '""'))


def _in_dependency_order(tables: list[str], references: list[tuple[str, str]]) -> list[str]:
    """Referenced tables before the tables referring to them (self-references ignored)."""
    parents: dict[str, set[str]] = {table: set() for table in tables}
    for child, parent in references:
        if child != parent and child in parents and parent in parents:
            parents[child].add(parent)
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in placed and parents[t] <= placed]
        if not ready:  # a cycle of foreign keys: keep the rest as they are
            ready = [t for t in tables if t not in placed]
        ordered.extend(ready)
        placed.update(ready)
    return ordered


def _names(cursor: Any, query: str, schema: str) -> list[str]:
    cursor.execute(query, {"schema": schema})
    return [row[0] for row in cursor.fetchall()]


def take_snapshot(connection: Any, schema: str) -> Snapshot:
    """``connection``: a psycopg connection (in a transaction the caller ends)."""
    with connection.cursor() as cursor:
        tables = _names(cursor, _TABLES, schema)
        cursor.execute(_FOREIGN_KEYS, {"schema": schema})
        ordered = _in_dependency_order(tables, [tuple(row) for row in cursor.fetchall()])
        rows: dict[str, bytes] = {}
        for table in ordered:
            with cursor.copy(f"COPY {_quoted(schema, table)} TO STDOUT") as copy:
                data = b"".join(bytes(block) for block in copy)
            if data:
                rows[table] = data
        sequences: dict[str, tuple[int, bool]] = {}
        for sequence in _names(cursor, _SEQUENCES, schema):
            cursor.execute(f"SELECT last_value, is_called FROM {_quoted(schema, sequence)}")
            last_value, is_called = cursor.fetchone()
            sequences[sequence] = (last_value, is_called)
    return Snapshot(tuple(ordered), rows, sequences)


def _restore(connection: Any, schema: str, snapshot: Snapshot) -> bool:
    """Put ``schema`` back as the snapshot has it; ``False`` when its tables or sequences
    are no longer the snapshot's (the test changed them)."""
    with connection.cursor() as cursor:
        if sorted(_names(cursor, _TABLES, schema)) != sorted(snapshot.tables) or \
                sorted(_names(cursor, _SEQUENCES, schema)) != sorted(snapshot.sequences):
            return False
        # Row by row rather than TRUNCATE, which makes new files for every table and
        # index and costs seconds; as the replication role, so that neither foreign keys
        # nor triggers (posted rows that refuse deletion) stand in the way.
        cursor.execute("SET LOCAL lock_timeout = '5s';"
                       " SET LOCAL session_replication_role = replica;"
                       + "".join(f" DELETE FROM {_quoted(schema, t)};" for t in snapshot.tables))
        for table in snapshot.tables:
            data = snapshot.rows.get(table)
            if data:
                with cursor.copy(f"COPY {_quoted(schema, table)} FROM STDIN") as copy:
                    copy.write(data)
        if snapshot.sequences:
            positions = ", ".join(
                f"setval('{_quoted(schema, name)}', {value}, {str(called).lower()})"
                for name, (value, called) in snapshot.sequences.items())
            cursor.execute(f"SELECT {positions}")
    return True


class PostgresSchemas:
    """Migrated PostgreSQL schemas by plugin set: a snapshot of what the set's migrations
    left, and the schemas of finished tests restored to it, free for the next test."""

    def __init__(self) -> None:
        self._snapshots: dict[Key, Snapshot] = {}
        self._free: dict[Key, list[str]] = {}
        self._in_use: dict[str, Key] = {}
        self._server: str | None = None
        atexit.register(self._drop_free)

    def take(self, connection: Any, key: Key, schema: str) -> bool:
        """Replace the empty ``schema`` by a free migrated one of the set, if there is one
        (``connection``: psycopg, autocommit off; committed here)."""
        free = self._free.get(key)
        if not free:
            return False
        kept = free.pop()
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{schema}"')
            cursor.execute(f'ALTER SCHEMA "{kept}" RENAME TO "{schema}"')
        connection.commit()
        self._in_use[schema] = key
        return True

    def migrated(self, connection: Any, key: Key, schema: str) -> None:
        """``schema`` was just migrated for the set: remember what that left (first time)
        and that the schema may be reused once its test ends."""
        if key not in self._snapshots:
            self._snapshots[key] = take_snapshot(connection, schema)
            connection.commit()
        self._in_use[schema] = key

    def release_or_drop(self, server: str, schema: str) -> None:
        """At the end of the test owning ``schema``: restore it and keep it free for its
        set, or drop it when it is not reusable."""
        with connect(server) as connection:
            if self._release(connection, schema, server):
                return
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            connection.commit()

    def _release(self, connection: Any, schema: str, server: str) -> bool:
        key = self._in_use.pop(schema, None)
        if key is None:
            return False
        self._server = server
        try:
            if not _restore(connection, schema, self._snapshots[key]):
                connection.rollback()
                return False
            free = f"erp_test_free_{uuid.uuid4().hex[:12]}"
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{free}"')
            connection.commit()
        except Exception:
            connection.rollback()
            return False
        self._free.setdefault(key, []).append(free)
        return True

    def _drop_free(self) -> None:
        schemas = [name for names in self._free.values() for name in names]
        if not schemas or self._server is None:
            return
        try:
            with connect(self._server) as connection:
                for name in schemas:
                    connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
                connection.commit()
        except Exception:  # the server is gone at exit: nothing left to tidy
            pass


SQLITE = SqliteCopies()
POSTGRES = PostgresSchemas()
