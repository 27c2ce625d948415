"""The test kit's migrated copies: a test database made from another test's migrations
holds exactly what the migrations left (their rows, sequences from the start), nothing a
previous test wrote; a PostgreSQL schema whose tables a test changed is not reused."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from erp_core.kernel import Kernel
from erp_core.settings import Settings
from erp_sdk import migrated_copies
from erp_sdk.testing import DATABASE_URL_VARIABLE

PLUGINS = ["inventory"]


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """``empty_database()``: the URL of a new empty database (a file, or a schema)."""
    server = os.environ.get(DATABASE_URL_VARIABLE)
    made: list[str] = []

    def make() -> str:
        name = f"erp_test_{uuid.uuid4().hex[:12]}"
        if not server:
            return f"sqlite:///{tmp_path / name}.db"
        with migrated_copies.connect(migrated_copies.libpq_url(sa.make_url(server))) as c:
            c.execute(f'CREATE SCHEMA "{name}"')
            c.commit()
        made.append(name)
        return sa.make_url(server).set(drivername="postgresql+psycopg").update_query_dict(
            {"options": f"{migrated_copies.SCHEMA_OPTION}{name}"}).render_as_string(
            hide_password=False)

    yield make
    if server:
        with migrated_copies.connect(migrated_copies.libpq_url(sa.make_url(server))) as c:
            for name in made:
                c.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            c.commit()


def kernel_on(url: str) -> Kernel:
    return Kernel(Settings.from_env({}, database_url=url))


def warehouses(kernel: Kernel) -> list[tuple[int, str]]:
    with kernel.context() as erp:
        return [(w["id"], w["code"]) for w in
                erp.records("inventory.warehouse").list([("limit", "50")])["items"]]


def add_warehouse(kernel: Kernel, code: str) -> int:
    with kernel.context() as erp:
        return erp.records("inventory.warehouse").create({"code": code, "name": code})["id"]


def release(url: str) -> None:
    """What the end of a test does with its database (PostgreSQL: restore or drop)."""
    found = migrated_copies.postgres_schema(url)
    if found is not None:
        migrated_copies.POSTGRES.release_or_drop(*found)


def test_a_copy_holds_what_the_migrations_left_and_nothing_a_test_wrote(empty_database):
    key = (*migrated_copies.key_of(PLUGINS), uuid.uuid4().hex)
    first_url = empty_database()
    first = kernel_on(first_url)
    first.initialise()
    first.enable(PLUGINS)
    migrated_copies.keep_copy(key, first_url)
    first.boot()
    first_id = add_warehouse(first, "FIRST")
    add_warehouse(first, "SECOND")
    first.close()
    release(first_url)

    second_url = empty_database()
    assert migrated_copies.is_empty(second_url)
    assert migrated_copies.start_from_copy(key, second_url)
    second = kernel_on(second_url).boot()
    try:
        assert second.enabled_names() == ["inventory"]  # the migrations' own rows
        assert second.pending_migrations() == []
        assert warehouses(second) == []  # nothing the first test wrote
        assert add_warehouse(second, "AGAIN") == first_id  # sequences from the start
    finally:
        second.close()
    release(second_url)


def test_a_copy_is_not_made_for_a_set_never_migrated(empty_database):
    key = (*migrated_copies.key_of(PLUGINS), uuid.uuid4().hex)
    assert not migrated_copies.start_from_copy(key, empty_database())


@pytest.mark.skipif(not os.environ.get(DATABASE_URL_VARIABLE),
                    reason="needs PostgreSQL: set ERP_TEST_DATABASE_URL (SQLite files are"
                           " copied, never reused)")
def test_a_schema_whose_tables_a_test_changed_is_dropped_not_reused(empty_database):
    key = (*migrated_copies.key_of(PLUGINS), uuid.uuid4().hex)
    url = empty_database()
    kernel = kernel_on(url)
    kernel.initialise()
    kernel.enable(PLUGINS)
    migrated_copies.keep_copy(key, url)
    with kernel.engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE scratch (id integer)"))
    kernel.close()
    server, schema = migrated_copies.postgres_schema(url)
    migrated_copies.POSTGRES.release_or_drop(server, schema)
    with migrated_copies.connect(server) as connection:
        assert connection.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s",
                                  (schema,)).fetchone()[0] == 0
    assert not migrated_copies.start_from_copy(key, empty_database())
