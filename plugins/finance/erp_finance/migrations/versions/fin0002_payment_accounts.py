"""payment accounts

Revision ID: fin0002
Revises: fin0001
Create Date: 2026-12-07T05:47:39+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime

revision = "fin0002"
down_revision = "fin0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "finance_payment_account",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("driver", sa.String(length=60), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finance_payment_account")),
        sa.UniqueConstraint("name", name=op.f("uq_finance_payment_account_name")),
    )


def downgrade():
    op.drop_table("finance_payment_account")
