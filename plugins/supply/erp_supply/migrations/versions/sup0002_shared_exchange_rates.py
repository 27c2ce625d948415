"""Exchange rates move to the kernel's table, shared with every plugin

The rates of ``supply_exchange_rate`` quote the company currency
(``ERP_COMPANY_CURRENCY``, default EUR); they are copied into ``kernel_exchange_rate``
with that quote currency (a rate already there for the same currencies and day, such as
one finance brought, is kept), and the supply table is dropped.

Revision ID: sup0002
Revises: sup0001
Create Date: 2026-12-07T10:10:00+00:00
"""

import datetime as dt
import os

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "sup0002"
down_revision = "sup0001"
branch_labels = None
depends_on = None

_supply_rates = sa.table(
    "supply_exchange_rate", sa.column("currency", sa.String(3)),
    sa.column("rate_date", sa.Date()), sa.column("rate", ExactNumeric(18, 8)),
    sa.column("version", sa.Integer()), sa.column("created_at", AwareDateTime()),
    sa.column("updated_at", AwareDateTime()))
_kernel_rates = sa.table(
    "kernel_exchange_rate", sa.column("currency", sa.String(3)),
    sa.column("quote_currency", sa.String(3)), sa.column("rate_date", sa.Date()),
    sa.column("rate", ExactNumeric(20, 10)), sa.column("source", sa.String(40)),
    sa.column("version", sa.Integer()), sa.column("created_at", AwareDateTime()),
    sa.column("updated_at", AwareDateTime()))


def _company_currency():
    return os.environ.get("ERP_COMPANY_CURRENCY", "EUR").upper()


def upgrade():
    connection = op.get_bind()
    quote = _company_currency()
    kept = set(connection.execute(sa.select(
        _kernel_rates.c.currency, _kernel_rates.c.quote_currency, _kernel_rates.c.rate_date)))
    rows = [{"currency": currency, "quote_currency": quote, "rate_date": day, "rate": rate,
             "source": "supply", "version": 1, "created_at": created, "updated_at": updated}
            for currency, day, rate, created, updated in connection.execute(sa.select(
                _supply_rates.c.currency, _supply_rates.c.rate_date, _supply_rates.c.rate,
                _supply_rates.c.created_at, _supply_rates.c.updated_at))
            if currency != quote and (currency, quote, day) not in kept]
    if rows:
        connection.execute(_kernel_rates.insert(), rows)
    op.drop_table("supply_exchange_rate")


def downgrade():
    op.create_table(
        "supply_exchange_rate",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("rate", ExactNumeric(18, 8), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_exchange_rate")),
        sa.UniqueConstraint(
            "currency", "rate_date", name=op.f("uq_supply_exchange_rate_currency_rate_date")
        ),
    )
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    rows = [{"currency": currency, "rate_date": day, "rate": rate, "version": 1,
             "created_at": now, "updated_at": now}
            for currency, day, rate in connection.execute(sa.select(
                _kernel_rates.c.currency, _kernel_rates.c.rate_date, _kernel_rates.c.rate)
                .where(_kernel_rates.c.quote_currency == _company_currency()))]
    if rows:
        connection.execute(_supply_rates.insert(), rows)
