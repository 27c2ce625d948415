"""Reports: saved reports with the roles they are shared with, and the export jobs the
worker runs.

Revision ID: rpt0001
Revises: None
Create Date: 2026-12-07T05:34:25+00:00
"""

import sqlalchemy as sa
from alembic import op

from erp_sdk import AwareDateTime

revision = "rpt0001"
down_revision = None
branch_labels = ("reports",)
depends_on = None


def upgrade():
    op.create_table(
        "reports_export_job",
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", AwareDateTime(), nullable=True),
        sa.Column("finished_at", AwareDateTime(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports_export_job")),
    )
    with op.batch_alter_table("reports_export_job", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reports_export_job_requested_by"), ["requested_by"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reports_export_job_state"), ["state"], unique=False)

    op.create_table(
        "reports_saved_report",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column(
            "chart",
            sa.Enum("table", "line", "bar", "pie", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("shared_with", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports_saved_report")),
    )
    with op.batch_alter_table("reports_saved_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_saved_report_owner"), ["owner"], unique=False)

    op.create_table(
        "reports_saved_report_role",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports_saved_report.id"],
            name=op.f("fk_reports_saved_report_role_report_id_reports_saved_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "role", name=op.f("pk_reports_saved_report_role")),
    )
    with op.batch_alter_table("reports_saved_report_role", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reports_saved_report_role_role"), ["role"], unique=False
        )


def downgrade():
    with op.batch_alter_table("reports_saved_report_role", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_saved_report_role_role"))

    op.drop_table("reports_saved_report_role")
    with op.batch_alter_table("reports_saved_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_saved_report_owner"))

    op.drop_table("reports_saved_report")
    with op.batch_alter_table("reports_export_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_export_job_state"))
        batch_op.drop_index(batch_op.f("ix_reports_export_job_requested_by"))

    op.drop_table("reports_export_job")
