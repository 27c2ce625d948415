"""Exchange-rate sources: drivers whose daily rates a kernel job fetches.

Revision ID: k0007
Revises: k0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erp_core.db.types import AwareDateTime

revision = "k0007"
down_revision = "k0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_exchange_rate_source",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("driver", sa.String(40), nullable=False),
        sa.Column("quote_currency", sa.String(3), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_fetched_at", AwareDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_exchange_rate_source")),
        sa.UniqueConstraint("name", name=op.f("uq_kernel_exchange_rate_source_name")),
    )


def downgrade() -> None:
    op.drop_table("kernel_exchange_rate_source")
