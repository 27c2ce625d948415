"""Many rows in one INSERT (``erp_sdk.insert_rows``; the audit log and the outbox at
commit): every value arrives as its column type stores it, and the new ids come back in
the rows' order. On PostgreSQL the rows travel as one JSON document."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from erp_core.db.batch import insert_rows, insert_tables
from erp_core.db.types import AwareDateTime, ExactNumeric, utcnow
from erp_core.kernel import Kernel

PROBE = sa.Table(
    "batch_probe", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("label", sa.String(40), nullable=False),
    sa.Column("amount", ExactNumeric(18, 4)),
    sa.Column("at", AwareDateTime()),
    sa.Column("count", sa.Integer),
    sa.Column("flag", sa.Boolean),
    sa.Column("data", sa.JSON),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("made_at", AwareDateTime(), nullable=False, default=utcnow),
)
OTHER_TYPES = sa.Table(
    "batch_probe_types", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.Uuid),
    sa.Column("blob", sa.LargeBinary),
    sa.Column("wait", sa.Interval),
    sa.Column("day", sa.Date),
)
WITH_SQL_DEFAULT = sa.Table(
    "batch_probe_sql_default", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("label", sa.String(40), nullable=False),
    sa.Column("shout", sa.String(40), nullable=False, default=sa.func.upper("hey")),
)
WHEN = dt.datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))


@pytest.fixture
def engine(kernel: Kernel) -> sa.Engine:
    PROBE.create(kernel.engine)
    WITH_SQL_DEFAULT.create(kernel.engine)
    OTHER_TYPES.create(kernel.engine)
    return kernel.engine


def rows(count: int) -> list[dict]:
    return [{"label": f"row {n} \"quoted\" ünï", "amount": Decimal(f"{n}.0105"),
             "at": WHEN + dt.timedelta(seconds=n), "count": n if n % 3 else None,
             "flag": n % 2 == 0, "data": {"n": n, "nested": [1, "two", None]}}
            for n in range(count)]


def stored(session: Session, ids: list[int]) -> list[dict]:
    found = {row.id: row._asdict() for row in session.execute(
        sa.select(PROBE).where(PROBE.c.id.in_(ids)))}
    return [found[i] for i in ids]


@pytest.mark.parametrize("count", [1, 2, 57])
def test_ids_come_back_in_the_rows_order_with_every_value_as_given(engine, count):
    given = rows(count)
    with Session(engine) as session, session.begin():
        session.execute(sa.insert(PROBE), rows(3))  # ids that are not 1..n
        ids = insert_rows(session, PROBE, given)
        assert len(set(ids)) == count
        back = stored(session, ids)
    for row, original in zip(back, given, strict=True):
        assert row.pop("id")
        made_at = row.pop("made_at")  # the columns' own defaults, as SQLAlchemy applies them
        assert made_at.tzinfo is dt.UTC and row.pop("version") == 1
        assert row == {**original, "at": original["at"].astimezone(dt.UTC)}


def test_rows_without_ids_back_are_inserted_alike(engine):
    with Session(engine) as session, session.begin():
        assert insert_tables(session, [(PROBE, rows(4), False)]) == [None]
        labels = session.scalars(sa.select(PROBE.c.label).order_by(PROBE.c.id)).all()
    assert labels == [row["label"] for row in rows(4)]
    with Session(engine) as session, session.begin():
        assert insert_rows(session, PROBE, []) == []


def test_the_column_types_still_check_the_values(engine):
    naive = dt.datetime(2026, 1, 1)  # noqa: DTZ001  (the mistake under test)
    with (Session(engine) as session, session.begin(),
          pytest.raises(sa.exc.StatementError, match="naive datetime")):
        insert_rows(session, PROBE, [{**rows(1)[0], "at": naive}])
    with (Session(engine) as session, session.begin(),
          pytest.raises(sa.exc.StatementError, match="float")):
        insert_rows(session, PROBE, [{**rows(1)[0], "amount": 1.5}])


def test_rows_must_share_their_keys(engine):
    first, second = rows(2)
    del second["flag"]
    with (Session(engine) as session, session.begin(),
          pytest.raises((ValueError, sa.exc.StatementError))):
        insert_rows(session, PROBE, [first, second])


def test_on_postgresql_the_statement_is_the_same_whatever_the_number_of_rows(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes the rows one by one through SQLAlchemy's executemany")
    sent: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: sent.append(sql))
    with Session(engine) as session, session.begin():
        for count in (1, 5, 200):
            insert_rows(session, PROBE, rows(count))
    assert len(sent) == 3 and len(set(sent)) == 1  # one statement each, prepared once


def test_a_default_computed_by_the_database_is_applied_too(engine):
    with Session(engine) as session, session.begin():
        ids = insert_rows(session, WITH_SQL_DEFAULT, [{"label": "a"}, {"label": "b"}])
        shouts = session.execute(sa.select(WITH_SQL_DEFAULT.c.label, WITH_SQL_DEFAULT.c.shout)
                                 .where(WITH_SQL_DEFAULT.c.id.in_(ids))
                                 .order_by(WITH_SQL_DEFAULT.c.id)).all()
    assert [tuple(row) for row in shouts] == [("a", "HEY"), ("b", "HEY")]


def test_several_tables_at_once_each_get_their_rows(engine):
    sent: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: sent.append(sql))
    with Session(engine) as session, session.begin():
        probe_ids, other = insert_tables(session, [
            (PROBE, rows(3), True), (PROBE, rows(2), False)])
        assert other is None and len(probe_ids) == 3
        assert [row["label"] for row in stored(session, probe_ids)] == [
            row["label"] for row in rows(3)]
        assert session.scalar(sa.select(sa.func.count()).select_from(PROBE)) == 5
        both = insert_tables(session, [(PROBE, rows(1), True), (PROBE, rows(2), True)])
        assert [len(ids) for ids in both] == [1, 2] and not set(both[0]) & set(both[1])
    if engine.dialect.name == "postgresql":
        inserts = [sql for sql in sent if "INSERT INTO" in sql]
        assert len(inserts) == 3  # one for the first pair; with ids of both: one each


def test_none_in_a_json_column_is_stored_as_sqlalchemy_stores_it(engine):
    """JSON null, not SQL NULL (the column's type does not say none_as_null)."""
    with Session(engine) as session, session.begin():
        ids = insert_rows(session, PROBE, [{**rows(1)[0], "data": None}])
        is_sql_null = session.scalar(sa.select(sa.text("data IS NULL")).select_from(PROBE)
                                     .where(PROBE.c.id == ids[0]))
    assert not is_sql_null


def test_uuids_bytes_intervals_and_dates_arrive_as_given(engine):
    given = [{"key": uuid.UUID(int=n + 1), "blob": bytes([0, n, 255]),
              "wait": dt.timedelta(hours=n, microseconds=5), "day": dt.date(2026, 2, n + 1)}
             for n in range(3)]
    with Session(engine) as session, session.begin():
        ids = insert_rows(session, OTHER_TYPES, given)
        back = session.execute(sa.select(OTHER_TYPES.c.key, OTHER_TYPES.c.blob,
                                         OTHER_TYPES.c.wait, OTHER_TYPES.c.day)
                               .where(OTHER_TYPES.c.id.in_(ids)).order_by(OTHER_TYPES.c.id))
        assert [row._asdict() for row in back] == given
