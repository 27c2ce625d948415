"""Periodic job runs and the event ids of inbound webhooks.

Revision ID: k0005
Revises: k0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erp_core.db.types import AwareDateTime

revision = "k0005"
down_revision = "k0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kernel_job_run",
        sa.Column("name", sa.String(160), nullable=False),
        sa.Column("due_at", AwareDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("started_at", AwareDateTime(), nullable=True),
        sa.Column("finished_at", AwareDateTime(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_kernel_job_run")),
    )
    op.create_table(
        "kernel_inbound_webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("driver", sa.String(64), nullable=False),
        sa.Column("account", sa.String(120), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("received_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_inbound_webhook")),
        sa.UniqueConstraint("driver", "account", "event_id",
                            name=op.f("uq_kernel_inbound_webhook_driver_account_event_id")),
    )
    op.create_index(op.f("ix_kernel_inbound_webhook_received_at"), "kernel_inbound_webhook",
                    ["received_at"])


def downgrade() -> None:
    op.drop_table("kernel_inbound_webhook")
    op.drop_table("kernel_job_run")
