"""Users, roles, API tokens, the audit log and the event outbox.

Revision ID: k0003
Revises: k0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erp_core.db.types import AwareDateTime

revision = "k0003"
down_revision = "k0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_user")),
        sa.UniqueConstraint("name", name=op.f("uq_kernel_user_name")),
    )
    op.create_table(
        "kernel_user_role",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(120), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["kernel_user.id"], ondelete="CASCADE",
                                name=op.f("fk_kernel_user_role_user_id_kernel_user")),
        sa.PrimaryKeyConstraint("user_id", "role", name=op.f("pk_kernel_user_role")),
    )
    op.create_table(
        "kernel_api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("expires_at", AwareDateTime(), nullable=True),
        sa.Column("revoked_at", AwareDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["kernel_user.id"], ondelete="CASCADE",
                                name=op.f("fk_kernel_api_token_user_id_kernel_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kernel_api_token_token_hash")),
    )
    op.create_index(op.f("ix_kernel_api_token_user_id"), "kernel_api_token", ["user_id"])
    op.create_table(
        "kernel_audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", AwareDateTime(), nullable=False),
        sa.Column("principal", sa.String(80), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(120), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_audit_entry")),
    )
    op.create_index("ix_kernel_audit_entry_record", "kernel_audit_entry",
                    ["entity", "record_id", "id"])
    op.create_table(
        "kernel_outbox_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("entity", sa.String(120), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("published_at", AwareDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_outbox_event")),
    )
    op.create_index(op.f("ix_kernel_outbox_event_name"), "kernel_outbox_event", ["name"])
    op.create_index(op.f("ix_kernel_outbox_event_published_at"), "kernel_outbox_event",
                    ["published_at"])


def downgrade() -> None:
    for table in ("kernel_outbox_event", "kernel_audit_entry", "kernel_api_token",
                  "kernel_user_role", "kernel_user"):
        op.drop_table(table)
