"""CRM: customers' RFM scores and segments, and the moves between segments.

Revision ID: crm0003
Revises: crm0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime

revision = "crm0003"
down_revision = "crm0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_rfm_score",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("recency", sa.SmallInteger(), nullable=False),
        sa.Column("frequency", sa.SmallInteger(), nullable=False),
        sa.Column("monetary", sa.SmallInteger(), nullable=False),
        sa.Column("segment", sa.String(20), nullable=False),
        sa.Column("scored_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_rfm_score_customer_id_crm_customer")),
        sa.PrimaryKeyConstraint("customer_id", "currency", name=op.f("pk_crm_rfm_score")),
    )
    with op.batch_alter_table("crm_rfm_score", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_rfm_score_segment"), ["segment"],
                              unique=False)
    op.create_table(
        "crm_rfm_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("old_segment", sa.String(20), nullable=True),
        sa.Column("new_segment", sa.String(20), nullable=True),
        sa.Column("changed_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["crm_customer.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_rfm_change_customer_id_crm_customer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_rfm_change")),
    )
    with op.batch_alter_table("crm_rfm_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_rfm_change_customer_id"), ["customer_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_crm_rfm_change_changed_at"), ["changed_at"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("crm_rfm_change")
    op.drop_table("crm_rfm_score")
