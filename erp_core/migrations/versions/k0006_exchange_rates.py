"""Exchange rates by date, shared by every plugin.

Revision ID: k0006
Revises: k0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erp_core.db.types import AwareDateTime, ExactNumeric

revision = "k0006"
down_revision = "k0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_exchange_rate",
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("quote_currency", sa.String(3), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("rate", ExactNumeric(20, 10), nullable=False),
        sa.Column("source", sa.String(40), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_exchange_rate")),
        sa.UniqueConstraint("currency", "quote_currency", "rate_date",
                            name=op.f("uq_kernel_exchange_rate_currency_quote_currency_rate_date")),
    )


def downgrade() -> None:
    op.drop_table("kernel_exchange_rate")
