"""The kernel's plugin enablement table.

Revision ID: k0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erp_core.db.types import AwareDateTime

revision = "k0001"
down_revision = None
branch_labels = ("kernel",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_plugin",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("changed_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_kernel_plugin")),
    )


def downgrade() -> None:
    op.drop_table("kernel_plugin")
