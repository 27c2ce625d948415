"""Idempotency keys of POST requests.

Revision ID: k0002
Revises: k0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erp_core.db.types import AwareDateTime

revision = "k0002"
down_revision = "k0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_idempotency_key",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("expires_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kernel_idempotency_key")),
    )
    op.create_index(op.f("ix_kernel_idempotency_key_expires_at"), "kernel_idempotency_key",
                    ["expires_at"])


def downgrade() -> None:
    op.drop_table("kernel_idempotency_key")
