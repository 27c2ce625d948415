"""PostgreSQL cursors describe their results with plain tuples, not psycopg's Columns.

SQLAlchemy reads ``cursor.description`` after every statement; psycopg's own builds an
object per column with a type lookup each. The lean one must name and type every column
exactly as psycopg's does, so everything built on it (ORM rows, text queries, RETURNING)
reads the same.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
import sqlalchemy as sa

from erp_core.db.descriptions import ColumnDescription, Description, LeanDescriptionCursor
from erp_core.db.engine import create_engine

QUERY = ("SELECT 1 AS one, 'x'::varchar(5) AS text, 2.50::numeric(10, 2) AS amount,"
         " now() AS at, NULL::json AS payload, 3, 4 AS \"Mixed Case\"")


@pytest.fixture
def engine(postgres_url):
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def test_descriptions_name_and_type_every_column_as_psycopg_does(engine, postgres_url):
    with engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute(QUERY)
        lean = cursor.description
    url = sa.make_url(postgres_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as plain:
        reference = plain.execute(QUERY).description
    assert all(type(column) is ColumnDescription for column in lean)
    assert [(c.name, c.type_code) for c in lean] == [(c.name, c.type_code) for c in reference]
    assert [tuple(c)[:2] for c in lean] == [tuple(c)[:2] for c in reference]
    assert all(len(column) == 7 for column in lean)


def test_statements_without_rows_have_no_description(engine):
    with engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()
        assert isinstance(cursor, LeanDescriptionCursor)
        cursor.execute("CREATE TEMPORARY TABLE t (id integer)")
        assert cursor.description is None
        cursor.execute("SELECT")  # a result with no columns still describes its rows
        assert cursor.description == []


def test_sqlalchemy_reads_rows_through_them(engine):
    table = sa.Table("described", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("amount", sa.Numeric(10, 2)),
                     sa.Column("at", sa.DateTime(timezone=True)), prefixes=["TEMPORARY"])
    at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    with engine.begin() as connection:
        table.create(connection)
        inserted = connection.execute(sa.insert(table).values(amount=Decimal("1.25"), at=at)
                                      .returning(table.c.id, table.c.amount)).one()
        assert inserted._mapping == {"id": 1, "amount": Decimal("1.25")}
        row = connection.execute(sa.text("SELECT amount AS a, at FROM described")).one()
        assert row.a == Decimal("1.25")
        assert row.at == at


def test_a_statement_sqlalchemy_has_met_before_never_builds_its_description(engine,
                                                                            monkeypatch):
    built = []
    columns = Description._columns

    def spied(self):
        if self._built is None:
            built.append(len(self))
        return columns(self)

    monkeypatch.setattr(Description, "_columns", spied)
    statement = sa.select(sa.literal(1).label("one"), sa.literal("x").label("two"))
    with engine.connect() as connection:
        assert connection.execute(statement).one() == (1, "x")  # first time: read
        assert built == [2]
        for _ in range(3):
            assert connection.execute(statement).one()._mapping == {"one": 1, "two": "x"}
    assert built == [2]
