"""cost adjustments booked once

Revision ID: fin0007
Revises: fin0006
Create Date: 2026-12-07T13:05:00+00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "fin0007"
down_revision = "fin0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "finance_cost_adjustment_booking",
        sa.Column("adjustment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["adjustment_id"],
            ["inventory_cost_adjustment.id"],
            name=op.f("fk_finance_cost_adjustment_booking_adjustment_id_inventory_cost_adjustment"),
        ),
        sa.PrimaryKeyConstraint("adjustment_id",
                                name=op.f("pk_finance_cost_adjustment_booking")),
    )


def downgrade():
    op.drop_table("finance_cost_adjustment_booking")
