"""CRM: per-category purchase tallies beside the behaviour summaries, filled from the
purchases already recorded (a new purchase then updates its summary without recounting).

Revision ID: crm0002
Revises: crm0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "crm0002"
down_revision = "crm0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_behaviour_category",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("category", sa.String(80), nullable=False),
        sa.Column("purchase_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "currency", "category",
                                name=op.f("pk_crm_behaviour_category")),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_behaviour_category_customer_id_crm_customer")),
    )
    # The same tally as erp_crm.behaviour counts: categories of purchases not cancelled.
    op.execute(
        "INSERT INTO crm_behaviour_category (customer_id, currency, category, purchase_count)"
        " SELECT p.customer_id, p.currency, c.category, count(*)"
        " FROM crm_purchase p JOIN crm_purchase_category c ON c.purchase_id = p.id"
        " WHERE p.cancelled_at IS NULL"
        " GROUP BY p.customer_id, p.currency, c.category")


def downgrade() -> None:
    op.drop_table("crm_behaviour_category")
