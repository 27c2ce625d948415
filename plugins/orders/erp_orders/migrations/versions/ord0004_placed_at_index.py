"""Orders: an index on placed_at, so reports over a period (the dashboard's last 30 days)
read that period's orders only.

Revision ID: ord0004
Revises: ord0003
Create Date: 2026-12-07T06:20:19+00:00
"""

from alembic import op

revision = "ord0004"
down_revision = "ord0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_order_placed_at"), ["placed_at"], unique=False)


def downgrade():
    with op.batch_alter_table("orders_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_order_placed_at"))
