"""Orders: indexes on when orders and their lines last changed, so a report answered
from a rollup finds the rows changed since the rollup was brought up to date.

Revision ID: ord0006
Revises: ord0005
Create Date: 2026-12-07T12:45:00+00:00
"""

from alembic import op

revision = "ord0006"
down_revision = "ord0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_order_updated_at"), ["updated_at"],
                              unique=False)
    with op.batch_alter_table("orders_order_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_order_line_updated_at"), ["updated_at"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("orders_order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_order_line_updated_at"))
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_order_updated_at"))
