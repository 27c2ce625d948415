"""Reports: the state of each rollup (pre-aggregation) the plugin keeps: its table, the
definition it was built from, and the watermark it is up to date with.

Revision ID: rpt0002
Revises: rpt0001
Create Date: 2026-12-07T12:45:00+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime

revision = "rpt0002"
down_revision = "rpt0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reports_rollup",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("watermark", AwareDateTime(), nullable=False),
        sa.Column("refreshed_at", AwareDateTime(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reports_rollup")),
    )


def downgrade():
    op.drop_table("reports_rollup")
