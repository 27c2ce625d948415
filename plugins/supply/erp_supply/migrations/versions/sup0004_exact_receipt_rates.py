"""Receipt rates exact, to the kernel's ten places

A receipt kept its day's rate as a plain NUMERIC(18, 8): rounded from the kernel's ten
places on PostgreSQL, and a float on SQLite. It becomes the kernel's exact type: NUMERIC
(20, 10) on PostgreSQL, an integer count of 1e-10 on SQLite.

Revision ID: sup0004
Revises: sup0003
Create Date: 2026-12-07T13:10:00+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import ExactNumeric

revision = "sup0004"
down_revision = "sup0003"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # the stored values were floats: the integer count of 1e-10 the exact type reads
        op.execute("UPDATE supply_receipt"
                   " SET exchange_rate = CAST(ROUND(exchange_rate * 10000000000) AS INTEGER)")
    with op.batch_alter_table("supply_receipt") as batch:
        batch.alter_column("exchange_rate", type_=ExactNumeric(20, 10),
                           existing_type=sa.Numeric(18, 8), existing_nullable=False)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE supply_receipt SET exchange_rate = exchange_rate / 10000000000.0")
    with op.batch_alter_table("supply_receipt") as batch:
        batch.alter_column("exchange_rate", type_=sa.Numeric(18, 8),
                           existing_type=ExactNumeric(20, 10), existing_nullable=False)
