"""Exchange rates move to the kernel's table, shared with every plugin

The rates of ``finance_currency_rate`` quote the books' currency; they are copied into
``kernel_exchange_rate`` with that quote currency, and the finance table is dropped. The
books are the authority on rates: where another plugin brought a rate for the same
currencies and day first, finance's replaces it.

Revision ID: fin0004
Revises: fin0003
Create Date: 2026-12-07T10:10:00+00:00
"""

import datetime as dt
import os

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "fin0004"
down_revision = "fin0003"
branch_labels = None
depends_on = None

_finance_rates = sa.table(
    "finance_currency_rate", sa.column("currency", sa.String(3)), sa.column("day", sa.Date()),
    sa.column("rate", ExactNumeric(20, 10)), sa.column("source", sa.String(40)))
_kernel_rates = sa.table(
    "kernel_exchange_rate", sa.column("currency", sa.String(3)),
    sa.column("quote_currency", sa.String(3)), sa.column("rate_date", sa.Date()),
    sa.column("rate", ExactNumeric(20, 10)), sa.column("source", sa.String(40)),
    sa.column("version", sa.Integer()), sa.column("created_at", AwareDateTime()),
    sa.column("updated_at", AwareDateTime()))
_books = sa.table("finance_books", sa.column("currency", sa.String(3)))


def _books_currency(connection):
    found = connection.scalar(sa.select(_books.c.currency).limit(1))
    return (found or os.environ.get("ERP_COMPANY_CURRENCY") or "EUR").upper()


def upgrade():
    connection = op.get_bind()
    quote = _books_currency(connection)
    now = dt.datetime.now(dt.UTC)
    for currency, day, rate, source in connection.execute(sa.select(_finance_rates)).all():
        if currency == quote:
            continue
        same = sa.and_(_kernel_rates.c.currency == currency,
                       _kernel_rates.c.quote_currency == quote, _kernel_rates.c.rate_date == day)
        if connection.scalar(sa.select(sa.func.count()).select_from(_kernel_rates)
                             .where(same)):
            connection.execute(_kernel_rates.update().where(same).values(
                rate=rate, source=source, updated_at=now,
                version=_kernel_rates.c.version + 1))
        else:
            connection.execute(_kernel_rates.insert().values(
                currency=currency, quote_currency=quote, rate_date=day, rate=rate,
                source=source, version=1, created_at=now, updated_at=now))
    op.drop_table("finance_currency_rate")


def downgrade():
    op.create_table(
        "finance_currency_rate",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rate", ExactNumeric(20, 10), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("currency", "day", name=op.f("pk_finance_currency_rate")),
    )
    connection = op.get_bind()
    quote = _books_currency(connection)
    rows = [{"currency": currency, "day": day, "rate": rate, "source": source}
            for currency, day, rate, source in connection.execute(sa.select(
                _kernel_rates.c.currency, _kernel_rates.c.rate_date, _kernel_rates.c.rate,
                _kernel_rates.c.source).where(_kernel_rates.c.quote_currency == quote))]
    if rows:
        connection.execute(_finance_rates.insert(), rows)
