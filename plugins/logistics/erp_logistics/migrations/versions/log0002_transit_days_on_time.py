"""Shipments: ``transit_days`` and ``on_time``, recorded when a shipment is delivered
(the logistics metrics of the reports plugin aggregate them). Shipments delivered before
this revision have neither.

Revision ID: log0002
Revises: log0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erp_sdk import ExactNumeric

revision = "log0002"
down_revision = "log0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("logistics_shipment") as batch:
        batch.add_column(sa.Column("transit_days", ExactNumeric(18, 4), nullable=True))
        batch.add_column(sa.Column("on_time", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("logistics_shipment") as batch:
        batch.drop_column("on_time")
        batch.drop_column("transit_days")
