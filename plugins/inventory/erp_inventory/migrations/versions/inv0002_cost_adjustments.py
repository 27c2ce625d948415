"""cost adjustments: cost reaching goods after their receipt

Revision ID: inv0002
Revises: inv0001
Create Date: 2026-12-07T13:00:00+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime, ExactNumeric

revision = "inv0002"
down_revision = "inv0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_cost_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("units", ExactNumeric(18, 4), nullable=False),
        sa.Column("on_hand", ExactNumeric(18, 4), nullable=False),
        sa.Column("unit_amount", ExactNumeric(18, 4), nullable=False),
        sa.Column("value", ExactNumeric(18, 4), nullable=False),
        sa.Column("value_gone", ExactNumeric(18, 4), nullable=False),
        sa.Column("cost_before", ExactNumeric(18, 4), nullable=False),
        sa.Column("cost", ExactNumeric(18, 4), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.Column("done_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["inventory_product.id"],
            name=op.f("fk_inventory_cost_adjustment_product_id_inventory_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_cost_adjustment")),
    )
    op.create_index(op.f("ix_inventory_cost_adjustment_product_id"),
                    "inventory_cost_adjustment", ["product_id"], unique=False)
    op.create_index(op.f("ix_inventory_cost_adjustment_origin"),
                    "inventory_cost_adjustment", ["origin"], unique=False)
    op.create_index(op.f("ix_inventory_cost_adjustment_done_at"),
                    "inventory_cost_adjustment", ["done_at"], unique=False)


def downgrade() -> None:
    op.drop_table("inventory_cost_adjustment")
