"""Reorder rules limited to sales channels

Revision ID: sup0003
Revises: sup0002
Create Date: 2026-12-07T10:50:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "sup0003"
down_revision = "sup0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("supply_reorder_rule", sa.Column("channels", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("supply_reorder_rule") as batch:
        batch.drop_column("channels")
