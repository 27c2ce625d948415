"""Event delivery: worker leases on outbox events, deliveries, webhooks and event sinks.

Revision ID: k0004
Revises: k0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erp_core.db.types import AwareDateTime

revision = "k0004"
down_revision = "k0003"
branch_labels = None
depends_on = None

_UNDELIVERED = "published_at IS NULL"


def _record_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("kernel_outbox_event") as table:
        table.add_column(sa.Column("claimed_by", sa.String(120), nullable=True))
        table.add_column(sa.Column("claimed_until", AwareDateTime(), nullable=True))
        table.add_column(sa.Column("next_attempt_at", AwareDateTime(), nullable=True))
    op.create_index("ix_kernel_outbox_event_undelivered", "kernel_outbox_event", ["id"],
                    postgresql_where=sa.text(_UNDELIVERED), sqlite_where=sa.text(_UNDELIVERED))
    op.create_index("ix_kernel_outbox_event_undelivered_record", "kernel_outbox_event",
                    ["entity", "record_id", "id"],
                    postgresql_where=sa.text(_UNDELIVERED), sqlite_where=sa.text(_UNDELIVERED))
    op.create_table(
        "kernel_event_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", AwareDateTime(), nullable=True),
        sa.Column("delivered_at", AwareDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_event_delivery")),
        sa.UniqueConstraint("event_id", "target",
                            name=op.f("uq_kernel_event_delivery_event_id_target")),
    )
    op.create_index(op.f("ix_kernel_event_delivery_target"), "kernel_event_delivery",
                    ["target"])
    op.create_table(
        "kernel_webhook",
        *_record_columns(),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("patterns", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(200), nullable=True),
        sa.Column("failing_since", AwareDateTime(), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_webhook")),
    )
    op.create_table(
        "kernel_event_sink",
        *_record_columns(),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("driver", sa.String(80), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("patterns", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failing_since", AwareDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_event_sink")),
        sa.UniqueConstraint("name", name=op.f("uq_kernel_event_sink_name")),
    )


def downgrade() -> None:
    for table in ("kernel_event_sink", "kernel_webhook", "kernel_event_delivery"):
        op.drop_table(table)
    op.drop_index("ix_kernel_outbox_event_undelivered_record", "kernel_outbox_event")
    op.drop_index("ix_kernel_outbox_event_undelivered", "kernel_outbox_event")
    with op.batch_alter_table("kernel_outbox_event") as table:
        table.drop_column("next_attempt_at")
        table.drop_column("claimed_until")
        table.drop_column("claimed_by")
